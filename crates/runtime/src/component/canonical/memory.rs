//! What lifting and lowering see of a guest: its memory and `realloc` ([`GuestMemory`]),
//! the canonical options that matter ([`Options`]), and the checks of pointers and ranges
//! (alignment, bounds, the list length limit, what `realloc` returns) that every load and
//! store makes first. A failed check is a trap: the same [`Trap`] a fused adapter raises for
//! it, under a message naming the check, the memory (the caller's or the callee's) and the
//! values.

use super::super::resources::ResourceAny;
use super::super::types::InterfaceType;
use super::super::values::Val;
use crate::trap::trap_with;
use anyhow::{Result, anyhow};
use std::fmt;
use weld_environ::Trap;
use weld_environ::component::adapt::CallSide;
use weld_environ::component::translate::StringEncoding;
use weld_environ::component::{MAX_LIST_BYTE_LENGTH, MemoryWidth};

/// A guest's linear memory and its `realloc`, as lifting and lowering see them.
pub trait GuestMemory {
    /// The memory's bytes.
    fn bytes(&self) -> &[u8];
    /// The memory's bytes, writable.
    fn bytes_mut(&mut self) -> &mut [u8];
    /// Calls the guest's `realloc(old_ptr, old_size, align, new_size)`. The result is checked
    /// for alignment and bounds by the caller.
    fn realloc(&mut self, old_ptr: u64, old_size: u64, align: u32, new_size: u64) -> Result<u64>;
    /// Whether the memory is a 64-bit one (pointers and lengths are `i64`).
    fn memory64(&self) -> bool;
    /// Whose memory this is in the call being made (the caller's or the callee's), which
    /// trap messages name; `None` (the default) when that is not known.
    #[inline]
    fn side(&self) -> Option<CallSide> {
        None
    }
    /// Lowers a resource handle of type `ty` (`own` or `borrow`) into the guest's handle
    /// table, returning its index (or, for a borrow of the guest's own resource, its rep).
    #[inline]
    fn lower_handle(&mut self, ty: &InterfaceType, handle: &ResourceAny) -> Result<u32> {
        let _ = handle;
        Err(unsupported_handle(ty))
    }
    /// Lifts the handle at `index` of the guest's handle table as type `ty`: an `own` is
    /// removed from the table, a `borrow` stays.
    #[inline]
    fn lift_handle(&mut self, ty: &InterfaceType, index: u32) -> Result<ResourceAny> {
        let _ = index;
        Err(unsupported_handle(ty))
    }
    /// Lifts the `future`, `stream` or `error-context` (`ty`) at `index` of the guest's
    /// handle table: a readable end is taken out of the table, an error context stays.
    #[inline]
    fn lift_async_value(&mut self, ty: &InterfaceType, index: u32) -> Result<Val> {
        let _ = index;
        Err(anyhow::anyhow!(crate::component::values::async_value_unsupported("lifting", ty)))
    }
    /// Lowers a `future`, `stream` or `error-context` value (`ty`) into the guest's handle
    /// table, returning its index there.
    #[inline]
    fn lower_async_value(&mut self, ty: &InterfaceType, val: &Val) -> Result<u32> {
        let _ = val;
        Err(anyhow::anyhow!(crate::component::values::async_value_unsupported("lowering", ty)))
    }
}

/// The canonical options that matter to lifting and lowering.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// How strings are encoded in the guest's memory.
    pub string_encoding: StringEncoding,
    /// Whether a `list<u8>` lifts as a [`Val::Bytes`](crate::component::Val::Bytes) rather
    /// than a [`Val::List`](crate::component::Val::List) of `Val::U8`s.
    pub lift_bytes: bool,
}

#[inline]
pub(super) fn width_of(memory64: bool) -> MemoryWidth {
    MemoryWidth::from_memory64(memory64)
}

/// The high bit of a pointer-sized length marks a `latin1+utf16` string as UTF-16.
#[inline]
pub(crate) fn utf16_tag(width: MemoryWidth) -> u64 {
    1 << (width.ptr_size() * 8 - 1)
}

/// How trap messages name a memory: "the callee's memory", or "the guest's memory" when it
/// is not known which side of the call it belongs to.
#[inline]
pub(crate) fn memory_name(side: Option<CallSide>) -> &'static str {
    match side {
        Some(CallSide::Caller) => "the caller's memory",
        Some(CallSide::Callee) => "the callee's memory",
        None => "the guest's memory",
    }
}

/// The memory a check is made in, as the check sees it: its length in bytes, and whose it is
/// (for the trap's message).
#[derive(Clone, Copy, Debug)]
pub(crate) struct MemoryBounds {
    pub(crate) len: usize,
    pub(crate) side: Option<CallSide>,
}

impl MemoryBounds {
    #[inline]
    pub(crate) fn of(mem: &dyn GuestMemory) -> MemoryBounds {
        MemoryBounds { len: mem.bytes().len(), side: mem.side() }
    }
}

impl fmt::Display for MemoryBounds {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} of {} bytes", memory_name(self.side), self.len)
    }
}

/// What a checked pointer points to, which decides the trap a failed check raises: the same
/// one a fused adapter raises for the same check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pointee {
    /// A value: parameters or results passed through memory, or a part of one.
    Value,
    /// A list's elements.
    List,
    /// A string's code units.
    String,
}

impl Pointee {
    #[inline]
    fn noun(self) -> &'static str {
        match self {
            Pointee::Value => "value",
            Pointee::List => "list",
            Pointee::String => "string",
        }
    }

    #[inline]
    fn out_of_bounds(self) -> Trap {
        match self {
            Pointee::Value => Trap::PointerOutOfBounds,
            Pointee::List => Trap::ListOutOfBounds,
            Pointee::String => Trap::StringOutOfBounds,
        }
    }
}

/// Checks that `len` bytes at `ptr` lie inside `mem`; returns `ptr` as an index.
#[inline]
pub(crate) fn check_bounds(mem: MemoryBounds, what: Pointee, ptr: u64, len: u64) -> Result<usize> {
    match ptr.checked_add(len) {
        Some(end) if end <= mem.len as u64 => Ok(ptr as usize),
        _ => Err(out_of_bounds(mem, what, ptr, len)),
    }
}

#[cold]
fn out_of_bounds(mem: MemoryBounds, what: Pointee, ptr: u64, len: u64) -> anyhow::Error {
    let check = match what {
        Pointee::Value => "value pointer out of bounds of memory",
        Pointee::List => "list pointer/length out of bounds of memory",
        Pointee::String => "string pointer/length out of bounds of memory",
    };
    trap_with(what.out_of_bounds(), format!("{check}: {len} bytes at {ptr:#x} do not fit in {mem}"))
}

/// Checks that `ptr`, pointing to a `what` in the memory of `side`, is a multiple of `align`.
pub(crate) fn check_align(side: Option<CallSide>, what: Pointee, ptr: u64, align: u32) -> Result<()> {
    if !ptr.is_multiple_of(u64::from(align.max(1))) {
        let (noun, memory) = (what.noun(), memory_name(side));
        return Err(trap_with(
            Trap::UnalignedPointer,
            format!("{noun} pointer {ptr:#x} is not aligned to {align} in {memory}"),
        ));
    }
    Ok(())
}

/// Checks a pointer `realloc` returned for `size` bytes of a `what` aligned to `align` (the
/// spec's traps after `allocate` and `reallocate`), in `mem`, the memory `realloc` allocates
/// in.
pub(crate) fn check_realloc_result(mem: MemoryBounds, what: Pointee, ptr: u64, align: u32, size: u64) -> Result<()> {
    let noun = what.noun();
    if !ptr.is_multiple_of(u64::from(align.max(1))) {
        let memory = memory_name(mem.side);
        return Err(trap_with(
            Trap::UnalignedPointer,
            format!(
                "realloc return: result not aligned: {ptr:#x}, allocated for a {noun} in {memory}, is not \
                 aligned to {align}"
            ),
        ));
    }
    if ptr.checked_add(size).is_none_or(|end| end > mem.len as u64) {
        return Err(trap_with(
            what.out_of_bounds(),
            format!(
                "realloc return: beyond end of memory: {size} bytes at {ptr:#x}, allocated for a {noun}, do not \
                 fit in {mem}"
            ),
        ));
    }
    Ok(())
}

/// Reads `n` (at most 8) little-endian bytes at `ptr` (inside a value whose place has been
/// checked).
#[inline]
pub(crate) fn read_uint(bytes: &[u8], ptr: u64, n: u32) -> Result<u64> {
    let at = check_bounds(MemoryBounds { len: bytes.len(), side: None }, Pointee::Value, ptr, u64::from(n))?;
    let b = &bytes[at..];
    // One fixed-size read for each size a value has, not a `memcpy` of `n` bytes.
    Ok(match n {
        1 => u64::from(b[0]),
        2 => u64::from(u16::from_le_bytes([b[0], b[1]])),
        4 => u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        8 => u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
        _ => {
            let mut buf = [0u8; 8];
            buf[..n as usize].copy_from_slice(&b[..n as usize]);
            u64::from_le_bytes(buf)
        }
    })
}

/// The pointer and the length (each `n` bytes, a pointer's size) of a string or list at `ptr`
/// (inside a value whose place has been checked).
#[inline]
pub(crate) fn read_pointer_pair(bytes: &[u8], ptr: u64, n: u32) -> Result<(u64, u64)> {
    Ok((read_uint(bytes, ptr, n)?, read_uint(bytes, ptr + u64::from(n), n)?))
}

/// Writes the low `n` (at most 8) bytes of `value`, little-endian, at `ptr` (inside a value
/// whose place has been checked).
#[inline]
pub(crate) fn write_uint(bytes: &mut [u8], ptr: u64, n: u32, value: u64) -> Result<()> {
    let at = check_bounds(MemoryBounds { len: bytes.len(), side: None }, Pointee::Value, ptr, u64::from(n))?;
    let b = &mut bytes[at..];
    // One fixed-size write for each size a value has, not a `memcpy` of `n` bytes.
    match n {
        1 => b[0] = value as u8,
        2 => b[..2].copy_from_slice(&(value as u16).to_le_bytes()),
        4 => b[..4].copy_from_slice(&(value as u32).to_le_bytes()),
        8 => b[..8].copy_from_slice(&value.to_le_bytes()),
        _ => b[..n as usize].copy_from_slice(&value.to_le_bytes()[..n as usize]),
    }
    Ok(())
}

#[inline]
fn unsupported_handle(ty: &InterfaceType) -> anyhow::Error {
    anyhow!("resource handles ({ty}) cannot be passed here: there is no handle table")
}

/// The spec's checks of `load_list_from_range` before loading: `len` elements of `element`
/// at `ptr` are within the length limit, aligned and inside `mem`. Returns the element size.
pub(crate) fn check_list_range(
    mem: MemoryBounds,
    element: &InterfaceType,
    width: MemoryWidth,
    ptr: u64,
    len: u64,
) -> Result<u64> {
    let size = u64::from(element.abi().size(width));
    let Some(byte_len) = len.checked_mul(size).filter(|n| *n <= MAX_LIST_BYTE_LENGTH) else {
        let memory = memory_name(mem.side);
        return Err(trap_with(
            Trap::ListOutOfBounds,
            format!(
                "list too long: {len} elements of {size} bytes at {ptr:#x} in {memory} are more than \
                 MAX_LIST_BYTE_LENGTH ({MAX_LIST_BYTE_LENGTH} bytes)"
            ),
        ));
    };
    check_align(mem.side, Pointee::List, ptr, element.abi().align(width))?;
    check_bounds(mem, Pointee::List, ptr, byte_len)?;
    Ok(size)
}

/// Checks that a value of `ty` at `ptr` is aligned and inside `mem`.
#[inline]
pub(crate) fn check_value_at(mem: MemoryBounds, ty: &InterfaceType, width: MemoryWidth, ptr: u64) -> Result<()> {
    check_align(mem.side, Pointee::Value, ptr, ty.abi().align(width))?;
    check_bounds(mem, Pointee::Value, ptr, u64::from(ty.abi().size(width)))?;
    Ok(())
}
