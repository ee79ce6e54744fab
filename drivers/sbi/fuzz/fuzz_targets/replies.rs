//! Arbitrary bytes into every parser of a device reply: the JSON messages,
//! JWS (parse and verify), the HTTP head and the ISO finger record.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pishkhan_sbi::{TrustStore, http, iso, proto};

fuzz_target!(|data: &[u8]| {
    let _ = proto::parse_discovery(data);
    let _ = proto::parse_device_info_reply(data);
    let _ = proto::parse_rcapture_reply(data);
    let _ = serde_json::from_slice::<proto::BioData>(data);
    let _ = http::ResponseHead::parse(data);
    let _ = http::RequestHead::parse(data);
    let _ = iso::decode(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = proto::parse_jws(text);
        let store = TrustStore::new()
            .with_ed25519_bytes(&[
                0x3d, 0x40, 0x17, 0xc3, 0xe8, 0x43, 0x89, 0x5a, 0x92, 0xb7, 0x0a, 0xa7, 0x4d, 0x1b,
                0x7e, 0xbc, 0x9c, 0x98, 0x2c, 0xcf, 0x2e, 0xc4, 0x96, 0x8c, 0xc0, 0xcd, 0x55, 0xf1,
                0x2a, 0xf4, 0x66, 0x0c,
            ])
            .unwrap_or_default();
        let _ = store.verify(text);
        let _ = store.check_timestamp(text, chrono::Utc::now());
        let _ = proto::multipart_boundary(text);
        let _ = proto::finger_of_bio_sub_type(text);
        let _ = proto::b64url_decode(text);
    }
});
