//! Client and server over real loopback HTTP, with the fault proxy in
//! between where a test needs trouble.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{client, config, data, id, serve, server_config};
use pishkhan_tus::client::{Client, Error, NetworkKind, TimeoutKind};
use pishkhan_tus::fault::{At, Fault, Mode, Proxy, Rule};
use pishkhan_tus::server::{MemoryStore, Refusal, RequestInfo, Store, UploadState};
use pishkhan_tus::{Completion, Metadata};
use sha2::{Digest, Sha256};

const CHUNK: usize = 16 * 1024;

fn metadata() -> Metadata {
    Metadata::new()
        .with("packet", "0192f0a1.pkt")
        .unwrap()
        .with("station", "TEH-07")
        .unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A server and a proxy in front of it, and a client talking to the proxy.
async fn behind_proxy(attempts: u32) -> (Arc<MemoryStore>, Proxy, Client) {
    let store = Arc::new(MemoryStore::new());
    let addr = serve(Arc::clone(&store), server_config()).await;
    let proxy = Proxy::start(addr, Mode::Http).await.unwrap();
    let client = client(proxy.addr(), attempts);
    (store, proxy, client)
}

#[tokio::test]
async fn full_upload_in_checksummed_chunks() {
    let store = Arc::new(MemoryStore::new());
    let addr = serve(Arc::clone(&store), server_config()).await;
    let client = client(addr, 0);
    let payload = data(100_000);
    let mut seen = Vec::new();
    let outcome = client
        .upload(&payload, &metadata(), None, CHUNK, |_, sent, total| {
            seen.push((sent, total));
        })
        .await
        .unwrap();
    let id = id(&outcome.url);
    assert_eq!(store.data(&id).unwrap(), payload);
    assert_eq!(store.completions(&id), 1);
    assert_eq!(outcome.sent, payload.len() as u64);
    assert_eq!(outcome.resumed_from, 0);
    // One call when the URL is known, then one per chunk (7 chunks).
    assert_eq!(seen.len(), 1 + payload.len().div_ceil(CHUNK));
    assert_eq!(seen.first(), Some(&(0, 100_000)));
    assert_eq!(seen.last(), Some(&(100_000, 100_000)));
    let receipt = String::from_utf8(outcome.completion.unwrap().receipt.to_vec()).unwrap();
    assert!(
        receipt.contains(&hex(&Sha256::digest(&payload))),
        "{receipt}"
    );

    let status = client.status(&outcome.url).await.unwrap();
    assert_eq!((status.offset, status.length), (100_000, Some(100_000)));
    assert_eq!(status.metadata, metadata());
    assert_eq!(status.completion.unwrap().receipt, Bytes::from(receipt));
    let info = client.options().await.unwrap();
    assert_eq!(info.versions, ["1.0.0"]);
    assert_eq!(info.extensions, ["creation", "checksum", "termination"]);
    assert_eq!(info.checksum_algorithms, ["sha256"]);
    assert_eq!(info.max_size, Some(1 << 20));
}

#[tokio::test]
async fn empty_upload_completes() {
    let store = Arc::new(MemoryStore::new());
    let addr = serve(Arc::clone(&store), server_config()).await;
    let outcome = client(addr, 0)
        .upload(&[], &Metadata::new(), None, CHUNK, |_, _, _| {})
        .await
        .unwrap();
    assert!(outcome.completion.is_some());
    assert_eq!(store.completions(&id(&outcome.url)), 1);
}

#[tokio::test]
async fn reset_mid_body_resends_at_most_one_chunk() {
    let (store, proxy, client) = behind_proxy(3).await;
    // The third PATCH dies after 5000 of its 16384 body bytes.
    proxy.add(
        Rule::new(Fault::Reset(At::RequestBody(5000)))
            .method("PATCH")
            .skip(2),
    );
    let payload = data(100_000);
    let outcome = client
        .upload(&payload, &metadata(), None, CHUNK, |_, _, _| {})
        .await
        .unwrap();
    assert_eq!(proxy.counts().faults, 1);
    assert_eq!(store.data(&id(&outcome.url)).unwrap(), payload);
    let resent = outcome.sent - payload.len() as u64;
    assert!(resent > 0 && resent <= CHUNK as u64, "resent {resent}");
    // The wire agrees: body bytes plus a few hundred bytes of head per request.
    assert!(proxy.counts().to_server < (payload.len() + CHUNK) as u64 + 20 * 400);
}

#[tokio::test]
async fn busy_503_with_retry_after_then_success() {
    let (store, proxy, client) = behind_proxy(3).await;
    proxy.add(
        Rule::new(Fault::Reply {
            status: 503,
            retry_after: Some(1),
        })
        .method("PATCH"),
    );
    let url = client.create(10, &Metadata::new()).await.unwrap();
    let busy = client.patch(&url, 0, b"0123456789").await.unwrap_err();
    assert_eq!(
        busy,
        Error::Busy {
            status: 503,
            retry_after: Some(Duration::from_secs(1)),
            reason: "fault proxy: 503 Service Unavailable".to_owned()
        }
    );
    assert!(busy.is_transient());

    // Within upload: waits min(Retry-After, max_delay = 300 ms), then goes on.
    proxy.add(
        Rule::new(Fault::Reply {
            status: 503,
            retry_after: Some(1),
        })
        .method("PATCH"),
    );
    let payload = data(40_000);
    let started = Instant::now();
    let outcome = client
        .upload(&payload, &metadata(), None, CHUNK, |_, _, _| {})
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(store.data(&id(&outcome.url)).unwrap(), payload);
    assert_eq!(proxy.counts().faults, 2);
}

#[tokio::test]
async fn stall_past_the_timeout_then_resume() {
    let (store, proxy, client) = behind_proxy(0).await;
    proxy.add(
        Rule::new(Fault::Stall(At::RequestBody(1000), Duration::from_secs(2)))
            .method("PATCH")
            .skip(1),
    );
    let payload = data(60_000);
    let started = Instant::now();
    let stopped = client
        .upload(&payload, &metadata(), None, CHUNK, |_, _, _| {})
        .await
        .unwrap_err();
    assert_eq!(stopped.error, Error::Timeout(TimeoutKind::Stall));
    assert!(started.elapsed() < Duration::from_millis(1500));
    assert_eq!(stopped.offset, CHUNK as u64);
    let url = stopped.url.unwrap();

    let outcome = client
        .upload(
            &payload,
            &metadata(),
            Some(url.clone()),
            CHUNK,
            |_, _, _| {},
        )
        .await
        .unwrap();
    assert_eq!(outcome.url, url);
    assert_eq!(outcome.resumed_from, CHUNK as u64);
    assert_eq!(outcome.sent, (payload.len() - CHUNK) as u64);
    assert_eq!(store.data(&id(&url)).unwrap(), payload);
    // The stalled request wakes up later and must not append anything.
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(store.data(&id(&url)).unwrap(), payload);
}

#[tokio::test]
async fn truncated_response_is_a_clear_error_then_resume() {
    let (store, proxy, client) = behind_proxy(0).await;
    proxy.add(Rule::new(Fault::Close(At::Response(20))).method("PATCH"));
    let payload = data(50_000);
    let stopped = client
        .upload(&payload, &metadata(), None, CHUNK, |_, _, _| {})
        .await
        .unwrap_err();
    let Error::Network { kind, detail } = &stopped.error else {
        panic!("{stopped}");
    };
    assert_eq!(*kind, NetworkKind::Broken);
    assert!(
        detail.contains("closed") || detail.contains("incomplete"),
        "{detail}"
    );
    assert_eq!(
        stopped.offset, 0,
        "the response with the new offset was lost"
    );

    let url = stopped.url.unwrap();
    let outcome = client
        .upload(
            &payload,
            &metadata(),
            Some(url.clone()),
            CHUNK,
            |_, _, _| {},
        )
        .await
        .unwrap();
    // The server had stored the chunk whose answer was cut off.
    assert_eq!(outcome.resumed_from, CHUNK as u64);
    assert_eq!(store.data(&id(&url)).unwrap(), payload);
}

#[tokio::test]
async fn lost_final_answer_receipt_comes_with_head() {
    let (store, proxy, client) = behind_proxy(2).await;
    // The last PATCH's answer never arrives.
    proxy.add(
        Rule::new(Fault::Reset(At::Response(0)))
            .method("PATCH")
            .skip(2),
    );
    let payload = data(3 * CHUNK);
    let outcome = client
        .upload(&payload, &metadata(), None, CHUNK, |_, _, _| {})
        .await
        .unwrap();
    assert_eq!(outcome.sent, payload.len() as u64, "nothing resent");
    assert!(outcome.completion.is_some());
    assert_eq!(store.completions(&id(&outcome.url)), 1);
}

#[tokio::test]
async fn corrupted_chunk_gets_460_and_is_resent() {
    let (store, proxy, client) = behind_proxy(2).await;
    // The second PATCH has byte 100 of its body flipped.
    proxy.add(
        Rule::new(Fault::Corrupt(At::RequestBody(100)))
            .method("PATCH")
            .skip(1),
    );
    let payload = data(50_000);
    let outcome = client
        .upload(&payload, &metadata(), None, CHUNK, |_, _, _| {})
        .await
        .unwrap();
    assert_eq!(proxy.counts().faults, 1);
    assert_eq!(store.data(&id(&outcome.url)).unwrap(), payload);
    assert_eq!(outcome.sent, (payload.len() + CHUNK) as u64);
}

#[tokio::test]
async fn corrupted_small_chunk_is_460() {
    let (_store, proxy, client) = behind_proxy(0).await;
    proxy.add(Rule::new(Fault::Corrupt(At::RequestBody(3))).method("PATCH"));
    let url = client.create(10, &Metadata::new()).await.unwrap();
    let err = client.patch(&url, 0, &data(10)).await.unwrap_err();
    let Error::ChecksumMismatch { reason } = err else {
        panic!("{err}");
    };
    assert!(reason.contains("sha256"), "{reason}");
    assert_eq!(client.offset(&url).await.unwrap(), 0);
}

#[tokio::test]
async fn offset_conflict_is_409() {
    let store = Arc::new(MemoryStore::new());
    let addr = serve(Arc::clone(&store), server_config()).await;
    let client = client(addr, 0);
    let payload = data(30_000);
    let url = client.create(30_000, &Metadata::new()).await.unwrap();
    assert_eq!(
        client
            .patch(&url, 0, &payload[..10_000])
            .await
            .unwrap()
            .offset,
        10_000
    );
    let err = client.patch(&url, 0, &payload[..10_000]).await.unwrap_err();
    let Error::OffsetConflict { reason } = err else {
        panic!("{err}");
    };
    assert_eq!(reason, "Upload-Offset is 0, the upload's offset is 10000");
    assert_eq!(client.offset(&url).await.unwrap(), 10_000);
    let outcome = client
        .upload(
            &payload,
            &Metadata::new(),
            Some(url.clone()),
            CHUNK,
            |_, _, _| {},
        )
        .await
        .unwrap();
    assert_eq!(outcome.resumed_from, 10_000);
    assert_eq!(store.data(&id(&url)).unwrap(), payload);
}

/// A store where another writer appends the same bytes just before the
/// second append: the client's PATCH then gets 409.
struct Racy {
    inner: MemoryStore,
    appends: std::sync::atomic::AtomicU32,
}

impl Store for Racy {
    async fn create(
        &self,
        length: u64,
        metadata: Metadata,
        request: &RequestInfo,
    ) -> Result<String, Refusal> {
        self.inner.create(length, metadata, request).await
    }
    async fn state(&self, id: &str, request: &RequestInfo) -> Result<Option<UploadState>, Refusal> {
        self.inner.state(id, request).await
    }
    async fn append(
        &self,
        id: &str,
        offset: u64,
        bytes: Bytes,
        request: &RequestInfo,
    ) -> Result<u64, Refusal> {
        if self
            .appends
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            == 1
        {
            self.inner
                .append(id, offset, bytes.clone(), request)
                .await?;
        }
        self.inner.append(id, offset, bytes, request).await
    }
    async fn complete(&self, id: &str, request: &RequestInfo) -> Result<Completion, Refusal> {
        self.inner.complete(id, request).await
    }
    async fn terminate(&self, id: &str, request: &RequestInfo) -> Result<(), Refusal> {
        self.inner.terminate(id, request).await
    }
}

#[tokio::test]
async fn upload_recovers_from_409_with_head() {
    let store = Arc::new(Racy {
        inner: MemoryStore::new(),
        appends: 0.into(),
    });
    let addr = serve(Arc::clone(&store), server_config()).await;
    let payload = data(50_000);
    let stopped = client(addr, 0)
        .upload(&payload, &metadata(), None, CHUNK, |_, _, _| {})
        .await
        .unwrap_err();
    assert!(
        matches!(stopped.error, Error::OffsetConflict { .. }),
        "{stopped}"
    );
    assert_eq!(stopped.offset, CHUNK as u64);

    store.appends.store(0, std::sync::atomic::Ordering::Relaxed);
    let mut offsets = Vec::new();
    let outcome = client(addr, 1)
        .upload(&payload, &metadata(), None, CHUNK, |_, offset, _| {
            offsets.push(offset);
        })
        .await
        .unwrap();
    assert_eq!(store.inner.data(&id(&outcome.url)).unwrap(), payload);
    // The second chunk was sent once, refused with 409 (the racing writer
    // had stored it), and HEAD moved the client past it.
    let chunk = CHUNK as u64;
    assert_eq!(offsets, [0, chunk, 2 * chunk, 3 * chunk, 50_000]);
    assert_eq!(outcome.sent, payload.len() as u64);
}

#[tokio::test]
async fn termination() {
    let store = Arc::new(MemoryStore::new());
    let addr = serve(Arc::clone(&store), server_config()).await;
    let client = client(addr, 0);
    let url = client.create(1000, &Metadata::new()).await.unwrap();
    client.patch(&url, 0, &data(500)).await.unwrap();
    client.terminate(&url).await.unwrap();
    assert!(store.ids().is_empty());
    assert_eq!(
        client.status(&url).await.unwrap_err(),
        Error::NotFound { status: 404 }
    );
    assert_eq!(
        client.terminate(&url).await.unwrap_err(),
        Error::NotFound { status: 404 }
    );
    assert_eq!(
        client.patch(&url, 500, b"x").await.unwrap_err(),
        Error::NotFound { status: 404 }
    );

    // Resuming a terminated upload starts a new one.
    let payload = data(1000);
    let outcome = client
        .upload(
            &payload,
            &Metadata::new(),
            Some(url.clone()),
            CHUNK,
            |_, _, _| {},
        )
        .await
        .unwrap();
    assert_ne!(outcome.url, url);
    assert_eq!(store.data(&id(&outcome.url)).unwrap(), payload);
}

#[tokio::test]
async fn refusals_carry_the_reason() {
    let store = Arc::new(MemoryStore::new());
    let addr = serve(Arc::clone(&store), server_config()).await;
    let client = client(addr, 3);
    let err = client.create(2 << 20, &Metadata::new()).await.unwrap_err();
    assert_eq!(
        err,
        Error::Refused {
            status: 413,
            reason: "Upload-Length 2097152 is over Tus-Max-Size 1048576".to_owned()
        }
    );
    // A chunk over the server's max_chunk (64 KiB): 413, not retried.
    let payload = data(100_000);
    let stopped = client
        .upload(&payload, &Metadata::new(), None, 80_000, |_, _, _| {})
        .await
        .unwrap_err();
    assert!(
        matches!(stopped.error, Error::Refused { status: 413, .. }),
        "{stopped}"
    );
    assert_eq!(store.data(&id(&stopped.url.unwrap())).unwrap(), b"");
}

#[tokio::test]
async fn resuming_with_other_data_is_refused() {
    let store = Arc::new(MemoryStore::new());
    let addr = serve(Arc::clone(&store), server_config()).await;
    let client = client(addr, 0);
    let url = client.create(1000, &Metadata::new()).await.unwrap();
    let stopped = client
        .upload(&data(999), &Metadata::new(), Some(url), CHUNK, |_, _, _| {})
        .await
        .unwrap_err();
    assert!(matches!(stopped.error, Error::Usage(_)), "{stopped}");
}

#[tokio::test]
async fn offline_server_is_a_network_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let err = client(addr, 0)
        .create(1, &Metadata::new())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Network {
                kind: NetworkKind::Connect,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.is_transient());
}

#[tokio::test]
async fn urls_off_the_endpoint_are_refused() {
    let client = client("127.0.0.1:9".parse().unwrap(), 0);
    let other = pishkhan_tus::client::Url::parse("http://127.0.0.1:10/files/1").unwrap();
    assert!(matches!(client.status(&other).await, Err(Error::Usage(_))));
    let plain = pishkhan_tus::client::Url::parse("http://intake.example/files/").unwrap();
    assert!(matches!(
        Client::new(config(plain, 0)),
        Err(Error::Usage(_))
    ));
}

#[tokio::test]
async fn rate_limited_proxy_paces_the_upload() {
    let (store, proxy, client) = behind_proxy(0).await;
    proxy.set_rate_limit(Some(200_000));
    let payload = data(60_000);
    let started = Instant::now();
    let outcome = client
        .upload(&payload, &metadata(), None, CHUNK, |_, _, _| {})
        .await
        .unwrap();
    let elapsed = started.elapsed();
    // 60 kB at 200 kB/s: ~0.3 s once the 10 kB burst is spent.
    assert!(elapsed >= Duration::from_millis(230), "{elapsed:?}");
    assert_eq!(store.data(&id(&outcome.url)).unwrap(), payload);
    let counts = proxy.counts();
    assert!(counts.to_server > payload.len() as u64);
    assert!(counts.to_client > 0);
    assert!(counts.requests >= 5, "{counts:?}");
}

#[tokio::test]
async fn authenticate_hook_signs_every_request() {
    /// Accepts only requests whose `x-body-sha256` matches the body.
    struct Checking(MemoryStore);
    fn check(request: &RequestInfo) -> Result<(), Refusal> {
        let sent = request
            .headers
            .get("x-body-sha256")
            .map(|v| v.as_bytes().to_vec());
        let actual = request.body_sha256.map(|h| hex(&h).into_bytes());
        if sent.is_some() && (actual.is_none() || sent == actual) {
            Ok(())
        } else {
            Err(Refusal::new(
                http::StatusCode::UNAUTHORIZED,
                "bad signature",
            ))
        }
    }
    impl Store for Checking {
        async fn create(
            &self,
            length: u64,
            metadata: Metadata,
            request: &RequestInfo,
        ) -> Result<String, Refusal> {
            check(request)?;
            self.0.create(length, metadata, request).await
        }
        async fn state(
            &self,
            id: &str,
            request: &RequestInfo,
        ) -> Result<Option<UploadState>, Refusal> {
            check(request)?;
            self.0.state(id, request).await
        }
        async fn append(
            &self,
            id: &str,
            offset: u64,
            bytes: Bytes,
            request: &RequestInfo,
        ) -> Result<u64, Refusal> {
            check(request)?;
            self.0.append(id, offset, bytes, request).await
        }
        async fn complete(&self, id: &str, request: &RequestInfo) -> Result<Completion, Refusal> {
            self.0.complete(id, request).await
        }
        async fn terminate(&self, id: &str, request: &RequestInfo) -> Result<(), Refusal> {
            check(request)?;
            self.0.terminate(id, request).await
        }
    }
    let store = Arc::new(Checking(MemoryStore::new()));
    let addr = serve(Arc::clone(&store), server_config()).await;
    let unsigned = client(addr, 0)
        .create(10, &Metadata::new())
        .await
        .unwrap_err();
    assert_eq!(
        unsigned,
        Error::Refused {
            status: 401,
            reason: "bad signature".to_owned()
        }
    );
    let signing = client(addr, 0).with_authenticator(
        |parts: &pishkhan_tus::client::RequestParts<'_>| -> Result<http::HeaderMap, String> {
            let mut headers = http::HeaderMap::new();
            headers.insert(
                "x-body-sha256",
                hex(&parts.body_sha256).parse().map_err(|_| "header")?,
            );
            Ok(headers)
        },
    );
    let payload = data(40_000);
    let outcome = signing
        .upload(&payload, &metadata(), None, CHUNK, |_, _, _| {})
        .await
        .unwrap();
    assert_eq!(store.0.data(&id(&outcome.url)).unwrap(), payload);
    signing.terminate(&outcome.url).await.unwrap();
}
