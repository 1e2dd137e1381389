//! The `t8n` executor against tools that misbehave on purpose (`tests/t8n-tools/`): one that
//! changes a storage value, one that drops a log, one that hangs, one that prints garbage, one
//! that crashes; and, where it is installed (`scripts/install-eels.sh`), against the official
//! Python specification, as process and as daemon.
//!
//! The fake tools need no Python spec: they replay the right answer (lockstep's spec's result
//! written as t8n output), changed in one place, so the test knows what must be named.

mod common;

use alloy_primitives::{address, keccak256, Address, Bytes, B256, U256};
use lockstep::case::{Case, CaseKind};
use lockstep::executors::t8n::{alloc_json, result_json};
use lockstep::executors::{BlockExecutor, SpecExecutor, T8nExecutor};
use lockstep::result::Status;
use lockstep_spec::types::{Account, Block, BlockEnv, Transaction, WorldState};
use lockstep_spec::Fork;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The well-known secret key of ethereum/tests' sender 0xa94f...0b.
const SECRET_KEY: &str = "0x45a915e4d060149eb4365960e6a7a45f334393093061116b197e3240065ff2d8";
const SENDER: Address = address!("a94f5374fce5edbc8e2a8697c15331677e6ebf0b");
const CONTRACT: Address = address!("1000000000000000000000000000000000000001");

fn tools() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/t8n-tools")
}

fn have_python() -> bool {
    let found = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("skipped: python3 is not installed (the fake t8n tools are Python scripts)");
    }
    found
}

/// The Python spec's t8n, if installed (`LOCKSTEP_EELS` or `target/eels-venv`).
fn eels() -> Option<PathBuf> {
    let path = std::env::var_os("LOCKSTEP_EELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../target/eels-venv/bin/ethereum-spec-evm")
        });
    if path.is_file() {
        Some(path)
    } else {
        eprintln!(
            "skipped: the Python spec is not installed at {} (run scripts/install-eels.sh)",
            path.display()
        );
        None
    }
}

/// A Cancun state-test-like case: the sender (known key) calls a contract that stores 42 in
/// slot 1 and emits one LOG1.
fn case(kind: CaseKind) -> Case {
    // PUSH1 42 PUSH1 1 SSTORE; PUSH1 7 PUSH1 0 PUSH1 0 LOG1 (offset 0, size 0, topic 7); STOP
    let code = Bytes::from(vec![
        0x60, 0x2a, 0x60, 0x01, 0x55, 0x60, 0x07, 0x60, 0x00, 0x60, 0x00, 0xa1, 0x00,
    ]);
    let mut pre = WorldState::default();
    pre.accounts.insert(
        SENDER,
        Account {
            balance: U256::from(10u64).pow(U256::from(18)),
            ..Default::default()
        },
    );
    pre.accounts.insert(
        CONTRACT,
        Account {
            code,
            nonce: 1,
            ..Default::default()
        },
    );
    let mut tx = Transaction::call(SENDER, CONTRACT, 0, 100_000, 10);
    tx.secret_key = Some(SECRET_KEY.parse::<B256>().expect("a key"));
    let block = Block {
        env: BlockEnv {
            chain_id: 1,
            number: 1,
            timestamp: 1_000,
            beneficiary: address!("2adc25665018aa1fe0e6bc666dac8fc2697ff9ba"),
            gas_limit: 30_000_000,
            base_fee: Some(7),
            prevrandao: Some(B256::repeat_byte(1)),
            excess_blob_gas: Some(0),
            block_hashes: [(0, keccak256(b"0"))].into_iter().collect(),
            ..Default::default()
        },
        transactions: vec![tx],
        ..Default::default()
    };
    let mut case = common::one_block_case("t8n-case", Fork::Cancun, pre, block);
    case.kind = kind;
    case
}

/// The right t8n answer for `case` (the spec's), in a file the fake tools replay.
fn answer_file(case: &Case, dir: &std::path::Path) -> PathBuf {
    let block = case.blocks[0].block.as_ref().expect("a block");
    let result = SpecExecutor.execute(case.fork, &case.pre, block);
    let post = result
        .as_ref()
        .map(|o| o.post_state.clone())
        .unwrap_or_default();
    let answer = serde_json::json!({"result": result_json(&result), "alloc": alloc_json(&post)});
    let path = dir.join("answer.json");
    std::fs::write(&path, answer.to_string()).expect("write the answer");
    path
}

fn run(case: &Case, t8n: T8nExecutor) -> Status {
    let executors: Vec<Arc<dyn BlockExecutor>> = vec![Arc::new(SpecExecutor), Arc::new(t8n)];
    common::runner(executors, Duration::from_secs(120))
        .run_case(case)
        .status
}

fn fake(mode: &str, answer: &std::path::Path) -> T8nExecutor {
    let tool = tools().join("wrong.py");
    T8nExecutor::from_name(&format!(
        "t8n:python3 {} {mode} answer={}",
        tool.display(),
        answer.display()
    ))
    .expect("a t8n name")
}

#[test]
fn the_right_answer_agrees_with_the_spec() {
    if !have_python() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let case = case(CaseKind::Generated);
    let status = run(&case, fake("none", &answer_file(&case, dir.path())));
    assert_eq!(status, Status::Passed);
}

#[test]
fn a_changed_storage_value_is_named_with_account_and_slot() {
    if !have_python() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let case = case(CaseKind::Generated);
    let status = run(&case, fake("storage", &answer_file(&case, dir.path())));
    assert_eq!(
        status,
        Status::Diverged(format!(
            "account {CONTRACT} storage slot 0x1: spec 0x2a != t8n:wrong.py 0x2b"
        ))
    );
}

#[test]
fn a_dropped_log_is_named_with_receipt_and_field() {
    if !have_python() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let case = case(CaseKind::Generated);
    let status = run(&case, fake("log", &answer_file(&case, dir.path())));
    assert_eq!(
        status,
        Status::Diverged("transaction 0 receipt log count: spec 1 != t8n:wrong.py 0".into())
    );
}

#[test]
fn a_hanging_tool_is_the_cases_error_within_its_time_limit() {
    let tool = tools().join("hang.sh");
    let t8n = T8nExecutor::from_name(&format!("t8n:sh {}", tool.display()))
        .expect("a t8n name")
        .with_time_limit(Duration::from_secs(1));
    let started = Instant::now();
    let status = run(&case(CaseKind::Generated), t8n);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    let Status::Error(reason) = status else {
        panic!("expected an error, got {status:?}")
    };
    assert!(reason.contains("did not finish within 1 s"), "{reason}");
    assert!(reason.contains("thinking forever"), "stderr kept: {reason}");
}

#[test]
fn garbage_output_is_the_cases_error_with_stderr() {
    let tool = tools().join("garbage.sh");
    let t8n = T8nExecutor::from_name(&format!("t8n:sh {}", tool.display())).expect("a t8n name");
    let Status::Error(reason) = run(&case(CaseKind::Generated), t8n) else {
        panic!("garbage must be an error")
    };
    assert!(
        reason.contains("not JSON") && reason.contains("Hello! This is not"),
        "{reason}"
    );
    assert!(reason.contains("about to print garbage"), "{reason}");
}

#[test]
fn a_crash_is_an_error_even_where_a_rejection_was_expected() {
    let tool = tools().join("crash.sh");
    let t8n = T8nExecutor::from_name(&format!("t8n:sh {}", tool.display())).expect("a t8n name");
    // A state test that expects its transaction rejected: a crash must not count as one.
    let mut case = case(CaseKind::StateTest);
    case.blocks[0].expect.exception = Some("TR_NoFunds".into());
    let Status::Error(reason) = run(&case, t8n) else {
        panic!("a crash must be an error")
    };
    assert!(reason.contains("segmentation fault (pretend)"), "{reason}");
}

#[test]
fn the_python_spec_agrees_as_process_and_as_daemon() {
    let Some(eels) = eels() else { return };
    let case = case(CaseKind::Generated);
    for kind in ["t8n", "t8n-process"] {
        let t8n =
            T8nExecutor::from_name(&format!("{kind}:{} t8n", eels.display())).expect("a t8n name");
        assert_eq!(t8n.uses_daemon(), kind == "t8n");
        assert_eq!(run(&case, t8n), Status::Passed, "{kind}");
    }
}

#[test]
fn a_wrapped_python_spec_that_changes_storage_is_named() {
    let Some(eels) = eels() else { return };
    if !have_python() {
        return;
    }
    let tool = tools().join("wrong.py");
    let t8n = T8nExecutor::from_name(&format!(
        "t8n:python3 {} storage {} t8n",
        tool.display(),
        eels.display()
    ))
    .expect("a t8n name");
    assert_eq!(
        run(&case(CaseKind::Generated), t8n),
        Status::Diverged(format!(
            "account {CONTRACT} storage slot 0x1: spec 0x2a != t8n:wrong.py 0x2b"
        ))
    );
}

#[test]
fn the_python_spec_rejects_what_the_spec_rejects() {
    let Some(eels) = eels() else { return };
    // Nonce 5 for a sender at nonce 0: both must reject transaction 0 as NonceTooHigh.
    let mut case = case(CaseKind::StateTest);
    if let Ok(block) = &mut case.blocks[0].block {
        block.transactions[0].nonce = 5;
    }
    case.blocks[0].expect.exception = Some("TR_NonceTooHigh".into());
    let t8n = T8nExecutor::from_name(&format!("t8n:{} t8n", eels.display())).expect("a name");
    assert_eq!(run(&case, t8n), Status::Passed);
}

#[test]
fn the_eels_sample_has_2000_state_cases_of_every_fork_and_10_mainnet_blocks() {
    let data = std::env::var_os("LOCKSTEP_TESTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    if !data.join("ethereum-tests").is_dir() {
        eprintln!(
            "skipped: no pinned data in {} (set LOCKSTEP_TESTS_DIR)",
            data.display()
        );
        return;
    }
    let list = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ethereum-tests/eels-sample.txt"),
    )
    .expect("the sample list");
    let mut state_cases = std::collections::BTreeMap::<String, usize>::new();
    let mut blocks = 0;
    for line in list
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let cases = lockstep::fixtures::load_file(&data.join(line)).expect("a listed file loads");
        for case in cases {
            match case.kind {
                CaseKind::StateTest => {
                    *state_cases
                        .entry(case.fork.test_name().to_string())
                        .or_default() += 1
                }
                CaseKind::MainnetBlock => blocks += 1,
                other => panic!("{line}: unexpected {other:?}"),
            }
        }
    }
    // The forks of ethereum/tests v13.3's GeneralStateTests (its SOURCE.md).
    let forks = [
        "Frontier",
        "Homestead",
        "EIP150",
        "EIP158",
        "Byzantium",
        "Constantinople",
        "ConstantinopleFix",
        "Istanbul",
        "Berlin",
        "London",
        "Paris",
        "Shanghai",
        "Cancun",
    ];
    for fork in forks {
        assert!(
            state_cases.get(fork).copied().unwrap_or(0) > 0,
            "no {fork} case"
        );
    }
    assert!(
        state_cases.values().sum::<usize>() >= 2_000,
        "{state_cases:?}"
    );
    assert_eq!(blocks, 10);
}
