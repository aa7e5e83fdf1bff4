//! What a verified token allows: scopes by HTTP method and, optionally, a list of host
//! name patterns.

use crate::auth::error::AuthError;
use crate::echo::echo;
use axum::http::Method;
use serde::Deserialize;
use std::sync::Arc;

/// The claims we read; signature and time checks are done before this is built.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct RawClaims {
    #[serde(default)]
    pub(crate) sub: Option<String>,
    #[serde(default)]
    pub(crate) scope: Option<String>,
    #[serde(default)]
    pub(crate) hosts: Option<HostsClaim>,
    #[serde(default)]
    pub(crate) iat: Option<i64>,
    #[serde(default)]
    pub(crate) exp: Option<i64>,
}

/// `hosts` as a JSON array of patterns, or one space/comma-separated string.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum HostsClaim {
    List(Vec<String>),
    Text(String),
}

/// The caller, as the token describes it. Shared parts: a cached principal is cloned
/// into every request its token makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Principal {
    pub(crate) sub: Arc<str>,
    pub(crate) scopes: Arc<[String]>,
    /// `None`: every host.
    pub(crate) hosts: Option<Arc<[String]>>,
}

impl Principal {
    /// The caller of an open (auth mode `none`) listener.
    pub(crate) fn anonymous() -> Self {
        Principal { sub: "anonymous".into(), scopes: ["spp:admin".to_owned()].into(), hosts: None }
    }

    pub(crate) fn from_claims(claims: RawClaims) -> Self {
        let scopes = claims.scope.unwrap_or_default().split_whitespace().map(str::to_owned).collect();
        let hosts = claims.hosts.map(|h| match h {
            HostsClaim::List(list) => list.into(),
            HostsClaim::Text(text) => {
                text.split([' ', ',']).filter(|s| !s.is_empty()).map(str::to_owned).collect()
            }
        });
        Principal { sub: claims.sub.unwrap_or_default().into(), scopes, hosts }
    }

    fn has(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// `spp:read` for GET/HEAD, `spp:write` for anything else; `spp:admin` allows all,
    /// `spp:write` implies read.
    pub(crate) fn authorize_method(&self, method: &Method) -> Result<(), AuthError> {
        let reading = matches!(*method, Method::GET | Method::HEAD);
        let allowed = self.has("spp:admin") || self.has("spp:write") || (reading && self.has("spp:read"));
        match (allowed, reading) {
            (true, _) => Ok(()),
            (false, true) => Err(AuthError::Scope("spp:read")),
            (false, false) => Err(AuthError::Scope("spp:write")),
        }
    }

    pub(crate) fn allows_host(&self, host: &str) -> bool {
        self.hosts
            .as_ref()
            .is_none_or(|patterns| patterns.iter().any(|p| glob(p.as_bytes(), host.as_bytes())))
    }

    pub(crate) fn authorize_host(&self, host: &str) -> Result<(), AuthError> {
        if self.allows_host(host) { Ok(()) } else { Err(AuthError::Host(echo(host))) }
    }
}

/// `*` (any run) and `?` (one character) glob matching, without recursion: on a
/// mismatch only the last `*` takes one more character, so the cost is at most
/// `pattern.len() * text.len()` steps, and the text is a host name of at most 253 bytes.
pub(crate) fn glob(pattern: &[u8], text: &[u8]) -> bool {
    // Every character other than `*` consumes one of the text's: a pattern with more of
    // them cannot match, however long it is.
    if pattern.iter().filter(|&&p| p != b'*').count() > text.len() {
        return false;
    }
    let (mut p, mut t) = (0, 0);
    // The last `*` seen and the text position it has taken up to.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    star = Some((star_p, star_t + 1));
                    p = star_p + 1;
                    t = star_t + 1;
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(scope: &str, hosts: Option<&[&str]>) -> Principal {
        Principal {
            sub: "alice".into(),
            scopes: scope.split_whitespace().map(str::to_owned).collect(),
            hosts: hosts.map(|h| h.iter().map(|s| s.to_string()).collect()),
        }
    }

    #[test]
    fn scopes_by_method() {
        let read = principal("spp:read", None);
        assert!(read.authorize_method(&Method::GET).is_ok());
        assert!(read.authorize_method(&Method::HEAD).is_ok());
        assert_eq!(read.authorize_method(&Method::PUT), Err(AuthError::Scope("spp:write")));
        let write = principal("openid spp:write", None);
        assert!(
            write.authorize_method(&Method::GET).is_ok() && write.authorize_method(&Method::DELETE).is_ok()
        );
        assert!(principal("spp:admin", None).authorize_method(&Method::POST).is_ok());
        assert_eq!(principal("", None).authorize_method(&Method::GET), Err(AuthError::Scope("spp:read")));
    }

    #[test]
    fn host_patterns() {
        let p = principal("spp:read", Some(&["compute-*", "edge-?", "db"]));
        for ok in ["compute-1", "compute-", "edge-7", "db"] {
            assert!(p.allows_host(ok), "{ok}");
        }
        for bad in ["edge-10", "dbx", "xcompute-1", "Compute-1"] {
            assert!(!p.allows_host(bad), "{bad}");
        }
        assert!(principal("spp:read", None).allows_host("anything"));
        let text: RawClaims = serde_json::from_str(r#"{"hosts": "a-*, b"}"#).unwrap();
        assert_eq!(
            Principal::from_claims(text).hosts.as_deref(),
            Some(&["a-*".to_owned(), "b".to_owned()][..])
        );
    }

    #[test]
    fn glob_cases() {
        for (pattern, text, expected) in [
            ("*", "", true),
            ("", "", true),
            ("", "a", false),
            ("a*b*c", "abc", true),
            ("a*b*c", "aXbYc", true),
            ("a*b*c", "aXbYcZ", false),
            ("*a*a*a*c", "aaac", true),
            ("*a*a*a*c", "aaab", false),
            ("**?", "x", true),
            ("?*?", "x", false),
            ("*-1", "compute-1-1", true),
            ("compute-?", "compute-", false),
        ] {
            assert_eq!(glob(pattern.as_bytes(), text.as_bytes()), expected, "{pattern} ~ {text}");
        }
    }

    /// d2: patterns with many stars against the longest legal name cost milliseconds, not
    /// the exponential time of a backtracking matcher. Run on a thread so that a
    /// regression fails the test instead of hanging it.
    #[test]
    fn d2_adversarial_patterns_match_in_milliseconds() {
        let label = "a".repeat(63);
        let longest = format!("{label}.{label}.{label}.{}", "a".repeat(61));
        assert_eq!(longest.len(), 253);
        let patterns = [
            "*a*a*a*c".to_owned(),
            "*a".repeat(40) + "c",
            "*".repeat(10_000) + "b",
            "*?".repeat(126) + "*c",
            format!("*{}*", "a*".repeat(60) + "b"),
            "?".repeat(10_000),
        ];
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let started = std::time::Instant::now();
            let results: Vec<bool> =
                patterns.iter().map(|p| glob(p.as_bytes(), longest.as_bytes())).collect();
            let _ = done.send((results, started.elapsed()));
        });
        let (results, took) =
            finished.recv_timeout(std::time::Duration::from_secs(5)).expect("glob finished within 5 s");
        assert_eq!(results, [false; 6]);
        // Debug build, shared CI cores: generous, yet far below a backtracking matcher.
        assert!(took < std::time::Duration::from_millis(200), "took {took:?}");
    }
}
