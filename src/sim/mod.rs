//! Simulated SPP processes.

mod counters;
mod faults;
mod flow;
mod flow_table;
mod model;
mod primary;
mod primary_status;
mod spaced_json;
mod uid;
