//! `lockstep trace`: runs cases under two engines that can trace and prints, per block, the
//! first differing step (transaction, depth, pc, opcode, field) with a few steps before it.

use crate::fixtures;
use crate::trace::{trace_case, Tracing};
use anyhow::{bail, Context};
use clap::Args;
use regex::Regex;
use std::path::PathBuf;

/// Arguments of `lockstep trace`.
#[derive(Debug, Args)]
pub struct TraceArgs {
    /// Fixture files or folders (state tests, blockchain tests, mainnet blocks, repro files).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Only cases whose id matches this regular expression.
    #[arg(long)]
    pub filter: Option<String>,
    /// The two engines to compare, comma-separated: spec, revm (parallel traces as revm),
    /// t8n:CMD (a t8n tool run with --trace).
    #[arg(long, default_value = "spec,revm", value_delimiter = ',')]
    pub executors: Vec<String>,
    /// Steps of context printed before the first difference.
    #[arg(long, default_value_t = 5)]
    pub context: usize,
    /// Trace at most this many cases.
    #[arg(long, default_value_t = 20)]
    pub max_cases: usize,
}

/// Runs the command; returns whether every traced block agreed.
pub fn run(args: TraceArgs) -> anyhow::Result<bool> {
    let [a, b] = args.executors.as_slice() else {
        bail!("--executors takes exactly two engines, such as spec,revm");
    };
    let a = Tracing::by_name(a.trim()).map_err(anyhow::Error::msg)?;
    let b = Tracing::by_name(b.trim()).map_err(anyhow::Error::msg)?;
    let filter = args
        .filter
        .as_deref()
        .map(Regex::new)
        .transpose()
        .context("in --filter")?;
    let mut traced = 0;
    let mut agree = true;
    for file in fixtures::collect_files(&args.paths)? {
        let cases = fixtures::load_file(&file).map_err(|e| anyhow::anyhow!("{e}"))?;
        for case in cases
            .iter()
            .filter(|c| filter.as_ref().is_none_or(|re| re.is_match(&c.id)))
        {
            if traced == args.max_cases {
                println!("(stopped after {traced} cases: --max-cases)");
                return Ok(agree);
            }
            let report = trace_case(case, &a, &b, args.context);
            agree &= !report.contains("first difference");
            print!("{report}");
            traced += 1;
        }
    }
    if traced == 0 {
        bail!("no case matched");
    }
    Ok(agree)
}
