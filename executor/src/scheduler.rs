//! The collaborative scheduler of Block-STM (Gelashvili et al. 2022, algorithms 4 and 5): an
//! execution index and a validation index that threads advance to claim tasks, per-transaction
//! incarnation status, dependencies on which an aborted transaction is parked until its
//! blocker finishes, and the detection of the moment every transaction is executed and
//! validated.

use crate::mv_memory::{Incarnation, TxIdx, Version};
use crate::sync::{Aligned, AtomicBool, AtomicUsize, Mutex, Ordering};
use crossbeam_utils::CachePadded;
use std::collections::VecDeque;

/// Where a transaction's latest incarnation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Waiting for a thread to execute it.
    ReadyToExecute,
    /// A thread is executing it.
    Executing,
    /// Executed; its writes are in the multi-version memory.
    Executed,
    /// Aborted (failed validation or parked on a dependency); re-executes as the next
    /// incarnation once it is ready.
    Aborting,
}

/// A transaction's place in the scheduler.
#[derive(Debug)]
struct Slot {
    incarnation: Incarnation,
    status: Status,
    /// The transactions parked on this one until it finishes executing.
    dependents: Vec<TxIdx>,
}

impl Default for Slot {
    fn default() -> Self {
        Slot {
            incarnation: 0,
            status: Status::ReadyToExecute,
            dependents: Vec::new(),
        }
    }
}

/// Work handed to a thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Task {
    /// Execute this incarnation.
    Execute(Version),
    /// Validate the read set of this incarnation.
    Validate(Version),
}

/// One worker's own part of the scheduler: the transactions it claimed for execution in one
/// go and has not started yet, and, when workers claim runs, the runs it executed and the
/// validations it claimed in one go.
#[derive(Debug)]
pub struct Worker {
    /// The next transaction of the claimed run, and the end of the run.
    next: TxIdx,
    end: TxIdx,
    /// Active task slots taken for the run's transactions beyond the one the worker holds
    /// (given back when the run is used up).
    held: usize,
    /// The runs this worker claimed, oldest first, that validation may not have passed yet
    /// (`start..end` each).
    runs: VecDeque<(TxIdx, TxIdx)>,
    /// The next validation of those claimed in one go, the end of them, and the active task
    /// slots held for them beyond the one the worker holds.
    validate_next: TxIdx,
    validate_end: TxIdx,
    validate_held: usize,
}

impl Worker {
    fn has_run(&self) -> bool {
        self.next < self.end
    }

    /// The transaction this worker will execute next, if it has claimed one (the next of its
    /// run).
    pub fn upcoming(&self) -> Option<TxIdx> {
        self.has_run().then_some(self.next)
    }

    fn has_validations(&self) -> bool {
        self.validate_next < self.validate_end
    }

    /// The end of the stretch of transactions from `tx` on that lie in this worker's runs, if
    /// `tx` lies in one: its runs are consecutive in the block where no other worker claimed
    /// a run between them. Forgets the runs wholly below `tx`.
    fn own_stretch(&mut self, tx: TxIdx) -> Option<TxIdx> {
        while self.runs.front().is_some_and(|&(_, end)| end <= tx) {
            self.runs.pop_front();
        }
        let mut runs = self.runs.iter();
        let &(start, mut end) = runs.next()?;
        if tx < start {
            return None;
        }
        for &(next_start, next_end) in runs {
            if next_start != end {
                break;
            }
            end = next_end;
        }
        Some(end)
    }
}

/// The scheduler of one block. Each counter every task touches has a cache line of its own, so
/// that a core bumping one does not take the others' lines away from the other cores.
#[derive(Debug)]
pub struct Scheduler {
    block_size: usize,
    execution_idx: CachePadded<AtomicUsize>,
    validation_idx: CachePadded<AtomicUsize>,
    decrease_cnt: CachePadded<AtomicUsize>,
    num_active_tasks: CachePadded<AtomicUsize>,
    done_marker: CachePadded<AtomicBool>,
    /// Per transaction, its status and those parked on it, under one lock on a cache line of
    /// its own (neighbouring transactions run on different cores; finishing an execution
    /// touches both, and one line moves between the cores instead of two).
    slots: Vec<Aligned<Mutex<Slot>>>,
    /// Per transaction, one more than its highest aborted incarnation (kept only when
    /// invariants are checked): an incarnation is aborted at most once.
    aborted: Vec<AtomicUsize>,
    /// How many consecutive transactions a worker claims for execution at once
    /// ([`Scheduler::with_runs`]).
    run: usize,
    /// Per transaction, the next of its predicted chain, which the worker that finishes it
    /// runs next if no one has claimed it ([`Scheduler::with_successors`]; empty: none).
    successors: Vec<Option<TxIdx>>,
    /// The seeded bug `LoseClaimedValidations` (feature `faults`).
    #[cfg(feature = "faults")]
    pub lose_claimed_validations: bool,
}

impl Scheduler {
    /// A scheduler for a block of `block_size` transactions, all ready for incarnation 0.
    pub fn new(block_size: usize) -> Self {
        Self::with_runs(block_size, 1)
    }

    /// A scheduler whose workers claim runs of `run` consecutive transactions for execution,
    /// and validate (while there is anything left to execute) only what they executed
    /// themselves. With one transaction at a time, neighbouring transactions run on different
    /// cores, and each core validates the other's about half the time: a validation then reads
    /// the read set, status and write set its executor just wrote, each a cache line to fetch
    /// from the other core, and every claim moves the shared indices' lines. A run keeps a
    /// stretch of the block on one core, which validates it where its data already is.
    /// Measured on `builtin:transfers` at 2 threads, the workers' phase of the block: 2.46-2.53
    /// ms one at a time, 2.26 ms in runs of 16 (on `builtin:erc20` 2.45 and 2.27-2.32 ms).
    ///
    /// A worker validates its own after its run, the whole stretch of its runs that the
    /// validation index stands at in one claim, and never locks a transaction another core is
    /// running to see whose it is: claimed one by one, the validation index moved between the
    /// cores on every transaction, and looking at the other core's status lines was the
    /// largest cost the second thread added (a profile at 2 threads against 1: `lock cmpxchg`
    /// on those lines, 59% of the scheduler's task selection). Workers' phase, same block:
    /// 2.32 -> 2.12 ms (phase timer, medians of 60 blocks).
    pub fn with_runs(block_size: usize, run: usize) -> Self {
        Scheduler {
            block_size,
            execution_idx: CachePadded::new(AtomicUsize::new(0)),
            validation_idx: CachePadded::new(AtomicUsize::new(0)),
            decrease_cnt: CachePadded::new(AtomicUsize::new(0)),
            num_active_tasks: CachePadded::new(AtomicUsize::new(0)),
            done_marker: CachePadded::new(AtomicBool::new(block_size == 0)),
            slots: (0..block_size).map(|_| Aligned(Mutex::default())).collect(),
            aborted: if crate::CHECK_INVARIANTS {
                (0..block_size).map(|_| AtomicUsize::new(0)).collect()
            } else {
                Vec::new()
            },
            run: run.max(1),
            successors: Vec::new(),
            #[cfg(feature = "faults")]
            lose_claimed_validations: false,
        }
    }

    /// This scheduler with workers claiming runs of `run` transactions (see
    /// [`Scheduler::with_runs`]).
    pub fn with_run_length(mut self, run: usize) -> Self {
        self.run = run.max(1);
        self
    }

    /// This scheduler with `successors`: per transaction, the next of its predicted chain
    /// (see [`Scheduler::finish_execution`]).
    pub fn with_successors(mut self, successors: Vec<Option<TxIdx>>) -> Self {
        self.successors = successors;
        self
    }

    /// The scheduler's part of a new worker of the block.
    pub fn worker(&self) -> Worker {
        Worker {
            next: 0,
            end: 0,
            held: 0,
            runs: VecDeque::new(),
            validate_next: 0,
            validate_end: 0,
            validate_held: 0,
        }
    }

    /// Whether every transaction is executed and validated.
    pub fn done(&self) -> bool {
        self.done_marker.load(Ordering::SeqCst)
    }

    /// The status of transaction `tx`'s latest incarnation.
    pub fn status(&self, tx: TxIdx) -> (Incarnation, Status) {
        let slot = self.slots[tx].lock();
        (slot.incarnation, slot.status)
    }

    fn decrease_execution_idx(&self, target: TxIdx) {
        self.execution_idx.fetch_min(target, Ordering::SeqCst);
        self.decrease_cnt.fetch_add(1, Ordering::SeqCst);
    }

    fn decrease_validation_idx(&self, target: TxIdx) {
        self.validation_idx.fetch_min(target, Ordering::SeqCst);
        self.decrease_cnt.fetch_add(1, Ordering::SeqCst);
    }

    fn check_done(&self) {
        // The done condition is read between two reads of the decrease counter, so that an
        // index decreased (by a task still in flight) in between is never missed.
        let observed = self.decrease_cnt.load(Ordering::SeqCst);
        let execution = self.execution_idx.load(Ordering::SeqCst);
        let validation = self.validation_idx.load(Ordering::SeqCst);
        if execution.min(validation) >= self.block_size
            && self.num_active_tasks.load(Ordering::SeqCst) == 0
            && observed == self.decrease_cnt.load(Ordering::SeqCst)
        {
            self.done_marker.store(true, Ordering::SeqCst);
        }
    }

    /// Claims transaction `tx` for execution if it is ready; otherwise gives up the active
    /// task slot the caller holds.
    fn try_incarnate(&self, tx: TxIdx) -> Option<Version> {
        let claimed = self.claim_ahead(tx);
        if claimed.is_none() {
            self.release_slot();
        }
        claimed
    }

    /// Claims `tx` for execution if it is ready (not claimed yet, or aborted and not
    /// claimed again), for a caller that keeps its active task slot either way.
    fn claim_ahead(&self, tx: TxIdx) -> Option<Version> {
        let mut slot = self.slots.get(tx)?.lock();
        (slot.status == Status::ReadyToExecute).then(|| {
            slot.status = Status::Executing;
            Version {
                tx,
                incarnation: slot.incarnation,
            }
        })
    }

    /// Gives up the active task slot the caller holds.
    fn release_slot(&self) {
        self.num_active_tasks.fetch_sub(1, Ordering::SeqCst);
    }

    /// Claims the next execution for a caller holding an active task slot, which it gives
    /// up when there is none.
    fn claim_execution(&self, worker: &mut Worker) -> Option<Version> {
        let tx = if worker.has_run() {
            worker.next += 1;
            worker.next - 1
        } else {
            if self.execution_idx.load(Ordering::SeqCst) >= self.block_size {
                self.release_slot();
                self.check_done();
                return None;
            }
            let tx = self.execution_idx.fetch_add(self.run, Ordering::SeqCst);
            let end = (tx + self.run).min(self.block_size);
            if self.run > 1 && tx < end {
                worker.runs.push_back((tx, end));
            }
            if end > tx + 1 {
                // The rest of the run holds active task slots of its own, so that the block
                // does not look done while they wait.
                worker.held = end - tx - 1;
                self.num_active_tasks
                    .fetch_add(worker.held, Ordering::SeqCst);
                (worker.next, worker.end) = (tx + 1, end);
            }
            tx
        };
        let claimed = self.try_incarnate(tx);
        if !worker.has_run() && worker.held > 0 {
            self.num_active_tasks
                .fetch_sub(std::mem::take(&mut worker.held), Ordering::SeqCst);
        }
        claimed
    }

    /// Claims the next validation for a caller holding an active task slot, which it gives
    /// up when the transaction at the index turns out not to be executed.
    fn claim_validation(&self) -> Option<Version> {
        let tx = self.validation_idx.fetch_add(1, Ordering::SeqCst);
        if tx < self.block_size {
            let (incarnation, status) = self.status(tx);
            if status == Status::Executed {
                return Some(Version { tx, incarnation });
            }
        }
        self.release_slot();
        None
    }

    /// The next task for an idle thread: validation first when it lags behind execution and
    /// the transaction at the validation index has executed. The paper claims the validation
    /// either way and skips a transaction still executing; but that transaction, finishing,
    /// sends the index back to itself (its first incarnation writes new locations), so the
    /// claim only moved the shared indices between the cores for nothing: measured with the
    /// scheduler alone on 5,000 tasks at 2 threads, 300-470 ns of overhead per task before,
    /// 20-150 ns after.
    pub fn next_task(&self, worker: &mut Worker) -> Option<Task> {
        if !worker.has_run()
            && !worker.has_validations()
            && self.execution_idx.load(Ordering::SeqCst) >= self.block_size
            && self.validation_idx.load(Ordering::SeqCst) >= self.block_size
        {
            self.check_done();
            return None;
        }
        self.num_active_tasks.fetch_add(1, Ordering::SeqCst);
        self.next_task_holding_slot(worker)
    }

    /// [`Scheduler::next_task`] for a thread that still holds the active task slot of the
    /// task it just finished: the slot passes to the next task, which saves a decrement and
    /// an increment of the shared count per task (the paper gives the slot up and takes a
    /// new one; holding it only keeps the block from looking done a moment longer). Gives the
    /// slot up when there is no task.
    fn next_task_holding_slot(&self, worker: &mut Worker) -> Option<Task> {
        if self.run > 1 {
            return self.next_task_in_runs(worker);
        }
        let validation = self.validation_idx.load(Ordering::SeqCst);
        if validation
            < self
                .execution_idx
                .load(Ordering::SeqCst)
                .min(self.block_size)
            && self.status(validation).1 == Status::Executed
        {
            self.claim_validation().map(Task::Validate)
        } else {
            self.claim_execution(worker).map(Task::Execute)
        }
    }

    /// [`Scheduler::next_task_holding_slot`] when workers claim runs (see `with_runs`): a
    /// worker finishes its run, then validates the stretch of its own runs that the
    /// validation index stands at, claimed in one step, and leaves the other workers'
    /// transactions to them while anything is left to execute. Each claim moves the shared
    /// index once per stretch instead of once per transaction, and a worker never locks a
    /// transaction another core is running.
    fn next_task_in_runs(&self, worker: &mut Worker) -> Option<Task> {
        loop {
            if worker.has_validations() {
                let tx = worker.validate_next;
                worker.validate_next += 1;
                if !worker.has_validations() {
                    self.num_active_tasks
                        .fetch_sub(std::mem::take(&mut worker.validate_held), Ordering::SeqCst);
                }
                let (incarnation, status) = self.status(tx);
                if status == Status::Executed {
                    return Some(Task::Validate(Version { tx, incarnation }));
                }
                // Parked or running again: the end of that execution finds the validation
                // index past it and has it validated (as for a claim of the paper's).
                continue;
            }
            if worker.has_run() {
                return self.claim_execution(worker).map(Task::Execute);
            }
            let validation = self.validation_idx.load(Ordering::SeqCst);
            if let Some(end) = worker.own_stretch(validation) {
                self.claim_validations(worker, validation, end);
                // Claimed, or the index moved meanwhile: look again.
                continue;
            }
            if self.execution_idx.load(Ordering::SeqCst) >= self.block_size
                && validation < self.block_size
                && self.status(validation).1 == Status::Executed
            {
                // Nothing is left to execute: any worker validates what remains.
                return self.claim_validation().map(Task::Validate);
            }
            return self.claim_execution(worker).map(Task::Execute);
        }
    }

    /// Claims the validations of `from..end` in one step if the validation index still
    /// stands at `from`, for a caller holding an active task slot: the slots of the others
    /// are taken after the claim (the caller's own keeps the block from looking done in
    /// between) and given back when the last of them is taken.
    fn claim_validations(&self, worker: &mut Worker, from: TxIdx, end: TxIdx) {
        if self
            .validation_idx
            .compare_exchange(from, end, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            return;
        }
        #[cfg(feature = "faults")]
        let end = if self.lose_claimed_validations {
            from + 1
        } else {
            end
        };
        worker.validate_next = from;
        worker.validate_end = end;
        worker.validate_held = end - from - 1;
        if worker.validate_held > 0 {
            self.num_active_tasks
                .fetch_add(worker.validate_held, Ordering::SeqCst);
        }
    }

    /// Checks that incarnation `incarnation` of `tx`, being aborted, was not aborted before.
    fn record_abort(&self, tx: TxIdx, incarnation: Incarnation) {
        if let Some(aborted) = self.aborted.get(tx) {
            let before = aborted.fetch_max(incarnation + 1, Ordering::SeqCst);
            invariant!(
                before <= incarnation,
                "incarnation {incarnation} of transaction {tx} was aborted twice"
            );
        }
    }

    /// Parks transaction `tx` (whose incarnation read an ESTIMATE or unfinished write of
    /// `blocking`) until `blocking` finishes executing. Returns false when `blocking` has
    /// already finished, in which case the caller re-executes `tx` at once.
    pub fn add_dependency(&self, tx: TxIdx, blocking: TxIdx) -> bool {
        {
            // Locks are taken lower transaction first (`blocking < tx`), as everywhere else.
            let mut blocker = self.slots[blocking].lock();
            if blocker.status == Status::Executed {
                return false;
            }
            let mut slot = self.slots[tx].lock();
            self.record_abort(tx, slot.incarnation);
            slot.status = Status::Aborting;
            drop(slot);
            blocker.dependents.push(tx);
        }
        self.num_active_tasks.fetch_sub(1, Ordering::SeqCst);
        true
    }

    /// Starts the next incarnation of `tx`, whose `slot` this is, in `status`.
    fn restart(slot: &mut Slot, tx: TxIdx, status: Status) {
        invariant!(
            slot.status == Status::Aborting,
            "transaction {tx} restarts from {:?}; only an aborted incarnation restarts",
            slot.status
        );
        slot.incarnation += 1;
        slot.status = status;
    }

    fn set_ready_status(&self, tx: TxIdx) {
        Self::restart(&mut self.slots[tx].lock(), tx, Status::ReadyToExecute);
    }

    fn resume_dependencies(&self, dependents: Vec<TxIdx>) {
        let Some(&lowest) = dependents.iter().min() else {
            return;
        };
        for tx in dependents {
            self.set_ready_status(tx);
        }
        self.decrease_execution_idx(lowest);
    }

    /// Resumes `dependents`, the lowest of them claimed for execution by the caller (its
    /// next incarnation, returned) and the others made ready for any thread. The lowest is
    /// usually the next transaction of the same sender, or the next payment to the same
    /// account: claimed here, a chain of them runs on one core instead of hopping between
    /// the cores with each link (a cold cache of the accounts the chain shares every time),
    /// while the other threads validate behind it.
    fn resume_claiming_lowest(&self, mut dependents: Vec<TxIdx>) -> Option<Version> {
        let (at, _) = dependents.iter().enumerate().min_by_key(|(_, tx)| **tx)?;
        let lowest = dependents.swap_remove(at);
        self.resume_dependencies(dependents);
        let mut slot = self.slots[lowest].lock();
        // Ready and claimed in one step: no other thread can claim it in between.
        Self::restart(&mut slot, lowest, Status::Executing);
        Some(Version {
            tx: lowest,
            incarnation: slot.incarnation,
        })
    }

    /// Marks `version` executed, wakes the transactions parked on it and says what to do
    /// next: validate it at once when validation has passed it (and it wrote no new
    /// location); otherwise (validation will reach it, sent back to it when validation had
    /// passed it and it wrote a new location) execute the lowest transaction parked on it,
    /// else the next of its predicted chain if no one has claimed it
    /// ([`Scheduler::with_successors`]), or validate it at once when validation is at it.
    pub fn finish_execution(
        &self,
        version: Version,
        wrote_new_location: bool,
        worker: &mut Worker,
    ) -> Option<Task> {
        let dependents = {
            let mut slot = self.slots[version.tx].lock();
            invariant!(
                (slot.incarnation, slot.status) == (version.incarnation, Status::Executing),
                "{version:?} finished executing while its status was {:?}",
                (slot.incarnation, slot.status)
            );
            slot.status = Status::Executed;
            std::mem::take(&mut slot.dependents)
        };
        if self.validation_idx.load(Ordering::SeqCst) > version.tx {
            if !wrote_new_location {
                self.resume_dependencies(dependents);
                return Some(Task::Validate(version));
            }
            self.decrease_validation_idx(version.tx);
        }
        // The validation index is at or below this transaction: its validation is left to
        // whichever thread reaches it, and this task's active slot passes to a dependent.
        if let Some(next) = self.resume_claiming_lowest(dependents) {
            return Some(Task::Execute(next));
        }
        // The next transaction of this one's predicted chain (its sender's next, say), not
        // claimed yet: run it now, on the core that just wrote what it reads, rather than
        // when the execution index reaches it. A chain then runs beside the rest of the block
        // instead of after it: mainnet 4,370,000 ends with 22 transactions of one sender,
        // which ran one by one on one core while the other had nothing left to do. (Only
        // when workers claim one transaction at a time: runs are for blocks of few chains.)
        if self.run == 1 {
            let successor = self.successors.get(version.tx).copied().flatten();
            if let Some(next) = successor.and_then(|tx| self.claim_ahead(tx)) {
                return Some(Task::Execute(next));
            }
        }
        // Validation has reached this transaction and no further: claim its validation at
        // once, as `claim_validation` would, keeping this task's active slot (one
        // compare-and-swap instead of a trip through `next_task`, per transaction).
        if self.run == 1
            && self
                .validation_idx
                .compare_exchange(
                    version.tx,
                    version.tx + 1,
                    Ordering::SeqCst,
                    Ordering::SeqCst,
                )
                .is_ok()
        {
            return Some(Task::Validate(version));
        }
        self.next_task_holding_slot(worker)
    }

    /// Aborts `version` after a failed validation, unless another validation already did
    /// (an incarnation is aborted at most once). Returns whether this call aborted it.
    pub fn try_validation_abort(&self, version: Version) -> bool {
        let mut slot = self.slots[version.tx].lock();
        if (slot.incarnation, slot.status) == (version.incarnation, Status::Executed) {
            self.record_abort(version.tx, version.incarnation);
            slot.status = Status::Aborting;
            true
        } else {
            false
        }
    }

    /// Ends a validation task; after an abort, schedules the next incarnation and the
    /// re-validation of every later transaction.
    pub fn finish_validation(&self, tx: TxIdx, aborted: bool, worker: &mut Worker) -> Option<Task> {
        if aborted {
            self.set_ready_status(tx);
            self.decrease_validation_idx(tx + 1);
            if self.execution_idx.load(Ordering::SeqCst) > tx {
                // `try_incarnate` gives up the active task slot when it fails.
                return self.try_incarnate(tx).map(Task::Execute);
            }
        }
        self.next_task_holding_slot(worker)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(tx: TxIdx, incarnation: Incarnation) -> Version {
        Version { tx, incarnation }
    }

    #[test]
    fn empty_block_is_done_at_once() {
        assert!(Scheduler::new(0).done());
    }

    #[test]
    fn executes_then_validates_in_order() {
        let s = Scheduler::new(2);
        let mut w = s.worker();
        assert_eq!(s.next_task(&mut w), Some(Task::Execute(v(0, 0))));
        // Validation stands at transaction 0: its executor validates it at once.
        assert_eq!(
            s.finish_execution(v(0, 0), true, &mut w),
            Some(Task::Validate(v(0, 0)))
        );
        // The validation's thread goes on with the next task (its active slot passes on).
        assert_eq!(
            s.finish_validation(0, false, &mut w),
            Some(Task::Execute(v(1, 0)))
        );
        assert_eq!(
            s.finish_execution(v(1, 0), true, &mut w),
            Some(Task::Validate(v(1, 0)))
        );
        assert!(!s.done());
        // Nothing is left: the last task's end gives up its slot and finds the block done.
        assert_eq!(s.finish_validation(1, false, &mut w), None);
        assert!(s.done());
        assert_eq!(s.next_task(&mut w), None);
    }

    #[test]
    fn the_finisher_runs_the_next_of_its_chain_before_the_index_reaches_it() {
        // Transaction 3 is 0's and 1's predicted successor.
        let s = Scheduler::new(4).with_successors(vec![Some(3), Some(3), None, None]);
        let (mut a, mut b) = (s.worker(), s.worker());
        assert_eq!(s.next_task(&mut a), Some(Task::Execute(v(0, 0))));
        assert_eq!(s.next_task(&mut b), Some(Task::Execute(v(1, 0))));
        // 3 is unclaimed: 0's worker runs it next, and leaves 0's validation to the index.
        assert_eq!(
            s.finish_execution(v(0, 0), true, &mut a),
            Some(Task::Execute(v(3, 0)))
        );
        assert_eq!(s.status(3), (0, Status::Executing));
        // A successor already claimed (3, executing) is not run twice: the usual next task,
        // 0's validation.
        assert_eq!(
            s.finish_execution(v(1, 0), true, &mut b),
            Some(Task::Validate(v(0, 0)))
        );
        assert_eq!(
            s.finish_validation(0, false, &mut b),
            Some(Task::Validate(v(1, 0)))
        );
        // The execution index hands out 2, then skips 3.
        assert_eq!(
            s.finish_validation(1, false, &mut b),
            Some(Task::Execute(v(2, 0)))
        );
        assert_eq!(s.finish_execution(v(3, 0), true, &mut a), None);
        assert_eq!(
            s.finish_execution(v(2, 0), true, &mut b),
            Some(Task::Validate(v(2, 0)))
        );
        assert_eq!(
            s.finish_validation(2, false, &mut b),
            Some(Task::Validate(v(3, 0)))
        );
        assert_eq!(s.finish_validation(3, false, &mut b), None);
        assert!(s.done());
    }

    #[test]
    fn a_validation_waits_for_the_transaction_at_the_validation_index() {
        let s = Scheduler::new(2);
        let mut w = s.worker();
        assert_eq!(s.next_task(&mut w), Some(Task::Execute(v(0, 0))));
        // Validation lags execution, but transaction 0 is still executing: nothing to
        // validate there, so the next transaction is executed instead.
        assert_eq!(s.next_task(&mut w), Some(Task::Execute(v(1, 0))));
        // Validation still stands at 0: transaction 1 waits for it, and its thread finds
        // nothing else to do.
        assert_eq!(s.finish_execution(v(1, 0), false, &mut w), None);
        assert!(!s.done());
        // Transaction 0's executor validates it at once, then transaction 1.
        assert_eq!(
            s.finish_execution(v(0, 0), false, &mut w),
            Some(Task::Validate(v(0, 0)))
        );
        assert_eq!(
            s.finish_validation(0, false, &mut w),
            Some(Task::Validate(v(1, 0)))
        );
        assert!(!s.done());
        assert_eq!(s.finish_validation(1, false, &mut w), None);
        assert!(s.done());
    }

    #[test]
    fn dependency_parks_and_resumes() {
        let s = Scheduler::new(2);
        let mut w = s.worker();
        assert_eq!(s.next_task(&mut w), Some(Task::Execute(v(0, 0))));
        assert_eq!(s.next_task(&mut w), Some(Task::Execute(v(1, 0))));
        assert!(s.add_dependency(1, 0));
        assert_eq!(s.status(1), (0, Status::Aborting));
        // Transaction 0 finishes: the thread that ran it runs its dependent's next
        // incarnation at once; 0's validation is left to the validation index.
        assert_eq!(
            s.finish_execution(v(0, 0), true, &mut w),
            Some(Task::Execute(v(1, 1)))
        );
        assert_eq!(s.status(1), (1, Status::Executing));
        // Transaction 0 finished: a new dependency on it is refused.
        assert!(!s.add_dependency(1, 0));
        // Another thread claims the validation of 0, then that of 1 once it executed.
        assert_eq!(s.next_task(&mut w), Some(Task::Validate(v(0, 0))));
        assert_eq!(
            s.finish_execution(v(1, 1), false, &mut w),
            Some(Task::Validate(v(1, 1)))
        );
        assert_eq!(s.finish_validation(0, false, &mut w), None);
        assert_eq!(s.finish_validation(1, false, &mut w), None);
        assert!(s.done());
    }

    #[test]
    fn of_several_dependents_the_lowest_runs_on_and_the_others_are_ready() {
        let s = Scheduler::new(4);
        let mut w = s.worker();
        for tx in 0..4 {
            assert_eq!(s.next_task(&mut w), Some(Task::Execute(v(tx, 0))));
        }
        assert!(s.add_dependency(3, 0));
        assert!(s.add_dependency(1, 0));
        assert!(s.add_dependency(2, 0));
        assert_eq!(
            s.finish_execution(v(0, 0), true, &mut w),
            Some(Task::Execute(v(1, 1)))
        );
        assert_eq!(s.status(2), (1, Status::ReadyToExecute));
        assert_eq!(s.status(3), (1, Status::ReadyToExecute));
        // Another thread validates 0, then finds 1 still executing and claims 2.
        assert_eq!(s.next_task(&mut w), Some(Task::Validate(v(0, 0))));
        assert_eq!(
            s.finish_validation(0, false, &mut w),
            Some(Task::Execute(v(2, 1)))
        );
    }

    #[test]
    fn failed_validation_aborts_once_and_reexecutes() {
        let s = Scheduler::new(1);
        let mut w = s.worker();
        assert_eq!(s.next_task(&mut w), Some(Task::Execute(v(0, 0))));
        assert_eq!(
            s.finish_execution(v(0, 0), true, &mut w),
            Some(Task::Validate(v(0, 0)))
        );
        assert!(s.try_validation_abort(v(0, 0)));
        assert!(!s.try_validation_abort(v(0, 0)));
        assert_eq!(
            s.finish_validation(0, true, &mut w),
            Some(Task::Execute(v(0, 1)))
        );
        assert_eq!(
            s.finish_execution(v(0, 1), false, &mut w),
            Some(Task::Validate(v(0, 1)))
        );
        assert_eq!(s.finish_validation(0, false, &mut w), None);
        assert_eq!(s.next_task(&mut w), None);
        assert!(s.done());
    }

    #[test]
    fn workers_claim_runs_and_validate_their_own_stretches_in_one_step() {
        let s = Scheduler::with_runs(16, 4);
        let (mut a, mut b) = (s.worker(), s.worker());
        assert_eq!(s.next_task(&mut a), Some(Task::Execute(v(0, 0))));
        assert_eq!(s.next_task(&mut b), Some(Task::Execute(v(4, 0))));
        // Each executes its run through, validation waiting at 0 meanwhile.
        for tx in 1..4 {
            assert_eq!(
                s.finish_execution(v(tx - 1, 0), true, &mut a),
                Some(Task::Execute(v(tx, 0)))
            );
            assert_eq!(
                s.finish_execution(v(tx + 3, 0), true, &mut b),
                Some(Task::Execute(v(tx + 4, 0)))
            );
        }
        assert_eq!(s.validation_idx.load(Ordering::SeqCst), 0);
        // B's run is done but validation stands at A's: B claims the next run.
        assert_eq!(
            s.finish_execution(v(7, 0), true, &mut b),
            Some(Task::Execute(v(8, 0)))
        );
        // A's run is done and validation stands at it: A claims all four validations at
        // once, and the index moves past them in one step.
        assert_eq!(
            s.finish_execution(v(3, 0), true, &mut a),
            Some(Task::Validate(v(0, 0)))
        );
        assert_eq!(s.validation_idx.load(Ordering::SeqCst), 4);
        for tx in 1..4 {
            assert_eq!(
                s.finish_validation(tx - 1, false, &mut a),
                Some(Task::Validate(v(tx, 0)))
            );
        }
        // Validation now stands at B's 4, executed: A leaves it to B and claims a run.
        assert_eq!(
            s.finish_validation(3, false, &mut a),
            Some(Task::Execute(v(12, 0)))
        );
        // B's next run is done: its two runs are one stretch from 4 to 12, claimed at once.
        for tx in 9..12 {
            assert_eq!(
                s.finish_execution(v(tx - 1, 0), true, &mut b),
                Some(Task::Execute(v(tx, 0)))
            );
        }
        assert_eq!(
            s.finish_execution(v(11, 0), true, &mut b),
            Some(Task::Validate(v(4, 0)))
        );
        assert_eq!(s.validation_idx.load(Ordering::SeqCst), 12);
        // A transaction of the stretch aborted meanwhile is skipped: the end of its next
        // execution finds the validation index past it.
        assert!(s.try_validation_abort(v(5, 0)));
        let (mut validated, mut reexecuted) = (Vec::new(), None);
        let mut next = s.finish_validation(4, false, &mut b);
        while let Some(task) = next {
            next = match task {
                Task::Validate(version) => {
                    validated.push(version.tx);
                    s.finish_validation(version.tx, false, &mut b)
                }
                Task::Execute(version) => {
                    reexecuted = Some(version);
                    None
                }
            };
        }
        assert_eq!(validated, [6, 7, 8, 9, 10, 11]);
        assert_eq!(reexecuted, None);
        // Its re-execution (after the abort it is made ready again) is validated at its end.
        s.set_ready_status(5);
        s.decrease_execution_idx(5);
        assert_eq!(s.next_task(&mut b), Some(Task::Execute(v(5, 1))));
        assert_eq!(
            s.finish_execution(v(5, 1), false, &mut b),
            Some(Task::Validate(v(5, 1)))
        );
        // Both finish everything: the block is done, every task slot given back.
        let mut tasks = vec![
            (s.finish_validation(5, false, &mut b), 1),
            (s.finish_execution(v(12, 0), true, &mut a), 0),
        ];
        for _ in 0..1_000 {
            let Some((task, who)) = tasks.pop() else {
                break;
            };
            let worker = if who == 0 { &mut a } else { &mut b };
            let next = match task {
                Some(Task::Execute(version)) => s.finish_execution(version, true, worker),
                Some(Task::Validate(version)) => s.finish_validation(version.tx, false, worker),
                None => s.next_task(worker),
            };
            if next.is_some() || !s.done() {
                tasks.insert(0, (next, who));
            }
            assert!(tasks.len() <= 2, "a worker was lost");
            if s.done() && tasks.iter().all(|(t, _)| t.is_none()) {
                break;
            }
        }
        assert!(s.done());
        assert_eq!(s.num_active_tasks.load(Ordering::SeqCst), 0);
        assert!((0..16).all(|tx| s.status(tx).1 == Status::Executed));
    }
}
