//! Computes weld's build identity, `WELD_BUILD_ID`: a hash of the sources of every crate
//! that decides what compiled code looks like and how the runtime reads it (environ,
//! cranelift, fact, this one) and of the lock file that pins Cranelift's version.
//!
//! Ahead-of-time artifacts and compile-cache entries record it: code compiled by one build of
//! weld is loaded only by the same build, so a changed compiler never runs stale code, even
//! when the crate version did not change (as between two commits). Where those sources are
//! not beside this crate (a packaged crate), the identity is the crate version alone.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let crates = manifest.parent().expect("the crate lies in a folder");
    let mut hasher = DefaultHasher::new();
    env!("CARGO_PKG_VERSION").hash(&mut hasher);
    for name in ["environ", "cranelift", "fact", "runtime"] {
        let src = crates.join(name).join("src");
        if src.is_dir() {
            hash_tree(&src, &mut hasher);
            println!("cargo::rerun-if-changed={}", src.display());
        }
    }
    let lock = crates.parent().map(|root| root.join("Cargo.lock"));
    if let Some(lock) = lock.filter(|l| l.is_file()) {
        std::fs::read(&lock).expect("the lock file is readable").hash(&mut hasher);
        println!("cargo::rerun-if-changed={}", lock.display());
    }
    println!("cargo::rustc-env=WELD_BUILD_ID={:016x}", hasher.finish());
    println!("cargo::rerun-if-changed=build.rs");
}

/// Hashes every file under `dir` (names and contents) in a fixed order.
fn hash_tree(dir: &Path, hasher: &mut DefaultHasher) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("the source folder is readable")
        .map(|e| e.expect("readable entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            hash_tree(&path, hasher);
        } else {
            path.file_name().hash(hasher);
            std::fs::read(&path).expect("the source file is readable").hash(hasher);
        }
    }
}
