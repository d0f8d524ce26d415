//! Derived records whose fields are all scalars (integers, `bool`, floats, `char`): their
//! layout computed at compile time from the fields' sizes, and their lowering and lifting
//! as one pass over fixed offsets.
//!
//! A derived record otherwise walks its component type field by field, asking each field's
//! type for its offset and dispatching on it, which cost an echo of a record of ten `u32`
//! most of its time. A record of scalars needs none of that: the canonical ABI lays out a
//! scalar at its own size's alignment, so the offsets follow from the Rust field types
//! alone ([`plain_layout`], a `const fn` the derive evaluates in a `const` block). The
//! component type was checked against the Rust type when the typed function or host
//! function was made, so only its shape (a record of as many fields) is looked at here;
//! anything else takes the general path, which says what is wrong. Reads and writes go
//! through bounds-checked slices: a layout that disagreed with the memory could only give
//! wrong values, never touch memory out of bounds.
//!
//! Public only for generated code (`weld::component::__derive`); not a stable API.

use super::canonical::{read_uint, write_uint};
use super::lift::{LiftContext, LiftSource};
use super::lower::{LowerContext, LowerDest};
use super::types::InterfaceType;
use anyhow::{Result, anyhow, bail};

/// Where each field of a record of `N` scalars lies in memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlainLayout<const N: usize> {
    /// Each field's offset.
    pub offsets: [u32; N],
    /// Each field's size (its alignment too).
    pub sizes: [u32; N],
}

impl<const N: usize> PlainLayout<N> {
    /// The bytes the fields span (the record's size without its trailing padding).
    #[inline]
    pub fn size(&self) -> u32 {
        match (self.offsets.last(), self.sizes.last()) {
            (Some(offset), Some(size)) => offset + size,
            _ => 0,
        }
    }
}

/// The layout of a record whose fields are scalars of `sizes` bytes (each field's
/// `ComponentType::SCALAR_SIZE`), or `None` when a field is not a scalar (size 0) or there
/// are no fields.
pub const fn plain_layout<const N: usize>(sizes: [u32; N]) -> Option<PlainLayout<N>> {
    if N == 0 {
        return None;
    }
    let mut offsets = [0; N];
    let mut end = 0u32;
    let mut i = 0;
    while i < N {
        let size = sizes[i];
        if size == 0 {
            return None;
        }
        // A scalar's alignment is its size (1, 2, 4 or 8).
        let offset = end.div_ceil(size) * size;
        offsets[i] = offset;
        end = offset + size;
        i += 1;
    }
    Some(PlainLayout { offsets, sizes })
}

/// Whether `ty` is a record of `n` fields: what the plain path needs of the type it is given.
#[inline]
pub fn is_record_of(ty: &InterfaceType, n: usize) -> bool {
    matches!(ty, InterfaceType::Record(r) if r.fields().len() == n)
}

/// Lowers a record of scalars given each field's flat and memory bits
/// (`Lower::scalar_bits`).
#[inline]
pub fn lower_plain<const N: usize>(
    cx: &mut LowerContext<'_>,
    dst: LowerDest<'_>,
    layout: &PlainLayout<N>,
    bits: [(u64, u64); N],
) -> Result<()> {
    let write = |bytes: &mut [u8], base: u64| -> Result<()> {
        for ((offset, size), (_, memory)) in layout.offsets.iter().zip(&layout.sizes).zip(&bits) {
            write_uint(bytes, base + u64::from(*offset), *size, *memory)?;
        }
        Ok(())
    };
    match dst {
        LowerDest::Flat(out) => {
            out.extend(bits.iter().map(|(flat, _)| *flat));
            Ok(())
        }
        // The caller checked the range for the record's size and alignment.
        LowerDest::Memory(ptr) => write(cx.mem.bytes_mut(), ptr),
        LowerDest::Bytes(bytes) => write(bytes, 0),
    }
}

/// Lifts a record of scalars of type `ty`: each field's flat value, or its bytes read from
/// memory zero-extended, for `Lift::from_scalar_bits`.
#[inline]
pub fn lift_plain<const N: usize>(
    cx: &mut LiftContext<'_>,
    ty: &InterfaceType,
    src: LiftSource<'_>,
    layout: &PlainLayout<N>,
) -> Result<[u64; N]> {
    let mut bits = [0; N];
    // The record's bytes are taken once; each field is then a fixed-size read inside them.
    let read = |bytes: &[u8], base: u64, bits: &mut [u64; N]| -> Result<()> {
        let record = usize::try_from(base).ok().and_then(|base| bytes.get(base..)?.get(..layout.size() as usize));
        let Some(record) = record else { bail!("bug: a record's place was not checked") };
        for (bits, (offset, size)) in bits.iter_mut().zip(layout.offsets.iter().zip(&layout.sizes)) {
            *bits = read_uint(record, u64::from(*offset), *size)?;
        }
        Ok(())
    };
    match src {
        LiftSource::Flat(flat) => {
            for b in &mut bits {
                *b = flat.next().ok_or_else(|| anyhow!("too few flat values"))?;
            }
        }
        LiftSource::Memory(ptr) => {
            cx.check_value_at(ty, ptr)?;
            read(cx.mem.bytes(), ptr, &mut bits)?;
        }
        LiftSource::Copied { bytes, .. } => read(bytes, 0, &mut bits)?,
    }
    Ok(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_align_each_scalar_to_its_size() {
        let l = plain_layout([1, 4, 2, 8, 1]).unwrap();
        assert_eq!(l.offsets, [0, 4, 8, 16, 24]);
        assert_eq!(plain_layout([4; 10]).unwrap().offsets, [0, 4, 8, 12, 16, 20, 24, 28, 32, 36]);
        assert_eq!(plain_layout([2, 1, 1, 4]).unwrap().offsets, [0, 2, 3, 4]);
        assert_eq!(plain_layout([4, 0]), None, "a field that is not a scalar");
        assert_eq!(plain_layout::<0>([]), None);
    }

    /// The compile-time layout agrees with the canonical ABI's for every mix of sizes.
    #[test]
    fn layouts_agree_with_the_abi() {
        use InterfaceType as T;
        let scalar = |size: u32| match size {
            1 => T::U8,
            2 => T::U16,
            4 => T::U32,
            _ => T::U64,
        };
        for seed in 0u32..500 {
            let sizes: [u32; 6] = std::array::from_fn(|i| 1 << ((seed >> (2 * i)) % 4));
            let record = T::record(sizes.iter().enumerate().map(|(i, s)| (format!("f{i}"), scalar(*s))));
            let T::Record(r) = &record else { unreachable!() };
            let width = weld_environ::component::MemoryWidth::Mem32;
            assert_eq!(plain_layout(sizes).unwrap().offsets[..], r.field_offsets(width)[..], "{sizes:?}");
        }
    }
}
