//! The sharded executor and `auto`: every block must produce the sequential outcome at 1, 2
//! and 8 threads, whatever the partition; a wrong partition, forced on purpose, must be
//! caught by validation and repaired by re-execution (the counters show it), and a block
//! whose shards share nothing must be merged without any re-execution.

#![cfg(not(feature = "shuttle"))]

mod common;

use alloy_primitives::{Address, U256};
use common::*;
use lockstep_executor::auto::{AutoExecutor, Choice};
use lockstep_executor::sharded::{self, Batching, ShardedExecutor};
use lockstep_executor::state::PreState;
use lockstep_executor::{sequential, Engine};
use lockstep_spec::types::{Block, BlockError, BlockOutcome, Transaction, TxKind, WorldState};
use lockstep_spec::Fork;

/// Runs `block` with `shards` on `threads` workers, batched as `batching` says.
fn with_shards(
    fork: Fork,
    pre: &WorldState,
    block: &Block,
    threads: usize,
    batching: Batching,
    shards: Vec<Vec<usize>>,
) -> Result<BlockOutcome, BlockError> {
    let prepared = PreState::new(pre, &block.env);
    sharded::execute(fork, &prepared, block, threads, batching, |_| shards)
        .map(|e| e.into_outcome())
}

/// Both ways of batching a shard's transactions.
const BATCHINGS: [Batching; 2] = [Batching::Journal, Batching::PerTransaction];

/// The transactions of a block of `size` dealt in turn to `shards` shards: a partition that
/// ignores every dependency.
fn dealt(size: usize, shards: usize) -> Vec<Vec<usize>> {
    (0..shards)
        .map(|shard| (shard..size).step_by(shards).collect())
        .collect()
}

/// Layouts that ignore every dependency and leave transactions in a pool, claimed while the
/// shards run: the whole block pooled for two shards, and every other transaction pooled
/// beside shards holding the rest dealt in turn.
fn pooled(size: usize) -> [sharded::Layout; 2] {
    let all = sharded::Layout {
        shards: vec![Vec::new(), Vec::new()],
        pool: (0..size).collect(),
    };
    let half = sharded::Layout {
        shards: vec![
            (1..size).step_by(4).collect(),
            (3..size).step_by(4).collect(),
        ],
        pool: (0..size).step_by(2).collect(),
    };
    [all, half]
}

/// Requires the sharded executor and `auto` to match sequential execution at 1, 2 and 8
/// threads, and so the sharded executor with the transactions dealt to two and three
/// shards, or left in a pool, under either batching; returns the sequential outcome.
fn assert_sharded_matches(
    fork: Fork,
    pre: &WorldState,
    block: &Block,
    name: &str,
) -> Result<BlockOutcome, BlockError> {
    let expected = sequential::execute_block(fork, pre, block);
    let size = block.transactions.len();
    for (batching, shards) in BATCHINGS.iter().flat_map(|b| [(*b, 2), (*b, 3)]) {
        let got = with_shards(fork, pre, block, 2, batching, dealt(size, shards));
        assert!(
            same(&expected, &got),
            "{name}: dealt to {shards} shards, {batching:?}, differs from sequential\n\
             sequential: {expected:#?}\nsharded: {got:#?}"
        );
        let layouts = pooled(size);
        for (threads, layout) in [1, 2]
            .into_iter()
            .flat_map(|t| layouts.iter().map(move |l| (t, l)))
        {
            let prepared = PreState::new(pre, &block.env);
            let got = sharded::execute(fork, &prepared, block, threads, batching, |_| {
                layout.clone()
            })
            .map(|e| e.into_outcome());
            assert!(
                same(&expected, &got),
                "{name}: pooled {layout:?} at {threads} threads, {batching:?}, differs \
                 from sequential\nsequential: {expected:#?}\nsharded: {got:#?}"
            );
        }
    }
    for threads in [1, 2, 8] {
        for (label, got) in [
            (
                "sharded",
                ShardedExecutor::new(threads).execute(fork, pre, block),
            ),
            ("auto", AutoExecutor::new(threads).execute(fork, pre, block)),
        ] {
            assert!(
                same(&expected, &got),
                "{name}: {label} at {threads} threads differs from sequential\n\
                 sequential: {expected:#?}\n{label}: {got:#?}"
            );
        }
    }
    expected
}

#[test]
fn a_nonce_chain_split_across_shards_is_repaired() {
    let fork = Fork::Cancun;
    let (a, b, c) = (addr(1), addr(2), addr(3));
    let pre = world([(a, eoa(10)), (b, eoa(10))]);
    // Transaction 1 spends the nonce transaction 0 leaves; transaction 2 pays c from b.
    let txs = vec![
        call(fork, a, 0, b, U256::from(5)),
        call(fork, a, 1, c, U256::from(7)),
        call(fork, b, 0, c, U256::from(11)),
    ];
    let block = block(fork, txs);
    let expected = sequential::execute_block(fork, &pre, &block);
    assert!(expected.is_ok(), "the block must be valid: {expected:?}");
    for (threads, batching) in [1, 2, 8].into_iter().zip(BATCHINGS.iter().cycle()) {
        // The wrong prediction: each transaction alone in a shard.
        let shards = vec![vec![0], vec![1], vec![2]];
        let got = with_shards(fork, &pre, &block, threads, *batching, shards);
        assert!(same(&expected, &got), "{threads} threads: {got:#?}");
        let stats = got.map(|o| o.stats).unwrap_or_default();
        // Transaction 1 saw nonce 0 in its shard, and 2 saw b without its payment.
        assert!(
            stats.aborts >= 2,
            "{threads} threads: no repair counted: {stats:?}"
        );
        assert_eq!(stats.incarnations, 3 + stats.aborts);
    }
}

#[test]
fn hot_slot_calls_dealt_to_every_shard_are_repaired() {
    let fork = Fork::Cancun;
    let counter = addr(0x100);
    let mut pre = world((1..=12).map(|n| (addr(n), eoa(1))));
    pre.accounts.insert(counter, contract(&COUNTER));
    let txs = (1..=12)
        .map(|n| call(fork, addr(n), 0, counter, U256::ZERO))
        .collect();
    let block = block(fork, txs);
    let expected = sequential::execute_block(fork, &pre, &block);
    let outcome = expected.as_ref().expect("the block is valid");
    let slot = outcome.post_state.accounts[&counter].storage[&U256::ZERO];
    assert_eq!(slot, U256::from(12));
    for batching in BATCHINGS {
        let got = with_shards(fork, &pre, &block, 2, batching, dealt(12, 2));
        assert!(same(&expected, &got), "{batching:?}: {got:#?}");
        let aborts = got.map(|o| o.stats.aborts).unwrap_or_default();
        assert!(
            aborts >= 6,
            "{batching:?}: alternate shards must conflict: {aborts} re-executed"
        );
    }
    let _compared = assert_sharded_matches(fork, &pre, &block, "hot slot");
}

/// Requires the sharded executor, with transactions 0 and 2 of `block` in one shard and 1 in
/// another, to give `expected` under either batching, and to count a repair.
fn assert_repaired_in_either_batching(
    fork: Fork,
    pre: &WorldState,
    block: &Block,
    expected: &Result<BlockOutcome, BlockError>,
) {
    for batching in BATCHINGS {
        let got = with_shards(fork, pre, block, 2, batching, vec![vec![0, 2], vec![1]]);
        assert!(same(expected, &got), "{batching:?}: {got:#?}");
        let stats = got.map(|o| o.stats).unwrap_or_default();
        assert!(
            stats.aborts >= 1,
            "{batching:?}: no repair counted: {stats:?}"
        );
    }
}

/// Without call data, sets slot 0 to 1; with any, copies slot 0 to slot 1.
const SET_OR_COPY: [u8; 18] = [
    0x36, 0x60, 0x0a, 0x57, // CALLDATASIZE PUSH1 10 JUMPI
    0x60, 0x01, 0x60, 0x00, 0x55, 0x00, // slot 0 = 1; STOP
    0x5b, 0x60, 0x00, 0x54, 0x60, 0x01, 0x55, 0x00, // JUMPDEST; slot 1 = slot 0; STOP
];

/// A call of `to` with call data, which a shard never takes for a plain transfer: calls
/// like it share revm's journal when batched.
fn call_with_data(fork: Fork, sender: Address, to: Address) -> Transaction {
    let mut tx = call(fork, sender, 0, to, U256::ZERO);
    tx.input = vec![1u8].into();
    tx
}

#[test]
fn a_batch_read_counts_as_read_by_its_last_transaction() {
    let fork = Fork::Cancun;
    let target = addr(0x100);
    let mut pre = world((1..=3).map(|n| (addr(n), eoa(1))));
    pre.accounts.insert(target, contract(&SET_OR_COPY));
    // 0 and 2 copy slot 0, which 1 sets in between: 2 must copy 1. In a shard of 0 and 2
    // batched, only 0 loads slot 0 from the shard's state; 2 finds it in revm's journal.
    let txs = vec![
        call_with_data(fork, addr(1), target),
        call(fork, addr(2), 0, target, U256::ZERO),
        call_with_data(fork, addr(3), target),
    ];
    let block = block(fork, txs);
    let expected = sequential::execute_block(fork, &pre, &block);
    let outcome = expected.as_ref().expect("the block is valid");
    assert_eq!(
        outcome.post_state.accounts[&target].storage[&U256::from(1)],
        U256::from(1)
    );
    assert_repaired_in_either_batching(fork, &pre, &block, &expected);
}

#[test]
fn a_batch_write_counts_as_written_by_its_first_transaction() {
    let fork = Fork::Cancun;
    let (payee, reader) = (addr(0x100), addr(0x101));
    let mut pre = world((1..=3).map(|n| (addr(n), eoa(1))));
    pre.accounts.insert(payee, eoa(0));
    pre.accounts
        .insert(reader, contract(&balance_reader(payee)));
    // 0 pays `payee` (with call data, so through revm), 1 records its balance, 2 runs after
    // 0 in its batch: 1 must see the payment. The batch's write is 0's, not 2's.
    let mut pay = call_with_data(fork, addr(1), payee);
    pay.value = U256::from(5);
    let txs = vec![
        pay,
        call(fork, addr(2), 0, reader, U256::ZERO),
        call_with_data(fork, addr(3), addr(0x102)),
    ];
    let block = block(fork, txs);
    let expected = sequential::execute_block(fork, &pre, &block);
    let outcome = expected.as_ref().expect("the block is valid");
    let seen =
        outcome.post_state.accounts[&reader].storage[&U256::from_be_slice(addr(2).as_slice())];
    assert_eq!(seen, U256::from(5));
    assert_repaired_in_either_batching(fork, &pre, &block, &expected);
}

#[test]
fn batched_calls_of_independent_contracts_merge_without_reexecution() {
    let fork = Fork::Cancun;
    let mut pre = world((1..=8).map(|n| (addr(n), eoa(1))));
    for n in 1..=8 {
        pre.accounts.insert(addr(0x100 + n), contract(&COUNTER));
    }
    let txs = (1..=8)
        .map(|n| call_with_data(fork, addr(n), addr(0x100 + n)))
        .collect();
    let block = block(fork, txs);
    let expected = assert_sharded_matches(fork, &pre, &block, "independent counters");
    assert!(expected.is_ok());
    let got = with_shards(fork, &pre, &block, 2, Batching::Journal, dealt(8, 2));
    assert!(same(&expected, &got), "{got:#?}");
    let stats = got.map(|o| o.stats).unwrap_or_default();
    assert_eq!(stats.aborts, 0, "{stats:?}");
    let mode = stats.mode.unwrap_or_default();
    assert!(mode.contains("no conflict"), "{mode}");
}

#[test]
fn independent_transfers_merge_without_reexecution() {
    for fork in [Fork::Berlin, Fork::Cancun] {
        let pre = world((1..=40).map(|n| (addr(n), eoa(1))));
        let txs = (1..=20)
            .map(|n| call(fork, addr(n), 0, addr(n + 20), U256::from(n)))
            .collect();
        let block = block(fork, txs);
        let expected = assert_sharded_matches(fork, &pre, &block, "transfers");
        assert!(expected.is_ok());
        let got = ShardedExecutor::new(2).execute(fork, &pre, &block);
        let stats = got.map(|o| o.stats).unwrap_or_default();
        assert_eq!(stats.aborts, 0, "{fork}: {stats:?}");
        let mode = stats.mode.unwrap_or_default();
        assert!(mode.contains("no conflict"), "{fork}: {mode}");
    }
}

#[test]
fn contention_blocks_match_sequential() {
    for (fork, seed) in [
        (Fork::Cancun, 1),
        (Fork::London, 7),
        (Fork::Prague, 3),
        (Fork::Homestead, 5),
    ] {
        let (pre, block) = mixed_block(fork, 60, seed);
        let name = format!("{fork} mixed (seed {seed})");
        let _compared = assert_sharded_matches(fork, &pre, &block, &name);
    }
    let (pre, block) = abort_window_block(Fork::Cancun);
    let _compared = assert_sharded_matches(Fork::Cancun, &pre, &block, "abort window");
}

#[test]
fn delegation_conflicts_match_sequential() {
    for fork in [Fork::Prague, Fork::Osaka] {
        for case in delegation::cases(fork) {
            let name = format!("{fork} {}", case.name);
            let _compared = assert_sharded_matches(fork, &case.pre, &case.block, &name);
        }
    }
}

#[test]
fn auto_chooses_from_the_block() {
    let fork = Fork::Cancun;
    // 48 transactions of 200,000 gas: over auto's thresholds of size and gas.
    let pre_world = world((1..=96).map(|n| (addr(n), eoa(1))));
    let transfers: Vec<_> = (1..=48)
        .map(|n| call(fork, addr(n), 0, addr(n + 48), U256::from(n)))
        .collect();
    let auto = AutoExecutor::new(2);

    let small = block(fork, transfers[..3].to_vec());
    let pre = PreState::new(&pre_world, &small.env);
    assert!(matches!(auto.choose(&pre, &small), Choice::Sequential(_)));

    // Enough transactions, but too little gas to pay for waking the workers.
    let mut light = block(fork, transfers.clone());
    for tx in &mut light.transactions {
        tx.gas_limit = 21_000;
    }
    assert!(matches!(auto.choose(&pre, &light), Choice::Sequential(r) if r.contains("Mgas")));

    let wide = block(fork, transfers.clone());
    assert!(matches!(auto.choose(&pre, &wide), Choice::Sharded(s) if s.shard_count() == 2));

    // The same transfers, one of them to the beneficiary: not sharded (that transaction's
    // read of the beneficiary would not hold at settlement), so Block-STM runs the block.
    let mut to_beneficiary = wide.clone();
    to_beneficiary.transactions[5].kind = TxKind::Call(coinbase());
    assert!(matches!(
        auto.choose(&pre, &to_beneficiary),
        Choice::BlockStm(r) if r.contains("beneficiary")
    ));
    let expected = sequential::execute_block(fork, &pre_world, &to_beneficiary);
    assert!(expected.is_ok(), "{expected:?}");
    for threads in [1, 2, 8] {
        let got = AutoExecutor::new(threads).execute(fork, &pre_world, &to_beneficiary);
        assert!(same(&expected, &got), "{threads} threads: {got:#?}");
    }

    // Calls of five contracts, each with its own input: a mixed block goes to Block-STM.
    let mut mixed_world = pre_world.clone();
    for c in 0..5u64 {
        mixed_world
            .accounts
            .insert(addr(0x200 + c), contract(&COUNTER));
    }
    let mixed: Vec<_> = (1..=48u64)
        .map(|n| {
            let mut tx = call(fork, addr(n), 0, addr(0x200 + n % 5), U256::ZERO);
            tx.input = vec![n as u8].into();
            tx
        })
        .collect();
    let mixed = block(fork, mixed);
    let mixed_pre = PreState::new(&mixed_world, &mixed.env);
    assert!(matches!(
        auto.choose(&mixed_pre, &mixed),
        Choice::BlockStm(_)
    ));
    let expected = sequential::execute_block(fork, &mixed_world, &mixed);
    for threads in [1, 2, 8] {
        let got = AutoExecutor::new(threads).execute(fork, &mixed_world, &mixed);
        assert!(same(&expected, &got), "{threads} threads: {got:#?}");
        let mode = got
            .map(|o| o.stats.mode.unwrap_or_default())
            .unwrap_or_default();
        assert!(mode.starts_with("auto: Block-STM"), "{mode}");
    }

    // The same mixed calls, a third of them from one sender: its nonce chain runs in order
    // in one shard rather than waiting transaction by transaction in Block-STM.
    let mut chained = mixed.clone();
    for (nonce, tx) in chained.transactions.iter_mut().take(16).enumerate() {
        tx.sender = addr(1);
        tx.nonce = nonce as u64;
    }
    assert!(
        matches!(auto.choose(&mixed_pre, &chained), Choice::Sharded(s) if s.shard_count() == 2)
    );
    let expected = sequential::execute_block(fork, &mixed_world, &chained);
    assert!(expected.is_ok(), "{expected:?}");
    for threads in [1, 2, 8] {
        let got = AutoExecutor::new(threads).execute(fork, &mixed_world, &chained);
        assert!(same(&expected, &got), "{threads} threads: {got:#?}");
    }

    // One sender's nonce chain of transfers: one group holds all the gas, run sequentially
    // (its plain transfers without revm's handler).
    let chain: Vec<_> = (0..48)
        .map(|nonce| call(fork, addr(1), nonce, addr(30), U256::from(1)))
        .collect();
    let chain = block(fork, chain);
    assert!(matches!(
        auto.choose(&pre, &chain),
        Choice::Sequential(r) if r.contains("one sender")
    ));
    let expected = sequential::execute_block(fork, &pre_world, &chain);
    let got = auto.execute(fork, &pre_world, &chain);
    assert!(same(&expected, &got), "{got:#?}");

    // One sender's chain of distinct calls of a contract: it dominates, run sequentially.
    let calls: Vec<_> = (0..48u64)
        .map(|nonce| {
            let mut tx = call(fork, addr(1), nonce, addr(0x200), U256::ZERO);
            tx.input = vec![nonce as u8].into();
            tx
        })
        .collect();
    let calls = block(fork, calls);
    assert!(matches!(
        auto.choose(&mixed_pre, &calls),
        Choice::Sequential(r) if r.contains("one sender")
    ));

    // Four senders paying one recipient, under Homestead:
    // the partition finds one group, run sequentially.
    let homestead = Fork::Homestead;
    let paying: Vec<_> = (0..48u64)
        .map(|n| call(homestead, addr(1 + n % 4), n / 4, addr(90), U256::from(1)))
        .collect();
    let paying = block(homestead, paying);
    let paying_pre = PreState::new(&pre_world, &paying.env);
    assert!(matches!(
        auto.choose(&paying_pre, &paying),
        Choice::Sequential(r) if r.contains("group")
    ));

    // The same call to one contract from everyone: a hot slot.
    let counter = addr(0x100);
    let mut hot_world = pre_world.clone();
    hot_world.accounts.insert(counter, contract(&COUNTER));
    let hot: Vec<_> = (1..=48)
        .map(|n| call(fork, addr(n), 0, counter, U256::ZERO))
        .collect();
    let hot = block(fork, hot);
    let hot_pre = PreState::new(&hot_world, &hot.env);
    assert!(matches!(auto.choose(&hot_pre, &hot), Choice::Sequential(r) if r.contains("repeat")));
    let outcome = auto.execute(fork, &hot_world, &hot);
    let mode = outcome
        .map(|o| o.stats.mode.unwrap_or_default())
        .unwrap_or_default();
    assert!(mode.starts_with("auto: sequential"), "{mode}");
}
