//! Requests to agents: pooled keep-alive connections, a deadline per request, and the
//! retry rules. A request goes again only when none of it reached the agent: a GET/HEAD
//! whose connection could not be made, or any request refused by a pooled connection
//! before its first byte was written. A written request is never sent again: a
//! PUT/POST/DELETE runs an SPP command and must never run twice.

use crate::gateway::hosts::Host;
use crate::gateway::pool::{Answer, ConnError, Failure, Outgoing, Pool};
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use std::time::Duration;

/// One pool per HTTP worker thread and one for the rest (health probes, discovery): a
/// connection is registered with the runtime that opened it, so a pool shared across
/// workers would wake another thread on every reply.
pub(crate) struct Clients {
    shared: Pool,
    per_worker: Vec<Pool>,
}

impl Clients {
    pub(crate) fn new(workers: usize, connect_timeout: Duration, tls: &rustls::ClientConfig) -> Self {
        let make = || Pool::new(connect_timeout, tls);
        Clients { shared: make(), per_worker: (0..workers).map(|_| make()).collect() }
    }

    /// The pool of the worker thread this runs on, or the shared one.
    pub(crate) fn here(&self) -> &Pool {
        crate::http_server::worker_index().and_then(|i| self.per_worker.get(i)).unwrap_or(&self.shared)
    }

    /// New upstream TLS files, for every pool.
    pub(crate) fn set_tls(&self, tls: &rustls::ClientConfig) {
        self.per_worker.iter().chain([&self.shared]).for_each(|pool| pool.set_tls(tls));
    }

    /// Closes the connections that stayed idle too long, in every pool.
    pub(crate) fn sweep(&self) {
        self.per_worker.iter().chain([&self.shared]).for_each(Pool::sweep);
    }
}

/// The `scheme://authority` of an agent URL (`http://10.0.0.11:7777`).
pub(crate) fn base_uri(url: &str) -> Result<Uri, AgentUrlError> {
    let uri: Uri = url.parse().map_err(|source| AgentUrlError::Invalid { url: url.to_owned(), source })?;
    match (uri.scheme_str(), uri.authority(), uri.path()) {
        (Some("http" | "https"), Some(_), "" | "/") => Ok(uri),
        _ => Err(AgentUrlError::NotBase { url: url.to_owned() }),
    }
}

/// Why an agent URL is refused.
#[derive(Debug, thiserror::Error)]
pub enum AgentUrlError {
    #[error("{url:?}: {source}")]
    Invalid { url: String, source: axum::http::uri::InvalidUri },
    #[error("{url:?}: expected http://HOST:PORT or https://HOST:PORT")]
    NotBase { url: String },
}

/// Why a request to an agent failed, decided where it failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UpstreamError {
    #[error("cannot connect: {0}")]
    Connect(#[source] ConnError),
    #[error("no answer within {0} ms")]
    Timeout(u128),
    /// The connection failed during the exchange.
    #[error("{0}")]
    Broken(#[source] ConnError),
}

impl UpstreamError {
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            UpstreamError::Connect(_) | UpstreamError::Broken(_) => StatusCode::BAD_GATEWAY,
            UpstreamError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
        }
    }
}

/// Sends one request to `host` and reads the whole answer within `deadline`.
///
/// Sending again is safe only when the request never reached the agent: a GET/HEAD whose
/// connection could not be made, or any request that a pooled connection, closed under
/// it, refused before any of it was written.
pub(crate) async fn send(
    pool: &Pool,
    host: &Host,
    method: &Method,
    path_and_query: &str,
    headers: &HeaderMap,
    body: Bytes,
    deadline: Duration,
) -> Result<Answer, UpstreamError> {
    let request = Outgoing { method, target: path_and_query, headers, body: &body };
    let attempts = async {
        let mut connect_retries = usize::from(matches!(*method, Method::GET | Method::HEAD));
        let mut unsent_retries = 2;
        loop {
            let mut conn = match pool.checkout(host).await {
                Ok(conn) => conn,
                Err(_) if connect_retries > 0 => {
                    connect_retries -= 1;
                    continue;
                }
                Err(e) => return Err(UpstreamError::Connect(e)),
            };
            match conn.exchange(&request, host).await {
                Ok((answer, reusable)) => {
                    if reusable {
                        pool.put(host, conn);
                    }
                    return Ok(answer);
                }
                Err(Failure::Unsent(_)) if unsent_retries > 0 => unsent_retries -= 1,
                Err(Failure::Unsent(e) | Failure::Broken(e)) => return Err(UpstreamError::Broken(e)),
            }
        }
    };
    tokio::time::timeout(deadline, attempts)
        .await
        .unwrap_or(Err(UpstreamError::Timeout(deadline.as_millis())))
}
