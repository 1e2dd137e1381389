//! A generated conflict block chosen by libFuzzer's input, through the spec, sequential revm
//! and the parallel executors (`lockstep::fuzz::block::check`). A divergence writes a repro
//! file (`LOCKSTEP_REPRO_DIR`, default `lockstep-repros/`) and aborts.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    if let Err(divergence) = lockstep::fuzz::block::check(input) {
        panic!("divergence: {divergence}");
    }
});
