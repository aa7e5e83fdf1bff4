//! Command-line flags (clap), every one also readable from an `SPP_CTL_*` variable.
//!
//! Raw values only; `agent::config` turns them into a validated `AgentConfig`.
//! `spp-ctl [-b ADDR] [-p 5555] [-s 6666] [-a 7777]` without a subcommand is the agent,
//! exactly like the original Python spp-ctl.

use crate::defaults;
use crate::logging::LogFormat;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "spp-ctl",
    version,
    about = "Controller of SPP (Soft Patch Panel): REST API v1 agent, gateway, simulator and client"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Without a subcommand: run the agent (options as for `spp-ctl agent`).
    #[command(flatten)]
    pub agent: AgentArgs,
    /// Target of the client commands (global: before or after the command).
    #[command(flatten)]
    pub client: crate::client::args::ClientArgs,
}

impl Cli {
    /// Parses the command line; exits with clap's usage error (2) when agent flags come
    /// with a command or client options with a server role.
    pub fn parse_checked() -> Cli {
        let args: Vec<_> = std::env::args_os().collect();
        let json = json_requested(&args, std::env::var_os("SPP_CTL_LOG_FORMAT"));
        let mut command = Cli::command();
        let matches = command.try_get_matches_from_mut(&args).unwrap_or_else(|e| exit(e, json));
        let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| exit(e.format(&mut command), json));
        let client = matches!(cli.command, Some(Command::Client(_)));
        if let Err(message) = crate::client::args::check_roles(&matches, &command, client) {
            exit(command.error(clap::error::ErrorKind::ArgumentConflict, message), json);
        }
        cli
    }

    /// The log format chosen for the role that runs (text for `token`).
    pub fn log_format(&self) -> LogFormat {
        match &self.command {
            None => self.agent.log.log_format,
            Some(Command::Agent(args)) => args.log.log_format,
            Some(Command::Gateway(args)) => args.log.log_format,
            Some(Command::Sim(args)) => args.log.log_format,
            Some(Command::Token(_) | Command::Client(_)) => LogFormat::Text,
        }
    }
}

/// Whether the command line (or the environment) asks for JSON logs: usage errors then
/// come as one JSON line too, like every other startup error (`--help` stays text).
fn json_requested(args: &[std::ffi::OsString], env: Option<std::ffi::OsString>) -> bool {
    let mut chosen = env.is_some_and(|v| v == "json");
    for (i, arg) in args.iter().enumerate() {
        if arg == "--log-format" {
            chosen = args.get(i + 1).is_some_and(|v| v == "json");
        } else if let Some(value) = arg.to_str().and_then(|a| a.strip_prefix("--log-format=")) {
            chosen = value == "json";
        }
    }
    chosen
}

/// Prints a usage error as clap does, or as one JSON line, and exits with clap's status.
fn exit(error: clap::Error, json: bool) -> ! {
    use clap::error::ErrorKind;
    let printed_as_is = matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    if !json || printed_as_is {
        error.exit();
    }
    let rendered = error.render().to_string();
    let line = rendered.lines().next().unwrap_or_default();
    crate::logging::print_error(LogFormat::Json, line.strip_prefix("error: ").unwrap_or(line));
    std::process::exit(error.exit_code());
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the agent (the default): SPP ports and the REST API v1.
    Agent(Box<AgentArgs>),
    /// Run the gateway in front of many agents.
    Gateway(GatewayArgs),
    /// Run simulated SPP processes that connect to an agent.
    Sim(crate::sim::SimArgs),
    /// Print a signed JWT for the gateway (or an agent with auth on).
    Token(crate::token::TokenArgs),
    #[command(flatten)]
    Client(crate::client::args::ClientCommand),
}

#[derive(Debug, Clone, Args)]
pub struct GatewayArgs {
    /// TOML configuration file (reloaded on SIGHUP and when it, or a file it names,
    /// changes).
    #[arg(long, env = "SPP_CTL_GW_CONFIG")]
    pub config: std::path::PathBuf,
    /// Overrides `listen` of the file.
    #[arg(long, env = "SPP_CTL_GW_LISTEN")]
    pub listen: Option<String>,
    /// Overrides `metrics.listen` of the file.
    #[arg(long, env = "SPP_CTL_GW_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,
    /// Sets any key of the file, e.g. `--set timeouts.request=5s` (repeatable); also
    /// from the environment as `SPP_CTL_GW__TIMEOUTS__REQUEST=5s`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Check the configuration and every file it names, print what would run, exit.
    #[arg(long)]
    pub check: bool,
    #[command(flatten)]
    pub log: LogArgs,
}

#[derive(Debug, Clone, Args)]
pub struct AgentArgs {
    /// Address to bind all ports to (IPv4; SPP processes cannot use IPv6).
    #[arg(short = 'b', long = "bind-addr", env = "SPP_CTL_BIND_ADDR", default_value = "localhost")]
    pub bind_addr: String,
    /// Port for spp_primary.
    #[arg(short = 'p', long = "pri-port", env = "SPP_CTL_PRI_PORT", default_value_t = defaults::PRIMARY_PORT)]
    pub pri_port: u16,
    /// Port for secondary processes (spp_nfv, spp_vf, spp_mirror, spp_pcap).
    #[arg(short = 's', long = "sec-port", env = "SPP_CTL_SEC_PORT", default_value_t = defaults::SECONDARY_PORT)]
    pub sec_port: u16,
    /// Port of the REST API.
    #[arg(short = 'a', long = "api-port", env = "SPP_CTL_API_PORT", default_value_t = defaults::API_PORT)]
    pub api_port: u16,
    /// Deadline of every SPP command (e.g. 5s, 500ms).
    #[arg(long, env = "SPP_CTL_COMMAND_TIMEOUT", default_value_t = defaults::text(defaults::COMMAND_TIMEOUT))]
    pub(crate) command_timeout: String,
    /// Deadline of `exit`; the process counts as gone afterwards anyway.
    #[arg(long, env = "SPP_CTL_EXIT_TIMEOUT", default_value_t = defaults::text(defaults::EXIT_TIMEOUT))]
    pub(crate) exit_timeout: String,
    /// Deadline of the `_get_client_id` handshake of a secondary.
    #[arg(long, env = "SPP_CTL_HANDSHAKE_TIMEOUT", default_value_t = defaults::text(defaults::HANDSHAKE_TIMEOUT))]
    pub(crate) handshake_timeout: String,
    /// Commands that may wait for one process; more get 503.
    #[arg(long, env = "SPP_CTL_QUEUE_DEPTH", default_value_t = defaults::QUEUE_DEPTH)]
    pub(crate) queue_depth: usize,
    /// Events kept for clients reconnecting to `GET /v1/events` with `Last-Event-ID`.
    #[arg(long, env = "SPP_CTL_EVENT_BUFFER", default_value_t = 1024)]
    pub(crate) event_buffer: usize,
    /// Reply frame size of spp_primary/spp_nfv (32768; 2048 for SPP before 2020).
    #[arg(long, env = "SPP_CTL_FRAME_SIZE", default_value_t = defaults::FRAME_SIZE)]
    pub(crate) frame_size: usize,
    /// Largest request body in bytes.
    #[arg(long, env = "SPP_CTL_BODY_LIMIT", default_value_t = defaults::BODY_LIMIT)]
    pub(crate) body_limit: usize,
    /// Time a client has to send a request head; a new connection must begin its
    /// first request within it too.
    #[arg(long, env = "SPP_CTL_HEADER_TIMEOUT", default_value_t = defaults::text(defaults::HEADER_TIMEOUT))]
    pub(crate) header_timeout: String,
    /// Time a client has to send a request body (408 and a close after it).
    #[arg(long, env = "SPP_CTL_BODY_TIMEOUT", default_value_t = defaults::text(defaults::BODY_TIMEOUT))]
    pub(crate) body_timeout: String,
    /// Time a keep-alive connection may stay open without a request (an HTTP/1.1 one
    /// also closes when --header-timeout passes without a whole request head).
    #[arg(long, env = "SPP_CTL_IDLE_TIMEOUT", default_value_t = defaults::text(defaults::IDLE_TIMEOUT))]
    pub(crate) idle_timeout: String,
    /// Concurrent HTTP connections; beyond them, the oldest idle one is closed to
    /// admit a new one.
    #[arg(long, env = "SPP_CTL_MAX_CONNECTIONS", default_value_t = defaults::MAX_CONNECTIONS)]
    pub(crate) max_connections: usize,
    /// How long in-flight requests may finish after SIGTERM/SIGINT.
    #[arg(long, env = "SPP_CTL_GRACE_PERIOD", default_value_t = defaults::text(defaults::GRACE))]
    pub(crate) grace_period: String,
    /// After SIGTERM, /readyz answers 503 this long before the listeners close.
    #[arg(long, env = "SPP_CTL_DRAIN_PERIOD", default_value_t = defaults::text(defaults::AGENT_DRAIN))]
    pub(crate) drain_period: String,
    /// Deadline of the SPP status reads behind one GET /metrics.
    #[arg(long, env = "SPP_CTL_SCRAPE_TIMEOUT", default_value_t = defaults::text(defaults::SCRAPE_TIMEOUT))]
    pub(crate) scrape_timeout: String,
    /// Name reported by GET /info (default: the machine's host name).
    #[arg(long, env = "SPP_CTL_HOST_NAME")]
    pub(crate) host_name: Option<String>,
    /// Serve the API over TLS with this certificate (PEM; with --tls-key).
    #[arg(long, env = "SPP_CTL_TLS_CERT")]
    pub(crate) tls_cert: Option<std::path::PathBuf>,
    /// Private key of --tls-cert (PEM).
    #[arg(long, env = "SPP_CTL_TLS_KEY")]
    pub(crate) tls_key: Option<std::path::PathBuf>,
    /// Require client certificates signed by this CA (mTLS, e.g. from the gateway).
    #[arg(long, env = "SPP_CTL_TLS_CLIENT_CA")]
    pub(crate) tls_client_ca: Option<std::path::PathBuf>,
    /// TOML file with an [auth] section (as the gateway's): JWT required on /v1.
    #[arg(long, env = "SPP_CTL_AUTH_CONFIG")]
    pub(crate) auth_config: Option<std::path::PathBuf>,
    /// Also serve /metrics, /healthz and /readyz on this address (e.g. 0.0.0.0:9478), plain
    /// HTTP without auth, for Prometheus and probes when the API requires client
    /// certificates. Off by default.
    #[arg(long, env = "SPP_CTL_METRICS_ADDR")]
    pub(crate) metrics_addr: Option<String>,
    /// Attach simulated processes (primary, nfv 1, vf 2, mirror 3, pcap 4): a demo
    /// without DPDK.
    #[arg(long, env = "SPP_CTL_SIMULATE")]
    pub simulate: bool,
    /// Check the flags and every file they name, print what would run, exit.
    #[arg(long)]
    pub check: bool,
    #[command(flatten)]
    pub log: LogArgs,
}

#[derive(Debug, Clone, Args)]
pub struct LogArgs {
    /// Log format on stderr.
    #[arg(long, env = "SPP_CTL_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Log level or filter (RUST_LOG wins when set).
    #[arg(long, env = "SPP_CTL_LOG_LEVEL", default_value = "info")]
    pub log_level: String,
}
