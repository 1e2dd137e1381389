//! The operand stack: 256-bit words, at most 1024 of them.

use super::Halt;
use alloy_primitives::U256;

/// Maximum number of items on the stack.
pub const STACK_LIMIT: usize = 1024;

/// The operand stack of one frame.
#[derive(Debug, Default)]
pub struct Stack {
    items: Vec<U256>,
}

impl Stack {
    /// Pops the top item.
    #[inline]
    pub fn pop(&mut self) -> Result<U256, Halt> {
        self.items.pop().ok_or(Halt::StackUnderflow)
    }

    /// Pushes an item.
    #[inline]
    pub fn push(&mut self, value: U256) -> Result<(), Halt> {
        if self.items.len() >= STACK_LIMIT {
            return Err(Halt::StackOverflow);
        }
        self.items.push(value);
        Ok(())
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the stack is empty.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Checks that `n` items are present before an operation reads them.
    #[inline]
    pub fn require(&self, n: usize) -> Result<(), Halt> {
        if self.items.len() < n {
            return Err(Halt::StackUnderflow);
        }
        Ok(())
    }

    /// Duplicates the `n`-th item from the top (1-based).
    pub fn dup(&mut self, n: usize) -> Result<(), Halt> {
        self.require(n)?;
        let value = self.items[self.items.len() - n];
        self.push(value)
    }

    /// Swaps the top with the item `n` below it.
    pub fn swap(&mut self, n: usize) -> Result<(), Halt> {
        self.require(n + 1)?;
        let top = self.items.len() - 1;
        self.items.swap(top, top - n);
        Ok(())
    }

    /// The items, bottom first (for tracing and tests).
    pub fn items(&self) -> &[U256] {
        &self.items
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflow_and_underflow() {
        let mut stack = Stack::default();
        assert_eq!(stack.pop(), Err(Halt::StackUnderflow));
        for i in 0..STACK_LIMIT {
            stack.push(U256::from(i)).unwrap();
        }
        assert_eq!(stack.push(U256::ZERO), Err(Halt::StackOverflow));
        stack.swap(1).unwrap();
        assert_eq!(stack.pop(), Ok(U256::from(STACK_LIMIT - 2)));
        assert_eq!(stack.dup(17), Ok(()));
    }
}
