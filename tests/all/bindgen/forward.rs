//! Components for the bindgen tests, written in WAT by [`forward`]: each exported function
//! calls the host's import of the same type, so one call through the generated export
//! bindings (`call_*`) runs the generated host bindings (the `Host` trait) with the same
//! values, and a value that comes back equal went through both.
//!
//! An imported interface `host` becomes an exported interface `guest` with the same types
//! (the instance types export them, as WIT-made components do) and functions. A function
//! whose results fit one core value is the lowered import lifted again; one whose results
//! go through memory gets a core wrapper that passes the import a return area and returns
//! its address.

/// One function: its name, its component type (`(param "a" u32) (result u32)`, naming the
/// bridge's types as `$name`), its core parameters, and whether its results are in memory.
pub struct Func<'a> {
    pub name: &'a str,
    pub ty: &'a str,
    pub core_params: &'a [&'a str],
    pub results_in_memory: bool,
    /// The import it calls, when it has another name than the export (`name`).
    pub import: Option<&'a str>,
    /// The import's type, when it differs from the export's in its parameter names.
    pub import_ty: Option<&'a str>,
    /// A canonical built-in to lift instead of an import (`(canon resource.drop $r)`).
    pub builtin: Option<&'a str>,
    /// The resource whose borrow the first parameter is: the guest drops it after the call,
    /// as the spec requires of a callee.
    pub drops_borrow: Option<&'a str>,
    /// The core result when it is one value (`i32`), for functions that drop a borrow.
    pub flat_result: Option<&'a str>,
}

/// A function exported as `name` that calls the import `name` of the same type.
pub const fn func<'a>(name: &'a str, ty: &'a str, core_params: &'a [&'a str], results_in_memory: bool) -> Func<'a> {
    Func {
        name,
        ty,
        core_params,
        results_in_memory,
        import: None,
        import_ty: None,
        builtin: None,
        drops_borrow: None,
        flat_result: None,
    }
}

/// An imported instance (`None`: the component's own top-level imports) whose functions
/// are re-exported as an instance `guest` (`None`: at the top level).
pub struct Bridge<'a> {
    pub host: Option<&'a str>,
    pub guest: Option<&'a str>,
    /// Types the functions use, `(name, definition)`, in dependency order; a definition
    /// `(sub resource)` declares an imported resource.
    pub types: &'a [(&'a str, &'a str)],
    pub funcs: &'a [Func<'a>],
}

/// A component forwarding every bridge's exports to its imports.
pub fn forward(bridges: &[Bridge<'_>]) -> String {
    let mut out = String::from("(component\n");
    out.push_str(
        r#"  (core module $mem
    (memory (export "mem") 1)
    (global $next (mut i32) (i32.const 4096))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get 2))))
      (global.set $next (i32.add (local.get $p) (local.get 3)))
      (local.get $p)))
  (core instance $mem (instantiate $mem))
"#,
    );
    let opts = r#"(memory (core memory $mem "mem")) (realloc (core func $mem "realloc"))"#;
    let mut wrappers = String::new();
    let mut wrapper_imports = String::new();
    let mut wrapper_args = String::new();
    for (b, bridge) in bridges.iter().enumerate() {
        // The imports, and their types under their own names.
        let mut decls = String::new();
        for (name, def) in bridge.types {
            let def = def.replace('$', &format!("$b{b}_"));
            match bridge.host {
                // A resource type is declared by its bound, not defined.
                Some(_) if def == "(sub resource)" => {
                    decls.push_str(&format!("    (export \"{name}\" (type $b{b}_{name} {def}))\n"))
                }
                Some(_) => decls.push_str(&format!(
                    "    (type $b{b}_{name}' {def}) (export \"{name}\" (type $b{b}_{name} (eq $b{b}_{name}')))\n"
                )),
                None => out.push_str(&format!(
                    "  (type $b{b}_{name}' {def}) (import \"{name}\" (type $b{b}_{name} (eq $b{b}_{name}')))\n"
                )),
            }
        }
        for (i, f) in bridge.funcs.iter().enumerate().filter(|(_, f)| f.builtin.is_none()) {
            let ty = f.import_ty.unwrap_or(f.ty).replace('$', &format!("$b{b}_"));
            let import = f.import.unwrap_or(f.name);
            match bridge.host {
                Some(_) => decls.push_str(&format!("    (export \"{import}\" (func {ty}))\n")),
                None => out.push_str(&format!("  (import \"{import}\" (func $b{b}_imp{i} {ty}))\n")),
            }
        }
        if let Some(host) = bridge.host {
            out.push_str(&format!("  (import \"{host}\" (instance $b{b}_host\n{decls}  ))\n"));
            for (name, _) in bridge.types {
                out.push_str(&format!("  (alias export $b{b}_host \"{name}\" (type $b{b}_{name}))\n"));
            }
            for (i, f) in bridge.funcs.iter().enumerate().filter(|(_, f)| f.builtin.is_none()) {
                let import = f.import.unwrap_or(f.name);
                out.push_str(&format!("  (alias export $b{b}_host \"{import}\" (func $b{b}_imp{i}))\n"));
            }
        }
        for (i, f) in bridge.funcs.iter().enumerate() {
            match f.builtin {
                Some(canon) => {
                    let canon = canon.replace('$', &format!("$b{b}_"));
                    out.push_str(&format!("  (core func $b{b}_low{i} {canon})\n"));
                }
                None => out.push_str(&format!("  (core func $b{b}_low{i} (canon lower (func $b{b}_imp{i}) {opts}))\n")),
            }
            if wrapped(f) {
                wrap(b, i, f, &mut wrapper_imports, &mut wrappers, &mut wrapper_args);
                if let Some(resource) = f.drops_borrow {
                    out.push_str(&format!("  (core func $b{b}_drop{i} (canon resource.drop $b{b}_{resource}))\n"));
                }
            }
        }
    }
    out.push_str(&format!(
        "  (core module $wrap\n{wrapper_imports}{wrappers}  )\n  (core instance $wrap (instantiate $wrap (with \"\" (instance{wrapper_args}))))\n"
    ));
    for (b, bridge) in bridges.iter().enumerate() {
        let mut exports = String::new();
        for (i, f) in bridge.funcs.iter().enumerate() {
            let ty = f.ty.replace('$', &format!("$b{b}_"));
            let core = if wrapped(f) { format!("$wrap \"b{b}_{i}\"") } else { format!("$b{b}_low{i}") };
            out.push_str(&format!("  (func $b{b}_lift{i} {ty} (canon lift (core func {core}) {opts}))\n"));
            match bridge.guest {
                Some(_) => exports.push_str(&format!(" (export \"{}\" (func $b{b}_lift{i}))", f.name)),
                None => out.push_str(&format!("  (export \"{}\" (func $b{b}_lift{i}))\n", f.name)),
            }
        }
        if let Some(guest) = bridge.guest {
            for (name, _) in bridge.types {
                exports.push_str(&format!(" (export \"{name}\" (type $b{b}_{name}))"));
            }
            out.push_str(&format!(
                "  (instance $b{b}_guest{exports})\n  (export \"{guest}\" (instance $b{b}_guest))\n"
            ));
        }
    }
    out.push(')');
    out
}

/// Whether a function needs a core wrapper around the lowered import.
fn wrapped(f: &Func<'_>) -> bool {
    f.results_in_memory || f.drops_borrow.is_some()
}

/// The core wrapper of function `i` of bridge `b`: passes a return area (at 16) for results
/// in memory, and drops the borrowed first parameter after the call.
fn wrap(b: usize, i: usize, f: &Func<'_>, imports: &mut String, wrappers: &mut String, args: &mut String) {
    let params: String = f.core_params.iter().map(|p| format!(" {p}")).collect();
    let gets: String = (0..f.core_params.len()).map(|j| format!(" (local.get {j})")).collect();
    let (retptr, import_result, result, local, save, ret) = match (f.results_in_memory, f.flat_result) {
        (true, _) => {
            (" i32", String::new(), " (result i32)".to_string(), String::new(), "", " (i32.const 16)".to_string())
        }
        (false, Some(t)) => (
            "",
            format!(" (result {t})"),
            format!(" (result {t})"),
            format!(" (local $r {t})"),
            " (local.set $r)",
            " (local.get $r)".to_string(),
        ),
        (false, None) => ("", String::new(), String::new(), String::new(), "", String::new()),
    };
    let retptr_arg = if f.results_in_memory { " (i32.const 16)" } else { "" };
    let drop = if f.drops_borrow.is_some() { " (call $b{b}_drop{i} (local.get 0))" } else { "" };
    let drop = drop.replace("{b}", &b.to_string()).replace("{i}", &i.to_string());
    imports
        .push_str(&format!("    (import \"\" \"b{b}_{i}\" (func $b{b}_{i} (param{params}{retptr}){import_result}))\n"));
    if f.drops_borrow.is_some() {
        imports.push_str(&format!("    (import \"\" \"b{b}_drop{i}\" (func $b{b}_drop{i} (param i32)))\n"));
        args.push_str(&format!(" (export \"b{b}_drop{i}\" (func $b{b}_drop{i}))"));
    }
    wrappers.push_str(&format!(
        "    (func (export \"b{b}_{i}\") (param{params}){result}{local}{gets}{retptr_arg} (call $b{b}_{i}){save}{drop}{ret})\n"
    ));
    args.push_str(&format!(" (export \"b{b}_{i}\" (func $b{b}_low{i}))"));
}
