//! Checks of the architecture invariants that `docs/architecture.md` states, so that they hold
//! by test rather than by good intentions:
//!
//! - no two modules of a crate import each other, directly or through others (the module graph
//!   of every crate is acyclic);
//! - the crate graph points one way, as the guide draws it;
//! - no source file is over 800 lines;
//! - every crate that needs no `unsafe` forbids it, and the ones that use it deny undocumented
//!   unsafe blocks.
//! - the `file:line` links of `docs/architecture.md` point at the functions they name.
//!
//! The module graph is read from the sources with `syn`: a file's edges are the paths it names
//! (in `use` items, types, expressions, patterns and macro arguments) that resolve to another
//! file of the same crate. A path through a re-export (`pub use`) is followed to the file that
//! defines the item, so a parent module that re-exports its children is not a hub that joins
//! them. `#[cfg(test)]` modules are left out: tests may reach into anything.
//! This is deliberately not a full name resolver (no glob re-exports through several hops, no
//! macro-generated paths); what it cannot resolve it leaves out, so it may miss a loop but never
//! invents one. `module_graph_sees_a_planted_loop` checks that it does see one.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// The workspace root (this package's directory).
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every crate of the workspace: its name, its directory and the root file of its module tree.
fn crates() -> Vec<(String, PathBuf, PathBuf)> {
    let mut out = vec![("weld-cli".to_string(), root(), root().join("src/main.rs"))];
    for entry in fs::read_dir(root().join("crates")).unwrap() {
        let dir = entry.unwrap().path();
        let manifest = fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        let name = manifest
            .lines()
            .find_map(|l| l.strip_prefix("name = \""))
            .and_then(|l| l.strip_suffix('"'))
            .unwrap()
            .to_string();
        out.push((name, dir.clone(), dir.join("src/lib.rs")));
    }
    out.sort();
    out
}

// ---------------------------------------------------------------------------------------------
// The module tree of one crate.

/// One file of a crate, as a node of the module graph.
#[derive(Default)]
struct ModuleFile {
    /// The module path of the file (`["component", "func"]`; empty for the crate root).
    path: Vec<String>,
    /// The file, relative to the workspace root, for messages.
    file: String,
    /// Names defined in the file (items, and inline non-test modules' items flattened in).
    defined: BTreeSet<String>,
    /// Names brought in by `use`, to the path as written.
    aliases: HashMap<String, Vec<String>>,
    /// Glob imports (`use a::b::*`), as written.
    globs: Vec<Vec<String>>,
    /// Every path the file names (re-exports included), as written, with its text.
    uses: Vec<(Vec<String>, String)>,
}

/// A crate's files, keyed by module path.
struct ModuleTree {
    files: BTreeMap<Vec<String>, ModuleFile>,
}

fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.meta.require_list().map(|l| l.tokens.to_string().contains("test")).unwrap_or(false)
    })
}

fn path_attr(attrs: &[syn::Attribute]) -> Option<String> {
    attrs.iter().find(|a| a.path().is_ident("path")).and_then(|a| match &a.meta {
        syn::Meta::NameValue(nv) => match &nv.value {
            syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    })
}

/// How deep alias and glob chains are followed before giving up.
const MAX_HOPS: usize = 16;

impl ModuleTree {
    /// Reads the module tree whose root file is `root_file`.
    fn read(root_file: &Path) -> ModuleTree {
        let mut tree = ModuleTree { files: BTreeMap::new() };
        tree.read_file(root_file, Vec::new(), root_file.parent().unwrap().to_path_buf());
        tree
    }

    /// Reads one file as module `path`; `dir` is where its child modules' files are.
    fn read_file(&mut self, file: &Path, path: Vec<String>, dir: PathBuf) {
        let text = fs::read_to_string(file).unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
        let ast = syn::parse_file(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", file.display()));
        let mut module = ModuleFile {
            path: path.clone(),
            file: file.strip_prefix(root()).unwrap_or(file).display().to_string(),
            ..Default::default()
        };
        let mut children = Vec::new();
        collect_items(&ast.items, &mut module, &mut children);
        self.files.insert(path.clone(), module);
        for (name, attrs) in children {
            let child_file = match path_attr(&attrs) {
                Some(p) => dir.join(p),
                None if dir.join(format!("{name}.rs")).exists() => dir.join(format!("{name}.rs")),
                None => dir.join(&name).join("mod.rs"),
            };
            let mut child_path = path.clone();
            child_path.push(name.clone());
            self.read_file(&child_file, child_path, dir.join(&name));
        }
    }

    fn is_module(&self, path: &[String]) -> bool {
        self.files.contains_key(path)
    }

    /// `raw` as written in `module`, made absolute: through `crate::`, `self::`, `super::`, a
    /// child module, a name brought in by `use`, a local item or a glob import. `None` for
    /// paths that leave the crate (or that this reader cannot follow).
    fn absolute(&self, module: &ModuleFile, raw: &[String], hops: usize) -> Option<Vec<String>> {
        let first = raw.first()?;
        let rest = &raw[1..];
        if rest.is_empty() && matches!(first.as_str(), "crate" | "self" | "super") {
            // `pub(crate)`, `pub(super)`: a visibility, not a use.
            return None;
        }
        let join = |mut base: Vec<String>, rest: &[String]| {
            base.extend(rest.iter().cloned());
            base
        };
        match first.as_str() {
            "crate" => return Some(rest.to_vec()),
            "self" => return Some(join(module.path.clone(), rest)),
            "super" => {
                let mut base = module.path.clone();
                let mut rest = raw;
                while rest.first().map(String::as_str) == Some("super") {
                    base.pop()?;
                    rest = &rest[1..];
                }
                return Some(join(base, rest));
            }
            _ => {}
        }
        if hops > MAX_HOPS {
            return None;
        }
        let child = join(module.path.clone(), std::slice::from_ref(first));
        if self.is_module(&child) {
            return Some(join(child, rest));
        }
        if let Some(target) = module.aliases.get(first)
            && target.as_slice() != raw
        {
            return self.absolute(module, &join(target.clone(), rest), hops + 1);
        }
        if module.defined.contains(first) {
            return Some(join(module.path.clone(), raw));
        }
        for glob in &module.globs {
            let Some(base) = self.absolute(module, glob, hops + 1) else { continue };
            let full = join(base, raw);
            if self.resolve(&full, hops + 1).is_some() {
                return Some(full);
            }
        }
        None
    }

    /// The file that defines what absolute `path` names, following re-exports; `None` when it
    /// names nothing this reader can find.
    fn resolve(&self, path: &[String], hops: usize) -> Option<Vec<String>> {
        if hops > MAX_HOPS {
            return None;
        }
        let module_len = (0..=path.len()).take_while(|len| self.is_module(&path[..*len])).last()?;
        let module = &self.files[&path[..module_len]];
        let Some(item) = path.get(module_len) else {
            return Some(path.to_vec());
        };
        if module.defined.contains(item) {
            return Some(module.path.clone());
        }
        if let Some(target) = module.aliases.get(item) {
            let mut full = target.clone();
            full.extend(path[module_len + 1..].iter().cloned());
            let abs = self.absolute(module, &full, hops + 1)?;
            return self.resolve(&abs, hops + 1);
        }
        module.globs.iter().find_map(|glob| {
            let mut full = self.absolute(module, glob, hops + 1)?;
            full.extend(path[module_len..].iter().cloned());
            self.resolve(&full, hops + 1)
        })
    }

    /// Edges between files: (from, to) -> the paths that make the edge.
    fn edges(&self) -> BTreeMap<(Vec<String>, Vec<String>), Vec<String>> {
        let mut edges: BTreeMap<_, Vec<String>> = BTreeMap::new();
        for module in self.files.values() {
            for (raw, written) in &module.uses {
                let Some(abs) = self.absolute(module, raw, 0) else { continue };
                let Some(target) = self.resolve(&abs, 0) else { continue };
                if target != module.path && self.is_module(&target) {
                    edges.entry((module.path.clone(), target)).or_default().push(written.clone());
                }
            }
        }
        edges
    }
}

/// Records the items of a module body: definitions, `use`s, paths named, and child module
/// files to read. Inline modules are flattened into the file.
fn collect_items(items: &[syn::Item], module: &mut ModuleFile, children: &mut Vec<(String, Vec<syn::Attribute>)>) {
    for item in items {
        match item {
            syn::Item::Mod(m) if is_cfg_test(&m.attrs) => {}
            syn::Item::Mod(m) => match &m.content {
                None => children.push((m.ident.to_string(), m.attrs.clone())),
                Some((_, inner)) => {
                    module.defined.insert(m.ident.to_string());
                    let mut ignored = Vec::new();
                    collect_items(inner, module, &mut ignored);
                }
            },
            syn::Item::Use(u) => {
                if !is_cfg_test(&u.attrs) {
                    let reexport = !matches!(u.vis, syn::Visibility::Inherited);
                    collect_use(&u.tree, Vec::new(), reexport, module);
                }
            }
            syn::Item::Impl(i) if is_cfg_test(&i.attrs) => {}
            syn::Item::Fn(f) if is_cfg_test(&f.attrs) => {}
            other => {
                if let Some(name) = item_name(other) {
                    module.defined.insert(name);
                }
                let mut visitor = PathCollector { out: &mut module.uses };
                visitor.visit_item(other);
            }
        }
    }
}

fn item_name(item: &syn::Item) -> Option<String> {
    Some(
        match item {
            syn::Item::Const(i) => &i.ident,
            syn::Item::Enum(i) => &i.ident,
            syn::Item::Fn(i) => &i.sig.ident,
            syn::Item::Macro(i) => i.ident.as_ref()?,
            syn::Item::Static(i) => &i.ident,
            syn::Item::Struct(i) => &i.ident,
            syn::Item::Trait(i) => &i.ident,
            syn::Item::Type(i) => &i.ident,
            syn::Item::Union(i) => &i.ident,
            _ => return None,
        }
        .to_string(),
    )
}

/// Records one `use` tree: each leaf becomes an alias (or a glob); a re-export (`pub use`)
/// is also a path the module names, since it ties the module to the item's.
fn collect_use(tree: &syn::UseTree, mut prefix: Vec<String>, reexport: bool, module: &mut ModuleFile) {
    let leaf = |path: Vec<String>, local: String, module: &mut ModuleFile| {
        if reexport {
            module.uses.push((path.clone(), format!("pub use {}", path.join("::"))));
        }
        module.aliases.insert(local, path);
    };
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            collect_use(&p.tree, prefix, reexport, module);
        }
        syn::UseTree::Name(n) if n.ident == "self" => {
            let local = prefix.last().cloned().unwrap_or_default();
            leaf(prefix, local, module);
        }
        syn::UseTree::Name(n) => {
            prefix.push(n.ident.to_string());
            leaf(prefix, n.ident.to_string(), module);
        }
        syn::UseTree::Rename(r) => {
            prefix.push(r.ident.to_string());
            leaf(prefix, r.rename.to_string(), module);
        }
        syn::UseTree::Glob(_) => {
            if reexport {
                module.uses.push((prefix.clone(), format!("pub use {}::*", prefix.join("::"))));
            }
            module.globs.push(prefix);
        }
        syn::UseTree::Group(g) => {
            for t in &g.items {
                collect_use(t, prefix.clone(), reexport, module);
            }
        }
    }
}

/// Collects every path named in an item, including inside macro arguments that parse as
/// expressions, and skips `#[cfg(test)]` parts.
struct PathCollector<'a> {
    out: &'a mut Vec<(Vec<String>, String)>,
}

impl<'ast> Visit<'ast> for PathCollector<'_> {
    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.leading_colon.is_none() {
            let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
            let written = segments.join("::");
            self.out.push((segments, written));
        }
        syn::visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        use syn::parse::Parser;
        syn::visit::visit_macro(self, mac);
        let parser = syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated;
        if let Ok(args) = parser.parse2(mac.tokens.clone()) {
            for arg in &args {
                self.visit_expr(arg);
            }
        }
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if !is_cfg_test(&m.attrs) {
            syn::visit::visit_item_mod(self, m);
        }
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        if !is_cfg_test(&f.attrs) {
            syn::visit::visit_impl_item_fn(self, f);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Cycles.

/// The strongly connected components of more than one file (Tarjan's algorithm).
fn loops(nodes: &[Vec<String>], edges: &BTreeMap<(Vec<String>, Vec<String>), Vec<String>>) -> Vec<Vec<Vec<String>>> {
    struct State<'a> {
        index: HashMap<&'a Vec<String>, usize>,
        low: HashMap<&'a Vec<String>, usize>,
        on_stack: BTreeSet<&'a Vec<String>>,
        stack: Vec<&'a Vec<String>>,
        next: usize,
        out: Vec<Vec<Vec<String>>>,
        succ: HashMap<&'a Vec<String>, Vec<&'a Vec<String>>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a Vec<String>) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.succ.get(v).cloned().unwrap_or_default() {
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            loop {
                let w = s.stack.pop().unwrap();
                s.on_stack.remove(w);
                component.push(w.clone());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.out.push(component);
            }
        }
    }
    let mut succ: HashMap<&Vec<String>, Vec<&Vec<String>>> = HashMap::new();
    for (from, to) in edges.keys() {
        succ.entry(from).or_default().push(to);
    }
    let mut state = State {
        index: HashMap::new(),
        low: HashMap::new(),
        on_stack: BTreeSet::new(),
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
        succ,
    };
    for node in nodes {
        if !state.index.contains_key(node) {
            visit(&mut state, node);
        }
    }
    state.out
}

/// Describes the import loops of one crate, one paragraph per loop with the edges inside it.
fn describe_loops(crate_name: &str, tree: &ModuleTree) -> Vec<String> {
    let edges = tree.edges();
    let nodes: Vec<Vec<String>> = tree.files.keys().cloned().collect();
    let name = |p: &Vec<String>| tree.files[p].file.clone();
    loops(&nodes, &edges)
        .into_iter()
        .map(|component| {
            let members: BTreeSet<&Vec<String>> = component.iter().collect();
            let mut text = format!("{crate_name}: {} modules import each other in a loop:\n", component.len());
            for ((from, to), why) in &edges {
                if members.contains(from) && members.contains(to) {
                    let mut why = why.clone();
                    why.sort();
                    why.dedup();
                    text += &format!("  {} -> {}  ({})\n", name(from), name(to), why.join(", "));
                }
            }
            text
        })
        .collect()
}

#[test]
fn no_module_imports_another_in_a_loop() {
    let mut problems = Vec::new();
    for (name, _, root_file) in crates() {
        problems.extend(describe_loops(&name, &ModuleTree::read(&root_file)));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn module_graph_sees_a_planted_loop() {
    let dir = std::env::temp_dir().join(format!("weld-architecture-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("lib.rs"), "mod a;\nmod b;\nmod c;\npub use a::A;\n").unwrap();
    fs::write(dir.join("a.rs"), "pub struct A;\npub fn f() -> crate::b::B { todo!() }\n").unwrap();
    // `b` reaches `a` through the root's re-export, which must be followed to `a`.
    fs::write(dir.join("b.rs"), "pub struct B(pub super::A);\n").unwrap();
    fs::write(dir.join("c.rs"), "use crate::a;\npub fn g() { a::f(); }\n#[cfg(test)]\nmod tests { use crate::c; }\n")
        .unwrap();
    let tree = ModuleTree::read(&dir.join("lib.rs"));
    let found = describe_loops("planted", &tree);
    fs::remove_dir_all(&dir).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("a.rs -> ") && found[0].contains("b.rs -> "), "{}", found[0]);
    assert!(!found[0].contains("c.rs"), "c only uses a: {}", found[0]);
}

// ---------------------------------------------------------------------------------------------
// The crate graph, file sizes, unsafe.

/// The weld crates each crate may depend on (normal dependencies), as the guide draws them.
const ALLOWED_CRATE_DEPS: &[(&str, &[&str])] = &[
    ("weld-environ", &[]),
    ("weld-component-macro", &[]),
    ("weld-fact", &["weld-environ"]),
    ("weld-cranelift", &["weld-environ"]),
    ("weld", &["weld-environ", "weld-fact", "weld-cranelift", "weld-component-macro"]),
    ("weld-wast", &["weld"]),
    ("weld-wasi", &["weld"]),
    ("weld-wasi-http", &["weld", "weld-wasi"]),
    ("weld-fuzzing", &["weld", "weld-environ", "weld-fact"]),
    ("weld-cli", &["weld", "weld-wasi", "weld-wasi-http", "weld-wast", "weld-environ", "weld-fact", "weld-cranelift"]),
];

/// The weld crates named in the `[dependencies]` table of a manifest.
fn weld_dependencies(manifest: &str) -> Vec<String> {
    let mut in_deps = false;
    let mut out = Vec::new();
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
        } else if in_deps && line.starts_with("weld") {
            out.push(line.split([' ', '=']).next().unwrap().to_string());
        }
    }
    out
}

/// The weld dependencies of crate `name` (manifest text `manifest`) that the architecture
/// does not allow.
fn forbidden_dependencies(name: &str, manifest: &str) -> Vec<String> {
    let allowed = ALLOWED_CRATE_DEPS
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("crate {name} is not in ALLOWED_CRATE_DEPS: add it with the crates it may use"))
        .1;
    weld_dependencies(manifest).into_iter().filter(|dep| !allowed.contains(&dep.as_str())).collect()
}

#[test]
fn crate_graph_points_one_way() {
    for (name, dir, _) in crates() {
        let manifest = fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        let bad = forbidden_dependencies(&name, &manifest);
        assert!(bad.is_empty(), "{name} depends on {bad:?}, which the architecture does not allow");
    }
}

#[test]
fn crate_graph_check_sees_a_planted_dependency() {
    let manifest = "[package]\nname = \"weld-environ\"\n\n[dependencies]\nanyhow = \"1\"\nweld = { workspace = true }\n\n[dev-dependencies]\nweld-fact = { workspace = true }\n";
    assert_eq!(forbidden_dependencies("weld-environ", manifest), ["weld"]);
    assert!(forbidden_dependencies("weld-fact", "[dependencies]\nweld-environ = { workspace = true }\n").is_empty());
}

/// Every Rust source file of the workspace (crates, the CLI, tests, benches, examples).
fn rust_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if path.is_dir() {
                if !matches!(name.as_str(), "target" | ".git" | "ui") {
                    walk(&path, out);
                }
            } else if name.ends_with(".rs") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    for dir in ["src", "crates", "tests", "benches", "examples", "fuzz/fuzz_targets"] {
        if root().join(dir).exists() {
            walk(&root().join(dir), &mut out);
        }
    }
    out
}

#[test]
fn no_source_file_is_over_800_lines() {
    let long: Vec<String> = rust_files()
        .into_iter()
        .filter_map(|f| {
            let lines = fs::read_to_string(&f).unwrap().lines().count();
            (lines > 800).then(|| format!("{} has {lines} lines", f.display()))
        })
        .collect();
    assert!(long.is_empty(), "split these files: {long:#?}");
}

/// Crates whose code may contain `unsafe`; every other crate must forbid it, or, for those
/// of `CRATES_WITH_ONE_UNSAFE_FILE`, deny it everywhere but in that one file.
const CRATES_WITH_UNSAFE: &[&str] = &["weld"];

/// Crates that need `unsafe` in one file only, and that file: the command loads artifacts the
/// user allowed with `--allow-precompiled`.
const CRATES_WITH_ONE_UNSAFE_FILE: &[(&str, &str)] = &[("weld-cli", "src/precompiled.rs")];

#[test]
fn unsafe_is_forbidden_or_documented() {
    for (name, _, root_file) in crates() {
        let text = fs::read_to_string(&root_file).unwrap();
        if CRATES_WITH_UNSAFE.contains(&name.as_str()) {
            for lint in ["clippy::undocumented_unsafe_blocks", "clippy::missing_safety_doc", "unsafe_op_in_unsafe_fn"] {
                assert!(text.contains(lint), "{name} uses unsafe, so {} must deny {lint}", root_file.display());
            }
        } else if let Some((_, file)) = CRATES_WITH_ONE_UNSAFE_FILE.iter().find(|(n, _)| *n == name) {
            for lint in ["#![deny(unsafe_code)]", "#![deny(clippy::undocumented_unsafe_blocks)]"] {
                assert!(text.contains(lint), "{} must have {lint}", root_file.display());
            }
            let allowed = root().join(file);
            let src = root_file.parent().unwrap();
            for source in rust_files().into_iter().filter(|f| f.starts_with(src)) {
                let code = fs::read_to_string(&source).unwrap();
                let allows = code.contains("allow(unsafe_code)");
                assert!(
                    !allows || source == allowed,
                    "{} allows unsafe code; in {name} only {file} may",
                    source.display()
                );
            }
        } else {
            assert!(
                text.contains("#![forbid(unsafe_code)]"),
                "{name} needs no unsafe: {} must have #![forbid(unsafe_code)]",
                root_file.display()
            );
        }
    }
}

/// The guide's `file:line` links, each followed by the function it points at in backticks:
/// (link text line, file, anchor line, function name).
fn guide_links(guide: &str) -> Vec<(usize, String, usize, String)> {
    let mut out = Vec::new();
    for (at, _) in guide.match_indices("](../") {
        let text_start = guide[..at].rfind("[`").expect("a link text before the link") + 2;
        let text = &guide[text_start..at];
        let Some((_, text_line)) = text.trim_end_matches('`').rsplit_once(':') else { continue };
        let rest = &guide[at + 5..];
        let Some((target, _)) = rest.split_once(')') else { continue };
        let Some((file, anchor)) = target.split_once("#L") else { continue };
        let after = &rest[target.len() + 1..];
        let name = after.split('`').nth(1).unwrap_or_default();
        let name = name.rsplit("::").next().unwrap_or_default().to_string();
        out.push((text_line.parse().unwrap(), file.to_string(), anchor.parse().unwrap(), name));
    }
    out
}

#[test]
fn guide_links_point_at_their_functions() {
    let guide = fs::read_to_string(root().join("docs/architecture.md")).unwrap();
    let links = guide_links(&guide);
    assert!(links.len() >= 6, "the life of a component links six files: {links:?}");
    for (text_line, file, line, name) in links {
        assert_eq!(text_line, line, "{file}: the link text says line {text_line}, the anchor {line}");
        let source = fs::read_to_string(root().join(&file)).unwrap();
        let at = source.lines().nth(line - 1).unwrap_or_default();
        assert!(
            at.contains(&format!("fn {name}")),
            "docs/architecture.md links {file}:{line} as `{name}`, but that line is `{}`",
            at.trim()
        );
    }
}

#[test]
fn guide_link_check_sees_a_stale_line() {
    let stale = "1. [`f.rs:3`](../tests/architecture.rs#L3) `no_such_function` does it";
    let links = guide_links(stale);
    assert_eq!(links, [(3, "tests/architecture.rs".to_string(), 3, "no_such_function".to_string())]);
    let line = fs::read_to_string(root().join("tests/architecture.rs")).unwrap().lines().nth(2).unwrap().to_string();
    assert!(!line.contains("fn no_such_function"));
}
