//! `lockstep bench`: executors side by side on the same blocks in one run, release build.
//!
//! Blocks come from fixture files or folders and from the built-in synthetic workloads
//! (`builtin:transfers`, `builtin:erc20`, `builtin:hot-slot`, `builtin:few-accounts`, see
//! [`crate::bench::workloads`]). Every built-in workload is first run once with sequential revm,
//! which must include every transaction and see every one succeed, so that the figures are for
//! real work. Then each block is run once by each executor to warm up (measuring its peak
//! resident memory), then `--repeat` rounds each run every executor once, interleaved in an
//! order shuffled per round, so that the machine's slow spells fall on all of them alike and
//! no executor always follows the same other one. A block that runs in less than
//! `--min-sample-us` is run several times back to back within each sample. The table gives
//! per block each executor's median time per run, its speedup over the first executor (the
//! median over the rounds of the two executors' times in the same round, see `paired_speedup`,
//! with the quartiles of those ratios in the JSON and beside each executor's lowest speedup)
//! and its peak resident memory, plus a TOTAL row. Set-up (loading, decompression, building
//! workloads) is outside the timed part.

use crate::bench::{split, workloads};
use crate::case::Case;
use crate::executors::{self, BlockExecutor, ExecutorOptions};
use crate::fixtures;
use anyhow::{bail, Context};
use clap::Args;
use lockstep_spec::types::{Block, WorldState};
use lockstep_spec::Fork;
use serde::Serialize;
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// The prefix that names a built-in workload on the command line.
pub const BUILTIN_PREFIX: &str = "builtin:";

/// Arguments of `lockstep bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Fixture files or folders, and built-in workloads `builtin:transfers`, `builtin:erc20`,
    /// `builtin:hot-slot`, `builtin:few-accounts` (default: the bundled sample's mainnet blocks).
    pub paths: Vec<PathBuf>,
    /// Executors to time; the first is the baseline of the speedup column. `parallel:N` sets
    /// that executor's thread count. `split:N` times the baseline's work cut into `N` chunks
    /// run at once, uncoordinated, outcome discarded (see the README).
    #[arg(
        long,
        default_value = "revm,parallel:1,parallel:2,parallel:4",
        value_delimiter = ','
    )]
    pub executors: Vec<String>,
    /// Threads of `parallel` entries given without `:N` (default: the cores available).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Times each block is executed per executor (after one warm-up run).
    #[arg(long, default_value_t = 5)]
    pub repeat: u32,
    /// Let `parallel` entries fall back to sequential execution where the executor's own
    /// heuristics choose to (small blocks); by default their parallel path is forced, as in
    /// `lockstep run`. Cells where an executor fell back are marked `*`.
    #[arg(long)]
    pub allow_fallback: bool,
    /// Shortest timed sample, in microseconds: a block that runs faster is run this many
    /// microseconds' worth of times back to back per sample (the same count for every
    /// executor, from the first executor's time), and the time per run is the sample's time
    /// divided by the count. A run of a few microseconds is otherwise within the noise of
    /// the clock and of whatever ran just before it (on the bundled mainnet blocks, one
    /// 0.2 ms block measured 0.89x in one run and 0.98x in the next without batching).
    #[arg(long, default_value_t = 1000)]
    pub min_sample_us: u64,
    /// Also write the table as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// The most runs one sample may batch (a block of a microsecond at the default sample).
const MAX_RUNS_PER_SAMPLE: u32 = 1000;

/// One block to time.
struct Item {
    id: String,
    fork: Fork,
    pre: WorldState,
    block: Block,
    /// Gas the block uses (measured for built-ins, from the header for mainnet blocks, else the
    /// sum of the transactions' gas limits).
    gas: u64,
}

/// One executor's figures on one block (or on all of them, in the total row).
#[derive(Debug, Serialize)]
struct Cell {
    executor: String,
    /// Wall time of one execution of the block, in seconds (median of the timed runs).
    seconds: f64,
    /// Million gas per second.
    mgas_per_s: f64,
    /// The first executor's time divided by this one's, in the same round, median over the
    /// rounds (in the total row, the summed times divided): above 1 is faster.
    speedup: f64,
    /// The lower and upper quartiles of the rounds' ratios whose median is `speedup` (how far
    /// the machine's noise moves it); absent for the first executor and in the total row.
    #[serde(skip_serializing_if = "Option::is_none")]
    speedup_quartiles: Option<[f64; 2]>,
    /// VmHWM after this executor's runs, in KiB (see `peak_memory_note`).
    peak_rss_kib: Option<u64>,
    /// Whether the executor's last run took its parallel path (sequential executors: false).
    parallel: bool,
    /// Incarnations aborted in the executor's last run.
    aborts: u64,
    /// Why the executor's last run fell back to sequential execution, if it did.
    fallback: Option<String>,
    /// How the executor's last run went, in its own words (`auto`'s choice, the shards).
    mode: Option<String>,
    /// The time per run of each timed sample, in seconds, round by round (the same round's
    /// samples of the executors ran one right after the other); empty in the total row.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    samples: Vec<f64>,
}

/// One row of the table.
#[derive(Debug, Serialize)]
struct Row {
    block: String,
    transactions: usize,
    gas: u64,
    /// Runs of each executor back to back in one timed sample (see `--min-sample-us`).
    runs_per_sample: u32,
    results: Vec<Cell>,
}

/// The whole table, as written by `--json`.
#[derive(Debug, Serialize)]
struct Report {
    /// The cargo profile the binary was built with (`release`, `maxperf`, ...).
    build_profile: String,
    repeat: u32,
    min_sample_us: u64,
    cores: usize,
    /// VmRSS just before the timed part (everything loaded), in KiB.
    resident_before_kib: Option<u64>,
    /// The machine's own scaling, measured before the blocks (see [`parallel_capacity`]).
    parallel_capacity: Capacity,
    peak_memory_note: String,
    executors: Vec<String>,
    rows: Vec<Row>,
    total: Row,
}

/// Runs the benchmark and prints its table.
pub fn run(args: BenchArgs) -> anyhow::Result<bool> {
    if args.repeat == 0 {
        bail!("--repeat must be at least 1");
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let default_threads = args.threads.unwrap_or(cores);
    let paths = if args.paths.is_empty() {
        vec![super::run::bundled_sample().join("mainnet")]
    } else {
        args.paths.clone()
    };
    let (items, skipped) = load_items(&paths)?;
    if !skipped.is_empty() {
        println!(
            "skipped {} blocks that are not timed (first: {})",
            skipped.len(),
            skipped[0]
        );
    }
    if items.is_empty() {
        bail!("no runnable blocks under the given paths");
    }

    let mut execs: Vec<(String, Arc<dyn BlockExecutor>)> = Vec::new();
    for spec in &args.executors {
        let (name, threads) = match spec.split_once(':') {
            Some((n, t)) => (
                n,
                t.parse::<usize>()
                    .with_context(|| format!("thread count in `{spec}`"))?,
            ),
            None => (spec.as_str(), default_threads),
        };
        let executor: Arc<dyn BlockExecutor> = if name == "parallel" && args.allow_fallback {
            Arc::new(executors::ParallelAdapter::with_fallback(threads))
        } else if name == split::NAME {
            Arc::new(split::SplitBaseline { threads })
        } else {
            executors::by_name(name, &ExecutorOptions { threads }).map_err(anyhow::Error::msg)?
        };
        let label = if matches!(
            name,
            "parallel" | "sharded" | "sharded-batched" | "auto" | split::NAME
        ) {
            format!("{name}:{threads}")
        } else {
            spec.clone()
        };
        execs.push((label, executor));
    }
    if execs.is_empty() {
        bail!("no executors given");
    }
    for item in &items {
        for (label, executor) in &execs {
            if let Some(reason) = executor.unsupported(item.fork, &item.block) {
                bail!("{label} cannot run {}: {reason}", item.id);
            }
        }
    }

    let threads_used = execs
        .iter()
        .map(|(label, _)| {
            label
                .split_once(':')
                .and_then(|(_, t)| t.parse::<usize>().ok())
                .unwrap_or(1)
        })
        .max()
        .unwrap_or(1)
        .max(2);
    let capacity = parallel_capacity(threads_used);
    let resident_before = status_kib("VmRSS:");
    let can_reset = reset_peak_rss();
    let peak_memory_note = if can_reset {
        "peak MiB: VmHWM, the high-water mark of the whole process's resident memory (every \
         loaded block and pre-state included), reset before each executor's warm-up run on each block"
    } else {
        "peak MiB: VmHWM, the high-water mark of the whole process's resident memory (every \
         loaded block and pre-state included); it could not be reset, so it never decreases and \
         includes every earlier run"
    }
    .to_owned();

    let mut rows = Vec::with_capacity(items.len());
    for item in &items {
        let timed: Vec<_> = execs
            .iter()
            .map(|(_, executor)| executor.prepare(item.fork, &item.pre, &item.block))
            .collect();
        let run_once = |i: usize| {
            timed[i]().map_err(|e| anyhow::anyhow!("{} on {}: {e}", execs[i].0, item.id))
        };
        // Warm-up, one run per executor, which also measures its peak memory on its own.
        let mut peaks = Vec::with_capacity(execs.len());
        let mut last_stats = Vec::with_capacity(execs.len());
        for i in 0..execs.len() {
            if can_reset {
                reset_peak_rss();
            }
            last_stats.push(run_once(i)?);
            peaks.push(peak_rss_kib());
        }
        // Timed runs, interleaved: each round runs every executor once, in an order shuffled
        // per round (the same in every run of the bench), so that a slow spell of the machine
        // falls on all of them alike and no executor always runs after the same other one
        // (a run leaves the caches, and a parallel run its idle threads, to the next).
        // A block faster than the shortest sample is run several times per sample, as many
        // for every executor, counted from a second (warm) run of the first executor.
        let started = Instant::now();
        last_stats[0] = run_once(0)?;
        let runs = runs_per_sample(started.elapsed().as_secs_f64(), args.min_sample_us);
        let mut times: Vec<Vec<f64>> = vec![Vec::with_capacity(args.repeat as usize); execs.len()];
        let mut order: Vec<usize> = (0..execs.len()).collect();
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..args.repeat {
            shuffle(&mut order, &mut seed);
            for &i in &order {
                let started = Instant::now();
                for _ in 0..runs {
                    last_stats[i] = run_once(i)?;
                }
                times[i].push(started.elapsed().as_secs_f64() / f64::from(runs));
            }
        }
        let mut cells: Vec<Cell> = Vec::with_capacity(execs.len());
        for (i, (label, _)) in execs.iter().enumerate() {
            let samples = times[i].clone();
            let seconds = median(&mut times[i]);
            let stats = std::mem::take(&mut last_stats[i]);
            let base = cells.first().map(|base| base.samples.as_slice());
            let speedup = base.map_or(1.0, |base| paired_speedup(base, &samples));
            let speedup_quartiles = base.map(|base| quartiles(&mut paired_ratios(base, &samples)));
            cells.push(Cell {
                executor: label.clone(),
                seconds,
                mgas_per_s: mgas_per_s(item.gas, seconds),
                speedup,
                speedup_quartiles,
                peak_rss_kib: peaks[i],
                parallel: stats.parallel,
                aborts: stats.aborts,
                fallback: stats.fallback.map(Cow::into_owned),
                mode: stats.mode.map(Cow::into_owned),
                samples,
            });
        }
        rows.push(Row {
            block: item.id.clone(),
            transactions: item.block.transactions.len(),
            gas: item.gas,
            runs_per_sample: runs,
            results: cells,
        });
    }
    let total = total_row(&rows, &execs);
    let report = Report {
        build_profile: BUILD_PROFILE.to_owned(),
        repeat: args.repeat,
        min_sample_us: args.min_sample_us,
        cores,
        resident_before_kib: resident_before,
        parallel_capacity: capacity,
        peak_memory_note,
        executors: execs.iter().map(|(l, _)| l.clone()).collect(),
        rows,
        total,
    };
    print_table(&report);
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(true)
}

/// Loads the blocks named by `paths`, in order: built-in workloads (checked with revm first)
/// and fixture files or folders.
fn load_items(paths: &[PathBuf]) -> anyhow::Result<(Vec<Item>, Vec<String>)> {
    let mut items = Vec::new();
    let mut skipped = Vec::new();
    for path in paths {
        if let Some(name) = builtin_name(path) {
            let workload = workloads::by_name(name).with_context(|| {
                format!(
                    "unknown built-in workload `{name}` (known: {})",
                    workloads::NAMES.join(", ")
                )
            })?;
            let gas = workloads::check_with_revm(&workload).map_err(anyhow::Error::msg)?;
            items.push(Item {
                id: format!("{BUILTIN_PREFIX}{name}"),
                fork: workload.fork,
                pre: workload.pre,
                block: workload.block,
                gas,
            });
            continue;
        }
        let files = fixtures::collect_files(std::slice::from_ref(path))?;
        for file in &files {
            let cases: Vec<Case> =
                fixtures::load_file(file).with_context(|| format!("loading {}", file.display()))?;
            for case in cases {
                let Some(b) = case.blocks.first() else {
                    continue;
                };
                let Ok(block) = b.block.clone() else {
                    skipped.push(format!("{}: the block does not decode", case.id));
                    continue;
                };
                if b.expect.exception.is_some() || b.expect.header_error.is_some() {
                    // A block the fixture expects rejected is a correctness case, not a workload.
                    skipped.push(format!("{}: the fixture expects it rejected", case.id));
                    continue;
                }
                // Gas actually used where the fixture says (mainnet headers), else the limits.
                let gas = b
                    .expect
                    .claims
                    .gas_used
                    .unwrap_or_else(|| block.transactions.iter().map(|t| t.gas_limit).sum());
                items.push(Item {
                    id: case.id.clone(),
                    fork: b.fork,
                    pre: case.pre.clone(),
                    block,
                    gas,
                });
            }
        }
    }
    Ok((items, skipped))
}

/// The workload name of a `builtin:NAME` argument.
fn builtin_name(path: &Path) -> Option<&str> {
    path.to_str()?.strip_prefix(BUILTIN_PREFIX)
}

/// How many runs of a block that took `seconds` fill a sample of `min_sample_us`.
fn runs_per_sample(seconds: f64, min_sample_us: u64) -> u32 {
    // In whole nanoseconds, so that an exact fit is not rounded up by a float's error.
    let run_ns = ((seconds * 1e9).round() as u64).max(1);
    let wanted = min_sample_us.saturating_mul(1000).div_ceil(run_ns);
    wanted.clamp(1, u64::from(MAX_RUNS_PER_SAMPLE)) as u32
}

/// Shuffles `items` (Fisher-Yates with xorshift64 from `seed`, which advances).
fn shuffle(items: &mut [usize], seed: &mut u64) {
    for i in (1..items.len()).rev() {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        let j = (*seed % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

/// The speedup of an executor with timed samples `samples` over the first executor, whose
/// samples of the same rounds are `base`: the median over the rounds of `base / sample`. The
/// two samples of one round ran one right after the other, so a slow spell of the machine
/// that spans the round slows both and cancels out of their ratio, where it would move one
/// executor's median and not the other's. Measured on the 31 bundled mainnet blocks that
/// `auto` runs sequentially (the same work as `revm`'s but for its choice, so the true ratio
/// is about 1), three runs of `--repeat 20`: the ratio of the medians read 0.918-0.963 on the
/// worst block and spread with a standard deviation of 0.016-0.026 across the blocks, the
/// median of the paired ratios 0.945-0.973 and 0.014-0.022.
fn paired_speedup(base: &[f64], samples: &[f64]) -> f64 {
    median(&mut paired_ratios(base, samples))
}

/// Each round's ratio `base / sample` (rounds whose sample reads zero left out).
fn paired_ratios(base: &[f64], samples: &[f64]) -> Vec<f64> {
    base.iter()
        .zip(samples)
        .filter(|(_, sample)| **sample > 0.0)
        .map(|(base, sample)| base / sample)
        .collect()
}

/// The lower and upper quartiles of `values`: the medians of the lower and the upper half of
/// them sorted (an odd count's middle value in neither half; one value is both quartiles).
fn quartiles(values: &mut [f64]) -> [f64; 2] {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n < 2 {
        let only = values.first().copied().unwrap_or(0.0);
        return [only, only];
    }
    let (lower, upper) = (
        &mut values[..n / 2].to_vec(),
        &mut values[n.div_ceil(2)..].to_vec(),
    );
    [median(lower), median(upper)]
}

/// How much work the machine does on `threads` threads at once, against one: the ceiling of
/// any parallel executor's speedup here.
#[derive(Debug, Serialize)]
struct Capacity {
    threads: usize,
    /// `threads` times one thread's time for a fixed kernel, over the time of `threads`
    /// threads each running it at once (median of five trials): `threads` on a machine whose
    /// cores are its own, less where they are hyperthreads or shared with other guests.
    /// Measured on this project's 2-core machine: 1.45-2.04 in four runs; two `sha256sum`
    /// processes over 400 MB there did 1.4-1.9x the work of one from one run to the next, so
    /// the figure moves with the host's load and is the ceiling of that moment only.
    speedup: f64,
}

/// Measures [`Capacity`] on `threads` threads with a kernel of Keccak hashing (compute
/// bound, a few kilobytes of memory, as an EVM's interpreter loop mostly is).
fn parallel_capacity(threads: usize) -> Capacity {
    fn kernel() -> alloy_primitives::B256 {
        let mut digest = alloy_primitives::B256::ZERO;
        for _ in 0..20_000 {
            digest = alloy_primitives::keccak256(digest);
        }
        digest
    }
    let time = |threads: usize| {
        let started = Instant::now();
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| std::hint::black_box(kernel()));
            }
        });
        started.elapsed().as_secs_f64()
    };
    let mut ratios: Vec<f64> = (0..5)
        .map(|_| {
            let one = time(1);
            let many = time(threads);
            if many > 0.0 {
                threads as f64 * one / many
            } else {
                0.0
            }
        })
        .collect();
    Capacity {
        threads,
        speedup: median(&mut ratios),
    }
}

/// The median of `times` (the mean of the middle two for an even count; 0 for none).
fn median(times: &mut [f64]) -> f64 {
    times.sort_by(f64::total_cmp);
    match times.len() {
        0 => 0.0,
        n if n % 2 == 1 => times[n / 2],
        n => (times[n / 2 - 1] + times[n / 2]) / 2.0,
    }
}

fn mgas_per_s(gas: u64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        gas as f64 / seconds / 1e6
    } else {
        0.0
    }
}

/// The TOTAL row: times summed over blocks, peak memory the largest seen.
fn total_row(rows: &[Row], execs: &[(String, Arc<dyn BlockExecutor>)]) -> Row {
    let gas: u64 = rows.iter().map(|r| r.gas).sum();
    let mut results: Vec<Cell> = Vec::with_capacity(execs.len());
    for (i, (label, _)) in execs.iter().enumerate() {
        let cells = rows.iter().filter_map(|r| r.results.get(i));
        let seconds: f64 = cells.clone().map(|c| c.seconds).sum();
        let base = results.first().map_or(seconds, |c| c.seconds);
        results.push(Cell {
            executor: label.clone(),
            seconds,
            mgas_per_s: mgas_per_s(gas, seconds),
            speedup: if seconds > 0.0 { base / seconds } else { 0.0 },
            speedup_quartiles: None,
            peak_rss_kib: cells.clone().filter_map(|c| c.peak_rss_kib).max(),
            parallel: cells.clone().any(|c| c.parallel),
            aborts: cells.map(|c| c.aborts).sum(),
            fallback: None,
            mode: None,
            samples: Vec::new(),
        });
    }
    Row {
        block: "TOTAL".to_owned(),
        transactions: rows.iter().map(|r| r.transactions).sum(),
        gas,
        runs_per_sample: 1,
        results,
    }
}

/// The cargo profile this binary was built with (recorded by the harness's build script).
const BUILD_PROFILE: &str = env!("LOCKSTEP_BUILD_PROFILE");

/// What the build profile means for the figures.
fn build_note(profile: &str) -> &'static str {
    match profile {
        "maxperf" => "link-time optimised across crates, as reth's profile of that name",
        "release" => {
            "no link-time optimisation across crates: `--profile maxperf` makes sequential revm \
             6-25% faster and every speedup smaller"
        }
        "debug" => "unoptimised: these times say nothing of the executors",
        _ => "a custom profile",
    }
}

fn print_table(report: &Report) {
    println!(
        "build: profile `{}` ({})",
        report.build_profile,
        build_note(&report.build_profile)
    );
    println!(
        "{} blocks, {} transactions; per block each executor runs once to warm up, then {} rounds \
         run every executor once each, in a shuffled order; {} cores available (shared with anything \
         else running on the machine)",
        report.rows.len(),
        report.total.transactions,
        report.repeat,
        report.cores
    );
    println!(
        "ms: median wall time per run; x: speedup over {}, the median over the rounds of its time over this one's (*: the executor fell back to sequential)",
        report.executors[0]
    );
    let batched = report.rows.iter().filter(|r| r.runs_per_sample > 1).count();
    if batched > 0 {
        println!(
            "{batched} block(s) faster than {} µs per run: each sample runs them back to back \
             (runs per sample in the JSON) and is divided by the count",
            report.min_sample_us
        );
    }
    println!(
        "machine: {} threads hashing at once did {:.2}x the work of one (the ceiling of a \
         parallel speedup here; less than {} where cores are hyperthreads or shared)",
        report.parallel_capacity.threads,
        report.parallel_capacity.speedup,
        report.parallel_capacity.threads
    );
    println!("{}", report.peak_memory_note);
    if let Some(kib) = report.resident_before_kib {
        println!(
            "resident memory before timing: {:.0} MiB",
            kib as f64 / 1024.0
        );
    }
    let mut header = format!("{:<34} {:>6} {:>8}", "block", "txs", "Mgas");
    for name in &report.executors {
        header.push_str(&format!(" | {:>24}", format!("{name}: ms x MiB")));
    }
    println!("{header}");
    for row in report.rows.iter().chain(std::iter::once(&report.total)) {
        if std::ptr::eq(row, &report.total) {
            println!("{}", "-".repeat(header.len()));
        }
        let mut line = format!(
            "{:<34} {:>6} {:>8.2}",
            shorten(display_id(&row.block), 34),
            row.transactions,
            row.gas as f64 / 1e6
        );
        for cell in &row.results {
            let mib = cell
                .peak_rss_kib
                .map_or_else(|| "?".to_owned(), |k| format!("{:.0}", k as f64 / 1024.0));
            let mark = if cell.fallback.is_some() { "*" } else { " " };
            line.push_str(&format!(
                " | {:>10.3} {:>6.2}x{mark}{:>5}",
                cell.seconds * 1e3,
                cell.speedup,
                mib
            ));
        }
        println!("{line}");
    }
    let mut throughput = format!("{:<50}", "Mgas/s over all blocks");
    for cell in &report.total.results {
        throughput.push_str(&format!(" | {:>24.1}", cell.mgas_per_s));
    }
    println!("{throughput}");
    for (i, name) in report.executors.iter().enumerate().skip(1) {
        let cells = || {
            report
                .rows
                .iter()
                .filter_map(move |r| r.results.get(i).map(|c| (c, &r.block)))
        };
        let lowest = cells().min_by(|a, b| a.0.speedup.total_cmp(&b.0.speedup));
        if let Some((cell, block)) = lowest {
            println!(
                "{name}: lowest speedup {:.2}x on {}{}",
                cell.speedup,
                display_id(block),
                spread(cell)
            );
        }
        // The block slowest in most rounds: its upper quartile is the lowest, so that three
        // rounds in four read at most that.
        let surest = cells()
            .filter_map(|(c, b)| c.speedup_quartiles.map(|[_, upper]| (upper, c, b)))
            .min_by(|a, b| a.0.total_cmp(&b.0));
        if let Some((upper, cell, block)) = surest {
            println!(
                "{name}: lowest upper quartile {upper:.2}x on {} (speedup {:.2}x){}",
                display_id(block),
                cell.speedup,
                spread(cell)
            );
        }
    }
}

/// `, rounds' quartiles a-b` of a cell's rounds' ratios, or nothing where it has none.
fn spread(cell: &Cell) -> String {
    cell.speedup_quartiles
        .map(|[lower, upper]| format!(", rounds' quartiles {lower:.2}-{upper:.2}"))
        .unwrap_or_default()
}

/// A case id without the directories of its file (`10760440.json.gz::10760440`).
fn display_id(id: &str) -> &str {
    let file_end = id.find("::").unwrap_or(id.len());
    match id[..file_end].rfind('/') {
        Some(slash) => &id[slash + 1..],
        None => id,
    }
}

/// The last `width` characters of `id` (the distinguishing end of long fixture paths).
fn shorten(id: &str, width: usize) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= width {
        id.to_owned()
    } else {
        let tail: String = chars[chars.len() - (width - 1)..].iter().collect();
        format!("…{tail}")
    }
}

/// Resets the process's VmHWM to its current resident size (Linux `clear_refs` value 5);
/// whether it could.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The process's VmHWM (peak resident memory) in KiB, where /proc says.
fn peak_rss_kib() -> Option<u64> {
    status_kib("VmHWM:")
}

/// A `/proc/self/status` figure in KiB (`key` with its colon, such as `VmRSS:`).
fn status_kib(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_build_profile_is_the_folder_the_binary_is_built_in() {
        // This test binary is `<target>/<profile>/deps/<name>`, built with the same profile.
        let exe = std::env::current_exe().expect("the test binary's path");
        let folder = exe
            .parent()
            .and_then(|deps| deps.parent())
            .and_then(|profile| profile.file_name())
            .and_then(|name| name.to_str())
            .expect("a profile folder");
        assert_eq!(BUILD_PROFILE, folder);
        assert!(build_note(BUILD_PROFILE).len() > 10);
    }

    #[test]
    fn the_speedup_is_the_median_of_each_rounds_ratio() {
        // Twice as fast in every round.
        assert_eq!(paired_speedup(&[1.0, 2.0, 3.0], &[0.5, 1.0, 1.5]), 2.0);
        // A slow spell that caught the first executor alone in one round, and the machine
        // slower in the last two rounds for both: the same work reads 1, where the ratio of
        // the two medians would read 3.
        let base = [1.0, 1.0, 3.0, 3.0, 3.0];
        let same_work = [1.0, 1.0, 1.0, 3.0, 3.0];
        assert_eq!(paired_speedup(&base, &same_work), 1.0);
        assert_eq!(
            median(&mut base.to_vec()) / median(&mut same_work.to_vec()),
            3.0
        );
    }

    #[test]
    fn quartiles_are_the_medians_of_each_half() {
        // Odd count: the middle value belongs to neither half.
        assert_eq!(quartiles(&mut [5.0, 1.0, 3.0, 2.0, 4.0]), [1.5, 4.5]);
        // Even count: the halves split evenly.
        assert_eq!(quartiles(&mut [4.0, 3.0, 2.0, 1.0]), [1.5, 3.5]);
        assert_eq!(quartiles(&mut [2.0]), [2.0, 2.0]);
        assert_eq!(quartiles(&mut []), [0.0, 0.0]);
        // The ratios behind a speedup: one noisy round moves a quartile, not the median.
        let mut ratios = paired_ratios(&[1.0, 1.0, 1.0, 2.0], &[1.0, 1.0, 1.0, 1.0]);
        assert_eq!(quartiles(&mut ratios), [1.0, 1.5]);
    }

    #[test]
    fn fast_blocks_are_batched_up_to_the_sample_and_the_cap() {
        // 4 µs against 200 µs: 50 runs; a slow block stays at one run.
        assert_eq!(runs_per_sample(4e-6, 200), 50);
        assert_eq!(runs_per_sample(4e-6, 1000), 250);
        assert_eq!(runs_per_sample(3e-3, 200), 1);
        // Just under the sample rounds up, so a sample is never shorter than asked.
        assert_eq!(runs_per_sample(150e-6, 200), 2);
        // A clock reading of zero does not divide by zero, and the count is capped.
        assert_eq!(runs_per_sample(0.0, 200), MAX_RUNS_PER_SAMPLE);
        assert_eq!(runs_per_sample(1e-3, 0), 1);
    }

    #[test]
    fn shuffles_are_permutations_that_vary() {
        let mut seed = 1;
        let mut seen = std::collections::HashSet::new();
        for _ in 0..50 {
            let mut order: Vec<usize> = (0..4).collect();
            shuffle(&mut order, &mut seed);
            let mut sorted = order.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, vec![0, 1, 2, 3]);
            seen.insert(order);
        }
        assert!(seen.len() > 10, "only {} orders in 50 rounds", seen.len());
    }

    #[test]
    fn builtin_names_are_recognised() {
        assert_eq!(
            builtin_name(Path::new("builtin:transfers")),
            Some("transfers")
        );
        assert_eq!(builtin_name(Path::new("../shared/mainnet-blocks")), None);
    }

    #[test]
    fn ids_lose_their_directories() {
        assert_eq!(
            display_id("../shared/mainnet-blocks/1150000.json.gz::1150000"),
            "1150000.json.gz::1150000"
        );
        assert_eq!(display_id("a/b.json::t/x::Cancun"), "b.json::t/x::Cancun");
        assert_eq!(display_id("builtin:erc20"), "builtin:erc20");
    }

    #[test]
    fn long_ids_keep_their_end() {
        assert_eq!(shorten("abc", 5), "abc");
        assert_eq!(shorten("abcdefgh", 5), "…efgh");
    }

    #[test]
    fn peak_memory_is_read_where_proc_exists() {
        if Path::new("/proc/self/status").exists() {
            assert!(peak_rss_kib().is_some_and(|k| k > 0));
        }
    }
}
