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
    let skew = at.with_timezone(&chrono::Utc) - now;
    if skew.abs() > max_skew {
        return Err(Unauthenticated {
            reason: Reason::ClockSkew,
            detail: skew_detail(skew, max_skew, &date, now),
        });
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

/// The detail of a [`Reason::ClockSkew`] refusal: readable, and with the
/// numbers the station shows in its operator's language
/// ([`parse_skew`]): `the station's clock is 420 s ahead of the intake's
/// (Pishkhan-Date …, intake …); at most 300 s allowed`.
fn skew_detail(
    skew: chrono::Duration,
    max_skew: chrono::Duration,
    date: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    // Whole seconds, rounded up: a station 0.4 s off a zero tolerance
    // reads "1 s", not "0 s".
    let seconds = (skew.num_milliseconds().unsigned_abs()).div_ceil(1000);
    let side = if skew > chrono::Duration::zero() {
        "ahead of"
    } else {
        "behind"
    };
    format!(
        "the station's clock is {seconds} s {side} the intake's (Pishkhan-Date {date}, intake {}); at most {} s allowed",
        now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        max_skew.num_seconds()
    )
}

/// How far off the station's clock is and how far it may be, in seconds,
/// from a [`Reason::ClockSkew`] refusal's detail (with or without its
/// `clock-skew: ` code first); `ahead` is true when the station's clock
/// is ahead of the intake's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Skew {
    pub seconds: u64,
    pub ahead: bool,
    pub allowed: u64,
}

pub fn parse_skew(detail: &str) -> Option<Skew> {
    let detail = detail.strip_prefix("clock-skew: ").unwrap_or(detail);
    let rest = detail.strip_prefix("the station's clock is ")?;
    let (seconds, rest) = rest.split_once(" s ")?;
    let ahead = rest.starts_with("ahead");
    let (_, allowed) = rest.rsplit_once("at most ")?;
    let (allowed, _) = allowed.split_once(" s")?;
    Some(Skew {
        seconds: seconds.parse().ok()?,
        ahead,
        allowed: allowed.parse().ok()?,
    })
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
        // The intake's clock 10 minutes later: the station's is behind.
        let late = now + chrono::Duration::minutes(10);
        let refused = verify(get(&headers), "PATCH", "/files/abc", &registry, late, skew)
            .expect_err("too far");
        assert_eq!(refused.reason, Reason::ClockSkew);
        let measured = parse_skew(&refused.detail).expect("the numbers");
        assert!(!measured.ahead, "{}", refused.detail);
        assert_eq!(measured.allowed, 300);
        assert!((599..=601).contains(&measured.seconds), "{measured:?}");
        let early = now - chrono::Duration::minutes(7);
        let refused = verify(get(&headers), "PATCH", "/files/abc", &registry, early, skew)
            .expect_err("too far");
        let measured = parse_skew(&format!("clock-skew: {}", refused.detail)).expect("numbers");
        assert!(measured.ahead && (419..=421).contains(&measured.seconds));
        let missing = verify(|_: &str| None, "PATCH", "/files/abc", &registry, now, skew);
        assert_eq!(missing.map_err(|e| e.reason), Err(Reason::Malformed));
    }
}
