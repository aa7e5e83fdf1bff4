//! The bytes of HTTP/1.1 on the agent connections: request heads out, answer heads and
//! bodies in (RFC 9112). The I/O around them is in `pool.rs`.
//!
//! hyper's client connection was the largest single cost of a proxied request: a second
//! task-facing state machine, a channel and a oneshot per request, and a fresh read
//! buffer each time, for a connection that only ever carries one request at a time from
//! one task. Parsing stays with `httparse`, the parser hyper uses.

use axum::http::header::{ACCEPT, ALLOW, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use std::io::Write;

/// Request headers of the client that go on to the agent: the credentials too, so that
/// an agent with its own auth checks the same token, and where an event stream resumes.
const FORWARDED: [HeaderName; 4] = [CONTENT_TYPE, ACCEPT, AUTHORIZATION, LAST_EVENT_ID];
pub(crate) const LAST_EVENT_ID: HeaderName = HeaderName::from_static("last-event-id");
/// Answer headers of the agent that go back to the client: a 401 of an agent's own auth
/// keeps its challenge (RFC 9110 §11.6.1).
const RETURNED: [HeaderName; 3] = [CONTENT_TYPE, ALLOW, WWW_AUTHENTICATE];
/// Why the bytes from an agent are not an HTTP/1.1 answer the gateway can pass on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum FramingError {
    #[error("invalid answer: {0}")]
    Syntax(httparse::Error),
    #[error("invalid answer status {0}")]
    Status(u16),
    #[error("the agent switched protocols")]
    SwitchedProtocols,
    #[error("invalid content-length in the answer")]
    BadLength,
    #[error("conflicting content-length in the answer")]
    ConflictingLength,
    /// The header name as the agent wrote it.
    #[error("invalid {0} in the answer")]
    BadHeader(String),
    #[error("chunk line too long")]
    LongChunkLine,
    #[error("invalid chunk size in the answer")]
    BadChunkSize,
    #[error("chunk not followed by CRLF")]
    MissingCrlf,
    #[error("answer head larger than {0} bytes")]
    HeadTooLarge(usize),
    #[error("answer larger than {0} bytes")]
    TooLarge(usize),
}

/// An answer head with more headers than this is refused.
const MAX_HEADERS: usize = 64;

/// Writes a request head, and the body after it, to `out`.
pub(crate) fn encode_request(
    out: &mut Vec<u8>,
    method: &Method,
    target: &str,
    host: &HeaderValue,
    headers: &HeaderMap,
    body: &[u8],
) {
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\nhost: ");
    out.extend_from_slice(host.as_bytes());
    out.extend_from_slice(b"\r\n");
    for name in &FORWARDED {
        if let Some(value) = headers.get(name) {
            out.extend_from_slice(name.as_str().as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }
    // A PUT or POST without a body still says so, or the agent would wait for one.
    if !body.is_empty() || !matches!(*method, Method::GET | Method::HEAD) {
        // Writing to a Vec cannot fail.
        let _ = write!(out, "content-length: {}\r\n", body.len());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
}

/// How the body of an answer ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Framing {
    Empty,
    Length(usize),
    Chunked,
    /// The agent closes the connection after the body.
    UntilClose,
}

/// A complete answer head.
#[derive(Debug)]
pub(crate) struct Head {
    pub(crate) status: StatusCode,
    /// The headers in `RETURNED` that the answer has, and the `Content-Length` of an
    /// answer to a HEAD (no body to take it from).
    pub(crate) headers: HeaderMap,
    pub(crate) framing: Framing,
    /// Whether the connection may carry another request after this answer.
    pub(crate) keep_alive: bool,
    /// Bytes of the head, blank line included.
    pub(crate) len: usize,
}

/// Parses the answer head at the start of `buf`: `None` while it is incomplete. `head`
/// says the request was a HEAD, whose answer has no body whatever its headers say.
pub(crate) fn parse_head(buf: &[u8], head: bool) -> Result<Option<Head>, FramingError> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut answer = httparse::Response::new(&mut slots);
    let len = match answer.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(FramingError::Syntax(e)),
    };
    let code = answer.code.unwrap_or_default();
    let status = StatusCode::from_u16(code).map_err(|_| FramingError::Status(code))?;
    if status == StatusCode::SWITCHING_PROTOCOLS {
        return Err(FramingError::SwitchedProtocols);
    }
    let mut headers = HeaderMap::new();
    let mut length = None;
    let (mut encoded, mut chunked, mut close, mut keep) = (false, false, false, false);
    for header in answer.headers.iter() {
        let name = header.name;
        let value = header.value;
        if name.eq_ignore_ascii_case("content-length") {
            let n = parse_length(value).ok_or(FramingError::BadLength)?;
            if length.is_some_and(|m| m != n) {
                return Err(FramingError::ConflictingLength);
            }
            length = Some(n);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            encoded = true;
            chunked = last_token(value).is_some_and(|t| t.eq_ignore_ascii_case(b"chunked"));
        } else if name.eq_ignore_ascii_case("connection") {
            for token in value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
                close |= token.eq_ignore_ascii_case(b"close");
                keep |= token.eq_ignore_ascii_case(b"keep-alive");
            }
        } else if let Some(known) = RETURNED.iter().find(|known| name.eq_ignore_ascii_case(known.as_str())) {
            let value =
                HeaderValue::from_bytes(value).map_err(|_| FramingError::BadHeader(name.to_owned()))?;
            headers.append(known.clone(), value);
        }
    }
    if let (true, Some(length)) = (head, length) {
        headers.insert(CONTENT_LENGTH, HeaderValue::from(length));
    }
    let framing = if head || status.is_informational() || matches!(code, 204 | 304) {
        Framing::Empty
    } else if encoded {
        if chunked { Framing::Chunked } else { Framing::UntilClose }
    } else {
        length.map_or(Framing::UntilClose, Framing::Length)
    };
    // HTTP/1.0 keeps a connection only when asked to; both encoding and length at once
    // is a framing an intermediary could read differently: not worth keeping.
    let persistent = if answer.version == Some(1) { !close } else { keep };
    let keep_alive = persistent && framing != Framing::UntilClose && !(encoded && length.is_some());
    Ok(Some(Head { status, headers, framing, keep_alive, len }))
}

fn parse_length(value: &[u8]) -> Option<usize> {
    let digits = value.trim_ascii();
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

fn last_token(value: &[u8]) -> Option<&[u8]> {
    value.split(|&b| b == b',').map(<[u8]>::trim_ascii).rfind(|t| !t.is_empty())
}

/// Decodes a chunked body as it arrives: each call consumes the chunks that the body
/// bytes received so far complete.
#[derive(Default)]
pub(crate) struct Dechunker {
    /// Body bytes consumed.
    pub(crate) consumed: usize,
    pub(crate) body: Vec<u8>,
    in_trailers: bool,
}

/// Longest chunk-size or trailer line accepted.
const MAX_LINE: usize = 8 * 1024;

impl Dechunker {
    /// Goes on through `received` (every body byte so far); `Ok(true)` once the last chunk
    /// and the trailers are in.
    pub(crate) fn advance(&mut self, received: &[u8], limit: usize) -> Result<bool, FramingError> {
        loop {
            let rest = &received[self.consumed..];
            let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") else {
                return if rest.len() > MAX_LINE { Err(FramingError::LongChunkLine) } else { Ok(false) };
            };
            let line = &rest[..eol];
            if self.in_trailers {
                self.consumed += eol + 2;
                if line.is_empty() {
                    return Ok(true);
                }
                continue;
            }
            let size = line.split(|&b| b == b';').next().unwrap_or_default().trim_ascii();
            let size = chunk_size(size).ok_or(FramingError::BadChunkSize)?;
            if size == 0 {
                self.consumed += eol + 2;
                self.in_trailers = true;
                continue;
            }
            if self.body.len().saturating_add(size) > limit {
                return Err(FramingError::TooLarge(limit));
            }
            let data = eol + 2;
            if rest.len() < data + size + 2 {
                return Ok(false);
            }
            if &rest[data + size..data + size + 2] != b"\r\n" {
                return Err(FramingError::MissingCrlf);
            }
            self.body.extend_from_slice(&rest[data..data + size]);
            self.consumed += data + size + 2;
        }
    }
}

fn chunk_size(hex: &[u8]) -> Option<usize> {
    if hex.is_empty() || hex.len() > 15 || !hex.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    usize::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(bytes: &str, is_head: bool) -> Head {
        parse_head(bytes.as_bytes(), is_head).unwrap().unwrap()
    }

    #[test]
    fn request_bytes() {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert("authorization", HeaderValue::from_static("Bearer x"));
        let host = HeaderValue::from_static("127.0.0.1:7777");
        let mut out = Vec::new();
        encode_request(&mut out, &Method::PUT, "/v1/nfvs/1", &host, &headers, b"{\"action\": \"start\"}");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "PUT /v1/nfvs/1 HTTP/1.1\r\nhost: 127.0.0.1:7777\r\ncontent-type: application/json\r\n\
             authorization: Bearer x\r\ncontent-length: 19\r\n\r\n{\"action\": \"start\"}"
        );
        let mut out = Vec::new();
        encode_request(&mut out, &Method::GET, "/v1/processes?x=1", &host, &HeaderMap::new(), b"");
        assert_eq!(out, b"GET /v1/processes?x=1 HTTP/1.1\r\nhost: 127.0.0.1:7777\r\n\r\n");
        let mut out = Vec::new();
        encode_request(&mut out, &Method::DELETE, "/v1/nfvs/1/ports", &host, &HeaderMap::new(), b"");
        assert!(out.ends_with(b"\r\ncontent-length: 0\r\n\r\n"));
    }

    #[test]
    fn answer_heads() {
        let text = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nx: y\r\n\r\n[]";
        let h = head(text, false);
        let len = text.len() - 2;
        assert_eq!(
            (h.status, h.framing, h.keep_alive, h.len),
            (StatusCode::OK, Framing::Length(2), true, len)
        );
        assert_eq!(h.headers.len(), 1);
        assert_eq!(h.headers[CONTENT_TYPE], "application/json");

        let h =
            head("HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, PUT\r\nContent-Length: 0\r\n\r\n", false);
        assert_eq!((h.status.as_u16(), h.framing), (405, Framing::Length(0)));
        assert_eq!(h.headers[ALLOW], "GET, PUT");
        let h = head(
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"x\"\r\nContent-Length: 0\r\n\r\n",
            false,
        );
        assert_eq!(h.headers[WWW_AUTHENTICATE], "Bearer realm=\"x\"");

        let h = head("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", false);
        assert_eq!((h.framing, h.keep_alive), (Framing::Chunked, true));
        let h = head("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", false);
        assert_eq!((h.framing, h.keep_alive), (Framing::UntilClose, false));
        let h = head("HTTP/1.1 200 OK\r\n\r\n", false);
        assert_eq!((h.framing, h.keep_alive), (Framing::UntilClose, false));
        let h = head("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n", false);
        assert_eq!((h.framing, h.keep_alive), (Framing::Length(1), false));
        let h = head("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", false);
        assert!(!h.keep_alive);
        let h = head("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\n", false);
        assert!(h.keep_alive);
        let h = head("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", false);
        assert_eq!((h.framing, h.keep_alive), (Framing::Chunked, false));
        for (status, is_head) in [(204, false), (304, false), (100, false), (200, true)] {
            let h = head(&format!("HTTP/1.1 {status} X\r\nContent-Length: 7\r\n\r\n"), is_head);
            assert_eq!((h.framing, h.keep_alive), (Framing::Empty, true), "{status} {is_head}");
        }
        // The answer to a HEAD keeps the length of the body it leaves out.
        let h = head("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n", true);
        assert_eq!(h.headers.len(), 2);
        assert_eq!(h.headers[CONTENT_TYPE], "application/json");
        assert_eq!(h.headers[CONTENT_LENGTH], "7");
        let h = head("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n1234567", false);
        assert!(h.headers.is_empty(), "the length of a body goes with the body");
    }

    #[test]
    fn incomplete_and_invalid_heads() {
        assert!(parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n", false).unwrap().is_none());
        assert!(parse_head(b"", false).unwrap().is_none());
        for bad in [
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n",
            "HTTP/1.1 101 Switching Protocols\r\n\r\n",
            "SPP/1.0 200 OK\r\n\r\n",
        ] {
            assert!(parse_head(bad.as_bytes(), false).is_err(), "{bad:?}");
        }
        let many: String = (0..=MAX_HEADERS).map(|i| format!("x{i}: y\r\n")).collect();
        assert!(parse_head(format!("HTTP/1.1 200 OK\r\n{many}\r\n").as_bytes(), false).is_err());
    }

    #[test]
    fn chunked_bodies_arrive_in_pieces() {
        let body = b"5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\ntrailer: x\r\n\r\nNEXT";
        let end = body.len() - b"NEXT".len();
        for split in 0..=body.len() {
            let mut d = Dechunker::default();
            let done = d.advance(&body[..split], 1024).unwrap();
            assert_eq!(done, split >= end, "split at {split}");
            assert!(done || d.advance(body, 1024).unwrap(), "split at {split}");
            assert_eq!((d.body.as_slice(), d.consumed), (&b"hello, world"[..], end));
        }
    }

    #[test]
    fn invalid_chunked_bodies() {
        for (bad, limit) in [
            (&b"x\r\nhello\r\n0\r\n\r\n"[..], 1024),
            (b"5\r\nhelloXX0\r\n\r\n", 1024),
            (b"+5\r\nhello\r\n0\r\n\r\n", 1024),
            (b"ffffffffffffffff\r\n", usize::MAX),
            (b"5\r\nhello\r\n0\r\n\r\n", 4),
        ] {
            assert!(Dechunker::default().advance(bad, limit).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
