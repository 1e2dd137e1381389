//! Benchmark support for `lockstep bench`: the built-in synthetic workloads, and the baseline
//! split across threads (`split:N`).

pub mod split;
pub mod workloads;
