//! Commands that the primary and spp_nfv understand alike: status, forward/stop,
//! add/del, patch, patch reset and exit. Validation and command text are pure functions
//! so the exact wire strings are unit-tested.

use crate::agent::api::body::Fields;
use crate::agent::api::validate::{ALL_PORTS, PRIMARY_PORTS, uid};
use crate::agent::api::{exec, reply};
use crate::agent::command::{Command, Verb};
use crate::agent::error::ApiError;
use crate::agent::process::ProcessHandle;
use crate::proc_type::ProcType;
use axum::response::Response;

/// `{"action": "start"|"stop"}` → `forward` | `stop`.
pub(crate) fn forward_command(fields: &Fields) -> Result<Command, ApiError> {
    fields.require(&["action"])?;
    let verb = match fields.choice("action", &["start", "stop"])? {
        "start" => Verb::Forward,
        _ => Verb::Stop,
    };
    Ok(Command::bare(verb))
}

/// `{"action": "add"|"del", "port": UID}` → `add {port}` | `del {port}`; a primary
/// pipe `add` also takes `rx` and `tx` ring UIDs. `allowed` tells primary from nfv.
pub(crate) fn ports_command(fields: &Fields, allowed: &[&str]) -> Result<Command, ApiError> {
    fields.require(&["action", "port"])?;
    let verb = if fields.choice("action", &["add", "del"])? == "add" { Verb::Add } else { Verb::Del };
    let port = uid(fields, "port", allowed)?;
    let target = if allowed == PRIMARY_PORTS { ProcType::Primary } else { ProcType::Nfv };
    let args = if verb == Verb::Add && port.starts_with("pipe:") {
        fields.require(&["rx", "tx"])?;
        let rx = uid(fields, "rx", &["ring"])?;
        let tx = uid(fields, "tx", &["ring"])?;
        format!("{port} {rx} {tx}")
    } else {
        port.to_owned()
    };
    fields.command(target, verb, &args, "port")
}

/// `{"src": UID, "dst": UID}` → `patch {src} {dst}`; the primary takes a third token of
/// at most 15 bytes.
pub(crate) fn patch_command(target: ProcType, fields: &Fields) -> Result<Command, ApiError> {
    fields.require(&["src", "dst"])?;
    let src = uid(fields, "src", ALL_PORTS)?;
    let dst = uid(fields, "dst", ALL_PORTS)?;
    fields.command(target, Verb::Patch, &format!("{src} {dst}"), "dst")
}

/// Sends a command answered with `succeeded`/`failed`: 204, or 400 naming the command.
pub(crate) async fn run(handle: &ProcessHandle, command: Command) -> Result<Response, ApiError> {
    let text = command.text().to_owned();
    let answer = exec::send(handle, command).await?;
    reply::command_done(handle, &text, answer)
}

/// `status`, returned as received (re-serialized like Python).
pub(crate) async fn status(handle: &ProcessHandle) -> Result<Response, ApiError> {
    let answer = exec::send(handle, Command::status()).await?;
    let value = reply::expect_json(handle, answer)?;
    if !value.is_object() {
        return Err(reply::unusable(handle, "status is not a JSON object"));
    }
    Ok(reply::json(&value))
}

/// `patch reset`: the answer is an echo of the command, which means success.
pub(crate) async fn patch_reset(handle: &ProcessHandle) -> Result<Response, ApiError> {
    let answer = exec::send(handle, Command::patch_reset()).await?;
    reply::echo_done(handle, "patch reset", answer)
}

/// `exit`: the process is gone afterwards whatever it answers.
pub(crate) async fn exit(handle: &ProcessHandle) -> Result<Response, ApiError> {
    exec::exit(handle).await?;
    Ok(reply::no_content())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::api::validate::NFV_PORTS;

    fn ports(body: &str, allowed: &[&str]) -> Result<String, String> {
        ports_command(&Fields::from_json(body), allowed).map(String::from).map_err(|e| e.to_string())
    }

    #[test]
    fn forward_validates_the_action() {
        let forward =
            |b: &str| forward_command(&Fields::from_json(b)).map(String::from).map_err(|e| e.to_string());
        assert_eq!(forward(r#"{"action": "start"}"#), Ok("forward".into()));
        assert_eq!(forward(r#"{"action": "stop"}"#), Ok("stop".into()));
        assert_eq!(forward(r#"{}"#), Err("key(action) required.".into()));
        assert_eq!(forward(r#"{"action": "restart"}"#), Err("invalid key(action): restart.".into()));
        assert_eq!(forward(r#"{"action": null}"#), Err("invalid key(action): null.".into()));
    }

    #[test]
    fn primary_ports_table_of_the_spec() {
        assert_eq!(ports(r#"{"action": "add", "port": "ring:0"}"#, PRIMARY_PORTS), Ok("add ring:0".into()));
        assert_eq!(
            ports(r#"{"action": "add", "port": "pipe:0", "rx": "ring:0", "tx": "ring:1"}"#, PRIMARY_PORTS),
            Ok("add pipe:0 ring:0 ring:1".into())
        );
        assert_eq!(
            ports(r#"{"action": "del", "port": "pipe:0", "rx": 5}"#, PRIMARY_PORTS),
            Ok("del pipe:0".into())
        );
        assert_eq!(
            ports(r#"{"action": "add", "port": "pipe:0"}"#, PRIMARY_PORTS),
            Err("key(rx) required.".into())
        );
        assert_eq!(
            ports(r#"{"action": "add", "port": "pipe:0", "rx": "ring:0"}"#, PRIMARY_PORTS),
            Err("key(tx) required.".into())
        );
        assert_eq!(
            ports(r#"{"action": "add", "port": "pipe:0", "rx": "vhost:0", "tx": "ring:1"}"#, PRIMARY_PORTS),
            Err("invalid key(rx): vhost:0.".into())
        );
        assert_eq!(
            ports(r#"{"action": "add", "port": "phy:0"}"#, PRIMARY_PORTS),
            Err("invalid key(port): phy:0.".into())
        );
        assert_eq!(ports(r#"{"port": "ring:0"}"#, PRIMARY_PORTS), Err("key(action) required.".into()));
        assert_eq!(ports(r#"{"action": "add"}"#, PRIMARY_PORTS), Err("key(port) required.".into()));
        assert_eq!(
            ports(r#"{"action": "attach", "port": 5}"#, PRIMARY_PORTS),
            Err("invalid key(action): attach.".into())
        );
        assert_eq!(
            ports(r#"{"action": "add", "port": 5}"#, PRIMARY_PORTS),
            Err("invalid key(port): 5.".into())
        );
    }

    #[test]
    fn nfv_ports_refuse_types_that_corrupt_it() {
        assert_eq!(ports(r#"{"action": "add", "port": "vhost:1"}"#, NFV_PORTS), Ok("add vhost:1".into()));
        for port in ["phy:0", "tap:0", "pipe:0", "ring: 1", "ring:01"] {
            let body = format!(r#"{{"action": "del", "port": "{port}"}}"#);
            assert_eq!(ports(&body, NFV_PORTS), Err(format!("invalid key(port): {port}.")));
        }
    }

    #[test]
    fn patch_takes_any_type_and_multi_queue() {
        let patch = |b: &str| {
            patch_command(ProcType::Primary, &Fields::from_json(b))
                .map(String::from)
                .map_err(|e| e.to_string())
        };
        assert_eq!(patch(r#"{"src": "phy:0nq1", "dst": "ring:0"}"#), Ok("patch phy:0nq1 ring:0".into()));
        assert_eq!(patch(r#"{"src": "pipe:0", "dst": "tap:1"}"#), Ok("patch pipe:0 tap:1".into()));
        assert_eq!(patch(r#"{"dst": "ring:0"}"#), Err("key(src) required.".into()));
        assert_eq!(patch(r#"{"src": "ring:0"}"#), Err("key(dst) required.".into()));
        assert_eq!(patch(r#"{"src": "ring:0", "dst": "ring:0 "}"#), Err("invalid key(dst): ring:0 .".into()));
    }
}
