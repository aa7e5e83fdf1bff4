//! A remote JSON Web Key Set (an identity provider's `jwks_uri`): fetched over HTTPS with
//! the configured CA, refreshed on an interval, and refetched when a token names an
//! unknown key id — at most once per `min_refetch` however many such tokens arrive.
//! When the provider is unreachable the cached keys stay in force.

use crate::auth::AuthConfigError;
use crate::auth::keys::{Key, from_jwks};
use axum::body::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use jsonwebtoken::jwk::JwkSet;
use parking_lot::{Mutex, RwLock};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use tracing::warn;

/// Why a fetch of the key set failed; the cached keys stay in force.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FetchError {
    #[error("{0}")]
    Request(#[source] axum::http::Error),
    #[error("JWKS fetch timed out")]
    Timeout,
    #[error("JWKS fetch failed: {}", causes(.0))]
    Connect(#[source] hyper_util::client::legacy::Error),
    #[error("JWKS fetch answered {0}")]
    Status(axum::http::StatusCode),
    #[error("{0}")]
    Body(#[source] hyper::Error),
    #[error("JWKS is not valid: {0}")]
    Invalid(#[source] serde_json::Error),
}

pub(crate) struct RemoteJwks {
    url: axum::http::Uri,
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
    pub(crate) refresh: Duration,
    min_refetch: Duration,
    keys: RwLock<Arc<Vec<Key>>>,
    last_fetch: Mutex<Option<Instant>>,
}

impl RemoteJwks {
    pub(crate) fn new(
        url: &str,
        tls: Arc<rustls::ClientConfig>,
        refresh: Duration,
        min_refetch: Duration,
    ) -> Result<Self, AuthConfigError> {
        let url: axum::http::Uri =
            url.parse().map_err(|source| AuthConfigError::JwksUrl { url: url.to_owned(), source })?;
        if url.scheme_str() != Some("https") {
            return Err(AuthConfigError::JwksNotHttps { url });
        }
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config((*tls).clone())
            .https_only()
            .enable_http1()
            .build();
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(RemoteJwks {
            url,
            client,
            refresh,
            min_refetch,
            keys: RwLock::new(Arc::new(Vec::new())),
            last_fetch: Mutex::new(None),
        })
    }

    pub(crate) fn keys(&self) -> Arc<Vec<Key>> {
        self.keys.read().clone()
    }

    /// Fetches now; on failure the cached keys stay.
    pub(crate) async fn fetch(&self) -> Result<(), FetchError> {
        *self.last_fetch.lock() = Some(Instant::now());
        let request =
            axum::http::Request::get(self.url.clone()).body(Empty::new()).map_err(FetchError::Request)?;
        let response = tokio::time::timeout(Duration::from_secs(10), self.client.request(request))
            .await
            .map_err(|_| FetchError::Timeout)?
            .map_err(FetchError::Connect)?;
        if !response.status().is_success() {
            return Err(FetchError::Status(response.status()));
        }
        let body = response.into_body().collect().await.map_err(FetchError::Body)?.to_bytes();
        let set: JwkSet = serde_json::from_slice(&body).map_err(FetchError::Invalid)?;
        *self.keys.write() = Arc::new(from_jwks(&set));
        Ok(())
    }

    /// A refetch because a token named an unknown key id, unless one happened recently.
    pub(crate) async fn refetch_for_unknown_kid(&self) -> bool {
        // Claim the slot under the lock, so concurrent unknown kids cannot all pass.
        {
            let mut last = self.last_fetch.lock();
            if last.is_some_and(|at| at.elapsed() < self.min_refetch) {
                return false;
            }
            *last = Some(Instant::now());
        }
        if let Err(e) = self.fetch().await {
            warn!(url = %self.url, error = %e, "JWKS refetch failed; keeping the cached keys");
        }
        true
    }

    /// Refreshes every `refresh` until `stop`.
    pub(crate) async fn run(self: Arc<Self>, stop: CancellationToken) {
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(self.refresh) => {}
            }
            if let Err(e) = self.fetch().await {
                warn!(url = %self.url, error = %e, "JWKS refresh failed; keeping the cached keys");
            }
        }
    }
}

/// An error with its causes: the HTTP client's own text ("client error (Connect)") hides
/// the one that tells what to do (an untrusted certificate, a refused connection).
fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}
