//! Readiness and waiting: what `wasi:io/poll` is built on.
//!
//! Every pollable thing (a stream, a socket, a clock deadline) answers [`Pollable::readiness`]
//! with either [`Readiness::Ready`] or what it waits for: a file descriptor becoming
//! readable or writable, a deadline, or both. A `poll` over several pollables asks each,
//! returns at once if any is ready, and otherwise sleeps in one `poll(2)` over all their
//! descriptors with the earliest deadline as its timeout. There is no busy waiting and no
//! helper thread: weld's WASI host is synchronous, and the calling thread is the one that
//! waits.
//!
//! A pollable handed to a guest is a [`DynPollable`]: a child entry of the resource it
//! watches (so the resource cannot be dropped under it) that remembers how to ask that
//! resource for its readiness, or a bare deadline for clocks. It does not implement
//! wake-ups from other host threads: a pollable whose readiness can only change because
//! another thread acts must report a deadline to be re-asked at.

use anyhow::{Result, bail};
use rustix::event::{PollFd, PollFlags, Timespec};
use std::any::Any;
use std::cell::Cell;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::time::{Duration, Instant};
use weld::component::{Resource, ResourceTable};

/// A descriptor to watch, shared with the resource that owns it.
pub type SharedFd = Arc<dyn AsFd + Send + Sync>;

/// Whether a pollable is ready, or what it waits for.
pub enum Readiness {
    /// Ready now: the next operation will not block (it may still fail).
    Ready,
    /// Not ready; becomes ready when the descriptor has one of the events, or at the
    /// deadline, whichever comes first. Neither means it never becomes ready by itself.
    Wait {
        /// The descriptor and the events (`IN`, `OUT`) that make it ready.
        fd: Option<(SharedFd, PollFlags)>,
        /// When it becomes ready regardless of any descriptor.
        deadline: Option<Instant>,
    },
}

impl Readiness {
    /// Ready when `fd` has one of `events`.
    pub fn fd(fd: SharedFd, events: PollFlags) -> Readiness {
        Readiness::Wait { fd: Some((fd, events)), deadline: None }
    }

    /// Ready at `deadline` (at once if it has passed).
    pub fn at(deadline: Instant) -> Readiness {
        if deadline <= Instant::now() {
            Readiness::Ready
        } else {
            Readiness::Wait { fd: None, deadline: Some(deadline) }
        }
    }

    /// Whether it is ready now.
    pub fn is_ready(&self) -> bool {
        matches!(self, Readiness::Ready)
    }
}

/// A resource a guest can `subscribe` to.
pub trait Pollable: Send + 'static {
    /// Whether the resource is ready now, or what it waits for. Called before every wait, so
    /// it may also make progress (flush a buffer, finish a connect).
    fn readiness(&mut self) -> Readiness;
}

/// The `pollable` resource handed to guests. See the module documentation.
pub struct DynPollable {
    source: Source,
}

enum Source {
    /// The readiness of the table entry `rep`, asked through `check`.
    Parent { rep: u32, check: fn(&mut dyn Any) -> Readiness },
    /// Ready at this instant (`None`: never, the deadline could not be represented).
    Deadline(Option<Instant>),
}

/// A pollable child of `resource` in `table`, ready when the resource is.
pub fn subscribe<T: Pollable>(table: &mut ResourceTable, resource: Resource<T>) -> Result<Resource<DynPollable>> {
    fn check<T: Pollable>(value: &mut dyn Any) -> Readiness {
        match value.downcast_mut::<T>() {
            Some(value) => value.readiness(),
            // The parent cannot be deleted while this child exists, and its slot keeps its
            // type, so this does not happen; being ready makes the next operation report it.
            None => Readiness::Ready,
        }
    }
    let pollable = DynPollable { source: Source::Parent { rep: resource.rep(), check: check::<T> } };
    Ok(table.push_child(pollable, &resource)?)
}

/// A pollable ready at `deadline`, or never when it is `None`.
pub fn deadline_pollable(table: &mut ResourceTable, deadline: Option<Instant>) -> Result<Resource<DynPollable>> {
    Ok(table.push(DynPollable { source: Source::Deadline(deadline) })?)
}

/// The readiness of the pollable `handle`.
pub fn readiness(table: &mut ResourceTable, handle: &Resource<DynPollable>) -> Result<Readiness> {
    let (rep, check) = match table.get(handle)?.source {
        Source::Parent { rep, check } => (rep, check),
        Source::Deadline(Some(at)) => return Ok(Readiness::at(at)),
        Source::Deadline(None) => return Ok(Readiness::Wait { fd: None, deadline: None }),
    };
    Ok(check(table.get_any_mut(rep)?))
}

/// Waits until at least one of `pollables` is ready and returns the indices of the ready
/// ones, in order. Fails when the list is empty or when none of them can ever become ready
/// (no descriptor and no deadline), which would otherwise hang the thread for good.
pub fn poll_list(table: &mut ResourceTable, pollables: &[Resource<DynPollable>]) -> Result<Vec<u32>> {
    if pollables.is_empty() {
        bail!("wasi:io/poll#poll was given an empty list of pollables");
    }
    if pollables.len() > u32::MAX as usize {
        bail!("wasi:io/poll#poll was given more than 2^32 pollables");
    }
    loop {
        let mut ready = Vec::new();
        let mut waits = Vec::new();
        for (index, handle) in pollables.iter().enumerate() {
            match readiness(table, handle)? {
                Readiness::Ready => ready.push(index as u32),
                Readiness::Wait { fd, deadline } => waits.push((index as u32, fd, deadline)),
            }
        }
        if !ready.is_empty() {
            return Ok(ready);
        }
        let woken = wait_any(&waits, true)?;
        if !woken.is_empty() {
            return Ok(woken);
        }
    }
}

/// Blocks until `readiness` is ready (for one resource's blocking operations).
pub fn block_until(readiness: Readiness) -> Result<()> {
    match readiness {
        Readiness::Ready => Ok(()),
        Readiness::Wait { fd, deadline } => {
            wait_any(&[(0, fd, deadline)], true)?;
            Ok(())
        }
    }
}

/// Whether the pollable `handle` is ready now: its resource says so, or its descriptor has
/// an event already, or its deadline has passed. Never blocks.
pub fn ready_now(table: &mut ResourceTable, handle: &Resource<DynPollable>) -> Result<bool> {
    match readiness(table, handle)? {
        Readiness::Ready => Ok(true),
        Readiness::Wait { fd: None, deadline } => Ok(deadline.is_some_and(|d| d <= Instant::now())),
        Readiness::Wait { fd, deadline } => Ok(!wait_any(&[(0, fd, deadline)], false)?.is_empty()),
    }
}

/// How a thread sleeps in `poll(2)`: the wrapper is called with the sleep, which it must run
/// once on this thread.
pub type BlockingWrapper = fn(&mut dyn FnMut());

thread_local! {
    static BLOCKING_WRAPPER: Cell<Option<BlockingWrapper>> = const { Cell::new(None) };
}

/// Makes every sleep of this thread's WASI waits (`wasi:io/poll`, blocking stream operations,
/// clocks) run inside `wrapper` (`None`: directly). An async executor's worker thread that runs
/// guests sets one that tells the executor it is about to block, e.g.
/// `|sleep| tokio::task::block_in_place(sleep)`: the executor's other tasks then move to
/// another thread, and a task this guest waits for (the one feeding its request body, say)
/// keeps running. Waits that find a pollable ready never sleep and never call it.
pub fn set_blocking_wrapper(wrapper: Option<BlockingWrapper>) {
    BLOCKING_WRAPPER.with(|w| w.set(wrapper));
}

type Wait = (u32, Option<(SharedFd, PollFlags)>, Option<Instant>);

/// One `poll(2)` over the descriptors of `waits`, bounded by their earliest deadline (or not
/// waiting at all unless `block`); the indices whose descriptor fired or whose deadline
/// passed (empty if woken early, for example by a signal).
fn wait_any(waits: &[Wait], block: bool) -> Result<Vec<u32>> {
    let deadline = waits.iter().filter_map(|(_, _, d)| *d).min();
    let with_fd: Vec<&Wait> = waits.iter().filter(|(_, fd, _)| fd.is_some()).collect();
    if block && with_fd.is_empty() && deadline.is_none() {
        bail!(
            "wasi:io/poll: none of the {} pollables waited on can ever become ready (no descriptor and no \
             deadline), so waiting would hang forever",
            waits.len()
        );
    }
    let mut fds: Vec<PollFd<'_>> = with_fd
        .iter()
        .map(|(_, fd, _)| {
            let (fd, events) = fd.as_ref().expect("filtered on having a descriptor");
            PollFd::from_borrowed_fd(fd.as_fd(), *events)
        })
        .collect();
    let poll = |fds: &mut [PollFd<'_>], timeout: Option<Duration>| -> Result<usize> {
        match rustix::event::poll(fds, timeout.map(to_timespec).as_ref()) {
            Ok(n) => Ok(n),
            Err(rustix::io::Errno::INTR) => Ok(0),
            Err(e) => bail!("poll(2) failed: {e}"),
        }
    };
    let due = |now: Instant| deadline.is_some_and(|d| d <= now);
    if block && poll(&mut fds, Some(Duration::ZERO))? == 0 && !due(Instant::now()) {
        // About to sleep: through this thread's blocking wrapper, if it has one.
        let timeout = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let mut slept = Ok(0);
        match BLOCKING_WRAPPER.with(Cell::get) {
            Some(wrapper) => wrapper(&mut || slept = poll(&mut fds, timeout)),
            None => slept = poll(&mut fds, timeout),
        }
        slept?;
    }
    if !block {
        poll(&mut fds, Some(Duration::ZERO))?;
    }
    let now = Instant::now();
    let mut woken: Vec<u32> = with_fd
        .iter()
        .zip(&fds)
        .filter(|(_, pfd)| !pfd.revents().is_empty())
        .map(|((index, _, _), _)| *index)
        .collect();
    for (index, _, at) in waits {
        if at.is_some_and(|at| at <= now) && !woken.contains(index) {
            woken.push(*index);
        }
    }
    woken.sort_unstable();
    Ok(woken)
}

fn to_timespec(d: Duration) -> Timespec {
    Timespec { tv_sec: d.as_secs().min(i64::MAX as u64) as _, tv_nsec: d.subsec_nanos() as _ }
}
