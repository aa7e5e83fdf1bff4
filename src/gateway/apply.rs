//! `POST /v1/cluster/apply`: one plan (`plan`) run on many hosts. Canary hosts first
//! (any failure stops everything), then the rest, at most `max_parallel` hosts at a time;
//! a host's operations run in order and its first failure (status ≥ 400) ends its list.
//! Every operation is an audit event with the caller's subject.

use crate::audit::Note;
use crate::auth::Principal;
use crate::auth::guard::credentials;
use crate::gateway::error::GatewayError;
use crate::gateway::hosts::{Host, State as HostState};
use crate::gateway::idempotency::{self, Outcome, Slot, Stored};
use crate::gateway::plan::{self, Operation, Plan};
use crate::gateway::pool::Answer;
use crate::gateway::{Gateway, proxy, upstream};
use crate::http_server::Peer;
use crate::pyjson;
use axum::extract::{Extension, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;
use tokio::task::JoinSet;
use tracing::info;

/// What every operation of one apply shares.
struct Run {
    gateway: Arc<Gateway>,
    operations: Vec<Operation>,
    /// The caller's credentials, alone and with a JSON content type.
    plain: HeaderMap,
    json: HeaderMap,
    sub: Arc<str>,
    client: Option<String>,
    dry_run: bool,
}

pub(crate) async fn cluster_apply(
    State(gateway): State<Arc<Gateway>>,
    Extension(caller): Extension<Principal>,
    request: Request,
) -> Response {
    start(gateway, caller, request).await.unwrap_or_else(IntoResponse::into_response)
}

async fn start(gateway: Arc<Gateway>, caller: Principal, request: Request) -> Result<Response, GatewayError> {
    let (parts, body) = request.into_parts();
    let key = idempotency::key_of(&Method::POST, &parts.headers)?;
    let body = proxy::read_body(body, gateway.config.body_limit).await?;
    let plan = plan::parse(&body)?;
    let hosts = plan::select(&plan, gateway.hosts.all(), &caller)?;
    let plain = credentials(&parts.headers);
    let mut json = plain.clone();
    json.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let Plan { operations, dry_run, canary, max_parallel, halt_on_error, .. } = plan;
    let client = parts.extensions.get::<Peer>().map(|peer| peer.0.to_string());
    let store = gateway.idempotency.clone();
    let run = Arc::new(Run { gateway, operations, plain, json, sub: caller.sub.clone(), client, dry_run });
    let work = async move {
        let report = execute(run, hosts, canary, max_parallel, halt_on_error).await;
        let stored = Stored {
            status: StatusCode::OK,
            content_type: Some(HeaderValue::from_static("application/json")),
            body: pyjson::to_string(&report).into(),
        };
        Outcome { response: stored.clone().into_response(), keep: Some(stored) }
    };
    Ok(match key {
        // In a task of its own, as `once` runs it: a client that goes away must not leave
        // a host halfway through its operations.
        None => match tokio::spawn(work).await {
            Ok(outcome) => outcome.response,
            Err(e) => GatewayError::Internal(format!("apply task failed: {e}")).into_response(),
        },
        Some(key) => {
            let fingerprint = store.fingerprint(&Method::POST, parts.uri.path(), &body);
            let slot = Slot { sub: caller.sub, key, scope: "cluster".to_owned() };
            idempotency::once(store, slot, fingerprint, work).await
        }
    })
}

/// What became of each host.
#[derive(Default)]
struct Report {
    hosts: BTreeMap<String, Value>,
    succeeded: Vec<String>,
    failed: Vec<String>,
    not_attempted: BTreeMap<String, String>,
}

async fn execute(
    run: Arc<Run>,
    mut hosts: Vec<Arc<Host>>,
    canary: usize,
    parallel: usize,
    halt: bool,
) -> Value {
    let rollout = hosts.split_off(canary.min(hosts.len()));
    let mut report = Report::default();
    let (failure, left) = phase(&run, "canary", hosts, parallel, true, &mut report).await;
    match failure {
        Some(failed) => report.skip(left.into_iter().chain(rollout), &format!("canary failed: {failed}")),
        None => {
            let (failure, left) = phase(&run, "rollout", rollout, parallel, halt, &mut report).await;
            if let Some(failed) = failure {
                report.skip(left, &format!("halted: {failed} failed"));
            }
        }
    }
    report.succeeded.sort();
    report.failed.sort();
    json!({
        "dry_run": run.dry_run,
        "succeeded": report.succeeded,
        "failed": report.failed,
        "hosts": Map::from_iter(report.hosts),
        "not_attempted": Map::from_iter(report.not_attempted.into_iter().map(|(h, why)| (h, Value::String(why)))),
    })
}

impl Report {
    fn skip(&mut self, hosts: impl IntoIterator<Item = Arc<Host>>, why: &str) {
        for host in hosts {
            self.not_attempted.insert(host.name.clone(), why.to_owned());
        }
    }
}

/// Runs `hosts` in order, at most `parallel` at a time. Returns the first host that
/// failed and, when `halt` kept them from starting after it, the hosts left.
async fn phase(
    run: &Arc<Run>,
    name: &'static str,
    hosts: Vec<Arc<Host>>,
    parallel: usize,
    halt: bool,
    report: &mut Report,
) -> (Option<String>, Vec<Arc<Host>>) {
    let mut waiting = hosts.into_iter();
    let mut running = JoinSet::new();
    let mut names = HashMap::new();
    let mut failure: Option<String> = None;
    loop {
        while running.len() < parallel && !(halt && failure.is_some()) {
            let Some(host) = waiting.next() else { break };
            let (run, name) = (run.clone(), host.name.clone());
            let id = running.spawn(async move { run_host(&run, &host).await }).id();
            names.insert(id, name);
        }
        let Some(joined) = running.join_next_with_id().await else { break };
        let (id, result) = match joined {
            Ok((id, result)) => (id, result),
            Err(e) => (e.id(), Err(vec![json!({"error": format!("internal error: {e}")})])),
        };
        let host = names.remove(&id).unwrap_or_default();
        let (ok, operations) = match result {
            Ok(operations) => (true, operations),
            Err(operations) => (false, operations),
        };
        if ok {
            report.succeeded.push(host.clone());
        } else {
            report.failed.push(host.clone());
            failure.get_or_insert_with(|| host.clone());
        }
        report.hosts.insert(host, json!({"phase": name, "operations": operations}));
    }
    (failure, waiting.collect())
}

/// A host's operations in order: `Ok` with their results when all succeeded, `Err` with
/// those up to the first failure.
async fn run_host(run: &Run, host: &Host) -> Result<Vec<Value>, Vec<Value>> {
    let mut done = Vec::with_capacity(run.operations.len());
    for operation in &run.operations {
        let started = Instant::now();
        let (status, body) = call(run, host, operation).await;
        audit(run, host, operation, status, started);
        done.push(json!({"method": operation.method.as_str(), "path": operation.path, "status": status, "body": body}));
        if status >= 400 {
            return Err(done);
        }
    }
    Ok(done)
}

async fn call(run: &Run, host: &Host, operation: &Operation) -> (u16, Value) {
    if host.state() == HostState::Down {
        let error = GatewayError::HostDown { host: host.name.clone(), error: host.last_error() };
        return (error.status().as_u16(), Value::String(error.to_string()));
    }
    let headers = if operation.body.is_empty() { &run.plain } else { &run.json };
    let gateway = &run.gateway;
    let pool = gateway.clients.here();
    let (method, target, body) = (&operation.method, &operation.target, operation.body.clone());
    match upstream::send(pool, host, method, target, headers, body, gateway.config.request_timeout).await {
        Ok(answer) => (answer.status.as_u16(), body_value(&answer)),
        Err(source) => {
            let error = GatewayError::Upstream { host: host.name.clone(), source };
            (error.status().as_u16(), Value::String(error.to_string()))
        }
    }
}

/// The agent's JSON when it answered JSON, its text when text, `null` when empty.
fn body_value(answer: &Answer) -> Value {
    if answer.body.is_empty() {
        return Value::Null;
    }
    let json = answer
        .headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"application/json"));
    let parsed = if json { serde_json::from_slice(&answer.body).ok() } else { None };
    parsed.unwrap_or_else(|| Value::String(String::from_utf8_lossy(&answer.body).into_owned()))
}

/// The same audit event as a request sent to the host directly would write.
fn audit(run: &Run, host: &Host, operation: &Operation, status: u16, started: Instant) {
    info!(
        target: "audit",
        sub = &*run.sub,
        host = host.name,
        reason = Note::ALLOWED,
        method = %operation.method,
        path = operation.path,
        status,
        duration_ms = started.elapsed().as_millis() as u64,
        client = run.client,
        dry_run = run.dry_run,
        "apply operation"
    );
}
