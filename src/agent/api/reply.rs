//! From an SPP reply to an HTTP response (`docs/compatibility.md` §3).

use crate::agent::error::ApiError;
use crate::agent::process::{ProcessError, ProcessHandle, Reply};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

pub(crate) use crate::respond::json;

/// 204 without body or content type.
pub(crate) fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// 502 for a reply we cannot use. A process without frames never sends text: such bytes
/// mean the connection is out of step, so it is dropped too.
pub(crate) fn unusable(handle: &ProcessHandle, reason: impl Into<String>) -> ApiError {
    if !handle.name().ty.uses_frames() {
        handle.invalidate();
    }
    ApiError::Process(ProcessError::BadReply { proc: handle.name(), reason: reason.into() })
}

/// The JSON of a reply, with vf/mirror/pcap `error` results turned into 400s.
pub(crate) fn expect_json(handle: &ProcessHandle, reply: Reply) -> Result<Value, ApiError> {
    match reply {
        Reply::Json(value) => {
            process_error(&value)?;
            Ok(value)
        }
        Reply::Text(text) => Err(unusable(handle, format!("expected JSON, got {:?}", abbreviate(&text)))),
    }
}

/// The reply to a command answered with 204 on success.
pub(crate) fn command_done(
    handle: &ProcessHandle,
    command: &str,
    reply: Reply,
) -> Result<Response, ApiError> {
    let value = expect_json(handle, reply)?;
    if value.get("result").and_then(Value::as_str) == Some("failed") {
        return Err(ApiError::Command(format!("{command} failed")));
    }
    Ok(no_content())
}

/// `patch reset` is answered by primary and nfv with an echo of the command, not JSON.
pub(crate) fn echo_done(handle: &ProcessHandle, command: &str, reply: Reply) -> Result<Response, ApiError> {
    match reply {
        Reply::Text(_) => Ok(no_content()),
        json @ Reply::Json(_) => command_done(handle, command, json),
    }
}

/// `{ "results": [ { "result": "error", "error_details": { "message": M } } ] }` → 400 M.
fn process_error(value: &Value) -> Result<(), ApiError> {
    let Some(first) = value.pointer("/results/0") else { return Ok(()) };
    let result = first.get("result").and_then(Value::as_str).unwrap_or_default();
    if result != "error" {
        return Ok(());
    }
    let message = first.pointer("/error_details/message").and_then(Value::as_str).unwrap_or(result);
    Err(ApiError::Command(message.to_owned()))
}

fn abbreviate(text: &str) -> String {
    match text.char_indices().nth(64) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn vf_errors_carry_the_process_message_verbatim() {
        let reply =
            json!({"results": [{"result": "error", "error_details": {"message": "Invalid value (port)"}}]});
        assert_eq!(process_error(&reply).unwrap_err().to_string(), "command error: Invalid value (port)");
        let bare = json!({"results": [{"result": "error"}]});
        assert_eq!(process_error(&bare).unwrap_err().to_string(), "command error: error");
        assert!(process_error(&json!({"results": [{"result": "success"}]})).is_ok());
        assert!(process_error(&json!({"result": "error", "message": "Flow rule #3 not found"})).is_ok());
    }
}
