//! Arbitrary bytes into the streaming decoders (chunked transfer, then the
//! M-JPEG boundary parser), split at a data-dependent point.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pishkhan_sbi::{http::ChunkedDecoder, proto::MjpegParser};

fuzz_target!(|data: &[u8]| {
    let split = data.first().map_or(0, |&b| usize::from(b)).min(data.len());
    let (a, b) = data.split_at(split);

    // Raw multipart stream, pushed in two pieces.
    let mut mjpeg = MjpegParser::new("frame", 1 << 16);
    let mut total = 0usize;
    for piece in [a, b] {
        match mjpeg.push(piece) {
            Ok(frames) => total += frames.iter().map(Vec::len).sum::<usize>(),
            Err(_) => break,
        }
    }
    assert!(total <= data.len());
    assert!(mjpeg.buffered() <= data.len());

    // Chunked stream carrying a multipart stream.
    let mut chunked = ChunkedDecoder::new(1 << 16);
    let mut mjpeg = MjpegParser::new("frame", 1 << 16);
    let mut decoded = Vec::new();
    for piece in [a, b] {
        decoded.clear();
        if chunked.push(piece, &mut decoded).is_err() {
            break;
        }
        assert!(decoded.len() <= data.len());
        if mjpeg.push(&decoded).is_err() {
            break;
        }
    }
});
