//! The client's exit codes and the one failure type that carries them. Scripts tell
//! "the server refused" (3) from "the server or an agent is in trouble" (4) from "could
//! not reach it" (5); clap's usage errors keep 2.

use std::process::ExitCode;

/// Exit codes, also listed in docs/client.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Code {
    /// A local problem: config file, plan file, token file.
    Local = 1,
    /// Bad command line (clap's own code).
    Usage = 2,
    /// The server refused the request: 4xx.
    Api = 3,
    /// The server or an agent behind it failed: 5xx.
    Server = 4,
    /// No answer: connection refused, TLS failure, timeout.
    Connection = 5,
    /// A cluster answer (fan-out, apply) in which some hosts failed.
    Partial = 6,
}

/// A one-line message for stderr and the exit code it ends with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) code: Code,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(code: Code, message: impl Into<String>) -> Self {
        Failure { code, message: message.into() }
    }

    pub(crate) fn local(message: impl Into<String>) -> Self {
        Failure::new(Code::Local, message)
    }

    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Failure::new(Code::Usage, message)
    }

    /// The code of an HTTP status that is not a success.
    pub(crate) fn for_status(status: u16, message: impl Into<String>) -> Self {
        let code = if status < 500 { Code::Api } else { Code::Server };
        Failure::new(code, message)
    }

    pub(crate) fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code as u8)
    }
}
