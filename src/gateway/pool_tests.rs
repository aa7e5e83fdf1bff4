//! The agent connections over real TCP, against fake agents that answer byte by byte
//! as scripted.

use super::*;
use axum::http::{HeaderValue, StatusCode, header};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// What a fake agent does on a connection after reading one request.
enum Step {
    /// Writes these pieces, a little apart.
    Answer(Vec<Vec<u8>>),
    /// Closes the connection without an answer.
    Close,
}

/// A fake agent that reads requests and follows `script` on each connection it
/// accepts; it reports every request, whole, with the number of its connection.
async fn fake_agent(script: Vec<Step>) -> (Arc<Host>, mpsc::UnboundedReceiver<(usize, String)>) {
    let script = Arc::new(script);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (seen, requests) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        for connection in 0.. {
            let (mut stream, _) = listener.accept().await.unwrap();
            let (seen, script) = (seen.clone(), script.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                for step in script.iter() {
                    while !buf.ends_with(b"\r\n\r\n") && !buf.ends_with(b"}") {
                        let mut chunk = [0; 1024];
                        let n = stream.read(&mut chunk).await.unwrap();
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    let _ = seen.send((connection, String::from_utf8(std::mem::take(&mut buf)).unwrap()));
                    let Step::Answer(pieces) = step else { return };
                    for piece in pieces {
                        if stream.write_all(piece).await.is_err() {
                            return;
                        }
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }
            });
        }
    });
    let base = url.parse().unwrap();
    (Arc::new(Host::new("h1".to_owned(), url, base)), requests)
}

fn writes(pieces: &[&[u8]]) -> Step {
    Step::Answer(pieces.iter().map(|piece| piece.to_vec()).collect())
}

fn pool() -> Pool {
    Pool::new(Duration::from_secs(1), &crate::tls::client_config(&Default::default()).unwrap())
}

/// The caller's credentials, spelt as no client library would: they go on byte for byte.
const TOKEN: &str = "bearer  eyJh.eyJz-_.c2ln~+/=";

async fn exchange(pool: &Pool, host: &Host, method: &Method, body: &[u8]) -> Result<(Answer, bool), String> {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::AUTHORIZATION, HeaderValue::from_static(TOKEN));
    let mut conn = pool.checkout(host).await.map_err(|e| e.to_string())?;
    let request = Outgoing { method, target: "/v1/nfvs/1?x=y", headers: &headers, body };
    let result = conn
        .exchange(&request, host)
        .await
        .map_err(|(Failure::Unsent(e) | Failure::Broken(e))| e.to_string());
    if let Ok((_, true)) = &result {
        pool.put(host, conn);
    }
    result
}

#[tokio::test]
async fn request_bytes_and_framings_over_one_connection() {
    let (host, mut seen) = fake_agent(vec![
        writes(&[b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]"]),
        writes(&[
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n",
            b"abc\r\n",
            b"0\r\n\r\n",
        ]),
        writes(&[b"HTTP/1.1 405 Method Not Allowed\r\nAllow: GET\r\ncontent-length: 5\r\n\r\n"]),
        writes(&[b"HTTP/1.1 404 Not Found\r\ncontent-le", b"ngth: 4\r\n\r\nno", b"pe"]),
    ])
    .await;
    let pool = pool();
    let (answer, reusable) = exchange(&pool, &host, &Method::PUT, b"{}").await.unwrap();
    assert_eq!((answer.status, &answer.body[..], reusable), (StatusCode::OK, &b"[]"[..], true));
    assert_eq!(answer.headers.len(), 1);
    assert_eq!(answer.headers[header::CONTENT_TYPE], "application/json");
    let request = seen.recv().await.unwrap();
    assert_eq!(
        request,
        (
            0,
            format!(
                "PUT /v1/nfvs/1?x=y HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\n\
            authorization: {TOKEN}\r\ncontent-length: 2\r\n\r\n{{}}",
                host.base.authority().unwrap()
            )
        )
    );
    let (answer, reusable) = exchange(&pool, &host, &Method::GET, b"").await.unwrap();
    assert_eq!((answer.status, &answer.body[..], reusable), (StatusCode::CREATED, &b"abc"[..], true));
    let (answer, reusable) = exchange(&pool, &host, &Method::HEAD, b"").await.unwrap();
    assert_eq!((answer.status.as_u16(), &answer.body[..], reusable), (405, &b""[..], true));
    assert_eq!(answer.headers[header::ALLOW], "GET");
    let (answer, reusable) = exchange(&pool, &host, &Method::GET, b"").await.unwrap();
    assert_eq!((answer.status.as_u16(), &answer.body[..], reusable), (404, &b"nope"[..], true));
    for expected in ["GET /v1/nfvs/1?x=y HTTP/1.1\r\n", "HEAD /v1/nfvs/1?x=y HTTP/1.1\r\n", "GET "] {
        let (connection, request) = seen.recv().await.unwrap();
        assert_eq!(connection, 0, "one connection for all");
        let credentials = format!("\r\nauthorization: {TOKEN}\r\n");
        assert!(request.starts_with(expected) && request.contains(&credentials), "{request}");
    }
}

#[tokio::test]
async fn answers_that_end_the_connection() {
    let (host, mut seen) = fake_agent(vec![writes(&[b"HTTP/1.1 200 OK\r\n\r\nuntil", b" close"])]).await;
    let pool = pool();
    let (answer, reusable) = exchange(&pool, &host, &Method::GET, b"").await.unwrap();
    assert_eq!((&answer.body[..], reusable), (&b"until close"[..], false));
    let (answer, reusable) = exchange(&pool, &host, &Method::GET, b"").await.unwrap();
    assert_eq!((&answer.body[..], reusable), (&b"until close"[..], false));
    assert_eq!((seen.recv().await.unwrap().0, seen.recv().await.unwrap().0), (0, 1));

    let (host, _) = fake_agent(vec![writes(&[b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\n[]"])]).await;
    let (answer, reusable) = exchange(&pool, &host, &Method::GET, b"").await.unwrap();
    assert_eq!((&answer.body[..], reusable), (&b"["[..], false), "a byte past the answer");
    let (host, _) =
        fake_agent(vec![writes(&[b"HTTP/1.1 200 OK\r\nConnection: close\r\ncontent-length: 2\r\n\r\n[]"])])
            .await;
    let (_, reusable) = exchange(&pool, &host, &Method::GET, b"").await.unwrap();
    assert!(!reusable, "connection: close");
}

#[tokio::test]
async fn broken_answers() {
    let (host, _) = fake_agent(vec![Step::Close]).await;
    let pool = pool();
    let error = exchange(&pool, &host, &Method::GET, b"").await.err().unwrap();
    assert_eq!(error, "the agent closed the connection before its answer");
    let (host, _) = fake_agent(vec![writes(&[b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\nshort"])]).await;
    let error = exchange(&pool, &host, &Method::GET, b"").await.err().unwrap();
    assert_eq!(error, "the agent closed the connection in the middle of the answer");
    let (host, _) = fake_agent(vec![writes(&[b"{\"not\": \"http\"}\r\n\r\n"])]).await;
    let error = exchange(&pool, &host, &Method::GET, b"").await.err().unwrap();
    assert!(error.starts_with("invalid answer: "), "{error}");
    let mut huge = b"HTTP/1.1 200 OK\r\nx: ".to_vec();
    huge.resize(MAX_HEAD + 10, b'a');
    let (host, _) = fake_agent(vec![Step::Answer(vec![huge])]).await;
    let error = exchange(&pool, &host, &Method::GET, b"").await.err().unwrap();
    assert_eq!(error, format!("answer head larger than {MAX_HEAD} bytes"));
}

#[tokio::test]
async fn an_idle_connection_the_agent_closed_is_not_taken() {
    let (host, mut seen) = fake_agent(vec![writes(&[b"HTTP/1.1 204 No Content\r\n\r\n"])]).await;
    let pool = pool();
    let (answer, reusable) = exchange(&pool, &host, &Method::GET, b"").await.unwrap();
    assert_eq!((answer.status.as_u16(), reusable), (204, true));
    // The agent closes the idle connection meanwhile.
    tokio::time::sleep(Duration::from_millis(100)).await;
    exchange(&pool, &host, &Method::GET, b"").await.unwrap();
    assert_eq!((seen.recv().await.unwrap().0, seen.recv().await.unwrap().0), (0, 1));
}

#[tokio::test]
async fn large_exchanges_leave_small_buffers() {
    let size = 1 << 20;
    let mut answer = format!("HTTP/1.1 200 OK\r\ncontent-length: {size}\r\n\r\n").into_bytes();
    answer.resize(answer.len() + size, b'a');
    let (host, _) = fake_agent(vec![Step::Answer(vec![answer])]).await;
    let pool = pool();
    let body = format!("{{\"x\": \"{}\"}}", "b".repeat(size));
    let (answer, reusable) = exchange(&pool, &host, &Method::PUT, body.as_bytes()).await.unwrap();
    assert_eq!((answer.body.len(), reusable), (size, true));
    let conn = pool.take(&host.url).expect("the connection is back in the pool");
    let kept = (conn.read.capacity(), conn.write.capacity());
    assert!(kept.0 <= KEPT_BUFFER && kept.1 <= KEPT_BUFFER, "{kept:?}");
}

#[tokio::test]
async fn new_tls_files_leave_plain_connections_open() {
    let ok = || writes(&[b"HTTP/1.1 204 No Content\r\n\r\n"]);
    let (host, mut seen) = fake_agent(vec![ok(), ok()]).await;
    let pool = pool();
    exchange(&pool, &host, &Method::GET, b"").await.unwrap();
    pool.set_tls(&crate::tls::client_config(&Default::default()).unwrap());
    exchange(&pool, &host, &Method::GET, b"").await.unwrap();
    assert_eq!((seen.recv().await.unwrap().0, seen.recv().await.unwrap().0), (0, 0));
}

/// The failure kinds stay apart below the texts: refused, reset, closed, framing, TLS.
#[tokio::test]
async fn connection_failures_keep_their_kind() {
    let pool = pool();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let host = Host::new("h1".to_owned(), url.clone(), url.parse().unwrap());
    let error = pool.checkout(&host).await.err().unwrap();
    assert!(matches!(error, ConnError::Refused(_)), "{error:?}");
    assert!(error.to_string().starts_with("Connection refused"), "{error}");

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut stream = stream;
        let mut buf = [0; 1024];
        let _ = stream.read(&mut buf).await;
        // Linger 0: the close is a reset.
        stream.set_zero_linger().unwrap();
    });
    let host = Host::new("h1".to_owned(), url.clone(), url.parse().unwrap());
    let mut conn = pool.checkout(&host).await.unwrap();
    let request = Outgoing { method: &Method::GET, target: "/", headers: &HeaderMap::new(), body: b"" };
    let Err(Failure::Broken(error)) = conn.exchange(&request, &host).await else { panic!("a reset") };
    assert!(matches!(error, ConnError::Reset(_)), "{error:?}");

    let (host, _) = fake_agent(vec![Step::Close]).await;
    let mut conn = pool.checkout(&host).await.unwrap();
    let Err(Failure::Broken(error)) = conn.exchange(&request, &host).await else { panic!("a close") };
    assert!(matches!(error, ConnError::Closed("before its answer")), "{error:?}");
    let (host, _) = fake_agent(vec![writes(&[b"HTTP/1.1 101 Switching\r\n\r\n"])]).await;
    let mut conn = pool.checkout(&host).await.unwrap();
    let Err(Failure::Broken(error)) = conn.exchange(&request, &host).await else { panic!("bad framing") };
    assert!(matches!(error, ConnError::Framing(FramingError::SwitchedProtocols)), "{error:?}");

    // A plain HTTP answer where a TLS handshake is expected.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
        tokio::time::sleep(Duration::from_secs(2)).await;
    });
    let host = Host::new("h1".to_owned(), url.clone(), url.parse().unwrap());
    let error = pool.checkout(&host).await.err().unwrap();
    assert!(matches!(error, ConnError::Tls(_)), "{error:?}");
    assert!(error.to_string().starts_with("TLS: "), "{error}");
}
