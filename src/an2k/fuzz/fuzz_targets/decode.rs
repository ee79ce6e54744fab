//! Arbitrary bytes through the reader: never a panic; whatever it accepts
//! encodes back to bytes that read the same, and the checks and the dump
//! run on it.
//!
//! From `src/an2k/fuzz`: `RUSTC_BOOTSTRAP=1 cargo fuzz run decode corpus/decode
//! seeds/decode -- -max_total_time=300` (new inputs go to the ignored
//! `corpus/`; `seeds/` holds the committed seed transactions).
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
