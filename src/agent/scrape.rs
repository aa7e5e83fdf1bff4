//! `GET /metrics` of the agent: its own metrics plus the data plane read from SPP at
//! scrape time (port counters from the primary, nfv forwarding state, vf/mirror
//! component counts).
//!
//! Every process is asked for `status` at most once per scrape, all in parallel, each
//! under the scrape deadline: a hung process only leaves its own series out.

use crate::agent::command::Command;
use crate::agent::events::EventHub;
use crate::agent::process::Reply;
use crate::agent::registry::Registry;
use crate::metrics::{self, AgentMetrics};
use crate::proc_type::ProcType;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use prometheus::core::Collector;
use prometheus::proto::MetricFamily;
use prometheus::{IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

pub(crate) struct Scraper {
    pub(crate) registry: Registry,
    pub(crate) metrics: Arc<AgentMetrics>,
    pub(crate) deadline: Duration,
}

/// The `/metrics` route.
pub(crate) fn routes(scraper: Arc<Scraper>) -> axum::Router {
    axum::Router::new().route("/metrics", get(metrics_get)).with_state(scraper)
}

async fn metrics_get(State(scraper): State<Arc<Scraper>>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], scraper.render().await)
}

impl Scraper {
    pub(crate) async fn render(&self) -> String {
        self.refresh_process_gauges();
        let started = Instant::now();
        let dataplane = self.read_dataplane().await;
        self.metrics.scrape_duration.set(started.elapsed().as_secs_f64());
        let mut families = self.metrics.registry.gather();
        families.extend(dataplane);
        families.extend(event_streams(self.registry.events()).unwrap_or_default());
        metrics::encode(families)
    }

    /// Registry-derived gauges are rebuilt from scratch so departed processes vanish.
    fn refresh_process_gauges(&self) {
        let m = &self.metrics;
        m.process_up.reset();
        m.queue_depth.reset();
        for ty in [ProcType::Primary].into_iter().chain(ProcType::SECONDARIES) {
            m.processes.with_label_values(&[ty.as_str()]).set(0);
        }
        for handle in self.registry.snapshot() {
            let name = handle.name();
            let id = name.id.map(|id| id.to_string()).unwrap_or_default();
            let labels = [name.ty.as_str(), id.as_str()];
            m.processes.with_label_values(&[name.ty.as_str()]).inc();
            m.process_up.with_label_values(&labels).set(1);
            m.queue_depth.with_label_values(&labels).set(handle.queued() as i64);
        }
    }

    async fn read_dataplane(&self) -> Vec<MetricFamily> {
        let mut calls = JoinSet::new();
        for handle in self.registry.snapshot() {
            let deadline = self.deadline;
            calls.spawn(async move {
                let reply = tokio::time::timeout(deadline, handle.call(Command::status())).await;
                (handle.name(), reply)
            });
        }
        let Ok(mut series) = Dataplane::new() else { return Vec::new() };
        while let Some(joined) = calls.join_next().await {
            match joined {
                Ok((name, Ok(Ok(Reply::Json(status))))) => series.add(name.ty, name.id, &status),
                _ => self.metrics.scrape_errors.inc(),
            }
        }
        series.gather()
    }
}

/// The hub's own counts, read now: open `GET /v1/events` streams and those cut off for
/// falling behind (a consumer too slow for the event rate, or stuck).
fn event_streams(hub: &EventHub) -> prometheus::Result<Vec<MetricFamily>> {
    let open = IntGauge::with_opts(Opts::new("spp_agent_event_streams", "Open GET /v1/events streams."))?;
    open.set(i64::try_from(hub.subscribers()).unwrap_or(i64::MAX));
    let cut = IntCounter::with_opts(Opts::new(
        "spp_agent_event_streams_cut_total",
        "Event streams ended with `dropped` because their consumer fell a queue behind.",
    ))?;
    cut.inc_by(hub.cut_off());
    Ok([open.collect(), cut.collect()].concat())
}

/// Series built fresh for one scrape.
struct Dataplane {
    rx: IntCounterVec,
    tx: IntCounterVec,
    rx_dropped: IntCounterVec,
    tx_dropped: IntCounterVec,
    forwarding: IntGaugeVec,
    components: IntGaugeVec,
}

impl Dataplane {
    fn new() -> prometheus::Result<Self> {
        let port = |name: &str, help: &str| IntCounterVec::new(Opts::new(name, help), &["port"]);
        Ok(Dataplane {
            rx: port("spp_port_rx_packets_total", "Packets received by an SPP port (primary status).")?,
            tx: port("spp_port_tx_packets_total", "Packets sent by an SPP port (primary status).")?,
            rx_dropped: port(
                "spp_port_rx_dropped_packets_total",
                "Packets dropped on receive (ring ports).",
            )?,
            tx_dropped: port("spp_port_tx_dropped_packets_total", "Packets dropped on transmit.")?,
            forwarding: IntGaugeVec::new(
                Opts::new("spp_nfv_forwarding", "1 while an spp_nfv forwards, 0 while idling."),
                &["client_id"],
            )?,
            components: IntGaugeVec::new(
                Opts::new("spp_vf_components", "Components of an spp_vf or spp_mirror by type."),
                &["client_id", "type"],
            )?,
        })
    }

    fn add(&mut self, ty: ProcType, id: Option<u32>, status: &Value) {
        let client_id = id.map(|id| id.to_string()).unwrap_or_default();
        match ty {
            ProcType::Primary => self.add_primary(status),
            ProcType::Nfv => {
                let running = status.get("status").and_then(Value::as_str) == Some("running");
                self.forwarding.with_label_values(&[&client_id]).set(i64::from(running));
            }
            ProcType::Vf | ProcType::Mirror => {
                let cores = status.pointer("/info/core").and_then(Value::as_array).into_iter().flatten();
                for kind in
                    cores.filter_map(|c| c.get("type").and_then(Value::as_str)).filter(|t| *t != "unuse")
                {
                    self.components.with_label_values(&[&client_id, kind]).inc();
                }
            }
            ProcType::Pcap => {}
        }
    }

    fn add_primary(&self, status: &Value) {
        let ports = |key: &str| status.get(key).and_then(Value::as_array).cloned().unwrap_or_default();
        for (kind, key) in [("phy", "phy_ports"), ("ring", "ring_ports")] {
            for port in ports(key) {
                let Some(id) = port.get("id").and_then(Value::as_u64) else { continue };
                let label = format!("{kind}:{id}");
                let counter = |field: &str| port.get(field).and_then(Value::as_u64);
                for (series, field) in [
                    (&self.rx, "rx"),
                    (&self.tx, "tx"),
                    (&self.rx_dropped, "rx_drop"),
                    (&self.tx_dropped, "tx_drop"),
                ] {
                    if let Some(value) = counter(field) {
                        series.with_label_values(&[&label]).inc_by(value);
                    }
                }
            }
        }
    }

    fn gather(self) -> Vec<MetricFamily> {
        use prometheus::core::Collector;
        let collectors: [&dyn Collector; 6] =
            [&self.rx, &self.tx, &self.rx_dropped, &self.tx_dropped, &self.forwarding, &self.components];
        collectors.iter().flat_map(|c| c.collect()).filter(|f| !f.get_metric().is_empty()).collect()
    }
}
