//! The bench's split baseline ([`lockstep_executor::split`]): it runs every chunk's
//! transactions as sequential revm would, counts those that are invalid on their own, and
//! leaves every transaction in exactly one chunk.

#![cfg(not(feature = "shuttle"))]

mod common;

use alloy_primitives::U256;
use common::*;
use lockstep_executor::split;
use lockstep_executor::state::PreState;
use lockstep_spec::Fork;

fn invalid_in(mode: Option<&str>) -> Option<usize> {
    let mode = mode?;
    let (_, after) = mode.split_once("outcome discarded, ")?;
    after.split_whitespace().next()?.parse().ok()
}

#[test]
fn independent_transfers_all_run_and_a_spend_of_another_chunks_payment_is_counted() {
    let fork = Fork::Cancun;
    // Senders 1..=3 fund recipients 101..=103; then 101, funded only by sender 1's payment,
    // spends it. New senders go to the chunk with fewer transactions: 1 and 3 to the first,
    // 2 and then 101 to the second, where 101's spend is invalid (it has no balance before
    // the block).
    let mut pre = world((1..=3).map(|n| (addr(n), eoa(1))));
    add_request_stubs(fork, &mut pre);
    let ether = U256::from(10u64).pow(U256::from(18u64));
    let mut txs: Vec<_> = (1..=3)
        .map(|n| call(fork, addr(n), 0, addr(100 + n), ether / U256::from(2)))
        .collect();
    txs.push(call(fork, addr(101), 0, addr(200), U256::from(1)));
    let block = block(fork, txs);
    let chunks = split::chunks(&block, 2);
    assert_eq!(chunks.len(), 2);
    let first = |tx: usize| chunks.iter().position(|c| c.contains(&tx));
    assert_ne!(first(0), first(3), "the spender's chunk is not its payer's");

    let prepared = PreState::new(&pre, &block.env);
    let pres = [
        PreState::new(&pre, &block.env),
        PreState::new(&pre, &block.env),
    ];
    for threads in [1, 2, 3] {
        let stats = split::run(fork, &pres, &block, &chunks, threads)
            .unwrap_or_else(|e| panic!("split on {threads} threads: {e}"));
        assert!(stats.parallel);
        assert_eq!(stats.incarnations, 4);
        assert_eq!(
            invalid_in(stats.mode.as_deref()),
            Some(1),
            "{:?}",
            stats.mode
        );
    }
    // Sequential execution runs the same block with every transaction valid.
    assert!(lockstep_executor::sequential::execute(fork, &prepared, &block).is_ok());
}
