//! The `-O` and `-W` option groups of `weld run` (and the item syntax `-S` shares, see
//! `wasi_host.rs`), spelled as Wasmtime spells them:
//! each takes `KEY[=VALUE]` items, several per option when separated by commas
//! (`-W unknown-imports-trap=y,nan-canonicalization`), and the option repeats.
//!
//! Only the keys weld acts on are accepted; any other key is an error that lists the ones it
//! knows, so a flag copied from a Wasmtime command line is never silently ignored. Keys that
//! name a Wasmtime feature weld does not have yet are refused with that reason.

use anyhow::{Result, anyhow, bail};

/// One `KEY[=VALUE]` item of an option group, with the option it came from for messages.
#[derive(Debug, PartialEq)]
pub(crate) struct Item<'a> {
    group: char,
    pub(crate) key: &'a str,
    value: Option<&'a str>,
}

impl Item<'_> {
    /// The value as a boolean: a bare key, `y`, `yes` or `true` is true; `n`, `no`, `false`
    /// is false.
    pub(crate) fn bool(&self) -> Result<bool> {
        match self.value {
            None | Some("y" | "yes" | "true") => Ok(true),
            Some("n" | "no" | "false") => Ok(false),
            Some(other) => bail!("-{} {}: expected y or n, found `{other}`", self.group, self.key),
        }
    }

    /// The value, which must be given.
    pub(crate) fn value(&self) -> Result<&str> {
        self.value.ok_or_else(|| anyhow!("-{} {} needs a value: `-{0} {1}=VALUE`", self.group, self.key))
    }
}

/// Splits every occurrence of option `group` into its items.
pub(crate) fn items(group: char, occurrences: &[String]) -> impl Iterator<Item = Item<'_>> {
    occurrences.iter().flat_map(|o| o.split(',')).map(str::trim).filter(|s| !s.is_empty()).map(move |item| {
        match item.split_once('=') {
            Some((key, value)) => Item { group, key: key.trim(), value: Some(value.trim()) },
            None => Item { group, key: item, value: None },
        }
    })
}

/// An error for a key the group does not know, listing the ones it does.
pub(crate) fn unknown(item: &Item<'_>, known: &[&str]) -> anyhow::Error {
    anyhow!("-{} {}: unknown option; the options weld knows here are: {}", item.group, item.key, known.join(", "))
}

/// The settings the option groups give `weld run`.
#[derive(Debug, Default, PartialEq)]
pub struct RunSettings {
    /// `-O opt-level=0|1|2|s`.
    pub opt_level: Option<weld::OptLevel>,
    /// `-W nan-canonicalization`.
    pub nan_canonicalization: Option<bool>,
    /// `-W max-wasm-stack=N`.
    pub max_wasm_stack: Option<usize>,
    /// `-W unknown-imports-trap`: imports nobody defines become functions that trap.
    pub unknown_imports_trap: bool,
    /// `-W unknown-imports-default`: imports nobody defines return default values.
    pub unknown_imports_default: bool,
}

/// The `-W` keys that turn on a Wasm feature weld always has; they are accepted and checked.
const ALWAYS_ON: &[&str] =
    &["component-model", "multi-value", "bulk-memory", "reference-types", "multi-memory", "memory64", "tail-call"];

/// `-W` keys of Wasmtime that weld does not implement yet, with the reason given to the user.
const NOT_YET: &[(&str, &str)] = &[
    ("fuel", "fuel metering is not implemented yet"),
    ("epoch-interruption", "epoch interruption is not implemented yet"),
    ("timeout", "timeouts need epoch interruption, which is not implemented yet"),
    ("component-model-async", "component-model async is not implemented yet"),
    ("exceptions", "exception handling is not implemented yet"),
    ("gc", "garbage-collected types are not implemented yet"),
    ("threads", "threads are not implemented yet"),
    ("relaxed-simd", "relaxed SIMD is not implemented yet"),
];

impl RunSettings {
    /// Reads the `-O` and `-W` options (each occurrence as given on the command line).
    pub fn parse(optimize: &[String], wasm: &[String]) -> Result<RunSettings> {
        let mut s = RunSettings::default();
        for item in items('O', optimize) {
            match item.key {
                "opt-level" => {
                    s.opt_level = Some(match item.value()? {
                        "0" => weld::OptLevel::None,
                        "1" | "2" => weld::OptLevel::Speed,
                        "s" => weld::OptLevel::SpeedAndSize,
                        other => bail!("-O opt-level: expected 0, 1, 2 or s, found `{other}`"),
                    })
                }
                _ => return Err(unknown(&item, &["opt-level"])),
            }
        }
        for item in items('W', wasm) {
            match item.key {
                "nan-canonicalization" => s.nan_canonicalization = Some(item.bool()?),
                "max-wasm-stack" => {
                    let text = item.value()?;
                    s.max_wasm_stack =
                        Some(text.parse().map_err(|_| anyhow!("-W max-wasm-stack: `{text}` is not a size in bytes"))?);
                }
                "unknown-imports-trap" => s.unknown_imports_trap = item.bool()?,
                "unknown-imports-default" => s.unknown_imports_default = item.bool()?,
                "simd" => {
                    if !item.bool()? {
                        bail!("-W simd=n: weld cannot turn SIMD off");
                    }
                }
                key if ALWAYS_ON.contains(&key) => {
                    if !item.bool()? {
                        bail!("-W {key}=n: weld always has {key} and cannot turn it off");
                    }
                }
                key => {
                    if let Some((_, why)) = NOT_YET.iter().find(|(k, _)| *k == key) {
                        bail!("-W {key}: {why} in weld");
                    }
                    let mut known = vec![
                        "nan-canonicalization",
                        "max-wasm-stack",
                        "unknown-imports-trap",
                        "unknown-imports-default",
                        "simd",
                    ];
                    known.extend(ALWAYS_ON);
                    return Err(unknown(&item, &known));
                }
            }
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(o: &[&str], w: &[&str]) -> Result<RunSettings> {
        let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        RunSettings::parse(&own(o), &own(w))
    }

    #[test]
    fn groups_split_on_commas_and_repeat() {
        let s =
            parse(&["opt-level=0"], &["unknown-imports-trap=y,nan-canonicalization", "max-wasm-stack=65536"]).unwrap();
        assert_eq!(s.opt_level, Some(weld::OptLevel::None));
        assert!(s.unknown_imports_trap);
        assert!(!s.unknown_imports_default);
        assert_eq!(s.nan_canonicalization, Some(true));
        assert_eq!(s.max_wasm_stack, Some(65536));
        assert!(!parse(&[], &["unknown-imports-default=no"]).unwrap().unknown_imports_default);
        assert!(parse(&[], &["unknown-imports-default"]).unwrap().unknown_imports_default);
    }

    #[test]
    fn bad_items_are_named() {
        let err = |o: &[&str], w: &[&str]| parse(o, w).unwrap_err().to_string();
        assert_eq!(
            err(&[], &["unknown-imports-trap=maybe"]),
            "-W unknown-imports-trap: expected y or n, found `maybe`"
        );
        assert!(
            err(&[], &["frobnicate"])
                .starts_with("-W frobnicate: unknown option; the options weld knows here are: nan-canonicalization,")
        );
        assert_eq!(err(&[], &["fuel=100"]), "-W fuel: fuel metering is not implemented yet in weld");
        assert_eq!(err(&["opt-level=3"], &[]), "-O opt-level: expected 0, 1, 2 or s, found `3`");
        assert_eq!(err(&["opt-level"], &[]), "-O opt-level needs a value: `-O opt-level=VALUE`");
        assert_eq!(err(&[], &["memory64=n"]), "-W memory64=n: weld always has memory64 and cannot turn it off");
    }
}
