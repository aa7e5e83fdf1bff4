//! The client's flags and commands (clap). Target flags are global, so they may stand
//! before or after the command (`spp-ctl -H h1 nfv 1 status`, `spp-ctl get hosts -o json`);
//! `check_roles` refuses them next to the server roles, and agent flags next to a command.

use clap::parser::ValueSource;
use clap::{ArgMatches, Args, Subcommand, ValueEnum};
use std::path::PathBuf;

const CLIENT: &str = "Client options";

/// Where and how to connect; unset ones come from the context (`client::config`).
#[derive(Debug, Clone, Default, Args)]
pub struct ClientArgs {
    /// Gateway or agent URL, e.g. https://gw:8443 or http://127.0.0.1:7777.
    #[arg(long, global = true, env = "SPP_CTL_SERVER", help_heading = CLIENT)]
    pub(crate) server: Option<String>,
    /// The agent behind a gateway (path /v1/hosts/HOST/...).
    #[arg(short = 'H', long, global = true, env = "SPP_CTL_HOST", help_heading = CLIENT)]
    pub(crate) host: Option<String>,
    /// Output format.
    #[arg(short = 'o', long, global = true, value_enum, env = "SPP_CTL_OUTPUT", help_heading = CLIENT)]
    pub(crate) output: Option<Output>,
    /// Context of the config file ($XDG_CONFIG_HOME/spp-ctl/config.toml) to use.
    #[arg(long, global = true, env = "SPP_CTL_CONTEXT", help_heading = CLIENT)]
    pub(crate) context: Option<String>,
    /// CA certificate (PEM) that issued the server's certificate (https).
    #[arg(long, global = true, env = "SPP_CTL_CACERT", help_heading = CLIENT)]
    pub(crate) cacert: Option<PathBuf>,
    /// Client certificate (PEM) for servers that require one (with --client-key).
    #[arg(long, global = true, env = "SPP_CTL_CLIENT_CERT", help_heading = CLIENT)]
    pub(crate) client_cert: Option<PathBuf>,
    /// Private key (PEM) of --client-cert.
    #[arg(long, global = true, env = "SPP_CTL_CLIENT_KEY", help_heading = CLIENT)]
    pub(crate) client_key: Option<PathBuf>,
    /// File holding the bearer token (JWT).
    #[arg(long, global = true, env = "SPP_CTL_TOKEN_FILE", help_heading = CLIENT)]
    pub(crate) token_file: Option<PathBuf>,
    /// The bearer token itself (prefer SPP_CTL_TOKEN or --token-file: flags end up in
    /// shell history).
    #[arg(long, global = true, env = "SPP_CTL_TOKEN", hide_env_values = true, help_heading = CLIENT)]
    pub(crate) token: Option<String>,
    /// Deadline of one request, e.g. 30s.
    #[arg(long, global = true, env = "SPP_CTL_REQUEST_TIMEOUT", help_heading = CLIENT)]
    pub(crate) request_timeout: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Output {
    /// Aligned tables and the SPP CLI's status layouts.
    Table,
    /// The server's JSON body, unchanged.
    Json,
    /// The server's JSON as YAML.
    Yaml,
}

/// The client's commands, flattened into the top-level command list.
#[derive(Debug, Clone, Subcommand)]
pub enum ClientCommand {
    /// List hosts, processes, CPU usage or the CPU layout.
    Get(GetArgs),
    /// spp_primary: status, ports, patches, forwarding, flow rules, launch, exit.
    #[command(visible_alias = "pri")]
    Primary {
        #[command(subcommand)]
        action: Option<PrimaryAction>,
    },
    /// spp_nfv ID: status, ports, patches, forwarding, exit.
    Nfv {
        id: i64,
        #[command(subcommand)]
        action: Option<NfvAction>,
    },
    /// spp_vf ID: status, components, ports with VLAN, classifier table, exit.
    Vf {
        id: i64,
        #[command(subcommand)]
        action: Option<VfAction>,
    },
    /// spp_mirror ID: status, components, ports, exit.
    Mirror {
        id: i64,
        #[command(subcommand)]
        action: Option<MirrorAction>,
    },
    /// spp_pcap ID: status, capture start/stop, exit.
    Pcap {
        id: i64,
        #[command(subcommand)]
        action: Option<PcapAction>,
    },
    /// Any request: `spp-ctl raw GET /v1/processes`, `raw PUT /v1/nfvs/1/forward -d '{...}'`.
    Raw {
        method: String,
        /// Path and query; `-H` does not rewrite it.
        path: String,
        /// Request body (JSON); `@FILE` reads a file.
        #[arg(short = 'd', long)]
        data: Option<String>,
    },
    /// Follow the event stream of an agent (-H HOST) or of the cluster (-A).
    Events(EventsArgs),
    /// Wait until processes are attached, e.g. `spp-ctl wait nfv:1 vf:2`.
    Wait {
        /// `primary` or TYPE:ID.
        #[arg(required = true)]
        processes: Vec<String>,
        #[arg(long, default_value = "30s")]
        timeout: String,
    },
    /// Run a plan of operations on many hosts through the gateway.
    Apply {
        /// The plan, JSON or YAML (`-` for stdin).
        #[arg(short = 'f', long = "filename")]
        file: PathBuf,
        /// Validate on every host without changing anything.
        #[arg(long)]
        dry_run: bool,
    },
    /// Show or change the contexts of the config file.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Print a shell completion script: bash, zsh or fish.
    Completion { shell: clap_complete::Shell },
}

#[derive(Debug, Clone, Args)]
pub struct GetArgs {
    #[command(subcommand)]
    pub(crate) what: GetWhat,
}

#[derive(Debug, Clone, Subcommand)]
pub(crate) enum GetWhat {
    /// The gateway's hosts and their state (one with NAME).
    #[command(visible_alias = "host")]
    Hosts { name: Option<String> },
    /// Attached processes; with -A every host behind the gateway.
    #[command(visible_aliases = ["process", "procs"])]
    Processes(Fanout),
    /// CPU cores used per process; with -A every host behind the gateway.
    #[command(name = "cpu-usage", visible_alias = "cpu_usage")]
    CpuUsage(Fanout),
    /// Sockets, cores and lcores of the agent's machine.
    #[command(name = "cpu-layout", visible_alias = "cpu_layout")]
    CpuLayout,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct Fanout {
    /// Every host behind the gateway (/v1/cluster/...).
    #[arg(short = 'A', long = "all-hosts")]
    pub(crate) all: bool,
    /// With -A: only these hosts (comma separated).
    #[arg(long, requires = "all")]
    pub(crate) hosts: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct EventsArgs {
    /// The merged stream of every host (/v1/cluster/events); `-A` as for `get`.
    #[arg(short = 'A', long, visible_alias = "all-hosts")]
    pub(crate) all: bool,
    /// Resume after this event id (Last-Event-ID).
    #[arg(long)]
    pub(crate) since: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StartStop {
    Start,
    Stop,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AddDel {
    Add,
    Del,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Dir {
    Rx,
    Tx,
}

#[derive(Debug, Clone, Subcommand)]
pub enum PrimaryAction {
    /// Ports, lcores and counters (the default).
    Status,
    /// Reset the port counters.
    Clear,
    /// Start or stop the primary's forwarder.
    Forward { action: StartStop },
    /// Add a port; a pipe needs --rx and --tx rings.
    Add {
        port: String,
        #[arg(long, requires = "tx")]
        rx: Option<String>,
        #[arg(long, requires = "rx")]
        tx: Option<String>,
    },
    /// Delete a port.
    Del { port: String },
    /// Patch SRC to DST, or `patch reset` to remove every patch.
    Patch { src: String, dst: Option<String> },
    /// Launch a secondary: `launch nfv 3 -l 1,2 --proc-type secondary -- -n 3 -s 127.0.0.1:6666`.
    Launch {
        /// nfv, vf, mirror or pcap (or spp_nfv …).
        proc_type: String,
        client_id: u32,
        /// EAL options, `--`, then the application's options.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        options: Vec<String>,
    },
    /// Flow rules of the physical ports.
    Flow {
        #[command(subcommand)]
        action: FlowAction,
    },
    /// Terminate spp_primary.
    Exit,
}

#[derive(Debug, Clone, Subcommand)]
pub enum FlowAction {
    /// The rules of every physical port (from the status).
    List,
    /// Check a rule: `validate 0 ingress pattern eth / end actions queue index 1 / end`.
    Validate {
        port_id: i64,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        rule: Vec<String>,
    },
    /// Create a rule (same words as validate).
    Create {
        port_id: i64,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        rule: Vec<String>,
    },
    /// Destroy one rule, or `all` of the port.
    Destroy { port_id: i64, rule: String },
}

#[derive(Debug, Clone, Subcommand)]
pub enum NfvAction {
    /// Forwarding state, lcores, ports and patches (the default).
    Status,
    /// Start forwarding.
    Forward,
    /// Stop forwarding.
    Stop,
    /// Add a port (ring, vhost, pcap, memif, nullpmd).
    Add { port: String },
    /// Delete a port.
    Del { port: String },
    /// Patch SRC to DST, or `patch reset` to remove every patch.
    Patch { src: String, dst: Option<String> },
    /// Terminate the process.
    Exit,
}

#[derive(Debug, Clone, Subcommand)]
pub enum VfAction {
    /// Lcores, ports, components and classifier table (the default).
    Status,
    /// Start or stop a component.
    Component {
        #[command(subcommand)]
        action: VfComponent,
    },
    /// Attach (`add`) or detach (`del`) a component's port:
    /// `port add ring:0 rx fwd1 [add_vlantag ID PCP | del_vlantag]`.
    Port {
        action: AddDel,
        port: String,
        dir: Dir,
        name: String,
        /// `add_vlantag ID PCP` or `del_vlantag`.
        vlan: Vec<String>,
    },
    /// `classifier_table add|del mac MAC PORT` or `... vlan VID MAC PORT`.
    #[command(name = "classifier_table", visible_alias = "classifier-table")]
    ClassifierTable {
        action: AddDel,
        /// mac or vlan.
        kind: String,
        /// MAC PORT, or VID MAC PORT.
        #[arg(num_args = 2..=3, required = true)]
        values: Vec<String>,
    },
    /// Terminate the process.
    Exit,
}

#[derive(Debug, Clone, Subcommand)]
pub enum VfComponent {
    /// `start NAME CORE TYPE` (forward, merge, classifier).
    Start { name: String, core: u32, kind: String },
    /// `stop NAME`.
    Stop { name: String },
}

#[derive(Debug, Clone, Subcommand)]
pub enum MirrorAction {
    /// Lcores, ports and components (the default).
    Status,
    /// Start or stop a component.
    Component {
        #[command(subcommand)]
        action: MirrorComponent,
    },
    /// Attach (`add`) or detach (`del`) a component's port: `port add ring:0 rx mr0`.
    Port { action: AddDel, port: String, dir: Dir, name: String },
    /// Terminate the process.
    Exit,
}

#[derive(Debug, Clone, Subcommand)]
pub enum MirrorComponent {
    /// `start NAME CORE` (type mirror).
    Start { name: String, core: u32 },
    /// `stop NAME`.
    Stop { name: String },
}

#[derive(Debug, Clone, Subcommand)]
pub enum PcapAction {
    /// Capture state, lcores and files (the default).
    Status,
    /// Start capturing.
    Start,
    /// Stop capturing.
    Stop,
    /// Terminate the process.
    Exit,
}

#[derive(Debug, Clone, Subcommand)]
pub enum ConfigAction {
    /// Print the config file (its path on stderr).
    View,
    /// List the contexts; `*` marks the current one.
    #[command(name = "get-contexts")]
    GetContexts,
    /// Print the current context's name.
    #[command(name = "current-context")]
    CurrentContext,
    /// Make NAME the current context.
    #[command(name = "use-context")]
    UseContext { name: String },
    /// Create or change context NAME from the given client options
    /// (`config set-context prod --server https://gw:8443 --cacert ca.pem`).
    #[command(name = "set-context")]
    SetContext { name: String },
    /// Remove context NAME.
    #[command(name = "delete-context")]
    DeleteContext { name: String },
}

/// Refuses client options given to a server role (or to the agent without a
/// subcommand), and agent flags given before a subcommand: clap cannot say it, since
/// the client options are global.
pub(crate) fn check_roles(
    matches: &ArgMatches,
    command: &clap::Command,
    client: bool,
) -> Result<(), RoleError> {
    let given = |id: &str| matches!(matches.value_source(id), Some(ValueSource::CommandLine));
    for arg in command.get_arguments() {
        let (Some(long), true) = (arg.get_long(), given(arg.get_id().as_str())) else { continue };
        let is_client = arg.get_help_heading() == Some(CLIENT);
        if is_client && !client {
            return Err(RoleError::ClientOption(long.to_owned()));
        }
        if !is_client && matches.subcommand_name().is_some() {
            return Err(RoleError::AgentFlag(long.to_owned()));
        }
    }
    Ok(())
}

/// A flag given to the wrong role; the argument is its long name.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RoleError {
    #[error("--{0} is a client option: it goes with a client command")]
    ClientOption(String),
    #[error("--{0} starts the agent: give it without a command, or after `spp-ctl agent`")]
    AgentFlag(String),
}
