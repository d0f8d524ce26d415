//! `flags!`: a Rust type for a component `flags` type, a set of named bits of any count,
//! with set operations and the ComponentType, Lift and Lower traits.
//!
//! ```text
//! flags! {
//!     /// Optional attributes and doc comments.
//!     pub Permissions {
//!         const READ;
//!         #[component(name = "write-all")]
//!         const WRITE;
//!     }
//! }
//! ```

use crate::attrs;
use proc_macro2::TokenStream;
use quote::quote;
use std::collections::HashMap;
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Error, Ident, Token, Visibility, braced};

/// Every flags type of one invocation.
pub struct FlagsInput(Vec<FlagsDef>);

struct FlagsDef {
    attrs: Vec<Attribute>,
    vis: Visibility,
    ident: Ident,
    flags: Vec<FlagDef>,
}

struct FlagDef {
    attrs: Vec<Attribute>,
    ident: Ident,
}

impl Parse for FlagsInput {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut defs = Vec::new();
        while !input.is_empty() {
            let attrs = input.call(Attribute::parse_outer)?;
            let vis: Visibility = input.parse()?;
            let ident: Ident = input.parse()?;
            let body;
            braced!(body in input);
            let mut flags = Vec::new();
            while !body.is_empty() {
                let attrs = body.call(Attribute::parse_outer)?;
                body.parse::<Token![const]>()?;
                let ident: Ident = body.parse()?;
                body.parse::<Token![;]>()?;
                flags.push(FlagDef { attrs, ident });
            }
            if flags.is_empty() {
                return Err(Error::new(
                    ident.span(),
                    format!("`{ident}` has no flags; a component flags type needs at least one"),
                ));
            }
            defs.push(FlagsDef { attrs, vis, ident, flags });
        }
        Ok(FlagsInput(defs))
    }
}

pub fn expand(input: FlagsInput) -> syn::Result<TokenStream> {
    let mut out = TokenStream::new();
    for def in input.0 {
        out.extend(expand_one(def)?);
    }
    Ok(out)
}

fn expand_one(def: FlagsDef) -> syn::Result<TokenStream> {
    let w = quote!(::weld::component);
    let FlagsDef { attrs, vis, ident, flags } = def;
    let mut labels = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut rust_attrs = Vec::new();
    for flag in &flags {
        let label = attrs::label(&flag.attrs, &flag.ident, "flag")?;
        if let Some(&i) = seen.get(&label) {
            let first: &Ident = &flags[i].ident;
            return Err(Error::new(
                flag.ident.span(),
                format!("the flags `{first}` and `{}` both have the component name `{label}`", flag.ident),
            ));
        }
        seen.insert(label.clone(), labels.len());
        labels.push(label);
        // Doc comments and other attributes stay on the constant; `component` is ours.
        rust_attrs.push(flag.attrs.iter().filter(|a| !a.path().is_ident("component")).cloned().collect::<Vec<_>>());
    }
    let count = flags.len();
    let words = count.div_ceil(32);
    let rust_name = ident.to_string();
    let consts = flags.iter().zip(&rust_attrs).enumerate().map(|(i, (flag, attrs))| {
        let name = &flag.ident;
        let label = &labels[i];
        let doc = format!("The flag `{label}`.");
        quote! {
            #(#attrs)*
            #[doc = #doc]
            pub const #name: Self = Self::__bit(#i);
        }
    });
    let rust_names = flags.iter().map(|f| f.ident.to_string());
    let last_word_mask = if count % 32 == 0 { u32::MAX } else { (1u32 << (count % 32)) - 1 };
    let doc = format!("A component `flags` type of {count} flags.");
    // `|`, `&` and `^` and their assigning forms, word by word.
    let set_operators = [
        (quote!(BitOr), quote!(bitor), quote!(BitOrAssign), quote!(bitor_assign), quote!(|=)),
        (quote!(BitAnd), quote!(bitand), quote!(BitAndAssign), quote!(bitand_assign), quote!(&=)),
        (quote!(BitXor), quote!(bitxor), quote!(BitXorAssign), quote!(bitxor_assign), quote!(^=)),
    ]
    .into_iter()
    .map(|(op, method, assign_op, assign_method, assign)| {
        quote! {
            impl ::core::ops::#op for #ident {
                type Output = Self;
                fn #method(mut self, rhs: Self) -> Self {
                    ::core::ops::#assign_op::#assign_method(&mut self, rhs);
                    self
                }
            }
            impl ::core::ops::#assign_op for #ident {
                fn #assign_method(&mut self, rhs: Self) {
                    for (a, b) in self.bits.iter_mut().zip(rhs.bits) {
                        *a #assign b;
                    }
                }
            }
        }
    });
    Ok(quote! {
        #[doc = #doc]
        #(#attrs)*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
        #vis struct #ident {
            bits: [u32; #words],
        }

        impl #ident {
            #(#consts)*

            #[doc(hidden)]
            pub const __LABELS: &'static [&'static str] = &[#(#labels),*];
            const __RUST_NAMES: &'static [&'static str] = &[#(#rust_names),*];

            const fn __bit(index: usize) -> Self {
                let mut bits = [0u32; #words];
                bits[index / 32] = 1 << (index % 32);
                Self { bits }
            }

            /// No flag set.
            pub const fn empty() -> Self {
                Self { bits: [0; #words] }
            }

            /// Every flag set.
            pub const fn all() -> Self {
                let mut bits = [u32::MAX; #words];
                bits[#words - 1] = #last_word_mask;
                Self { bits }
            }

            /// Whether no flag is set.
            pub const fn is_empty(&self) -> bool {
                let mut i = 0;
                while i < #words {
                    if self.bits[i] != 0 {
                        return false;
                    }
                    i += 1;
                }
                true
            }

            /// Whether every flag set in `other` is set in `self`.
            pub const fn contains(&self, other: Self) -> bool {
                let mut i = 0;
                while i < #words {
                    if self.bits[i] & other.bits[i] != other.bits[i] {
                        return false;
                    }
                    i += 1;
                }
                true
            }

            /// Sets the flags of `other`.
            pub fn insert(&mut self, other: Self) {
                *self |= other;
            }

            /// Clears the flags of `other`.
            pub fn remove(&mut self, other: Self) {
                *self &= !other;
            }

            /// The component names of the flags that are set, in declaration order.
            pub fn labels(&self) -> impl ::core::iter::Iterator<Item = &'static str> + '_ {
                (0..#count).filter(move |i| self.bits[i / 32] & (1 << (i % 32)) != 0).map(|i| Self::__LABELS[i])
            }
        }

        #(#set_operators)*
        impl ::core::ops::Not for #ident {
            type Output = Self;
            fn not(self) -> Self {
                self ^ Self::all()
            }
        }

        impl ::core::fmt::Debug for #ident {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(#rust_name)?;
                f.write_str("(")?;
                let mut first = true;
                for i in 0..#count {
                    if self.bits[i / 32] & (1 << (i % 32)) != 0 {
                        if !first {
                            f.write_str(" | ")?;
                        }
                        first = false;
                        f.write_str(Self::__RUST_NAMES[i])?;
                    }
                }
                f.write_str(")")
            }
        }

        impl #w::ComponentType for #ident {
            fn ty() -> #w::InterfaceType {
                #w::InterfaceType::flags(Self::__LABELS.iter().copied())
            }
            fn typecheck(ty: &#w::InterfaceType) -> #w::__derive::Result<()> {
                #w::__derive::typecheck_flags(ty, #rust_name, Self::__LABELS)
            }
        }
        impl #w::Lower for #ident {
            fn to_val(&self) -> #w::Val {
                #w::Val::Flags(self.labels().map(::std::string::String::from).collect())
            }
        }
        impl #w::Lift for #ident {
            fn from_val(val: #w::Val) -> #w::__derive::Result<Self> {
                let mut out = Self::empty();
                for index in #w::__derive::flag_indices(val, #rust_name, Self::__LABELS)? {
                    out |= Self::__bit(index);
                }
                ::core::result::Result::Ok(out)
            }
        }
    })
}
