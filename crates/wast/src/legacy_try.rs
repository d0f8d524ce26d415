//! The folded form of the legacy exception instructions, rewritten into their flat form.
//!
//! The spec's `legacy/*.wast` scripts write `try` folded:
//! `(try $l (result i32) (do instr*) (catch $tag instr*)* (catch_all instr*)?)` or
//! `(try ... (do instr*) (delegate $l))`. The `wast` crate (0.263) parses the flat form
//! (`try ... catch ... catch_all ... end`, `try ... delegate $l`) but not this folded one, so
//! without help every directive of those scripts would fail to parse and nothing in them would
//! run. This module rewrites each well-formed folded `try` into the flat form before parsing,
//! which is what the text format defines it to mean: the folded form is only an abbreviation.
//!
//! The rewrite keeps every line where it was (it replaces parentheses and `do` with spaces and
//! the closing `)` with `end`), so failures are still reported at the script's own lines. It
//! touches nothing else: a folded `try` whose clauses are not in the grammar's order (`do`
//! first, then `catch`es and at most one final `catch_all`, or `do` then one `delegate`) is left
//! as written, and the parser rejects it as the malformed text it is. Quoted modules (text in
//! strings) are not rewritten; the suite's only quoted folded `try`s are malformed ones.

use crate::scan::{Paren, keyword_after, structural_parens};

/// `text` with every well-formed folded `try` in flat form, or `None` if it has none.
pub(crate) fn unfold_legacy_try(text: &str) -> Option<String> {
    // Most scripts have no `try` at all: they are not scanned for forms.
    if !text.contains("try") {
        return None;
    }
    let bytes = text.as_bytes();
    let nodes = parenthesized_forms(text);
    let mut edits: Vec<Edit> = Vec::new();
    for node in &nodes {
        if keyword_after(bytes, node.open).text == "try" {
            edits.extend(unfold_one(bytes, node, &nodes));
        }
    }
    if edits.is_empty() {
        return None;
    }
    edits.sort_by_key(|e| e.at);
    let mut out = String::with_capacity(text.len() + edits.len());
    let mut copied = 0;
    for edit in edits {
        out.push_str(&text[copied..edit.at]);
        out.push_str(edit.with);
        copied = edit.at + edit.len;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

/// One parenthesized form: where it opens and closes, and its direct sub-forms.
struct Form {
    open: usize,
    close: usize,
    children: Vec<usize>,
}

/// Replace `len` bytes at `at` with `with`.
struct Edit {
    at: usize,
    len: usize,
    with: &'static str,
}

/// Every balanced parenthesized form of `text`, with the indices of its children in the result.
/// Unbalanced parentheses (a malformed script) end the forms they can and leave the rest out.
fn parenthesized_forms(text: &str) -> Vec<Form> {
    let mut forms: Vec<Form> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    for (pos, paren) in structural_parens(text) {
        match paren {
            Paren::Open => {
                let index = forms.len();
                if let Some(&parent) = open.last() {
                    forms[parent].children.push(index);
                }
                forms.push(Form { open: pos, close: usize::MAX, children: Vec::new() });
                open.push(index);
            }
            Paren::Close => {
                if let Some(index) = open.pop() {
                    forms[index].close = pos;
                }
            }
        }
    }
    forms
}

/// The edits that flatten the folded `try` form `node`, or none if it is not well formed.
fn unfold_one(bytes: &[u8], node: &Form, forms: &[Form]) -> Vec<Edit> {
    if node.close == usize::MAX {
        return Vec::new();
    }
    // The block type and label come before `(do`; `(type ..)`, `(param ..)` and `(result ..)`
    // are forms too, so the clauses are the children from the first `(do` on.
    let children: Vec<(&Form, &str)> =
        node.children.iter().map(|&c| (&forms[c], keyword_after(bytes, forms[c].open).text)).collect();
    let Some(first_clause) = children.iter().position(|(_, k)| *k == "do") else {
        return Vec::new();
    };
    let block_type_forms = &children[..first_clause];
    if !block_type_forms.iter().all(|(_, k)| matches!(*k, "type" | "param" | "result")) {
        return Vec::new();
    }
    let clauses = &children[first_clause..];
    let kinds: Vec<&str> = clauses.iter().map(|(_, k)| *k).collect();
    let delegates = match kinds.as_slice() {
        ["do", "delegate"] => true,
        ["do", rest @ ..] if catches_in_order(rest) => false,
        _ => return Vec::new(),
    };
    if clauses.iter().any(|(form, _)| form.close == usize::MAX) {
        return Vec::new();
    }
    let mut edits = vec![Edit { at: node.open, len: 1, with: " " }];
    for (form, keyword) in clauses {
        edits.push(Edit { at: form.open, len: 1, with: " " });
        if *keyword == "do" {
            let at = keyword_after(bytes, form.open).start;
            edits.push(Edit { at, len: 2, with: "  " });
        }
        edits.push(Edit { at: form.close, len: 1, with: " " });
    }
    // A `delegate` ends the block itself; the other forms end with `end`.
    edits.push(Edit { at: node.close, len: 1, with: if delegates { " " } else { " end " } });
    edits
}

/// Whether `clauses` are `catch`es followed by at most one `catch_all`, which is last.
fn catches_in_order(clauses: &[&str]) -> bool {
    match clauses.split_last() {
        None => true,
        Some((last, before)) => before.iter().all(|k| *k == "catch") && (*last == "catch" || *last == "catch_all"),
    }
}

#[cfg(test)]
mod tests {
    use super::unfold_legacy_try;

    #[test]
    fn flattens_catch_and_delegate_forms_keeping_lines() {
        let text = "(func (try $l (result i32)\n  (do (i32.const 1))\n  (catch $e (i32.const 2))\n  (catch_all (i32.const 3))))\n(func (try (do (throw $e)) (delegate 0)))";
        let flat = unfold_legacy_try(text).unwrap();
        let expected = [
            "(func  try $l (result i32)",
            "      (i32.const 1) ",
            "   catch $e (i32.const 2) ",
            "   catch_all (i32.const 3)  end )",
            "(func  try     (throw $e)   delegate 0  )",
        ];
        assert_eq!(flat.lines().collect::<Vec<_>>(), expected);
        assert_eq!(flat.lines().count(), text.lines().count());
    }

    #[test]
    fn nested_tries_are_each_flattened() {
        let text = "(try (do (try (do) (catch_all))) (catch $e (try (do) (delegate 1))))";
        let flat = unfold_legacy_try(text).unwrap();
        assert!(!flat.contains('('), "{flat}");
        let words: Vec<&str> = flat.split_whitespace().collect();
        assert_eq!(words, ["try", "try", "catch_all", "end", "catch", "$e", "try", "delegate", "1", "end"]);
    }

    #[test]
    fn malformed_orders_strings_and_other_forms_are_left_alone() {
        for text in [
            "(try (do) (catch $e) (delegate 0))",
            "(try (do) (catch_all) (catch $e))",
            "(try (do) (delegate) (delegate 0))",
            "(try (catch $e) (do))",
            "(try (do)",
            "(module quote \"(try (do) (catch_all))\")",
            ";; (try (do) (catch_all))\n(try_table (do))",
            "(block (do) (catch_all))",
        ] {
            assert_eq!(unfold_legacy_try(text), None, "{text}");
        }
    }
}
