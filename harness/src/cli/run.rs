//! `lockstep run`: load fixtures, run every case through the chosen executors, report.

use crate::case::Case;
use crate::executors::{self, ExecutorOptions};
use crate::expectations::Expectations;
use crate::fixtures;
use crate::report;
use crate::result::{CaseResult, Status};
use crate::run::Runner;
use anyhow::{bail, Context};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use lockstep_spec::Fork;
use rayon::prelude::*;
use regex::Regex;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Arguments of `lockstep run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Fixture files or folders (`.json`, `.json.gz`); default: the bundled sample.
    pub paths: Vec<PathBuf>,
    /// Comma-separated executors; the first is the reference for comparisons.
    #[arg(
        long,
        default_value = "revm,spec,parallel,sharded,sharded-batched,auto",
        value_delimiter = ','
    )]
    pub executors: Vec<String>,
    /// Only cases of these forks (comma-separated, e.g. `Cancun,Prague`).
    #[arg(long, value_delimiter = ',')]
    pub fork: Vec<String>,
    /// Only cases whose id matches this regular expression.
    #[arg(long)]
    pub filter: Option<String>,
    /// Worker threads of parallel executors.
    #[arg(long, default_value_t = 4)]
    pub threads: usize,
    /// Cases run at once (default: one per core).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Write the JSON report here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write JUnit XML here.
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Per-block time limit for one executor, in seconds.
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,
    /// Committed skips and known failures (default: ethereum-tests/expectations.txt if present).
    #[arg(long)]
    pub expectations: Option<PathBuf>,
    /// Ignore the expectations file: run slow cases, report known failures as failures.
    #[arg(long)]
    pub no_expectations: bool,
    /// Also run the parallel executor N times at each of 1, 2, 3 and 8 threads; every run must
    /// produce bit-identical outcomes (a non-determinism check).
    #[arg(long)]
    pub repeat: Option<usize>,
    /// How many failing cases to list in the summary.
    #[arg(long, default_value_t = 50)]
    pub max_failures: usize,
}

/// The bundled sample, used when no path is given.
pub fn bundled_sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ethereum-tests/sample")
}

fn default_expectations() -> Option<PathBuf> {
    let candidates = [
        PathBuf::from("ethereum-tests/expectations.txt"),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../ethereum-tests/expectations.txt"),
    ];
    candidates.into_iter().find(|p| p.is_file())
}

/// Cases of one file that pass the filters, or the file's load error as a result.
fn load_filtered(
    file: &Path,
    forks: &[Fork],
    filter: Option<&Regex>,
) -> Result<Vec<Case>, CaseResult> {
    let cases = fixtures::load_file(file).map_err(|e| CaseResult {
        id: file.display().to_string(),
        fork: "-".into(),
        status: Status::Error(e.to_string()),
        executors: vec![],
    })?;
    Ok(cases
        .into_iter()
        .filter(|c| forks.is_empty() || forks.contains(&c.fork))
        .filter(|c| filter.is_none_or(|re| re.is_match(&c.id)))
        .collect())
}

/// Runs the command; returns whether the run was green.
pub fn run(args: RunArgs) -> anyhow::Result<bool> {
    let started = Instant::now();
    let forks = args
        .fork
        .iter()
        .map(|f| f.parse::<Fork>().with_context(|| "in --fork"))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let filter = args
        .filter
        .as_deref()
        .map(Regex::new)
        .transpose()
        .context("in --filter")?;
    let options = ExecutorOptions {
        threads: args.threads.max(1),
    };
    let mut executors = args
        .executors
        .iter()
        .map(|name| executors::by_name(name.trim(), &options).map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if let Some(repeat) = args.repeat {
        for threads in [1, 2, 3, 8] {
            for run in 1..=repeat {
                let name = format!("parallel@{threads}#{run}");
                executors.push(Arc::new(executors::ParallelAdapter::named(threads, name)));
            }
        }
    }
    if executors.is_empty() {
        bail!("--executors names no executor");
    }
    let expectations = match (&args.expectations, args.no_expectations) {
        (_, true) => Expectations::default(),
        (Some(path), false) => read_expectations(path)?,
        (None, false) => match default_expectations() {
            Some(path) => read_expectations(&path)?,
            None => Expectations::default(),
        },
    };
    let paths = if args.paths.is_empty() {
        vec![bundled_sample()]
    } else {
        args.paths.clone()
    };
    let files = fixtures::collect_files(&paths)?;
    if files.is_empty() {
        bail!(
            "no fixture files (.json, .json.gz) under {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let runner = Runner {
        executors,
        timeout: Duration::from_secs(args.timeout.max(1)),
        expectations: Arc::new(expectations),
    };
    let names: Vec<String> = runner
        .executors
        .iter()
        .map(|e| e.name().to_string())
        .collect();
    eprintln!(
        "lockstep run: {} files, executors {}",
        files.len(),
        names.join(",")
    );

    let progress = Progress::new(files.len() as u64);
    let results = Mutex::new(Vec::new());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.unwrap_or(0))
        .build()
        .context("starting the worker pool")?;
    pool.install(|| {
        files.par_iter().for_each(|file| {
            let file_results: Vec<CaseResult> = match load_filtered(file, &forks, filter.as_ref()) {
                Err(error) => vec![error],
                Ok(cases) => cases.par_iter().map(|c| runner.run_case(c)).collect(),
            };
            let bad = file_results.iter().filter(|r| r.status.is_bad()).count();
            progress.file_done(file, file_results.len(), bad);
            if let Ok(mut all) = results.lock() {
                all.extend(file_results);
            }
        })
    });
    progress.finish();
    let mut results = results.into_inner().unwrap_or_default();
    results.sort_by(|a, b| a.id.cmp(&b.id));

    print!(
        "{}",
        report::render_summary(
            &results,
            &names,
            args.max_failures,
            started.elapsed().as_secs_f64()
        )
    );
    print!("{}", report::render_parallel_totals(&results));
    // Only rules about cases this run selected: the others could not have matched.
    let unused: Vec<String> = runner
        .expectations
        .unused_known()
        .into_iter()
        .filter(|rule| {
            let pattern = rule.split_whitespace().last().unwrap_or_default();
            results.iter().any(|r| r.id.contains(pattern))
        })
        .collect();
    if !unused.is_empty() {
        println!("known failures that did not occur in this run (fixed, or not selected):");
        for u in unused {
            println!("  {u}");
        }
    }
    if let Some(path) = &args.json {
        report::write_json(path, &results)?;
    }
    if let Some(path) = &args.junit {
        report::write_junit(path, &results)?;
    }
    // A parallel executor whose parallel path is forced but never ran compared sequential
    // with sequential: that run proves nothing about it, so it fails loudly. (Executors that
    // choose, such as `auto`, have their counts printed above.)
    let never_parallel = !report::never_parallel(&results, &runner.executors).is_empty();
    Ok(report::Summary::of(&results).is_green() && !never_parallel)
}

fn read_expectations(path: &Path) -> anyhow::Result<Expectations> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Expectations::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// A progress bar on a terminal; plain periodic lines otherwise (CI logs).
struct Progress {
    bar: Option<ProgressBar>,
    total: u64,
    done: AtomicUsize,
    cases: AtomicUsize,
    bad: AtomicUsize,
    last_line: Mutex<Instant>,
}

impl Progress {
    fn new(total: u64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total);
            if let Ok(style) =
                ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} files {msg}")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        });
        Progress {
            bar,
            total,
            done: AtomicUsize::new(0),
            cases: AtomicUsize::new(0),
            bad: AtomicUsize::new(0),
            last_line: Mutex::new(Instant::now()),
        }
    }

    fn file_done(&self, file: &Path, cases: usize, bad: usize) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let cases = self.cases.fetch_add(cases, Ordering::Relaxed) + cases;
        let bad_total = self.bad.fetch_add(bad, Ordering::Relaxed) + bad;
        match &self.bar {
            Some(bar) => {
                bar.set_position(done as u64);
                bar.set_message(format!("{cases} cases, {bad_total} not passed"));
            }
            None => {
                if let Ok(mut last) = self.last_line.lock() {
                    if last.elapsed() >= Duration::from_secs(10) || done as u64 == self.total {
                        *last = Instant::now();
                        eprintln!(
                            "[{done}/{}] {cases} cases, {bad_total} not passed (last: {})",
                            self.total,
                            file.display()
                        );
                    }
                }
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
