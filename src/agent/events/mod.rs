//! The agent's event stream (`GET /v1/events`): the hub that numbers, buffers and fans
//! out events (`hub`), the events of the data plane (`kind`), the request layer that
//! reports commands and runs dry runs (`command`), and the SSE body (`stream`).

pub(crate) mod command;
pub(crate) mod hub;
pub(crate) mod kind;
pub(crate) mod stream;

pub use hub::{EventHub, HubSettings};
