//! Fuzzing weld: generators built on `arbitrary` and the oracles that check weld against
//! them, as a library shared by the cargo-fuzz targets in `fuzz/` and by seeded runs under
//! `cargo test`.
//!
//! - [`types`]: interface types of bounded depth and size, and their component text.
//! - [`values`]: values of a given type.
//! - [`oracles`]: properties that must hold for any generated input; each returns an error
//!   describing the input when one does not.
//!
//! Nothing here is part of weld's product; it only drives it.

pub mod oracles;
pub mod types;
pub mod values;

/// Bytes for [`arbitrary::Unstructured`] from a seed, for deterministic runs under
/// `cargo test` (a xorshift generator; no dependency on a random crate).
pub fn seeded_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 32) as u8
        })
        .collect()
}
