//! Cluster views: one agent route asked of every host in parallel (a concurrency cap, a
//! deadline per host), merged into one answer with an `errors` list. A slow or dead host
//! costs at most the deadline and shows up in `errors`.

use crate::auth::Principal;
use crate::auth::guard::credentials;
use crate::gateway::Gateway;
use crate::gateway::hosts::{Host, State as HostState};
use crate::gateway::upstream;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Why one host is missing from a cluster view; the text goes into `errors`.
#[derive(Debug, thiserror::Error)]
enum HostFailure {
    #[error("gateway shutting down")]
    ShuttingDown,
    #[error("host is down: {0}")]
    Down(String),
    #[error(transparent)]
    Upstream(#[from] upstream::UpstreamError),
    #[error("agent answered {status}: {body}")]
    Refused { status: u16, body: String },
    #[error("agent answered something other than a JSON array")]
    NotArray,
}

#[derive(Deserialize)]
pub(crate) struct Filter {
    /// `?hosts=a,b`: only these hosts.
    hosts: Option<String>,
}

pub(crate) async fn processes(
    state: State<Arc<Gateway>>,
    caller: Extension<Principal>,
    filter: Query<Filter>,
    headers: HeaderMap,
) -> Response {
    cluster(state, caller, filter, &headers, "processes").await
}

pub(crate) async fn cpu_usage(
    state: State<Arc<Gateway>>,
    caller: Extension<Principal>,
    filter: Query<Filter>,
    headers: HeaderMap,
) -> Response {
    cluster(state, caller, filter, &headers, "cpu_usage").await
}

async fn cluster(
    State(gateway): State<Arc<Gateway>>,
    Extension(caller): Extension<Principal>,
    Query(filter): Query<Filter>,
    headers: &HeaderMap,
    endpoint: &'static str,
) -> Response {
    let started = Instant::now();
    let wanted: Option<Vec<&str>> =
        filter.hosts.as_deref().map(|h| h.split(',').filter(|s| !s.is_empty()).collect());
    let hosts: Vec<Arc<Host>> = gateway
        .hosts
        .all()
        .into_iter()
        .filter(|h| caller.allows_host(&h.name))
        .filter(|h| wanted.as_ref().is_none_or(|w| w.contains(&h.name.as_str())))
        .collect();
    // The caller's token goes on to every agent, as on the proxied route.
    let results = ask_all(&gateway, hosts, Arc::new(credentials(headers)), endpoint).await;
    let mut items = Vec::new();
    let mut errors = Vec::new();
    for (host, result) in results {
        match result {
            Ok(entries) => items.extend(entries.into_iter().map(|entry| with_host(&host, entry))),
            Err(error) => errors.push(json!({"host": host, "error": error.to_string()})),
        }
    }
    gateway.metrics.fanout_duration.with_label_values(&[endpoint]).observe(started.elapsed().as_secs_f64());
    let mut body = Map::new();
    body.insert(endpoint.to_owned(), Value::Array(items));
    body.insert("errors".to_owned(), Value::Array(errors));
    crate::respond::json(&Value::Object(body))
}

/// Asks every host, at most `fanout_concurrency` at a time; results sorted by host.
async fn ask_all(
    gateway: &Arc<Gateway>,
    hosts: Vec<Arc<Host>>,
    credentials: Arc<HeaderMap>,
    endpoint: &str,
) -> Vec<(String, Result<Vec<Value>, HostFailure>)> {
    let slots = Arc::new(Semaphore::new(gateway.config.fanout_concurrency));
    let mut calls = JoinSet::new();
    for host in hosts {
        let gateway = gateway.clone();
        let (slots, credentials) = (slots.clone(), credentials.clone());
        let path = format!("/v1/{endpoint}");
        calls.spawn(async move {
            let result = match slots.acquire_owned().await {
                Ok(_permit) => ask(&gateway, &host, &path, &credentials).await,
                Err(_) => Err(HostFailure::ShuttingDown),
            };
            (host.name.clone(), result)
        });
    }
    let mut results = HashMap::new();
    while let Some(joined) = calls.join_next().await {
        if let Ok((name, result)) = joined {
            results.insert(name, result);
        }
    }
    let mut sorted: Vec<_> = results.into_iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    sorted
}

async fn ask(
    gateway: &Gateway,
    host: &Host,
    path: &str,
    credentials: &HeaderMap,
) -> Result<Vec<Value>, HostFailure> {
    if host.state() == HostState::Down {
        return Err(HostFailure::Down(host.last_error()));
    }
    let deadline = gateway.config.fanout_deadline;
    let answer = upstream::send(
        gateway.clients.here(),
        host,
        &Method::GET,
        path,
        credentials,
        Default::default(),
        deadline,
    )
    .await?;
    if !answer.status.is_success() {
        let body = String::from_utf8_lossy(&answer.body).into_owned();
        return Err(HostFailure::Refused { status: answer.status.as_u16(), body });
    }
    match serde_json::from_slice(&answer.body) {
        Ok(Value::Array(entries)) => Ok(entries),
        _ => Err(HostFailure::NotArray),
    }
}

/// `{"host": h}` followed by the agent's own members, in their order.
fn with_host(host: &str, entry: Value) -> Value {
    let mut out = Map::new();
    out.insert("host".to_owned(), Value::String(host.to_owned()));
    if let Value::Object(members) = entry {
        out.extend(members);
    }
    Value::Object(out)
}
