//! Simulated SPP processes.
