//! The world state an executor runs a block against. [`PreState`] is the state before the
//! block in revm's form, built once (as a client's state database would hold it) and shared,
//! read-only, by every executor and every run. [`BlockState`] is the block's changes layered
//! over it: committing a transaction writes only the overlay, so executing a block never copies
//! the pre-state. The commit applies the EIP-161 rules. The overlay is kept in [`Part`]s by
//! address, so that whole-overlay work can be split between threads.

use crate::mv_memory::{Location, Value};
use alloy_primitives::map::{AddressMap, U256Map};
use alloy_primitives::{keccak256, Address, B256, U256};
use lockstep_spec::types::{Account, BlockEnv, WorldState};
use lockstep_spec::Fork;
use revm::bytecode::Bytecode;
use revm::database_interface::{DatabaseRef, WrapDatabaseRef};
use revm::state::{AccountInfo, EvmState};
use std::collections::hash_map::Entry;
use std::collections::BTreeMap;
use std::convert::Infallible;

mod slots;
mod warm;
use slots::Slots;
pub use warm::{MAX_WARM_BYTES, MAX_WARM_BYTES_PER_TX};

/// An account as revm sees it: info with analysed code, and storage.
#[derive(Clone, Debug, Default)]
pub struct StateAccount {
    /// Balance, nonce, code hash and analysed code.
    pub info: AccountInfo,
    /// Non-zero storage slots.
    pub storage: U256Map<U256>,
}

/// Builds revm's bytecode for raw code: EIP-7702 delegation designators where the bytes are
/// one, legacy code otherwise (an `0xef01` prefix predating EIP-3541 is ordinary code).
pub fn bytecode(code: &alloy_primitives::Bytes) -> Bytecode {
    Bytecode::new_raw_checked(code.clone()).unwrap_or_else(|_| Bytecode::new_legacy(code.clone()))
}

/// The account info revm expects for a lockstep account. An account without code carries no
/// bytecode (see [`new_account`]).
pub fn account_info(account: &Account) -> AccountInfo {
    if account.code.is_empty() {
        let mut info = new_account();
        info.balance = account.balance;
        info.nonce = account.nonce;
        return info;
    }
    let code = bytecode(&account.code);
    AccountInfo::new(
        account.balance,
        account.nonce,
        keccak256(&account.code),
        code,
    )
}

/// A fresh account: no balance, nonce or code, and no bytecode object (`code: None`, which
/// revm reads as "load by hash", and for the empty code's hash supplies its own). revm's
/// `AccountInfo::default()` holds its one shared empty bytecode instead: every clone and drop
/// of such an account changes a reference count that every account of every thread shares, a
/// cache line the cores of a parallel run would pass back and forth on each transaction.
pub fn new_account() -> AccountInfo {
    static EMPTY: std::sync::OnceLock<AccountInfo> = std::sync::OnceLock::new();
    EMPTY
        .get_or_init(|| AccountInfo::default().without_code())
        .copy_without_code()
}

/// What a write of an account changes: its balance, nonce and code hash (the code follows
/// the hash). Also what a read of it is validated by ([`crate::beneficiary::Summary`]).
pub(crate) fn written_fields(info: &AccountInfo) -> (U256, u64, B256) {
    (info.balance, info.nonce, info.code_hash)
}

/// A copy of `info` as lockstep's states and write sets keep it: an account without code
/// leaves behind the shared empty bytecode revm gave it (see [`new_account`]), without
/// touching its reference count.
pub fn detached(info: &AccountInfo) -> AccountInfo {
    if info.code_hash == revm::primitives::KECCAK_EMPTY {
        info.copy_without_code()
    } else {
        info.clone()
    }
}

/// The state before a block, in revm's form: every account with its analysed code, and the
/// hashes of recent blocks. Immutable once built.
#[derive(Clone, Debug, Default)]
pub struct PreState {
    accounts: AddressMap<StateAccount>,
    block_hashes: BTreeMap<u64, B256>,
    /// Whether the balances of every account sum to less than 2^256.
    balances_fit: bool,
    /// About how much memory the accounts and their slots take (see [`PreState::warm`]).
    bytes: usize,
}

impl PreState {
    /// Converts lockstep's pre-state (and the block hashes the block may ask for).
    pub fn new(pre: &WorldState, env: &BlockEnv) -> Self {
        let accounts = pre
            .accounts
            .iter()
            .map(|(address, account)| {
                let storage = account
                    .storage
                    .iter()
                    .filter(|(_, v)| !v.is_zero())
                    .map(|(k, v)| (*k, *v))
                    .collect();
                let info = account_info(account);
                (*address, StateAccount { info, storage })
            })
            .collect::<AddressMap<StateAccount>>();
        let balances_fit = accounts
            .values()
            .try_fold(U256::ZERO, |sum, account| {
                sum.checked_add(account.info.balance)
            })
            .is_some();
        PreState {
            bytes: warm::bytes(&accounts),
            accounts,
            block_hashes: env.block_hashes.clone(),
            balances_fit,
        }
    }

    /// Whether no balance can overflow during the block's transactions: the balances of
    /// the state before the block sum to less than 2^256, and transactions only move ether
    /// between accounts or burn it (rewards and withdrawals come after them), so no account
    /// can ever hold more than that sum. (A state test may hand an account 2^256 - 1 wei.)
    pub fn balances_fit(&self) -> bool {
        self.balances_fit
    }

    /// The account at `address` before the block, if it existed.
    pub fn account(&self, address: &Address) -> Option<&StateAccount> {
        self.accounts.get(address)
    }

    /// The hash of block `number`, if the block may read it.
    pub fn block_hash(&self, number: u64) -> Option<B256> {
        self.block_hashes.get(&number).copied()
    }
}

/// What the block did to one account.
#[derive(Clone, Debug)]
enum Change {
    /// The account no longer exists (destroyed, or deleted under EIP-161).
    Deleted,
    /// The account exists with this info; `storage` holds the slots written during the block
    /// (zero included); every other slot reads from the pre-state, or as zero when `cleared`
    /// (the account was created or re-created during the block).
    Live {
        info: AccountInfo,
        cleared: bool,
        storage: Slots,
    },
}

/// The overlay is split by address into this many parts, so that work over the whole
/// overlay (merging shards, building the state after a Block-STM run) can go part by part on
/// several threads.
pub const PARTS: usize = 16;

// `part_of` takes the top bits of a hash.
const _: () = assert!(PARTS.is_power_of_two());

/// Room to reserve in each part for about `accounts` changed accounts: a little slack, since
/// addresses do not spread over the parts exactly evenly.
fn room_per_part(accounts: usize) -> usize {
    if accounts == 0 {
        0
    } else {
        accounts / PARTS + accounts / (4 * PARTS) + 4
    }
}

/// The part of the overlay that holds `address`: a multiplicative hash of all twenty bytes,
/// its top bits. Real addresses are uniform, but generated and vanity ones are not: with the
/// exclusive-or of three of their bytes, the transfers of a shard of `builtin:transfers`
/// (every other sender of a numbered series) fell into half of the parts, which outgrew
/// their room and were rehashed in every block.
pub fn part_of(address: &Address) -> usize {
    let bytes = address.as_slice();
    let word = |at: usize| {
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[at..at + 8]);
        u64::from_le_bytes(word)
    };
    let mut head = [0u8; 8];
    head[..4].copy_from_slice(&bytes[..4]);
    let mixed = word(12) ^ word(4).rotate_left(29) ^ u64::from_le_bytes(head).rotate_left(47);
    let hash = mixed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (hash >> (64 - PARTS.trailing_zeros())) as usize
}

/// One part of a block's overlay: the changes of the accounts whose [`part_of`] is its
/// index. Every rule of the overlay lives here; [`BlockState`] picks the part.
#[derive(Clone, Debug, Default)]
pub struct Part {
    changes: AddressMap<Change>,
}

impl Part {
    /// Makes room for `additional` more changed accounts.
    pub fn reserve(&mut self, additional: usize) {
        self.changes.reserve(additional);
    }

    /// How many accounts this part has changed (or touched).
    pub fn len(&self) -> usize {
        self.changes.len()
    }

    /// About how much work moving this part into another is: one for each account, and
    /// one for each of its written slots.
    pub fn weight(&self) -> usize {
        self.changes
            .values()
            .map(|change| match change {
                Change::Live { storage, .. } => 1 + storage.len(),
                Change::Deleted => 1,
            })
            .sum()
    }

    /// Whether no account of this part changed.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    fn info<'p>(&'p self, pre: &'p PreState, address: &Address) -> Option<&'p AccountInfo> {
        match self.changes.get(address) {
            Some(Change::Deleted) => None,
            Some(Change::Live { info, .. }) => Some(info),
            None => pre.account(address).map(|a| &a.info),
        }
    }

    fn storage(&self, pre: &PreState, address: &Address, slot: &U256) -> U256 {
        match self.changes.get(address) {
            Some(Change::Deleted) => return U256::ZERO,
            Some(Change::Live {
                cleared, storage, ..
            }) => {
                if let Some(value) = storage.get(slot) {
                    return *value;
                }
                if *cleared {
                    return U256::ZERO;
                }
            }
            None => {}
        }
        pre.account(address)
            .and_then(|a| a.storage.get(slot).copied())
            .unwrap_or_default()
    }

    fn has_storage(&self, pre: &PreState, address: &Address) -> bool {
        let pre = pre.account(address).map(|a| &a.storage);
        match self.changes.get(address) {
            Some(Change::Deleted) => false,
            Some(Change::Live {
                cleared, storage, ..
            }) => {
                storage.values().any(|v| !v.is_zero())
                    || (!cleared
                        && pre.is_some_and(|pre| pre.keys().any(|k| !storage.contains_key(k))))
            }
            None => pre.is_some_and(|pre| !pre.is_empty()),
        }
    }

    /// The overlay entry of a live account, created from its current value when needed (an
    /// account absent now starts with cleared storage).
    fn live(
        &mut self,
        pre: &PreState,
        address: Address,
    ) -> (&mut AccountInfo, &mut bool, &mut Slots) {
        let (info, cleared, storage, _) = self.live_or_new(pre, address);
        (info, cleared, storage)
    }

    /// [`Part::live`], and whether the account existed before (an absent or deleted one is
    /// made anew).
    fn live_or_new(
        &mut self,
        pre: &PreState,
        address: Address,
    ) -> (&mut AccountInfo, &mut bool, &mut Slots, bool) {
        let mut existed = true;
        let change = self
            .changes
            .entry(address)
            .or_insert_with(|| match pre.account(&address) {
                Some(account) => Change::Live {
                    info: account.info.clone(),
                    cleared: false,
                    storage: Slots::default(),
                },
                None => {
                    existed = false;
                    Change::Live {
                        info: new_account(),
                        cleared: true,
                        storage: Slots::default(),
                    }
                }
            });
        if matches!(change, Change::Deleted) {
            existed = false;
            *change = Change::Live {
                info: new_account(),
                cleared: true,
                storage: Slots::default(),
            };
        }
        match change {
            Change::Live {
                info,
                cleared,
                storage,
            } => (info, cleared, storage, existed),
            Change::Deleted => unreachable!("replaced by a live entry just above"),
        }
    }

    fn delete(&mut self, address: Address) {
        self.changes.insert(address, Change::Deleted);
    }

    fn commit_account(
        &mut self,
        pre: &PreState,
        fork: Fork,
        address: Address,
        account: &revm::state::Account,
    ) {
        let info = &account.info;
        if !account.is_touched() {
            return;
        }
        if account.is_selfdestructed() {
            self.delete(address);
            return;
        }
        // EIP-161: a touched account that is empty is deleted, from Spurious Dragon on.
        if fork >= Fork::SpuriousDragon && info.is_empty() {
            self.delete(address);
            return;
        }
        let created = account.is_created();
        let (live_info, cleared, storage) = self.live(pre, address);
        if created {
            *cleared = true;
            storage.clear();
        }
        *live_info = detached(info);
        for (slot, value) in &account.storage {
            storage.insert(*slot, value.present_value());
        }
    }

    /// [`Part::commit_account`], telling `wrote` each location whose value the commit
    /// changes: for an account deleted or created, its storage reset and the account; for
    /// any other, the account where its balance, nonce or code hash changes (or it did not
    /// exist) and each slot whose value differs from the one the state held. An account
    /// merely touched, or absent and deleted again, changes nothing. Returns whether the
    /// account's storage was reset. One lookup of the account and one insertion per slot,
    /// where reading the old values first and then committing took two of each.
    fn commit_account_reporting(
        &mut self,
        pre: &PreState,
        fork: Fork,
        address: Address,
        account: &revm::state::Account,
        wrote: &mut impl FnMut(Location),
    ) -> bool {
        if !account.is_touched() {
            return false;
        }
        let deleted = account.is_selfdestructed()
            || (fork >= Fork::SpuriousDragon && account.info.is_empty());
        if deleted || account.is_created() {
            let absent = self.info(pre, &address).is_none();
            self.commit_account(pre, fork, address, account);
            if deleted && !account.is_created() && absent {
                return false;
            }
            wrote(Location::StorageReset(address));
            wrote(Location::Account(address));
            return true;
        }
        let pre_account = pre.account(&address);
        let (info, cleared, storage, existed) = self.live_or_new(pre, address);
        let now = &account.info;
        if !existed || written_fields(info) != written_fields(now) {
            wrote(Location::Account(address));
        }
        *info = detached(now);
        for (slot, value) in &account.storage {
            let new = value.present_value();
            let old = storage
                .insert(*slot, new)
                .unwrap_or_else(|| match pre_account {
                    Some(pre) if !*cleared => pre.storage.get(slot).copied().unwrap_or_default(),
                    _ => U256::ZERO,
                });
            if old != new {
                wrote(Location::Storage(address, *slot));
            }
        }
        false
    }

    /// Takes into this part what `other`, the same part of another copy of the same start
    /// (`start`, this part's counterpart in the state both began from) that ran other
    /// transactions of the block, wrote: the accounts only `other` has changed, whole, and of
    /// the accounts both have, `other`'s info and slots where they differ from the start's.
    ///
    /// This is sharded execution's merge: the shards wrote disjoint locations and reset no
    /// account's storage. A copy that did not write a location holds it as it was at the
    /// start (it holds the start plus its own writes), so where the two differ, the one that
    /// differs from the start wrote it; where they agree, either is right. No record of who
    /// wrote what is asked (see [`crate::sharded::first_writes`]).
    pub fn absorb(&mut self, pre: &PreState, start: &Part, other: Part) {
        // One growth of the table, to its final size, rather than one per doubling on the way.
        self.changes.reserve(other.changes.len());
        for (address, change) in other.changes {
            let Change::Live {
                info,
                cleared,
                storage,
            } = change
            else {
                continue;
            };
            match self.changes.entry(address) {
                // Only `other` has the account: take its entry whole. What it holds beyond
                // its writes (a touched account, a slot only read) is the value at the
                // start, which this part shows for the account anyway.
                alloy_primitives::map::Entry::Vacant(entry) => {
                    entry.insert(Change::Live {
                        info,
                        cleared,
                        storage,
                    });
                }
                alloy_primitives::map::Entry::Occupied(_) => {
                    let info_written = start.info(pre, &address).map(written_fields)
                        != Some(written_fields(&info));
                    let (live_info, _, live_storage) = self.live(pre, address);
                    if info_written {
                        *live_info = info;
                    }
                    // A slot this part lacks reads here as at the start, and `other` holds
                    // either its write or the start's value (a slot it only read): either is
                    // right. Of a slot both hold, `other`'s value is right where it is not
                    // the start's.
                    live_storage.take_from(storage, |slot, theirs| {
                        *theirs != start.storage(pre, &address, slot)
                    });
                }
            }
        }
    }

    /// See [`BlockState::wipe_storage`].
    pub fn wipe_storage(&mut self, pre: &PreState, address: Address) {
        if matches!(self.changes.get(&address), Some(Change::Deleted)) {
            return;
        }
        let (_, cleared, storage) = self.live(pre, address);
        *cleared = true;
        storage.clear();
    }

    /// See [`BlockState::set_info`].
    pub fn set_info(&mut self, address: Address, info: Option<AccountInfo>) {
        let Some(info) = info else {
            self.delete(address);
            return;
        };
        // One probe: materialising a block sets every changed account once.
        match self.changes.entry(address) {
            Entry::Occupied(mut entry) => match entry.get_mut() {
                Change::Live { info: current, .. } => *current = info,
                change @ Change::Deleted => {
                    *change = Change::Live {
                        info,
                        cleared: true,
                        storage: Slots::default(),
                    }
                }
            },
            // Not cleared: the pre-state's slots show through (an account absent before the
            // block has none).
            Entry::Vacant(entry) => {
                entry.insert(Change::Live {
                    info,
                    cleared: false,
                    storage: Slots::default(),
                });
            }
        }
    }

    /// See [`BlockState::set_slot`].
    pub fn set_slot(&mut self, pre: &PreState, address: Address, slot: U256, value: U256) {
        if matches!(self.changes.get(&address), Some(Change::Deleted)) {
            return;
        }
        self.live(pre, address).2.insert(slot, value);
    }

    /// Applies one write of a write set ([`crate::vm`]'s, in the form the multi-version
    /// memory holds), as the commit of its transaction did.
    pub fn apply_write(&mut self, pre: &PreState, fork: Fork, location: Location, value: Value) {
        match (location, value) {
            (Location::Account(address), Value::Account(info)) => self.set_info(address, info),
            (Location::Account(address), Value::Fee(fee)) => self.credit(pre, fork, address, fee),
            (Location::StorageReset(address), _) => self.wipe_storage(pre, address),
            (Location::Storage(address, slot), Value::Slot(value)) => {
                self.set_slot(pre, address, slot, value);
            }
            // Nothing else is written at these locations.
            _ => {}
        }
    }

    /// See [`BlockState::credit`].
    pub fn credit(&mut self, pre: &PreState, fork: Fork, address: Address, amount: U256) {
        if fork >= Fork::SpuriousDragon && amount.is_zero() {
            if self.info(pre, &address).is_some_and(AccountInfo::is_empty) {
                self.delete(address);
            }
            return;
        }
        let (info, _, _) = self.live(pre, address);
        info.balance = info.balance.saturating_add(amount);
    }

    fn take_balance(&mut self, pre: &PreState, address: &Address) -> U256 {
        if self.info(pre, address).is_none() {
            return U256::ZERO;
        }
        let (info, _, _) = self.live(pre, *address);
        std::mem::take(&mut info.balance)
    }
}

/// The state during a block: the changes made so far, over the pre-state, in [`PARTS`]
/// parts by address.
#[derive(Clone, Debug)]
pub struct BlockState<'a> {
    pre: &'a PreState,
    parts: Vec<Part>,
}

impl<'a> BlockState<'a> {
    /// The state at the start of a block on `pre`.
    pub fn new(pre: &'a PreState) -> Self {
        Self::with_capacity(pre, 0)
    }

    /// The state at the start of a block on `pre` that is expected to change about
    /// `accounts` accounts (the overlay is sized once instead of growing).
    pub fn with_capacity(pre: &'a PreState, accounts: usize) -> Self {
        let per_part = room_per_part(accounts);
        let parts = (0..PARTS)
            .map(|_| {
                let mut changes = AddressMap::default();
                changes.reserve(per_part);
                Part { changes }
            })
            .collect();
        BlockState { pre, parts }
    }

    /// A copy of this state with room for about `accounts` more changed accounts. Unlike
    /// `clone`, which copies every part's table at its full capacity (for a state sized for a
    /// whole block, megabytes of empty buckets, copied and paged in), it copies only the
    /// changes there are: the way to give part of a block a state of its own.
    pub fn clone_with_room(&self, accounts: usize) -> Self {
        let per_part = room_per_part(accounts);
        let parts = self
            .parts
            .iter()
            .map(|part| {
                let mut changes = AddressMap::default();
                changes.reserve(part.changes.len() + per_part);
                changes.extend(part.changes.iter().map(|(a, c)| (*a, c.clone())));
                Part { changes }
            })
            .collect();
        BlockState {
            pre: self.pre,
            parts,
        }
    }

    /// The state made of `parts` (as [`BlockState::into_parts`] gave them, in order) over
    /// `pre`. Parts missing at the end are empty.
    pub fn from_parts(pre: &'a PreState, mut parts: Vec<Part>) -> Self {
        parts.resize_with(PARTS, Part::default);
        BlockState { pre, parts }
    }

    /// The parts of the overlay, in order of their index.
    pub fn into_parts(self) -> Vec<Part> {
        self.parts
    }

    /// The parts of the overlay, in order of their index, borrowed.
    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// The state before the block.
    pub fn pre(&self) -> &'a PreState {
        self.pre
    }

    fn part(&self, address: &Address) -> &Part {
        &self.parts[part_of(address)]
    }

    fn part_mut(&mut self, address: &Address) -> &mut Part {
        &mut self.parts[part_of(address)]
    }

    /// The account info at `address` now, if the account exists.
    pub fn info(&self, address: &Address) -> Option<&AccountInfo> {
        self.part(address).info(self.pre, address)
    }

    /// The value of a storage slot now (zero for absent accounts and slots).
    pub fn storage(&self, address: &Address, slot: &U256) -> U256 {
        self.part(address).storage(self.pre, address, slot)
    }

    /// Whether the account at `address` holds a non-zero storage slot now (EIP-7610).
    pub fn has_storage(&self, address: &Address) -> bool {
        self.part(address).has_storage(self.pre, address)
    }

    #[cfg(test)]
    fn delete(&mut self, address: Address) {
        self.part_mut(&address).delete(address);
    }

    /// Commits the changes of one transaction (or system call) under `fork`'s rules.
    pub fn commit(&mut self, fork: Fork, changes: EvmState) {
        self.commit_ref(fork, &changes);
    }

    /// [`BlockState::commit`] of changes that the caller keeps (sharded execution commits a
    /// transaction into its shard's state and again, later, into the block's).
    pub fn commit_ref(&mut self, fork: Fork, changes: &EvmState) {
        for (address, account) in changes {
            let pre = self.pre;
            self.part_mut(address)
                .commit_account(pre, fork, *address, account);
        }
    }

    /// [`BlockState::commit_ref`], telling `wrote` each location whose value the commit
    /// changes (see `Part::commit_account_reporting`); returns whether it reset an
    /// account's storage.
    pub fn commit_reporting(
        &mut self,
        fork: Fork,
        changes: &EvmState,
        mut wrote: impl FnMut(Location),
    ) -> bool {
        let mut reset = false;
        for (address, account) in changes {
            let pre = self.pre;
            reset |= self
                .part_mut(address)
                .commit_account_reporting(pre, fork, *address, account, &mut wrote);
        }
        reset
    }

    /// Wipes the storage of `address` (it was destroyed or created during the block): every
    /// slot not written afterwards reads as zero.
    /// A deleted account has no storage to wipe; in either order with [`Self::set_info`], the
    /// result is the same.
    pub fn wipe_storage(&mut self, address: Address) {
        let pre = self.pre;
        self.part_mut(&address).wipe_storage(pre, address);
    }

    /// Sets the account at `address` to `info`, or deletes it (`None`), keeping its storage
    /// as it stands otherwise (a deleted account comes back with none).
    pub fn set_info(&mut self, address: Address, info: Option<AccountInfo>) {
        self.part_mut(&address).set_info(address, info);
    }

    /// Writes one storage slot of a live account (a deleted account has no storage to
    /// write).
    pub fn set_slot(&mut self, address: Address, slot: U256, value: U256) {
        let pre = self.pre;
        self.part_mut(&address).set_slot(pre, address, slot, value);
    }

    /// Applies one write of a write set (see [`Part::apply_write`]).
    pub fn apply_write(&mut self, fork: Fork, location: Location, value: Value) {
        let pre = self.pre;
        self.part_mut(&location.address())
            .apply_write(pre, fork, location, value);
    }

    /// Adds `amount` wei to `address`, creating the account if needed; under EIP-161, a zero
    /// credit to an absent account creates nothing and an empty account it touches is deleted.
    pub fn credit(&mut self, fork: Fork, address: Address, amount: U256) {
        let pre = self.pre;
        self.part_mut(&address).credit(pre, fork, address, amount);
    }

    /// Empties the balance of `address` and returns what it was (the DAO fork's drain).
    pub fn take_balance(&mut self, address: &Address) -> U256 {
        let pre = self.pre;
        self.part_mut(address).take_balance(pre, address)
    }

    /// The world state after the block, in lockstep's data model.
    pub fn to_world_state(&self) -> WorldState {
        let mut world = WorldState::default();
        for (address, account) in &self.pre.accounts {
            if !self.part(address).changes.contains_key(address) {
                world.accounts.insert(
                    *address,
                    world_account(&account.info, account.storage.iter()),
                );
            }
        }
        for (address, change) in self.parts.iter().flat_map(|p| &p.changes) {
            let Change::Live {
                info,
                cleared,
                storage,
            } = change
            else {
                continue;
            };
            let mut account = world_account(info, storage.iter());
            if !cleared {
                if let Some(pre) = self.pre.account(address) {
                    for (slot, value) in &pre.storage {
                        if !storage.contains_key(slot) {
                            account.storage.insert(*slot, *value);
                        }
                    }
                }
            }
            world.accounts.insert(*address, account);
        }
        world
    }
}

/// An account in lockstep's data model (zero slots dropped).
fn world_account<'s>(
    info: &AccountInfo,
    storage: impl Iterator<Item = (&'s U256, &'s U256)>,
) -> Account {
    Account {
        balance: info.balance,
        nonce: info.nonce,
        code: info
            .code
            .as_ref()
            .map(|c| c.original_bytes())
            .unwrap_or_default(),
        storage: storage
            .filter(|(_, v)| !v.is_zero())
            .map(|(k, v)| (*k, *v))
            .collect(),
    }
}

impl DatabaseRef for BlockState<'_> {
    type Error = Infallible;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        Ok(self.info(&address).cloned())
    }

    fn code_by_hash_ref(&self, _code_hash: B256) -> Result<Bytecode, Self::Error> {
        // Every account with code carries it, and revm fills in the empty code of the others
        // itself, so it never asks by hash.
        Ok(Bytecode::default())
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256, Self::Error> {
        Ok(self.storage(&address, &index))
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, Self::Error> {
        Ok(self.pre.block_hash(number).unwrap_or_default())
    }
}

/// revm's `Database` over a borrowed [`BlockState`], for an EVM that lives for one call.
pub type StateReader<'s, 'a> = WrapDatabaseRef<&'s BlockState<'a>>;

/// revm's `Database` over an owned [`BlockState`]: an EVM that runs a whole block holds the
/// state and commits into it between transactions.
pub type OwnedState<'a> = WrapDatabaseRef<BlockState<'a>>;

impl crate::collision::StorageProbe for OwnedState<'_> {
    fn has_storage(&mut self, address: Address) -> Result<bool, Infallible> {
        Ok(self.0.has_storage(&address))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pre() -> PreState {
        let mut world = WorldState::default();
        let mut account = Account {
            balance: U256::from(10),
            nonce: 1,
            ..Default::default()
        };
        account.storage.insert(U256::from(1), U256::from(11));
        account.storage.insert(U256::from(2), U256::from(22));
        world
            .accounts
            .insert(Address::with_last_byte(0xaa), account);
        PreState::new(&world, &BlockEnv::default())
    }

    #[test]
    fn a_commit_reports_exactly_the_locations_it_changes() {
        use revm::state::{Account as RevmAccount, EvmStorageSlot, TransactionId};
        let pre = pre();
        let (a, fresh, gone) = (
            Address::with_last_byte(0xaa),
            Address::with_last_byte(0xbb),
            Address::with_last_byte(0xcc),
        );
        let mut state = BlockState::new(&pre);
        let slot = |original: u64, present: u64| {
            EvmStorageSlot::new_changed(
                U256::from(original),
                U256::from(present),
                TransactionId::ZERO,
            )
        };
        // `a`: same info, slot 1 rewritten with its value, slot 2 changed, slot 3 zero to zero.
        let mut touched = RevmAccount::from(state.info(&a).cloned().unwrap_or_default());
        touched.mark_touch();
        touched.storage.insert(U256::from(1), slot(11, 11));
        touched.storage.insert(U256::from(2), slot(22, 23));
        touched.storage.insert(U256::from(3), slot(0, 0));
        // `fresh`: absent before, given a balance; `gone`: absent, touched and left empty.
        let mut created = RevmAccount::from(new_account());
        created.info.balance = U256::from(1);
        created.mark_touch();
        let mut empty = RevmAccount::from(new_account());
        empty.mark_touch();
        let changes: EvmState = [(a, touched), (fresh, created), (gone, empty)]
            .into_iter()
            .collect();
        for fork in [Fork::Cancun, Fork::Homestead] {
            let mut state = state.clone();
            let mut wrote = Vec::new();
            let reset = state.commit_reporting(fork, &changes, |location| wrote.push(location));
            assert!(!reset);
            wrote.sort_by_key(|location| format!("{location:?}"));
            let mut expected = vec![
                Location::Storage(a, U256::from(2)),
                Location::Account(fresh),
            ];
            // Before EIP-161 the empty account touched comes to exist.
            if fork < Fork::SpuriousDragon {
                expected.push(Location::Account(gone));
            }
            expected.sort_by_key(|location| format!("{location:?}"));
            assert_eq!(wrote, expected, "{fork:?}");
            assert_eq!(state.storage(&a, &U256::from(2)), U256::from(23));
            assert_eq!(state.info(&gone).is_some(), fork < Fork::SpuriousDragon);
        }
        // A created account resets its storage, and says so.
        let mut again = RevmAccount::from(state.info(&a).cloned().unwrap_or_default());
        again.mark_touch();
        again.mark_created();
        let changes: EvmState = [(a, again)].into_iter().collect();
        let mut wrote = Vec::new();
        assert!(state.commit_reporting(Fork::Cancun, &changes, |l| wrote.push(l)));
        assert_eq!(wrote, [Location::StorageReset(a), Location::Account(a)]);
        assert_eq!(state.storage(&a, &U256::from(1)), U256::ZERO);
    }

    #[test]
    fn absorbing_takes_what_the_other_copy_changed_from_the_start() {
        use revm::state::{Account as RevmAccount, EvmStorageSlot, TransactionId};
        let pre = pre();
        let (a, fresh) = (Address::with_last_byte(0xaa), Address::with_last_byte(0xbb));
        let slot = |present: u64| {
            EvmStorageSlot::new_changed(U256::ZERO, U256::from(present), TransactionId::ZERO)
        };
        // The start already differs from the pre-state: slot 2 is 30 there.
        let mut start = BlockState::new(&pre);
        let mut system = RevmAccount::from(start.info(&a).cloned().unwrap_or_default());
        system.mark_touch();
        system.storage.insert(U256::from(2), slot(30));
        start.commit(Fork::Cancun, [(a, system)].into_iter().collect());
        // Copy `ours` writes slot 1 and only reads slot 2 (30, the start's); copy `theirs`
        // only reads slot 1 (11), writes slot 2, gives `a` a balance and creates `fresh`.
        let commit = |changes: Vec<(Address, RevmAccount)>| {
            let mut copy = start.clone();
            copy.commit(Fork::Cancun, changes.into_iter().collect());
            copy
        };
        let mut account = RevmAccount::from(start.info(&a).cloned().unwrap_or_default());
        account.mark_touch();
        let mut mine = account.clone();
        mine.storage.insert(U256::from(1), slot(12));
        mine.storage.insert(U256::from(2), slot(30));
        let mut other = account;
        other.info.balance = U256::from(99);
        other.storage.insert(U256::from(1), slot(11));
        other.storage.insert(U256::from(2), slot(31));
        let mut created = RevmAccount::from(new_account());
        created.info.balance = U256::from(1);
        created.mark_touch();
        let ours = commit(vec![(a, mine)]);
        let theirs = commit(vec![(a, other), (fresh, created)]);
        // Either way round, the merge holds both copies' writes and nothing they only read.
        for (base, piece) in [(ours.clone(), theirs.clone()), (theirs, ours)] {
            let mut parts = base.into_parts();
            for (index, piece) in piece.into_parts().into_iter().enumerate() {
                parts[index].absorb(&pre, &start.parts()[index], piece);
            }
            let merged = BlockState::from_parts(&pre, parts);
            assert_eq!(merged.storage(&a, &U256::from(1)), U256::from(12));
            assert_eq!(merged.storage(&a, &U256::from(2)), U256::from(31));
            assert_eq!(merged.info(&a).map(|i| i.balance), Some(U256::from(99)));
            assert_eq!(merged.info(&fresh).map(|i| i.balance), Some(U256::from(1)));
        }
    }

    #[test]
    fn overlay_reads_fall_through_and_merge_back() {
        let pre = pre();
        let a = Address::with_last_byte(0xaa);
        let mut state = BlockState::new(&pre);
        state.credit(Fork::Cancun, a, U256::from(5));
        assert_eq!(state.info(&a).map(|i| i.balance), Some(U256::from(15)));
        assert_eq!(state.storage(&a, &U256::from(2)), U256::from(22));
        let world = state.to_world_state();
        assert_eq!(world.accounts[&a].balance, U256::from(15));
        assert_eq!(world.accounts[&a].storage.len(), 2);
        // The pre-state itself is untouched.
        assert_eq!(
            pre.account(&a).map(|acc| acc.info.balance),
            Some(U256::from(10))
        );
    }

    #[test]
    fn a_deleted_then_recreated_account_loses_its_old_storage() {
        let pre = pre();
        let a = Address::with_last_byte(0xaa);
        let mut state = BlockState::new(&pre);
        state.delete(a);
        assert!(state.info(&a).is_none());
        assert_eq!(state.storage(&a, &U256::from(1)), U256::ZERO);
        state.credit(Fork::Cancun, a, U256::from(1));
        assert_eq!(state.storage(&a, &U256::from(1)), U256::ZERO);
        let world = state.to_world_state();
        assert!(world.accounts[&a].storage.is_empty());
        assert_eq!(world.accounts[&a].nonce, 0);
    }

    #[test]
    fn zero_credit_deletes_an_empty_account_only_after_spurious_dragon() {
        let mut world = WorldState::default();
        let empty = Address::with_last_byte(1);
        world.accounts.insert(empty, Account::default());
        let pre = PreState::new(&world, &BlockEnv::default());
        let mut state = BlockState::new(&pre);
        state.credit(Fork::Homestead, empty, U256::ZERO);
        assert!(state.info(&empty).is_some());
        state.credit(Fork::SpuriousDragon, empty, U256::ZERO);
        assert!(state.info(&empty).is_none());
        assert!(state.to_world_state().accounts.is_empty());
    }

    #[test]
    fn parts_are_filled_evenly_by_numbered_addresses() {
        // Every other address of a series numbered in its last bytes (what one shard of
        // generated transfers holds), and a series numbered in its first bytes.
        let numbered = |n: u64, at: usize| {
            let mut bytes = [0x10u8; 20];
            bytes[at..at + 8].copy_from_slice(&n.to_be_bytes());
            Address::from(bytes)
        };
        for addresses in [
            (0..3_200u64)
                .map(|n| numbered(2 * n, 12))
                .collect::<Vec<_>>(),
            (0..3_200u64).map(|n| numbered(n << 8, 0)).collect(),
        ] {
            let mut counts = [0usize; PARTS];
            for address in &addresses {
                counts[part_of(address)] += 1;
            }
            // 200 each on average: none holds fewer than half that or more than half again.
            assert!(
                counts.iter().all(|&c| (100..300).contains(&c)),
                "{counts:?}"
            );
        }
    }

    #[test]
    fn a_copy_with_room_holds_the_same_changes_and_goes_its_own_way() {
        let pre = pre();
        let a = Address::with_last_byte(0xaa);
        let gone = Address::with_last_byte(0xbb);
        let mut state = BlockState::with_capacity(&pre, 1_000);
        state.credit(Fork::Cancun, a, U256::from(5));
        state.apply_write(
            Fork::Cancun,
            Location::Storage(a, U256::from(2)),
            Value::Slot(U256::from(7)),
        );
        state.credit(Fork::Cancun, gone, U256::from(3));
        state.delete(gone);
        let mut copy = state.clone_with_room(10);
        assert_eq!(copy.to_world_state(), state.to_world_state());
        assert_eq!(copy.storage(&a, &U256::from(2)), U256::from(7));
        assert!(copy.info(&gone).is_none());
        copy.credit(Fork::Cancun, a, U256::from(1));
        assert_eq!(copy.info(&a).map(|i| i.balance), Some(U256::from(16)));
        assert_eq!(state.info(&a).map(|i| i.balance), Some(U256::from(15)));
    }
}
