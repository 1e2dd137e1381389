//! The JSON fixtures as individual, filterable tests (libtest-mimic): one test per fixture file,
//! named `<set>/<relative path>`, running every case of the file through sequential revm and
//! failing on any failure, divergence or error.
//!
//! Data comes from `LOCKSTEP_TESTS_DIR` (fallback `../shared` beside the workspace); the bundled
//! sample and the regression corpus are always there. Absent data is reported, not passed.
//! Filter as with any test: `cargo test --release --test fixtures -- stExample`.

use libtest_mimic::{Arguments, Failed, Trial};
use lockstep::executors::{by_name, ExecutorOptions};
use lockstep::expectations::Expectations;
use lockstep::fixtures;
use lockstep::run::Runner;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn data_dir() -> PathBuf {
    std::env::var_os("LOCKSTEP_TESTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("../shared"))
}

fn runner() -> Result<Runner, String> {
    let text = std::fs::read_to_string(workspace().join("ethereum-tests/expectations.txt"))
        .map_err(|e| format!("expectations.txt: {e}"))?;
    Ok(Runner {
        executors: vec![by_name("revm", &ExecutorOptions { threads: 2 })?],
        timeout: Duration::from_secs(120),
        expectations: Arc::new(Expectations::parse(&text)?),
    })
}

fn run_file(runner: &Runner, file: &Path) -> Result<(), Failed> {
    let cases = fixtures::load_file(file).map_err(|e| Failed::from(e.to_string()))?;
    if cases.is_empty() {
        return Err(format!("{}: no cases", file.display()).into());
    }
    let bad: Vec<String> = cases
        .iter()
        .map(|c| runner.run_case(c))
        .filter(|r| r.status.is_bad())
        .map(|r| {
            format!(
                "{}: {} {}",
                r.id,
                r.status.name(),
                r.status.reason().unwrap_or_default()
            )
        })
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(bad.join("\n").into())
    }
}

fn main() {
    let args = Arguments::from_args();
    let runner = match runner() {
        Ok(r) => Arc::new(r),
        Err(e) => {
            eprintln!("fixtures: cannot set up the runner: {e}");
            std::process::exit(1);
        }
    };
    let data = data_dir();
    let sets: Vec<(&str, PathBuf)> = vec![
        ("sample", workspace().join("ethereum-tests/sample")),
        (
            "regressions",
            workspace().join("ethereum-tests/regressions"),
        ),
        ("ethereum-tests", data.join("ethereum-tests")),
        ("mainnet-blocks", data.join("mainnet-blocks")),
        ("eest", data.join("eest-fixtures")),
    ];
    let mut trials = Vec::new();
    for (set, dir) in sets {
        if !dir.is_dir() {
            eprintln!(
                "fixtures: {set}: {} not found; its tests are not run (set LOCKSTEP_TESTS_DIR)",
                dir.display()
            );
            continue;
        }
        let files = match fixtures::collect_files(std::slice::from_ref(&dir)) {
            Ok(files) => files,
            Err(e) => {
                eprintln!("fixtures: {set}: {e}");
                std::process::exit(1);
            }
        };
        for file in files {
            let rel = file
                .strip_prefix(&dir)
                .unwrap_or(&file)
                .display()
                .to_string();
            let runner = runner.clone();
            trials.push(Trial::test(format!("{set}/{rel}"), move || {
                run_file(&runner, &file)
            }));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
