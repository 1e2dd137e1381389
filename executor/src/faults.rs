//! Seeded concurrency bugs for mutation testing (feature `faults`): each [`Fault`] breaks one
//! place of the Block-STM code the way a real parallel EVM has been broken, so that the tests
//! can show they catch it. Without the feature this module, the executor's `fault` field and
//! every branch that consults it are compiled out.

use crate::state::BlockState;
use alloy_primitives::Address;
use revm::state::AccountInfo;

/// One seeded bug of the parallel executor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fault {
    /// A read of an account through the multi-version memory takes the code (and code hash)
    /// from the state before the block whenever the version read or the pre-block account holds an
    /// EIP-7702 delegation (a lower transaction set, changed or cleared it): a delegation made earlier in the block is not seen, and the
    /// version read still validates.
    StaleDelegation,
    /// Read-set validation always succeeds.
    SkipValidation,
    /// An incarnation aborted by a failed validation leaves its writes readable instead of
    /// marking them ESTIMATE.
    NoEstimates,
    /// An explicit read of the beneficiary ignores the lazy fee credits of lower transactions
    /// (in execution and validation alike, so the wrong value validates).
    LazyBeneficiaryRead,
    /// Validation passes every read that fell through to the state before the block, so a
    /// read made before a lower transaction wrote the location is never found stale.
    ValidateOnlyVersioned,
    /// An account read through the multi-version memory takes its nonce from the state
    /// before the block.
    PreStateNonce,
    /// A destroyed account is written as if it lived on (its info kept, its storage not
    /// reset): SELFDESTRUCT is lost in the multi-version memory.
    IgnoreDeletion,
    /// The state after the block is built from each account's last value, without the
    /// storage resets: an account destroyed (or deleted) and then written again keeps its old
    /// slots.
    KeepWipedStorage,
    /// A full read of an account that lower transactions credited lazily (plain transfers
    /// to a deposit address, see `transfer::Creditable`) ignores the credits, in execution
    /// and validation alike: a BALANCE of the address, or a sweep of it, sees its balance
    /// without the block's payments, and the wrong value validates.
    CreditsUnseen,
    /// A worker that claims the validations of a stretch of its own runs in one step
    /// (`Scheduler::with_runs`) validates only the first of them: the others are marked
    /// claimed but never validated.
    LoseClaimedValidations,
}

impl Fault {
    /// Every fault.
    pub const ALL: [Fault; 10] = [
        Fault::StaleDelegation,
        Fault::SkipValidation,
        Fault::NoEstimates,
        Fault::LazyBeneficiaryRead,
        Fault::ValidateOnlyVersioned,
        Fault::PreStateNonce,
        Fault::IgnoreDeletion,
        Fault::KeepWipedStorage,
        Fault::CreditsUnseen,
        Fault::LoseClaimedValidations,
    ];
}

/// The [`Fault::StaleDelegation`] read: `written`, a lower transaction's version of
/// `address`, with the pre-block code put back when either code is a delegation designator.
pub(crate) fn stale_delegation(
    pre: &BlockState<'_>,
    address: Address,
    written: Option<AccountInfo>,
) -> Option<AccountInfo> {
    let is_delegation = |info: &AccountInfo| info.code.as_ref().is_some_and(|c| c.is_eip7702());
    let before = pre.info(&address);
    let mut account = written?;
    if is_delegation(&account) || before.is_some_and(is_delegation) {
        account.code_hash = before.map_or(revm::primitives::KECCAK_EMPTY, |b| b.code_hash);
        account.code = Some(before.and_then(|b| b.code.clone()).unwrap_or_default());
    }
    Some(account)
}
