//! The intake's tus store: uploads on disk (one `.part` file each, synced
//! after every chunk), their state and the receipts in SQLite, accepted
//! packets handed to an object store.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use axum::http::StatusCode;
use bytes::Bytes;
use ed25519_dalek::SigningKey;
use pishkhan_tus::server::{Refusal, RequestInfo, Store, UploadState};
use pishkhan_tus::{Completion, Metadata};
use rusqlite::{Connection, OptionalExtension};

use super::judge::{Registry, judge};
use super::receipt::{self, Reason, Receipt, SignedReceipt, Status};
use super::{applicants, auth};
use crate::packet::sha256_hex;

/// Upload-Metadata key of the packet id.
pub const PACKET_ID_KEY: &str = "packet-id";

pub struct IntakeStore {
    pub(super) uploads: PathBuf,
    pub(super) db: Mutex<Connection>,
    pub(super) registry: RwLock<Registry>,
    pub(super) identities: Vec<age::x25519::Identity>,
    pub(super) key: SigningKey,
    /// The secret of the applicant lookup keys ([`super::applicants`]).
    pub(super) lookup: super::applicants::LookupSecret,
    pub(super) objects: Arc<dyn object_store::ObjectStore>,
    pub(super) max_skew: chrono::Duration,
}

/// Where an accepted packet lives in the object store.
pub(super) fn packet_path(station: &str, packet_id: &str) -> object_store::path::Path {
    object_store::path::Path::from(format!("packets/{station}/{packet_id}.pkp"))
}

fn refuse(e: impl std::fmt::Display) -> Refusal {
    Refusal::internal(e.to_string())
}

impl IntakeStore {
    fn db<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, Refusal> {
        let guard = self
            .db
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&guard).map_err(refuse)
    }

    /// The station a request comes from (403 with the reason code first
    /// in the body when it cannot say).
    fn station(&self, request: &RequestInfo) -> Result<String, Refusal> {
        let registry = self
            .registry
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        auth::verify(
            |name| {
                request
                    .headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            },
            request.method.as_str(),
            &request.path_and_query,
            &registry,
            chrono::Utc::now(),
            self.max_skew,
        )
        .map_err(|e| {
            Refusal::new(
                StatusCode::FORBIDDEN,
                format!("{}: {}", e.reason.code(), e.detail),
            )
        })
    }

    fn part(&self, id: &str) -> PathBuf {
        self.uploads.join(format!("{id}.part"))
    }

    /// The upload `id` of `station`, as (offset, length, packet id, metadata).
    fn upload(
        &self,
        id: &str,
        station: &str,
    ) -> Result<Option<(u64, u64, String, String)>, Refusal> {
        self.db(|db| {
            db.query_row(
                "SELECT offset, length, packet_id, metadata FROM uploads
                 WHERE id = ?1 AND station_id = ?2 AND terminated = 0",
                [id, station],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)? as u64,
                        r.get::<_, i64>(1)? as u64,
                        r.get(2)?,
                        r.get(3)?,
                    ))
                },
            )
            .optional()
        })
    }

    /// Writes an accepted packet to the object store ([`packet_path`]).
    async fn put_packet(
        &self,
        station: &str,
        packet_id: &str,
        bytes: Vec<u8>,
    ) -> Result<(), Refusal> {
        self.objects
            .put(&packet_path(station, packet_id), bytes.into())
            .await
            .map(|_| ())
            .map_err(|e| Refusal::new(StatusCode::SERVICE_UNAVAILABLE, format!("storage: {e}")))
    }

    /// Stores the accepted bytes of `packet_id` again if a re-send of it
    /// is open ([`super::resend`]), and closes the request.
    async fn fulfil_resend(
        &self,
        packet_id: &str,
        station: &str,
        bytes: Vec<u8>,
    ) -> Result<(), Refusal> {
        let open: Option<String> = self.db(|db| {
            db.query_row(
                "SELECT station_id FROM resend_requests
                 WHERE packet_id = ?1 AND fulfilled_at IS NULL",
                [packet_id],
                |r| r.get(0),
            )
            .optional()
        })?;
        if open.as_deref() != Some(station) {
            return Ok(());
        }
        self.put_packet(station, packet_id, bytes).await?;
        self.db(|db| {
            db.execute(
                "UPDATE resend_requests SET fulfilled_at = ?2 WHERE packet_id = ?1",
                rusqlite::params![packet_id, chrono::Utc::now().to_rfc3339()],
            )
        })?;
        tracing::info!(packet = packet_id, station, "re-sent packet stored again");
        Ok(())
    }

    pub(super) fn receipt_of(&self, packet_id: &str) -> Result<Option<(String, String)>, Refusal> {
        self.db(|db| {
            db.query_row(
                "SELECT sha256, signed FROM receipts WHERE packet_id = ?1",
                [packet_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
        })
    }

    fn sign(&self, receipt: &Receipt) -> Result<String, Refusal> {
        serde_json::to_string(&SignedReceipt::sign(receipt, &self.key)).map_err(refuse)
    }

    /// Judges the whole upload and records (or finds) its receipt.
    pub(super) async fn settle(
        &self,
        packet_id: &str,
        station: &str,
        bytes: Vec<u8>,
    ) -> Result<String, Refusal> {
        let sha256 = sha256_hex(&bytes);
        if let Some((stored_sha, signed)) = self.receipt_of(packet_id)? {
            if stored_sha == sha256 {
                // The same packet again: the same receipt. If the authority
                // asked for it again, its bytes are stored anew first.
                self.fulfil_resend(packet_id, station, bytes).await?;
                return Ok(signed);
            }
            return self.sign(&Receipt {
                format: receipt::FORMAT.into(),
                packet_id: packet_id.to_owned(),
                sha256,
                status: Status::Rejected,
                reason: Some(Reason::Conflict),
                detail: Some("another packet with this id was received before".into()),
                received_at: chrono::Utc::now().to_rfc3339(),
                intake_key: String::new(),
            });
        }
        let verdict = {
            let registry = self
                .registry
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            judge(&bytes, &registry, &self.identities)
        };
        let (status, reason, detail) = match &verdict {
            Ok(accepted) if accepted.header.packet_id != packet_id => (
                Status::Rejected,
                Some(Reason::Malformed),
                Some(format!(
                    "the upload was announced as {packet_id} but holds {}",
                    accepted.header.packet_id
                )),
            ),
            Ok(accepted) if accepted.header.station_id != station => (
                Status::Rejected,
                Some(Reason::WrongKey),
                Some("the packet was sealed by another station than the uploader".into()),
            ),
            Ok(_) => (Status::Accepted, None, None),
            Err(refused) => (
                Status::Rejected,
                Some(refused.reason),
                Some(refused.detail.clone()),
            ),
        };
        if status == Status::Accepted {
            self.put_packet(station, packet_id, bytes).await?;
        }
        let receipt = Receipt {
            format: receipt::FORMAT.into(),
            packet_id: packet_id.to_owned(),
            sha256: sha256.clone(),
            status,
            reason,
            detail,
            received_at: chrono::Utc::now().to_rfc3339(),
            intake_key: String::new(),
        };
        let signed = self.sign(&receipt)?;
        // The applicant's status follows the verdict, in the same
        // transaction as the receipt or the rejection.
        let enrolment = match &verdict {
            Ok(accepted) => accepted.enrolment.clone(),
            Err(refused) => refused.enrolment.as_deref().cloned(),
        };
        let lookup_key = enrolment
            .as_ref()
            .and_then(|e| e.applicant.as_ref())
            .map(|applicant| self.lookup.key(applicant));
        let applicant_status = |tx: &Connection| match &enrolment {
            Some(e) => applicants::record(
                tx,
                e,
                lookup_key.as_deref(),
                packet_id,
                reason,
                &applicants::timestamp(),
            )
            .map(|_| ()),
            None => Ok(()),
        };
        // Only accepted packets hold their id: a rejected one may come
        // again, mended. The appointment it used is consumed with its
        // receipt, in one transaction.
        if status == Status::Accepted {
            let checked_in_from = verdict
                .as_ref()
                .ok()
                .and_then(|a| a.checked_in_from.clone());
            let first_use = self.db(|db| {
                let tx = db.unchecked_transaction()?;
                tx.execute(
                    "INSERT OR IGNORE INTO receipts (packet_id, station_id, sha256, status, signed, received_at)
                     VALUES (?1, ?2, ?3, 'accepted', ?4, ?5)",
                    rusqlite::params![packet_id, station, sha256, signed, receipt.received_at],
                )?;
                let first_use = match &checked_in_from {
                    Some(code) => Some(tx.execute(
                        "INSERT OR IGNORE INTO consumed_appointments
                             (tracking_code, packet_id, station_id, consumed_at)
                         VALUES (?1, ?2, ?3, ?4)",
                        rusqlite::params![code, packet_id, station, receipt.received_at],
                    )? == 1),
                    None => None,
                };
                if let Some(record) = verdict.as_ref().ok().and_then(|a| a.field.as_ref()) {
                    super::visits::record(&tx, record)?;
                }
                applicant_status(&tx)?;
                tx.commit()?;
                Ok(first_use)
            })?;
            if first_use == Some(false) {
                tracing::warn!(
                    packet = packet_id,
                    station,
                    "the packet's pre-registration was already used by another packet"
                );
            }
        } else {
            self.db(|db| {
                let tx = db.unchecked_transaction()?;
                tx.execute(
                    "INSERT INTO rejections (packet_id, station_id, sha256, reason, signed, received_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    rusqlite::params![
                        packet_id,
                        station,
                        sha256,
                        reason.map(Reason::code),
                        signed,
                        receipt.received_at
                    ],
                )?;
                applicant_status(&tx)?;
                tx.commit()
            })?;
        }
        if enrolment.is_none() {
            tracing::info!(
                packet = packet_id,
                "no applicant status: the packet's Type-2 could not be read"
            );
        }
        tracing::info!(
            packet = packet_id,
            station,
            ?status,
            ?reason,
            "upload judged"
        );
        Ok(signed)
    }
}

impl Store for IntakeStore {
    async fn create(
        &self,
        length: u64,
        metadata: Metadata,
        request: &RequestInfo,
    ) -> Result<String, Refusal> {
        let station = self.station(request)?;
        let packet_id = metadata
            .get_str(PACKET_ID_KEY)
            .filter(|p| !p.is_empty() && p.len() <= 64)
            .ok_or_else(|| {
                Refusal::new(
                    StatusCode::BAD_REQUEST,
                    format!("malformed: Upload-Metadata has no {PACKET_ID_KEY}"),
                )
            })?
            .to_owned();
        let id = uuid::Uuid::now_v7().simple().to_string();
        std::fs::File::create(self.part(&id)).map_err(refuse)?;
        self.db(|db| {
            db.execute(
                "INSERT INTO uploads (id, station_id, packet_id, length, offset, metadata, created_at)
                 VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6)",
                rusqlite::params![
                    id,
                    station,
                    packet_id,
                    length as i64,
                    metadata.to_header_value(),
                    chrono::Utc::now().to_rfc3339()
                ],
            )
        })?;
        Ok(id)
    }

    async fn state(&self, id: &str, request: &RequestInfo) -> Result<Option<UploadState>, Refusal> {
        let station = self.station(request)?;
        let Some((offset, length, packet_id, metadata)) = self.upload(id, &station)? else {
            return Ok(None);
        };
        let completion = if offset == length {
            self.receipt_of(&packet_id)?
                .map(|(_, signed)| Completion::new(signed.into_bytes()))
        } else {
            None
        };
        Ok(Some(UploadState {
            offset,
            length,
            metadata: Metadata::parse(metadata.as_bytes()).unwrap_or_default(),
            completion,
        }))
    }

    async fn append(
        &self,
        id: &str,
        offset: u64,
        bytes: Bytes,
        request: &RequestInfo,
    ) -> Result<u64, Refusal> {
        let station = self.station(request)?;
        let (current, _, _, _) = self.upload(id, &station)?.ok_or_else(Refusal::not_found)?;
        if current != offset {
            return Err(Refusal::conflict(current));
        }
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .open(self.part(id))
            .map_err(refuse)?;
        file.seek(SeekFrom::Start(offset)).map_err(refuse)?;
        file.write_all(&bytes).map_err(refuse)?;
        file.set_len(offset + bytes.len() as u64).map_err(refuse)?;
        file.sync_all().map_err(refuse)?;
        let new = offset + bytes.len() as u64;
        let moved = self.db(|db| {
            db.execute(
                "UPDATE uploads SET offset = ?3 WHERE id = ?1 AND offset = ?2",
                rusqlite::params![id, offset as i64, new as i64],
            )
        })?;
        if moved == 0 {
            return Err(Refusal::conflict(current));
        }
        Ok(new)
    }

    async fn complete(&self, id: &str, request: &RequestInfo) -> Result<Completion, Refusal> {
        let station = self.station(request)?;
        let (offset, length, packet_id, _) =
            self.upload(id, &station)?.ok_or_else(Refusal::not_found)?;
        if offset != length {
            return Err(Refusal::conflict(offset));
        }
        let mut bytes = Vec::with_capacity(length as usize);
        std::fs::File::open(self.part(id))
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(refuse)?;
        let signed = self.settle(&packet_id, &station, bytes).await?;
        Ok(Completion::new(signed.into_bytes()))
    }

    async fn terminate(&self, id: &str, request: &RequestInfo) -> Result<(), Refusal> {
        let station = self.station(request)?;
        self.upload(id, &station)?.ok_or_else(Refusal::not_found)?;
        self.db(|db| db.execute("UPDATE uploads SET terminated = 1 WHERE id = ?1", [id]))?;
        let _ = std::fs::remove_file(self.part(id));
        Ok(())
    }
}
