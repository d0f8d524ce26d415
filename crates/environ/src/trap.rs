//! The reasons a WebAssembly computation can trap, shared by the code generator (which emits
//! trap instructions tagged with them) and the runtime (which reports them).

use std::fmt;

/// Why execution of WebAssembly stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Trap {
    /// The call stack exceeded `Config::max_wasm_stack`.
    StackOverflow,
    /// A load or store was outside the bounds of a linear memory.
    MemoryOutOfBounds,
    /// A table access was outside the bounds of a table.
    TableOutOfBounds,
    /// `call_indirect` found a null entry.
    IndirectCallToNull,
    /// `call_indirect` found a function of another signature.
    BadSignature,
    /// Signed integer overflow (`i32.div_s` of `INT_MIN / -1`, or a float-to-int overflow).
    IntegerOverflow,
    /// Integer division or remainder by zero.
    IntegerDivisionByZero,
    /// Conversion of NaN to an integer.
    BadConversionToInteger,
    /// An `unreachable` instruction was executed.
    UnreachableCodeReached,
    /// `ref.as_non_null` (or a similar cast) found null.
    NullReference,
    /// `call_ref` found a null function reference.
    NullFunctionReference,
    /// A host function returned an error; the error itself travels beside the trap.
    HostError,
    /// A component instance was entered while it could not be: it is already on the call
    /// stack, or a previous call trapped inside it.
    CannotEnterComponent,
    /// A component instance called out (an import, a resource intrinsic) while it may not,
    /// e.g. from its `post-return` function.
    CannotLeaveComponent,
    /// A fused adapter found a pointer that is not aligned for the value it points to.
    UnalignedPointer,
    /// A fused adapter found a list whose contents lie outside its linear memory.
    ListOutOfBounds,
    /// A fused adapter found a string whose contents lie outside its linear memory.
    StringOutOfBounds,
    /// A fused adapter found a pointer to parameters or results outside its linear memory.
    PointerOutOfBounds,
    /// A fused adapter found a `char` that is not a Unicode scalar value.
    InvalidChar,
    /// A fused adapter found a variant discriminant beyond the last case.
    InvalidDiscriminant,
}

impl Trap {
    /// Every trap, in the order of their codes.
    pub const ALL: [Trap; 20] = [
        Trap::StackOverflow,
        Trap::MemoryOutOfBounds,
        Trap::TableOutOfBounds,
        Trap::IndirectCallToNull,
        Trap::BadSignature,
        Trap::IntegerOverflow,
        Trap::IntegerDivisionByZero,
        Trap::BadConversionToInteger,
        Trap::UnreachableCodeReached,
        Trap::NullReference,
        Trap::NullFunctionReference,
        Trap::HostError,
        Trap::CannotEnterComponent,
        Trap::CannotLeaveComponent,
        Trap::UnalignedPointer,
        Trap::ListOutOfBounds,
        Trap::StringOutOfBounds,
        Trap::PointerOutOfBounds,
        Trap::InvalidChar,
        Trap::InvalidDiscriminant,
    ];

    /// A small non-zero code for this trap, used as a Cranelift user trap code.
    pub fn code(self) -> u8 {
        Self::ALL.iter().position(|t| *t == self).unwrap() as u8 + 1
    }

    /// The trap with code `code`, if any.
    pub fn from_code(code: u8) -> Option<Trap> {
        Self::ALL.get(usize::from(code).checked_sub(1)?).copied()
    }

    /// The message the spec test suite expects for this trap.
    pub fn message(self) -> &'static str {
        match self {
            Trap::StackOverflow => "call stack exhausted",
            Trap::MemoryOutOfBounds => "out of bounds memory access",
            Trap::TableOutOfBounds => "undefined element: out of bounds table access",
            Trap::IndirectCallToNull => "uninitialized element",
            Trap::BadSignature => "indirect call type mismatch",
            Trap::IntegerOverflow => "integer overflow",
            Trap::IntegerDivisionByZero => "integer divide by zero",
            Trap::BadConversionToInteger => "invalid conversion to integer",
            Trap::UnreachableCodeReached => "unreachable",
            Trap::NullReference => "null reference",
            Trap::NullFunctionReference => "null function reference",
            Trap::HostError => "host function error",
            Trap::CannotEnterComponent => "cannot enter component instance",
            Trap::CannotLeaveComponent => "cannot leave component instance",
            Trap::UnalignedPointer => "unaligned pointer",
            Trap::ListOutOfBounds => "list content out-of-bounds",
            Trap::StringOutOfBounds => "string content out-of-bounds",
            Trap::PointerOutOfBounds => "pointer out-of-bounds of memory",
            Trap::InvalidChar => "invalid `char` bit pattern",
            Trap::InvalidDiscriminant => "invalid variant discriminant",
        }
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
}
