//! The logic of lockstep's fuzz targets (`fuzz/`, cargo-fuzz): each target turns libFuzzer's
//! bytes into a case, runs it through the executors it compares, and returns the divergence
//! it found, if any. The thin targets in `fuzz/fuzz_targets/` abort on a divergence so that
//! libFuzzer keeps the input; the same functions run as ordinary tests over the checked-in
//! seed corpora (`fuzz/seeds/TARGET/`, checked in; `fuzz/corpus/` is libFuzzer's working corpus, not), so CI covers them without nightly features.

pub mod block;
pub mod bytecode;

use crate::case::Case;
use crate::compare::diff_results;
use crate::executors::BlockExecutor;
use crate::fixtures::repro::{self, RecordedOutcome, ReproInfo};
use crate::gen::Signature;
use crate::result::CaseResult;
use crate::run::Runner;
use lockstep_spec::types::{Block, BlockError, BlockOutcome, WorldState};
use lockstep_spec::Fork;
use std::path::PathBuf;

/// What a fuzz input showed: two executors disagree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// The case, as the input decoded.
    pub case_id: String,
    /// The first difference, naming both executors.
    pub difference: String,
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.case_id, self.difference)
    }
}

/// Runs the single-block `case` through `executors` and returns the first difference from
/// the first executor, if any.
pub fn compare_block(case: &Case, executors: &[&dyn BlockExecutor]) -> Option<Divergence> {
    let block = case.blocks.first()?;
    let Ok(b) = &block.block else {
        return None;
    };
    let results: Vec<(&str, Result<BlockOutcome, BlockError>)> = executors
        .iter()
        .map(|e| (e.name(), e.execute(block.fork, &case.pre, b)))
        .collect();
    let ((reference, expected), others) = results.split_first()?;
    others.iter().find_map(|(name, got)| {
        diff_results(reference, expected, name, got).map(|difference| Divergence {
            case_id: case.id.clone(),
            difference,
        })
    })
}

/// Where fuzz targets write repro files: `LOCKSTEP_REPRO_DIR`, or `lockstep-repros`.
pub fn repro_dir() -> PathBuf {
    std::env::var_os("LOCKSTEP_REPRO_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("lockstep-repros"))
}

/// Writes the divergence `result` of `block` on `pre` as a repro file (the reference
/// executor's outcome in its header, lockstep's metadata in `_info`) into [`repro_dir`], and
/// returns a note naming the file for the divergence's message.
#[allow(clippy::too_many_arguments)]
pub fn write_repro(
    target: &str,
    runner: &Runner,
    result: &CaseResult,
    signature: &Signature,
    (seed, index): (u64, u64),
    fork: Fork,
    pre: &WorldState,
    block: &Block,
    command: String,
) -> String {
    let names: Vec<String> = runner
        .executors
        .iter()
        .map(|e| e.name().to_string())
        .collect();
    let reference = runner
        .executors
        .first()
        .map(|first| first.execute(fork, pre, block));
    let info = ReproInfo {
        generated_by: format!("lockstep fuzz {target} {}", env!("CARGO_PKG_VERSION")),
        seed,
        case: index,
        fork: fork.to_string(),
        executors: names,
        threads: 2,
        signature: signature.clone(),
        first_difference: result.status.reason().unwrap_or_default().to_string(),
        outcomes: result
            .executors
            .iter()
            .map(|e| RecordedOutcome {
                executor: e.executor.clone(),
                status: e.status.name().to_string(),
                reason: e.status.reason().map(str::to_string),
            })
            .collect(),
        shrink_steps: Vec::new(),
        original_transactions: block.transactions.len(),
        command,
    };
    let name = format!("{target}_{fork}_{seed}");
    let written = repro::to_json(&name, fork, pre, block, reference.as_ref(), &info)
        .and_then(|json| repro::write(&repro_dir(), &name, &json));
    match written {
        Ok(path) => format!(" (repro: {})", path.display()),
        Err(e) => format!(" (the repro file could not be written: {e})"),
    }
}
