//! Mutation testing of the parallel executor with lockstep's automatic inputs: for each seeded
//! bug of `lockstep-executor`'s `faults` feature, the inputs are run through sequential revm
//! and the bugged executor until one of them comes out different, within a time budget. The
//! hand-written witness blocks of the executor's own tests are never among the inputs: this
//! measures whether the suite that users run catches the bug.

use crate::case::Case;
use crate::executors::{BlockExecutor, ParallelAdapter, RevmExecutor};
use crate::expectations::Expectations;
use crate::fixtures::detect::{collect_files, load_file};
use crate::result::Status;
use crate::run::Runner;
use lockstep_executor::faults::Fault;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where cases come from, in the order they are tried.
#[derive(Clone, Debug)]
pub enum Source {
    /// Blocks of `lockstep gen` (conflict-heavy, signed), `cases` of them from `seed`.
    Generated {
        /// The fork of the blocks.
        fork: lockstep_spec::Fork,
        /// The run's seed.
        seed: u64,
        /// How many.
        cases: u64,
    },
    /// Fixture files or folders, loaded one file at a time.
    Files(Vec<PathBuf>),
}

impl Source {
    /// A short name for reports.
    pub fn name(&self) -> String {
        match self {
            Source::Generated { fork, seed, cases } => {
                format!("{cases} generated {fork} blocks (seed {seed})")
            }
            Source::Files(paths) => paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// How a hunt is run.
#[derive(Clone, Debug)]
pub struct HuntOptions {
    /// Time allowed per mutant.
    pub budget: Duration,
    /// Threads of the bugged executor (timing-dependent bugs need two or more).
    pub threads: usize,
    /// Runs of each case (a timing-dependent bug may hide in one run).
    pub runs_per_case: usize,
    /// Per-block watchdog.
    pub timeout: Duration,
}

/// What the hunt for one mutant found.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Hunt {
    /// The mutant's name.
    pub mutant: String,
    /// The case that caught it, if one did.
    pub caught_by: Option<String>,
    /// How the case showed it (the divergence or failure).
    pub evidence: Option<String>,
    /// Cases run before it was caught (or until the budget ran out).
    pub cases_run: usize,
    /// Seconds until it was caught (or spent in all).
    pub seconds: f64,
    /// Transactions in the block that caught it.
    pub transactions: Option<usize>,
}

/// Hunts `fault` through `sources` until a case catches it or the budget is spent.
pub fn hunt(fault: Fault, sources: &[Source], options: &HuntOptions) -> Hunt {
    let start = Instant::now();
    let bugged: Arc<dyn BlockExecutor> =
        Arc::new(ParallelAdapter::with_fault(options.threads, fault));
    let runner = Runner {
        executors: vec![Arc::new(RevmExecutor), bugged],
        timeout: options.timeout,
        expectations: Arc::new(Expectations::default()),
    };
    let mut hunt = Hunt {
        mutant: format!("{fault:?}"),
        caught_by: None,
        evidence: None,
        cases_run: 0,
        seconds: 0.0,
        transactions: None,
    };
    'sources: for source in sources {
        for case in cases(source) {
            if start.elapsed() >= options.budget {
                break 'sources;
            }
            hunt.cases_run += 1;
            if let Some(evidence) = catches(&runner, &case, options.runs_per_case) {
                hunt.caught_by = Some(case.id.clone());
                hunt.evidence = Some(evidence);
                hunt.transactions = case
                    .blocks
                    .iter()
                    .filter_map(|b| b.block.as_ref().ok())
                    .map(|b| b.transactions.len())
                    .max();
                break 'sources;
            }
        }
    }
    hunt.seconds = start.elapsed().as_secs_f64();
    hunt
}

/// The evidence, if a run of `case` shows the mutant: sequential revm passes and the bugged
/// executor does not, or the two diverge.
fn catches(runner: &Runner, case: &Case, runs: usize) -> Option<String> {
    for _ in 0..runs.max(1) {
        let result = runner.run_case(case);
        let reference_passed = result
            .executors
            .first()
            .is_some_and(|e| e.status == Status::Passed);
        if !reference_passed {
            // Nothing to learn from a case the baseline does not pass.
            return None;
        }
        match &result.status {
            Status::Diverged(why) => return Some(why.clone()),
            _ => {
                if let Some(bad) = result.executors.iter().skip(1).find(|e| e.status.is_bad()) {
                    return Some(format!(
                        "{}: {}",
                        bad.executor,
                        bad.status.reason().unwrap_or(bad.status.name())
                    ));
                }
            }
        }
    }
    None
}

/// The cases of `source`, loaded lazily (a file that does not load is passed over: `lockstep
/// run` reports such files; here they can catch nothing).
fn cases(source: &Source) -> Box<dyn Iterator<Item = Case> + '_> {
    match source {
        Source::Generated { fork, seed, cases } => {
            let cfg = crate::gen::GenConfig {
                fork: *fork,
                ..Default::default()
            };
            let seed = *seed;
            Box::new(
                (0..*cases)
                    .filter_map(move |index| crate::gen::generate(&cfg, seed, index).ok())
                    .map(|case| case.to_case()),
            )
        }
        Source::Files(paths) => {
            let files = collect_files(paths).unwrap_or_default();
            Box::new(
                files
                    .into_iter()
                    .flat_map(|file| load_file(&file).unwrap_or_default()),
            )
        }
    }
}
