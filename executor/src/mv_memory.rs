//! Multi-version memory (Block-STM, section 3): for every location, the values written by each
//! transaction's latest incarnation, or an ESTIMATE marker where that incarnation was aborted.
//! A read by transaction `i` sees the write of the highest transaction below `i`.
//!
//! Locations are chosen so that ordinary transactions rarely share one: an account's basic
//! fields (balance, nonce, code), one storage slot, and an account's storage reset (written when
//! a transaction destroys or creates the account, so that every slot it does not write reads as
//! zero from then on).

use crate::sync::{AtomicBool, Mutex, Ordering, RwLock};
use alloy_primitives::{Address, U256};
use revm::state::AccountInfo;
use smallvec::SmallVec;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hash, Hasher};

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

#[derive(Clone, Debug)]
enum Entry {
    Estimate,
    Written(Incarnation, Value),
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
struct Versions(SmallVec<[(TxIdx, Entry); 1]>);

impl Versions {
    fn insert(&mut self, tx: TxIdx, entry: Entry) {
        match self.0.binary_search_by_key(&tx, |(t, _)| *t) {
            Ok(i) => self.0[i].1 = entry,
            Err(i) => self.0.insert(i, (tx, entry)),
        }
    }

    fn remove(&mut self, tx: TxIdx) {
        if let Ok(i) = self.0.binary_search_by_key(&tx, |(t, _)| *t) {
            self.0.remove(i);
        }
    }

    /// Entries of transactions below `tx`, highest first.
    /// Checks Block-STM's read invariant when [`crate::CHECK_INVARIANTS`] is on: a read by
    /// `tx` returns the highest write below it (`got`, `None` for the pre-state), checked by
    /// a scan of every version independent of [`Versions::below`]'s search.
    fn check_highest_lower(&self, tx: TxIdx, got: Option<TxIdx>) {
        if !crate::CHECK_INVARIANTS {
            return;
        }
        let highest = self.0.iter().map(|(t, _)| *t).filter(|t| *t < tx).max();
        invariant!(
            highest == got,
            "a read by transaction {tx} returned the write of {got:?}, not the highest lower \
             write {highest:?}"
        );
    }

    fn below(&self, tx: TxIdx) -> impl Iterator<Item = (TxIdx, &Entry)> {
        let end = self.0.partition_point(|(t, _)| *t < tx);
        self.0[..end].iter().rev().map(|(t, e)| (*t, e))
    }

    fn values(&self) -> impl Iterator<Item = &Entry> {
        self.0.iter().map(|(_, e)| e)
    }
}

/// A fast hasher for locations (addresses and slots are already well mixed; SipHash's
/// protection against chosen keys buys nothing for one block's lifetime).
#[derive(Clone, Copy, Debug, Default)]
struct FastHash;

impl BuildHasher for FastHash {
    type Hasher = FastHasher;
    fn build_hasher(&self) -> FastHasher {
        FastHasher(0)
    }
}

/// Multiply-rotate hashing of 8-byte words.
#[derive(Debug)]
struct FastHasher(u64);

impl FastHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        // A final avalanche (murmur3's fmix64), so that every output bit depends on every
        // input bit: the shard index and hashbrown's bucket index and tag use different bits.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

type Shard = HashMap<Location, Versions, FastHash>;

/// The multi-version memory of one block.
#[derive(Debug)]
pub struct MvMemory {
    shards: Vec<RwLock<Shard>>,
    last_written: Vec<Mutex<Vec<Location>>>,
    /// The location every transaction writes (the beneficiary's account: its full value or a
    /// lazy fee), kept apart in one slot per transaction: in a shard it would be one lock
    /// and one sorted vector that every transaction of the block contends for.
    lazy: Option<Location>,
    lazy_slots: Vec<Mutex<Option<Entry>>>,
    /// Whether any storage reset was ever written in this block (never cleared): most
    /// blocks destroy and create nothing, and then a storage read's second lookup, of the
    /// account's reset, is answered without touching a shard. Set after the reset is in its
    /// shard, so a reader that sees it unset and reads the pre-state is re-validated once
    /// the writer finishes (it wrote a new location), and then sees it set.
    resets_written: AtomicBool,
}

fn shard_of(location: &Location) -> usize {
    // Middle bits: hashbrown takes its bucket index from the low bits and its tag from the top
    // seven, so a shard chosen by either would leave the maps inside it badly spread.
    (FastHash.hash_one(location) >> 24) as usize % SHARDS
}

impl MvMemory {
    /// An empty memory for a block of `block_size` transactions.
    pub fn new(block_size: usize) -> Self {
        // Sized for about two written locations per transaction (a transfer's two accounts;
        // the beneficiary's fees are kept apart): a shard that needs more grows (rehashing
        // under the write lock), but a sparser table costs more in cache misses on every
        // insert and in the final drain (measured: four per transaction was slower).
        let per_shard = (block_size * 2).div_ceil(SHARDS);
        MvMemory {
            shards: (0..SHARDS)
                .map(|_| RwLock::new(HashMap::with_capacity_and_hasher(per_shard, FastHash)))
                .collect(),
            last_written: (0..block_size).map(|_| Mutex::new(Vec::new())).collect(),
            lazy: None,
            lazy_slots: Vec::new(),
            resets_written: AtomicBool::new(false),
        }
    }

    /// The same memory with `location` kept in per-transaction slots: the location every
    /// transaction writes.
    pub fn with_lazy_location(mut self, location: Location) -> Self {
        self.lazy = Some(location);
        self.lazy_slots = (0..self.last_written.len())
            .map(|_| Mutex::new(None))
            .collect();
        self
    }

    fn is_lazy(&self, location: &Location) -> bool {
        self.lazy.as_ref() == Some(location)
    }

    /// The entries of the lazy location below `tx`, highest first, as (writer, entry); a
    /// transaction with no entry yet is `None`.
    fn lazy_below(&self, tx: TxIdx) -> impl Iterator<Item = (TxIdx, Option<Entry>)> + '_ {
        (0..tx.min(self.lazy_slots.len()))
            .rev()
            .map(|writer| (writer, self.lazy_slots[writer].lock().clone()))
    }

    fn shard(&self, location: &Location) -> &RwLock<Shard> {
        &self.shards[shard_of(location)]
    }

    /// Records the writes of `version`, replacing those of the transaction's previous
    /// incarnation. Returns whether it wrote a location the previous incarnation did not.
    pub fn record(&self, version: Version, writes: Vec<(Location, Value)>) -> bool {
        let mut last = self.last_written[version.tx].lock();
        if last.is_empty() {
            // The first incarnation (or one after an empty write set): nothing to drop.
            last.extend(writes.iter().map(|(l, _)| *l));
            let wrote = !writes.is_empty();
            self.insert_all(version, writes);
            return wrote;
        }
        let new_locations: Vec<Location> = writes.iter().map(|(l, _)| *l).collect();
        self.insert_all(version, writes);
        // Write sets are usually tiny: compare them directly, with hash sets only when large.
        let (wrote_new, stale): (bool, Vec<Location>) =
            if last.len().saturating_mul(new_locations.len()) <= 256 {
                (
                    new_locations.iter().any(|l| !last.contains(l)),
                    last.iter()
                        .filter(|l| !new_locations.contains(l))
                        .copied()
                        .collect(),
                )
            } else {
                let previous: HashSet<&Location> = last.iter().collect();
                let current: HashSet<&Location> = new_locations.iter().collect();
                (
                    new_locations.iter().any(|l| !previous.contains(l)),
                    last.iter()
                        .filter(|l| !current.contains(l))
                        .copied()
                        .collect(),
                )
            };
        for location in &stale {
            if self.is_lazy(location) {
                *self.lazy_slots[version.tx].lock() = None;
            } else if let Some(entries) = self.shard(location).write().get_mut(location) {
                entries.remove(version.tx);
            }
        }
        *last = new_locations;
        wrote_new
    }

    fn insert_all(&self, version: Version, writes: Vec<(Location, Value)>) {
        for (location, value) in writes {
            let is_reset = matches!(location, Location::StorageReset(_));
            if self.is_lazy(&location) {
                *self.lazy_slots[version.tx].lock() =
                    Some(Entry::Written(version.incarnation, value));
                continue;
            }
            self.shard(&location)
                .write()
                .entry(location)
                .or_default()
                .insert(version.tx, Entry::Written(version.incarnation, value));
            if is_reset {
                self.resets_written.store(true, Ordering::Release);
            }
        }
    }

    /// Marks every write of transaction `tx` as an ESTIMATE (its incarnation was aborted).
    pub fn convert_writes_to_estimates(&self, tx: TxIdx) {
        let last = self.last_written[tx].lock();
        for location in last.iter() {
            if self.is_lazy(location) {
                let mut slot = self.lazy_slots[tx].lock();
                if slot.is_some() {
                    *slot = Some(Entry::Estimate);
                }
            } else if let Some(entries) = self.shard(location).write().get_mut(location) {
                entries.insert(tx, Entry::Estimate);
            }
        }
    }

    /// What transaction `tx` reads at `location`.
    pub fn read(&self, location: &Location, tx: TxIdx) -> Read {
        if matches!(location, Location::StorageReset(_))
            && !self.resets_written.load(Ordering::Acquire)
        {
            return Read::PreState;
        }
        if self.is_lazy(location) {
            let highest = self
                .lazy_below(tx)
                .find_map(|(writer, entry)| entry.map(|e| (writer, e)));
            return match highest {
                None => Read::PreState,
                Some((writer, Entry::Estimate)) => Read::Blocked(writer),
                Some((writer, Entry::Written(incarnation, value))) => Read::Value(
                    Version {
                        tx: writer,
                        incarnation,
                    },
                    value,
                ),
            };
        }
        let shard = self.shard(location).read();
        let Some(entries) = shard.get(location) else {
            return Read::PreState;
        };
        let highest = entries.below(tx).next();
        entries.check_highest_lower(tx, highest.map(|(writer, _)| writer));
        match highest {
            None => Read::PreState,
            Some((writer, Entry::Estimate)) => Read::Blocked(writer),
            Some((writer, Entry::Written(incarnation, value))) => Read::Value(
                Version {
                    tx: writer,
                    incarnation: *incarnation,
                },
                value.clone(),
            ),
        }
    }

    /// Which write a read by `tx` at `location` would return, without the value (what
    /// validation compares): `Ok(None)` for the pre-state, `Ok(Some(version))` for that
    /// version's write, `Err(writer)` when blocked on `writer`'s ESTIMATE.
    pub fn read_origin(&self, location: &Location, tx: TxIdx) -> Result<Option<Version>, TxIdx> {
        if self.is_lazy(location) {
            return match self.read(location, tx) {
                Read::PreState => Ok(None),
                Read::Value(version, _) => Ok(Some(version)),
                Read::Blocked(writer) => Err(writer),
            };
        }
        if matches!(location, Location::StorageReset(_))
            && !self.resets_written.load(Ordering::Acquire)
        {
            return Ok(None);
        }
        let shard = self.shard(location).read();
        let Some(entries) = shard.get(location) else {
            return Ok(None);
        };
        let highest = entries.below(tx).next();
        entries.check_highest_lower(tx, highest.map(|(writer, _)| writer));
        match highest {
            None => Ok(None),
            Some((writer, Entry::Estimate)) => Err(writer),
            Some((writer, Entry::Written(incarnation, _))) => Ok(Some(Version {
                tx: writer,
                incarnation: *incarnation,
            })),
        }
    }

    /// What transaction `tx` reads at the beneficiary's account, where every transaction
    /// writes either its full value or a lazy fee: blocked on the highest lower transaction that
    /// has no finished write there.
    pub fn read_lazy(&self, location: &Location, tx: TxIdx) -> LazyRead {
        if self.is_lazy(location) {
            let mut fees = Vec::new();
            for (writer, entry) in self.lazy_below(tx) {
                match entry {
                    Some(Entry::Written(_, Value::Fee(fee))) => fees.push(fee),
                    Some(Entry::Written(_, Value::Account(account))) => {
                        fees.reverse();
                        return LazyRead::Value(Some(account), fees);
                    }
                    // Not executed yet, being re-executed, or (never) a non-account value.
                    None | Some(Entry::Estimate | Entry::Written(..)) => {
                        return LazyRead::Blocked(writer)
                    }
                }
            }
            fees.reverse();
            return LazyRead::Value(None, fees);
        }
        let shard = self.shard(location).read();
        let empty = Versions::default();
        let entries = shard.get(location).unwrap_or(&empty);
        let mut fees = Vec::new();
        let mut expected = tx;
        for (writer, entry) in entries.below(tx) {
            // `expected` is the next transaction down that must have written.
            if writer + 1 != expected {
                return LazyRead::Blocked(expected - 1);
            }
            expected = writer;
            match entry {
                Entry::Estimate => return LazyRead::Blocked(writer),
                Entry::Written(_, Value::Fee(fee)) => fees.push(*fee),
                Entry::Written(_, Value::Account(account)) => {
                    fees.reverse();
                    return LazyRead::Value(Some(account.clone()), fees);
                }
                Entry::Written(_, Value::Slot(_) | Value::Reset) => {
                    // Never written at an account location; treat as the unknown it is.
                    return LazyRead::Blocked(writer);
                }
            }
        }
        if expected > 0 {
            return LazyRead::Blocked(expected - 1);
        }
        fees.reverse();
        LazyRead::Value(None, fees)
    }

    /// Empties the memory of a finished block: hands every location's final value (the
    /// write of its highest writer) with that writer to `visit`, in no particular order, and
    /// returns the lazy location's entries in block order (`None`: the transaction wrote
    /// nothing there). ESTIMATE markers (none survive a finished block) are left out.
    pub fn drain_final_values(
        &self,
        mut visit: impl FnMut(Location, TxIdx, Value),
    ) -> Vec<Option<Value>> {
        for shard in 0..self.shard_count() {
            self.drain_shard(shard, &mut visit);
        }
        self.drain_lazy()
    }

    /// How many shards the memory has (see [`MvMemory::drain_shard`]).
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// Empties shard `shard` of a finished block's memory, handing each of its locations'
    /// final value with its writer to `visit` (see [`MvMemory::drain_final_values`]).
    /// Different shards can be drained at once.
    pub fn drain_shard(&self, shard: usize, mut visit: impl FnMut(Location, TxIdx, Value)) {
        let Some(shard) = self.shards.get(shard) else {
            return;
        };
        for (location, versions) in shard.write().drain() {
            if let Some((tx, Entry::Written(_, value))) = versions.0.into_iter().next_back() {
                visit(location, tx, value);
            }
        }
    }

    /// Empties the lazy location of a finished block's memory: its entries in block order
    /// (`None`: the transaction wrote nothing there).
    pub fn drain_lazy(&self) -> Vec<Option<Value>> {
        self.lazy_slots
            .iter()
            .map(|slot| match slot.lock().take() {
                Some(Entry::Written(_, value)) => Some(value),
                _ => None,
            })
            .collect()
    }

    /// Whether any ESTIMATE marker is left (none may survive the end of a block).
    pub fn has_estimates(&self) -> bool {
        let in_shards = self.shards.iter().any(|shard| {
            shard
                .read()
                .values()
                .any(|entries| entries.values().any(|e| matches!(e, Entry::Estimate)))
        });
        in_shards
            || self
                .lazy_slots
                .iter()
                .any(|slot| matches!(*slot.lock(), Some(Entry::Estimate)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(any(debug_assertions, feature = "invariants"))]
    fn the_read_invariant_rejects_anything_but_the_highest_lower_write() {
        let mut versions = Versions(SmallVec::new());
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
    fn reads_the_highest_lower_write() {
        let mv = MvMemory::new(4);
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
        let mv = MvMemory::new(4);
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
        let mv = MvMemory::new(3);
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
        let mv = MvMemory::new(2);
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
        let loc = Location::Account(Address::ZERO);
        lazy_reads_in(MvMemory::new(4), loc);
        lazy_reads_in(MvMemory::new(4).with_lazy_location(loc), loc);
    }

    #[test]
    fn the_lazy_location_reads_and_aborts_like_any_other() {
        let loc = Location::Account(Address::ZERO);
        let mv = MvMemory::new(3).with_lazy_location(loc);
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
        assert!(matches!(mv.read_lazy(&loc, 0), LazyRead::Value(None, ref f) if f.is_empty()));
        assert!(matches!(mv.read_lazy(&loc, 2), LazyRead::Blocked(1)));
        mv.record(v(1, 0), vec![(loc, Value::Fee(U256::from(5)))]);
        assert!(matches!(mv.read_lazy(&loc, 2), LazyRead::Blocked(0)));
        mv.record(v(0, 0), vec![(loc, Value::Fee(U256::from(3)))]);
        match mv.read_lazy(&loc, 3) {
            LazyRead::Blocked(2) => {}
            other => panic!("{other:?}"),
        }
        match mv.read_lazy(&loc, 2) {
            LazyRead::Value(None, fees) => assert_eq!(fees, vec![U256::from(3), U256::from(5)]),
            other => panic!("{other:?}"),
        }
        mv.record(
            v(0, 1),
            vec![(loc, Value::Account(Some(AccountInfo::default())))],
        );
        match mv.read_lazy(&loc, 2) {
            LazyRead::Value(Some(Some(_)), fees) => assert_eq!(fees, vec![U256::from(5)]),
            other => panic!("{other:?}"),
        }
    }
}
