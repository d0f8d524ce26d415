//! `weld abi`: the canonical ABI of a type, for toolchain authors: its layout (size,
//! alignment, field offsets, flat types, for 32- and 64-bit memories), what a value becomes
//! (`lower`: its flat values and the bytes `store` writes, with every `realloc` call), and
//! what flat values or bytes lift to (`lift`: the value in WAVE, or the trap and why).
//!
//! It runs weld's own host-side canonical ABI (`weld::component::canonical`) over a scratch
//! memory, so it answers with exactly what weld does; the reference-oracle tests
//! (crates/fuzzing) check that against the spec's `definitions.py`. Types are written as weld
//! prints them (`record { a: u8, b: string }`, WIT's type expressions with inline aggregates),
//! values in WAVE.

use crate::wave;
use anyhow::{Context as _, Result, bail};
use clap::Args;
use weld::component::canonical::{self, GuestMemory};
use weld::component::{InterfaceType, Val};
use weld_environ::component::translate::StringEncoding;
use weld_environ::component::{FlatType, MAX_FLAT_PARAMS, MemoryWidth, flatten};

/// `weld abi`'s arguments.
#[derive(Args)]
#[command(
    override_usage = "weld abi TYPE\n       weld abi lower TYPE VALUE\n       weld abi lift TYPE (--flat V,.. | --bytes HEX)",
    after_help = "Examples:\n  \
    weld abi 'record { a: u8, b: string }'\n  \
    weld abi lower 'list<u16>' '[1, 2]'\n  \
    weld abi lift 'option<char>' --flat 1,0xd800\n  \
    weld abi lift 'tuple<u8, u32>' --bytes '07 00 00 00 2a 00 00 00'"
)]
pub struct AbiCommand {
    /// `TYPE`, or `lower TYPE VALUE`, or `lift TYPE`.
    #[arg(required = true, num_args = 1..=3, value_name = "ARGS")]
    args: Vec<String>,
    /// For `lift`: the flat core values, comma-separated (integers in decimal or 0x hex,
    /// floats in decimal).
    #[arg(long, value_name = "V,..")]
    flat: Option<String>,
    /// For `lift`: the memory's bytes from address 0, in hex (spaces allowed); without
    /// `--flat`, the value is loaded from address 0.
    #[arg(long, value_name = "HEX")]
    bytes: Option<String>,
    /// The string encoding: `utf8` (default), `utf16` or `latin1+utf16`.
    #[arg(long, default_value = "utf8")]
    encoding: String,
    /// Use a 64-bit memory (memory64) for `lower` and `lift`.
    #[arg(long)]
    memory64: bool,
}

/// Runs `weld abi`, printing to a string (returned, so that tests can check it).
pub fn abi(cmd: &AbiCommand) -> Result<String> {
    let (mode, rest) = match cmd.args[0].as_str() {
        "lower" | "lift" => (cmd.args[0].as_str(), &cmd.args[1..]),
        _ => ("layout", &cmd.args[..]),
    };
    let ty_text = rest.first().context("no type given")?;
    let ty: InterfaceType = ty_text.parse().with_context(|| format!("`{ty_text}` is not a type"))?;
    let encoding = match cmd.encoding.as_str() {
        "utf8" => StringEncoding::Utf8,
        "utf16" => StringEncoding::Utf16,
        "latin1+utf16" => StringEncoding::CompactUtf16,
        other => bail!("--encoding {other}: expected utf8, utf16 or latin1+utf16"),
    };
    let opts = canonical::Options { string_encoding: encoding, lift_bytes: false };
    match (mode, rest.len()) {
        ("layout", 1) => Ok(layout(&ty)),
        ("lower", 2) => lower(&ty, &rest[1], &opts, cmd.memory64),
        ("lift", 1) => lift(&ty, cmd.flat.as_deref(), cmd.bytes.as_deref(), &opts, cmd.memory64),
        ("layout", _) => bail!("`weld abi TYPE` takes one type; did you mean `weld abi lower TYPE VALUE`?"),
        ("lower", _) => bail!("`weld abi lower` takes a type and a value"),
        _ => bail!("`weld abi lift` takes a type, and --flat or --bytes"),
    }
}

fn flat_list(flat: &[FlatType]) -> String {
    let names: Vec<&str> = flat.iter().map(|t| t.name()).collect();
    if names.is_empty() { "none".to_string() } else { names.join(", ") }
}

/// The layout table of `weld abi TYPE`.
fn layout(ty: &InterfaceType) -> String {
    let abi = ty.abi();
    let mut out = format!("{ty}\n");
    out += &format!("{:<16}{:>8}{:>8}\n", "", "32-bit", "64-bit");
    out += &format!("{:<16}{:>8}{:>8}\n", "size", abi.size(MemoryWidth::Mem32), abi.size(MemoryWidth::Mem64));
    out += &format!("{:<16}{:>8}{:>8}\n", "alignment", abi.align(MemoryWidth::Mem32), abi.align(MemoryWidth::Mem64));
    let parts: Option<(Vec<String>, &[u32], &[u32])> = match ty {
        InterfaceType::Record(r) => Some((
            r.fields().iter().map(|f| f.name.clone()).collect(),
            r.field_offsets(MemoryWidth::Mem32),
            r.field_offsets(MemoryWidth::Mem64),
        )),
        InterfaceType::Tuple(t) => Some((
            (0..t.types().len()).map(|i| i.to_string()).collect(),
            t.field_offsets(MemoryWidth::Mem32),
            t.field_offsets(MemoryWidth::Mem64),
        )),
        _ => None,
    };
    if let Some((names, o32, o64)) = parts {
        out += "offsets\n";
        for ((name, a), b) in names.iter().zip(o32).zip(o64) {
            out += &format!("  {:<14}{a:>8}{b:>8}\n", name);
        }
    }
    if let InterfaceType::Variant(_) | InterfaceType::Option(_) | InterfaceType::Result(_) = ty {
        let payload = |w| canonical_payload_offset(ty, w);
        out +=
            &format!("{:<16}{:>8}{:>8}\n", "payload offset", payload(MemoryWidth::Mem32), payload(MemoryWidth::Mem64));
    }
    for (width, name) in [(MemoryWidth::Mem32, "32-bit"), (MemoryWidth::Mem64, "64-bit")] {
        match flatten(ty, width) {
            Some(flat) => out += &format!("flat ({name}): {}\n", flat_list(&flat)),
            None => out += &format!("flat ({name}): more than {MAX_FLAT_PARAMS} values: passed in memory\n"),
        }
    }
    let count = abi.flat_count.map(usize::from);
    out += &match count {
        Some(n) => format!("as a parameter: {n} flat value{}\n", if n == 1 { "" } else { "s" }),
        None => format!("as a parameter: by pointer (more than {MAX_FLAT_PARAMS} flat values)\n"),
    };
    out += match count {
        Some(0 | 1) => "as a result: flat\n",
        _ => "as a result: through a return pointer (more than 1 flat value)\n",
    };
    out
}

/// Where a variant's payload starts.
fn canonical_payload_offset(ty: &InterfaceType, width: MemoryWidth) -> u32 {
    let layout = match ty {
        InterfaceType::Variant(v) => v.layout(),
        InterfaceType::Option(o) => o.layout(),
        InterfaceType::Result(r) => r.layout(),
        _ => return 0,
    };
    layout.payload_offset(width)
}

/// A scratch linear memory: bytes that grow as `realloc` hands out space (a bump allocator
/// from `next`), every call recorded.
struct ScratchMemory {
    bytes: Vec<u8>,
    next: u64,
    memory64: bool,
    calls: Vec<String>,
}

impl ScratchMemory {
    fn new(bytes: Vec<u8>, next: u64, memory64: bool) -> ScratchMemory {
        ScratchMemory { bytes, next, memory64, calls: Vec::new() }
    }
}

/// The most memory `weld abi` lets a value take.
const MAX_SCRATCH: u64 = 1 << 30;

impl GuestMemory for ScratchMemory {
    fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.bytes
    }

    fn realloc(&mut self, old_ptr: u64, old_size: u64, align: u32, new_size: u64) -> Result<u64> {
        let align = u64::from(align.max(1));
        let ptr = self.next.div_ceil(align) * align;
        let end = ptr.checked_add(new_size).filter(|e| *e <= MAX_SCRATCH).context("the value needs more than 1 GiB")?;
        if end as usize > self.bytes.len() {
            self.bytes.resize(end as usize, 0);
        }
        self.next = end;
        self.calls.push(format!("realloc({old_ptr}, {old_size}, {align}, {new_size}) = {ptr}"));
        Ok(ptr)
    }

    fn memory64(&self) -> bool {
        self.memory64
    }
}

/// Hex lines of `bytes`, 16 to a line, each with its address.
fn hex_dump(bytes: &[u8]) -> String {
    let mut out = String::new();
    for (i, line) in bytes.chunks(16).enumerate() {
        let hex: Vec<String> = line.iter().map(|b| format!("{b:02x}")).collect();
        out += &format!("  {:04x}  {}\n", i * 16, hex.join(" "));
    }
    out
}

fn show_flat(values: &[u64], types: &[FlatType]) -> String {
    let shown: Vec<String> = values
        .iter()
        .zip(types)
        .map(|(v, t)| match t {
            FlatType::I32 => format!("i32 {}", *v as u32 as i32),
            FlatType::I64 => format!("i64 {}", *v as i64),
            FlatType::F32 => format!("f32 {}", f32::from_bits(*v as u32)),
            FlatType::F64 => format!("f64 {}", f64::from_bits(*v)),
        })
        .collect();
    if shown.is_empty() { "none".to_string() } else { shown.join(", ") }
}

/// `weld abi lower TYPE VALUE`: the flat values (if the type flattens) and what `store` writes
/// at address 0, each with the `realloc` calls it made.
fn lower(ty: &InterfaceType, value: &str, opts: &canonical::Options, memory64: bool) -> Result<String> {
    let val = wave::parse(ty, value).with_context(|| format!("`{value}` is not a value of type {ty}"))?;
    let width = MemoryWidth::from_memory64(memory64);
    let size = u64::from(ty.abi().size(width));
    let mut out = String::new();
    if let Some(types) = flatten(ty, width) {
        let mut mem = ScratchMemory::new(Vec::new(), 0, memory64);
        let mut flat = Vec::new();
        canonical::lower_flat(&mut mem, opts, &val, ty, &mut flat)?;
        out += &format!("flat: {}\n", show_flat(&flat, &types));
        for call in &mem.calls {
            out += &format!("  {call}\n");
        }
        if !mem.bytes.is_empty() {
            out += &hex_dump(&mem.bytes);
        }
    }
    let mut mem = ScratchMemory::new(vec![0; size as usize], size, memory64);
    canonical::store(&mut mem, opts, &val, ty, 0)?;
    out += &format!("store at 0 ({size} bytes):\n");
    for call in &mem.calls {
        out += &format!("  {call}\n");
    }
    out += &hex_dump(&mem.bytes);
    Ok(out)
}

/// Reads `text` as hex bytes (spaces and newlines between them allowed).
fn parse_hex(text: &str) -> Result<Vec<u8>> {
    let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        bail!("--bytes: an odd number of hex digits");
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&digits[i..i + 2], 16)
                .with_context(|| format!("--bytes: `{}` is not hex", &digits[i..i + 2]))
        })
        .collect()
}

/// Reads one flat value of type `t`.
fn parse_flat(text: &str, t: FlatType) -> Result<u64> {
    let text = text.trim();
    let int = |text: &str| -> Option<i128> {
        let (neg, digits) = text.strip_prefix('-').map_or((false, text), |d| (true, d));
        let n = match digits.strip_prefix("0x") {
            Some(hex) => i128::from_str_radix(hex, 16).ok()?,
            None => digits.parse().ok()?,
        };
        Some(if neg { -n } else { n })
    };
    Ok(match t {
        FlatType::I32 => int(text).filter(|n| (-(1 << 31)..1 << 32).contains(n)).context("not an i32")? as u32 as u64,
        FlatType::I64 => int(text).filter(|n| (-(1 << 63)..1 << 64).contains(n)).context("not an i64")? as u64,
        FlatType::F32 => u64::from(text.parse::<f32>().context("not an f32")?.to_bits()),
        FlatType::F64 => text.parse::<f64>().context("not an f64")?.to_bits(),
    })
}

/// `weld abi lift TYPE --flat ... | --bytes ...`: the value, or the trap and why.
fn lift(
    ty: &InterfaceType,
    flat: Option<&str>,
    bytes: Option<&str>,
    opts: &canonical::Options,
    memory64: bool,
) -> Result<String> {
    let memory = bytes.map(parse_hex).transpose()?.unwrap_or_default();
    let mut mem = ScratchMemory::new(memory, 0, memory64);
    let width = MemoryWidth::from_memory64(memory64);
    let lifted = match flat {
        Some(flat) => {
            let types = flatten(ty, width)
                .with_context(|| format!("{ty} is never passed flat (more than {MAX_FLAT_PARAMS} values)"))?;
            let texts: Vec<&str> = if flat.trim().is_empty() { Vec::new() } else { flat.split(',').collect() };
            if texts.len() != types.len() {
                let plural = if types.len() == 1 { "" } else { "s" };
                bail!(
                    "--flat: {ty} flattens to {} value{plural} ({}), {} given",
                    types.len(),
                    flat_list(&types),
                    texts.len()
                );
            }
            let values = texts
                .iter()
                .zip(&types)
                .enumerate()
                .map(|(i, (text, t))| parse_flat(text, *t).with_context(|| format!("--flat value {i} (`{text}`)")))
                .collect::<Result<Vec<u64>>>()?;
            canonical::lift_flat(&mut mem, opts, ty, &mut values.into_iter())
        }
        None if bytes.is_some() => canonical::load(&mut mem, opts, ty, 0),
        None => bail!("`weld abi lift` needs --flat or --bytes"),
    };
    Ok(match lifted {
        Ok(val) => format!("{}\n", show_value(&val)?),
        Err(e) if e.chain().any(|c| c.downcast_ref::<weld::Trap>().is_some()) => format!("trap: {e:#}\n"),
        Err(e) => bail!(e),
    })
}

fn show_value(val: &Val) -> Result<String> {
    wave::to_string(val)
}
