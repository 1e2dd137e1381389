//! The parallel executor against the sequential baseline on hand-built conflict-heavy blocks,
//! at 1, 2, 4 and 8 threads, several times each.

#![cfg(not(feature = "shuttle"))]

mod common;

use alloy_primitives::{Address, Bytes, U256};
use common::*;
use lockstep_executor::ParallelExecutor;
use lockstep_spec::types::{Block, BlockError, TxRule, WorldState};
use lockstep_spec::Fork;

const REPEATS: usize = 5;

/// Makes a transaction invalid.
use lockstep_spec::types::TxType;

type Spoiler = dyn Fn(&mut lockstep_spec::types::Transaction);

fn word(address: Address) -> Bytes {
    let mut data = [0u8; 32];
    data[12..].copy_from_slice(address.as_slice());
    Bytes::copy_from_slice(&data)
}

#[test]
fn nonce_chain_from_one_sender() {
    for fork in [Fork::Homestead, Fork::Byzantium, Fork::London, Fork::Cancun] {
        let sender = addr(1);
        let pre = world([(sender, eoa(10))]);
        let txs = (0..30)
            .map(|n| call(fork, sender, n, addr(1000 + n % 3), U256::from(n + 1)))
            .collect();
        let out = assert_parallel_matches(fork, &pre, &block(fork, txs), REPEATS);
        assert!(out.is_ok(), "{fork}: {out:?}");
    }
}

#[test]
fn a_senders_later_transactions_wait_for_its_earlier_ones_instead_of_aborting() {
    // Known before running: each transaction of the chain needs the nonce its predecessor
    // writes. Waiting for it wastes no incarnation; running early would abort.
    let fork = Fork::Cancun;
    let sender = addr(1);
    let pre = world([(sender, eoa(10))]);
    let txs = (0..40)
        .map(|n| call(fork, sender, n, addr(1000 + n), U256::from(n + 1)))
        .collect();
    assert_waits_without_aborting(fork, &pre, &block(fork, txs));
}

/// Runs `chain` at 2, 4 and 8 threads: the outcome is the sequential one, and every
/// transaction ran once (each waited for its predicted dependency instead of aborting).
fn assert_waits_without_aborting(fork: Fork, pre: &WorldState, chain: &Block) {
    let expected = lockstep_executor::sequential::execute_block(fork, pre, chain);
    assert!(expected.is_ok(), "{expected:?}");
    let size = chain.transactions.len() as u64;
    for threads in [2, 4, 8] {
        for round in 0..REPEATS {
            let got = ParallelExecutor::new(threads).execute(fork, pre, chain);
            assert!(same(&expected, &got), "threads {threads}, round {round}");
            let stats = got.map(|o| o.stats).unwrap_or_default();
            assert_eq!(
                stats.aborts, 0,
                "threads {threads}, round {round}: {stats:?}"
            );
            assert_eq!(stats.incarnations, size, "threads {threads}, round {round}");
        }
    }
}

#[test]
fn transfers_paying_one_account_wait_for_each_other_instead_of_aborting() {
    // Forty senders paying one deposit address: each transfer needs the balance the one
    // before it wrote. Predicted before running, so no incarnation is wasted.
    let fork = Fork::Cancun;
    let deposit = addr(500);
    let pre = world((1..=40).map(|n| (addr(n), eoa(10))));
    let txs = (1..=40)
        .map(|n| call(fork, addr(n), 0, deposit, U256::from(n)))
        .collect();
    assert_waits_without_aborting(fork, &pre, &block(fork, txs));
}

#[test]
fn many_senders_one_hot_slot() {
    for fork in [Fork::Byzantium, Fork::Berlin, Fork::Cancun] {
        let counter = addr(0x100);
        let mut pre = world((1..=24).map(|n| (addr(n), eoa(1))));
        pre.accounts.insert(counter, contract(&COUNTER));
        let txs = (1..=24)
            .map(|n| call(fork, addr(n), 0, counter, U256::ZERO))
            .collect();
        let out = assert_parallel_matches(fork, &pre, &block(fork, txs), REPEATS)
            .unwrap_or_else(|e| panic!("{fork}: {e:?}"));
        assert_eq!(
            out.post_state.storage(&counter, &U256::ZERO),
            U256::from(24)
        );
    }
}

#[test]
fn transfers_in_both_directions() {
    let fork = Fork::Shanghai;
    let (a, b, c) = (addr(1), addr(2), addr(3));
    let pre = world([(a, eoa(5)), (b, eoa(5)), (c, eoa(5))]);
    let mut nonces = [0u64; 3];
    let parties = [a, b, c];
    let mut txs = Vec::new();
    for i in 0..36usize {
        let from = i % 3;
        let to = (i + 1 + i / 3 % 2) % 3;
        txs.push(call(
            fork,
            parties[from],
            nonces[from],
            parties[to],
            U256::from(ETHER),
        ));
        nonces[from] += 1;
    }
    assert_parallel_matches(fork, &pre, &block(fork, txs), REPEATS)
        .unwrap_or_else(|e| panic!("{e:?}"));
}

#[test]
fn beneficiary_balance_read_after_fee_payments() {
    for fork in [
        Fork::Homestead,
        Fork::SpuriousDragon,
        Fork::London,
        Fork::Cancun,
    ] {
        let reader = addr(0x101);
        let mut pre = world((1..=12).map(|n| (addr(n), eoa(1))));
        pre.accounts.insert(reader, contract(&COINBASE_READER));
        // The beneficiary does not exist before the block: its creation by the first fee
        // (or by a zero fee before EIP-161) must be seen exactly.
        let mut txs = Vec::new();
        for n in 1..=12u64 {
            let to = if n % 3 == 0 { reader } else { addr(500 + n) };
            txs.push(call(fork, addr(n), 0, to, U256::from(n)));
        }
        // A payment to the beneficiary, then the beneficiary as sender, then a read.
        txs.push(call(fork, addr(1), 1, coinbase(), U256::from(ETHER / 10)));
        txs.push(call(fork, coinbase(), 0, addr(2), U256::from(1000)));
        txs.push(call(fork, addr(3), 1, reader, U256::ZERO));
        let out = assert_parallel_matches(fork, &pre, &block(fork, txs), REPEATS);
        let out = out.unwrap_or_else(|e| panic!("{fork}: {e:?}"));
        assert!(!out
            .post_state
            .storage(&reader, &U256::from_be_slice(addr(3).as_slice()))
            .is_zero());
    }
}

#[test]
fn zero_fees_to_an_absent_beneficiary() {
    // Free transactions before EIP-161 create the beneficiary; after, they create nothing.
    for fork in [Fork::Homestead, Fork::SpuriousDragon, Fork::Berlin] {
        let reader = addr(0x101);
        let mut pre = world((1..=6).map(|n| (addr(n), eoa(1))));
        pre.accounts.insert(reader, contract(&COINBASE_READER));
        let mut txs: Vec<_> = (1..=6)
            .map(|n| {
                let mut tx = call(
                    fork,
                    addr(n),
                    0,
                    if n == 4 { reader } else { addr(9) },
                    U256::ZERO,
                );
                tx.gas_price = 0;
                tx
            })
            .collect();
        txs.push(call(fork, addr(5), 1, reader, U256::ZERO));
        assert_parallel_matches(fork, &pre, &block(fork, txs), REPEATS)
            .unwrap_or_else(|e| panic!("{fork}: {e:?}"));
    }
}

#[test]
fn nonce_invalid_only_because_of_an_earlier_transaction() {
    let fork = Fork::Cancun;
    let sender = addr(1);
    let pre = world([(sender, eoa(10)), (addr(2), eoa(10))]);
    for bad in 1..4usize {
        let mut txs: Vec<_> = (0..6u64)
            .map(|n| call(fork, addr(2), n, addr(7), U256::from(1)))
            .collect();
        // Two transactions with nonce 0 from the same sender: the later one is too low.
        txs.insert(0, call(fork, sender, 0, addr(8), U256::from(1)));
        txs.insert(bad, call(fork, sender, 0, addr(8), U256::from(1)));
        let expected = assert_parallel_matches(fork, &pre, &block(fork, txs), REPEATS);
        match expected {
            Err(BlockError::Transaction { index, rule, .. }) => {
                assert_eq!((index, rule), (bad, TxRule::NonceTooLow));
            }
            other => panic!("expected a nonce error, got {other:?}"),
        }
    }
}

/// A versioned hash of the KZG version (0x01), as EIP-4844 requires.
fn blob_hash() -> alloy_primitives::B256 {
    let mut hash = [0x11u8; 32];
    hash[0] = 0x01;
    hash.into()
}

#[test]
fn invalid_transaction_kinds_at_first_middle_and_last() {
    let fork = Fork::Cancun;
    let poor = addr(9);
    let pre = world([(addr(1), eoa(10)), (poor, eoa(0))]);
    let size = 8usize;
    for position in [0, 1, size / 2, size - 1] {
        let cases: Vec<(Box<Spoiler>, TxRule)> = vec![
            (Box::new(|tx| tx.nonce += 5), TxRule::NonceTooHigh),
            (Box::new(|tx| tx.gas_price = 1), TxRule::FeeCapBelowBaseFee),
            (
                Box::new(|tx| tx.gas_limit = 40_000_000),
                TxRule::GasLimitReached,
            ),
            (
                Box::new(move |tx| tx.sender = poor),
                TxRule::InsufficientFunds,
            ),
            (Box::new(|tx| tx.gas_limit = 1_000), TxRule::IntrinsicGas),
            // EIP-4844: a blob transaction that offers less than the blob base fee (1 wei).
            (
                Box::new(|tx| {
                    tx.tx_type = TxType::Blob;
                    tx.max_priority_fee_per_gas = Some(0);
                    tx.blob_versioned_hashes = vec![blob_hash()];
                    tx.max_fee_per_blob_gas = Some(0);
                }),
                TxRule::BlobRules,
            ),
            // EIP-4844: a blob transaction without blobs.
            (
                Box::new(|tx| {
                    tx.tx_type = TxType::Blob;
                    tx.max_priority_fee_per_gas = Some(0);
                    tx.max_fee_per_blob_gas = Some(1);
                }),
                TxRule::BlobRules,
            ),
        ];
        for (spoil, rule) in cases {
            let mut txs: Vec<_> = (0..size as u64)
                .map(|n| call(fork, addr(1), n, addr(7), U256::from(1)))
                .collect();
            if let Some(tx) = txs.get_mut(position) {
                spoil(tx);
                if tx.sender == poor {
                    tx.nonce = 0;
                }
            }
            let block = block(fork, txs);
            let expected = assert_parallel_matches(fork, &pre, &block, 2);
            for threads in [1, 2, 8] {
                let started = std::time::Instant::now();
                let _ = ParallelExecutor::new(threads).execute(fork, &pre, &block);
                let took = started.elapsed();
                assert!(took.as_secs_f64() < 1.0, "{threads} threads took {took:?}");
            }
            match expected {
                Err(BlockError::Transaction {
                    index, rule: got, ..
                }) => {
                    assert_eq!((index, got), (position, rule));
                }
                other => panic!("expected {rule:?} at {position}, got {other:?}"),
            }
        }
    }
}

#[test]
fn balance_spent_by_an_earlier_transaction() {
    let fork = Fork::London;
    let sender = addr(1);
    let pre = world([(sender, eoa(1))]);
    let txs = vec![
        call(fork, sender, 0, addr(2), U256::from(ETHER / 2)),
        call(fork, sender, 1, addr(2), U256::from(ETHER / 2)),
    ];
    let expected = assert_parallel_matches(fork, &pre, &block(fork, txs), REPEATS);
    assert!(matches!(
        expected,
        Err(BlockError::Transaction {
            index: 1,
            rule: TxRule::InsufficientFunds,
            ..
        })
    ));
}

#[test]
fn selfdestruct_then_read() {
    for fork in [
        Fork::Homestead,
        Fork::Byzantium,
        Fork::Shanghai,
        Fork::Cancun,
    ] {
        let victim = addr(0x200);
        let inspector = addr(0x201);
        let mut doomed = contract(&SUICIDE);
        doomed.balance = U256::from(12345);
        doomed.storage.insert(U256::from(1), U256::from(7));
        let mut pre = world((1..=4).map(|n| (addr(n), eoa(1))));
        pre.accounts.insert(victim, doomed);
        pre.accounts.insert(inspector, contract(&INSPECTOR));
        let inspect = |sender: u64, nonce: u64| {
            let mut tx = call(fork, addr(sender), nonce, inspector, U256::ZERO);
            tx.input = word(victim);
            tx
        };
        let txs = vec![
            inspect(1, 0),
            call(fork, addr(2), 0, victim, U256::ZERO),
            inspect(3, 0),
            // Recreate it as a plain account, then read it again.
            call(fork, addr(4), 0, victim, U256::from(5)),
            inspect(1, 1),
        ];
        assert_parallel_matches(fork, &pre, &block(fork, txs), REPEATS)
            .unwrap_or_else(|e| panic!("{fork}: {e:?}"));
    }
}

#[test]
fn create_then_call_the_new_contract() {
    for fork in [Fork::Homestead, Fork::SpuriousDragon, Fork::Cancun] {
        let deployer = addr(1);
        let pre = world((1..=5).map(|n| (addr(n), eoa(1))));
        let created = deployer.create(0);
        let mut txs = vec![create(fork, deployer, 0, counter_init_code())];
        for n in 2..=5 {
            txs.push(call(fork, addr(n), 0, created, U256::ZERO));
        }
        txs.push(create(fork, deployer, 1, counter_init_code()));
        let out = assert_parallel_matches(fork, &pre, &block(fork, txs), REPEATS)
            .unwrap_or_else(|e| panic!("{fork}: {e:?}"));
        assert_eq!(out.post_state.storage(&created, &U256::ZERO), U256::from(4));
    }
}

#[test]
fn storage_written_by_the_creating_transaction() {
    // The creation wipes the account's storage and writes slot 0 in the same transaction:
    // later readers must see the write (mainnet block 116525 calls a contract right after
    // the transaction that created it).
    for fork in [Fork::Frontier, Fork::Cancun] {
        let deployer = addr(1);
        let pre = world((1..=4).map(|n| (addr(n), eoa(1))));
        let created = deployer.create(0);
        let mut txs = vec![create(fork, deployer, 0, seeded_counter_init_code())];
        for n in 2..=4 {
            txs.push(call(fork, addr(n), 0, created, U256::ZERO));
        }
        let out = assert_parallel_matches(fork, &pre, &block(fork, txs), REPEATS)
            .unwrap_or_else(|e| panic!("{fork}: {e:?}"));
        assert_eq!(out.post_state.storage(&created, &U256::ZERO), U256::from(8));
    }
}

#[test]
fn mixed_contention_blocks() {
    for (fork, seed) in [
        (Fork::Cancun, 1),
        (Fork::London, 7),
        (Fork::Byzantium, 3),
        (Fork::Homestead, 9),
    ] {
        let (pre, block) = mixed_block(fork, 120, seed);
        assert_parallel_matches(fork, &pre, &block, 3).unwrap_or_else(|e| panic!("{fork}: {e:?}"));
    }
}

#[test]
fn rewards_withdrawals_and_empty_blocks() {
    let fork = Fork::Shanghai;
    let pre = world([(addr(1), eoa(1))]);
    let mut with_withdrawals = block(
        fork,
        vec![call(fork, addr(1), 0, coinbase(), U256::from(3))],
    );
    with_withdrawals.withdrawals = vec![lockstep_spec::types::Withdrawal {
        index: 0,
        validator_index: 1,
        address: coinbase(),
        amount_gwei: 5,
    }];
    assert_parallel_matches(fork, &pre, &with_withdrawals, REPEATS)
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_parallel_matches(fork, &pre, &block(fork, vec![]), 1)
        .unwrap_or_else(|e| panic!("{e:?}"));
    let mut ommers = block(
        Fork::Byzantium,
        vec![call(Fork::Byzantium, addr(1), 0, addr(2), U256::from(1))],
    );
    ommers.ommers = vec![lockstep_spec::types::Ommer {
        beneficiary: Some(addr(3)),
        number: 99,
    }];
    assert_parallel_matches(Fork::Byzantium, &pre, &ommers, REPEATS)
        .unwrap_or_else(|e| panic!("{e:?}"));
}

#[test]
fn fallback_is_reported_when_not_forced() {
    let fork = Fork::Cancun;
    let pre = world([(addr(1), eoa(1))]);
    let small = block(fork, vec![call(fork, addr(1), 0, addr(2), U256::from(1))]);
    let relaxed = ParallelExecutor {
        force_parallel: false,
        ..ParallelExecutor::new(2)
    };
    let out = relaxed
        .execute(fork, &pre, &small)
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(!out.stats.parallel);
    assert!(out.stats.fallback.is_some());
    let forced = ParallelExecutor::new(2)
        .execute(fork, &pre, &small)
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(forced.stats.parallel);
    assert!(forced.stats.fallback.is_none());
}

#[test]
fn a_contended_block_may_give_up_but_stays_exact_when_not_forced() {
    let fork = Fork::Cancun;
    let counter = addr(0x100);
    // 400 calls at 60,000 gas each fit the block's gas limit.
    let mut pre = world((1..=400).map(|n| (addr(1000 + n), eoa(1))));
    pre.accounts.insert(counter, contract(&COUNTER));
    // The counter ignores its call data: different data per call keeps the block from being
    // predicted serial (`contention`), so that the run itself meets the contention.
    let txs = (1..=400u64)
        .map(|n| {
            let mut tx = call(fork, addr(1000 + n), 0, counter, U256::ZERO);
            // 10 Mgas in all: over the size under which a block runs sequentially anyway.
            tx.gas_limit = 100_000;
            tx.input = n.to_be_bytes().to_vec().into();
            tx
        })
        .collect();
    let hot = block(fork, txs);
    let expected = lockstep_executor::sequential::execute_block(fork, &pre, &hot);
    assert!(expected.is_ok(), "{expected:?}");
    let relaxed = ParallelExecutor {
        force_parallel: false,
        ..ParallelExecutor::new(8)
    };
    // Every transaction conflicts with the one before it, so aborts pile up; whether they
    // pass the give-up rate depends on the schedule, so only exactness and the reason of a
    // fallback are asserted here (the rate itself: `block_stm::too_contended`'s test).
    for _ in 0..5 {
        let got = relaxed.execute(fork, &pre, &hot);
        assert!(same(&expected, &got), "a fallback must still be exact");
        let stats = got.map(|o| o.stats).unwrap_or_default();
        if let Some(reason) = stats.fallback {
            assert!(!stats.parallel);
            assert!(reason.contains("contention"), "{reason}");
        }
    }
    // Forced, the same block always completes in parallel.
    let forced = ParallelExecutor::new(8).execute(fork, &pre, &hot);
    assert!(same(&expected, &forced));
    assert!(forced.is_ok_and(|o| o.stats.parallel && o.stats.fallback.is_none()));
}

#[test]
fn a_block_of_identical_calls_runs_sequentially_when_not_forced() {
    let fork = Fork::Cancun;
    let counter = addr(0x100);
    let mut pre = world((1..=100).map(|n| (addr(1000 + n), eoa(1))));
    pre.accounts.insert(counter, contract(&COUNTER));
    let txs = (1..=100)
        .map(|n| {
            let mut tx = call(fork, addr(1000 + n), 0, counter, U256::ZERO);
            // 10 Mgas in all: over the size under which a block runs sequentially anyway.
            tx.gas_limit = 100_000;
            tx
        })
        .collect();
    let hot = block(fork, txs);
    let expected = lockstep_executor::sequential::execute_block(fork, &pre, &hot);
    assert!(expected.is_ok(), "{expected:?}");
    let relaxed = ParallelExecutor {
        force_parallel: false,
        ..ParallelExecutor::new(2)
    };
    let got = relaxed.execute(fork, &pre, &hot);
    assert!(same(&expected, &got));
    let stats = got.map(|o| o.stats).unwrap_or_default();
    assert!(!stats.parallel);
    let reason = stats.fallback.unwrap_or_default();
    assert!(reason.contains("repeat an earlier call"), "{reason}");
    // Forced, it still runs in parallel.
    let forced = ParallelExecutor::new(2).execute(fork, &pre, &hot);
    assert!(same(&expected, &forced));
    assert!(forced.is_ok_and(|o| o.stats.parallel));
}

#[test]
fn zero_and_many_threads() {
    let fork = Fork::London;
    let pre = world((1..=3).map(|n| (addr(n), eoa(1))));
    let txs = (1..=3)
        .map(|n| call(fork, addr(n), 0, addr(n % 3 + 1), U256::from(n)))
        .collect();
    let block = block(fork, txs);
    let expected = lockstep_executor::sequential::execute_block(fork, &pre, &block);
    for threads in [0, 3, 64] {
        let got = ParallelExecutor::new(threads).execute(fork, &pre, &block);
        assert!(same(&expected, &got), "{threads} threads");
    }
}

#[test]
fn destroyed_then_recreated_with_create2() {
    for fork in [
        Fork::Constantinople,
        Fork::Istanbul,
        Fork::Shanghai,
        Fork::Cancun,
    ] {
        if lockstep_executor::sequential::unsupported(fork).is_some() {
            continue;
        }
        let factory = addr(0x300);
        let inspector = addr(0x301);
        let mut code = FACTORY.to_vec();
        code.extend_from_slice(&[0x55, 0x00]);
        let mut pre = world((1..=6).map(|n| (addr(n), eoa(1))));
        pre.accounts.insert(factory, contract(&code));
        pre.accounts.insert(inspector, contract(&INSPECTOR));
        let child = factory.create2_from_code([0u8; 32], doomed_init_code());
        let deploy = |sender: u64, nonce: u64| {
            let mut tx = call(fork, addr(sender), nonce, factory, U256::ZERO);
            tx.input = doomed_init_code();
            tx
        };
        let inspect = |sender: u64, nonce: u64| {
            let mut tx = call(fork, addr(sender), nonce, inspector, U256::ZERO);
            tx.input = word(child);
            tx
        };
        let txs = vec![
            deploy(1, 0),
            call(fork, addr(2), 0, child, U256::from(3)),
            inspect(3, 0),
            deploy(4, 0),
            inspect(5, 0),
            call(fork, addr(6), 0, child, U256::ZERO),
            inspect(3, 1),
        ];
        let out = assert_parallel_matches(fork, &pre, &block(fork, txs), REPEATS)
            .unwrap_or_else(|e| panic!("{fork}: {e:?}"));
        // The factory recorded the child (before EIP-6780, the second CREATE2 recreated it;
        // after, the collision burns the gas and the transaction reverts).
        let recorded = out.post_state.storage(&factory, &U256::ZERO);
        assert_eq!(recorded, U256::from_be_slice(child.as_slice()), "{fork}");
        assert_eq!(out.receipts[3].success, fork < Fork::Cancun, "{fork}");
    }
}

#[test]
fn created_and_destroyed_in_one_transaction() {
    for fork in [Fork::Shanghai, Fork::Cancun] {
        let pre = world((1..=3).map(|n| (addr(n), eoa(1))));
        let mut doomed = create(fork, addr(1), 0, Bytes::from(SUICIDE.to_vec()));
        doomed.value = U256::from(77);
        let created = addr(1).create(0);
        let txs = vec![
            doomed,
            call(fork, addr(2), 0, created, U256::from(5)),
            call(fork, addr(3), 0, created, U256::ZERO),
        ];
        assert_parallel_matches(fork, &pre, &block(fork, txs), REPEATS)
            .unwrap_or_else(|e| panic!("{fork}: {e:?}"));
    }
}

#[test]
fn beneficiary_that_self_destructs() {
    for fork in [Fork::Homestead, Fork::Shanghai, Fork::Cancun] {
        let reader = addr(0x101);
        let mut pre = world((1..=5).map(|n| (addr(n), eoa(1))));
        let mut doomed = contract(&SUICIDE);
        doomed.balance = U256::from(1_000);
        pre.accounts.insert(coinbase(), doomed);
        pre.accounts.insert(reader, contract(&COINBASE_READER));
        let txs = vec![
            call(fork, addr(1), 0, addr(9), U256::from(1)),
            call(fork, addr(2), 0, coinbase(), U256::ZERO),
            call(fork, addr(3), 0, addr(9), U256::from(1)),
            call(fork, addr(4), 0, reader, U256::ZERO),
            call(fork, addr(5), 0, coinbase(), U256::from(9)),
        ];
        assert_parallel_matches(fork, &pre, &block(fork, txs), REPEATS)
            .unwrap_or_else(|e| panic!("{fork}: {e:?}"));
    }
}

#[test]
fn readers_of_an_aborted_incarnation_wait_for_the_next() {
    let fork = Fork::Cancun;
    let (pre, block) = abort_window_block(fork);
    let out = assert_parallel_matches(fork, &pre, &block, 2).unwrap_or_else(|e| panic!("{e:?}"));
    let slow = addr(0x400);
    assert_eq!(out.post_state.storage(&slow, &U256::from(2)), U256::from(8));
    assert_eq!(
        out.post_state.storage(&slow, &U256::from(108)),
        U256::from(8)
    );
}

/// The index of the transaction a block error names, if it names one.
fn failing_index(
    outcome: &Result<lockstep_spec::types::BlockOutcome, BlockError>,
) -> Option<usize> {
    match outcome {
        Err(BlockError::Transaction { index, .. }) => Some(*index),
        _ => None,
    }
}

#[test]
fn a_block_large_enough_to_share_its_end_reports_as_sequential() {
    // 800 transfers between distinct accounts write 1,600 locations: the workers split the
    // receipts and the state after the run by ranges of transactions, so the gas and blob gas
    // used before a range, and the first error in block order, cross the ranges.
    let fork = Fork::Cancun;
    let size = 800u64;
    let pre = world((0..size).map(|n| (addr(1_000 + n), eoa(1))));
    let transfers = || -> Vec<lockstep_spec::types::Transaction> {
        (0..size)
            .map(|n| call(fork, addr(1_000 + n), 0, addr(5_000 + n), U256::from(1)))
            .collect()
    };
    // Valid, with a blob transaction in the last range: the same receipts and blob gas.
    let mut txs = transfers();
    txs[700].tx_type = TxType::Blob;
    txs[700].max_priority_fee_per_gas = Some(0);
    txs[700].blob_versioned_hashes = vec![blob_hash(), blob_hash()];
    txs[700].max_fee_per_blob_gas = Some(1);
    let valid = assert_parallel_matches(fork, &pre, &block(fork, txs), 2);
    assert_eq!(valid.map(|outcome| outcome.blob_gas_used), Ok(2 << 17));
    // Two invalid transactions past the middle: the lower one is the block's error.
    let mut txs = transfers();
    txs[700].nonce += 5;
    txs[500].nonce += 3;
    let invalid = assert_parallel_matches(fork, &pre, &block(fork, txs), 2);
    assert_eq!(failing_index(&invalid), Some(500));
    // A gas limit that only the gas used by the transactions before it (most of them in
    // lower ranges) pushes over the block's.
    let mut txs = transfers();
    txs[650].gas_limit = 30_000_000 - 650 * 21_000 + 1;
    let over = assert_parallel_matches(fork, &pre, &block(fork, txs), 2);
    assert_eq!(failing_index(&over), Some(650));
}
