//! How a station proves who it is to the intake: every request carries
//! three headers, and the signature is made with the station's Ed25519 key
//! (the one the authority registered), so no second credential (a client
//! certificate) has to be issued, renewed or revoked:
//!
//! ```text
//! Pishkhan-Station:   <station id>
//! Pishkhan-Date:      <RFC 3339, UTC>
//! Pishkhan-Signature: hex Ed25519(REQUEST_DOMAIN ‖ METHOD \n path?query \n date \n station id)
//! ```
//!
//! The body is not covered: tus checksums protect each chunk and the packet
//! carries its own signatures, which the intake checks when the upload is
//! whole. A replayed request (within the clock-skew window) can only repeat
//! an idempotent step.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

use super::judge::Registry;
use super::receipt::Reason;

pub const STATION_HEADER: &str = "pishkhan-station";
pub const DATE_HEADER: &str = "pishkhan-date";
pub const SIGNATURE_HEADER: &str = "pishkhan-signature";
const REQUEST_DOMAIN: &[u8] = b"pishkhan-request/1\n";

fn message(method: &str, path_and_query: &str, date: &str, station: &str) -> Vec<u8> {
    [
        REQUEST_DOMAIN,
        method.as_bytes(),
        b"\n",
        path_and_query.as_bytes(),
        b"\n",
        date.as_bytes(),
        b"\n",
        station.as_bytes(),
    ]
    .concat()
}

/// The three headers for a request, signed now.
pub fn sign(
    station_id: &str,
    key: &SigningKey,
    method: &str,
    path_and_query: &str,
) -> [(&'static str, String); 3] {
    let date = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let signature = key.sign(&message(method, path_and_query, &date, station_id));
    [
        (STATION_HEADER, station_id.to_owned()),
        (DATE_HEADER, date),
        (SIGNATURE_HEADER, hex::encode(signature.to_bytes())),
    ]
}

/// Why a request was not accepted as a station's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unauthenticated {
    pub reason: Reason,
    pub detail: String,
}

/// Checks a request's headers (`get` reads one by lower-case name) and
/// returns the station id.
pub fn verify(
    get: impl Fn(&str) -> Option<String>,
    method: &str,
    path_and_query: &str,
    registry: &Registry,
    now: chrono::DateTime<chrono::Utc>,
    max_skew: chrono::Duration,
) -> Result<String, Unauthenticated> {
    let malformed = |detail: &str| Unauthenticated {
        reason: Reason::Malformed,
        detail: detail.to_owned(),
    };
    let station = get(STATION_HEADER).ok_or_else(|| malformed("no Pishkhan-Station header"))?;
    let date = get(DATE_HEADER).ok_or_else(|| malformed("no Pishkhan-Date header"))?;
    let signature = get(SIGNATURE_HEADER)
        .and_then(|s| hex::decode(s).ok())
        .and_then(|b| Signature::from_slice(&b).ok())
        .ok_or_else(|| malformed("no valid Pishkhan-Signature header"))?;
    let key: VerifyingKey = registry.key_of(&station).ok_or_else(|| Unauthenticated {
        reason: Reason::UnregisteredStation,
        detail: format!("station {station} is not registered"),
    })?;
    let at = chrono::DateTime::parse_from_rfc3339(&date)
        .map_err(|_| malformed("Pishkhan-Date is not RFC 3339"))?;
    if (now - at.with_timezone(&chrono::Utc)).abs() > max_skew {
        return Err(malformed(&format!(
            "Pishkhan-Date {date} is more than {} s from the intake's clock",
            max_skew.num_seconds()
        )));
    }
    key.verify(
        &message(method, path_and_query, &date, &station),
        &signature,
    )
    .map_err(|_| Unauthenticated {
        reason: Reason::WrongKey,
        detail: format!("the request is not signed by station {station}'s registered key"),
    })?;
    Ok(station)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_keys_pass_others_get_distinct_reasons() {
        let key = SigningKey::from_bytes(&[9; 32]);
        let mut registry = Registry::default();
        registry.register("st-1", &key.verifying_key(), "office");
        let headers = sign("st-1", &key, "PATCH", "/files/abc");
        let get = |h: &[(&'static str, String); 3]| {
            let h = h.clone();
            move |name: &str| h.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone())
        };
        let now = chrono::Utc::now();
        let skew = chrono::Duration::minutes(5);
        assert_eq!(
            verify(get(&headers), "PATCH", "/files/abc", &registry, now, skew),
            Ok("st-1".to_owned())
        );
        let moved = verify(get(&headers), "PATCH", "/files/xyz", &registry, now, skew);
        assert_eq!(moved.map_err(|e| e.reason), Err(Reason::WrongKey));
        let other = SigningKey::from_bytes(&[8; 32]);
        let forged = sign("st-1", &other, "PATCH", "/files/abc");
        let refused = verify(get(&forged), "PATCH", "/files/abc", &registry, now, skew);
        assert_eq!(refused.map_err(|e| e.reason), Err(Reason::WrongKey));
        let stranger = sign("st-2", &other, "POST", "/files/");
        let refused = verify(get(&stranger), "POST", "/files/", &registry, now, skew);
        assert_eq!(
            refused.map_err(|e| e.reason),
            Err(Reason::UnregisteredStation)
        );
        let late = now + chrono::Duration::minutes(10);
        let refused = verify(get(&headers), "PATCH", "/files/abc", &registry, late, skew);
        assert_eq!(refused.map_err(|e| e.reason), Err(Reason::Malformed));
    }
}
