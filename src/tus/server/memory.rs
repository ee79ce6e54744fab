//! [`MemoryStore`]: uploads kept in memory.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use axum::http::StatusCode;
use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::{Refusal, RequestInfo, Store, UploadState};
use crate::{Completion, Metadata};

struct Upload {
    length: u64,
    metadata: Metadata,
    data: Vec<u8>,
    completion: Option<Completion>,
    completions: u32,
}

/// A [`Store`] that keeps uploads in memory, for tests and as an example of
/// the contract. Nothing is authenticated. Its receipt is the text
/// `{"id":"…","length":…,"sha256":"<hex>"}`.
#[derive(Default)]
pub struct MemoryStore {
    uploads: Mutex<HashMap<String, Upload>>,
    next_id: AtomicU64,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn uploads(&self) -> MutexGuard<'_, HashMap<String, Upload>> {
        self.uploads.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The bytes received so far for upload `id`.
    pub fn data(&self, id: &str) -> Option<Vec<u8>> {
        self.uploads().get(id).map(|u| u.data.clone())
    }

    /// How many times `complete` actually completed upload `id` (0 or 1 for
    /// a store that keeps its promise of idempotence).
    pub fn completions(&self, id: &str) -> u32 {
        self.uploads().get(id).map_or(0, |u| u.completions)
    }

    /// The ids of the uploads that exist now.
    pub fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.uploads().keys().cloned().collect();
        ids.sort();
        ids
    }
}

impl Store for MemoryStore {
    async fn create(
        &self,
        length: u64,
        metadata: Metadata,
        _request: &RequestInfo,
    ) -> Result<String, Refusal> {
        let id = format!("{:08x}", self.next_id.fetch_add(1, Ordering::Relaxed) + 1);
        let upload = Upload {
            length,
            metadata,
            data: Vec::new(),
            completion: None,
            completions: 0,
        };
        self.uploads().insert(id.clone(), upload);
        Ok(id)
    }

    async fn state(
        &self,
        id: &str,
        _request: &RequestInfo,
    ) -> Result<Option<UploadState>, Refusal> {
        Ok(self.uploads().get(id).map(|u| UploadState {
            offset: u.data.len() as u64,
            length: u.length,
            metadata: u.metadata.clone(),
            completion: u.completion.clone(),
        }))
    }

    async fn append(
        &self,
        id: &str,
        offset: u64,
        bytes: Bytes,
        _request: &RequestInfo,
    ) -> Result<u64, Refusal> {
        let mut uploads = self.uploads();
        let upload = uploads.get_mut(id).ok_or_else(Refusal::not_found)?;
        let current = upload.data.len() as u64;
        if offset != current {
            return Err(Refusal::conflict(current));
        }
        if current + bytes.len() as u64 > upload.length {
            let reason = "the bytes go past the upload's length";
            return Err(Refusal::new(StatusCode::PAYLOAD_TOO_LARGE, reason));
        }
        upload.data.extend_from_slice(&bytes);
        Ok(upload.data.len() as u64)
    }

    async fn complete(&self, id: &str, _request: &RequestInfo) -> Result<Completion, Refusal> {
        let mut uploads = self.uploads();
        let upload = uploads.get_mut(id).ok_or_else(Refusal::not_found)?;
        if let Some(done) = &upload.completion {
            return Ok(done.clone());
        }
        if upload.data.len() as u64 != upload.length {
            return Err(Refusal::new(
                StatusCode::CONFLICT,
                "the upload is not complete",
            ));
        }
        let digest: [u8; 32] = Sha256::digest(&upload.data).into();
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        let receipt = format!(
            r#"{{"id":"{id}","length":{},"sha256":"{hex}"}}"#,
            upload.length
        );
        let done = Completion::new(receipt);
        upload.completion = Some(done.clone());
        upload.completions += 1;
        Ok(done)
    }

    async fn terminate(&self, id: &str, _request: &RequestInfo) -> Result<(), Refusal> {
        self.uploads()
            .remove(id)
            .map(drop)
            .ok_or_else(Refusal::not_found)
    }
}
