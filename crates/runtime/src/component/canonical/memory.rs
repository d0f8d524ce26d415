//! What lifting and lowering see of a guest: its memory and `realloc` ([`GuestMemory`]),
//! the canonical options that matter ([`Options`]), the spec's length limits, and the checks
//! of pointers and ranges (alignment, bounds, what `realloc` returns) that every load and
//! store makes first.

use super::super::resources::ResourceAny;
use super::super::types::InterfaceType;
use anyhow::{Result, anyhow, bail};
use weld_environ::component::MemoryWidth;
use weld_environ::component::translate::StringEncoding;

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
    /// Lowers a resource handle of type `ty` (`own` or `borrow`) into the guest's handle
    /// table, returning its index (or, for a borrow of the guest's own resource, its rep).
    fn lower_handle(&mut self, ty: &InterfaceType, handle: &ResourceAny) -> Result<u32> {
        let _ = handle;
        Err(unsupported_handle(ty))
    }
    /// Lifts the handle at `index` of the guest's handle table as type `ty`: an `own` is
    /// removed from the table, a `borrow` stays.
    fn lift_handle(&mut self, ty: &InterfaceType, index: u32) -> Result<ResourceAny> {
        let _ = index;
        Err(unsupported_handle(ty))
    }
}

/// The canonical options that matter to lifting and lowering.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// How strings are encoded in the guest's memory.
    pub string_encoding: StringEncoding,
}

/// The spec's `MAX_STRING_BYTE_LENGTH`.
pub(crate) const MAX_STRING_BYTE_LENGTH: u64 = (1 << 28) - 1;
/// The spec's `MAX_LIST_BYTE_LENGTH`.
pub(crate) const MAX_LIST_BYTE_LENGTH: u64 = (1 << 28) - 1;
/// The spec's `REALLOC_I32_MAX`.
pub(super) const REALLOC_I32_MAX: u64 = (1 << 32) - 1;

pub(super) fn width_of(memory64: bool) -> MemoryWidth {
    MemoryWidth::from_memory64(memory64)
}

/// The high bit of a pointer-sized length marks a `latin1+utf16` string as UTF-16.
pub(crate) fn utf16_tag(width: MemoryWidth) -> u64 {
    1 << (width.ptr_size() * 8 - 1)
}

/// Checks that `len` bytes at `ptr` lie inside a memory of `mem_len` bytes.
pub(crate) fn check_bounds(mem_len: usize, what: &str, ptr: u64, len: u64) -> Result<usize> {
    match ptr.checked_add(len) {
        Some(end) if end <= mem_len as u64 => Ok(ptr as usize),
        _ => bail!("{what} out-of-bounds: {len} bytes at {ptr:#x} do not fit in a memory of {mem_len} bytes"),
    }
}

pub(crate) fn check_align(ptr: u64, align: u32) -> Result<()> {
    if !ptr.is_multiple_of(u64::from(align.max(1))) {
        bail!("unaligned pointer: {ptr:#x} is not aligned to {align}");
    }
    Ok(())
}

/// Checks a pointer `realloc` returned for `size` bytes aligned to `align` (the spec's traps
/// after `allocate` and `reallocate`).
pub fn check_realloc_result(mem_len: usize, ptr: u64, align: u32, size: u64) -> Result<()> {
    if !ptr.is_multiple_of(u64::from(align.max(1))) {
        bail!("realloc return: result not aligned ({ptr:#x} is not aligned to {align})");
    }
    if ptr.checked_add(size).is_none_or(|end| end > mem_len as u64) {
        bail!("realloc return: beyond end of memory ({size} bytes at {ptr:#x}, memory of {mem_len} bytes)");
    }
    Ok(())
}

/// Reads `n` (at most 8) little-endian bytes at `ptr`.
pub(crate) fn read_uint(bytes: &[u8], ptr: u64, n: u32) -> Result<u64> {
    let at = check_bounds(bytes.len(), "value", ptr, u64::from(n))?;
    let mut buf = [0u8; 8];
    buf[..n as usize].copy_from_slice(&bytes[at..at + n as usize]);
    Ok(u64::from_le_bytes(buf))
}

/// Writes the low `n` (at most 8) bytes of `value`, little-endian, at `ptr`.
pub(crate) fn write_uint(bytes: &mut [u8], ptr: u64, n: u32, value: u64) -> Result<()> {
    let at = check_bounds(bytes.len(), "value", ptr, u64::from(n))?;
    bytes[at..at + n as usize].copy_from_slice(&value.to_le_bytes()[..n as usize]);
    Ok(())
}

fn unsupported_handle(ty: &InterfaceType) -> anyhow::Error {
    anyhow!("resource handles ({ty}) cannot be passed here: there is no handle table")
}

/// The spec's checks of `load_list_from_range` before loading: `len` elements of `element`
/// at `ptr` are within the length limit, aligned and inside a memory of `mem_len` bytes.
/// Returns the element size.
pub(crate) fn check_list_range(
    mem_len: usize,
    element: &InterfaceType,
    width: MemoryWidth,
    ptr: u64,
    len: u64,
) -> Result<u64> {
    let size = u64::from(element.abi().size(width));
    let Some(byte_len) = len.checked_mul(size).filter(|n| *n <= MAX_LIST_BYTE_LENGTH) else {
        bail!("list of {len} elements of {size} bytes is longer than {MAX_LIST_BYTE_LENGTH} bytes");
    };
    check_align(ptr, element.abi().align(width))?;
    check_bounds(mem_len, "list content", ptr, byte_len)?;
    Ok(size)
}

/// Checks that a value of `ty` at `ptr` is aligned and inside a memory of `mem_len` bytes.
pub(crate) fn check_value_at(mem_len: usize, ty: &InterfaceType, width: MemoryWidth, ptr: u64) -> Result<()> {
    check_align(ptr, ty.abi().align(width))?;
    check_bounds(mem_len, "value", ptr, u64::from(ty.abi().size(width)))?;
    Ok(())
}
