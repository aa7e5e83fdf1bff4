//! `{host}` of `/v1/hosts/{host}[/...]`, percent-decoded once and validated before
//! anything else reads it: the claim check, the routing, the metrics label and the audit
//! line all see this one name, so `compute-%32` cannot pass a claim as itself and reach
//! `compute-2`. The rest of the path goes to the agent undecoded (`proxy`).

use crate::echo::echo;
use crate::gateway::error::GatewayError;
use crate::gateway::hosts::is_host_name;
use std::borrow::Cow;

/// The raw (still encoded) `{host}` segment of a path under `/v1/hosts/`, if non-empty.
pub(crate) fn raw_host(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/v1/hosts/")?;
    rest.split('/').next().filter(|h| !h.is_empty())
}

/// The host a raw segment names: decoded once, then held to the host name grammar.
/// Borrowed when the segment holds no escape, as on nearly every request.
pub(crate) fn decode_host(raw: &str) -> Result<Cow<'_, str>, GatewayError> {
    // Three bytes encode one character at most: longer segments cannot be a name, and
    // are refused before any work proportional to their length.
    if raw.len() > 3 * 253 {
        return Err(GatewayError::BadHostName(echo(raw)));
    }
    let decoded = percent_encoding::percent_decode_str(raw).decode_utf8();
    match decoded {
        Ok(name) if is_host_name(&name) => Ok(name),
        Ok(name) => Err(GatewayError::BadHostName(echo(&name))),
        Err(_) => Err(GatewayError::BadHostName(echo(raw))),
    }
}

/// The decoded and validated host of a path, `None` for paths not naming one.
pub(crate) fn host_in_path(path: &str) -> Result<Option<String>, GatewayError> {
    raw_host(path).map(|raw| decode_host(raw).map(Cow::into_owned)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_in_paths() {
        assert_eq!(host_in_path("/v1/hosts/h1/nfvs/1").unwrap().as_deref(), Some("h1"));
        assert_eq!(host_in_path("/v1/hosts/h1").unwrap().as_deref(), Some("h1"));
        assert_eq!(host_in_path("/v1/hosts/compute-%32/x").unwrap().as_deref(), Some("compute-2"));
        for none in ["/v1/hosts", "/v1/hosts/", "/v1/hosts//x", "/v1/cluster/processes"] {
            assert_eq!(host_in_path(none).unwrap(), None, "{none}");
        }
    }

    #[test]
    fn d1_a_host_is_decoded_once_and_validated() {
        // Decoded once: `%2532` is the name `%32`, which is not a host name.
        for (raw, shown) in [
            ("compute-%2532", "compute-%32"),
            ("a%2Fb", "a/b"),
            ("a%20b", "a b"),
            ("a%0Ab", "a%0Ab"),
            ("%ff", "%ff"),
            ("a..b", "a..b"),
            ("%2e%2e", ".."),
        ] {
            let error = decode_host(raw).unwrap_err().to_string();
            assert!(error.starts_with(&format!("invalid host name \"{shown}\": ")), "{error}");
        }
        let huge = "a".repeat(60_000);
        let error = decode_host(&huge).unwrap_err().to_string();
        assert!(error.starts_with(&format!("invalid host name \"{}...\": ", "a".repeat(64))), "{error}");
    }
}
