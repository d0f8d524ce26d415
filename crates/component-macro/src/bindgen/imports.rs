//! The host side of a world: for each imported interface, a `Host` trait with a method per
//! function and `add_to_linker`, which defines every function (and resource, see
//! `resources.rs`) in a linker, calling the trait on what `host_getter` returns; for the
//! world's own imported functions and resources, the `<World>Imports` trait and
//! `<World>::add_to_linker_imports`; and `<World>::add_to_linker` for all of them.
//!
//! Methods return the WIT result as is, or `Result<_>` for functions `trappable_imports`
//! names, whose errors become traps in the guest. Each trait is also implemented for
//! `&mut T`, so that `HasSelf<T>` (whose data is `&mut T`) works when `T` implements it.

use super::idents::{camel, ident, snake};
use super::{Gen, Module, Scope, Side, allow_many_args, docs};
use crate::bindgen::options::Trappable;
use proc_macro2::TokenStream;
use quote::quote;
use wit_parser::{Function, FunctionKind, InterfaceId, TypeDefKind, TypeId, WorldItem, WorldKey};

/// The traits of one place (an interface or the world) and the statements that define its
/// functions and resources in a linker instance `inst`.
pub struct HostBindings {
    pub traits: Vec<TokenStream>,
    pub registrations: Vec<TokenStream>,
}

impl Gen<'_> {
    /// The module of an imported interface: its types, traits and `add_to_linker`.
    pub fn import_interface(&mut self, key: &WorldKey, id: InterfaceId) -> Result<(), String> {
        let Some(Module::Generated(path)) = self.module_of(id, Side::Import) else { return Ok(()) };
        let scope = Scope { module: path.clone(), side: Side::Import };
        let iface = &self.resolve.interfaces[id];
        let name = self.resolve.name_world_key(key);
        let types: Vec<(String, TypeId)> = iface.types.iter().map(|(n, t)| (n.clone(), *t)).collect();
        let funcs: Vec<&Function> = iface.functions.values().collect();
        let mut items = self.type_defs(&types, &scope)?;
        let host = ident("Host");
        let HostBindings { traits, registrations } = self.host_bindings(&scope, Some(&name), &host, &types, &funcs)?;
        items.extend(traits);
        let body = if registrations.is_empty() {
            quote! {
                linker.instance(#name)?;
                let _ = host_getter;
            }
        } else {
            quote! {
                let mut inst = linker.instance(#name)?;
                #(#registrations)*
            }
        };
        let doc = format!(
            " Defines the functions and resources of `{name}` in `linker`, each calling [`Host`] on what `host_getter` returns for the store's data."
        );
        items.push(add_to_linker_fn(&ident("add_to_linker"), &doc, &[quote!(Host)], body));
        self.tree.set_attrs(&path, docs(&iface.docs));
        self.tree.push(&path, items);
        Ok(())
    }

    /// The `<World>Imports` trait and `add_to_linker_imports` for the functions and resources
    /// the world imports itself, if it has any (the latter as items of `impl <World>`).
    pub fn world_imports(&mut self, imports: &[(WorldKey, WorldItem)]) -> Result<(), String> {
        let scope = Scope { module: Vec::new(), side: Side::Import };
        let funcs: Vec<&Function> = imports
            .iter()
            .filter_map(|(_, item)| match item {
                WorldItem::Function(f) => Some(f),
                _ => None,
            })
            .collect();
        let types: Vec<(String, TypeId)> = imports
            .iter()
            .filter_map(|(k, item)| match item {
                WorldItem::Type { id: t, .. } => Some((self.resolve.name_world_key(k), *t)),
                _ => None,
            })
            .collect();
        let has_resources = types.iter().any(|(_, t)| matches!(self.resolve.types[*t].kind, TypeDefKind::Resource));
        if funcs.is_empty() && !has_resources {
            return Ok(());
        }
        let imports_trait = self.world_imports_ident();
        let HostBindings { traits, registrations } =
            self.host_bindings(&scope, None, &imports_trait, &types, &funcs)?;
        self.tree.push(&[], traits);
        let world = self.world_ident();
        let doc = format!(
            " Defines the functions and resources the world imports itself at the root of `linker`, each calling [`{imports_trait}`] on what `host_getter` returns for the store's data."
        );
        let body = quote! {
            let mut inst = linker.root();
            #(#registrations)*
        };
        let function = add_to_linker_fn(&ident("add_to_linker_imports"), &doc, &[quote!(#imports_trait)], body);
        self.tree.push(&[], [quote!(impl #world { #function })]);
        Ok(())
    }

    /// `<World>Imports`.
    pub fn world_imports_ident(&self) -> syn::Ident {
        ident(&format!("{}Imports", self.world_ident()))
    }

    /// `<World>::add_to_linker`, which defines every import: the world's own and each
    /// interface's (also those `with` maps to bindings generated elsewhere).
    pub fn world_add_to_linker(&self, imports: &[(WorldKey, WorldItem)]) -> TokenStream {
        let root = Scope { module: Vec::new(), side: Side::Import };
        let mut bounds = Vec::new();
        let mut calls = Vec::new();
        for (_, item) in imports {
            let WorldItem::Interface { id, .. } = item else { continue };
            let Some(module) = self.module_of(*id, Side::Import) else { continue };
            let host = self.path_to(&root, &module, &ident("Host"));
            let add = self.path_to(&root, &module, &ident("add_to_linker"));
            bounds.push(host);
            calls.push(quote!(#add::<T, D>(linker, host_getter)?;));
        }
        let world_level = imports.iter().any(|(_, item)| match item {
            WorldItem::Function(_) => true,
            WorldItem::Type { id: t, .. } => matches!(self.resolve.types[*t].kind, TypeDefKind::Resource),
            WorldItem::Interface { .. } => false,
        });
        if world_level {
            let imports_trait = self.world_imports_ident();
            bounds.push(quote!(#imports_trait));
            calls.insert(0, quote!(Self::add_to_linker_imports::<T, D>(linker, host_getter)?;));
        }
        if calls.is_empty() {
            calls.push(quote!(let _ = (linker, host_getter);));
        }
        let doc = " Defines every import of the world in `linker`: each imported interface's functions and resources, and the world's own, calling the `Host` traits on what `host_getter` returns for the store's data.";
        add_to_linker_fn(&ident("add_to_linker"), doc, &bounds, quote!(#(#calls)*))
    }

    /// The host traits of one place and the linker definitions of its imports: a
    /// `Host<Resource>` trait per resource among `types`, and `host_trait` with a method per
    /// function that belongs to no resource.
    pub fn host_bindings(
        &self,
        scope: &Scope,
        iface_name: Option<&str>,
        host_trait: &syn::Ident,
        types: &[(String, TypeId)],
        funcs: &[&Function],
    ) -> Result<HostBindings, String> {
        let mut traits = Vec::new();
        let mut registrations = Vec::new();
        let mut supertraits = Vec::new();
        for (name, id) in types {
            if !matches!(self.resolve.types[*id].kind, TypeDefKind::Resource) {
                continue;
            }
            let own: Vec<&Function> = funcs.iter().copied().filter(|f| resource_of(f) == Some(*id)).collect();
            let (tr, regs) = self.host_resource(scope, iface_name, name, &own)?;
            traits.push(tr);
            registrations.extend(regs);
            supertraits.push(ident(&format!("Host{}", camel(name))));
        }
        let mut methods = Vec::new();
        let mut forwards = Vec::new();
        for func in funcs.iter().filter(|f| resource_of(f).is_none()) {
            let sig = self.host_method(scope, iface_name, func)?;
            methods.push(sig.declaration.clone());
            forwards.push(sig.forward(host_trait));
            registrations.push(self.host_registration(scope, iface_name, func, &quote!(#host_trait))?);
        }
        let colon = if supertraits.is_empty() { quote!() } else { quote!(: #(#supertraits)+*) };
        let doc = match iface_name {
            Some(name) => format!(" The functions of `{name}` that the host implements."),
            None => " The functions the world imports itself, which the host implements.".to_string(),
        };
        traits.push(quote! {
            #[doc = #doc]
            pub trait #host_trait #colon {
                #(#methods)*
            }
            impl<_T: #host_trait + ?Sized> #host_trait for &mut _T {
                #(#forwards)*
            }
        });
        Ok(HostBindings { traits, registrations })
    }

    /// The trait method a host implements for `func`.
    pub fn host_method(&self, scope: &Scope, iface_name: Option<&str>, func: &Function) -> Result<HostMethod, String> {
        let name = ident(&method_name(func)?);
        let mut params = Vec::new();
        let mut args = Vec::new();
        for p in &func.params {
            let arg = ident(&param_name(&p.name));
            let ty = self.type_ref(&p.ty, scope)?;
            params.push(quote!(#arg: #ty));
            args.push(arg);
        }
        let result = match &func.result {
            Some(t) => self.type_ref(t, scope)?,
            None => quote!(()),
        };
        let ret = if self.is_trappable(iface_name, func) {
            quote!(::weld::component::__bindgen::Result<#result>)
        } else {
            result
        };
        let doc = docs(&func.docs);
        let allow = allow_many_args(params.len() + 1);
        let declaration = quote!(#doc #allow fn #name(&mut self #(, #params)*) -> #ret;);
        Ok(HostMethod { name, params, args, ret, declaration })
    }

    /// The statement defining `func` in the linker instance `inst`, calling `trait_path`.
    pub fn host_registration(
        &self,
        scope: &Scope,
        iface_name: Option<&str>,
        func: &Function,
        trait_path: &TokenStream,
    ) -> Result<TokenStream, String> {
        let method = ident(&method_name(func)?);
        let wasm_name = &func.name;
        let args: Vec<syn::Ident> = (0..func.params.len()).map(|i| ident(&format!("arg{i}"))).collect();
        let types = func.params.iter().map(|p| self.type_ref(&p.ty, scope)).collect::<Result<Vec<_>, _>>()?;
        let call = quote!(#trait_path::#method(host #(, #args)*));
        let trappable = self.is_trappable(iface_name, func);
        let finish = match (&func.result, trappable) {
            (Some(_), false) => quote!(Ok((#call,))),
            (Some(_), true) => quote!(Ok((#call?,))),
            (None, false) => quote!(#call; Ok(())),
            (None, true) => quote!(#call?; Ok(())),
        };
        Ok(quote! {
            inst.func_wrap(
                #wasm_name,
                move |mut caller: ::weld::component::StoreContextMut<'_, T>, (#(#args,)*): (#(#types,)*)| {
                    let host = &mut host_getter(caller.data_mut());
                    #finish
                },
            )?;
        })
    }

    /// Whether `trappable_imports` names `func` (by its WIT name, or `iface.name`).
    fn is_trappable(&self, iface_name: Option<&str>, func: &Function) -> bool {
        match &self.opts.trappable {
            Trappable::None => false,
            Trappable::All => true,
            Trappable::Some(names) => names.iter().any(|n| names_func(&n.value(), iface_name, func)),
        }
    }

    /// Every name in `trappable_imports: [...]` must name an imported function.
    pub fn check_trappable(&self) -> syn::Result<()> {
        let Trappable::Some(names) = &self.opts.trappable else { return Ok(()) };
        let mut all: Vec<(Option<String>, &Function)> = Vec::new();
        for (key, item) in &self.world.imports {
            match item {
                WorldItem::Function(f) => all.push((None, f)),
                WorldItem::Interface { id, .. } => {
                    let name = self.resolve.name_world_key(key);
                    all.extend(self.resolve.interfaces[*id].functions.values().map(|f| (Some(name.clone()), f)));
                }
                WorldItem::Type { .. } => {}
            }
        }
        for n in names {
            if !all.iter().any(|(i, f)| names_func(&n.value(), i.as_deref(), f)) {
                let msg = format!(
                    "`trappable_imports` names `{}`, which is no function the world `{}` imports",
                    n.value(),
                    self.world.name
                );
                return Err(syn::Error::new(n.span(), msg));
            }
        }
        Ok(())
    }
}

/// One trait method of a host trait.
pub struct HostMethod {
    name: syn::Ident,
    params: Vec<TokenStream>,
    args: Vec<syn::Ident>,
    ret: TokenStream,
    pub declaration: TokenStream,
}

impl HostMethod {
    /// The method of the `&mut T` implementation of `trait_name`, which calls `T`'s.
    pub fn forward(&self, trait_name: &syn::Ident) -> TokenStream {
        let HostMethod { name, params, args, ret, .. } = self;
        let allow = allow_many_args(params.len() + 1);
        quote!(#allow fn #name(&mut self #(, #params)*) -> #ret { #trait_name::#name(*self #(, #args)*) })
    }
}

fn names_func(name: &str, iface_name: Option<&str>, func: &Function) -> bool {
    name == func.name || iface_name.is_some_and(|i| name == format!("{i}.{}", func.name))
}

/// The resource a function belongs to (constructor, method or static function).
pub fn resource_of(func: &Function) -> Option<TypeId> {
    match func.kind {
        FunctionKind::Method(r) | FunctionKind::Static(r) | FunctionKind::Constructor(r) => Some(r),
        FunctionKind::AsyncMethod(r) | FunctionKind::AsyncStatic(r) => Some(r),
        FunctionKind::MethodGetter(r) | FunctionKind::MethodSetter(r) => Some(r),
        _ => None,
    }
}

/// The Rust method name of a function: `new` for a constructor, the snake-case name
/// otherwise. Async functions, getters and setters are refused.
pub fn method_name(func: &Function) -> Result<String, String> {
    match func.kind {
        FunctionKind::Constructor(_) => Ok("new".to_string()),
        FunctionKind::Freestanding | FunctionKind::Method(_) | FunctionKind::Static(_) => Ok(snake(func.item_name())),
        _ => Err(format!(
            "the function `{}` is async, a getter or a setter: weld's bindgen! supports only synchronous functions",
            func.name
        )),
    }
}

/// The Rust name of a parameter (`self` is `self_`; `store` is taken by generated calls).
pub fn param_name(name: &str) -> String {
    match snake(name).as_str() {
        "store" => "store_".to_string(),
        other => other.to_string(),
    }
}

/// `pub fn <name><T, D>(linker, host_getter) -> Result<()>`, the shape of every generated
/// `add_to_linker*`: `body` defines things in `linker` for a store whose data `host_getter`
/// turns into something implementing each of `bounds`.
fn add_to_linker_fn(name: &syn::Ident, doc: &str, bounds: &[TokenStream], body: TokenStream) -> TokenStream {
    let w = quote!(::weld::component);
    let hrtb = if bounds.is_empty() { quote!() } else { quote!(for<'a> D::Data<'a>: #(#bounds)+*,) };
    quote! {
        #[doc = #doc]
        pub fn #name<T, D>(
            linker: &mut #w::Linker<T>,
            host_getter: fn(&mut T) -> D::Data<'_>,
        ) -> #w::__bindgen::Result<()>
        where
            D: #w::HasData,
            #hrtb
            T: 'static,
        {
            #body
            Ok(())
        }
    }
}
