//! Trap kinds: the words both sides' traps are compared by. The worker names the kind of the
//! line of definitions.py that trapped; this names the kind of a weld error, from its
//! [`Trap`] and the check its message names ("list pointer ... is not aligned", "string
//! too long", "allocated for a list"), or from the test memory's own words.
//!
//! Kinds are finer than weld's traps (a misaligned string and a misaligned list are both
//! `UnalignedPointer`), so that a check made in the wrong order or on the wrong pointer shows.

use weld::Trap;

/// The kind of the weld error `e`, in the worker's words (`other: <message>` when it is not
/// a trap the oracle knows).
pub fn weld_kind(e: &anyhow::Error) -> String {
    let message = format!("{e:#}");
    if message.contains("test realloc: out of memory") {
        return "realloc-failed".into();
    }
    if message.contains("test handle table") {
        return "handle".into();
    }
    let noun =
        if message.contains("string pointer") || message.contains("for a string") || message.contains("string too") {
            "string"
        } else if message.contains("list pointer") || message.contains("for a list") || message.contains("list too") {
            "list"
        } else {
            "value"
        };
    let too_long = message.contains("too long");
    let trap = e.chain().find_map(|c| c.downcast_ref::<Trap>());
    match trap {
        Some(Trap::InvalidDiscriminant) => "invalid-discriminant".into(),
        Some(Trap::InvalidChar) => "invalid-char".into(),
        Some(Trap::InvalidUtf8 | Trap::InvalidUtf16) => "invalid-string".into(),
        Some(Trap::UnalignedPointer) => format!("misaligned:{noun}"),
        Some(Trap::PointerOutOfBounds | Trap::ListOutOfBounds | Trap::StringOutOfBounds) if too_long => {
            format!("too-long:{noun}")
        }
        Some(Trap::PointerOutOfBounds | Trap::ListOutOfBounds | Trap::StringOutOfBounds) => {
            format!("out-of-bounds:{noun}")
        }
        _ => format!("other: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::anyhow;

    #[test]
    fn kinds_name_the_pointee_and_the_check() {
        let trap = |t: Trap, m: &str| anyhow::Error::new(t).context(m.to_string());
        assert_eq!(weld_kind(&trap(Trap::UnalignedPointer, "list pointer 0x3 is not aligned to 4")), "misaligned:list");
        assert_eq!(
            weld_kind(&trap(Trap::UnalignedPointer, "realloc return: result not aligned: 0x3, allocated for a string")),
            "misaligned:string"
        );
        assert_eq!(weld_kind(&trap(Trap::StringOutOfBounds, "string too long: 0x10000000")), "too-long:string");
        assert_eq!(weld_kind(&trap(Trap::PointerOutOfBounds, "value pointer out of bounds")), "out-of-bounds:value");
        assert_eq!(weld_kind(&anyhow!("test realloc: out of memory")), "realloc-failed");
        assert!(weld_kind(&anyhow!("something else")).starts_with("other: "));
    }
}
