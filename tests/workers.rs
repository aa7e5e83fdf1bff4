//! The HTTP server's worker threads: connections are spread over them round robin, each
//! served on its worker's own runtime; without workers, on the caller's runtime; and a
//! shutdown lets requests in flight on a worker finish.

use axum::Router;
use axum::routing::get;
use spp_ctl::http_server::{ServerLimits, serve, worker_index};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

async fn server(workers: usize) -> (SocketAddr, CancellationToken) {
    let app = Router::new().route("/", get(|| async { format!("{:?}", worker_index()) })).route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            "done"
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = ServerLimits {
        header_timeout: Duration::from_secs(5),
        body_timeout: Duration::from_secs(5),
        idle_timeout: Duration::from_secs(5),
        max_connections: 16,
        grace_period: Duration::from_secs(2),
        workers,
    };
    let stop = CancellationToken::new();
    tokio::spawn(serve(listener, app, limits, None, stop.clone()));
    (addr, stop)
}

/// The answer to `GET /` on a new connection.
async fn on_new_connection(addr: SocketAddr) -> String {
    let http = reqwest::Client::new();
    http.get(format!("http://{addr}/")).send().await.unwrap().text().await.unwrap()
}

#[tokio::test]
async fn connections_are_spread_over_the_workers() {
    let (addr, _stop) = server(2).await;
    let mut seen = BTreeSet::new();
    for _ in 0..4 {
        seen.insert(on_new_connection(addr).await);
    }
    assert_eq!(seen, BTreeSet::from(["Some(0)".to_owned(), "Some(1)".to_owned()]));
}

#[tokio::test]
async fn without_workers_connections_stay_on_the_callers_runtime() {
    let (addr, _stop) = server(0).await;
    assert_eq!(on_new_connection(addr).await, "None");
}

#[tokio::test]
async fn shutdown_lets_a_request_on_a_worker_finish() {
    let (addr, stop) = server(2).await;
    let slow = tokio::spawn(async move {
        let http = reqwest::Client::new();
        http.get(format!("http://{addr}/slow")).send().await.unwrap().text().await.unwrap()
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.cancel();
    assert_eq!(slow.await.unwrap(), "done");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "no longer accepting");
}
