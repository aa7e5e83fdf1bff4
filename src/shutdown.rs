//! Turns SIGTERM and SIGINT into a cancelled token that every task watches, and the
//! drain period between "not ready" and "stop accepting".

use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// A token cancelled on the first SIGTERM or SIGINT.
pub fn on_signals() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        info!("shutdown requested");
        crate::notify::stopping();
        cancel.cancel();
    });
    token
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => {
            warn!("cannot install signal handlers; only Ctrl-C stops the process");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// After `shutdown`, waits `drain` (`/readyz` already answers 503, so load balancers
/// stop sending) and then cancels `stop`, which ends the accept loops.
pub(crate) async fn drain_then_stop(
    shutdown: CancellationToken,
    drain: std::time::Duration,
    stop: CancellationToken,
) {
    shutdown.cancelled().await;
    if !drain.is_zero() {
        info!(drain_ms = drain.as_millis() as u64, "draining before shutdown");
        tokio::time::sleep(drain).await;
    }
    stop.cancel();
}
