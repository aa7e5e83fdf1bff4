//! Finding the process a request is for, and sending it a command (`agent/command.rs`
//! holds the size limits of the C programs).

use crate::agent::api::AppState;
use crate::agent::api::body::{self, Fields};
use crate::agent::api::path::Num;
use crate::agent::command::Command;
use crate::agent::error::ApiError;
use crate::agent::events::command;
use crate::agent::process::{ProcessHandle, Reply};
use crate::proc_type::ProcType;
use axum::body::Body;

impl AppState {
    /// Looks the process up, then reads the body (404 before 400: `docs/compatibility.md` §2).
    pub(crate) async fn with_body(
        &self,
        handle: Result<ProcessHandle, ApiError>,
        body: Body,
    ) -> Result<(ProcessHandle, Fields), ApiError> {
        let handle = handle?;
        let fields = body::read(body, self.config.body_limit).await?;
        Ok((handle, fields))
    }

    pub(crate) fn primary(&self) -> Result<ProcessHandle, ApiError> {
        self.registry.primary().ok_or(ApiError::PrimaryNotFound)
    }

    /// The secondary of type `ty` with this id; 404 `sec_id <id> not found.` otherwise.
    pub(crate) fn secondary(&self, ty: ProcType, id: &Num) -> Result<ProcessHandle, ApiError> {
        id.as_u32()
            .and_then(|id| self.registry.secondary(ty, id))
            .ok_or_else(|| ApiError::SecondaryNotFound(id.0.clone()))
    }
}

/// Sends `command`; transport failures become 503/504/502. Every command of the API goes
/// through here or `exit`: a dry run ends here, with everything validated.
pub(crate) async fn send(handle: &ProcessHandle, command: Command) -> Result<Reply, ApiError> {
    if command::intercept(handle, command.text()) {
        return Err(ApiError::DryRun);
    }
    let result = handle.call(command).await;
    command::note_result(&result);
    Ok(result?)
}

/// Sends `exit` (see `ProcessHandle::exit`), unless this is a dry run.
pub(crate) async fn exit(handle: &ProcessHandle) -> Result<(), ApiError> {
    if command::intercept(handle, "exit") {
        return Err(ApiError::DryRun);
    }
    handle.exit().await;
    Ok(())
}
