//! Hot reload for both roles: a reload runs on SIGHUP and whenever a file the
//! configuration names (the file itself, certificates, keys, CAs, JWKS) changes on disk.
//! Files are polled for modification time, size and inode: no inotify needed, and a file
//! replaced by rename or a swapped symlink (Kubernetes secrets) is seen too.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;
use tracing::error;

/// How often the files are looked at.
pub(crate) const POLL: Duration = Duration::from_secs(2);

/// What made a reload run; logged beside its outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Trigger {
    Hangup,
    Changed(Vec<PathBuf>),
}

impl std::fmt::Display for Trigger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Trigger::Hangup => f.write_str("SIGHUP"),
            Trigger::Changed(files) => {
                let names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
                write!(f, "changed on disk: {}", names.join(", "))
            }
        }
    }
}

/// How a file looked; `None` in `Watched` stands for a missing or unreadable file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    dev: u64,
    ino: u64,
}

async fn stamp(path: &PathBuf) -> Option<Stamp> {
    let meta = tokio::fs::metadata(path).await.ok()?;
    Some(Stamp { modified: meta.modified().ok(), len: meta.len(), dev: meta.dev(), ino: meta.ino() })
}

/// The files of one configuration and how each looked when last seen.
#[derive(Default)]
pub(crate) struct Watched {
    files: Vec<(PathBuf, Option<Stamp>)>,
}

impl Watched {
    /// Watches `paths` from now on; files already watched keep their last state, so a
    /// change made during a reload is still seen afterwards.
    pub(crate) async fn retarget(&mut self, mut paths: Vec<PathBuf>) {
        paths.sort();
        paths.dedup();
        let mut files = Vec::with_capacity(paths.len());
        for path in paths {
            let known = self.files.iter().find(|(p, _)| *p == path).map(|(_, s)| *s);
            let state = match known {
                Some(state) => state,
                None => stamp(&path).await,
            };
            files.push((path, state));
        }
        self.files = files;
    }

    /// The files that changed (appeared, vanished or were rewritten) since last seen.
    pub(crate) async fn changed(&mut self) -> Vec<PathBuf> {
        let mut changed = Vec::new();
        for (path, state) in &mut self.files {
            let now = stamp(path).await;
            if now != *state {
                *state = now;
                changed.push(path.clone());
            }
        }
        changed
    }
}

/// Calls `reload` on SIGHUP and when one of the watched files changes (looked at every
/// `poll`) until `shutdown`. `reload` names the files to watch from then on, or `None`
/// to keep watching the same ones (a refused configuration).
pub(crate) async fn run<F, Fut>(
    first: Vec<PathBuf>,
    poll: Duration,
    shutdown: CancellationToken,
    mut reload: F,
) where
    F: FnMut(Trigger) -> Fut,
    Fut: std::future::Future<Output = Option<Vec<PathBuf>>>,
{
    let mut hangup = match signal(SignalKind::hangup()) {
        Ok(signal) => Some(signal),
        Err(e) => {
            error!(error = %e, "cannot listen for SIGHUP; reloading on file changes only");
            None
        }
    };
    let mut watched = Watched::default();
    watched.retarget(first).await;
    loop {
        let hup = async {
            match hangup.as_mut() {
                Some(signal) => signal.recv().await,
                None => std::future::pending().await,
            }
        };
        let trigger = tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = hup => {
                // The reload reads every file now: their current state is the one in force.
                watched.changed().await;
                Trigger::Hangup
            }
            _ = tokio::time::sleep(poll) => {
                let changed = watched.changed().await;
                if changed.is_empty() {
                    continue;
                }
                Trigger::Changed(changed)
            }
        };
        if let Some(next) = reload(trigger).await {
            watched.retarget(next).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_rewrite_a_replacement_and_a_removal_are_each_seen_once() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.pem"), dir.path().join("b.pem"));
        std::fs::write(&a, "one").unwrap();
        std::fs::write(&b, "two").unwrap();
        let mut watched = Watched::default();
        watched.retarget(vec![b.clone(), a.clone(), a.clone()]).await;
        assert!(watched.changed().await.is_empty());
        std::fs::write(&a, "longer").unwrap();
        assert_eq!(watched.changed().await, vec![a.clone()]);
        assert!(watched.changed().await.is_empty(), "seen once");
        // Same size, new inode: what `mv new.pem b.pem` does.
        let new = dir.path().join("new.pem");
        std::fs::write(&new, "TWO").unwrap();
        std::fs::rename(&new, &b).unwrap();
        assert_eq!(watched.changed().await, vec![b.clone()]);
        std::fs::remove_file(&a).unwrap();
        assert_eq!(watched.changed().await, vec![a.clone()]);
        let expected = format!("changed on disk: {}, {}", a.display(), b.display());
        assert_eq!(Trigger::Changed(vec![a, b]).to_string(), expected);
    }
}
