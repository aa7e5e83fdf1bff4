//! Benchmark harness: COUNT agents in one process, API ports BASE..BASE+COUNT on
//! 127.0.0.1, without SPP processes. They stand in for a large cluster behind the
//! gateway in `bench/gateway.sh`.
//!
//! Usage: many_agents BASE_PORT COUNT

use spp_ctl::agent::{self, AgentConfig, Listeners};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let base: u16 = args.next().unwrap_or_else(|| "40000".into()).parse()?;
    let count: u16 = args.next().unwrap_or_else(|| "200".into()).parse()?;
    let shutdown = CancellationToken::new();
    let mut running = Vec::new();
    for i in 0..count {
        let listeners = Listeners {
            primary: TcpListener::bind("127.0.0.1:0").await?,
            secondary: TcpListener::bind("127.0.0.1:0").await?,
            api: TcpListener::bind(("127.0.0.1", base + i)).await?,
            metrics: None,
        };
        let config = AgentConfig { host_name: format!("a{i}"), ..AgentConfig::default() };
        running.push(agent::start(config, listeners, shutdown.clone()).await?);
    }
    println!("{count} agents listening on 127.0.0.1:{base}..{}", base + count - 1);
    tokio::signal::ctrl_c().await?;
    shutdown.cancel();
    Ok(())
}
