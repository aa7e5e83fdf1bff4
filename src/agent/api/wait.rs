//! `GET /v1/processes?wait_for=nfv:1,vf:2&timeout=30s`: answers once every named process
//! is attached, woken by the registry's change counter (no polling), or 504 naming the
//! ones still missing at the timeout.

use crate::agent::Registry;
use crate::agent::error::ApiError;
use crate::agent::events::kind::label;
use crate::proc_type::{ProcName, ProcType};
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_TIMEOUT: Duration = Duration::from_secs(300);

/// The query of `GET /v1/processes`.
#[derive(serde::Deserialize)]
pub(crate) struct WaitQuery {
    pub(crate) wait_for: Option<String>,
    pub(crate) timeout: Option<String>,
}

/// Returns once every process in `wait_for` is attached.
pub(crate) async fn until_attached(
    registry: &Registry,
    query: &WaitQuery,
    shutdown: &CancellationToken,
) -> Result<(), ApiError> {
    let Some(wait_for) = &query.wait_for else { return Ok(()) };
    let names = wait_for.split(',').map(parse_name).collect::<Result<Vec<_>, _>>()?;
    let timeout = query.timeout.as_deref().map_or(Ok(DEFAULT_TIMEOUT), parse_timeout)?;
    let deadline = Instant::now() + timeout;
    let mut changes = registry.changes();
    loop {
        // Marked seen before looking, so a change after the look wakes the wait below.
        changes.borrow_and_update();
        let missing: Vec<String> =
            names.iter().filter(|name| !is_attached(registry, **name)).map(|name| label(*name)).collect();
        if missing.is_empty() {
            return Ok(());
        }
        tokio::select! {
            changed = changes.changed() => changed.map_err(|_| ApiError::ShuttingDown)?,
            _ = tokio::time::sleep_until(deadline) => return Err(ApiError::WaitTimedOut(missing.join(", "))),
            _ = shutdown.cancelled() => return Err(ApiError::ShuttingDown),
        }
    }
}

fn is_attached(registry: &Registry, name: ProcName) -> bool {
    match name.id {
        None => registry.primary().is_some(),
        Some(id) => registry.secondary(name.ty, id).is_some(),
    }
}

/// `primary`, or `<type>:<client id>` of a secondary.
fn parse_name(item: &str) -> Result<ProcName, ApiError> {
    let invalid = || ApiError::BadQuery(format!("invalid wait_for: {}", crate::echo::echo(item)));
    if item == "primary" {
        return Ok(ProcName::primary());
    }
    let (ty, id) = item.split_once(':').ok_or_else(invalid)?;
    let ty = ProcType::from_secondary(ty).ok_or_else(invalid)?;
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let id = id.parse().map_err(|_| invalid())?;
    Ok(ProcName::secondary(ty, id))
}

fn parse_timeout(raw: &str) -> Result<Duration, ApiError> {
    match humantime::parse_duration(raw) {
        Ok(timeout) if timeout <= MAX_TIMEOUT => Ok(timeout),
        _ => Err(ApiError::BadQuery(format!("invalid timeout: {}", crate::echo::echo(raw)))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_timeouts() {
        let name = |s: &str| parse_name(s).map(label).map_err(|e| e.to_string());
        assert_eq!(name("primary"), Ok("primary".into()));
        assert_eq!(name("nfv:1"), Ok("nfv:1".into()));
        assert_eq!(name("mirror:1023"), Ok("mirror:1023".into()));
        for bad in ["nfv:x", "nfv:", "nfv", "primary:0", "vm:1", "nfv:+1", "", "nfv:99999999999"] {
            assert_eq!(name(bad), Err(format!("invalid wait_for: {bad}")));
        }
        let timeout = |s: &str| parse_timeout(s).map_err(|e| e.to_string());
        assert_eq!(timeout("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(timeout("5m"), Ok(MAX_TIMEOUT));
        assert_eq!(timeout("301s"), Err("invalid timeout: 301s".into()));
        assert_eq!(timeout("soon"), Err("invalid timeout: soon".into()));
    }
}
