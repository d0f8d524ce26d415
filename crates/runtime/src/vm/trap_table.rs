//! [`TrapTable`]: which instructions of one module's code trap, and with which trap; what the
//! signal handler looks up when a fault hits JIT code.
//!
//! Code compiled in this process owns its table. Code loaded from an artifact reads the
//! table where it lies in the artifact's mapping (sorted little-endian `u32` offsets, then
//! one trap code per site), so that loading a module with a million trap sites copies
//! nothing and reads nothing. Such a table is not checked when it is loaded (that would read a
//! million codes): like the code it describes, it is trusted under the `unsafe` contract of
//! loading an artifact, and a lookup that finds an unknown code reports no trap rather than
//! a wrong one.

use super::mmap::ReadOnlyMapping;
use anyhow::{Result, bail};
use std::borrow::Cow;
use std::sync::Arc;
use weld_cranelift::TrapSite;
use weld_environ::Trap;

/// The trap sites of one module's code, sorted by offset.
#[derive(Debug)]
pub enum TrapTable {
    /// Sites compiled in this process.
    Owned(Vec<TrapSite>),
    /// Sites in an artifact: `count` offsets at `offsets`, then `count` codes right after.
    InArtifact {
        /// The artifact's mapping.
        mapping: Arc<ReadOnlyMapping>,
        /// Where the offsets start in the mapping (a multiple of 4).
        offsets: usize,
        /// The number of sites.
        count: usize,
    },
}

impl TrapTable {
    /// The table at `offsets` of `mapping` with `count` sites (only its place is checked).
    pub fn in_artifact(mapping: &Arc<ReadOnlyMapping>, offsets: usize, count: usize) -> Result<TrapTable> {
        let end = count.checked_mul(5).and_then(|n| n.checked_add(offsets));
        if end.and_then(|end| mapping.bytes().get(offsets..end)).is_none() {
            bail!("its trap table lies outside the file");
        }
        if !offsets.is_multiple_of(4) {
            bail!("its trap table is not aligned");
        }
        Ok(TrapTable::InArtifact { mapping: mapping.clone(), offsets, count })
    }

    /// The trap of the instruction at `offset`, if it is a site.
    pub fn lookup(&self, offset: u32) -> Option<Trap> {
        match self {
            TrapTable::Owned(sites) => {
                let i = sites.binary_search_by_key(&offset, |t| t.offset).ok()?;
                Some(sites[i].trap)
            }
            TrapTable::InArtifact { mapping, offsets, count } => {
                let bytes = &mapping.bytes()[*offsets..*offsets + count * 5];
                let at = |i: usize| u32::from_le_bytes(bytes[i * 4..i * 4 + 4].try_into().unwrap());
                let (mut lo, mut hi) = (0, *count);
                while lo < hi {
                    let mid = lo + (hi - lo) / 2;
                    match at(mid).cmp(&offset) {
                        std::cmp::Ordering::Less => lo = mid + 1,
                        std::cmp::Ordering::Greater => hi = mid,
                        std::cmp::Ordering::Equal => return Trap::from_code(bytes[count * 4 + mid]),
                    }
                }
                None
            }
        }
    }

    /// The sites, as a slice (borrowed when owned, collected when in an artifact); an
    /// unknown trap code in an artifact's table is an error.
    pub fn sites(&self) -> Result<Cow<'_, [TrapSite]>> {
        match self {
            TrapTable::Owned(sites) => Ok(Cow::Borrowed(sites)),
            TrapTable::InArtifact { mapping, offsets, count } => {
                let bytes = &mapping.bytes()[*offsets..*offsets + count * 5];
                let (offsets, codes) = bytes.split_at(count * 4);
                let sites = offsets
                    .chunks_exact(4)
                    .zip(codes)
                    .map(|(o, &c)| match Trap::from_code(c) {
                        Some(trap) => Ok(TrapSite { offset: u32::from_le_bytes(o.try_into().unwrap()), trap }),
                        None => bail!("the artifact's trap table holds an unknown trap code ({c})"),
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(Cow::Owned(sites))
            }
        }
    }
}
