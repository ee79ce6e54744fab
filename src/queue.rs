//! What engineers and mobile teams do with the outbox outside the window:
//! verify packets, copy them to removable media and take them in again,
//! and (with an authority identity) open them.
//!
//! An export folder holds one `<packet id>.pkp` per packet (the sealed
//! file, byte for byte as queued), `index.json` listing them with their
//! sizes and SHA-256, and `index.sig`, the exporting station's Ed25519
//! signature over `INDEX_DOMAIN ‖ index.json`.

use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::packet::{self, PacketError, SealedFile, legacy, sealed};
use crate::station::Station;
use crate::store::{StoreError, audit, outbox};

pub const INDEX_FILE: &str = "index.json";
pub const INDEX_SIG_FILE: &str = "index.sig";
pub const INDEX_FORMAT: &str = "pishkhan-export/1";
const INDEX_DOMAIN: &[u8] = b"pishkhan-export/1 index\n";

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Outbox(#[from] outbox::OutboxError),
    #[error(transparent)]
    Packet(#[from] PacketError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a valid export index: {reason}")]
    Index { path: String, reason: String },
    #[error("the export index's signature does not verify")]
    IndexSignature,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> QueueError + '_ {
    move |source| QueueError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// One packet in an export folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexEntry {
    pub packet_id: String,
    pub file: String,
    /// Size of the `.pkp` file.
    pub size: u64,
    /// SHA-256 of the `.pkp` file.
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Index {
    pub format: String,
    pub station_id: String,
    /// The exporting station's Ed25519 public key, hex.
    pub station_key: String,
    pub exported_at: String,
    pub packets: Vec<IndexEntry>,
}

/// What a check of one packet found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub id: String,
    pub format: u8,
    pub ok: bool,
    /// What was checked, or what failed.
    pub detail: String,
}

/// Checks a queued packet: the header signature and the ciphertext's hash
/// (format 3) or the outer signature (format 2); with an authority
/// identity also the inner signature, every part, and the transaction.
pub fn verify(
    station: &Station,
    entry: &outbox::Entry,
    identity: Option<&age::x25519::Identity>,
) -> Verdict {
    let own = station.verifying_key();
    let result = station
        .with_db(|db| outbox::stored(db, &entry.id))
        .map_err(QueueError::from)
        .and_then(|stored| -> Result<String, QueueError> {
            match stored {
                outbox::Stored::V3(file) => {
                    // Our own packets must carry our key; imported ones
                    // name theirs (the authority checks it against its
                    // register of stations).
                    let expected = (entry.origin == "local").then_some(&own);
                    file.verify(expected)?;
                    let mut detail = "header signature and ciphertext hash".to_owned();
                    if let Some(identity) = identity {
                        let opened = packet::open(&file, identity)?;
                        opened.verify(&file.station_key()?)?;
                        detail.push_str(
                            ", manifest signature, every part, the ANSI/NIST transaction",
                        );
                    }
                    Ok(detail)
                }
                outbox::Stored::V2 {
                    ciphertext,
                    signature,
                } => {
                    legacy::verify_sealed(&ciphertext, &signature, &own)?;
                    let mut detail = "signature over the ciphertext hash".to_owned();
                    if let Some(identity) = identity {
                        legacy::open(&ciphertext, identity)?.verify(&own)?;
                        detail.push_str(", manifest signature, every file");
                    }
                    Ok(detail)
                }
            }
        });
    let (ok, detail) = match result {
        Ok(detail) => (true, detail),
        Err(e) => (false, e.to_string()),
    };
    Verdict {
        id: entry.id.clone(),
        format: entry.format,
        ok,
        detail,
    }
}

/// Writes `bytes` to `path` durably: a temporary file, fsync, rename.
fn write_durably(path: &Path, bytes: &[u8]) -> Result<(), QueueError> {
    use std::io::Write;
    let tmp = path.with_extension("part");
    let mut file = std::fs::File::create(&tmp).map_err(io(&tmp))?;
    file.write_all(bytes).map_err(io(&tmp))?;
    file.sync_all().map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))?;
    Ok(())
}

fn sync_dir(dir: &Path) -> Result<(), QueueError> {
    #[cfg(unix)]
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io(dir))?;
    Ok(())
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exported {
    pub dir: PathBuf,
    pub packets: Vec<String>,
    /// Format-2 packets, which have no file form: they leave by upload.
    pub skipped: Vec<String>,
}

/// Copies every packet the authority does not have yet to `dir`, with a
/// signed index, and marks them exported (they stay queued for upload).
pub fn export(station: &Station, dir: &Path) -> Result<Exported, QueueError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let entries = station.with_db(outbox::list)?;
    let mut index = Index {
        format: INDEX_FORMAT.into(),
        station_id: station.id.to_string(),
        station_key: hex::encode(station.verifying_key().as_bytes()),
        exported_at: chrono::Utc::now().to_rfc3339(),
        packets: Vec::new(),
    };
    let mut skipped = Vec::new();
    for entry in entries
        .iter()
        .filter(|e| matches!(e.status.as_str(), "pending" | "uploading" | "failed"))
    {
        let outbox::Stored::V3(file) = station.with_db(|db| outbox::stored(db, &entry.id))? else {
            skipped.push(entry.id.clone());
            continue;
        };
        let bytes = file.to_bytes();
        let name = format!("{}.{}", entry.id, sealed::EXTENSION);
        write_durably(&dir.join(&name), &bytes)?;
        index.packets.push(IndexEntry {
            packet_id: entry.id.clone(),
            file: name,
            size: bytes.len() as u64,
            sha256: packet::sha256_hex(&bytes),
        });
    }
    let json = serde_json::to_vec_pretty(&index).map_err(PacketError::from)?;
    let signature = station.sign(&[INDEX_DOMAIN, &json].concat());
    write_durably(&dir.join(INDEX_FILE), &json)?;
    write_durably(
        &dir.join(INDEX_SIG_FILE),
        format!("{}\n", hex::encode(signature.to_bytes())).as_bytes(),
    )?;
    sync_dir(dir)?;
    let at = chrono::Utc::now().to_rfc3339();
    let ids: Vec<String> = index.packets.iter().map(|p| p.packet_id.clone()).collect();
    station.with_db(|db| -> Result<(), StoreError> {
        for id in &ids {
            outbox::mark_exported(db, id, &at)?;
        }
        audit::record(
            db,
            station.signing_key(),
            "station",
            "queue-exported",
            Some(&dir.display().to_string()),
            Some(&format!("{} packet(s)", ids.len())),
        )
    })?;
    Ok(Exported {
        dir: dir.to_owned(),
        packets: ids,
        skipped,
    })
}

/// Reads and checks an export folder's index.
pub fn read_index(dir: &Path) -> Result<Index, QueueError> {
    let path = dir.join(INDEX_FILE);
    let json = std::fs::read(&path).map_err(io(&path))?;
    let bad = |reason: String| QueueError::Index {
        path: path.display().to_string(),
        reason,
    };
    let index: Index = serde_json::from_slice(&json).map_err(|e| bad(e.to_string()))?;
    if index.format != INDEX_FORMAT {
        return Err(bad(format!(
            "format {:?}, not {INDEX_FORMAT:?}",
            index.format
        )));
    }
    let sig_path = dir.join(INDEX_SIG_FILE);
    let sig_text = std::fs::read_to_string(&sig_path).map_err(io(&sig_path))?;
    let signature = hex::decode(sig_text.trim())
        .ok()
        .and_then(|b| Signature::from_slice(&b).ok())
        .ok_or(QueueError::IndexSignature)?;
    let key = hex::decode(&index.station_key)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .and_then(|b| VerifyingKey::from_bytes(&b).ok())
        .ok_or_else(|| bad("the station key is not valid".into()))?;
    key.verify(&[INDEX_DOMAIN, &json].concat(), &signature)
        .map_err(|_| QueueError::IndexSignature)?;
    Ok(index)
}

/// What an import did, packet by packet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Imported {
    pub added: Vec<String>,
    pub already_queued: Vec<String>,
    /// Packets refused, with the reason.
    pub refused: Vec<(String, String)>,
}

/// One packet of an export folder, read and checked: listed in the signed
/// index with its size and hash, a sealed file holding the listed packet id,
/// its header signature valid (against the key it names: whoever takes it
/// in checks that key against what it trusts).
pub struct ExportedPacket {
    pub packet_id: String,
    /// The file's bytes and the parsed file, or why it was refused.
    pub read: Result<(Vec<u8>, SealedFile), QueueError>,
}

/// Reads the export folder `dir`: its index (signature checked), then every
/// packet it lists ([`ExportedPacket`]).
pub fn read_export(dir: &Path) -> Result<Vec<ExportedPacket>, QueueError> {
    let index = read_index(dir)?;
    Ok(index
        .packets
        .iter()
        .map(|listed| {
            let path = dir.join(&listed.file);
            let read = std::fs::read(&path).map_err(io(&path)).and_then(|bytes| {
                if bytes.len() as u64 != listed.size || packet::sha256_hex(&bytes) != listed.sha256
                {
                    return Err(QueueError::Packet(PacketError::HashMismatch(
                        listed.file.clone(),
                    )));
                }
                let file = SealedFile::parse(&bytes)?;
                if file.header.packet_id != listed.packet_id {
                    return Err(QueueError::Packet(PacketError::Layout(format!(
                        "{} holds packet {}",
                        listed.file, file.header.packet_id
                    ))));
                }
                file.verify(None)?;
                Ok((bytes, file))
            });
            ExportedPacket {
                packet_id: listed.packet_id.clone(),
                read,
            }
        })
        .collect())
}

/// Takes in the packets of an export folder, idempotently
/// ([`read_export`] checks them).
pub fn import(station: &Station, dir: &Path) -> Result<Imported, QueueError> {
    let mut report = Imported::default();
    for exported in read_export(dir)? {
        let listed_id = exported.packet_id;
        let file = match exported.read {
            Ok((_, file)) => file,
            Err(e) => {
                report.refused.push((listed_id, e.to_string()));
                continue;
            }
        };
        let own = file.header.station_id == station.id.to_string();
        let inserted =
            station.with_db(|db| outbox::insert(db, &file, outbox::Origin::Imported, None));
        match inserted {
            Ok(outbox::Inserted::New) => report.added.push(listed_id.clone()),
            Ok(outbox::Inserted::AlreadyQueued) => {
                report.already_queued.push(listed_id.clone());
            }
            Err(e) => report.refused.push((listed_id.clone(), e.to_string())),
        }
        if own {
            tracing::info!("{} was sealed by this station", listed_id);
        }
    }
    station.with_db(|db| {
        audit::record(
            db,
            station.signing_key(),
            "station",
            "queue-imported",
            Some(&dir.display().to_string()),
            Some(&format!(
                "{} added, {} already queued, {} refused",
                report.added.len(),
                report.already_queued.len(),
                report.refused.len()
            )),
        )
    })?;
    Ok(report)
}

/// Decrypts a queued packet with an authority identity, verifies it, and
/// writes its parts (and the outer header) to `out`.
pub fn open_to_dir(
    station: &Station,
    id: &str,
    identity: &age::x25519::Identity,
    out: &Path,
) -> Result<Vec<PathBuf>, QueueError> {
    let entry = station.with_db(|db| outbox::find(db, id))?;
    let stored = station.with_db(|db| outbox::stored(db, &entry.id))?;
    std::fs::create_dir_all(out).map_err(io(out))?;
    let mut written = Vec::new();
    let mut write = |name: &str, bytes: &[u8]| -> Result<(), QueueError> {
        // Names come from inside the packet: never outside `out`.
        let relative = Path::new(name);
        if !relative
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
        {
            return Err(QueueError::Packet(PacketError::Layout(format!(
                "the part name {name:?} leaves the output folder"
            ))));
        }
        let path = out.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&path, bytes).map_err(io(&path))?;
        written.push(path);
        Ok(())
    };
    let (manifest, files) = match stored {
        outbox::Stored::V3(file) => {
            file.verify(None)?;
            let opened = packet::open(&file, identity)?;
            opened.verify(&file.station_key()?)?;
            write("header.json", &file.header_json)?;
            (serde_json::to_value(&opened.manifest), opened.files)
        }
        outbox::Stored::V2 {
            ciphertext,
            signature,
        } => {
            legacy::verify_sealed(&ciphertext, &signature, &station.verifying_key())?;
            let opened = legacy::open(&ciphertext, identity)?;
            opened.verify(&station.verifying_key())?;
            (Ok(opened.manifest), opened.files)
        }
    };
    let manifest = manifest.and_then(|m| serde_json::to_vec_pretty(&m));
    write("manifest.json", &manifest.map_err(PacketError::from)?)?;
    for (name, bytes) in &files {
        write(name, bytes)?;
    }
    Ok(written)
}
