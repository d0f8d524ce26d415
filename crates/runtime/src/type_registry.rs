//! The engine's function types: one id for each distinct type, shared by every module and
//! host function of the engine, so that `call_indirect`, `call_ref`, import matching and
//! tags compare types by comparing two integers.
//!
//! Distinct means the spec's iso-recursive equivalence (see [`weld_environ::RecGroup`]):
//! types are registered a recursion group at a time, keyed by the group's structure, in
//! which a reference to a type of the same group is its place in the group and a reference
//! to an earlier type is that type's id. Two structurally equal groups get the same ids; a
//! type declared alone and a host function's type are groups of one.
//!
//! Every id keeps its type with concrete references erased (what trampolines are compiled
//! from and what `Func::ty` shows). Nothing is ever unregistered: ids live as long as the
//! engine, as its trampolines do.

use std::collections::HashMap;
use weld_environ::{FuncType, HeapType, RecGroup, RefType, ValType};

/// Where a concrete reference of a group's key points.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum KeyHeap {
    /// A heap type without a type index.
    Abstract(HeapType),
    /// A type registered before the group: its id.
    Registered(u32),
    /// A type of the group itself: its place in the group.
    InGroup(u32),
}

/// A value type of a group's key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum KeyVal {
    /// A number or vector type.
    Plain(ValType),
    /// A reference type.
    Ref { nullable: bool, heap: KeyHeap },
}

/// One type of a group's key.
#[derive(Clone, PartialEq, Eq, Hash)]
struct KeyType {
    params: Box<[KeyVal]>,
    results: Box<[KeyVal]>,
    is_final: bool,
}

/// The engine's registered types.
#[derive(Default)]
pub(crate) struct TypeRegistry {
    /// The first id of each registered group, by its key.
    groups: HashMap<Box<[KeyType]>, u32>,
    /// Ids of host signatures already asked for (what [`TypeRegistry::func_type_id`] is
    /// asked for at every host function's creation, looked up without building a key).
    host_ids: HashMap<FuncType, u32>,
    /// Every id's type, concrete references erased.
    types: Vec<FuncType>,
}

impl TypeRegistry {
    /// The id of `ty` declared alone and final, as a host function's type is. A concrete
    /// reference in `ty` holds an engine id (as in [`crate::ExternType`]s).
    pub(crate) fn func_type_id(&mut self, ty: &FuncType) -> u32 {
        if let Some(id) = self.host_ids.get(ty) {
            return *id;
        }
        let key = [key_type(ty, true, KeyHeap::Registered)];
        let id = self.register_group(key.into(), [ty]);
        self.host_ids.insert(ty.clone(), id);
        id
    }

    /// The ids of a module's types, by type index, registering its groups in order.
    pub(crate) fn module_type_ids(&mut self, groups: &[RecGroup]) -> Box<[u32]> {
        let mut ids: Vec<u32> = Vec::new();
        for group in groups {
            let start = ids.len() as u32;
            let key = group
                .types
                .iter()
                .map(|t| {
                    key_type(&t.ty, t.is_final, |i| match i.checked_sub(start) {
                        Some(place) => KeyHeap::InGroup(place),
                        None => KeyHeap::Registered(ids[i as usize]),
                    })
                })
                .collect();
            let first = self.register_group(key, group.types.iter().map(|t| &t.ty));
            ids.extend(first..first + group.types.len() as u32);
        }
        ids.into()
    }

    /// The type of id `id`, concrete references erased.
    #[inline]
    pub(crate) fn get(&self, id: u32) -> &FuncType {
        &self.types[id as usize]
    }

    /// The first id of the group `key` (whose types are `types`), registering it if new.
    fn register_group<'t>(&mut self, key: Box<[KeyType]>, types: impl IntoIterator<Item = &'t FuncType>) -> u32 {
        let next = self.types.len() as u32;
        let first = *self.groups.entry(key).or_insert(next);
        if first == next {
            self.types.extend(types.into_iter().map(FuncType::without_concrete_refs));
        }
        first
    }
}

/// The key of `ty`, with `concrete` telling where a concrete reference's index points.
fn key_type(ty: &FuncType, is_final: bool, concrete: impl Fn(u32) -> KeyHeap) -> KeyType {
    let key_val = |t: &ValType| match *t {
        ValType::Ref(RefType { nullable, heap }) => KeyVal::Ref {
            nullable,
            heap: match heap {
                HeapType::ConcreteFunc(i) => concrete(i),
                other => KeyHeap::Abstract(other),
            },
        },
        other => KeyVal::Plain(other),
    };
    KeyType {
        params: ty.params.iter().map(key_val).collect(),
        results: ty.results.iter().map(key_val).collect(),
        is_final,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(registry: &mut TypeRegistry, wat: &str) -> Vec<u32> {
        let wasm = wat::parse_str(wat).unwrap();
        let module = weld_environ::translate_module_default(&wasm).unwrap().module;
        registry.module_type_ids(&module.rec_groups).into()
    }

    #[test]
    fn equal_groups_share_ids_and_different_places_do_not() {
        let mut r = TypeRegistry::default();
        let a = ids(&mut r, "(module (type (func)) (rec (type (func)) (type (func))))");
        let b = ids(&mut r, "(module (rec (type (func)) (type (func))) (type (func)))");
        assert_eq!(a[0], b[2], "a type declared alone is one type in every module");
        assert_eq!(a[1..], b[..2], "equal groups are equal types, place by place");
        assert_ne!(a[1], a[2], "two places of one group are two types");
        assert_ne!(a[0], a[1], "a group of two is not two groups of one");
        assert_eq!(r.func_type_id(&FuncType::default()), a[0], "a host signature is a type declared alone");
    }

    #[test]
    fn references_compare_by_place_inside_and_by_id_outside() {
        let mut r = TypeRegistry::default();
        let a = ids(
            &mut r,
            "(module (type $x (func)) (type $y (func (param i32)))
               (rec (type $p (func (param (ref $q)))) (type $q (func (param (ref $x))))))",
        );
        // The same group shape, but its outside reference names a different type.
        let b = ids(
            &mut r,
            "(module (type $x (func)) (type $y (func (param i32)))
               (rec (type $p (func (param (ref $q)))) (type $q (func (param (ref $y))))))",
        );
        // The two references of the group swapped.
        let c = ids(
            &mut r,
            "(module (type $x (func))
               (rec (type $q (func (param (ref $x)))) (type $p (func (param (ref $q))))))",
        );
        let d = ids(
            &mut r,
            "(module (type $y (func (param i32))) (type $x (func))
               (rec (type $p (func (param (ref $q)))) (type $q (func (param (ref $x))))))",
        );
        assert_eq!(a[..2], [b[0], b[1]]);
        assert_ne!(a[2..], b[2..], "an outside reference compares by the id it names");
        assert_ne!(a[2..], [c[2], c[1]], "a group with its places swapped is another group");
        assert_eq!(a[2..], d[2..], "module indices do not matter, identities do");
        assert_eq!(r.get(a[3]), &FuncType::new([ValType::Ref(RefType { nullable: false, heap: HeapType::Func })], []));
    }

    #[test]
    fn finality_is_part_of_a_type() {
        let mut r = TypeRegistry::default();
        let a = ids(&mut r, "(module (type (func)) (type (sub (func))) (type (sub final (func))))");
        assert_ne!(a[0], a[1]);
        assert_eq!(a[0], a[2]);
    }
}
