//! Loading the WIT that `bindgen!` reads: the `path` (a file, or a directory whose `deps/`
//! folder holds its dependencies) relative to `CARGO_MANIFEST_DIR`, and/or the `inline`
//! source, resolved with wit-parser; then the world asked for. Every failure is a message
//! for the user: the path tried, wit-parser's own message (which names the file and line),
//! or the worlds that do exist.
//!
//! It also lists the files read, so that the expansion can `include_bytes!` them and cargo
//! rebuilds the bindings when one changes.

use super::options::Options;
use std::path::{Path, PathBuf};
use wit_parser::{PackageId, Resolve, WorldId};

/// The resolved WIT, the chosen world, and the files it came from.
pub struct Loaded {
    pub resolve: Resolve,
    pub world: WorldId,
    pub files: Vec<PathBuf>,
}

/// Loads what `opts` points at, relative to `manifest_dir`.
pub fn load(opts: &Options, manifest_dir: &Path) -> Result<Loaded, String> {
    let mut resolve = Resolve::default();
    let mut files = Vec::new();
    let mut main: Option<PackageId> = None;
    let path = match (&opts.path, &opts.inline) {
        (Some(p), _) => Some(p.value()),
        (None, None) => Some("wit".to_string()),
        (None, Some(_)) => None,
    };
    if let Some(path) = path {
        let full = manifest_dir.join(&path);
        if !full.exists() {
            let relative = if Path::new(&path).is_absolute() {
                String::new()
            } else {
                format!(" (`{path}` relative to the crate's directory, CARGO_MANIFEST_DIR)")
            };
            return Err(format!("cannot read WIT: there is no file or directory at `{}`{relative}", full.display()));
        }
        let (pkg, sources) = resolve
            .push_path(&full)
            .map_err(|e| format!("cannot parse the WIT at `{path}`: {}", resolve.render_error(&e)))?;
        files.extend(sources.paths().map(Path::to_path_buf));
        main = Some(pkg);
    }
    if let Some(inline) = &opts.inline {
        let pkg = resolve
            .push_str("inline.wit", &inline.value())
            .map_err(|e| format!("cannot parse the inline WIT: {}", resolve.render_error(&e)))?;
        main = Some(pkg);
    }
    let main = main.expect("a path or inline source is always given");
    let world = select_world(&resolve, main, opts.world.as_ref().map(|w| w.value()))?;
    Ok(Loaded { resolve, world, files })
}

/// The world `name` (or the only world) of package `main`, or an error listing the worlds.
fn select_world(resolve: &Resolve, main: PackageId, name: Option<String>) -> Result<WorldId, String> {
    let package = &resolve.packages[main];
    let names = || {
        let mut all: Vec<String> = resolve
            .worlds
            .iter()
            .map(|(_, w)| match w.package {
                Some(p) if p == main => w.name.clone(),
                Some(p) => format!("{}/{}", resolve.packages[p].name, w.name),
                None => w.name.clone(),
            })
            .map(|n| format!("`{n}`"))
            .collect();
        all.sort();
        if all.is_empty() { "none".to_string() } else { all.join(", ") }
    };
    match name {
        Some(name) if !name.contains(':') => package.worlds.get(&name).copied().ok_or_else(|| {
            format!("no world named `{name}` in package `{}`; the worlds are: {}", package.name, names())
        }),
        Some(name) => resolve
            .select_world(&[main], Some(&name))
            .map_err(|e| format!("no world `{name}` ({e}); the worlds are: {}", names())),
        None => match package.worlds.len() {
            1 => Ok(*package.worlds.values().next().expect("one world")),
            0 => Err(format!("the package `{}` has no world", package.name)),
            _ => Err(format!(
                "the package `{}` has several worlds, name one with `world: \"...\"`; the worlds are: {}",
                package.name,
                names()
            )),
        },
    }
}
