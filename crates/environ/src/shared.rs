//! [`SharedBytes`]: bytes that a module description holds (data segments, function names)
//! without owning a copy of them, and [`FuncNames`], the name section's function names kept
//! as two such byte strings.
//!
//! A module loaded from an ahead-of-time artifact refers to these bytes where they lie in
//! the artifact's mapping instead of copying them: a large module has megabytes of data and
//! tens of thousands of names, and loading it should cost only what it reads. A translated
//! module owns its bytes the same way (one shared buffer per part). Nothing here interprets
//! the bytes until asked, and every access is bounds-checked, so bytes from a damaged file
//! give wrong names or contents, never a panic.

use crate::FuncIndex;
use std::ops::{Deref, Range};
use std::sync::Arc;

/// Immutable bytes, cheap to clone: a range of a shared owner.
#[derive(Clone)]
pub struct SharedBytes {
    owner: Arc<dyn AsRef<[u8]> + Send + Sync>,
    range: Range<usize>,
}

impl SharedBytes {
    /// The bytes at `range` of `owner`, or `None` when `range` lies outside them.
    pub fn new(owner: Arc<dyn AsRef<[u8]> + Send + Sync>, range: Range<usize>) -> Option<SharedBytes> {
        let len = (*owner).as_ref().len();
        (range.start <= range.end && range.end <= len).then_some(SharedBytes { owner, range })
    }

    /// The bytes.
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        // The owner's bytes never change length (they are immutable), so the range checked
        // at construction still holds; `get` keeps this total anyway.
        (*self.owner).as_ref().get(self.range.clone()).unwrap_or(&[])
    }
}

impl Default for SharedBytes {
    #[inline]
    fn default() -> Self {
        SharedBytes::from(Vec::new())
    }
}

impl From<Vec<u8>> for SharedBytes {
    #[inline]
    fn from(bytes: Vec<u8>) -> Self {
        let range = 0..bytes.len();
        SharedBytes { owner: Arc::new(bytes), range }
    }
}

impl From<&[u8]> for SharedBytes {
    #[inline]
    fn from(bytes: &[u8]) -> Self {
        SharedBytes::from(bytes.to_vec())
    }
}

impl Deref for SharedBytes {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        self.bytes()
    }
}

impl std::fmt::Debug for SharedBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SharedBytes({} bytes)", self.range.len())
    }
}

/// Function names from the name section: an index of `(function index, end of its name)`
/// pairs (little-endian `u32`s, sorted by function index), and the names one after another.
/// Looking a name up is a binary search; nothing is decoded before that.
#[derive(Clone, Debug, Default)]
pub struct FuncNames {
    index: SharedBytes,
    text: SharedBytes,
}

impl FuncNames {
    /// Builds the table of `names` (pairs in any order; of two names for one function the
    /// later wins).
    pub fn from_pairs(mut names: Vec<(u32, &str)>) -> FuncNames {
        // A stable sort keeps the order of duplicates; keep the last of each run.
        names.sort_by_key(|(f, _)| *f);
        let mut index = Vec::with_capacity(names.len() * 8);
        let mut text = Vec::new();
        for (i, (f, name)) in names.iter().enumerate() {
            if names.get(i + 1).is_some_and(|(next, _)| next == f) {
                continue;
            }
            text.extend_from_slice(name.as_bytes());
            index.extend_from_slice(&f.to_le_bytes());
            index.extend_from_slice(&u32::try_from(text.len()).unwrap_or(u32::MAX).to_le_bytes());
        }
        FuncNames { index: index.into(), text: text.into() }
    }

    /// The table whose parts are `index` and `text` (as [`FuncNames::parts`] gives them).
    /// They are not checked: a lookup in a malformed table finds no name or a wrong one.
    #[inline]
    pub fn from_parts(index: SharedBytes, text: SharedBytes) -> FuncNames {
        FuncNames { index, text }
    }

    /// The index and the text.
    #[inline]
    pub fn parts(&self) -> (&SharedBytes, &SharedBytes) {
        (&self.index, &self.text)
    }

    /// The number of names.
    #[inline]
    pub fn len(&self) -> usize {
        self.index.len() / 8
    }

    /// Whether there are none.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entry `i`: a function index and the end of its name.
    #[inline]
    fn entry(&self, i: usize) -> (u32, u32) {
        let word = |at: usize| {
            let b = self.index.get(at..at + 4).and_then(|b| <[u8; 4]>::try_from(b).ok()).unwrap_or([0; 4]);
            u32::from_le_bytes(b)
        };
        (word(i * 8), word(i * 8 + 4))
    }

    /// The name of function `f`, if it has one.
    pub fn get(&self, f: FuncIndex) -> Option<&str> {
        let f = f.as_u32();
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let (g, end) = self.entry(mid);
            match g.cmp(&f) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => {
                    let start = if mid == 0 { 0 } else { self.entry(mid - 1).1 };
                    let bytes = self.text.get(start as usize..end as usize)?;
                    return std::str::from_utf8(bytes).ok();
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EntityRef;

    #[test]
    fn names_are_found_and_the_last_of_duplicates_wins() {
        let names = FuncNames::from_pairs(vec![(3, "c"), (1, "a"), (3, "d"), (7, "ü")]);
        assert_eq!(names.len(), 3);
        assert_eq!(names.get(FuncIndex::new(1)), Some("a"));
        assert_eq!(names.get(FuncIndex::new(3)), Some("d"));
        assert_eq!(names.get(FuncIndex::new(7)), Some("ü"));
        assert_eq!(names.get(FuncIndex::new(2)), None);
        // Garbage finds nothing, or something, but never panics.
        let garbage = FuncNames::from_parts(vec![9u8; 13].into(), vec![0xff; 3].into());
        for f in 0..20 {
            let _ = garbage.get(FuncIndex::new(f));
        }
        assert!(SharedBytes::new(Arc::new(vec![1u8, 2]), 1..3).is_none());
    }
}
