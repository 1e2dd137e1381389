//! Generated blocks (`lockstep gen`): determinism, real signatures, valid blocks unless made
//! invalid on purpose (then rejected at that transaction), conflicts that make the parallel
//! executor abort, repro files that round-trip through the blockchain-test loader, and the
//! command's report and exit codes.

use lockstep::executors::{BlockExecutor, ParallelAdapter, RevmExecutor, SpecExecutor};
use lockstep::fixtures::blockchain_test::{decode_block, transaction};
use lockstep::fixtures::repro::{self, ReproInfo};
use lockstep::gen::sign::envelope;
use lockstep::gen::strategy::{Action, InvalidKind};
use lockstep::gen::{generate, GenConfig, Signature};
use lockstep::result::Status;
use lockstep_spec::types::{BlockError, TxRule, TxType};
use lockstep_spec::Fork;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

mod common;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lockstep-gen-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn lockstep() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lockstep"))
}

#[test]
fn the_same_seed_gives_the_same_signed_blocks() {
    let cfg = GenConfig::default();
    let mut differs = false;
    for i in 0..20 {
        let a = generate(&cfg, 7, i).expect("generates");
        let b = generate(&cfg, 7, i).expect("generates");
        assert_eq!(a.pre, b.pre, "case {i}");
        assert_eq!(a.block, b.block, "case {i}");
        let other = generate(&cfg, 8, i).expect("generates");
        differs |= other.block != a.block;
        // Every transaction is really signed: its RLP decodes to the same transaction and sender.
        for (k, tx) in a.block.transactions.iter().enumerate() {
            let decoded = transaction(&envelope(tx).expect("envelope"), cfg.fork)
                .expect("recovers the sender");
            let mut expected = tx.clone();
            expected.secret_key = None;
            assert_eq!(decoded, expected, "case {i} transaction {k}");
        }
    }
    assert!(differs, "another seed must give other blocks");
}

/// The rules each invalid kind must break.
fn expected_rule(kind: InvalidKind) -> &'static [TxRule] {
    match kind {
        InvalidKind::NonceTooLow | InvalidKind::NonceConsumed => &[TxRule::NonceTooLow],
        InvalidKind::NonceTooHigh => &[TxRule::NonceTooHigh],
        InvalidKind::BalanceTooLowForFees | InvalidKind::BalanceSpent => {
            &[TxRule::InsufficientFunds]
        }
        InvalidKind::OverBlockGas => &[TxRule::GasLimitReached],
        InvalidKind::FeeCapBelowBaseFee => &[TxRule::FeeCapBelowBaseFee],
        InvalidKind::BlobFeeTooLow | InvalidKind::NoBlobs => &[TxRule::BlobRules],
    }
}

#[test]
fn blocks_are_valid_unless_made_invalid_and_then_rejected_at_that_transaction() {
    for fork in [Fork::Cancun, Fork::Prague] {
        let cfg = GenConfig {
            fork,
            invalid_share: 0.5,
            ..GenConfig::default()
        };
        let mut kinds = BTreeSet::new();
        let (mut at_start, mut at_end, mut inside) = (0, 0, 0);
        for i in 0..300 {
            let case = generate(&cfg, 11, i).expect("generates");
            let result = SpecExecutor.execute(fork, &case.pre, &case.block);
            match (case.plan.invalid, case.invalid_index, result) {
                (None, None, Ok(outcome)) => {
                    assert_eq!(outcome.receipts.len(), case.block.transactions.len());
                }
                (
                    Some(plan),
                    Some(k),
                    Err(BlockError::Transaction {
                        index,
                        rule,
                        message,
                    }),
                ) => {
                    assert_eq!(index, k, "case {i} {plan:?}: {message}");
                    assert!(
                        expected_rule(plan.kind).contains(&rule),
                        "case {i} {plan:?}: {rule:?} {message}"
                    );
                    kinds.insert(format!("{:?}", plan.kind));
                    // The parallel executor rejects the same transaction for the same rule,
                    // promptly, at every thread count.
                    for threads in [1, 2, 8] {
                        let started = std::time::Instant::now();
                        let got =
                            ParallelAdapter::new(threads).execute(fork, &case.pre, &case.block);
                        assert!(started.elapsed() < Duration::from_secs(1), "case {i}: slow");
                        match got {
                            Err(BlockError::Transaction {
                                index: j, rule: r, ..
                            }) => {
                                assert_eq!((j, r), (index, rule), "case {i} at {threads} threads")
                            }
                            other => panic!("case {i} at {threads} threads: {other:?}"),
                        }
                    }
                    let last = case.block.transactions.len() - 1;
                    match k {
                        0 => at_start += 1,
                        k if k == last => at_end += 1,
                        _ => inside += 1,
                    }
                }
                (plan, k, result) => panic!("{fork} case {i}: plan {plan:?} at {k:?}: {result:?}"),
            }
        }
        assert_eq!(
            kinds.len(),
            9,
            "{fork}: every invalid kind occurs: {kinds:?}"
        );
        assert!(
            at_start > 0 && at_end > 0 && inside > 0,
            "{at_start} {at_end} {inside}"
        );
    }
}

#[test]
fn prague_blocks_carry_applied_delegations() {
    let cfg = GenConfig {
        fork: Fork::Prague,
        invalid_share: 0.0,
        ..GenConfig::default()
    };
    let (mut set_code, mut delegated) = (0, 0);
    for i in 0..60 {
        let case = generate(&cfg, 5, i).expect("generates");
        set_code += case
            .block
            .transactions
            .iter()
            .filter(|t| t.tx_type == TxType::SetCode)
            .count();
        let outcome = RevmExecutor
            .execute(cfg.fork, &case.pre, &case.block)
            .expect("a valid block");
        delegated += outcome
            .post_state
            .accounts
            .values()
            .filter(|a| lockstep_spec::delegation::is_delegation(&a.code))
            .count();
    }
    assert!(set_code > 10, "{set_code} set-code transactions");
    assert!(delegated > 0, "no authorization applied");
}

#[test]
fn generated_blocks_exercise_their_templates() {
    let cfg = GenConfig {
        invalid_share: 0.0,
        ..GenConfig::default()
    };
    let (mut failed, mut created, mut logs, mut transfers) = (0, 0, 0, 0);
    for i in 0..60 {
        let case = generate(&cfg, 9, i).expect("generates");
        let outcome = RevmExecutor
            .execute(cfg.fork, &case.pre, &case.block)
            .expect("a valid block");
        failed += outcome.receipts.iter().filter(|r| !r.success).count();
        logs += outcome.receipts.iter().map(|r| r.logs.len()).sum::<usize>();
        created += outcome
            .post_state
            .accounts
            .keys()
            .filter(|a| !case.pre.accounts.contains_key(*a))
            .filter(|a| !outcome.post_state.accounts[*a].code.is_empty())
            .count();
        transfers += case
            .plan
            .txs
            .iter()
            .filter(|t| matches!(t.action, Action::Transfer(_)))
            .count();
    }
    assert!(failed > 0, "no revert or out-of-gas");
    assert!(created > 0, "no contract created");
    assert!(logs > 0, "no counter ran to its log");
    assert!(transfers > 0);
}

#[test]
fn generated_blocks_make_the_parallel_executor_abort() {
    // Bigger blocks, mostly on the hot slots; the generator itself is unchanged.
    let cfg = GenConfig {
        invalid_share: 0.0,
        min_txs: 16,
        weights: lockstep::gen::Weights {
            hot_slot: 20,
            ..Default::default()
        },
        ..GenConfig::default()
    };
    let cases: Vec<_> = (0..100)
        .map(|i| generate(&cfg, 1, i).expect("generates"))
        .collect();
    // Aborts need threads that really overlap; on a loaded machine (other tests, other jobs)
    // a round may see none, so rounds repeat for up to a minute.
    for threads in [2, 4] {
        let parallel = ParallelAdapter::new(threads);
        let started = std::time::Instant::now();
        let (mut aborts, mut blocks) = (0, 0);
        while aborts == 0 && started.elapsed() < Duration::from_secs(60) {
            for case in &cases {
                let outcome = parallel
                    .execute(cfg.fork, &case.pre, &case.block)
                    .expect("a valid block");
                assert!(outcome.stats.parallel);
                aborts += outcome.stats.aborts;
                blocks += 1;
            }
        }
        assert!(
            aborts > 0,
            "{threads} threads: no abort in {blocks} generated blocks"
        );
    }
}

#[test]
fn a_repro_file_round_trips_through_the_loader() {
    let dir = temp_dir("roundtrip");
    let executors: Vec<Arc<dyn BlockExecutor>> = vec![
        Arc::new(SpecExecutor),
        Arc::new(RevmExecutor),
        Arc::new(ParallelAdapter::new(2)),
    ];
    let runner = common::runner(executors, Duration::from_secs(60));
    let (mut valid, mut invalid, mut set_code) = (0, 0, 0);
    for (fork, i) in [Fork::Cancun, Fork::Prague]
        .into_iter()
        .flat_map(|f| (0..10).map(move |i| (f, i)))
    {
        let cfg = GenConfig {
            fork,
            invalid_share: 0.3,
            ..GenConfig::default()
        };
        let case = generate(&cfg, 21, i).expect("generates");
        set_code += case
            .block
            .transactions
            .iter()
            .filter(|t| t.tx_type == TxType::SetCode)
            .count();
        let reference = SpecExecutor.execute(cfg.fork, &case.pre, &case.block);
        let info = ReproInfo {
            generated_by: "test".into(),
            seed: 21,
            case: i,
            fork: cfg.fork.to_string(),
            executors: vec!["spec".into()],
            threads: 2,
            signature: Signature {
                kind: "diverged".into(),
                executors: vec![],
            },
            first_difference: String::new(),
            outcomes: vec![],
            shrink_steps: vec![],
            original_transactions: case.block.transactions.len(),
            command: String::new(),
        };
        let name = format!("t{fork}{i}");
        let json = repro::to_json(
            &name,
            cfg.fork,
            &case.pre,
            &case.block,
            Some(&reference),
            &info,
        )
        .expect("serializes");
        let path = repro::write(&dir, &name, &json).expect("writes");
        // The JSON headers are those of the RLP (clients build the genesis from the JSON).
        let test = &json[&name];
        for (header, rlp) in [
            (&test["genesisBlockHeader"], &test["genesisRLP"]),
            (&test["blocks"][0]["blockHeader"], &test["blocks"][0]["rlp"]),
        ] {
            let bytes = alloy_primitives::hex::decode(rlp.as_str().expect("hex")).expect("hex");
            let (decoded, hash) = decode_block(&bytes).expect("decodes");
            assert_eq!(header["hash"], format!("{hash:#x}"));
            assert_eq!(
                header["stateRoot"],
                format!("{:#x}", decoded.header.state_root)
            );
            assert_eq!(header["gasUsed"], format!("{:#x}", decoded.header.gas_used));
        }
        assert_eq!(
            test["genesisBlockHeader"]["stateRoot"],
            format!("{:#x}", lockstep_spec::trie::state_root(&case.pre))
        );
        let loaded = lockstep::fixtures::load_file(&path).expect("loads");
        assert_eq!(loaded.len(), 1);
        let back = &loaded[0];
        assert_eq!(back.pre, case.pre);
        let block = back.blocks[0].block.as_ref().expect("decodes");
        assert!(
            back.blocks[0].expect.header_error.is_none(),
            "{:?}",
            back.blocks[0].expect
        );
        assert_eq!(block.transactions.len(), case.block.transactions.len());
        // The same outcome from the loaded block as from the generated one.
        assert_eq!(
            SpecExecutor.execute(back.fork, &back.pre, block),
            reference,
            "case {i}"
        );
        // Run as a fixture, with the header's claims checked: every executor passes.
        let result = runner.run_case(back);
        assert_eq!(result.status, Status::Passed, "case {i}: {result:?}");
        if reference.is_ok() {
            valid += 1;
        } else {
            invalid += 1;
        }
        assert_eq!(repro::read_info(&path).expect("reads _info")[&name].case, i);
    }
    assert!(valid > 0 && invalid > 0, "{valid} valid, {invalid} invalid");
    assert!(set_code > 0, "EIP-7702 transactions round-trip too");
    // `lockstep run DIR` runs repro files like any fixture.
    let out = lockstep()
        .arg("run")
        .arg(&dir)
        .output()
        .expect("lockstep runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn lockstep_gen_reports_throughput_and_conflicts_and_exits_like_run() {
    let dir = temp_dir("cli");
    let report = dir.join("gen.json");
    let out = lockstep()
        .args([
            "gen",
            "--cases",
            "40",
            "--seed",
            "3",
            "--threads",
            "2",
            "--json",
        ])
        .arg(&report)
        .arg("--out")
        .arg(dir.join("repros"))
        .output()
        .expect("lockstep runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("blocks/s"), "{stdout}");
    assert!(stdout.contains("aborts / re-executions"), "{stdout}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("json");
    assert_eq!(json["summary"]["cases"], 40);
    assert_eq!(json["summary"]["passed"], 40);
    // Usage errors exit with 2.
    for bad in [["--txs", "5..3"], ["--fork", "London"]] {
        let out = lockstep().arg("gen").args(bad).output().expect("runs");
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
    }
}

proptest::proptest! {
    // A bounded property test for CI; failures persist in `gen.proptest-regressions` beside
    // this file, as proptest does, and replay first on the next run.
    #![proptest_config(proptest::test_runner::Config::with_cases(24))]
    #[test]
    fn generated_blocks_agree_across_executors(
        plan in lockstep::gen::strategy::block_plan(&GenConfig::default()),
        seed in 0u64..1_000,
    ) {
        let cfg = GenConfig::default();
        let case = lockstep::gen::from_plan(&cfg, seed, 0, plan).expect("builds");
        let executors: Vec<Arc<dyn BlockExecutor>> = vec![
            Arc::new(SpecExecutor),
            Arc::new(RevmExecutor),
            Arc::new(ParallelAdapter::new(2)),
        ];
        let result = common::runner(executors, Duration::from_secs(60)).run_case(&case.to_case());
        proptest::prop_assert_eq!(&result.status, &Status::Passed, "{:?}", result);
    }
}
