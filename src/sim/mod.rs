//! Simulated SPP processes.
#[derive(Debug, clap::Args)]
pub struct SimArgs {}
pub async fn run(_args: SimArgs, _shutdown: tokio_util::sync::CancellationToken) -> anyhow::Result<()> {
    Ok(())
}
pub fn attach_default(
    _p: std::net::SocketAddr,
    _s: std::net::SocketAddr,
    _shutdown: tokio_util::sync::CancellationToken,
) {
}
