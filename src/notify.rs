//! systemd's notify protocol (`Type=notify`): `READY=1` once a role serves,
//! `RELOADING=1` … `READY=1` around a reload, `STOPPING=1` at shutdown, and watchdog
//! pings. Every call is a no-op when `NOTIFY_SOCKET` is unset (not run by systemd); a
//! failed send is logged and otherwise ignored, as the service works without it.

use sd_notify::NotifyState;
use std::future::Future;
use tracing::warn;

fn send(states: &[NotifyState]) {
    if let Err(e) = sd_notify::notify(states) {
        warn!(error = %e, "cannot notify the service manager");
    }
}

/// The role serves: its listeners are bound and its tasks started. Starts the watchdog
/// pings when the service manager asks for them (`WATCHDOG_USEC`).
pub fn ready() {
    // systemd may send SIGHUP (ExecReload) as soon as it has READY=1, before the reload
    // task has installed its handler: take SIGHUP's default action (exit) away first.
    // Tokio keeps a handler installed for the life of the process.
    let _ = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup());
    send(&[NotifyState::Ready]);
    if let Some(interval) = sd_notify::watchdog_enabled() {
        tokio::spawn(watchdog(interval / 2));
    }
}

/// Runs `reload` between `RELOADING=1` and `READY=1`. systemd 253 and later require
/// `MONOTONIC_USEC` beside `RELOADING=1`.
pub(crate) async fn reloading<F: Future>(reload: F) -> F::Output {
    match NotifyState::monotonic_usec_now() {
        Ok(now) => send(&[NotifyState::Reloading, now]),
        Err(_) => send(&[NotifyState::Reloading]),
    }
    let output = reload.await;
    send(&[NotifyState::Ready]);
    output
}

pub(crate) fn stopping() {
    send(&[NotifyState::Stopping]);
}

/// Pings until the process exits: a stalled runtime stops the pings and systemd
/// restarts the service.
async fn watchdog(every: std::time::Duration) {
    let mut ticks = tokio::time::interval(every);
    // After a stall, one late ping says as much as a burst of catch-up pings.
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        send(&[NotifyState::Watchdog]);
    }
}
