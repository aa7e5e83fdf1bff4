//! The original's `404 Not found: '<rel>'`: the path relative to bottle's mount points,
//! quoted like a Python string. Both the fallback route and the path extractor (a
//! numeric parameter that is no integer) answer with it.

use crate::agent::error::ApiError;
use percent_encoding::percent_decode_str;

/// The 404 for `path` (still percent-encoded), as the original printed it.
pub(crate) fn route_not_found(path: &str) -> ApiError {
    let decoded = percent_decode_str(path).decode_utf8_lossy();
    ApiError::RouteNotFound(python_repr(relative_to_mount(&decoded)))
}

/// Strips `/v1`, then one sub-application mount, then `/flow_rules` under `/primary`.
fn relative_to_mount(path: &str) -> &str {
    fn strip<'a>(p: &'a str, mount: &str) -> Option<&'a str> {
        let rest = p.strip_prefix(mount)?;
        (rest.is_empty() || rest.starts_with('/')).then_some(rest)
    }
    let mut rel = path;
    if let Some(rest) = strip(rel, "/v1") {
        rel = rest;
        if let Some(rest) = ["/vfs", "/mirrors", "/nfvs", "/pcaps"].iter().find_map(|m| strip(rel, m)) {
            rel = rest;
        } else if let Some(rest) = strip(rel, "/primary") {
            rel = strip(rest, "/flow_rules").unwrap_or(rest);
        }
    }
    if rel.is_empty() { "/" } else { rel }
}

/// `repr()` of a Python 3 string.
fn python_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || (0x7f..0xa0).contains(&(c as u32)) => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_follow_the_original_mounts() {
        for (path, rel) in [
            ("/", "/"),
            ("/v2/x", "/v2/x"),
            ("/v1", "/"),
            ("/v1/nothing", "/nothing"),
            ("/v1/nfvs/abc", "/abc"),
            ("/v1/vfs", "/"),
            ("/v1/vfs/2/foo", "/2/foo"),
            ("/v1/primary/flows", "/flows"),
            ("/v1/primary/flow_rules/x", "/x"),
            ("/v1/processes/", "/processes/"),
            ("/v1x", "/v1x"),
            ("/v1/vfsx", "/vfsx"),
        ] {
            assert_eq!(relative_to_mount(path), rel, "{path}");
        }
    }

    #[test]
    fn quoting_matches_python_repr() {
        assert_eq!(python_repr("/abc"), "'/abc'");
        assert_eq!(python_repr("/it's"), "\"/it's\"");
        assert_eq!(python_repr("/'\""), "'/\\'\"'");
        assert_eq!(python_repr("/a\\b\tc\u{1}é"), "'/a\\\\b\\tc\\x01é'");
        assert_eq!(route_not_found("/v1/a%20b").to_string(), "Not found: '/a b'");
    }
}
