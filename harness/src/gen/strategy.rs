//! proptest strategies for generated blocks: a [`BlockPlan`] says, with small indices, which
//! contracts the pre-state holds (template parameters) and what each transaction does; the
//! builder (`build.rs`) turns it into a signed block. Plans shrink the proptest way (fewer
//! transactions, smaller indices), and the builder keeps every shrunk plan a valid block.

use super::templates::CallKind;
use super::GenConfig;
use lockstep_spec::Fork;
use proptest::prelude::*;
use proptest::strategy::Union;

/// Template parameters of the pre-state's contracts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractsPlan {
    /// Hot slots of the two counters (indices below `GenConfig::hot_slots`).
    pub hot_slots: [u64; 2],
    /// Increments of the two counters.
    pub steps: [u64; 2],
    /// Hashing rounds of the two counters between their read and their write.
    pub work: [u64; 2],
    /// Whose balance the probe reads: a sender index, or the coinbase past the senders.
    pub probe_target: usize,
    /// How each level of the three-deep call chain calls the next.
    pub chain: [CallKind; 3],
    /// What the chain ends in: 0 counter, 1 probe, 2 transient, 3 out-of-gas guard, 4 revert.
    pub chain_leaf: u8,
    /// Value sent by CALL levels of the chain.
    pub chain_value: u64,
    /// Beneficiary of self-destructs: a sender index, or the coinbase past the senders.
    pub beneficiary: usize,
    /// Whether the destroying factory's child dies in its init code (else when called).
    pub destroy_in_init: bool,
    /// The fixed salt of the reverting factory.
    pub fixed_salt: u64,
    /// Whether the coinbase is sender 0 (it then pays and reads its own fees).
    pub coinbase_is_sender: bool,
}

/// The transaction type of a generated call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TypeChoice {
    /// Legacy with EIP-155.
    Legacy,
    /// EIP-1559.
    DynamicFee,
    /// EIP-4844 with one blob (a dynamic-fee one when the block's blobs are used up).
    Blob,
}

/// The nonce of an EIP-7702 authorization relative to the authority's nonce at that point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthNonce {
    /// The current nonce: the authorization applies.
    Current,
    /// One ahead: skipped.
    Ahead,
    /// One behind (or ahead when the nonce is zero): skipped.
    Stale,
}

/// What a transaction does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Calls counter 0 or 1.
    Hot(u8),
    /// Calls the balance probe (with value: its own balance changes).
    Probe,
    /// Sends value to a sender (index), the coinbase (past the senders) or the probe.
    Transfer(u8),
    /// Calls the head of the call chain.
    Chain,
    /// Creates: 0 CREATE2 with the salt as call data, 1 CREATE, 2 create-and-destroy, 3 create
    /// inside a call that reverts.
    Create {
        /// Which factory.
        factory: u8,
        /// The salt (small, so that creations collide).
        salt: u8,
    },
    /// Calls the self-destructing contract.
    SelfDestruct,
    /// Calls the transient-storage contract.
    Transient,
    /// Calls the contract that writes then reverts.
    Revert,
    /// Runs out of gas: directly (`true`) or in a sub-call with little gas.
    OutOfGas(bool),
    /// Calls the precompile contract: 0 sha256, 1 identity, 2 ecrecover.
    Precompile(u8),
    /// An EIP-7702 transaction (Prague on) setting the code of an authority.
    SetCode {
        /// Authority index; past the authorities: the sender itself (self-sponsored).
        authority: u8,
        /// Delegate: 0 counter, 1 probe, 2 transient, 3 chain, 4 nobody (clears).
        delegate: u8,
        /// Its nonce.
        nonce: AuthNonce,
        /// Whether the transaction then calls the authority (else counter 0).
        call_authority: bool,
    },
    /// Calls an authority (delegated or not).
    CallAuthority(u8),
}

/// One transaction of the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxPlan {
    /// Sender index.
    pub sender: u8,
    /// Transaction type.
    pub tx_type: TypeChoice,
    /// Value (wei) and tip, small.
    pub value: u64,
    /// Priority fee per gas.
    pub tip: u8,
    /// What it does.
    pub action: Action,
}

/// A transaction that makes the block invalid on purpose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvalidKind {
    /// A nonce below the sender's.
    NonceTooLow,
    /// A nonce above the sender's.
    NonceTooHigh,
    /// A sender too poor for the fees.
    BalanceTooLowForFees,
    /// A gas limit over what is left in the block.
    OverBlockGas,
    /// A fee cap under the base fee.
    FeeCapBelowBaseFee,
    /// A blob fee cap under the blob base fee.
    BlobFeeTooLow,
    /// A blob transaction without blobs.
    NoBlobs,
    /// Invalid only because of an earlier transaction: the nonce an earlier one consumed.
    NonceConsumed,
    /// Invalid only because of an earlier transaction: the balance an earlier one spent.
    BalanceSpent,
}

/// Where and how a block is made invalid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidPlan {
    /// Position among the transactions (taken modulo their number plus one).
    pub position: u8,
    /// The kind.
    pub kind: InvalidKind,
}

/// A whole generated block, before building.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockPlan {
    /// The pre-state's contracts.
    pub contracts: ContractsPlan,
    /// The transactions, in block order.
    pub txs: Vec<TxPlan>,
    /// An invalid transaction inserted on purpose, if any.
    pub invalid: Option<InvalidPlan>,
}

fn call_kind() -> impl Strategy<Value = CallKind> {
    prop_oneof![
        Just(CallKind::Call),
        Just(CallKind::DelegateCall),
        Just(CallKind::StaticCall)
    ]
}

fn contracts(cfg: &GenConfig) -> impl Strategy<Value = ContractsPlan> {
    let slots = cfg.hot_slots.max(1);
    let parties = cfg.senders + 1;
    (
        [0..slots, 0..slots],
        [1u64..4, 1u64..4],
        [0u64..400, 0u64..400],
        0..parties,
        [call_kind(), call_kind(), call_kind()],
        0u8..5,
        0u64..3,
        0..parties,
        any::<bool>(),
        0u64..4,
        prop::bool::weighted(0.25),
    )
        .prop_map(
            |(
                hot_slots,
                steps,
                work,
                probe_target,
                chain,
                chain_leaf,
                chain_value,
                beneficiary,
                destroy_in_init,
                fixed_salt,
                coinbase_is_sender,
            )| {
                ContractsPlan {
                    hot_slots,
                    steps,
                    work,
                    probe_target,
                    chain,
                    chain_leaf,
                    chain_value,
                    beneficiary,
                    destroy_in_init,
                    fixed_salt,
                    coinbase_is_sender,
                }
            },
        )
}

fn action(cfg: &GenConfig) -> BoxedStrategy<Action> {
    let w = &cfg.weights;
    let senders = cfg.senders as u8;
    let mut arms: Vec<(u32, BoxedStrategy<Action>)> = vec![
        (w.hot_slot, (0u8..2).prop_map(Action::Hot).boxed()),
        (w.balance_read, Just(Action::Probe).boxed()),
        (
            w.transfer,
            (0..senders + 2).prop_map(Action::Transfer).boxed(),
        ),
        (w.call_chain, Just(Action::Chain).boxed()),
        (
            w.create,
            (0u8..4, 0u8..3)
                .prop_map(|(factory, salt)| Action::Create { factory, salt })
                .boxed(),
        ),
        (w.selfdestruct, Just(Action::SelfDestruct).boxed()),
        (w.transient, Just(Action::Transient).boxed()),
        (w.revert, Just(Action::Revert).boxed()),
        (w.revert, any::<bool>().prop_map(Action::OutOfGas).boxed()),
        (w.precompile, (0u8..3).prop_map(Action::Precompile).boxed()),
    ];
    if cfg.fork >= Fork::Prague {
        let nonce = prop_oneof![
            6 => Just(AuthNonce::Current),
            1 => Just(AuthNonce::Ahead),
            1 => Just(AuthNonce::Stale)
        ];
        arms.push((
            w.set_code,
            (0u8..4, 0u8..5, nonce, any::<bool>())
                .prop_map(
                    |(authority, delegate, nonce, call_authority)| Action::SetCode {
                        authority,
                        delegate,
                        nonce,
                        call_authority,
                    },
                )
                .boxed(),
        ));
        arms.push((w.set_code, (0u8..3).prop_map(Action::CallAuthority).boxed()));
    }
    arms.retain(|(weight, _)| *weight > 0);
    if arms.is_empty() {
        return Just(Action::Hot(0)).boxed();
    }
    Union::new_weighted(arms).boxed()
}

fn tx(cfg: &GenConfig) -> impl Strategy<Value = TxPlan> {
    let senders = cfg.senders.max(1) as u8;
    let tx_type = prop_oneof![
        2 => Just(TypeChoice::DynamicFee),
        1 => Just(TypeChoice::Legacy),
        1 => Just(TypeChoice::Blob)
    ];
    (0..senders, tx_type, 0u64..2_000, 0u8..4, action(cfg)).prop_map(
        |(sender, tx_type, value, tip, action)| TxPlan {
            sender,
            tx_type,
            value,
            tip,
            action,
        },
    )
}

fn invalid_kind() -> impl Strategy<Value = InvalidKind> {
    prop_oneof![
        1 => Just(InvalidKind::NonceTooLow),
        1 => Just(InvalidKind::NonceTooHigh),
        1 => Just(InvalidKind::BalanceTooLowForFees),
        1 => Just(InvalidKind::OverBlockGas),
        1 => Just(InvalidKind::FeeCapBelowBaseFee),
        1 => Just(InvalidKind::BlobFeeTooLow),
        1 => Just(InvalidKind::NoBlobs),
        2 => Just(InvalidKind::NonceConsumed),
        2 => Just(InvalidKind::BalanceSpent),
    ]
}

/// Plans of blocks as `cfg` asks: its transaction count range, weights and share of
/// invalid blocks.
pub fn block_plan(cfg: &GenConfig) -> impl Strategy<Value = BlockPlan> {
    let inner = || {
        (any::<u8>(), invalid_kind()).prop_map(|(position, kind)| InvalidPlan { position, kind })
    };
    // proptest's weighted option takes a probability strictly between 0 and 1.
    let invalid = match cfg.invalid_share {
        p if p <= 0.0 => Just(None).boxed(),
        p if p >= 1.0 => inner().prop_map(Some).boxed(),
        p => prop::option::weighted(p, inner()).boxed(),
    };
    let (min, max) = (cfg.min_txs, cfg.max_txs.max(cfg.min_txs));
    (
        contracts(cfg),
        prop::collection::vec(tx(cfg), min..=max),
        invalid,
    )
        .prop_map(|(contracts, txs, invalid)| BlockPlan {
            contracts,
            txs,
            invalid,
        })
}
