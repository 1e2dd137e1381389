//! A test-only switch that makes the spec wrong on purpose (feature `faults`): with
//! `LOCKSTEP_SPEC_FAULT=sstore-gas` in the environment, every SSTORE costs one gas more. Tests
//! use it to show that lockstep's traces name a divergence at its first differing step.
//! Without the feature this module does not exist.

use std::sync::OnceLock;

/// Extra gas charged by SSTORE: 1 under `LOCKSTEP_SPEC_FAULT=sstore-gas`, else 0.
pub fn extra_sstore_gas() -> u64 {
    static EXTRA: OnceLock<u64> = OnceLock::new();
    *EXTRA.get_or_init(|| {
        u64::from(std::env::var("LOCKSTEP_SPEC_FAULT").is_ok_and(|v| v == "sstore-gas"))
    })
}
