//! Stopping a guest that runs too long: a store's fuel ([`Config::consume_fuel`]) and its
//! epoch deadline ([`Config::epoch_interruption`]), with Wasmtime's API on [`Store`], its
//! contexts and [`Caller`](crate::Caller).
//!
//! The counters compiled code reads are in the store's `VMStoreContext`: the fuel counter (minus
//! the fuel left, up to `i64::MAX`; the rest waits in the store's reserve) and the deadline,
//! compared with the engine's epoch. The libcalls that compiled code calls when either runs
//! out (`libcalls.rs`) refuel from the reserve or run the deadline callback through the
//! functions here.
//!
//! [`Config::consume_fuel`]: crate::Config::consume_fuel
//! [`Config::epoch_interruption`]: crate::Config::epoch_interruption

use crate::store::{AsContext, AsContextMut, Store, StoreContext, StoreContextMut, StoreInner, StoreOpaque};
use anyhow::{Result, ensure};

/// What an epoch deadline callback ([`Store::epoch_deadline_callback`]) tells the guest to do.
///
/// Wasmtime's `Yield` and `YieldCustom` need async support, which weld does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateDeadline {
    /// Stop: the guest traps with [`Trap::Interrupt`](crate::Trap), and the deadline stays.
    Interrupt,
    /// Go on, with the deadline this many ticks after the current epoch.
    Continue(u64),
}

/// The error of the fuel functions when the engine does not consume fuel (Wasmtime's words).
const NO_FUEL: &str = "fuel is not configured in this store";

/// The fuel left when the counter holds `consumed` and the reserve `reserve`.
#[inline]
fn fuel_left(consumed: i64, reserve: u64) -> u64 {
    reserve.saturating_add_signed(consumed.saturating_neg())
}

impl StoreOpaque {
    #[inline]
    fn consumes_fuel(&self) -> bool {
        self.engine().config().compiler.consume_fuel
    }

    /// The fuel left; an error if the engine does not consume fuel.
    pub(crate) fn get_fuel(&self) -> Result<u64> {
        ensure!(self.consumes_fuel(), NO_FUEL);
        Ok(fuel_left(self.store_context.fuel_consumed, self.fuel_reserve))
    }

    /// Sets the fuel left; an error if the engine does not consume fuel.
    pub(crate) fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        ensure!(self.consumes_fuel(), NO_FUEL);
        self.put_fuel(fuel);
        Ok(())
    }

    /// Puts up to `i64::MAX` of `fuel` in the counter and the rest in the reserve.
    fn put_fuel(&mut self, fuel: u64) {
        let now = fuel.min(i64::MAX as u64);
        self.fuel_reserve = fuel - now;
        self.store_context.fuel_consumed = -(now as i64);
    }

    /// The counter ran out: moves what the reserve holds into it. False if there was none.
    pub(crate) fn refuel(&mut self) -> bool {
        let fuel = fuel_left(self.store_context.fuel_consumed, self.fuel_reserve);
        if fuel == 0 {
            return false;
        }
        self.put_fuel(fuel);
        true
    }

    /// Sets the deadline `ticks` after the engine's current epoch.
    pub(crate) fn set_epoch_deadline(&mut self, ticks: u64) {
        self.store_context.epoch_deadline = self.engine().current_epoch().saturating_add(ticks);
    }
}

impl<T> Store<T> {
    /// The fuel left in this store. An error if the engine was not configured with
    /// [`Config::consume_fuel`](crate::Config::consume_fuel).
    #[inline]
    pub fn get_fuel(&self) -> Result<u64> {
        self.as_context().opaque().get_fuel()
    }

    /// Sets the fuel wasm may consume in this store (a store starts with none). An error if
    /// the engine was not configured with [`Config::consume_fuel`](crate::Config::consume_fuel).
    ///
    /// After a call trapped for lack of fuel, setting fuel again makes the store usable.
    #[inline]
    pub fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        self.as_context_mut().opaque_mut().set_fuel(fuel)
    }

    /// Sets the epoch deadline `ticks_beyond_current` increments of the engine's epoch from
    /// now ([`Engine::increment_epoch`](crate::Engine::increment_epoch)). A store's deadline
    /// starts at 0, which has always passed, so with
    /// [`Config::epoch_interruption`](crate::Config::epoch_interruption) wasm traps at once
    /// until this is called.
    #[inline]
    pub fn set_epoch_deadline(&mut self, ticks_beyond_current: u64) {
        self.as_context_mut().opaque_mut().set_epoch_deadline(ticks_beyond_current);
    }

    /// Makes reaching the epoch deadline trap with [`Trap::Interrupt`](crate::Trap) (the
    /// default), replacing any callback.
    #[inline]
    pub fn epoch_deadline_trap(&mut self) {
        self.as_context_mut().opaque_mut().epoch_callback = None;
    }

    /// Makes reaching the epoch deadline call `callback` with the store. It returns
    /// [`UpdateDeadline::Continue`] to extend the deadline and let the guest go on,
    /// [`UpdateDeadline::Interrupt`] to trap with [`Trap::Interrupt`](crate::Trap), or an
    /// error, which the guest's call then returns.
    pub fn epoch_deadline_callback(
        &mut self,
        mut callback: impl FnMut(StoreContextMut<T>) -> Result<UpdateDeadline> + Send + Sync + 'static,
    ) where
        T: 'static,
    {
        let inner: *mut StoreInner<T> = self.as_context_mut();
        let erased = move || {
            // SAFETY: the callback is owned by this store (whose contents are boxed, so
            // `inner` stays valid as long as it does), and only the `NewEpoch` libcall calls
            // it, while wasm of this store runs: the host's reference to the store is then
            // lent to the wasm call, and the libcall holds none while the callback runs, as
            // for a host function.
            let store = unsafe { &mut *inner };
            Ok(match callback(StoreContextMut(store))? {
                UpdateDeadline::Interrupt => None,
                UpdateDeadline::Continue(ticks) => Some(ticks),
            })
        };
        self.as_context_mut().opaque_mut().epoch_callback = Some(Box::new(erased));
    }
}

impl<T> StoreInner<T> {
    /// The fuel left; see [`Store::get_fuel`].
    #[inline]
    pub fn get_fuel(&self) -> Result<u64> {
        self.opaque().get_fuel()
    }

    /// Sets the fuel left; see [`Store::set_fuel`].
    #[inline]
    pub fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        self.opaque_mut().set_fuel(fuel)
    }

    /// Sets the epoch deadline; see [`Store::set_epoch_deadline`].
    #[inline]
    pub fn set_epoch_deadline(&mut self, ticks_beyond_current: u64) {
        self.opaque_mut().set_epoch_deadline(ticks_beyond_current);
    }

    /// Makes reaching the epoch deadline trap; see [`Store::epoch_deadline_trap`].
    #[inline]
    pub fn epoch_deadline_trap(&mut self) {
        self.opaque_mut().epoch_callback = None;
    }
}

impl<T> StoreContext<'_, T> {
    /// The fuel left; see [`Store::get_fuel`].
    #[inline]
    pub fn get_fuel(&self) -> Result<u64> {
        self.0.get_fuel()
    }
}

impl<T> StoreContextMut<'_, T> {
    /// The fuel left; see [`Store::get_fuel`].
    #[inline]
    pub fn get_fuel(&self) -> Result<u64> {
        self.0.get_fuel()
    }

    /// Sets the fuel left; see [`Store::set_fuel`].
    #[inline]
    pub fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        self.0.set_fuel(fuel)
    }

    /// Sets the epoch deadline; see [`Store::set_epoch_deadline`].
    #[inline]
    pub fn set_epoch_deadline(&mut self, ticks_beyond_current: u64) {
        self.0.set_epoch_deadline(ticks_beyond_current);
    }

    /// Makes reaching the epoch deadline trap; see [`Store::epoch_deadline_trap`].
    #[inline]
    pub fn epoch_deadline_trap(&mut self) {
        self.0.epoch_deadline_trap();
    }
}

#[cfg(test)]
mod tests {
    use super::fuel_left;

    #[test]
    fn fuel_left_counts_the_reserve_and_never_wraps() {
        assert_eq!(fuel_left(-10, 0), 10);
        assert_eq!(fuel_left(3, 0), 0);
        assert_eq!(fuel_left(-i64::MAX, 1 << 63), u64::MAX);
        assert_eq!(fuel_left(5, 100), 95);
        assert_eq!(fuel_left(i64::MIN, 0), i64::MAX as u64);
    }
}
