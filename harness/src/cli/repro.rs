//! `lockstep repro FILE`: replays a repro file through the executors its `_info` names (or
//! those given), compares them as `lockstep gen` did and prints the difference; exit code 1
//! while it still diverges.

use crate::executors::{self, ExecutorOptions};
use crate::fixtures::{self, repro};
use crate::gen::Signature;
use crate::run::Runner;
use anyhow::{bail, Context};
use clap::Args;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Arguments of `lockstep repro`.
#[derive(Debug, Args)]
pub struct ReproArgs {
    /// The repro file.
    pub file: PathBuf,
    /// Comma-separated executors (default: those recorded in `_info`).
    #[arg(long, value_delimiter = ',')]
    pub executors: Vec<String>,
    /// Worker threads of parallel executors (default: as recorded).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Per-block time limit for one executor, in seconds.
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,
    /// On a divergence, also run the block under the spec and revm with EIP-3155 tracing and
    /// print the first differing step (revm stands for the parallel executor, whose final
    /// incarnations are plain revm runs).
    #[arg(long)]
    pub trace: bool,
    /// Steps of context before the first differing one (with `--trace`).
    #[arg(long, default_value_t = 5)]
    pub context: usize,
}

/// Runs the command; returns whether every case of the file ran clean.
pub fn run(args: ReproArgs) -> anyhow::Result<bool> {
    let infos = repro::read_info(&args.file)?;
    let cases = fixtures::load_file(&args.file)?;
    let mut clean = true;
    for mut case in cases {
        let Some(info) = infos.get(&case.test) else {
            bail!("{}: test {} has no `_info`", args.file.display(), case.test);
        };
        let names = if args.executors.is_empty() {
            info.executors.clone()
        } else {
            args.executors.clone()
        };
        let options = ExecutorOptions {
            threads: args.threads.unwrap_or(info.threads).max(1),
        };
        let runner = Runner {
            executors: names
                .iter()
                .map(|n| executors::by_name(n.trim(), &options).map_err(anyhow::Error::msg))
                .collect::<anyhow::Result<Vec<_>>>()
                .context("in --executors or _info.executors")?,
            timeout: Duration::from_secs(args.timeout.max(1)),
            expectations: Arc::new(Default::default()),
        };
        // Compared as generated: no fixture expectations, executors against each other.
        case.kind = crate::case::CaseKind::Generated;
        case.expect = Default::default();
        for block in &mut case.blocks {
            block.expect = Default::default();
        }
        let mut result = runner.run_case(&case);
        if let crate::result::Status::Error(r) = &result.status {
            if r.contains("watchdog") {
                result.status = crate::result::Status::Diverged(r.clone());
            }
        }
        println!("{}: {}", case.test, result.status.name());
        for e in &result.executors {
            match e.status.reason() {
                Some(reason) => println!("  {}: {} ({reason})", e.executor, e.status.name()),
                None => println!("  {}: {}", e.executor, e.status.name()),
            }
        }
        let signature = Signature::of(&result, &names);
        match (&signature, result.status.reason()) {
            (Some(sig), Some(reason)) => {
                println!("  first difference: {reason}");
                let verdict = if *sig == info.signature {
                    "the same finding as recorded"
                } else {
                    "a different finding from the one recorded"
                };
                println!("  {sig}: {verdict} ({})", info.signature);
                if args.trace {
                    use crate::trace::{trace_case, Tracing};
                    print!(
                        "{}",
                        trace_case(&case, &Tracing::Spec, &Tracing::Revm, args.context)
                    );
                }
                clean = false;
            }
            _ => println!("  no divergence (recorded: {})", info.signature),
        }
    }
    Ok(clean)
}
