//! Arbitrary bytes through the ISO/IEC 19794-2 reader: never a panic;
//! whatever it accepts at 197 px/cm encodes back to bytes that read the
//! same.
//!
//! From `src/fingerprint/fuzz`: `RUSTC_BOOTSTRAP=1 cargo fuzz run iso19794
//! corpus/iso19794 seeds/decode -- -max_total_time=300` (new inputs go to
//! the ignored `corpus/`; `seeds/` holds the committed seed records).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pishkhan_fingerprint::iso19794::{decode, encode};

fuzz_target!(|data: &[u8]| {
    let Ok(views) = decode(data) else {
        return;
    };
    if data.get(18..22) == Some(&[0, 197, 0, 197]) {
        let bytes = encode(&views).expect("a decoded record encodes");
        assert_eq!(decode(&bytes).as_ref(), Ok(&views));
    } else {
        let _ = encode(&views);
    }
});
