//! `lockstep gen` against deliberately broken executors (feature `faults`): a sequential revm
//! that drops a transaction's last write to a slot a later transaction reads, and one that pays
//! the beneficiary its fees one transaction late, are each caught within 1,000 generated blocks and shrunk to at most 3 transactions; its repro file fails the same
//! way under `lockstep repro` and passes against the real executors. An executor that hangs
//! on invalid transactions becomes a reported divergence with a repro file (the watchdog). A run
//! longer than one chunk of blocks counts its findings across the chunks.
#![cfg(feature = "faults")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn lockstep() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lockstep"))
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lockstep-genf-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\n{}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn only_file(dir: &Path) -> PathBuf {
    let files: Vec<_> = std::fs::read_dir(dir)
        .expect("repro dir")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

/// `lockstep gen ARGS --executors EXECUTORS --max-findings 1 --out DIR`, run to its end.
fn gen_one_finding(args: &[&str], executors: &str, dir: &Path) -> Output {
    lockstep()
        .arg("gen")
        .args(args)
        .args(["--executors", executors, "--max-findings", "1"])
        .arg("--out")
        .arg(dir)
        .output()
        .expect("lockstep runs")
}

/// `broken` is caught within 1,000 blocks of seed 1, shrunk to at most 3 transactions, and
/// its repro file fails the same way under `lockstep repro` and passes the real executors.
fn caught_shrunk_and_replayed(broken: &str) {
    let dir = temp_dir(broken);
    let out = gen_one_finding(
        &["--cases", "1000", "--seed", "1"],
        &format!("spec,revm,parallel,{broken}"),
        &dir,
    );
    let log = text(&out);
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert!(
        log.contains(&format!("diverged (spec vs {broken})")),
        "{log}"
    );
    let file = only_file(&dir);
    let cases = lockstep::fixtures::load_file(&file).expect("the repro file loads");
    let block = cases[0].blocks[0].block.as_ref().expect("decodes");
    let info = lockstep::fixtures::repro::read_info(&file).expect("_info");
    let info = info.values().next().expect("one test");
    println!(
        "{broken}: caught at case {} of seed 1; shrunk from {} to {} transactions; {}",
        info.case,
        info.original_transactions,
        block.transactions.len(),
        info.first_difference
    );
    assert!(info.case < 1000);
    assert!(
        block.transactions.len() <= 3,
        "{} transactions",
        block.transactions.len()
    );
    assert_eq!(info.signature.executors, ["spec", broken]);

    // Replayed with the recorded executors: the same finding, exit 1.
    let out = lockstep().arg("repro").arg(&file).output().expect("runs");
    let log = text(&out);
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert!(log.contains("the same finding as recorded"), "{log}");
    // Against the real executors, as a repro and as a fixture: clean.
    let out = lockstep()
        .arg("repro")
        .arg(&file)
        .args(["--executors", "revm,spec,parallel"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = lockstep().arg("run").arg(&file).output().expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // As a fixture, the broken executor misses the header's claims.
    let out = lockstep()
        .arg("run")
        .arg(&file)
        .args(["--executors", &format!("spec,{broken}")])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}

#[test]
fn a_dropped_write_is_caught_shrunk_and_replayed() {
    caught_shrunk_and_replayed("revm+DropLastSlotWrite");
}

#[test]
fn beneficiary_fees_out_of_order_are_caught_shrunk_and_replayed() {
    caught_shrunk_and_replayed("revm+FeesOutOfOrder");
}

#[test]
fn a_hang_is_a_divergence_with_a_repro_file() {
    let dir = temp_dir("hang");
    let out = gen_one_finding(
        &[
            "--cases",
            "6",
            "--seed",
            "4",
            "--invalid-share",
            "1",
            "--timeout",
            "1",
        ],
        "revm,revm+HangOnInvalid",
        &dir,
    );
    let log = text(&out);
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert!(log.contains("watchdog"), "{log}");
    let file = only_file(&dir);
    let info = lockstep::fixtures::repro::read_info(&file).expect("_info");
    let info = info.values().next().expect("one test");
    assert_eq!(info.signature.kind, "diverged");
    assert!(info
        .signature
        .executors
        .contains(&"revm+HangOnInvalid".to_string()));
    // The repro file itself is a valid blockchain test for the real executors.
    let out = lockstep().arg("run").arg(&file).output().expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

/// A run longer than one chunk of generated blocks (2,048) counts its findings across the
/// chunks: `--max-findings` holds for the whole run, and every finding is reported.
#[test]
fn findings_count_across_the_chunks_of_a_long_run() {
    let dir = temp_dir("chunks");
    let out = gen_one_finding(
        &["--cases", "2100", "--seed", "1", "--no-shrink"],
        "revm,revm+DropLastSlotWrite",
        &dir,
    );
    let log = text(&out);
    assert_eq!(out.status.code(), Some(1), "{log}");
    // The progress line after the first chunk, and the findings so far.
    let first_chunk: usize = log
        .lines()
        .find_map(|line| {
            let rest = line.strip_prefix("lockstep gen: 2048 of 2100 cases run, ")?;
            rest.split_whitespace().next()?.parse().ok()
        })
        .unwrap_or_else(|| panic!("no progress line after the first chunk:\n{log}"));
    let diverged: usize = log
        .lines()
        .find_map(|line| {
            let rest = line.strip_prefix("2100 cases: ")?;
            let (_, after) = rest.split_once(" failed, ")?;
            after.split_whitespace().next()?.parse().ok()
        })
        .unwrap_or_else(|| panic!("no summary of 2100 cases:\n{log}"));
    assert!(
        first_chunk > 0 && diverged > first_chunk,
        "findings in both chunks expected: {first_chunk} then {diverged} in all\n{log}"
    );
    // One repro file over the whole run; the others are counted.
    only_file(&dir);
    assert!(
        log.contains(&format!("{} more findings not written", diverged - 1)),
        "{log}"
    );
}

/// A divergence made on purpose (the spec's test-only fault: every SSTORE one gas dearer) is
/// found by `lockstep gen`, and `lockstep repro --trace` names its first differing step: the
/// instruction after an SSTORE, whose costs the context shows differ.
#[test]
fn repro_trace_names_the_first_differing_step() {
    let dir = temp_dir("trace");
    let out = lockstep()
        .env("LOCKSTEP_SPEC_FAULT", "sstore-gas")
        .args([
            "gen",
            "--cases",
            "3",
            "--seed",
            "1",
            "--executors",
            "spec,revm",
            "--no-shrink",
        ])
        .arg("--out")
        .arg(&dir)
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(1),
        "the fault must diverge: {}",
        text(&out)
    );
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("repro folder")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    files.sort();
    let file = files.first().expect("a repro file");
    let out = lockstep()
        .env("LOCKSTEP_SPEC_FAULT", "sstore-gas")
        .arg("repro")
        .arg(file)
        .arg("--trace")
        .output()
        .expect("runs");
    let log = text(&out);
    assert_eq!(out.status.code(), Some(1), "{log}");
    let marked: Vec<&str> = log
        .lines()
        .filter(|l| l.trim_start().starts_with('>'))
        .collect();
    assert!(log.contains("first difference at step"), "{log}");
    assert!(marked.iter().all(|l| l.contains("gas")), "{log}");
    // The step before the difference is an SSTORE with costs one apart.
    let sstores: Vec<&str> = log.lines().filter(|l| l.contains(" SSTORE ")).collect();
    let cost = |line: &str| {
        line.split_whitespace()
            .skip_while(|w| *w != "cost")
            .nth(1)
            .and_then(|c| c.parse::<u64>().ok())
    };
    let spec = sstores
        .iter()
        .find(|l| l.contains("spec:"))
        .and_then(|l| cost(l));
    let revm = sstores
        .iter()
        .find(|l| l.contains("revm:"))
        .and_then(|l| cost(l));
    assert_eq!(spec.zip(revm).map(|(s, r)| s - r), Some(1), "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}
