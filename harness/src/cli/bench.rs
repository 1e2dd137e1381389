//! `lockstep bench`: executors side by side on the same blocks in one run, release build,
//! each block repeated, wall time and gas throughput per executor and the speedup over the
//! first (the baseline). Set-up (loading, decompression) is outside the timed part.

use crate::case::Case;
use crate::executors::{self, ExecutorOptions};
use crate::fixtures;
use anyhow::{bail, Context};
use clap::Args;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Arguments of `lockstep bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Fixture files or folders (default: the bundled sample's mainnet blocks).
    pub paths: Vec<PathBuf>,
    /// Executors to time; the first is the baseline of the speedup column. `parallel:N` sets
    /// that executor's thread count.
    #[arg(
        long,
        default_value = "revm,parallel:1,parallel:2,parallel:4",
        value_delimiter = ','
    )]
    pub executors: Vec<String>,
    /// Times each block is executed per executor (after one warm-up run).
    #[arg(long, default_value_t = 5)]
    pub repeat: u32,
}

struct Timed {
    name: String,
    total: Duration,
}

/// Runs the benchmark and prints its table.
pub fn run(args: BenchArgs) -> anyhow::Result<bool> {
    let paths = if args.paths.is_empty() {
        vec![super::run::bundled_sample().join("mainnet")]
    } else {
        args.paths.clone()
    };
    let files = fixtures::collect_files(&paths)?;
    let mut cases: Vec<Case> = Vec::new();
    for file in &files {
        cases.extend(
            fixtures::load_file(file).with_context(|| format!("loading {}", file.display()))?,
        );
    }
    let blocks: Vec<_> = cases
        .iter()
        .filter_map(|c| {
            let b = c.blocks.first()?;
            let block = b.block.clone().ok()?;
            // Gas actually used where the fixture says (mainnet headers), else the gas limits.
            let gas = b
                .expect
                .claims
                .gas_used
                .unwrap_or_else(|| block.transactions.iter().map(|t| t.gas_limit).sum());
            Some((c.id.clone(), b.fork, c.pre.clone(), block, gas))
        })
        .collect();
    if blocks.is_empty() {
        bail!("no runnable blocks under the given paths");
    }
    let gas: u64 = blocks.iter().map(|b| b.4).sum();
    let mut timed = Vec::new();
    for spec in &args.executors {
        let (name, threads) = match spec.split_once(':') {
            Some((n, t)) => (
                n,
                t.parse::<usize>()
                    .with_context(|| format!("thread count in `{spec}`"))?,
            ),
            None => (spec.as_str(), 4),
        };
        let executor =
            executors::by_name(name, &ExecutorOptions { threads }).map_err(anyhow::Error::msg)?;
        let mut total = Duration::ZERO;
        for (id, fork, pre, block, _) in &blocks {
            if let Some(reason) = executor.unsupported(*fork, block) {
                bail!("{spec} cannot run {id}: {reason}");
            }
            let _ = executor.execute(*fork, pre, block); // warm-up
            let started = Instant::now();
            for _ in 0..args.repeat {
                executor
                    .execute(*fork, pre, block)
                    .map_err(|e| anyhow::anyhow!("{spec} on {id}: {e}"))?;
            }
            total += started.elapsed();
        }
        timed.push(Timed {
            name: spec.clone(),
            total,
        });
    }
    println!(
        "{} blocks, {} transactions, each run {} times",
        blocks.len(),
        blocks.iter().map(|b| b.3.transactions.len()).sum::<usize>(),
        args.repeat
    );
    println!(
        "{:<16} {:>12} {:>14} {:>9}",
        "executor", "seconds", "Mgas/s", "speedup"
    );
    let base = timed[0].total.as_secs_f64();
    for t in &timed {
        let secs = t.total.as_secs_f64();
        let mgas = gas as f64 * args.repeat as f64 / secs / 1e6;
        println!(
            "{:<16} {:>12.3} {:>14.1} {:>8.2}x",
            t.name,
            secs,
            mgas,
            base / secs
        );
    }
    Ok(true)
}
