//! Our client against a tus server that is not ours: tus.io's reference
//! Node.js server, `@tus/server` over `@tus/file-store`
//! (tests/reference/node, versions pinned by its package-lock.json), run as
//! a child process on a loopback port, storing uploads in a directory of
//! the test's.
//!
//! `bash installer/dev.sh test` installs it under target/reference-node and
//! sets `PISHKHAN_REFERENCE_TUS_SERVER` to its script and
//! `PISHKHAN_REQUIRE_REFERENCE=1`, which makes its absence a failure; a
//! plain `cargo test` without it skips these tests with a note on stderr.
//!
//! What the reference server does not do, and what follows for us:
//! - It does not implement the `checksum` extension (its `Tus-Extension`
//!   has no `checksum`, and it ignores `Upload-Checksum`). Our client sends
//!   `Upload-Checksum: sha256 …` on every `PATCH` anyway and never asks
//!   `OPTIONS` first: the tus spec lets a client send the header (§Checksum:
//!   "The Client MAY include the Upload-Checksum header in a PATCH
//!   request") and a server ignores headers of extensions it lacks, so
//!   refusing such a server would buy nothing. The price: a chunk corrupted
//!   on the way is stored as is (`corrupted_chunk_is_stored_as_is`), so
//!   over such a server only TLS protects the bytes.
//! - It gives no `Upload-Receipt` (Pishkhan's intake extension): uploads
//!   complete with `completion: None`, and asking again for a complete
//!   upload's receipt (an empty `PATCH` at its end) is answered `204`
//!   without one.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use common::{config, data, endpoint, id};
use pishkhan_tus::Metadata;
use pishkhan_tus::client::{Client, Error, Url};
use pishkhan_tus::fault::{At, Fault, Mode, Proxy, Rule};

/// 300 KB in 64 KiB chunks: 5 `PATCH`es, the last one short.
const SIZE: usize = 300_000;
const CHUNK: usize = 64 * 1024;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The reference server's script, or `None` (with a note on stderr) when
/// it is not set up; `PISHKHAN_REQUIRE_REFERENCE=1` turns its absence into
/// a failure (the pattern of the reference venv's tests).
fn reference_server() -> Option<PathBuf> {
    let from_env = std::env::var_os("PISHKHAN_REFERENCE_TUS_SERVER").map(PathBuf::from);
    let default = repo().join("target/reference-node/tus-server.mjs");
    let script = from_env.or_else(|| default.exists().then_some(default));
    let usable = script.filter(|s| {
        let installed = s
            .parent()
            .is_some_and(|dir| dir.join("node_modules/@tus/server").is_dir());
        let node = Command::new("node")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        s.is_file() && installed && node
    });
    if usable.is_none() {
        let required = std::env::var("PISHKHAN_REQUIRE_REFERENCE").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "the reference tus server is required (PISHKHAN_REQUIRE_REFERENCE=1) but \
             PISHKHAN_REFERENCE_TUS_SERVER is unset, or node or its node_modules are missing; \
             run `bash installer/dev.sh test`"
        );
        eprintln!(
            "SKIPPED: no reference tus server (set PISHKHAN_REFERENCE_TUS_SERVER or run \
             `bash installer/dev.sh test`)"
        );
    }
    usable
}

/// The Node server as a child process, killed (and its directory removed)
/// on drop.
struct NodeServer {
    child: Child,
    /// Held open: the server exits when its stdin closes, should this
    /// process die without dropping it.
    _stdin: ChildStdin,
    addr: SocketAddr,
    dir: PathBuf,
}

impl NodeServer {
    /// Starts the server, or `None` when it is not set up (see
    /// [`reference_server`]).
    fn start() -> Option<Self> {
        static N: AtomicU32 = AtomicU32::new(0);
        let script = reference_server()?;
        let dir = std::env::temp_dir().join(format!(
            "pishkhan-tus-interop-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut child = Command::new("node")
            .arg(&script)
            .arg("0")
            .arg(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        // The first line is the port; a thread reads it so that a server
        // that never says it cannot hang the test.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let mut server = Self {
            child,
            _stdin: stdin,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            dir,
        };
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the reference tus server prints its port within 20 s");
        let port: u16 = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("the reference tus server's first line: {line:?}"));
        server.addr.set_port(port);
        Some(server)
    }

    /// The bytes the server stored for the upload at `url`.
    fn stored(&self, url: &Url) -> Vec<u8> {
        std::fs::read(self.dir.join(id(url))).unwrap()
    }

    /// What the file store keeps about the upload at `url` (JSON).
    fn info(&self, url: &Url) -> String {
        std::fs::read_to_string(self.dir.join(format!("{}.json", id(url)))).unwrap()
    }
}

impl Drop for NodeServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A client of `addr`'s `/files/` with the tests' short timeouts and
/// `attempts` retries.
fn client(addr: SocketAddr, attempts: u32) -> Client {
    Client::new(config(endpoint(addr), attempts)).unwrap()
}

fn metadata() -> Metadata {
    Metadata::new()
        .with("packet", "0192f0a1.pkt")
        .unwrap()
        .with("station", "TEH-07")
        .unwrap()
        .with("office", "پیشخوان تهران ۷")
        .unwrap()
        // Sent as the bare key (no value), which the spec allows.
        .with("note", "")
        .unwrap()
}

#[tokio::test]
async fn options_reports_core_and_its_extensions() {
    let Some(node) = NodeServer::start() else {
        return;
    };
    let info = client(node.addr, 0).options().await.unwrap();
    assert_eq!(info.versions, ["1.0.0"]);
    // What @tus/server 1.10 with @tus/file-store 1.5 implement: creation and termination, which
    // we use; no checksum (see the module's notes).
    assert_eq!(
        info.extensions,
        [
            "creation",
            "creation-with-upload",
            "creation-defer-length",
            "termination",
            "expiration"
        ]
    );
    assert!(info.checksum_algorithms.is_empty());
    assert_eq!(info.max_size, None);
}

#[tokio::test]
async fn upload_with_metadata_in_chunks_is_stored_byte_identical() {
    let Some(node) = NodeServer::start() else {
        return;
    };
    let client = client(node.addr, 0);
    let payload = data(SIZE);
    let mut seen = Vec::new();
    let outcome = client
        .upload(&payload, &metadata(), None, CHUNK, |_, sent, total| {
            seen.push((sent, total));
        })
        .await
        .unwrap();
    assert_eq!(node.stored(&outcome.url), payload);
    assert_eq!(outcome.sent, SIZE as u64);
    assert_eq!(outcome.resumed_from, 0);
    // One call when the URL is known, then one per chunk (5 PATCHes).
    assert_eq!(seen.len(), 1 + SIZE.div_ceil(CHUNK));
    assert_eq!(seen.last(), Some(&(SIZE as u64, SIZE as u64)));
    // A plain tus server gives no receipt.
    assert_eq!(outcome.completion, None);

    // The server decoded our Upload-Metadata (Base64 values, UTF-8 text,
    // a key without a value)…
    let info = node.info(&outcome.url);
    assert!(info.contains(r#""packet":"0192f0a1.pkt""#), "{info}");
    assert!(info.contains(r#""office":"پیشخوان تهران ۷""#), "{info}");
    assert!(info.contains(r#""note":null"#), "{info}");
    // …and we read its HEAD: offset, length and the metadata as sent.
    let status = client.status(&outcome.url).await.unwrap();
    assert_eq!(
        (status.offset, status.length),
        (SIZE as u64, Some(SIZE as u64))
    );
    assert_eq!(status.metadata, metadata());
    assert_eq!(status.completion, None);
}

#[tokio::test]
async fn resume_after_the_client_went_away_sends_only_the_rest() {
    let Some(node) = NodeServer::start() else {
        return;
    };
    let proxy = Proxy::start(node.addr, Mode::Http).await.unwrap();
    let payload = data(SIZE);
    // A first client creates the upload, sends two chunks and is gone.
    let url = {
        let first = client(proxy.addr(), 0);
        let url = first.create(SIZE as u64, &metadata()).await.unwrap();
        for n in 0..2 {
            let chunk = &payload[n * CHUNK..(n + 1) * CHUNK];
            let patched = first.patch(&url, (n * CHUNK) as u64, chunk).await.unwrap();
            assert_eq!(patched.offset, ((n + 1) * CHUNK) as u64);
        }
        url
    };
    let before = proxy.counts();

    // A new client asks HEAD for the offset and sends only the rest.
    let outcome = client(proxy.addr(), 0)
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
    assert_eq!(outcome.resumed_from, 2 * CHUNK as u64);
    assert_eq!(outcome.sent, (SIZE - 2 * CHUNK) as u64);
    assert_eq!(node.stored(&url), payload);
    // The wire agrees: the rest, plus a few hundred bytes of head for each
    // of the HEAD and 3 PATCH requests.
    let on_the_wire = proxy.counts().to_server - before.to_server;
    let rest = (SIZE - 2 * CHUNK) as u64;
    assert!(
        on_the_wire >= rest && on_the_wire < rest + 4 * 500,
        "{on_the_wire} bytes sent for the {rest} left"
    );
}

#[tokio::test]
async fn reset_mid_chunk_then_resume_resends_at_most_one_chunk() {
    let Some(node) = NodeServer::start() else {
        return;
    };
    let proxy = Proxy::start(node.addr, Mode::Http).await.unwrap();
    // The third PATCH dies after 20 000 of its 65 536 body bytes.
    proxy.add(
        Rule::new(Fault::Reset(At::RequestBody(20_000)))
            .method("PATCH")
            .skip(2),
    );
    let payload = data(SIZE);
    let stopped = client(proxy.addr(), 0)
        .upload(&payload, &metadata(), None, CHUNK, |_, _, _| {})
        .await
        .unwrap_err();
    assert!(matches!(stopped.error, Error::Network { .. }), "{stopped}");
    assert_eq!(stopped.offset, 2 * CHUNK as u64);
    assert_eq!(proxy.counts().faults, 1);
    let url = stopped.url.unwrap();
    let before = proxy.counts();

    let outcome = client(proxy.addr(), 0)
        .upload(
            &payload,
            &metadata(),
            Some(url.clone()),
            CHUNK,
            |_, _, _| {},
        )
        .await
        .unwrap();
    // The file store keeps what arrived of the broken chunk (here: all
    // 20 000 bytes the proxy forwarded, so the rest starts mid-chunk); the
    // HEAD says where to go on from, somewhere in that chunk.
    let from = outcome.resumed_from;
    assert!(
        (2 * CHUNK as u64..=3 * CHUNK as u64).contains(&from),
        "resumed from {from}"
    );
    assert_eq!(outcome.sent, SIZE as u64 - from);
    assert_eq!(node.stored(&url), payload);
    let on_the_wire = proxy.counts().to_server - before.to_server;
    let rest = (SIZE - 2 * CHUNK) as u64;
    assert!(
        on_the_wire < rest + 5 * 500,
        "{on_the_wire} bytes sent for the {rest} left after the confirmed offset"
    );
}

#[tokio::test]
async fn terminated_upload_is_not_found() {
    let Some(node) = NodeServer::start() else {
        return;
    };
    let client = client(node.addr, 0);
    let payload = data(SIZE);
    // A partial upload, terminated.
    let url = client.create(SIZE as u64, &metadata()).await.unwrap();
    client.patch(&url, 0, &payload[..CHUNK]).await.unwrap();
    client.terminate(&url).await.unwrap();
    assert!(!node.dir.join(id(&url)).exists());
    assert_eq!(
        client.status(&url).await.unwrap_err(),
        Error::NotFound { status: 404 }
    );
    assert_eq!(
        client
            .patch(&url, CHUNK as u64, &payload[CHUNK..2 * CHUNK])
            .await
            .unwrap_err(),
        Error::NotFound { status: 404 }
    );
    assert_eq!(
        client.terminate(&url).await.unwrap_err(),
        Error::NotFound { status: 404 }
    );

    // Resuming it starts a new upload.
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
    assert_ne!(outcome.url, url);
    assert_eq!(outcome.resumed_from, 0);
    assert_eq!(node.stored(&outcome.url), payload);

    // A complete upload can be terminated too.
    client.terminate(&outcome.url).await.unwrap();
    assert_eq!(
        client.status(&outcome.url).await.unwrap_err(),
        Error::NotFound { status: 404 }
    );
}

#[tokio::test]
async fn complete_upload_resumed_asks_for_a_receipt_and_gets_none() {
    let Some(node) = NodeServer::start() else {
        return;
    };
    let client = client(node.addr, 0);
    let payload = data(CHUNK + 1000);
    let first = client
        .upload(&payload, &metadata(), None, CHUNK, |_, _, _| {})
        .await
        .unwrap();
    assert_eq!(first.completion, None);
    // As a station does on its next attempt: the HEAD finds the upload
    // complete without a receipt, an empty PATCH at the end asks again,
    // and the server answers 204 without one. Nothing is resent.
    let again = client
        .upload(
            &payload,
            &metadata(),
            Some(first.url.clone()),
            CHUNK,
            |_, _, _| {},
        )
        .await
        .unwrap();
    assert_eq!(again.url, first.url);
    assert_eq!(again.resumed_from, payload.len() as u64);
    assert_eq!(again.sent, 0);
    assert_eq!(again.completion, None);
    assert_eq!(node.stored(&first.url), payload);

    // An empty upload completes the same way.
    let empty = client
        .upload(&[], &Metadata::new(), None, CHUNK, |_, _, _| {})
        .await
        .unwrap();
    assert_eq!((empty.sent, empty.completion), (0, None));
    assert!(node.stored(&empty.url).is_empty());
}

#[tokio::test]
async fn corrupted_chunk_is_stored_as_is() {
    let Some(node) = NodeServer::start() else {
        return;
    };
    let proxy = Proxy::start(node.addr, Mode::Http).await.unwrap();
    // The second PATCH has byte 100 of its body flipped on the way. Our
    // Upload-Checksum says so, but this server does not check it (no
    // checksum extension): it stores the bad byte and answers 204, where
    // a server with the extension answers 460 and the client resends.
    proxy.add(
        Rule::new(Fault::Corrupt(At::RequestBody(100)))
            .method("PATCH")
            .skip(1),
    );
    let payload = data(3 * CHUNK);
    let outcome = client(proxy.addr(), 0)
        .upload(&payload, &metadata(), None, CHUNK, |_, _, _| {})
        .await
        .unwrap();
    assert_eq!(proxy.counts().faults, 1);
    assert_eq!(outcome.sent, payload.len() as u64, "nothing resent");
    let stored = node.stored(&outcome.url);
    let differ: Vec<usize> = (0..payload.len())
        .filter(|&i| stored[i] != payload[i])
        .collect();
    assert_eq!(differ, [CHUNK + 100]);
}

#[tokio::test]
async fn idle_past_the_servers_keep_alive() {
    let Some(node) = NodeServer::start() else {
        return;
    };
    let client = client(node.addr, 0);
    let payload = data(2 * CHUNK);
    let url = client
        .create(payload.len() as u64, &metadata())
        .await
        .unwrap();
    client.patch(&url, 0, &payload[..CHUNK]).await.unwrap();
    // Node closes an idle connection after 5 s (http.Server's
    // keepAliveTimeout); the next request must not pick it up.
    tokio::time::sleep(Duration::from_millis(5500)).await;
    client
        .patch(&url, CHUNK as u64, &payload[CHUNK..])
        .await
        .unwrap();
    assert_eq!(node.stored(&url), payload);
}
