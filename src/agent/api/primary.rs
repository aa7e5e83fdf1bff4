//! `/v1/primary/...` except flow rules: status, clear, forward, ports, patches, launch,
//! exit.

use crate::agent::api::validate::PRIMARY_PORTS;
use crate::agent::api::{AppState, actions, launch};
use crate::agent::command::{Command, Verb};
use crate::agent::error::ApiError;
use crate::proc_type::ProcType;
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{delete, get, put};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/primary/status", get(status_get).delete(status_delete))
        .route("/v1/primary/forward", put(forward_put))
        .route("/v1/primary/ports", put(ports_put))
        .route("/v1/primary/patches", put(patches_put).delete(patches_delete))
        .route("/v1/primary/launch", put(launch_put))
        .route("/v1/primary", delete(primary_delete))
        .route("/v1/primary/", delete(primary_delete))
}

async fn status_get(State(state): State<AppState>) -> Result<Response, ApiError> {
    actions::status(&state.primary()?).await
}

async fn status_delete(State(state): State<AppState>) -> Result<Response, ApiError> {
    actions::run(&state.primary()?, Command::bare(Verb::Clear)).await
}

async fn forward_put(State(state): State<AppState>, body: Body) -> Result<Response, ApiError> {
    let (handle, fields) = state.with_body(state.primary(), body).await?;
    actions::run(&handle, actions::forward_command(&fields)?).await
}

async fn ports_put(State(state): State<AppState>, body: Body) -> Result<Response, ApiError> {
    let (handle, fields) = state.with_body(state.primary(), body).await?;
    actions::run(&handle, actions::ports_command(&fields, PRIMARY_PORTS)?).await
}

async fn patches_put(State(state): State<AppState>, body: Body) -> Result<Response, ApiError> {
    let (handle, fields) = state.with_body(state.primary(), body).await?;
    actions::run(&handle, actions::patch_command(ProcType::Primary, &fields)?).await
}

async fn patches_delete(State(state): State<AppState>) -> Result<Response, ApiError> {
    actions::patch_reset(&state.primary()?).await
}

async fn launch_put(State(state): State<AppState>, body: Body) -> Result<Response, ApiError> {
    let (handle, fields) = state.with_body(state.primary(), body).await?;
    actions::run(&handle, launch::command(&fields)?).await
}

async fn primary_delete(State(state): State<AppState>) -> Result<Response, ApiError> {
    actions::exit(&state.primary()?).await
}
