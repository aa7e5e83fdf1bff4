//! Fault injection settings of one simulated process, switchable at run time through
//! `SimHandle::set_faults`. `conn` applies them; models never see them (except
//! `oversize`, which a model turns into extra status entries).

use std::time::Duration;

/// Bytes sent instead of a reply with `garbage`: not JSON, and not valid UTF-8 either.
pub(crate) const GARBAGE: &[u8] = b"\x01garbage\xff";

/// Faults applied to every command except the `_get_client_id` handshake.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Wait this long before replying.
    pub delay: Duration,
    /// Read the command, never answer (the connection stays open).
    pub no_reply: bool,
    /// Answer [`GARBAGE`] instead of the reply.
    pub garbage: bool,
    /// Write the reply in N pieces with a pause between them (N ≥ length: 1-byte writes).
    pub split: Option<(usize, Duration)>,
    /// Pad `status` replies with about this many bytes of extra entries (valid JSON).
    pub oversize: usize,
    /// Close the connection after replying to N commands of a connection, then reconnect.
    pub disconnect_after: Option<u64>,
    /// Close the connection when a command arrives, without replying (then reconnect).
    pub disconnect_before_reply: bool,
    /// Reproduce the real process's crash or exit on the inputs that cause one (Q3–Q5).
    pub real_crash: bool,
}

/// Cuts `bytes` into `pieces` nearly equal, non-empty chunks (at most `bytes.len()`).
pub(crate) fn split_pieces(bytes: &[u8], pieces: usize) -> Vec<&[u8]> {
    let n = pieces.clamp(1, bytes.len().max(1));
    let base = bytes.len() / n;
    let extra = bytes.len() % n;
    let mut out = Vec::with_capacity(n);
    let mut at = 0;
    for i in 0..n {
        let len = base + usize::from(i < extra);
        out.push(&bytes[at..at + len]);
        at += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_covers_all_bytes_in_order() {
        let pieces = split_pieces(b"abcdefg", 3);
        assert_eq!(pieces, vec![&b"abc"[..], b"de", b"fg"]);
        assert_eq!(split_pieces(b"ab", 10).len(), 2);
        assert_eq!(split_pieces(b"ab", 0), vec![&b"ab"[..]]);
    }
}
