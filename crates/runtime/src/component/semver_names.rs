//! Matching an import's name against a linker's names by semver compatibility: a component
//! built against `wasi:cli/stdout@0.2.0` runs on a host that defines `wasi:cli/stdout@0.2.12`,
//! and one built against 0.2.12 on a host of 0.2.3, as with Wasmtime's linker. Two versions are
//! compatible when they agree on the leading non-zero part: the major version if it is not 0,
//! else the minor if it is not 0, else the patch (so 0.0.x versions match only themselves).
//! Pre-release versions (`1.0.0-rc1`) and names without a version match only exactly.
//!
//! An exact match always wins; among compatible names the highest version is chosen. Only the
//! top-level names of a linker carry versions (interfaces are imported at the root), but the
//! lookup works in any map.

use indexmap::IndexMap;

/// A name `package@version` split into its package and its compatibility key and version.
struct Versioned<'a> {
    package: &'a str,
    /// The leading non-zero part and where it is (0 major, 1 minor, 2 patch).
    key: (usize, u64),
    version: [u64; 3],
}

/// Reads `name` as `package@MAJOR.MINOR.PATCH`; `None` without a version or with a
/// pre-release or build suffix.
fn versioned(name: &str) -> Option<Versioned<'_>> {
    let (package, version) = name.rsplit_once('@')?;
    let mut parts = version.split('.').map(|p| if p.is_empty() || p.starts_with('+') { None } else { p.parse().ok() });
    let version = [parts.next()??, parts.next()??, parts.next()??];
    if parts.next().is_some() {
        return None;
    }
    let position = version.iter().position(|&v| v != 0).unwrap_or(2);
    Some(Versioned { package, key: (position, version[position]), version })
}

/// The name under which `map` defines what `name` asks for: `name` itself if defined, else the
/// highest semver-compatible version of the same package.
pub(crate) fn resolve<'m, D>(map: &'m IndexMap<String, D>, name: &str) -> Option<&'m str> {
    if let Some((defined, _)) = map.get_key_value(name) {
        return Some(defined);
    }
    let wanted = versioned(name)?;
    map.keys()
        .filter_map(|defined| Some((defined, versioned(defined)?)))
        .filter(|(_, v)| v.package == wanted.package && v.key == wanted.key)
        .max_by_key(|(_, v)| v.version)
        .map(|(defined, _)| defined.as_str())
}

/// What `map` defines for `name`, by [`resolve`].
#[inline]
pub(crate) fn get<'m, D>(map: &'m IndexMap<String, D>, name: &str) -> Option<&'m D> {
    match map.get(name) {
        Some(d) => Some(d),
        None => map.get(resolve(map, name)?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(names: &[&str]) -> IndexMap<String, ()> {
        names.iter().map(|n| (n.to_string(), ())).collect()
    }

    #[test]
    fn compatible_versions_are_found() {
        let m =
            map(&["wasi:cli/stdout@0.2.3", "wasi:cli/stdout@0.2.12", "wasi:cli/stdout@0.3.0", "x:y/z@1.4.0", "p:q/r"]);
        let resolve = |n: &str| resolve(&m, n);
        assert_eq!(resolve("wasi:cli/stdout@0.2.3"), Some("wasi:cli/stdout@0.2.3"), "exact wins");
        assert_eq!(resolve("wasi:cli/stdout@0.2.0"), Some("wasi:cli/stdout@0.2.12"), "the highest compatible");
        assert_eq!(resolve("wasi:cli/stdout@0.2.99"), Some("wasi:cli/stdout@0.2.12"));
        assert_eq!(resolve("wasi:cli/stdout@0.3.1"), Some("wasi:cli/stdout@0.3.0"));
        assert_eq!(resolve("wasi:cli/stdout@0.4.0"), None);
        assert_eq!(resolve("wasi:cli/stderr@0.2.0"), None, "another package");
        assert_eq!(resolve("x:y/z@1.0.0"), Some("x:y/z@1.4.0"));
        assert_eq!(resolve("x:y/z@2.0.0"), None);
        assert_eq!(resolve("p:q/r"), Some("p:q/r"));
        assert_eq!(resolve("p:q/r@1.0.0"), None);
        assert_eq!(get(&m, "x:y/z@1.9.9"), Some(&()));
    }

    #[test]
    fn zero_versions_and_prereleases_match_only_themselves() {
        let m = map(&["a:b/c@0.0.1", "a:b/d@1.0.0-rc1"]);
        assert_eq!(resolve(&m, "a:b/c@0.0.2"), None);
        assert_eq!(resolve(&m, "a:b/c@0.0.1"), Some("a:b/c@0.0.1"));
        assert_eq!(resolve(&m, "a:b/d@1.0.0"), None);
        assert_eq!(resolve(&m, "a:b/d@1.0.0-rc2"), None);
        assert_eq!(resolve(&m, "a:b/d@1.0.0-rc1"), Some("a:b/d@1.0.0-rc1"));
    }
}
