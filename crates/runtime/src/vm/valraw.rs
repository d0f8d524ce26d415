//! [`ValRaw`]: one slot of the array calling convention through which the host and wasm pass
//! values (entry and host trampolines read and write arrays of them).

/// One 16-byte slot of the array calling convention: the little-endian bytes of a value.
#[repr(C, align(16))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ValRaw(pub [u8; 16]);

impl ValRaw {
    /// A slot holding `v` in its low bytes.
    #[inline]
    pub fn u64(v: u64) -> ValRaw {
        let mut b = [0; 16];
        b[..8].copy_from_slice(&v.to_le_bytes());
        ValRaw(b)
    }
    /// The low 8 bytes.
    #[inline]
    pub fn get_u64(&self) -> u64 {
        u64::from_le_bytes(self.0[..8].try_into().unwrap())
    }
    /// A slot holding an `i32` (its low 4 bytes; the rest zero).
    #[inline]
    pub fn u32(v: u32) -> ValRaw {
        ValRaw::u64(u64::from(v))
    }
    /// The low 4 bytes, as an `i32` slot holds them.
    #[inline]
    pub fn get_u32(&self) -> u32 {
        u32::from_le_bytes(self.0[..4].try_into().unwrap())
    }
    /// A slot holding a whole `v128`.
    #[inline]
    pub fn v128(v: u128) -> ValRaw {
        ValRaw(v.to_le_bytes())
    }
    /// The whole slot as a `v128`.
    #[inline]
    pub fn get_v128(&self) -> u128 {
        u128::from_le_bytes(self.0)
    }
}

/// The first `n` slots of `inline` if it has that many, or else of `heap`, grown to `n`: the
/// value slots of one call, on the stack for small signatures.
#[inline]
pub fn call_slots<'a>(n: usize, inline: &'a mut [ValRaw], heap: &'a mut Vec<ValRaw>) -> &'a mut [ValRaw] {
    if n <= inline.len() {
        &mut inline[..n]
    } else {
        heap.resize(n, ValRaw::default());
        &mut heap[..]
    }
}
