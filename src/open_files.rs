//! The open-files limit. A server with thousands of connections needs more descriptors
//! than the usual soft limit of 1,024, so the roles raise it to the hard limit at start,
//! as Go programs do. When accept still runs out, an idle connection is closed instead
//! (`http_server`).

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
use tracing::{info, warn};

/// Raises the soft limit on open files to the hard limit, and both to `at_least` where
/// the process may (root may raise the hard limit). Returns the soft limit now in force.
pub fn raise(at_least: u64) -> std::io::Result<u64> {
    let Rlimit { current, maximum } = getrlimit(Resource::Nofile);
    let wanted = maximum.map_or(at_least, |hard| hard.max(at_least));
    match current {
        None => return Ok(u64::MAX),
        Some(soft) if soft >= wanted => return Ok(soft),
        Some(_) => {}
    }
    let maximum = maximum.map(|hard| hard.max(wanted));
    setrlimit(Resource::Nofile, Rlimit { current: Some(wanted), maximum })?;
    Ok(wanted)
}

/// `raise` at the start of a server, saying in the log when the limit stays below what
/// `max_connections` needs.
pub fn raise_for(max_connections: usize) {
    match raise(0) {
        // Listeners, SPP sockets, log and config files need some more.
        Ok(limit) if limit < max_connections as u64 + 64 => warn!(
            limit,
            max_connections,
            "open-files limit below max_connections: idle connections are closed before the limit"
        ),
        Ok(limit) => info!(limit, "open-files limit"),
        Err(e) => warn!(error = %e, "cannot raise the open-files limit"),
    }
}
