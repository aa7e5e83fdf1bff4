//! The agent's event stream (`GET /v1/events`): the hub that numbers, buffers and fans
//! out events (`hub`), the events of the data plane (`kind`), the request layer that
//! reports commands and runs dry runs (`command`), and the SSE body (`stream`).

pub mod command;
pub mod hub;
pub mod kind;
pub mod stream;

pub use hub::{EventHub, HubSettings};
