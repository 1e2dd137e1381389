//! `block_diff` and `repro_roundtrip`: the input chooses a generated conflict block (the
//! fork, the seed of `lockstep gen`'s strategies, the block's size and how often a
//! transaction is invalid on purpose), so the fuzzer explores the same conflict-rich shapes
//! as the proptest generators. `block_diff` runs the block through the spec, sequential revm
//! and the parallel executors and writes a repro file on a divergence; `repro_roundtrip`
//! writes the block as a repro file, reads it back and requires it to execute the same.

use super::Divergence;
use crate::executors::{by_name, ExecutorOptions};
use crate::expectations::Expectations;
use crate::fixtures::blockchain_test;
use crate::fixtures::repro::{self, ReproInfo};
use crate::gen::{self, GenCase, GenConfig, Signature};
use crate::result::Status;
use crate::run::Runner;
use arbitrary::Unstructured;
use lockstep_spec::Fork;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The executors `block_diff` compares; the first is the reference.
pub const EXECUTORS: [&str; 6] = [
    "spec",
    "revm",
    "parallel",
    "sharded",
    "sharded-batched",
    "auto",
];

/// Worker threads of the parallel executors.
pub const THREADS: usize = 2;

/// The generated case an input stands for (`None` when the input is too short to choose).
pub fn generated(input: &[u8]) -> Option<GenCase> {
    let mut u = Unstructured::new(input);
    let fork = [Fork::Cancun, Fork::Prague, Fork::Osaka][u.choose_index(3).ok()?];
    let seed: u64 = u.arbitrary().ok()?;
    let max_txs = 2 + usize::from(u.int_in_range(0u8..=30).ok()?);
    let invalid_share = f64::from(u.int_in_range(0u8..=4).ok()?) / 10.0;
    let cfg = GenConfig {
        fork,
        min_txs: 2,
        max_txs,
        invalid_share,
        ..GenConfig::default()
    };
    gen::generate(&cfg, seed, 0).ok()
}

fn runner() -> Runner {
    let options = ExecutorOptions { threads: THREADS };
    let executors = EXECUTORS
        .iter()
        .filter_map(|name| by_name(name, &options).ok())
        .collect();
    Runner {
        executors,
        timeout: Duration::from_secs(60),
        expectations: Arc::new(Expectations::default()),
    }
}

/// Runs one `block_diff` input; a divergence is written as a repro file (not shrunk: `lockstep
/// gen --seed S --first 0 --cases 1` regenerates and shrinks it) and returned.
pub fn check(input: &[u8]) -> Result<(), Divergence> {
    let Some(case) = generated(input) else {
        return Ok(());
    };
    let runner = runner();
    let names: Vec<String> = runner
        .executors
        .iter()
        .map(|e| e.name().to_string())
        .collect();
    let result = runner.run_case(&case.to_case());
    let Some(signature) = Signature::of(&result, &names) else {
        return Ok(());
    };
    let difference = result.status.reason().unwrap_or_default().to_string();
    let written = super::write_repro(
        "block_diff",
        &runner,
        &result,
        &signature,
        (case.seed, case.index),
        case.fork,
        &case.pre,
        &case.block,
        format!(
            "lockstep gen --seed {} --first 0 --cases 1 --fork {} --executors {} --threads {THREADS}",
            case.seed,
            case.fork,
            names.join(",")
        ),
    );
    Err(Divergence {
        case_id: case.id(),
        difference: format!("{signature}: {difference}{written}"),
    })
}

/// Runs one `repro_roundtrip` input: the block, written as a repro file with the spec's
/// outcome in its header and read back by the blockchain-test loader, must pass with the
/// spec (every header claim reproduced) and produce the outcome it was written from.
pub fn roundtrip(input: &[u8]) -> Result<(), Divergence> {
    let Some(case) = generated(input) else {
        return Ok(());
    };
    let fail = |difference: String| Divergence {
        case_id: case.id(),
        difference,
    };
    let spec = by_name("spec", &ExecutorOptions { threads: 1 }).map_err(fail)?;
    let outcome = spec.execute(case.fork, &case.pre, &case.block);
    let info = ReproInfo {
        generated_by: "lockstep fuzz repro_roundtrip".into(),
        seed: case.seed,
        case: case.index,
        fork: case.fork.to_string(),
        executors: vec!["spec".into()],
        threads: 1,
        signature: Signature {
            kind: "none".into(),
            executors: Vec::new(),
        },
        first_difference: String::new(),
        outcomes: Vec::new(),
        shrink_steps: Vec::new(),
        original_transactions: case.block.transactions.len(),
        command: String::new(),
    };
    let name = "roundtrip";
    let json = repro::to_json(
        name,
        case.fork,
        &case.pre,
        &case.block,
        Some(&outcome),
        &info,
    )
    .map_err(|e| fail(format!("writing the repro: {e}")))?;
    let loaded = blockchain_test::load(&PathBuf::from("roundtrip.json"), &json)
        .map_err(|e| fail(format!("reading the repro back: {e}")))?;
    let [back] = loaded.as_slice() else {
        return Err(fail(format!(
            "the repro holds {} cases, not 1",
            loaded.len()
        )));
    };
    let runner = Runner {
        executors: vec![spec.clone()],
        timeout: Duration::from_secs(60),
        expectations: Arc::new(Expectations::default()),
    };
    let result = runner.run_case(back);
    if result.status != Status::Passed {
        return Err(fail(format!(
            "the repro read back does not pass: {:?}",
            result.status
        )));
    }
    let block = back.blocks.first().and_then(|b| b.block.as_ref().ok());
    if let Some(block) = block {
        let again = spec.execute(case.fork, &back.pre, block);
        if let Some(d) = crate::compare::diff_results("written", &outcome, "read back", &again) {
            return Err(fail(d));
        }
    } else if outcome.is_ok() {
        return Err(fail("a valid block came back undecodable".into()));
    }
    Ok(())
}
