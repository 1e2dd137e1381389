//! The collaborative scheduler of Block-STM (Gelashvili et al. 2022, algorithms 4 and 5): an
//! execution index and a validation index that threads advance to claim tasks, per-transaction
//! incarnation status, dependencies on which an aborted transaction is parked until its
//! blocker finishes, and the detection of the moment every transaction is executed and
//! validated.

use crate::mv_memory::{Incarnation, TxIdx, Version};
use crate::sync::{Aligned, AtomicBool, AtomicUsize, Mutex, Ordering};
use crossbeam_utils::CachePadded;

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
}

impl Scheduler {
    /// A scheduler for a block of `block_size` transactions, all ready for incarnation 0.
    pub fn new(block_size: usize) -> Self {
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
        if tx < self.block_size {
            let mut slot = self.slots[tx].lock();
            if slot.status == Status::ReadyToExecute {
                slot.status = Status::Executing;
                return Some(Version {
                    tx,
                    incarnation: slot.incarnation,
                });
            }
        }
        self.num_active_tasks.fetch_sub(1, Ordering::SeqCst);
        None
    }

    /// Gives up the active task slot the caller holds.
    fn release_slot(&self) {
        self.num_active_tasks.fetch_sub(1, Ordering::SeqCst);
    }

    /// Claims the next execution for a caller holding an active task slot, which it gives
    /// up when there is none.
    fn claim_execution(&self) -> Option<Version> {
        if self.execution_idx.load(Ordering::SeqCst) >= self.block_size {
            self.release_slot();
            self.check_done();
            return None;
        }
        let tx = self.execution_idx.fetch_add(1, Ordering::SeqCst);
        self.try_incarnate(tx)
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
    pub fn next_task(&self) -> Option<Task> {
        if self.execution_idx.load(Ordering::SeqCst) >= self.block_size
            && self.validation_idx.load(Ordering::SeqCst) >= self.block_size
        {
            self.check_done();
            return None;
        }
        self.num_active_tasks.fetch_add(1, Ordering::SeqCst);
        self.next_task_holding_slot()
    }

    /// [`Scheduler::next_task`] for a thread that still holds the active task slot of the
    /// task it just finished: the slot passes to the next task, which saves a decrement and
    /// an increment of the shared count per task (the paper gives the slot up and takes a
    /// new one; holding it only keeps the block from looking done a moment longer). Gives the
    /// slot up when there is no task.
    fn next_task_holding_slot(&self) -> Option<Task> {
        let validation = self.validation_idx.load(Ordering::SeqCst);
        if validation < self.execution_idx.load(Ordering::SeqCst)
            && self
                .slots
                .get(validation)
                .is_some_and(|slot| slot.lock().status == Status::Executed)
        {
            self.claim_validation().map(Task::Validate)
        } else {
            self.claim_execution().map(Task::Execute)
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
    /// or validate it at once when validation is at it.
    pub fn finish_execution(&self, version: Version, wrote_new_location: bool) -> Option<Task> {
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
        // Validation has reached this transaction and no further: claim its validation at
        // once, as `claim_validation` would, keeping this task's active slot (one
        // compare-and-swap instead of a trip through `next_task`, per transaction).
        if self
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
        self.next_task_holding_slot()
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
    pub fn finish_validation(&self, tx: TxIdx, aborted: bool) -> Option<Task> {
        if aborted {
            self.set_ready_status(tx);
            self.decrease_validation_idx(tx + 1);
            if self.execution_idx.load(Ordering::SeqCst) > tx {
                // `try_incarnate` gives up the active task slot when it fails.
                return self.try_incarnate(tx).map(Task::Execute);
            }
        }
        self.next_task_holding_slot()
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
        assert_eq!(s.next_task(), Some(Task::Execute(v(0, 0))));
        // Validation stands at transaction 0: its executor validates it at once.
        assert_eq!(
            s.finish_execution(v(0, 0), true),
            Some(Task::Validate(v(0, 0)))
        );
        // The validation's thread goes on with the next task (its active slot passes on).
        assert_eq!(s.finish_validation(0, false), Some(Task::Execute(v(1, 0))));
        assert_eq!(
            s.finish_execution(v(1, 0), true),
            Some(Task::Validate(v(1, 0)))
        );
        assert!(!s.done());
        // Nothing is left: the last task's end gives up its slot and finds the block done.
        assert_eq!(s.finish_validation(1, false), None);
        assert!(s.done());
        assert_eq!(s.next_task(), None);
    }

    #[test]
    fn a_validation_waits_for_the_transaction_at_the_validation_index() {
        let s = Scheduler::new(2);
        assert_eq!(s.next_task(), Some(Task::Execute(v(0, 0))));
        // Validation lags execution, but transaction 0 is still executing: nothing to
        // validate there, so the next transaction is executed instead.
        assert_eq!(s.next_task(), Some(Task::Execute(v(1, 0))));
        // Validation still stands at 0: transaction 1 waits for it, and its thread finds
        // nothing else to do.
        assert_eq!(s.finish_execution(v(1, 0), false), None);
        assert!(!s.done());
        // Transaction 0's executor validates it at once, then transaction 1.
        assert_eq!(
            s.finish_execution(v(0, 0), false),
            Some(Task::Validate(v(0, 0)))
        );
        assert_eq!(s.finish_validation(0, false), Some(Task::Validate(v(1, 0))));
        assert!(!s.done());
        assert_eq!(s.finish_validation(1, false), None);
        assert!(s.done());
    }

    #[test]
    fn dependency_parks_and_resumes() {
        let s = Scheduler::new(2);
        assert_eq!(s.next_task(), Some(Task::Execute(v(0, 0))));
        assert_eq!(s.next_task(), Some(Task::Execute(v(1, 0))));
        assert!(s.add_dependency(1, 0));
        assert_eq!(s.status(1), (0, Status::Aborting));
        // Transaction 0 finishes: the thread that ran it runs its dependent's next
        // incarnation at once; 0's validation is left to the validation index.
        assert_eq!(
            s.finish_execution(v(0, 0), true),
            Some(Task::Execute(v(1, 1)))
        );
        assert_eq!(s.status(1), (1, Status::Executing));
        // Transaction 0 finished: a new dependency on it is refused.
        assert!(!s.add_dependency(1, 0));
        // Another thread claims the validation of 0, then that of 1 once it executed.
        assert_eq!(s.next_task(), Some(Task::Validate(v(0, 0))));
        assert_eq!(
            s.finish_execution(v(1, 1), false),
            Some(Task::Validate(v(1, 1)))
        );
        assert_eq!(s.finish_validation(0, false), None);
        assert_eq!(s.finish_validation(1, false), None);
        assert!(s.done());
    }

    #[test]
    fn of_several_dependents_the_lowest_runs_on_and_the_others_are_ready() {
        let s = Scheduler::new(4);
        for tx in 0..4 {
            assert_eq!(s.next_task(), Some(Task::Execute(v(tx, 0))));
        }
        assert!(s.add_dependency(3, 0));
        assert!(s.add_dependency(1, 0));
        assert!(s.add_dependency(2, 0));
        assert_eq!(
            s.finish_execution(v(0, 0), true),
            Some(Task::Execute(v(1, 1)))
        );
        assert_eq!(s.status(2), (1, Status::ReadyToExecute));
        assert_eq!(s.status(3), (1, Status::ReadyToExecute));
        // Another thread validates 0, then finds 1 still executing and claims 2.
        assert_eq!(s.next_task(), Some(Task::Validate(v(0, 0))));
        assert_eq!(s.finish_validation(0, false), Some(Task::Execute(v(2, 1))));
    }

    #[test]
    fn failed_validation_aborts_once_and_reexecutes() {
        let s = Scheduler::new(1);
        assert_eq!(s.next_task(), Some(Task::Execute(v(0, 0))));
        assert_eq!(
            s.finish_execution(v(0, 0), true),
            Some(Task::Validate(v(0, 0)))
        );
        assert!(s.try_validation_abort(v(0, 0)));
        assert!(!s.try_validation_abort(v(0, 0)));
        assert_eq!(s.finish_validation(0, true), Some(Task::Execute(v(0, 1))));
        assert_eq!(
            s.finish_execution(v(0, 1), false),
            Some(Task::Validate(v(0, 1)))
        );
        assert_eq!(s.finish_validation(0, false), None);
        assert_eq!(s.next_task(), None);
        assert!(s.done());
    }
}
