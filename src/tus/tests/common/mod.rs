//! Shared helpers: a tus server on a loopback port, a client with short
//! timeouts, test data, and raw HTTP for hand-made requests.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use pishkhan_tus::client::{Client, Config, Retry, Url};
use pishkhan_tus::server::{self, Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Serves the tus router for `store` on a free loopback port.
pub async fn serve<S: Store>(store: Arc<S>, config: server::Config) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, server::router(store, config))
            .await
            .unwrap();
    });
    addr
}

/// The server configuration of the tests: small chunks, short body timeout.
pub fn server_config() -> server::Config {
    server::Config {
        max_size: Some(1 << 20),
        max_chunk: 64 * 1024,
        body_idle_timeout: Duration::from_secs(2),
        ..server::Config::default()
    }
}

pub fn endpoint(addr: SocketAddr) -> Url {
    Url::parse(&format!("http://{addr}/files/")).unwrap()
}

/// Short timeouts, quick retries; `attempts` consecutive failures allowed.
pub fn config(endpoint: Url, attempts: u32) -> Config {
    let mut config = Config::new(endpoint);
    config.connect_timeout = Duration::from_secs(2);
    config.request_timeout = Duration::from_secs(10);
    config.stall_timeout = Duration::from_millis(400);
    config.retry = Retry {
        attempts,
        delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(300),
    };
    config
}

pub fn client(addr: SocketAddr, attempts: u32) -> Client {
    Client::new(config(endpoint(addr), attempts)).unwrap()
}

/// `n` bytes of deterministic noise.
pub fn data(n: usize) -> Vec<u8> {
    let mut x: u32 = 0x1234_5678;
    (0..n)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 24) as u8
        })
        .collect()
}

/// The upload id at the end of an upload URL.
pub fn id(url: &Url) -> String {
    url.path_segments().unwrap().next_back().unwrap().to_owned()
}

/// A response read by hand: status, lower-case headers, body.
#[derive(Debug)]
pub struct Raw {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Raw {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `request` as is (it should say `Connection: close`) and reads the
/// whole response.
pub async fn raw(addr: SocketAddr, request: &[u8]) -> Raw {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).await.unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Raw {
        status,
        headers,
        body: body.to_owned(),
    }
}
