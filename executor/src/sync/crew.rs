//! Helper threads kept from block to block for [`super::run_workers`] (normal builds only).
//!
//! A crew hands one job at a time to its helpers and waits for them by polling, never by
//! sleeping: a block's parallel part lasts a millisecond or two, and a thread put to sleep on
//! a condition variable takes 50-100 µs to wake on this kind of machine (measured through
//! rayon's pool: the helper started its share of `builtin:transfers` 50 µs after the caller,
//! and each join cost as much again). A helper polls for its next job for a short while after
//! each one, which covers the gap between two jobs of one block (the run, then its end), and
//! after [`Crew::wake`], which a block calls before its serial set-up so that the helpers are
//! up when the parallel part starts; otherwise it sleeps until a job comes.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How long a helper polls for a job after finishing one: the gap between the jobs of one
/// block is a few microseconds; a helper polling longer would only take a core from the
/// caller's own sequential work.
const POLL_AFTER_JOB: Duration = Duration::from_micros(30);

/// How long a helper polls for a job after [`Crew::wake`]: longer than any block's serial
/// set-up before its parallel part.
const POLL_AFTER_WAKE: Duration = Duration::from_millis(2);

/// The job of one run, its lifetime erased (see [`Crew::run`] for why that is sound).
type Job = &'static (dyn Fn() + Sync);

/// What a helper and the crew's caller share.
#[derive(Default)]
struct Mailbox {
    /// Jobs posted so far; a new value means a new job.
    posted: AtomicU64,
    /// Jobs this helper has finished (equal to `posted` when it is idle).
    finished: AtomicU64,
    /// Wake-ups asked for so far ([`Crew::wake`]).
    wakes: AtomicU64,
    /// The count of wake-ups when [`Crew::rest`] was last called: the wake-up it takes back
    /// (a later one is not).
    rested: AtomicU64,
    /// The job to run, set before `posted` moves.
    job: Mutex<Option<Job>>,
    /// Set when the crew is dropped: the helper exits.
    stop: AtomicBool,
    /// Where the helper sleeps when no job came while it polled: whether it sleeps, under the
    /// lock it checks for news under before sleeping.
    sleep: Mutex<bool>,
    bell: Condvar,
}

impl Mailbox {
    /// Wakes the helper if it sleeps (a helper still polling sees the news by itself, and a
    /// notification is a system call).
    fn ring(&self) {
        let sleeping = self.sleep.lock().unwrap_or_else(|e| e.into_inner());
        if *sleeping {
            self.bell.notify_one();
        }
    }
}

/// A set of helper threads.
pub struct Crew {
    mailboxes: Vec<Arc<Mailbox>>,
}

impl Crew {
    /// A crew of `helpers` threads, or `None` if a thread could not be started.
    pub fn new(helpers: usize) -> Option<Crew> {
        let mut crew = Crew {
            mailboxes: Vec::with_capacity(helpers),
        };
        for index in 0..helpers {
            let mailbox = Arc::new(Mailbox::default());
            let theirs = Arc::clone(&mailbox);
            std::thread::Builder::new()
                .name(format!("lockstep-worker-{index}"))
                .spawn(move || serve(&theirs))
                .ok()?;
            crew.mailboxes.push(mailbox);
        }
        Some(crew)
    }

    /// Asks the helpers to poll for a job for a while ([`POLL_AFTER_WAKE`]) instead of
    /// sleeping: one is coming.
    pub fn wake(&self) {
        for mailbox in &self.mailboxes {
            mailbox.wakes.fetch_add(1, Ordering::SeqCst);
            mailbox.ring();
        }
    }

    /// Asks the helpers to stop polling and sleep until a job comes: the one a wake-up
    /// announced will not (its block runs on the calling thread alone).
    pub fn rest(&self) {
        for mailbox in &self.mailboxes {
            let wakes = mailbox.wakes.load(Ordering::SeqCst);
            mailbox.rested.store(wakes, Ordering::SeqCst);
        }
    }

    /// Runs `job` on the calling thread and on every helper that takes it before the caller
    /// is done with it, and returns once those have finished it (the caller's panic included:
    /// it is passed on after the helpers finish). The job must share its work by claiming it,
    /// or have its workers wait for each other (see `run_workers`): a helper that comes late
    /// does not run it at all.
    pub fn run(&self, job: &(dyn Fn() + Sync)) {
        // SAFETY: the helpers only call the job between its posting here and their
        // `finished` reaching this post, and this function does not return or unwind before
        // every helper's `finished` has (`Join` waits in its drop), so the job outlives
        // every use of the erased reference.
        let erased: Job = unsafe { std::mem::transmute::<&(dyn Fn() + Sync), Job>(job) };
        let mut join = Join {
            crew: self,
            posts: Vec::with_capacity(self.mailboxes.len()),
        };
        for mailbox in &self.mailboxes {
            *mailbox.job.lock().unwrap_or_else(|e| e.into_inner()) = Some(erased);
            let post = mailbox.posted.fetch_add(1, Ordering::SeqCst) + 1;
            join.posts.push(post);
            mailbox.ring();
        }
        job();
        drop(join);
    }
}

impl Drop for Crew {
    fn drop(&mut self) {
        for mailbox in &self.mailboxes {
            mailbox.stop.store(true, Ordering::SeqCst);
            mailbox.ring();
        }
    }
}

/// Withdraws, when dropped, the job from every helper that has not taken it yet, and waits
/// until the others have finished it.
struct Join<'c> {
    crew: &'c Crew,
    posts: Vec<u64>,
}

impl Drop for Join<'_> {
    fn drop(&mut self) {
        for (mailbox, post) in self.crew.mailboxes.iter().zip(&self.posts) {
            // A helper still waking when the caller's share is done finds no job: the work is
            // claimed by whoever comes for it (see `run_workers`), so none is left for it,
            // and a small block does not wait 50 µs for a thread to wake and do nothing.
            if mailbox
                .job
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take()
                .is_some()
            {
                continue;
            }
            let mut polls = 0u32;
            while mailbox.finished.load(Ordering::SeqCst) < *post {
                super::relax(polls, 1);
                polls = polls.saturating_add(1);
            }
        }
    }
}

/// What a polling helper last saw of its mailbox's wake-ups and rests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Calls {
    /// [`Mailbox::wakes`].
    wakes: u64,
    /// [`Mailbox::rested`].
    rested: u64,
}

/// What a polling helper makes of news in its mailbox ([`Calls::take`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum News {
    /// Nothing new.
    None,
    /// A wake-up: poll for [`POLL_AFTER_WAKE`].
    Woken,
    /// A rest took the latest wake-up back: sleep now.
    Rest,
}

impl Calls {
    /// Takes in the mailbox's counts `now` and says what changed.
    fn take(&mut self, now: Calls) -> News {
        let woken = now.wakes != self.wakes;
        let rested = now.rested != self.rested;
        *self = now;
        // A rest takes back the wake-up it saw; one that came after it stands.
        if rested && now.rested == now.wakes {
            News::Rest
        } else if woken {
            News::Woken
        } else {
            News::None
        }
    }
}

/// A helper's life: poll for a job for a while, sleep if none came, run it, repeat.
fn serve(mailbox: &Mailbox) {
    let mut done = 0u64;
    let calls_now = || Calls {
        wakes: mailbox.wakes.load(Ordering::SeqCst),
        rested: mailbox.rested.load(Ordering::SeqCst),
    };
    let mut calls = calls_now();
    let mut poll_until = Instant::now() + POLL_AFTER_JOB;
    loop {
        let mut polls = 0u32;
        loop {
            if mailbox.stop.load(Ordering::SeqCst) {
                return;
            }
            if mailbox.posted.load(Ordering::SeqCst) > done {
                break;
            }
            let news = calls.take(calls_now());
            if news == News::Woken {
                poll_until = Instant::now() + POLL_AFTER_WAKE;
            }
            // The clock is read every few polls only: it costs more than a poll.
            if news == News::Rest || (polls % 16 == 15 && Instant::now() >= poll_until) {
                let mut sleeping = mailbox.sleep.lock().unwrap_or_else(|e| e.into_inner());
                let nothing_new = mailbox.posted.load(Ordering::SeqCst) == done
                    && mailbox.wakes.load(Ordering::SeqCst) == calls.wakes
                    && !mailbox.stop.load(Ordering::SeqCst);
                if nothing_new {
                    *sleeping = true;
                    sleeping = mailbox
                        .bell
                        .wait(sleeping)
                        .unwrap_or_else(|e| e.into_inner());
                    *sleeping = false;
                }
                polls = 0;
                continue;
            }
            super::relax(polls, 1);
            polls = polls.saturating_add(1);
        }
        let post = mailbox.posted.load(Ordering::SeqCst);
        let job = mailbox.job.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(job) = job {
            // The callers catch their workers' panics; this only keeps the helper alive.
            let _ = panic::catch_unwind(AssertUnwindSafe(job));
        }
        done = post;
        mailbox.finished.store(post, Ordering::SeqCst);
        poll_until = Instant::now() + POLL_AFTER_JOB;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn every_helper_and_the_caller_run_a_job_that_waits_for_all() {
        let crew = Crew::new(3).expect("threads start");
        let runs = AtomicUsize::new(0);
        for round in 1..=200 {
            if round % 3 == 0 {
                crew.wake();
            }
            if round % 50 == 0 {
                // Long enough for the helpers to stop polling and sleep.
                std::thread::sleep(Duration::from_millis(5));
            }
            // Each waits for the other three, as a job with a barrier does.
            crew.run(&|| {
                runs.fetch_add(1, Ordering::SeqCst);
                while runs.load(Ordering::SeqCst) < round * 4 {
                    std::hint::spin_loop();
                }
            });
            assert_eq!(runs.load(Ordering::SeqCst), round * 4);
        }
    }

    #[test]
    fn a_rest_takes_back_the_wake_up_before_it_and_no_later_one() {
        let calls = |wakes, rested| Calls { wakes, rested };
        let mut seen = calls(0, 0);
        assert_eq!(seen.take(calls(0, 0)), News::None);
        assert_eq!(seen.take(calls(1, 0)), News::Woken);
        assert_eq!(seen.take(calls(1, 1)), News::Rest);
        // A second rest of the same wake-up says nothing new.
        assert_eq!(seen.take(calls(1, 1)), News::None);
        // Woken and rested between two polls: asleep.
        assert_eq!(seen.take(calls(2, 2)), News::Rest);
        // Rested, then woken again before the helper looked: the new wake-up stands.
        assert_eq!(seen.take(calls(4, 3)), News::Woken);
        assert_eq!(seen.take(calls(4, 3)), News::None);
    }

    #[test]
    fn a_rested_crew_still_serves_the_next_job() {
        let crew = Crew::new(1).expect("threads start");
        for round in 0..20 {
            crew.wake();
            crew.rest();
            if round % 2 == 0 {
                crew.wake();
            }
            let runs = AtomicUsize::new(0);
            crew.run(&|| {
                runs.fetch_add(1, Ordering::SeqCst);
                while runs.load(Ordering::SeqCst) < 2 {
                    std::hint::spin_loop();
                }
            });
            assert_eq!(runs.load(Ordering::SeqCst), 2);
        }
    }

    #[test]
    fn a_job_the_caller_finishes_alone_is_withdrawn_from_sleeping_helpers() {
        let crew = Crew::new(2).expect("threads start");
        for _ in 0..20 {
            // The helpers sleep; the caller claims every piece before they wake.
            std::thread::sleep(Duration::from_millis(3));
            let pieces = AtomicUsize::new(0);
            let done = AtomicUsize::new(0);
            crew.run(&|| {
                while pieces.fetch_add(1, Ordering::SeqCst) < 4 {
                    done.fetch_add(1, Ordering::SeqCst);
                }
            });
            // Every piece was done once, whoever did it.
            assert_eq!(done.load(Ordering::SeqCst), 4);
        }
        // Withdrawn posts leave the helpers in step: the next jobs reach all of them.
        let runs = AtomicUsize::new(0);
        for round in 1..=20 {
            crew.run(&|| {
                runs.fetch_add(1, Ordering::SeqCst);
                while runs.load(Ordering::SeqCst) < round * 3 {
                    std::hint::spin_loop();
                }
            });
        }
        assert_eq!(runs.load(Ordering::SeqCst), 60);
    }

    #[test]
    fn a_panicking_caller_waits_for_the_helpers_before_unwinding() {
        let crew = Crew::new(2).expect("threads start");
        let started = AtomicUsize::new(0);
        let finished = AtomicUsize::new(0);
        let caller = std::thread::current().id();
        let ran = panic::catch_unwind(AssertUnwindSafe(|| {
            crew.run(&|| {
                if std::thread::current().id() == caller {
                    // The helpers are up (they started), then the caller's share fails.
                    while started.load(Ordering::SeqCst) < 2 {
                        std::hint::spin_loop();
                    }
                    panic!("the caller's share fails");
                }
                started.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(20));
                finished.fetch_add(1, Ordering::SeqCst);
            })
        }));
        assert!(ran.is_err(), "the caller's panic is passed on");
        assert_eq!(finished.load(Ordering::SeqCst), 2);
        // A helper's panic does not take the helper down: the crew serves the next job.
        crew.run(&|| {
            if std::thread::current().id() != caller {
                panic!("a helper's share fails");
            }
        });
        let runs = AtomicUsize::new(0);
        crew.run(&|| {
            runs.fetch_add(1, Ordering::SeqCst);
            while runs.load(Ordering::SeqCst) < 3 {
                std::hint::spin_loop();
            }
        });
        assert_eq!(runs.load(Ordering::SeqCst), 3);
    }
}
