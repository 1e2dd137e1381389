//! Hints that ask the core to fetch memory into its cache ahead of use, for the places where
//! the next addresses are known well before they are read and the hardware cannot guess them
//! (slots of a filter spread over megabytes, write sets scattered over the heap). A hint reads
//! nothing and changes nothing: off x86-64, and under shuttle, it is a no-op.

use std::collections::VecDeque;

/// Asks the core to fetch the cache lines holding `value` (at most its first two: every value
/// hinted is smaller than that).
pub fn hint<T>(value: &T) {
    fetch(value, 0);
    fetch(value, std::mem::size_of::<T>().saturating_sub(1));
}

/// Asks the core to fetch every cache line holding `value`.
pub fn hint_all<T>(value: &T) {
    /// The size of a cache line on x86-64.
    const LINE: usize = 64;
    let size = std::mem::size_of::<T>();
    for offset in (0..size).step_by(LINE) {
        fetch(value, offset);
    }
    fetch(value, size.saturating_sub(1));
}

/// Asks the core to fetch the cache line holding byte `offset` of `value` (within it).
#[inline(always)]
fn fetch<T>(value: &T, offset: usize) {
    #[cfg(all(target_arch = "x86_64", not(feature = "shuttle")))]
    {
        let byte = std::ptr::from_ref(value).cast::<i8>().wrapping_add(offset);
        // SAFETY: a prefetch only hints the cache; it reads nothing, and any address is
        // allowed (this is a byte of a live value).
        unsafe {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            _mm_prefetch::<_MM_HINT_T0>(byte);
        }
    }
    #[cfg(not(all(target_arch = "x86_64", not(feature = "shuttle"))))]
    let _ = (value, offset);
}

/// How many items [`Ahead`] hints before they are used: enough to cover a miss to the shared
/// cache at the pace of a loop that does a hash-table update per item.
const DISTANCE: usize = 8;

/// An iterator of references that hints each item eight items before yielding it.
pub struct Ahead<'a, T, I: Iterator<Item = &'a T>> {
    inner: I,
    queued: VecDeque<&'a T>,
}

impl<'a, T, I: Iterator<Item = &'a T>> Ahead<'a, T, I> {
    /// `inner`'s items, each hinted ahead of use.
    pub fn new(inner: I) -> Self {
        Ahead {
            inner,
            queued: VecDeque::with_capacity(DISTANCE + 1),
        }
    }
}

impl<'a, T, I: Iterator<Item = &'a T>> Iterator for Ahead<'a, T, I> {
    type Item = &'a T;

    fn next(&mut self) -> Option<&'a T> {
        while self.queued.len() <= DISTANCE {
            let Some(item) = self.inner.next() else {
                break;
            };
            hint(item);
            self.queued.push_back(item);
        }
        self.queued.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ahead_yields_every_item_in_order() {
        let values: Vec<u64> = (0..100).collect();
        for len in [0, 1, DISTANCE, DISTANCE + 1, 100] {
            let seen: Vec<u64> = Ahead::new(values[..len].iter()).copied().collect();
            assert_eq!(seen, values[..len]);
        }
    }
}
