//! `wasi:clocks`: the wall clock and the monotonic clock, each replaceable by the embedder
//! ([`HostWallClock`], [`HostMonotonicClock`]), and the monotonic clock's pollables, which
//! are deadlines in the host's own monotonic time (the interfaces themselves are in `host`).

mod host;

use crate::bindings::wasi::clocks::wall_clock;
use std::time::{Duration, Instant, SystemTime};

/// A wall clock: time since the Unix epoch, which may jump.
pub trait HostWallClock: Send {
    /// The clock's resolution.
    fn resolution(&self) -> Duration;
    /// The time since 1970-01-01T00:00:00Z.
    fn now(&self) -> Duration;
}

/// A monotonic clock: nanoseconds since an arbitrary start, never decreasing.
pub trait HostMonotonicClock: Send {
    /// The clock's resolution in nanoseconds.
    fn resolution(&self) -> u64;
    /// Nanoseconds since the clock's start.
    fn now(&self) -> u64;
}

/// The host's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct WallClock;

impl HostWallClock for WallClock {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }

    fn now(&self) -> Duration {
        // A host clock set before 1970 reads as the epoch rather than failing the guest.
        SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default()
    }
}

/// The host's monotonic clock, counting from its creation.
#[derive(Debug, Clone, Copy)]
pub struct MonotonicClock {
    start: Instant,
}

impl MonotonicClock {
    /// A clock that starts at 0 now.
    pub fn new() -> MonotonicClock {
        MonotonicClock { start: Instant::now() }
    }
}

impl Default for MonotonicClock {
    fn default() -> MonotonicClock {
        MonotonicClock::new()
    }
}

impl HostMonotonicClock for MonotonicClock {
    fn resolution(&self) -> u64 {
        1
    }

    fn now(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

/// The clocks of a context.
pub(crate) struct Clocks {
    pub wall: Box<dyn HostWallClock>,
    pub monotonic: Box<dyn HostMonotonicClock>,
}

impl Default for Clocks {
    fn default() -> Clocks {
        Clocks { wall: Box::new(WallClock), monotonic: Box::new(MonotonicClock::new()) }
    }
}

pub(crate) fn datetime(d: Duration) -> wall_clock::Datetime {
    wall_clock::Datetime { seconds: d.as_secs(), nanoseconds: d.subsec_nanos() }
}
