//! The server side of tus 1.0.0, checked with hand-made requests.

mod common;

use std::sync::Arc;

use common::{raw, serve, server_config};
use pishkhan_tus::proto::Checksum;
use pishkhan_tus::server::MemoryStore;

async fn server() -> (Arc<MemoryStore>, std::net::SocketAddr) {
    let store = Arc::new(MemoryStore::new());
    let addr = serve(Arc::clone(&store), server_config()).await;
    (store, addr)
}

fn request(method: &str, path: &str, headers: &[&str], body: &[u8]) -> Vec<u8> {
    let mut text = format!("{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
    for h in headers {
        text.push_str(h);
        text.push_str("\r\n");
    }
    text.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Creates an upload of `length` bytes; returns its path.
async fn create(addr: std::net::SocketAddr, length: u64) -> String {
    let length = format!("Upload-Length: {length}");
    let reply = raw(
        addr,
        &request("POST", "/files/", &["Tus-Resumable: 1.0.0", &length], b""),
    )
    .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    assert_eq!(reply.header("tus-resumable"), Some("1.0.0"));
    reply.header("location").unwrap().to_owned()
}

#[tokio::test]
async fn options_needs_no_version_and_lists_extensions() {
    let (_, addr) = server().await;
    for path in ["/files/", "/files", "/files/anything"] {
        let reply = raw(addr, &request("OPTIONS", path, &[], b"")).await;
        assert_eq!(reply.status, 204, "{path}");
        assert_eq!(reply.header("tus-version"), Some("1.0.0"));
        assert_eq!(
            reply.header("tus-extension"),
            Some("creation,checksum,termination")
        );
        assert_eq!(reply.header("tus-checksum-algorithm"), Some("sha256"));
        assert_eq!(reply.header("tus-max-size"), Some("1048576"));
    }
}

#[tokio::test]
async fn wrong_or_missing_tus_resumable_is_412() {
    let (store, addr) = server().await;
    let path = create(addr, 10).await;
    for version in [Some("0.2.2"), None, Some("1.0.0,0.2.2")] {
        let mut headers = vec!["Upload-Length: 10"];
        let line = version.map(|v| format!("Tus-Resumable: {v}"));
        headers.extend(line.as_deref());
        let reply = raw(addr, &request("POST", "/files/", &headers, b"")).await;
        assert_eq!(reply.status, 412, "{version:?}");
        assert_eq!(reply.header("tus-version"), Some("1.0.0"));
        assert!(reply.body.starts_with("Tus-Resumable: "), "{}", reply.body);
        let head = raw(addr, &request("HEAD", &path, &headers, b"")).await;
        assert_eq!(head.status, 412);
    }
    assert_eq!(store.ids().len(), 1, "nothing was created");
}

#[tokio::test]
async fn unknown_upload_is_404() {
    let (_, addr) = server().await;
    for method in ["HEAD", "DELETE"] {
        let reply = raw(
            addr,
            &request(method, "/files/nope", &["Tus-Resumable: 1.0.0"], b""),
        )
        .await;
        assert_eq!(reply.status, 404, "{method}");
    }
    let patch = request(
        "PATCH",
        "/files/nope",
        &[
            "Tus-Resumable: 1.0.0",
            "Upload-Offset: 0",
            "Content-Type: application/offset+octet-stream",
        ],
        b"abc",
    );
    let reply = raw(addr, &patch).await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.body, "no such upload");
}

#[tokio::test]
async fn head_reports_offset_length_metadata_no_store() {
    let (_, addr) = server().await;
    let reply = raw(
        addr,
        &request(
            "POST",
            "/files",
            &[
                "Tus-Resumable: 1.0.0",
                "Upload-Length: 5",
                "Upload-Metadata: name YS5wa3Q=,flag",
            ],
            b"",
        ),
    )
    .await;
    assert_eq!(reply.status, 201);
    let path = reply.header("location").unwrap().to_owned();
    assert!(path.starts_with("/files/"), "{path}");
    let head = raw(
        addr,
        &request("HEAD", &path, &["Tus-Resumable: 1.0.0"], b""),
    )
    .await;
    assert_eq!(head.status, 200);
    assert_eq!(head.header("upload-offset"), Some("0"));
    assert_eq!(head.header("upload-length"), Some("5"));
    assert_eq!(head.header("upload-metadata"), Some("flag,name YS5wa3Q="));
    assert_eq!(head.header("cache-control"), Some("no-store"));
    assert_eq!(head.header("tus-resumable"), Some("1.0.0"));
    assert_eq!(head.header("upload-receipt"), None);
}

#[tokio::test]
async fn patch_rules() {
    let (store, addr) = server().await;
    let path = create(addr, 10).await;
    let id = path.rsplit('/').next().unwrap().to_owned();
    let octets = "Content-Type: application/offset+octet-stream";
    let v = "Tus-Resumable: 1.0.0";

    let reply = raw(
        addr,
        &request(
            "PATCH",
            &path,
            &[v, "Upload-Offset: 0", "Content-Type: text/plain"],
            b"abc",
        ),
    )
    .await;
    assert_eq!(reply.status, 415);
    let reply = raw(addr, &request("PATCH", &path, &[v, octets], b"abc")).await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (400, "Upload-Offset: missing")
    );
    let reply = raw(
        addr,
        &request("PATCH", &path, &[v, octets, "Upload-Offset: -1"], b"abc"),
    )
    .await;
    assert_eq!(reply.status, 400);
    assert!(
        reply
            .body
            .starts_with("Upload-Offset: expected a non-negative"),
        "{}",
        reply.body
    );
    let reply = raw(
        addr,
        &request("PATCH", &path, &[v, octets, "Upload-Offset: 3"], b"abc"),
    )
    .await;
    assert_eq!(reply.status, 409);
    let reply = raw(
        addr,
        &request(
            "PATCH",
            &path,
            &[v, octets, "Upload-Offset: 0", "Upload-Checksum: md5 AAAA"],
            b"abc",
        ),
    )
    .await;
    assert_eq!(reply.status, 400);
    assert!(
        reply.body.contains("unsupported checksum algorithm"),
        "{}",
        reply.body
    );
    let wrong = format!(
        "Upload-Checksum: {}",
        Checksum::sha256(b"abd").to_header_value()
    );
    let reply = raw(
        addr,
        &request(
            "PATCH",
            &path,
            &[v, octets, "Upload-Offset: 0", &wrong],
            b"abc",
        ),
    )
    .await;
    assert_eq!(reply.status, 460);
    assert_eq!(store.data(&id).unwrap(), b"");
    let reply = raw(
        addr,
        &request(
            "PATCH",
            &path,
            &[v, octets, "Upload-Offset: 0"],
            b"0123456789X",
        ),
    )
    .await;
    assert_eq!(reply.status, 413, "more than the upload lacks");

    // Without a checksum (tus core), then with one.
    let reply = raw(
        addr,
        &request("PATCH", &path, &[v, octets, "Upload-Offset: 0"], b"abc"),
    )
    .await;
    assert_eq!(reply.status, 204);
    assert_eq!(reply.header("upload-offset"), Some("3"));
    assert_eq!(reply.header("tus-resumable"), Some("1.0.0"));
    let right = format!(
        "Upload-Checksum: {}",
        Checksum::sha256(b"defghij").to_header_value()
    );
    let reply = raw(
        addr,
        &request(
            "PATCH",
            &path,
            &[v, octets, "Upload-Offset: 3", &right],
            b"defghij",
        ),
    )
    .await;
    assert_eq!(reply.status, 204);
    assert_eq!(reply.header("upload-offset"), Some("10"));
    assert!(reply.header("upload-receipt").is_some());
    assert_eq!(store.data(&id).unwrap(), b"abcdefghij");

    // An empty PATCH at the end returns the receipt again without completing twice.
    let reply = raw(
        addr,
        &request("PATCH", &path, &[v, octets, "Upload-Offset: 10"], b""),
    )
    .await;
    assert_eq!(reply.status, 204);
    assert!(reply.header("upload-receipt").is_some());
    assert_eq!(store.completions(&id), 1);
}

#[tokio::test]
async fn creation_refusals() {
    let (store, addr) = server().await;
    let v = "Tus-Resumable: 1.0.0";
    let cases: [(&[&str], &[u8], u16, &str); 5] = [
        (&[v], b"", 400, "Upload-Length: missing"),
        (
            &[v, "Upload-Length: ten"],
            b"",
            400,
            "Upload-Length: expected a non-negative decimal integer, got \"ten\"",
        ),
        (
            &[v, "Upload-Length: 2000000"],
            b"",
            413,
            "Upload-Length 2000000 is over Tus-Max-Size 1048576",
        ),
        (
            &[v, "Upload-Length: 5", "Upload-Metadata: a b c"],
            b"",
            400,
            "Upload-Metadata: pair 1 (\"a\"): value is not Base64: \"b c\"",
        ),
        (
            &[v, "Upload-Length: 5"],
            b"hello",
            400,
            "a creation request has no body (creation-with-upload is not supported)",
        ),
    ];
    for (headers, body, status, reason) in cases {
        let reply = raw(addr, &request("POST", "/files/", headers, body)).await;
        assert_eq!((reply.status, reply.body.as_str()), (status, reason));
    }
    let reply = raw(
        addr,
        &request("POST", "/files/", &[v, "Upload-Defer-Length: 1"], b""),
    )
    .await;
    assert_eq!(reply.status, 400);
    assert!(store.ids().is_empty());
}

/// A body cut off mid-way: without a checksum the bytes that arrived are
/// kept (tus core); with one, none are.
#[tokio::test]
async fn cut_off_bodies() {
    use tokio::io::AsyncWriteExt;
    let (store, addr) = server().await;
    for (checksum, kept) in [(false, 4usize), (true, 0)] {
        let path = create(addr, 10).await;
        let id = path.rsplit('/').next().unwrap().to_owned();
        let mut head = format!(
            "PATCH {path} HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: 10\r\n"
        );
        if checksum {
            head.push_str(&format!(
                "Upload-Checksum: {}\r\n",
                Checksum::sha256(b"0123456789").to_header_value()
            ));
        }
        head.push_str("\r\n0123");
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.flush().await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        drop(stream);
        let mut waited = 0;
        while store.data(&id).unwrap().len() != kept && waited < 50 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            waited += 1;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert_eq!(
            store.data(&id).unwrap(),
            &b"0123"[..kept],
            "checksum: {checksum}"
        );
    }
}
