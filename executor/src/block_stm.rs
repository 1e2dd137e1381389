//! The worker loop of Block-STM (algorithm 1 of the paper): every thread takes execution and
//! validation tasks from the scheduler until the block is done. An incarnation that meets an
//! unfinished dependency is parked on it (the thread moves on to other work); a failed
//! validation marks the incarnation's writes as ESTIMATEs and schedules the next incarnation.

use crate::contention;
use crate::fast_hash::PreHashed;
use crate::mv_memory::{Incarnation, Location, MvMemory, TxIdx, Value, Version};
use crate::scheduler::{Scheduler, Task, Worker};
use crate::state::{self, PARTS};
use crate::stats::{Counters, Tally};
use crate::sync::{self, Aligned, AtomicBool, Mutex, Ordering};
use crate::vm::{self, BlockContext, Execution, ReadEntry, TxOutput, Vm};
use lockstep_spec::types::TxKind;
use smallvec::SmallVec;
use std::any::Any;
use std::collections::HashMap;
use std::panic::{self, AssertUnwindSafe};

/// Reads a transaction's slot holds without an allocation: a plain transfer's two (its
/// sender, and its recipient's base).
const INLINE_READS: usize = 2;

/// What a transaction's latest finished incarnation read and produced, in one slot (one lock
/// per transaction; the slots are new memory in every block).
#[derive(Debug, Default)]
struct Latest {
    /// The read set, copied in from the worker's buffer: a plain transfer's two reads stay
    /// in the slot, with no allocation to make in the worker and free at the end of the run.
    reads: SmallVec<[ReadEntry; INLINE_READS]>,
    /// The output, with the incarnation that produced it (boxed as the incarnation made it:
    /// inline it would add two cache lines to every slot, and measured no faster).
    output: Option<(Incarnation, Box<TxOutput>)>,
}

/// The shared state of one parallel run.
struct Run<'a> {
    ctx: &'a BlockContext<'a>,
    mv: MvMemory,
    scheduler: Scheduler,
    /// Per transaction, the read set and output of its latest incarnation, on cache lines of
    /// their own (neighbouring transactions run on different cores).
    latest: Vec<Aligned<Mutex<Latest>>>,
    counters: Counters,
    /// Set when a worker panicked, or when the run gave up on contention: the others stop
    /// instead of waiting for its task forever.
    halted: AtomicBool,
    /// Whether the run may give up on a block whose transactions keep aborting.
    may_give_up: bool,
    /// How many workers run the block.
    workers: usize,
    /// Per transaction, the block's previous transaction predicted to write an account it
    /// writes ([`predict`]).
    depends_on: Vec<Option<TxIdx>>,
    /// Set when it did.
    gave_up: AtomicBool,
    panic: Mutex<Option<Box<dyn Any + Send>>>,
    /// Writes of the finished incarnations per part of the block's state (each worker adds
    /// its count when it stops): how the materialisation shares the parts among its workers.
    writes_per_part: Mutex<[u64; PARTS]>,
}

impl Run<'_> {
    fn try_execute(
        &self,
        vm: &mut Vm<'_>,
        worker: &mut Worker,
        tally: &mut Tally<'_>,
        writes_per_part: &mut [u64; PARTS],
        version: Version,
    ) -> Option<Task> {
        // The transactions of one sender form a nonce chain known before running, and plain
        // transfers to one account a chain of balances: a transaction whose predicted
        // dependency has not executed waits for it instead of running on a nonce or balance
        // that transaction has not written yet (and aborting).
        if let Some(previous) = self.depends_on.get(version.tx).copied().flatten() {
            if self.scheduler.add_dependency(version.tx, previous) {
                tally.dependency_wait();
                return None;
            }
        }
        if let Some(next) = worker.upcoming() {
            self.prefetch(next);
        }
        loop {
            tally.incarnation();
            match vm.execute(version.tx) {
                Execution::Blocked(blocking) => {
                    invariant!(
                        blocking < version.tx,
                        "transaction {} depends on {blocking}, which is not lower",
                        version.tx
                    );
                    if self.scheduler.add_dependency(version.tx, blocking) {
                        tally.dependency_wait();
                        tally.abort();
                        return None;
                    }
                    // The blocker finished meanwhile: run again at once.
                }
                Execution::Done {
                    mut reads,
                    writes,
                    output,
                } => {
                    // The beneficiary's fees are summed as they are applied, nearly free: not
                    // counted.
                    let lazy = self.mv.lazy_location();
                    for (location, value) in &writes {
                        if !(matches!(value, Value::Fee(_)) && *location == lazy) {
                            writes_per_part[state::part_of(&location.address())] += 1;
                        }
                    }
                    let previous = {
                        let mut latest = self.latest[version.tx].lock();
                        latest.reads.clear();
                        // One push per read, which stays inline: `SmallVec::extend` became
                        // a call of its own here when the scheduler grew (callgrind).
                        for read in reads.drain(..) {
                            latest.reads.push(read);
                        }
                        latest.output.replace((version.incarnation, output))
                    };
                    vm.recycle(reads);
                    invariant!(
                        previous.is_none_or(|(p, _)| p < version.incarnation),
                        "incarnations of transaction {} must increase",
                        version.tx
                    );
                    let wrote_new_location = self.mv.record(version, writes);
                    return self
                        .scheduler
                        .finish_execution(version, wrote_new_location, worker);
                }
            }
        }
    }

    /// Starts fetching the filter slots of the accounts transaction `tx` names (its sender,
    /// and the account it calls or pays), so that its reads, one transaction later, find
    /// them in the cache: the filter is one slot per location spread over a megabyte or more,
    /// and these reads missed the cache about once per transaction.
    fn prefetch(&self, tx: TxIdx) {
        if let Some(tx) = self.ctx.txs.get(tx) {
            self.mv.prefetch(&Location::Account(tx.sender));
            if let TxKind::Call(to) = tx.kind {
                self.mv.prefetch(&Location::Account(to));
            }
        }
    }

    fn needs_reexecution(
        &self,
        worker: &mut Worker,
        tally: &mut Tally<'_>,
        version: Version,
    ) -> Option<Task> {
        tally.validation();
        let valid = {
            let latest = self.latest[version.tx].lock();
            vm::validate(self.ctx, &self.mv, version.tx, &latest.reads)
        };
        #[cfg(feature = "faults")]
        let valid = valid || self.ctx.has_fault(crate::faults::Fault::SkipValidation);
        let aborted = !valid && self.scheduler.try_validation_abort(version);
        if aborted {
            self.failed_validation(tally);
            self.mark_estimates(version.tx);
        }
        self.scheduler
            .finish_validation(version.tx, aborted, worker)
    }

    /// Turns the writes of `tx`'s aborted incarnation into ESTIMATEs, so that readers wait
    /// for its next incarnation instead of validating against values about to change.
    fn mark_estimates(&self, tx: TxIdx) {
        #[cfg(feature = "faults")]
        if self.ctx.has_fault(crate::faults::Fault::NoEstimates) {
            return;
        }
        self.mv.convert_writes_to_estimates(tx);
    }

    /// Counts an incarnation aborted by a failed validation; when giving up is allowed and
    /// more than two in five incarnations so far failed validation (past a small start),
    /// stops the run: the block is too contended for optimistic execution to pay. Aborts on
    /// an ESTIMATE do not count: they stop an incarnation at its first stale read, wasting
    /// little, and a run where one lower transaction is re-executed parks many of them at
    /// once (measured on mainnet 15,538,827: runs that finish at 1.3x with a third of their
    /// incarnations aborted that way).
    fn failed_validation(&self, tally: &mut Tally<'_>) {
        tally.failed_validation();
        // The other workers' tallies may not be added yet: count them as full, so that a run
        // does not give up on incarnations it has not seen.
        let unseen = (self.workers as u64 - 1) * crate::stats::FLUSH_EVERY;
        let incarnations = self.counters.incarnations() + unseen;
        if self.may_give_up && too_contended(self.counters.failed_validations(), incarnations) {
            self.gave_up.store(true, Ordering::SeqCst);
            self.halted.store(true, Ordering::SeqCst);
        }
    }

    fn work(&self) {
        if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| self.work_until_done())) {
            self.halted.store(true, Ordering::SeqCst);
            self.panic.lock().get_or_insert(payload);
        }
    }

    fn work_until_done(&self) {
        let mut vm = Vm::new(self.ctx, &self.mv);
        let mut worker = self.scheduler.worker();
        let mut tally = self.counters.tally();
        let mut writes_per_part = [0u64; PARTS];
        let mut task = None;
        let mut idle_polls = 0;
        while !self.scheduler.done() && !self.halted.load(Ordering::SeqCst) {
            task = match task {
                Some(Task::Execute(version)) => self.try_execute(
                    &mut vm,
                    &mut worker,
                    &mut tally,
                    &mut writes_per_part,
                    version,
                ),
                Some(Task::Validate(version)) => {
                    self.needs_reexecution(&mut worker, &mut tally, version)
                }
                None => {
                    let next = self.scheduler.next_task(&mut worker);
                    if next.is_none() {
                        sync::relax(idle_polls, self.workers);
                        idle_polls = idle_polls.saturating_add(1);
                    } else {
                        idle_polls = 0;
                    }
                    next
                }
            };
        }
        let mut total = self.writes_per_part.lock();
        for (total, mine) in total.iter_mut().zip(writes_per_part) {
            *total += mine;
        }
    }
}

/// Incarnations a run may spend before its abort rate can make it give up.
const GIVE_UP_GRACE: u64 = 32;

/// Whether a run with `aborts` of `incarnations` aborted (by failed validations) should give
/// up: more than two in five, once past the first few incarnations. A serial block aborts
/// about every other incarnation; mainnet blocks with a third of their incarnations aborted
/// still finish faster than sequentially (measured), and giving up wastes what already ran.
pub fn too_contended(aborts: u64, incarnations: u64) -> bool {
    aborts.saturating_mul(5) > incarnations.saturating_mul(2).saturating_add(GIVE_UP_GRACE)
}

/// How a run ended.
#[derive(Debug)]
pub enum Outcome {
    /// Every transaction executed and validated: its final output and writes are in
    /// [`Finished`].
    Done(Box<Finished>),
    /// The run gave up: more than two in five of its incarnations failed validation.
    GaveUp(Box<Counters>),
}

/// What a finished run leaves: each transaction's final output and write set, taken out by
/// the workers that build the block's receipts and state ([`crate::finish`]).
#[derive(Debug)]
pub struct Finished {
    latest: Vec<Aligned<Mutex<Latest>>>,
    mv: MvMemory,
    counters: Counters,
    writes_per_part: [u64; PARTS],
}

impl Finished {
    /// How many transactions the block has.
    pub fn len(&self) -> usize {
        self.latest.len()
    }

    /// Whether the block has no transactions.
    pub fn is_empty(&self) -> bool {
        self.latest.is_empty()
    }

    /// Takes transaction `tx`'s final output (`None` only if the run broke its own
    /// invariants, or it was taken already).
    pub fn take_output(&self, tx: TxIdx) -> Option<TxOutput> {
        let slot = self.latest.get(tx)?;
        let output = slot.lock().output.take();
        output.map(|(_, output)| *output)
    }

    /// Takes transaction `tx`'s final write set (empty once taken).
    pub fn take_writes(&self, tx: TxIdx) -> Vec<(Location, Value)> {
        self.mv.take_writes(tx)
    }

    /// How many pieces freeing what the run kept takes ([`Finished::release`]): the read
    /// sets in chunks of transactions, then the multi-version memory's table by shard.
    pub fn release_pieces(&self) -> usize {
        self.latest.len().div_ceil(RELEASE_CHUNK) + self.mv.shards()
    }

    /// Frees piece `piece` of what the run kept (see [`Finished::release_pieces`]): the
    /// workers that ran the block free it together, each taking pieces as it comes to them.
    pub fn release(&self, piece: usize) {
        let chunks = self.latest.len().div_ceil(RELEASE_CHUNK);
        if piece >= chunks {
            self.mv.release_shard(piece - chunks);
            return;
        }
        let start = piece * RELEASE_CHUNK;
        let end = (start + RELEASE_CHUNK).min(self.latest.len());
        for slot in self.latest.get(start..end).unwrap_or_default() {
            let reads = std::mem::take(&mut slot.lock().reads);
            drop(reads);
        }
    }

    /// The location whose fees are credited lazily (the beneficiary's account).
    pub fn lazy_location(&self) -> Location {
        self.mv.lazy_location()
    }

    /// The run's counters.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// How many writes the final incarnations made per part of the state.
    pub fn writes_per_part(&self) -> &[u64; PARTS] {
        &self.writes_per_part
    }
}

/// What a run allocates for a block of a given size: the multi-version memory, the
/// scheduler's slots and the latest incarnations' slots, a few hundred bytes per transaction
/// and the filter of writers (about three and a half megabytes for 5,000 transfers). It
/// depends on nothing but the block's size and beneficiary, so a helper builds it while the
/// block's set-up runs ([`crate::parallel`]).
pub struct Memory {
    mv: MvMemory,
    scheduler: Scheduler,
    latest: Vec<Aligned<Mutex<Latest>>>,
}

impl Memory {
    /// The memory of a run of `size` transactions whose block pays `beneficiary`.
    pub fn new(size: usize, beneficiary: alloy_primitives::Address) -> Self {
        Memory {
            mv: MvMemory::new(size, Location::Account(beneficiary)),
            scheduler: Scheduler::new(size),
            latest: (0..size).map(|_| Aligned(Mutex::default())).collect(),
        }
    }
}

/// Runs the block's transactions on `threads` threads in `memory` (built for the block),
/// each transaction waiting first for the one `depends_on` names
/// ([`predict`]). With `may_give_up`, a block whose transactions keep
/// aborting is abandoned ([`Outcome::GaveUp`]) so that the caller can run it sequentially.
pub fn run(
    ctx: &BlockContext<'_>,
    memory: Memory,
    depends_on: Vec<Option<TxIdx>>,
    threads: usize,
    may_give_up: bool,
) -> Outcome {
    let size = ctx.txs.len();
    let workers = threads.clamp(1, size.max(1));
    let Memory {
        mv,
        scheduler,
        latest,
    } = memory;
    let run_length = run_length(&depends_on, workers);
    // Chains are followed only one transaction at a time (runs are for blocks of few).
    let successors = if run_length == 1 {
        successors(&depends_on)
    } else {
        Vec::new()
    };
    #[cfg_attr(not(feature = "faults"), allow(unused_mut))]
    let mut scheduler = scheduler
        .with_run_length(run_length)
        .with_successors(successors);
    #[cfg(feature = "faults")]
    {
        scheduler.lose_claimed_validations =
            ctx.has_fault(crate::faults::Fault::LoseClaimedValidations);
    }
    let run = Run {
        ctx,
        mv,
        scheduler,
        latest,
        counters: Counters::default(),
        halted: AtomicBool::new(false),
        may_give_up,
        workers,
        depends_on,
        gave_up: AtomicBool::new(false),
        panic: Mutex::new(None),
        writes_per_part: Mutex::new([0; PARTS]),
    };
    if size > 0 {
        sync::run_workers(run.workers, || run.work());
    }
    // A panic in revm would have panicked sequential execution too: pass it on.
    if let Some(payload) = run.panic.lock().take() {
        panic::resume_unwind(payload);
    }
    if run.gave_up.load(Ordering::SeqCst) {
        return Outcome::GaveUp(Box::new(run.counters));
    }
    if crate::CHECK_INVARIANTS && run.panic.lock().is_none() {
        check_final_invariants(&run);
    }
    let Run {
        latest,
        counters,
        mv,
        writes_per_part,
        ..
    } = run;
    Outcome::Done(Box::new(Finished {
        latest,
        mv,
        counters,
        writes_per_part: writes_per_part.into_inner(),
    }))
}

/// Per transaction, the lowest transaction whose predicted dependency (`depends_on`) it is.
fn successors(depends_on: &[Option<TxIdx>]) -> Vec<Option<TxIdx>> {
    let mut successor = vec![None; depends_on.len()];
    for (tx, previous) in depends_on.iter().enumerate() {
        if let Some(next) = previous.and_then(|previous| successor.get_mut(previous)) {
            next.get_or_insert(tx);
        }
    }
    successor
}

/// How many consecutive transactions a worker claims at once ([`Scheduler::with_runs`]): one
/// when a transaction in sixteen or more waits for a predicted dependency (a run then holds
/// transactions that wait on the other workers' runs), and otherwise enough that each worker
/// still gets about thirty-two runs (so that they finish together), at most sixteen. Under
/// shuttle, runs of two or more in every block of a few transactions per worker, contended
/// or not, so that the schedules explored cover them.
fn run_length(depends_on: &[Option<TxIdx>], workers: usize) -> usize {
    let dependent = depends_on.iter().filter(|d| d.is_some()).count();
    let shuttle = cfg!(feature = "shuttle");
    if workers < 2 || (!shuttle && dependent * 16 >= depends_on.len()) {
        return 1;
    }
    let runs_per_worker = if shuttle { 2 } else { 32 };
    (depends_on.len() / (workers * runs_per_worker)).clamp(1, MAX_RUN)
}

/// Transactions whose read sets one piece of [`Finished::release`] frees.
const RELEASE_CHUNK: usize = 256;

/// The longest run of transactions a worker claims at once.
const MAX_RUN: usize = 16;

/// What is known of a block's transactions before they run: per transaction, whether it
/// credits its recipient ([`crate::transfer::Creditable`]) and the latest earlier one predicted
/// to write an account it writes.
#[derive(Debug)]
pub struct Prediction {
    /// Per transaction, whether it may credit its recipient.
    pub credits: Vec<bool>,
    /// Per transaction, the one it waits for first.
    pub depends_on: Vec<Option<TxIdx>>,
}

/// The [`Prediction`] for `txs`, in one pass over them after the one for their senders. A
/// transaction is predicted to depend on the latest earlier one writing its sender (nonce and
/// balance) and, for a value transfer without call data, its recipient (mainnet blocks pay
/// one deposit address hundreds of times; measured on 15274915, such transfers aborted
/// 640-1,050 of its 1,226 transactions), unless the transfer credits its recipient. The
/// beneficiary is left out: its fees are credited lazily. A wrong prediction costs a wait,
/// never a wrong result: a transaction that waited runs and is validated like any other.
/// (It replaced three passes over the block: the serial set-up of `builtin:transfers` went
/// from 0.31-0.33 to 0.22-0.23 ms.)
pub fn predict(
    txs: &[lockstep_spec::types::Transaction],
    beneficiary: alloy_primitives::Address,
    balances_fit: bool,
) -> Prediction {
    let creditable = crate::transfer::Creditable::new(txs, beneficiary, balances_fit);
    let mut last: HashMap<u64, TxIdx, PreHashed> =
        HashMap::with_capacity_and_hasher(2 * txs.len(), PreHashed);
    let beneficiary = contention::account_key(&beneficiary);
    let mut credits = Vec::with_capacity(txs.len());
    let mut depends_on = Vec::with_capacity(txs.len());
    for (index, tx) in txs.iter().enumerate() {
        let credit = creditable.credits(tx);
        let sender = contention::account_key(&tx.sender);
        let recipient = match tx.kind {
            TxKind::Call(to) if tx.input.is_empty() && !tx.value.is_zero() => {
                Some(contention::account_key(&to)).filter(|r| *r != sender)
            }
            _ => None,
        };
        let mut depends = None;
        if sender != beneficiary {
            depends = last.insert(sender, index);
        }
        if let Some(recipient) = recipient.filter(|r| *r != beneficiary) {
            let previous = last.insert(recipient, index);
            if !credit {
                depends = depends.max(previous);
            }
        }
        credits.push(credit);
        depends_on.push(depends);
    }
    Prediction {
        credits,
        depends_on,
    }
}

/// Block-STM's end-of-block invariants, checked in debug and test builds: no ESTIMATE marker
/// survives, every transaction has an output, and every final read set is still valid against
/// the final multi-version memory (so no transaction was declared done while a lower one
/// could still change what it read).
fn check_final_invariants(run: &Run<'_>) {
    invariant!(
        !run.mv.has_estimates(),
        "an ESTIMATE marker survived the block"
    );
    for tx in 0..run.ctx.txs.len() {
        let latest = run.latest[tx].lock();
        invariant!(
            latest.output.is_some(),
            "transaction {tx} has no output at the end of the block"
        );
        invariant!(
            vm::validate(run.ctx, &run.mv, tx, &latest.reads),
            "transaction {tx}'s final read set is stale at the end of the block"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::{predict, too_contended};
    use alloy_primitives::{Address, Bytes, U256};
    use lockstep_spec::types::Transaction;

    #[test]
    fn predicts_nonce_chains_and_recipient_chains_but_not_credits_or_fees() {
        let a = |n: u8| Address::with_last_byte(n);
        let pay = |from: u8, to: u8, value: u64| {
            let mut tx = Transaction::call(a(from), a(to), 0, 21_000, 1);
            tx.value = U256::from(value);
            tx
        };
        let beneficiary = a(0xbe);
        let mut call = pay(7, 9, 1);
        call.input = Bytes::from_static(&[1]);
        let txs = vec![
            pay(1, 0xde, 5), // 0: to a deposit address that sends nothing
            pay(2, 0xde, 5), // 1: credits it too: no wait on 0
            pay(1, 3, 5),    // 2: sender 1 again: waits on 0
            pay(4, 1, 5),    // 3: pays sender 1, which sends: waits on 2
            pay(5, 0xbe, 5), // 4: to the beneficiary: no credit, no wait on fees
            pay(0xbe, 6, 5), // 5: from the beneficiary: its fees are lazy, no wait
            call.clone(),    // 6: a call with data: no recipient chain
            pay(8, 9, 5),    // 7: pays 9, last written by no transfer: no wait
            pay(10, 9, 0),   // 8: no value: no recipient chain
        ];
        let fits = predict(&txs, beneficiary, true);
        assert_eq!(
            fits.credits,
            [true, true, true, false, false, true, false, true, false]
        );
        assert_eq!(
            fits.depends_on,
            [None, None, Some(0), Some(2), None, None, None, None, None]
        );
        // Where balances may overflow nothing is credited, and payments to one address
        // wait for each other.
        let overflowing = predict(&txs, beneficiary, false);
        assert!(overflowing.credits.iter().all(|c| !c));
        assert_eq!(overflowing.depends_on[1], Some(0));
        assert_eq!(overflowing.depends_on[7], None);
    }

    #[test]
    fn gives_up_past_two_fifths_of_aborts_only_after_a_grace() {
        // Early aborts are tolerated: a few conflicts at the start are normal.
        assert!(!too_contended(10, 10));
        // A serial block aborts about every other incarnation.
        assert!(too_contended(60, 120));
        // A block with a tenth, or a third, of its incarnations aborted keeps going.
        assert!(!too_contended(100, 1_000));
        assert!(!too_contended(333, 1_000));
        assert!(!too_contended(406, 1_000));
        assert!(too_contended(407, 1_000));
    }
}
