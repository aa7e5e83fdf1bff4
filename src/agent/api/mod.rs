//! The REST API v1 router (`docs/api-reference.md`): one file per resource, each returning a
//! small `Router`, merged here; `fallback.rs` gives unknown paths and methods the
//! original's 404/405 answers.

mod actions;
mod body;
mod components;
mod cpu_layout;
mod exec;
mod fallback;
mod flow;
mod health;
mod launch;
mod nfv;
mod not_found;
mod path;
mod pcap;
mod primary;
mod processes;
mod reply;
mod validate;
mod wait;

use crate::agent::{AgentConfig, Registry};
use std::path::PathBuf;
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
    /// Root of the CPU topology (`/sys/devices/system/cpu`; a fake tree in tests).
    pub sysfs_cpu: PathBuf,
}

/// The complete API router, state applied.
pub fn router(state: AppState) -> axum::Router {
    let commands = axum::middleware::from_fn_with_state(state.clone(), crate::agent::events::command::layer);
    axum::Router::new()
        .merge(processes::routes())
        .merge(primary::routes())
        .merge(flow::routes())
        .merge(nfv::routes())
        .merge(components::routes())
        .merge(pcap::routes())
        .merge(health::routes())
        .merge(crate::openapi::agent())
        .merge(crate::agent::events::stream::routes())
        .route_layer(commands)
        .fallback(fallback::not_found)
        .with_state(state)
}

/// `/healthz` and `/readyz` alone, for the plain metrics listener.
pub(crate) fn probes(state: AppState) -> axum::Router {
    health::probes().with_state(state)
}

/// Wraps the finished router (any extra routes and layers added) so that its 405s get
/// the original's text and `Allow`. This must sit outside the `Router`: axum adds the
/// `Allow` header on the way out of it.
pub(crate) fn finish(
    router: axum::Router,
) -> impl tower::Service<
    axum::extract::Request,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future: Send,
> + Clone
+ Send
+ 'static {
    tower::ServiceBuilder::new()
        .layer(axum::middleware::from_fn(fallback::fix_method_not_allowed))
        .service(router)
}

#[cfg(test)]
mod tests;
