//! Benchmark support for `lockstep bench`: the built-in synthetic workloads.

pub mod workloads;
