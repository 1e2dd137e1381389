//! Contract code from libFuzzer, called once: the spec and sequential revm must agree
//! (`lockstep::fuzz::bytecode`). A divergence aborts, so libFuzzer keeps the input.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    if let Err(divergence) = lockstep::fuzz::bytecode::check(input) {
        panic!("divergence: {divergence}");
    }
});
