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
mod nfv;
mod vf;
mod vf_parse;
mod vf_status;
#[cfg(test)]
mod vf_tests;
mod pcap;
