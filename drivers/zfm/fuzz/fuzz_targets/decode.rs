//! Arbitrary bytes through the decoder and every reply parser.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pishkhan_zfm::proto::{Ack, Command, Decoder, SystemParameters, unpack_4bit};

fuzz_target!(|data: &[u8]| {
    // The first byte picks how the input is split into reads.
    let Some((&chunk, bytes)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk).max(1);
    let mut decoder = Decoder::new();
    let mut consumed = 0usize;
    for piece in bytes.chunks(chunk) {
        let mut rest = piece;
        while !rest.is_empty() {
            let n = decoder.push(rest);
            assert!(n > 0, "a drained decoder has room");
            rest = &rest[n..];
            assert!(decoder.buffered() <= Decoder::CAPACITY);
            while let Some(frame) = decoder.next_frame() {
                let Ok(packet) = frame else { continue };
                // Every decoded packet encodes back to valid bytes.
                let encoded = packet.encode();
                consumed += encoded.len();
                let mut again = Decoder::new();
                again.push(&encoded);
                assert_eq!(again.next_frame(), Some(Ok(packet.clone())));
                if let Ok(ack) = Ack::parse(&packet) {
                    let _ = SystemParameters::parse(&ack.data);
                    assert_eq!(ack.confirmation.code(), packet.payload[0]);
                }
                if let Ok(command) = Command::parse(&packet) {
                    assert_eq!(command.payload(), packet.payload);
                }
                assert_eq!(unpack_4bit(&packet.payload).len(), packet.payload.len() * 2);
            }
        }
    }
    // Abandoning stalled frames eventually empties the buffer.
    while decoder.abandon_partial() {
        while let Some(frame) = decoder.next_frame() {
            if let Ok(packet) = frame {
                consumed += packet.encode().len();
            }
        }
    }
    assert!(decoder.buffered() < 2);
    // Every input byte is either in a packet, skipped, or still buffered.
    assert_eq!(
        consumed as u64 + decoder.skipped() + decoder.buffered() as u64,
        bytes.len() as u64
    );
    let _ = SystemParameters::parse(bytes);
});
