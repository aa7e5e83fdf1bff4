//! `spp-ctl apply -f plan.json|plan.yaml [--dry-run]` (gateway `POST /v1/cluster/apply`)
//! and `spp-ctl wait nfv:1 vf:2` (`GET /v1/processes?wait_for=...`): loading the plan,
//! the requests, and the per-host summary of an apply answer.

use crate::client::exit::{Code, Failure};
use crate::client::http::Request;
use crate::client::table;
use hyper::Method;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

/// The plan in `file` (`-`: stdin) as JSON, whether written in JSON or YAML; `dry_run`
/// overrides the plan's own setting.
pub(crate) fn load(file: &Path, dry_run: bool) -> Result<Value, Failure> {
    let text = if file == Path::new("-") {
        std::io::read_to_string(std::io::stdin()).map_err(|e| Failure::local(format!("stdin: {e}")))?
    } else {
        std::fs::read_to_string(file).map_err(|e| Failure::local(format!("{}: {e}", file.display())))?
    };
    parse(&text, dry_run).map_err(|e| Failure::local(format!("{}: {e}", file.display())))
}

/// Why a plan file cannot be sent.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PlanError {
    #[error("not valid JSON: {0}")]
    Json(serde_json::Error),
    #[error("neither JSON nor valid YAML: {0}")]
    Yaml(yaml_serde::Error),
    #[error("a plan is an object with `hosts` and `operations`")]
    NotAnObject,
    #[error("`operations` (a list) is missing")]
    NoOperations,
}

/// JSON first (YAML would take it too, but JSON's errors are clearer for JSON), then YAML.
pub(crate) fn parse(text: &str, dry_run: bool) -> Result<Value, PlanError> {
    let mut plan: Value = match serde_json::from_str(text) {
        Ok(plan) => plan,
        Err(json) if text.trim_start().starts_with('{') => return Err(PlanError::Json(json)),
        Err(_) => yaml_serde::from_str(text).map_err(PlanError::Yaml)?,
    };
    let Some(object) = plan.as_object_mut() else {
        return Err(PlanError::NotAnObject);
    };
    if !object.get("operations").is_some_and(Value::is_array) {
        return Err(PlanError::NoOperations);
    }
    if dry_run {
        object.insert("dry_run".into(), Value::Bool(true));
    }
    Ok(plan)
}

pub(crate) fn apply_request(plan: &Value) -> Request {
    Request::new(Method::POST, "/v1/cluster/apply").with_json(plan.clone())
}

/// `GET {base}/processes?wait_for=...&timeout=...`, and how long to wait for the answer
/// (the server's timeout and a margin).
pub(crate) fn wait_request(
    base: &str,
    processes: &[String],
    timeout: &str,
) -> Result<(Request, Duration), Failure> {
    let wait = humantime::parse_duration(timeout)
        .map_err(|e| Failure::usage(format!("--timeout {timeout:?}: {e}")))?;
    let list = processes.join(",");
    let path = format!("{base}/processes?wait_for={}&timeout={}", encode(&list), encode(timeout));
    Ok((Request::get(path), wait + Duration::from_secs(10)))
}

fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// One row per host (`phase`, result), the hosts not attempted after them; the failure
/// when any host failed or was not attempted.
pub(crate) fn summary(answer: &Value) -> (String, Option<Failure>) {
    let mut rows = vec![["HOST", "PHASE", "RESULT"].map(str::to_owned).to_vec()];
    let hosts = answer["hosts"].as_object().cloned().unwrap_or_default();
    for (host, result) in &hosts {
        let operations = result["operations"].as_array().cloned().unwrap_or_default();
        let failed =
            operations.iter().find(|op| !op["status"].as_u64().is_some_and(|s| (200..300).contains(&s)));
        let text = match failed {
            None => format!("ok ({} operations)", operations.len()),
            Some(op) => {
                let body = match &op["body"] {
                    Value::String(text) => text.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                format!("failed: {} {}: {} {body}", text(&op["method"]), text(&op["path"]), op["status"])
            }
        };
        rows.push(vec![host.clone(), text_or_dash(&result["phase"]), text]);
    }
    let skipped = answer["not_attempted"].as_object().cloned().unwrap_or_default();
    for (host, why) in &skipped {
        rows.push(vec![host.clone(), "-".into(), format!("not attempted: {}", text(why))]);
    }
    let mut out = String::new();
    if answer["dry_run"] == Value::Bool(true) {
        out.push_str("dry run: nothing was changed\n");
    }
    out.push_str(&table::render(&rows));
    let failed = answer["failed"].as_array().map_or(0, Vec::len);
    let failure = (failed + skipped.len() > 0).then(|| {
        Failure::new(Code::Partial, format!("{failed} host(s) failed, {} not attempted", skipped.len()))
    });
    (out, failure)
}

fn text(value: &Value) -> String {
    value.as_str().map_or_else(|| value.to_string(), str::to_owned)
}

fn text_or_dash(value: &Value) -> String {
    if value.is_null() { "-".into() } else { text(value) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const YAML: &str = "hosts: [\"compute-*\", storage-1]\noperations:\n  - method: PUT\n    path: /v1/nfvs/1/patches\n    body: {src: \"ring:0\", dst: \"vhost:1\"}\ncanary: 1\n";

    #[test]
    fn yaml_and_json_plans_load_alike() {
        let from_yaml = parse(YAML, false).unwrap();
        let json_text = r#"{"hosts": ["compute-*", "storage-1"], "operations": [{"method": "PUT", "path": "/v1/nfvs/1/patches", "body": {"src": "ring:0", "dst": "vhost:1"}}], "canary": 1}"#;
        assert_eq!(from_yaml, parse(json_text, false).unwrap());
        assert_eq!(from_yaml["operations"][0]["body"]["src"], "ring:0");
        assert_eq!(parse(YAML, true).unwrap()["dry_run"], true, "--dry-run wins");
    }

    #[test]
    fn bad_plans_say_why() {
        let error = |text: &str| parse(text, false).unwrap_err().to_string();
        assert_eq!(error("{\"operations\": [}"), "not valid JSON: expected value at line 1 column 17");
        assert_eq!(error("hosts: [a]\n"), "`operations` (a list) is missing");
        assert_eq!(error("- 1\n"), "a plan is an object with `hosts` and `operations`");
        assert!(error("a: [\n").starts_with("neither JSON nor valid YAML: "));
    }

    #[test]
    fn the_summary_names_each_host_and_the_partial_failure() {
        let answer = json!({
            "dry_run": false,
            "succeeded": ["compute-1"],
            "failed": ["compute-2"],
            "hosts": {
                "compute-1": {"phase": "canary", "operations": [{"method": "PUT", "path": "/v1/nfvs/1/patches", "status": 204, "body": null}]},
                "compute-2": {"phase": "rollout", "operations": [{"method": "PUT", "path": "/v1/nfvs/1/patches", "status": 400, "body": "command error: x"}]}
            },
            "not_attempted": {"compute-3": "halted: compute-2 failed"}
        });
        let (text, failure) = summary(&answer);
        assert_eq!(
            text,
            "HOST       PHASE    RESULT\n\
             compute-1  canary   ok (1 operations)\n\
             compute-2  rollout  failed: PUT /v1/nfvs/1/patches: 400 command error: x\n\
             compute-3  -        not attempted: halted: compute-2 failed\n"
        );
        assert_eq!(failure, Some(Failure::new(Code::Partial, "1 host(s) failed, 1 not attempted")));
        let clean = json!({"dry_run": true, "succeeded": ["a"], "failed": [], "hosts": {"a": {"phase": "canary", "operations": []}}, "not_attempted": {}});
        assert_eq!(
            summary(&clean),
            (
                "dry run: nothing was changed\nHOST  PHASE   RESULT\na     canary  ok (0 operations)\n"
                    .into(),
                None
            )
        );
    }

    #[test]
    fn wait_asks_with_the_list_and_a_margin() {
        let (request, within) =
            wait_request("/v1/hosts/h1", &["nfv:1".into(), "vf:2".into()], "500ms").unwrap();
        assert_eq!(request.path, "/v1/hosts/h1/processes?wait_for=nfv%3A1%2Cvf%3A2&timeout=500ms");
        assert_eq!(within, Duration::from_millis(10_500));
        assert_eq!(wait_request("/v1", &[], "soon").unwrap_err().code, Code::Usage);
    }
}
