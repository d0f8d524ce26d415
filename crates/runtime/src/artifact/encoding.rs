//! Little-endian byte encoding of an artifact's metadata: a writer that appends, and a
//! reader whose every read is bounds-checked and fails with a message instead of panicking,
//! because an artifact is input that may be truncated or damaged.

use anyhow::{Result, bail};

/// Appends values to a byte vector.
#[derive(Default)]
pub(crate) struct Writer {
    pub(crate) bytes: Vec<u8>,
}

impl Writer {
    #[inline]
    pub(crate) fn u8(&mut self, v: u8) {
        self.bytes.push(v);
    }

    #[inline]
    pub(crate) fn u32(&mut self, v: u32) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    #[inline]
    pub(crate) fn u64(&mut self, v: u64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    /// A length (as u64).
    #[inline]
    pub(crate) fn len(&mut self, n: usize) {
        self.u64(n as u64);
    }

    /// A string: its length, then its UTF-8 bytes.
    pub(crate) fn str(&mut self, s: &str) {
        self.len(s.len());
        self.bytes.extend_from_slice(s.as_bytes());
    }

    /// Pads with zeros to a multiple of `align`.
    pub(crate) fn align(&mut self, align: usize) {
        self.bytes.resize(self.bytes.len().next_multiple_of(align), 0);
    }
}

/// Reads values from a byte slice; `what` names the part read, for messages.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    #[inline]
    pub(crate) fn new(bytes: &'a [u8], what: &'static str) -> Reader<'a> {
        Reader { bytes, pos: 0, what }
    }

    /// The next `n` bytes.
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        match self.pos.checked_add(n).filter(|&end| end <= self.bytes.len()) {
            Some(end) => {
                let s = &self.bytes[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => bail!("its {} is cut short (a read of {n} bytes at offset {})", self.what, self.pos),
        }
    }

    #[inline]
    pub(crate) fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    #[inline]
    pub(crate) fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }

    #[inline]
    pub(crate) fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().unwrap()))
    }

    /// A length or offset, which must fit this machine's `usize`.
    pub(crate) fn len(&mut self) -> Result<usize> {
        let v = self.u64()?;
        usize::try_from(v).map_err(|_| anyhow::anyhow!("its {} holds a length too large: {v}", self.what))
    }

    pub(crate) fn str(&mut self) -> Result<&'a str> {
        let n = self.len()?;
        let bytes = self.take(n)?;
        std::str::from_utf8(bytes).map_err(|_| anyhow::anyhow!("its {} holds a string that is not UTF-8", self.what))
    }

    /// How many bytes were read.
    #[inline]
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// Fails unless every byte was read.
    pub(crate) fn finish(&self) -> Result<()> {
        if self.pos != self.bytes.len() {
            bail!("its {} has {} bytes left over", self.what, self.bytes.len() - self.pos);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_short_reads_fail() {
        let mut w = Writer::default();
        w.u8(7);
        w.u32(0xdead_beef);
        w.u64(u64::MAX - 1);
        w.str("weld");
        let mut r = Reader::new(&w.bytes, "test");
        assert_eq!(r.take(1).unwrap(), [7]);
        assert_eq!(r.u32().unwrap(), 0xdead_beef);
        assert_eq!(r.u64().unwrap(), u64::MAX - 1);
        assert_eq!(r.str().unwrap(), "weld");
        r.finish().unwrap();
        let mut short = Reader::new(&w.bytes[..3], "test");
        assert_eq!(short.take(1).unwrap(), [7]);
        assert!(short.u32().unwrap_err().to_string().contains("cut short"));
        // A huge length does not allocate or panic.
        let mut w = Writer::default();
        w.u64(u64::MAX);
        assert!(Reader::new(&w.bytes, "test").str().is_err());
    }
}
