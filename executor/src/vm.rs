//! One incarnation of one transaction: revm runs it against a `Database` that reads through
//! the multi-version memory (falling through to the state before the block) and records every
//! read; its changes become the incarnation's write set. Also the validation of a read set.

use crate::beneficiary::{self, DeferredFee, Summary};
use crate::env;
use crate::local_code::LocalCode;
use crate::mv_memory::{LazyRead, Location, MvMemory, Read, TxIdx, Value, Version};
use crate::sequential;
use crate::state::BlockState;
use crate::transfer::{self, Transfer};
use alloy_primitives::map::AddressMap;
use alloy_primitives::{Address, B256, U256};
use lockstep_spec::types::{BlockError, Transaction};
use lockstep_spec::Fork;
use revm::bytecode::Bytecode;
use revm::context::result::{EVMError, ExecutionResult};
use revm::context::{BlockEnv, CfgEnv, Context, ContextSetters, ContextTr, Journal};
use revm::database_interface::{DBErrorMarker, Database};
use revm::handler::{Handler, MainnetContext, MainnetEvm};
use revm::state::{AccountInfo, EvmState};
use revm::{ExecuteEvm, MainBuilder, MainContext};
use smallvec::SmallVec;

/// Everything an incarnation needs besides the multi-version memory.
#[derive(Debug)]
pub struct BlockContext<'a> {
    /// The fork's rules.
    pub fork: Fork,
    /// The state before the transactions (after the pre-block system calls).
    pub pre: &'a BlockState<'a>,
    /// revm's configuration.
    pub cfg: CfgEnv,
    /// revm's block environment.
    pub block_env: BlockEnv,
    /// The block's transactions (each converted to revm's form by the worker that runs it,
    /// so that the conversion is not a serial step before the parallel phase).
    pub txs: &'a [Transaction],
    /// Per transaction, whether it may credit its recipient if it is a plain transfer,
    /// instead of writing its whole account ([`crate::transfer::Creditable`]).
    pub credit_recipients: Vec<bool>,
    /// The seeded bug switched on, if any (mutation testing).
    #[cfg(feature = "faults")]
    pub fault: Option<crate::faults::Fault>,
}

impl BlockContext<'_> {
    fn beneficiary(&self) -> Address {
        self.block_env.beneficiary
    }

    /// Whether the seeded bug `fault` is switched on.
    #[cfg(feature = "faults")]
    pub fn has_fault(&self, fault: crate::faults::Fault) -> bool {
        self.fault == Some(fault)
    }
}

/// How a read obtained its value, to be checked again by validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The state before the block.
    PreState,
    /// The write of this version.
    Version(Version),
    /// The beneficiary's lazily credited account, or an account whose highest write below
    /// was a credit, with what it amounted to (boxed: such reads are rare, and inline the
    /// summary would more than double every read entry, which every transaction records
    /// several of).
    Lazy(Box<Summary>),
    /// The account's highest full write below (`None`: the state before the block), its
    /// credits left out: what a plain transfer that credits its recipient read of it.
    Base(Option<Version>),
}

/// One read of an incarnation.
#[derive(Clone, Debug)]
pub struct ReadEntry {
    /// Where.
    pub location: Location,
    /// From what.
    pub origin: Origin,
}

/// A read hit a write of an unfinished incarnation: the transaction must wait for `0`.
#[derive(Clone, Copy, Debug, thiserror::Error)]
#[error("read blocked on transaction {0}")]
pub struct Blocked(pub TxIdx);

impl DBErrorMarker for Blocked {}

/// Accounts [`AccountsRead`] keeps in a list before a map takes over.
const ACCOUNTS_LISTED: usize = 8;

/// What each account read of an incarnation returned, to tell later which touched accounts
/// changed. An incarnation reads a handful of accounts (a token transfer: its sender and the
/// token), found in a short list faster than in a map (no hashing, no table to clear); a
/// transaction that reads more than [`ACCOUNTS_LISTED`] keeps the rest in a map.
#[derive(Debug, Default)]
pub(crate) struct AccountsRead {
    listed: SmallVec<[(Address, Summary); ACCOUNTS_LISTED]>,
    more: AddressMap<Summary>,
}

impl AccountsRead {
    /// Records that the account at `address` read as `summary` (replacing an earlier read).
    fn insert(&mut self, address: Address, summary: Summary) {
        if let Some(entry) = self.listed.iter_mut().find(|(a, _)| *a == address) {
            entry.1 = summary;
        } else if self.listed.len() < ACCOUNTS_LISTED {
            self.listed.push((address, summary));
        } else {
            self.more.insert(address, summary);
        }
    }

    /// What the account at `address` read as, if it was read.
    fn get(&self, address: &Address) -> Option<&Summary> {
        match self.listed.iter().find(|(a, _)| a == address) {
            Some((_, summary)) => Some(summary),
            None if self.more.is_empty() => None,
            None => self.more.get(address),
        }
    }

    /// Forgets every read (keeping the allocations).
    fn clear(&mut self) {
        self.listed.clear();
        if !self.more.is_empty() {
            self.more.clear();
        }
    }
}

/// revm's database for one incarnation of transaction `tx`.
pub(crate) struct VmDb<'a> {
    ctx: &'a BlockContext<'a>,
    mv: &'a MvMemory,
    tx: TxIdx,
    reads: Vec<ReadEntry>,
    /// What each account read returned, to tell later which touched accounts changed.
    accounts: AccountsRead,
    /// Whether account reads fill `accounts` (the transfer fast path writes without it).
    pub(crate) track_accounts: bool,
    blocked: Option<TxIdx>,
    /// This worker's copies of the contracts' code.
    code: LocalCode,
}

impl VmDb<'_> {
    fn block(&mut self, on: TxIdx) -> Blocked {
        self.blocked = Some(on);
        Blocked(on)
    }

    /// The account at `address` as its highest full write below left it (the pre-state if
    /// none), the credits since left out: its code and existence before them, all that a
    /// plain transfer crediting it needs (see [`crate::transfer`]).
    pub(crate) fn base_account(
        &mut self,
        address: Address,
    ) -> Result<Option<AccountInfo>, Blocked> {
        let location = Location::Account(address);
        let (account, origin) = match self.mv.read_base(&location, self.tx) {
            Read::Blocked(on) => return Err(self.block(on)),
            Read::PreState => (self.pre_account(address), None),
            Read::Value(version, Value::Account(account)) => (account, Some(version)),
            // Only accounts are written at account locations.
            Read::Value(version, _) => return Err(self.block(version.tx)),
            Read::Credited(..) => unreachable!("a base read never returns credits"),
        };
        self.reads.push(ReadEntry {
            location,
            origin: Origin::Base(origin),
        });
        Ok(account)
    }

    /// The origin of `read`, a read of a storage location or reset (never credited).
    fn origin(&mut self, read: &Read) -> Result<Origin, Blocked> {
        match read {
            Read::Blocked(on) => Err(self.block(*on)),
            Read::PreState => Ok(Origin::PreState),
            Read::Value(version, _) => Ok(Origin::Version(*version)),
            Read::Credited(..) => unreachable!("credits are written at accounts only"),
        }
    }

    fn pre_account(&mut self, address: Address) -> Option<AccountInfo> {
        let code = &mut self.code;
        self.ctx.pre.info(&address).map(|info| code.account(info))
    }

    /// The account at `address` as transaction `tx` reads it, recorded in its reads (and in
    /// the accounts it read); without code where it has none, as the worker writes it
    /// (revm's [`Database::basic`] gives it the worker's own empty code).
    pub(crate) fn read_account(
        &mut self,
        address: Address,
    ) -> Result<Option<AccountInfo>, Blocked> {
        let location = Location::Account(address);
        let (account, origin) = if address == self.ctx.beneficiary() {
            match read_beneficiary(self.ctx, self.mv, self.tx) {
                LazyRead::Blocked(on) => return Err(self.block(on)),
                LazyRead::Value(base, fees) => {
                    let base = base.unwrap_or_else(|| self.pre_account(address));
                    let account = beneficiary::apply_fees(self.ctx.fork, base, &fees);
                    let summary = beneficiary::summary(&account);
                    (account, Origin::Lazy(Box::new(summary)))
                }
            }
        } else {
            match read_account(self.ctx, self.mv, self.tx, &location) {
                Read::Blocked(on) => return Err(self.block(on)),
                Read::PreState => (self.pre_account(address), Origin::PreState),
                Read::Value(version, Value::Account(account)) => {
                    #[cfg(feature = "faults")]
                    let account = if self.ctx.has_fault(crate::faults::Fault::StaleDelegation) {
                        crate::faults::stale_delegation(self.ctx.pre, address, account)
                    } else {
                        account
                    };
                    #[cfg(feature = "faults")]
                    let account = if self.ctx.has_fault(crate::faults::Fault::PreStateNonce) {
                        account.map(|mut info| {
                            info.nonce = self.ctx.pre.info(&address).map_or(0, |pre| pre.nonce);
                            info
                        })
                    } else {
                        account
                    };
                    (account, Origin::Version(version))
                }
                Read::Credited(base, credits) => {
                    let base = base.unwrap_or_else(|| self.pre_account(address));
                    let account = beneficiary::apply_fees(self.ctx.fork, base, &credits);
                    let summary = beneficiary::summary(&account);
                    (account, Origin::Lazy(Box::new(summary)))
                }
                // Only accounts are written at account locations.
                Read::Value(version, _) => return Err(self.block(version.tx)),
            }
        };
        self.reads.push(ReadEntry { location, origin });
        if self.track_accounts {
            self.accounts
                .insert(address, beneficiary::summary(&account));
        }
        Ok(account)
    }
}

impl Database for VmDb<'_> {
    type Error = Blocked;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, Blocked> {
        let account = self.read_account(address)?;
        Ok(account.map(|info| self.code.with_own_empty_code(info)))
    }

    fn code_by_hash(&mut self, _code_hash: B256) -> Result<Bytecode, Blocked> {
        // Every account with code carries it, and revm fills in the empty code of the others
        // itself, so it never asks by hash.
        Ok(Bytecode::default())
    }

    fn storage(&mut self, address: Address, index: U256) -> Result<U256, Blocked> {
        let slot = Location::Storage(address, index);
        let reset = Location::StorageReset(address);
        let slot_read = self.mv.read(&slot, self.tx);
        let reset_read = self.mv.read(&reset, self.tx);
        let slot_origin = self.origin(&slot_read)?;
        let reset_origin = self.origin(&reset_read)?;
        // A wipe hides every earlier write of the slot and the pre-state; a transaction that
        // wipes the storage (creating the account) and then writes the slot keeps its write.
        let wiped_at = match &reset_read {
            Read::Value(version, _) => Some(version.tx),
            _ => None,
        };
        let value = match slot_read {
            Read::Value(version, value) if wiped_at.is_none_or(|w| version.tx >= w) => {
                match value {
                    Value::Slot(value) => value,
                    _ => return Err(self.block(version.tx)),
                }
            }
            _ if wiped_at.is_some() => U256::ZERO,
            _ => self.ctx.pre.storage(&address, &index),
        };
        self.reads.push(ReadEntry {
            location: slot,
            origin: slot_origin,
        });
        self.reads.push(ReadEntry {
            location: reset,
            origin: reset_origin,
        });
        Ok(value)
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, Blocked> {
        Ok(self.ctx.pre.pre().block_hash(number).unwrap_or_default())
    }
}

impl crate::collision::StorageProbe for VmDb<'_> {
    /// The storage as of the block's start, unless a lower transaction reset it (created,
    /// destroyed or deleted the account): the reset is read like any other location, so a
    /// change of it invalidates the incarnation. Slots written later in the block need code
    /// at the address, which revm's own collision check sees.
    fn has_storage(&mut self, address: Address) -> Result<bool, Blocked> {
        let location = Location::StorageReset(address);
        let origin = self.origin(&self.mv.read(&location, self.tx))?;
        let reset = matches!(origin, Origin::Version(_));
        self.reads.push(ReadEntry { location, origin });
        Ok(!reset && self.ctx.pre.has_storage(&address))
    }
}

/// What a finished incarnation produced besides its writes (the state after the block is
/// built from the writes, see [`crate::materialize`]).
#[derive(Clone, Debug)]
pub struct TxOutput {
    /// The execution result, or the error that makes the transaction (and block) invalid.
    pub result: Result<ExecutionResult, BlockError>,
}

/// The outcome of running one incarnation.
#[derive(Debug)]
pub enum Execution {
    /// The incarnation ran to the end (a transaction found invalid included).
    Done {
        /// Its read set.
        reads: Vec<ReadEntry>,
        /// Its write set.
        writes: Vec<(Location, Value)>,
        /// What it produced.
        output: Box<TxOutput>,
    },
    /// A read met an unfinished lower transaction.
    Blocked(TxIdx),
}

/// One worker's revm instance, reused for every incarnation the worker runs (building an
/// EVM allocates its whole frame stack, which would otherwise dominate small transactions).
pub struct Vm<'a> {
    ctx: &'a BlockContext<'a>,
    evm: MainnetEvm<MainnetContext<VmDb<'a>>>,
}

impl<'a> Vm<'a> {
    /// A VM reading through `mv` for the block described by `ctx`.
    pub fn new(ctx: &'a BlockContext<'a>, mv: &'a MvMemory) -> Self {
        let db = VmDb {
            ctx,
            mv,
            tx: 0,
            reads: Vec::new(),
            accounts: AccountsRead::default(),
            track_accounts: true,
            blocked: None,
            code: LocalCode::default(),
        };
        let evm = Context::mainnet()
            .with_db(db)
            .with_cfg(ctx.cfg.clone())
            .with_block(ctx.block_env.clone())
            .build_mainnet();
        Vm { ctx, evm }
    }

    /// Hands back a read set that is no longer needed, so that the next incarnation reuses
    /// its allocation.
    pub fn recycle(&mut self, mut reads: Vec<ReadEntry>) {
        let db = self.evm.ctx.db_mut();
        if db.reads.capacity() < reads.capacity() {
            reads.clear();
            db.reads = reads;
        }
    }

    /// Runs transaction `tx` against the multi-version memory.
    pub fn execute(&mut self, tx: TxIdx) -> Execution {
        let ctx = self.ctx;
        let Some(transaction) = ctx.txs.get(tx) else {
            return Execution::Blocked(tx);
        };
        {
            let db = self.evm.ctx.db_mut();
            db.tx = tx;
            db.reads.clear();
            db.accounts.clear();
            db.blocked = None;
        }
        // revm takes its context error when it reports it; clear it anyway, so that nothing
        // of an earlier incarnation can leak into this one.
        *self.evm.ctx.error() = Ok(());
        self.evm.ctx.set_tx(env::tx_env(transaction));
        let credit = ctx.credit_recipients.get(tx).copied().unwrap_or(false);
        match transfer::run(&mut self.evm, ctx.fork, credit) {
            Transfer::Blocked(on) => return Execution::Blocked(on),
            Transfer::Done(writes, result) => {
                let reads = std::mem::take(&mut self.evm.ctx.db_mut().reads);
                return Execution::Done {
                    reads,
                    writes,
                    output: Box::new(TxOutput { result: Ok(result) }),
                };
            }
            Transfer::NotApplicable => {
                // Whatever the fast path read is read again by revm.
                let db = self.evm.ctx.db_mut();
                db.reads.clear();
                db.accounts.clear();
            }
        }
        let mut handler = DeferredFee::default();
        let result = handler.run(&mut self.evm);
        // Clears the journal for the next incarnation, on success and on error alike.
        let mut changes = self.evm.finalize();
        let db = self.evm.ctx.db_mut();
        if let Some(on) = db.blocked {
            return Execution::Blocked(on);
        }
        if let Err(EVMError::Database(Blocked(on))) = result {
            return Execution::Blocked(on);
        }
        let reads = std::mem::take(&mut db.reads);
        let beneficiary = ctx.beneficiary();
        let (result, lazy_fee) = match result {
            Ok(result) => {
                let fee = handler.fee();
                let paid = beneficiary::pay_into_changes(&mut changes, beneficiary, fee);
                (Ok(result), (!paid).then_some(fee))
            }
            Err(error) => {
                changes.clear();
                (Err(sequential::tx_error(tx, error)), Some(U256::ZERO))
            }
        };
        // The map of accounts read stays with the database, allocation and all, for the
        // next incarnation.
        #[cfg(feature = "faults")]
        let keep_destroyed = ctx.has_fault(crate::faults::Fault::IgnoreDeletion);
        #[cfg(not(feature = "faults"))]
        let keep_destroyed = false;
        let writes = write_set(
            ctx.fork,
            beneficiary,
            &changes,
            &db.accounts,
            lazy_fee,
            keep_destroyed,
        );
        give_back(&mut self.evm.ctx.journaled_state, changes);
        Execution::Done {
            reads,
            writes,
            output: Box::new(TxOutput { result }),
        }
    }
}

/// Hands the map of `changes` that `finalize` took from revm's `journal` back to it, emptied,
/// so that the next transaction on this revm instance fills a table of the right size
/// instead of growing a new one from nothing (rehashing it three or four times on the way).
/// A table grown large by one transaction is dropped instead: every later one would walk all
/// of its buckets.
pub(crate) fn give_back<DB: Database>(journal: &mut Journal<DB>, mut changes: EvmState) {
    /// The most accounts a table handed back is sized for.
    const KEPT_CAPACITY: usize = 64;
    if journal.inner.state.capacity() < changes.capacity() && changes.capacity() <= KEPT_CAPACITY {
        changes.clear();
        journal.inner.state = changes;
    }
}

/// The locations an incarnation's changes write, as [`BlockState::commit`] would apply them.
/// Accounts merely touched and left as they were read (`accounts_read`) are not written
/// (calling a contract must not conflict with every other call to it), except the
/// beneficiary, which every transaction writes (in full, or as a lazy fee).
pub(crate) fn write_set(
    fork: Fork,
    beneficiary: Address,
    changes: &EvmState,
    accounts_read: &AccountsRead,
    lazy_fee: Option<U256>,
    keep_destroyed: bool,
) -> Vec<(Location, Value)> {
    let mut writes = Vec::with_capacity(changes.len() + 1);
    for (address, account) in changes {
        if !account.is_touched() {
            continue;
        }
        // `keep_destroyed`: the `IgnoreDeletion` fault (always false in a normal build).
        let destroyed = account.is_selfdestructed() && !keep_destroyed;
        let deleted = destroyed || (fork >= Fork::SpuriousDragon && account.is_empty());
        let reset = deleted || account.is_created();
        // Compared before cloning: most touched accounts (a called contract) are unchanged.
        let after_summary = (!deleted).then(|| {
            let info = &account.info;
            (info.balance, info.nonce, info.code_hash)
        });
        let unchanged = !reset
            && *address != beneficiary
            && accounts_read
                .get(address)
                .is_some_and(|before| *before == after_summary);
        if !unchanged {
            let after = (!deleted).then(|| crate::state::detached(&account.info));
            writes.push((Location::Account(*address), Value::Account(after)));
        }
        if reset {
            writes.push((Location::StorageReset(*address), Value::Reset));
        }
        if !deleted {
            for (slot, value) in &account.storage {
                if value.is_changed() {
                    writes.push((
                        Location::Storage(*address, *slot),
                        Value::Slot(value.present_value()),
                    ));
                }
            }
        }
    }
    if let Some(fee) = lazy_fee {
        writes.push((Location::Account(beneficiary), Value::Fee(fee)));
    }
    writes
}

/// What transaction `tx` reads at the beneficiary's account (a lazy read), in execution and
/// validation alike.
fn read_beneficiary(
    #[cfg_attr(not(feature = "faults"), allow(unused_variables))] ctx: &BlockContext<'_>,
    mv: &MvMemory,
    tx: TxIdx,
) -> LazyRead {
    let read = mv.read_lazy(tx);
    #[cfg(feature = "faults")]
    if ctx.has_fault(crate::faults::Fault::LazyBeneficiaryRead) {
        if let LazyRead::Value(base, _) = read {
            return LazyRead::Value(base, Vec::new());
        }
    }
    read
}

/// What transaction `tx` reads at an account `location` other than the beneficiary's (a
/// credited account's base and credits, see [`Read::Credited`]), in execution and
/// validation alike.
fn read_account(
    #[cfg_attr(not(feature = "faults"), allow(unused_variables))] ctx: &BlockContext<'_>,
    mv: &MvMemory,
    tx: TxIdx,
    location: &Location,
) -> Read {
    let read = mv.read(location, tx);
    #[cfg(feature = "faults")]
    if ctx.has_fault(crate::faults::Fault::CreditsUnseen) {
        if let Read::Credited(base, _) = read {
            return Read::Credited(base, Vec::new());
        }
    }
    read
}

/// Whether validation passes reads of the state before the block unchecked (the
/// `ValidateOnlyVersioned` fault).
fn skips_pre_state_reads(
    #[cfg_attr(not(feature = "faults"), allow(unused_variables))] ctx: &BlockContext<'_>,
) -> bool {
    #[cfg(feature = "faults")]
    if ctx.has_fault(crate::faults::Fault::ValidateOnlyVersioned) {
        return true;
    }
    false
}

/// Whether every read of transaction `tx` would still return what it returned.
pub fn validate(ctx: &BlockContext<'_>, mv: &MvMemory, tx: TxIdx, reads: &[ReadEntry]) -> bool {
    reads.iter().all(|read| match &read.origin {
        Origin::PreState if skips_pre_state_reads(ctx) => true,
        Origin::PreState => mv.read_origin(&read.location, tx) == Ok(None),
        Origin::Version(version) => mv.read_origin(&read.location, tx) == Ok(Some(*version)),
        Origin::Lazy(summary) => {
            lazy_summary(ctx, mv, tx, &read.location).as_ref() == Some(summary)
        }
        Origin::Base(version) => mv.base_origin(&read.location, tx) == Ok(*version),
    })
}

/// What a lazy read by `tx` of the account at `location` amounts to now (`None` while it is
/// blocked): the beneficiary's base and fees, or any other account's highest write below
/// with the credits above it.
fn lazy_summary(
    ctx: &BlockContext<'_>,
    mv: &MvMemory,
    tx: TxIdx,
    location: &Location,
) -> Option<Summary> {
    let Location::Account(address) = *location else {
        return None;
    };
    let (base, credits) = if address == ctx.beneficiary() {
        match read_beneficiary(ctx, mv, tx) {
            LazyRead::Blocked(_) => return None,
            LazyRead::Value(base, fees) => (base, fees),
        }
    } else {
        match read_account(ctx, mv, tx, location) {
            Read::Blocked(_) => return None,
            Read::PreState => (None, Vec::new()),
            Read::Value(_, Value::Account(account)) => (Some(account), Vec::new()),
            Read::Value(..) => return None,
            Read::Credited(base, credits) => (base, credits),
        }
    };
    let base = base.unwrap_or_else(|| ctx.pre.info(&address).cloned());
    Some(beneficiary::summary(&beneficiary::apply_fees(
        ctx.fork, base, &credits,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_read_keep_the_last_read_of_each_listed_or_not() {
        let summary = |n: u64| Some((U256::from(n), n, B256::ZERO));
        let mut read = AccountsRead::default();
        let count = ACCOUNTS_LISTED as u8 + 3;
        for n in 0..count {
            read.insert(Address::with_last_byte(n), summary(u64::from(n)));
        }
        // Read again: one in the list, one past it.
        read.insert(Address::with_last_byte(1), None);
        read.insert(Address::with_last_byte(count - 1), summary(99));
        for n in 0..count {
            let expected = match n {
                1 => None,
                n if n == count - 1 => summary(99),
                n => summary(u64::from(n)),
            };
            assert_eq!(read.get(&Address::with_last_byte(n)), Some(&expected));
        }
        assert_eq!(read.get(&Address::with_last_byte(200)), None);
        read.clear();
        assert_eq!(read.get(&Address::with_last_byte(1)), None);
        assert_eq!(read.get(&Address::with_last_byte(count - 1)), None);
    }
}
