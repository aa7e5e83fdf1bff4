//! The request layer of every mutating API route: it reads `?dry_run=`, lets the handler
//! run with a per-request record that `api::exec` fills in when it would send a command
//! (or, in a dry run, refuses to), and then publishes the `command` event (the audit
//! line's data, never the body) and whatever the command changed.

use super::kind;
use crate::agent::api::AppState;
use crate::agent::error::ApiError;
use crate::agent::process::{ProcessError, ProcessHandle, Reply};
use crate::audit::{DryRun, is_mutating};
use crate::proc_type::ProcName;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, json};
use std::cell::RefCell;
use std::sync::Arc;
use std::time::Instant;

/// The subject of the verified token of a mutating request (set by the agent's guard).
#[derive(Clone, Debug)]
pub(crate) struct Subject(pub Arc<str>);

/// What the handler of one request sent, or would have sent.
#[derive(Default)]
struct Sent {
    dry_run: bool,
    process: Option<ProcName>,
    command: Option<String>,
    /// Set when the command failed on its way (timeout, lost connection…).
    failure: Option<&'static str>,
}

tokio::task_local! {
    static SENT: RefCell<Sent>;
}

/// Called by `api::exec` before sending `command` to `handle`: true when this is a dry run
/// and nothing must be sent. Outside a mutating request (reads, scrapes) it records nothing.
pub(crate) fn intercept(handle: &ProcessHandle, command: &str) -> bool {
    SENT.try_with(|sent| {
        let mut sent = sent.borrow_mut();
        sent.process = Some(handle.name());
        sent.command = Some(command.to_owned());
        sent.dry_run
    })
    .unwrap_or(false)
}

/// Called by `api::exec` with what the process answered.
pub(crate) fn note_result(result: &Result<Reply, ProcessError>) {
    let failure = match result {
        Ok(_) => return,
        Err(ProcessError::Timeout { .. }) => "timeout",
        Err(ProcessError::Disconnected { .. }) => "lost",
        Err(ProcessError::Busy { .. } | ProcessError::BadReply { .. }) => "error",
    };
    let _ = SENT.try_with(|sent| sent.borrow_mut().failure = Some(failure));
}

/// The layer (a `route_layer` of the API router, inside the guard).
pub(crate) async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !is_mutating(request.method()) {
        return next.run(request).await;
    }
    let dry_run = match dry_run(request.uri().query()) {
        Ok(dry_run) => dry_run,
        Err(error) => return error.into_response(),
    };
    let started = Instant::now();
    let mut fields = Map::new();
    fields.insert("method".to_owned(), json!(request.method().as_str()));
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned());
    fields.insert("route".to_owned(), json!(route));
    fields.insert("path".to_owned(), json!(crate::echo::echo(request.uri().path())));
    let sub = request.extensions().get::<Subject>().map(|s| s.0.clone());
    let run = async {
        let response = next.run(request).await;
        (response, SENT.with(|sent| sent.take()))
    };
    let (mut response, sent) = SENT.scope(RefCell::new(Sent { dry_run, ..Sent::default() }), run).await;
    let status = response.status();
    if let Some(process) = sent.process {
        fields.insert("process".to_owned(), json!(kind::label(process)));
    }
    if let Some(command) = &sent.command {
        fields.insert("verb".to_owned(), json!(command.split(' ').next().unwrap_or_default()));
    }
    fields.insert("status".to_owned(), json!(status.as_u16()));
    let outcome = match sent.failure {
        _ if dry_run => "dry-run",
        Some(failure) => failure,
        None if status.is_success() => "ok",
        None => "error",
    };
    fields.insert("outcome".to_owned(), json!(outcome));
    fields.insert("duration_ms".to_owned(), json!(started.elapsed().as_secs_f64() * 1000.0));
    if let Some(sub) = sub {
        fields.insert("sub".to_owned(), json!(sub.as_ref()));
    }
    if dry_run {
        fields.insert("dry_run".to_owned(), json!(true));
        response.extensions_mut().insert(DryRun);
    }
    let hub = state.registry.events();
    hub.publish("command", fields);
    if let (false, true, Some(process), Some(command)) =
        (dry_run, status.is_success(), sent.process, &sent.command)
        && let Some((kind, fields)) = kind::change(process, command)
    {
        hub.publish(kind, fields);
    }
    response
}

/// `dry_run=true|false` from the query; absent means false.
fn dry_run(query: Option<&str>) -> Result<bool, ApiError> {
    let value = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .find_map(|(key, value)| (key == "dry_run").then_some(value));
    match value {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(ApiError::BadQuery(format!("invalid dry_run: {}", crate::echo::echo(other)))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dry_run_values() {
        let parse = |q: Option<&str>| dry_run(q).map_err(|e| e.to_string());
        assert_eq!(parse(None), Ok(false));
        assert_eq!(parse(Some("dry_run=true")), Ok(true));
        assert_eq!(parse(Some("a=1&dry_run=false")), Ok(false));
        assert_eq!(parse(Some("dry_run=yes")), Err("invalid dry_run: yes".into()));
        assert_eq!(parse(Some("dry_run")), Err("invalid dry_run: ".into()));
        assert_eq!(parse(Some("dry_runx=1")), Ok(false));
    }
}
