//! Ahead-of-time artifacts (`.cwasm`) and compile-cache entries: one file format that holds
//! the compiled code of a module's or component's core modules and what is needed to use it,
//! laid out so that loading it reads only its header and metadata and maps the rest where it
//! lies.
//!
//! Layout (little-endian):
//!
//! ```text
//! header (48 bytes): magic "\0weldaot", format u32, kind u32, total length u64,
//!                    checksum u64, metadata offset u64, metadata length u64
//! the binary         (components only: a component is translated again when it is loaded)
//! per code:          at an 8-byte boundary its trap table (every offset as u32, then every
//!                    trap code as u8), then its machine code at a 16 KiB boundary
//! blobs:             each at an 8-byte boundary: bytes a module description refers to
//!                    (data segments, function names)
//! images:            each at a 16 KiB boundary, padded to 16 KiB: memory images
//! metadata:          (to the end of the file) engine stamp, binary range and hash, module and adapter
//!                    counts, per code the ranges of its code and trap table and its function
//!                    table, the ranges of the blobs and images, and a module's description
//!                    (`module_meta.rs`; empty for components and cache entries)
//! ```
//!
//! Code and images lie at page boundaries so that a file mapped read-only runs its code
//! where it lies (`CodeMemory::in_artifact`) and maps memory images copy-on-write from the
//! file (`MemoryImage::in_artifact`); where the host's pages are larger than the alignment
//! they are copied instead. Trap tables too are used where they lie (`TrapTable`): a large
//! module has a million trap sites.
//!
//! What is checked, so that loading costs no more than reading the header and the metadata:
//! the header's magic, format and kind; the total length (catches truncation and
//! extension); a checksum (xxh3) of the header and the metadata (catches damage to anything
//! the loader interprets: the stamp, every range, the function tables, the module
//! description), and for a component a hash of its binary, which it translates again; the
//! stamp against the engine; and that every range lies inside the file.
//! Not checked: the machine code, trap tables, memory images, data segment bytes and names.
//! Hashing them would make loading cost time in proportion to the code, and a checksum is no
//! signature: whoever can edit the file can recompute it, which is why loading an artifact
//! stays `unsafe` and its caller vouches for the code. Damage there gives wrong code, wrong
//! memory contents or wrong names; a trap table is only read through bounds-checked lookups
//! that treat an unknown code as no trap. Every field is bounds-checked, so no input makes
//! the reader panic.

mod encoding;
mod exception_sites;
pub(crate) mod module_meta;
pub(crate) mod stamp;

use crate::vm::code_memory::{CodeInfo, CodeMemory, ModuleNames};
use crate::vm::mmap::{ReadOnlyMapping, page_size};
use crate::vm::trap_table::TrapTable;
use anyhow::{Result, bail};
use encoding::{Reader, Writer};
use stamp::EngineStamp;
use std::borrow::Cow;
use std::hash::Hasher;
use std::ops::Range;
use std::sync::Arc;
use weld_cranelift::{CompiledCode, ExceptionSite, FunctionLoc, TrapSite};

const MAGIC: [u8; 8] = *b"\0weldaot";
/// The version of this layout; a reader refuses any other.
const FORMAT: u32 = 5;
/// The length of the header, all that `peek_kind` reads.
pub(crate) const HEADER_LEN: usize = 48;
/// Where the checksum lies in the header.
const CHECKSUM_AT: Range<usize> = 24..32;
/// Code and images start at a multiple of this (a page on most hosts).
const CODE_ALIGN: usize = 16 * 1024;

/// What an artifact holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ArtifactKind {
    /// A core module: its description, its code and its memory images.
    Module = 1,
    /// A component: its binary, the code of its core modules in the binary's order, then
    /// that of its adapter modules.
    Component = 2,
    /// A compile-cache entry: one module's code, without its binary.
    CacheEntry = 3,
}

impl ArtifactKind {
    fn from_u32(v: u32) -> Option<ArtifactKind> {
        [ArtifactKind::Module, ArtifactKind::Component, ArtifactKind::CacheEntry].into_iter().find(|k| *k as u32 == v)
    }

    fn describe(self) -> &'static str {
        match self {
            ArtifactKind::Module => "a precompiled module (load it with `Module::deserialize`)",
            ArtifactKind::Component => "a precompiled component (load it with `Component::deserialize`)",
            ArtifactKind::CacheEntry => "a compile-cache entry",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            ArtifactKind::Module => "a module",
            ArtifactKind::Component => "a component",
            ArtifactKind::CacheEntry => "a compile-cache entry",
        }
    }
}

/// One module's compiled code, as it is written.
pub(crate) struct CodeRef<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) functions: &'a [FunctionLoc],
    pub(crate) traps: Cow<'a, [TrapSite]>,
    pub(crate) exception_sites: &'a [ExceptionSite],
}

impl<'a> From<&'a CompiledCode> for CodeRef<'a> {
    #[inline]
    fn from(c: &'a CompiledCode) -> Self {
        CodeRef {
            bytes: &c.bytes,
            functions: &c.functions,
            traps: Cow::Borrowed(&c.traps),
            exception_sites: &c.exception_sites,
        }
    }
}

impl<'a> CodeRef<'a> {
    /// The code in `c`, to write it again (fails if its trap table is damaged).
    pub(crate) fn of_memory(c: &'a CodeMemory) -> Result<CodeRef<'a>> {
        Ok(CodeRef {
            bytes: c.bytes(),
            functions: &c.info().functions,
            traps: c.info().traps.sites()?,
            exception_sites: &c.info().exception_sites,
        })
    }
}

/// Everything an artifact holds, to write it.
pub(crate) struct ArtifactContents<'a> {
    pub(crate) kind: ArtifactKind,
    pub(crate) stamp: &'a EngineStamp,
    pub(crate) binary: &'a [u8],
    pub(crate) modules: Vec<CodeRef<'a>>,
    pub(crate) adapters: Vec<CodeRef<'a>>,
    /// Bytes placed apart from the metadata, which `description` refers to by number.
    pub(crate) blobs: Vec<&'a [u8]>,
    /// Memory images, placed at page boundaries, which `description` refers to by number.
    pub(crate) images: Vec<&'a [u8]>,
    /// A module's description (empty for other kinds).
    pub(crate) description: &'a [u8],
}

/// Writes an artifact.
pub(crate) fn write(contents: &ArtifactContents<'_>) -> Vec<u8> {
    let mut w = Writer::default();
    w.bytes.resize(HEADER_LEN, 0);
    let binary_at = w.bytes.len();
    w.bytes.extend_from_slice(contents.binary);
    let mut placed = Vec::new();
    for code in contents.modules.iter().chain(&contents.adapters) {
        w.align(8);
        let traps_at = w.bytes.len();
        for t in code.traps.iter() {
            w.u32(t.offset);
        }
        for t in code.traps.iter() {
            w.u8(t.trap.code());
        }
        w.align(CODE_ALIGN);
        let code_at = w.bytes.len();
        w.bytes.extend_from_slice(code.bytes);
        placed.push((code_at, traps_at));
    }
    let mut blobs = Vec::new();
    for blob in &contents.blobs {
        w.align(8);
        blobs.push(w.bytes.len());
        w.bytes.extend_from_slice(blob);
    }
    let mut images = Vec::new();
    for image in &contents.images {
        w.align(CODE_ALIGN);
        images.push(w.bytes.len());
        w.bytes.extend_from_slice(image);
    }
    w.align(CODE_ALIGN);
    let meta_at = w.bytes.len();
    contents.stamp.write(&mut w);
    w.len(binary_at);
    w.len(contents.binary.len());
    w.u64(twox_hash::XxHash3_64::oneshot_with_seed(0, contents.binary));
    w.len(contents.modules.len());
    w.len(contents.adapters.len());
    for (code, (code_at, traps_at)) in contents.modules.iter().chain(&contents.adapters).zip(placed) {
        w.len(code_at);
        w.len(code.bytes.len());
        w.len(traps_at);
        w.len(code.traps.len());
        w.len(code.functions.len());
        for f in code.functions {
            w.u32(f.start);
            w.u32(f.len);
        }
        exception_sites::write_exception_sites(&mut w, code.exception_sites);
    }
    for (places, parts) in [(blobs, &contents.blobs), (images, &contents.images)] {
        w.len(places.len());
        for (at, part) in places.into_iter().zip(parts.iter()) {
            w.len(at);
            w.len(part.len());
        }
    }
    w.len(contents.description.len());
    w.bytes.extend_from_slice(contents.description);
    let meta_len = w.bytes.len() - meta_at;
    let total = w.bytes.len();
    let mut header = Writer::default();
    header.bytes.extend_from_slice(&MAGIC);
    header.u32(FORMAT);
    header.u32(contents.kind as u32);
    header.len(total);
    header.u64(0);
    header.len(meta_at);
    header.len(meta_len);
    let mut bytes = w.bytes;
    bytes[..HEADER_LEN].copy_from_slice(&header.bytes);
    let sum = checksum(&bytes[..HEADER_LEN], &bytes[meta_at..]);
    bytes[CHECKSUM_AT].copy_from_slice(&sum.to_le_bytes());
    bytes
}

/// The checksum of an artifact: xxh3 of its header, with the checksum's own bytes read as
/// zeros, followed by its metadata.
fn checksum(header: &[u8], meta: &[u8]) -> u64 {
    let mut head = [0u8; HEADER_LEN];
    let head_len = HEADER_LEN.min(header.len());
    head[..head_len].copy_from_slice(&header[..head_len]);
    head[CHECKSUM_AT].fill(0);
    let mut h = twox_hash::XxHash3_64::with_seed(0);
    h.write(&head[..head_len]);
    h.write(meta);
    h.finish()
}

/// What kind of artifact `bytes` starts as, if it is one of this format (nothing else is
/// checked).
pub(crate) fn peek_kind(bytes: &[u8]) -> Option<ArtifactKind> {
    if bytes.len() < HEADER_LEN || bytes[..8] != MAGIC {
        return None;
    }
    ArtifactKind::from_u32(u32::from_le_bytes(bytes[12..16].try_into().unwrap()))
}

/// A checked artifact: its mapping and where its parts lie.
pub(crate) struct LoadedArtifact {
    pub(crate) mapping: Arc<ReadOnlyMapping>,
    pub(crate) parts: ParsedArtifact,
}

impl LoadedArtifact {
    /// The code of its core modules, then that of its adapter modules, each handed out in
    /// order.
    pub(crate) fn into_supplies(self) -> (CodeSupply, CodeSupply) {
        let modules =
            CodeSupply { mapping: self.mapping.clone(), parts: self.parts.modules.into_iter(), what: "core modules" };
        let adapters =
            CodeSupply { mapping: self.mapping, parts: self.parts.adapters.into_iter(), what: "adapter modules" };
        (modules, adapters)
    }
}

/// Code parts of an artifact handed out one by one, in order, to the modules being made of
/// it; the artifact must hold exactly as many as they are.
pub(crate) struct CodeSupply {
    mapping: Arc<ReadOnlyMapping>,
    parts: std::vec::IntoIter<CodePart>,
    /// What the parts are the code of, for messages.
    what: &'static str,
}

impl CodeSupply {
    /// The next part, with the mapping it lies in.
    pub(crate) fn next(&mut self) -> Result<(Arc<ReadOnlyMapping>, CodePart)> {
        match self.parts.next() {
            Some(part) => Ok((self.mapping.clone(), part)),
            None => bail!("the artifact holds code for fewer {} than there are", self.what),
        }
    }

    /// Fails if a part was left over.
    pub(crate) fn finish(mut self) -> Result<()> {
        if self.parts.next().is_some() {
            bail!("the artifact holds code for more {} than there are", self.what);
        }
        Ok(())
    }
}

/// One module's code in an artifact.
pub(crate) struct CodePart {
    /// The code's range in the file.
    code: Range<usize>,
    functions: Vec<FunctionLoc>,
    /// Where the trap table starts in the file, and its number of sites.
    traps_at: usize,
    n_traps: usize,
    exception_sites: Vec<ExceptionSite>,
}

/// An artifact whose header, length and checksum are right, read but not yet checked
/// against an engine.
pub(crate) struct ParsedArtifact {
    pub(crate) kind: ArtifactKind,
    pub(crate) stamp: EngineStamp,
    pub(crate) binary: Range<usize>,
    pub(crate) modules: Vec<CodePart>,
    pub(crate) adapters: Vec<CodePart>,
    pub(crate) blobs: Vec<Range<usize>>,
    pub(crate) images: Vec<Range<usize>>,
    pub(crate) description: Range<usize>,
}

/// Checks the artifact in `mapping` (its header, length, checksum, kind and engine stamp)
/// and finds its parts. Errors say, as "it ...", what is wrong with it.
pub(crate) fn load(
    mapping: Arc<ReadOnlyMapping>,
    expected: ArtifactKind,
    current: &EngineStamp,
) -> Result<LoadedArtifact> {
    let parsed = parse(mapping.bytes())?;
    if parsed.kind != expected {
        bail!("it is {}, not {}", parsed.kind.describe(), expected.noun());
    }
    parsed.stamp.check_loadable_by(current)?;
    Ok(LoadedArtifact { mapping, parts: parsed })
}

/// Reads an artifact, checking its header, length and checksum and that every part lies
/// inside it.
pub(crate) fn parse(file: &[u8]) -> Result<ParsedArtifact> {
    if file.starts_with(b"\0asm") {
        bail!("it is a WebAssembly binary, not a precompiled artifact");
    }
    if file.len() < HEADER_LEN || file[..8] != MAGIC {
        bail!("it is not a weld artifact (it does not start with weld's magic number)");
    }
    let mut h = Reader::new(&file[8..HEADER_LEN], "header");
    let format = h.u32()?;
    if format != FORMAT {
        bail!("it is in artifact format {format}, and this weld reads format {FORMAT}: compile it again");
    }
    let kind = h.u32()?;
    let total = h.u64()?;
    if total != file.len() as u64 {
        bail!("it is truncated or extended: its header says {total} bytes, the file has {}", file.len());
    }
    let sum = h.u64()?;
    let (meta_at, meta_len) = (h.len()?, h.len()?);
    let damaged =
        || anyhow::anyhow!("its checksum does not match its contents: it was damaged or modified after it was written");
    // The metadata runs to the end of the file; anything else is damage to the header.
    if meta_at.checked_add(meta_len) != Some(file.len()) || meta_at < HEADER_LEN {
        return Err(damaged());
    }
    let meta = &file[meta_at..];
    if sum != checksum(&file[..HEADER_LEN], meta) {
        return Err(damaged());
    }
    let kind = ArtifactKind::from_u32(kind).ok_or_else(|| anyhow::anyhow!("its kind ({kind}) is unknown"))?;
    let mut r = Reader::new(meta, "metadata");
    let stamp = EngineStamp::read(&mut r)?;
    let binary = range(file, r.len()?, r.len()?, "binary")?;
    // A component's binary is translated again and must describe what its code was compiled
    // for, so it is covered too (by its own hash, kept in the metadata).
    let binary_sum = r.u64()?;
    if !binary.is_empty() && binary_sum != twox_hash::XxHash3_64::oneshot_with_seed(0, &file[binary.clone()]) {
        return Err(damaged());
    }
    let (n_modules, n_adapters) = (r.len()?, r.len()?);
    let mut codes = Vec::new();
    for _ in 0..n_modules.checked_add(n_adapters).ok_or_else(|| anyhow::anyhow!("its code count overflows"))? {
        let code = range(file, r.len()?, r.len()?, "code")?;
        let (traps_at, n_traps) = (r.len()?, r.len()?);
        let trap_table_len = n_traps.checked_mul(5).ok_or_else(|| anyhow::anyhow!("its trap table is too large"))?;
        range(file, traps_at, trap_table_len, "trap table")?;
        let functions = read_functions(&mut r, code.len())?;
        let exception_sites = exception_sites::read_exception_sites(&mut r, code.len())?;
        codes.push(CodePart { code, functions, traps_at, n_traps, exception_sites });
    }
    let mut ranges = |what| -> Result<Vec<Range<usize>>> {
        let n = r.len()?;
        let mut out = Vec::with_capacity(n.min(meta.len() / 16));
        for _ in 0..n {
            out.push(range(file, r.len()?, r.len()?, what)?);
        }
        Ok(out)
    };
    let blobs = ranges("blob")?;
    let images = ranges("memory image")?;
    let description_len = r.len()?;
    let description_at = meta_at + r.position();
    r.take(description_len)?;
    r.finish()?;
    let adapters = codes.split_off(n_modules.min(codes.len()));
    Ok(ParsedArtifact {
        kind,
        stamp,
        binary,
        modules: codes,
        adapters,
        blobs,
        images,
        description: description_at..description_at + description_len,
    })
}

/// The range `at..at + len` of `file`, or an error naming `what` when it lies outside.
fn range(file: &[u8], at: usize, len: usize, what: &str) -> Result<Range<usize>> {
    match at.checked_add(len) {
        Some(end) if end <= file.len() => Ok(at..end),
        _ => bail!("its {what} ({len} bytes at {at}) lies outside the file"),
    }
}

/// A function table of the metadata: its length, then `(start u32, len u32)` for each,
/// each inside `code_len` bytes of code.
fn read_functions(r: &mut Reader<'_>, code_len: usize) -> Result<Vec<FunctionLoc>> {
    let n = r.len()?;
    let len = n.checked_mul(8).ok_or_else(|| anyhow::anyhow!("its function table is too large"))?;
    let table = r.take(len)?;
    let word = |b: &[u8]| u32::from_le_bytes(b.try_into().unwrap());
    let functions: Vec<FunctionLoc> =
        table.chunks_exact(8).map(|e| FunctionLoc { start: word(&e[..4]), len: word(&e[4..]) }).collect();
    if functions.iter().any(|f| f.start as usize + f.len as usize > code_len) {
        bail!("its function table points outside the code");
    }
    Ok(functions)
}

impl CodePart {
    /// The number of functions.
    #[inline]
    pub(crate) fn num_functions(&self) -> usize {
        self.functions.len()
    }

    /// Fails unless this is the code of `expected` functions.
    pub(crate) fn check_functions(&self, expected: usize) -> Result<()> {
        if self.functions.len() != expected {
            bail!("it holds code for {} functions, the module defines {expected}", self.functions.len());
        }
        Ok(())
    }

    /// The number of trap sites.
    #[inline]
    pub(crate) fn num_traps(&self) -> usize {
        self.n_traps
    }

    /// The size of the machine code in bytes.
    #[inline]
    pub(crate) fn code_len(&self) -> usize {
        self.code.len()
    }

    /// Maps this code executable where it lies in `mapping` (or a copy of it, where the
    /// host's pages do not allow that), registered with `names` and `module_name`.
    pub(crate) fn into_code_memory(
        self,
        mapping: &Arc<ReadOnlyMapping>,
        names: Option<ModuleNames>,
        module_name: Option<String>,
    ) -> Result<Arc<CodeMemory>> {
        let CodePart { code, functions, traps_at, n_traps, exception_sites } = self;
        let traps = TrapTable::in_artifact(mapping, traps_at, n_traps)?;
        let info =
            CodeInfo { functions, traps, names, module_name, exception_sites, exception_barrier: Default::default() };
        if code.start % page_size() == 0 {
            return CodeMemory::in_artifact(mapping, code.start, code.len(), info);
        }
        CodeMemory::copied(&mapping.bytes()[code], info)
    }
}
