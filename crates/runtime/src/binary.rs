//! [`Binary`]: the WebAssembly binary a component or module was compiled from, shared
//! without copying: a component's core modules are parts of the component's binary, and a
//! deserialized component's binary stays in the artifact's mapping.
//!
//! A component keeps its binary so that it can be serialized: a component's artifact holds
//! it, and loading translates it again (function bodies are neither validated nor compiled)
//! and takes the compiled code from the artifact. A module does not keep its binary once it
//! is compiled: its artifact holds its translated description instead
//! (`artifact/module_meta.rs`), which loads without translating anything.

use crate::vm::mmap::ReadOnlyMapping;
use anyhow::{Result, bail};
use std::ops::Range;
use std::sync::Arc;

/// Bytes of a WebAssembly binary, cheap to clone.
#[derive(Clone)]
pub(crate) struct Binary {
    backing: Arc<Backing>,
    range: Range<usize>,
}

enum Backing {
    /// Bytes of its own.
    Owned(Box<[u8]>),
    /// Bytes inside an artifact's mapping.
    Artifact(Arc<ReadOnlyMapping>),
}

impl Binary {
    /// A binary holding `bytes`.
    #[inline]
    pub(crate) fn owned(bytes: impl Into<Box<[u8]>>) -> Binary {
        let bytes = bytes.into();
        let range = 0..bytes.len();
        Binary { backing: Arc::new(Backing::Owned(bytes)), range }
    }

    /// The binary of a file's contents: `bytes` themselves when they are a binary (no copy),
    /// or the binary that `bytes` describe as text; `what` names it in the error.
    pub(crate) fn from_text_or_binary(bytes: Vec<u8>, what: &str) -> Result<Binary> {
        let parsed = match wat::parse_bytes(&bytes) {
            Ok(std::borrow::Cow::Borrowed(_)) => None,
            Ok(std::borrow::Cow::Owned(parsed)) => Some(parsed),
            Err(e) => return Err(anyhow::Error::from(e).context(format!("failed to parse the {what} text"))),
        };
        Ok(Binary::owned(parsed.unwrap_or(bytes)))
    }

    /// The bytes at `range` of an artifact's mapping.
    pub(crate) fn in_artifact(mapping: &Arc<ReadOnlyMapping>, range: Range<usize>) -> Result<Binary> {
        if range.end > mapping.bytes().len() || range.start > range.end {
            bail!("the binary's range {range:?} lies outside the artifact");
        }
        Ok(Binary { backing: Arc::new(Backing::Artifact(mapping.clone())), range })
    }

    /// The bytes.
    #[inline]
    pub(crate) fn bytes(&self) -> &[u8] {
        let all: &[u8] = match &*self.backing {
            Backing::Owned(b) => b,
            Backing::Artifact(m) => m.bytes(),
        };
        &all[self.range.clone()]
    }

    /// The part of this binary that `part` is (a slice of [`Binary::bytes`]), sharing its
    /// storage.
    pub(crate) fn part(&self, part: &[u8]) -> Result<Binary> {
        let whole = self.bytes();
        let start = (part.as_ptr() as usize).wrapping_sub(whole.as_ptr() as usize);
        if start > whole.len() || whole.len() - start < part.len() {
            bail!("bug: a nested module's bytes are not part of the component's binary");
        }
        let start = self.range.start + start;
        Ok(Binary { backing: self.backing.clone(), range: start..start + part.len() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_shares_and_is_checked() {
        let b = Binary::owned(vec![1u8, 2, 3, 4, 5]);
        let part = b.part(&b.bytes()[1..4]).unwrap();
        assert_eq!(part.bytes(), &[2, 3, 4]);
        let inner = part.part(&part.bytes()[1..]).unwrap();
        assert_eq!(inner.bytes(), &[3, 4]);
        let elsewhere = [2u8, 3];
        assert!(b.part(&elsewhere).is_err());
    }
}
