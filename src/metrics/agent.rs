//! The agent's own metrics (connections, commands, HTTP requests). The data-plane
//! series read from SPP at scrape time live in `agent::scrape`.

use prometheus::{
    HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};

/// Round trips to SPP processes are sub-millisecond when healthy, seconds when not.
const COMMAND_BUCKETS: &[f64] =
    &[0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

pub(crate) struct AgentMetrics {
    pub(crate) registry: Registry,
    pub(crate) processes: IntGaugeVec,
    pub(crate) process_up: IntGaugeVec,
    pub(crate) connections: IntCounterVec,
    pub(crate) commands: IntCounterVec,
    pub(crate) command_duration: HistogramVec,
    pub(crate) queue_depth: IntGaugeVec,
    pub(crate) http_requests: IntCounterVec,
    pub(crate) http_duration: HistogramVec,
    pub(crate) scrape_duration: prometheus::Gauge,
    pub(crate) scrape_errors: IntCounter,
    pub(crate) tls_cert_expiry: IntGauge,
}

impl AgentMetrics {
    pub(crate) fn new() -> prometheus::Result<Self> {
        let registry = Registry::new();
        super::register_process_info(&registry, "agent")?;
        let metrics = AgentMetrics {
            processes: IntGaugeVec::new(
                Opts::new("spp_agent_processes", "Connected SPP processes by type."),
                &["type"],
            )?,
            process_up: IntGaugeVec::new(
                Opts::new("spp_agent_process_up", "1 while the SPP process is connected."),
                &["type", "client_id"],
            )?,
            connections: IntCounterVec::new(
                Opts::new("spp_agent_connections_total", "SPP connection events."),
                &["type", "event"],
            )?,
            commands: IntCounterVec::new(
                Opts::new("spp_agent_commands_total", "SPP commands sent, by outcome."),
                &["type", "command", "outcome"],
            )?,
            command_duration: HistogramVec::new(
                HistogramOpts::new("spp_agent_command_duration_seconds", "Round trip of an SPP command.")
                    .buckets(COMMAND_BUCKETS.to_vec()),
                &["type", "command"],
            )?,
            queue_depth: IntGaugeVec::new(
                Opts::new("spp_agent_queue_depth", "Commands waiting for an SPP process."),
                &["type", "client_id"],
            )?,
            http_requests: IntCounterVec::new(
                Opts::new("spp_agent_http_requests_total", "REST requests by route template."),
                &["route", "method", "code"],
            )?,
            http_duration: HistogramVec::new(
                HistogramOpts::new("spp_agent_http_request_duration_seconds", "REST request latency.")
                    .buckets(COMMAND_BUCKETS.to_vec()),
                &["route", "method"],
            )?,
            scrape_duration: prometheus::Gauge::with_opts(Opts::new(
                "spp_scrape_duration_seconds",
                "Time the last scrape spent reading SPP status.",
            ))?,
            scrape_errors: IntCounter::with_opts(Opts::new(
                "spp_scrape_errors_total",
                "SPP processes that could not be read during a scrape.",
            ))?,
            tls_cert_expiry: super::cert_expiry_gauge()?,
            registry,
        };
        metrics.register_all()?;
        Ok(metrics)
    }

    fn register_all(&self) -> prometheus::Result<()> {
        register_fields!(
            self.registry,
            self,
            processes,
            process_up,
            connections,
            commands,
            command_duration,
            queue_depth,
            http_requests,
            http_duration,
            scrape_duration,
            scrape_errors,
            tls_cert_expiry
        )
    }

    /// Counts one connection event (`connect`, `reconnect`, `disconnect`, `rejected`).
    pub(crate) fn connection(&self, proc_type: &str, event: &str) {
        self.connections.with_label_values(&[proc_type, event]).inc();
    }
}
