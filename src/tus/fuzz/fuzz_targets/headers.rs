//! Arbitrary bytes as every tus header value: never a panic, and whatever
//! a parser accepts formats to a value that parses the same.
//!
//! From `src/tus/fuzz`: `RUSTC_BOOTSTRAP=1 cargo fuzz run headers
//! corpus/headers seeds/headers -- -max_total_time=180` (new inputs go to
//! the ignored `corpus/`; `seeds/` holds committed header values).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pishkhan_tus::Completion;
use pishkhan_tus::proto::{
    Checksum, Header, Metadata, format_list, format_u64, parse_list, parse_resumable, parse_u64,
};

fuzz_target!(|data: &[u8]| {
    for header in [Header::UploadOffset, Header::UploadLength, Header::TusMaxSize] {
        if let Ok(n) = parse_u64(header, data) {
            assert_eq!(parse_u64(header, format_u64(n).as_bytes()), Ok(n));
        }
    }
    for header in [Header::TusVersion, Header::TusExtension, Header::TusChecksumAlgorithm] {
        if let Ok(list) = parse_list(header, data) {
            assert_eq!(parse_list(header, format_list(&list).as_bytes()), Ok(list));
        }
    }
    if let Ok(version) = parse_resumable(data) {
        assert_eq!(parse_resumable(version.as_bytes()), Ok(version));
    }
    if let Ok(metadata) = Metadata::parse(data) {
        let text = metadata.to_header_value();
        assert_eq!(Metadata::parse(text.as_bytes()), Ok(metadata));
    }
    if let Ok(checksum) = Checksum::parse(data) {
        let text = checksum.to_header_value();
        assert_eq!(Checksum::parse(text.as_bytes()), Ok(checksum));
    }
    if let Ok(receipt) = Completion::parse(data) {
        let text = receipt.to_header_value().expect("a parsed receipt fits");
        assert_eq!(Completion::parse(text.as_bytes()), Ok(receipt));
    }
    // Every error message renders.
    let _ = Metadata::parse(data).map_err(|e| e.to_string());
    let _ = Checksum::parse(data).map_err(|e| e.to_string());
});
