//! One HTTP(S) transport for every command: hyper-util's client over rustls (ring), the
//! CA and client certificate of the target, the bearer token, a deadline per request.
//! Failures to get an answer at all become `Code::Connection` with one sentence; a TLS
//! refusal reads as `tls::explain` words it.

use crate::client::config::Target;
use crate::client::exit::{Code, Failure};
use crate::tls::{ClientTlsFiles, client_config_for};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Response, Uri, header};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// One request of a command, relative to the server.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Request {
    pub(crate) method: Method,
    /// Path and query, e.g. `/v1/hosts/h1/nfvs/1`.
    pub(crate) path: String,
    pub(crate) body: Option<String>,
    pub(crate) headers: Vec<(&'static str, String)>,
}

impl Request {
    pub(crate) fn new(method: Method, path: impl Into<String>) -> Self {
        Request { method, path: path.into(), body: None, headers: Vec::new() }
    }

    pub(crate) fn get(path: impl Into<String>) -> Self {
        Request::new(Method::GET, path)
    }

    pub(crate) fn with_json(mut self, body: serde_json::Value) -> Self {
        self.body = Some(body.to_string());
        self
    }
}

/// A whole answer.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) content_type: Option<String>,
    pub(crate) body: Bytes,
}

impl Answer {
    pub(crate) fn is_json(&self) -> bool {
        self.content_type.as_deref().is_some_and(|t| t.starts_with("application/json"))
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub(crate) struct Transport {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    base: String,
    token: Option<String>,
    pub(crate) timeout: Duration,
}

impl Transport {
    pub(crate) fn new(target: &Target) -> Result<Self, Failure> {
        let uri: Uri =
            target.server.parse().map_err(|e| Failure::usage(format!("server {:?}: {e}", target.server)))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.authority().is_none() {
            return Err(Failure::usage(format!(
                "server {:?}: give an http:// or https:// URL with a host",
                target.server
            )));
        }
        let files = ClientTlsFiles {
            ca: target.cacert.clone(),
            client_cert: target.client_cert.clone(),
            client_key: target.client_key.clone(),
        };
        let tls = client_config_for(&files, "--cacert")
            .map_err(|e| Failure::local(e.to_string().replace("client_", "--client-")))?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(target.timeout));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config((*tls).clone())
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        let base = target.server.trim_end_matches('/').to_owned();
        Ok(Transport { client, base, token: target.token.clone(), timeout: target.timeout })
    }

    /// Sends `request`; the answer's head within the deadline, the body not read.
    pub(crate) async fn open(
        &self,
        request: &Request,
        timeout: Duration,
    ) -> Result<Response<Incoming>, Failure> {
        let url = format!("{}{}", self.base, request.path);
        let mut builder = hyper::Request::builder().method(request.method.clone()).uri(&url);
        if let Some(token) = &self.token {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        for (name, value) in &request.headers {
            builder = builder.header(*name, value);
        }
        let body = match &request.body {
            Some(body) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Full::new(Bytes::from(body.clone()))
            }
            None => Full::new(Bytes::new()),
        };
        let http_request = builder.body(body).map_err(|e| Failure::usage(format!("{url}: {e}")))?;
        match tokio::time::timeout(timeout, self.client.request(http_request)).await {
            Err(_) => Err(no_answer(
                &self.base,
                &format!("no answer within {}", humantime::format_duration(timeout)),
            )),
            Ok(Err(e)) => Err(no_answer(&self.base, &connection_error(&e))),
            Ok(Ok(response)) => Ok(response),
        }
    }

    pub(crate) async fn send_within(&self, request: &Request, timeout: Duration) -> Result<Answer, Failure> {
        let deadline = tokio::time::Instant::now() + timeout;
        let response = self.open(request, timeout).await?;
        let status = response.status().as_u16();
        let content_type =
            response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = tokio::time::timeout_at(deadline, response.into_body().collect())
            .await
            .map_err(|_| no_answer(&self.base, "the answer did not complete in time"))?
            .map_err(|e| no_answer(&self.base, &format!("answer broken off: {e}")))?
            .to_bytes();
        Ok(Answer { status, content_type, body })
    }
}

fn no_answer(base: &str, cause: &str) -> Failure {
    Failure::new(Code::Connection, format!("{base}: {cause}"))
}

/// The sentence that says why: the explained certificate refusal, another TLS error, or
/// the innermost cause (e.g. `Connection refused (os error 111)`).
fn connection_error(error: &(dyn std::error::Error + 'static)) -> String {
    let mut innermost = error.to_string();
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = current {
        match rustls_error(cause) {
            Some(rustls::Error::Other(sentence)) => return format!("TLS: {sentence}"),
            Some(rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired)) => {
                return "TLS: the server requires a client certificate: give --client-cert and --client-key"
                    .to_owned();
            }
            Some(other) => return format!("TLS handshake failed: {other}"),
            None => {}
        }
        innermost = cause.to_string();
        current = cause.source();
    }
    if innermost.contains("invalid HTTP version") {
        innermost.push_str(" (is it an https server?)");
    }
    innermost
}

/// The rustls error in `error`, also when I/O errors wrap it (their `source` skips it).
fn rustls_error<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    if let Some(tls) = error.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    let inner = error.downcast_ref::<std::io::Error>()?.get_ref()?;
    rustls_error(inner)
}
