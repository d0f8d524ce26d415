//! Strings crossing a fused adapter: the runtime side of `AdapterLibcall::String`.
//!
//! The source string is checked and decoded as the spec's `load_string_from_range` does, then
//! stored in the destination's encoding by the algorithm the spec's `store_string_into_range`
//! picks for that pair of encodings, with the same sequence of `realloc` calls (which guests
//! can observe). Two pairs have fast paths that copy straight from one linear memory to the
//! other without an intermediate string: UTF-8 to UTF-8 (validate, then one copy) and UTF-8 to
//! UTF-16 (validate, then encode into the destination).
//!
//! The checks (length limit, alignment, bounds, encoding, what `realloc` returns) are the host
//! canonical ABI's own functions, so a string that crosses an adapter traps with the same
//! [`Trap`](crate::Trap) and message as one a host call lifts or lowers, naming the caller's
//! or the callee's memory.
//!
//! What it does not do: anything for lists (those are copied by the adapter's own code).

use super::canonical::{
    self, MemoryBounds, Pointee, StringAt, StringBytes, check_realloc_result, decode_string, string_range,
    validate_utf8,
};
use crate::func::call_raw_trapping_on_throw;
use crate::handles::ComponentInstanceId;
use crate::store::StoreInner;
use crate::{Func, Memory, ValRaw};
use anyhow::{Result, bail};
use weld_environ::component::abi::MemoryWidth;
use weld_environ::component::adapt::{CallSide, FLAG_MAY_LEAVE};
use weld_environ::component::info::RuntimeComponentInstanceIndex;
use weld_environ::component::translate::StringEncoding;

#[inline]
fn utf16_tag(memory64: bool) -> u64 {
    canonical::utf16_tag(MemoryWidth::from_memory64(memory64))
}

/// One side of a string copy, resolved to store items.
#[derive(Clone, Copy)]
pub(crate) struct StringEnd {
    /// Whether the memory is the caller's or the callee's.
    pub(crate) side: CallSide,
    pub(crate) memory: Memory,
    pub(crate) memory64: bool,
    pub(crate) encoding: StringEncoding,
    pub(crate) realloc: Option<Func>,
    /// The runtime component instance the options belong to.
    pub(crate) instance: RuntimeComponentInstanceIndex,
}

#[inline]
fn bytes<T>(store: &StoreInner<T>, m: Memory) -> &[u8] {
    store.opaque().memory(m.index).data()
}

#[inline]
fn bytes_mut<T>(store: &mut StoreInner<T>, m: Memory) -> &mut [u8] {
    store.opaque_mut().memory_mut(m.index).data_mut()
}

/// Copies the string of `tagged_units` code units at `ptr` of `from` into `to`; returns the
/// destination pointer and tagged length.
pub(crate) fn transfer_string<T>(
    store: &mut StoreInner<T>,
    component: ComponentInstanceId,
    from: &StringEnd,
    to: &StringEnd,
    ptr: u64,
    tagged_units: u64,
) -> Result<(u64, u64)> {
    // load_string_from_range
    let src = MemoryBounds { len: bytes(store, from.memory).len(), side: Some(from.side) };
    let width = MemoryWidth::from_memory64(from.memory64);
    let (simple, range) = string_range(src, from.encoding, width, ptr, tagged_units)?;
    let byte_len = range.len() as u64;
    let src_units = if simple == StringBytes::Utf16 { byte_len / 2 } else { byte_len };
    let (at, len) = (range.start, range.len());
    let site = StringAt { ptr, side: Some(from.side) };

    // Fast paths: no intermediate string.
    if simple == StringBytes::Utf8 {
        validate_utf8(&bytes(store, from.memory)[at..at + len], site)?;
        let mut dst = Dest { store, component, end: to };
        match to.encoding {
            StringEncoding::Utf8 => {
                let q = dst.allocate(1, byte_len)?;
                copy_between(dst.store, from.memory, at, to.memory, q as usize, len);
                return Ok((q, byte_len));
            }
            StringEncoding::Utf16 => {
                // store_utf8_to_utf16
                let worst = 2 * byte_len;
                let q = dst.allocate(2, worst)?;
                let written = utf8_into_utf16(dst.store, from.memory, at, len, to.memory, q as usize);
                let q = if written < worst { dst.reallocate(q, worst, 2, written)? } else { q };
                return Ok((q, written / 2));
            }
            StringEncoding::CompactUtf16 => {}
        }
    }

    let s = decode_string(&bytes(store, from.memory)[at..at + len], simple, site)?;
    let mut dst = Dest { store, component, end: to };
    match (to.encoding, simple) {
        (StringEncoding::Utf8, StringBytes::Utf8) => dst.copy(s.as_bytes().to_vec(), 1, src_units),
        (StringEncoding::Utf8, StringBytes::Utf16) => dst.store_to_utf8(&s, src_units, 3 * src_units),
        (StringEncoding::Utf8, StringBytes::Latin1) => dst.store_to_utf8(&s, src_units, 2 * src_units),
        (StringEncoding::Utf16, StringBytes::Utf8) => dst.utf8_to_utf16(&s, src_units),
        (StringEncoding::Utf16, _) => dst.copy(utf16_bytes(&s), 2, src_units),
        (StringEncoding::CompactUtf16, _) if from.encoding != StringEncoding::CompactUtf16 => {
            dst.store_to_latin1_or_utf16(&s, src_units)
        }
        (StringEncoding::CompactUtf16, StringBytes::Latin1) => {
            dst.copy(s.chars().map(|c| u32::from(c) as u8).collect(), 2, src_units)
        }
        (StringEncoding::CompactUtf16, _) => dst.probably_utf16_to_latin1_or_utf16(&s, src_units),
    }
}

#[inline]
fn utf16_bytes(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// Copies `len` bytes at `src_at` of `src` to `dst_at` of `dst` (which may be the same
/// memory). Both ranges have been bounds-checked.
fn copy_between<T>(store: &mut StoreInner<T>, src: Memory, src_at: usize, dst: Memory, dst_at: usize, len: usize) {
    let from = bytes(store, src)[src_at..src_at + len].as_ptr();
    let to = bytes_mut(store, dst)[dst_at..dst_at + len].as_mut_ptr();
    // SAFETY: both ranges are in bounds of their memories (the slicing above checked it) and
    // no memory can grow or move between taking the pointers and copying; `ptr::copy` allows
    // the ranges to overlap when both are the same memory.
    unsafe { std::ptr::copy(from, to, len) };
}

/// Encodes the (valid) UTF-8 at `src_at` of `src` as UTF-16 at `dst_at` of `dst`, whose
/// room (twice the source length) has been bounds-checked; returns the bytes written.
fn utf8_into_utf16<T>(
    store: &mut StoreInner<T>,
    src: Memory,
    src_at: usize,
    len: usize,
    dst: Memory,
    dst_at: usize,
) -> u64 {
    let from = bytes(store, src)[src_at..src_at + len].as_ptr();
    let to = bytes_mut(store, dst)[dst_at..dst_at + 2 * len].as_mut_ptr();
    // SAFETY: as in `copy_between`; the source was validated as UTF-8. When both are the same
    // memory the ranges may overlap, so the source is read into a temporary first.
    let (s, out) = unsafe {
        let s = std::slice::from_raw_parts(from, len);
        (s, std::slice::from_raw_parts_mut(to, 2 * len))
    };
    let overlap = src.index == dst.index && src_at < dst_at + 2 * len && dst_at < src_at + len;
    let owned;
    let s = if overlap {
        owned = s.to_vec();
        &owned[..]
    } else {
        s
    };
    let text = std::str::from_utf8(s).expect("validated by the caller");
    let mut n = 0;
    if text.is_ascii() {
        for (i, b) in text.bytes().enumerate() {
            out[2 * i] = b;
            out[2 * i + 1] = 0;
        }
        return 2 * len as u64;
    }
    for unit in text.encode_utf16() {
        out[n..n + 2].copy_from_slice(&unit.to_le_bytes());
        n += 2;
    }
    n as u64
}

/// The destination of a string: its memory and `realloc`.
struct Dest<'a, T> {
    store: &'a mut StoreInner<T>,
    /// The component instance in the store.
    component: ComponentInstanceId,
    end: &'a StringEnd,
}

impl<T> Dest<'_, T> {
    fn reallocate(&mut self, old: u64, old_size: u64, align: u64, new_size: u64) -> Result<u64> {
        let Some(f) = self.end.realloc else {
            bail!("a string must be allocated, but the destination's canonical options name no realloc");
        };
        let mut slots = [ValRaw::u64(old), ValRaw::u64(old_size), ValRaw::u64(align), ValRaw::u64(new_size)];
        // The spec's `reallocate` runs `realloc` with the instance's `may_leave` cleared.
        let instance = self.end.instance;
        self.store.opaque_mut().set_component_flag(self.component, instance, FLAG_MAY_LEAVE, false);
        // SAFETY: validation checked that `realloc` has type (ptr, ptr, ptr, ptr) -> ptr for
        // this memory's pointer type, so four slots hold its parameters and its result.
        unsafe { call_raw_trapping_on_throw(self.store, f, None, &mut slots)? };
        self.store.opaque_mut().set_component_flag(self.component, instance, FLAG_MAY_LEAVE, true);
        let ptr = slots[0].get_u64();
        let ptr = if self.end.memory64 { ptr } else { u64::from(ptr as u32) };
        let mem = MemoryBounds { len: bytes(self.store, self.end.memory).len(), side: Some(self.end.side) };
        check_realloc_result(mem, Pointee::String, ptr, align as u32, new_size)?;
        Ok(ptr)
    }

    #[inline]
    fn allocate(&mut self, align: u64, size: u64) -> Result<u64> {
        self.reallocate(0, 0, align, size)
    }

    #[inline]
    fn write(&mut self, at: u64, data: &[u8]) {
        let at = at as usize;
        bytes_mut(self.store, self.end.memory)[at..at + data.len()].copy_from_slice(data);
    }

    /// The spec's `store_string_copy` of already encoded bytes.
    #[inline]
    fn copy(&mut self, encoded: Vec<u8>, align: u64, units: u64) -> Result<(u64, u64)> {
        let q = self.allocate(align, encoded.len() as u64)?;
        self.write(q, &encoded);
        Ok((q, units))
    }

    /// The spec's `store_string_to_utf8`.
    fn store_to_utf8(&mut self, s: &str, units: u64, worst: u64) -> Result<(u64, u64)> {
        let q = self.allocate(1, units)?;
        if s.is_ascii() {
            self.write(q, s.as_bytes());
            return Ok((q, units));
        }
        let ascii = s.bytes().take_while(u8::is_ascii).count();
        self.write(q, &s.as_bytes()[..ascii]);
        let q = self.reallocate(q, units, 1, worst)?;
        self.write(q + ascii as u64, &s.as_bytes()[ascii..]);
        let len = s.len() as u64;
        let q = if worst > len { self.reallocate(q, worst, 1, len)? } else { q };
        Ok((q, len))
    }

    /// The spec's `store_utf8_to_utf16`.
    fn utf8_to_utf16(&mut self, s: &str, units: u64) -> Result<(u64, u64)> {
        let worst = 2 * units;
        let q = self.allocate(2, worst)?;
        let encoded = utf16_bytes(s);
        self.write(q, &encoded);
        let len = encoded.len() as u64;
        let q = if len < worst { self.reallocate(q, worst, 2, len)? } else { q };
        Ok((q, len / 2))
    }

    /// The spec's `store_string_to_latin1_or_utf16`.
    fn store_to_latin1_or_utf16(&mut self, s: &str, units: u64) -> Result<(u64, u64)> {
        let q = self.allocate(2, units)?;
        let latin1: Vec<u8> = s.chars().take_while(|c| u32::from(*c) < 0x100).map(|c| u32::from(c) as u8).collect();
        self.write(q, &latin1);
        if latin1.len() == s.chars().count() {
            let n = latin1.len() as u64;
            let q = if n < units { self.reallocate(q, units, 2, n)? } else { q };
            return Ok((q, n));
        }
        let worst = 2 * units;
        let q = self.reallocate(q, units, 2, worst)?;
        let encoded = utf16_bytes(s);
        self.write(q, &encoded);
        let len = encoded.len() as u64;
        let q = if worst > len { self.reallocate(q, worst, 2, len)? } else { q };
        Ok((q, (len / 2) | utf16_tag(self.end.memory64)))
    }

    /// The spec's `store_probably_utf16_to_latin1_or_utf16`.
    fn probably_utf16_to_latin1_or_utf16(&mut self, s: &str, units: u64) -> Result<(u64, u64)> {
        let src_bytes = 2 * units;
        let q = self.allocate(2, src_bytes)?;
        let encoded = utf16_bytes(s);
        self.write(q, &encoded);
        if s.chars().any(|c| u32::from(c) >= 0x100) {
            return Ok((q, (encoded.len() as u64 / 2) | utf16_tag(self.end.memory64)));
        }
        let latin1: Vec<u8> = s.chars().map(|c| u32::from(c) as u8).collect();
        self.write(q, &latin1);
        let n = latin1.len() as u64;
        let q = self.reallocate(q, src_bytes, 1, n)?;
        Ok((q, n))
    }
}
