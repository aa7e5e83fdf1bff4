//! Server-Sent Events on the wire: a byte stream that may break anywhere split into
//! events (the WHATWG rules: `id`, `event`, multi-line `data`, `retry`, comments, LF,
//! CRLF or CR line ends), and one event written back. Pure; the agent, the gateway and
//! the client do the I/O.

use std::fmt::Write;
use std::time::Duration;

/// The longest event kept while waiting for its end.
const MAX_EVENT: usize = 1 << 20;

/// Why a stream cannot be read on.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum Error {
    #[error("event longer than {MAX_EVENT} bytes")]
    EventTooLong,
}

/// One event of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    /// The event's own `id:` line, if it had one: a `reset` or `dropped` has none.
    pub(crate) id: Option<String>,
    /// The last `id:` the stream carried up to this event (WHATWG `lastEventId`): what
    /// a reconnect sends as `Last-Event-ID`.
    pub(crate) last_id: Option<String>,
    /// The `event:` line, `message` without one.
    pub(crate) kind: String,
    /// The `data:` lines joined with `\n`.
    pub(crate) data: String,
}

/// Bytes in, whole events out. Comments, `retry` and blocks without data give no event.
#[derive(Debug, Default)]
pub(crate) struct Parser {
    /// The line cut by the end of the last chunk.
    line: Vec<u8>,
    /// The last chunk ended with CR: an LF opening the next one ends no second line.
    after_cr: bool,
    /// Bytes of the event in progress, for the limit.
    pending: usize,
    id: Option<String>,
    last_id: Option<String>,
    kind: Option<String>,
    data: Option<String>,
    /// The last `retry:` the server asked for.
    pub(crate) retry: Option<Duration>,
}

impl Parser {
    /// The events `chunk` completes. No completed event is lost to the limit: an event
    /// grown too long is refused by the push that makes it so when that push completed
    /// none, else by the next.
    pub(crate) fn push(&mut self, mut chunk: &[u8]) -> Result<Vec<Event>, Error> {
        self.check()?;
        if self.after_cr && !chunk.is_empty() {
            self.after_cr = false;
            chunk = chunk.strip_prefix(b"\n").unwrap_or(chunk);
        }
        let mut events = Vec::new();
        while let Some(end) = chunk.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.line.extend_from_slice(&chunk[..end]);
            self.pending += end + 1;
            let line = std::mem::take(&mut self.line);
            events.extend(self.on_line(&String::from_utf8_lossy(&line)));
            let rest = &chunk[end + 1..];
            chunk = match (chunk[end], rest.first()) {
                (b'\r', Some(b'\n')) => &rest[1..],
                (b'\r', None) => {
                    self.after_cr = true;
                    rest
                }
                _ => rest,
            };
        }
        self.line.extend_from_slice(chunk);
        self.pending += chunk.len();
        if events.is_empty() {
            self.check()?;
        }
        Ok(events)
    }

    /// Forgets what a cut stream left half-sent, so it cannot glue onto the first line of
    /// the next connection; `last_id` is the last one fully received.
    pub(crate) fn restart(&mut self, last_id: Option<String>) {
        *self = Parser { last_id, retry: self.retry, ..Parser::default() };
    }

    fn check(&self) -> Result<(), Error> {
        if self.pending > MAX_EVENT {
            return Err(Error::EventTooLong);
        }
        Ok(())
    }

    /// One line without its end; a blank one ends the event.
    fn on_line(&mut self, line: &str) -> Option<Event> {
        if line.is_empty() {
            self.pending = 0;
            let (id, kind) = (self.id.take(), self.kind.take());
            return Some(Event {
                id,
                last_id: self.last_id.clone(),
                kind: kind.unwrap_or_else(|| "message".into()),
                data: self.data.take()?,
            });
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "id" => {
                self.id = Some(value.to_owned());
                self.last_id = Some(value.to_owned());
            }
            "event" => self.kind = Some(value.to_owned()),
            "data" => match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            },
            "retry" => self.retry = value.parse().ok().map(Duration::from_millis),
            _ => {}
        }
        None
    }
}

/// One event as the stream carries it; no `id` line when `id` is empty.
pub(crate) fn frame(id: &str, kind: &str, data: &str) -> String {
    let mut out = String::with_capacity(id.len() + kind.len() + data.len() + 24);
    if !id.is_empty() {
        let _ = writeln!(out, "id: {id}");
    }
    let _ = write!(out, "event: {kind}\ndata: {data}\n\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: Option<&str>, last_id: Option<&str>, kind: &str, data: &str) -> Event {
        Event {
            id: id.map(Into::into),
            last_id: last_id.map(Into::into),
            kind: kind.into(),
            data: data.into(),
        }
    }

    /// Every event of `stream`, pushed in two pieces cut at `cut` (and an empty one).
    fn cut_at(stream: &[u8], cut: usize) -> (Vec<Event>, Parser) {
        let mut parser = Parser::default();
        let mut events = parser.push(&stream[..cut]).unwrap();
        events.extend(parser.push(b"").unwrap());
        events.extend(parser.push(&stream[cut..]).unwrap());
        (events, parser)
    }

    #[test]
    fn chunks_cut_anywhere_give_the_same_events() {
        let stream = "retry: 1000\n\n: keep-alive\n\nid: 1\nevent: process-attached\ndata: {\"time\":\"T\",\"type\":\"nfv\",\"client_id\":1}\n\n\
                      id: 2\r\nevent: reset\r\ndata: {\"reason\":\"gap\"}\r\n\r\ndata: a\ndata: b\n\n\
                      id: 3\revent: command\rdata: é\r\rid: 4";
        let expected = [
            event(Some("1"), Some("1"), "process-attached", r#"{"time":"T","type":"nfv","client_id":1}"#),
            event(Some("2"), Some("2"), "reset", r#"{"reason":"gap"}"#),
            event(None, Some("2"), "message", "a\nb"),
            event(Some("3"), Some("3"), "command", "é"),
        ];
        for cut in 0..=stream.len() {
            let (events, parser) = cut_at(stream.as_bytes(), cut);
            assert_eq!(events, expected, "cut at {cut}");
            assert_eq!(parser.retry, Some(Duration::from_millis(1000)));
        }
    }

    #[test]
    fn an_event_without_id_carries_the_last_one_forward() {
        let stream =
            b"id: 7\nevent: command\ndata: {}\n\nevent: dropped\ndata: {}\n\nid:\ndata: x\n\ndata: y\n\n";
        let (events, _) = cut_at(stream, 0);
        assert_eq!(
            events,
            [
                event(Some("7"), Some("7"), "command", "{}"),
                event(None, Some("7"), "dropped", "{}"),
                event(Some(""), Some(""), "message", "x"),
                event(None, Some(""), "message", "y"),
            ]
        );
    }

    #[test]
    fn comments_retry_and_blocks_without_data_give_no_event() {
        let (events, parser) = cut_at(b": keep-alive\n\nretry: 250\n\nid: 5\nevent: x\n\ndata\n\n", 0);
        assert_eq!(events, [event(None, Some("5"), "message", "")]);
        assert_eq!(parser.retry, Some(Duration::from_millis(250)));
        let (events, parser) = cut_at(b"retry: soon\n\n", 0);
        assert_eq!((events, parser.retry), (vec![], None));
    }

    #[test]
    fn a_restart_drops_the_cut_event_and_keeps_id_and_retry() {
        let mut parser = Parser::default();
        assert_eq!(parser.push(b"retry: 300\n\nid: 4\nevent: half\ndata: cut").unwrap(), []);
        parser.restart(Some("3".into()));
        assert_eq!(parser.push(b"data: new\n\n").unwrap(), [event(None, Some("3"), "message", "new")]);
        assert_eq!(parser.retry, Some(Duration::from_millis(300)));
    }

    #[test]
    fn an_endless_event_is_refused() {
        let mut parser = Parser::default();
        assert_eq!(parser.push(&vec![b'x'; MAX_EVENT + 1]), Err(Error::EventTooLong));
        let mut parser = Parser::default();
        let line = format!("data: {}\n", "x".repeat(1000));
        let mut result = Ok(vec![]);
        for _ in 0..=MAX_EVENT / line.len() {
            result = parser.push(line.as_bytes());
        }
        assert_eq!(result, Err(Error::EventTooLong));
        assert_eq!(Error::EventTooLong.to_string(), "event longer than 1048576 bytes");
        let mut parser = Parser::default();
        let event = format!("data: {}\n\n", "x".repeat(MAX_EVENT / 2));
        for _ in 0..4 {
            assert_eq!(parser.push(event.as_bytes()).map(|events| events.len()), Ok(1));
        }
        let mut endless = b"data: 1\n\n".to_vec();
        endless.resize(MAX_EVENT + 100, b'x');
        assert_eq!(parser.push(&endless).map(|events| events.len()), Ok(1), "the event before is kept");
        assert_eq!(parser.push(b"\n\n"), Err(Error::EventTooLong));
    }

    #[test]
    fn frames() {
        assert_eq!(frame("a=1,b=2", "command", "{}"), "id: a=1,b=2\nevent: command\ndata: {}\n\n");
        assert_eq!(frame("", "host-down", "{}"), "event: host-down\ndata: {}\n\n");
    }
}
