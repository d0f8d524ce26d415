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

#![forbid(unsafe_code)]

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

/// The bytes a fuzz target builds its case from: `data` itself when it is long enough to
/// describe a case, otherwise 1 KiB of [`seeded_bytes`] seeded by a hash of `data`.
///
/// libFuzzer starts with inputs of a few bytes and lengthens them slowly; `arbitrary` fills
/// what is missing with zeros, so short inputs would all describe the same trivial case.
/// Expanding them makes every short input a distinct random case, while long inputs (from
/// the corpus, or grown by mutation) keep their structure.
pub fn fuzz_input(data: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    const LONG_ENOUGH: usize = 256;
    if data.len() >= LONG_ENOUGH {
        return std::borrow::Cow::Borrowed(data);
    }
    let seed = data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3));
    std::borrow::Cow::Owned(seeded_bytes(seed ^ data.len() as u64, 1024))
}
