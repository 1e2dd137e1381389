//! A t8n tool names a rejected transaction's fault only in words (`rejected[].error`, a
//! block's `blockException`). These map the words to the nearest [`TxRule`] or [`BlockRule`]:
//! the exception classes of the Python execution specs and the messages of geth-style tools.

use lockstep_spec::types::{Block, BlockRule, TxRule, TxType};
use lockstep_spec::Fork;

/// Words (lowercase) that name a rule, most specific first: `NonceOverflowError("Nonce too
/// high")` must read as the nonce cap, and `InsufficientMaxFeePerBlobGasError` as a blob rule.
const TX_WORDS: &[(&[&str], TxRule)] = &[
    (
        &["nonceoverflow", "nonce has max value", "nonce max"],
        TxRule::NonceMax,
    ),
    (&["nonce too low"], TxRule::NonceTooLow),
    (&["nonce too high"], TxRule::NonceTooHigh),
    (
        &[
            "transactiongaslimitexceeded",
            "gas limit too high",
            "gas limit cap",
        ],
        TxRule::GasLimitCap,
    ),
    (
        &[
            "gasusedexceedslimit",
            "gas used exceeds limit",
            "gas limit reached",
        ],
        TxRule::GasLimitReached,
    ),
    (
        &[
            "insufficienttransactiongas",
            "intrinsic gas",
            "insufficient gas",
            "floor data gas",
        ],
        TxRule::IntrinsicGas,
    ),
    (
        &[
            "priorityfeegreaterthanmaxfee",
            "priority fee greater",
            "priority fee per gas higher",
            "tip above fee cap",
        ],
        TxRule::PriorityFeeAboveFeeCap,
    ),
    (&["blob"], TxRule::BlobRules),
    (
        &[
            "insufficientmaxfeepergas",
            "less than block base fee",
            "fee cap less than",
            "max fee per gas less",
        ],
        TxRule::FeeCapBelowBaseFee,
    ),
    (
        &[
            "insufficientbalance",
            "insufficient funds",
            "insufficient sender balance",
        ],
        TxRule::InsufficientFunds,
    ),
    (
        &["initcodetoolarge", "initcode size", "code size too large"],
        TxRule::InitCodeTooLarge,
    ),
    (
        &["invalidsender", "not eoa", "sender not an eoa"],
        TxRule::SenderNotEoa,
    ),
    (
        &[
            "invalidsignature",
            "invalid signature",
            "invalid transaction v, r, s",
        ],
        TxRule::InvalidSignature,
    ),
    (
        &["emptyauthorizationlist", "authorization list"],
        TxRule::SetCodeRules,
    ),
    (
        &[
            "unsupported transaction type",
            "transactiontypeerror",
            "type not supported",
            "has no attribute",
        ],
        TxRule::TypeNotSupported,
    ),
    (&["chain id", "chainid"], TxRule::ChainId),
    (&["overflow"], TxRule::FeeOverflow),
];

/// The rule transaction `index` of `block` broke, from the tool's `error`. Where the words
/// name no rule, the transaction itself decides when only one rule fits: a type that cannot
/// create (`TransactionTypeContractCreationError`), or a legacy gas price under the base fee
/// (the Python specs raise a bare `InvalidBlock` there).
pub fn tx_rule(error: &str, fork: Fork, block: &Block, index: usize) -> TxRule {
    let words = error.to_lowercase();
    let tx = block.transactions.get(index);
    if words.contains("contractcreation") || words.contains("cannot create") {
        return match tx.map(|t| t.tx_type) {
            Some(TxType::Blob) => TxRule::BlobRules,
            Some(TxType::SetCode) => TxRule::SetCodeRules,
            _ => TxRule::Other,
        };
    }
    if let Some((_, rule)) = TX_WORDS
        .iter()
        .find(|(needles, _)| needles.iter().any(|n| words.contains(n)))
    {
        return *rule;
    }
    if let (Some(tx), Some(base_fee)) = (tx, block.env.base_fee) {
        if fork >= Fork::London && tx.gas_price < u128::from(base_fee) {
            return TxRule::FeeCapBelowBaseFee;
        }
    }
    TxRule::Other
}

/// The block rule a tool's `blockException` names.
pub fn block_rule(exception: &str) -> BlockRule {
    let words = exception.to_lowercase();
    let table: &[(&[&str], BlockRule)] = &[
        (&["blob gas"], BlockRule::BlobGas),
        (
            &["system contract", "system call", "system transaction"],
            BlockRule::SystemCall,
        ),
        (&["request", "deposit"], BlockRule::Requests),
        (&["gas used"], BlockRule::GasUsed),
        (&["rlp", "size"], BlockRule::BlockSize),
    ];
    table
        .iter()
        .find(|(needles, _)| needles.iter().any(|n| words.contains(n)))
        .map_or(BlockRule::Other, |(_, rule)| *rule)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::Address;
    use lockstep_spec::types::Transaction;

    fn block_with(tx_type: TxType, gas_price: u128) -> Block {
        let mut tx = Transaction::call(Address::ZERO, Address::ZERO, 0, 21_000, gas_price);
        tx.tx_type = tx_type;
        let mut block = Block {
            transactions: vec![tx],
            ..Default::default()
        };
        block.env.base_fee = Some(10);
        block
    }

    #[test]
    fn python_spec_exceptions_map_to_their_rules() {
        let b = block_with(TxType::DynamicFee, 100);
        let cases = [
            ("Failed transaction: NonceMismatchError('nonce too low')", TxRule::NonceTooLow),
            ("Failed transaction: NonceOverflowError('Nonce too high')", TxRule::NonceMax),
            ("Failed transaction: InsufficientBalanceError('insufficient sender balance')", TxRule::InsufficientFunds),
            ("Failed transaction: InsufficientTransactionGasError('Insufficient gas')", TxRule::IntrinsicGas),
            ("Failed transaction: InsufficientMaxFeePerBlobGasError('insufficient max fee per blob gas')", TxRule::BlobRules),
            ("Failed transaction: InsufficientMaxFeePerGasError(5, 10)", TxRule::FeeCapBelowBaseFee),
            ("Failed transaction: GasUsedExceedsLimitError('gas used exceeds limit')", TxRule::GasLimitReached),
            ("Failed transaction: TransactionGasLimitExceededError('Gas limit too high')", TxRule::GasLimitCap),
            ("Failed transaction: InvalidSenderError('not EOA')", TxRule::SenderNotEoa),
            ("Failed transaction: InitCodeTooLargeError('Code size too large')", TxRule::InitCodeTooLarge),
            ("something nobody wrote", TxRule::Other),
        ];
        for (words, rule) in cases {
            assert_eq!(tx_rule(words, Fork::Cancun, &b, 0), rule, "{words}");
        }
    }

    #[test]
    fn the_transaction_decides_where_the_words_do_not() {
        let legacy = block_with(TxType::Legacy, 5);
        assert_eq!(
            tx_rule(
                "Failed transaction: InvalidBlock()",
                Fork::London,
                &legacy,
                0
            ),
            TxRule::FeeCapBelowBaseFee
        );
        let blob = block_with(TxType::Blob, 100);
        let setcode = block_with(TxType::SetCode, 100);
        let words = "Failed transaction: TransactionTypeContractCreationError(...)";
        assert_eq!(tx_rule(words, Fork::Prague, &blob, 0), TxRule::BlobRules);
        assert_eq!(
            tx_rule(words, Fork::Prague, &setcode, 0),
            TxRule::SetCodeRules
        );
    }

    #[test]
    fn block_exceptions_map_to_block_rules() {
        assert_eq!(block_rule("invalid blob gas used"), BlockRule::BlobGas);
        assert_eq!(
            block_rule("System contract call failed"),
            BlockRule::SystemCall
        );
        assert_eq!(block_rule("?"), BlockRule::Other);
    }
}
