//! `spp-ctl <command>`: the kubectl-like client of agents and the gateway, in the same
//! binary. `args` holds the flags, `config` the contexts, `routes` turns a command into
//! a request, `http` sends it, `view` and `table` show the answer, `exit` the codes.

pub(crate) mod args;
pub(crate) mod config;
pub(crate) mod events;
pub(crate) mod exit;
pub(crate) mod http;
pub(crate) mod plan;
pub(crate) mod routes;
pub(crate) mod table;
pub(crate) mod token;
pub(crate) mod view;

use crate::client::args::{ClientArgs, ClientCommand, Output};
use crate::client::config::Target;
use crate::client::exit::Failure;
use crate::client::http::{Answer, Transport};
use crate::client::routes::View;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

/// Runs one client command to its exit code; `cli` is the whole command tree (for
/// completion scripts).
pub fn main(args: ClientArgs, command: ClientCommand, cli: clap::Command) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => return report(&Failure::local(format!("cannot start the async runtime: {e}"))),
    };
    match runtime.block_on(run(args, command, cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => report(&failure),
    }
}

fn report(failure: &Failure) -> ExitCode {
    eprintln!("spp-ctl: {}", failure.message);
    failure.exit_code()
}

async fn run(args: ClientArgs, command: ClientCommand, mut cli: clap::Command) -> Result<(), Failure> {
    match &command {
        ClientCommand::Completion { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut cli, "spp-ctl", &mut script);
            // A closed pipe (`| head`) is not worth a message.
            let _ = std::io::stdout().write_all(&script);
            return Ok(());
        }
        ClientCommand::Config { action } => return config::run(action, &args),
        _ => {}
    }
    let mut target = config::resolve(&args)?;
    // A cluster command is about no one host: a context's default host must not label it.
    if matches!(
        &command,
        ClientCommand::Apply { .. } | ClientCommand::Events(args::EventsArgs { all: true, .. })
    ) {
        target.host = None;
    }
    warn_about_token(&target);
    let transport = Transport::new(&target)?;
    let (call, within) = match &command {
        ClientCommand::Events(events) => return events::follow(&target, &transport, events).await,
        ClientCommand::Wait { processes, timeout } => {
            let base = routes::base(target.host.as_deref());
            let (request, within) = plan::wait_request(&base, processes, timeout)?;
            (routes::Call { request, view: View::Processes }, within)
        }
        ClientCommand::Apply { file, dry_run } => {
            let request = plan::apply_request(&plan::load(file, *dry_run)?);
            (
                routes::Call { request, view: View::Apply },
                transport.timeout.max(std::time::Duration::from_secs(300)),
            )
        }
        _ => (routes::for_command(&command, target.host.as_deref())?, transport.timeout),
    };
    let answer = transport.send_within(&call.request, within).await?;
    show(&target, &call.view, &answer)
}

fn warn_about_token(target: &Target) {
    let Some(exp) = target.token.as_deref().and_then(token::expiry) else { return };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    if let Some(warning) = token::warning(exp, now) {
        eprintln!("spp-ctl: {warning}");
    }
}

/// Who answered, for error lines: the host behind the gateway, else the server.
fn label(target: &Target) -> &str {
    target.host.as_deref().unwrap_or(&target.server)
}

/// Prints a successful answer in the chosen format; an error answer becomes the failure
/// with the server's one line.
fn show(target: &Target, view: &View, answer: &Answer) -> Result<(), Failure> {
    if !(200..300).contains(&answer.status) {
        let text = answer.text();
        let line = text.lines().next().unwrap_or_default();
        // A gateway asked for an agent route without a host names its routes.
        let hint = if target.host.is_none() && line.contains("/v1/hosts/{host}/...") {
            ": select a host with -H HOST (or -A for every host)"
        } else {
            ""
        };
        return Err(Failure::for_status(
            answer.status,
            format!("{}: {line} ({}){hint}", label(target), answer.status),
        ));
    }
    let value = if answer.is_json() { serde_json::from_slice(&answer.body).ok() } else { None };
    let mut out = std::io::stdout().lock();
    let (text, failure) = match (target.output, &value, view) {
        (_, _, View::Done(what)) if answer.body.is_empty() => {
            (if target.output == Output::Table { format!("{what}\n") } else { String::new() }, None)
        }
        (Output::Json, _, _) | (_, None, _) | (Output::Table, _, View::Raw) => {
            let (_, failure) = value.as_ref().map_or((String::new(), None), |v| view::render(view, v));
            let _ = out.write_all(&answer.body);
            if out.is_terminal() && !answer.body.ends_with(b"\n") {
                let _ = out.write_all(b"\n");
            }
            (String::new(), failure)
        }
        (Output::Yaml, Some(value), _) => {
            let (_, failure) = view::render(view, value);
            (yaml_serde::to_string(value).map_err(|e| Failure::local(e.to_string()))?, failure)
        }
        (Output::Table, Some(value), _) => view::render(view, value),
    };
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    match failure {
        Some(failure) => {
            Err(Failure { message: format!("{}: {}", label(target), failure.message), ..failure })
        }
        None => Ok(()),
    }
}
