//! The `-O` and `-W` option groups of `weld run` (and the item syntax `-S` shares, see
//! `wasi_host.rs`), spelled as Wasmtime spells them:
//! each takes `KEY[=VALUE]` items, several per option when separated by commas
//! (`-W unknown-imports-trap=y,nan-canonicalization`), and the option repeats.
//!
//! Only the keys weld acts on are accepted; any other key is an error that lists the ones it
//! knows, so a flag copied from a Wasmtime command line is never silently ignored. Keys that
//! name a Wasmtime feature weld does not have yet are refused with that reason.

use anyhow::{Result, anyhow, bail};
use std::time::Duration;

/// The option groups `weld run` and `weld serve` share: `-O`, `-W`, `-S`, `--dir`, `--env`.
#[derive(clap::Args)]
pub struct HostOptions {
    /// Optimization options, `KEY=VALUE[,...]`: `opt-level=0|1|2|s`.
    #[arg(short = 'O', long = "optimize", value_name = "KEY=VAL[,..]")]
    pub optimize: Vec<String>,
    /// Wasm options, `KEY[=VALUE][,...]`: `unknown-imports-trap[=y|n]` (imports nobody
    /// defines trap when called), `unknown-imports-default[=y|n]` (they return default
    /// values), `nan-canonicalization[=y|n]`, `max-wasm-stack=BYTES`, `fuel=N` (trap once the
    /// guest consumed N units of fuel), `timeout=DURATION` (trap after `10s`, `500ms`, ...; a
    /// bare number is seconds), `epoch-interruption[=y|n]` (without a timeout the guest traps
    /// at once, as in Wasmtime), `max-memory-size=BYTES` and `max-table-elements=N` (each
    /// memory's and table's bound: growing beyond returns -1), `max-instances=N`,
    /// `max-tables=N`, `max-memories=N` (the store's bounds), `trap-on-grow-failure[=y|n]`,
    /// and the always-on features (`component-model`, `multi-memory`, `memory64`, ...).
    /// `weld serve` applies the bounds, fuel and timeout to each request.
    #[arg(short = 'W', long = "wasm", value_name = "KEY[=VAL][,..]")]
    pub wasm: Vec<String>,
    /// WASI options, `KEY[=VALUE][,...]`: `inherit-env`, `inherit-network`, `tcp`, `udp`,
    /// `allow-ip-name-lookup`, `inherit-stdin=n`, `cli=n`, `http`, `allow-http=HOST:PORT`, ...;
    /// `-S help` lists them all.
    #[arg(short = 'S', long = "wasi", value_name = "KEY[=VAL][,..]")]
    pub wasi: Vec<String>,
    /// Gives the guest a host directory: `HOST_DIR` under the same name, or `HOST_DIR::GUEST_DIR`
    /// under another. Repeatable.
    #[arg(long = "dir", value_name = "HOST_DIR[::GUEST_DIR]")]
    pub dirs: Vec<String>,
    /// Gives the guest an environment variable: `NAME=VALUE`, or `NAME` for the value weld
    /// itself has (none if it has none). Repeatable.
    #[arg(long = "env", value_name = "NAME[=VAL]")]
    pub envs: Vec<String>,
}

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
    /// `-W fuel=N`: consume fuel, and give the store N units.
    pub fuel: Option<u64>,
    /// `-W epoch-interruption`: compile with epoch checks (without `timeout`, the store's
    /// deadline stays 0, so the guest traps at its first check, as in Wasmtime).
    pub epoch_interruption: Option<bool>,
    /// `-W timeout=DURATION`: interrupt the guest after this long (epoch interruption, one
    /// tick after the duration).
    pub timeout: Option<Duration>,
    /// `-W max-memory-size=BYTES`: the most bytes each linear memory may reach.
    pub max_memory_size: Option<usize>,
    /// `-W max-table-elements=N`: the most elements each table may reach.
    pub max_table_elements: Option<usize>,
    /// `-W max-instances=N`: the most instances the store may create.
    pub max_instances: Option<usize>,
    /// `-W max-tables=N`: the most tables the store may create.
    pub max_tables: Option<usize>,
    /// `-W max-memories=N`: the most memories the store may create.
    pub max_memories: Option<usize>,
    /// `-W trap-on-grow-failure`: a failing `memory.grow` or `table.grow` traps.
    pub trap_on_grow_failure: bool,
    /// `-W simd`: the SIMD proposal (on unless turned off).
    pub simd: Option<bool>,
    /// `-W relaxed-simd`: the relaxed-SIMD proposal (on unless turned off).
    pub relaxed_simd: Option<bool>,
    /// `-W relaxed-simd-deterministic`: relaxed-SIMD operators behave the same on every host.
    pub relaxed_simd_deterministic: Option<bool>,
    /// `-W exceptions`: exception handling (on unless turned off).
    pub exceptions: Option<bool>,
}

impl RunSettings {
    /// The store limits the `-W max-*` and `trap-on-grow-failure` keys ask for (Wasmtime's
    /// defaults for the others).
    pub fn store_limits(&self) -> weld::StoreLimits {
        let mut b = weld::StoreLimitsBuilder::new().trap_on_grow_failure(self.trap_on_grow_failure);
        if let Some(n) = self.max_memory_size {
            b = b.memory_size(n);
        }
        if let Some(n) = self.max_table_elements {
            b = b.table_elements(n);
        }
        if let Some(n) = self.max_instances {
            b = b.instances(n);
        }
        if let Some(n) = self.max_tables {
            b = b.tables(n);
        }
        if let Some(n) = self.max_memories {
            b = b.memories(n);
        }
        b.build()
    }
}

/// Where in the settings a `-W` count goes.
type CountField = fn(&mut RunSettings) -> &mut Option<usize>;

/// The `-W` keys that take a count or a size in bytes, with the field each sets.
const COUNT_KEYS: &[(&str, CountField)] = &[
    ("max-memory-size", |s| &mut s.max_memory_size),
    ("max-table-elements", |s| &mut s.max_table_elements),
    ("max-instances", |s| &mut s.max_instances),
    ("max-tables", |s| &mut s.max_tables),
    ("max-memories", |s| &mut s.max_memories),
];

/// The `-W` keys that turn on a Wasm feature weld always has; they are accepted and checked.
const ALWAYS_ON: &[&str] =
    &["component-model", "multi-value", "bulk-memory", "reference-types", "multi-memory", "memory64", "tail-call"];

/// `-W` keys of Wasmtime that weld does not implement yet, with the reason given to the user.
const NOT_YET: &[(&str, &str)] = &[
    ("component-model-async", "component-model async is not implemented yet"),
    ("gc", "garbage-collected types are not implemented yet"),
    ("threads", "threads are not implemented yet"),
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
                "fuel" => {
                    let text = item.value()?;
                    s.fuel =
                        Some(text.parse().map_err(|_| anyhow!("-W fuel: `{text}` is not a number of fuel units"))?);
                }
                "epoch-interruption" => s.epoch_interruption = Some(item.bool()?),
                "trap-on-grow-failure" => s.trap_on_grow_failure = item.bool()?,
                key if COUNT_KEYS.iter().any(|(k, _)| *k == key) => {
                    let text = item.value()?;
                    let field = COUNT_KEYS.iter().find(|(k, _)| *k == key).map(|(_, f)| f).expect("found above");
                    *field(&mut s) =
                        Some(parse_count(text).ok_or_else(|| anyhow!("-W {key}: `{text}` is not a whole number"))?);
                }
                "timeout" => s.timeout = Some(parse_duration(item.value()?)?),
                "simd" => s.simd = Some(item.bool()?),
                "relaxed-simd" => s.relaxed_simd = Some(item.bool()?),
                "relaxed-simd-deterministic" => s.relaxed_simd_deterministic = Some(item.bool()?),
                "exceptions" => s.exceptions = Some(item.bool()?),
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
                        "fuel",
                        "epoch-interruption",
                        "timeout",
                        "trap-on-grow-failure",
                        "simd",
                        "relaxed-simd",
                        "relaxed-simd-deterministic",
                        "exceptions",
                    ];
                    known.extend(COUNT_KEYS.iter().map(|(k, _)| *k));
                    known.extend(ALWAYS_ON);
                    return Err(unknown(&item, &known));
                }
            }
        }
        Ok(s)
    }
}

/// A whole number, decimal or `0x` hexadecimal, with `_` between digits allowed.
fn parse_count(text: &str) -> Option<usize> {
    let digits = text.replace('_', "");
    match digits.strip_prefix("0x") {
        Some(hex) => usize::from_str_radix(hex, 16).ok(),
        None => digits.parse().ok(),
    }
}

/// A duration as Wasmtime writes it: `N` (seconds), `Ns`, `Nms`, `Nus` (or `Nμs`) or `Nns`,
/// with N a whole number.
fn parse_duration(text: &str) -> Result<Duration> {
    let number = |digits: &str| digits.parse::<u64>().ok();
    let parsed = number(text)
        .map(Duration::from_secs)
        .or_else(|| text.strip_suffix("ns").and_then(number).map(Duration::from_nanos))
        .or_else(|| text.strip_suffix("us").or(text.strip_suffix("μs")).and_then(number).map(Duration::from_micros))
        .or_else(|| text.strip_suffix("ms").and_then(number).map(Duration::from_millis))
        .or_else(|| text.strip_suffix('s').and_then(number).map(Duration::from_secs));
    parsed.ok_or_else(|| {
        anyhow!("-W timeout: `{text}` is not a duration; write N or Ns (seconds), Nms, Nus or Nns, e.g. 10s or 500ms")
    })
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
        assert_eq!(err(&[], &["threads"]), "-W threads: threads are not implemented yet in weld");
        assert_eq!(err(&[], &["fuel=lots"]), "-W fuel: `lots` is not a number of fuel units");
        assert_eq!(err(&[], &["fuel"]), "-W fuel needs a value: `-W fuel=VALUE`");
        assert_eq!(
            err(&[], &["timeout=2m"]),
            "-W timeout: `2m` is not a duration; write N or Ns (seconds), Nms, Nus or Nns, e.g. 10s or 500ms"
        );
        assert_eq!(err(&["opt-level=3"], &[]), "-O opt-level: expected 0, 1, 2 or s, found `3`");
        assert_eq!(err(&["opt-level"], &[]), "-O opt-level needs a value: `-O opt-level=VALUE`");
        assert_eq!(err(&[], &["memory64=n"]), "-W memory64=n: weld always has memory64 and cannot turn it off");
    }

    #[test]
    fn simd_switches() {
        let s = parse(&[], &["simd=n,relaxed-simd=n", "relaxed-simd-deterministic"]).unwrap();
        assert_eq!((s.simd, s.relaxed_simd, s.relaxed_simd_deterministic), (Some(false), Some(false), Some(true)));
        let s = parse(&[], &[]).unwrap();
        assert_eq!((s.simd, s.relaxed_simd, s.relaxed_simd_deterministic), (None, None, None));
        assert_eq!(parse(&[], &["exceptions=n"]).unwrap().exceptions, Some(false));
    }

    #[test]
    fn store_limits() {
        let s =
            parse(&[], &["max-memory-size=0x400_0000,max-instances=7", "trap-on-grow-failure,max-tables=2"]).unwrap();
        assert_eq!(s.max_memory_size, Some(64 << 20));
        assert_eq!((s.max_instances, s.max_tables, s.max_memories), (Some(7), Some(2), None));
        assert!(s.trap_on_grow_failure);
        let err = parse(&[], &["max-memories=lots"]).unwrap_err().to_string();
        assert_eq!(err, "-W max-memories: `lots` is not a whole number");
        assert_eq!(
            parse(&[], &["max-table-elements"]).unwrap_err().to_string(),
            "-W max-table-elements needs a value: `-W max-table-elements=VALUE`"
        );
    }

    #[test]
    fn fuel_and_timeouts() {
        let s = parse(&[], &["fuel=1000,timeout=200ms"]).unwrap();
        assert_eq!(s.fuel, Some(1000));
        assert_eq!(s.timeout, Some(Duration::from_millis(200)));
        assert_eq!(s.epoch_interruption, None);
        assert_eq!(parse(&[], &["epoch-interruption"]).unwrap().epoch_interruption, Some(true));
        // Wasmtime's duration syntax: a bare number is seconds.
        for (text, duration) in [
            ("10", Duration::from_secs(10)),
            ("10s", Duration::from_secs(10)),
            ("500ms", Duration::from_millis(500)),
            ("7us", Duration::from_micros(7)),
            ("7μs", Duration::from_micros(7)),
            ("9ns", Duration::from_nanos(9)),
        ] {
            assert_eq!(parse_duration(text).unwrap(), duration, "{text}");
        }
        for bad in ["", "s", "1.5s", "2m", "1h", "-1", "10 s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
