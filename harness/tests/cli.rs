//! The `lockstep` binary end to end: exit codes, the JSON report's shape, bad input.

use std::path::{Path, PathBuf};
use std::process::Command;

fn lockstep() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lockstep"))
}

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ethereum-tests/sample")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lockstep-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn the_bundled_sample_is_green_and_the_json_report_has_integer_counters() {
    let dir = temp_dir("sample");
    let report = dir.join("report.json");
    let out = lockstep()
        .args(["run", "--executors", "revm,spec,parallel", "--json"])
        .arg(&report)
        .arg(sample())
        .output()
        .expect("lockstep runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "exit {:?}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("fork") && stdout.contains("cases:"),
        "{stdout}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).expect("report written"))
            .expect("report is JSON");
    for field in ["cases", "passed", "failed", "diverged", "skipped", "errors"] {
        assert!(
            json["summary"][field].is_u64(),
            "summary.{field} missing: {}",
            json["summary"]
        );
    }
    let cases = json["cases"].as_array().expect("cases array");
    assert_eq!(
        cases.len() as u64,
        json["summary"]["cases"].as_u64().expect("count")
    );
    assert!(json["summary"]["passed"].as_u64().expect("passed") > 0);
    assert!(cases
        .iter()
        .all(|c| c["id"].is_string() && c["fork"].is_string() && c["executors"].is_array()));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_malformed_file_is_an_error_naming_it_and_the_run_goes_on() {
    let dir = temp_dir("malformed");
    std::fs::write(dir.join("broken.json"), b"{ not json").expect("write");
    std::fs::copy(sample().join("state/add11.json"), dir.join("add11.json")).expect("copy");
    let out = lockstep()
        .args(["run", "--executors", "revm"])
        .arg(&dir)
        .output()
        .expect("lockstep runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("broken.json") && stdout.contains("malformed JSON"),
        "{stdout}"
    );
    // add11 still ran and passed.
    assert!(stdout.contains("passed, 0 failed"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn usage_errors_exit_with_2() {
    let out = lockstep()
        .args(["run", "--executors", "geth"])
        .arg(sample())
        .output()
        .expect("lockstep runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown executor `geth`"));
    let out = lockstep()
        .args(["run", "--fork", "Atlantis"])
        .arg(sample())
        .output()
        .expect("lockstep runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Atlantis"));
}
