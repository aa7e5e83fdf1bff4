//! Compatibility with the real clients: a Python script replays what the SPP CLI and
//! networking-spp send, with Python `requests`, against an agent with simulated
//! processes, and checks every status and body.

mod common;

use common::TestAgent;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spp_cli_and_networking_spp_sequences() {
    let agent = TestAgent::start().await;
    agent.attach_all().await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/compat/spp_clients.py");
    let base = format!("http://{}", agent.addrs.api);
    let output = tokio::process::Command::new("python3")
        .arg(script)
        .arg(&base)
        .output()
        .await
        .expect("python3 runs (CI installs it with requests)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "client replay failed:\n{stdout}\n{stderr}");
    assert!(stdout.trim_end().ends_with(" passed, 0 failed"), "{stdout}");
}
