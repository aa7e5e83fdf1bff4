//! The `hosts` claim against hostile input: a host is decoded once and validated before
//! the claim is checked, matching stays cheap whatever the pattern, the agent holds a
//! token to its own name, and what a client sent comes back cut short and escaped.

mod common;

use common::TestAgent;
use common::jwt::{Issuer, call};
use reqwest::Method;

#[tokio::test]
async fn d1_an_encoded_host_is_checked_as_the_host_it_reaches() {
    let issuer = Issuer::new();
    let (one, two) = (TestAgent::start().await, TestAgent::start().await);
    let gateway = issuer.gateway(&[("compute-1", one.addrs.api), ("compute-2", two.addrs.api)]).await;
    let star_32 = issuer.token("mallory", "spp:admin", Some("*32"));
    for (method, path) in [
        (Method::GET, "/v1/hosts/compute-%32/processes"),
        (Method::PUT, "/v1/hosts/compute-%32/nfvs/1/forward"),
        (Method::GET, "/v1/hosts/compute-%32"),
    ] {
        let seen = call(&gateway.url(path), method, Some(&star_32)).await;
        assert_eq!((seen.status, seen.body.as_str()), (403, "token does not allow host compute-2"), "{path}");
    }
    // The same decoded name is what a claim for compute-2 allows and what is routed to.
    let two_only = issuer.token("bob", "spp:read", Some("compute-2"));
    let seen = call(&gateway.url("/v1/hosts/compute-%32/processes"), Method::GET, Some(&two_only)).await;
    assert_eq!((seen.status, seen.body.as_str()), (200, "[]"));
    let seen = call(&gateway.url("/v1/hosts/compute-%32"), Method::GET, Some(&two_only)).await;
    assert_eq!(seen.status, 200, "{}", seen.body);
    assert!(seen.body.starts_with(r#"{"host": "compute-2", "url": "#), "{}", seen.body);
    let metrics = reqwest::get(gateway.url("/metrics")).await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains(r#"spp_gateway_requests_total{code="200",host="compute-2",method="GET"} 1"#),
        "{metrics}"
    );
    assert!(!metrics.contains("%32"), "the metrics label is the decoded name");
}

#[tokio::test]
async fn d1_a_segment_that_is_not_a_host_name_is_400_before_the_token_is_looked_at() {
    let issuer = Issuer::new();
    let agent = TestAgent::start().await;
    let gateway = issuer.gateway(&[("h1", agent.addrs.api)]).await;
    let expected = |shown: &str| {
        format!(
            "invalid host name \"{shown}\": expected dot-separated labels of [A-Za-z0-9_-]{{1,63}}, at most 253 bytes"
        )
    };
    for (segment, shown) in [
        ("h1%2Fprocesses", "h1/processes"),
        ("a..b", "a..b"),
        ("%ff", "%ff"),
        ("h%0a1", "h%0A1"),
        ("compute-%2532", "compute-%32"),
    ] {
        for path in [format!("/v1/hosts/{segment}/processes"), format!("/v1/hosts/{segment}")] {
            let seen = call(&gateway.url(&path), Method::GET, None).await;
            assert_eq!((seen.status, seen.body), (400, expected(shown)), "{path}");
        }
    }
}

#[tokio::test]
async fn d2_a_60000_character_host_is_refused_at_once_whatever_the_patterns() {
    let issuer = Issuer::new();
    let agent = TestAgent::start().await;
    let gateway = issuer.gateway(&[("h1", agent.addrs.api)]).await;
    let token = issuer.token("mallory", "spp:admin", Some("*a*a*a*c,*a*a*a*a*a*a*a*a*a*b"));
    let huge = "a".repeat(60_000);
    for path in [format!("/v1/hosts/{huge}/nfvs/1/forward"), format!("/v1/hosts/{huge}")] {
        // A backtracking matcher would spin for minutes here; `call` gives up after 10 s.
        let seen = call(&gateway.url(&path), Method::GET, Some(&token)).await;
        assert_eq!(seen.status, 400);
        assert!(
            seen.body.starts_with(&format!("invalid host name \"{}...\": ", "a".repeat(64))),
            "{}",
            seen.body
        );
        assert!(seen.body.len() < 200, "the body echoes {} bytes", seen.body.len());
    }
    // The longest legal name goes through the matcher, and is refused by it.
    let label = "a".repeat(63);
    let longest = format!("{label}.{label}.{label}.{}", "a".repeat(61));
    let seen = call(&gateway.url(&format!("/v1/hosts/{longest}/processes")), Method::GET, Some(&token)).await;
    assert_eq!(seen.status, 403);
    assert_eq!(seen.body, format!("token does not allow host {}...", &longest[..64]));
}

#[tokio::test]
async fn d7_a_huge_or_hostile_key_id_comes_back_cut_and_escaped() {
    let issuer = Issuer::new();
    let agent = TestAgent::start().await;
    let gateway = issuer.gateway(&[("h1", agent.addrs.api)]).await;
    let url = gateway.url("/v1/hosts/h1/processes");
    let long = issuer.token_with_kid("x", "spp:read", None, &"k".repeat(10_000));
    let seen = call(&url, Method::GET, Some(&long)).await;
    let shown = format!("{}...", "k".repeat(64));
    assert_eq!((seen.status, seen.body.as_str()), (401, format!("unknown key id \"{shown}\"").as_str()));
    assert_eq!(
        seen.challenge.as_deref(),
        Some(
            format!(r#"Bearer realm="spp-ctl", error="invalid_token", error_description="unknown key id '{shown}'""#)
                .as_str()
        )
    );
    let hostile = issuer.token_with_kid("x", "spp:read", None, "a\"b\\c\r\nX-Injected: 1");
    let seen = call(&url, Method::GET, Some(&hostile)).await;
    assert_eq!(seen.body, r#"unknown key id "a%22b%5Cc%0D%0AX-Injected: 1""#);
    assert_eq!(
        seen.challenge.as_deref(),
        Some(
            r#"Bearer realm="spp-ctl", error="invalid_token", error_description="unknown key id 'a%22b%5Cc%0D%0AX-Injected: 1'""#
        )
    );
}

#[tokio::test]
async fn d3_the_agent_holds_the_hosts_claim_to_its_own_name() {
    let issuer = Issuer::new();
    let agent = issuer.agent("storage-9").await;
    let info = call(&agent.url("/info"), Method::GET, None).await;
    assert!(info.body.contains(r#""host": "storage-9""#), "{}", info.body);
    let elsewhere = issuer.token("alice", "spp:admin", Some("compute-1"));
    for (method, path) in
        [(Method::GET, "/v1/processes"), (Method::PUT, "/v1/nfvs/1/forward"), (Method::DELETE, "/v1/vfs/2")]
    {
        let seen = call(&agent.url(path), method, Some(&elsewhere)).await;
        assert_eq!((seen.status, seen.body.as_str()), (403, "token does not allow host storage-9"), "{path}");
        assert_eq!(seen.challenge.as_deref(), Some(r#"Bearer realm="spp-ctl", error="insufficient_scope""#));
    }
    for hosts in [Some("storage-*"), Some("compute-1,storage-9"), None] {
        let token = issuer.token("alice", "spp:read", hosts);
        let seen = call(&agent.url("/v1/processes"), Method::GET, Some(&token)).await;
        assert_eq!((seen.status, seen.body.as_str()), (200, "[]"), "{hosts:?}");
    }
    assert_eq!(call(&agent.url("/healthz"), Method::GET, None).await.status, 200, "health stays open");
}
