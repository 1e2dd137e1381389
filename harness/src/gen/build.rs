//! Turns a [`BlockPlan`] into a pre-state and a signed block: contracts from the templates,
//! funded senders with deterministic keys, nonces tracked transaction by transaction (EIP-7702
//! authorizations included), fees that a valid transaction can pay, and the one invalid
//! transaction the plan asks for at its position.

use super::sign::{address_of, authorize, secret_key, sign};
use super::strategy::{Action, AuthNonce, BlockPlan, InvalidKind, TxPlan, TypeChoice};
use super::templates::{self, CallKind, Child, Precompile, Salt};
use super::GenConfig;
use crate::bench::workloads::address;
use crate::fixtures::header::{expected_base_fee, expected_excess_blob_gas};
use alloy_consensus::Header;
use alloy_primitives::{keccak256, Address, Bytes, B256, U256};
use k256::ecdsa::SigningKey;
use lockstep_spec::types::{
    Account, BlobSchedule, Block, BlockEnv, Transaction, TxType, WorldState,
};
use lockstep_spec::Fork;
use std::collections::BTreeMap;

/// Gas limit of every generated block.
pub const BLOCK_GAS_LIMIT: u64 = 30_000_000;
/// Base fee of the genesis block; the generated block's is the EIP-1559 successor.
pub const GENESIS_BASE_FEE: u64 = 1_000;
/// Timestamp of the genesis block (the generated block follows 12 s later).
pub const GENESIS_TIMESTAMP: u64 = 1_750_000_000;
/// Wei every sender holds.
const SENDER_BALANCE: u128 = 100_000_000_000_000_000_000;
/// Key indices of the special accounts (senders take 0..).
const POOR_KEY: u64 = 1_000;
const BROKE_KEY: u64 = 1_001;
const AUTHORITY_KEY: u64 = 2_000;
/// Authorities of EIP-7702 plans.
pub const AUTHORITIES: u64 = 3;

/// Contract addresses by role (tag 0xc0, index = role).
mod role {
    pub const HOT: [u64; 2] = [1, 2];
    pub const PROBE: u64 = 3;
    pub const CHAIN: [u64; 3] = [4, 5, 6];
    pub const FACTORY: u64 = 7;
    pub const FACTORY_CREATE: u64 = 8;
    pub const FACTORY_DESTROY: u64 = 9;
    pub const FACTORY_REVERT: u64 = 10;
    pub const GUARD: u64 = 11;
    pub const DESTRUCT: u64 = 12;
    pub const TRANSIENT: u64 = 13;
    pub const REVERT: u64 = 14;
    pub const OOG: u64 = 15;
    pub const OOG_GUARD: u64 = 16;
    pub const PRECOMPILE: [u64; 3] = [17, 18, 19];
}

fn contract_address(role: u64) -> Address {
    address(0xc0, role)
}

/// The coinbase when it is not a sender.
fn fixed_coinbase() -> Address {
    address(0xfe, 1)
}

/// The genesis header the generated block builds on: the fork's header fields, the
/// pre-state's root, an empty body.
pub fn genesis_header(fork: Fork, pre: &WorldState) -> Header {
    Header {
        number: 0,
        timestamp: GENESIS_TIMESTAMP,
        gas_limit: BLOCK_GAS_LIMIT,
        base_fee_per_gas: Some(GENESIS_BASE_FEE),
        state_root: lockstep_spec::trie::state_root(pre),
        withdrawals_root: Some(alloy_consensus::proofs::calculate_withdrawals_root(&[])),
        blob_gas_used: Some(0),
        excess_blob_gas: Some(0),
        parent_beacon_block_root: Some(B256::ZERO),
        requests_hash: (fork >= Fork::Prague).then_some(alloy_eips::eip7685::EMPTY_REQUESTS_HASH),
        ..Header::default()
    }
}

/// The environment of the block after `genesis`.
pub fn block_env(fork: Fork, genesis: &Header, beneficiary: Address) -> BlockEnv {
    let schedule = BlobSchedule::mainnet(fork);
    BlockEnv {
        chain_id: 1,
        number: 1,
        timestamp: genesis.timestamp + 12,
        beneficiary,
        gas_limit: genesis.gas_limit,
        base_fee: Some(expected_base_fee(genesis)),
        difficulty: U256::ZERO,
        prevrandao: Some(B256::repeat_byte(0x5e)),
        excess_blob_gas: Some(schedule.map_or(0, |s| expected_excess_blob_gas(genesis, fork, s))),
        blob_schedule: None,
        parent_beacon_block_root: Some(B256::repeat_byte(0xbe)),
        block_hashes: BTreeMap::from([(0, genesis.hash_slow())]),
    }
}

/// A valid ecrecover input: a hash signed by a generated key.
fn ecrecover_input(seed: u64) -> Precompile {
    let key = secret_key(seed, 3_000);
    let hash = keccak256(b"lockstep ecrecover");
    let (signature, recovery) = key
        .sign_prehash_recoverable(hash.as_slice())
        .unwrap_or_else(|e| unreachable!("signing a 32-byte hash cannot fail: {e}"));
    Precompile::Ecrecover {
        hash: hash.0,
        v: 27 + u8::from(recovery.is_y_odd()),
        r: signature.r().to_bytes().into(),
        s: signature.s().to_bytes().into(),
    }
}

/// Everything the builder needs about the accounts of one seed.
struct Parties {
    senders: Vec<SigningKey>,
    poor: SigningKey,
    broke: SigningKey,
    authorities: Vec<SigningKey>,
    coinbase: Address,
}

impl Parties {
    fn new(cfg: &GenConfig, seed: u64, coinbase_is_sender: bool) -> Self {
        let senders: Vec<_> = (0..cfg.senders.max(1) as u64)
            .map(|i| secret_key(seed, i))
            .collect();
        let coinbase = if coinbase_is_sender {
            address_of(&senders[0])
        } else {
            fixed_coinbase()
        };
        Parties {
            senders,
            poor: secret_key(seed, POOR_KEY),
            broke: secret_key(seed, BROKE_KEY),
            authorities: (0..AUTHORITIES)
                .map(|i| secret_key(seed, AUTHORITY_KEY + i))
                .collect(),
            coinbase,
        }
    }

    /// A sender index, or the coinbase past the senders.
    fn party(&self, index: usize) -> Address {
        self.senders.get(index).map_or(self.coinbase, address_of)
    }
}

fn contract(code: Bytes, balance: u64) -> Account {
    Account {
        balance: U256::from(balance),
        nonce: 1,
        code,
        storage: BTreeMap::new(),
    }
}

/// The pre-state's contracts from the plan's template parameters.
fn contracts(plan: &BlockPlan, parties: &Parties, seed: u64, fork: Fork) -> WorldState {
    let c = &plan.contracts;
    let mut pre = WorldState::default();
    let mut put = |role: u64, account: Account| {
        pre.accounts.insert(contract_address(role), account);
    };
    for i in 0..2 {
        let mut hot = contract(
            templates::hot_slot(c.hot_slots[i], c.steps[i], c.work[i]),
            0,
        );
        hot.storage
            .insert(U256::from(c.hot_slots[i]), U256::from(100 + i as u64));
        put(role::HOT[i], hot);
    }
    put(
        role::PROBE,
        contract(
            templates::balance_probe(parties.party(c.probe_target), 0x10),
            5_000,
        ),
    );
    let leaf = match c.chain_leaf {
        0 => role::HOT[0],
        1 => role::PROBE,
        2 => role::TRANSIENT,
        3 => role::OOG_GUARD,
        _ => role::REVERT,
    };
    let next = [role::CHAIN[1], role::CHAIN[2], leaf];
    for (level, (kind, callee)) in c.chain.iter().zip(next).enumerate() {
        let code = templates::caller(
            *kind,
            contract_address(callee),
            c.chain_value,
            None,
            0x20 + 2 * level as u64,
        );
        put(role::CHAIN[level], contract(code, 1_000));
    }
    let beneficiary = parties.party(c.beneficiary);
    put(
        role::FACTORY,
        contract(
            templates::creator(
                &Child::Runtime(templates::counter_runtime()),
                Salt::FromCallData,
                0,
                false,
                false,
                0x30,
            ),
            1_000,
        ),
    );
    put(
        role::FACTORY_CREATE,
        contract(
            templates::creator(
                &Child::Runtime(templates::counter_runtime()),
                Salt::None,
                1,
                true,
                false,
                0x30,
            ),
            1_000,
        ),
    );
    let destroyed = if c.destroy_in_init {
        Child::DestroyedInInit(beneficiary)
    } else {
        Child::Runtime(templates::self_destruct(beneficiary))
    };
    put(
        role::FACTORY_DESTROY,
        contract(
            templates::creator(
                &destroyed,
                Salt::FromCallData,
                7,
                !c.destroy_in_init,
                false,
                0x30,
            ),
            1_000,
        ),
    );
    put(
        role::FACTORY_REVERT,
        contract(
            templates::creator(
                &Child::Runtime(templates::counter_runtime()),
                Salt::Fixed(c.fixed_salt),
                0,
                false,
                true,
                0x30,
            ),
            0,
        ),
    );
    put(
        role::GUARD,
        contract(
            templates::caller(
                CallKind::Call,
                contract_address(role::FACTORY_REVERT),
                0,
                None,
                0x40,
            ),
            0,
        ),
    );
    put(
        role::DESTRUCT,
        contract(templates::self_destruct(beneficiary), 3_000),
    );
    put(role::TRANSIENT, contract(templates::transient(0x50), 0));
    put(
        role::REVERT,
        contract(templates::revert_after_write(c.hot_slots[0]), 0),
    );
    put(role::OOG, contract(templates::out_of_gas(0x60), 0));
    put(
        role::OOG_GUARD,
        contract(
            templates::caller(
                CallKind::Call,
                contract_address(role::OOG),
                0,
                Some(30_000),
                0x62,
            ),
            0,
        ),
    );
    let hot = c.hot_slots[0];
    put(
        role::PRECOMPILE[0],
        contract(templates::precompile(Precompile::Sha256, hot, 0x70), 0),
    );
    put(
        role::PRECOMPILE[1],
        contract(templates::precompile(Precompile::Identity, hot, 0x70), 0),
    );
    put(
        role::PRECOMPILE[2],
        contract(templates::precompile(ecrecover_input(seed), hot, 0x70), 0),
    );
    // Prague's block-end system calls need the request contracts (stubs that return nothing).
    if fork >= Fork::Prague {
        for system in [
            lockstep_spec::requests::WITHDRAWAL_REQUEST_ADDRESS,
            lockstep_spec::requests::CONSOLIDATION_REQUEST_ADDRESS,
        ] {
            pre.accounts
                .insert(system, contract(Bytes::from_static(&[0x00]), 0));
        }
    }
    pre
}

/// Transaction by transaction state the builder tracks: nonces and blob count.
struct Tracker {
    nonces: BTreeMap<Address, u64>,
    blobs: u64,
    max_blobs: u64,
    base_fee: u64,
    gas_limits: u64,
}

impl Tracker {
    fn nonce(&self, who: &Address) -> u64 {
        self.nonces.get(who).copied().unwrap_or(0)
    }

    fn bump(&mut self, who: Address) {
        *self.nonces.entry(who).or_insert(0) += 1;
    }

    /// A fee cap any valid transaction pays with: twice the base fee plus the tip.
    fn fee_cap(&self, tip: u128) -> u128 {
        2 * u128::from(self.base_fee) + tip
    }
}

/// What a plan's action calls, with its gas limit and call data.
fn call_of(action: &Action, parties: &Parties, sender: Address) -> (Address, u64, Bytes) {
    let salt_word = |salt: u8| Bytes::from(U256::from(salt).to_be_bytes::<32>().to_vec());
    let c = contract_address;
    let senders = parties.senders.len() as u8;
    match action {
        Action::Hot(i) => (c(role::HOT[usize::from(*i % 2)]), 100_000, Bytes::new()),
        Action::Probe => (c(role::PROBE), 200_000, Bytes::new()),
        Action::Transfer(to) if *to < senders => {
            (parties.party(usize::from(*to)), 60_000, Bytes::new())
        }
        Action::Transfer(to) if *to == senders => (parties.coinbase, 60_000, Bytes::new()),
        Action::Transfer(_) => (c(role::PROBE), 200_000, Bytes::new()),
        Action::Chain => (c(role::CHAIN[0]), 600_000, Bytes::new()),
        // A CREATE2 collision burns 63/64 of the creator's gas: the 1/64 left must still pay
        // for recording it.
        Action::Create { factory, salt } => match factory % 4 {
            0 => (c(role::FACTORY), 1_200_000, salt_word(*salt)),
            1 => (c(role::FACTORY_CREATE), 1_200_000, Bytes::new()),
            2 => (c(role::FACTORY_DESTROY), 1_200_000, salt_word(*salt)),
            _ => (c(role::GUARD), 1_200_000, Bytes::new()),
        },
        Action::SelfDestruct => (c(role::DESTRUCT), 100_000, Bytes::new()),
        Action::Transient => (c(role::TRANSIENT), 200_000, Bytes::new()),
        Action::Revert => (c(role::REVERT), 100_000, Bytes::new()),
        Action::OutOfGas(true) => (c(role::OOG), 80_000, Bytes::new()),
        Action::OutOfGas(false) => (c(role::OOG_GUARD), 200_000, Bytes::new()),
        Action::Precompile(i) => (
            c(role::PRECOMPILE[usize::from(*i % 3)]),
            150_000,
            Bytes::new(),
        ),
        Action::SetCode {
            authority,
            call_authority,
            ..
        } => {
            let target = if *call_authority {
                parties
                    .authorities
                    .get(usize::from(*authority))
                    .map_or(sender, address_of)
            } else {
                c(role::HOT[0])
            };
            (target, 300_000, Bytes::new())
        }
        Action::CallAuthority(i) => (
            parties
                .authorities
                .get(usize::from(*i))
                .map_or(sender, address_of),
            200_000,
            Bytes::new(),
        ),
    }
}

/// The delegate of an EIP-7702 plan (`Address::ZERO` clears the delegation).
fn delegate(index: u8) -> Address {
    match index {
        0 => contract_address(role::HOT[0]),
        1 => contract_address(role::PROBE),
        2 => contract_address(role::TRANSIENT),
        3 => contract_address(role::CHAIN[0]),
        _ => Address::ZERO,
    }
}

fn blob_hash(i: u64) -> B256 {
    let mut hash = keccak256(i.to_be_bytes());
    hash.0[0] = 0x01; // EIP-4844 version byte
    hash
}

/// A valid transaction from `key` as `plan` says, at the tracked nonce.
fn valid_tx(
    plan: &TxPlan,
    key: &SigningKey,
    parties: &Parties,
    track: &mut Tracker,
    cfg: &GenConfig,
) -> Result<Transaction, String> {
    let sender = address_of(key);
    let (to, gas, input) = call_of(&plan.action, parties, sender);
    let tip = u128::from(plan.tip);
    let mut tx = Transaction::call(sender, to, track.nonce(&sender), gas, track.fee_cap(tip));
    tx.value = U256::from(plan.value);
    tx.input = input;
    tx.tx_type = match plan.tx_type {
        TypeChoice::Legacy => TxType::Legacy,
        TypeChoice::Blob if track.blobs < track.max_blobs => TxType::Blob,
        _ => TxType::DynamicFee,
    };
    if tx.tx_type != TxType::Legacy {
        tx.max_priority_fee_per_gas = Some(tip);
    }
    if tx.tx_type == TxType::Blob {
        tx.max_fee_per_blob_gas = Some(1_000);
        tx.blob_versioned_hashes = vec![blob_hash(track.blobs)];
        track.blobs += 1;
    }
    track.bump(sender);
    if let Action::SetCode {
        authority,
        delegate: d,
        nonce,
        ..
    } = &plan.action
    {
        if cfg.fork >= Fork::Prague {
            tx.tx_type = TxType::SetCode;
            tx.max_priority_fee_per_gas = Some(tip);
            tx.max_fee_per_blob_gas = None;
            tx.blob_versioned_hashes.clear();
            let auth_key = parties
                .authorities
                .get(usize::from(*authority))
                .unwrap_or(key);
            let authority = address_of(auth_key);
            let current = track.nonce(&authority);
            let auth_nonce = match nonce {
                AuthNonce::Current => current,
                AuthNonce::Ahead => current + 1,
                AuthNonce::Stale => current.checked_sub(1).unwrap_or(current + 2),
            };
            tx.authorization_list = vec![authorize(auth_key, 1, delegate(*d), auth_nonce)];
            if auth_nonce == current {
                track.bump(authority);
            }
        }
    }
    track.gas_limits += tx.gas_limit;
    sign(&mut tx, key)?;
    Ok(tx)
}

/// The invalid transaction of `kind` at position `index` (after `before` valid ones).
fn invalid_tx(
    kind: InvalidKind,
    index: usize,
    txs: &[Transaction],
    parties: &Parties,
    track: &mut Tracker,
) -> Result<Vec<Transaction>, String> {
    let key = &parties.senders[index % parties.senders.len()];
    let sender = address_of(key);
    let to = contract_address(role::HOT[0]);
    let fee = track.fee_cap(1);
    let mut tx = Transaction::call(sender, to, track.nonce(&sender), 100_000, fee);
    tx.tx_type = TxType::DynamicFee;
    tx.max_priority_fee_per_gas = Some(1);
    let mut out = Vec::new();
    match kind {
        InvalidKind::NonceTooLow => tx.nonce = track.nonce(&sender).saturating_sub(1),
        InvalidKind::NonceTooHigh => tx.nonce += 1 + index as u64 % 3,
        InvalidKind::BalanceTooLowForFees => {
            tx.sender = address_of(&parties.broke);
            tx.nonce = 0;
            sign(&mut tx, &parties.broke)?;
            return Ok(vec![tx]);
        }
        InvalidKind::OverBlockGas => {
            // Every earlier transaction uses at least 21,000 gas.
            let least_used = 21_000 * txs.len() as u64;
            tx.gas_limit = (BLOCK_GAS_LIMIT - least_used.min(BLOCK_GAS_LIMIT - 1)) + 1;
        }
        InvalidKind::FeeCapBelowBaseFee => {
            tx.gas_price = u128::from(track.base_fee) - 1;
            tx.max_priority_fee_per_gas = Some(0);
        }
        InvalidKind::BlobFeeTooLow | InvalidKind::NoBlobs => {
            tx.tx_type = TxType::Blob;
            if kind == InvalidKind::BlobFeeTooLow {
                tx.max_fee_per_blob_gas = Some(0);
                tx.blob_versioned_hashes = vec![blob_hash(99)];
            } else {
                tx.max_fee_per_blob_gas = Some(1_000);
            }
        }
        InvalidKind::NonceConsumed => {
            // The nonce of the last transaction before it (its sender's, now consumed).
            if let Some(last) = txs.last() {
                let key = parties
                    .senders
                    .iter()
                    .find(|k| address_of(k) == last.sender)
                    .unwrap_or(key);
                tx.nonce = last.nonce;
                sign(&mut tx, key)?;
                return Ok(vec![tx]);
            }
            tx.nonce = track.nonce(&sender).saturating_sub(1);
        }
        InvalidKind::BalanceSpent => {
            // The poor sender can pay for exactly one transfer: the first spends what the second needs.
            let poor = address_of(&parties.poor);
            let mut first = Transaction::call(poor, address_of(key), 0, 21_000, fee);
            first.tx_type = TxType::DynamicFee;
            first.max_priority_fee_per_gas = Some(1);
            first.value = U256::from(1_000);
            sign(&mut first, &parties.poor)?;
            let mut second = first.clone();
            second.nonce = 1;
            sign(&mut second, &parties.poor)?;
            out.push(first);
            out.push(second);
            return Ok(out);
        }
    }
    sign(&mut tx, key)?;
    Ok(vec![tx])
}

/// Balance of the poor sender: one 21,000-gas transfer of 1,000 wei at the fee cap.
fn poor_balance(track: &Tracker) -> U256 {
    U256::from(21_000u128 * track.fee_cap(1) + 1_000)
}

/// What [`build`] makes.
#[derive(Clone, Debug)]
pub struct Built {
    /// The state before the block.
    pub pre: WorldState,
    /// The block.
    pub block: Block,
    /// The index of the transaction made invalid on purpose, if any.
    pub invalid_index: Option<usize>,
}

/// Builds the pre-state and block of `plan` under `seed`.
pub fn build(plan: &BlockPlan, cfg: &GenConfig, seed: u64) -> Result<Built, String> {
    let fork = cfg.fork;
    let parties = Parties::new(cfg, seed, plan.contracts.coinbase_is_sender);
    let mut pre = contracts(plan, &parties, seed, fork);
    for (i, key) in parties.senders.iter().enumerate() {
        pre.accounts.insert(
            address_of(key),
            Account {
                balance: U256::from(SENDER_BALANCE),
                nonce: 1 + i as u64 % 3,
                ..Account::default()
            },
        );
    }
    for key in &parties.authorities {
        pre.accounts.insert(
            address_of(key),
            Account {
                balance: U256::from(10u64.pow(18)),
                ..Account::default()
            },
        );
    }
    pre.accounts.insert(
        address_of(&parties.broke),
        Account {
            balance: U256::from(1_000),
            ..Account::default()
        },
    );
    // The genesis (and with it the base fee) depends on the pre-state, which the poor
    // sender's balance (set below) does not change: its balance is fixed by the base fee,
    // which depends only on the genesis's gas limit and base fee, not its state root.
    let genesis = genesis_header(fork, &pre);
    let env = block_env(fork, &genesis, parties.coinbase);
    let mut track = Tracker {
        nonces: pre
            .accounts
            .iter()
            .map(|(a, acc)| (*a, acc.nonce))
            .collect(),
        blobs: 0,
        max_blobs: BlobSchedule::mainnet(fork).map_or(0, |s| s.max),
        base_fee: env.base_fee.unwrap_or_default(),
        gas_limits: 0,
    };
    let invalid_at = plan
        .invalid
        .map(|inv| (usize::from(inv.position) % (plan.txs.len() + 1), inv.kind));
    let mut txs = Vec::with_capacity(plan.txs.len() + 2);
    let mut needs_poor = false;
    let mut invalid_index = None;
    for i in 0..=plan.txs.len() {
        if let Some((at, kind)) = invalid_at {
            if at == i {
                needs_poor |= kind == InvalidKind::BalanceSpent;
                let extra = invalid_tx(kind, i, &txs, &parties, &mut track)?;
                txs.extend(extra);
                // The last one added is the invalid transaction.
                invalid_index = Some(txs.len() - 1);
            }
        }
        if let Some(tx_plan) = plan.txs.get(i) {
            let key = &parties.senders[usize::from(tx_plan.sender) % parties.senders.len()];
            txs.push(valid_tx(tx_plan, key, &parties, &mut track, cfg)?);
        }
    }
    if needs_poor {
        pre.accounts.insert(
            address_of(&parties.poor),
            Account {
                balance: poor_balance(&track),
                ..Account::default()
            },
        );
    }
    // The genesis commits to the final pre-state.
    let genesis = genesis_header(fork, &pre);
    let env = block_env(fork, &genesis, parties.coinbase);
    let block = Block {
        env,
        transactions: txs,
        withdrawals: Vec::new(),
        ommers: Vec::new(),
        full_block: true,
        dao_transition: false,
    };
    Ok(Built {
        pre,
        block,
        invalid_index,
    })
}
