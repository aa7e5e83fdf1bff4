//! What every simulated process model offers the connection code: one pure `handle`
//! per command, returning a [`Reply`] that says what to write and what happens next.
//!
//! Models know nothing about sockets, frames or faults; `conn` applies those.

use super::launch::Launch;
use std::time::Instant;

/// The outcome of one command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Reply {
    /// Reply text (JSON, or for primary/nfv any text) written as the process writes it.
    Text(String),
    /// primary/nfv: the frame is the tokenized command itself (`docs/wire-protocol.md` §3.2 "echo replies").
    Echo,
    /// Write the inner reply if any, then the process terminates (no reconnect).
    /// `None` is a crash: the socket closes without a reply.
    Exit(Option<Box<Reply>>),
    /// The real process exits or crashes here (`docs/wire-protocol.md` Q3–Q5); the simulator answers `safe`
    /// unless the `real_crash` fault is on, because a test harness rarely wants to lose a
    /// process to a typo.
    Fatal { real: Box<Reply>, safe: Box<Reply> },
}

impl Reply {
    /// The real process segfaults; `safe` is answered instead by default.
    pub(crate) fn crash(safe: Reply) -> Reply {
        Reply::Fatal { real: Box::new(Reply::Exit(None)), safe: Box::new(safe) }
    }

    /// The real process echoes the command and exits (primary/nfv UID parse errors).
    pub(crate) fn echo_exit() -> Reply {
        Reply::Fatal { real: Box::new(Reply::Exit(Some(Box::new(Reply::Echo)))), safe: Box::new(Reply::Echo) }
    }

    /// Replaces `Fatal` by the branch that applies.
    pub(crate) fn resolve(self, real_crash: bool) -> Reply {
        match self {
            Reply::Fatal { real, safe } => (if real_crash { *real } else { *safe }).resolve(real_crash),
            other => other,
        }
    }
}

/// A simulated process's state machine.
pub(crate) trait Model: Send {
    /// Answers one command read from the controller at time `now`.
    fn handle(&mut self, cmd: &str, now: Instant) -> Reply;

    /// Makes `status` replies carry about this many extra bytes of extra entries (0: none).
    fn set_oversize(&mut self, bytes: usize);

    /// Secondaries to start after this reply (only the primary's `launch` makes any).
    fn take_launches(&mut self) -> Vec<Launch> {
        Vec::new()
    }
}

/// primary/nfv keep token pointers in an array of 48 entries without a bound check.
pub(crate) const MAX_FRAME_TOKENS: usize = 47;

/// Splits a command like the processes' `strtok(cmd, " ")`: runs of spaces separate tokens.
pub(crate) fn tokens(cmd: &str) -> Vec<&str> {
    cmd.split(' ').filter(|t| !t.is_empty()).collect()
}

/// The buffer of a primary/nfv after tokenizing `cmd` in place: each space that ends a
/// token becomes NUL, other spaces stay (what an echo frame carries before its padding).
pub(crate) fn tokenized(cmd: &[u8]) -> Vec<u8> {
    let mut out = cmd.to_vec();
    for i in 1..out.len() {
        if out[i] == b' ' && cmd[i - 1] != b' ' {
            out[i] = 0;
        }
    }
    out
}

/// The part of `patch` that primary and spp_nfv share: `patch reset…` clears every
/// patch, fewer than three tokens echo, an empty UID index crashes the real process,
/// unknown ports fail. On success the source's old patch is gone and the pair returned.
pub(crate) fn patch_ports<P: Copy + PartialEq>(
    toks: &[&str],
    patches: &mut Vec<(P, P)>,
    failed: Reply,
    lookup: impl Fn(&str) -> Result<Option<P>, super::uid::UidError>,
) -> Result<(P, P), Reply> {
    use super::uid::UidError;
    if toks.get(1).is_some_and(|t| t.starts_with("reset")) {
        patches.clear();
        return Err(Reply::Echo);
    }
    if toks.len() < 3 {
        return Err(Reply::Echo);
    }
    let (src, dst) = match (lookup(toks[1]), lookup(toks[2])) {
        (Err(UidError::Empty), _) | (_, Err(UidError::Empty)) => return Err(Reply::crash(failed)),
        (Ok(Some(s)), Ok(Some(d))) => (s, d),
        _ => return Err(failed),
    };
    patches.retain(|(s, _)| *s != src);
    patches.push((src, dst));
    Ok((src, dst))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizing_turns_token_ending_spaces_into_nul() {
        assert_eq!(tokenized(b"patch reset"), b"patch\0reset");
        assert_eq!(tokenized(b" a  b"), b" a\0 b");
        assert_eq!(tokens(" a  b "), vec!["a", "b"]);
    }

    #[test]
    fn fatal_resolves_to_the_requested_branch() {
        assert_eq!(Reply::echo_exit().resolve(false), Reply::Echo);
        assert_eq!(Reply::echo_exit().resolve(true), Reply::Exit(Some(Box::new(Reply::Echo))));
        assert_eq!(Reply::crash(Reply::Echo).resolve(true), Reply::Exit(None));
    }
}
