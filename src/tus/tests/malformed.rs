//! Replies that break the protocol: clear errors, never a panic.

mod common;

use std::net::SocketAddr;

use common::client;
use pishkhan_tus::Metadata;
use pishkhan_tus::client::{Error, NetworkKind, Url};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A server that answers every request with `reply`, then closes.
async fn canned(reply: &'static str) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let mut buf = vec![0; 64 * 1024];
                let mut seen = Vec::new();
                // Read the head and whatever body came with it.
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                let _ = stream.write_all(reply.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    addr
}

async fn patch_error(reply: &'static str) -> Error {
    let addr = canned(reply).await;
    let url = Url::parse(&format!("http://{addr}/files/1")).unwrap();
    client(addr, 0).patch(&url, 0, b"abc").await.unwrap_err()
}

fn protocol(err: &Error) -> &str {
    match err {
        Error::Protocol(what) => what,
        other => panic!("not a protocol violation: {other}"),
    }
}

#[tokio::test]
async fn missing_or_garbled_patch_headers() {
    let cases = [
        (
            "HTTP/1.1 204 No Content\r\nTus-Resumable: 1.0.0\r\n\r\n",
            "PATCH response: Upload-Offset: missing",
        ),
        (
            "HTTP/1.1 204 No Content\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: abc\r\n\r\n",
            "PATCH response: Upload-Offset: expected a non-negative decimal integer, got \"abc\"",
        ),
        (
            "HTTP/1.1 204 No Content\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 99\r\n\r\n",
            "PATCH response: Upload-Offset 99 is outside 0..=3, the range this chunk covers",
        ),
        (
            "HTTP/1.1 204 No Content\r\nUpload-Offset: 3\r\n\r\n",
            "PATCH response: Tus-Resumable: missing",
        ),
        (
            "HTTP/1.1 204 No Content\r\nTus-Resumable: 0.2.2\r\nUpload-Offset: 3\r\n\r\n",
            "PATCH response: Tus-Resumable: version 0.2.2, not 1.0.0",
        ),
        (
            "HTTP/1.1 204 No Content\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 3\r\nUpload-Receipt: %%%\r\n\r\n",
            "PATCH response: Upload-Receipt: not Base64: \"%%%\"",
        ),
        (
            "HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n",
            "PATCH response: unexpected HTTP 302",
        ),
    ];
    for (reply, expected) in cases {
        let err = patch_error(reply).await;
        assert_eq!(protocol(&err), expected);
        assert!(
            err.to_string()
                .starts_with("protocol violation by the server: ")
        );
    }
}

#[tokio::test]
async fn not_http_at_all() {
    let err = patch_error("SSH-2.0-OpenSSH_9.2\r\n").await;
    assert!(
        matches!(
            err,
            Error::Network {
                kind: NetworkKind::Broken,
                ..
            }
        ),
        "{err}"
    );
    let err = patch_error("").await;
    assert!(
        matches!(
            err,
            Error::Network {
                kind: NetworkKind::Broken,
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn creation_without_a_usable_location() {
    for (reply, expected) in [
        (
            "HTTP/1.1 201 Created\r\nTus-Resumable: 1.0.0\r\nContent-Length: 0\r\n\r\n",
            "POST response: Location: missing",
        ),
        (
            "HTTP/1.1 201 Created\r\nTus-Resumable: 1.0.0\r\nLocation: http://evil.example/files/1\r\nContent-Length: 0\r\n\r\n",
            "POST response: Location http://evil.example/files/1 is not on the endpoint's origin",
        ),
    ] {
        let addr = canned(reply).await;
        let err = client(addr, 0)
            .create(3, &Metadata::new())
            .await
            .unwrap_err();
        assert_eq!(protocol(&err), expected);
    }
}

#[tokio::test]
async fn head_offset_past_length_and_refusal_reasons() {
    let addr = canned(
        "HTTP/1.1 200 OK\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 10\r\nUpload-Length: 5\r\nContent-Length: 0\r\n\r\n",
    )
    .await;
    let url = Url::parse(&format!("http://{addr}/files/1")).unwrap();
    let err = client(addr, 0).status(&url).await.unwrap_err();
    assert_eq!(
        protocol(&err),
        "HEAD response: Upload-Offset 10 is past Upload-Length 5"
    );

    let err = patch_error(
        "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 22\r\n\r\nstation not registered",
    )
    .await;
    assert_eq!(
        err,
        Error::Refused {
            status: 403,
            reason: "station not registered".to_owned()
        }
    );
    let err =
        patch_error("HTTP/1.1 502 Bad Gateway\r\nRetry-After: soon\r\nContent-Length: 0\r\n\r\n")
            .await;
    assert_eq!(
        err,
        Error::Busy {
            status: 502,
            retry_after: None,
            reason: String::new()
        }
    );
}
