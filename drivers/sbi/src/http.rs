//! Just enough HTTP/1.1 for SBI, free of I/O: request serialisation with
//! custom verbs, response and request head parsing, and an incremental
//! chunked transfer decoder. The sockets live in `client` and
//! `virtual_service`.
//!
//! A hand-rolled codec rather than an HTTP crate because SBI uses custom
//! verbs (`RCAPTURE`, `MOSIPDISC`, ...) and the client needs byte-level
//! control of a streaming reply that it polls for cancellation.

use crate::proto::{ProtoError, header_end};

/// Largest response or request head accepted.
pub const MAX_HEAD: usize = 16 * 1024;

/// A parsed response status line and headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    pub status: u16,
    pub reason: String,
    /// Header names lower-cased, in order.
    pub headers: Vec<(String, String)>,
}

/// A parsed request line and headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
}

/// How the body of a message is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    Length(usize),
    Chunked,
    UntilClose,
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn parse_headers<'a>(
    lines: impl Iterator<Item = &'a str>,
) -> Result<Vec<(String, String)>, ProtoError> {
    let mut headers = Vec::new();
    for line in lines {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        let (k, v) = line
            .split_once(':')
            .ok_or_else(|| ProtoError::Http(format!("bad header line {line:?}")))?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
    }
    Ok(headers)
}

fn body_kind(headers: &[(String, String)], default: BodyKind) -> Result<BodyKind, ProtoError> {
    if header(headers, "transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    {
        return Ok(BodyKind::Chunked);
    }
    match header(headers, "content-length") {
        Some(v) => v
            .parse()
            .map(BodyKind::Length)
            .map_err(|_| ProtoError::Http(format!("bad Content-Length {v:?}"))),
        None => Ok(default),
    }
}

impl ResponseHead {
    /// Parses a head from the start of `buf`: `Ok(None)` if incomplete,
    /// else the head and the number of bytes it used.
    pub fn parse(buf: &[u8]) -> Result<Option<(ResponseHead, usize)>, ProtoError> {
        let Some((end, sep)) = header_end(buf) else {
            if buf.len() > MAX_HEAD {
                return Err(ProtoError::Http("response head too long".into()));
            }
            return Ok(None);
        };
        if end > MAX_HEAD {
            return Err(ProtoError::Http("response head too long".into()));
        }
        let text = std::str::from_utf8(&buf[..end])
            .map_err(|_| ProtoError::Http("response head is not UTF-8".into()))?;
        let mut lines = text.split('\n');
        let status_line = lines.next().unwrap_or_default().trim_end_matches('\r');
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or_default();
        if !version.starts_with("HTTP/1.") {
            return Err(ProtoError::Http(format!("bad status line {status_line:?}")));
        }
        let status: u16 = parts
            .next()
            .and_then(|s| s.parse().ok())
            .filter(|s| (100..1000).contains(s))
            .ok_or_else(|| ProtoError::Http(format!("bad status line {status_line:?}")))?;
        let reason = parts.next().unwrap_or_default().to_owned();
        let headers = parse_headers(lines)?;
        Ok(Some((
            ResponseHead {
                status,
                reason,
                headers,
            },
            end + sep,
        )))
    }

    /// A header value by lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// How the body is delimited (until close when unspecified).
    pub fn body_kind(&self) -> Result<BodyKind, ProtoError> {
        body_kind(&self.headers, BodyKind::UntilClose)
    }
}

impl RequestHead {
    /// Parses a request head from the start of `buf`, like
    /// [`ResponseHead::parse`].
    pub fn parse(buf: &[u8]) -> Result<Option<(RequestHead, usize)>, ProtoError> {
        let Some((end, sep)) = header_end(buf) else {
            if buf.len() > MAX_HEAD {
                return Err(ProtoError::Http("request head too long".into()));
            }
            return Ok(None);
        };
        if end > MAX_HEAD {
            return Err(ProtoError::Http("request head too long".into()));
        }
        let text = std::str::from_utf8(&buf[..end])
            .map_err(|_| ProtoError::Http("request head is not UTF-8".into()))?;
        let mut lines = text.split('\n');
        let line = lines.next().unwrap_or_default().trim_end_matches('\r');
        let mut parts = line.split(' ');
        let (Some(method), Some(target), Some(version)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(ProtoError::Http(format!("bad request line {line:?}")));
        };
        if method.is_empty()
            || !method
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            || !version.starts_with("HTTP/1.")
        {
            return Err(ProtoError::Http(format!("bad request line {line:?}")));
        }
        // Absolute-form targets (`http://127.0.0.1:4501/info`) become paths.
        let path = match target.split_once("://") {
            Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
            None => target,
        };
        let headers = parse_headers(lines)?;
        Ok(Some((
            RequestHead {
                method: method.to_owned(),
                path: path.to_owned(),
                headers,
            },
            end + sep,
        )))
    }

    /// A header value by lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// How the body is delimited (empty when unspecified).
    pub fn body_kind(&self) -> Result<BodyKind, ProtoError> {
        body_kind(&self.headers, BodyKind::Length(0))
    }
}

/// Serialises a request with a JSON body (or none).
pub fn request_bytes(method: &str, host: &str, path: &str, body: Option<&[u8]>) -> Vec<u8> {
    let mut out =
        format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n").into_bytes();
    if let Some(body) = body {
        out.extend_from_slice(b"Content-Type: application/json\r\n");
        out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
        out.extend_from_slice(body);
    } else {
        out.extend_from_slice(b"Content-Length: 0\r\n\r\n");
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    Size,
    Data(usize),
    DataEnd,
    Trailer,
    Done,
}

/// Incremental decoder of `Transfer-Encoding: chunked`.
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    buf: Vec<u8>,
    state: ChunkState,
    max_chunk: usize,
}

impl ChunkedDecoder {
    /// A decoder refusing chunks larger than `max_chunk`.
    pub fn new(max_chunk: usize) -> Self {
        Self {
            buf: Vec::new(),
            state: ChunkState::Size,
            max_chunk,
        }
    }

    /// Whether the terminating zero-size chunk (and trailer) was seen.
    pub fn is_done(&self) -> bool {
        self.state == ChunkState::Done
    }

    /// Adds raw bytes; appends the decoded data to `out`.
    pub fn push(&mut self, bytes: &[u8], out: &mut Vec<u8>) -> Result<(), ProtoError> {
        self.buf.extend_from_slice(bytes);
        let mut pos = 0;
        loop {
            let rest = &self.buf[pos..];
            match self.state {
                ChunkState::Size => {
                    let Some(eol) = rest.iter().position(|&b| b == b'\n') else {
                        if rest.len() > 1024 {
                            return Err(ProtoError::Http("chunk size line too long".into()));
                        }
                        break;
                    };
                    let line = std::str::from_utf8(&rest[..eol])
                        .map_err(|_| ProtoError::Http("chunk size not ASCII".into()))?;
                    let hex = line
                        .trim_end_matches('\r')
                        .split(';')
                        .next()
                        .unwrap_or("")
                        .trim();
                    let size = usize::from_str_radix(hex, 16)
                        .map_err(|_| ProtoError::Http(format!("bad chunk size {hex:?}")))?;
                    if size > self.max_chunk {
                        return Err(ProtoError::Http(format!("chunk of {size} bytes too large")));
                    }
                    pos += eol + 1;
                    self.state = if size == 0 {
                        ChunkState::Trailer
                    } else {
                        ChunkState::Data(size)
                    };
                }
                ChunkState::Data(n) => {
                    if rest.is_empty() {
                        break;
                    }
                    let take = n.min(rest.len());
                    out.extend_from_slice(&rest[..take]);
                    pos += take;
                    self.state = if take == n {
                        ChunkState::DataEnd
                    } else {
                        ChunkState::Data(n - take)
                    };
                }
                ChunkState::DataEnd => {
                    if rest.starts_with(b"\r\n") {
                        pos += 2;
                    } else if rest.starts_with(b"\n") {
                        pos += 1;
                    } else if rest.len() < 2 && (rest.is_empty() || rest[0] == b'\r') {
                        break;
                    } else {
                        return Err(ProtoError::Http("missing CRLF after chunk".into()));
                    }
                    self.state = ChunkState::Size;
                }
                ChunkState::Trailer => {
                    let Some(eol) = rest.iter().position(|&b| b == b'\n') else {
                        if rest.len() > 1024 {
                            return Err(ProtoError::Http("trailer line too long".into()));
                        }
                        break;
                    };
                    let empty = rest[..eol].iter().all(|&b| b == b'\r');
                    pos += eol + 1;
                    if empty {
                        self.state = ChunkState::Done;
                    }
                }
                ChunkState::Done => {
                    pos = self.buf.len();
                    break;
                }
            }
        }
        self.buf.drain(..pos);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_head_sample() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nCACHE-CONTROL: no-store\r\nContent-Length: 2\r\n\r\n[]";
        let (head, used) = ResponseHead::parse(raw).unwrap().unwrap();
        assert_eq!(head.status, 200);
        assert_eq!(head.header("cache-control"), Some("no-store"));
        assert_eq!(head.body_kind().unwrap(), BodyKind::Length(2));
        assert_eq!(&raw[used..], b"[]");
        assert_eq!(ResponseHead::parse(b"HTTP/1.1 200 OK\r\n").unwrap(), None);
        assert!(ResponseHead::parse(b"SSH-2.0 hello\r\n\r\n").is_err());
        assert!(ResponseHead::parse(&[b'a'; MAX_HEAD + 10]).is_err());
    }

    #[test]
    fn request_head_with_custom_verb_and_absolute_target() {
        let raw = request_bytes("RCAPTURE", "127.0.0.1:4501", "/capture", Some(b"{}"));
        let (head, used) = RequestHead::parse(&raw).unwrap().unwrap();
        assert_eq!(head.method, "RCAPTURE");
        assert_eq!(head.path, "/capture");
        assert_eq!(head.body_kind().unwrap(), BodyKind::Length(2));
        assert_eq!(&raw[used..], b"{}");
        let raw = b"MOSIPDINFO http://127.0.0.1:4501/info HTTP/1.1\r\n\r\n";
        let (head, _) = RequestHead::parse(raw).unwrap().unwrap();
        assert_eq!(
            (head.method.as_str(), head.path.as_str()),
            ("MOSIPDINFO", "/info")
        );
        assert_eq!(head.body_kind().unwrap(), BodyKind::Length(0));
    }

    #[test]
    fn chunked_decodes_across_any_split() {
        let raw =
            b"4\r\nWiki\r\n6;ext=1\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\nX-T: 1\r\n\r\n";
        for step in 1..raw.len() {
            let mut d = ChunkedDecoder::new(64);
            let mut out = Vec::new();
            for piece in raw.chunks(step) {
                d.push(piece, &mut out).unwrap();
            }
            assert!(d.is_done(), "step {step}");
            assert_eq!(out, b"Wikipedia in \r\n\r\nchunks.", "step {step}");
        }
        let mut d = ChunkedDecoder::new(4);
        assert!(d.push(b"5\r\n", &mut Vec::new()).is_err());
        let mut d = ChunkedDecoder::new(64);
        assert!(d.push(b"zz\r\n", &mut Vec::new()).is_err());
        let mut d = ChunkedDecoder::new(64);
        assert!(d.push(b"1\r\nab", &mut Vec::new()).is_err());
    }
}
