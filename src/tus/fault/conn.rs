//! One proxied connection: both directions in one task, so a fault can act
//! on both sockets at once.

use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{At, Fault, Mode, Shared};

/// Longest request head tracked; past it the connection is forwarded blind.
const MAX_HEAD: usize = 64 * 1024;
const BUF: usize = 16 * 1024;

/// What a fault does at its point.
#[derive(Debug, Clone, Copy)]
enum Action {
    Reset,
    Close,
    Stall(Duration),
    Corrupt,
}

/// A fault waiting for its byte: `at` counts from the start of the body,
/// response or connection; `seen` is how many bytes have passed since.
#[derive(Debug, Clone, Copy)]
struct Pending {
    action: Action,
    at: u64,
    seen: u64,
}

fn split(fault: Fault) -> Option<(bool, Pending)> {
    let (action, at) = match fault {
        Fault::Reset(at) => (Action::Reset, at),
        Fault::Close(at) => (Action::Close, at),
        Fault::Stall(at, d) => (Action::Stall(d), at),
        Fault::Corrupt(at) => (Action::Corrupt, at),
        Fault::Reply { .. } => return None,
    };
    let (to_server, at) = match at {
        At::RequestBody(n) => (true, n),
        At::Response(n) => (false, n),
    };
    Some((
        to_server,
        Pending {
            action,
            at,
            seen: 0,
        },
    ))
}

/// Where the client → server stream is.
enum Request {
    /// Collecting a request head.
    Head(Vec<u8>),
    /// Forwarding a body with this many bytes left.
    Body(u64),
    /// Swallowing a body, then sending the canned reply.
    Swallow(u64, Vec<u8>),
    /// Untracked (raw mode, chunked body, oversized head).
    Blind,
}

/// What the connection does next.
enum Next {
    Go,
    Close,
    Reset,
}

struct Conn {
    client: TcpStream,
    server: TcpStream,
    shared: Arc<Shared>,
    request: Request,
    up: Option<Pending>,
    down: Option<Pending>,
}

/// Proxies `client` to the upstream server until both sides are done.
pub(super) async fn run(client: TcpStream, shared: Arc<Shared>) -> io::Result<()> {
    let server = match TcpStream::connect(shared.upstream).await {
        Ok(server) => server,
        Err(e) => {
            client.set_zero_linger()?;
            return Err(e);
        }
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let mut conn = Conn {
        client,
        server,
        request: Request::Head(Vec::new()),
        up: None,
        down: None,
        shared,
    };
    if conn.shared.mode == Mode::Raw {
        conn.request = Request::Blind;
        if let Some((to_server, pending)) = conn.shared.pick(None).and_then(split) {
            *conn.side(to_server) = Some(pending);
        }
    }
    conn.pump().await
}

enum Event {
    FromClient(io::Result<usize>),
    FromServer(io::Result<usize>),
}

impl Conn {
    fn side(&mut self, to_server: bool) -> &mut Option<Pending> {
        if to_server {
            &mut self.up
        } else {
            &mut self.down
        }
    }

    async fn pump(&mut self) -> io::Result<()> {
        let (mut cbuf, mut sbuf) = (vec![0; BUF], vec![0; BUF]);
        let (mut client_open, mut server_open) = (true, true);
        while client_open || server_open {
            let event = tokio::select! {
                r = self.client.read(&mut cbuf), if client_open => Event::FromClient(r),
                r = self.server.read(&mut sbuf), if server_open => Event::FromServer(r),
            };
            let next = match event {
                Event::FromClient(Ok(0)) => {
                    client_open = false;
                    let _ = self.server.shutdown().await;
                    Next::Go
                }
                Event::FromServer(Ok(0)) => {
                    server_open = false;
                    let _ = self.client.shutdown().await;
                    Next::Go
                }
                Event::FromClient(Ok(n)) => self.on_client(&cbuf[..n]).await?,
                Event::FromServer(Ok(n)) => {
                    let mut data = sbuf[..n].to_vec();
                    self.forward(false, &mut data).await?
                }
                Event::FromClient(Err(e)) | Event::FromServer(Err(e)) => {
                    self.reset();
                    return Err(e);
                }
            };
            match next {
                Next::Go => {}
                Next::Close => {
                    let _ = self.client.shutdown().await;
                    let _ = self.server.shutdown().await;
                    return Ok(());
                }
                Next::Reset => {
                    self.reset();
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// Makes the coming close a TCP reset on both sockets.
    fn reset(&self) {
        let _ = self.client.set_zero_linger();
        let _ = self.server.set_zero_linger();
    }

    /// Bytes from the client, request by request.
    async fn on_client(&mut self, mut data: &[u8]) -> io::Result<Next> {
        while !data.is_empty() {
            match &mut self.request {
                Request::Blind => {
                    let mut piece = data.to_vec();
                    return self.forward(true, &mut piece).await;
                }
                Request::Body(left) => {
                    let n = usize::try_from(*left).map_or(data.len(), |l| l.min(data.len()));
                    *left -= n as u64;
                    if *left == 0 {
                        self.request = Request::Head(Vec::new());
                    }
                    let mut piece = data[..n].to_vec();
                    data = &data[n..];
                    let next = self.forward(true, &mut piece).await?;
                    if !matches!(next, Next::Go) {
                        return Ok(next);
                    }
                }
                Request::Swallow(left, _) => {
                    let n = usize::try_from(*left).map_or(data.len(), |l| l.min(data.len()));
                    *left -= n as u64;
                    data = &data[n..];
                    if let Request::Swallow(0, reply) = &self.request {
                        let reply = reply.clone();
                        return self.answer(&reply).await;
                    }
                }
                Request::Head(head) => {
                    let before = head.len();
                    head.extend_from_slice(data);
                    let Some(end) = find_end(head) else {
                        if head.len() > MAX_HEAD {
                            let mut piece = std::mem::take(head);
                            self.request = Request::Blind;
                            return self.forward(true, &mut piece).await;
                        }
                        return Ok(Next::Go);
                    };
                    let mut whole = std::mem::take(head);
                    data = &data[end - before..];
                    whole.truncate(end);
                    let next = self.start_request(whole).await?;
                    if !matches!(next, Next::Go) {
                        return Ok(next);
                    }
                }
            }
        }
        Ok(Next::Go)
    }

    /// A request head arrived: pick its fault and forward (or answer) it.
    async fn start_request(&mut self, head: Vec<u8>) -> io::Result<Next> {
        self.shared
            .counters
            .requests
            .fetch_add(1, Ordering::Relaxed);
        let (method, body) = parse_head(&head);
        let fault = self.shared.pick(Some(&method));
        self.up = None;
        self.down = None;
        if let Some(Fault::Reply {
            status,
            retry_after,
        }) = fault
        {
            self.shared.counters.faults.fetch_add(1, Ordering::Relaxed);
            let reply = canned(status, retry_after);
            return match body {
                Some(0) => self.answer(&reply).await,
                Some(n) => {
                    self.request = Request::Swallow(n, reply);
                    Ok(Next::Go)
                }
                None => self.answer(&reply).await,
            };
        }
        if let Some((to_server, pending)) = fault.and_then(split) {
            *self.side(to_server) = Some(pending);
        }
        self.request = match body {
            Some(0) => Request::Head(Vec::new()),
            Some(n) => Request::Body(n),
            None => Request::Blind,
        };
        let mut head = head;
        self.write(true, &mut head).await?;
        // A point at body byte 0 fires before any body byte.
        let mut nothing = Vec::new();
        self.forward(true, &mut nothing).await
    }

    /// Sends a canned reply and ends the connection.
    async fn answer(&mut self, reply: &[u8]) -> io::Result<Next> {
        self.client.write_all(reply).await?;
        self.shared.forwarded(false, reply.len());
        Ok(Next::Close)
    }

    /// Forwards `data` in one direction, applying that direction's pending
    /// fault when its point is reached.
    async fn forward(&mut self, to_server: bool, data: &mut [u8]) -> io::Result<Next> {
        let Some(mut pending) = *self.side(to_server) else {
            self.write(to_server, data).await?;
            return Ok(Next::Go);
        };
        let len = data.len() as u64;
        let offset = pending.at.saturating_sub(pending.seen);
        let fires = match pending.action {
            Action::Corrupt => offset < len,
            _ => offset <= len,
        };
        if !fires {
            pending.seen += len;
            *self.side(to_server) = Some(pending);
            self.write(to_server, data).await?;
            return Ok(Next::Go);
        }
        *self.side(to_server) = None;
        self.shared.counters.faults.fetch_add(1, Ordering::Relaxed);
        let cut = usize::try_from(offset)
            .unwrap_or(data.len())
            .min(data.len());
        let (before, after) = data.split_at_mut(cut);
        tracing::debug!(?pending, to_server, "fault proxy: fault fires");
        match pending.action {
            Action::Corrupt => {
                if let Some(b) = after.first_mut() {
                    *b = !*b;
                }
                self.write(to_server, data).await?;
                Ok(Next::Go)
            }
            Action::Stall(duration) => {
                self.write(to_server, before).await?;
                tokio::time::sleep(duration).await;
                self.write(to_server, after).await?;
                Ok(Next::Go)
            }
            Action::Close => {
                self.write(to_server, before).await?;
                Ok(Next::Close)
            }
            Action::Reset => {
                self.write(to_server, before).await?;
                Ok(Next::Reset)
            }
        }
    }

    async fn write(&mut self, to_server: bool, data: &mut [u8]) -> io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        self.shared.pace(to_server, data.len()).await;
        let socket = if to_server {
            &mut self.server
        } else {
            &mut self.client
        };
        socket.write_all(data).await?;
        self.shared.forwarded(to_server, data.len());
        Ok(())
    }
}

/// The index just past the blank line that ends a head.
fn find_end(head: &[u8]) -> Option<usize> {
    head.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
}

/// The method and body length of a request head: `Some(n)` for
/// `Content-Length: n` or no body, `None` for a chunked (or unparsable)
/// body.
fn parse_head(head: &[u8]) -> (String, Option<u64>) {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let method = lines
        .next()
        .and_then(|l| l.split(' ').next())
        .unwrap_or_default()
        .to_ascii_uppercase();
    let mut body = Some(0);
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim();
        if name.eq_ignore_ascii_case("content-length") {
            body = value.trim().parse().ok();
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            body = None;
        }
    }
    (method, body)
}

/// A complete HTTP/1.1 response that closes the connection.
fn canned(status: u16, retry_after: Option<u64>) -> Vec<u8> {
    let reason = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Fault");
    let body = format!("fault proxy: {status} {reason}");
    let retry = retry_after
        .map(|s| format!("Retry-After: {s}\r\n"))
        .unwrap_or_default();
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n{retry}Connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads() {
        let head = b"PATCH /files/1 HTTP/1.1\r\ncontent-length: 12\r\nhost: x\r\n\r\n";
        assert_eq!(find_end(head), Some(head.len()));
        assert_eq!(parse_head(head), ("PATCH".to_owned(), Some(12)));
        let chunked = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(parse_head(chunked), ("POST".to_owned(), None));
        assert_eq!(
            parse_head(b"HEAD /x HTTP/1.1\r\n\r\n"),
            ("HEAD".to_owned(), Some(0))
        );
        assert_eq!(find_end(b"GET / HTTP/1.1\r\n"), None);
    }

    #[test]
    fn canned_replies_are_framed() {
        let reply = String::from_utf8(canned(503, Some(2))).unwrap();
        assert!(reply.starts_with("HTTP/1.1 503 Service Unavailable\r\n"));
        assert!(reply.contains("Retry-After: 2\r\n"));
        let (_, body) = reply.split_once("\r\n\r\n").unwrap();
        assert!(reply.contains(&format!("Content-Length: {}\r\n", body.len())));
    }
}
