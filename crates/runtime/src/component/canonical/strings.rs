//! Strings in guest memory: the byte encoding and length of a string of tagged code units,
//! the checks of the spec's `load_string_from_range` (length limit, alignment, bounds), UTF-8
//! validation (with a fast ASCII path) and decoding; each failure is the trap a fused adapter
//! raises for it. Storing strings is in `store.rs`.

use super::memory::{MemoryBounds, Options, Pointee, check_align, check_bounds, memory_name, utf16_tag};
use crate::trap::trap_with;
use anyhow::Result;
use weld_environ::Trap;
use weld_environ::component::adapt::CallSide;
use weld_environ::component::translate::StringEncoding;
use weld_environ::component::{MAX_STRING_BYTE_LENGTH, MemoryWidth};

/// How a string's bytes are encoded once the tag of a `latin1+utf16` string is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StringBytes {
    Utf8,
    Utf16,
    Latin1,
}

/// The alignment of a UTF-16 string: 2, or 1 with the `planted-abi-bug` feature (a fault
/// planted for tests of the fuzzing crate's reference oracle to catch).
const UTF16_ALIGN: u32 = if cfg!(feature = "planted-abi-bug") { 1 } else { 2 };

/// The first part of the spec's `load_string_from_range`: the byte encoding, alignment and
/// byte length of a string of `tagged_units` code units in `encoding`; `None` if it is longer
/// than `MAX_STRING_BYTE_LENGTH`.
fn string_bytes(encoding: StringEncoding, width: MemoryWidth, tagged_units: u64) -> Option<(StringBytes, u32, u64)> {
    let tag = utf16_tag(width);
    let (enc, align, byte_len) = match encoding {
        StringEncoding::Utf8 => (StringBytes::Utf8, 1, Some(tagged_units)),
        StringEncoding::Utf16 => (StringBytes::Utf16, UTF16_ALIGN, tagged_units.checked_mul(2)),
        StringEncoding::CompactUtf16 if tagged_units & tag != 0 => {
            (StringBytes::Utf16, 2, (tagged_units ^ tag).checked_mul(2))
        }
        StringEncoding::CompactUtf16 => (StringBytes::Latin1, 2, Some(tagged_units)),
    };
    byte_len.filter(|n| *n <= MAX_STRING_BYTE_LENGTH).map(|n| (enc, align, n))
}

/// Where a string is, for trap messages: its address, and whose memory holds it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StringAt {
    pub(crate) ptr: u64,
    pub(crate) side: Option<CallSide>,
}

/// Checks that the string bytes `raw`, found `at`, are valid UTF-8.
#[inline]
pub(crate) fn check_utf8(raw: &[u8], at: StringAt) -> Result<&str> {
    std::str::from_utf8(raw).map_err(|e| utf8_error(e, 0, at))
}

/// Checks that `raw`, found `at`, is UTF-8, without making a `&str` of it: an ASCII
/// prefix is checked 64 bytes at a time (several times faster than `str::from_utf8` on long
/// ASCII strings), and the rest by `str::from_utf8`. Errors are those of [`check_utf8`].
pub(crate) fn validate_utf8(raw: &[u8], at: StringAt) -> Result<()> {
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
    std::str::from_utf8(&raw[ascii..]).map(|_| ()).map_err(|e| utf8_error(e, ascii, at))
}

/// The trap for invalid UTF-8 found `offset` bytes into a string `at`.
fn utf8_error(e: std::str::Utf8Error, offset: usize, at: StringAt) -> anyhow::Error {
    let (ptr, memory) = (at.ptr, memory_name(at.side));
    let detail = match e.error_len() {
        None => format!("incomplete utf-8 byte sequence at the end of the string at {ptr:#x} in {memory}"),
        Some(_) => {
            format!("invalid utf-8 sequence at byte {} of the string at {ptr:#x} in {memory}", offset + e.valid_up_to())
        }
    };
    trap_with(Trap::InvalidUtf8, detail)
}

/// Decodes the string bytes `raw` found `at` (the end of `load_string_from_range`).
pub(crate) fn decode_string(raw: &[u8], enc: StringBytes, at: StringAt) -> Result<String> {
    match enc {
        StringBytes::Utf8 => check_utf8(raw, at).map(str::to_string),
        StringBytes::Utf16 => {
            let units = raw.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]]));
            char::decode_utf16(units)
                .map(|c| {
                    c.map_err(|e| {
                        let (ptr, memory) = (at.ptr, memory_name(at.side));
                        trap_with(
                            Trap::InvalidUtf16,
                            format!(
                                "lone surrogate {:#x} in the utf-16 string at {ptr:#x} in {memory}",
                                e.unpaired_surrogate()
                            ),
                        )
                    })
                })
                .collect()
        }
        StringBytes::Latin1 => Ok(raw.iter().map(|b| char::from(*b)).collect()),
    }
}

/// Decodes the string of `tagged_units` code units at `ptr` in the options' encoding.
#[inline]
pub(crate) fn load_string(
    bytes: &[u8],
    side: Option<CallSide>,
    opts: &Options,
    width: MemoryWidth,
    ptr: u64,
    tagged_units: u64,
) -> Result<String> {
    let mem = MemoryBounds { len: bytes.len(), side };
    let (enc, range) = string_range(mem, opts.string_encoding, width, ptr, tagged_units)?;
    decode_string(&bytes[range], enc, StringAt { ptr, side })
}

/// The spec's checks of `load_string_from_range` before decoding: the string of
/// `tagged_units` code units at `ptr` in `encoding` is within the length limit, aligned and
/// inside `mem`. Returns its byte encoding and the range of its bytes.
pub(crate) fn string_range(
    mem: MemoryBounds,
    encoding: StringEncoding,
    width: MemoryWidth,
    ptr: u64,
    tagged_units: u64,
) -> Result<(StringBytes, std::ops::Range<usize>)> {
    let Some((enc, align, byte_len)) = string_bytes(encoding, width, tagged_units) else {
        let memory = memory_name(mem.side);
        return Err(trap_with(
            Trap::StringOutOfBounds,
            format!(
                "string too long: {tagged_units:#x} tagged code units at {ptr:#x} in {memory} are more than \
                 MAX_STRING_BYTE_LENGTH ({MAX_STRING_BYTE_LENGTH} bytes)"
            ),
        ));
    };
    check_align(mem.side, Pointee::String, ptr, align)?;
    let at = check_bounds(mem, Pointee::String, ptr, byte_len)?;
    Ok((enc, at..at + byte_len as usize))
}
