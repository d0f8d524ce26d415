//! Recursion groups: the unit in which a module's function types get their identity.
//!
//! Since Wasm 3.0 a type section is a list of recursion groups (`rec`), and two types are
//! the same type exactly when they sit at the same place in two structurally equal groups,
//! where a reference to a type of the same group compares by its place in the group and a
//! reference to an earlier type by that type's identity (iso-recursive equivalence). A type
//! declared alone is a group of one. So `$t1` and `$t2` of `(rec (type $t1 (func)) (type $t2
//! (func)))` are two different types, and neither is a `(func)` declared alone; whether a
//! type is final is part of its identity too.
//!
//! This module reads the groups and keeps their types with concrete references as module
//! type indices; the runtime's type registry turns them into engine-wide ids, and
//! [`Module::types`](crate::Module::types) keeps the same types with those references
//! erased, as code generation needs them. Only function types are implemented: struct and
//! array types and declared supertypes are the GC proposal, refused here with a message
//! that says so (declared supertypes would also need subtype checks in `call_indirect`).

use crate::FuncType;
use anyhow::{Result, bail};

/// One type of a recursion group.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct GroupType {
    /// The function type, with concrete references as module type indices.
    pub ty: FuncType,
    /// Whether the type is final (`(type (func))`, or `(sub final (func))`) rather than
    /// open to subtypes (`(sub (func))`).
    pub is_final: bool,
}

/// A recursion group of a module's type section.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct RecGroup {
    /// The group's types, in order. A concrete reference names a type of this group or of
    /// an earlier one.
    pub types: Box<[GroupType]>,
}

/// Reads one recursion group whose first type has module index `first`.
pub(crate) fn read_rec_group(group: wasmparser::RecGroup, first: u32) -> Result<RecGroup> {
    let mut types = Vec::with_capacity(group.types().len());
    for (i, sub) in (first..).zip(group.into_types()) {
        if !sub.supertype_idxs.is_empty() {
            bail!("type {i} declares a supertype: subtyping is part of the GC proposal, which is not supported yet");
        }
        let ty = match &sub.composite_type.inner {
            wasmparser::CompositeInnerType::Func(f) => FuncType::from_module(f)?,
            wasmparser::CompositeInnerType::Struct(_) => {
                bail!("type {i} is a struct type: the GC proposal is not supported yet")
            }
            wasmparser::CompositeInnerType::Array(_) => {
                bail!("type {i} is an array type: the GC proposal is not supported yet")
            }
            wasmparser::CompositeInnerType::Cont(_) => {
                bail!("type {i} is a continuation type: the stack switching proposal is not supported")
            }
        };
        if sub.composite_type.shared {
            bail!("type {i} is shared: the shared-everything threads proposal is not supported");
        }
        types.push(GroupType { ty, is_final: sub.is_final });
    }
    Ok(RecGroup { types: types.into() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{HeapType, RefType, ValType};

    fn groups(wat: &str) -> Result<Vec<RecGroup>> {
        let wasm = wat::parse_str(wat).unwrap();
        Ok(crate::translate_module_default(&wasm)?.module.rec_groups)
    }

    #[test]
    fn groups_keep_their_order_finality_and_concrete_references() {
        let g = groups(
            "(module
               (type $a (func))
               (rec (type $b (func (param (ref $c)))) (type $c (sub (func (result (ref null $a))))))
               (type (func (param funcref))))",
        )
        .unwrap();
        assert_eq!(g.iter().map(|g| g.types.len()).collect::<Vec<_>>(), [1, 2, 1]);
        let concrete = |nullable, i| ValType::Ref(RefType { nullable, heap: HeapType::ConcreteFunc(i) });
        assert_eq!(g[1].types[0].ty.params[..], [concrete(false, 2)]);
        assert_eq!(g[1].types[1].ty.results[..], [concrete(true, 0)]);
        assert!(g[1].types[0].is_final && !g[1].types[1].is_final);
        assert_eq!(g[2].types[0].ty.params[..], [ValType::FUNCREF]);
    }

    #[test]
    fn module_types_erase_concrete_references() {
        let wasm = wat::parse_str("(module (type $a (func)) (type (func (param (ref $a)))))").unwrap();
        let m = crate::translate_module_default(&wasm).unwrap().module;
        let erased = ValType::Ref(RefType { nullable: false, heap: HeapType::Func });
        assert_eq!(m.types.values().nth(1).unwrap().params[..], [erased]);
    }

    #[test]
    fn gc_types_are_refused_by_name() {
        for (wat, says) in [
            ("(module (type (struct)))", "type 0 is a struct type"),
            ("(module (type (func)) (type (array i8)))", "type 1 is an array type"),
            ("(module (type $s (sub (func))) (type (sub $s (func))))", "type 1 declares a supertype"),
        ] {
            let e = format!("{:#}", groups(wat).unwrap_err());
            assert!(e.contains(says) && e.contains("GC proposal"), "{wat}: {e}");
        }
    }
}
