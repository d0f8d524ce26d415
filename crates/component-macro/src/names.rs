//! Component-model names of Rust items: the default kebab-case name of a field, case or flag,
//! and the check that a name given with `#[component(name = "...")]` is a valid label.
//!
//! A label is words joined by `-`; each word is a lowercase letter followed by lowercase
//! letters and digits, or an uppercase letter followed by uppercase letters and digits.

/// Whether `name` is a valid component-model label.
pub fn is_label(name: &str) -> bool {
    !name.is_empty()
        && name.split('-').all(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) if first.is_ascii_lowercase() => {
                    chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                }
                Some(first) if first.is_ascii_uppercase() => {
                    chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
                }
                _ => false,
            }
        })
}

/// The default label of a Rust identifier: `first_name` and `FirstName` both become
/// `first-name`, `READ_ALL` becomes `read-all`, `HttpV2` becomes `http-v2`. A raw identifier
/// loses its `r#`, and leading or trailing underscores are dropped (`type_` is `type`). The
/// result may still not be a label (for example `x__1`); the caller checks.
pub fn kebab_case(ident: &str) -> String {
    let ident = ident.strip_prefix("r#").unwrap_or(ident);
    let chars: Vec<char> = ident.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c == '_' {
            if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
            continue;
        }
        if c.is_ascii_uppercase() && i > 0 && !out.is_empty() && !out.ends_with('-') {
            let prev = chars[i - 1];
            let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            // A new word starts at `aB`, at `2B`, and at the last capital of a run followed by
            // a lowercase letter (`HTTPServer` -> `http-server`).
            if prev.is_ascii_lowercase() || prev.is_ascii_digit() || (prev.is_ascii_uppercase() && next_is_lower) {
                out.push('-');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    // Leading and trailing underscores (`type_`, a keyword dodged) are dropped.
    while out.ends_with('-') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names() {
        assert_eq!(kebab_case("name"), "name");
        assert_eq!(kebab_case("first_name"), "first-name");
        assert_eq!(kebab_case("FirstName"), "first-name");
        assert_eq!(kebab_case("READ_ALL"), "read-all");
        assert_eq!(kebab_case("HTTPServer"), "http-server");
        assert_eq!(kebab_case("HttpV2"), "http-v2");
        assert_eq!(kebab_case("utf8"), "utf8");
        assert_eq!(kebab_case("A"), "a");
        assert_eq!(kebab_case("r#type"), "type");
    }

    #[test]
    fn labels() {
        for good in ["a", "first-name", "HTTP", "http-V2", "x1-y2", "a-B-c"] {
            assert!(is_label(good), "{good}");
        }
        for bad in ["", "-a", "a-", "a--b", "Ab", "aB", "1a", "a_b", "a b", "_x", "x_"] {
            assert!(!is_label(bad), "{bad}");
        }
        assert_eq!(kebab_case("type_"), "type");
        assert_eq!(kebab_case("_x"), "x");
        assert!(!is_label(&kebab_case("x_1")));
    }
}
