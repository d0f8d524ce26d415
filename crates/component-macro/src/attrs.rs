//! The `#[component(...)]` attributes: the kind of a derived type (`record`, `variant`,
//! `enum`) on the type, and `name = "label"` on fields, cases and flags. Unknown keys and
//! names that are not labels are errors pointing at the attribute.

use crate::names::{is_label, kebab_case};
use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Attribute, Ident, LitStr};

/// What a derived type is in the component model.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Record,
    Variant,
    Enum,
}

impl Kind {
    pub fn keyword(self) -> &'static str {
        match self {
            Kind::Record => "record",
            Kind::Variant => "variant",
            Kind::Enum => "enum",
        }
    }
}

/// Reads the kind given on a type, if any. `name = ...` is refused there.
pub fn kind(attrs: &[Attribute]) -> syn::Result<Option<(Kind, Span)>> {
    let mut found: Option<(Kind, Span)> = None;
    for attr in component_attrs(attrs) {
        attr.parse_nested_meta(|meta| {
            let kind = if meta.path.is_ident("record") {
                Kind::Record
            } else if meta.path.is_ident("variant") {
                Kind::Variant
            } else if meta.path.is_ident("enum") {
                Kind::Enum
            } else if meta.path.is_ident("name") {
                return Err(meta.error(
                    "`name` belongs on fields, cases and flags; a type's own name does not matter \
                     to the component model, which compares types by structure",
                ));
            } else {
                return Err(meta.error("unknown `component` attribute: expected `record`, `variant` or `enum`"));
            };
            if let Some((previous, _)) = found {
                return Err(meta.error(format!(
                    "the type is already declared a `{}`; give one of `record`, `variant` and `enum`",
                    previous.keyword()
                )));
            }
            found = Some((kind, meta.path.span()));
            Ok(())
        })?;
    }
    Ok(found)
}

/// The label of a field, case or flag: its `#[component(name = "...")]`, checked, or the
/// kebab-case form of its identifier.
pub fn label(attrs: &[Attribute], ident: &Ident, what: &str) -> syn::Result<String> {
    let mut given: Option<LitStr> = None;
    for attr in component_attrs(attrs) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("name") {
                if given.is_some() {
                    return Err(meta.error(format!("this {what} already has a `name`")));
                }
                let lit: LitStr = meta.value()?.parse()?;
                if !is_label(&lit.value()) {
                    return Err(syn::Error::new(
                        lit.span(),
                        format!(
                            "`{}` is not a component-model name: a name is words joined by `-`, each word \
                             lowercase (`first-name`) or uppercase (`HTTP`), starting with a letter",
                            lit.value()
                        ),
                    ));
                }
                given = Some(lit);
                Ok(())
            } else {
                Err(meta.error(format!("unknown `component` attribute on a {what}: expected `name = \"...\"`")))
            }
        })?;
    }
    if let Some(lit) = given {
        return Ok(lit.value());
    }
    let name = kebab_case(&ident.to_string());
    if !is_label(&name) {
        return Err(syn::Error::new(
            ident.span(),
            format!(
                "the {what} `{ident}` has no component-model name of its own (`{name}` is not a valid name); \
                 give one with `#[component(name = \"...\")]`"
            ),
        ));
    }
    Ok(name)
}

fn component_attrs(attrs: &[Attribute]) -> impl Iterator<Item = &Attribute> {
    attrs.iter().filter(|a| a.path().is_ident("component"))
}
