//! A fuzz target that meets a divergence writes a repro file (feature `faults`, whose spec
//! can be made wrong on purpose: every SSTORE one gas dearer). The file is a BlockchainTest
//! that the spec with the same fault passes and sequential revm fails. This file holds one
//! test: the fault is read from the environment once per process.
#![cfg(feature = "faults")]

use lockstep::fuzz::bytecode;
use std::path::PathBuf;
use std::process::Command;

#[test]
fn bytecode_diff_writes_a_replayable_repro_file() {
    let dir = std::env::temp_dir().join(format!("lockstep-fuzz-repro-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // Safety of the test: no other thread of this process reads these variables yet.
    std::env::set_var("LOCKSTEP_SPEC_FAULT", "sstore-gas");
    std::env::set_var("LOCKSTEP_REPRO_DIR", &dir);
    let seed =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/bytecode_diff/sstore_sload");
    let input = std::fs::read(&seed).unwrap_or_else(|e| panic!("{}: {e}", seed.display()));
    let divergence = bytecode::check(&input).expect_err("the SSTORE fault must diverge");
    assert!(divergence.difference.contains("repro: "), "{divergence}");
    let file = std::fs::read_dir(&dir)
        .expect("the repro folder")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .next()
        .expect("a repro file");
    let run = |executor: &str| {
        Command::new(env!("CARGO_BIN_EXE_lockstep"))
            .env("LOCKSTEP_SPEC_FAULT", "sstore-gas")
            .args(["run", "--executors", executor])
            .arg(&file)
            .output()
            .expect("lockstep runs")
    };
    // The header holds the (faulty) spec's outcome: that spec reproduces it, revm does not.
    let spec = run("spec");
    assert_eq!(
        spec.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&spec.stdout)
    );
    let revm = run("revm");
    assert_eq!(
        revm.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&revm.stdout)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
