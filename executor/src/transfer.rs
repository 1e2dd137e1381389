//! A fast path for plain value transfers, the most common transaction: no call data, no
//! access or authorization list, no blobs, to an account without code that is not a
//! precompile, between two accounts neither of which is the beneficiary (a sequential run
//! also takes those of the beneficiary, in order). Running such a
//! transaction through revm's handler, journal and frame costs several times more than its
//! effect, which is fixed: the sender pays `21,000 × effective gas price` and the value and
//! bumps its nonce, the recipient receives the value, the beneficiary is owed the priority fee.
//!
//! The path is taken only when the transaction is certainly valid: revm's own checks of the
//! transaction against the block and configuration ([`validation::validate_env`]) and of the
//! sender ([`pre_execution::validate_account_nonce_and_code`],
//! [`pre_execution::calculate_caller_fee`]) run first, and any failure, or anything unusual
//! (a sender with code, a recipient that would be created or deleted by a zero-value touch,
//! an overflow), hands the transaction to revm, which then reports the error or runs it. The
//! accounts are read through the same database as revm's reads, so the read set, validation
//! and the seeded faults behave as on the full path; the writes are what the full path's
//! write set would hold.

use crate::contention;
use crate::fast_hash::PreHashed;
use crate::mv_memory::{Location, TxIdx, Value};
use crate::vm::VmDb;
use alloy_primitives::{Address, Bytes, U256};
use lockstep_spec::types::Transaction;
use lockstep_spec::Fork;
use revm::context::result::{EVMError, ExecutionResult, Output, ResultGas, SuccessReason};
use revm::context::TxEnv;
use revm::context_interface::transaction::Transaction as _;
use revm::context_interface::Cfg as _;
use revm::database_interface::Database;
use revm::handler::{pre_execution, validation, MainnetContext, MainnetEvm};
use revm::primitives::{TxKind, KECCAK_EMPTY};
use revm::state::AccountInfo;
use std::collections::HashSet;

/// The intrinsic gas of a call without data or access list, and all a plain transfer uses.
const TRANSFER_GAS: u64 = 21_000;

/// The fixed effect of a plain transfer.
pub(crate) struct Effect {
    /// The sender and its account after the transfer.
    pub sender: (Address, AccountInfo),
    /// The recipient and its account after the transfer; `None` for a zero-value transfer
    /// to a non-empty account, which leaves it as it was read (not written).
    pub recipient: Option<(Address, AccountInfo)>,
    /// The beneficiary's fee, owed lazily.
    pub fee: U256,
    /// revm's result for the transaction.
    pub result: ExecutionResult,
}

/// What the fast path made of a transaction, where a read may stop it with `B`.
// Returned by value once per transaction and matched at once: boxing the effect would add an
// allocation to the path that exists to be cheap.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Plain<B> {
    /// Not a plain transfer (or not certainly valid): run it through revm.
    NotApplicable,
    /// A read could not be answered yet.
    Blocked(B),
    /// Done.
    Done(Effect),
}

/// Which of a transfer's two accounts a read is of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Party {
    /// The sender, read first.
    Sender,
    /// The recipient, read only for a sender that exists.
    Recipient,
}

/// What the fast path made of a transaction in Block-STM.
pub(crate) enum Transfer {
    /// Not a plain transfer (or not certainly valid): run it through revm.
    NotApplicable,
    /// A read met an unfinished lower transaction.
    Blocked(TxIdx),
    /// Done: the write set (the beneficiary's lazy fee included) and the result.
    Done(Vec<(Location, Value)>, ExecutionResult),
}

/// Which transactions of a block may credit their recipient if they run as a plain transfer
/// (`run`): where no balance can overflow (`balances_fit`, see
/// [`crate::state::PreState::balances_fit`]: a credit cannot tell), a transfer of value
/// without call data to an account that sends no transaction of the block. An account that
/// also sends reads its whole balance, credits and all, so its payments gain nothing from
/// crediting it, and they would run ahead of its own transactions instead of in turn (on
/// `builtin:few-accounts`, where every account sends and receives: 4.3 ms at 2 threads with
/// whole writes, 5.8 ms with credits).
#[derive(Debug)]
pub struct Creditable {
    /// The block's senders by account key; `None` where balances may overflow.
    senders: Option<HashSet<u64, PreHashed>>,
    beneficiary: Address,
}

impl Creditable {
    /// The rule for the block of `txs` paying `beneficiary` (one pass over the block, for its
    /// senders).
    pub fn new(txs: &[Transaction], beneficiary: Address, balances_fit: bool) -> Self {
        let senders = balances_fit.then(|| {
            let mut senders: HashSet<u64, PreHashed> =
                HashSet::with_capacity_and_hasher(txs.len(), PreHashed);
            senders.extend(txs.iter().map(|tx| contention::account_key(&tx.sender)));
            senders
        });
        Creditable {
            senders,
            beneficiary,
        }
    }

    /// Whether `tx`, a transaction of the block, may credit its recipient.
    pub fn credits(&self, tx: &Transaction) -> bool {
        let Some(senders) = &self.senders else {
            return false;
        };
        match tx.kind {
            lockstep_spec::types::TxKind::Call(to) => {
                tx.input.is_empty()
                    && !tx.value.is_zero()
                    && to != tx.sender
                    && to != self.beneficiary
                    && !senders.contains(&contention::account_key(&to))
            }
            lockstep_spec::types::TxKind::Create => false,
        }
    }
}

/// Whether the fast path takes a plain transfer sent from or to the block's beneficiary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Beneficiary {
    /// No: the fee is owed lazily (Block-STM, a shard), and the transfer's own write of the
    /// beneficiary's account would have to be ordered with the fees of the others.
    Apart,
    /// Yes: the state is the block's at the transaction's turn, and the fee is credited right
    /// after the transfer's accounts are written, as revm pays it after the transfer (a
    /// sequential run; mining pools pay out from the beneficiary, blocks of hundreds).
    InOrder,
}

/// Whether `tx` has the shape of a plain transfer (its accounts not yet looked at).
fn is_plain(tx: &TxEnv, beneficiary: Address, role: Beneficiary) -> Option<Address> {
    let TxKind::Call(to) = tx.kind else {
        return None;
    };
    // Every fork: what EIP-161 changed for a transfer is what a touch of an empty account
    // does, and a zero-value transfer to an empty or absent account is left to revm (see
    // `effect`); a transfer of value creates or credits its recipient under every fork.
    let plain = tx.tx_type <= 2
        && tx.data.is_empty()
        && tx.access_list.0.is_empty()
        && tx.authorization_list.is_empty()
        && tx.blob_hashes.is_empty()
        && to != tx.caller
        && (role == Beneficiary::InOrder || (to != beneficiary && tx.caller != beneficiary))
        // Precompiles (and other low addresses) run code of their own.
        && to.as_slice()[..18].iter().any(|b| *b != 0);
    plain.then_some(to)
}

/// Whether `tx` has the shape of a plain transfer (the accounts decide the rest): what a
/// caller that must bring the state up to date before [`effect`] reads it asks first.
pub(crate) fn may_be_plain(tx: &TxEnv, beneficiary: Address, role: Beneficiary) -> bool {
    is_plain(tx, beneficiary, role).is_some()
}

/// Runs the transaction set in `evm`'s context as a plain transfer if it is one (Block-STM:
/// the accounts are read through the multi-version memory, the effect becomes a write set).
///
/// With `credit_recipient` ([`Creditable`]), a transfer of value credits its recipient
/// ([`Value::Fee`]) instead of writing its whole account: the recipient's code
/// and existence are read as its highest full write below left them, which credits do not
/// change, so a transfer does not depend on the lower ones paying the same account (an
/// exchange's deposit address receives hundreds in one block: on mainnet 15,274,915, 997
/// of its 1,226 transactions). A transaction that reads the account in full sees the base
/// plus the credits, as the beneficiary's fees are read.
pub(crate) fn run(
    evm: &mut MainnetEvm<MainnetContext<VmDb<'_>>>,
    fork: Fork,
    credit_recipient: bool,
) -> Transfer {
    let beneficiary = evm.ctx.block.beneficiary;
    let value = evm.ctx.tx.value;
    let credit = credit_recipient && !value.is_zero();
    let read = |db: &mut VmDb<'_>, address: Address, party: Party| {
        db.track_accounts = false;
        let info = if credit && party == Party::Recipient {
            db.base_account(address)
        } else {
            db.read_account(address)
        };
        db.track_accounts = true;
        info.map_err(|blocked| blocked.0)
    };
    match effect(evm, fork, Beneficiary::Apart, read) {
        Plain::NotApplicable => Transfer::NotApplicable,
        Plain::Blocked(on) => Transfer::Blocked(on),
        Plain::Done(effect) => {
            let mut writes = Vec::with_capacity(3);
            let (sender, sender_after) = effect.sender;
            writes.push((
                Location::Account(sender),
                Value::Account(Some(sender_after)),
            ));
            if let Some((to, recipient_after)) = effect.recipient {
                let write = if credit {
                    Value::Fee(value)
                } else {
                    Value::Account(Some(recipient_after))
                };
                writes.push((Location::Account(to), write));
            }
            writes.push((Location::Account(beneficiary), Value::Fee(effect.fee)));
            Transfer::Done(writes, effect.result)
        }
    }
}

/// The effect of the transaction set in `evm`'s context if it is a plain transfer, its two
/// accounts read with `read` (sender first; the recipient only for a sender that exists);
/// one from or to the beneficiary only where `role` allows it.
pub(crate) fn effect<DB: Database, B>(
    evm: &mut MainnetEvm<MainnetContext<DB>>,
    fork: Fork,
    role: Beneficiary,
    mut read: impl FnMut(&mut DB, Address, Party) -> Result<Option<AccountInfo>, B>,
) -> Plain<B> {
    let beneficiary = evm.ctx.block.beneficiary;
    let Some(to) = is_plain(&evm.ctx.tx, beneficiary, role) else {
        return Plain::NotApplicable;
    };
    let (tx, cfg) = (&evm.ctx.tx, &evm.ctx.cfg);
    if cfg.is_fee_charge_disabled()
        || cfg.is_balance_check_disabled()
        || cfg.is_nonce_check_disabled()
        || cfg.is_eip3607_disabled()
        || tx.gas_limit < TRANSFER_GAS
    {
        return Plain::NotApplicable;
    }
    if validation::validate_env::<_, EVMError<std::convert::Infallible>>(&mut evm.ctx).is_err() {
        return Plain::NotApplicable;
    }
    let ctx = &mut evm.ctx;
    let (tx, block, cfg) = (&ctx.tx, &ctx.block, &ctx.cfg);
    let basefee = block.basefee as u128;
    let price = tx.effective_gas_price(basefee);
    // The beneficiary's share, as `beneficiary::DeferredFee` computes it: the whole price
    // before London (whatever base fee the block environment carries), the tip from then on.
    let share = if fork >= Fork::London {
        price.saturating_sub(basefee)
    } else {
        price
    };
    let fee = share.wrapping_mul(u128::from(TRANSFER_GAS));
    let db = &mut ctx.journaled_state.database;
    let sender = read(db, tx.caller, Party::Sender);
    let recipient = match sender {
        Ok(Some(_)) => Some(read(db, to, Party::Recipient)),
        _ => None,
    };
    let sender = match sender {
        Ok(Some(sender)) => sender,
        Ok(None) => return Plain::NotApplicable,
        Err(blocked) => return Plain::Blocked(blocked),
    };
    let recipient = match recipient {
        Some(Ok(recipient)) => recipient,
        Some(Err(blocked)) => return Plain::Blocked(blocked),
        None => return Plain::NotApplicable,
    };
    // A sender without code passes EIP-3607's check, which revm makes on a clone of its one
    // shared empty bytecode when the account carries none (see `state::new_account`): a
    // reference count every worker would change on every transfer. Only the nonce is left.
    if sender.code_hash != KECCAK_EMPTY
        || pre_execution::validate_account_nonce_and_code(&sender, tx.nonce, true, false).is_err()
    {
        return Plain::NotApplicable;
    }
    let touched_empty = recipient.as_ref().is_none_or(AccountInfo::is_empty);
    if recipient
        .as_ref()
        .is_some_and(|r| r.code_hash != KECCAK_EMPTY)
        || (tx.value.is_zero() && touched_empty)
    {
        return Plain::NotApplicable;
    }
    // The balance left after the gas is bought (gas limit × price), as revm computes it.
    let Ok(after_gas) = pre_execution::calculate_caller_fee(sender.balance, tx, block, cfg) else {
        return Plain::NotApplicable;
    };
    let refund = U256::from(price.saturating_mul(u128::from(tx.gas_limit - TRANSFER_GAS)));
    let Some(sender_balance) = after_gas
        .checked_sub(tx.value)
        .and_then(|b| b.checked_add(refund))
    else {
        return Plain::NotApplicable;
    };
    let mut recipient_after = recipient.unwrap_or_else(crate::state::new_account);
    let Some(recipient_balance) = recipient_after.balance.checked_add(tx.value) else {
        return Plain::NotApplicable;
    };
    recipient_after.balance = recipient_balance;
    let mut sender_after = sender;
    sender_after.balance = sender_balance;
    sender_after.nonce += 1;

    let result = ExecutionResult::Success {
        reason: SuccessReason::Stop,
        gas: ResultGas::default()
            .with_total_gas_spent(TRANSFER_GAS)
            .with_floor_gas(floor_gas(fork)),
        logs: Vec::new(),
        output: Output::Call(Bytes::new()),
    };
    Plain::Done(Effect {
        sender: (tx.caller, sender_after),
        // A zero-value transfer to a non-empty account leaves it as it was read.
        recipient: (!tx.value.is_zero()).then_some((to, recipient_after)),
        fee: U256::from(fee),
        result,
    })
}

/// The EIP-7623 floor of a transaction without data: the intrinsic gas from Prague on.
fn floor_gas(fork: Fork) -> u64 {
    if fork >= Fork::Prague {
        TRANSFER_GAS
    } else {
        0
    }
}
