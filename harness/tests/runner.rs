//! The runner end to end on small in-memory cases: a panicking executor, a hanging one, an
//! executor whose outcome was deliberately altered, and the report formats (insta snapshots).

mod common;

use alloy_primitives::{address, Address, U256};
use common::one_block_case;
use lockstep::case::Case;
use lockstep::executors::{BlockExecutor, RevmExecutor};
use lockstep::report::{render_summary, Summary};
use lockstep::result::Status;
use lockstep::run::Runner;
use lockstep_spec::types::{
    Account, Block, BlockEnv, BlockError, BlockOutcome, Transaction, WorldState,
};
use lockstep_spec::Fork;
use std::sync::Arc;
use std::time::Duration;

const SENDER: Address = address!("a94f5374fce5edbc8e2a8697c15331677e6ebf0b");
const TARGET: Address = address!("095e7baea6a6c7c4c2dfeb977efac326af552d87");

/// A transfer of 1 wei from SENDER to TARGET, as a one-block case.
fn transfer_case(id: &str) -> Case {
    let mut pre = WorldState::default();
    pre.accounts.insert(
        SENDER,
        Account {
            balance: U256::from(10u64.pow(18)),
            ..Default::default()
        },
    );
    let mut tx = Transaction::call(SENDER, TARGET, 0, 21_000, 10);
    tx.value = U256::from(1);
    let block = Block {
        env: BlockEnv {
            chain_id: 1,
            number: 1,
            gas_limit: 30_000_000,
            base_fee: Some(7),
            excess_blob_gas: Some(0),
            ..Default::default()
        },
        transactions: vec![tx],
        ..Default::default()
    };
    one_block_case(id, Fork::Cancun, pre, block)
}

/// Test executors standing in for broken engines.
enum Broken {
    Panics,
    Hangs,
    /// Runs revm, then adds 1 wei to the recipient.
    AltersBalance,
    /// Panics as the parallel executor does when one of Block-STM's invariants breaks.
    BreaksInvariant,
}

impl BlockExecutor for Broken {
    fn name(&self) -> &str {
        match self {
            Broken::Panics => "panics",
            Broken::Hangs => "hangs",
            Broken::AltersBalance => "alters",
            Broken::BreaksInvariant => "breaks",
        }
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
        match self {
            Broken::Panics => panic!("boom in the executor"),
            Broken::BreaksInvariant => panic!(
                "{}: an ESTIMATE marker survived the block",
                lockstep_executor::INVARIANT_VIOLATED
            ),
            Broken::Hangs => loop {
                std::thread::sleep(Duration::from_millis(50));
            },
            Broken::AltersBalance => {
                let mut outcome = RevmExecutor.execute(fork, pre, block)?;
                if let Some(account) = outcome.post_state.accounts.get_mut(&TARGET) {
                    account.balance += U256::from(1);
                }
                Ok(outcome)
            }
        }
    }
}

/// A runner whose watchdog only a hang reaches: a panic's report (its backtrace symbolized
/// on first use, under `RUST_BACKTRACE`) took over half a second on a loaded machine.
fn runner(executors: Vec<Arc<dyn BlockExecutor>>) -> Runner {
    common::runner(executors, Duration::from_secs(60))
}

/// A runner with a short watchdog, for the executor that hangs.
fn impatient_runner(executors: Vec<Arc<dyn BlockExecutor>>) -> Runner {
    common::runner(executors, Duration::from_millis(500))
}

#[test]
fn revm_alone_passes_a_transfer() {
    let result = runner(vec![Arc::new(RevmExecutor)]).run_case(&transfer_case("ok"));
    assert_eq!(result.status, Status::Passed);
}

#[test]
fn a_panicking_executor_is_that_case_s_error() {
    let result = runner(vec![Arc::new(RevmExecutor), Arc::new(Broken::Panics)])
        .run_case(&transfer_case("p"));
    match &result.status {
        Status::Error(reason) => assert!(
            reason.contains("panics") && reason.contains("boom in the executor"),
            "{reason}"
        ),
        other => panic!("expected an error, got {other:?}"),
    }
    assert_eq!(result.executors[0].status, Status::Passed);
}

#[test]
fn a_broken_block_stm_invariant_is_a_divergence() {
    let result = runner(vec![
        Arc::new(RevmExecutor),
        Arc::new(Broken::BreaksInvariant),
    ])
    .run_case(&transfer_case("i"));
    match &result.status {
        Status::Diverged(reason) => assert!(
            reason.contains("breaks") && reason.contains("invariant violated"),
            "{reason}"
        ),
        other => panic!("expected a divergence, got {other:?}"),
    }
}

#[test]
fn a_hanging_executor_is_stopped_by_the_watchdog() {
    let result = impatient_runner(vec![Arc::new(Broken::Hangs)]).run_case(&transfer_case("h"));
    match &result.status {
        Status::Error(reason) => assert!(reason.contains("watchdog"), "{reason}"),
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn an_altered_outcome_is_a_named_divergence() {
    let result = runner(vec![
        Arc::new(RevmExecutor),
        Arc::new(Broken::AltersBalance),
    ])
    .run_case(&transfer_case("d"));
    match &result.status {
        Status::Diverged(reason) => assert_eq!(
            reason,
            "account 0x095E7BAea6a6c7c4c2DfeB977eFac326aF552d87 balance: revm 1 != alters 2"
        ),
        other => panic!("expected a divergence, got {other:?}"),
    }
}

#[test]
fn report_formats_are_stable() {
    let r = runner(vec![
        Arc::new(RevmExecutor),
        Arc::new(Broken::AltersBalance),
    ]);
    let mut skipped = transfer_case("skipped-case");
    skipped.skip = Some("loader: not representable".into());
    let mut results = vec![
        r.run_case(&transfer_case("good-case")),
        r.run_case(&skipped),
    ];
    for result in &mut results {
        for e in &mut result.executors {
            e.millis = 0.0; // timings vary
        }
    }
    let names = vec!["revm".to_string(), "alters".to_string()];
    insta::assert_snapshot!("summary", render_summary(&results, &names, 10, 0.0));
    let json = serde_json::json!({ "summary": Summary::of(&results), "cases": results });
    insta::assert_json_snapshot!("json_report", json);
}
