//! The code of the three derives for a [`Shape`]. Generated code calls the hidden helpers of
//! `weld::component::__derive`, which hold the type checks and error messages, so that what
//! is expanded into a user's crate stays small.

use crate::shape::{Body, CaseDef, FieldDef, Shape};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{DeriveInput, Generics, Ident, parse_quote};

/// The path of weld's component module in generated code.
fn weld() -> TokenStream {
    quote!(::weld::component)
}

/// `generics` with `Member: Trait` added for every field or payload type when the type is
/// generic (a concrete member type needs no bound: its use in the body is checked anyway).
fn bounded(input: &DeriveInput, shape: &Shape, bound: TokenStream) -> Generics {
    let mut generics = input.generics.clone();
    if generics.type_params().next().is_none() {
        return generics;
    }
    let where_clause = generics.make_where_clause();
    for ty in shape.body.member_types() {
        where_clause.predicates.push(parse_quote!(#ty: #bound));
    }
    generics
}

pub fn component_type(input: &DeriveInput, shape: &Shape) -> TokenStream {
    let w = weld();
    let generics = bounded(input, shape, quote!(#w::ComponentType));
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let ident = &shape.ident;
    let rust_name = ident.to_string();
    let (ty, typecheck) = match &shape.body {
        Body::Record(fields) => {
            let labels = fields.iter().map(|f| &f.label);
            let tys = fields.iter().map(|f| member_ty(&f.ty));
            let checks = fields.iter().map(|f| member_check(&f.ty));
            let labels2 = labels.clone();
            (
                quote!(#w::InterfaceType::record([#((#labels, #tys)),*])),
                quote!(#w::__derive::typecheck_record(ty, #rust_name, &[#((#labels2, #checks)),*])),
            )
        }
        Body::Variant(cases) => {
            let labels = cases.iter().map(|c| &c.label);
            let tys = cases.iter().map(|c| match &c.payload {
                Some(ty) => {
                    let ty = member_ty(ty);
                    quote!(::core::option::Option::Some(#ty))
                }
                None => quote!(::core::option::Option::None),
            });
            let checks = cases.iter().map(|c| match &c.payload {
                Some(ty) => {
                    let check = member_check(ty);
                    quote!(::core::option::Option::Some(#check))
                }
                None => quote!(::core::option::Option::None),
            });
            let labels2 = labels.clone();
            (
                quote!(#w::InterfaceType::variant([#((#labels, #tys)),*])),
                quote!(#w::__derive::typecheck_variant(ty, #rust_name, &[#((#labels2, #checks)),*])),
            )
        }
        Body::Enum(cases) => {
            let labels = cases.iter().map(|c| &c.label);
            let names = quote!(const NAMES: &[&str] = &[#(#labels),*];);
            (
                quote!({ #names #w::InterfaceType::enumeration(NAMES.iter().copied()) }),
                quote!({ #names #w::__derive::typecheck_enum(ty, #rust_name, NAMES) }),
            )
        }
    };
    quote! {
        impl #impl_generics #w::ComponentType for #ident #ty_generics #where_clause {
            fn ty() -> #w::InterfaceType {
                #ty
            }
            fn typecheck(ty: &#w::InterfaceType) -> #w::__derive::Result<()> {
                #typecheck
            }
        }
    }
}

pub fn lower(input: &DeriveInput, shape: &Shape) -> TokenStream {
    let w = weld();
    let generics = bounded(input, shape, quote!(#w::Lower));
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let ident = &shape.ident;
    let body = match &shape.body {
        Body::Record(fields) => {
            let items = fields.iter().map(|f| {
                let (field, label) = (&f.ident, &f.label);
                quote_spanned!(f.ty.span()=> (::std::string::String::from(#label), #w::Lower::to_val(&self.#field)))
            });
            quote!(#w::Val::Record(::std::vec![#(#items),*]))
        }
        Body::Variant(cases) => {
            let arms = cases.iter().map(|c| {
                let (case, label) = (&c.ident, &c.label);
                match &c.payload {
                    Some(ty) => quote_spanned! {ty.span()=>
                        #ident::#case(payload) => #w::Val::Variant(
                            ::std::string::String::from(#label),
                            ::core::option::Option::Some(::std::boxed::Box::new(#w::Lower::to_val(payload))),
                        )
                    },
                    None => quote! {
                        #ident::#case => #w::Val::Variant(::std::string::String::from(#label), ::core::option::Option::None)
                    },
                }
            });
            quote!(match self { #(#arms,)* })
        }
        Body::Enum(cases) => {
            let labels = cases.iter().map(|c| &c.label);
            let index = enum_index(ident, cases);
            quote! {
                const NAMES: &[&str] = &[#(#labels),*];
                let index: usize = #index;
                #w::Val::Enum(::std::string::String::from(NAMES[index]))
            }
        }
    };
    // A record lowers its fields straight into the guest, without a `Val` for the record.
    let lower_direct = match &shape.body {
        Body::Record(fields) => {
            let arms = fields.iter().enumerate().map(|(i, f)| {
                let field = &f.ident;
                quote_spanned!(f.ty.span()=> #i => #w::Lower::lower(&self.#field, cx, ty, dst))
            });
            let plain = plain_layout(fields);
            let n = fields.len();
            let bits = fields.iter().map(|f| {
                let field = &f.ident;
                quote_spanned!(f.ty.span()=> #w::Lower::scalar_bits(&self.#field))
            });
            lower_fn(quote! {
                // A record of scalars is written at offsets known at compile time.
                if let ::core::option::Option::Some(layout) = &#plain {
                    if #w::__derive::is_record_of(ty, #n) {
                        return #w::__derive::lower_plain(cx, dst, layout, [#(#bits),*]);
                    }
                }
                #w::__derive::lower_record_fields(cx, ty, dst, |cx, i, ty, dst| match i {
                    #(#arms,)*
                    _ => ::core::result::Result::Err(#w::__derive::too_many_fields()),
                })
            })
        }
        // A variant writes its discriminant and its payload straight into the guest (the
        // Rust cases are in the order of the component type's: `typecheck` checked that).
        Body::Variant(cases) => {
            let arms = cases.iter().enumerate().map(|(i, c)| {
                let (case, index) = (&c.ident, i as u64);
                match &c.payload {
                    Some(ty) => quote_spanned! {ty.span()=>
                        #ident::#case(payload) => #w::__derive::lower_case(cx, ty, #index, dst, |cx, ty, dst| {
                            #w::Lower::lower(payload, cx, ty, dst)
                        })
                    },
                    None => quote! {
                        #ident::#case => #w::__derive::lower_case(cx, ty, #index, dst, |_, _, _| {
                            ::core::result::Result::Ok(())
                        })
                    },
                }
            });
            lower_fn(quote!(match self { #(#arms,)* }))
        }
        // An enum writes its discriminant straight into the guest.
        Body::Enum(cases) => {
            let index = enum_index(ident, cases);
            lower_fn(quote! {
                let index: usize = #index;
                #w::__derive::lower_enum(cx, ty, index, dst)
            })
        }
    };
    quote! {
        impl #impl_generics #w::Lower for #ident #ty_generics #where_clause {
            fn to_val(&self) -> #w::Val {
                #body
            }
            #lower_direct
        }
    }
}

pub fn lift(input: &DeriveInput, shape: &Shape) -> TokenStream {
    let w = weld();
    let generics = bounded(input, shape, quote!(#w::Lift));
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let ident = &shape.ident;
    let rust_name = ident.to_string();
    let body = match &shape.body {
        Body::Record(fields) => {
            let inits = fields.iter().map(|f| {
                let (field, label) = (&f.ident, &f.label);
                quote_spanned!(f.ty.span()=> #field: #w::__derive::lift_field(&mut fields, #label)?)
            });
            quote! {
                let mut fields = #w::__derive::record_fields(val, #rust_name)?;
                ::core::result::Result::Ok(Self { #(#inits,)* })
            }
        }
        Body::Variant(cases) => {
            let arms = cases.iter().map(|c| {
                let (case, label) = (&c.ident, &c.label);
                match &c.payload {
                    Some(ty) => quote_spanned! {ty.span()=>
                        #label => ::core::result::Result::Ok(#ident::#case(#w::__derive::lift_payload(payload, #label)?))
                    },
                    None => quote!(#label => ::core::result::Result::Ok(#ident::#case)),
                }
            });
            quote! {
                let (case, payload) = #w::__derive::variant_case(val, #rust_name)?;
                match case.as_str() {
                    #(#arms,)*
                    _ => ::core::result::Result::Err(#w::__derive::unknown_case(&case, #rust_name)),
                }
            }
        }
        Body::Enum(cases) => {
            let labels = cases.iter().map(|c| &c.label);
            let case = enum_case(ident, cases);
            quote! {
                const NAMES: &[&str] = &[#(#labels),*];
                let index = #w::__derive::enum_index(val, #rust_name, NAMES)?;
                ::core::result::Result::Ok(#case)
            }
        }
    };
    // A record lifts its fields straight from the guest, without a `Val` for the record.
    let lift_in_place = match &shape.body {
        Body::Record(fields) => {
            let inits = fields.iter().map(|f| {
                let (field, label) = (&f.ident, &f.label);
                quote_spanned!(f.ty.span()=> #field: lifter.field(#label)?)
            });
            let tys = fields.iter().map(|f| &f.ty);
            let plain = plain_layout(fields);
            let n = fields.len();
            let plain_inits = fields.iter().enumerate().map(|(i, f)| {
                let (field, ty) = (&f.ident, &f.ty);
                quote_spanned!(f.ty.span()=> #field: <#ty as #w::Lift>::from_scalar_bits(bits[#i])?)
            });
            lift_fn(
                tys,
                quote! {
                    // A record of scalars is read at offsets known at compile time.
                    if let ::core::option::Option::Some(layout) = &#plain {
                        if #w::__derive::is_record_of(ty, #n) {
                            let bits = #w::__derive::lift_plain(cx, ty, src, layout)?;
                            return ::core::result::Result::Ok(Self { #(#plain_inits,)* });
                        }
                    }
                    let mut lifter = #w::__derive::record_lifter(cx, ty, src, #rust_name)?;
                    ::core::result::Result::Ok(Self { #(#inits,)* })
                },
            )
        }
        // A variant reads its discriminant, then lifts its payload straight from the guest.
        Body::Variant(cases) => {
            let arms = cases.iter().enumerate().map(|(i, c)| {
                let (case, index) = (&c.ident, i as u64);
                match &c.payload {
                    Some(ty) => quote_spanned! {ty.span()=>
                        #index => ::core::result::Result::Ok(#ident::#case(
                            #w::Lift::lift(cx, #w::__derive::payload_type(payload)?, src)?
                        ))
                    },
                    None => quote!(#index => ::core::result::Result::Ok(#ident::#case)),
                }
            });
            let tys = cases.iter().filter_map(|c| c.payload.as_ref());
            lift_fn(
                tys,
                quote! {
                    #w::__derive::lift_case(cx, ty, src, #rust_name, |cx, case, payload, src| match case {
                        #(#arms,)*
                        _ => ::core::result::Result::Err(#w::__derive::unknown_case_index(case, #rust_name)),
                    })
                },
            )
        }
        // An enum reads (and checks) its discriminant straight from the guest.
        Body::Enum(cases) => {
            let case = enum_case(ident, cases);
            lift_fn(
                std::iter::empty(),
                quote! {
                    let index = #w::__derive::lift_enum(cx, ty, src, #rust_name)?;
                    ::core::result::Result::Ok(#case)
                },
            )
        }
    };
    quote! {
        impl #impl_generics #w::Lift for #ident #ty_generics #where_clause {
            fn from_val(val: #w::Val) -> #w::__derive::Result<Self> {
                #body
            }
            #lift_in_place
        }
    }
}

/// A `Lower::lower` that lowers straight into the guest with `body` (which has `self`, `cx`,
/// `ty` and `dst`).
fn lower_fn(body: TokenStream) -> TokenStream {
    let w = weld();
    quote! {
        fn lower(
            &self,
            cx: &mut #w::LowerContext<'_>,
            ty: &#w::InterfaceType,
            dst: #w::LowerDest<'_>,
        ) -> #w::__derive::Result<()> {
            #body
        }
    }
}

/// A `Lift::lift` that lifts in place with `body` (which has `cx`, `ty` and `src`), and its
/// `IN_PLACE`: whether any of the member types `tys` must be lifted in place.
fn lift_fn<'a>(tys: impl Iterator<Item = &'a syn::Type>, body: TokenStream) -> TokenStream {
    let w = weld();
    quote! {
        const IN_PLACE: bool = false #(|| <#tys as #w::Lift>::IN_PLACE)*;

        fn lift(
            cx: &mut #w::LiftContext<'_>,
            ty: &#w::InterfaceType,
            src: #w::LiftSource<'_>,
        ) -> #w::__derive::Result<Self> {
            #body
        }
    }
}

/// The record's layout when all its fields are scalars (`None` otherwise), as a `const`
/// block evaluated at compile time (it may name the type's generic parameters).
fn plain_layout(fields: &[FieldDef]) -> TokenStream {
    let w = weld();
    let sizes = fields.iter().map(|f| {
        let ty = &f.ty;
        quote_spanned!(ty.span()=> <#ty as #w::ComponentType>::SCALAR_SIZE)
    });
    quote!(const { #w::__derive::plain_layout([#(#sizes),*]) })
}

/// `<T as ComponentType>::ty()`, with errors pointing at the member's type.
fn member_ty(ty: &syn::Type) -> TokenStream {
    let w = weld();
    quote_spanned!(ty.span()=> <#ty as #w::ComponentType>::ty())
}

/// `<T as ComponentType>::typecheck` as a function pointer.
fn member_check(ty: &syn::Type) -> TokenStream {
    let w = weld();
    quote_spanned!(ty.span()=> <#ty as #w::ComponentType>::typecheck as #w::__derive::Check)
}

/// Enums with more cases than this are matched in chunks of this many cases, each in its own
/// function: rustc's borrow checker takes time superlinear in the size of one `match`, and
/// an enum of 65537 cases would take minutes to compile in one.
const ENUM_CHUNK: usize = 256;

/// An expression for the position of `self`'s case (the type is named, not `Self`: rustc
/// resolves `Self::Case` much more slowly in very large enums).
fn enum_index(ident: &Ident, cases: &[CaseDef]) -> TokenStream {
    let arms = |chunk: &[CaseDef], start: usize, wrap: bool| {
        let arms = chunk.iter().enumerate().map(|(i, c)| {
            let (case, i) = (&c.ident, start + i);
            if wrap { quote!(#ident::#case => ::core::option::Option::Some(#i)) } else { quote!(#ident::#case => #i) }
        });
        quote!(#(#arms,)*)
    };
    if cases.len() <= ENUM_CHUNK {
        let arms = arms(cases, 0, false);
        return quote!(match self { #arms });
    }
    let (chunks, names) = chunk_functions(cases, |name, chunk, start| {
        let arms = arms(chunk, start, true);
        quote! {
            fn #name(value: &#ident) -> ::core::option::Option<usize> {
                match value { #arms _ => ::core::option::Option::None }
            }
        }
    });
    quote!({
        #(#chunks)*
        const CHUNKS: &[fn(&#ident) -> ::core::option::Option<usize>] = &[#(#names),*];
        CHUNKS.iter().find_map(|chunk| chunk(self)).expect("every case is in a chunk")
    })
}

/// An expression for the case at position `index` (known to be in range).
fn enum_case(ident: &Ident, cases: &[CaseDef]) -> TokenStream {
    let arms = |chunk: &[CaseDef], start: usize| {
        let arms = chunk.iter().enumerate().map(|(i, c)| {
            let (case, i) = (&c.ident, start + i);
            quote!(#i => #ident::#case)
        });
        quote!(#(#arms,)*)
    };
    if cases.len() <= ENUM_CHUNK {
        let arms = arms(cases, 0);
        return quote!(match index { #arms _ => ::core::unreachable!("enum_index checks the range") });
    }
    let (chunks, names) = chunk_functions(cases, |name, chunk, start| {
        let arms = arms(chunk, start);
        quote! {
            fn #name(index: usize) -> #ident {
                match index { #arms _ => ::core::unreachable!("the chunk of an index holds it") }
            }
        }
    });
    quote!({
        #(#chunks)*
        const CHUNKS: &[fn(usize) -> #ident] = &[#(#names),*];
        CHUNKS[index / #ENUM_CHUNK](index)
    })
}

/// One function `chunk_<k>` per [`ENUM_CHUNK`] cases, from `function(name, cases, position
/// of the first case)`; returns the functions and their names.
fn chunk_functions(
    cases: &[CaseDef],
    function: impl Fn(&Ident, &[CaseDef], usize) -> TokenStream,
) -> (Vec<TokenStream>, Vec<Ident>) {
    let names: Vec<Ident> = (0..cases.len().div_ceil(ENUM_CHUNK)).map(|k| format_ident!("chunk_{k}")).collect();
    let functions = cases.chunks(ENUM_CHUNK).zip(&names).enumerate();
    (functions.map(|(k, (chunk, name))| function(name, chunk, k * ENUM_CHUNK)).collect(), names)
}
