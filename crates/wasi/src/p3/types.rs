//! Types that more than one WASI 0.3 interface uses: `wasi:clocks/system-clock#instant`,
//! which `wasi:filesystem` uses for its timestamps. Kept apart from the interfaces so that
//! each can name it without importing another.

use weld::component::{ComponentType, Lift, Lower};

/// `wasi:clocks/system-clock#instant`: seconds and nanoseconds since the Unix epoch.
#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq, Eq)]
#[component(record)]
pub struct Instant {
    /// Whole seconds.
    pub seconds: i64,
    /// Nanoseconds past them (below 1,000,000,000).
    pub nanoseconds: u32,
}
