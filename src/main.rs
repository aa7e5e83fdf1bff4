//! Entry point: flags → logging → role.

use anyhow::{Context, anyhow};
use clap::CommandFactory;
use spp_ctl::agent::{self, AgentConfig, Listeners};
use spp_ctl::cli::{AgentArgs, Cli, Command, GatewayArgs};
use spp_ctl::gateway::{self, GatewayConfig};
use spp_ctl::{logging, shutdown, sim};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use tokio::net::TcpListener;

fn main() -> ExitCode {
    let cli = Cli::parse_checked();
    let format = cli.log_format();
    spp_ctl::tls::install_crypto_provider();
    if let Some(Command::Client(command)) = cli.command {
        return spp_ctl::client::main(cli.client, command, Cli::command());
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => return fail(format, anyhow!(e).context("cannot start the async runtime")),
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(format, e),
    }
}

fn fail(format: logging::LogFormat, e: anyhow::Error) -> ExitCode {
    logging::print_error(format, &format!("{e:#}"));
    ExitCode::FAILURE
}

/// A configuration error as its one line: its text already names the cause, which `{:#}`
/// in `fail` would print again if the error were kept whole.
fn line(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("{e}")
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Agent(Box::new(cli.agent))) {
        Command::Agent(args) => run_agent(*args).await,
        Command::Gateway(args) => run_gateway(args).await,
        Command::Token(args) => spp_ctl::token::run(&args),
        Command::Client(_) => Err(anyhow!("client commands run before the runtime starts")),
        Command::Sim(args) => {
            logging::init(args.log.log_format, &args.log.log_level).map_err(line)?;
            sim::run(args, shutdown::on_signals()).await
        }
    }
}

async fn run_agent(args: AgentArgs) -> anyhow::Result<()> {
    let config = AgentConfig::from_args(&args).map_err(line)?;
    logging::init(args.log.log_format, &args.log.log_level).map_err(line)?;
    let ip = resolve_ipv4(&args.bind_addr).await?;
    if args.check {
        let ports = [args.pri_port, args.sec_port, args.api_port].map(|port| SocketAddr::new(ip, port));
        let summary = spp_ctl::check::agent(&config, ports).await.map_err(line)?;
        println!("spp-ctl agent: configuration is valid\n{summary}");
        return Ok(());
    }
    spp_ctl::open_files::raise_for(config.max_connections);
    let listeners = Listeners {
        primary: bind(ip, args.pri_port, "primary").await?,
        secondary: bind(ip, args.sec_port, "secondary").await?,
        api: bind(ip, args.api_port, "API").await?,
        metrics: bind_metrics(config.metrics_addr).await?,
    };
    let shutdown = shutdown::on_signals();
    let running = agent::start(config, listeners, shutdown.clone()).await?;
    if args.simulate {
        let addrs = running.addresses;
        sim::attach_default(reachable(addrs.primary), reachable(addrs.secondary), shutdown);
    }
    spp_ctl::notify::ready();
    running.wait().await;
    Ok(())
}

async fn run_gateway(args: GatewayArgs) -> anyhow::Result<()> {
    let overrides = gateway::config::overrides(&args.set, std::env::vars()).map_err(line)?;
    let mut config = GatewayConfig::load_with(&args.config, &overrides).map_err(line)?;
    let address =
        |flag: &str, raw: &str| raw.parse::<SocketAddr>().with_context(|| format!("{flag} {raw:?}"));
    if let Some(listen) = &args.listen {
        config.listen = address("--listen", listen)?;
    }
    if let Some(listen) = &args.metrics_listen {
        config.metrics_listen = Some(address("--metrics-listen", listen)?);
    }
    logging::init(args.log.log_format, &args.log.log_level).map_err(line)?;
    if args.check {
        let summary = spp_ctl::check::gateway(&config).await.map_err(line)?;
        println!("spp-ctl gateway: configuration {} is valid\n{summary}", args.config.display());
        return Ok(());
    }
    spp_ctl::open_files::raise_for(config.max_connections);
    let listener =
        TcpListener::bind(config.listen).await.with_context(|| format!("cannot bind {}", config.listen))?;
    let metrics_listener = bind_metrics(config.metrics_listen).await?;
    let source = gateway::reload::Source { path: args.config, overrides };
    let running =
        gateway::start(config, listener, metrics_listener, Some(source), shutdown::on_signals()).await?;
    spp_ctl::notify::ready();
    running.wait().await;
    Ok(())
}

/// SPP processes parse the controller address with `inet_addr()`: IPv4 only.
async fn resolve_ipv4(host: &str) -> anyhow::Result<IpAddr> {
    let mut addrs =
        tokio::net::lookup_host((host, 0)).await.with_context(|| format!("cannot resolve {host}"))?;
    addrs
        .find(|a| a.is_ipv4())
        .map(|a| a.ip())
        .ok_or_else(|| anyhow!("{host} has no IPv4 address (SPP processes speak IPv4 only)"))
}

async fn bind(ip: IpAddr, port: u16, what: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind((ip, port)).await.with_context(|| format!("cannot bind the {what} port {ip}:{port}"))
}

async fn bind_metrics(addr: Option<SocketAddr>) -> anyhow::Result<Option<TcpListener>> {
    match addr {
        Some(addr) => Ok(Some(TcpListener::bind(addr).await.with_context(|| format!("cannot bind {addr}"))?)),
        None => Ok(None),
    }
}

/// Where a local client can reach a listener bound to `addr` (0.0.0.0 → loopback).
fn reachable(addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() { SocketAddr::from((Ipv4Addr::LOCALHOST, addr.port())) } else { addr }
}
