//! Values of component-model async in dynamic calls: [`FutureAny`], [`StreamAny`] and
//! [`ErrorContextAny`], what a [`Val`](super::Val) holds for a `future<T>`, a `stream<T>` or an
//! `error-context`.
//!
//! Each is a reference to state the store keeps (a future's or stream's shared state, an
//! error context's message), by its number there, with the store's id so that a value is
//! never used with another store. Lifting the readable end of a future or stream out of a
//! component takes it out of the component's handle table; lowering one puts a new readable
//! end into the receiving component's table, as the spec's `lift_future`/`lower_future` do.
//! Reading and writing them from the host is not offered yet.

use crate::handles::StoreId;

/// The readable end of a `future<T>`, passed between components or held by the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FutureAny {
    pub(crate) store: StoreId,
    pub(crate) shared: u32,
}

/// The readable end of a `stream<T>`, passed between components or held by the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StreamAny {
    pub(crate) store: StoreId,
    pub(crate) shared: u32,
}

/// An `error-context`: a reference to an error's debug message that components pass around.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ErrorContextAny {
    pub(crate) store: StoreId,
    pub(crate) id: u32,
}
