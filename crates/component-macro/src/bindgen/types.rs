//! WIT types in Rust: references to a type from generated code ([`Gen::type_ref`]) and the
//! definitions of named types ([`Gen::type_defs`]): a record is a struct, a variant or enum
//! an enum, flags a `flags!` type, all with weld's derives and the `#[component(...)]`
//! attributes those take; a resource is an empty enum naming it on the host side (its values
//! are `Resource<T>` handles) and `ResourceAny` on the guest side; aliases and other named
//! types are type aliases.
//!
//! Anonymous types map to Rust's own: `option` to `Option`, `result` to `Result` (`()` for a
//! missing side), `tuple` to a tuple, `list` to `Vec` (or `&[T]`, and `string` to `&str`, for
//! the parameters of exported functions under `ownership: Borrowing`), `map` to `HashMap`.
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

    /// The Rust type of a parameter of an exported function: under `ownership: Borrowing`,
    /// strings and lists are passed by reference.
    pub fn param_type_ref(&self, ty: &Type, scope: &Scope) -> Result<TokenStream, String> {
        if self.opts.borrowing && scope.side == Side::Export {
            match ty {
                Type::String => return Ok(quote!(&str)),
                Type::Id(id) => {
                    let def = &self.resolve.types[*id];
                    if let (None, TypeDefKind::List(elem)) = (&def.name, &def.kind) {
                        let elem = self.type_ref(elem, scope)?;
                        return Ok(quote!(&[#elem]));
                    }
                }
                _ => {}
            }
        }
        self.type_ref(ty, scope)
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
                let extra = self.extra_derives(&["Clone", "Debug"]);
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
                    #[derive(Clone, Debug #(, #extra)*)]
                    #[component(record)]
                    pub struct #rust { #(#fields)* }
                }
            }
            TypeDefKind::Variant(variant) => {
                let extra = self.extra_derives(&["Clone", "Debug"]);
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
                    #[derive(Clone, Debug #(, #extra)*)]
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
