//! The raw-socket floor of the benchmark: plays controller for one simulated nfv and
//! sends `status` over TCP as fast as the process answers, with no HTTP in between.
//! The agent's `GET /v1/nfvs/1` is compared against this.
//!
//! Usage: raw_floor LISTEN_ADDR SECONDS  (then start `spp-ctl sim --nfv 1` against it)

use spp_ctl::agent::codec::{Progress, ReplyDecoder};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const FRAME: usize = 32768;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let listen = args.next().unwrap_or_else(|| "127.0.0.1:16667".to_owned());
    let seconds: u64 = args.next().as_deref().unwrap_or("10").parse()?;
    let listener = TcpListener::bind(&listen).await?;
    let (mut stream, _) = listener.accept().await?;
    stream.set_nodelay(true)?;
    let mut link = Link { decoder: ReplyDecoder::new(None), buf: Vec::with_capacity(2 * FRAME) };
    link.exchange(&mut stream, b"_get_client_id").await?;
    link.decoder.adopt_frames(FRAME, link.decoder.frame_bytes_seen());

    let mut latencies = Vec::new();
    let end = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < end {
        let start = Instant::now();
        link.exchange(&mut stream, b"status").await?;
        latencies.push(start.elapsed());
    }
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "floor requests/s {:.0} p50_us {} p99_us {}",
        latencies.len() as f64 / seconds as f64,
        pct(0.50).as_micros(),
        pct(0.99).as_micros()
    );
    Ok(())
}

struct Link {
    decoder: ReplyDecoder,
    buf: Vec<u8>,
}

impl Link {
    /// Sends one command and reads its reply (and the padding owed before the next one).
    async fn exchange(&mut self, stream: &mut TcpStream, command: &[u8]) -> anyhow::Result<()> {
        while self.decoder.debt() > 0 {
            self.fill(stream).await?;
            self.decoder.feed(&self.buf).map_err(anyhow::Error::msg)?;
            self.buf.clear();
        }
        self.decoder.begin();
        stream.write_all(command).await?;
        loop {
            self.fill(stream).await?;
            let (used, progress) = self.decoder.feed(&self.buf).map_err(anyhow::Error::msg)?;
            self.buf.drain(..used);
            if let Progress::Complete(_) = progress {
                return Ok(());
            }
        }
    }

    async fn fill(&mut self, stream: &mut TcpStream) -> anyhow::Result<()> {
        if self.buf.is_empty() && stream.read_buf(&mut self.buf).await? == 0 {
            anyhow::bail!("the simulated process closed the connection");
        }
        Ok(())
    }
}
