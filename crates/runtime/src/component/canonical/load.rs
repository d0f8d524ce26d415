//! Lifting: [`load`] reads a [`Val`] from linear memory and [`lift_flat`] from flat core
//! values, with every check the spec makes.

use super::super::types::InterfaceType;
use super::super::values::Val;
use super::cases::{char_from, enum_case, flags_from_words, make_variant, variant_case};
use super::flat::{flat_count, flat_types};
use super::integers::{integer_size, integer_value, load_integers};
use super::memory::{
    GuestMemory, MemoryBounds, Options, check_list_range, check_value_at, read_pointer_pair, read_uint, width_of,
};
use super::strings::load_string;
use anyhow::{Result, anyhow};
use std::cell::RefCell;
use weld_environ::component::{FlatType, MemoryWidth, flags_i32_count};

struct Loader<'a> {
    /// Borrowed briefly for each read; mutably only to lift handles.
    mem: RefCell<&'a mut dyn GuestMemory>,
    opts: &'a Options,
    width: MemoryWidth,
}

/// Lifts a value of type `ty` from memory at `ptr` (the spec's `load`).
#[inline]
pub fn load(mem: &mut dyn GuestMemory, opts: &Options, ty: &InterfaceType, ptr: u64) -> Result<Val> {
    let width = width_of(mem.memory64());
    check_value_at(MemoryBounds::of(mem), ty, width, ptr)?;
    let cx = Loader { mem: RefCell::new(mem), opts, width };
    cx.load(ty, ptr)
}

/// The scalar of type `ty` whose bits are `bits`, as memory or a flat value holds them (a
/// narrower integer is the low bits of a flat `i32`).
#[inline(always)]
fn scalar_from_bits(ty: &InterfaceType, bits: u64) -> Result<Val> {
    use InterfaceType as T;
    match ty {
        T::F32 => Ok(Val::Float32(f32::from_bits(bits as u32))),
        T::F64 => Ok(Val::Float64(f64::from_bits(bits))),
        T::Char => char_from(bits as u32).map(Val::Char),
        _ => integer_value(ty, bits),
    }
}

impl Loader<'_> {
    #[inline]
    fn uint(&self, ptr: u64, n: u32) -> Result<u64> {
        read_uint(self.mem.borrow().bytes(), ptr, n)
    }

    #[inline]
    fn handle(&self, ty: &InterfaceType, index: u64) -> Result<Val> {
        Ok(Val::Resource(self.mem.borrow_mut().lift_handle(ty, index as u32)?))
    }

    fn load(&self, ty: &InterfaceType, ptr: u64) -> Result<Val> {
        use InterfaceType as T;
        let w = self.width;
        Ok(match ty {
            scalar_types!() => scalar_from_bits(ty, self.uint(ptr, ty.abi().size(w))?)?,
            T::String => {
                // The pointer, the length and the string from one look at the memory.
                let mem = self.mem.borrow();
                let (begin, units) = read_pointer_pair(mem.bytes(), ptr, w.ptr_size())?;
                Val::String(load_string(mem.bytes(), mem.side(), self.opts, w, begin, units)?)
            }
            T::List(list) => {
                let begin = self.uint(ptr, w.ptr_size())?;
                let len = self.uint(ptr + u64::from(w.ptr_size()), w.ptr_size())?;
                self.list(list.element(), begin, len)?
            }
            T::Map(map) => self.load(map.entries(), ptr)?,
            T::FixedList(list) => {
                let size = u64::from(list.element().abi().size(w));
                let elements = (0..u64::from(list.len())).map(|i| self.load(list.element(), ptr + i * size));
                Val::List(elements.collect::<Result<_>>()?)
            }
            T::Record(record) => {
                // The names first, then each value written into its place: a `(String, Val)`
                // made whole and pushed is assembled on the stack and copied into the vector
                // (in pieces of unequal width, which stalls the copy).
                let mut fields: Vec<(String, Val)> =
                    record.fields().iter().map(|f| (String::from(f.name.as_str()), Val::Bool(false))).collect();
                for ((f, off), (_, value)) in record.fields().iter().zip(record.field_offsets(w)).zip(&mut fields) {
                    self.load_into(value, &f.ty, ptr + u64::from(*off))?;
                }
                Val::Record(fields)
            }
            T::Tuple(tuple) => {
                let mut elements = Vec::with_capacity(tuple.types().len());
                for (t, off) in tuple.types().iter().zip(tuple.field_offsets(w)) {
                    elements.push(self.load(t, ptr + u64::from(*off))?);
                }
                Val::Tuple(elements)
            }
            T::Variant(_) | T::Option(_) | T::Result(_) => {
                let disc_size = match ty {
                    T::Variant(v) => v.layout().discriminant_size,
                    _ => 1,
                };
                let index = self.uint(ptr, disc_size)?;
                let (payload_ty, layout) = variant_case(ty, index)?;
                let payload = match payload_ty {
                    Some(pty) => Some(Box::new(self.load(pty, ptr + u64::from(layout.payload_offset(w)))?)),
                    None => None,
                };
                make_variant(ty, index, payload)
            }
            T::Enum(e) => {
                let index = self.uint(ptr, e.discriminant_size())?;
                enum_case(ty, e.names(), index)?
            }
            T::Flags(flags) => {
                let size = ty.abi().size(w);
                let words = if size <= 4 {
                    vec![self.uint(ptr, size)? as u32]
                } else {
                    let count = u64::from(size / 4);
                    (0..count).map(|i| Ok(self.uint(ptr + 4 * i, 4)? as u32)).collect::<Result<_>>()?
                };
                flags_from_words(flags.names(), &words)
            }
            T::Own(_) | T::Borrow(_) => self.handle(ty, self.uint(ptr, 4)?)?,
            T::Future(_) | T::Stream(_) | T::ErrorContext => {
                let index = self.uint(ptr, 4)? as u32;
                self.mem.borrow_mut().lift_async_value(ty, index)?
            }
        })
    }

    /// Loads the value of type `ty` at `ptr` into `place`: a scalar without a call of
    /// [`Loader::load`].
    #[inline(always)]
    fn load_into(&self, place: &mut Val, ty: &InterfaceType, ptr: u64) -> Result<()> {
        *place = match ty {
            scalar_types!() => scalar_from_bits(ty, self.uint(ptr, ty.abi().size(self.width))?)?,
            _ => self.load(ty, ptr)?,
        };
        Ok(())
    }

    /// The spec's `load_string_from_range`.
    #[inline]
    fn string(&self, ptr: u64, tagged_units: u64) -> Result<String> {
        let mem = self.mem.borrow();
        load_string(mem.bytes(), mem.side(), self.opts, self.width, ptr, tagged_units)
    }

    /// The spec's `load_list_from_range`.
    #[inline]
    fn list(&self, element: &InterfaceType, ptr: u64, len: u64) -> Result<Val> {
        let size = check_list_range(MemoryBounds::of(&**self.mem.borrow()), element, self.width, ptr, len)?;
        if self.opts.lift_bytes && matches!(element, InterfaceType::U8) {
            // The range was checked: it is inside the memory.
            return Ok(Val::Bytes(self.mem.borrow().bytes()[ptr as usize..][..len as usize].to_vec()));
        }
        if integer_size(element).is_some() {
            // The range was checked: it is inside the memory.
            let (at, end) = (ptr as usize, (ptr + len * size) as usize);
            let mem = self.mem.borrow();
            if let Some(elements) = load_integers(&mem.bytes()[at..end], element, size as usize) {
                return Ok(Val::List(elements));
            }
        }
        let elements = (0..len).map(|i| self.load(element, ptr + i * size));
        Ok(Val::List(elements.collect::<Result<_>>()?))
    }
}

/// Lifts a value of type `ty` from flat core values (the spec's `lift_flat`), reading strings
/// and lists from memory.
#[inline]
pub fn lift_flat(
    mem: &mut dyn GuestMemory,
    opts: &Options,
    ty: &InterfaceType,
    flat: &mut impl Iterator<Item = u64>,
) -> Result<Val> {
    if matches!(ty, scalar_types!()) {
        // The common case of a scalar result, without a loader.
        return scalar_from_bits(ty, next(flat)?);
    }
    let width = width_of(mem.memory64());
    flat_count(ty)?;
    let cx = Loader { mem: RefCell::new(mem), opts, width };
    cx.lift(ty, flat)
}

#[inline]
fn next(flat: &mut dyn Iterator<Item = u64>) -> Result<u64> {
    flat.next().ok_or_else(|| anyhow!("too few flat values"))
}

impl Loader<'_> {
    /// A pointer-sized flat value: an `i32` keeps its low 32 bits.
    fn next_ptr(&self, flat: &mut dyn Iterator<Item = u64>) -> Result<u64> {
        let x = next(flat)?;
        Ok(match self.width {
            MemoryWidth::Mem32 => u64::from(x as u32),
            MemoryWidth::Mem64 => x,
        })
    }

    fn lift(&self, ty: &InterfaceType, flat: &mut dyn Iterator<Item = u64>) -> Result<Val> {
        use InterfaceType as T;
        Ok(match ty {
            scalar_types!() => scalar_from_bits(ty, next(flat)?)?,
            T::String => {
                let ptr = self.next_ptr(flat)?;
                let units = self.next_ptr(flat)?;
                Val::String(self.string(ptr, units)?)
            }
            T::List(list) => {
                let ptr = self.next_ptr(flat)?;
                let len = self.next_ptr(flat)?;
                self.list(list.element(), ptr, len)?
            }
            T::Map(map) => self.lift(map.entries(), flat)?,
            T::FixedList(list) => {
                Val::List((0..list.len()).map(|_| self.lift(list.element(), flat)).collect::<Result<_>>()?)
            }
            T::Record(record) => {
                let mut fields = Vec::with_capacity(record.fields().len());
                for f in record.fields() {
                    fields.push((f.name.clone(), self.lift(&f.ty, flat)?));
                }
                Val::Record(fields)
            }
            T::Tuple(tuple) => {
                let mut elements = Vec::with_capacity(tuple.types().len());
                for t in tuple.types() {
                    elements.push(self.lift(t, flat)?);
                }
                Val::Tuple(elements)
            }
            T::Variant(_) | T::Option(_) | T::Result(_) => self.lift_variant(ty, flat)?,
            T::Enum(e) => enum_case(ty, e.names(), u64::from(next(flat)? as u32))?,
            T::Flags(flags) => {
                let count = flags_i32_count(flags.names().len());
                let words = (0..count).map(|_| Ok(next(flat)? as u32)).collect::<Result<Vec<_>>>()?;
                flags_from_words(flags.names(), &words)
            }
            T::Own(_) | T::Borrow(_) => self.handle(ty, u64::from(next(flat)? as u32))?,
            T::Future(_) | T::Stream(_) | T::ErrorContext => {
                self.mem.borrow_mut().lift_async_value(ty, next(flat)? as u32)?
            }
        })
    }

    /// The spec's `lift_flat_variant`: reads all the joined payload slots, converts those the
    /// case's payload uses from the joined type to the payload's own, and lifts the payload.
    fn lift_variant(&self, ty: &InterfaceType, flat: &mut dyn Iterator<Item = u64>) -> Result<Val> {
        let joined = flat_types(ty, self.width)?;
        let index = u64::from(next(flat)? as u32);
        let slots = (1..joined.len()).map(|_| next(flat)).collect::<Result<Vec<_>>>()?;
        let (payload_ty, _) = variant_case(ty, index)?;
        let payload = match payload_ty {
            None => None,
            Some(pty) => {
                let wanted = flat_types(pty, self.width)?;
                let coerced = slots.iter().zip(&joined[1..]).zip(&wanted).map(|((x, have), want)| match (have, want) {
                    (FlatType::I64, FlatType::I32 | FlatType::F32) => u64::from(*x as u32),
                    _ => *x,
                });
                let mut coerced = coerced.collect::<Vec<_>>().into_iter();
                Some(Box::new(self.lift(pty, &mut coerced)?))
            }
        };
        Ok(make_variant(ty, index, payload))
    }
}
