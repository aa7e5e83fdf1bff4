//! Reply framing for the SPP wire protocol (`docs/wire-protocol.md` §3.3), pure: bytes in,
//! `Progress` out. The actor owns the socket and the clock; this owns the state.
//!
//! Primary and nfv send fixed-size NUL-padded frames, vf/mirror/pcap send bare JSON.
//! A JSON reply is complete when its brackets balance (a string-aware scanner), or, for
//! framed processes, when the frame is full. NUL padding the caller has not waited for
//! is remembered as `debt` and consumed before the next reply.

/// A complete reply, before JSON parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawReply {
    /// The non-NUL bytes of one complete JSON value (not yet checked as UTF-8).
    Json(Vec<u8>),
    /// A reply that did not start like JSON: trailing NULs removed, interior NULs
    /// (token separators of an echo) rendered as spaces.
    Text(String),
}

/// What the decoder needs next.
#[derive(Debug, PartialEq, Eq)]
pub enum Progress {
    /// Read more.
    Incomplete,
    /// A text reply that may be over: followed by at least one NUL, or from a peer whose
    /// frame size is unknown. Read more, but if the line stays quiet for the grace period
    /// call `finish_text`.
    TextPadding,
    Complete(RawReply),
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("unexpected byte 0x{0:02x} while no command was outstanding")]
    Unsolicited(u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Between replies: only padding of the previous frame may arrive.
    Idle,
    /// A command is outstanding; skipping padding and leading NULs.
    Leading,
    Json,
    Text,
}

#[derive(Debug)]
pub struct ReplyDecoder {
    /// `Some(F)` while the peer's frame size is trusted; `None` = skip leading NULs.
    frame: Option<usize>,
    phase: Phase,
    /// NULs of the last frame not yet received.
    debt: usize,
    /// Bytes of the current frame seen so far (leading NULs included).
    in_frame: usize,
    body: Vec<u8>,
    scan: Scanner,
    /// Non-NUL bytes found inside padding: leftover command text (logged by the caller).
    leftover: usize,
}

impl ReplyDecoder {
    /// `frame_size` is `Some` for primary/nfv, `None` for processes without frames.
    pub fn new(frame_size: Option<usize>) -> Self {
        ReplyDecoder {
            frame: frame_size,
            phase: Phase::Idle,
            debt: 0,
            in_frame: 0,
            body: Vec::new(),
            scan: Scanner::default(),
            leftover: 0,
        }
    }

    /// A command has just been sent: the next bytes (after any debt) are its reply.
    pub fn begin(&mut self) {
        self.phase = Phase::Leading;
        self.in_frame = 0;
        self.body.clear();
        self.scan = Scanner::default();
    }

    pub fn debt(&self) -> usize {
        self.debt
    }

    pub(crate) fn frame_size(&self) -> Option<usize> {
        self.frame
    }

    /// Takes and resets the count of non-NUL bytes found inside padding.
    pub(crate) fn take_leftover(&mut self) -> usize {
        std::mem::take(&mut self.leftover)
    }

    /// The peer's frames are not the size we thought: from now on skip leading NULs.
    pub(crate) fn forget_frame_size(&mut self) {
        self.frame = None;
        self.debt = 0;
    }

    /// Makes a framed decoder out of the one that read the handshake of a peer that
    /// turned out to use frames: the rest of its first frame is padding to come.
    pub fn adopt_frames(&mut self, frame_size: usize, frame_bytes_seen: usize) {
        self.frame = Some(frame_size);
        self.debt = frame_size.saturating_sub(frame_bytes_seen);
    }

    /// Bytes of the current frame consumed so far.
    pub fn frame_bytes_seen(&self) -> usize {
        self.in_frame
    }

    /// Feeds bytes; returns how many were consumed and the progress. Bytes after a
    /// complete reply are not consumed: they belong to the time after it.
    pub fn feed(&mut self, input: &[u8]) -> Result<(usize, Progress), FrameError> {
        let mut used = 0;
        while used < input.len() {
            let b = input[used];
            used += 1;
            if self.debt > 0 {
                self.debt -= 1;
                self.leftover += usize::from(b != 0);
                continue;
            }
            match self.phase {
                Phase::Idle if b == 0 => {}
                Phase::Idle => return Err(FrameError::Unsolicited(b)),
                Phase::Leading => self.leading(b),
                Phase::Json => {
                    if let Some(done) = self.json(b) {
                        return Ok((used, Progress::Complete(done)));
                    }
                }
                Phase::Text => {
                    if let Some(done) = self.text(b) {
                        return Ok((used, Progress::Complete(done)));
                    }
                }
            }
        }
        Ok((used, self.pending_progress()))
    }

    /// Accepts a text reply that has stayed quiet for the grace period after its NULs.
    /// The frame size is evidently not what we assumed, so it is forgotten.
    pub(crate) fn finish_text(&mut self) -> RawReply {
        self.forget_frame_size();
        self.complete_text()
    }

    fn pending_progress(&self) -> Progress {
        let padding_started = self.frame.is_none() || self.body.last() == Some(&0);
        if self.phase == Phase::Text && padding_started {
            Progress::TextPadding
        } else {
            Progress::Incomplete
        }
    }

    fn leading(&mut self, b: u8) {
        self.in_frame += 1;
        match b {
            0 => {}
            b'{' | b'[' => {
                self.phase = Phase::Json;
                self.body.push(b);
                self.scan.feed(b);
            }
            _ => {
                self.phase = Phase::Text;
                self.body.push(b);
            }
        }
    }

    fn json(&mut self, b: u8) -> Option<RawReply> {
        self.in_frame += 1;
        if b != 0 {
            self.body.push(b);
            self.scan.feed(b);
        }
        let frame_full = self.frame.is_some_and(|f| self.in_frame >= f);
        if !self.scan.is_complete() && !frame_full {
            return None;
        }
        self.phase = Phase::Idle;
        match self.frame {
            Some(f) if self.in_frame <= f => self.debt = f - self.in_frame,
            Some(_) => self.forget_frame_size(),
            None => {}
        }
        Some(RawReply::Json(std::mem::take(&mut self.body)))
    }

    fn text(&mut self, b: u8) -> Option<RawReply> {
        self.in_frame += 1;
        self.body.push(b);
        if self.frame.is_some_and(|f| self.in_frame >= f) {
            return Some(self.complete_text());
        }
        None
    }

    fn complete_text(&mut self) -> RawReply {
        self.phase = Phase::Idle;
        let body = std::mem::take(&mut self.body);
        let end = body.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        let spaced: Vec<u8> = body[..end].iter().map(|&b| if b == 0 { b' ' } else { b }).collect();
        RawReply::Text(String::from_utf8_lossy(&spaced).into_owned())
    }
}

/// Tells when the bytes of a JSON value seen so far close its outermost bracket.
#[derive(Debug, Default)]
struct Scanner {
    depth: usize,
    in_string: bool,
    escaped: bool,
    complete: bool,
}

impl Scanner {
    fn feed(&mut self, b: u8) {
        if self.in_string {
            match (self.escaped, b) {
                (true, _) => self.escaped = false,
                (false, b'\\') => self.escaped = true,
                (false, b'"') => self.in_string = false,
                _ => {}
            }
            return;
        }
        match b {
            b'"' => self.in_string = true,
            b'{' | b'[' => self.depth += 1,
            b'}' | b']' => {
                self.depth = self.depth.saturating_sub(1);
                self.complete = self.depth == 0;
            }
            _ => {}
        }
    }

    fn is_complete(&self) -> bool {
        self.complete
    }
}

#[cfg(test)]
#[path = "codec_tests.rs"]
mod tests;
