//! Receipt copies: what the applicant's receipt says, kept so that a
//! damaged receipt can be reprinted while the packet is retained.
//!
//! The station cannot read its own packets (they are encrypted to the
//! authority), so at sealing it also keeps this copy, encrypted with age
//! to every active supervisor's key. Those keys are unwrapped only by the
//! supervisor's password, so a reprint needs a supervisor on the spot and
//! a stolen disk gives nothing. Lookup by national code uses a keyed hash
//! (HMAC-SHA256 under a key derived from the station key), never the code
//! itself. Supervisors created after a packet was sealed, or whose
//! password was reset since, cannot open that packet's copy.

use base64::Engine;
use hmac::{KeyInit, Mac};
use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::enrolment::applicant::RequestType;
use crate::enrolment::fees::Payment;
use crate::enrolment::{Session, TrackingCode};
use crate::store::StoreError;

/// Everything the receipt prints, in the applicant's words (no
/// translations: those are applied when it is rendered).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptCopy {
    pub packet_id: String,
    pub tracking_code: TrackingCode,
    pub first_name: String,
    pub last_name: String,
    pub national_code: String,
    pub request_type: RequestType,
    pub office: String,
    pub station_number: u16,
    pub operator: String,
    /// When the packet was sealed (RFC 3339).
    pub sealed_at: String,
    /// A small JPEG of the portrait, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portrait_jpeg_b64: Option<String>,
    /// Fingers without an image: finger key (`right-thumb`) and AMP code.
    pub finger_exceptions: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<Payment>,
}

/// The thumbnail's size on the receipt (3:4, like the portrait).
const THUMB: (u32, u32) = (180, 240);

#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    #[error("no applicant in the session")]
    NoApplicant,
    #[error("the portrait cannot be made into a thumbnail: {0}")]
    Thumbnail(String),
    #[error("no receipt is kept for {0} (not sealed here, or deleted with its packet)")]
    NotFound(String),
    #[error(
        "this supervisor cannot open the receipt copy (created or reset after it was sealed): {0}"
    )]
    Locked(String),
    #[error("the receipt copy is damaged: {0}")]
    Damaged(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for ReceiptError {
    fn from(e: rusqlite::Error) -> Self {
        ReceiptError::Store(StoreError::Sqlite(e))
    }
}

impl ReceiptCopy {
    /// The copy of a session sealed with `tracking_code`.
    pub fn of_session(
        session: &Session,
        tracking_code: &TrackingCode,
        office: &str,
        station_number: u16,
        sealed_at: &str,
    ) -> Result<Self, ReceiptError> {
        let applicant = session
            .applicant
            .as_ref()
            .ok_or(ReceiptError::NoApplicant)?;
        let portrait_jpeg_b64 = session
            .portrait
            .as_ref()
            .map(|p| thumbnail(&p.jpeg))
            .transpose()?
            .map(|jpeg| base64::engine::general_purpose::STANDARD.encode(jpeg));
        Ok(Self {
            packet_id: session.id.to_string(),
            tracking_code: tracking_code.clone(),
            first_name: applicant.first_name.clone(),
            last_name: applicant.last_name.clone(),
            national_code: applicant.national_code.as_str().to_owned(),
            request_type: applicant.request_type,
            office: office.to_owned(),
            station_number,
            operator: session.operator.clone(),
            sealed_at: sealed_at.to_owned(),
            portrait_jpeg_b64,
            finger_exceptions: session
                .exceptions
                .iter()
                .map(|(f, e)| (f.key().to_owned(), e.kind.code().to_owned()))
                .collect(),
            payment: session.payment.clone(),
        })
    }

    /// The thumbnail's JPEG bytes.
    pub fn portrait_jpeg(&self) -> Option<Vec<u8>> {
        self.portrait_jpeg_b64
            .as_ref()
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
    }
}

fn thumbnail(jpeg: &[u8]) -> Result<Vec<u8>, ReceiptError> {
    let image = image::load_from_memory(jpeg)
        .map_err(|e| ReceiptError::Thumbnail(e.to_string()))?
        .resize(THUMB.0, THUMB.1, image::imageops::FilterType::Triangle)
        .to_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(&image)
        .map_err(|e| ReceiptError::Thumbnail(e.to_string()))?;
    Ok(out)
}

/// The key of the national-code tags, derived from the station key.
pub struct TagKey(Zeroizing<[u8; 32]>);

impl TagKey {
    const INFO: &'static [u8] = b"pishkhan receipt lookup v1";

    pub fn derive(station_secret: &[u8; 32]) -> Self {
        let mut okm = Zeroizing::new([0u8; 32]);
        hkdf::Hkdf::<sha2::Sha256>::new(None, station_secret)
            .expand(Self::INFO, okm.as_mut())
            .unwrap_or_else(|_| unreachable!("32 bytes is a valid HKDF-SHA256 output length"));
        Self(okm)
    }

    /// HMAC-SHA256 of the national code, hex.
    pub fn tag(&self, national_code: &str) -> String {
        let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(self.0.as_slice())
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(national_code.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// Keeps the copy, encrypted to `recipients` (the supervisors' keys).
pub fn keep(
    conn: &Connection,
    copy: &ReceiptCopy,
    key: &TagKey,
    recipients: &[age::x25519::Recipient],
) -> Result<(), ReceiptError> {
    let plain =
        Zeroizing::new(serde_json::to_vec(copy).map_err(|e| ReceiptError::Damaged(e.to_string()))?);
    let sealed = crate::packet::encrypt(recipients, &plain)
        .map_err(|e| ReceiptError::Damaged(e.to_string()))?;
    conn.execute(
        "INSERT INTO receipts (packet_id, tracking_code, national_code_tag, sealed, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        (
            &copy.packet_id,
            copy.tracking_code.as_str(),
            key.tag(&copy.national_code),
            sealed,
            chrono::Utc::now().to_rfc3339(),
        ),
    )?;
    Ok(())
}

/// A kept copy, still encrypted.
#[derive(Debug, Clone)]
pub struct Kept {
    pub packet_id: String,
    pub tracking_code: String,
    pub reprints: u32,
    sealed: Vec<u8>,
}

impl Kept {
    /// Opens the copy with a supervisor's key.
    pub fn open(&self, identity: &age::x25519::Identity) -> Result<ReceiptCopy, ReceiptError> {
        let plain = Zeroizing::new(
            age::decrypt(identity, &self.sealed)
                .map_err(|e| ReceiptError::Locked(e.to_string()))?,
        );
        serde_json::from_slice(&plain).map_err(|e| ReceiptError::Damaged(e.to_string()))
    }
}

/// The copies for a tracking code, or for a national code (newest
/// first): `query` is either, in any digit script.
pub fn find(conn: &Connection, key: &TagKey, query: &str) -> Result<Vec<Kept>, ReceiptError> {
    let digits: String = crate::enrolment::digits::to_ascii_digits(query)
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let (column, value) = match TrackingCode::parse(query) {
        Some(code) => ("tracking_code", code.as_str().to_owned()),
        None if digits.len() == 10 => ("national_code_tag", key.tag(&digits)),
        None => return Err(ReceiptError::NotFound(query.trim().to_owned())),
    };
    let mut stmt = conn.prepare(&format!(
        "SELECT packet_id, tracking_code, reprints, sealed FROM receipts
         WHERE {column} = ?1 ORDER BY created_at DESC"
    ))?;
    let found: Vec<Kept> = stmt
        .query_map([value], |r| {
            Ok(Kept {
                packet_id: r.get(0)?,
                tracking_code: r.get(1)?,
                reprints: r.get(2)?,
                sealed: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    if found.is_empty() {
        return Err(ReceiptError::NotFound(query.trim().to_owned()));
    }
    Ok(found)
}

/// Counts a reprint; returns its number (1 for the first reprint).
pub fn count_reprint(conn: &Connection, packet_id: &str) -> Result<u32, ReceiptError> {
    conn.execute(
        "UPDATE receipts SET reprints = reprints + 1 WHERE packet_id = ?1",
        [packet_id],
    )?;
    conn.query_row(
        "SELECT reprints FROM receipts WHERE packet_id = ?1",
        [packet_id],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| ReceiptError::NotFound(packet_id.to_owned()))
}

/// The active supervisors' draft keys, to encrypt copies to.
pub fn supervisor_recipients(
    conn: &Connection,
) -> Result<Vec<age::x25519::Recipient>, ReceiptError> {
    let mut stmt = conn.prepare(
        "SELECT draft_recipient FROM accounts
         WHERE role = 'supervisor' AND disabled = 0 AND draft_recipient IS NOT NULL",
    )?;
    let texts: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(texts.iter().filter_map(|t| t.parse().ok()).collect())
}

/// When a receipt is reprinted, and how many times it has been.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReprintMark {
    pub number: u32,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// `(Jalali, Gregorian)` of an instant in the station's time zone, as the
/// receipt prints them: `1405/09/01 14:32` and `2026-11-22 14:32`.
fn both_dates(at: chrono::DateTime<chrono::Local>) -> (String, String) {
    use chrono::Datelike;
    let date = at.date_naive();
    let jalali =
        crate::enrolment::JalaliDate::from_gregorian((date.year(), date.month(), date.day()));
    let time = at.format("%H:%M").to_string();
    (
        format!("{} {time}", jalali.to_ascii()),
        at.format("%Y-%m-%d %H:%M").to_string(),
    )
}

/// What the receipt prints for `copy`: the facts from the copy, the words
/// in Persian and English from the station's translations.
pub fn document(copy: &ReceiptCopy, reprint: Option<ReprintMark>) -> pishkhan_receipt::Receipt {
    use crate::i18n::{I18n, Lang};
    use pishkhan_receipt::Bilingual;
    let (fa, en) = (I18n::new(Lang::Fa), I18n::new(Lang::En));
    let both = |id: &str| Bilingual::new(fa.tr(id), en.tr(id));
    let both_text = |t: &crate::text::Text| Bilingual::new(fa.text(t), en.text(t));
    let sealed = chrono::DateTime::parse_from_rfc3339(&copy.sealed_at).map_or_else(
        |_| chrono::Local::now(),
        |t| t.with_timezone(&chrono::Local),
    );
    let (issued_jalali, issued_gregorian) = both_dates(sealed);
    let finger_exceptions = copy
        .finger_exceptions
        .iter()
        .map(|(finger, code)| {
            let finger = pishkhan_scanner::Finger::ALL
                .into_iter()
                .find(|f| f.key() == finger)
                .map_or_else(
                    || finger.clone(),
                    |f| crate::enrolment::tenprint::finger_text_id(f).to_owned(),
                );
            let kind = match code.as_str() {
                "XX" => "exception-missing",
                "UP" => "exception-unprintable",
                other => other,
            };
            let line = crate::text::Text::new("ui-receipt-finger-exception")
                .arg("finger", finger)
                .arg("kind", kind);
            Bilingual::new(
                fa.text(&translate_args(&fa, line.clone())),
                en.text(&translate_args(&en, line)),
            )
        })
        .collect();
    let fees = copy
        .payment
        .iter()
        .flat_map(|p| &p.lines)
        .map(|line| pishkhan_receipt::Fee {
            label: both_text(&line.kind.text()),
            amount_rials: line.amount_rials,
        })
        .collect();
    pishkhan_receipt::Receipt {
        tracking_code: copy.tracking_code.as_str().to_owned(),
        tracking_grouped: copy.tracking_code.grouped(),
        applicant_fa: format!("{} {}", copy.first_name, copy.last_name),
        applicant_latin: None,
        national_code: copy.national_code.clone(),
        request_type: both(copy.request_type.text_id()),
        office: Bilingual::new(copy.office.clone(), copy.office.clone()),
        station: format!("{:04}", copy.station_number),
        operator: copy.operator.clone(),
        issued_jalali: fa.digits(&issued_jalali),
        issued_gregorian,
        portrait_jpeg: copy.portrait_jpeg(),
        finger_exceptions,
        fees,
        payment_reference: copy.payment.as_ref().map(|p| p.reference.clone()),
        reprint: reprint.map(|mark| {
            let (jalali, gregorian) = both_dates(mark.at.with_timezone(&chrono::Local));
            pishkhan_receipt::Reprint {
                number: mark.number,
                jalali: fa.digits(&jalali),
                gregorian,
            }
        }),
    }
}

/// Replaces arguments that are translation ids by their translation.
fn translate_args(i18n: &crate::i18n::I18n, mut text: crate::text::Text) -> crate::text::Text {
    for (_, value) in &mut text.args {
        if value.starts_with("finger-") || value.starts_with("exception-") {
            *value = i18n.tr(value);
        }
    }
    text
}

/// Renders `copy` as a PDF and writes it to `path`.
pub fn save_pdf(
    copy: &ReceiptCopy,
    reprint: Option<ReprintMark>,
    path: &std::path::Path,
) -> Result<(), PrintError> {
    let pdf = pishkhan_receipt::render_pdf(&document(copy, reprint))
        .map_err(|e| PrintError::Render(e.to_string()))?;
    std::fs::write(path, pdf).map_err(|e| PrintError::Write {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// Why a receipt was not printed or saved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrintError {
    #[error("the receipt could not be rendered: {0}")]
    Render(String),
    #[error("cannot write {path}: {reason}")]
    Write { path: String, reason: String },
    #[error("the system print service (lp) is not available: {0}")]
    NoPrintService(String),
    #[error("the print service refused the receipt: {0}")]
    Refused(String),
}

impl PrintError {
    pub fn text(&self) -> crate::text::Text {
        use crate::text::Text;
        match self {
            PrintError::NoPrintService(_) => Text::new("err-print-service"),
            PrintError::Refused(detail) => {
                Text::new("err-print-refused").arg("detail", detail.clone())
            }
            PrintError::Write { path, reason } => Text::new("err-receipt-write")
                .arg("path", path.clone())
                .arg("detail", reason.clone()),
            PrintError::Render(detail) => Text::new("err-internal").arg("detail", detail.clone()),
        }
    }
}

/// Where the station saves receipts: `receipts/` in its data directory
/// (readable only by the station's user, like everything there).
pub fn saved_path(
    data_dir: &std::path::Path,
    copy: &ReceiptCopy,
    reprint: Option<ReprintMark>,
) -> std::path::PathBuf {
    let name = match reprint {
        Some(mark) => format!(
            "{}-reprint-{}.pdf",
            copy.tracking_code.as_str(),
            mark.number
        ),
        None => format!("{}.pdf", copy.tracking_code.as_str()),
    };
    data_dir.join("receipts").join(name)
}

/// Saves the receipt under [`saved_path`] and sends it to the system
/// print service (CUPS `lp`; `printer` None: the default printer).
/// Returns where it was saved; a print failure still leaves the file.
pub fn save_and_print(
    data_dir: &std::path::Path,
    copy: &ReceiptCopy,
    reprint: Option<ReprintMark>,
    print: bool,
) -> Result<std::path::PathBuf, (Option<std::path::PathBuf>, PrintError)> {
    let path = saved_path(data_dir, copy, reprint);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| {
            (
                None,
                PrintError::Write {
                    path: dir.display().to_string(),
                    reason: e.to_string(),
                },
            )
        })?;
    }
    save_pdf(copy, reprint, &path).map_err(|e| (None, e))?;
    if print {
        let out = std::process::Command::new("lp")
            .arg("-t")
            .arg(format!("receipt {}", copy.tracking_code.as_str()))
            .arg(&path)
            .output()
            .map_err(|e| {
                (
                    Some(path.clone()),
                    PrintError::NoPrintService(e.to_string()),
                )
            })?;
        if !out.status.success() {
            let detail = String::from_utf8_lossy(&out.stderr).trim().to_owned();
            return Err((Some(path), PrintError::Refused(detail)));
        }
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy(code: &TrackingCode) -> ReceiptCopy {
        ReceiptCopy {
            packet_id: format!("packet-{}", code.as_str()),
            tracking_code: code.clone(),
            first_name: "مریم".into(),
            last_name: "کریمی‌نژاد".into(),
            national_code: "0790419904".into(),
            request_type: RequestType::FirstCard,
            office: "DEMO-OFFICE".into(),
            station_number: 42,
            operator: "reza".into(),
            sealed_at: "2026-11-22T09:00:00+00:00".into(),
            portrait_jpeg_b64: None,
            finger_exceptions: vec![("left-thumb".into(), "XX".into())],
            payment: None,
        }
    }

    #[test]
    fn copies_are_found_by_either_code_and_open_only_with_a_supervisors_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = crate::store::open(&dir.path().join("t.db")).expect("open");
        let key = TagKey::derive(&[9; 32]);
        let supervisor = age::x25519::Identity::generate();
        let (first, second) = (
            TrackingCode::new(1405, 42, 1),
            TrackingCode::new(1405, 42, 2),
        );
        for code in [&first, &second] {
            keep(&conn, &copy(code), &key, &[supervisor.to_public()]).expect("keep");
        }
        let stored: Vec<u8> = conn
            .query_row("SELECT sealed FROM receipts LIMIT 1", [], |r| r.get(0))
            .expect("row");
        assert!(!String::from_utf8_lossy(&stored).contains("0790419904"));

        let by_code = find(&conn, &key, &first.grouped()).expect("by tracking code");
        assert_eq!(by_code.len(), 1);
        assert_eq!(by_code[0].open(&supervisor).expect("opens"), copy(&first));
        // The national code, typed in Persian digits, finds both visits.
        let by_person = find(&conn, &key, "۰۷۹۰۴۱۹۹۰۴").expect("by national code");
        assert_eq!(by_person.len(), 2);
        assert!(matches!(
            find(&conn, &key, "0790419905"),
            Err(ReceiptError::NotFound(_))
        ));
        // Another station's tag key finds nothing by national code.
        assert!(find(&conn, &TagKey::derive(&[8; 32]), "0790419904").is_err());
        assert!(matches!(
            by_code[0].open(&age::x25519::Identity::generate()),
            Err(ReceiptError::Locked(_))
        ));
        assert_eq!(
            count_reprint(&conn, &by_code[0].packet_id).expect("count"),
            1
        );
        assert_eq!(
            count_reprint(&conn, &by_code[0].packet_id).expect("count"),
            2
        );
    }
}
