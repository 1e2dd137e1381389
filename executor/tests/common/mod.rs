//! Hand-built conflict-heavy blocks and the comparison of the parallel executor with the
//! sequential baseline, shared by the integration tests.

#![allow(dead_code)]

pub mod delegation;

use alloy_primitives::{Address, Bytes, U256};
use lockstep_executor::{sequential, ParallelExecutor};
use lockstep_spec::types::{
    Account, Block, BlockEnv, BlockError, BlockOutcome, Transaction, TxKind, WorldState,
};
use lockstep_spec::Fork;

/// Gas price of every transaction (above the base fee).
pub const GAS_PRICE: u128 = 20;
/// Base fee of London and later blocks.
pub const BASE_FEE: u64 = 10;
/// One ether.
pub const ETHER: u64 = 1_000_000_000_000_000_000;

/// A deterministic address from a number.
pub fn addr(n: u64) -> Address {
    let mut bytes = [0u8; 20];
    bytes[0] = 0xaa;
    bytes[12..].copy_from_slice(&n.to_be_bytes());
    Address::from(bytes)
}

/// The block's beneficiary.
pub fn coinbase() -> Address {
    addr(0xc0)
}

/// An externally owned account holding `ether` ether.
pub fn eoa(ether: u64) -> Account {
    Account {
        balance: U256::from(ether) * U256::from(ETHER),
        ..Default::default()
    }
}

/// A contract with `code`.
pub fn contract(code: &[u8]) -> Account {
    Account {
        code: Bytes::copy_from_slice(code),
        nonce: 1,
        ..Default::default()
    }
}

/// SLOAD slot 0, add 1, SSTORE slot 0: every caller writes the same hot slot.
pub const COUNTER: [u8; 10] = [0x60, 0x00, 0x54, 0x60, 0x01, 0x01, 0x60, 0x00, 0x55, 0x00];

/// SSTORE(CALLER, BALANCE(COINBASE)): records the beneficiary's balance as the caller saw it.
pub const COINBASE_READER: [u8; 5] = [0x41, 0x31, 0x33, 0x55, 0x00];

/// SSTORE(CALLER, BALANCE(target)): records `target`'s balance as the caller saw it.
pub fn balance_reader(target: Address) -> Vec<u8> {
    let mut code = vec![0x73]; // PUSH20 target
    code.extend_from_slice(target.as_slice());
    code.extend_from_slice(&[0x31, 0x33, 0x55, 0x00]); // BALANCE, CALLER, SSTORE, STOP
    code
}

/// SELFDESTRUCT to the caller.
pub const SUICIDE: [u8; 2] = [0x33, 0xff];

/// Stores EXTCODESIZE and BALANCE of the address in the first 32 bytes of call data at
/// slots 1 and 2.
pub const INSPECTOR: [u8; 13] = [
    0x60, 0x00, 0x35, 0x80, 0x3b, 0x60, 0x01, 0x55, 0x31, 0x60, 0x02, 0x55, 0x00,
];

/// Init code that deploys [`COUNTER`].
pub fn counter_init_code() -> Bytes {
    let mut code = vec![0x69];
    code.extend_from_slice(&COUNTER);
    code.extend_from_slice(&[0x60, 0x00, 0x52, 0x60, 0x0a, 0x60, 0x16, 0xf3]);
    Bytes::from(code)
}

/// Init code that stores 5 at slot 0, then deploys [`COUNTER`].
pub fn seeded_counter_init_code() -> Bytes {
    let mut code = vec![0x60, 0x05, 0x60, 0x00, 0x55];
    code.extend_from_slice(&counter_init_code());
    Bytes::from(code)
}

/// CREATE2 (salt 0, no value) of the init code given as call data; stores the new address
/// at slot 0.
pub const FACTORY: [u8; 16] = [
    0x36, 0x60, 0x00, 0x60, 0x00, 0x37, 0x60, 0x00, 0x36, 0x60, 0x00, 0x60, 0x00, 0xf5, 0x60, 0x00,
];

/// Init code that stores 5 at slot 0 and deploys [`SUICIDE`].
pub fn doomed_init_code() -> Bytes {
    Bytes::from(vec![
        0x60, 0x05, 0x60, 0x00, 0x55, 0x61, 0x33, 0xff, 0x60, 0x00, 0x52, 0x60, 0x02, 0x60, 0x1e,
        0xf3,
    ])
}

/// A block environment for `fork`.
pub fn env(fork: Fork) -> BlockEnv {
    BlockEnv {
        chain_id: 1,
        number: 100,
        timestamp: 1_000,
        beneficiary: coinbase(),
        gas_limit: 30_000_000,
        base_fee: (fork >= Fork::London).then_some(BASE_FEE),
        difficulty: U256::from(131_072),
        prevrandao: (fork >= Fork::Paris).then_some(Default::default()),
        excess_blob_gas: (fork >= Fork::Cancun).then_some(0),
        ..Default::default()
    }
}

/// Adds stub EIP-7002 and EIP-7251 request contracts (a STOP each) to `pre` from Prague on:
/// without them, a full Prague block is invalid.
pub fn add_request_stubs(fork: Fork, pre: &mut WorldState) {
    if fork >= Fork::Prague {
        for system in [
            lockstep_spec::requests::WITHDRAWAL_REQUEST_ADDRESS,
            lockstep_spec::requests::CONSOLIDATION_REQUEST_ADDRESS,
        ] {
            pre.accounts.insert(system, contract(&[0x00]));
        }
    }
}

/// A full block of `transactions` under `fork`.
pub fn block(fork: Fork, transactions: Vec<Transaction>) -> Block {
    Block {
        env: env(fork),
        transactions,
        full_block: true,
        ..Default::default()
    }
}

/// A call from `sender` to `to` with `value` wei.
pub fn call(fork: Fork, sender: Address, nonce: u64, to: Address, value: U256) -> Transaction {
    let mut tx = Transaction::call(sender, to, nonce, 200_000, GAS_PRICE);
    tx.value = value;
    if fork < Fork::SpuriousDragon {
        tx.chain_id = None;
    }
    tx
}

/// A contract creation by `sender` with `init` code.
pub fn create(fork: Fork, sender: Address, nonce: u64, init: Bytes) -> Transaction {
    let mut tx = call(fork, sender, nonce, Address::ZERO, U256::ZERO);
    tx.kind = TxKind::Create;
    tx.input = init;
    tx
}

/// A world state from accounts.
pub fn world(accounts: impl IntoIterator<Item = (Address, Account)>) -> WorldState {
    accounts.into_iter().collect()
}

/// Whether two results agree on everything but the stats.
pub fn same(a: &Result<BlockOutcome, BlockError>, b: &Result<BlockOutcome, BlockError>) -> bool {
    match (a, b) {
        (Ok(a), Ok(b)) => {
            a.post_state == b.post_state
                && a.receipts == b.receipts
                && a.gas_used == b.gas_used
                && a.blob_gas_used == b.blob_gas_used
        }
        (Err(a), Err(b)) => a == b,
        _ => false,
    }
}

/// Runs `block` sequentially and in parallel on 1, 2, 4 and 8 threads, `repeats` times each,
/// and requires identical outcomes (and that the parallel path ran). Returns the sequential
/// outcome.
pub fn assert_parallel_matches(
    fork: Fork,
    pre: &WorldState,
    block: &Block,
    repeats: usize,
) -> Result<BlockOutcome, BlockError> {
    let expected = sequential::execute_block(fork, pre, block);
    for threads in [1, 2, 4, 8] {
        for round in 0..repeats {
            let got = ParallelExecutor::new(threads).execute(fork, pre, block);
            assert!(
                same(&expected, &got),
                "threads {threads}, round {round}: parallel differs from sequential\n\
                 sequential: {expected:#?}\nparallel: {got:#?}"
            );
            if let Ok(outcome) = &got {
                assert!(outcome.stats.parallel, "the parallel path did not run");
                assert!(outcome.stats.fallback.is_none());
            }
        }
    }
    expected
}

/// Schedules per shuttle test: `LOCKSTEP_SHUTTLE_ITERATIONS`, default 100.
pub fn shuttle_iterations() -> usize {
    std::env::var("LOCKSTEP_SHUTTLE_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100)
}

/// A shuttle test body: `executor` on 2 and 3 threads must give `block`'s sequential
/// outcome under every schedule.
pub fn shuttle_body(
    fork: Fork,
    pre: WorldState,
    block: Block,
    label: &'static str,
    executor: fn(usize, Fork, &WorldState, &Block) -> Result<BlockOutcome, BlockError>,
) -> impl Fn() + Send + Sync + 'static {
    let expected = std::sync::Arc::new(sequential::execute_block(fork, &pre, &block));
    let input = std::sync::Arc::new((pre, block));
    move || {
        let (pre, block) = &*input;
        for threads in [2, 3] {
            let got = executor(threads, fork, pre, block);
            assert!(
                same(&expected, &got),
                "{threads} threads: {label} differs from sequential\n\
                 sequential: {expected:#?}\n{label}: {got:#?}"
            );
        }
    }
}

/// A small deterministic pseudo-random generator (xorshift).
pub struct Rng(pub u64);

impl Rng {
    /// The next number below `bound`.
    pub fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

/// A contention-heavy block of `size` transactions mixing transfers among a few accounts,
/// hot-slot counter calls, beneficiary balance reads, payments to the beneficiary and
/// beneficiary-sent transfers.
pub fn mixed_block(fork: Fork, size: usize, seed: u64) -> (WorldState, Block) {
    let senders: Vec<Address> = (1..=6).map(addr).collect();
    let counter = addr(0x100);
    let reader = addr(0x101);
    let mut pre = world(senders.iter().map(|a| (*a, eoa(100))));
    pre.accounts.insert(counter, contract(&COUNTER));
    pre.accounts.insert(reader, contract(&COINBASE_READER));
    pre.accounts.insert(coinbase(), eoa(1));
    let mut nonces = std::collections::BTreeMap::new();
    let mut rng = Rng(seed | 1);
    let mut txs = Vec::new();
    for _ in 0..size {
        let from_coinbase = rng.below(10) == 0;
        let sender = if from_coinbase {
            coinbase()
        } else {
            senders[rng.below(senders.len() as u64) as usize]
        };
        let nonce = nonces.entry(sender).or_insert(0u64);
        let value = U256::from(rng.below(1000) + 1);
        let to = match rng.below(5) {
            0 => counter,
            1 => reader,
            2 => coinbase(),
            _ => senders[rng.below(senders.len() as u64) as usize],
        };
        txs.push(call(fork, sender, *nonce, to, value));
        *nonce += 1;
    }
    (pre, block(fork, txs))
}

/// `SSTORE(w, SLOAD(r) + add)` with a loop of `n` iterations (`n` >= 1) between the read and
/// the write; the call data is the words `r, n, w, add`.
pub const SLOW_COPY: [u8; 26] = [
    0x60, 0x00, 0x35, 0x54, // v = SLOAD(CALLDATALOAD(0))
    0x60, 0x20, 0x35, // n = CALLDATALOAD(32)
    0x5b, 0x60, 0x01, 0x90, 0x03, 0x80, 0x60, 0x07, 0x57, 0x50, // do n -= 1 while n != 0
    0x60, 0x60, 0x35, 0x01, // v + CALLDATALOAD(96)
    0x60, 0x40, 0x35, 0x55, // SSTORE(CALLDATALOAD(64), ..)
    0x00,
];

/// A call of the [`SLOW_COPY`] contract at `to`.
pub fn slow_copy(
    sender: Address,
    to: Address,
    read: u64,
    loops: u64,
    write: u64,
    add: u64,
) -> Transaction {
    // 26 gas per loop, with room for the rest.
    let mut tx = Transaction::call(sender, to, 0, 26 * loops + 100_000, GAS_PRICE);
    let mut input = Vec::with_capacity(128);
    for word in [read, loops, write, add] {
        input.extend_from_slice(&U256::from(word).to_be_bytes::<32>());
    }
    tx.input = Bytes::from(input);
    tx
}

/// A block that opens long windows between an abort and the end of the re-execution, three
/// times over: in each group, a first transaction writes a slot after a long loop, a second
/// reads that slot at once (so its first incarnation reads it stale), loops a shorter while
/// and writes a second slot from it, and the transactions after it copy the second slot.
/// Their reads of the aborted incarnation's write must not validate while it runs again
/// (Block-STM's ESTIMATE markers). The second slot of group `g` ends at 10 * g + 8.
pub fn abort_window_block(fork: Fork) -> (WorldState, Block) {
    let slow = addr(0x400);
    let mut pre = world((1..=24).map(|n| (addr(n), eoa(1))));
    pre.accounts.insert(slow, contract(&SLOW_COPY));
    let mut txs = Vec::new();
    for group in 0..3u64 {
        let (first, second) = (10 * group + 1, 10 * group + 2);
        let sender = |n: u64| addr(8 * group + n);
        txs.push(slow_copy(sender(1), slow, 9, 200_000, first, 7));
        txs.push(slow_copy(sender(2), slow, first, 60_000, second, 1));
        txs.extend(
            (3..=8).map(|n| slow_copy(sender(n), slow, second, 1, 100 * (group + 1) + n, 0)),
        );
    }
    (pre, block(fork, txs))
}
