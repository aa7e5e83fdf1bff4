//! A Server-Sent Events client over a bare TCP socket: the exact blocks of the stream
//! (chunked transfer decoded), for `GET /v1/events` tests.

use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PATIENCE: Duration = Duration::from_secs(10);

pub struct SseClient {
    pub stream: TcpStream,
    /// Raw bytes not yet decoded.
    raw: Vec<u8>,
    /// Decoded body bytes not yet returned.
    body: Vec<u8>,
    /// The last chunk (size 0) was seen.
    ended: bool,
    /// Status line and headers.
    pub head: String,
}

/// One event of the stream.
#[derive(Debug, Clone)]
pub struct SseEvent {
    pub id: Option<u64>,
    pub kind: String,
    pub data: Value,
}

impl SseClient {
    /// Opens `GET path` with `extra` header lines (each ending in `\r\n`) and reads the head.
    pub async fn open(addr: SocketAddr, path: &str, extra: &str) -> Self {
        let stream = TcpStream::connect(addr).await.expect("connect");
        Self::open_on(stream, path, extra).await
    }

    pub async fn open_on(mut stream: TcpStream, path: &str, extra: &str) -> Self {
        let request = format!("GET {path} HTTP/1.1\r\nHost: agent\r\n{extra}\r\n");
        stream.write_all(request.as_bytes()).await.expect("send");
        let mut client =
            SseClient { stream, raw: Vec::new(), body: Vec::new(), ended: false, head: String::new() };
        while !client.raw.windows(4).any(|w| w == b"\r\n\r\n") {
            assert!(client.fill().await, "closed before the response head");
        }
        let end = client.raw.windows(4).position(|w| w == b"\r\n\r\n").expect("head end") + 4;
        client.head = String::from_utf8_lossy(&client.raw[..end]).into_owned();
        client.raw.drain(..end);
        client
    }

    /// Reads more raw bytes; false at EOF (or a reset connection).
    async fn fill(&mut self) -> bool {
        let mut buf = [0u8; 16384];
        match tokio::time::timeout(PATIENCE, self.stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => false,
            Ok(Ok(n)) => {
                self.raw.extend_from_slice(&buf[..n]);
                true
            }
            Err(_) => panic!("nothing from the stream within {PATIENCE:?}; body so far {:?}", self.text()),
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Moves complete chunks from `raw` to `body`.
    fn decode(&mut self) {
        loop {
            let Some(line_end) = self.raw.windows(2).position(|w| w == b"\r\n") else { return };
            let size_text = String::from_utf8_lossy(&self.raw[..line_end]).into_owned();
            let size = usize::from_str_radix(size_text.trim(), 16).expect("chunk size");
            if size == 0 {
                self.ended = true;
                return;
            }
            let start = line_end + 2;
            if self.raw.len() < start + size + 2 {
                return;
            }
            self.body.extend_from_slice(&self.raw[start..start + size]);
            self.raw.drain(..start + size + 2);
        }
    }

    /// The next block (the text before a blank line), comments included; `None` when the
    /// stream ended.
    pub async fn next_block(&mut self) -> Option<String> {
        loop {
            self.decode();
            if let Some(end) = self.body.windows(2).position(|w| w == b"\n\n") {
                let block = String::from_utf8_lossy(&self.body[..end]).into_owned();
                self.body.drain(..end + 2);
                return Some(block);
            }
            if self.ended || !self.fill().await {
                return None;
            }
        }
    }

    /// The next event, comments and `retry` skipped.
    pub async fn next_event(&mut self) -> Option<SseEvent> {
        loop {
            let block = self.next_block().await?;
            if let Some(event) = parse(&block) {
                return Some(event);
            }
        }
    }

    /// The next event, failing the test when the stream ends first.
    pub async fn event(&mut self) -> SseEvent {
        self.next_event().await.expect("stream ended")
    }

    /// Events until one of type `kind` (that one included).
    pub async fn until(&mut self, kind: &str) -> Vec<SseEvent> {
        let mut seen = Vec::new();
        loop {
            let event = self.event().await;
            let done = event.kind == kind;
            seen.push(event);
            if done {
                return seen;
            }
        }
    }
}

/// An event block; `None` for comments and `retry`.
pub fn parse(block: &str) -> Option<SseEvent> {
    let mut event = SseEvent { id: None, kind: String::new(), data: Value::Null };
    for line in block.lines() {
        if let Some(id) = line.strip_prefix("id: ") {
            event.id = Some(id.parse().expect("numeric id"));
        } else if let Some(kind) = line.strip_prefix("event: ") {
            event.kind = kind.to_owned();
        } else if let Some(data) = line.strip_prefix("data: ") {
            event.data = serde_json::from_str(data).expect("data is one JSON line");
        }
    }
    (!event.kind.is_empty()).then_some(event)
}
