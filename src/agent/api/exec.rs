//! Finding the process a request is for, and sending it a validated command within the
//! size limits of the C programs (`spp-wire-protocol.md` §3.1).

use crate::agent::api::AppState;
use crate::agent::api::body::{self, Fields};
use crate::agent::api::path::Num;
use crate::agent::error::ApiError;
use crate::agent::events::command;
use crate::agent::process::{ProcessHandle, Reply};
use crate::proc_type::ProcType;
use axum::body::Body;
use serde_json::Value;

impl AppState {
    /// Looks the process up, then reads the body (404 before 400, as §1.7 orders).
    pub async fn with_body(
        &self,
        handle: Result<ProcessHandle, ApiError>,
        body: Body,
    ) -> Result<(ProcessHandle, Fields), ApiError> {
        let handle = handle?;
        let fields = body::read(body, self.config.body_limit).await?;
        Ok((handle, fields))
    }

    pub fn primary(&self) -> Result<ProcessHandle, ApiError> {
        self.registry.primary().ok_or(ApiError::PrimaryNotFound)
    }

    /// The secondary of type `ty` with this id; 404 `sec_id <id> not found.` otherwise.
    pub fn secondary(&self, ty: ProcType, id: &Num) -> Result<ProcessHandle, ApiError> {
        id.as_u32()
            .and_then(|id| self.registry.secondary(ty, id))
            .ok_or_else(|| ApiError::SecondaryNotFound(id.0.clone()))
    }
}

/// Limits of one command: (bytes, tokens). Primary and nfv copy a command into a 32 KiB
/// buffer and a 48-entry token array; vf, mirror and pcap into 888 bytes and 8 tokens.
fn limits(ty: ProcType) -> (usize, usize) {
    if ty.uses_frames() { (32767, 47) } else { (887, 8) }
}

/// Refuses a command the process could not take, blaming `key` and its `value`.
pub fn check_limits(ty: ProcType, command: &str, key: &str, value: &Value) -> Result<(), ApiError> {
    let (bytes, tokens) = limits(ty);
    let third_token_ok = ty != ProcType::Primary || command.split(' ').nth(2).is_none_or(|t| t.len() < 16);
    if command.len() > bytes || token_count(command) > tokens || !third_token_ok {
        return Err(ApiError::invalid(key, value));
    }
    Ok(())
}

/// Tokens as the processes count them: runs of spaces separate, never make, tokens.
pub fn token_count(text: &str) -> usize {
    text.split(' ').filter(|t| !t.is_empty()).count()
}

/// Sends `command`; transport failures become 503/504/502. Every command of the API goes
/// through here or `exit`: a dry run ends here, with everything validated.
pub async fn send(handle: &ProcessHandle, command: String) -> Result<Reply, ApiError> {
    if command::intercept(handle, &command) {
        return Err(ApiError::DryRun);
    }
    let result = handle.call(command).await;
    command::note_result(&result);
    Ok(result?)
}

/// Sends `exit` (see `ProcessHandle::exit`), unless this is a dry run.
pub async fn exit(handle: &ProcessHandle) -> Result<(), ApiError> {
    if command::intercept(handle, "exit") {
        return Err(ApiError::DryRun);
    }
    handle.exit().await;
    Ok(())
}
