//! [`Sleep`], the future behind `wasi:clocks` 0.3's `wait-for` and `wait-until`: ready once
//! its deadline has passed.
//!
//! Every pending `Sleep` of the process registers its deadline with one timer thread, which
//! waits for the earliest and wakes the waker of each that is due. A thread per sleep (what
//! this replaced) let a guest that waits in many tasks at once make as many threads, and a
//! failure to spawn one was a panic.
//!
//! The thread is started on the first sleep and lives as long as the process. Should it fail
//! to start, sleeps still end on time: each then wakes its own waker on every poll, so the
//! executor polls it until its deadline (a busy wait, the price of not failing the call).
//! A dropped `Sleep` clears its waker at once; its entry leaves the queue at its deadline.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// Where the timer thread finds the waker of a pending sleep; `None` once woken or dropped.
type WakerSlot = Arc<Mutex<Option<Waker>>>;

/// A future ready once `until` has passed.
pub(crate) struct Sleep {
    until: Instant,
    /// Set once the deadline is registered with the timer thread.
    slot: Option<WakerSlot>,
}

impl Sleep {
    /// A sleep of `d` from now.
    pub(crate) fn new(d: Duration) -> Sleep {
        let now = Instant::now();
        Sleep { until: now.checked_add(d).unwrap_or(now + Duration::from_secs(u32::MAX.into())), slot: None }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.until {
            return Poll::Ready(());
        }
        let Some(timers) = timers() else {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        };
        match &self.slot {
            Some(slot) => *lock(slot) = Some(cx.waker().clone()),
            None => {
                let slot = Arc::new(Mutex::new(Some(cx.waker().clone())));
                timers.add(self.until, slot.clone());
                self.slot = Some(slot);
            }
        }
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(slot) = &self.slot {
            lock(slot).take();
        }
    }
}

/// A deadline in the queue, ordered by when it is due (then by arrival).
struct Entry {
    until: Instant,
    seq: u64,
    slot: WakerSlot,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.until, self.seq) == (other.until, other.seq)
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.until, self.seq).cmp(&(other.until, other.seq))
    }
}

/// The queue of the timer thread: the earliest deadline first.
#[derive(Default)]
struct Queue {
    entries: BinaryHeap<Reverse<Entry>>,
    next_seq: u64,
}

/// The process's timers: the queue, and the condition the thread waits on for a deadline
/// earlier than the one it waits for.
#[derive(Default)]
struct Timers {
    queue: Mutex<Queue>,
    added: Condvar,
}

impl Timers {
    fn add(&self, until: Instant, slot: WakerSlot) {
        let mut q = lock(&self.queue);
        let seq = q.next_seq;
        q.next_seq += 1;
        q.entries.push(Reverse(Entry { until, seq, slot }));
        drop(q);
        self.added.notify_one();
    }

    /// The timer thread: wakes each due entry's waker (outside the lock), then waits for the
    /// next deadline or a new entry.
    fn run(&self) {
        let mut due = Vec::new();
        let mut q = lock(&self.queue);
        loop {
            let now = Instant::now();
            while q.entries.peek().is_some_and(|e| e.0.until <= now) {
                if let Some(Reverse(e)) = q.entries.pop() {
                    due.push(e.slot);
                }
            }
            if !due.is_empty() {
                drop(q);
                for slot in due.drain(..) {
                    if let Some(w) = lock(&slot).take() {
                        w.wake();
                    }
                }
                q = lock(&self.queue);
                continue;
            }
            q = match q.entries.peek() {
                None => self.added.wait(q).unwrap_or_else(|e| e.into_inner()),
                Some(e) => {
                    let wait = e.0.until.saturating_duration_since(now);
                    self.added.wait_timeout(q, wait).unwrap_or_else(|e| e.into_inner()).0
                }
            };
        }
    }
}

/// The timers, with their thread started on first use; `None` if it could not start.
fn timers() -> Option<&'static Timers> {
    static TIMERS: OnceLock<Option<&'static Timers>> = OnceLock::new();
    *TIMERS.get_or_init(|| {
        let timers: &'static Timers = Box::leak(Box::default());
        let started = std::thread::Builder::new().name("weld-wasi-timers".into()).spawn(move || timers.run());
        started.ok().map(|_| timers)
    })
}

/// Locks `m`, going on if a thread panicked while holding it (the data stays consistent:
/// each critical section is a single push, pop or swap).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    /// Counts its wakes and unparks the test thread.
    struct Count(AtomicUsize, std::thread::Thread);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
            self.1.unpark();
        }
    }

    /// Polls `sleeps` on this thread until all are ready; returns when each became ready,
    /// in the order given.
    fn run(mut sleeps: Vec<Sleep>) -> Vec<Instant> {
        let count = Arc::new(Count(AtomicUsize::new(0), std::thread::current()));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        let mut ready = vec![None; sleeps.len()];
        while ready.iter().any(Option::is_none) {
            for (s, r) in sleeps.iter_mut().zip(&mut ready) {
                if r.is_none() && Pin::new(s).poll(&mut cx).is_ready() {
                    *r = Some(Instant::now());
                }
            }
            std::thread::park_timeout(Duration::from_millis(200));
        }
        ready.into_iter().map(Option::unwrap).collect()
    }

    #[test]
    fn sleeps_end_in_deadline_order_and_not_early() {
        let start = Instant::now();
        let ms = [60, 10, 30];
        let ends = run(ms.iter().map(|m| Sleep::new(Duration::from_millis(*m))).collect());
        for (m, end) in ms.iter().zip(&ends) {
            assert!(*end >= start + Duration::from_millis(*m), "a {m} ms sleep ended early");
        }
        assert!(ends[1] <= ends[2] && ends[2] <= ends[0], "not in deadline order");
    }

    /// The process's thread count (Linux).
    fn threads() -> usize {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status.lines().find(|l| l.starts_with("Threads:")).unwrap();
        line["Threads:".len()..].trim().parse().unwrap()
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn many_pending_sleeps_do_not_make_many_threads() {
        let count = Arc::new(Count(AtomicUsize::new(0), std::thread::current()));
        let waker = Waker::from(count);
        let mut cx = Context::from_waker(&waker);
        let before = threads();
        let mut sleeps: Vec<Sleep> = (0..500).map(|i| Sleep::new(Duration::from_millis(50 + i % 20))).collect();
        for s in &mut sleeps {
            assert!(Pin::new(s).poll(&mut cx).is_pending());
        }
        let during = threads();
        // The timer thread, and whatever other tests started meanwhile: not one per sleep.
        assert!(during < before + 20, "{before} threads before 500 sleeps, {during} with them");
        run(sleeps);
    }

    #[test]
    fn a_dropped_sleep_releases_its_waker() {
        let count = Arc::new(Count(AtomicUsize::new(0), std::thread::current()));
        let waker = Waker::from(count.clone());
        let mut sleep = Sleep::new(Duration::from_secs(3600));
        assert!(Pin::new(&mut sleep).poll(&mut Context::from_waker(&waker)).is_pending());
        drop(waker);
        assert_eq!(Arc::strong_count(&count), 2, "the slot holds a clone");
        drop(sleep);
        assert_eq!(Arc::strong_count(&count), 1, "dropping the sleep dropped the clone");
    }
}
