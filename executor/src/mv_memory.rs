//! Multi-version memory (Block-STM, section 3): for every location, the values written by each
//! transaction's latest incarnation, or an ESTIMATE marker where that incarnation was aborted.
//! A read by transaction `i` sees the write of the highest transaction below `i`.
//!
//! Locations are chosen so that ordinary transactions rarely share one: an account's basic
//! fields (balance, nonce, code), one storage slot, and an account's storage reset (written when
//! a transaction destroys or creates the account, so that every slot it does not write reads as
//! zero from then on).
//!
//! The values themselves stay in each transaction's write set; the table of locations holds,
//! per writer, only the incarnation and where in its write set the value is. Entries are
//! small, so inserting them is cheap, and the state after the block is built from the write
//! sets in block order, without a pass over the table. A location whose filter slot only one
//! transaction writes has no entry at all: readers find it in that transaction's write set
//! (the `owners` module).

use crate::fast_hash::FastHash;
use crate::sync::{Aligned, AtomicBool, Mutex, MutexGuard, Ordering, RwLock};
use alloy_primitives::{Address, U256};
use crossbeam_utils::CachePadded;
use owners::{Claim, Found, Owner, Owners};
use revm::state::AccountInfo;
use smallvec::SmallVec;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hash, Hasher};

mod owners;

/// A transaction's position in the block.
pub type TxIdx = usize;
/// How many times a transaction has been re-executed before this execution.
pub type Incarnation = usize;

/// One execution of one transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Version {
    /// The transaction.
    pub tx: TxIdx,
    /// Its incarnation.
    pub incarnation: Incarnation,
}

/// A piece of state a transaction reads or writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    /// Balance, nonce, code hash and code of an account, or its absence.
    Account(Address),
    /// One storage slot.
    Storage(Address, U256),
    /// The account's whole storage was wiped (destruction, EIP-161 deletion or creation).
    StorageReset(Address),
}

impl Location {
    /// The account the location belongs to.
    pub fn address(&self) -> Address {
        match self {
            Location::Account(address)
            | Location::Storage(address, _)
            | Location::StorageReset(address) => *address,
        }
    }
}

impl Hash for Location {
    // Whole 8-byte words, without the length prefixes a derived hash writes for the byte
    // arrays: hashing is on the path of every read and write.
    fn hash<H: Hasher>(&self, state: &mut H) {
        let (tag, address) = match self {
            Location::Account(address) => (0, address),
            Location::Storage(address, _) => (1, address),
            Location::StorageReset(address) => (2, address),
        };
        let bytes = address.as_slice();
        let word = |range: std::ops::Range<usize>| {
            let mut word = [0u8; 8];
            word[..range.len()].copy_from_slice(&bytes[range]);
            u64::from_le_bytes(word)
        };
        state.write_u64(word(0..8));
        state.write_u64(word(8..16));
        state.write_u64(word(16..20) | (tag << 32));
        if let Location::Storage(_, slot) = self {
            for limb in slot.as_limbs() {
                state.write_u64(*limb);
            }
        }
    }
}

/// What a transaction wrote to a location.
#[derive(Clone, Debug)]
pub enum Value {
    /// The account after the transaction; `None` when it no longer exists.
    Account(Option<AccountInfo>),
    /// A storage value.
    Slot(U256),
    /// The storage was wiped.
    Reset,
    /// A lazy credit of this many wei (only at the beneficiary's account): gas fees paid by a
    /// transaction that did not otherwise access the beneficiary.
    Fee(U256),
}

/// Where a writer's value of a location is.
#[derive(Clone, Copy, Debug)]
enum Entry {
    /// The writer's incarnation was aborted: its next one will probably write here again.
    Estimate,
    /// Written by this incarnation, at this position of the writer's write set.
    Written(Incarnation, u32),
    /// A credit to the account ([`Value::Fee`]) by this incarnation, at this position of
    /// the writer's write set: it adds to the balance below it and changes nothing else.
    Credited(Incarnation, u32),
}

/// The result of a read.
#[derive(Clone, Debug)]
pub enum Read {
    /// No lower transaction wrote the location: read the state before the block.
    PreState,
    /// The value written by this version.
    Value(Version, Value),
    /// The lower transaction `TxIdx` is being re-executed (ESTIMATE): wait for it.
    Blocked(TxIdx),
    /// The account was last credited: its value is the base (the highest full write below,
    /// `None`: the pre-state) plus these credits, lowest transaction first.
    Credited(Option<Option<AccountInfo>>, Vec<U256>),
}

/// A lazy read of the beneficiary's account: the latest full value below the reader (or the
/// pre-state) and the fees credited since, in block order.
#[derive(Clone, Debug)]
pub enum LazyRead {
    /// Base value (`None`: the pre-state) and the fees above it, lowest transaction first.
    Value(Option<Option<AccountInfo>>, Vec<U256>),
    /// The lower transaction `TxIdx` has not finished executing (or is being re-executed).
    Blocked(TxIdx),
}

const SHARDS: usize = 64;

/// The entries of one location, sorted by transaction. Most locations have one (held inline,
/// without an allocation), and transactions mostly write in increasing order, so a sorted
/// vector beats a tree.
#[derive(Debug, Default)]
struct Versions {
    entries: SmallVec<[(TxIdx, Entry); 1]>,
    /// How many of the entries are credits.
    credits: u32,
    /// While the location holds both credits and other entries (full writes and
    /// ESTIMATEs): the transactions of the others, sorted, so that the highest one below a
    /// reader is found without a walk over the credits (an exchange's deposit address is
    /// credited hundreds of times in one block). `None` otherwise: then every entry, or
    /// none, is one. Boxed: 8 bytes in every location's entry of the table instead of 24,
    /// for what few locations ever hold.
    #[allow(clippy::box_collection)]
    bases: Option<Box<Vec<TxIdx>>>,
}

impl Versions {
    /// The entries of a location only `tx` writes.
    fn one(tx: TxIdx, entry: Entry) -> Self {
        let mut entries = SmallVec::new();
        entries.push((tx, entry));
        Versions {
            entries,
            credits: u32::from(matches!(entry, Entry::Credited(..))),
            bases: None,
        }
    }

    fn insert(&mut self, tx: TxIdx, entry: Entry) {
        let credit = matches!(entry, Entry::Credited(..));
        // Transactions mostly finish in block order: try the end first.
        let replaced = if self.entries.last().is_none_or(|(last, _)| *last < tx) {
            self.entries.push((tx, entry));
            None
        } else {
            match self.entries.binary_search_by_key(&tx, |(t, _)| *t) {
                Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, entry)),
                Err(i) => {
                    self.entries.insert(i, (tx, entry));
                    None
                }
            }
        };
        let was_credit = matches!(replaced, Some(Entry::Credited(..)));
        self.credits = self.credits + u32::from(credit) - u32::from(was_credit);
        self.track_base(tx, Some(!credit));
    }

    fn remove(&mut self, tx: TxIdx) {
        if let Ok(i) = self.entries.binary_search_by_key(&tx, |(t, _)| *t) {
            let (_, entry) = self.entries.remove(i);
            self.credits -= u32::from(matches!(entry, Entry::Credited(..)));
            self.track_base(tx, None);
        }
    }

    /// Keeps [`Versions::bases`] in step after `tx`'s entry became a base (`Some(true)`), a
    /// credit (`Some(false)`) or went (`None`).
    fn track_base(&mut self, tx: TxIdx, base: Option<bool>) {
        let mixed = self.credits > 0 && (self.credits as usize) < self.entries.len();
        if !mixed {
            self.bases = None;
            return;
        }
        let Some(bases) = self.bases.as_deref_mut() else {
            let bases = self
                .entries
                .iter()
                .filter(|(_, e)| !matches!(e, Entry::Credited(..)))
                .map(|(t, _)| *t);
            self.bases = Some(Box::new(bases.collect()));
            return;
        };
        match (bases.binary_search(&tx), base) {
            (Ok(i), Some(false) | None) => {
                bases.remove(i);
            }
            (Err(i), Some(true)) => bases.insert(i, tx),
            _ => {}
        }
    }

    /// The entry of the highest transaction below `tx`.
    /// Checks Block-STM's read invariant when [`crate::CHECK_INVARIANTS`] is on: a read by
    /// `tx` returns the highest write below it, checked by a scan of every version
    /// independent of the search.
    fn highest_below(&self, tx: TxIdx) -> Option<(TxIdx, Entry)> {
        let end = self.entries.partition_point(|(t, _)| *t < tx);
        let found = end.checked_sub(1).map(|i| self.entries[i]);
        self.check_highest_lower(tx, found.map(|(writer, _)| writer));
        found
    }

    /// The entry of the highest transaction below `tx` that is not a credit.
    fn highest_base_below(&self, tx: TxIdx) -> Option<(TxIdx, Entry)> {
        if self.credits == 0 {
            return self.highest_below(tx);
        }
        // Every entry a credit, or the bases apart.
        let bases = self.bases.as_deref()?;
        let end = bases.partition_point(|t| *t < tx);
        let writer = *bases.get(end.checked_sub(1)?)?;
        let at = self
            .entries
            .binary_search_by_key(&writer, |(t, _)| *t)
            .ok()?;
        Some(self.entries[at])
    }

    /// The entries from the highest base below `tx` (included) up to `tx`.
    fn entries_from_base_below(&self, tx: TxIdx) -> SmallVec<[(TxIdx, Entry); 4]> {
        let end = self.entries.partition_point(|(t, _)| *t < tx);
        let start = match self.highest_base_below(tx) {
            Some((base, _)) => self.entries.partition_point(|(t, _)| *t < base),
            None => 0,
        };
        self.entries[start..end].iter().copied().collect()
    }

    fn check_highest_lower(&self, tx: TxIdx, got: Option<TxIdx>) {
        if !crate::CHECK_INVARIANTS {
            return;
        }
        let highest = self
            .entries
            .iter()
            .map(|(t, _)| *t)
            .filter(|t| *t < tx)
            .max();
        invariant!(
            highest == got,
            "a read by transaction {tx} returned the write of {got:?}, not the highest lower \
             write {highest:?}"
        );
    }
}

/// What one transaction's latest incarnation wrote.
#[derive(Debug, Default)]
struct WriteSet {
    incarnation: Incarnation,
    /// Whether the incarnation was aborted (its entries in the table are ESTIMATEs).
    aborted: bool,
    /// Where the lazy location's write is in `writes`, if the incarnation wrote it.
    lazy: Option<usize>,
    writes: Vec<(Location, Value)>,
}

type Shard = HashMap<Location, Versions, FastHash>;

/// The multi-version memory of one block.
#[derive(Debug)]
pub struct MvMemory {
    /// The table of locations, in shards with a lock each (on cache lines of their own, so
    /// that cores working on different shards do not contend for one line).
    shards: Vec<CachePadded<RwLock<Shard>>>,
    /// Per transaction, its latest write set.
    write_sets: Vec<Aligned<Mutex<WriteSet>>>,
    /// The location every transaction writes (the beneficiary's account: its full value or a
    /// lazy fee), kept out of the table and read from the write sets: in the table it would
    /// be one lock and one sorted vector that every transaction of the block contends for.
    lazy: Location,
    /// The filter of writers (the `owners` module): per slot (a location's slot comes from its
    /// hash), the lowest transaction that ever wrote a location of that slot and whether one
    /// transaction or several write its locations. Most reads are of locations no lower
    /// transaction writes: every read of an untouched account, and every validation of a
    /// transaction's read of its own sender and recipient, which only it writes. Those are
    /// answered with one atomic load, without the shard's lock (whose reference count would
    /// move its cache line between the cores on every read); a location only one transaction
    /// writes is found in its write set, and never enters the table.
    owners: Owners,
    /// Whether any storage reset was ever written in this block (never cleared): most
    /// blocks destroy and create nothing, and then a storage read's second lookup, of the
    /// account's reset, is answered without touching a shard. Set after the reset is in its
    /// shard, so a reader that sees it unset and reads the pre-state is re-validated once
    /// the writer finishes (it wrote a new location), and then sees it set.
    resets_written: AtomicBool,
}

/// Where a location lives: its shard of the table and its slot in the filter of writers,
/// both from one hash.
#[derive(Clone, Copy, Debug)]
struct Place {
    shard: usize,
    slot: usize,
}

/// Slots of the filter of writers per transaction of the block: with about three
/// written locations per transaction, a read by the block's last transaction of a location
/// no lower one writes shares its slot with a lower writer about one time in ten, half
/// that on average over the block (and then takes the shard's lock), and a location whose
/// slot another location's writer took goes to the table. With 16 slots, one in five:
/// `builtin:erc20` at 2 threads read 1.10-1.11x against 1.13-1.16x with 32 (alternated
/// runs; `builtin:transfers` unchanged, the filter 2 MiB instead of 1).
///
/// Under shuttle, one per transaction: locations of different transactions then share slots
/// often, and the schedules explored cover moving a single writer's entries into the table.
const FILTER_SLOTS_PER_TX: usize = if cfg!(feature = "shuttle") { 1 } else { 32 };

/// The place of `location` in a memory whose filter has `slots` slots (a power of two).
fn place_of(location: &Location, slots: usize) -> Place {
    let hash = FastHash.hash_one(location);
    // The shard from middle bits: hashbrown takes its bucket index from the low bits and its
    // tag from the top seven, so a shard chosen by either would leave the maps inside it
    // badly spread. The filter's slot from bits apart from both.
    Place {
        shard: (hash >> 24) as usize % SHARDS,
        slot: (hash >> 32) as usize & (slots - 1),
    }
}

/// The entry pointing at `value`, written by `incarnation` at `index` of its write set.
fn entry_of(value: &Value, incarnation: Incarnation, index: usize) -> Entry {
    match value {
        Value::Fee(_) => Entry::Credited(incarnation, index as u32),
        _ => Entry::Written(incarnation, index as u32),
    }
}

/// Whether `current` writes a location `previous` did not, and the locations `previous`
/// wrote and `current` does not.
fn compare_write_sets(
    previous: &[(Location, Value)],
    current: &[(Location, Value)],
) -> (bool, Vec<Location>) {
    if previous.is_empty() {
        // The first incarnation (or one after an empty write set): nothing to drop.
        return (!current.is_empty(), Vec::new());
    }
    let written_before = |location: &Location| previous.iter().any(|(l, _)| l == location);
    let written_now = |location: &Location| current.iter().any(|(l, _)| l == location);
    // Write sets are usually tiny: compare them directly, with hash sets only when large.
    if previous.len().saturating_mul(current.len()) <= 256 {
        (
            current.iter().any(|(l, _)| !written_before(l)),
            previous
                .iter()
                .map(|(l, _)| *l)
                .filter(|l| !written_now(l))
                .collect(),
        )
    } else {
        let before: HashSet<&Location> = previous.iter().map(|(l, _)| l).collect();
        let now: HashSet<&Location> = current.iter().map(|(l, _)| l).collect();
        (
            current.iter().any(|(l, _)| !before.contains(l)),
            previous
                .iter()
                .map(|(l, _)| *l)
                .filter(|l| !now.contains(l))
                .collect(),
        )
    }
}

/// The origin of a read that found `entry` (see [`MvMemory::read_origin`]).
fn origin_of(entry: Option<(TxIdx, Entry)>) -> Result<Option<Version>, TxIdx> {
    match entry {
        None => Ok(None),
        Some((writer, Entry::Estimate)) => Err(writer),
        Some((writer, Entry::Written(incarnation, _) | Entry::Credited(incarnation, _))) => {
            Ok(Some(Version {
                tx: writer,
                incarnation,
            }))
        }
    }
}

fn shard_of(location: &Location) -> usize {
    place_of(location, 1).shard
}

impl MvMemory {
    /// An empty memory for a block of `block_size` transactions, every one of which writes
    /// `lazy` (the beneficiary's account).
    pub fn new(block_size: usize, lazy: Location) -> Self {
        // Sized for about two written locations per transaction (a transfer's two accounts;
        // the beneficiary's fees are kept apart): a shard that needs more grows (rehashing
        // under the write lock), but a sparser table costs more in cache misses on every
        // insert (measured: four per transaction was slower).
        let per_shard = (block_size * 2).div_ceil(SHARDS);
        MvMemory {
            shards: (0..SHARDS)
                .map(|_| {
                    CachePadded::new(RwLock::new(HashMap::with_capacity_and_hasher(
                        per_shard, FastHash,
                    )))
                })
                .collect(),
            write_sets: (0..block_size)
                .map(|_| Aligned(Mutex::new(WriteSet::default())))
                .collect(),
            lazy,
            owners: Owners::new((block_size * FILTER_SLOTS_PER_TX).next_power_of_two()),
            resets_written: AtomicBool::new(false),
        }
    }

    fn place(&self, location: &Location) -> Place {
        place_of(location, self.owners.len())
    }

    fn shard(&self, location: &Location) -> &RwLock<Shard> {
        &self.shards[shard_of(location)]
    }

    /// Records the writes of `version`, replacing those of the transaction's previous
    /// incarnation. Returns whether it wrote a location the previous incarnation did not.
    pub fn record(&self, version: Version, writes: Vec<(Location, Value)>) -> bool {
        let Some(slot) = self.write_sets.get(version.tx) else {
            return false;
        };
        // Entries of slots another transaction owns alone: inserted once the slot goes
        // through the table, after this write set is let go (moving the other's entries
        // takes its write set's lock, and it may be waiting for this one's).
        let mut later: SmallVec<[(Place, Location, Entry); 2]> = SmallVec::new();
        let wrote_new = {
            // The write set stays locked until the table points at it, so that a reader that
            // finds a new entry finds the values it points at.
            let mut set = slot.lock();
            let previous = std::mem::replace(&mut set.writes, writes);
            set.incarnation = version.incarnation;
            set.aborted = false;
            set.lazy = set.writes.iter().position(|(l, _)| *l == self.lazy);
            for (index, (location, value)) in set.writes.iter().enumerate() {
                if *location == self.lazy {
                    continue;
                }
                let entry = entry_of(value, version.incarnation, index);
                let place = self.place(location);
                match self.owners.claim(place.slot, version.tx) {
                    Claim::Mine | Claim::BeingMoved => {}
                    Claim::Table => self.insert(place, location, version.tx, entry),
                    Claim::Other => later.push((place, *location, entry)),
                }
                if matches!(location, Location::StorageReset(_)) {
                    self.resets_written.store(true, Ordering::Release);
                }
            }
            let (wrote_new, stale) = compare_write_sets(&previous, &set.writes);
            // A stale location of a single-owner slot is simply absent from the write set;
            // of a slot being moved, the mover reads the write set after this.
            for location in stale.iter().filter(|l| **l != self.lazy) {
                if self.owners.owner(self.place(location).slot) == Owner::Table {
                    if let Some(entries) = self.shard(location).write().get_mut(location) {
                        entries.remove(version.tx);
                    }
                }
            }
            wrote_new
        };
        for (place, location, entry) in later {
            self.owners.make_table(place.slot, |writer| {
                self.move_into_table(place.slot, writer)
            });
            // Raises the lowest writer's mark before the entry can be found.
            if self.owners.claim(place.slot, version.tx) == Claim::Table {
                self.insert(place, &location, version.tx, entry);
            }
        }
        wrote_new
    }

    /// Inserts `tx`'s `entry` for `location` into the table.
    fn insert(&self, place: Place, location: &Location, tx: TxIdx, entry: Entry) {
        self.shards[place.shard]
            .write()
            .entry(*location)
            .or_default()
            .insert(tx, entry);
    }

    /// Moves the entries of `writer`, the single owner of `slot` until now, into the table,
    /// and returns its write set still locked ([`Owners::make_table`] marks the slot a table
    /// slot before letting go of it).
    fn move_into_table(&self, slot: usize, writer: TxIdx) -> MutexGuard<'_, WriteSet> {
        let set = self.write_sets[writer].lock();
        for (index, (location, value)) in set.writes.iter().enumerate() {
            if *location == self.lazy {
                continue;
            }
            let place = self.place(location);
            if place.slot != slot {
                continue;
            }
            let entry = if set.aborted {
                Entry::Estimate
            } else {
                entry_of(value, set.incarnation, index)
            };
            self.insert(place, location, writer, entry);
        }
        set
    }

    /// Marks every write of transaction `tx` as an ESTIMATE (its incarnation was aborted).
    pub fn convert_writes_to_estimates(&self, tx: TxIdx) {
        let Some(slot) = self.write_sets.get(tx) else {
            return;
        };
        let mut set = slot.lock();
        set.aborted = true;
        // A single owner's slot reads the flag from the write set; one being moved is moved
        // from the write set once it is let go, flag included.
        for (location, _) in set.writes.iter().filter(|(l, _)| *l != self.lazy) {
            if self.owners.owner(self.place(location).slot) != Owner::Table {
                continue;
            }
            if let Some(entries) = self.shard(location).write().get_mut(location) {
                entries.insert(tx, Entry::Estimate);
            }
        }
    }

    /// The lazy location's write of each transaction below `tx`, highest first: `None` when
    /// the transaction has not written it, `Some(None)` when its incarnation was aborted,
    /// `Some(Some((version, value)))` otherwise.
    fn lazy_below(
        &self,
        tx: TxIdx,
    ) -> impl Iterator<Item = (TxIdx, Option<Option<(Version, Value)>>)> + '_ {
        (0..tx.min(self.write_sets.len())).rev().map(|writer| {
            let set = self.write_sets[writer].lock();
            let write = set.lazy.map(|index| {
                (!set.aborted).then(|| {
                    let version = Version {
                        tx: writer,
                        incarnation: set.incarnation,
                    };
                    (version, set.writes[index].1.clone())
                })
            });
            (writer, write)
        })
    }

    /// `f` of the entries of `location` (under its shard's lock, or the single writer's
    /// entry), when a transaction below `tx` may have written it (`None` otherwise, or when
    /// `f` finds nothing).
    fn with_versions<R>(
        &self,
        location: &Location,
        tx: TxIdx,
        f: impl FnOnce(&Versions) -> Option<R>,
    ) -> Option<R> {
        // The lazy location is never in the table (see [`MvMemory::lazy`]).
        if *location == self.lazy
            || matches!(location, Location::StorageReset(_))
                && !self.resets_written.load(Ordering::Acquire)
        {
            return None;
        }
        let place = self.place(location);
        match self.owners.find(place.slot, tx) {
            Found::Nothing => None,
            Found::Table => f(self.shards[place.shard].read().get(location)?),
            Found::Single(writer) => {
                let entry = self.single_entry(writer, location)?;
                f(&Versions::one(writer, entry))
            }
        }
    }

    /// The entry of `writer`, the single owner of `location`'s slot, for `location`: where in
    /// its write set the value is, or ESTIMATE while its incarnation is aborted (`None` when
    /// it does not write the location).
    fn single_entry(&self, writer: TxIdx, location: &Location) -> Option<Entry> {
        let set = self.write_sets[writer].lock();
        let index = set.writes.iter().position(|(l, _)| l == location)?;
        Some(if set.aborted {
            Entry::Estimate
        } else {
            entry_of(&set.writes[index].1, set.incarnation, index)
        })
    }

    /// The entry of the highest writer of `location` below `tx`.
    fn highest_below(&self, location: &Location, tx: TxIdx) -> Option<(TxIdx, Entry)> {
        self.with_versions(location, tx, |versions| versions.highest_below(tx))
    }

    /// The value `writer`'s incarnation `incarnation` wrote at `location`, at `index` of its
    /// write set: `Err(writer)` while it is being aborted, `None` when the writer has
    /// recorded a newer incarnation since the table was read (read the table again).
    fn value_at(
        &self,
        location: &Location,
        writer: TxIdx,
        incarnation: Incarnation,
        index: u32,
    ) -> Option<Result<Value, TxIdx>> {
        let set = self.write_sets[writer].lock();
        if set.incarnation != incarnation {
            return None;
        }
        if set.aborted {
            // Being turned into ESTIMATEs as we look.
            return Some(Err(writer));
        }
        match set.writes.get(index as usize) {
            Some((at, value)) if at == location => Some(Ok(value.clone())),
            _ => None,
        }
    }

    /// Starts fetching what a read of `location` looks at first (its filter slot, a cache
    /// line anywhere in the filter), so that a read a little later does not wait for it.
    pub fn prefetch(&self, location: &Location) {
        self.owners.prefetch(self.place(location).slot);
    }

    /// What transaction `tx` reads at `location`.
    pub fn read(&self, location: &Location, tx: TxIdx) -> Read {
        if *location == self.lazy {
            return match self.lazy_write_below(tx) {
                None => Read::PreState,
                Some((writer, None)) => Read::Blocked(writer),
                Some((_, Some((version, value)))) => Read::Value(version, value),
            };
        }
        loop {
            match self.highest_below(location, tx) {
                None => return Read::PreState,
                Some((writer, Entry::Estimate)) => return Read::Blocked(writer),
                Some((writer, Entry::Written(incarnation, index))) => {
                    if let Some(read) = self.read_written(location, writer, incarnation, index) {
                        return read;
                    }
                }
                Some((_, Entry::Credited(..))) => {
                    if let Some(read) = self.read_credited(location, tx) {
                        return read;
                    }
                }
            }
        }
    }

    /// A read by `tx` of an account whose highest write below `tx` is a credit: the highest
    /// full write below (or the pre-state) and every credit above it. `None` when a writer
    /// moved on to a newer incarnation meanwhile (read again).
    fn read_credited(&self, location: &Location, tx: TxIdx) -> Option<Read> {
        let entries = self
            .with_versions(location, tx, |versions| {
                Some(versions.entries_from_base_below(tx))
            })
            .unwrap_or_default();
        let mut base = None;
        let mut credits = Vec::with_capacity(entries.len());
        for (writer, entry) in entries {
            let (incarnation, index) = match entry {
                Entry::Estimate => return Some(Read::Blocked(writer)),
                Entry::Written(incarnation, index) | Entry::Credited(incarnation, index) => {
                    (incarnation, index)
                }
            };
            match self.value_at(location, writer, incarnation, index)? {
                Err(writer) => return Some(Read::Blocked(writer)),
                Ok(Value::Account(account)) => base = Some(account),
                Ok(Value::Fee(credit)) => credits.push(credit),
                // Nothing else is written at an account's location.
                Ok(_) => return Some(Read::Blocked(writer)),
            }
        }
        Some(Read::Credited(base, credits))
    }

    /// What transaction `tx` reads at `location` ignoring the credits (the highest full
    /// write below, or the pre-state): all a plain transfer needs of its recipient, whose
    /// code credits do not change.
    pub fn read_base(&self, location: &Location, tx: TxIdx) -> Read {
        loop {
            let base = self.with_versions(location, tx, |versions| versions.highest_base_below(tx));
            match base {
                None => return Read::PreState,
                Some((writer, Entry::Estimate | Entry::Credited(..))) => {
                    return Read::Blocked(writer)
                }
                Some((writer, Entry::Written(incarnation, index))) => {
                    if let Some(read) = self.read_written(location, writer, incarnation, index) {
                        return read;
                    }
                }
            }
        }
    }

    /// The read of a full write found in the table ([`MvMemory::value_at`]'s answer as a
    /// read); `None`: read the table again.
    fn read_written(
        &self,
        location: &Location,
        writer: TxIdx,
        incarnation: Incarnation,
        index: u32,
    ) -> Option<Read> {
        Some(match self.value_at(location, writer, incarnation, index)? {
            Ok(value) => Read::Value(
                Version {
                    tx: writer,
                    incarnation,
                },
                value,
            ),
            Err(writer) => Read::Blocked(writer),
        })
    }

    /// Which write [`MvMemory::read_base`] by `tx` at `location` would return, without the
    /// value (as [`MvMemory::read_origin`]).
    pub fn base_origin(&self, location: &Location, tx: TxIdx) -> Result<Option<Version>, TxIdx> {
        let base = self.with_versions(location, tx, |versions| versions.highest_base_below(tx));
        origin_of(base)
    }

    /// Which write a read by `tx` at `location` would return, without the value (what
    /// validation compares): `Ok(None)` for the pre-state, `Ok(Some(version))` for that
    /// version's write (a credit's included), `Err(writer)` when blocked on `writer`'s
    /// ESTIMATE.
    pub fn read_origin(&self, location: &Location, tx: TxIdx) -> Result<Option<Version>, TxIdx> {
        if *location == self.lazy {
            return match self.lazy_write_below(tx) {
                None => Ok(None),
                Some((writer, None)) => Err(writer),
                Some((_, Some((version, _)))) => Ok(Some(version)),
            };
        }
        origin_of(self.highest_below(location, tx))
    }

    /// The lazy location's highest write below `tx` (as [`MvMemory::lazy_below`] gives it).
    fn lazy_write_below(&self, tx: TxIdx) -> Option<(TxIdx, Option<(Version, Value)>)> {
        self.lazy_below(tx)
            .find_map(|(writer, write)| write.map(|w| (writer, w)))
    }

    /// What transaction `tx` reads at the beneficiary's account (the lazy location), where
    /// every transaction writes either its full value or a lazy fee: blocked on the highest
    /// lower transaction that has no finished write there.
    pub fn read_lazy(&self, tx: TxIdx) -> LazyRead {
        let mut fees = Vec::new();
        for (writer, write) in self.lazy_below(tx) {
            match write {
                Some(Some((_, Value::Fee(fee)))) => fees.push(fee),
                Some(Some((_, Value::Account(account)))) => {
                    fees.reverse();
                    return LazyRead::Value(Some(account), fees);
                }
                // Not executed yet, being re-executed, or (never) a non-account value.
                None | Some(None | Some(_)) => return LazyRead::Blocked(writer),
            }
        }
        fees.reverse();
        LazyRead::Value(None, fees)
    }

    /// The location every transaction writes, kept out of the table (the beneficiary's
    /// account).
    pub fn lazy_location(&self) -> Location {
        self.lazy
    }

    /// How many shards the table has (what [`MvMemory::release_shard`] takes).
    pub fn shards(&self) -> usize {
        self.shards.len()
    }

    /// Empties shard `shard` of the table (of a finished block, whose reads are over).
    pub fn release_shard(&self, shard: usize) {
        if let Some(shard) = self.shards.get(shard) {
            let table = std::mem::take(&mut *shard.write());
            drop(table);
        }
    }

    /// Takes transaction `tx`'s final write set out of a finished block's memory, leaving it
    /// empty: the workers that ran the block take their share of the write sets apart. The
    /// write sets of a finished block, applied in block order, give the state the sequential
    /// commits would (ESTIMATEs never survive a finished block).
    pub fn take_writes(&self, tx: TxIdx) -> Vec<(Location, Value)> {
        self.write_sets
            .get(tx)
            .map(|slot| std::mem::take(&mut slot.lock().writes))
            .unwrap_or_default()
    }

    /// Whether any ESTIMATE marker is left (none may survive the end of a block).
    pub fn has_estimates(&self) -> bool {
        let in_table = self.shards.iter().any(|shard| {
            shard.read().values().any(|versions| {
                versions
                    .entries
                    .iter()
                    .any(|(_, e)| matches!(e, Entry::Estimate))
            })
        });
        in_table || self.write_sets.iter().any(|slot| slot.lock().aborted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(any(debug_assertions, feature = "invariants"))]
    fn the_read_invariant_rejects_anything_but_the_highest_lower_write() {
        let mut versions = Versions::default();
        for tx in [1, 4, 7] {
            versions.insert(tx, Entry::Estimate);
        }
        // The right answers pass.
        versions.check_highest_lower(5, Some(4));
        versions.check_highest_lower(1, None);
        // A lower write than the highest, or a write of the reader itself, is a violation.
        for (tx, wrong) in [(5, Some(1)), (7, Some(7)), (2, None)] {
            let caught = std::panic::catch_unwind(|| versions.check_highest_lower(tx, wrong));
            assert!(caught.is_err(), "read by {tx} returning {wrong:?} passed");
        }
    }

    /// The lazy location of the tests' memories.
    fn beneficiary() -> Location {
        Location::Account(Address::with_last_byte(0xbe))
    }

    fn v(tx: TxIdx, incarnation: Incarnation) -> Version {
        Version { tx, incarnation }
    }

    fn slot(read: Read) -> Option<(Version, U256)> {
        match read {
            Read::Value(version, Value::Slot(value)) => Some((version, value)),
            _ => None,
        }
    }

    #[test]
    fn locations_of_one_shard_still_spread_over_hash_tags() {
        // hashbrown tags entries with a hash's top seven bits; if the shard index took the
        // same bits, every lookup in a shard would compare keys that merely share a tag.
        let mut tags = HashSet::new();
        let mut buckets = HashSet::new();
        for n in 0..20_000u64 {
            let location =
                Location::Storage(Address::with_last_byte((n % 251) as u8), U256::from(n));
            if shard_of(&location) != 0 {
                continue;
            }
            let hash = FastHash.hash_one(location);
            tags.insert(hash >> 57);
            buckets.insert(hash & 0xff);
        }
        assert!(
            tags.len() > 100,
            "only {} distinct tags in one shard",
            tags.len()
        );
        assert!(
            buckets.len() > 140,
            "only {} distinct buckets",
            buckets.len()
        );
    }

    #[test]
    fn the_written_filter_never_hides_a_write() {
        // Far more locations than the filter of a two-transaction memory has bits: every one
        // written is still found, whatever bits they share.
        let mv = MvMemory::new(2, beneficiary());
        let slots: Vec<Location> = (0..1_000u64)
            .map(|n| Location::Storage(Address::with_last_byte((n % 7) as u8), U256::from(n)))
            .collect();
        assert!(slots.iter().all(|l| mv.read_origin(l, 1) == Ok(None)));
        let writes = slots
            .iter()
            .step_by(2)
            .map(|l| (*l, Value::Slot(U256::from(1))))
            .collect();
        assert!(mv.record(v(0, 0), writes));
        for (n, location) in slots.iter().enumerate() {
            let read = mv.read_origin(location, 1);
            if n % 2 == 0 {
                assert_eq!(read, Ok(Some(v(0, 0))), "write {n} hidden");
            } else {
                assert_eq!(read, Ok(None), "slot {n} was never written");
            }
        }
    }

    fn account(balance: u64) -> Value {
        Value::Account(Some(AccountInfo {
            balance: U256::from(balance),
            ..Default::default()
        }))
    }

    fn credit(amount: u64) -> Value {
        Value::Fee(U256::from(amount))
    }

    /// The base balance (`None`: the pre-state) and credits of a credited read.
    fn credited(read: Read) -> Option<(Option<u64>, Vec<u64>)> {
        let Read::Credited(base, credits) = read else {
            return None;
        };
        let base = base.map(|account| account.map_or(0, |a| a.balance.to::<u64>()));
        Some((base, credits.iter().map(|c| c.to::<u64>()).collect()))
    }

    #[test]
    fn a_credited_account_reads_as_its_base_and_the_credits_above_it() {
        let mv = MvMemory::new(6, beneficiary());
        let deposit = Location::Account(Address::with_last_byte(0xde));
        assert!(mv.record(v(0, 0), vec![(deposit, credit(1))]));
        assert!(mv.record(v(1, 0), vec![(deposit, credit(2))]));
        // No full write below: the pre-state plus every credit, in block order.
        assert_eq!(credited(mv.read(&deposit, 2)), Some((None, vec![1, 2])));
        assert!(matches!(mv.read_base(&deposit, 2), Read::PreState));
        assert_eq!(mv.base_origin(&deposit, 2), Ok(None));
        // A full read's origin is the credit itself: one more credit below a reader changes
        // what it read.
        assert_eq!(mv.read_origin(&deposit, 2), Ok(Some(v(1, 0))));
        // A full write hides what is below it; credits above it add to it.
        assert!(mv.record(v(2, 0), vec![(deposit, account(100))]));
        assert!(mv.record(v(3, 0), vec![(deposit, credit(4))]));
        assert_eq!(credited(mv.read(&deposit, 4)), Some((Some(100), vec![4])));
        assert_eq!(mv.base_origin(&deposit, 4), Ok(Some(v(2, 0))));
        assert!(matches!(mv.read_base(&deposit, 4), Read::Value(w, _) if w == v(2, 0)));
        // Below the full write, the base is still the pre-state.
        assert_eq!(mv.base_origin(&deposit, 2), Ok(None));
        // The transaction right above the full write reads it plainly.
        assert!(matches!(mv.read(&deposit, 3), Read::Value(w, _) if w == v(2, 0)));
    }

    #[test]
    fn an_aborted_credit_blocks_full_and_base_reads_until_it_runs_again() {
        let mv = MvMemory::new(4, beneficiary());
        let deposit = Location::Account(Address::with_last_byte(0xde));
        assert!(mv.record(v(0, 0), vec![(deposit, credit(1))]));
        assert!(mv.record(v(1, 0), vec![(deposit, credit(2))]));
        mv.convert_writes_to_estimates(0);
        assert!(matches!(mv.read(&deposit, 3), Read::Blocked(0)));
        // Its next incarnation may write the whole account: a base read waits too.
        assert!(matches!(mv.read_base(&deposit, 3), Read::Blocked(0)));
        assert_eq!(mv.base_origin(&deposit, 3), Err(0));
        // It does: transaction 1's credit now adds to that account.
        assert!(!mv.record(v(0, 1), vec![(deposit, account(50))]));
        assert_eq!(credited(mv.read(&deposit, 3)), Some((Some(50), vec![2])));
        assert_eq!(mv.base_origin(&deposit, 3), Ok(Some(v(0, 1))));
        // And back to a credit: the base is the pre-state again.
        mv.convert_writes_to_estimates(0);
        assert!(!mv.record(v(0, 2), vec![(deposit, credit(7))]));
        assert_eq!(credited(mv.read(&deposit, 3)), Some((None, vec![7, 2])));
        assert_eq!(mv.base_origin(&deposit, 3), Ok(None));
        // A dropped write leaves the bases too.
        assert!(!mv.record(v(1, 1), vec![]));
        assert_eq!(credited(mv.read(&deposit, 3)), Some((None, vec![7])));
    }

    #[test]
    fn a_single_writers_entries_move_to_the_table_aborted_or_not() {
        let mv = MvMemory::new(5, beneficiary());
        let loc = Location::Storage(Address::with_last_byte(3), U256::from(9));
        let other = Location::Storage(Address::with_last_byte(4), U256::from(2));
        // Transaction 1 alone writes `loc`: found in its write set, ESTIMATE once aborted.
        assert!(mv.record(v(1, 0), vec![(loc, Value::Slot(U256::from(10)))]));
        assert_eq!(slot(mv.read(&loc, 2)), Some((v(1, 0), U256::from(10))));
        assert_eq!(mv.read_origin(&loc, 1), Ok(None));
        mv.convert_writes_to_estimates(1);
        assert!(matches!(mv.read(&loc, 4), Read::Blocked(1)));
        // A second writer moves the aborted entry into the table as an ESTIMATE.
        assert!(mv.record(v(3, 0), vec![(loc, Value::Slot(U256::from(30)))]));
        assert!(matches!(mv.read(&loc, 2), Read::Blocked(1)));
        assert_eq!(slot(mv.read(&loc, 4)), Some((v(3, 0), U256::from(30))));
        assert!(mv.has_estimates());
        // The next incarnation of 1 replaces its ESTIMATE in the table...
        assert!(!mv.record(v(1, 1), vec![(loc, Value::Slot(U256::from(11)))]));
        assert_eq!(slot(mv.read(&loc, 2)), Some((v(1, 1), U256::from(11))));
        assert!(!mv.has_estimates());
        // ...and one that no longer writes `loc` leaves it.
        assert!(mv.record(v(1, 2), vec![(other, Value::Slot(U256::from(1)))]));
        assert_eq!(mv.read_origin(&loc, 2), Ok(None));
        assert_eq!(mv.read_origin(&loc, 4), Ok(Some(v(3, 0))));
        assert_eq!(slot(mv.read(&other, 4)), Some((v(1, 2), U256::from(1))));
        // A single writer's credit reads as one: the base is the pre-state.
        let deposit = Location::Account(Address::with_last_byte(0xde));
        assert!(mv.record(v(0, 0), vec![(deposit, Value::Fee(U256::from(5)))]));
        assert!(matches!(mv.read_base(&deposit, 2), Read::PreState));
        assert_eq!(mv.read_origin(&deposit, 2), Ok(Some(v(0, 0))));
        assert!(matches!(mv.read(&deposit, 2), Read::Credited(None, ref c) if c.len() == 1));
    }

    #[test]
    fn reads_the_highest_lower_write() {
        let mv = MvMemory::new(4, beneficiary());
        let loc = Location::Storage(Address::ZERO, U256::from(1));
        assert!(matches!(mv.read(&loc, 3), Read::PreState));
        assert!(mv.record(v(0, 0), vec![(loc, Value::Slot(U256::from(10)))]));
        assert!(mv.record(v(2, 0), vec![(loc, Value::Slot(U256::from(30)))]));
        assert!(matches!(mv.read(&loc, 0), Read::PreState));
        assert_eq!(slot(mv.read(&loc, 1)), Some((v(0, 0), U256::from(10))));
        assert_eq!(slot(mv.read(&loc, 2)), Some((v(0, 0), U256::from(10))));
        assert_eq!(slot(mv.read(&loc, 3)), Some((v(2, 0), U256::from(30))));
    }

    #[test]
    fn resets_read_from_the_pre_state_until_one_is_written_then_as_any_location() {
        let mv = MvMemory::new(4, beneficiary());
        let reset = Location::StorageReset(Address::with_last_byte(7));
        let other = Location::StorageReset(Address::with_last_byte(8));
        assert_eq!(mv.read_origin(&reset, 3), Ok(None));
        assert!(matches!(mv.read(&reset, 3), Read::PreState));
        assert!(mv.record(v(1, 0), vec![(reset, Value::Reset)]));
        assert_eq!(mv.read_origin(&reset, 3), Ok(Some(v(1, 0))));
        assert!(matches!(mv.read(&reset, 3), Read::Value(w, Value::Reset) if w == v(1, 0)));
        assert_eq!(mv.read_origin(&reset, 1), Ok(None));
        assert_eq!(mv.read_origin(&other, 3), Ok(None));
        mv.convert_writes_to_estimates(1);
        assert_eq!(mv.read_origin(&reset, 3), Err(1));
    }

    #[test]
    fn estimates_block_and_new_incarnations_replace_them() {
        let mv = MvMemory::new(3, beneficiary());
        let a = Location::Account(Address::ZERO);
        let b = Location::StorageReset(Address::ZERO);
        assert!(mv.record(v(1, 0), vec![(a, Value::Account(None)), (b, Value::Reset)]));
        mv.convert_writes_to_estimates(1);
        assert!(mv.has_estimates());
        assert!(matches!(mv.read(&a, 2), Read::Blocked(1)));
        // The next incarnation writes only `a`: `b` disappears, nothing new was written.
        assert!(!mv.record(v(1, 1), vec![(a, Value::Account(None))]));
        assert!(matches!(mv.read(&b, 2), Read::PreState));
        assert!(matches!(
            mv.read(&a, 2),
            Read::Value(
                Version {
                    tx: 1,
                    incarnation: 1
                },
                _
            )
        ));
        assert!(!mv.has_estimates());
    }

    #[test]
    fn large_write_sets_drop_what_the_next_incarnation_does_not_write() {
        let mv = MvMemory::new(2, beneficiary());
        let slots: Vec<Location> = (0..40)
            .map(|n| Location::Storage(Address::ZERO, U256::from(n)))
            .collect();
        let writes = |n: usize| -> Vec<(Location, Value)> {
            slots[..n]
                .iter()
                .map(|l| (*l, Value::Slot(U256::from(1))))
                .collect()
        };
        assert!(mv.record(v(0, 0), writes(40)));
        assert!(!mv.record(v(0, 1), writes(25)));
        assert!(matches!(mv.read(&slots[24], 1), Read::Value(..)));
        assert!(matches!(mv.read(&slots[25], 1), Read::PreState));
        assert!(mv.record(v(0, 2), writes(30)));
    }

    #[test]
    fn lazy_reads_need_every_lower_transaction() {
        let loc = beneficiary();
        lazy_reads_in(MvMemory::new(4, loc), loc);
    }

    #[test]
    fn the_lazy_location_reads_and_aborts_like_any_other() {
        let loc = beneficiary();
        let mv = MvMemory::new(3, loc);
        assert!(matches!(mv.read(&loc, 2), Read::PreState));
        mv.record(v(0, 0), vec![(loc, Value::Fee(U256::from(1)))]);
        assert!(matches!(
            mv.read(&loc, 2),
            Read::Value(Version { tx: 0, .. }, _)
        ));
        mv.convert_writes_to_estimates(0);
        assert!(mv.has_estimates());
        assert!(matches!(mv.read(&loc, 2), Read::Blocked(0)));
        // The next incarnation writes elsewhere: the slot is emptied.
        let other = Location::Account(Address::with_last_byte(1));
        assert!(mv.record(v(0, 1), vec![(other, Value::Account(None))]));
        assert!(matches!(mv.read(&loc, 2), Read::PreState));
        assert!(!mv.has_estimates());
    }

    fn lazy_reads_in(mv: MvMemory, loc: Location) {
        assert!(matches!(mv.read_lazy(0), LazyRead::Value(None, ref f) if f.is_empty()));
        assert!(matches!(mv.read_lazy(2), LazyRead::Blocked(1)));
        mv.record(v(1, 0), vec![(loc, Value::Fee(U256::from(5)))]);
        assert!(matches!(mv.read_lazy(2), LazyRead::Blocked(0)));
        mv.record(v(0, 0), vec![(loc, Value::Fee(U256::from(3)))]);
        match mv.read_lazy(3) {
            LazyRead::Blocked(2) => {}
            other => panic!("{other:?}"),
        }
        match mv.read_lazy(2) {
            LazyRead::Value(None, fees) => assert_eq!(fees, vec![U256::from(3), U256::from(5)]),
            other => panic!("{other:?}"),
        }
        mv.record(
            v(0, 1),
            vec![(loc, Value::Account(Some(AccountInfo::default())))],
        );
        match mv.read_lazy(2) {
            LazyRead::Value(Some(Some(_)), fees) => assert_eq!(fees, vec![U256::from(5)]),
            other => panic!("{other:?}"),
        }
    }
}
