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
    let mut lines = LineCounter::default();
    for (pos, paren) in structural_parens(text) {
        match paren {
            Paren::Open => {
                if depth == 0 {
                    let word = keyword_after(bytes, pos);
                    if word.text.starts_with("assert_") || word.text == "module" || word.text == "component" {
                        // Report the keyword's position, as the parser does.
                        let (line, col) = lines.line_and_column(bytes, word.start);
                        forms.push(TopLevelForm { line, col, keyword: word.text.to_string() });
                    }
                }
                depth += 1;
            }
            Paren::Close => depth = depth.saturating_sub(1),
        }
    }
    forms
}

/// A parenthesis of the script's structure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Paren {
    /// `(`, not the start of a block comment.
    Open,
    /// `)`.
    Close,
}

/// The byte offsets of every parenthesis of `text` outside strings and comments, in order.
pub(crate) fn structural_parens(text: &str) -> Vec<(usize, Paren)> {
    let bytes = text.as_bytes();
    let mut parens = Vec::new();
    let mut i = 0usize;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                // A string: skip to the closing quote, honouring backslash escapes.
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            b';' if bytes.get(i + 1) == Some(&b';') => i = skip_line_comment(bytes, i),
            b'(' if bytes.get(i + 1) == Some(&b';') => i = skip_block_comment(bytes, i),
            b'(' => {
                parens.push((i, Paren::Open));
                i += 1;
            }
            b')' => {
                parens.push((i, Paren::Close));
                i += 1;
            }
            _ => i += 1,
        }
    }
    parens
}

/// The keyword that follows the `(` at `open`, past whitespace and comments.
pub(crate) struct Keyword<'a> {
    /// Its byte offset.
    pub(crate) start: usize,
    /// The keyword, empty if something else follows.
    pub(crate) text: &'a str,
}

/// The keyword after the `(` at byte `open` of `bytes`.
pub(crate) fn keyword_after(bytes: &[u8], open: usize) -> Keyword<'_> {
    let start = skip_trivia(bytes, open + 1);
    let len = bytes[start..].iter().take_while(|b| b.is_ascii_alphanumeric() || **b == b'_' || **b == b'.').count();
    // Only ASCII bytes were taken, so this is a whole UTF-8 slice.
    Keyword { start, text: std::str::from_utf8(&bytes[start..start + len]).unwrap_or("") }
}

/// Line numbers of increasing byte offsets, each byte of the text looked at once.
#[derive(Default)]
struct LineCounter {
    /// Bytes before this offset have been counted.
    scanned: usize,
    /// Newlines before `scanned`.
    newlines: u32,
    /// The offset just after the last of them.
    line_start: usize,
}

impl LineCounter {
    /// The 1-based line and column of byte `pos`, which is not before an earlier call's.
    fn line_and_column(&mut self, bytes: &[u8], pos: usize) -> (u32, u32) {
        for (i, b) in bytes[self.scanned..pos].iter().enumerate() {
            if *b == b'\n' {
                self.newlines += 1;
                self.line_start = self.scanned + i + 1;
            }
        }
        self.scanned = pos;
        (self.newlines + 1, (pos - self.line_start + 1) as u32)
    }
}

/// The position of the first byte at or after `i` that is not whitespace or a comment.
fn skip_trivia(bytes: &[u8], mut i: usize) -> usize {
    loop {
        match bytes.get(i) {
            Some(b) if b.is_ascii_whitespace() => i += 1,
            Some(b';') if bytes.get(i + 1) == Some(&b';') => i = skip_line_comment(bytes, i),
            Some(b'(') if bytes.get(i + 1) == Some(&b';') => i = skip_block_comment(bytes, i),
            _ => return i,
        }
    }
}

/// The end of the `;;` comment at `i`: its newline, or the end of the text.
fn skip_line_comment(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && bytes[i] != b'\n' {
        i += 1;
    }
    i
}

/// The byte after the `(; ... ;)` comment at `i`; block comments nest.
fn skip_block_comment(bytes: &[u8], mut i: usize) -> usize {
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
    i
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
