//! The audit trail of both roles: one event (target `audit`) for every request that may
//! change something — any method but GET and HEAD — allowed or refused. Guards leave a
//! `Note` (who, which host, why) in the response's extensions; `Pending` writes the
//! event once the status is known, so no answer path can skip it.

use crate::echo::echo;
use crate::http_server::Peer;
use axum::extract::Request;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;
use std::time::Instant;
use tracing::info;

/// What the guard decided about a request.
#[derive(Clone, Debug)]
pub(crate) struct Note {
    /// The subject of a verified token (also when it lacked the scope or the host).
    pub(crate) sub: Option<Arc<str>>,
    /// The host the request is for: decoded and validated, or the agent's own name.
    pub(crate) host: Option<String>,
    /// `allowed`, or why it was refused (`scope`, `host`, `expired`, `bad_host_name`…).
    pub(crate) reason: &'static str,
}

impl Note {
    pub(crate) const ALLOWED: &'static str = "allowed";

    /// Leaves the note in `response` when the request is one the audit trail records.
    pub(crate) fn attach(self, method: &Method, response: &mut Response) {
        if is_mutating(method) {
            response.extensions_mut().insert(self);
        }
    }
}

/// In a response's extensions: the request was a dry run (`?dry_run=true`), nothing was
/// changed; the audit event says so.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DryRun;

pub(crate) fn is_mutating(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD)
}

/// A mutating request seen arriving, waiting for its answer.
pub(crate) struct Pending {
    method: Method,
    path: String,
    client: Option<String>,
    started: Instant,
}

impl Pending {
    /// `None` for reads: they are not audited.
    pub(crate) fn start(request: &Request) -> Option<Self> {
        if !is_mutating(request.method()) {
            return None;
        }
        Some(Pending {
            method: request.method().clone(),
            path: echo(request.uri().path()),
            client: request.extensions().get::<Peer>().map(|peer| peer.0.to_string()),
            started: Instant::now(),
        })
    }

    pub(crate) fn finish(self, response: &Response) {
        let note = response.extensions().get::<Note>();
        info!(
            target: "audit",
            sub = note.and_then(|n| n.sub.as_deref()),
            host = note.and_then(|n| n.host.as_deref()),
            reason = note.map(|n| n.reason),
            method = %self.method,
            path = self.path,
            status = response.status().as_u16(),
            duration_ms = self.started.elapsed().as_millis() as u64,
            client = self.client,
            dry_run = response.extensions().get::<DryRun>().map(|_| true),
            "mutating request"
        );
    }
}

/// The audit trail as a middleware (the agent's router).
pub(crate) async fn layer(request: Request, next: Next) -> Response {
    let pending = Pending::start(&request);
    let response = next.run(request).await;
    if let Some(pending) = pending {
        pending.finish(&response);
    }
    response
}
