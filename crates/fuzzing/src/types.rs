//! Interface types of bounded depth and size, and the component text that defines them.
//!
//! Maps are generated; fixed-length lists, resource handles (`own`, `borrow`) and enums and
//! variants with more than 256 cases (a 16-bit discriminant) only when [`TypeLimits`] asks
//! for them (the oracles that build components leave them out; the canonical ABI reference
//! oracle needs no component). The async value types (`future`, `stream`, `error-context`)
//! are never generated: weld has no values of them yet.

use arbitrary::{Result, Unstructured};
use weld::component::InterfaceType;

/// How large generated types may be.
#[derive(Clone, Copy, Debug)]
pub struct TypeLimits {
    /// Nesting depth of compound types.
    pub max_depth: u32,
    /// Fields, cases, tuple elements and labels of one compound type.
    pub max_members: usize,
    /// Whether to generate fixed-length lists (`list<T, N>`).
    pub fixed_lists: bool,
    /// Whether to generate `own` and `borrow` handles, of resource types 0 and 1.
    pub handles: bool,
    /// Whether to generate, now and then, enums and variants of 255 to 300 cases, past the
    /// one-byte discriminant (not bounded by `max_members`).
    pub wide_cases: bool,
}

impl Default for TypeLimits {
    fn default() -> Self {
        TypeLimits { max_depth: 3, max_members: 5, fixed_lists: false, handles: false, wide_cases: false }
    }
}

impl TypeLimits {
    /// Every kind of type the canonical ABI has (that weld supports).
    pub fn every_kind() -> TypeLimits {
        TypeLimits { fixed_lists: true, handles: true, wide_cases: true, ..TypeLimits::default() }
    }
}

/// An arbitrary interface type within `limits`.
pub fn arbitrary_type(u: &mut Unstructured, limits: TypeLimits) -> Result<InterfaceType> {
    gen_type(u, limits, limits.max_depth)
}

fn gen_type(u: &mut Unstructured, limits: TypeLimits, depth: u32) -> Result<InterfaceType> {
    const SCALARS: usize = 13;
    let kinds = if depth == 0 { SCALARS } else { SCALARS + 10 };
    let members = |u: &mut Unstructured| u.int_in_range(1..=limits.max_members.max(1));
    // The extra kinds, each as likely as another kind when asked for.
    if (limits.fixed_lists || limits.handles || limits.wide_cases)
        && u.ratio(3u8, kinds as u8 + 3)?
        && let Some(ty) = gen_extra(u, limits, depth)?
    {
        return Ok(ty);
    }
    Ok(match u.choose_index(kinds)? {
        0 => InterfaceType::Bool,
        1 => InterfaceType::S8,
        2 => InterfaceType::U8,
        3 => InterfaceType::S16,
        4 => InterfaceType::U16,
        5 => InterfaceType::S32,
        6 => InterfaceType::U32,
        7 => InterfaceType::S64,
        8 => InterfaceType::U64,
        9 => InterfaceType::F32,
        10 => InterfaceType::F64,
        11 => InterfaceType::Char,
        12 => InterfaceType::String,
        13 => InterfaceType::list(gen_type(u, limits, depth - 1)?),
        14 => {
            let n = members(u)?;
            let fields = (0..n).map(|i| Ok((format!("f{i}"), gen_type(u, limits, depth - 1)?)));
            InterfaceType::record(fields.collect::<Result<Vec<_>>>()?)
        }
        15 => {
            let n = members(u)?;
            InterfaceType::tuple((0..n).map(|_| gen_type(u, limits, depth - 1)).collect::<Result<Vec<_>>>()?)
        }
        16 => {
            let n = members(u)?;
            let mut cases = Vec::with_capacity(n);
            for i in 0..n {
                let payload = if u.arbitrary()? { Some(gen_type(u, limits, depth - 1)?) } else { None };
                cases.push((format!("c{i}"), payload));
            }
            InterfaceType::variant(cases)
        }
        17 => InterfaceType::enumeration((0..members(u)?).map(|i| format!("e{i}"))),
        18 => InterfaceType::option(gen_type(u, limits, depth - 1)?),
        19 => {
            let ok = if u.arbitrary()? { Some(gen_type(u, limits, depth - 1)?) } else { None };
            let err = if u.arbitrary()? { Some(gen_type(u, limits, depth - 1)?) } else { None };
            InterfaceType::result(ok, err)
        }
        20 => {
            // The widths where the layout changes, and anything up to the spec's 32.
            let n = match u.choose_index(8)? {
                0 => 1,
                1 => 8,
                2 => 9,
                3 => 16,
                4 => 17,
                5 => 32,
                _ => u.int_in_range(1..=32)?,
            };
            InterfaceType::flags((0..n).map(|i| format!("g{i}")))
        }
        21 => {
            // Keys are the spec's `keytype`: bool, the integers, char and string.
            const KEYS: [InterfaceType; 11] = [
                InterfaceType::Bool,
                InterfaceType::S8,
                InterfaceType::U8,
                InterfaceType::S16,
                InterfaceType::U16,
                InterfaceType::S32,
                InterfaceType::U32,
                InterfaceType::S64,
                InterfaceType::U64,
                InterfaceType::Char,
                InterfaceType::String,
            ];
            let key = KEYS[u.choose_index(KEYS.len())?].clone();
            InterfaceType::map(key, gen_type(u, limits, depth - 1)?)
        }
        _ => InterfaceType::list(InterfaceType::U8),
    })
}

/// One of the kinds [`TypeLimits`] enables (`None` if the one picked is not enabled).
fn gen_extra(u: &mut Unstructured, limits: TypeLimits, depth: u32) -> Result<Option<InterfaceType>> {
    Ok(match u.choose_index(3)? {
        0 if limits.fixed_lists && depth > 0 => {
            let len = u.int_in_range(1..=4)?;
            Some(InterfaceType::fixed_list(gen_type(u, limits, depth - 1)?, len))
        }
        1 if limits.handles => {
            let id = weld::component::types::ResourceId(u.int_in_range(0..=1)?);
            Some(if u.arbitrary()? { InterfaceType::Own(id) } else { InterfaceType::Borrow(id) })
        }
        2 if limits.wide_cases => {
            let n = u.int_in_range(255..=300)?;
            if depth > 0 && u.arbitrary()? {
                // A few cases carry payloads, among them the last.
                let mut cases: Vec<(String, Option<InterfaceType>)> = (0..n).map(|i| (format!("c{i}"), None)).collect();
                for i in [0, n / 2, n - 1] {
                    if u.arbitrary()? {
                        cases[i].1 = Some(gen_type(u, limits, depth - 1)?);
                    }
                }
                Some(InterfaceType::variant(cases))
            } else {
                Some(InterfaceType::enumeration((0..n).map(|i| format!("e{i}"))))
            }
        }
        _ => None,
    })
}

/// The text of a component type in component-model WAT, with its record, variant, enum and
/// flags types given names: components may only use named ones in the functions they export
/// or import.
#[derive(Default)]
pub struct NamedTypes {
    /// Each named type and its definition text (which refers to earlier names), in order.
    defs: Vec<(InterfaceType, String)>,
}

impl NamedTypes {
    /// The text of `ty`, naming (and defining, the first time) every nominal type in it.
    pub fn reference(&mut self, ty: &InterfaceType) -> String {
        use InterfaceType as T;
        let nominal = matches!(ty, T::Record(_) | T::Variant(_) | T::Enum(_) | T::Flags(_));
        if nominal && let Some(i) = self.defs.iter().position(|(t, _)| t == ty) {
            return format!("$t{i}");
        }
        let text = match ty {
            T::Bool => "bool".into(),
            T::S8 => "s8".into(),
            T::U8 => "u8".into(),
            T::S16 => "s16".into(),
            T::U16 => "u16".into(),
            T::S32 => "s32".into(),
            T::U32 => "u32".into(),
            T::S64 => "s64".into(),
            T::U64 => "u64".into(),
            T::F32 => "f32".into(),
            T::F64 => "f64".into(),
            T::Char => "char".into(),
            T::String => "string".into(),
            T::List(l) => format!("(list {})", self.reference(l.element())),
            T::FixedList(l) => format!("(list {} {})", self.reference(l.element()), l.len()),
            T::Map(m) => format!("(map {} {})", self.reference(m.key()), self.reference(m.value())),
            T::Tuple(t) => {
                let elems: Vec<String> = t.types().iter().map(|t| self.reference(t)).collect();
                format!("(tuple {})", elems.join(" "))
            }
            T::Option(o) => format!("(option {})", self.reference(o.some())),
            T::Result(r) => {
                let ok = r.ok().map(|t| format!(" {}", self.reference(t))).unwrap_or_default();
                let err = r.err().map(|t| format!(" (error {})", self.reference(t))).unwrap_or_default();
                format!("(result{ok}{err})")
            }
            T::Record(r) => {
                let fields: Vec<String> =
                    r.fields().iter().map(|f| format!("(field \"{}\" {})", f.name, self.reference(&f.ty))).collect();
                format!("(record {})", fields.join(" "))
            }
            T::Variant(v) => {
                let cases: Vec<String> = v
                    .cases()
                    .iter()
                    .map(|c| match &c.ty {
                        Some(t) => format!("(case \"{}\" {})", c.name, self.reference(t)),
                        None => format!("(case \"{}\")", c.name),
                    })
                    .collect();
                format!("(variant {})", cases.join(" "))
            }
            T::Enum(e) => format!("(enum {})", quoted(e.names())),
            T::Flags(f) => format!("(flags {})", quoted(f.names())),
            T::Own(_) | T::Borrow(_) => panic!("resource types are not generated"),
            T::Future(f) => match f.payload() {
                Some(t) => format!("(future {})", self.reference(t)),
                None => "(future)".into(),
            },
            T::Stream(s) => match s.payload() {
                Some(t) => format!("(stream {})", self.reference(t)),
                None => "(stream)".into(),
            },
            T::ErrorContext => "error-context".into(),
        };
        if nominal {
            self.defs.push((ty.clone(), text));
            format!("$t{}", self.defs.len() - 1)
        } else {
            text
        }
    }

    /// Definitions of every named type, each exported under its name (`"t0"`, ...), for a
    /// component that defines them.
    pub fn exported_definitions(&self) -> String {
        (0..self.defs.len())
            .map(|i| format!("(type $t{i}' {}) (export $t{i} \"t{i}\" (type $t{i}'))\n", self.defs[i].1))
            .collect()
    }
}

impl NamedTypes {
    /// The same definitions as declarations of an instance type, each exported with an `eq`
    /// bound, for a component that imports an instance of the defining one.
    pub fn instance_type_declarations(&self) -> String {
        (0..self.defs.len())
            .map(|i| format!("(type $t{i}' {}) (export \"t{i}\" (type $t{i} (eq $t{i}')))\n", self.defs[i].1))
            .collect()
    }

    /// Aliases `$t0`, ... of the named types exported by instance `$inst`.
    pub fn aliases(&self, inst: &str) -> String {
        (0..self.defs.len()).map(|i| format!("(alias export ${inst} \"t{i}\" (type $t{i}))\n")).collect()
    }

    /// Exports `$t0`, ... of the named types exported by instance `$inst`, re-exported. Each
    /// export is ascribed its definition in terms of the earlier re-exports: a nested type
    /// must refer to exported types of this component, not to those of the instance.
    pub fn reexports(&self, inst: &str) -> String {
        (0..self.defs.len())
            .map(|i| {
                format!(
                    "(type $t{i}' {}) (export $t{i} \"t{i}\" (type ${inst} \"t{i}\") (type (eq $t{i}')))\n",
                    self.defs[i].1
                )
            })
            .collect()
    }
}

fn quoted(names: &[String]) -> String {
    names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(" ")
}
