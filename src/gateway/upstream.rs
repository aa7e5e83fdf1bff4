//! Requests to agents: one pooled keep-alive client, a deadline per request, and the
//! retry rule — only GET/HEAD, only when the request never reached the agent (connect
//! failure). A PUT/POST/DELETE runs an SPP command and must never run twice.

use crate::gateway::hosts::Host;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Request, Response, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::sync::Arc;
use std::time::Duration;

pub type AgentClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A pooled client for http and https agents; `tls` holds the CA (and client
/// certificate, for mTLS) used with https agents.
pub fn client(connect_timeout: Duration, tls: Arc<rustls::ClientConfig>) -> AgentClient {
    let mut connector = HttpConnector::new();
    connector.set_connect_timeout(Some(connect_timeout));
    connector.set_nodelay(true);
    connector.enforce_http(false);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config((*tls).clone())
        .https_or_http()
        .enable_http1()
        .wrap_connector(connector);
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(256)
        .build(https)
}

/// The `scheme://authority` of an agent URL (`http://10.0.0.11:7777`).
pub fn base_uri(url: &str) -> Result<Uri, String> {
    let uri: Uri = url.parse().map_err(|e| format!("{url:?}: {e}"))?;
    match (uri.scheme_str(), uri.authority(), uri.path()) {
        (Some("http" | "https"), Some(_), "" | "/") => Ok(uri),
        _ => Err(format!("{url:?}: expected http://HOST:PORT or https://HOST:PORT")),
    }
}

/// Why a request to an agent failed, decided where it failed.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("no answer within {0} ms")]
    Timeout(u128),
    #[error("{0}")]
    Broken(String),
}

impl UpstreamError {
    pub fn status(&self) -> StatusCode {
        match self {
            UpstreamError::Connect(_) | UpstreamError::Broken(_) => StatusCode::BAD_GATEWAY,
            UpstreamError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
        }
    }
}

/// A complete answer of an agent.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Sends one request to `host` and reads the whole answer within `deadline`.
pub async fn send(
    client: &AgentClient,
    host: &Host,
    method: &Method,
    path_and_query: &str,
    headers: &HeaderMap,
    body: Bytes,
    deadline: Duration,
) -> Result<Answer, UpstreamError> {
    let idempotent = matches!(*method, Method::GET | Method::HEAD);
    let mut tries = if idempotent { 2 } else { 1 };
    loop {
        tries -= 1;
        let request = build(host, method, path_and_query, headers, body.clone())?;
        match tokio::time::timeout(deadline, exchange(client, request)).await {
            Err(_) => return Err(UpstreamError::Timeout(deadline.as_millis())),
            Ok(Err(UpstreamError::Connect(_))) if tries > 0 => continue,
            Ok(result) => return result,
        }
    }
}

fn build(
    host: &Host,
    method: &Method,
    path_and_query: &str,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Request<Full<Bytes>>, UpstreamError> {
    let uri = format!("{}{}", host.base.to_string().trim_end_matches('/'), path_and_query);
    let mut request = Request::builder().method(method.clone()).uri(uri);
    for name in [header::CONTENT_TYPE, header::ACCEPT] {
        if let Some(value) = headers.get(&name) {
            request = request.header(name, value);
        }
    }
    request.body(Full::new(body)).map_err(|e| UpstreamError::Broken(e.to_string()))
}

async fn exchange(client: &AgentClient, request: Request<Full<Bytes>>) -> Result<Answer, UpstreamError> {
    let response: Response<_> = client.request(request).await.map_err(|e| {
        if e.is_connect() {
            UpstreamError::Connect(root_cause(&e))
        } else {
            UpstreamError::Broken(root_cause(&e))
        }
    })?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.map_err(|e| UpstreamError::Broken(e.to_string()))?.to_bytes();
    Ok(Answer { status: parts.status, headers: parts.headers, body })
}

/// The innermost cause: "connection refused" rather than "client error (Connect)".
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}
