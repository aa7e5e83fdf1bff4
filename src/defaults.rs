//! Every default value, written once: the command line (`cli.rs`, `sim/args.rs`), the
//! agent's `AgentConfig::default` and the gateway's file (`gateway/config.rs`) read
//! them from here. Durations go to the flags and the file as text (`text`).

use std::time::Duration;

/// The original spp-ctl's ports: spp_primary, the secondaries, the REST API.
pub(crate) const PRIMARY_PORT: u16 = 5555;
pub(crate) const SECONDARY_PORT: u16 = 6666;
pub(crate) const API_PORT: u16 = 7777;

/// SPP commands (agent).
pub(crate) const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);
pub(crate) const EXIT_TIMEOUT: Duration = Duration::from_secs(2);
pub(crate) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(2);
pub(crate) const QUEUE_DEPTH: usize = 64;
/// Reply frame of spp_primary/spp_nfv in current SPP (2048 before 2020).
pub(crate) const FRAME_SIZE: usize = 32768;
pub(crate) const SCRAPE_TIMEOUT: Duration = Duration::from_secs(1);
pub(crate) const AGENT_DRAIN: Duration = Duration::ZERO;

/// The HTTP server of both roles.
pub(crate) const BODY_LIMIT: usize = 1 << 20;
pub(crate) const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
pub(crate) const BODY_TIMEOUT: Duration = Duration::from_secs(10);
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
pub(crate) const MAX_CONNECTIONS: usize = 4096;
pub(crate) const GRACE: Duration = Duration::from_secs(10);

/// The gateway.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
pub(crate) const HEALTH_INTERVAL: Duration = Duration::from_secs(5);
pub(crate) const FANOUT_CONCURRENCY: usize = 64;
pub(crate) const FANOUT_DEADLINE: Duration = Duration::from_secs(5);
pub(crate) const GATEWAY_DRAIN: Duration = Duration::from_secs(5);
pub(crate) const DISCOVERY_INTERVAL: Duration = Duration::from_secs(30);

/// A duration as the flags and the file spell it: `5s`, `250ms`.
pub(crate) fn text(duration: Duration) -> String {
    if duration.subsec_millis() == 0 {
        format!("{}s", duration.as_secs())
    } else {
        format!("{}ms", duration.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_back_as_themselves() {
        for d in [COMMAND_TIMEOUT, IDLE_TIMEOUT, AGENT_DRAIN, Duration::from_millis(250)] {
            assert_eq!(humantime::parse_duration(&text(d)).ok(), Some(d));
        }
        assert_eq!((text(IDLE_TIMEOUT), text(AGENT_DRAIN)), ("60s".to_owned(), "0s".to_owned()));
    }
}
