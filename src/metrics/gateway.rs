//! The gateway's metrics (read by `dashboards/` and `deploy/prometheus/`): requests and
//! latency per host, upstream health, hosts by state, auth failures, fan-out latency,
//! reloads, certificate expiry.

use axum::http::{Method, StatusCode};
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};
use std::time::Duration;

const LATENCY_BUCKETS: &[f64] =
    &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// Reasons a token can be refused; every one is exported from the start (as 0).
pub(crate) const AUTH_FAILURE_REASONS: &[&str] = &[
    "missing",
    "malformed",
    "signature",
    "expired",
    "not_yet_valid",
    "issuer",
    "audience",
    "unknown_kid",
    "algorithm",
    "scope",
    "host",
];

pub struct GatewayMetrics {
    pub(crate) registry: Registry,
    pub(crate) requests: IntCounterVec,
    pub(crate) request_duration: HistogramVec,
    pub(crate) upstream_up: IntGaugeVec,
    pub(crate) health_check_duration: HistogramVec,
    pub(crate) hosts: IntGaugeVec,
    pub(crate) auth_failures: IntCounterVec,
    pub(crate) fanout_duration: HistogramVec,
    pub config_reloads: IntCounterVec,
    pub(crate) tls_cert_expiry: IntGauge,
}

impl GatewayMetrics {
    pub(crate) fn new() -> prometheus::Result<Self> {
        let registry = Registry::new();
        super::register_process_info(&registry, "gateway")?;
        let histogram = |name: &str, help: &str, labels: &[&str]| {
            HistogramVec::new(HistogramOpts::new(name, help).buckets(LATENCY_BUCKETS.to_vec()), labels)
        };
        let metrics = GatewayMetrics {
            requests: IntCounterVec::new(
                Opts::new("spp_gateway_requests_total", "Requests proxied to agents."),
                &["host", "method", "code"],
            )?,
            request_duration: histogram(
                "spp_gateway_request_duration_seconds",
                "Latency of proxied requests.",
                &["host", "method"],
            )?,
            upstream_up: IntGaugeVec::new(
                Opts::new("spp_gateway_upstream_up", "1 while the agent passes health checks."),
                &["host"],
            )?,
            health_check_duration: histogram(
                "spp_gateway_upstream_health_check_duration_seconds",
                "Duration of agent health checks.",
                &["host"],
            )?,
            hosts: IntGaugeVec::new(
                Opts::new("spp_gateway_hosts", "Known agents by health state."),
                &["state"],
            )?,
            auth_failures: IntCounterVec::new(
                Opts::new("spp_gateway_auth_failures_total", "Refused requests by reason."),
                &["reason"],
            )?,
            fanout_duration: histogram(
                "spp_gateway_fanout_duration_seconds",
                "Latency of cluster fan-out views.",
                &["endpoint"],
            )?,
            config_reloads: IntCounterVec::new(
                Opts::new("spp_gateway_config_reloads_total", "Configuration reloads by outcome."),
                &["outcome"],
            )?,
            tls_cert_expiry: super::cert_expiry_gauge()?,
            registry,
        };
        metrics.register_all()?;
        metrics.initialize();
        Ok(metrics)
    }

    fn register_all(&self) -> prometheus::Result<()> {
        register_fields!(
            self.registry,
            self,
            requests,
            request_duration,
            upstream_up,
            health_check_duration,
            hosts,
            auth_failures,
            fanout_duration,
            config_reloads,
            tls_cert_expiry
        )
    }

    /// Series that must exist before their first event, so rates and alerts work.
    fn initialize(&self) {
        for reason in AUTH_FAILURE_REASONS {
            self.auth_failures.with_label_values(&[reason]).reset();
        }
        for endpoint in ["processes", "cpu_usage"] {
            self.fanout_duration.with_label_values(&[endpoint]);
        }
        for outcome in ["ok", "error"] {
            self.config_reloads.with_label_values(&[outcome]).reset();
        }
    }

    pub(crate) fn observe_request(&self, host: &str, method: &Method, status: StatusCode, took: Duration) {
        let method = match *method {
            Method::GET | Method::HEAD | Method::PUT | Method::POST | Method::DELETE => method.as_str(),
            _ => "other",
        };
        self.requests.with_label_values(&[host, method, status.as_str()]).inc();
        self.request_duration.with_label_values(&[host, method]).observe(took.as_secs_f64());
    }
}
