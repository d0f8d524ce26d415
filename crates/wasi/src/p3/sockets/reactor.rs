//! Waiting for a socket to become readable or writable without blocking the store's thread:
//! one background thread per process (made on first use, named `weld-wasi-sockets`) sleeps
//! in `poll(2)` over every descriptor a WASI 0.3 socket operation is waiting on, and wakes
//! the waker of each that becomes ready. A [`Waiter`] is one such wait, reusable by a stream
//! producer or consumer; [`ready`] is one as a future.
//!
//! Why a thread of its own: weld's event loop parks its thread until a waker fires, so
//! something else must watch the descriptors. weld-wasi's 0.2 host waits with `poll(2)` on
//! the guest's thread (`crate::poll`), and this is the same `poll(2)`, moved to a thread. It
//! is not tokio's reactor (which the workspace has): that one registers each descriptor once
//! (`epoll`), while here up to three parties wait on one socket at once (its `receive`
//! stream, its `send` stream, the socket itself), each with its own waker.
//!
//! Registrations are level-triggered and one-shot: the thread wakes a registration's waker
//! once and disarms it; the waiter arms it again if it must wait again. Before arming, a
//! waiter asks the descriptor itself (a `poll(2)` with a zero timeout), so a readiness that
//! came between the failed operation and the arming is not missed. Registrations hold the
//! descriptor (an `Arc`), so it stays open while waited on; a waiter that goes away removes
//! its registration and waits until the thread has left the `poll(2)` that still holds the
//! socket (the kernel keeps a socket open while any `poll(2)` watches it), so that dropping
//! a socket's last handle closes it at once (a listener's port is free again for the next
//! bind). That wait is for the thread to wake (microseconds), bounded by [`TURN_TIMEOUT`].
//!
//! Not done here: timeouts (no socket operation of WASI 0.3 has one), and platforms without
//! `poll(2)`.

use anyhow::{Result, anyhow};
use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::io::Errno;
use rustix::net::{AddressFamily, SocketFlags, SocketType};
use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// How long a waiter that goes away waits, at most, for the thread to leave the `poll(2)`
/// that holds its descriptor.
const TURN_TIMEOUT: Duration = Duration::from_secs(1);

/// One wait: a descriptor, the events awaited, and the waker to wake (`None` once woken).
struct Entry {
    fd: Arc<OwnedFd>,
    events: PollFlags,
    waker: Option<Waker>,
}

/// The waits, shared by the waiters and the thread.
#[derive(Default)]
struct Registry {
    entries: HashMap<u64, Entry>,
    next_id: u64,
    /// The registrations in the thread's current `poll(2)`.
    polling: Vec<u64>,
    /// How many times the thread has started a `poll(2)`.
    turns: u64,
}

/// The process's readiness thread and its registry.
struct Reactor {
    registry: Mutex<Registry>,
    /// Notified each time the thread starts another `poll(2)`.
    turned: Condvar,
    /// Written to make the thread leave its `poll(2)` and look at the registry again.
    poke_tx: OwnedFd,
    /// What the thread watches besides the registrations.
    poke_rx: OwnedFd,
}

fn lock(registry: &Mutex<Registry>) -> MutexGuard<'_, Registry> {
    registry.lock().unwrap_or_else(|e| e.into_inner())
}

/// The process's reactor, made (with its thread) on first use.
fn reactor() -> Result<&'static Reactor> {
    static REACTOR: OnceLock<Result<&'static Reactor, String>> = OnceLock::new();
    let made = REACTOR.get_or_init(|| {
        let flags = SocketFlags::NONBLOCK | SocketFlags::CLOEXEC;
        let (poke_rx, poke_tx) = rustix::net::socketpair(AddressFamily::UNIX, SocketType::STREAM, flags, None)
            .map_err(|e| format!("making the socket pair that wakes it failed: {e}"))?;
        let reactor: &'static Reactor = Box::leak(Box::new(Reactor {
            registry: Mutex::new(Registry::default()),
            turned: Condvar::new(),
            poke_tx,
            poke_rx,
        }));
        std::thread::Builder::new()
            .name("weld-wasi-sockets".into())
            .spawn(move || reactor.run())
            .map_err(|e| format!("starting its thread failed: {e}"))?;
        Ok(reactor)
    });
    made.as_ref().copied().map_err(|e| anyhow!("wasi:sockets: the readiness thread could not be started: {e}"))
}

impl Reactor {
    /// Makes the thread leave its `poll(2)` (a full socket buffer means it was poked already).
    fn poke(&self) {
        let _ = rustix::net::send(&self.poke_tx, &[1], rustix::net::SendFlags::NOSIGNAL);
    }

    /// The thread: polls the armed registrations and the poke socket, wakes what is ready.
    fn run(&self) {
        let mut drain = [0u8; 64];
        loop {
            let snapshot: Vec<(u64, Arc<OwnedFd>, PollFlags)> = {
                let mut registry = lock(&self.registry);
                let armed: Vec<_> = registry
                    .entries
                    .iter()
                    .filter(|(_, e)| e.waker.is_some())
                    .map(|(id, e)| (*id, e.fd.clone(), e.events))
                    .collect();
                registry.polling = armed.iter().map(|(id, _, _)| *id).collect();
                registry.turns = registry.turns.wrapping_add(1);
                self.turned.notify_all();
                armed
            };
            let mut fds = Vec::with_capacity(snapshot.len() + 1);
            fds.push(PollFd::new(&self.poke_rx, PollFlags::IN));
            fds.extend(snapshot.iter().map(|(_, fd, events)| PollFd::new(&**fd, *events)));
            match rustix::event::poll(&mut fds, None) {
                Ok(_) | Err(Errno::INTR) => {}
                Err(e) => {
                    // Nothing in the set can be invalid (each descriptor is held open), so
                    // this is the system short of memory: try again in a moment.
                    log::warn!("wasi:sockets: the readiness thread's poll failed: {e}");
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
            let ready: Vec<u64> = fds[1..]
                .iter()
                .zip(&snapshot)
                .filter(|(pfd, _)| !pfd.revents().is_empty())
                .map(|(_, (id, _, _))| *id)
                .collect();
            if !fds[0].revents().is_empty() {
                while matches!(rustix::net::recv(&self.poke_rx, &mut drain, rustix::net::RecvFlags::empty()), Ok((n, _)) if n > 0)
                {
                }
            }
            // Let the descriptors go before the next turn, which a leaving waiter awaits.
            drop(fds);
            drop(snapshot);
            let wakers: Vec<Waker> = {
                let mut registry = lock(&self.registry);
                ready.iter().filter_map(|id| registry.entries.get_mut(id).and_then(|e| e.waker.take())).collect()
            };
            for waker in wakers {
                waker.wake();
            }
        }
    }
}

/// Whether `fd` has one of `events` (or an error or hang-up) now, without waiting.
fn ready_now(fd: &OwnedFd, events: PollFlags) -> bool {
    let mut fds = [PollFd::new(fd, events)];
    let zero = Timespec { tv_sec: 0, tv_nsec: 0 };
    matches!(rustix::event::poll(&mut fds, Some(&zero)), Ok(n) if n > 0)
}

/// One party's wait for a descriptor's readiness, registered with the process's thread
/// while it waits (see the module documentation).
#[derive(Default)]
pub(crate) struct Waiter {
    id: Option<u64>,
}

impl Waiter {
    /// A waiter that waits for nothing yet.
    pub(crate) fn new() -> Waiter {
        Waiter { id: None }
    }

    /// Ready when `fd` has one of `events` (or an error or hang-up, which the next
    /// operation will report); otherwise the waker of `cx` is woken when it does. An error
    /// only if the readiness thread cannot be started.
    pub(crate) fn poll_ready(
        &mut self,
        cx: &mut Context<'_>,
        fd: &Arc<OwnedFd>,
        events: PollFlags,
    ) -> Poll<Result<()>> {
        let reactor = match reactor() {
            Ok(r) => r,
            Err(e) => return Poll::Ready(Err(e)),
        };
        if ready_now(fd, events) {
            if let Some(id) = self.id
                && let Some(entry) = lock(&reactor.registry).entries.get_mut(&id)
            {
                entry.waker = None;
            }
            return Poll::Ready(Ok(()));
        }
        let mut registry = lock(&reactor.registry);
        match self.id.and_then(|id| registry.entries.get_mut(&id)) {
            Some(e)
                if e.events == events
                    && Arc::ptr_eq(&e.fd, fd)
                    && e.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) =>
            {
                // Armed as it should be: the thread has it, or was poked when it was armed.
                return Poll::Pending;
            }
            Some(e) => {
                e.fd = fd.clone();
                e.events = events;
                e.waker = Some(cx.waker().clone());
            }
            None => {
                let id = registry.next_id;
                registry.next_id += 1;
                registry.entries.insert(id, Entry { fd: fd.clone(), events, waker: Some(cx.waker().clone()) });
                self.id = Some(id);
            }
        }
        drop(registry);
        reactor.poke();
        Poll::Pending
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        let Some(id) = self.id else { return };
        let Ok(reactor) = reactor() else { return };
        let mut registry = lock(&reactor.registry);
        if registry.entries.remove(&id).is_none() || !registry.polling.contains(&id) {
            return;
        }
        // The thread's `poll(2)` holds the socket open: make it let go.
        let turn = registry.turns;
        reactor.poke();
        let waited = reactor.turned.wait_timeout_while(registry, TURN_TIMEOUT, |r| r.turns == turn);
        if waited.is_ok_and(|(_, timeout)| timeout.timed_out()) {
            log::warn!("wasi:sockets: the readiness thread did not let a socket go within {TURN_TIMEOUT:?}");
        }
    }
}

/// A future ready when `fd` has one of `events` (see [`Waiter::poll_ready`]).
pub(crate) async fn ready(fd: Arc<OwnedFd>, events: PollFlags) -> Result<()> {
    let mut waiter = Waiter::new();
    std::future::poll_fn(|cx| waiter.poll_ready(cx, &fd, events)).await
}
