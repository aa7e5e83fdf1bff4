//! The REST API v1 router (see `rest-api-v1.md`).

use crate::agent::{AgentConfig, Registry};
use std::sync::Arc;
use std::time::Instant;
use tokio_util::sync::CancellationToken;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub registry: Registry,
    pub config: Arc<AgentConfig>,
    pub started: Instant,
    /// Cancelled when shutdown begins: `/readyz` then answers 503.
    pub shutdown: CancellationToken,
}

/// The complete API router, state applied.
pub fn router(state: AppState) -> axum::Router {
    axum::Router::new().with_state(state)
}
