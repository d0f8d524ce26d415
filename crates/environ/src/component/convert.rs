//! Conversion of wasmparser's validated component types into weld's [`InterfaceType`] tree and
//! component [`FuncType`]s. A standalone converter gives resource types small per-conversion
//! ids (two handles name the same resource exactly when wasmparser says so); the inliner
//! instead binds each resource to its runtime index before converting types that use it.
//! [`core_module_type`] converts the type a component gives a core module.

use super::info::{CoreEntityType, CoreModuleType};
use super::types::{FuncType, InterfaceType, ResourceId};
use anyhow::{Result, bail};
use std::collections::HashMap;
use wasmparser::PrimitiveValType as P;
use wasmparser::component_types::{ComponentDefinedType, ComponentFuncTypeId, ComponentValType};
use wasmparser::types::TypesRef;

/// The core module type `id` of `types`. Exact function types (custom descriptors) are
/// refused: weld does not run them.
pub fn core_module_type(
    types: TypesRef<'_>,
    id: wasmparser::component_types::ComponentCoreModuleTypeId,
) -> Result<CoreModuleType> {
    let entity = |ty: &wasmparser::types::EntityType| -> Result<CoreEntityType> {
        use wasmparser::types::EntityType as E;
        Ok(match ty {
            E::Func(f) => CoreEntityType::Func(crate::FuncType::from_wasmparser(types[*f].unwrap_func())?),
            E::Table(t) => CoreEntityType::Table(crate::TableType::from_wasmparser(t)?),
            E::Memory(m) => CoreEntityType::Memory(crate::MemoryType::from_wasmparser(m)?),
            E::Global(g) => CoreEntityType::Global(crate::GlobalType::from_wasmparser(g)?),
            E::Tag(t) => CoreEntityType::Tag(crate::FuncType::from_wasmparser(types[*t].unwrap_func())?),
            E::FuncExact(_) => bail!("core module types with exact function types are not supported"),
        })
    };
    let ty = &types[id];
    Ok(CoreModuleType {
        imports: ty.imports.iter().map(|((m, n), t)| Ok((m.clone(), n.clone(), entity(t)?))).collect::<Result<_>>()?,
        exports: ty.exports.iter().map(|(n, t)| Ok((n.clone(), entity(t)?))).collect::<Result<_>>()?,
    })
}

/// Converts types of one component, assigning ids to the resources it meets.
pub struct TypeConverter<'a> {
    types: TypesRef<'a>,
    resources: HashMap<wasmparser::component_types::ResourceId, ResourceId>,
    /// Whether every resource must have been bound (the inliner's mode).
    strict: bool,
    /// While [`TypeConverter::check_func_type`] converts: the resources not bound yet, in the
    /// order met, each standing for `ResourceId(UNBOUND + i)`.
    unbound: Option<Vec<wasmparser::component_types::ResourceId>>,
}

/// The first id given to an unbound resource while checking a function type.
const UNBOUND: u32 = 1 << 31;

impl<'a> TypeConverter<'a> {
    /// A converter over `types`.
    pub fn new(types: TypesRef<'a>) -> Self {
        TypeConverter { types, resources: HashMap::new(), strict: false, unbound: None }
    }

    /// A converter over `types` in which every resource must be bound with
    /// [`TypeConverter::bind`] before a type using it is converted.
    pub fn strict(types: TypesRef<'a>) -> Self {
        TypeConverter { types, resources: HashMap::new(), strict: true, unbound: None }
    }

    /// The type information it converts from.
    pub fn types(&self) -> TypesRef<'a> {
        self.types
    }

    /// The id wasmparser's resource `r` is bound to, if it is.
    pub fn bound(&self, r: wasmparser::component_types::ResourceId) -> Option<ResourceId> {
        self.resources.get(&r).copied()
    }

    /// Makes wasmparser's resource `r` convert to `id`.
    pub fn bind(&mut self, r: wasmparser::component_types::ResourceId, id: ResourceId) {
        self.resources.insert(r, id);
    }

    /// Checks that function type `id`, as this component declares it, is `actual`, the type of
    /// the function it really gets (from another component). Component types must be equal;
    /// a resource this converter has not bound yet matches whichever resource `actual` has at
    /// that place (the same one everywhere), and is bound to it if the check passes.
    pub fn check_func_type(&mut self, id: ComponentFuncTypeId, actual: &FuncType) -> Result<()> {
        self.unbound = Some(Vec::new());
        let expected = self.func_type(id);
        let unbound = self.unbound.take().unwrap_or_default();
        let expected = expected?;
        let mut found: Vec<Option<ResourceId>> = vec![None; unbound.len()];
        let mut same_resource = |e: ResourceId, a: ResourceId| {
            if e.0 < UNBOUND {
                return e == a;
            }
            let slot = &mut found[(e.0 - UNBOUND) as usize];
            *slot.get_or_insert(a) == a
        };
        if !expected.matches(actual, &mut same_resource) {
            bail!("expected `{expected}`, found `{actual}`");
        }
        for (r, id) in unbound.into_iter().zip(found) {
            if let Some(id) = id {
                self.bind(r, id);
            }
        }
        Ok(())
    }

    /// Converts a function type, `async` ones included.
    pub fn func_type(&mut self, id: ComponentFuncTypeId) -> Result<FuncType> {
        let types = self.types;
        let ty = &types[id];
        let params = ty.params.iter().map(|(n, t)| Ok((n.to_string(), self.val_type(t)?))).collect::<Result<_>>()?;
        let result = ty.result.as_ref().map(|t| self.val_type(t)).transpose()?;
        Ok(FuncType { params, result, async_: ty.async_ })
    }

    /// Converts a value type.
    pub fn val_type(&mut self, ty: &ComponentValType) -> Result<InterfaceType> {
        let id = match ty {
            ComponentValType::Primitive(p) => return Ok(primitive(*p)),
            ComponentValType::Type(id) => *id,
        };
        let types = self.types;
        Ok(match &types[id] {
            ComponentDefinedType::Primitive(p) => primitive(*p),
            ComponentDefinedType::Record(r) => InterfaceType::record(
                r.fields.iter().map(|(n, t)| Ok((n.to_string(), self.val_type(t)?))).collect::<Result<Vec<_>>>()?,
            ),
            ComponentDefinedType::Variant(v) => InterfaceType::variant(
                v.cases
                    .iter()
                    .map(|(n, c)| Ok((n.to_string(), c.ty.as_ref().map(|t| self.val_type(t)).transpose()?)))
                    .collect::<Result<Vec<_>>>()?,
            ),
            ComponentDefinedType::List { element, .. } => InterfaceType::list(self.val_type(element)?),
            ComponentDefinedType::FixedLengthList { element, length, .. } => {
                InterfaceType::fixed_list(self.val_type(element)?, *length)
            }
            ComponentDefinedType::Tuple(t) => {
                InterfaceType::tuple(t.types.iter().map(|t| self.val_type(t)).collect::<Result<Vec<_>>>()?)
            }
            ComponentDefinedType::Flags(names) => InterfaceType::flags(names.iter().map(|n| n.to_string())),
            ComponentDefinedType::Enum(names) => InterfaceType::enumeration(names.iter().map(|n| n.to_string())),
            ComponentDefinedType::Option { ty, .. } => InterfaceType::option(self.val_type(ty)?),
            ComponentDefinedType::Result { ok, err, .. } => InterfaceType::result(
                ok.as_ref().map(|t| self.val_type(t)).transpose()?,
                err.as_ref().map(|t| self.val_type(t)).transpose()?,
            ),
            ComponentDefinedType::Own(r) => InterfaceType::Own(self.resource(r.resource())?),
            ComponentDefinedType::Borrow(r) => InterfaceType::Borrow(self.resource(r.resource())?),
            ComponentDefinedType::Map { key, value, .. } => {
                InterfaceType::map(self.val_type(key)?, self.val_type(value)?)
            }
            ComponentDefinedType::Future { ty, .. } => {
                InterfaceType::future(ty.as_ref().map(|t| self.val_type(t)).transpose()?)
            }
            ComponentDefinedType::Stream { ty, .. } => {
                InterfaceType::stream(ty.as_ref().map(|t| self.val_type(t)).transpose()?)
            }
        })
    }

    fn resource(&mut self, r: wasmparser::component_types::ResourceId) -> Result<ResourceId> {
        if let Some(id) = self.resources.get(&r) {
            return Ok(*id);
        }
        if let Some(unbound) = &mut self.unbound {
            let i = unbound.iter().position(|u| *u == r).unwrap_or_else(|| {
                unbound.push(r);
                unbound.len() - 1
            });
            return Ok(ResourceId(UNBOUND + i as u32));
        }
        if self.strict {
            bail!("a handle names a resource type weld could not trace to its definition");
        }
        let next = ResourceId(self.resources.len() as u32);
        self.resources.insert(r, next);
        Ok(next)
    }
}

fn primitive(p: P) -> InterfaceType {
    match p {
        P::Bool => InterfaceType::Bool,
        P::S8 => InterfaceType::S8,
        P::U8 => InterfaceType::U8,
        P::S16 => InterfaceType::S16,
        P::U16 => InterfaceType::U16,
        P::S32 => InterfaceType::S32,
        P::U32 => InterfaceType::U32,
        P::S64 => InterfaceType::S64,
        P::U64 => InterfaceType::U64,
        P::F32 => InterfaceType::F32,
        P::F64 => InterfaceType::F64,
        P::Char => InterfaceType::Char,
        P::String => InterfaceType::String,
        P::ErrorContext => InterfaceType::ErrorContext,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::component::translate::{LocalFuncIndex, translate_component};

    #[test]
    fn converts_function_types() {
        let bytes = wat::parse_str(
            r#"(component
                (type $r0 (record (field "name" string) (field "age" u8)))
                (import "r" (type $r (eq $r0)))
                (type $v0 (variant (case "a" u32) (case "b")))
                (import "v" (type $v (eq $v0)))
                (type $f (func (param "p" $r) (param "q" (list (option $v))) (result (result u32 (error string)))))
                (import "f" (func (type $f)))
                (import "res" (type $res (sub resource)))
                (import "g" (func (param "x" (own $res)) (param "y" (borrow $res)) (result (tuple bool char)))))"#,
        )
        .unwrap();
        let t = translate_component(&bytes, crate::supported_features()).unwrap();
        let c = &t.components[crate::component::translate::StaticComponentIndex::ROOT];
        let mut conv = TypeConverter::new(c.types().as_ref());
        let f = conv.func_type(c.func_type(LocalFuncIndex::from_u32(0))).unwrap();
        assert_eq!(
            f.to_string(),
            "func(p: record { name: string, age: u8 }, q: list<option<variant { a(u32), b }>>) -> result<u32, string>"
        );
        let g = conv.func_type(c.func_type(LocalFuncIndex::from_u32(1))).unwrap();
        assert_eq!(g.to_string(), "func(x: own<resource-0>, y: borrow<resource-0>) -> tuple<bool, char>");
        assert!(!f.async_ && !g.async_);
    }

    /// The types of the functions a component of these imports imports, in order, as text.
    fn imported_func_types(imports: &str) -> Vec<String> {
        let bytes = wat::parse_str(format!("(component {imports})")).unwrap();
        let t = translate_component(&bytes, crate::supported_features()).unwrap();
        let c = &t.components[crate::component::translate::StaticComponentIndex::ROOT];
        let mut conv = TypeConverter::new(c.types().as_ref());
        c.funcs.keys().map(|i| conv.func_type(c.func_type(i)).unwrap().to_string()).collect()
    }

    #[test]
    fn converts_async_function_types() {
        let types = imported_func_types(
            r#"(import "a" (func async (param "x" u32) (result string)))
               (import "b" (func async))
               (import "c" (func (param "y" u8)))"#,
        );
        assert_eq!(types, ["async func(x: u32) -> string", "async func()", "func(y: u8)"]);
    }

    #[test]
    fn converts_futures_and_streams() {
        let types = imported_func_types(
            r#"(type $f (future u32))
               (type $s (stream u8))
               (import "a" (func (param "f" $f) (param "s" $s) (result (future))))
               (type $fs (future string))
               (type $sfs (stream $fs))
               (import "b" (func (param "s" (stream)) (result (list $sfs))))
               (import "res" (type $res (sub resource)))
               (import "c" (func (param "f" (future (own $res))) (result (stream (own $res)))))"#,
        );
        assert_eq!(
            types,
            [
                "func(f: future<u32>, s: stream<u8>) -> future",
                "func(s: stream) -> list<stream<future<string>>>",
                "func(f: future<own<resource-0>>) -> stream<own<resource-0>>",
            ]
        );
    }

    #[test]
    fn converts_error_context() {
        let types = imported_func_types(
            r#"(type $e error-context)
               (import "a" (func (param "e" $e) (result (result u8 (error error-context)))))
               (import "b" (func async (result (future error-context))))"#,
        );
        assert_eq!(
            types,
            ["func(e: error-context) -> result<u8, error-context>", "async func() -> future<error-context>"]
        );
    }
}
