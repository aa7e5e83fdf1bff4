//! The actor that owns one SPP connection: it takes commands from its queue one at a
//! time, writes each with a single write, reads the reply through the codec under the
//! command's deadline, and answers the caller.
//!
//! When anything goes wrong (deadline, EOF, I/O error, an unusable reply, bytes nobody
//! asked for) it deregisters the process *before* answering and closes the socket, so a
//! late reply can never be read as the answer to the next command. The process
//! reconnects by itself.

use crate::agent::codec::{FrameError, Progress, ReplyDecoder};
use crate::agent::command::Command;
use crate::agent::events::kind::Detach;
use crate::agent::process::{Job, ProcessError, ProcessHandle, Reply, Unusable};
use crate::agent::registry::Registry;
use crate::metrics::AgentMetrics;
use crate::proc_type::ProcName;
use bytes::{Buf, BytesMut};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout, timeout_at};
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, info, info_span, warn};

/// Settings an actor needs from the agent's configuration.
#[derive(Clone)]
pub(crate) struct ActorSettings {
    pub(crate) command_timeout: Duration,
    pub(crate) exit_timeout: Duration,
    pub(crate) queue_depth: usize,
    /// How long a text reply may stay quiet after its NULs before it counts as complete.
    pub(crate) text_grace: Duration,
    pub(crate) metrics: Arc<AgentMetrics>,
}

/// Registers the process `name` at `peer` and starts its actor, which owns `stream` from
/// then on; `decoder` is the one that read the handshake (if any), `pending` the bytes
/// already read past it. Registration happens before the actor runs, so an immediate EOF
/// deregisters this very entry. Returns the entry replaced.
pub(crate) fn attach<S>(
    (name, peer): (ProcName, &str),
    stream: S,
    decoder: ReplyDecoder,
    pending: BytesMut,
    registry: &Registry,
    settings: &ActorSettings,
) -> Option<ProcessHandle>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (tx, jobs) = mpsc::channel(settings.queue_depth.max(1));
    let close = CancellationToken::new();
    let generation = registry.next_generation();
    let timeouts = (settings.command_timeout, settings.exit_timeout);
    let handle = ProcessHandle::new((name, peer.into()), generation, tx, close.clone(), timeouts);
    let replaced = registry.register(handle);
    let span = info_span!("spp", proc = %name, peer = %peer, generation);
    let framed = decoder.frame_size().is_some();
    // A process without frames sends its whole reply with one send(): nothing to wait for.
    let text_grace = if framed { settings.text_grace } else { Duration::ZERO };
    let actor = Actor {
        name,
        generation,
        stream,
        decoder,
        buf: pending,
        jobs,
        close,
        registry: registry.clone(),
        text_grace,
        framed,
        metrics: settings.metrics.clone(),
    };
    tokio::spawn(actor.run().instrument(span));
    replaced
}

struct Actor<S> {
    name: ProcName,
    generation: u64,
    stream: S,
    decoder: ReplyDecoder,
    buf: BytesMut,
    jobs: mpsc::Receiver<Job>,
    close: CancellationToken,
    registry: Registry,
    text_grace: Duration,
    /// Primary and nfv: replies come in NUL-padded frames.
    framed: bool,
    metrics: Arc<AgentMetrics>,
}

/// Why an exchange failed; each one ends the connection.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("the connection was closed by the process")]
    Eof,
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Frame(#[from] FrameError),
    #[error("{0}")]
    BadReply(#[from] Unusable),
    #[error("no reply within the deadline")]
    Timeout,
}

impl Failure {
    fn detach(&self) -> Detach {
        match self {
            Failure::Eof => Detach::Eof,
            Failure::Timeout => Detach::Deadline,
            Failure::Io(_) | Failure::Frame(_) | Failure::BadReply(_) => Detach::IoError,
        }
    }
}

enum Event {
    Close,
    Job(Option<Job>),
    Read(std::io::Result<usize>),
}

impl<S: AsyncRead + AsyncWrite + Unpin> Actor<S> {
    async fn run(mut self) {
        info!("process connected");
        let (reason, detach) = self.serve().await;
        // A no-op when a failed command deregistered it already, or a successor replaced it.
        self.registry.deregister(self.name, self.generation, detach);
        self.metrics.connection(self.name.ty.as_str(), "disconnect");
        info!(reason, "process disconnected");
    }

    /// Serves jobs until the connection must end; returns why.
    async fn serve(&mut self) -> (String, Detach) {
        loop {
            let event = tokio::select! {
                biased;
                _ = self.close.cancelled() => Event::Close,
                job = self.jobs.recv() => Event::Job(job),
                read = self.stream.read_buf(&mut self.buf) => Event::Read(read),
            };
            let failure = match event {
                // Replaced, or dropped after an unusable reply.
                Event::Close => return ("closed by the agent".to_owned(), Detach::IoError),
                Event::Job(None) => return ("no handle left".to_owned(), Detach::IoError),
                Event::Job(Some(job)) => match self.run_job(job).await {
                    Some(reason) => return reason,
                    None => continue,
                },
                Event::Read(Ok(0)) => Failure::Eof,
                Event::Read(Ok(_)) => match self.feed_idle() {
                    Ok(()) => continue,
                    Err(e) => e,
                },
                Event::Read(Err(e)) => Failure::Io(e),
            };
            return (failure.to_string(), failure.detach());
        }
    }

    /// Runs one command; returns a reason when the connection must end.
    async fn run_job(&mut self, job: Job) -> Option<(String, Detach)> {
        if job.reply.is_closed() {
            debug!(command = %job.command, "caller gone before sending; skipped");
            return None;
        }
        let started = Instant::now();
        let result = match timeout_at(started + job.deadline, self.exchange(&job.command)).await {
            Ok(result) => result,
            Err(_) => Err(Failure::Timeout),
        };
        self.record(&job.command, &result, started.elapsed());
        let exit = || ("exit".to_owned(), Detach::Exit);
        let (answer, end) = match result {
            Ok(reply) if job.command.is_exit() => (Ok(reply), Some(exit())),
            Ok(reply) => (Ok(reply), self.trailing_bytes().map(|reason| (reason, Detach::IoError))),
            Err(failure) => {
                warn!(command = %job.command, error = %failure, "command failed");
                let end =
                    if job.command.is_exit() { exit() } else { (failure.to_string(), failure.detach()) };
                (self.error_for(&failure, job.deadline), Some(end))
            }
        };
        if let Some((_, detach)) = &end {
            self.registry.deregister(self.name, self.generation, *detach);
        }
        let _ = job.reply.send(answer);
        end
    }

    fn record(&self, command: &Command, result: &Result<Reply, Failure>, took: Duration) {
        let ty = self.name.ty.as_str();
        let verb = command.verb().as_str();
        let outcome = match result {
            Ok(reply) if reports_failure(reply) => "error",
            Ok(_) => "ok",
            Err(Failure::Timeout) => "timeout",
            Err(Failure::BadReply(_)) => "error",
            Err(Failure::Eof | Failure::Io(_) | Failure::Frame(_)) => "io_error",
        };
        self.metrics.commands.with_label_values(&[ty, verb, outcome]).inc();
        self.metrics.command_duration.with_label_values(&[ty, verb]).observe(took.as_secs_f64());
    }

    fn error_for(&self, failure: &Failure, deadline: Duration) -> Result<Reply, ProcessError> {
        let proc = self.name;
        Err(match failure {
            Failure::Timeout => ProcessError::Timeout { proc, ms: deadline.as_millis() },
            Failure::BadReply(reason) => ProcessError::BadReply { proc, reason: reason.to_string() },
            Failure::Eof | Failure::Io(_) | Failure::Frame(_) => ProcessError::Disconnected { proc },
        })
    }

    /// A process without frames must send nothing after its reply.
    fn trailing_bytes(&self) -> Option<String> {
        (!self.framed && !self.buf.is_empty())
            .then(|| format!("{} unexpected bytes after the reply", self.buf.len()))
    }

    async fn exchange(&mut self, command: &Command) -> Result<Reply, Failure> {
        self.settle_padding().await?;
        self.decoder.begin();
        debug!(%command, "send");
        self.stream.write_all(command.text().as_bytes()).await?;
        self.stream.flush().await?;
        loop {
            let (used, progress) = self.decoder.feed(&self.buf)?;
            self.buf.advance(used);
            let text_pending = match progress {
                Progress::Complete(raw) => return Ok(Reply::from_raw(raw)?),
                Progress::TextPadding => true,
                Progress::Incomplete => false,
            };
            if text_pending {
                match timeout(self.text_grace, self.stream.read_buf(&mut self.buf)).await {
                    Ok(read) => self.check_read(read)?,
                    Err(_) => return Ok(Reply::from_raw(self.decoder.finish_text())?),
                }
            } else {
                let read = self.stream.read_buf(&mut self.buf).await;
                self.check_read(read)?;
            }
        }
    }

    /// Waits for the NUL padding still owed by the previous frame. If it does not come
    /// within the grace period, the peer's frames are smaller than configured.
    async fn settle_padding(&mut self) -> Result<(), Failure> {
        self.feed_idle()?;
        while self.decoder.debt() > 0 {
            match timeout(self.text_grace, self.stream.read_buf(&mut self.buf)).await {
                Ok(read) => {
                    self.check_read(read)?;
                    self.feed_idle()?;
                }
                Err(_) => {
                    warn!(
                        missing = self.decoder.debt(),
                        "frame shorter than configured; skipping NULs from now on"
                    );
                    self.decoder.forget_frame_size();
                }
            }
        }
        Ok(())
    }

    /// Consumes bytes that arrived while no command was outstanding.
    fn feed_idle(&mut self) -> Result<(), Failure> {
        let (used, _) = self.decoder.feed(&self.buf)?;
        self.buf.advance(used);
        let leftover = self.decoder.take_leftover();
        if leftover > 0 {
            debug!(leftover, "ignored command text left inside a reply frame");
        }
        Ok(())
    }

    fn check_read(&self, read: std::io::Result<usize>) -> Result<(), Failure> {
        match read? {
            0 => Err(Failure::Eof),
            _ => Ok(()),
        }
    }
}

/// An SPP-level failure: `"result": "failed"`/`"error"` (primary, nfv, flow) or
/// `results[0].result == "error"` (vf, mirror, pcap).
fn reports_failure(reply: &Reply) -> bool {
    let Reply::Json(value) = reply else { return false };
    let result = value.get("result").or_else(|| value.pointer("/results/0/result"));
    matches!(result.and_then(|r| r.as_str()), Some("failed" | "error"))
}

#[cfg(test)]
#[path = "actor_tests.rs"]
mod tests;
