//! [`ExternRef`]: a host value that wasm can hold and pass around but not look into. The
//! store keeps the references wasm holds; tables and globals hold their raw handles.

use std::any::Any;
use std::sync::Arc;

/// A reference to a host value that wasm can hold and pass around but not look into.
#[derive(Clone)]
pub struct ExternRef(Arc<dyn Any + Send + Sync>);

impl ExternRef {
    /// Wraps `value`.
    #[inline]
    pub fn new(value: impl Any + Send + Sync) -> ExternRef {
        ExternRef(Arc::new(value))
    }
    /// The wrapped value.
    #[inline]
    pub fn data(&self) -> &(dyn Any + Send + Sync) {
        &*self.0
    }
    /// Whether two references are the same reference.
    #[inline]
    pub fn ptr_eq(a: &ExternRef, b: &ExternRef) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }
}

impl std::fmt::Debug for ExternRef {
    #[inline]
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ExternRef(..)")
    }
}
