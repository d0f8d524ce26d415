//! The reasons a WebAssembly computation can trap, shared by the code generator (which emits
//! trap instructions tagged with them), FACT (whose adapters call the trap runtime function
//! with them) and the runtime (which reports them, and raises the same ones when its own
//! canonical ABI code finds a guest misbehaving).
//!
//! The list is written once, in [`for_each_trap!`](crate::for_each_trap): each trap with its
//! documentation and the message the spec test suite expects. The [`Trap`] enum, [`Trap::ALL`],
//! the codes, names and messages are all generated from it, and other crates can generate
//! their own mappings from it the same way.

use std::fmt;

/// Calls the macro `$mac` once with every trap, in the order of their codes, each written as
/// `$(#[doc = ...])* Name => "message";` (the message is what the spec test suite expects).
///
/// The way wasmparser's `for_each_operator!` works: the callback gets the whole list and
/// generates what it needs from it. A new trap goes at the end, so that the codes of the
/// others (Cranelift user trap codes, and the argument of the adapters' trap function) do
/// not change.
#[macro_export]
macro_rules! for_each_trap {
    ($mac:ident) => {
        $mac! {
            /// The call stack exceeded `Config::max_wasm_stack`.
            StackOverflow => "call stack exhausted";
            /// A load or store was outside the bounds of a linear memory.
            MemoryOutOfBounds => "out of bounds memory access";
            /// A table access was outside the bounds of a table.
            TableOutOfBounds => "undefined element: out of bounds table access";
            /// `call_indirect` found a null entry.
            IndirectCallToNull => "uninitialized element";
            /// `call_indirect` found a function of another signature.
            BadSignature => "indirect call type mismatch";
            /// Signed integer overflow (`i32.div_s` of `INT_MIN / -1`, or a float-to-int
            /// overflow).
            IntegerOverflow => "integer overflow";
            /// Integer division or remainder by zero.
            IntegerDivisionByZero => "integer divide by zero";
            /// Conversion of NaN to an integer.
            BadConversionToInteger => "invalid conversion to integer";
            /// An `unreachable` instruction was executed.
            UnreachableCodeReached => "unreachable";
            /// `ref.as_non_null` (or a similar cast) found null.
            NullReference => "null reference";
            /// `call_ref` found a null function reference.
            NullFunctionReference => "null function reference";
            /// A host function returned an error; the error itself travels beside the trap.
            HostError => "host function error";
            /// A component instance was entered while it could not be: it is already on the
            /// call stack, or a previous call trapped inside it.
            CannotEnterComponent => "cannot enter component instance";
            /// A component instance called out (an import, a resource intrinsic) while it may
            /// not, e.g. from its `post-return` function.
            CannotLeaveComponent => "cannot leave component instance";
            /// The canonical ABI found a pointer that is not aligned for what it points to: a
            /// value, parameters or results in memory, a string or list's contents, or what
            /// `realloc` returned.
            UnalignedPointer => "unaligned pointer";
            /// The canonical ABI found a list longer than `MAX_LIST_BYTE_LENGTH` bytes, or
            /// whose contents (read, or allocated by `realloc`) lie outside linear memory.
            ListOutOfBounds => "list content out-of-bounds";
            /// The canonical ABI found a string longer than `MAX_STRING_BYTE_LENGTH` bytes, or
            /// whose contents (read, or allocated by `realloc`) lie outside linear memory.
            StringOutOfBounds => "string content out-of-bounds";
            /// The canonical ABI found a value, or the parameters or results passed through
            /// memory (read, or allocated by `realloc`), outside linear memory.
            PointerOutOfBounds => "pointer out-of-bounds of memory";
            /// The canonical ABI found a `char` that is not a Unicode scalar value.
            InvalidChar => "invalid `char` bit pattern";
            /// The canonical ABI found a variant, enum, option or result discriminant beyond
            /// the last case.
            InvalidDiscriminant => "invalid variant discriminant";
            /// The canonical ABI found a string with the `utf8` encoding that is not valid
            /// UTF-8.
            InvalidUtf8 => "invalid utf-8";
            /// The canonical ABI found a UTF-16 string with a lone surrogate.
            InvalidUtf16 => "invalid utf-16";
            /// A handle index names no handle in the instance's table (index 0, past the end,
            /// or a freed slot).
            UnknownHandle => "unknown handle index";
            /// A handle index names a handle of another resource type than expected.
            HandleWrongType => "handle used with the wrong type";
            /// A borrowed handle was passed where an owned handle (`own<T>`) is expected.
            BorrowedHandleNotOwned => "borrowed handle where an owned handle is expected";
            /// An owned handle was dropped or moved out while it is lent to a call.
            HandleLent => "cannot remove owned resource while borrowed";
            /// A call returned while its callee still held a borrowed handle lent for it.
            BorrowsRemain => "borrow handles still remain at the end of the call";
            /// An instance's handle table has reached the spec's limit of 2^28 - 1 entries.
            HandleTableFull => "handle table full";
            /// The store ran out of fuel (`Config::consume_fuel`).
            OutOfFuel => "all fuel consumed by WebAssembly";
            /// The store's epoch deadline was reached (`Config::epoch_interruption`) with no
            /// callback to extend it, or the callback asked to interrupt.
            Interrupt => "interrupt";
            /// A wasm exception reached a component boundary (a lifted function, its
            /// post-return, or a fused adapter) without being caught: the canonical ABI's
            /// `call_and_trap_on_throw`.
            UncaughtException => "uncaught wasm exception at a component boundary";
            /// A task whose function type is not `async` would block before returning its
            /// value, and no other thread of its instance could run meanwhile.
            CannotBlockSyncTask => "cannot block a synchronous task before returning";
            /// Every task left is waiting and none can ever be woken.
            Deadlock => "deadlock detected: event loop cannot make further progress";
            /// An async lift's callback returned a code the spec does not define.
            UnsupportedCallbackCode => "unsupported callback code";
            /// A built-in of component-model async was used as the spec forbids (the detail
            /// says how: a waitable used synchronously while in a set, a busy stream dropped,
            /// a task returning twice, ...).
            AsyncMisuse => "component-model async built-in misused";
        }
    };
}

macro_rules! define_traps {
    ($( $(#[$attr:meta])* $name:ident => $message:literal; )*) => {
        /// Why execution of WebAssembly stopped.
        ///
        /// Generated from [`for_each_trap!`](crate::for_each_trap), with its documentation.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u8)]
        #[non_exhaustive]
        pub enum Trap {
            $( $(#[$attr])* $name, )*
        }

        impl Trap {
            /// Every trap, in the order of their codes.
            pub const ALL: [Trap; [$(Trap::$name),*].len()] = [$(Trap::$name),*];

            /// The message the spec test suite expects for this trap.
            pub fn message(self) -> &'static str {
                match self {
                    $( Trap::$name => $message, )*
                }
            }

            /// The variant's name, e.g. `"UnalignedPointer"`.
            pub fn name(self) -> &'static str {
                match self {
                    $( Trap::$name => stringify!($name), )*
                }
            }
        }
    };
}

for_each_trap!(define_traps);

// Codes are Cranelift user trap codes: non-zero `u8`s below the few Cranelift reserves.
const _: () = assert!(Trap::ALL.len() < 200);

impl Trap {
    /// A small non-zero code for this trap, used as a Cranelift user trap code and as the
    /// argument of the adapters' trap function.
    pub fn code(self) -> u8 {
        self as u8 + 1
    }

    /// The trap with code `code`, if any.
    pub fn from_code(code: u8) -> Option<Trap> {
        Self::ALL.get(usize::from(code).checked_sub(1)?).copied()
    }

    /// The trap whose variant is named `name` (see [`Trap::name`]), if any.
    pub fn from_name(name: &str) -> Option<Trap> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Trap {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for t in Trap::ALL {
            assert_eq!(Trap::from_code(t.code()), Some(t));
        }
        assert_eq!(Trap::from_code(0), None);
        assert_eq!(Trap::from_code(200), None);
    }

    #[test]
    fn names_round_trip() {
        for t in Trap::ALL {
            assert_eq!(Trap::from_name(t.name()), Some(t));
            assert_eq!(format!("{t:?}"), t.name());
        }
        assert_eq!(Trap::from_name("NoSuchTrap"), None);
    }

    /// The codes of the traps that existed before the list became a macro: compiled code
    /// and adapters name traps by code, so these must not move.
    #[test]
    fn codes_are_stable() {
        assert_eq!(Trap::StackOverflow.code(), 1);
        assert_eq!(Trap::HostError.code(), 12);
        assert_eq!(Trap::UnalignedPointer.code(), 15);
        assert_eq!(Trap::InvalidDiscriminant.code(), 20);
        assert_eq!(Trap::HandleTableFull.code(), 28);
        assert_eq!(Trap::OutOfFuel.code(), 29);
        assert_eq!(Trap::Interrupt.code(), 30);
    }

    #[test]
    fn messages_are_distinct() {
        let mut seen = std::collections::HashSet::new();
        for t in Trap::ALL {
            assert!(seen.insert(t.message()), "{t:?} repeats a message");
        }
    }
}
