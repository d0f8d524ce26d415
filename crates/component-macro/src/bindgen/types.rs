//! WIT types in Rust: references to a type from generated code ([`Gen::type_ref`]) and the
//! definitions of named types ([`Gen::type_defs`]): a record is a struct, a variant or enum
//! an enum, flags a `flags!` type, all with weld's derives and the `#[component(...)]`
//! attributes those take; a resource is an empty enum naming it on the host side (its values
//! are `Resource<T>` handles) and `ResourceAny` on the guest side; aliases and other named
//! types are type aliases.
//!
//! Anonymous types map to Rust's own: `option` to `Option`, `result` to `Result` (`()` for a
//! missing side), `tuple` to a tuple, `list` to `Vec`, `map` to `HashMap`. The parameters of
//! exported functions are borrowed as in Wasmtime (`&str`, `&[T]`, `&Record`: see
//! [`Gen::param_type_ref`]). Records and variants with no string, list or handle inside are
//! `Copy`, as Wasmtime makes them.
//! Async types (`future`, `stream`, `error-context`) and fixed-length lists are refused with
//! an error: weld's API has no Rust types for them.

use super::idents::{camel, ident, shouty, snake};
use super::{Gen, Scope, Side, docs};
use crate::names::kebab_case;
use proc_macro2::TokenStream;
use quote::quote;
use wit_parser::{Handle, Type, TypeDefKind, TypeId, TypeOwner};

impl Gen<'_> {
    /// The Rust type of `ty` as written in the module of `scope`.
    pub fn type_ref(&self, ty: &Type, scope: &Scope) -> Result<TokenStream, String> {
        Ok(match ty {
            Type::Bool => quote!(bool),
            Type::U8 => quote!(u8),
            Type::U16 => quote!(u16),
            Type::U32 => quote!(u32),
            Type::U64 => quote!(u64),
            Type::S8 => quote!(i8),
            Type::S16 => quote!(i16),
            Type::S32 => quote!(i32),
            Type::S64 => quote!(i64),
            Type::F32 => quote!(f32),
            Type::F64 => quote!(f64),
            Type::Char => quote!(char),
            Type::String => quote!(String),
            Type::ErrorContext => return Err(unsupported("error-context")),
            Type::Id(id) => self.type_id_ref(*id, scope)?,
        })
    }

    /// The Rust type of a parameter of an exported function, borrowed as Wasmtime's bindings
    /// borrow it: `string` is `&str`, `list<T>` is `&[T]` (with `T` owned, or itself borrowed
    /// under `ownership: Borrowing`), a named type that holds a string or a list is passed by
    /// reference, and `option`s and `tuple`s borrow their elements. `result`s and maps stay
    /// owned.
    pub fn param_type_ref(&self, ty: &Type, scope: &Scope) -> Result<TokenStream, String> {
        if scope.side != Side::Export {
            return self.type_ref(ty, scope);
        }
        let Type::Id(id) = ty else {
            return if matches!(ty, Type::String) { Ok(quote!(&str)) } else { self.type_ref(ty, scope) };
        };
        let def = &self.resolve.types[*id];
        if def.name.is_some() {
            let named = self.type_id_ref(*id, scope)?;
            return Ok(if self.has_list(ty) { quote!(&#named) } else { named });
        }
        Ok(match &def.kind {
            TypeDefKind::List(elem) => {
                let elem =
                    if self.opts.borrowing { self.param_type_ref(elem, scope)? } else { self.type_ref(elem, scope)? };
                quote!(&[#elem])
            }
            TypeDefKind::Option(t) => {
                let t = self.param_type_ref(t, scope)?;
                quote!(Option<#t>)
            }
            TypeDefKind::Tuple(t) => {
                let types = t.types.iter().map(|t| self.param_type_ref(t, scope)).collect::<Result<Vec<_>, _>>()?;
                quote!((#(#types,)*))
            }
            TypeDefKind::Type(t) => self.param_type_ref(t, scope)?,
            _ => self.type_ref(ty, scope)?,
        })
    }

    /// Whether a value of `ty` holds a string or a list somewhere (and so owns memory).
    pub fn has_list(&self, ty: &Type) -> bool {
        self.type_info(ty).0
    }

    /// Whether values of `ty` can be `Copy`: no string, list or handle in them.
    fn is_copy(&self, ty: &Type) -> bool {
        let (list, handle) = self.type_info(ty);
        !list && !handle
    }

    /// Whether `ty` holds (a string or list, a resource handle) anywhere inside.
    fn type_info(&self, ty: &Type) -> (bool, bool) {
        let id = match ty {
            Type::String => return (true, false),
            Type::Id(id) => *id,
            _ => return (false, false),
        };
        let any = |types: &mut dyn Iterator<Item = &Type>| {
            types.map(|t| self.type_info(t)).fold((false, false), |(l, h), (l2, h2)| (l || l2, h || h2))
        };
        match &self.resolve.types[id].kind {
            TypeDefKind::Record(r) => any(&mut r.fields.iter().map(|f| &f.ty)),
            TypeDefKind::Variant(v) => any(&mut v.cases.iter().filter_map(|c| c.ty.as_ref())),
            TypeDefKind::Tuple(t) => any(&mut t.types.iter()),
            TypeDefKind::Option(t) | TypeDefKind::Type(t) => self.type_info(t),
            TypeDefKind::Result(r) => any(&mut r.ok.iter().chain(r.err.iter())),
            TypeDefKind::List(_) | TypeDefKind::Map(..) | TypeDefKind::FixedLengthList(..) => (true, false),
            TypeDefKind::Handle(_) | TypeDefKind::Resource => (false, true),
            _ => (false, false),
        }
    }

    fn type_id_ref(&self, id: TypeId, scope: &Scope) -> Result<TokenStream, String> {
        let def = &self.resolve.types[id];
        if let Some(name) = &def.name {
            let module = self.owner_module(id, scope.side)?;
            return Ok(self.path_to(scope, &module, &ident(&camel(name))));
        }
        self.anonymous(&def.kind, scope)
    }

    /// The Rust type of an anonymous type (or of a named one's definition, for aliases).
    fn anonymous(&self, kind: &TypeDefKind, scope: &Scope) -> Result<TokenStream, String> {
        let opt = |t: &Option<Type>| -> Result<TokenStream, String> {
            t.as_ref().map_or(Ok(quote!(())), |t| self.type_ref(t, scope))
        };
        Ok(match kind {
            TypeDefKind::Handle(Handle::Own(r) | Handle::Borrow(r)) => self.handle(*r, scope)?,
            TypeDefKind::Tuple(t) => {
                let types = t.types.iter().map(|t| self.type_ref(t, scope)).collect::<Result<Vec<_>, _>>()?;
                quote!((#(#types,)*))
            }
            TypeDefKind::Option(t) => {
                let t = self.type_ref(t, scope)?;
                quote!(Option<#t>)
            }
            TypeDefKind::Result(r) => {
                let (ok, err) = (opt(&r.ok)?, opt(&r.err)?);
                quote!(Result<#ok, #err>)
            }
            TypeDefKind::List(t) => {
                let t = self.type_ref(t, scope)?;
                quote!(Vec<#t>)
            }
            TypeDefKind::Map(k, v) => {
                let (k, v) = (self.type_ref(k, scope)?, self.type_ref(v, scope)?);
                quote!(::std::collections::HashMap<#k, #v>)
            }
            TypeDefKind::Type(t) => self.type_ref(t, scope)?,
            TypeDefKind::FixedLengthList(..) => return Err(unsupported("fixed-length list")),
            TypeDefKind::Future(_) => return Err(unsupported("future")),
            TypeDefKind::Stream(_) => return Err(unsupported("stream")),
            other => return Err(format!("bug: an anonymous {} type", other.as_str())),
        })
    }

    /// The Rust type of a handle to `resource`: `ResourceAny` for a resource the guest
    /// exports, `Resource<R>` for one the host defines.
    fn handle(&self, resource: TypeId, scope: &Scope) -> Result<TokenStream, String> {
        let def = self.resource_def(resource);
        let guest = match self.resolve.types[def].owner {
            TypeOwner::Interface(i) => self.is_exported(i, scope.side),
            _ => false,
        };
        if guest {
            return Ok(quote!(::weld::component::ResourceAny));
        }
        let r = self.type_id_ref(resource, scope)?;
        Ok(quote!(::weld::component::Resource<#r>))
    }

    /// The resource a (possibly aliased) resource type stands for.
    pub fn resource_def(&self, mut id: TypeId) -> TypeId {
        while let TypeDefKind::Type(Type::Id(next)) = &self.resolve.types[id].kind {
            id = *next;
        }
        id
    }

    /// The definitions of the named types `types` in the module of `scope`.
    pub fn type_defs(&self, types: &[(String, TypeId)], scope: &Scope) -> Result<Vec<TokenStream>, String> {
        types.iter().map(|(name, id)| self.type_def(name, *id, scope)).collect()
    }

    fn type_def(&self, name: &str, id: TypeId, scope: &Scope) -> Result<TokenStream, String> {
        let def = &self.resolve.types[id];
        let doc = docs(&def.docs);
        let rust = ident(&camel(name));
        let w = quote!(::weld::component);
        let derives = quote!(#[derive(#w::ComponentType, #w::Lift, #w::Lower)]);
        Ok(match &def.kind {
            TypeDefKind::Record(record) => {
                let copy = self.is_copy(&Type::Id(id));
                let extra = self.extra_derives(&["Clone", "Copy", "Debug"]);
                let copy_derive = if copy { quote!(, Copy) } else { quote!() };
                let fields = record
                    .fields
                    .iter()
                    .map(|f| {
                        let name = snake(&f.name);
                        let attr = name_attr(&name, &f.name);
                        let (field, ty, doc) = (ident(&name), self.type_ref(&f.ty, scope)?, docs(&f.docs));
                        Ok(quote!(#doc #attr pub #field: #ty,))
                    })
                    .collect::<Result<Vec<_>, String>>()?;
                quote! {
                    #doc
                    #derives
                    #[derive(Clone #copy_derive, Debug #(, #extra)*)]
                    #[component(record)]
                    pub struct #rust { #(#fields)* }
                }
            }
            TypeDefKind::Variant(variant) => {
                let copy = self.is_copy(&Type::Id(id));
                let extra = self.extra_derives(&["Clone", "Copy", "Debug"]);
                let copy_derive = if copy { quote!(, Copy) } else { quote!() };
                let cases = variant
                    .cases
                    .iter()
                    .map(|c| {
                        let name = camel(&c.name);
                        let attr = name_attr(&name, &c.name);
                        let (case, doc) = (ident(&name), docs(&c.docs));
                        Ok(match &c.ty {
                            Some(t) => {
                                let t = self.type_ref(t, scope)?;
                                quote!(#doc #attr #case(#t),)
                            }
                            None => quote!(#doc #attr #case,),
                        })
                    })
                    .collect::<Result<Vec<_>, String>>()?;
                quote! {
                    #doc
                    #derives
                    #[derive(Clone #copy_derive, Debug #(, #extra)*)]
                    #[component(variant)]
                    pub enum #rust { #(#cases)* }
                }
            }
            TypeDefKind::Enum(e) => {
                let extra = self.extra_derives(&["Clone", "Copy", "Debug", "PartialEq", "Eq"]);
                let cases = e.cases.iter().map(|c| {
                    let name = camel(&c.name);
                    let attr = name_attr(&name, &c.name);
                    let (case, doc) = (ident(&name), docs(&c.docs));
                    quote!(#doc #attr #case,)
                });
                quote! {
                    #doc
                    #derives
                    #[derive(Clone, Copy, Debug, PartialEq, Eq #(, #extra)*)]
                    #[component(enum)]
                    pub enum #rust { #(#cases)* }
                }
            }
            TypeDefKind::Flags(flags) => {
                let extra = self.extra_derives(&["Clone", "Copy", "PartialEq", "Eq", "Hash", "Default", "Debug"]);
                let extra = if extra.is_empty() { quote!() } else { quote!(#[derive(#(#extra),*)]) };
                let consts = flags.flags.iter().map(|f| {
                    let name = shouty(&f.name);
                    let attr = name_attr(&name, &f.name);
                    let (flag, doc) = (ident(&name), docs(&f.docs));
                    quote!(#doc #attr const #flag;)
                });
                quote! {
                    #w::flags! {
                        #doc
                        #extra
                        pub #rust { #(#consts)* }
                    }
                }
            }
            TypeDefKind::Resource => match (scope.side, self.with_resources.get(&id)) {
                (Side::Export, _) => quote!(#doc pub type #rust = #w::ResourceAny;),
                (Side::Import, Some(path)) => quote!(#doc pub type #rust = #path;),
                (Side::Import, None) => quote!(#doc pub enum #rust {}),
            },
            kind => {
                let target = self.anonymous(kind, scope)?;
                quote!(#doc pub type #rust = #target;)
            }
        })
    }

    /// `additional_derives`, without those already derived (`already`).
    fn extra_derives(&self, already: &[&str]) -> Vec<&syn::Path> {
        let mut out: Vec<&syn::Path> = Vec::new();
        for path in &self.opts.additional_derives {
            let last = path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
            if !already.contains(&last.as_str())
                && !out.iter().any(|p| quote!(#p).to_string() == quote!(#path).to_string())
            {
                out.push(path);
            }
        }
        out
    }
}

/// `#[component(name = "...")]` when the derive's default name of `rust` is not `wit`.
fn name_attr(rust: &str, wit: &str) -> TokenStream {
    if kebab_case(rust) == wit { quote!() } else { quote!(#[component(name = #wit)]) }
}

fn unsupported(what: &str) -> String {
    format!("WIT `{what}` types are not supported by weld's bindgen!")
}
