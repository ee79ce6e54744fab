//! Arbitrary bytes through the reader: never a panic; whatever it accepts
//! encodes back to bytes that read the same, and the checks and the dump
//! run on it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pishkhan_an2k::{decode, dump, encode, problems};

fuzz_target!(|data: &[u8]| {
    let Ok(tx) = decode(data) else {
        return;
    };
    let bytes = encode(&tx).expect("a decoded transaction encodes");
    assert_eq!(decode(&bytes).as_ref(), Ok(&tx));
    let _ = problems(&tx);
    let _ = dump(&tx);
});
