//! Prometheus metrics: one `prometheus::Registry` per running instance (never global
//! statics, so tests can run several agents in one process), and the text encoding.

/// Registers each named field (a collector) of `$metrics` with `$registry`.
macro_rules! register_fields {
    ($registry:expr, $metrics:ident, $($field:ident),+ $(,)?) => {{
        $($registry.register(Box::new($metrics.$field.clone()))?;)+
        Ok(())
    }};
}

pub(crate) mod agent;
pub(crate) mod gateway;

pub(crate) use agent::AgentMetrics;
pub(crate) use gateway::GatewayMetrics;

use prometheus::proto::MetricFamily;
use prometheus::{Encoder, IntGaugeVec, Opts, Registry, TextEncoder};

/// The exposition content type; the crate's own constant lacks the charset.
pub(crate) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Registers what both roles export about themselves: `spp_ctl_build_info{version,
/// revision, role} 1` and the `process_*` series (CPU, memory, fds, start time).
pub(crate) fn register_process_info(registry: &Registry, role: &str) -> prometheus::Result<()> {
    let info = IntGaugeVec::new(
        Opts::new("spp_ctl_build_info", "Build identity of spp-ctl."),
        &["version", "revision", "role"],
    )?;
    info.with_label_values(&[env!("CARGO_PKG_VERSION"), env!("SPP_CTL_REVISION"), role]).set(1);
    registry.register(Box::new(info))?;
    registry.register(Box::new(prometheus::process_collector::ProcessCollector::for_self()))
}

/// `spp_ctl_tls_cert_expiry_timestamp_seconds`, which both roles export.
pub(crate) fn cert_expiry_gauge() -> prometheus::Result<prometheus::IntGauge> {
    prometheus::IntGauge::with_opts(Opts::new(
        "spp_ctl_tls_cert_expiry_timestamp_seconds",
        "Expiry (notAfter) of the served TLS certificate, Unix time; 0 without TLS.",
    ))
}

/// Encodes metric families in the text format, sorted by name as Prometheus expects.
pub(crate) fn encode(mut families: Vec<MetricFamily>) -> String {
    families.sort_by(|a, b| a.name().cmp(b.name()));
    let mut out = Vec::with_capacity(16 * 1024);
    // Encoding into memory fails only for malformed families, which we never build.
    if let Err(e) = TextEncoder::new().encode(&families, &mut out) {
        tracing::error!(error = %e, "metrics encoding failed");
    }
    String::from_utf8_lossy(&out).into_owned()
}
