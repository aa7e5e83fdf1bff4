//! HTTP/1.1 over a bare TCP socket, for tests about framing and connection handling
//! that a real client would hide: bytes sent in pieces, bodies that never come, closes.

use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a test waits for an answer or a close before it fails.
const PATIENCE: Duration = Duration::from_secs(10);

pub struct RawClient {
    stream: TcpStream,
    /// Bytes read past the last response.
    buf: Vec<u8>,
}

/// One response as it came over the wire.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// What the peer did next.
#[derive(Debug, PartialEq)]
pub enum Next {
    Closed,
    Bytes(Vec<u8>),
    Nothing,
}

impl From<TcpStream> for RawClient {
    fn from(stream: TcpStream) -> Self {
        RawClient { stream, buf: Vec::new() }
    }
}

impl RawClient {
    pub async fn connect(addr: SocketAddr) -> Self {
        TcpStream::connect(addr).await.expect("connect").into()
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("send");
    }

    /// Reads one response with a `Content-Length` body; fails the test after `PATIENCE`.
    pub async fn response(&mut self) -> RawResponse {
        match tokio::time::timeout(PATIENCE, self.read_response()).await {
            Ok(Some(response)) => response,
            Ok(None) => panic!("connection closed before a whole response; got {:?}", self.text()),
            Err(_) => panic!("no whole response within {PATIENCE:?}; got {:?}", self.text()),
        }
    }

    /// Reads one response if the peer sends one before closing.
    pub async fn read_response(&mut self) -> Option<RawResponse> {
        loop {
            if let Some(response) = self.parse() {
                return Some(response);
            }
            if !self.fill().await {
                return None;
            }
        }
    }

    /// Waits up to `within` for the peer's next move.
    pub async fn next(&mut self, within: Duration) -> Next {
        if !self.buf.is_empty() {
            return Next::Bytes(std::mem::take(&mut self.buf));
        }
        match tokio::time::timeout(within, self.fill()).await {
            Ok(true) => Next::Bytes(std::mem::take(&mut self.buf)),
            Ok(false) => Next::Closed,
            Err(_) => Next::Nothing,
        }
    }

    /// Reads and drops whatever comes until the peer closes; false if it has not within
    /// `within`.
    pub async fn closed_within(&mut self, within: Duration) -> bool {
        let drain = async {
            while self.fill().await {
                self.buf.clear();
            }
        };
        tokio::time::timeout(within, drain).await.is_ok()
    }

    /// Reads more; false on EOF or reset.
    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 4096];
        match self.stream.read(&mut chunk).await {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.buf).into_owned()
    }

    fn parse(&mut self) -> Option<RawResponse> {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut head = httparse::Response::new(&mut headers);
        let httparse::Status::Complete(head_len) = head.parse(&self.buf).expect("a valid response head")
        else {
            return None;
        };
        let headers: Vec<(String, String)> = head
            .headers
            .iter()
            .map(|h| (h.name.to_owned(), String::from_utf8_lossy(h.value).into_owned()))
            .collect();
        let status = head.code.expect("status code");
        let length = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map_or(0, |(_, v)| v.parse::<usize>().expect("numeric Content-Length"));
        if self.buf.len() < head_len + length {
            return None;
        }
        let body = String::from_utf8_lossy(&self.buf[head_len..head_len + length]).into_owned();
        self.buf.drain(..head_len + length);
        Some(RawResponse { status, headers, body })
    }
}
