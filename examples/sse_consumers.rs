//! Benchmark harness of `bench/events.sh`: CONSUMERS clients follow `GET /v1/events` while
//! one driver sends `PUT /v1/nfvs/1/forward` (start/stop in turn) RATE times a second for
//! SECONDS. Each consumer notes when each `command` event arrives; the driver notes when
//! each answer came. Prints the delivery latency (arrival minus the client-side
//! completion of the request; negative when the event beat the answer) over all
//! consumers, and whether every consumer saw every command.
//!
//! Usage: sse_consumers API_ADDR CONSUMERS RATE SECONDS

use anyhow::{Context, bail};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [addr, consumers, rate, seconds] = args.as_slice() else {
        bail!("usage: sse_consumers API_ADDR CONSUMERS RATE SECONDS");
    };
    let (consumers, rate, seconds): (usize, u64, u64) = (consumers.parse()?, rate.parse()?, seconds.parse()?);
    let arrivals: Vec<Arc<Mutex<Vec<Instant>>>> = (0..consumers).map(|_| Arc::default()).collect();
    for arrived in &arrivals {
        let mut stream = TcpStream::connect(addr).await.context("connect")?;
        stream.write_all(b"GET /v1/events HTTP/1.1\r\nHost: agent\r\n\r\n").await?;
        tokio::spawn(follow(stream, arrived.clone()));
    }
    // Let every stream open before the first command.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut driver = TcpStream::connect(addr).await.context("connect")?;
    driver.set_nodelay(true)?;
    let mut done = Vec::new();
    let mut ticks = tokio::time::interval(Duration::from_micros(1_000_000 / rate.max(1)));
    let end = Instant::now() + Duration::from_secs(seconds);
    let mut buf = vec![0u8; 4096];
    while Instant::now() < end {
        ticks.tick().await;
        let action = if done.len() % 2 == 0 { "start" } else { "stop" };
        let body = format!(r#"{{"action": "{action}"}}"#);
        let request = format!(
            "PUT /v1/nfvs/1/forward HTTP/1.1\r\nHost: agent\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        driver.write_all(request.as_bytes()).await?;
        // A 204 is a head only: complete at the blank line.
        let mut head = Vec::new();
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = driver.read(&mut buf).await?;
            if n == 0 {
                bail!("the agent closed the driver's connection");
            }
            head.extend_from_slice(&buf[..n]);
        }
        done.push(Instant::now());
        if !head.starts_with(b"HTTP/1.1 204") {
            bail!("unexpected answer: {}", String::from_utf8_lossy(&head));
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut latencies = Vec::new();
    let mut complete = 0;
    for arrived in &arrivals {
        let arrived = arrived.lock().await;
        complete += usize::from(arrived.len() == done.len());
        for (at, finished) in arrived.iter().zip(&done) {
            let ms = if at >= finished {
                at.duration_since(*finished).as_secs_f64() * 1e3
            } else {
                -(finished.duration_since(*at).as_secs_f64() * 1e3)
            };
            latencies.push(ms);
        }
    }
    latencies.sort_by(f64::total_cmp);
    let at =
        |q: f64| latencies.get(((latencies.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(0.0);
    println!(
        "commands {} consumers {consumers} complete {complete} samples {} latency_ms p50 {:.3} p99 {:.3} max {:.3}",
        done.len(),
        latencies.len(),
        at(0.5),
        at(0.99),
        at(1.0)
    );
    Ok(())
}

/// Reads one stream, noting the arrival of each `command` event.
async fn follow(mut stream: TcpStream, arrived: Arc<Mutex<Vec<Instant>>>) {
    let mut buf = vec![0u8; 65536];
    let mut carry = Vec::new();
    const MARK: &[u8] = b"event: command\n";
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let now = Instant::now();
        carry.extend_from_slice(&buf[..n]);
        let mut from = 0;
        while let Some(at) = carry[from..].windows(MARK.len()).position(|w| w == MARK) {
            arrived.lock().await.push(now);
            from += at + MARK.len();
        }
        // Keep a tail that may hold the start of a split marker.
        let keep = carry.len().saturating_sub(MARK.len());
        carry.drain(..from.max(keep));
    }
}
