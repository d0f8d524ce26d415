//! Arbitrary values of an interface type.
//!
//! Floats are never NaN: `Val`'s equality, which the oracles compare with, is IEEE equality,
//! and NaN payloads are not something the canonical ABI promises to keep.
//!
//! A handle (`own` or `borrow`) is a host handle of [`FuzzResource`] with an arbitrary rep:
//! what it means is up to the handle table of the memory it is lowered into.

use arbitrary::{Result, Unstructured};
use weld::component::{InterfaceType, Resource, Val};

/// The host resource type of generated handles.
pub struct FuzzResource;

/// A generated handle with representation `rep` (owned for `own`, borrowed for `borrow`).
pub fn handle(ty: &InterfaceType, rep: u32) -> Val {
    match ty {
        InterfaceType::Borrow(_) => Val::Resource(Resource::<FuzzResource>::new_borrow(rep).into_any()),
        _ => Val::Resource(Resource::<FuzzResource>::new_own(rep).into_any()),
    }
}

/// The representation of a handle made by [`handle`] (or by a test memory's handle table).
pub fn handle_rep(val: &Val) -> Option<u32> {
    match val {
        Val::Resource(h) => h.try_into_resource::<FuzzResource>().ok().map(|r| r.rep()),
        _ => None,
    }
}

/// Most elements in a generated list, and characters in a generated string.
const MAX_LEN: usize = 6;

/// An arbitrary value of type `ty`.
pub fn arbitrary_val(u: &mut Unstructured, ty: &InterfaceType) -> Result<Val> {
    use InterfaceType as T;
    Ok(match ty {
        T::Bool => Val::Bool(u.arbitrary()?),
        T::S8 => Val::S8(u.arbitrary()?),
        T::U8 => Val::U8(u.arbitrary()?),
        T::S16 => Val::S16(u.arbitrary()?),
        T::U16 => Val::U16(u.arbitrary()?),
        T::S32 => Val::S32(u.arbitrary()?),
        T::U32 => Val::U32(u.arbitrary()?),
        T::S64 => Val::S64(u.arbitrary()?),
        T::U64 => Val::U64(u.arbitrary()?),
        T::F32 => Val::Float32(not_nan32(u.arbitrary()?)),
        T::F64 => Val::Float64(not_nan64(u.arbitrary()?)),
        T::Char => Val::Char(u.arbitrary()?),
        T::String => Val::String(arbitrary_string(u)?),
        T::List(l) => {
            let n = u.int_in_range(0..=MAX_LEN)?;
            Val::List((0..n).map(|_| arbitrary_val(u, l.element())).collect::<Result<_>>()?)
        }
        // A map value is its entry list; keys may repeat, as the spec allows.
        T::Map(m) => arbitrary_val(u, m.entries())?,
        T::FixedList(l) => Val::List((0..l.len()).map(|_| arbitrary_val(u, l.element())).collect::<Result<_>>()?),
        T::Record(r) => Val::Record(
            r.fields().iter().map(|f| Ok((f.name.clone(), arbitrary_val(u, &f.ty)?))).collect::<Result<_>>()?,
        ),
        T::Tuple(t) => Val::Tuple(t.types().iter().map(|t| arbitrary_val(u, t)).collect::<Result<_>>()?),
        T::Variant(v) => {
            let case = &v.cases()[u.choose_index(v.cases().len())?];
            let payload = case.ty.as_ref().map(|t| arbitrary_val(u, t).map(Box::new)).transpose()?;
            Val::Variant(case.name.clone(), payload)
        }
        T::Enum(e) => Val::Enum(e.names()[u.choose_index(e.names().len())?].clone()),
        T::Option(o) => Val::Option(if u.arbitrary()? { Some(Box::new(arbitrary_val(u, o.some())?)) } else { None }),
        T::Result(r) => {
            if u.arbitrary()? {
                Val::Result(Ok(r.ok().map(|t| arbitrary_val(u, t).map(Box::new)).transpose()?))
            } else {
                Val::Result(Err(r.err().map(|t| arbitrary_val(u, t).map(Box::new)).transpose()?))
            }
        }
        T::Flags(f) => {
            let mut set = Vec::new();
            for name in f.names() {
                if u.arbitrary()? {
                    set.push(name.clone());
                }
            }
            Val::Flags(set)
        }
        T::Own(_) | T::Borrow(_) => handle(ty, u.arbitrary()?),
        // No `Val` represents them yet (and the generators make no such types).
        T::Future(_) | T::Stream(_) | T::ErrorContext => return Err(arbitrary::Error::IncorrectFormat),
    })
}

/// A short string mixing ASCII, Latin-1, other BMP characters and characters outside the BMP,
/// so that every string encoding and every transcoding path is taken.
fn arbitrary_string(u: &mut Unstructured) -> Result<String> {
    let n = u.int_in_range(0..=MAX_LEN)?;
    let mut s = String::new();
    for _ in 0..n {
        let c = match u.choose_index(4)? {
            0 => char::from(u.int_in_range(0x20u8..=0x7e)?),
            1 => char::from(u.int_in_range(0xa0u8..=0xff)?),
            2 => char::from_u32(u.int_in_range(0x100u32..=0xd7ff)?).unwrap_or('?'),
            _ => u.arbitrary()?,
        };
        s.push(c);
    }
    Ok(s)
}

fn not_nan32(x: f32) -> f32 {
    if x.is_nan() { 0.0 } else { x }
}

fn not_nan64(x: f64) -> f64 {
    if x.is_nan() { 0.0 } else { x }
}
