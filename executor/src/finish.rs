//! The end of a Block-STM run, on the workers that ran it: each transaction's receipt from its
//! final output, checked against the block's limits in block order, and the state after the
//! block from the final write sets ([`crate::materialize`]).
//!
//! The work goes in two phases with a barrier between. First each worker takes a contiguous
//! range of the transactions: their outputs, the gas they used, and their write sets, whose
//! writes it sorts by the worker owning each one's part of the state. Then each worker knows
//! the gas used before its range, so it checks the limits and builds the receipts of its range,
//! and it applies the writes of its own parts, every range's share in turn, which is block
//! order; then it frees pieces of what the run kept (read sets, the multi-version memory's
//! table) as they come, so that a worker with less to apply frees more. After a second
//! barrier (no one reads another's write sets any more) each frees its range's write sets.
//!
//! When one worker read every write set and kept the writes of its parts, the state took as
//! long to build on two workers as on one (0.93 and 0.95 ms on `builtin:transfers`), and the
//! receipts and the freeing (0.19 ms) were not shared at all.

use crate::block_stm::Finished;
use crate::materialize::{self, Deal, Write};
use crate::phases::Timer;
use crate::prefetch;
use crate::sequential::{self, GAS_PER_BLOB};
use crate::state::{BlockState, Part};
use crate::sync::{self, AtomicUsize, Barrier, Mutex, Ordering, RwLock};
use crate::vm::TxOutput;
use lockstep_spec::types::{Block, BlockError, BlockRule, Receipt};
use lockstep_spec::Fork;
use std::any::Any;
use std::panic::{self, AssertUnwindSafe};

/// Writes of the block per worker sharing the end of the run, at least: a helper thread costs
/// a wake-up, so only blocks with many writes share the work. Under shuttle every block
/// shares it, so that the schedules explored cover the phases and their barriers.
const WRITES_PER_WORKER: u64 = if cfg!(feature = "shuttle") { 1 } else { 1024 };

/// The receipts of a valid block's transactions and what they used.
#[derive(Debug)]
pub struct Receipts {
    /// Per transaction, its receipt.
    pub receipts: Vec<Receipt>,
    /// Per transaction, the gas it used.
    pub gas_used: Vec<u64>,
    /// The blob gas of the whole block.
    pub blob_gas_used: u64,
}

/// What the first phase leaves of one range of transactions for every worker.
#[derive(Debug, Default)]
struct Range {
    /// The range's write sets, in block order.
    sets: Vec<Vec<Write>>,
    /// Per worker, where the writes of its parts are: (transaction within the range, write
    /// within its set), in block order.
    shares: Vec<Vec<(u32, u32)>>,
    /// Gas used by the range's transactions (meaningless past an invalid one, whose error
    /// comes first anyway).
    gas: u64,
    /// Blob gas of the range's transactions.
    blob_gas: u64,
}

/// What one worker made of its range of transactions: its receipts and gas, or the first
/// error of the range.
type RangeReceipts = Result<(Vec<Receipt>, Vec<u64>), BlockError>;

/// Builds the receipts of the finished run of `block` and applies its final writes to `state`
/// on up to `threads` workers. `keep_wiped` leaves the storage resets out (the
/// `KeepWipedStorage` fault; always false in a normal build). On an error (the first in block
/// order, as sequential execution reports it) `state` is left partly written.
pub fn finish(
    fork: Fork,
    block: &Block,
    state: &mut BlockState<'_>,
    run: Finished,
    threads: usize,
    keep_wiped: bool,
) -> Result<Receipts, BlockError> {
    let size = run.len();
    let writes: u64 = run.writes_per_part().iter().sum();
    let workers = threads
        .clamp(1, crate::state::PARTS)
        .min(writes.div_ceil(WRITES_PER_WORKER).max(1) as usize)
        .min(size.max(1));
    let (deal, owned) = Deal::out(state, run.writes_per_part(), workers);
    let owned: Vec<Mutex<Vec<Part>>> = owned.into_iter().map(Mutex::new).collect();
    let ranges: Vec<RwLock<Range>> = (0..workers).map(|_| RwLock::default()).collect();
    let results: Vec<Mutex<Option<RangeReceipts>>> =
        (0..workers).map(|_| Mutex::new(None)).collect();
    let sorted = Barrier::new(workers);
    let applied = Barrier::new(workers);
    let panic: Mutex<Option<Box<dyn Any + Send>>> = Mutex::new(None);
    let next_worker = AtomicUsize::new(0);
    let next_release = AtomicUsize::new(0);
    let shared = Shared {
        fork,
        block,
        state,
        run: &run,
        deal: &deal,
        ranges: &ranges,
        sorted: &sorted,
        applied: &applied,
        next_release: &next_release,
        keep_wiped,
    };
    let work = || {
        let worker = next_worker.fetch_add(1, Ordering::Relaxed);
        let Some(mine) = owned.get(worker) else {
            return;
        };
        let span = worker * size / workers..(worker + 1) * size / workers;
        let ran = panic::catch_unwind(AssertUnwindSafe(|| {
            shared.work(worker, span, &mut mine.lock())
        }));
        match ran {
            Ok(receipts) => *results[worker].lock() = receipts,
            Err(payload) => {
                sorted.abandon();
                applied.abandon();
                panic.lock().get_or_insert(payload);
            }
        }
    };
    sync::run_workers(workers, work);
    if let Some(payload) = panic.into_inner() {
        panic::resume_unwind(payload);
    }
    deal.gather(
        state,
        owned.into_iter().map(Mutex::into_inner).collect::<Vec<_>>(),
    );
    let blob_gas_used = ranges.iter().map(|range| range.read().blob_gas).sum();
    let mut receipts = Vec::with_capacity(size);
    let mut gas_used = Vec::with_capacity(size);
    for result in results {
        let Some(result) = result.into_inner() else {
            return Err(no_output(receipts.len()));
        };
        let (mut range_receipts, mut range_gas) = result?;
        receipts.append(&mut range_receipts);
        gas_used.append(&mut range_gas);
    }
    Ok(Receipts {
        receipts,
        gas_used,
        blob_gas_used,
    })
}

/// What every worker of [`finish`] reads.
struct Shared<'s, 'a> {
    fork: Fork,
    block: &'s Block,
    state: &'s BlockState<'a>,
    run: &'s Finished,
    deal: &'s Deal,
    ranges: &'s [RwLock<Range>],
    sorted: &'s Barrier,
    applied: &'s Barrier,
    /// The next piece of the run's memory to free ([`Finished::release`]).
    next_release: &'s AtomicUsize,
    keep_wiped: bool,
}

impl Shared<'_, '_> {
    /// Worker `worker`'s part: the transactions of `span` and the parts `mine`. `None` when
    /// another worker gave up.
    fn work(
        &self,
        worker: usize,
        span: std::ops::Range<usize>,
        mine: &mut [Part],
    ) -> Option<RangeReceipts> {
        let mut timer = Timer::start();
        let outputs = self.sort(worker, span.clone());
        timer.lap_of("finish.sort", worker);
        if !self.sorted.wait() {
            return None;
        }
        timer.lap_of("finish.wait-sorted", worker);
        let receipts = self.receipts(worker, span.clone(), outputs);
        timer.lap_of("finish.receipts", worker);
        {
            let ranges: Vec<_> = self.ranges.iter().map(RwLock::read).collect();
            let writes = ranges.iter().flat_map(|range| {
                range
                    .shares
                    .get(worker)
                    .into_iter()
                    .flatten()
                    .filter_map(|&(tx, at)| range.sets.get(tx as usize)?.get(at as usize))
            });
            materialize::apply_in_order(
                self.fork,
                self.state.pre(),
                self.deal,
                mine,
                self.run.lazy_location(),
                // The write sets were made during the run, on either core: each missed the
                // cache here, about once per write.
                prefetch::Ahead::new(writes),
                self.keep_wiped,
            );
        }
        timer.lap_of("finish.apply", worker);
        // What the run kept and no one reads any more goes now, a piece at a time to whichever
        // worker comes for it: one with less to apply (the parts other than a token's) frees
        // more while the others still apply.
        loop {
            let piece = self.next_release.fetch_add(1, Ordering::Relaxed);
            if piece >= self.run.release_pieces() {
                break;
            }
            self.run.release(piece);
        }
        timer.lap_of("finish.release", worker);
        if !self.applied.wait() {
            return None;
        }
        timer.lap_of("finish.wait-applied", worker);
        // Each range's write sets on its own worker, once every worker has applied its
        // writes; the gas stays for the sum.
        let sets = std::mem::take(&mut self.ranges[worker].write().sets);
        drop(sets);
        timer.lap_of("finish.drop-write-sets", worker);
        Some(receipts)
    }

    /// About how many writes of a range of `len` transactions fall in the parts of worker
    /// `owner`: its parts' share of the block's writes counted by the run, plus one fee per
    /// transaction if it holds the beneficiary's part, and a little room (the shares grew
    /// by doubling: 13% of the first phase on `builtin:transfers`).
    fn expected_share(&self, owner: usize, len: usize) -> usize {
        let size = self.run.len().max(1) as u64;
        let counted: u64 = self
            .run
            .writes_per_part()
            .iter()
            .enumerate()
            .filter(|(part, _)| self.deal.owner[*part] == owner)
            .map(|(_, writes)| writes)
            .sum();
        let fees = if self.deal.owner_of(&self.run.lazy_location()) == owner {
            size
        } else {
            0
        };
        let expected = (counted + fees) * len as u64 / size;
        (expected + expected / 8 + 8) as usize
    }

    /// The first phase for the transactions of `span`: takes their outputs (returned) and
    /// write sets, and publishes the write sets sorted by owner with the range's gas.
    fn sort(&self, worker: usize, span: std::ops::Range<usize>) -> Vec<Option<TxOutput>> {
        let workers = self.ranges.len();
        let mut range = Range {
            sets: Vec::with_capacity(span.len()),
            shares: (0..workers)
                .map(|owner| Vec::with_capacity(self.expected_share(owner, span.len())))
                .collect(),
            ..Range::default()
        };
        let mut outputs = Vec::with_capacity(span.len());
        for (at, tx) in span.enumerate() {
            let output = self.run.take_output(tx);
            if let Some(Ok(result)) = output.as_ref().map(|output| &output.result) {
                range.gas = range.gas.saturating_add(result.tx_gas_used());
            }
            if let Some(tx) = self.block.transactions.get(tx) {
                range.blob_gas += tx.blob_versioned_hashes.len() as u64 * GAS_PER_BLOB;
            }
            outputs.push(output);
            let set = self.run.take_writes(tx);
            for (index, (location, _)) in set.iter().enumerate() {
                range.shares[self.deal.owner_of(location)].push((at as u32, index as u32));
            }
            range.sets.push(set);
        }
        *self.ranges[worker].write() = range;
        outputs
    }

    /// The receipts of the transactions from `span.start` on, whose `outputs` these are,
    /// with the gas used before them read from the lower ranges: the first error among them
    /// as sequential execution would report it (a block limit before the transaction's own
    /// error).
    fn receipts(
        &self,
        worker: usize,
        span: std::ops::Range<usize>,
        outputs: Vec<Option<TxOutput>>,
    ) -> RangeReceipts {
        let (mut cumulative, mut blob_gas_used) = self.ranges[..worker]
            .iter()
            .map(|range| {
                let range = range.read();
                (range.gas, range.blob_gas)
            })
            .fold((0u64, 0u64), |(gas, blob), (g, b)| {
                (gas.saturating_add(g), blob.saturating_add(b))
            });
        let mut receipts = Vec::with_capacity(outputs.len());
        let mut gas_used = Vec::with_capacity(outputs.len());
        let txs = self
            .block
            .transactions
            .get(span.clone())
            .unwrap_or_default();
        for ((index, tx), output) in span.zip(txs).zip(outputs) {
            sequential::check_block_limits(
                self.fork,
                self.block,
                index,
                tx,
                cumulative,
                blob_gas_used,
            )?;
            let Some(TxOutput { result }) = output else {
                return Err(no_output(index));
            };
            let result = result?;
            let used = result.tx_gas_used();
            cumulative += used;
            blob_gas_used += tx.blob_versioned_hashes.len() as u64 * GAS_PER_BLOB;
            receipts.push(sequential::receipt(tx, &result, cumulative));
            gas_used.push(used);
        }
        Ok((receipts, gas_used))
    }
}

/// The error of a transaction the run left without an output (it broke its own invariants).
fn no_output(index: usize) -> BlockError {
    BlockError::Block {
        rule: BlockRule::Other,
        message: format!("parallel executor: transaction {index} has no final output"),
    }
}
