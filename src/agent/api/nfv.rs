//! `/v1/nfvs/{id}/...`: status, exit, forward, ports, patches of spp_nfv.

use crate::agent::api::path::Params;
use crate::agent::api::validate::NFV_PORTS;
use crate::agent::api::{AppState, actions};
use crate::agent::error::ApiError;
use crate::agent::process::ProcessHandle;
use crate::proc_type::ProcType;
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, put};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/nfvs/{id}", get(nfv_get).delete(nfv_delete))
        .route("/v1/nfvs/{id}/forward", put(forward_put))
        .route("/v1/nfvs/{id}/ports", put(ports_put))
        .route("/v1/nfvs/{id}/patches", put(patches_put).delete(patches_delete))
}

fn nfv(state: &AppState, params: &Params) -> Result<ProcessHandle, ApiError> {
    state.secondary(ProcType::Nfv, &params.num("id"))
}

async fn nfv_get(State(state): State<AppState>, params: Params) -> Result<Response, ApiError> {
    actions::status(&nfv(&state, &params)?).await
}

async fn nfv_delete(State(state): State<AppState>, params: Params) -> Result<Response, ApiError> {
    actions::exit(&nfv(&state, &params)?).await
}

async fn forward_put(
    State(state): State<AppState>,
    params: Params,
    body: Body,
) -> Result<Response, ApiError> {
    let (handle, fields) = state.with_body(nfv(&state, &params), body).await?;
    actions::run(&handle, actions::forward_command(&fields)?).await
}

async fn ports_put(State(state): State<AppState>, params: Params, body: Body) -> Result<Response, ApiError> {
    let (handle, fields) = state.with_body(nfv(&state, &params), body).await?;
    actions::run(&handle, actions::ports_command(&fields, NFV_PORTS)?).await
}

async fn patches_put(
    State(state): State<AppState>,
    params: Params,
    body: Body,
) -> Result<Response, ApiError> {
    let (handle, fields) = state.with_body(nfv(&state, &params), body).await?;
    actions::run(&handle, actions::patch_command(ProcType::Nfv, &fields)?).await
}

async fn patches_delete(State(state): State<AppState>, params: Params) -> Result<Response, ApiError> {
    actions::patch_reset(&nfv(&state, &params)?).await
}
