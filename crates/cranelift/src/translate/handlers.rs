//! The data of exception handler scopes (which `exceptions` builds and the translator keeps),
//! and the read-ahead of a legacy `try`'s clauses. Apart from `exceptions` so that the
//! translator's state can hold scopes without the two modules importing each other.

use anyhow::Result;
use cranelift_codegen::ir;
use wasmparser::{Operator, OperatorsReader};
use weld_environ::{TagIndex, wasmparser};

/// The handlers one `try_table` or legacy `try` adds.
pub(crate) struct HandlerScope {
    /// The scope around this one.
    pub parent: Option<usize>,
    pub clauses: Vec<Clause>,
}

/// One catch clause.
pub(crate) struct Clause {
    /// The tag caught, or `None` for a catch-all.
    pub tag: Option<TagIndex>,
    /// The block a matching exception lands in, taking the `exnref`.
    pub landing: ir::Block,
    /// Whether some call site lists this clause (otherwise its landing block is unreachable).
    pub used: bool,
    /// What the handler does once there.
    pub action: ClauseAction,
}

/// What a clause's landing block does.
#[derive(Clone, Copy)]
pub(crate) enum ClauseAction {
    /// `try_table`: branch to `label` (relative to the `try_table`'s enclosing frame) with the
    /// payload, and with the `exnref` too when `with_ref`.
    Branch { label: u32, with_ref: bool },
    /// Legacy `catch`: the clause's body starts here with the payload on the stack; `keep` if
    /// its body may `rethrow`.
    LegacyBody { keep: bool },
}

/// A legacy `try`'s clauses, read ahead of its body.
pub(crate) enum LegacyClauses {
    /// `catch $tag` / `catch_all` clauses (`None` is a catch-all), each with whether its body
    /// contains a `rethrow`.
    Catches(Vec<(Option<u32>, bool)>),
    /// `delegate` to this label (relative to the `try`'s enclosing frame).
    Delegate(u32),
}

/// Reads a legacy `try`'s clauses from `reader`, positioned right after the `try`.
pub(crate) fn scan_legacy_try(mut reader: OperatorsReader<'_>) -> Result<LegacyClauses> {
    let mut depth = 0u32;
    let mut clauses: Vec<(Option<u32>, bool)> = Vec::new();
    while !reader.eof() {
        match reader.read()? {
            Operator::Block { .. }
            | Operator::Loop { .. }
            | Operator::If { .. }
            | Operator::Try { .. }
            | Operator::TryTable { .. } => depth += 1,
            Operator::End if depth == 0 => break,
            Operator::End => depth -= 1,
            Operator::Delegate { relative_depth } if depth == 0 => return Ok(LegacyClauses::Delegate(relative_depth)),
            Operator::Delegate { .. } => depth -= 1,
            Operator::Catch { tag_index } if depth == 0 => clauses.push((Some(tag_index), false)),
            Operator::CatchAll if depth == 0 => clauses.push((None, false)),
            Operator::Rethrow { .. } => {
                if let Some(last) = clauses.last_mut() {
                    last.1 = true;
                }
            }
            _ => {}
        }
    }
    Ok(LegacyClauses::Catches(clauses))
}
