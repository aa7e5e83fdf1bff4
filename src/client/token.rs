//! A look at the bearer token before it is sent: its `exp`, read without verifying (the
//! server verifies), so a token about to expire gets a warning instead of a surprise.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Warn when fewer than this many seconds are left.
pub(crate) const SOON_S: u64 = 600;

/// The token's `exp` claim, if it is a JWT that has one.
pub(crate) fn expiry(token: &str) -> Option<u64> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("exp")?.as_u64()
}

/// The warning for a token with `exp` at `now` (seconds since the epoch), if any.
pub(crate) fn warning(exp: u64, now: u64) -> Option<String> {
    if exp <= now {
        let ago = humantime::format_duration(std::time::Duration::from_secs(now - exp));
        Some(format!("warning: the token expired {ago} ago: get a new one"))
    } else if exp - now < SOON_S {
        let left = humantime::format_duration(std::time::Duration::from_secs(exp - now));
        Some(format!("warning: the token expires in {left}"))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        format!("e30.{}.sig", URL_SAFE_NO_PAD.encode(payload))
    }

    #[test]
    fn exp_is_read_without_a_key() {
        assert_eq!(expiry(&jwt(r#"{"sub":"a","exp":1700000000}"#)), Some(1_700_000_000));
        assert_eq!(expiry(&jwt(r#"{"sub":"a"}"#)), None);
        assert_eq!(expiry("not a jwt"), None);
        assert_eq!(expiry("a.!!!.c"), None);
    }

    #[test]
    fn warns_within_ten_minutes_and_after_expiry() {
        assert_eq!(warning(1000 + 601, 1000), None);
        assert_eq!(warning(1000 + 599, 1000).as_deref(), Some("warning: the token expires in 9m 59s"));
        assert_eq!(warning(1000, 1060).as_deref(), Some("warning: the token expired 1m ago: get a new one"));
    }
}
