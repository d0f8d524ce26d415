//! The module tree of `bindgen!`'s output: items are pushed to a path of module names
//! (`["exports", "ns", "pkg", "iface"]`) in the order they are generated, and rendered as
//! nested `pub mod`s, each in the order it was first pushed to, so the output is stable.

use super::idents;
use proc_macro2::TokenStream;
use quote::quote;

/// A module of the output: its items and its child modules.
#[derive(Default)]
pub struct Tree {
    /// Attributes of the module itself (its documentation).
    attrs: TokenStream,
    items: Vec<TokenStream>,
    children: Vec<(String, Tree)>,
}

impl Tree {
    /// The module at `path`, created if it does not exist.
    pub fn module(&mut self, path: &[String]) -> &mut Tree {
        let Some((first, rest)) = path.split_first() else { return self };
        let i = match self.children.iter().position(|(name, _)| name == first) {
            Some(i) => i,
            None => {
                self.children.push((first.clone(), Tree::default()));
                self.children.len() - 1
            }
        };
        self.children[i].1.module(rest)
    }

    /// Adds `items` to the module at `path`.
    pub fn push(&mut self, path: &[String], items: impl IntoIterator<Item = TokenStream>) {
        self.module(path).items.extend(items);
    }

    /// Sets the attributes (documentation) of the module at `path`.
    pub fn set_attrs(&mut self, path: &[String], attrs: TokenStream) {
        self.module(path).attrs = attrs;
    }

    /// The items and modules, as Rust code.
    pub fn render(&self) -> TokenStream {
        let items = &self.items;
        let children = self.children.iter().map(|(name, tree)| {
            let name = idents::ident(name);
            let attrs = &tree.attrs;
            let body = tree.render();
            quote! {
                #attrs
                pub mod #name {
                    #body
                }
            }
        });
        quote!(#(#items)* #(#children)*)
    }
}
