//! Rough throughput figures (ignored by default; benchmarks proper are `lockstep bench` runs):
//! `cargo test --release -p lockstep-executor --test throughput -- --ignored --nocapture`.

#![cfg(not(feature = "shuttle"))]

mod common;

use alloy_primitives::U256;
use common::*;
use lockstep_executor::{sequential, ParallelExecutor};
use lockstep_spec::types::{Block, BlockError, BlockOutcome, WorldState};
use lockstep_spec::Fork;
use std::time::Instant;

fn measure(name: &str, fork: Fork, pre: &WorldState, block: &Block) {
    let mut block = block.clone();
    block.env.gas_limit = u64::MAX / 4;
    let block = &block;
    // The best of three runs of each, to damp the noise of a shared machine.
    let best = |run: &dyn Fn() -> Result<BlockOutcome, BlockError>| {
        let mut best = None;
        let mut result = None;
        for _ in 0..3 {
            let started = Instant::now();
            result = Some(run());
            let elapsed = started.elapsed();
            best = Some(best.map_or(elapsed, |b: std::time::Duration| b.min(elapsed)));
        }
        (result.unwrap_or_else(run), best.unwrap_or_default())
    };
    let (expected, sequential_time) = best(&|| sequential::execute_block(fork, pre, block));
    for threads in [1, 2, 4] {
        let (got, elapsed) = best(&|| ParallelExecutor::new(threads).execute(fork, pre, block));
        assert!(same(&expected, &got), "{name}: parallel differs");
        let stats = match got {
            Ok(outcome) => outcome.stats,
            Err(error) => panic!("{name}: the block is invalid: {error:?}"),
        };
        println!(
            "{name:<24} threads {threads}: sequential {sequential_time:>10.2?} parallel {elapsed:>10.2?} \
             speedup {:.2}x  incarnations {} aborts {} validations {} waits {}",
            sequential_time.as_secs_f64() / elapsed.as_secs_f64(),
            stats.incarnations,
            stats.aborts,
            stats.validations,
            stats.dependency_waits
        );
    }
}

#[test]
#[ignore = "prints figures; run on demand in release"]
fn figures() {
    let fork = Fork::Cancun;
    // Independent transfers: distinct senders and recipients.
    let size = 5_000u64;
    let pre = world((0..size).map(|n| (addr(n), eoa(1))));
    let txs = (0..size)
        .map(|n| call(fork, addr(n), 0, addr(1_000_000 + n), U256::from(1)))
        .collect();
    measure("independent transfers", fork, &pre, &block(fork, txs));

    // Every transaction writes the same slot.
    let counter = addr(0x10_0000);
    let mut pre = world((0..1_000).map(|n| (addr(n), eoa(1))));
    pre.accounts.insert(counter, contract(&COUNTER));
    let txs = (0..1_000)
        .map(|n| call(fork, addr(n), 0, counter, U256::ZERO))
        .collect();
    measure("hot slot", fork, &pre, &block(fork, txs));

    let (pre, block) = mixed_block(fork, 1_000, 5);
    measure("mixed contention", fork, &pre, &block);
}
