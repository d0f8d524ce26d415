//! Resources in bindings. On the host side (a resource the world imports), a `Host<Name>`
//! trait with the constructor (`new`), methods, static functions and `drop`, and the linker
//! definitions: the resource type `ResourceType::host::<Name>()` with a destructor that calls
//! `drop`, and one function per constructor, method and static function. On the guest side
//! (a resource an exported interface defines), a `Guest<Name>` view of the interface's
//! `Guest` with `call_constructor` and a `call_*` per method and static function, handles
//! being `ResourceAny`.

use super::idents::{camel, ident, snake};
use super::imports::method_name;
use super::{Gen, Scope};
use proc_macro2::TokenStream;
use quote::quote;
use wit_parser::Function;

impl Gen<'_> {
    /// The `Host<Name>` trait of resource `name` with its functions `funcs`, and the
    /// statements that define it and them in the linker instance `inst`.
    pub fn host_resource(
        &self,
        scope: &Scope,
        iface_name: Option<&str>,
        name: &str,
        funcs: &[&Function],
    ) -> Result<(TokenStream, Vec<TokenStream>), String> {
        let w = quote!(::weld::component);
        let rust = ident(&camel(name));
        let trait_name = ident(&format!("Host{}", camel(name)));
        let mut methods = Vec::new();
        let mut forwards = Vec::new();
        let mut registrations = vec![quote! {
            inst.resource(
                #name,
                #w::ResourceType::host::<#rust>(),
                move |mut caller: #w::StoreContextMut<'_, T>, rep: u32| {
                    #trait_name::drop(&mut host_getter(caller.data_mut()), #w::Resource::new_own(rep))
                },
            )?;
        }];
        for func in funcs {
            let sig = self.host_method(scope, iface_name, func)?;
            methods.push(sig.declaration.clone());
            forwards.push(sig.forward(&trait_name));
            registrations.push(self.host_registration(scope, iface_name, func, &quote!(#trait_name))?);
        }
        let doc = format!(" The resource `{name}`, which the host implements.");
        let drop_doc = format!(" Drops the `{name}` whose handle a guest dropped (or gave back to be dropped).");
        let tr = quote! {
            #[doc = #doc]
            pub trait #trait_name {
                #(#methods)*
                #[doc = #drop_doc]
                fn drop(&mut self, rep: #w::Resource<#rust>) -> #w::__bindgen::Result<()>;
            }
            impl<_T: #trait_name + ?Sized> #trait_name for &mut _T {
                #(#forwards)*
                fn drop(&mut self, rep: #w::Resource<#rust>) -> #w::__bindgen::Result<()> {
                    #trait_name::drop(*self, rep)
                }
            }
        };
        Ok((tr, registrations))
    }

    /// `Guest<Name>`, the view of an exported interface's `Guest` that calls the functions of
    /// its resource `name` (whose fields in `Guest` are `fields`, with their functions), and
    /// `Guest`'s accessor of it.
    pub fn guest_resource(
        &self,
        scope: &Scope,
        name: &str,
        funcs: &[(&Function, syn::Ident)],
    ) -> Result<(TokenStream, TokenStream), String> {
        let view = ident(&format!("Guest{}", camel(name)));
        let accessor = ident(&snake(name));
        let mut calls = Vec::new();
        for (func, field) in funcs {
            let method = match method_name(func)?.as_str() {
                "new" => ident("call_constructor"),
                other => ident(&format!("call_{other}")),
            };
            calls.push(self.export_call(scope, func, &method, &quote!(self.funcs.#field))?);
        }
        let doc = format!(" The functions of the exported resource `{name}`; its handles are `ResourceAny`s.");
        let accessor_doc = format!(" The functions of the resource `{name}`.");
        let view_def = quote! {
            #[doc = #doc]
            pub struct #view<'a> {
                funcs: &'a Guest,
            }
            impl #view<'_> {
                #(#calls)*
            }
        };
        let accessor_def = quote! {
            #[doc = #accessor_doc]
            pub fn #accessor(&self) -> #view<'_> {
                #view { funcs: self }
            }
        };
        Ok((view_def, accessor_def))
    }
}
