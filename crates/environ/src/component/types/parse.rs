//! Reading an [`InterfaceType`] from the WIT-like text `Display` writes (`record { a: u8,
//! b: string }`, `list<u32, 4>`, `result<_, string>`, `own<resource-0>`, `stream<u8>`,
//! `error-context`): what `weld abi` takes on its command line, and what tests use to write
//! types briefly.
//!
//! The grammar is WIT's type expressions, with the anonymous aggregates `record { .. }`,
//! `variant { .. }`, `enum { .. }` and `flags { .. }` written inline (WIT names them in
//! declarations instead). A resource is `resource-N` or any name; distinct names get distinct
//! ids, in order of first appearance. Labels are WIT identifiers (kebab-case words, `%` to
//! escape a keyword). Every error says what was expected and at which byte.

use super::{Case, EnumType, Field, FlagsType, InterfaceType, RecordType, ResourceId, VariantType};
use std::sync::Arc;

/// Why a type could not be read, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeParseError {
    /// The byte offset in the text.
    pub offset: usize,
    /// What went wrong.
    pub message: String,
}

impl std::fmt::Display for TypeParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (at byte {})", self.message, self.offset)
    }
}

impl std::error::Error for TypeParseError {}

impl std::str::FromStr for InterfaceType {
    type Err = TypeParseError;

    fn from_str(text: &str) -> Result<InterfaceType, TypeParseError> {
        let mut p = Parser { text, at: 0, resources: Vec::new() };
        let ty = p.ty()?;
        p.skip_space();
        if p.at < text.len() {
            return Err(p.error(format!("unexpected `{}` after the type", p.rest_word())));
        }
        Ok(ty)
    }
}

/// How deep aggregates may nest (so that hostile input cannot overflow the stack).
const MAX_DEPTH: usize = 100;

struct Parser<'a> {
    text: &'a str,
    at: usize,
    /// Resource names met so far; a name's index is its id.
    resources: Vec<String>,
}

impl Parser<'_> {
    fn error(&self, message: String) -> TypeParseError {
        TypeParseError { offset: self.at, message }
    }

    fn skip_space(&mut self) {
        while let Some(c) = self.text[self.at..].chars().next() {
            if !c.is_whitespace() {
                break;
            }
            self.at += c.len_utf8();
        }
    }

    /// The next word or character, for messages.
    fn rest_word(&self) -> &str {
        let rest = &self.text[self.at..];
        let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '-' || c == '%')).unwrap_or(rest.len());
        if end == 0 { rest.get(..rest.chars().next().map_or(0, char::len_utf8)).unwrap_or("") } else { &rest[..end] }
    }

    /// Consumes `token` if it comes next.
    fn eat(&mut self, token: &str) -> bool {
        self.skip_space();
        if self.text[self.at..].starts_with(token) {
            self.at += token.len();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, token: &str) -> Result<(), TypeParseError> {
        if self.eat(token) {
            Ok(())
        } else {
            let found =
                if self.at >= self.text.len() { "the end".to_string() } else { format!("`{}`", self.rest_word()) };
            Err(self.error(format!("expected `{token}`, found {found}")))
        }
    }

    /// A WIT identifier (a label or a keyword).
    fn word(&mut self) -> Result<String, TypeParseError> {
        self.skip_space();
        let start = self.at;
        let escaped = self.text[self.at..].starts_with('%');
        if escaped {
            self.at += 1;
        }
        let rest = &self.text[self.at..];
        let len = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-')).unwrap_or(rest.len());
        let word = &rest[..len];
        let valid = !word.is_empty()
            && word.split('-').all(|part| {
                part.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                    && (part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                        || part.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()))
            });
        if !valid {
            self.at = start;
            return Err(self.error(format!("expected a name, found `{}`", self.rest_word())));
        }
        self.at += len;
        Ok(word.to_string())
    }

    fn number(&mut self) -> Result<u32, TypeParseError> {
        self.skip_space();
        let rest = &self.text[self.at..];
        let len = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let n =
            rest[..len].parse().map_err(|_| self.error(format!("expected a length, found `{}`", self.rest_word())))?;
        self.at += len;
        Ok(n)
    }

    fn ty(&mut self) -> Result<InterfaceType, TypeParseError> {
        self.ty_at(0)
    }

    fn ty_at(&mut self, depth: usize) -> Result<InterfaceType, TypeParseError> {
        if depth > MAX_DEPTH {
            return Err(self.error(format!("types nest more than {MAX_DEPTH} deep")));
        }
        let start = self.at;
        let keyword = self.word().map_err(|_| self.error(format!("expected a type, found `{}`", self.rest_word())))?;
        let inner = |p: &mut Self| p.ty_at(depth + 1);
        Ok(match keyword.as_str() {
            "bool" => InterfaceType::Bool,
            "s8" => InterfaceType::S8,
            "u8" => InterfaceType::U8,
            "s16" => InterfaceType::S16,
            "u16" => InterfaceType::U16,
            "s32" => InterfaceType::S32,
            "u32" => InterfaceType::U32,
            "s64" => InterfaceType::S64,
            "u64" => InterfaceType::U64,
            "f32" | "float32" => InterfaceType::F32,
            "f64" | "float64" => InterfaceType::F64,
            "char" => InterfaceType::Char,
            "string" => InterfaceType::String,
            "error-context" => InterfaceType::ErrorContext,
            "future" | "stream" => {
                let payload = if self.eat("<") {
                    let payload = inner(self)?;
                    self.expect(">")?;
                    Some(payload)
                } else {
                    None
                };
                if keyword == "future" { InterfaceType::future(payload) } else { InterfaceType::stream(payload) }
            }
            "list" => {
                self.expect("<")?;
                let element = inner(self)?;
                let ty = if self.eat(",") {
                    let len = self.number()?;
                    InterfaceType::fixed_list(element, len)
                } else {
                    InterfaceType::list(element)
                };
                self.expect(">")?;
                ty
            }
            "map" => {
                self.expect("<")?;
                let key = inner(self)?;
                self.expect(",")?;
                let value = inner(self)?;
                self.expect(">")?;
                InterfaceType::map(key, value)
            }
            "option" => {
                self.expect("<")?;
                let some = inner(self)?;
                self.expect(">")?;
                InterfaceType::option(some)
            }
            "result" => {
                if !self.eat("<") {
                    return Ok(InterfaceType::result(None, None));
                }
                let ok = if self.eat("_") { None } else { Some(inner(self)?) };
                let err = if self.eat(",") { Some(inner(self)?) } else { None };
                if ok.is_none() && err.is_none() {
                    return Err(self.error("`result<_>` has neither side; write `result`".into()));
                }
                self.expect(">")?;
                InterfaceType::result(ok, err)
            }
            "tuple" => {
                self.expect("<")?;
                let mut types = Vec::new();
                if !self.eat(">") {
                    loop {
                        types.push(inner(self)?);
                        if self.eat(">") {
                            break;
                        }
                        self.expect(",")?;
                    }
                }
                InterfaceType::tuple(types)
            }
            "record" => {
                let fields = self.braced(|p| {
                    let name = p.word()?;
                    p.expect(":")?;
                    Ok(Field { name, ty: p.ty_at(depth + 1)? })
                })?;
                InterfaceType::Record(Arc::new(RecordType::new(fields)))
            }
            "variant" => {
                let cases = self.braced(|p| {
                    let name = p.word()?;
                    let ty = if p.eat("(") {
                        let ty = p.ty_at(depth + 1)?;
                        p.expect(")")?;
                        Some(ty)
                    } else {
                        None
                    };
                    Ok(Case { name, ty })
                })?;
                InterfaceType::Variant(Arc::new(VariantType::new(cases)))
            }
            "enum" => InterfaceType::Enum(Arc::new(EnumType::new(self.braced(Self::word)?))),
            "flags" => InterfaceType::Flags(Arc::new(FlagsType::new(self.braced(Self::word)?))),
            "own" | "borrow" => {
                self.expect("<")?;
                let id = if self.eat("resource-") {
                    ResourceId(self.number()?)
                } else {
                    let name = self.word()?;
                    self.resource(&name)
                };
                self.expect(">")?;
                if keyword == "own" { InterfaceType::Own(id) } else { InterfaceType::Borrow(id) }
            }
            _ => {
                self.at = start;
                return Err(self.error(format!("`{keyword}` is not a type")));
            }
        })
    }

    /// `{ item, item, ... }` (a trailing comma allowed). Aggregates may be empty here; the
    /// validation of a component refuses empty ones, but their layout is still defined.
    fn braced<T>(
        &mut self,
        mut item: impl FnMut(&mut Self) -> Result<T, TypeParseError>,
    ) -> Result<Vec<T>, TypeParseError> {
        self.expect("{")?;
        let mut items = Vec::new();
        while !self.eat("}") {
            items.push(item(self)?);
            if !self.eat(",") {
                self.expect("}")?;
                break;
            }
        }
        Ok(items)
    }

    /// The id of resource `name` (`resource-N`, as `Display` writes ids, is id N): names are
    /// numbered in order of first appearance.
    fn resource(&mut self, name: &str) -> ResourceId {
        let index = match self.resources.iter().position(|r| r == name) {
            Some(i) => i,
            None => {
                self.resources.push(name.to_string());
                self.resources.len() - 1
            }
        };
        ResourceId(index as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every type prints as text that reads back as the same type.
    #[test]
    fn display_reads_back() {
        for text in [
            "bool",
            "list<u8>",
            "list<u32, 4>",
            "map<string, list<s64>>",
            "record { a: u8, b: string }",
            "tuple<u8, tuple<>, f64>",
            "variant { none, some-thing(option<char>) }",
            "enum { a, b, c }",
            "flags { read, write }",
            "result",
            "result<u32>",
            "result<_, string>",
            "result<record { x: f32 }, enum { e }>",
            "own<resource-3>",
            "borrow<resource-0>",
            "future",
            "future<u32>",
            "stream",
            "stream<u8>",
            "error-context",
            "stream<future<result<list<u8>, error-context>>>",
            "record { f: future<own<resource-1>>, s: stream, e: error-context }",
        ] {
            let ty: InterfaceType = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(ty.to_string(), text);
        }
    }

    #[test]
    fn names_of_resources_are_numbered_and_keywords_escape() {
        let ty: InterfaceType = "tuple<own<file>, borrow<dir>, borrow<file>>".parse().unwrap();
        assert_eq!(ty.to_string(), "tuple<own<resource-0>, borrow<resource-1>, borrow<resource-0>>");
        let ty: InterfaceType = "record { %type: u8, %list: bool, }".parse().unwrap();
        assert_eq!(ty.to_string(), "record { type: u8, list: bool }");
    }

    #[test]
    fn errors_say_what_and_where() {
        let err = |text: &str| text.parse::<InterfaceType>().unwrap_err().to_string();
        assert_eq!(err("lst<u8>"), "`lst` is not a type (at byte 0)");
        assert_eq!(err("list<u8"), "expected `>`, found the end (at byte 7)");
        assert_eq!(err("record { a u8 }"), "expected `:`, found `u8` (at byte 11)");
        assert_eq!(err("u8 u8"), "unexpected `u8` after the type (at byte 3)");
        assert_eq!(err("list<u8, x>"), "expected a length, found `x` (at byte 9)");
        assert_eq!(err("stream<u8"), "expected `>`, found the end (at byte 9)");
        assert_eq!(err("future<>"), "expected a type, found `>` (at byte 7)");
        assert_eq!(err("error"), "`error` is not a type (at byte 0)");
        assert_eq!(err("record { Bad_name: u8 }"), "expected a name, found `Bad` (at byte 9)");
        let deep = "list<".repeat(200) + "u8" + &">".repeat(200);
        assert!(err(&deep).contains("nest more than 100"));
    }
}
