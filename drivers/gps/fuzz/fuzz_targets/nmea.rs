//! Arbitrary bytes through the framer, the sentence parsers and the
//! combiner.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pishkhan_gps::fix::Combiner;
use pishkhan_gps::proto::{Framer, MAX_SENTENCE_LEN, Sentence, parse, sentence};

fuzz_target!(|data: &[u8]| {
    // The first byte picks how the input is split into reads.
    let Some((&chunk, bytes)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk).max(1);
    let mut framer = Framer::new();
    let mut combiner = Combiner::new();
    let mut framed = 0usize;
    for piece in bytes.chunks(chunk) {
        for frame in framer.push(piece) {
            assert!(framer.buffered() <= MAX_SENTENCE_LEN);
            framed += 1;
            let Ok(frame) = frame else { continue };
            // A framed body is a valid sentence when written again.
            let line = sentence(frame.body());
            assert_eq!(parse(&line), frame.parse());
            let Ok(parsed) = frame.parse() else { continue };
            // Whatever parsed is written back in a form that parses, to
            // the same type.
            if let Some(body) = parsed.body() {
                let again = Sentence::parse(&body).expect("the writer's output parses");
                assert_eq!(
                    std::mem::discriminant(&again),
                    std::mem::discriminant(&parsed)
                );
            }
            if let Some(pishkhan_gps::Reading::Fix(fix)) = combiner.push(parsed) {
                assert!(fix.latitude.abs() <= 90.0 && fix.longitude.abs() <= 180.0);
            }
        }
    }
    // A sentence needs at least "$*hh\n": no more results than that allows.
    assert!(framed <= bytes.len());
    let _ = combiner.satellites_seen();
    // The whole input as one line.
    let _ = parse(&String::from_utf8_lossy(bytes));
});
