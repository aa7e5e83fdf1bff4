//! Helpers around the Prometheus tools (`promtool`, the `prometheus` server) that CI
//! installs from Debian.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// Runs `promtool` with `args`, feeding `stdin`; returns (success, combined output).
pub fn promtool(args: &[&str], stdin: &str, dir: &Path) -> (bool, String) {
    let mut child = Command::new("promtool")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs (CI installs the prometheus package)");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write to promtool");
    let output = child.wait_with_output().expect("promtool finishes");
    let text =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

/// Metric names used by the PromQL expressions of a Grafana dashboard.
pub fn dashboard_metric_names(dashboard: &serde_json::Value) -> Vec<String> {
    let mut exprs = Vec::new();
    collect_exprs(dashboard, &mut exprs);
    let mut names: Vec<String> = exprs.iter().flat_map(|e| metric_names(e)).collect();
    names.sort();
    names.dedup();
    names
}

fn collect_exprs(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, child) in map {
                match (key.as_str(), child) {
                    ("expr", serde_json::Value::String(expr)) => out.push(expr.clone()),
                    ("query" | "definition", serde_json::Value::String(q)) if q.contains("spp_") => {
                        out.push(q.clone())
                    }
                    _ => collect_exprs(child, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| collect_exprs(i, out)),
        _ => {}
    }
}

/// Identifiers of an expression that name series: ours all start with `spp_`.
fn metric_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let bytes = expr.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let starts_word = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        if starts_word && expr[i..].starts_with("spp_") {
            let end = expr[i..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map_or(expr.len(), |n| i + n);
            names.push(expr[i..end].to_owned());
            i = end;
        } else {
            i += 1;
        }
    }
    names
}
