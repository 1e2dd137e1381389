//! `lockstep mutants`: hunts each seeded bug of the parallel executor with lockstep's
//! automatic inputs and prints a table (mutant, caught, by which input, cases, seconds). Exit
//! code 0 only when every mutant was caught. Needs a build with `--features faults`.

use clap::Args;
#[cfg(feature = "faults")]
use std::path::Path;
use std::path::PathBuf;

/// Arguments of `lockstep mutants`.
#[derive(Debug, Args)]
pub struct MutantsArgs {
    /// Fixture files or folders to hunt with (default: 300 generated Cancun and 300 Prague
    /// blocks, the regression corpus, the bundled sample, and the mainnet blocks and the
    /// blockchain tests of ethereum/tests and EEST under LOCKSTEP_TESTS_DIR).
    pub paths: Vec<PathBuf>,
    /// Seconds allowed per mutant.
    #[arg(long, default_value_t = 60)]
    pub budget: u64,
    /// Threads of the bugged executor.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Runs of each case (timing-dependent bugs may hide in one run).
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Only mutants whose name contains this.
    #[arg(long)]
    pub mutant: Option<String>,
    /// Write the table as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// Runs the hunt; `Ok(true)` when every mutant was caught.
#[cfg(feature = "faults")]
pub fn run(args: MutantsArgs) -> anyhow::Result<bool> {
    use crate::mutants::{hunt, HuntOptions, Source};
    use anyhow::Context;
    use lockstep_executor::faults::Fault;
    use std::time::Duration;

    let sources = if args.paths.is_empty() {
        default_sources()
    } else {
        vec![Source::Files(args.paths.clone())]
    };
    let options = HuntOptions {
        budget: Duration::from_secs(args.budget),
        threads: args.threads,
        runs_per_case: args.runs,
        timeout: Duration::from_secs(60),
    };
    let faults: Vec<Fault> = Fault::ALL
        .into_iter()
        .filter(|f| {
            args.mutant
                .as_ref()
                .is_none_or(|m| format!("{f:?}").contains(m.as_str()))
        })
        .collect();
    if faults.is_empty() {
        anyhow::bail!("no mutant matches the --mutant filter");
    }
    println!(
        "lockstep mutants: {} mutants, {} s each, sources: {}",
        faults.len(),
        args.budget,
        sources
            .iter()
            .map(Source::name)
            .collect::<Vec<_>>()
            .join("; ")
    );
    println!(
        "{:<24} {:>7} {:>7} {:>9} {:>5}  caught by",
        "mutant", "caught", "cases", "seconds", "txs"
    );
    let mut hunts = Vec::new();
    for fault in faults {
        let found = hunt(fault, &sources, &options);
        println!(
            "{:<24} {:>7} {:>7} {:>9.1} {:>5}  {}",
            found.mutant,
            if found.caught_by.is_some() {
                "yes"
            } else {
                "NO"
            },
            found.cases_run,
            found.seconds,
            found.transactions.map_or("-".into(), |t| t.to_string()),
            found.caught_by.as_deref().unwrap_or("-")
        );
        hunts.push(found);
    }
    let caught = hunts.iter().filter(|h| h.caught_by.is_some()).count();
    println!("{caught} of {} mutants caught", hunts.len());
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&hunts)?;
        std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(caught == hunts.len())
}

/// Without the `faults` feature there are no mutants to hunt.
#[cfg(not(feature = "faults"))]
pub fn run(_args: MutantsArgs) -> anyhow::Result<bool> {
    anyhow::bail!(
        "this lockstep was built without the `faults` feature; run \
         `cargo run --release -p lockstep --features faults -- mutants`"
    )
}

/// Generated blocks, the regression corpus, the bundled sample, and the pinned data's mainnet blocks and
/// blockchain tests (conflicts need blocks of many transactions; EEST's hold Prague's and
/// Osaka's delegations).
#[cfg(feature = "faults")]
fn default_sources() -> Vec<crate::mutants::Source> {
    // `../shared` beside the workspace, as the tests find it.
    let data = std::env::var_os("LOCKSTEP_TESTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    let repo = super::run::bundled_sample()
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default();
    let candidates = [
        repo.join("regressions"),
        repo.join("sample"),
        data.join("mainnet-blocks"),
        data.join("eest-fixtures/blockchain_tests"),
        data.join("ethereum-tests/BlockchainTests"),
    ];
    // Generated blocks first: they are built to conflict; Prague's hold delegations.
    let mut sources = vec![
        crate::mutants::Source::Generated {
            fork: lockstep_spec::Fork::Cancun,
            seed: 1,
            cases: 300,
        },
        crate::mutants::Source::Generated {
            fork: lockstep_spec::Fork::Prague,
            seed: 2,
            cases: 300,
        },
    ];
    sources.extend(
        candidates
            .into_iter()
            .filter(|p| p.exists())
            .map(|p| crate::mutants::Source::Files(vec![p])),
    );
    sources
}
