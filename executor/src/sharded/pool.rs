//! The transactions of a sharded block that no shard needs to hold in advance: those
//! predicted to share no written account with any other transaction (a group of one in the
//! partition). Rather than dealt to shards before the run, they wait in a [`Pool`], and
//! each shard claims them in chunks as it goes, in block order ([`Feed`]). A shard whose
//! worker runs slower (a busier core, a later start) then takes fewer of them, and the
//! shards end together instead of one waiting for the other.
//!
//! Any partition gives the sequential outcome (settling checks every read), so which shard
//! runs a pooled transaction only decides the speed; each shard still runs its transactions
//! in block order, which is all that its check assumes.

use crate::sync::{AtomicUsize, Ordering};
use std::ops::Range;

/// A block is pooled only when at least this share of its transactions are predicted to
/// share nothing: a block of independent work, the kind whose shards a slower core delays.
/// Where a few large groups hold much of a block, dealing it balances the shards well
/// enough, and keeps its groups of one together on the shard beside the largest group, as
/// dealing by load does: mainnet 4,370,000 (a third of it from one sender) pooled at two
/// threads came out with 57 of its 97 transactions re-executed (`auto:2` 0.57x), dealt
/// with none.
pub const MIN_POOLED_SHARE: f64 = 0.9;

/// The fewest transactions a claim takes (but the pool's last ones): a claim is one atomic
/// operation on a line both cores write. Under shuttle, one, so that the blocks of its tests,
/// a dozen transactions, are shared claim by claim under every schedule.
#[cfg(not(feature = "shuttle"))]
pub const MIN_CHUNK: usize = 8;
/// The fewest transactions a claim takes (see the normal build's).
#[cfg(feature = "shuttle")]
pub const MIN_CHUNK: usize = 1;

/// A claim takes the untaken transactions' share of one in this many per worker: large
/// chunks while much is left, down to [`MIN_CHUNK`] at the end (guided self-scheduling,
/// Polychronopoulos and Kuck, 1987), so that claims are few and the shards end close
/// together.
pub const CHUNKS_PER_WORKER: usize = 4;

/// Transactions claimed in chunks, in block order, by the shards of one block.
#[derive(Debug)]
pub struct Pool<'t> {
    /// Block indexes, in block order.
    txs: &'t [usize],
    /// Where the untaken transactions start in `txs`.
    next: AtomicUsize,
    /// How many workers claim from it.
    workers: usize,
}

impl<'t> Pool<'t> {
    /// A pool of `txs` (block indexes in block order) for `workers` workers.
    pub fn new(txs: &'t [usize], workers: usize) -> Self {
        Pool {
            txs,
            next: AtomicUsize::new(0),
            workers: workers.max(1),
        }
    }

    /// How many transactions the pool holds, taken or not.
    pub fn len(&self) -> usize {
        self.txs.len()
    }

    /// Whether the pool holds no transaction.
    pub fn is_empty(&self) -> bool {
        self.txs.is_empty()
    }

    /// The block index of the first untaken transaction, if one is left.
    fn peek(&self) -> Option<usize> {
        self.txs.get(self.next.load(Ordering::Acquire)).copied()
    }

    /// Takes the next chunk: its positions in the pool.
    fn claim(&self) -> Option<Range<usize>> {
        let len = self.txs.len();
        let mut start = self.next.load(Ordering::Acquire);
        loop {
            if start >= len {
                return None;
            }
            let share = (len - start) / (CHUNKS_PER_WORKER * self.workers);
            let end = (start + share.max(MIN_CHUNK)).min(len);
            match self
                .next
                .compare_exchange(start, end, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return Some(start..end),
                Err(now) => start = now,
            }
        }
    }
}

/// One shard's transactions, in block order: its own (`fixed`, dealt to it in advance)
/// merged with the chunks it claims from the pool. Chunks are taken in block order, so a
/// chunk claimed later starts after every pooled transaction the shard has run, and the
/// merge runs an own transaction only before the pooled ones after it. A chunk is claimed
/// only when the pool's next transaction comes before the shard's next own one, leaving it
/// to the other shards meanwhile.
pub struct Feed<'p> {
    fixed: &'p [usize],
    pool: Option<&'p Pool<'p>>,
    claimed: Range<usize>,
    /// Whether the last transaction given was the last of its chunk.
    chunk_ended: bool,
}

impl<'p> Feed<'p> {
    /// The transactions `fixed` (block indexes in block order) and those claimed from
    /// `pool`.
    pub fn new(fixed: &'p [usize], pool: Option<&'p Pool<'p>>) -> Self {
        Feed {
            fixed,
            pool,
            claimed: 0..0,
            chunk_ended: false,
        }
    }

    /// Whether the transaction given last ended a chunk claimed from the pool: a point where
    /// the shard can settle its work so far, since the shards' last chunks end together.
    pub fn chunk_ended(&self) -> bool {
        self.chunk_ended
    }

    /// How many transactions of the chunk being run are left after the one given last, if
    /// the feed claims from a pool.
    pub fn left_in_chunk(&self) -> Option<usize> {
        self.pool.map(|_| self.claimed.len())
    }

    /// About how many transactions the feed will give: its own and its workers' share of
    /// the pool (for sizing tables).
    pub fn expected(&self) -> usize {
        self.fixed.len() + self.pool.map_or(0, |pool| pool.len() / pool.workers)
    }
}

impl Iterator for Feed<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        self.chunk_ended = false;
        let own = self.fixed.first().copied();
        if self.claimed.is_empty() {
            if let Some(pool) = self.pool {
                let pool_first = pool.peek();
                let pool_is_next = match (pool_first, own) {
                    (Some(pooled), Some(own)) => pooled < own,
                    (pooled, None) => pooled.is_some(),
                    (None, Some(_)) => false,
                };
                if pool_is_next {
                    self.claimed = pool.claim().unwrap_or(0..0);
                }
            }
        }
        let pooled = self
            .pool
            .zip(self.claimed.clone().next())
            .and_then(|(pool, at)| pool.txs.get(at).copied());
        match (own, pooled) {
            (Some(own), Some(pooled)) if own < pooled => {
                self.fixed = &self.fixed[1..];
                Some(own)
            }
            (_, Some(pooled)) => {
                self.claimed.start += 1;
                self.chunk_ended = self.claimed.is_empty();
                Some(pooled)
            }
            (Some(own), None) => {
                self.fixed = &self.fixed[1..];
                Some(own)
            }
            (None, None) => None,
        }
    }
}

#[cfg(all(test, not(feature = "shuttle")))]
mod tests {
    use super::*;

    #[test]
    fn a_lone_feed_gives_its_own_and_the_whole_pool_in_block_order() {
        let pool = Pool::new(&[0, 2, 3, 5, 8, 9], 2);
        let fixed = [1, 4, 6, 7];
        let order: Vec<usize> = Feed::new(&fixed, Some(&pool)).collect();
        assert_eq!(order, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn two_feeds_taking_turns_share_the_pool_once_each_in_block_order() {
        let pooled: Vec<usize> = (0..200).filter(|n| n % 10 != 0).collect();
        let pool = Pool::new(&pooled, 2);
        let (own_a, own_b): (Vec<usize>, Vec<usize>) =
            (0..200).filter(|n| n % 10 == 0).partition(|n| n % 20 == 0);
        let mut a = Feed::new(&own_a, Some(&pool));
        let mut b = Feed::new(&own_b, Some(&pool));
        let (mut got_a, mut got_b) = (Vec::new(), Vec::new());
        // Feed A runs three transactions for each of B's, as a faster worker would.
        loop {
            let mut moved = false;
            for _ in 0..3 {
                if let Some(tx) = a.next() {
                    got_a.push(tx);
                    moved = true;
                }
            }
            if let Some(tx) = b.next() {
                got_b.push(tx);
                moved = true;
            }
            if !moved {
                break;
            }
        }
        for got in [&got_a, &got_b] {
            assert!(got.windows(2).all(|w| w[0] < w[1]), "out of order: {got:?}");
        }
        assert!(own_a.iter().all(|tx| got_a.contains(tx)));
        assert!(own_b.iter().all(|tx| got_b.contains(tx)));
        let mut all: Vec<usize> = got_a.iter().chain(&got_b).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..200).collect::<Vec<_>>());
        // The faster feed took more of the pool.
        assert!(
            got_a.len() > got_b.len(),
            "{} against {}",
            got_a.len(),
            got_b.len()
        );
    }

    #[test]
    fn claims_shrink_to_the_smallest_chunk_at_the_end() {
        let pooled: Vec<usize> = (0..1000).collect();
        let pool = Pool::new(&pooled, 2);
        let mut sizes = Vec::new();
        while let Some(chunk) = pool.claim() {
            sizes.push(chunk.len());
        }
        assert_eq!(sizes.iter().sum::<usize>(), 1000);
        assert_eq!(sizes.first(), Some(&125));
        assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{sizes:?}");
        assert_eq!(sizes.iter().rev().nth(1), Some(&MIN_CHUNK));
        assert!(sizes.len() < 1000 / MIN_CHUNK);
    }

    #[test]
    fn a_feed_tells_where_its_chunks_end() {
        let pooled: Vec<usize> = (0..100).collect();
        let pool = Pool::new(&pooled, 1);
        let mut feed = Feed::new(&[], Some(&pool));
        let mut ends = Vec::new();
        while let Some(tx) = feed.next() {
            if feed.chunk_ended() {
                ends.push(tx);
                assert_eq!(feed.left_in_chunk(), Some(0));
            }
        }
        // Chunks of a quarter of what is left, down to eight: 25, 18, 14, 10, 8...
        assert_eq!(ends[..4], [24, 42, 56, 66]);
        assert_eq!(ends.last(), Some(&99));
    }

    #[test]
    fn a_feed_without_a_pool_gives_its_own() {
        let fixed = [3, 5, 9];
        assert_eq!(Feed::new(&fixed, None).collect::<Vec<_>>(), fixed);
    }
}
