//! Variants, options, results, enums and flags: finding a case by name or discriminant (an
//! invalid discriminant traps), flags as 32-bit words, and `char` validation. Shared by
//! loading and storing.

use super::super::types::InterfaceType;
use super::super::values::Val;
use crate::trap::trap_with;
use anyhow::{Result, anyhow, bail};
use weld_environ::Trap;
use weld_environ::component::flags_i32_count;

/// The spec's `convert_i32_to_char`: traps unless `i` is a Unicode scalar value.
#[inline]
pub(crate) fn char_from(i: u32) -> Result<char> {
    char::from_u32(i)
        .ok_or_else(|| trap_with(Trap::InvalidChar, format!("char value {i:#x} is not a Unicode scalar value")))
}

#[inline]
pub(crate) fn invalid_discriminant(ty: &InterfaceType, index: u64, count: usize) -> anyhow::Error {
    trap_with(Trap::InvalidDiscriminant, format!("discriminant {index} is past the last of the {count} cases of {ty}"))
}

/// Index of the case named `name` in `names`.
#[inline]
pub(super) fn case_index<'a>(mut names: impl Iterator<Item = &'a str>, name: &str) -> Result<u64> {
    names.position(|n| n == name).map(|i| i as u64).ok_or_else(|| anyhow!("unknown case \"{name}\""))
}

/// The payload type of case `index` of a variant-like type, and its case count and layout.
pub(crate) fn variant_case(
    ty: &InterfaceType,
    index: u64,
) -> Result<(Option<&InterfaceType>, &weld_environ::component::VariantLayout)> {
    let (count, payload, layout) = match ty {
        InterfaceType::Variant(v) => {
            let c = v.cases().get(index as usize);
            (v.cases().len(), c.and_then(|c| c.ty.as_ref()), v.layout())
        }
        InterfaceType::Option(o) => (2, (index == 1).then(|| o.some()), o.layout()),
        InterfaceType::Result(r) => (2, if index == 0 { r.ok() } else { r.err() }, r.layout()),
        _ => bail!("{ty} is not a variant"),
    };
    if index >= count as u64 {
        return Err(invalid_discriminant(ty, index, count));
    }
    Ok((payload, layout))
}

/// Case index and payload of a variant-like value (the value has been typechecked).
pub(super) fn variant_value<'a>(ty: &InterfaceType, val: &'a Val) -> Result<(u64, Option<&'a Val>)> {
    Ok(match (ty, val) {
        (InterfaceType::Variant(v), Val::Variant(name, payload)) => {
            (case_index(v.cases().iter().map(|c| c.name.as_str()), name)?, payload.as_deref())
        }
        (InterfaceType::Option(_), Val::Option(payload)) => (u64::from(payload.is_some()), payload.as_deref()),
        (InterfaceType::Result(_), Val::Result(Ok(payload))) => (0, payload.as_deref()),
        (InterfaceType::Result(_), Val::Result(Err(payload))) => (1, payload.as_deref()),
        _ => bail!("expected {ty}, found {}", val.kind()),
    })
}

/// Flags as 32-bit words, label `i` being bit `i % 32` of word `i / 32`.
pub(super) fn flags_words(names: &[String], set: &[String]) -> Vec<u32> {
    let mut words = vec![0u32; flags_i32_count(names.len()) as usize];
    for (i, name) in names.iter().enumerate() {
        if set.contains(name) {
            words[i / 32] |= 1 << (i % 32);
        }
    }
    words
}

#[inline]
pub(super) fn flags_from_words(names: &[String], words: &[u32]) -> Val {
    let set = names.iter().enumerate().filter(|(i, _)| words[i / 32] & (1 << (i % 32)) != 0);
    Val::Flags(set.map(|(_, n)| n.clone()).collect())
}

pub(super) fn make_variant(ty: &InterfaceType, index: u64, payload: Option<Box<Val>>) -> Val {
    match ty {
        InterfaceType::Variant(v) => Val::Variant(v.cases()[index as usize].name.clone(), payload),
        InterfaceType::Option(_) if index == 0 => Val::Option(None),
        InterfaceType::Option(_) => Val::Option(payload),
        InterfaceType::Result(_) if index == 0 => Val::Result(Ok(payload)),
        _ => Val::Result(Err(payload)),
    }
}

#[inline]
pub(super) fn enum_case(ty: &InterfaceType, names: &[String], index: u64) -> Result<Val> {
    match usize::try_from(index).ok().and_then(|i| names.get(i)) {
        Some(name) => Ok(Val::Enum(name.clone())),
        _ => Err(invalid_discriminant(ty, index, names.len())),
    }
}
