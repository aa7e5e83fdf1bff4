//! spp-ctl: the controller of SPP (Soft Patch Panel).
//!
//! The binary has several roles; each lives in its own module tree. `agent` is the
//! drop-in replacement for the original Python spp-ctl, `sim` simulates SPP processes.
//! Pieces used by more than one role sit at the top level.

pub mod agent;
mod audit;
pub mod auth;
pub mod check;
pub mod cli;
pub mod client;
mod defaults;
mod echo;
mod file_watch;
pub mod gateway;
pub mod http_server;
pub mod in_force;
pub mod logging;
mod metrics;
pub mod notify;
pub mod open_files;
pub mod openapi;
pub mod proc_type;
mod pyjson;
mod respond;
pub mod shutdown;
pub mod sim;
mod sse;
pub mod tls;
pub mod token;
