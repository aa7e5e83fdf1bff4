//! The agent: the drop-in spp-ctl for one host.
//!
//! It accepts SPP process connections on the primary and secondary ports, keeps the
//! registry of connected processes, and serves the REST API v1. `Agent::start` takes
//! already-bound listeners and a shutdown token, so tests bind port 0.

pub mod actor;
pub mod api;
pub mod codec;
pub mod config;
pub mod cpu_layout;
pub mod error;
pub mod listener;
pub mod process;
pub mod registry;

pub use config::AgentConfig;
pub use registry::Registry;
