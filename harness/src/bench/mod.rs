//! Benchmark support for `lockstep bench`: the built-in synthetic workloads, and the ceiling
//! the parallel executors' speedups are read beside.

pub mod ceiling;
pub mod workloads;
