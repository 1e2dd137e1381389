//! The fuzz targets' logic over their checked-in seed corpora (`fuzz/seeds/TARGET/`), as
//! ordinary tests: every seed must run without a divergence. Also shows that the comparison a
//! target relies on does report a difference.

use lockstep::executors::{BlockExecutor, SpecExecutor};
use lockstep::fuzz::{block, bytecode, compare_block};
use lockstep_spec::types::{Block, BlockError, BlockOutcome, WorldState};
use lockstep_spec::Fork;
use std::path::PathBuf;

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/seeds")
        .join(target);
    let mut seeds: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("seed corpus {} missing: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|entry| {
            let bytes = std::fs::read(entry.path()).unwrap_or_default();
            (entry.file_name().to_string_lossy().into_owned(), bytes)
        })
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty(), "seed corpus {} is empty", dir.display());
    seeds
}

#[test]
fn bytecode_diff_seeds_agree() {
    for (name, input) in corpus("bytecode_diff") {
        if let Err(divergence) = bytecode::check(&input) {
            panic!("seed {name}: {divergence}");
        }
    }
}

#[test]
fn bytecode_diff_seeds_do_work() {
    // A seed whose code halts at once tests nothing: each seed's transaction must use other
    // gas than its intrinsic cost (more for work, less for a refund of cleared storage).
    for (name, input) in corpus("bytecode_diff") {
        let case = bytecode::case(&input);
        let block = case.blocks[0].block.as_ref().expect("decodable");
        let data = &block.transactions[0].input;
        let zeros = data.iter().filter(|b| **b == 0).count() as u64;
        let intrinsic = 21_000 + 4 * zeros + 16 * (data.len() as u64 - zeros);
        let outcome = SpecExecutor.execute(case.fork, &case.pre, block);
        let used = outcome.map(|o| o.gas_used[0]).unwrap_or_default();
        assert!(
            used != intrinsic && used > 0,
            "seed {name} used {used} gas, its intrinsic cost"
        );
    }
}

#[test]
fn block_diff_seeds_agree_and_are_real_blocks() {
    for (name, input) in corpus("block_diff") {
        let case =
            block::generated(&input).unwrap_or_else(|| panic!("seed {name} chooses no block"));
        assert!(
            case.block.transactions.len() >= 2,
            "seed {name}: a block of one transaction"
        );
        if let Err(divergence) = block::check(&input) {
            panic!("seed {name}: {divergence}");
        }
    }
}

#[test]
fn repro_roundtrip_seeds_round_trip() {
    for (name, input) in corpus("repro_roundtrip") {
        assert!(
            block::generated(&input).is_some(),
            "seed {name} chooses no block"
        );
        if let Err(broken) = block::roundtrip(&input) {
            panic!("seed {name}: {broken}");
        }
    }
}

/// The spec with one unit of gas more charged: a stand-in for a buggy executor.
struct OffByOne;

impl BlockExecutor for OffByOne {
    fn name(&self) -> &str {
        "off-by-one"
    }
    fn unsupported(&self, _: Fork, _: &Block) -> Option<String> {
        None
    }
    fn execute(
        &self,
        fork: Fork,
        pre: &WorldState,
        block: &Block,
    ) -> Result<BlockOutcome, BlockError> {
        let mut outcome = SpecExecutor.execute(fork, pre, block)?;
        outcome.gas_used[0] += 1;
        Ok(outcome)
    }
}

#[test]
fn a_differing_executor_is_reported() {
    let (_, input) = corpus("bytecode_diff").remove(0);
    let case = bytecode::case(&input);
    let found = compare_block(&case, &[&SpecExecutor, &OffByOne]);
    let divergence = found.expect("the difference must be found");
    assert!(divergence.difference.contains("off-by-one"), "{divergence}");
}
