//! The compile cache ([`Cache`], [`CacheConfig`]): compiled code of core modules kept on disk,
//! so that compiling the same module again with the same engine settings maps the code from
//! a file instead of running Cranelift.
//!
//! An entry holds one core module's code (a component's core modules and its adapter modules
//! are entries of their own), in the artifact format (`artifact/`). Its name is the SHA-256
//! of weld's build, the engine's code-changing settings and the module's binary, so a changed
//! input, setting or weld never finds a stale entry. Entries are written to a temporary file
//! and renamed into place, so concurrent processes see whole entries or none. After each
//! write the directory is trimmed, oldest first (a hit refreshes an entry's time), to 70% of
//! its bounds when it exceeds them. Any failure to read or write the cache is logged and
//! compilation goes on without it: a cache never makes a load fail.

use crate::artifact::stamp::EngineStamp;
use crate::artifact::{self, ArtifactContents, ArtifactKind, CodePart};
use crate::vm::mmap::ReadOnlyMapping;
use anyhow::{Context as _, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};
use weld_cranelift::CompiledCode;

/// The extension of entry files.
const ENTRY_EXTENSION: &str = "wcode";
/// Temporary files older than this were left by a process that died while writing.
const STALE_TEMPORARY: Duration = Duration::from_secs(3600);

/// The parts of a core module's binary that decide its code: its header and every section
/// but custom ones, each with its id and size. `None` if the binary does not parse as a
/// sequence of sections (it then is hashed whole).
fn code_sections(wasm: &[u8]) -> Option<Vec<&[u8]>> {
    let mut parts = vec![wasm.get(..8)?];
    let mut at = 8;
    while at < wasm.len() {
        let id = wasm[at];
        let (size, leb_len) = read_leb_u32(wasm.get(at + 1..)?)?;
        let end = (at + 1 + leb_len).checked_add(size as usize)?;
        let section = wasm.get(at..end)?;
        if id != 0 {
            parts.push(section);
        }
        at = end;
    }
    Some(parts)
}

/// An unsigned LEB128 `u32` at the start of `bytes`, and how many bytes it took.
fn read_leb_u32(bytes: &[u8]) -> Option<(u32, usize)> {
    let mut value = 0u32;
    for (i, &b) in bytes.iter().take(5).enumerate() {
        value |= u32::from(b & 0x7f).checked_shl(7 * i as u32)?;
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// Settings of a [`Cache`]: where it lives and how large it may grow.
#[derive(Clone, Debug)]
pub struct CacheConfig {
    directory: Option<PathBuf>,
    files_total_size_soft_limit: u64,
    file_count_soft_limit: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig { directory: None, files_total_size_soft_limit: 512 << 20, file_count_soft_limit: 65536 }
    }
}

impl CacheConfig {
    /// The defaults: the user's cache directory ([`Cache::default_directory`]), at most 512 MiB
    /// and 65536 entries.
    #[inline]
    pub fn new() -> CacheConfig {
        CacheConfig::default()
    }

    /// Keeps the cache in `directory` (created if missing).
    #[inline]
    pub fn with_directory(&mut self, directory: impl Into<PathBuf>) -> &mut Self {
        self.directory = Some(directory.into());
        self
    }

    /// The total size of entries above which the oldest are removed (down to 70% of it).
    #[inline]
    pub fn with_files_total_size_soft_limit(&mut self, bytes: u64) -> &mut Self {
        self.files_total_size_soft_limit = bytes;
        self
    }

    /// The number of entries above which the oldest are removed (down to 70% of it).
    #[inline]
    pub fn with_file_count_soft_limit(&mut self, count: u64) -> &mut Self {
        self.file_count_soft_limit = count;
        self
    }

    /// The directory set with [`CacheConfig::with_directory`], if any.
    #[inline]
    pub fn directory(&self) -> Option<&PathBuf> {
        self.directory.as_ref()
    }
}

/// A compile cache on disk, given to [`Config::cache`](crate::Config::cache). Cheap to clone;
/// clones count hits and misses together.
#[derive(Clone, Debug)]
pub struct Cache {
    inner: Arc<CacheInner>,
}

#[derive(Debug)]
struct CacheInner {
    directory: PathBuf,
    config: CacheConfig,
    hits: AtomicUsize,
    misses: AtomicUsize,
}

impl Cache {
    /// A cache with `config`, creating its directory.
    pub fn new(config: CacheConfig) -> Result<Cache> {
        let directory = match &config.directory {
            Some(d) => d.clone(),
            None => Cache::default_directory().context(
                "there is no user cache directory (neither XDG_CACHE_HOME nor HOME is set): give the cache a \
                 directory with `CacheConfig::with_directory`",
            )?,
        };
        std::fs::create_dir_all(&directory)
            .with_context(|| format!("failed to create the cache directory `{}`", directory.display()))?;
        Ok(Cache {
            inner: Arc::new(CacheInner { directory, config, hits: AtomicUsize::new(0), misses: AtomicUsize::new(0) }),
        })
    }

    /// Where weld keeps its cache by default: `$XDG_CACHE_HOME/weld`, else `$HOME/.cache/weld`.
    pub fn default_directory() -> Option<PathBuf> {
        let non_empty = |v: &str| std::env::var_os(v).filter(|s| !s.is_empty()).map(PathBuf::from);
        non_empty("XDG_CACHE_HOME").or_else(|| non_empty("HOME").map(|h| h.join(".cache"))).map(|d| d.join("weld"))
    }

    /// The cache's directory.
    #[inline]
    pub fn directory(&self) -> &Path {
        &self.inner.directory
    }

    /// How many modules were found in the cache.
    #[inline]
    pub fn cache_hits(&self) -> usize {
        self.inner.hits.load(Ordering::Relaxed)
    }

    /// How many modules were compiled because the cache did not have them.
    #[inline]
    pub fn cache_misses(&self) -> usize {
        self.inner.misses.load(Ordering::Relaxed)
    }

    /// The key of the code of the core module `wasm` under `stamp` (its canonical text):
    /// SHA-256 of the stamp and of every section of the module but its custom sections.
    ///
    /// Custom sections (names, DWARF, producers) never change compiled code (function names
    /// are read from the binary when it is loaded, not from the entry), and they are most of
    /// a debug build's bytes: 2 MB of hello_stdout's 2.1 MB. Should a custom section ever
    /// change code, it must be hashed here.
    pub(crate) fn key(stamp_text: &str, wasm: &[u8]) -> String {
        let mut h = Sha256::new();
        h.update((stamp_text.len() as u64).to_le_bytes());
        h.update(stamp_text.as_bytes());
        match code_sections(wasm) {
            Some(sections) => sections.into_iter().for_each(|s| h.update(s)),
            None => h.update(wasm),
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    fn entry_path(&self, key: &str) -> PathBuf {
        self.inner.directory.join(format!("{key}.{ENTRY_EXTENSION}"))
    }

    /// The entry for `key`, if there is a loadable one with `functions` functions; counts a
    /// hit or a miss.
    pub(crate) fn load(
        &self,
        key: &str,
        stamp: &EngineStamp,
        functions: usize,
    ) -> Option<(Arc<ReadOnlyMapping>, CodePart)> {
        let path = self.entry_path(key);
        let found = match std::fs::File::open(&path) {
            Ok(file) => Self::read_entry(&file, stamp, functions).inspect(|_| {
                // Refresh its age, which eviction goes by (best effort).
                let _ = file.set_modified(SystemTime::now());
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        };
        let found = found.unwrap_or_else(|e| {
            log::warn!("ignoring the compile-cache entry `{}`: {e:#}", path.display());
            None
        });
        let counter = if found.is_some() { &self.inner.hits } else { &self.inner.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    fn read_entry(
        file: &std::fs::File,
        stamp: &EngineStamp,
        functions: usize,
    ) -> Result<Option<(Arc<ReadOnlyMapping>, CodePart)>> {
        let mapping = Arc::new(ReadOnlyMapping::map_whole(file)?);
        let (mut modules, adapters) = artifact::load(mapping, ArtifactKind::CacheEntry, stamp)?.into_supplies();
        let code = modules.next()?;
        modules.finish()?;
        adapters.finish()?;
        code.1.check_functions(functions)?;
        Ok(Some(code))
    }

    /// Stores `code` as the entry for `key`, then trims the cache (failures are logged).
    pub(crate) fn store(&self, key: &str, stamp: &EngineStamp, code: &CompiledCode) {
        let bytes = artifact::write(&ArtifactContents {
            kind: ArtifactKind::CacheEntry,
            stamp,
            binary: &[],
            modules: vec![code.into()],
            adapters: Vec::new(),
            blobs: Vec::new(),
            images: Vec::new(),
            description: &[],
        });
        if let Err(e) = self.write_entry(key, &bytes) {
            log::warn!("failed to write a compile-cache entry in `{}`: {e:#}", self.inner.directory.display());
            return;
        }
        if let Err(e) = self.trim() {
            log::warn!("failed to trim the compile cache `{}`: {e:#}", self.inner.directory.display());
        }
    }

    fn write_entry(&self, key: &str, bytes: &[u8]) -> Result<()> {
        let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().subsec_nanos();
        let temporary = self.inner.directory.join(format!(".{key}.{}.{nanos}.tmp", std::process::id()));
        std::fs::write(&temporary, bytes)?;
        std::fs::rename(&temporary, self.entry_path(key)).inspect_err(|_| {
            let _ = std::fs::remove_file(&temporary);
        })?;
        Ok(())
    }

    /// Removes the oldest entries while the cache exceeds a bound, down to 70% of it; removes
    /// temporary files left by dead writers.
    fn trim(&self) -> Result<()> {
        let now = SystemTime::now();
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(&self.inner.directory)? {
            let entry = entry?;
            let path = entry.path();
            let Ok(meta) = entry.metadata() else { continue };
            let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            if path.extension().is_some_and(|e| e == "tmp") {
                if now.duration_since(modified).is_ok_and(|age| age > STALE_TEMPORARY) {
                    let _ = std::fs::remove_file(&path);
                }
            } else if path.extension().is_some_and(|e| e == ENTRY_EXTENSION) {
                entries.push((modified, meta.len(), path));
            }
        }
        let config = &self.inner.config;
        let mut total: u64 = entries.iter().map(|e| e.1).sum();
        let mut count = entries.len() as u64;
        if total <= config.files_total_size_soft_limit && count <= config.file_count_soft_limit {
            return Ok(());
        }
        let seventy_percent = |limit: u64| (u128::from(limit) * 7 / 10) as u64;
        let (size_goal, count_goal) =
            (seventy_percent(config.files_total_size_soft_limit), seventy_percent(config.file_count_soft_limit));
        entries.sort();
        for (_, len, path) in entries {
            if total <= size_goal && count <= count_goal {
                break;
            }
            if std::fs::remove_file(&path).is_ok() {
                total -= len;
                count -= 1;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_sections_do_not_change_the_key_and_everything_else_does() {
        let plain = wat::parse_str(r#"(module (func (export "f") (result i32) i32.const 1))"#).unwrap();
        let mut named = plain.clone();
        // A custom section "x" holding "hi" (id 0, size 4, name length 1).
        named.extend_from_slice(&[0, 4, 1, b'x', b'h', b'i']);
        assert_eq!(code_sections(&named).unwrap().len(), code_sections(&plain).unwrap().len());
        assert_eq!(Cache::key("s", &plain), Cache::key("s", &named));
        assert_ne!(Cache::key("s", &plain), Cache::key("t", &plain));
        let other = wat::parse_str(r#"(module (func (export "f") (result i32) i32.const 2))"#).unwrap();
        assert_ne!(Cache::key("s", &plain), Cache::key("s", &other));
        // A section cut short falls back to hashing every byte.
        assert!(code_sections(&named[..named.len() - 1]).is_none());
        assert_ne!(Cache::key("s", &named[..named.len() - 1]), Cache::key("s", &plain));
    }
}
