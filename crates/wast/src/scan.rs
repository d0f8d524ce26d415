//! A rough, tolerant scan of a `.wast` file for its top-level directives.
//!
//! When a script cannot be parsed at all, the runner still has to say how many assertions the
//! file held, so that every one of them counts as failed. This scanner finds the top-level
//! `(assert_...` and `(module ...` forms (also `(module definition`/`(module instance`) by
//! tracking parenthesis depth while skipping strings and comments. It does not validate anything
//! and never fails: malformed input just yields whatever forms could be recognized.

/// One top-level form that counts as an assertion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopLevelForm {
    /// 1-based line of the keyword.
    pub line: u32,
    /// 1-based column of the keyword.
    pub col: u32,
    /// The keyword after the parenthesis, e.g. `assert_return` or `module`.
    pub keyword: String,
}

/// Returns the top-level forms of `text` that count as assertions: every `(assert_*` and
/// every `(module` (and `(component`) at parenthesis depth zero.
pub fn count_directives(text: &str) -> Vec<TopLevelForm> {
    let bytes = text.as_bytes();
    let mut forms = Vec::new();
    let mut depth = 0usize;
    let mut line = 1u32;
    let mut line_start = 0usize;
    let mut i = 0usize;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                line += 1;
                line_start = i + 1;
                i += 1;
            }
            b'"' => {
                // A string: skip to the closing quote, honouring backslash escapes.
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    if i < bytes.len() && bytes[i] == b'\n' {
                        line += 1;
                        line_start = i + 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            b';' if bytes.get(i + 1) == Some(&b';') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'(' if bytes.get(i + 1) == Some(&b';') => {
                // Block comments nest.
                let mut nest = 1usize;
                i += 2;
                while i < bytes.len() && nest > 0 {
                    if bytes[i] == b'(' && bytes.get(i + 1) == Some(&b';') {
                        nest += 1;
                        i += 2;
                    } else if bytes[i] == b';' && bytes.get(i + 1) == Some(&b')') {
                        nest -= 1;
                        i += 2;
                    } else {
                        if bytes[i] == b'\n' {
                            line += 1;
                            line_start = i + 1;
                        }
                        i += 1;
                    }
                }
            }
            b'(' => {
                if depth == 0 {
                    let start = skip_trivia(bytes, i + 1);
                    let word: Vec<u8> = bytes[start..]
                        .iter()
                        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_' || **b == b'.')
                        .copied()
                        .collect();
                    let word = String::from_utf8_lossy(&word).into_owned();
                    if word.starts_with("assert_") || word == "module" || word == "component" {
                        // Report the keyword's position, as the parser does.
                        let skipped = &bytes[i..start];
                        let newlines = skipped.iter().filter(|b| **b == b'\n').count() as u32;
                        let kw_line_start = match skipped.iter().rposition(|b| *b == b'\n') {
                            Some(p) => i + p + 1,
                            None => line_start,
                        };
                        forms.push(TopLevelForm {
                            line: line + newlines,
                            col: (start - kw_line_start + 1) as u32,
                            keyword: word,
                        });
                    }
                }
                depth += 1;
                i += 1;
            }
            b')' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            _ => i += 1,
        }
    }
    forms
}

/// The position of the first byte at or after `i` that is not whitespace or a comment.
fn skip_trivia(bytes: &[u8], mut i: usize) -> usize {
    loop {
        match bytes.get(i) {
            Some(b) if b.is_ascii_whitespace() => i += 1,
            Some(b';') if bytes.get(i + 1) == Some(&b';') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            Some(b'(') if bytes.get(i + 1) == Some(&b';') => {
                let mut nest = 1usize;
                i += 2;
                while i < bytes.len() && nest > 0 {
                    if bytes[i] == b'(' && bytes.get(i + 1) == Some(&b';') {
                        nest += 1;
                        i += 2;
                    } else if bytes[i] == b';' && bytes.get(i + 1) == Some(&b')') {
                        nest -= 1;
                        i += 2;
                    } else {
                        i += 1;
                    }
                }
            }
            _ => return i,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_top_level_forms_only() {
        let text = r#"
;; (assert_return (invoke "x"))
(module (func (export "f")))
(; (module) (; nested ;) (module) ;)
(assert_return (invoke "f" (i32.const 1)) (i32.const 2))
(invoke "f")
(assert_malformed (module quote "(module") "unexpected )")
(register "m")
  (module definition $d)
( ;; comment
module)
(;c;)((;c;)assert_trap (;c;))
"#;
        let forms = count_directives(text);
        let kinds: Vec<_> = forms.iter().map(|f| (f.line, f.keyword.as_str())).collect();
        assert_eq!(
            kinds,
            vec![
                (3, "module"),
                (5, "assert_return"),
                (7, "assert_malformed"),
                (9, "module"),
                (11, "module"),
                (12, "assert_trap")
            ]
        );
        assert_eq!(forms[3].col, 4);
    }

    #[test]
    fn tolerates_garbage() {
        assert!(count_directives("(((\"unterminated").is_empty());
        assert_eq!(count_directives("))) (module").len(), 1);
    }
}
