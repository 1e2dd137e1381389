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
use lockstep_spec::types::{BlockError, BlockOutcome};

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
