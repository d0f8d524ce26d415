//! Strings in guest memory: the byte encoding and length of a string of tagged code units,
//! the range checks of the spec's `load_string_from_range`, UTF-8 validation (with a fast ASCII
//! path) and decoding. Storing strings is in `store.rs`.

use super::memory::{MAX_STRING_BYTE_LENGTH, Options, check_align, check_bounds, utf16_tag};
use anyhow::{Result, anyhow, bail};
use weld_environ::component::MemoryWidth;
use weld_environ::component::translate::StringEncoding;

/// How a string's bytes are encoded once the tag of a `latin1+utf16` string is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StringBytes {
    Utf8,
    Utf16,
    Latin1,
}

/// The first part of the spec's `load_string_from_range`: the byte encoding, alignment and
/// byte length of a string of `tagged_units` code units in `encoding`; `None` if it is longer
/// than `MAX_STRING_BYTE_LENGTH`.
pub(crate) fn string_bytes(
    encoding: StringEncoding,
    width: MemoryWidth,
    tagged_units: u64,
) -> Option<(StringBytes, u32, u64)> {
    let tag = utf16_tag(width);
    let (enc, align, byte_len) = match encoding {
        StringEncoding::Utf8 => (StringBytes::Utf8, 1, Some(tagged_units)),
        StringEncoding::Utf16 => (StringBytes::Utf16, 2, tagged_units.checked_mul(2)),
        StringEncoding::CompactUtf16 if tagged_units & tag != 0 => {
            (StringBytes::Utf16, 2, (tagged_units ^ tag).checked_mul(2))
        }
        StringEncoding::CompactUtf16 => (StringBytes::Latin1, 2, Some(tagged_units)),
    };
    byte_len.filter(|n| *n <= MAX_STRING_BYTE_LENGTH).map(|n| (enc, align, n))
}

/// Checks that the string bytes at `ptr` are valid UTF-8.
pub(crate) fn check_utf8(raw: &[u8], ptr: u64) -> Result<&str> {
    std::str::from_utf8(raw).map_err(|e| utf8_error(e, 0, ptr))
}

/// Checks that `raw`, found at `ptr`, is UTF-8, without making a `&str` of it: an ASCII
/// prefix is checked 64 bytes at a time (several times faster than `str::from_utf8` on long
/// ASCII strings), and the rest by `str::from_utf8`. Errors are those of [`check_utf8`].
pub(crate) fn validate_utf8(raw: &[u8], ptr: u64) -> Result<()> {
    const BLOCK: usize = 64;
    let mut ascii = 0;
    for block in raw.chunks_exact(BLOCK) {
        let mut bits = 0u64;
        for word in block.chunks_exact(8) {
            bits |= u64::from_le_bytes(word.try_into().expect("8-byte words"));
        }
        if bits & 0x8080_8080_8080_8080 != 0 {
            break;
        }
        ascii += BLOCK;
    }
    // The prefix ends after an ASCII byte, so the rest starts on a character boundary.
    std::str::from_utf8(&raw[ascii..]).map(|_| ()).map_err(|e| utf8_error(e, ascii, ptr))
}

/// The trap message for invalid UTF-8 found `offset` bytes into a string at `ptr`.
fn utf8_error(e: std::str::Utf8Error, offset: usize, ptr: u64) -> anyhow::Error {
    match e.error_len() {
        None => anyhow!("invalid utf-8: incomplete utf-8 byte sequence in the string at {ptr:#x}"),
        Some(_) => anyhow!("invalid utf-8 in the string at {ptr:#x} (byte {})", offset + e.valid_up_to()),
    }
}

/// Decodes the string bytes `raw` found at `ptr` (the end of `load_string_from_range`).
pub(crate) fn decode_string(raw: &[u8], enc: StringBytes, ptr: u64) -> Result<String> {
    match enc {
        StringBytes::Utf8 => check_utf8(raw, ptr).map(str::to_string),
        StringBytes::Utf16 => {
            let units = raw.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]]));
            char::decode_utf16(units)
                .map(|c| {
                    c.map_err(|e| {
                        anyhow!(
                            "invalid utf-16 in the string at {ptr:#x}: lone surrogate {:#x}",
                            e.unpaired_surrogate()
                        )
                    })
                })
                .collect()
        }
        StringBytes::Latin1 => Ok(raw.iter().map(|b| char::from(*b)).collect()),
    }
}

/// Decodes the string of `tagged_units` code units at `ptr` in the options' encoding.
pub(super) fn load_string(
    bytes: &[u8],
    opts: &Options,
    width: MemoryWidth,
    ptr: u64,
    tagged_units: u64,
) -> Result<String> {
    let (enc, range) = string_range(bytes.len(), opts, width, ptr, tagged_units)?;
    decode_string(&bytes[range], enc, ptr)
}

/// The spec's checks of `load_string_from_range` before decoding: the string of
/// `tagged_units` code units at `ptr` is within the length limit, aligned and inside a
/// memory of `mem_len` bytes. Returns its byte encoding and the range of its bytes.
pub(crate) fn string_range(
    mem_len: usize,
    opts: &Options,
    width: MemoryWidth,
    ptr: u64,
    tagged_units: u64,
) -> Result<(StringBytes, std::ops::Range<usize>)> {
    let Some((enc, align, byte_len)) = string_bytes(opts.string_encoding, width, tagged_units) else {
        bail!("string of {tagged_units:#x} code units is longer than {MAX_STRING_BYTE_LENGTH} bytes")
    };
    check_align(ptr, align)?;
    let Ok(at) = check_bounds(mem_len, "string", ptr, byte_len) else {
        bail!(
            "string pointer/length out of bounds of memory: {byte_len} bytes at {ptr:#x} do not fit in a memory \
             of {mem_len} bytes"
        )
    };
    Ok((enc, at..at + byte_len as usize))
}
