//! A sandbox for each test: a fresh host directory under the system's temporary directory
//! holding `pre/` (what the guest gets as a preopen) and `outside/` (what it must never
//! reach), a context with `pre/` preopened, and a way to call the host traits on it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use weld::component::Resource;
use weld_wasi::p2::bindings::filesystem::preopens::Host as _;
use weld_wasi::p2::bindings::filesystem::types::HostDescriptor;
use weld_wasi::p2::bindings::filesystem::types::{Descriptor, DescriptorFlags, ErrorCode, OpenFlags, PathFlags};
use weld_wasi::{FsPerms, ResourceTable, WasiCtx, WasiCtxView};

pub const SECRET: &[u8] = b"the host's secret";

pub struct Sandbox {
    pub root: PathBuf,
    pub ctx: WasiCtx,
    pub table: ResourceTable,
}

impl Sandbox {
    /// A sandbox whose `pre/` holds `file.txt` ("hello"), `sub/` with `sub/inner.txt`
    /// ("inner") and an empty `empty/`, and whose `outside/` holds `secret.txt`.
    pub fn new(perms: FsPerms) -> Sandbox {
        Sandbox::with_preopens(&[("pre", "/", perms)])
    }

    /// A sandbox with several preopens: each `(host name under root, guest path, perms)`.
    /// The first is populated as in [`Sandbox::new`], the others are empty.
    pub fn with_preopens(preopens: &[(&str, &str, FsPerms)]) -> Sandbox {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let root = std::env::temp_dir().join(format!("weld-wasi-fs-test-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("outside")).unwrap();
        std::fs::write(root.join("outside/secret.txt"), SECRET).unwrap();
        for (name, _, _) in preopens {
            std::fs::create_dir_all(root.join(name)).unwrap();
        }
        let first = root.join(preopens[0].0);
        std::fs::write(first.join("file.txt"), b"hello").unwrap();
        std::fs::create_dir(first.join("sub")).unwrap();
        std::fs::write(first.join("sub/inner.txt"), b"inner").unwrap();
        std::fs::create_dir(first.join("empty")).unwrap();
        let mut builder = WasiCtx::builder();
        for (name, guest, perms) in preopens {
            builder.preopened_dir(root.join(name), guest, *perms).unwrap();
        }
        Sandbox { root, ctx: builder.build(), table: ResourceTable::new() }
    }

    pub fn view(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.ctx, table: &mut self.table }
    }

    /// A descriptor for the first preopen.
    pub fn preopen(&mut self) -> Resource<Descriptor> {
        self.preopens().remove(0)
    }

    /// A descriptor for each preopen, in order.
    pub fn preopens(&mut self) -> Vec<Resource<Descriptor>> {
        self.view().get_directories().unwrap().into_iter().map(|(fd, _)| fd).collect()
    }

    pub fn pre(&self) -> PathBuf {
        self.root.join("pre")
    }

    pub fn outside(&self) -> PathBuf {
        self.root.join("outside")
    }

    /// Opens `path` beneath `dir`; traps fail the test, error codes are returned.
    pub fn open(
        &mut self,
        dir: &Resource<Descriptor>,
        path_flags: PathFlags,
        path: &str,
        open_flags: OpenFlags,
        flags: DescriptorFlags,
    ) -> Result<Resource<Descriptor>, ErrorCode> {
        self.view().open_at(*dir, path_flags, path.to_string(), open_flags, flags).unwrap()
    }

    /// Opens the file `path` beneath the first preopen for reading.
    pub fn open_read(&mut self, path: &str) -> Resource<Descriptor> {
        let pre = self.preopen();
        self.open(&pre, PathFlags::empty(), path, OpenFlags::empty(), DescriptorFlags::READ).unwrap()
    }

    /// Opens the file `path` beneath the first preopen for reading and writing.
    pub fn open_rw(&mut self, path: &str) -> Resource<Descriptor> {
        let pre = self.preopen();
        let flags = DescriptorFlags::READ | DescriptorFlags::WRITE;
        self.open(&pre, PathFlags::empty(), path, OpenFlags::empty(), flags).unwrap()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Everything under `dir`: each path (relative) with its kind, contents or link target,
/// size and modification time. Two equal snapshots mean nothing was created, removed,
/// written or touched.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let rel = path.strip_prefix(base).unwrap().to_path_buf();
        let mtime = meta.modified().ok();
        let what = if meta.file_type().is_symlink() {
            format!("symlink -> {}", std::fs::read_link(&path).unwrap().display())
        } else if meta.is_dir() {
            walk(base, &path, out);
            format!("dir {mtime:?}")
        } else {
            format!("file {:?} {} {mtime:?}", std::fs::read(&path).unwrap(), meta.len())
        };
        out.insert(rel, what);
    }
}
