//! [`Caller`]: what a host function sees of its call, the store and (when wasm called it)
//! the calling instance, whose exports it can read.

use crate::Engine;
use crate::handles::{Extern, Instance};
use crate::store::{AsContext, AsContextMut, StoreInner};
use crate::vm::vmcontext::InstanceId;
use anyhow::Result;

/// What a host function knows of its call: the store, and the instance that called it.
pub struct Caller<'a, T> {
    pub(crate) store: &'a mut StoreInner<T>,
    pub(crate) caller: Option<InstanceId>,
}

impl<T> Caller<'_, T> {
    /// The store's data.
    #[inline]
    pub fn data(&self) -> &T {
        self.store.data()
    }

    /// The store's data, mutably.
    #[inline]
    pub fn data_mut(&mut self) -> &mut T {
        self.store.data_mut()
    }

    /// The engine.
    #[inline]
    pub fn engine(&self) -> &Engine {
        self.store.opaque().engine()
    }

    /// The fuel left in the store; see [`Store::get_fuel`](crate::Store::get_fuel). When wasm
    /// called this function, it counts everything wasm consumed up to the call.
    #[inline]
    pub fn get_fuel(&self) -> Result<u64> {
        self.store.get_fuel()
    }

    /// Sets the fuel left in the store; see [`Store::set_fuel`](crate::Store::set_fuel). The
    /// calling wasm goes on with this fuel when the host function returns.
    #[inline]
    pub fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        self.store.set_fuel(fuel)
    }

    /// An export of the calling instance (commonly its memory), if called from wasm.
    #[inline]
    pub fn get_export(&mut self, name: &str) -> Option<Extern> {
        let id = self.caller?;
        Instance::from_id(self.store.opaque().id(), id).get_export(&mut *self.store, name)
    }
}

impl<T> AsContext for Caller<'_, T> {
    type Data = T;
    #[inline]
    fn as_context(&self) -> &StoreInner<T> {
        self.store
    }
}

impl<T> AsContextMut for Caller<'_, T> {
    #[inline]
    fn as_context_mut(&mut self) -> &mut StoreInner<T> {
        self.store
    }
}
