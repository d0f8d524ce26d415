//! The `wasi:clocks` interfaces on a [`WasiCtxView`]: reading the context's clocks, and the
//! monotonic clock's pollables as deadlines in real time.

use super::datetime;
use crate::bindings::wasi::clocks::{monotonic_clock, wall_clock};
use crate::poll::{DynPollable, deadline_pollable};
use crate::view::WasiCtxView;
use std::time::{Duration, Instant};
use weld::component::Resource;

impl wall_clock::Host for WasiCtxView<'_> {
    fn now(&mut self) -> weld::Result<wall_clock::Datetime> {
        Ok(datetime(self.ctx.clocks.wall.now()))
    }

    fn resolution(&mut self) -> weld::Result<wall_clock::Datetime> {
        Ok(datetime(self.ctx.clocks.wall.resolution()))
    }
}

impl monotonic_clock::Host for WasiCtxView<'_> {
    fn now(&mut self) -> weld::Result<u64> {
        Ok(self.ctx.clocks.monotonic.now())
    }

    fn resolution(&mut self) -> weld::Result<u64> {
        Ok(self.ctx.clocks.monotonic.resolution())
    }

    fn subscribe_instant(&mut self, when: u64) -> weld::Result<Resource<DynPollable>> {
        let now = self.ctx.clocks.monotonic.now();
        self.sleep_pollable(when.saturating_sub(now))
    }

    fn subscribe_duration(&mut self, duration: u64) -> weld::Result<Resource<DynPollable>> {
        self.sleep_pollable(duration)
    }
}

impl WasiCtxView<'_> {
    /// A pollable ready `nanos` from now in real time; never, if that is not representable.
    fn sleep_pollable(&mut self, nanos: u64) -> weld::Result<Resource<DynPollable>> {
        let deadline = Instant::now().checked_add(Duration::from_nanos(nanos));
        deadline_pollable(self.table, deadline)
    }
}
