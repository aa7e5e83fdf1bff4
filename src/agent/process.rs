//! The handle through which everything else talks to one SPP process.
//!
//! A `ProcessHandle` is cheap to clone; it queues a command for the process's actor
//! (`actor.rs`, the only owner of the socket) and waits for the reply. The queue is
//! bounded: when it is full the caller gets `Busy` at once instead of waiting.

use crate::agent::codec::RawReply;
use crate::agent::command::Command;
use crate::proc_type::ProcName;
use axum::http::StatusCode;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// What a process answered to one command.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Reply {
    /// A complete JSON value (NULs removed, parsed with member order kept).
    Json(Value),
    /// A non-JSON reply of primary/nfv (an echo of the tokenized command); interior NUL
    /// token separators are rendered as spaces, trailing NULs removed.
    Text(String),
}

impl Reply {
    /// The codec's complete reply as a value; JSON must parse.
    pub(crate) fn from_raw(raw: RawReply) -> Result<Reply, Unusable> {
        match raw {
            RawReply::Text(text) => Ok(Reply::Text(text)),
            RawReply::Json(bytes) => {
                let text = std::str::from_utf8(&bytes).map_err(|_| Unusable::NotUtf8)?;
                serde_json::from_str(text).map(Reply::Json).map_err(Unusable::NotJson)
            }
        }
    }
}

/// Why a complete reply is no value; `ProcessError::BadReply` carries its text.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Unusable {
    #[error("invalid UTF-8")]
    NotUtf8,
    #[error("not JSON ({0})")]
    NotJson(serde_json::Error),
}

/// Why a command did not produce a usable reply. Display texts are the REST bodies.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum ProcessError {
    #[error("{proc} did not reply within {ms} ms")]
    Timeout { proc: ProcName, ms: u128 },
    #[error("connection to {proc} lost")]
    Disconnected { proc: ProcName },
    #[error("{proc} is busy")]
    Busy { proc: ProcName },
    #[error("invalid reply from {proc}: {reason}")]
    BadReply { proc: ProcName, reason: String },
}

impl ProcessError {
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            ProcessError::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            ProcessError::Disconnected { .. } | ProcessError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ProcessError::BadReply { .. } => StatusCode::BAD_GATEWAY,
        }
    }
}

/// One queued command and where its reply goes.
pub(crate) struct Job {
    /// `exit`: after the reply (or EOF, or the deadline) the actor closes and deregisters.
    pub(crate) command: Command,
    pub(crate) deadline: Duration,
    pub(crate) reply: oneshot::Sender<Result<Reply, ProcessError>>,
}

#[derive(Clone, Debug)]
pub struct ProcessHandle {
    name: ProcName,
    generation: u64,
    /// The process's address (`ip:port`), as events report it.
    peer: Arc<str>,
    jobs: mpsc::Sender<Job>,
    /// Cancelling closes the connection; the actor then deregisters itself.
    close: CancellationToken,
    command_timeout: Duration,
    exit_timeout: Duration,
}

impl ProcessHandle {
    pub(crate) fn new(
        (name, peer): (ProcName, Arc<str>),
        generation: u64,
        jobs: mpsc::Sender<Job>,
        close: CancellationToken,
        timeouts: (Duration, Duration),
    ) -> Self {
        ProcessHandle {
            name,
            generation,
            peer,
            jobs,
            close,
            command_timeout: timeouts.0,
            exit_timeout: timeouts.1,
        }
    }

    pub(crate) fn name(&self) -> ProcName {
        self.name
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub(crate) fn peer(&self) -> &str {
        &self.peer
    }

    /// Commands waiting in the queue (not counting the one in flight).
    pub(crate) fn queued(&self) -> usize {
        self.jobs.max_capacity() - self.jobs.capacity()
    }

    /// Sends `command` and waits for its reply under the command deadline (the exit
    /// deadline for `exit`). On timeout or I/O failure the connection is closed and the
    /// process deregistered before this returns.
    pub(crate) async fn call(&self, command: Command) -> Result<Reply, ProcessError> {
        let deadline = if command.is_exit() { self.exit_timeout } else { self.command_timeout };
        let (reply, answer) = oneshot::channel();
        let job = Job { command, deadline, reply };
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => return Err(ProcessError::Busy { proc: self.name }),
            Err(mpsc::error::TrySendError::Closed(_)) => {
                return Err(ProcessError::Disconnected { proc: self.name });
            }
        }
        // The actor always answers a job it took; a dropped sender means it died.
        answer.await.unwrap_or(Err(ProcessError::Disconnected { proc: self.name }))
    }

    /// Sends `exit`. The process is gone afterwards whatever happens: reply, EOF and
    /// deadline all count as success (it is terminating).
    pub(crate) async fn exit(&self) {
        let _ = self.call(Command::exit()).await;
        self.close.cancel();
    }

    /// Drops the connection after an unusable reply, so that whatever the process sends
    /// later cannot be taken for the answer to another command.
    pub(crate) fn invalidate(&self) {
        self.close.cancel();
    }
}
