//! EIP-7702 delegation conflicts as blocks (Prague on): a delegation set and then used, a
//! re-delegation, delegations to precompiles and empty accounts, authorizations whose
//! validity depends on nonces bumped earlier in the block, and a cleared delegation. Each
//! case carries a check of its expected outcome, so that executors agreeing on a wrong
//! outcome still fail.
//!
//! Authorizations are really signed (the spec recovers authorities from their signatures).

use super::*;
use alloy_primitives::{keccak256, Address, Bytes, U256};
use lockstep_spec::delegation::{designator, signing_hash};
use lockstep_spec::types::{Authorization, BlockOutcome, Transaction, TxType};
use secp256k1::{Message, PublicKey, SecretKey, SECP256K1};

/// Copies slot 0 into slot 1 (SLOAD 0, SSTORE 1): the second delegate, which must see what
/// the first one ([`COUNTER`]) stored.
pub const COPIER: [u8; 7] = [0x60, 0x00, 0x54, 0x60, 0x01, 0x55, 0x00];

/// Calls the address `a` in the first word of call data with 32 zero bytes and stores the
/// call's success at slot `a`, its return data size at `a + 1` and `a`'s EXTCODESIZE at
/// `a + 2`.
pub const PROBE: [u8; 31] = [
    0x60, 0x00, 0x35, // a = CALLDATALOAD(0)
    0x60, 0x00, 0x60, 0x00, 0x60, 0x20, 0x60, 0x00, 0x60, 0x00, 0x85, 0x5a,
    0xf1, // CALL(gas, a, 0, 0, 32, 0, 0)
    0x81, 0x55, // SSTORE(a, success)
    0x3d, 0x81, 0x60, 0x01, 0x01, 0x55, // SSTORE(a + 1, RETURNDATASIZE)
    0x80, 0x3b, 0x81, 0x60, 0x02, 0x01, 0x55, // SSTORE(a + 2, EXTCODESIZE(a))
];

/// The counter every delegation test delegates to first.
pub fn counter() -> Address {
    addr(0x100)
}

/// The second delegate ([`COPIER`]).
pub fn copier() -> Address {
    addr(0x101)
}

/// The probe contract ([`PROBE`]).
pub fn probe() -> Address {
    addr(0x102)
}

/// An address that holds nothing, before and after the blocks.
pub fn nowhere() -> Address {
    addr(0xdead)
}

/// The secret key of test authority `n` (1 ..= 255).
fn secret(n: u8) -> SecretKey {
    SecretKey::from_byte_array([n; 32]).expect("a repeated non-zero byte is a valid secret key")
}

/// The address of test authority `n`.
pub fn authority(n: u8) -> Address {
    let public = PublicKey::from_secret_key(SECP256K1, &secret(n)).serialize_uncompressed();
    Address::from_slice(&keccak256(&public[1..])[12..])
}

/// An authorization by authority `n` to delegate to `to` at the authority's nonce `nonce`,
/// signed for chain 1.
pub fn authorize(n: u8, to: Address, nonce: u64) -> Authorization {
    let mut auth = Authorization {
        chain_id: U256::from(1),
        address: to,
        nonce,
        y_parity: 0,
        r: U256::ZERO,
        s: U256::ZERO,
        authority: Some(authority(n)),
    };
    let message = Message::from_digest(signing_hash(&auth));
    let (id, compact) = SECP256K1
        .sign_ecdsa_recoverable(message, &secret(n))
        .serialize_compact();
    auth.y_parity = u8::try_from(i32::from(id)).expect("a recovery id is 0 to 3");
    auth.r = U256::from_be_slice(&compact[..32]);
    auth.s = U256::from_be_slice(&compact[32..]);
    auth
}

/// A set-code transaction (type 4) from `sender` calling `to` with `auths`.
pub fn set_code(
    sender: Address,
    nonce: u64,
    to: Address,
    auths: Vec<Authorization>,
) -> Transaction {
    let mut tx = Transaction::call(sender, to, nonce, 300_000, GAS_PRICE);
    tx.tx_type = TxType::SetCode;
    tx.max_priority_fee_per_gas = Some(2);
    tx.authorization_list = auths;
    tx
}

/// A call of `to` by `sender`.
fn plain(fork: Fork, sender: Address, nonce: u64, to: Address, value: u64) -> Transaction {
    call(fork, sender, nonce, to, U256::from(value))
}

/// A call of the probe on `target`.
fn probe_call(fork: Fork, sender: Address, nonce: u64, target: Address) -> Transaction {
    let mut tx = call(fork, sender, nonce, probe(), U256::ZERO);
    let mut word = [0u8; 32];
    word[12..].copy_from_slice(target.as_slice());
    tx.input = Bytes::copy_from_slice(&word);
    tx
}

/// The probe's slot for `target` plus `offset`.
pub fn probe_slot(target: Address, offset: u64) -> U256 {
    U256::from_be_slice(target.as_slice()) + U256::from(offset)
}

/// One delegation conflict: a block, its pre-state and what its outcome must show.
pub struct Case {
    /// What the block exercises.
    pub name: &'static str,
    /// The fork.
    pub fork: Fork,
    /// The state before the block.
    pub pre: WorldState,
    /// The block.
    pub block: Block,
    /// Asserts the concrete outcome (panics with a message otherwise).
    pub check: fn(&BlockOutcome),
}

/// Senders that pay for the transactions (plain accounts, never authorities).
fn sponsor(n: u64) -> Address {
    addr(n)
}

/// The pre-state shared by the cases: funded sponsors, the delegates, the probe and stub
/// EIP-7002/7251 request contracts (a Prague block without them is invalid).
fn base_world() -> WorldState {
    let mut pre = world((1..=6).map(|n| (sponsor(n), eoa(10))));
    pre.accounts.insert(counter(), contract(&COUNTER));
    pre.accounts.insert(copier(), contract(&COPIER));
    pre.accounts.insert(probe(), contract(&PROBE));
    // The cases run from Prague on.
    add_request_stubs(Fork::Prague, &mut pre);
    pre
}

fn code_of(out: &BlockOutcome, address: Address) -> Bytes {
    out.post_state
        .get(&address)
        .map(|a| a.code.clone())
        .unwrap_or_default()
}

fn nonce_of(out: &BlockOutcome, address: Address) -> u64 {
    out.post_state.get(&address).map_or(0, |a| a.nonce)
}

fn balance_of(out: &BlockOutcome, address: Address) -> U256 {
    out.post_state
        .get(&address)
        .map(|a| a.balance)
        .unwrap_or_default()
}

/// Conflict 1: a delegation set by transaction 0 (to an authority that did not exist) and used by
/// later calls: each runs the counter in the authority's storage.
pub fn set_then_used(fork: Fork) -> Case {
    let a = authority(1);
    let txs = vec![
        set_code(sponsor(1), 0, nowhere(), vec![authorize(1, counter(), 0)]),
        plain(fork, sponsor(2), 0, a, 0),
        plain(fork, sponsor(3), 0, a, 0),
        plain(fork, sponsor(4), 0, sponsor(5), 1),
        plain(fork, sponsor(2), 1, a, 0),
    ];
    Case {
        name: "delegation set, then used",
        fork,
        pre: base_world(),
        block: block(fork, txs),
        check: |out| {
            let a = authority(1);
            assert_eq!(code_of(out, a), designator(counter()));
            assert_eq!(nonce_of(out, a), 1);
            assert_eq!(out.post_state.storage(&a, &U256::ZERO), U256::from(3));
        },
    }
}

/// Conflict 2: re-delegation to a second contract: the copier must read the counter's value written
/// through the first delegation, both for a delegation set in the block and for one already in the
/// pre-state.
pub fn redelegated(fork: Fork) -> Case {
    let (a, b) = (authority(2), authority(3));
    let mut pre = base_world();
    pre.accounts.insert(a, eoa(1));
    let mut delegated = eoa(1);
    delegated.code = designator(counter());
    delegated.nonce = 1;
    delegated.storage.insert(U256::ZERO, U256::from(5));
    pre.accounts.insert(b, delegated);
    let txs = vec![
        set_code(sponsor(1), 0, nowhere(), vec![authorize(2, counter(), 0)]),
        plain(fork, sponsor(2), 0, a, 0),
        plain(fork, sponsor(3), 0, b, 0),
        plain(fork, sponsor(4), 0, a, 0),
        set_code(
            sponsor(1),
            1,
            nowhere(),
            vec![authorize(2, copier(), 1), authorize(3, copier(), 1)],
        ),
        plain(fork, sponsor(5), 0, a, 0),
        plain(fork, sponsor(6), 0, b, 0),
    ];
    Case {
        name: "re-delegation to a second contract",
        fork,
        pre,
        block: block(fork, txs),
        check: |out| {
            let (a, b) = (authority(2), authority(3));
            for (who, value) in [(a, 2u64), (b, 6)] {
                assert_eq!(code_of(out, who), designator(copier()));
                assert_eq!(nonce_of(out, who), 2);
                assert_eq!(out.post_state.storage(&who, &U256::ZERO), U256::from(value));
                assert_eq!(
                    out.post_state.storage(&who, &U256::from(1)),
                    U256::from(value),
                    "the copier read slot 0 as zero or stale"
                );
            }
        },
    }
}

/// Conflict 3: delegations to precompiles (identity, sha256, ecrecover) and to an empty account:
/// calls to the authorities then run no code (the probe sees no return data where the precompile
/// itself returns 32 bytes), and value sent to them stays with them.
pub fn to_precompile_and_empty(fork: Fork) -> Case {
    let (a, b, c) = (authority(4), authority(5), authority(6));
    let identity = Address::with_last_byte(4);
    let mut pre = base_world();
    pre.accounts.insert(a, eoa(1));
    pre.accounts.insert(b, eoa(1));
    let txs = vec![
        probe_call(fork, sponsor(1), 0, identity),
        set_code(
            sponsor(2),
            0,
            nowhere(),
            vec![
                authorize(4, identity, 0),
                authorize(5, Address::with_last_byte(2), 0),
                authorize(6, nowhere(), 0),
            ],
        ),
        probe_call(fork, sponsor(3), 0, a),
        probe_call(fork, sponsor(4), 0, b),
        probe_call(fork, sponsor(5), 0, c),
        plain(fork, sponsor(6), 0, a, 7),
        set_code(
            sponsor(1),
            1,
            c,
            vec![authorize(5, Address::with_last_byte(1), 1)],
        ),
    ];
    Case {
        name: "delegation to precompiles and to an empty account",
        fork,
        pre,
        block: block(fork, txs),
        check: |out| {
            let (a, b, c) = (authority(4), authority(5), authority(6));
            let identity = Address::with_last_byte(4);
            let slot = |target, offset| {
                out.post_state
                    .storage(&probe(), &probe_slot(target, offset))
            };
            assert_eq!(slot(identity, 0), U256::from(1));
            assert_eq!(
                slot(identity, 1),
                U256::from(32),
                "the identity precompile echoes"
            );
            for who in [a, b, c] {
                assert_eq!(slot(who, 0), U256::from(1), "the call to {who} failed");
                assert_eq!(slot(who, 1), U256::ZERO, "a call to {who} ran code");
                assert_eq!(slot(who, 2), U256::from(23), "{who} holds no designator");
            }
            assert_eq!(code_of(out, a), designator(identity));
            assert_eq!(code_of(out, b), designator(Address::with_last_byte(1)));
            assert_eq!(nonce_of(out, b), 2);
            assert_eq!(code_of(out, c), designator(nowhere()));
            let ether = U256::from(ETHER);
            assert_eq!(balance_of(out, a), ether + U256::from(7));
            assert!(out.post_state.get(&nowhere()).is_none());
        },
    }
}

/// Conflict 4: authorizations whose validity depends on nonces bumped earlier in the block: one
/// whose nonce the authority's own transaction consumed (skipped), one valid only because of that
/// transaction, and a self-sponsored one (the sender's nonce is bumped before its authorizations
/// apply) followed by another transaction of the now delegated sender.
pub fn nonce_dependent(fork: Fork) -> Case {
    let (a, b) = (authority(7), authority(8));
    let mut pre = base_world();
    pre.accounts.insert(a, eoa(1));
    pre.accounts.insert(b, eoa(1));
    let txs = vec![
        plain(fork, a, 0, sponsor(6), 1),
        set_code(sponsor(1), 0, a, vec![authorize(7, counter(), 0)]),
        set_code(sponsor(2), 0, a, vec![authorize(7, counter(), 1)]),
        plain(fork, sponsor(3), 0, a, 0),
        set_code(b, 0, nowhere(), vec![authorize(8, copier(), 1)]),
        plain(fork, b, 2, sponsor(6), 1),
    ];
    Case {
        name: "authorization nonces consumed and bumped by earlier transactions",
        fork,
        pre,
        block: block(fork, txs),
        check: |out| {
            let (a, b) = (authority(7), authority(8));
            assert_eq!(code_of(out, a), designator(counter()));
            assert_eq!(nonce_of(out, a), 2);
            // Transaction 1 ran no code (its authorization was skipped); 2 and 3 counted.
            assert_eq!(out.post_state.storage(&a, &U256::ZERO), U256::from(2));
            assert_eq!(code_of(out, b), designator(copier()));
            assert_eq!(nonce_of(out, b), 3);
            assert!(out.receipts.iter().all(|r| r.success));
        },
    }
}

/// Conflict 5: a delegation cleared (authorization to address zero) by a later transaction, then
/// called again: the call runs no code, the storage written through the delegation stays.
pub fn cleared(fork: Fork) -> Case {
    let a = authority(9);
    let mut pre = base_world();
    pre.accounts.insert(a, eoa(1));
    let txs = vec![
        set_code(sponsor(1), 0, nowhere(), vec![authorize(9, counter(), 0)]),
        plain(fork, sponsor(2), 0, a, 0),
        set_code(
            sponsor(3),
            0,
            nowhere(),
            vec![authorize(9, Address::ZERO, 1)],
        ),
        plain(fork, sponsor(4), 0, a, 5),
        probe_call(fork, sponsor(5), 0, a),
    ];
    Case {
        name: "delegation cleared, then called",
        fork,
        pre,
        block: block(fork, txs),
        check: |out| {
            let a = authority(9);
            assert_eq!(code_of(out, a), Bytes::new());
            assert_eq!(nonce_of(out, a), 2);
            assert_eq!(out.post_state.storage(&a, &U256::ZERO), U256::from(1));
            assert_eq!(balance_of(out, a), U256::from(ETHER) + U256::from(5));
            let slot = |offset| out.post_state.storage(&probe(), &probe_slot(a, offset));
            assert_eq!(slot(0), U256::from(1));
            assert_eq!(slot(2), U256::ZERO, "the cleared authority still has code");
        },
    }
}

/// Every delegation conflict under `fork`.
pub fn cases(fork: Fork) -> Vec<Case> {
    vec![
        set_then_used(fork),
        redelegated(fork),
        to_precompile_and_empty(fork),
        nonce_dependent(fork),
        cleared(fork),
    ]
}
