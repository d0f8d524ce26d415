//! What a derive input is as a component type: a record (a struct with named fields), a
//! variant (an enum whose cases carry zero or one payload) or an enum (an enum without
//! payloads). Every shape the component model cannot express is refused here with an error
//! that says why and what to write instead; the code generators only see valid shapes.

use crate::attrs::{self, Kind};
use std::collections::HashMap;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Error, Fields, GenericParam, Ident, Type, WherePredicate};

/// A derive input that maps onto a component type.
pub struct Shape {
    pub ident: Ident,
    pub body: Body,
}

/// The fields or cases, each with its component-model label.
pub enum Body {
    Record(Vec<FieldDef>),
    Variant(Vec<CaseDef>),
    Enum(Vec<CaseDef>),
}

pub struct FieldDef {
    pub ident: Ident,
    pub ty: Type,
    pub label: String,
}

pub struct CaseDef {
    pub ident: Ident,
    pub label: String,
    /// The payload's type; always `None` in an enum.
    pub payload: Option<Type>,
}

impl Body {
    /// The Rust types of the fields or payloads, for the `where` bounds of generic types.
    pub fn member_types(&self) -> Vec<&Type> {
        match self {
            Body::Record(fields) => fields.iter().map(|f| &f.ty).collect(),
            Body::Variant(cases) | Body::Enum(cases) => cases.iter().filter_map(|c| c.payload.as_ref()).collect(),
        }
    }
}

/// Reads `input` as a record, variant or enum.
pub fn analyze(input: &DeriveInput) -> syn::Result<Shape> {
    check_generics(input)?;
    let kind = attrs::kind(&input.attrs)?;
    let ident = input.ident.clone();
    let body = match &input.data {
        Data::Struct(data) => {
            if let Some((kind @ (Kind::Variant | Kind::Enum), span)) = kind {
                return Err(Error::new(
                    span,
                    format!("a struct cannot be a component `{}`; use a Rust enum", kind.keyword()),
                ));
            }
            Body::Record(record_fields(&ident, &data.fields)?)
        }
        Data::Enum(data) => {
            let kind = match kind {
                Some((Kind::Record, span)) => {
                    return Err(Error::new(
                        span,
                        "an enum cannot be a component `record`; use a struct with named fields",
                    ));
                }
                Some((kind, _)) => kind,
                None => {
                    let has_payload = data.variants.iter().any(|v| !v.fields.is_empty());
                    let hint = if has_payload {
                        "`#[component(variant)]` (its cases carry payloads)"
                    } else {
                        "`#[component(enum)]`, or `#[component(variant)]` for a variant without payloads"
                    };
                    return Err(Error::new(
                        ident.span(),
                        format!("say which component type the enum `{ident}` is: add {hint}"),
                    ));
                }
            };
            if data.variants.is_empty() {
                return Err(Error::new(
                    ident.span(),
                    format!("the enum `{ident}` has no cases; a component {} needs at least one", kind.keyword()),
                ));
            }
            let mut cases = Vec::new();
            for variant in &data.variants {
                if let Some((_, discriminant)) = &variant.discriminant {
                    return Err(Error::new(
                        discriminant.span(),
                        "explicit discriminants are not supported: a case's discriminant in the \
                         canonical ABI is its position",
                    ));
                }
                let label = attrs::label(&variant.attrs, &variant.ident, "case")?;
                let payload = case_payload(kind, &ident, variant)?;
                cases.push(CaseDef { ident: variant.ident.clone(), label, payload });
            }
            check_unique(cases.iter().map(|c| (&c.label, &c.ident)), "case")?;
            match kind {
                Kind::Variant => Body::Variant(cases),
                _ => Body::Enum(cases),
            }
        }
        Data::Union(data) => {
            return Err(Error::new(data.union_token.span(), "a union has no component type; use an enum as a variant"));
        }
    };
    Ok(Shape { ident, body })
}

fn record_fields(ident: &Ident, fields: &Fields) -> syn::Result<Vec<FieldDef>> {
    let named = match fields {
        Fields::Named(named) => named,
        Fields::Unnamed(unnamed) => {
            return Err(Error::new(
                unnamed.span(),
                format!(
                    "`{ident}` is a tuple struct, and a component record needs named fields: name them \
                     (`struct {ident} {{ a: T, .. }}`), or use a Rust tuple `(A, B)` for a component tuple"
                ),
            ));
        }
        Fields::Unit => {
            return Err(Error::new(
                ident.span(),
                format!("`{ident}` is a unit struct, and a component record needs at least one named field"),
            ));
        }
    };
    if named.named.is_empty() {
        return Err(Error::new(
            named.span(),
            format!("`{ident}` has no fields; a component record needs at least one"),
        ));
    }
    let mut out = Vec::new();
    for field in &named.named {
        let field_ident = field.ident.clone().expect("named fields have identifiers");
        let label = attrs::label(&field.attrs, &field_ident, "field")?;
        out.push(FieldDef { ident: field_ident, ty: field.ty.clone(), label });
    }
    check_unique(out.iter().map(|f| (&f.label, &f.ident)), "field")?;
    Ok(out)
}

fn case_payload(kind: Kind, ident: &Ident, variant: &syn::Variant) -> syn::Result<Option<Type>> {
    let case = &variant.ident;
    match (&variant.fields, kind) {
        (Fields::Unit, _) => Ok(None),
        (fields, Kind::Enum) => Err(Error::new(
            fields.span(),
            format!(
                "the case `{case}` carries a payload, and the cases of a component enum have none: \
                 make `{ident}` a `#[component(variant)]`"
            ),
        )),
        (Fields::Named(named), _) => Err(Error::new(
            named.span(),
            format!(
                "the case `{case}` has named fields; a variant case carries at most one payload: \
                 move them into a struct that derives a record and write `{case}(ThatStruct)`"
            ),
        )),
        (Fields::Unnamed(unnamed), _) => match unnamed.unnamed.len() {
            1 => Ok(Some(unnamed.unnamed[0].ty.clone())),
            0 => Err(Error::new(unnamed.span(), format!("write `{case}` for a case without payload, not `{case}()`"))),
            n => Err(Error::new(
                unnamed.span(),
                format!(
                    "the case `{case}` has {n} payloads, and a variant case carries at most one: \
                     wrap them in a tuple, `{case}(({}))`, or in a record",
                    vec!["_"; n].join(", ")
                ),
            )),
        },
    }
}

/// Labels must differ: two Rust names may map to the same label (`a_b` and `aB`).
fn check_unique<'a>(labels: impl Iterator<Item = (&'a String, &'a Ident)>, what: &str) -> syn::Result<()> {
    let mut seen: HashMap<&String, &Ident> = HashMap::new();
    for (label, ident) in labels {
        if let Some(first) = seen.insert(label, ident) {
            return Err(Error::new(
                ident.span(),
                format!("the {what}s `{first}` and `{ident}` both have the component name `{label}`"),
            ));
        }
    }
    Ok(())
}

/// Every type parameter must be bounded (inline or in the `where` clause): the derive cannot
/// guess which traits a parameter it knows nothing about should have.
fn check_generics(input: &DeriveInput) -> syn::Result<()> {
    for param in &input.generics.params {
        let GenericParam::Type(param) = param else { continue };
        let bounded_inline = !param.bounds.is_empty();
        let bounded_in_where = input.generics.where_clause.as_ref().is_some_and(|w| {
            w.predicates.iter().any(|p| match p {
                WherePredicate::Type(t) => {
                    matches!(&t.bounded_ty, Type::Path(path) if path.qself.is_none() && path.path.is_ident(&param.ident))
                        && !t.bounds.is_empty()
                }
                _ => false,
            })
        });
        if !bounded_inline && !bounded_in_where {
            let p = &param.ident;
            return Err(Error::new(
                p.span(),
                format!(
                    "the type parameter `{p}` has no bounds: declare what the derives need, \
                     e.g. `{p}: ComponentType + Lift + Lower`"
                ),
            ));
        }
    }
    Ok(())
}
