//! Adapter discovery and partitioning, and the vocabulary of what adapter modules import.
//!
//! The inliner records every `canon lower` of a `canon lift` as a [`FusedCall`]. Here those
//! calls are grouped into adapter modules, and each module's instantiation is placed among the
//! initializers: a module is instantiated right before the first initializer that uses one of
//! its adapters, and it holds every fused call whose imports exist by then. An adapter whose
//! callee is itself another adapter goes into a later module than that adapter. Adapters that
//! no initializer uses (those only reached through exports or destructors) are placed at the
//! end.
//!
//! What this module does not do: generate code. FACT (crates/fact) turns a module's adapters
//! into core wasm, and names each item it imports with an [`AdapterImport`] defined here, so
//! that the runtime can supply them without knowing how the code was generated.

use super::info::*;
use super::translate::StringEncoding;
#[cfg(test)]
use crate::PrimaryMap;
use crate::SecondaryMap;

/// Something an adapter module imports, which the runtime supplies when instantiating it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AdapterImport {
    /// A linear memory of canonical options.
    Memory(RuntimeMemoryIndex),
    /// A `realloc` function of canonical options.
    Realloc(RuntimeReallocIndex),
    /// A `post-return` function.
    PostReturn(RuntimePostReturnIndex),
    /// The core function a lifted function runs.
    Callee(CoreDef),
    /// The mutable `i32` global holding a component instance's flags
    /// ([`FLAG_MAY_LEAVE`] | [`FLAG_MAY_ENTER`]).
    Flags(RuntimeComponentInstanceIndex),
    /// A function the runtime implements.
    Libcall(AdapterLibcall),
    /// The mutable `i64` global holding slot `n` of the current thread's context
    /// (`context.get`/`context.set`), which an adapter saves and clears for the callee's
    /// task and restores after it.
    TaskContext(u32),
}

/// Bit of a component instance's flags: the instance may call out (clear during `post-return`).
pub const FLAG_MAY_LEAVE: i32 = 1;
/// Bit of a component instance's flags: the instance may be entered (clear while it is on the
/// call stack, and for good after a trap in it).
pub const FLAG_MAY_ENTER: i32 = 2;

/// Which side of a call a value or a memory belongs to, as trap messages name it ("in the
/// callee's memory").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CallSide {
    /// The component that calls (whose `canon lower` made the call).
    Caller,
    /// The component called (whose `canon lift` is run).
    Callee,
}

impl std::fmt::Display for CallSide {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CallSide::Caller => "caller",
            CallSide::Callee => "callee",
        })
    }
}

/// One side of a string copy: where the string is and how it is encoded.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StringSide {
    /// Whether this is the caller's or the callee's memory (for trap messages).
    pub side: CallSide,
    /// The memory holding it.
    pub memory: RuntimeMemoryIndex,
    /// Whether that memory is 64-bit.
    pub memory64: bool,
    /// The encoding.
    pub encoding: StringEncoding,
    /// The `realloc` that allocates the destination (unused on the source side).
    pub realloc: Option<RuntimeReallocIndex>,
    /// The component instance whose options these are (its `may_leave` flag is cleared while
    /// its `realloc` runs).
    pub instance: RuntimeComponentInstanceIndex,
}

/// Functions the runtime provides to adapters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AdapterLibcall {
    /// `(code: i32) -> ()`: raises the trap whose code is `code` (see `Trap::code`).
    Trap,
    /// `() -> ()`: opens the borrow scope of a call that passes borrowed handles.
    EnterCall,
    /// `() -> ()`: closes the innermost borrow scope: traps if the callee instance still holds
    /// a borrowed handle it received for the call, and returns the lent handles.
    ExitCall(RuntimeComponentInstanceIndex),
    /// `() -> ()`: a synchronous call enters this instance, which uses thread built-ins: the
    /// call gets the task and implicit thread the spec gives every call (`thread.index`,
    /// switching to and from it), which calls into other instances do without.
    EnterSyncTask(RuntimeComponentInstanceIndex),
    /// `() -> ()`: the synchronous call that [`EnterSyncTask`](Self::EnterSyncTask) entered
    /// returns: its task resolves and its implicit thread leaves.
    ExitSyncTask(RuntimeComponentInstanceIndex),
    /// `(handle: i32) -> i32`: moves an owned handle from one instance's table to another's.
    TransferOwn {
        /// The handle's resource type.
        resource: RuntimeResourceIndex,
        /// The caller-side table.
        from: RuntimeComponentInstanceIndex,
        /// The callee-side table.
        to: RuntimeComponentInstanceIndex,
    },
    /// `(handle: i32) -> i32`: lends a handle for the current call: the callee gets a borrowed
    /// handle (or the representation, if it defines the resource).
    TransferBorrow {
        /// The handle's resource type.
        resource: RuntimeResourceIndex,
        /// The lending table.
        from: RuntimeComponentInstanceIndex,
        /// The borrowing table.
        to: RuntimeComponentInstanceIndex,
    },
    /// `(src_ptr, src_tagged_len) -> (dst_ptr, dst_tagged_len)`, each in its memory's pointer
    /// type: copies a string whose source range the adapter has already checked, validating
    /// and transcoding it and allocating the destination with the destination's `realloc`,
    /// exactly as the canonical ABI's `store_string` does.
    String {
        /// Where the string comes from.
        from: StringSide,
        /// Where it goes.
        to: StringSide,
    },
}

/// Groups `info.fused` into adapter modules and places an [`Initializer::InstantiateAdapters`]
/// for each.
pub fn partition(info: &mut ComponentInfo) {
    if info.fused.is_empty() {
        return;
    }
    let mut placed: SecondaryMap<FusedIndex, bool> = SecondaryMap::with_capacity(info.fused.len());
    let old = std::mem::take(&mut info.initializers);
    let mut initializers = Vec::with_capacity(old.len() + 1);
    for (pos, init) in old.into_iter().enumerate() {
        let mut used = Vec::new();
        initializer_fused(&init, &mut used);
        if used.iter().any(|f| !placed[*f]) {
            let ready: Vec<FusedIndex> =
                info.fused.iter().filter(|(i, call)| !placed[*i] && call.ready_after <= pos).map(|(i, _)| i).collect();
            place(info, &mut placed, &mut initializers, ready);
        }
        initializers.push(init);
    }
    let rest: Vec<FusedIndex> = info.fused.keys().filter(|i| !placed[*i]).collect();
    place(info, &mut placed, &mut initializers, rest);
    info.initializers = initializers;
}

/// Places `group` (in creation order) into as few modules as possible: a new module starts
/// when an adapter's callee is an adapter of the module being built.
fn place(
    info: &mut ComponentInfo,
    placed: &mut SecondaryMap<FusedIndex, bool>,
    initializers: &mut Vec<Initializer>,
    group: Vec<FusedIndex>,
) {
    let mut current: Vec<FusedIndex> = Vec::new();
    for f in group {
        let depends_on_current = match &info.fused[f].lift.core {
            CoreDef::Fused(callee) => current.contains(callee),
            _ => false,
        };
        if depends_on_current {
            flush(info, initializers, std::mem::take(&mut current));
        }
        current.push(f);
        placed[f] = true;
    }
    flush(info, initializers, current);
}

fn flush(info: &mut ComponentInfo, initializers: &mut Vec<Initializer>, adapters: Vec<FusedIndex>) {
    if adapters.is_empty() {
        return;
    }
    let index = info.adapter_modules.push(AdapterModule { adapters });
    initializers.push(Initializer::InstantiateAdapters(index));
}

/// The fused calls an initializer refers to.
fn initializer_fused(init: &Initializer, out: &mut Vec<FusedIndex>) {
    let mut def = |d: &CoreDef| {
        if let CoreDef::Fused(f) = d {
            out.push(*f);
        }
    };
    match init {
        Initializer::InstantiateModule { args, .. } | Initializer::InstantiateImportedModule { args, .. } => {
            for a in args {
                if let CoreItemDef::Func(d) = a {
                    def(d);
                }
            }
        }
        Initializer::ExtractRealloc { def: d, .. } | Initializer::ExtractPostReturn { def: d, .. } => def(d),
        Initializer::LowerImport { .. } | Initializer::ExtractMemory { .. } | Initializer::InstantiateAdapters(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::component::types::FuncType;

    fn call(core: CoreDef, ready_after: usize) -> FusedCall {
        FusedCall {
            lift: LiftedFunc {
                ty: FuncType { params: Vec::new(), result: None, async_: false },
                core,
                options: Options::default(),
            },
            lower: Options::default(),
            ready_after,
        }
    }

    fn instantiate(args: Vec<CoreDef>) -> Initializer {
        Initializer::InstantiateModule {
            module: super::super::translate::StaticModuleIndex::from_u32(0),
            args: args.into_iter().map(CoreItemDef::Func).collect(),
        }
    }

    fn export(i: u32) -> CoreDef {
        CoreDef::Export(CoreExport { instance: RuntimeInstanceIndex::from_u32(i), name: "f".into() })
    }

    #[test]
    fn adapters_are_placed_before_their_first_use_and_grouped() {
        let mut info = ComponentInfo {
            initializers: vec![
                instantiate(vec![]),
                instantiate(vec![]),
                instantiate(vec![CoreDef::Fused(FusedIndex::from_u32(0)), CoreDef::Fused(FusedIndex::from_u32(1))]),
                instantiate(vec![CoreDef::Fused(FusedIndex::from_u32(2))]),
            ],
            fused: PrimaryMap::from_iter([call(export(0), 1), call(export(1), 2), call(export(2), 3)]),
            ..ComponentInfo::default()
        };
        partition(&mut info);
        let kinds: Vec<String> = info
            .initializers
            .iter()
            .map(|i| match i {
                Initializer::InstantiateAdapters(m) => format!("A{}", m.as_u32()),
                _ => "M".to_string(),
            })
            .collect();
        assert_eq!(kinds, ["M", "M", "A0", "M", "A1", "M"]);
        assert_eq!(
            info.adapter_modules[AdapterModuleIndex::from_u32(0)].adapters,
            [FusedIndex::from_u32(0), FusedIndex::from_u32(1)]
        );
        assert_eq!(info.adapter_modules[AdapterModuleIndex::from_u32(1)].adapters, [FusedIndex::from_u32(2)]);
    }

    #[test]
    fn an_adapter_calling_an_adapter_goes_into_a_later_module() {
        let mut info = ComponentInfo {
            initializers: vec![instantiate(vec![])],
            fused: PrimaryMap::from_iter([
                call(export(0), 1),
                call(CoreDef::Fused(FusedIndex::from_u32(0)), 1),
                call(export(0), 1),
            ]),
            ..ComponentInfo::default()
        };
        partition(&mut info);
        assert_eq!(info.adapter_modules.len(), 2);
        assert_eq!(info.adapter_modules[AdapterModuleIndex::from_u32(0)].adapters, [FusedIndex::from_u32(0)]);
        assert_eq!(
            info.adapter_modules[AdapterModuleIndex::from_u32(1)].adapters,
            [FusedIndex::from_u32(1), FusedIndex::from_u32(2)]
        );
        assert_eq!(info.initializers.len(), 3);
    }
}
