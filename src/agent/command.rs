//! The one thing a process handle accepts: a command checked against the limits of the
//! process it is for (`docs/wire-protocol.md` §3.1). The builders in `api/` make
//! them from validated request values; nothing else can, so bad input never reaches a
//! process and every metric label comes from a known verb.

use crate::proc_type::ProcType;
use std::fmt;

/// The first word of every command the agent sends: the metrics and events label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verb {
    Status,
    Clear,
    Forward,
    Stop,
    Start,
    Add,
    Del,
    Patch,
    Launch,
    Flow,
    Component,
    Port,
    ClassifierTable,
    Exit,
}

impl Verb {
    #[cfg(test)]
    const ALL: [Verb; 14] = [
        Verb::Status,
        Verb::Clear,
        Verb::Forward,
        Verb::Stop,
        Verb::Start,
        Verb::Add,
        Verb::Del,
        Verb::Patch,
        Verb::Launch,
        Verb::Flow,
        Verb::Component,
        Verb::Port,
        Verb::ClassifierTable,
        Verb::Exit,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Verb::Status => "status",
            Verb::Clear => "clear",
            Verb::Forward => "forward",
            Verb::Stop => "stop",
            Verb::Start => "start",
            Verb::Add => "add",
            Verb::Del => "del",
            Verb::Patch => "patch",
            Verb::Launch => "launch",
            Verb::Flow => "flow",
            Verb::Component => "component",
            Verb::Port => "port",
            Verb::ClassifierTable => "classifier_table",
            Verb::Exit => "exit",
        }
    }
}

/// Why a command text cannot be sent to a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Refused {
    #[error("longer than {0} bytes")]
    TooLong(usize),
    #[error("more than {0} tokens")]
    TooManyTokens(usize),
    #[error("third token of 16 bytes or more")]
    LongThirdToken,
    #[error("not printable ASCII")]
    NotPrintable,
}

/// A command ready for the wire: its exact text and its verb.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Command {
    text: String,
    verb: Verb,
}

impl Command {
    /// `verb` alone: one short token fits every process.
    pub(crate) fn bare(verb: Verb) -> Self {
        Command { text: verb.as_str().to_owned(), verb }
    }

    /// `{verb} {args}` for a process of type `target`, refused if it could not take it.
    pub(crate) fn new(target: ProcType, verb: Verb, args: &str) -> Result<Self, Refused> {
        let text = format!("{} {args}", verb.as_str());
        check(target, &text)?;
        Ok(Command { text, verb })
    }

    pub(crate) fn status() -> Self {
        Command::bare(Verb::Status)
    }

    pub(crate) fn exit() -> Self {
        Command::bare(Verb::Exit)
    }

    pub(crate) fn patch_reset() -> Self {
        Command { text: "patch reset".to_owned(), verb: Verb::Patch }
    }

    /// The bytes written to the socket, in one write.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    pub(crate) fn verb(&self) -> Verb {
        self.verb
    }

    /// `exit`: the process terminates, so the connection ends whatever it answers.
    pub(crate) fn is_exit(&self) -> bool {
        self.verb == Verb::Exit
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
impl From<Command> for String {
    fn from(command: Command) -> String {
        command.text
    }
}

/// Tests write commands as text; only known verbs are accepted.
#[cfg(test)]
impl From<&str> for Command {
    fn from(text: &str) -> Self {
        let first = text.split(' ').next().unwrap_or_default();
        let verb = Verb::ALL.into_iter().find(|v| v.as_str() == first);
        let verb = verb.unwrap_or_else(|| panic!("unknown verb in test command {text:?}"));
        Command { text: text.to_owned(), verb }
    }
}

/// Limits of one command: (bytes, tokens). Primary and nfv copy a command into a 32 KiB
/// buffer and a 48-entry token array; vf, mirror and pcap into 888 bytes and 8 tokens.
fn limits(target: ProcType) -> (usize, usize) {
    if target.uses_frames() { (32767, 47) } else { (887, 8) }
}

/// Whether `text` (a whole command or a prefix of one) fits a process of type `target`:
/// printable ASCII within its byte and token limits; the primary also copies the third
/// token into a 16-byte buffer.
pub(crate) fn check(target: ProcType, text: &str) -> Result<(), Refused> {
    let (bytes, tokens) = limits(target);
    if !text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(Refused::NotPrintable);
    }
    if text.len() > bytes {
        return Err(Refused::TooLong(bytes));
    }
    if token_count(text) > tokens {
        return Err(Refused::TooManyTokens(tokens));
    }
    if target == ProcType::Primary && text.split(' ').nth(2).is_some_and(|t| t.len() >= 16) {
        return Err(Refused::LongThirdToken);
    }
    Ok(())
}

/// Tokens as the processes count them: runs of spaces separate, never make, tokens.
pub(crate) fn token_count(text: &str) -> usize {
    text.split(' ').filter(|t| !t.is_empty()).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_process_type() {
        let long = "x".repeat(900);
        assert_eq!(Command::new(ProcType::Vf, Verb::Port, &long), Err(Refused::TooLong(887)));
        assert!(Command::new(ProcType::Nfv, Verb::Port, &long).is_ok());
        assert_eq!(Command::new(ProcType::Vf, Verb::Port, "a b c d e f g h"), Err(Refused::TooManyTokens(8)));
        assert_eq!(
            Command::new(ProcType::Primary, Verb::Patch, "phy:0 phy:65535nq65535"),
            Err(Refused::LongThirdToken)
        );
        assert!(Command::new(ProcType::Nfv, Verb::Patch, "phy:0 phy:65535nq65535").is_ok());
        assert_eq!(Command::new(ProcType::Nfv, Verb::Add, "ring:0\n"), Err(Refused::NotPrintable));
    }

    #[test]
    fn text_verb_and_exit() {
        let command = Command::new(ProcType::Vf, Verb::Component, "stop fwd0").unwrap();
        assert_eq!(
            (command.text(), command.verb().as_str(), command.is_exit()),
            ("component stop fwd0", "component", false)
        );
        assert!(Command::exit().is_exit());
        assert_eq!(Command::bare(Verb::ClassifierTable).text(), "classifier_table");
    }
}
