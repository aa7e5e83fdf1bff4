use super::*;

fn slot(sub: &str, key: &str, scope: &str) -> Slot {
    Slot { sub: sub.into(), key: key.into(), scope: scope.into() }
}

fn stored(body: &'static str) -> Stored {
    Stored { status: StatusCode::CREATED, content_type: None, body: Bytes::from_static(body.as_bytes()) }
}

fn begin(store: &Store, slot: &Slot, fingerprint: u64, now: Instant) -> Result<Option<String>, String> {
    match store.begin(slot, fingerprint, now) {
        Ok(Begin::Run) => Ok(None),
        Ok(Begin::Replay(s)) => Ok(Some(String::from_utf8_lossy(&s.body).into_owned())),
        Err(e) => Err(format!("{} {e}", e.status().as_u16())),
    }
}

#[test]
fn keys() {
    let with = |key: &[u8]| {
        let mut headers = HeaderMap::new();
        headers.insert(KEY, HeaderValue::from_bytes(key).unwrap());
        headers
    };
    assert_eq!(key_of(&Method::PUT, &with(b"abc-1")).unwrap().as_deref(), Some("abc-1"));
    assert_eq!(key_of(&Method::POST, &with(&[b'k'; 128])).unwrap().map(|k| k.len()), Some(128));
    assert_eq!(key_of(&Method::GET, &with(b"abc")).unwrap(), None);
    assert_eq!(key_of(&Method::DELETE, &HeaderMap::new()).unwrap(), None);
    for bad in [&b""[..], b"a b", b"\xe9", &[b'k'; 129]] {
        let error = key_of(&Method::PUT, &with(bad)).unwrap_err();
        assert_eq!(
            (error.status().as_u16(), error.to_string().as_str()),
            (400, "invalid Idempotency-Key: expected 1 to 128 visible ASCII characters"),
            "{bad:?}"
        );
    }
}

#[test]
fn a_key_runs_once_then_replays_until_it_expires() {
    let store = Store::new(Duration::from_secs(600), 10);
    let (a, t0) = (slot("alice", "k1", "h1"), Instant::now());
    let fp = store.fingerprint(&Method::PUT, "/v1/nfvs/1/forward", b"{}");
    assert_eq!(begin(&store, &a, fp, t0), Ok(None));
    assert_eq!(
        begin(&store, &a, fp, t0),
        Err("409 request with this Idempotency-Key is in progress".to_owned())
    );
    store.finish(&a, Some(stored("done")));
    assert_eq!(begin(&store, &a, fp, t0 + Duration::from_secs(599)), Ok(Some("done".to_owned())));
    let other = store.fingerprint(&Method::PUT, "/v1/nfvs/1/forward", b"{ }");
    assert_eq!(
        begin(&store, &a, other, t0),
        Err("422 Idempotency-Key reused with a different request".to_owned())
    );
    // Another host, another subject: other records.
    assert_eq!(begin(&store, &slot("alice", "k1", "h2"), fp, t0), Ok(None));
    assert_eq!(begin(&store, &slot("bob", "k1", "h1"), fp, t0), Ok(None));
    assert_eq!(begin(&store, &a, fp, t0 + Duration::from_secs(600)), Ok(None), "expired");
}

#[test]
fn an_answer_not_kept_lets_the_request_run_again() {
    let store = Store::new(Duration::from_secs(600), 10);
    let (a, now) = (slot("alice", "k1", "h1"), Instant::now());
    assert_eq!(begin(&store, &a, 1, now), Ok(None));
    store.finish(&a, None);
    assert_eq!(begin(&store, &a, 1, now), Ok(None));
}

#[test]
fn a_full_store_forgets_the_oldest_finished_record() {
    let store = Store::new(Duration::from_secs(600), 2);
    let now = Instant::now();
    let (a, b, c) = (slot("s", "a", "h"), slot("s", "b", "h"), slot("s", "c", "h"));
    assert_eq!(begin(&store, &a, 1, now), Ok(None));
    assert_eq!(begin(&store, &b, 1, now), Ok(None));
    assert_eq!(
        begin(&store, &c, 1, now),
        Err("503 too many requests with an Idempotency-Key in progress".to_owned())
    );
    store.finish(&b, Some(stored("b")));
    assert_eq!(begin(&store, &c, 1, now), Ok(None));
    // b was forgotten; a and c still run.
    assert_eq!(store.len(), 2);
    for running in [&a, &c] {
        assert_eq!(
            begin(&store, running, 1, now),
            Err("409 request with this Idempotency-Key is in progress".to_owned())
        );
    }
}
