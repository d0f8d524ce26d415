//! The runtime functions that compiled code calls through the VMContext's libcall table.
//!
//! The table's order and every signature are defined here once: the code generator builds call
//! signatures from [`Libcall::signature`], and the runtime fills the table in [`Libcall::ALL`]
//! order. Every libcall takes the caller's `vmctx` first. Libcalls that can trap return an `i32`
//! that is non-zero when a trap is pending (the runtime records which one).

/// A machine-level parameter or result type of a libcall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AbiType {
    /// A pointer-sized integer.
    Pointer,
    /// A 32-bit integer.
    I32,
    /// A 64-bit integer.
    I64,
}

macro_rules! libcalls {
    ($($(#[$doc:meta])* $name:ident($($param:ident),*) $(-> $ret:ident)?;)*) => {
        /// A runtime function callable from compiled code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Libcall { $($(#[$doc])* $name,)* }

        impl Libcall {
            /// Every libcall, in table order.
            pub const ALL: &'static [Libcall] = &[$(Libcall::$name,)*];

            /// `(params, result)`, not counting the leading `vmctx` pointer.
            pub fn signature(self) -> (&'static [AbiType], Option<AbiType>) {
                match self {
                    $(Libcall::$name => (&[$(AbiType::$param),*], libcalls!(@ret $($ret)?)),)*
                }
            }
        }
    };
    (@ret) => { None };
    (@ret $ret:ident) => { Some(AbiType::$ret) };
}

/// What a host function's array call returns when the host returned a wasm exception: its
/// `exnref` is in the first value slot, and the wasm-to-host trampoline throws it into the
/// caller (0 is success, 1 a pending trap).
pub const HOST_CALL_THREW: u32 = 2;

/// What the `MemoryGrow` and `TableGrow` libcalls return when growing failed and the store's
/// limiter made that a trap, which is then pending: never an old size (sizes of memories stay
/// below 2^48 pages and of tables below 2^32 elements).
pub const GROW_TRAPPED: u64 = u64::MAX - 1;

libcalls! {
    /// `memory.grow(memory: i32, delta: i64) -> old size in pages, -1, or GROW_TRAPPED`.
    MemoryGrow(I32, I64) -> I64;
    /// `memory.fill(memory, dst, byte, len) -> trap?`.
    MemoryFill(I32, I64, I32, I64) -> I32;
    /// `memory.copy(dst_memory, dst, src_memory, src, len) -> trap?`.
    MemoryCopy(I32, I64, I32, I64, I64) -> I32;
    /// `memory.init(memory, data, dst, src, len) -> trap?`.
    MemoryInit(I32, I32, I64, I32, I32) -> I32;
    /// `data.drop(data)`.
    DataDrop(I32);
    /// `table.grow(table, init, delta) -> old size, -1, or GROW_TRAPPED`.
    TableGrow(I32, I64, I64) -> I64;
    /// `table.fill(table, dst, value, len) -> trap?`.
    TableFill(I32, I64, I64, I64) -> I32;
    /// `table.copy(dst_table, src_table, dst, src, len) -> trap?`.
    TableCopy(I32, I32, I64, I64, I64) -> I32;
    /// `table.init(table, elem, dst, src, len) -> trap?`.
    TableInit(I32, I32, I64, I32, I32) -> I32;
    /// `elem.drop(elem)`.
    ElemDrop(I32);
    /// The fuel counter reached zero: refills it from the store's reserve, or records
    /// `Trap::OutOfFuel` -> trap?. Called through the engine's preserve-all stub
    /// (`store_context::OUT_OF_FUEL_STUB`); compiled code reloads the counter afterwards.
    OutOfFuel() -> I32;
    /// The engine's epoch reached the store's deadline: runs the store's deadline callback
    /// (which may move the deadline), or records `Trap::Interrupt` (or the callback's error)
    /// -> trap?. Called through the engine's preserve-all stub (`store_context::NEW_EPOCH_STUB`);
    /// compiled code reloads the deadline afterwards.
    NewEpoch() -> I32;
    /// `throw`: a new exception of tag `tag` (an index in the caller's module) whose payload
    /// is the values at `payload` (16 bytes each) -> its `exnref`, or 0 with a trap pending.
    ExnNew(I32, Pointer) -> I64;
    /// A handler's read of the payload of exception `exn`: copies it to `out` (16 bytes a
    /// value), and frees the exception unless an `exnref` to it was ever handed out.
    ExnTakePayload(I64, Pointer);
    /// A `catch_ref`/`catch_all_ref` handler keeps exception `exn` as an `exnref`: it stays
    /// alive for the store's life; returns the payload's address (16 bytes a value).
    ExnKeep(I64) -> Pointer;
    /// `throw_ref` (and the end of `throw`): unwinds to the handler of exception `exn`, or
    /// out of wasm if none catches it. Never returns. Called through an assembly shim that
    /// hands the runtime the caller's frame.
    Throw(I64);
}

impl Libcall {
    /// This libcall's slot in the libcall table.
    pub fn index(self) -> usize {
        Self::ALL.iter().position(|l| *l == self).unwrap()
    }
}
