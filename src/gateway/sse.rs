//! Server-Sent Events as the agents write them (`id`, `event`, one `data` line, a blank
//! line): split out of a byte stream that may break anywhere, and written back. Pure; the
//! I/O is `events`' part.

use std::fmt::Write;

/// The longest event kept while waiting for its end.
const MAX_EVENT: usize = 1 << 20;

#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Event {
    pub(crate) id: Option<String>,
    pub(crate) kind: String,
    pub(crate) data: String,
}

/// Bytes in, whole events out.
#[derive(Default)]
pub(crate) struct Parser {
    buf: Vec<u8>,
}

impl Parser {
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() > MAX_EVENT && !self.buf.windows(2).any(|w| w == b"\n\n") {
            return Err(format!("event longer than {MAX_EVENT} bytes"));
        }
        Ok(())
    }

    /// Whether a complete event waits.
    pub(crate) fn has_event(&self) -> bool {
        let text = String::from_utf8_lossy(&self.buf);
        let Some(end) = text.rfind("\n\n") else { return false };
        text[..end].split("\n\n").any(|block| parse_block(block).is_some())
    }

    /// The next complete event; comments, `retry` and blocks without data are skipped.
    pub(crate) fn next_event(&mut self) -> Option<Event> {
        loop {
            let end = self.buf.windows(2).position(|w| w == b"\n\n")?;
            let block: Vec<u8> = self.buf.drain(..end + 2).collect();
            if let Some(event) = parse_block(&String::from_utf8_lossy(&block[..end])) {
                return Some(event);
            }
        }
    }
}

fn parse_block(block: &str) -> Option<Event> {
    let mut event = Event::default();
    let mut has_data = false;
    for line in block.lines() {
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "id" => event.id = Some(value.to_owned()),
            "event" => event.kind = value.to_owned(),
            "data" => {
                if has_data {
                    event.data.push('\n');
                }
                event.data.push_str(value);
                has_data = true;
            }
            _ => {}
        }
    }
    if event.kind.is_empty() {
        event.kind.push_str("message");
    }
    has_data.then_some(event)
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

    #[test]
    fn events_split_anywhere() {
        let stream = "retry: 1000\n\nid: 1\nevent: command\ndata: {\"a\": 1}\n\n: keep-alive\n\nid: 2\nevent: reset\ndata: {}\n\nid: 3";
        for split in 0..=stream.len() {
            let mut parser = Parser::default();
            let mut seen = Vec::new();
            for part in [&stream[..split], &stream[split..]] {
                parser.push(part.as_bytes()).unwrap();
                seen.extend(std::iter::from_fn(|| parser.next_event()));
            }
            let ids: Vec<_> =
                seen.iter().map(|e| (e.id.as_deref(), e.kind.as_str(), e.data.as_str())).collect();
            assert_eq!(
                ids,
                [(Some("1"), "command", "{\"a\": 1}"), (Some("2"), "reset", "{}")],
                "split at {split}"
            );
        }
    }

    #[test]
    fn a_waiting_event_is_seen_without_taking_it() {
        let mut parser = Parser::default();
        for (bytes, waiting) in
            [("retry: 1000\n\n: keep-alive\n\n", false), ("id: 1\ndata: {}", false), ("\n\n", true)]
        {
            parser.push(bytes.as_bytes()).unwrap();
            assert_eq!(parser.has_event(), waiting, "{bytes:?}");
        }
        assert!(parser.next_event().is_some() && !parser.has_event());
    }

    #[test]
    fn frames() {
        assert_eq!(frame("a=1,b=2", "command", "{}"), "id: a=1,b=2\nevent: command\ndata: {}\n\n");
        assert_eq!(frame("", "host-down", "{}"), "event: host-down\ndata: {}\n\n");
    }

    #[test]
    fn an_endless_event_is_refused() {
        let mut parser = Parser::default();
        assert!(parser.push(&vec![b'x'; MAX_EVENT + 1]).is_err());
    }
}
