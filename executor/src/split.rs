//! The baseline split, for `lockstep bench` (`split:N`): sequential revm's work on a block,
//! exactly as the baseline does it, cut into chunks that run at once on as many threads with
//! no coordination at all, each chunk on its own copy of the state before the block. Not an
//! executor: each chunk runs as if it were alone, and the chunks' states are neither checked
//! against each other nor merged, so the outcome is discarded. What it measures is how revm
//! itself scales across the threads of one process with no executor around it: revm shares
//! its one empty code between threads, whose reference count transactions change (on this
//! project's machine, two processes each running the baseline at once lost nothing, while
//! `split:2` read about 1.5x on `builtin:transfers` in session 19; 1.7-2.2x in session 23).
//! So it is not a bound: lockstep's executors, which hand revm empty code of each worker's
//! own, can pass it.
//!
//! Each sender's transactions stay in one chunk, in block order, so that their nonces follow
//! each other. A transaction that is invalid on its own (one that spends what another chunk's
//! transaction paid it) is counted and passed over; it changes nothing.

use crate::block_end;
use crate::env;
use crate::sequential::{self, TransferPath, Transfers};
use crate::state::{BlockState, PreState};
use crate::sync::{self, AtomicUsize, Ordering};
use alloy_primitives::map::AddressMap;
use lockstep_spec::types::{Block, BlockError, BlockRule, ExecStats};
use lockstep_spec::Fork;

/// Cuts `block`'s transactions into at most `count` chunks (block indexes, in block order):
/// a sender's transactions all go to the chunk its first one went to, and each new sender to
/// the chunk with the fewest transactions so far.
pub fn chunks(block: &Block, count: usize) -> Vec<Vec<usize>> {
    let count = count.max(1);
    let mut chunks: Vec<Vec<usize>> = vec![Vec::new(); count];
    let mut chunk_of: AddressMap<usize> = AddressMap::default();
    for (index, tx) in block.transactions.iter().enumerate() {
        let chunk = *chunk_of.entry(tx.sender).or_insert_with(|| {
            (0..count)
                .min_by_key(|&c| chunks[c].len())
                .unwrap_or_default()
        });
        chunks[chunk].push(index);
    }
    chunks.retain(|chunk| !chunk.is_empty());
    chunks
}

/// Runs `block`'s `chunks` (from [`chunks`]) at once on `threads` threads, each as sequential
/// revm would run its transactions (receipts included; the first chunk also runs the block's
/// system calls before and after the transactions), chunk `i` on `pres[i]`: each chunk its own
/// copy of the state before the block, as a process of its own would hold it (with one copy
/// shared, the chunks would share each contract's code and its reference count). Returns how
/// it went: the transactions passed over as invalid on their own, in `mode`.
pub fn run(
    fork: Fork,
    pres: &[PreState],
    block: &Block,
    chunks: &[Vec<usize>],
    threads: usize,
) -> Result<ExecStats, BlockError> {
    let spec = env::spec_id(fork).ok_or_else(|| BlockError::Block {
        rule: BlockRule::Other,
        message: sequential::unsupported(fork).unwrap_or_default(),
    })?;
    let cfg = env::cfg_env(spec, fork, block);
    let block_env = env::block_env(fork, block);
    let next = AtomicUsize::new(0);
    let invalid = AtomicUsize::new(0);
    let failed = sync::Mutex::new(None);
    sync::run_workers(threads.clamp(1, chunks.len().max(1)), || loop {
        let chunk = next.fetch_add(1, Ordering::Relaxed);
        let (Some(members), Some(pre)) = (chunks.get(chunk), pres.get(chunk)) else {
            return;
        };
        let mut state = BlockState::with_capacity(pre, 2 * members.len() + 16);
        if chunk == 0 {
            if let Err(error) = block_end::pre_block(fork, &mut state, block) {
                *failed.lock() = Some(error);
                return;
            }
        }
        let mut evm = sequential::state_evm(state, cfg.clone(), block_env.clone());
        let mut transfers = TransferPath::from(Transfers::Revm);
        let mut receipts = Vec::with_capacity(members.len());
        let mut cumulative = 0u64;
        for &index in members {
            let Some(tx) = block.transactions.get(index) else {
                continue;
            };
            match sequential::run_and_commit(&mut evm, fork, index, tx, &mut transfers) {
                Ok(result) => {
                    cumulative += result.tx_gas_used();
                    receipts.push(sequential::receipt(tx, &result, cumulative));
                }
                Err(_) => {
                    invalid.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        if chunk == 0 {
            let mut state = evm.ctx.journaled_state.database.0;
            if let Err(error) = block_end::post_block(fork, &mut state, block, &receipts) {
                *failed.lock() = Some(error);
            }
        }
    });
    if let Some(error) = failed.lock().take() {
        return Err(error);
    }
    let invalid = invalid.load(Ordering::Relaxed);
    Ok(ExecStats {
        parallel: chunks.len() > 1,
        incarnations: block.transactions.len() as u64,
        mode: Some(
            format!(
                "split: {} chunks run at once, outcome discarded, {invalid} transactions \
                 invalid on their own",
                chunks.len()
            )
            .into(),
        ),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::Address;
    use lockstep_spec::types::Transaction;

    fn block_of(senders: &[u8]) -> Block {
        Block {
            transactions: senders
                .iter()
                .map(|&s| Transaction::call(Address::repeat_byte(s), Address::ZERO, 0, 21_000, 1))
                .collect(),
            ..Block::default()
        }
    }

    #[test]
    fn chunks_keep_each_sender_whole_and_balance_new_senders() {
        let block = block_of(&[1, 2, 1, 3, 4, 2, 5]);
        let chunks = chunks(&block, 2);
        assert_eq!(chunks, vec![vec![0, 2, 4, 6], vec![1, 3, 5]]);
        // Every transaction is in exactly one chunk, in block order within it.
        let mut all: Vec<usize> = chunks.concat();
        all.sort_unstable();
        assert_eq!(all, (0..7).collect::<Vec<_>>());
    }

    #[test]
    fn chunks_are_never_empty() {
        assert_eq!(chunks(&block_of(&[7, 7, 7]), 4), vec![vec![0, 1, 2]]);
        assert!(chunks(&block_of(&[]), 2).is_empty());
    }
}
