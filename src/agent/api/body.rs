//! Request bodies: read up to the limit, then parse as a JSON object. The content type
//! is ignored (every client sends JSON, some without saying so).
//!
//! Reading happens in the handler after the process lookup, so that a missing process
//! is a 404 before a bad body is a 400 or 413 (`docs/compatibility.md` §2).

use crate::agent::command::{Command, Verb};
use crate::agent::error::ApiError;
use crate::proc_type::ProcType;
use axum::body::Body;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::{Map, Value};

/// A JSON object body with typed accessors that produce the spec's error texts.
pub(crate) struct Fields(Map<String, Value>);

/// Reads and parses `body`; `Not in json format.` unless it is a JSON object.
pub(crate) async fn read(body: Body, limit: usize) -> Result<Fields, ApiError> {
    let bytes = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => return Err(ApiError::PayloadTooLarge),
        Err(_) => return Err(ApiError::NotJson),
    };
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(Fields(map)),
        _ => Err(ApiError::NotJson),
    }
}

impl Fields {
    #[cfg(test)]
    pub(crate) fn from_json(text: &str) -> Self {
        match serde_json::from_str(text) {
            Ok(Value::Object(map)) => Fields(map),
            _ => panic!("test body must be a JSON object: {text}"),
        }
    }

    /// Fails with `key(<key>) required.` when absent (a `null` value counts as present).
    pub(crate) fn require(&self, keys: &[&str]) -> Result<(), ApiError> {
        match keys.iter().find(|k| !self.0.contains_key(**k)) {
            Some(missing) => Err(ApiError::required(missing)),
            None => Ok(()),
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    /// The value of a key already checked by `require`.
    pub(crate) fn value(&self, key: &str) -> &Value {
        self.0.get(key).unwrap_or(&Value::Null)
    }

    /// A string value, or `invalid key(<key>): <value>.`.
    pub(crate) fn str(&self, key: &str) -> Result<&str, ApiError> {
        let value = self.value(key);
        value.as_str().ok_or_else(|| ApiError::invalid(key, value))
    }

    /// `{verb} {args}` for `target`; a command the process could not take blames `key`.
    pub(crate) fn command(
        &self,
        target: ProcType,
        verb: Verb,
        args: &str,
        key: &str,
    ) -> Result<Command, ApiError> {
        Command::new(target, verb, args).map_err(|_| ApiError::invalid(key, self.value(key)))
    }

    /// A string that must be one of `allowed`.
    pub(crate) fn choice(&self, key: &str, allowed: &[&str]) -> Result<&str, ApiError> {
        let value = self.str(key)?;
        if allowed.contains(&value) { Ok(value) } else { Err(ApiError::invalid(key, self.value(key))) }
    }
}
