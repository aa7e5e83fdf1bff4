//! The plan of `POST /v1/cluster/apply`, read from JSON and checked whole before anything
//! runs, and the hosts it selects: names and globs, limited by the token's `hosts` claim.
//! Running it is `apply`'s part.

use crate::auth::Principal;
use crate::auth::claims::glob;
use crate::gateway::error::GatewayError;
use crate::gateway::hosts::Host;
use axum::body::Bytes;
use axum::http::Method;
use axum::http::uri::PathAndQuery;
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;

const MAX_OPERATIONS: usize = 64;
const MAX_PARALLEL: usize = 256;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlan {
    hosts: Vec<String>,
    operations: Vec<RawOperation>,
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    canary: usize,
    #[serde(default = "one")]
    max_parallel: usize,
    #[serde(default = "yes")]
    halt_on_error: bool,
}

fn one() -> usize {
    1
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOperation {
    method: String,
    path: String,
    #[serde(default)]
    body: Option<Value>,
}

/// A checked plan. Defaults: no canary, one host at a time, halt on the first failure.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) selectors: Vec<String>,
    pub(crate) operations: Vec<Operation>,
    pub(crate) dry_run: bool,
    pub(crate) canary: usize,
    pub(crate) max_parallel: usize,
    pub(crate) halt_on_error: bool,
}

#[derive(Debug)]
pub(crate) struct Operation {
    pub(crate) method: Method,
    /// As the plan wrote it (the answer names it so).
    pub(crate) path: String,
    /// What the agent is asked: the path, with `dry_run=true` for a dry run.
    pub(crate) target: String,
    /// Compact JSON; empty when the plan gave none.
    pub(crate) body: Bytes,
}

/// Why a plan is refused before anything runs; `GatewayError::BadPlan` answers it as 400.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PlanError {
    #[error("{0}")]
    Json(serde_json::Error),
    #[error("hosts: empty")]
    NoHosts,
    #[error("hosts: {0:?} is neither a host name nor a pattern")]
    BadSelector(String),
    #[error("operations: expected 1 to {MAX_OPERATIONS}")]
    OperationCount,
    #[error("max_parallel: expected 1 to {MAX_PARALLEL}")]
    MaxParallel,
    #[error("operations[{index}].{error}")]
    Operation { index: usize, error: OperationError },
    #[error("hosts: unknown host {0}")]
    UnknownHost(String),
    #[error("hosts: no host matches")]
    NoMatch,
}

/// What is wrong with one operation of a plan.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OperationError {
    #[error("method: {0:?}: expected PUT, POST or DELETE")]
    Method(String),
    #[error("path: {0:?}: expected a path under /v1/")]
    Path(String),
}

pub(crate) fn parse(body: &[u8]) -> Result<Plan, PlanError> {
    let raw: RawPlan = serde_json::from_slice(body).map_err(PlanError::Json)?;
    if raw.hosts.is_empty() {
        return Err(PlanError::NoHosts);
    }
    if let Some(selector) = raw.hosts.iter().find(|s| !is_selector(s)) {
        return Err(PlanError::BadSelector(selector.clone()));
    }
    if !(1..=MAX_OPERATIONS).contains(&raw.operations.len()) {
        return Err(PlanError::OperationCount);
    }
    if !(1..=MAX_PARALLEL).contains(&raw.max_parallel) {
        return Err(PlanError::MaxParallel);
    }
    let operations = raw
        .operations
        .into_iter()
        .enumerate()
        .map(|(index, op)| operation(op, raw.dry_run).map_err(|error| PlanError::Operation { index, error }))
        .collect::<Result<_, _>>()?;
    Ok(Plan {
        selectors: raw.hosts,
        operations,
        dry_run: raw.dry_run,
        canary: raw.canary,
        max_parallel: raw.max_parallel,
        halt_on_error: raw.halt_on_error,
    })
}

fn operation(raw: RawOperation, dry_run: bool) -> Result<Operation, OperationError> {
    let method = match raw.method.as_str() {
        "PUT" => Method::PUT,
        "POST" => Method::POST,
        "DELETE" => Method::DELETE,
        _ => return Err(OperationError::Method(raw.method)),
    };
    let valid = raw.path.starts_with("/v1/") && raw.path.parse::<PathAndQuery>().is_ok();
    if !valid || raw.path.contains('#') {
        return Err(OperationError::Path(raw.path));
    }
    let mut target = raw.path.clone();
    if dry_run {
        target.push(if target.contains('?') { '&' } else { '?' });
        target.push_str("dry_run=true");
    }
    let body = match raw.body {
        None => Bytes::new(),
        Some(value) => Bytes::from(value.to_string()),
    };
    Ok(Operation { method, path: raw.path, target, body })
}

/// A host name, or a pattern of its characters with `*` and `?`.
fn is_selector(selector: &str) -> bool {
    (1..=253).contains(&selector.len())
        && selector.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-*?".contains(&b))
}

fn is_pattern(selector: &str) -> bool {
    selector.contains(['*', '?'])
}

/// The hosts of `all` the plan selects and the caller may reach, by name. A name the
/// token does not allow is refused as the proxy refuses it (whether it exists or not); an
/// allowed name that is no host is refused too (a typo must not shrink a rollout
/// silently). Patterns only reach hosts the token allows, as `/v1/hosts` shows them.
pub(crate) fn select(
    plan: &Plan,
    all: Vec<Arc<Host>>,
    caller: &Principal,
) -> Result<Vec<Arc<Host>>, GatewayError> {
    for name in plan.selectors.iter().filter(|s| !is_pattern(s)) {
        if !caller.allows_host(name) {
            return Err(GatewayError::HostNotAllowed(name.clone()));
        }
        if !all.iter().any(|h| h.name == *name) {
            return Err(PlanError::UnknownHost(name.clone()).into());
        }
    }
    let matches = |host: &Host| plan.selectors.iter().any(|s| glob(s.as_bytes(), host.name.as_bytes()));
    let selected: Vec<Arc<Host>> = all.into_iter().filter(|h| matches(h)).collect();
    if selected.is_empty() {
        return Err(PlanError::NoMatch.into());
    }
    let allowed: Vec<Arc<Host>> = selected.into_iter().filter(|h| caller.allows_host(&h.name)).collect();
    if allowed.is_empty() {
        return Err(GatewayError::NoAllowedHost);
    }
    Ok(allowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        GatewayError::from(parse(text.as_bytes()).unwrap_err()).to_string()
    }

    #[test]
    fn a_plan_with_defaults() {
        let plan = parse(
            br#"{"hosts": ["compute-*"], "operations": [
                {"method": "PUT", "path": "/v1/nfvs/1/patches", "body": {"src": "ring:0", "dst": "vhost:1"}},
                {"method": "DELETE", "path": "/v1/nfvs/1/patches?x=1"}]}"#,
        )
        .unwrap();
        assert_eq!((plan.dry_run, plan.canary, plan.max_parallel, plan.halt_on_error), (false, 0, 1, true));
        let op = &plan.operations[0];
        assert_eq!(
            (&op.target[..], &op.body[..]),
            ("/v1/nfvs/1/patches", &br#"{"src":"ring:0","dst":"vhost:1"}"#[..])
        );
        assert_eq!(
            (&plan.operations[1].target[..], plan.operations[1].body.len()),
            ("/v1/nfvs/1/patches?x=1", 0)
        );
    }

    #[test]
    fn a_dry_run_asks_every_operation_for_one() {
        let plan = parse(
            br#"{"hosts": ["a"], "dry_run": true, "operations": [
                {"method": "PUT", "path": "/v1/nfvs/1/forward", "body": {"action": "start"}},
                {"method": "POST", "path": "/v1/vfs/2/components?x=1", "body": {}}]}"#,
        )
        .unwrap();
        let targets: Vec<&str> = plan.operations.iter().map(|o| o.target.as_str()).collect();
        assert_eq!(targets, ["/v1/nfvs/1/forward?dry_run=true", "/v1/vfs/2/components?x=1&dry_run=true"]);
        assert_eq!(plan.operations[0].path, "/v1/nfvs/1/forward");
    }

    #[test]
    fn bad_plans_are_refused_whole() {
        let op = r#"{"method": "PUT", "path": "/v1/nfvs/1/forward"}"#;
        for (plan, expected) in [
            ("{", "invalid plan: EOF while parsing an object at line 1 column 1"),
            (r#"{"operations": []}"#, "invalid plan: missing field `hosts` at line 1 column 18"),
            (&format!(r#"{{"hosts": [], "operations": [{op}]}}"#), "invalid plan: hosts: empty"),
            (
                &format!(r#"{{"hosts": ["a b"], "operations": [{op}]}}"#),
                "invalid plan: hosts: \"a b\" is neither a host name nor a pattern",
            ),
            (r#"{"hosts": ["a"], "operations": []}"#, "invalid plan: operations: expected 1 to 64"),
            (
                &format!(r#"{{"hosts": ["a"], "max_parallel": 0, "operations": [{op}]}}"#),
                "invalid plan: max_parallel: expected 1 to 256",
            ),
            (
                r#"{"hosts": ["a"], "operations": [{"method": "GET", "path": "/v1/processes"}]}"#,
                "invalid plan: operations[0].method: \"GET\": expected PUT, POST or DELETE",
            ),
            (
                &format!(
                    r#"{{"hosts": ["a"], "operations": [{op}, {{"method": "PUT", "path": "/metrics"}}]}}"#
                ),
                "invalid plan: operations[1].path: \"/metrics\": expected a path under /v1/",
            ),
            (
                r#"{"hosts": ["a"], "operations": [{"method": "PUT", "path": "/v1/a b"}]}"#,
                "invalid plan: operations[0].path: \"/v1/a b\": expected a path under /v1/",
            ),
            (
                &format!(r#"{{"hosts": ["a"], "canary": -1, "operations": [{op}]}}"#),
                "invalid plan: invalid value: integer `-1`, expected usize at line 1 column 29",
            ),
            (
                &format!(r#"{{"hosts": ["a"], "parallel": 2, "operations": [{op}]}}"#),
                "invalid plan: unknown field `parallel`, expected one of `hosts`, `operations`, `dry_run`, \
                 `canary`, `max_parallel`, `halt_on_error` at line 1 column 27",
            ),
        ] {
            assert_eq!(error(plan), expected, "{plan}");
        }
    }

    #[test]
    fn hosts_by_name_and_pattern_within_the_claim() {
        let host =
            |name: &str| Arc::new(Host::new(name.into(), "http://x".into(), "http://x".parse().unwrap()));
        let all = || ["compute-1", "compute-2", "compute-3", "storage-1"].map(host).to_vec();
        let plan = |hosts: &str| {
            parse(
                format!(r#"{{"hosts": {hosts}, "operations": [{{"method": "PUT", "path": "/v1/"}}]}}"#)
                    .as_bytes(),
            )
            .unwrap()
        };
        let names = |r: Result<Vec<Arc<Host>>, GatewayError>| match r {
            Ok(hosts) => hosts.iter().map(|h| h.name.clone()).collect::<Vec<_>>().join(","),
            Err(e) => format!("{} {e}", e.status().as_u16()),
        };
        let anyone = Principal::anonymous();
        let limited = Principal {
            hosts: Some(["compute-2".to_owned(), "storage-*".to_owned()].into()),
            ..anyone.clone()
        };
        let cases = [
            (r#"["storage-1", "compute-*"]"#, &anyone, "compute-1,compute-2,compute-3,storage-1"),
            (r#"["compute-?"]"#, &limited, "compute-2"),
            (r#"["compute-?", "storage-?"]"#, &limited, "compute-2,storage-1"),
            (r#"["compute-1", "compute-2"]"#, &limited, "403 token does not allow host compute-1"),
            (r#"["secret-9"]"#, &limited, "403 token does not allow host secret-9"),
            (r#"["edge-*"]"#, &limited, "400 invalid plan: hosts: no host matches"),
            (r#"["compute-1?"]"#, &limited, "400 invalid plan: hosts: no host matches"),
            (r#"["compute-9"]"#, &anyone, "400 invalid plan: hosts: unknown host compute-9"),
            (r#"["edge-*"]"#, &anyone, "400 invalid plan: hosts: no host matches"),
        ];
        for (selectors, caller, expected) in cases {
            assert_eq!(names(select(&plan(selectors), all(), caller)), expected, "{selectors}");
        }
    }
}
