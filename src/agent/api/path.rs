//! Path parameters with the original's grammar: numeric ids match `-?[0-9]+` and are read
//! as decimal integers of any size; anything else is not a route at all (404), exactly
//! as bottle's `<id:int>` filter behaved.

use crate::agent::api::not_found::route_not_found;
use crate::agent::error::ApiError;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use std::collections::HashMap;

/// A numeric path parameter, normalized (`01` → `1`, `-0` → `0`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Num(pub String);

impl Num {
    /// The value if it fits in a u32 (secondary ids, port ids, rule ids are small).
    pub(crate) fn as_u32(&self) -> Option<u32> {
        self.0.parse().ok()
    }

    pub(crate) fn as_u64(&self) -> Option<u64> {
        self.0.parse().ok()
    }
}

/// `-?[0-9]+` in its canonical decimal form, or `None` if it does not match.
pub(crate) fn parse_num(raw: &str) -> Option<Num> {
    let (negative, digits) = match raw.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, raw),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let trimmed = digits.trim_start_matches('0');
    let magnitude = if trimmed.is_empty() { "0" } else { trimmed };
    let sign = if negative && magnitude != "0" { "-" } else { "" };
    Some(Num(format!("{sign}{magnitude}")))
}

/// The path parameters of a matched route, checked against their grammar.
pub(crate) struct Params(HashMap<String, String>);

impl Params {
    pub(crate) fn num(&self, key: &str) -> Num {
        // Extraction already checked every numeric parameter.
        self.0.get(key).and_then(|v| parse_num(v)).unwrap_or_else(|| Num("0".to_owned()))
    }

    pub(crate) fn text(&self, key: &str) -> &str {
        self.0.get(key).map_or("", String::as_str)
    }
}

/// Parameters whose names say they are numeric.
const NUMERIC: [&str; 3] = ["id", "port_id", "rule_id"];

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let path = parts.uri.path().to_owned();
        let not_found = || route_not_found(&path);
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| not_found())?;
        let numbers_ok =
            params.iter().filter(|(k, _)| NUMERIC.contains(&k.as_str())).all(|(_, v)| parse_num(v).is_some());
        if !numbers_ok {
            return Err(not_found());
        }
        Ok(Params(params))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_read_like_python_int() {
        assert_eq!(parse_num("01"), Some(Num("1".into())));
        assert_eq!(parse_num("-1"), Some(Num("-1".into())));
        assert_eq!(parse_num("-0"), Some(Num("0".into())));
        assert_eq!(parse_num("000"), Some(Num("0".into())));
        let huge = "123456789012345678901234567890";
        assert_eq!(parse_num(huge), Some(Num(huge.into())));
        for bad in ["", "-", "+1", "1a", "abc", " 1", "١"] {
            assert_eq!(parse_num(bad), None, "{bad:?}");
        }
    }
}
