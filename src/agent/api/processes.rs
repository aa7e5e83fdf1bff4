//! `GET /v1/processes` (from the registry only; `?wait_for=` waits for processes), `GET /v1/cpu_usage` (status of every
//! process, in parallel) and `GET /v1/cpu_layout` (from sysfs).

use crate::agent::api::wait::{self, WaitQuery};
use crate::agent::api::{AppState, cpu_layout, reply};
use crate::agent::command::Command;
use crate::agent::error::ApiError;
use crate::agent::process::{ProcessHandle, Reply};
use crate::proc_type::ProcType;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Map, Value, json};
use tokio::task::JoinSet;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/processes", get(processes_list))
        .route("/v1/cpu_usage", get(cpu_usage_get))
        .route("/v1/cpu_layout", get(cpu_layout_get))
}

/// The primary first, then secondaries by ascending id; never asks a process anything.
/// With `?wait_for=`, once the processes named are attached (`wait.rs`).
async fn processes_list(
    State(state): State<AppState>,
    Query(query): Query<WaitQuery>,
) -> Result<Response, ApiError> {
    wait::until_attached(&state.registry, &query, &state.shutdown).await?;
    let entries: Vec<Value> = state
        .registry
        .snapshot()
        .iter()
        .map(|handle| match handle.name().id {
            None => json!({"type": "primary"}),
            Some(id) => json!({"type": handle.name().ty.as_str(), "client-id": id}),
        })
        .collect();
    Ok(reply::json(&Value::Array(entries)))
}

async fn cpu_usage_get(State(state): State<AppState>) -> Response {
    let mut calls = JoinSet::new();
    for (order, handle) in state.registry.snapshot().into_iter().enumerate() {
        calls.spawn(async move {
            let reply = handle.call(Command::status()).await;
            (order, usage_entry(&handle, reply.ok()))
        });
    }
    let mut entries = Vec::new();
    while let Some(joined) = calls.join_next().await {
        if let Ok((order, Some(entry))) = joined {
            entries.push((order, entry));
        }
    }
    entries.sort_by_key(|(order, _)| *order);
    reply::json(&Value::Array(entries.into_iter().map(|(_, e)| e).collect()))
}

/// One `cpu_usage` entry, or `None` for a process that did not answer usefully.
fn usage_entry(handle: &ProcessHandle, reply: Option<Reply>) -> Option<Value> {
    let Some(Reply::Json(status)) = reply else { return None };
    let ty = handle.name().ty;
    let mut entry = Map::new();
    entry.insert("proc-type".to_owned(), json!(ty.as_str()));
    match ty {
        ProcType::Primary => {
            let lcores = status.get("lcores")?.as_array()?;
            let master = status.get("master-lcore").or_else(|| lcores.first())?;
            entry.insert("master-lcore".to_owned(), master.clone());
            entry.insert("lcores".to_owned(), Value::Array(lcores.clone()));
        }
        ProcType::Nfv => {
            entry.insert("client-id".to_owned(), status.get("client-id")?.clone());
            entry.insert("master-lcore".to_owned(), status.get("master-lcore")?.clone());
            entry.insert("lcores".to_owned(), status.get("lcores")?.clone());
        }
        ProcType::Vf | ProcType::Mirror | ProcType::Pcap => {
            let info = status.get("info")?;
            let master = info.get("master-lcore")?;
            let mut lcores = vec![master.clone()];
            for core in info.get("core")?.as_array()?.iter().filter_map(|c| c.get("core")) {
                if !lcores.contains(core) {
                    lcores.push(core.clone());
                }
            }
            entry.insert("client-id".to_owned(), info.get("client-id")?.clone());
            entry.insert("master-lcore".to_owned(), master.clone());
            entry.insert("lcores".to_owned(), Value::Array(lcores));
        }
    }
    Some(Value::Object(entry))
}

async fn cpu_layout_get(State(state): State<AppState>) -> Result<Response, ApiError> {
    let root = state.sysfs_cpu.clone();
    let layout =
        tokio::task::spawn_blocking(move || cpu_layout::read(&root)).await.map_err(|_| ApiError::Internal)?;
    Ok(reply::json(&layout))
}
