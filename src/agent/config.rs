//! Typed, validated settings of the agent (built from the command line in `cli.rs`).

use std::time::Duration;

#[derive(Clone, Debug)]
pub struct AgentConfig {
    /// Deadline of every SPP command (`--command-timeout`).
    pub command_timeout: Duration,
    /// Deadline of `exit`, after which the process counts as gone anyway.
    pub exit_timeout: Duration,
    /// Deadline of the `_get_client_id` handshake on the secondary port.
    pub handshake_timeout: Duration,
    /// Commands that may wait for one process before further ones get 503.
    pub queue_depth: usize,
    /// Size of the NUL-padded reply frames of primary and nfv (32768; 2048 for old SPP).
    pub frame_size: usize,
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// Time a client has to send a complete request head.
    pub header_timeout: Duration,
    /// Concurrent HTTP connections; further ones wait in the kernel backlog.
    pub max_connections: usize,
    /// Name reported by `GET /info` (the gateway names hosts by it).
    pub host_name: String,
    /// How long in-flight requests may run after SIGTERM.
    pub grace_period: Duration,
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            command_timeout: Duration::from_secs(5),
            exit_timeout: Duration::from_secs(2),
            handshake_timeout: Duration::from_secs(2),
            queue_depth: 64,
            frame_size: 32768,
            body_limit: 1 << 20,
            header_timeout: Duration::from_secs(10),
            max_connections: 1024,
            host_name: "localhost".to_owned(),
            grace_period: Duration::from_secs(10),
        }
    }
}
