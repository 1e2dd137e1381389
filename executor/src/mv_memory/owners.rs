//! The multi-version memory's filter of writers: per slot (a location's slot comes from its
//! hash), the lowest transaction that ever wrote a location of that slot, and who writes the
//! slot's locations: nobody yet, one transaction, or several.
//!
//! Most locations of a block are written by one transaction only (a transfer's sender and
//! recipient, an ERC-20 transfer's two balances), and no other transaction reads them. While a
//! slot has a single writer, the table of locations holds nothing for it: a reader below the
//! writer (or of a slot nobody wrote) reads the state before the block with one atomic load, and
//! a reader above it finds the value in the writer's write set. Only when a second transaction
//! writes a location of the slot does it move the first one's entries into the table (under that
//! writer's write-set lock, the slot marked as moving meanwhile, readers waiting), and from then
//! on the slot's writers all go through the table. Skipping the table's insert for the
//! single-writer slots took Block-STM from 0.80x to 1.03x of sequential revm on
//! `builtin:transfers` at one thread, measured by leaving the inserts out.
//!
//! A slot only moves forward: empty, single, moving, table. The lowest writer's mark is raised
//! in the same word before the writer's value can be found, so that a reader that sees the mark
//! too high reads the pre-state and is re-validated once the writer finishes (it wrote a new
//! location).

use super::TxIdx;
use crate::sync::{AtomicU64, Ordering};

/// Who writes the locations of one slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Owner {
    /// Nobody yet.
    Empty,
    /// This transaction only; the table has no entries for the slot.
    Single(TxIdx),
    /// This transaction was the only one, and its entries are being moved into the table.
    Moving(TxIdx),
    /// Several transactions (or one past [`MAX_SINGLE`]): the table has every entry.
    Table,
}

/// The highest transaction a slot can name as its single writer (30 bits of the word).
const MAX_SINGLE: u64 = (1 << 30) - 1;

const EMPTY: u64 = 0;
const SINGLE: u64 = 1;
const MOVING: u64 = 2;
const TABLE: u64 = 3;

/// A slot's word: the owner's kind in the top two bits, its transaction in the next thirty,
/// the lowest writer's mark ([`mark`]) in the low half.
fn word(owner: Owner, low: u32) -> u64 {
    let (kind, tx) = match owner {
        Owner::Empty => (EMPTY, 0),
        Owner::Single(tx) => (SINGLE, tx as u64),
        Owner::Moving(tx) => (MOVING, tx as u64),
        Owner::Table => (TABLE, 0),
    };
    (kind << 62) | ((tx & MAX_SINGLE) << 32) | u64::from(low)
}

fn owner(word: u64) -> Owner {
    let tx = ((word >> 32) & MAX_SINGLE) as TxIdx;
    match word >> 62 {
        EMPTY => Owner::Empty,
        SINGLE => Owner::Single(tx),
        MOVING => Owner::Moving(tx),
        _ => Owner::Table,
    }
}

/// How the filter stores a write by `tx`: higher for lower transactions, zero for none.
/// Transactions past `u32::MAX - 1` (no real block has them) share the mark one, and a reader
/// among them treats any mark as a possible lower write.
pub(super) fn mark(tx: TxIdx) -> u32 {
    u32::MAX - u32::try_from(tx).map_or(u32::MAX - 1, |tx| tx.min(u32::MAX - 1))
}

/// Whether a slot whose lowest writer's mark is `low` may hold a write below `tx`.
fn maybe_below(low: u32, tx: TxIdx) -> bool {
    let mark = mark(tx);
    low > mark || (mark == 1 && low != 0)
}

/// What a writer found when it claimed a slot for one of its locations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Claim {
    /// The writer is the slot's only one: its write set is where readers look.
    Mine,
    /// The slot goes through the table: insert the entry.
    Table,
    /// Another transaction owns the slot alone (or its entries are being moved): the slot
    /// must go through the table ([`Owners::make_table`]) before the entry is inserted.
    Other,
    /// The writer's own entries are being moved into the table by another thread, which
    /// reads the write set once the writer lets go of it: nothing to do.
    BeingMoved,
}

/// What a reader below `tx` finds in a slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Found {
    /// No transaction below the reader wrote a location of the slot.
    Nothing,
    /// Only this transaction (below the reader) writes the slot's locations.
    Single(TxIdx),
    /// Look in the table.
    Table,
}

/// The filter's slots of one block.
#[derive(Debug)]
pub(super) struct Owners {
    slots: Vec<AtomicU64>,
}

impl Owners {
    /// `len` empty slots (a power of two).
    pub(super) fn new(len: usize) -> Self {
        Owners {
            slots: (0..len).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// How many slots there are.
    pub(super) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Asks the core to fetch `slot`'s cache line ahead of a read (see
    /// [`super::MvMemory::prefetch`]); nothing else happens.
    pub(super) fn prefetch(&self, slot: usize) {
        if let Some(cell) = self.slots.get(slot) {
            crate::prefetch::hint(cell);
        }
    }

    /// The owner of `slot` now.
    pub(super) fn owner(&self, slot: usize) -> Owner {
        owner(self.slots[slot].load(Ordering::Acquire))
    }

    /// Claims `slot` for a location `tx` writes, raising the lowest writer's mark.
    pub(super) fn claim(&self, slot: usize, tx: TxIdx) -> Claim {
        let cell = &self.slots[slot];
        loop {
            let current = cell.load(Ordering::Acquire);
            let low = (current as u32).max(mark(tx));
            let (next, claim) = match owner(current) {
                Owner::Empty if tx as u64 <= MAX_SINGLE => {
                    (word(Owner::Single(tx), low), Claim::Mine)
                }
                Owner::Empty | Owner::Table => (word(Owner::Table, low), Claim::Table),
                Owner::Single(writer) if writer == tx => {
                    (word(Owner::Single(tx), low), Claim::Mine)
                }
                Owner::Moving(writer) if writer == tx => return Claim::BeingMoved,
                Owner::Single(_) | Owner::Moving(_) => return Claim::Other,
            };
            if next == current
                || cell
                    .compare_exchange(current, next, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
            {
                return claim;
            }
        }
    }

    /// Turns `slot` into a table slot for a writer other than its single one: `moved` is
    /// called with the single writer while the slot is marked moving, puts that writer's
    /// entries of the slot into the table and returns what it holds (the writer's write-set
    /// lock), which is let go only after the slot is marked a table slot: a record of the
    /// writer's next incarnation then sees the table, or had already replaced the write set
    /// that was moved. Waits while another thread moves them.
    pub(super) fn make_table<Held>(&self, slot: usize, moved: impl FnOnce(TxIdx) -> Held) {
        let cell = &self.slots[slot];
        let mut polls = 0u32;
        loop {
            let current = cell.load(Ordering::Acquire);
            match owner(current) {
                Owner::Table | Owner::Empty => return,
                Owner::Moving(_) => {
                    crate::sync::relax(polls, 2);
                    polls = polls.saturating_add(1);
                }
                Owner::Single(writer) => {
                    let low = current as u32;
                    let moving = word(Owner::Moving(writer), low);
                    if cell
                        .compare_exchange(current, moving, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok()
                    {
                        let held = moved(writer);
                        // Nothing else changes a moving slot's word.
                        cell.store(word(Owner::Table, low), Ordering::Release);
                        drop(held);
                        return;
                    }
                }
            }
        }
    }

    /// What a read by `tx` finds in `slot`, once no move is under way.
    pub(super) fn find(&self, slot: usize, tx: TxIdx) -> Found {
        let cell = &self.slots[slot];
        let mut polls = 0u32;
        loop {
            let current = cell.load(Ordering::Acquire);
            if !maybe_below(current as u32, tx) {
                return Found::Nothing;
            }
            match owner(current) {
                Owner::Empty => return Found::Nothing,
                Owner::Single(writer) if writer < tx => return Found::Single(writer),
                Owner::Single(_) => return Found::Nothing,
                Owner::Table => return Found::Table,
                Owner::Moving(_) => {
                    crate::sync::relax(polls, 2);
                    polls = polls.saturating_add(1);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_moves_from_one_writer_to_the_table() {
        let owners = Owners::new(4);
        assert_eq!(owners.find(0, 9), Found::Nothing);
        assert_eq!(owners.claim(0, 5), Claim::Mine);
        assert_eq!(owners.claim(0, 5), Claim::Mine);
        assert_eq!(owners.find(0, 9), Found::Single(5));
        // The writer itself and transactions below it read the pre-state.
        assert_eq!(owners.find(0, 5), Found::Nothing);
        assert_eq!(owners.find(0, 2), Found::Nothing);
        // A second writer must move the first one's entries first.
        assert_eq!(owners.claim(0, 7), Claim::Other);
        let mut moved = None;
        owners.make_table(0, |writer| {
            moved = Some(writer);
            // While moving, the single writer leaves its entries to the mover.
            assert_eq!(owners.claim(0, 5), Claim::BeingMoved);
            assert_eq!(owners.owner(0), Owner::Moving(5));
        });
        assert_eq!(moved, Some(5));
        assert_eq!(owners.claim(0, 7), Claim::Table);
        assert_eq!(owners.claim(0, 2), Claim::Table);
        assert_eq!(owners.find(0, 9), Found::Table);
        // The lowest writer is now 2: a read by it or below finds nothing.
        assert_eq!(owners.find(0, 2), Found::Nothing);
        assert_eq!(owners.find(0, 3), Found::Table);
        // Other slots are untouched.
        assert_eq!(owners.owner(1), Owner::Empty);
    }

    #[test]
    fn words_keep_the_owner_and_the_mark_apart() {
        for owner_in in [
            Owner::Empty,
            Owner::Single(0),
            Owner::Single(MAX_SINGLE as TxIdx),
            Owner::Moving(12_345),
            Owner::Table,
        ] {
            for low in [0, 1, u32::MAX] {
                let w = word(owner_in, low);
                assert_eq!(owner(w), owner_in);
                assert_eq!(w as u32, low);
            }
        }
        // A transaction too high to be named goes to the table at once.
        let owners = Owners::new(1);
        assert_eq!(owners.claim(0, MAX_SINGLE as TxIdx + 1), Claim::Table);
    }
}
