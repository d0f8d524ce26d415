//! Rust names for WIT names: `snake_case` for functions, fields, parameters and modules,
//! `UpperCamelCase` for types and cases, `SCREAMING_SNAKE_CASE` for flags, with Rust
//! keywords dodged by a trailing `_` (`type` becomes `type_`), as Wasmtime names them.
//!
//! A WIT name is a label: kebab-case words, each all lowercase or all uppercase, so the
//! conversions only split on `-` and change case.

use proc_macro2::{Ident, Span};

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern", "false", "fn",
    "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self",
    "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where", "while", "abstract",
    "become", "box", "do", "final", "macro", "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
];

fn words(name: &str) -> impl Iterator<Item = &str> {
    name.split(['-', '.', ':', '/', '@', '+', '_']).filter(|w| !w.is_empty())
}

/// `foo-bar` → `foo_bar`.
pub fn snake(name: &str) -> String {
    let s: Vec<String> = words(name).map(str::to_ascii_lowercase).collect();
    dodge(s.join("_"))
}

/// `foo-bar` → `FooBar`, `HTTP-v2` → `HttpV2`.
pub fn camel(name: &str) -> String {
    let s: String = words(name)
        .map(|w| {
            let lower = w.to_ascii_lowercase();
            let mut chars = lower.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect();
    dodge(s)
}

/// `foo-bar` → `FOO_BAR`.
pub fn shouty(name: &str) -> String {
    let s: Vec<String> = words(name).map(str::to_ascii_uppercase).collect();
    dodge(s.join("_"))
}

fn dodge(name: String) -> String {
    if KEYWORDS.contains(&name.as_str()) || name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("{name}_")
    } else {
        name
    }
}

/// An identifier from a name already converted.
pub fn ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(snake("foo-bar"), "foo_bar");
        assert_eq!(snake("HTTP-get"), "http_get");
        assert_eq!(snake("type"), "type_");
        assert_eq!(snake("self"), "self_");
        assert_eq!(camel("foo-bar"), "FooBar");
        assert_eq!(camel("HTTP-v2"), "HttpV2");
        assert_eq!(camel("self"), "Self_");
        assert_eq!(shouty("read-all"), "READ_ALL");
    }
}
