//! `lockstep gen`: generates conflict-heavy blocks from a seed, runs them through the
//! executors with the same runner, report, JSON and exit codes as `lockstep run`, shrinks
//! every divergence and writes it as a repro file.

use crate::executors::{self, ExecutorOptions};
use crate::fixtures::repro::{self, RecordedOutcome, ReproInfo};
use crate::gen::shrink::{self, Budget};
use crate::gen::{self, GenCase, GenConfig, Signature};
use crate::report;
use crate::result::{CaseResult, Status};
use crate::run::Runner;
use anyhow::{bail, Context};
use clap::Args;
use lockstep_spec::Fork;
use rayon::prelude::*;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Arguments of `lockstep gen`.
#[derive(Debug, Args)]
pub struct GenArgs {
    /// How many blocks to generate.
    #[arg(long, default_value_t = 100)]
    pub cases: u64,
    /// Index of the first case (`--first I --cases 1` regenerates case I alone).
    #[arg(long, default_value_t = 0)]
    pub first: u64,
    /// Seed: the same seed gives the same blocks on any machine.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Transactions per block, `MIN..MAX` (inclusive) or one number.
    #[arg(long, default_value = "2..24")]
    pub txs: String,
    /// Fork of the generated blocks (Cancun or later).
    #[arg(long, default_value = "Cancun")]
    pub fork: String,
    /// Comma-separated executors; the first is the reference for comparisons and repro files.
    #[arg(
        long,
        default_value = "spec,revm,parallel,sharded,sharded-batched,auto",
        value_delimiter = ','
    )]
    pub executors: Vec<String>,
    /// Worker threads of parallel executors.
    #[arg(long, default_value_t = 4)]
    pub threads: usize,
    /// Cases run at once (default: one per core).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Per-block time limit for one executor, in seconds (a hang is a divergence).
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,
    /// Share of blocks with an invalid transaction on purpose (0 to 1).
    #[arg(long, default_value_t = 0.15)]
    pub invalid_share: f64,
    /// Write the JSON report here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Folder of repro files.
    #[arg(long, default_value = repro::DEFAULT_DIR)]
    pub out: PathBuf,
    /// Do not shrink divergences (write them as generated).
    #[arg(long)]
    pub no_shrink: bool,
    /// Shrink and write at most this many findings (0: all); the others are still reported.
    #[arg(long, default_value_t = 20)]
    pub max_findings: usize,
    /// How many failing cases to list in the summary.
    #[arg(long, default_value_t = 50)]
    pub max_failures: usize,
}

/// Parses `MIN..MAX`, `MIN..=MAX` or `N`.
pub fn parse_range(text: &str) -> anyhow::Result<(usize, usize)> {
    let parse = |s: &str| {
        s.trim()
            .parse::<usize>()
            .with_context(|| format!("in --txs: `{s}` is not a number"))
    };
    let (min, max) = match text.split_once("..") {
        Some((a, b)) => (parse(a)?, parse(b.trim_start_matches('='))?),
        None => (parse(text)?, parse(text)?),
    };
    if min > max || max == 0 {
        bail!("in --txs: empty range {text}");
    }
    Ok((min, max))
}

/// A hang caught by the watchdog is a divergence of the executor that hung (issue 7).
fn watchdog_as_divergence(mut result: CaseResult) -> CaseResult {
    if let Status::Error(reason) = &result.status {
        if reason.contains("watchdog") {
            result.status = Status::Diverged(reason.clone());
        }
    }
    result
}

/// The repro-file metadata of a finding.
#[allow(clippy::too_many_arguments)]
fn info_of(
    args: &GenArgs,
    case: &GenCase,
    names: &[String],
    signature: &Signature,
    shrunk: &shrink::Shrunk,
) -> ReproInfo {
    ReproInfo {
        generated_by: format!("lockstep gen {}", env!("CARGO_PKG_VERSION")),
        seed: case.seed,
        case: case.index,
        fork: case.fork.to_string(),
        executors: names.to_vec(),
        threads: args.threads,
        signature: signature.clone(),
        first_difference: shrunk.result.status.reason().unwrap_or_default().to_string(),
        outcomes: shrunk
            .result
            .executors
            .iter()
            .map(|e| RecordedOutcome {
                executor: e.executor.clone(),
                status: e.status.name().to_string(),
                reason: e.status.reason().map(str::to_string),
            })
            .collect(),
        shrink_steps: shrunk.steps.clone(),
        original_transactions: case.block.transactions.len(),
        command: format!(
            "lockstep gen --seed {} --first {} --cases 1 --txs {} --fork {} --executors {} --threads {}",
            case.seed,
            case.index,
            args.txs,
            case.fork,
            names.join(","),
            args.threads
        ),
    }
}

/// Cases generated and run at once. Generating a whole run first held every block and
/// pre-state to the end: about 21 KB per case (30,000 cases: 640 MB of resident memory), so a
/// long campaign ran out of memory; now a run holds one chunk, and the small per-case results.
const CHUNK: u64 = 2048;

/// The findings of a run so far: the repro files written, and those left out.
#[derive(Default)]
struct Findings {
    /// Cases with a finding.
    found: usize,
    /// One line per repro file written.
    written: Vec<String>,
    /// Findings not written (`--max-findings`).
    skipped: usize,
}

impl Findings {
    /// Shrinks and writes the findings among `cases`, whose results these are, up to
    /// `--max-findings` over the whole run.
    fn shrink_and_write(
        &mut self,
        args: &GenArgs,
        cfg: &GenConfig,
        runner: &Runner,
        names: &[String],
        cases: &[GenCase],
        results: &[CaseResult],
    ) -> anyhow::Result<()> {
        for (case, result) in cases.iter().zip(results) {
            let Some(signature) = Signature::of(result, names) else {
                continue;
            };
            self.found += 1;
            if args.max_findings > 0 && self.written.len() >= args.max_findings {
                self.skipped += 1;
                continue;
            }
            // Every try of a hang costs a whole watchdog period: a hang is written as generated.
            let hang = result
                .status
                .reason()
                .is_some_and(|r| r.contains("watchdog"));
            let shrunk = if args.no_shrink || hang {
                shrink::Shrunk {
                    pre: case.pre.clone(),
                    block: case.block.clone(),
                    result: result.clone(),
                    steps: Vec::new(),
                    runs: 0,
                }
            } else {
                shrink::shrink(
                    cfg,
                    case,
                    result.clone(),
                    runner,
                    names,
                    &signature,
                    Budget::default(),
                )
            };
            // The reference outcome goes into the header, unless the reference itself broke.
            let reference = runner.executors.first().and_then(|executor| {
                let ran =
                    shrunk.result.executors.first().is_some_and(|e| {
                        !matches!(e.status, Status::Error(_) | Status::Skipped(_))
                    });
                ran.then(|| executor.execute(case.fork, &shrunk.pre, &shrunk.block))
            });
            let info = info_of(args, case, names, &signature, &shrunk);
            let name = format!("gen_{}_{}", case.seed, case.index);
            let path = repro::to_json(
                &name,
                case.fork,
                &shrunk.pre,
                &shrunk.block,
                reference.as_ref(),
                &info,
            )
            .and_then(|json| repro::write(&args.out, &name, &json))
            .map_err(anyhow::Error::msg)?;
            self.written.push(format!(
                "{} {signature}: shrunk from {} to {} transactions ({} runs) -> {}",
                case.id(),
                case.block.transactions.len(),
                shrunk.block.transactions.len(),
                shrunk.runs,
                path.display()
            ));
        }
        Ok(())
    }
}

/// Runs the command; returns whether the run was green.
pub fn run(args: GenArgs) -> anyhow::Result<bool> {
    let started = Instant::now();
    let fork: Fork = args.fork.parse().with_context(|| "in --fork")?;
    let (min_txs, max_txs) = parse_range(&args.txs)?;
    let cfg = GenConfig {
        fork,
        min_txs,
        max_txs,
        invalid_share: args.invalid_share,
        ..GenConfig::default()
    };
    cfg.check().map_err(anyhow::Error::msg)?;
    let options = ExecutorOptions {
        threads: args.threads.max(1),
    };
    let executors = args
        .executors
        .iter()
        .map(|name| executors::by_name(name.trim(), &options).map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if executors.is_empty() {
        bail!("--executors names no executor");
    }
    let runner = Runner {
        executors,
        timeout: Duration::from_secs(args.timeout.max(1)),
        expectations: Arc::new(Default::default()),
    };
    let names: Vec<String> = runner
        .executors
        .iter()
        .map(|e| e.name().to_string())
        .collect();
    eprintln!(
        "lockstep gen: {} cases from seed {} ({fork}, {}..{} transactions), executors {}",
        args.cases,
        args.seed,
        min_txs,
        max_txs,
        names.join(",")
    );
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.unwrap_or(0))
        .build()
        .context("starting the worker pool")?;

    // Chunk by chunk, so that a campaign of any length holds at most one chunk of blocks.
    let end = args.first.saturating_add(args.cases);
    let mut findings = Findings::default();
    let mut results: Vec<CaseResult> = Vec::new();
    let (mut transactions, mut invalid) = (0usize, 0usize);
    let (mut generate_secs, mut execute_secs) = (0.0, 0.0);
    let mut chunk_start = args.first;
    while chunk_start < end {
        let chunk_end = chunk_start.saturating_add(CHUNK).min(end);
        let generating = Instant::now();
        let cases: Vec<GenCase> = pool
            .install(|| {
                (chunk_start..chunk_end)
                    .into_par_iter()
                    .map(|i| gen::generate(&cfg, args.seed, i))
                    .collect::<Result<Vec<_>, String>>()
            })
            .map_err(anyhow::Error::msg)?;
        generate_secs += generating.elapsed().as_secs_f64();
        transactions += cases
            .iter()
            .map(|c| c.block.transactions.len())
            .sum::<usize>();
        invalid += cases.iter().filter(|c| c.plan.invalid.is_some()).count();

        let executing = Instant::now();
        let chunk_results: Vec<CaseResult> = pool.install(|| {
            cases
                .par_iter()
                .map(|c| watchdog_as_divergence(runner.run_case(&c.to_case())))
                .collect()
        });
        execute_secs += executing.elapsed().as_secs_f64();
        findings.shrink_and_write(&args, &cfg, &runner, &names, &cases, &chunk_results)?;
        results.extend(chunk_results);
        if chunk_end < end {
            eprintln!(
                "lockstep gen: {} of {} cases run, {} with a finding, {:.0} s",
                chunk_end - args.first,
                args.cases,
                findings.found,
                started.elapsed().as_secs_f64()
            );
        }
        chunk_start = chunk_end;
    }
    let Findings {
        written,
        skipped: skipped_findings,
        ..
    } = findings;

    print!(
        "{}",
        report::render_summary(
            &results,
            &names,
            args.max_failures,
            started.elapsed().as_secs_f64()
        )
    );
    let blocks = results.len() as f64;
    println!(
        "generated {} blocks ({transactions} transactions) in {generate_secs:.2} s; executed and compared in {execute_secs:.2} s: {:.1} blocks/s ({})",
        results.len(),
        blocks / execute_secs.max(1e-9),
        names.join(" + ")
    );
    let per_executor: Vec<String> = names
        .iter()
        .map(|name| {
            let millis: f64 = results
                .iter()
                .flat_map(|r| &r.executors)
                .filter(|e| &e.executor == name)
                .map(|e| e.millis)
                .sum();
            format!("{name} {:.2} s", millis / 1e3)
        })
        .collect();
    println!("time in executors: {}", per_executor.join(", "));
    print!("{}", report::render_parallel_totals(&results));
    println!("{invalid} blocks with an invalid transaction on purpose");
    if !written.is_empty() {
        println!("repro files:");
        for line in &written {
            println!("  {line}");
        }
    }
    if skipped_findings > 0 {
        println!(
            "{skipped_findings} more findings not written (--max-findings {})",
            args.max_findings
        );
    }
    if let Some(path) = &args.json {
        report::write_json(path, &results)?;
    }
    let never_parallel = !report::never_parallel(&results, &runner.executors).is_empty();
    Ok(report::Summary::of(&results).is_green() && !never_parallel)
}
