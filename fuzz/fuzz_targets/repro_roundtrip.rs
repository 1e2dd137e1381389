//! A generated block written as a repro file and read back must execute the same
//! (`lockstep::fuzz::block::roundtrip`).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    if let Err(divergence) = lockstep::fuzz::block::roundtrip(input) {
        panic!("round trip broke: {divergence}");
    }
});
