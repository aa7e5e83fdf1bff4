//! A blocking HTTP client for the scenario, and `eventually`: poll a condition until a
//! deadline, report how long it took. The client's runtime runs on the calling thread,
//! so its sockets live in whatever namespace that thread is in.

use serde_json::Value;
use std::io::Write;
use std::time::{Duration, Instant};

pub struct Http {
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
}

#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

impl Answer {
    /// The body as JSON, when the status is `status`.
    pub fn json(&self, status: u16) -> Result<Value, String> {
        if self.status != status {
            return Err(format!("expected {status}, got {} {}", self.status, self.body));
        }
        serde_json::from_str(&self.body).map_err(|e| format!("{e}: {}", self.body))
    }
}

impl Http {
    pub fn new() -> Result<Http, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("runtime: {e}"))?;
        // A fresh connection per request: a pooled one would outlive the replica that
        // the scenario kills, and nothing runs the pool between two requests.
        let client = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(0)
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| format!("client: {e}"))?;
        Ok(Http { runtime, client })
    }

    pub fn get(&self, url: &str) -> Result<Answer, String> {
        self.send(self.client.get(url))
    }

    pub fn put(&self, url: &str, body: &'static str) -> Result<Answer, String> {
        self.send(self.client.put(url).header("content-type", "application/json").body(body))
    }

    fn send(&self, request: reqwest::RequestBuilder) -> Result<Answer, String> {
        self.runtime.block_on(async {
            let response = request.send().await.map_err(|e| format!("{e:#}"))?;
            let status = response.status().as_u16();
            let body = response.text().await.map_err(|e| format!("{e:#}"))?;
            Ok(Answer { status, body })
        })
    }
}

/// Polls `check` until it succeeds; fails with its last error after `deadline`. Prints
/// (uncaptured, so CI logs show it) and returns the time it took.
#[track_caller]
pub fn eventually<T>(
    what: &str,
    deadline: Duration,
    mut check: impl FnMut() -> Result<T, String>,
) -> (T, Duration) {
    let started = Instant::now();
    loop {
        let error = match check() {
            Ok(value) => {
                let took = started.elapsed();
                report(&format!("{what}: {} ms (deadline {} ms)", took.as_millis(), deadline.as_millis()));
                return (value, took);
            }
            Err(error) => error,
        };
        if started.elapsed() > deadline {
            panic!("fleet: {what}: not within {deadline:?}: {error}");
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// A line on stderr that the test harness does not capture.
pub fn report(line: &str) {
    let _ = writeln!(std::io::stderr(), "fleet: {line}");
}

/// `check` succeeds at every poll for `period` (it must not merely flicker into truth).
#[track_caller]
pub fn throughout(what: &str, period: Duration, mut check: impl FnMut() -> Result<(), String>) {
    let started = Instant::now();
    while started.elapsed() < period {
        if let Err(error) = check() {
            panic!("fleet: {what}: broke after {} ms: {error}", started.elapsed().as_millis());
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    report(&format!("{what}: held for {} ms", period.as_millis()));
}
