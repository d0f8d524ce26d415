//! The flat representation's limits: how many core values a type flattens to, refusing types
//! past `MAX_FLAT_PARAMS` (which the canonical ABI always passes through memory).

use super::super::types::InterfaceType;
use anyhow::{Result, anyhow};
use weld_environ::component::{FlatType, MemoryWidth, flatten};

/// The flat types of `ty`, refusing types that flatten to too many values.
#[inline]
pub(super) fn flat_types(ty: &InterfaceType, width: MemoryWidth) -> Result<Vec<FlatType>> {
    flatten(ty, width).ok_or_else(|| anyhow!("{ty} flattens to too many core values to be passed flat"))
}

/// The number of flat core values of `ty`, refusing types that flatten to too many (O(1):
/// the layout was computed with the type).
#[inline]
pub(super) fn flat_count(ty: &InterfaceType) -> Result<usize> {
    ty.abi()
        .flat_count
        .map(usize::from)
        .ok_or_else(|| anyhow!("{ty} flattens to too many core values to be passed flat"))
}
