//! The guest side of a world: for each exported interface, a `Guest` struct (in
//! `exports::ns::pkg::iface`) holding its functions, found and type-checked once when the
//! bindings are loaded, with a `call_*` method per function (and a `Guest<Resource>` view per
//! resource, see `resources.rs`); and the `<World>` struct itself: instantiation
//! (`instantiate`, `new`, `<World>Pre`), a `call_*` per function the world exports, an
//! accessor per exported interface, and `add_to_linker` (from `imports.rs`).
//!
//! Every call goes through `weld::component::__bindgen::call`, which also finishes the call
//! (runs `post-return`), so users never call `post_return` themselves.

use super::idents::{ident, snake};
use super::imports::{param_name, resource_of};
use super::{Gen, Module, Scope, Side, allow_many_args, docs};
use proc_macro2::TokenStream;
use quote::quote;
use wit_parser::{Function, FunctionKind, InterfaceId, TypeDefKind, TypeId, WorldItem, WorldKey};

impl Gen<'_> {
    /// The module of an exported interface: its types, `Guest` and the resources' views.
    pub fn export_interface(&mut self, key: &WorldKey, id: InterfaceId) -> Result<(), String> {
        let Some(Module::Generated(path)) = self.module_of(id, Side::Export) else {
            return Err("bug: an exported interface has no module".to_string());
        };
        let scope = Scope { module: path.clone(), side: Side::Export };
        let iface = &self.resolve.interfaces[id];
        let name = self.resolve.name_world_key(key);
        let types: Vec<(String, TypeId)> = iface.types.iter().map(|(n, t)| (n.clone(), *t)).collect();
        let mut items = self.type_defs(&types, &scope)?;
        let funcs: Vec<(&Function, syn::Ident)> =
            iface.functions.values().map(|f| (f, ident(&field_name(f)))).collect();
        let mut calls = Vec::new();
        for (func, field) in funcs.iter().filter(|(f, _)| resource_of(f).is_none()) {
            let method = ident(&format!("call_{}", snake(&func.name)));
            calls.push(self.export_call(&scope, func, &method, &quote!(self.#field))?);
        }
        let mut accessors = Vec::new();
        for (res_name, res) in &types {
            if !matches!(self.resolve.types[*res].kind, TypeDefKind::Resource) {
                continue;
            }
            let own: Vec<(&Function, syn::Ident)> =
                funcs.iter().filter(|(f, _)| resource_of(f) == Some(*res)).map(|(f, i)| (*f, i.clone())).collect();
            let (view, accessor) = self.guest_resource(&scope, res_name, &own)?;
            items.push(view);
            accessors.push(accessor);
        }
        let w = quote!(::weld::component);
        let fields: Vec<&syn::Ident> = funcs.iter().map(|(_, i)| i).collect();
        let load = if funcs.is_empty() {
            quote!(#w::__bindgen::export_instance(&store, instance, #name)?;)
        } else {
            let lookups = funcs
                .iter()
                .map(|(f, field)| {
                    let lookup = self.export_lookup(&scope, f, quote!(parent))?;
                    Ok(quote!(let #field = #lookup;))
                })
                .collect::<Result<Vec<_>, String>>()?;
            quote! {
                let index = #w::__bindgen::export_instance(&store, instance, #name)?;
                let parent = Some((&index, #name));
                #(#lookups)*
            }
        };
        let doc = format!(" The functions of the exported interface `{name}`, found in an instance.");
        let new_doc = format!(
            " Finds the functions of `{name}` in `instance` and checks their types; fails naming the first one missing or of another type."
        );
        items.push(quote! {
            #[doc = #doc]
            #[derive(Clone)]
            pub struct Guest {
                #(#fields: #w::Func,)*
            }
            impl Guest {
                #[doc = #new_doc]
                pub fn new(store: impl ::weld::AsContext, instance: &#w::Instance) -> #w::__bindgen::Result<Guest> {
                    #load
                    Ok(Guest { #(#fields),* })
                }
                #(#calls)*
                #(#accessors)*
            }
        });
        self.tree.set_attrs(&path, docs(&iface.docs));
        self.tree.push(&path, items);
        Ok(())
    }

    /// The expression that finds exported function `func` (in `parent`, an
    /// `Option<(&ComponentExportIndex, &str)>`) and checks its type.
    fn export_lookup(&self, scope: &Scope, func: &Function, parent: TokenStream) -> Result<TokenStream, String> {
        let (params, results) = self.export_types(scope, func)?;
        let name = &func.name;
        Ok(quote!(::weld::component::__bindgen::export_func::<#params, #results>(&store, instance, #parent, #name)?))
    }

    /// The parameter and result tuple types of an exported function.
    fn export_types(&self, scope: &Scope, func: &Function) -> Result<(TokenStream, TokenStream), String> {
        let params = func.params.iter().map(|p| self.param_type_ref(&p.ty, scope)).collect::<Result<Vec<_>, _>>()?;
        let results = match &func.result {
            Some(t) => {
                let t = self.type_ref(t, scope)?;
                quote!((#t,))
            }
            None => quote!(()),
        };
        Ok((quote!((#(#params,)*)), results))
    }

    /// The method `name` that calls exported function `func`, held in `field`.
    pub fn export_call(
        &self,
        scope: &Scope,
        func: &Function,
        name: &syn::Ident,
        field: &TokenStream,
    ) -> Result<TokenStream, String> {
        let w = quote!(::weld::component);
        let (param_types, result_types) = self.export_types(scope, func)?;
        let mut params = Vec::new();
        let mut args = Vec::new();
        for p in &func.params {
            let arg = ident(&param_name(&p.name));
            let ty = self.param_type_ref(&p.ty, scope)?;
            params.push(quote!(#arg: #ty));
            args.push(arg);
        }
        let callee = quote!(#w::__bindgen::typed::<#param_types, #result_types>(#field));
        let call = quote!(#w::__bindgen::call(#callee, &mut store, (#(#args,)*))?);
        let (ret, body) = match &func.result {
            Some(t) => {
                let t = self.type_ref(t, scope)?;
                (t, quote! { let (ret,) = #call; Ok(ret) })
            }
            None => (quote!(()), quote! { #call; Ok(()) }),
        };
        let doc = docs(&func.docs);
        let what = format!(" Calls `{}`.", func.name);
        let doc = if doc.is_empty() { quote!(#[doc = #what]) } else { doc };
        let allow = allow_many_args(params.len() + 2);
        Ok(quote! {
            #doc
            #allow
            pub fn #name<S: ::weld::AsContextMut>(&self, mut store: S #(, #params)*) -> #w::__bindgen::Result<#ret> {
                #body
            }
        })
    }

    /// `<World>`, `<World>Pre`, and the world's methods.
    pub fn world_struct(
        &mut self,
        imports: &[(WorldKey, WorldItem)],
        exports: &[(WorldKey, WorldItem)],
    ) -> Result<(), String> {
        let w = quote!(::weld::component);
        let world = self.world_ident();
        let pre = ident(&format!("{world}Pre"));
        let root = Scope { module: Vec::new(), side: Side::Export };
        let mut fields = Vec::new();
        let mut field_types = Vec::new();
        let mut loads = Vec::new();
        let mut methods = Vec::new();
        for (i, (key, item)) in exports.iter().enumerate() {
            match item {
                WorldItem::Interface { id, .. } => {
                    let Some(module) = self.module_of(*id, Side::Export) else { continue };
                    let Module::Generated(path) = &module else { continue };
                    let field = ident(&format!("interface{i}"));
                    let guest = self.path_to(&root, &module, &ident("Guest"));
                    let accessor = ident(&path[1..].join("_"));
                    let doc =
                        format!(" The functions of the exported interface `{}`.", self.resolve.name_world_key(key));
                    loads.push(quote!(let #field = #guest::new(&store, instance)?;));
                    methods.push(quote! {
                        #[doc = #doc]
                        pub fn #accessor(&self) -> &#guest {
                            &self.#field
                        }
                    });
                    fields.push(field);
                    field_types.push(guest);
                }
                WorldItem::Function(func) => {
                    let field = ident(&snake(&func.name));
                    let lookup = self.export_lookup(&root, func, quote!(None))?;
                    loads.push(quote!(let #field = #lookup;));
                    let method = ident(&format!("call_{}", snake(&func.name)));
                    methods.push(self.export_call(&root, func, &method, &quote!(self.#field))?);
                    fields.push(field);
                    field_types.push(quote!(#w::Func));
                }
                WorldItem::Type { .. } => {}
            }
        }
        if loads.is_empty() {
            loads.push(quote!(let _ = (&store, instance);));
        }
        let add_to_linker = self.world_add_to_linker(imports);
        let doc = docs(&self.world.docs);
        let name = &self.world.name;
        let world_doc = format!(" Bindings of an instance of a component that implements the world `{name}`.");
        let pre_doc = format!(
            " A component whose imports are resolved (an `InstancePre`), ready to be instantiated as a [`{world}`] any number of times."
        );
        self.tree.push(
            &[],
            [quote! {
                #[doc = #world_doc]
                #[doc = ""]
                #doc
                pub struct #world {
                    #(#fields: #field_types,)*
                }

                #[doc = #pre_doc]
                pub struct #pre<T: 'static> {
                    instance_pre: #w::InstancePre<T>,
                }

                impl<T: 'static> Clone for #pre<T> {
                    fn clone(&self) -> Self {
                        #pre { instance_pre: self.instance_pre.clone() }
                    }
                }

                impl<T: 'static> #pre<T> {
                    /// Wraps `instance_pre`. The exports are looked up and type-checked when
                    /// an instance is made.
                    pub fn new(instance_pre: #w::InstancePre<T>) -> #w::__bindgen::Result<Self> {
                        Ok(#pre { instance_pre })
                    }

                    /// The resolved component.
                    pub fn instance_pre(&self) -> &#w::InstancePre<T> {
                        &self.instance_pre
                    }

                    /// Instantiates the component in `store` and loads its exports.
                    pub fn instantiate(&self, mut store: impl ::weld::AsContextMut<Data = T>) -> #w::__bindgen::Result<#world> {
                        let instance = self.instance_pre.instantiate(&mut store)?;
                        #world::new(&mut store, &instance)
                    }
                }

                impl #world {
                    /// Instantiates `component` in `store` with the imports of `linker`, and
                    /// loads its exports.
                    pub fn instantiate<T: 'static>(
                        store: impl ::weld::AsContextMut<Data = T>,
                        component: &#w::Component,
                        linker: &#w::Linker<T>,
                    ) -> #w::__bindgen::Result<#world> {
                        let pre = linker.instantiate_pre(component)?;
                        #pre::new(pre)?.instantiate(store)
                    }

                    /// Loads the exports of `instance`, an instance of a component that
                    /// implements the world, checking their types.
                    pub fn new(store: impl ::weld::AsContextMut, instance: &#w::Instance) -> #w::__bindgen::Result<#world> {
                        #(#loads)*
                        Ok(#world { #(#fields),* })
                    }

                    #add_to_linker

                    #(#methods)*
                }
            }],
        );
        Ok(())
    }
}

/// The name of the `Guest` field holding exported function `func`.
fn field_name(func: &Function) -> String {
    match func.kind {
        FunctionKind::Constructor(_) => format!("constructor_{}", snake(func.name.trim_start_matches("[constructor]"))),
        FunctionKind::Method(_) => format!("method_{}", snake(func.name.trim_start_matches("[method]"))),
        FunctionKind::Static(_) => format!("static_{}", snake(func.name.trim_start_matches("[static]"))),
        _ => snake(&func.name),
    }
}
