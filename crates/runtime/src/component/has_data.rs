//! How generated bindings reach the host's state: [`HasData`] names the type that a store's
//! data `T` lends to an interface's `Host` trait, and [`HasSelf<T>`] is the common case where
//! `T` implements the traits itself.
//!
//! `bindgen!`'s `add_to_linker::<T, D>(linker, host_getter)` takes a `D: HasData` and a
//! `host_getter: fn(&mut T) -> D::Data<'_>`; each host function calls `host_getter` on the
//! store's data and then the trait method on what it returns. The lifetime of `Data<'a>` is
//! the borrow of the store, which a plain generic parameter could not express.
//!
//! This module only defines the vocabulary; it holds no state and is not used by the linker
//! itself. It deliberately has no `HasData` for `Store`-access (asynchronous or `Accessor`
//! variants): weld's generated host functions are synchronous and see only `&mut D::Data`.

/// A type-level function from the borrow of a store's data to what host traits are
/// implemented on: `Data<'a>` is what `host_getter` returns for a borrow of lifetime `'a`.
///
/// Implement it on a marker type when the traits are implemented on a part of the store's
/// data, for example a field holding a `ResourceTable` and a context:
///
/// ```ignore
/// struct MyCtx<'a> { table: &'a mut ResourceTable, name: &'a str }
/// struct MyCtxView;
/// impl HasData for MyCtxView { type Data<'a> = MyCtx<'a>; }
/// ```
pub trait HasData: 'static {
    /// What the host traits see while the store's data is borrowed for `'a`.
    type Data<'a>;
}

/// The [`HasData`] whose data is `&mut T` itself: use `HasSelf<T>` when the store's data
/// type implements the generated `Host` traits (`add_to_linker::<T, HasSelf<T>>(linker, |t| t)`).
pub struct HasSelf<T: ?Sized>(std::marker::PhantomData<T>);

impl<T: ?Sized + 'static> HasData for HasSelf<T> {
    type Data<'a> = &'a mut T;
}
