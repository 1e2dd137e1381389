//! 0x04 IDENTITY: returns its input; 15 gas plus 3 per word.

use super::{check_gas, words};
use crate::vm::Halt;
use crate::Fork;

/// Runs IDENTITY.
pub fn run(_: Fork, input: &[u8], gas: u64) -> Result<(u64, Vec<u8>), Halt> {
    let cost = 15 + 3 * words(input.len());
    check_gas(cost, gas)?;
    Ok((cost, input.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_input() {
        assert_eq!(run(Fork::Cancun, &[1, 2, 3], 100), Ok((18, vec![1, 2, 3])));
        assert_eq!(run(Fork::Cancun, &[], 14), Err(Halt::OutOfGas));
    }
}
