//! The input of `bindgen!`, parsed into [`Options`]: where the WIT is (`path`, `inline`),
//! which world, and the choices that shape the generated code (`with`, `trappable_imports`,
//! `additional_derives`, `ownership`).
//!
//! Accepted forms: `bindgen!()`, `bindgen!("world")`, `bindgen!(in "path")`,
//! `bindgen!("world" in "path")` and `bindgen!({ key: value, ... })`. Only the syntax is
//! checked here; whether the names exist in the WIT is checked once it is loaded, with
//! errors at the span kept in each option.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Error, Ident, LitBool, LitStr, Path, Token, braced, bracketed};

/// Everything `bindgen!` was asked for.
pub struct Options {
    /// The world to generate bindings for (a name, or `ns:pkg/name`).
    pub world: Option<LitStr>,
    /// A WIT file or directory, relative to `CARGO_MANIFEST_DIR`.
    pub path: Option<LitStr>,
    /// WIT source given in the macro, the main package when `path` is also given.
    pub inline: Option<LitStr>,
    /// Interfaces (by namespace, package or name) and resources that are already generated
    /// elsewhere, each with the Rust path to use instead.
    pub with: Vec<(LitStr, Path)>,
    /// Which imported functions return `Result<_>` so that the host may trap.
    pub trappable: Trappable,
    /// Derives added to every generated record, variant, enum and flags type.
    pub additional_derives: Vec<Path>,
    /// Whether exported functions take strings and lists by reference.
    pub borrowing: bool,
    /// Where the macro was called, for errors that belong to no one option.
    pub span: Span,
}

/// The `trappable_imports` option.
pub enum Trappable {
    /// No import may trap (`false`, the default).
    None,
    /// Every import may trap (`true`).
    All,
    /// The imported functions with these WIT names may trap.
    Some(Vec<LitStr>),
}

impl Parse for Options {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut opts = Options {
            world: None,
            path: None,
            inline: None,
            with: Vec::new(),
            trappable: Trappable::None,
            additional_derives: Vec::new(),
            borrowing: false,
            span: input.span(),
        };
        if input.peek(syn::token::Brace) {
            let body;
            braced!(body in input);
            let fields = Punctuated::<Field, Token![,]>::parse_terminated(&body)?;
            let mut seen: Vec<String> = Vec::new();
            for field in fields {
                let name = field.key.to_string();
                if seen.contains(&name) {
                    return Err(Error::new(field.key.span(), format!("the option `{name}` is given twice")));
                }
                seen.push(name);
                field.value.apply(&mut opts);
            }
        } else {
            if input.peek(LitStr) {
                opts.world = Some(input.parse()?);
            }
            if input.peek(Token![in]) {
                input.parse::<Token![in]>()?;
                opts.path = Some(input.parse()?);
            }
            if !input.is_empty() {
                return Err(input.error(
                    "expected `\"world\"`, `\"world\" in \"path\"`, `in \"path\"` or `{ option: value, ... }`",
                ));
            }
        }
        Ok(opts)
    }
}

/// One `key: value` of the braced form.
struct Field {
    key: Ident,
    value: Value,
}

enum Value {
    World(LitStr),
    Path(LitStr),
    Inline(LitStr),
    With(Vec<(LitStr, Path)>),
    Trappable(Trappable),
    Derives(Vec<Path>),
    Borrowing(bool),
}

impl Value {
    fn apply(self, opts: &mut Options) {
        match self {
            Value::World(s) => opts.world = Some(s),
            Value::Path(s) => opts.path = Some(s),
            Value::Inline(s) => opts.inline = Some(s),
            Value::With(w) => opts.with = w,
            Value::Trappable(t) => opts.trappable = t,
            Value::Derives(d) => opts.additional_derives = d,
            Value::Borrowing(b) => opts.borrowing = b,
        }
    }
}

const KNOWN: &str = "world, path, inline, with, trappable_imports, additional_derives, ownership";

impl Parse for Field {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key: Ident = input.parse()?;
        input.parse::<Token![:]>()?;
        let value = match key.to_string().as_str() {
            "world" => Value::World(input.parse()?),
            "path" => Value::Path(input.parse()?),
            "inline" => Value::Inline(input.parse()?),
            "with" => {
                let body;
                braced!(body in input);
                let entries = Punctuated::<WithEntry, Token![,]>::parse_terminated(&body)?;
                Value::With(entries.into_iter().map(|e| (e.key, e.path)).collect())
            }
            "trappable_imports" => {
                if input.peek(LitBool) {
                    let b: LitBool = input.parse()?;
                    Value::Trappable(if b.value { Trappable::All } else { Trappable::None })
                } else {
                    let body;
                    bracketed!(body in input);
                    let names = Punctuated::<LitStr, Token![,]>::parse_terminated(&body)?;
                    Value::Trappable(Trappable::Some(names.into_iter().collect()))
                }
            }
            "additional_derives" => {
                let body;
                bracketed!(body in input);
                let paths = Punctuated::<Path, Token![,]>::parse_terminated(&body)?;
                Value::Derives(paths.into_iter().collect())
            }
            "ownership" => Value::Borrowing(parse_ownership(input)?),
            other => {
                return Err(Error::new(key.span(), format!("unknown option `{other}`; the options are: {KNOWN}")));
            }
        };
        Ok(Field { key, value })
    }
}

/// `Owning` or `Borrowing { duplicate_if_necessary: bool }`; whether it is `Borrowing`.
fn parse_ownership(input: ParseStream) -> syn::Result<bool> {
    let kind: Ident = input.parse()?;
    match kind.to_string().as_str() {
        "Owning" => Ok(false),
        "Borrowing" => {
            let body;
            braced!(body in input);
            if !body.is_empty() {
                let key: Ident = body.parse()?;
                if key != "duplicate_if_necessary" {
                    return Err(Error::new(key.span(), "expected `duplicate_if_necessary: true|false`"));
                }
                body.parse::<Token![:]>()?;
                body.parse::<LitBool>()?;
                body.parse::<Option<Token![,]>>()?;
            }
            Ok(true)
        }
        _ => Err(Error::new(kind.span(), "expected `Owning` or `Borrowing { duplicate_if_necessary: bool }`")),
    }
}

/// `"ns:pkg/iface": some::rust::path` in `with`.
struct WithEntry {
    key: LitStr,
    path: Path,
}

impl Parse for WithEntry {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key = input.parse()?;
        input.parse::<Token![:]>()?;
        let path = input.parse()?;
        Ok(WithEntry { key, path })
    }
}
