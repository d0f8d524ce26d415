//! The component API oracle: a value passed to a guest that echoes it comes back equal.
//!
//! [`component_api`] sends `Val`s of any generated type through `Func::call`.
//! [`typed_component_api`] sends Rust values through `TypedFunc`; their types come from a
//! fixed menu (Rust types cannot be made up at run time) that covers every kind of type,
//! derived records, variants, enums and flags included.

use super::common::{
    ENCODINGS, compile_cached, echo_core, engine, options, padding_params, round_trip, type_and_values,
};
use crate::types::NamedTypes;
use crate::values::arbitrary_val;
use anyhow::{Context, Result, bail};
use arbitrary::Unstructured;
use weld::Store;
use weld::component::*;

/// A type, values of it, and the string encoding of the guest that echoes them.
#[derive(Debug)]
pub struct EchoCase {
    pub ty: InterfaceType,
    pub values: Vec<Val>,
    pub encoding: &'static str,
}

impl EchoCase {
    /// An arbitrary case: a type within the default limits and one to four values of it.
    pub fn arbitrary(u: &mut Unstructured) -> arbitrary::Result<EchoCase> {
        let (ty, values) = type_and_values(u)?;
        let encoding = ENCODINGS[u.choose_index(ENCODINGS.len())?];
        Ok(EchoCase { ty, values, encoding })
    }
}

/// A component exporting `echo: func(x: ty, p0: u64, ..) -> ty` that returns `x`.
pub fn echo_component(ty: &InterfaceType, encoding: &str) -> String {
    let mut names = NamedTypes::default();
    let t = names.reference(ty);
    echo_component_text(&mut names, &format!("(param \"x\" {t}){}", padding_params()), &t, ty, encoding)
}

/// A component exporting `echo` with parameters `params` (whose first is a value of `ty`,
/// passed through memory) and result `result`, which returns that value.
fn echo_component_text(
    names: &mut NamedTypes,
    params: &str,
    result: &str,
    ty: &InterfaceType,
    encoding: &str,
) -> String {
    format!(
        "(component {core}\n{defs}\n  (func (export \"echo\") {params} (result {result})\n    \
         (canon lift (core func $i \"echo\") {options})))",
        core = echo_core("i", false, ty),
        defs = names.exported_definitions(),
        options = options("i", encoding),
    )
}

/// Passes each value to an echoing guest with `Func::call` and checks that it comes back
/// equal.
pub fn component_api(case: &EchoCase) -> Result<()> {
    let wat = echo_component(&case.ty, case.encoding);
    let what = || format!("{} in {}", case.ty, case.encoding);
    round_trip(&wat, "echo", &case.values, what).with_context(|| format!("the echo of {}", case.ty))
}

/// `record person` of the typed menu.
#[derive(ComponentType, Lift, Lower, Debug)]
struct Person {
    name: String,
    tags: Vec<String>,
    age: u16,
    score: f64,
    shape: Shape,
}

/// `variant shape` of the typed menu.
#[derive(ComponentType, Lift, Lower, Debug)]
#[component(variant)]
enum Shape {
    Circle(f64),
    Label(String),
    Empty,
    Bytes(Option<Vec<u8>>),
    #[component(name = "pair-of")]
    Pair((char, i64)),
}

/// `enum color` of the typed menu.
#[derive(ComponentType, Lift, Lower, Debug)]
#[component(enum)]
enum Color {
    Red,
    Green,
    Blue,
}

flags! {
    /// Nine flags: two bytes in memory.
    Perms {
        const READ;
        const WRITE;
        const EXEC;
        const LIST;
        const CREATE;
        const DELETE;
        const RENAME;
        const SHARE;
        const ADMIN;
    }
}

/// Sixteen `u64`s after the value, so that the typed echo's parameters go through memory.
#[derive(ComponentType, Lift, Lower, Debug, Default)]
struct Padding {
    p0: u64,
    p1: u64,
    p2: u64,
    p3: u64,
    p4: u64,
    p5: u64,
    p6: u64,
    p7: u64,
    p8: u64,
    p9: u64,
    p10: u64,
    p11: u64,
    p12: u64,
    p13: u64,
    p14: u64,
    p15: u64,
}

/// Defines the menu of Rust types of the typed oracle: how many there are, the component type
/// of each, and a call of `typed_round_trip` with the one at an index.
macro_rules! typed_menu {
    ($($t:ty),* $(,)?) => {
        const TYPED_MENU: &[&str] = &[$(stringify!($t)),*];

        fn typed_menu_type(index: usize) -> InterfaceType {
            let mut i = 0;
            $(
                if index == i {
                    return <$t as ComponentType>::ty();
                }
                i += 1;
            )*
            unreachable!("index {index} is past the {i} types of the menu")
        }

        fn typed_menu_round_trip(case: &TypedCase) -> Result<()> {
            let mut i = 0;
            $(
                if case.index == i {
                    return typed_round_trip::<$t>(case);
                }
                i += 1;
            )*
            unreachable!("index {} is past the {i} types of the menu", case.index)
        }
    };
}

typed_menu! {
    bool, i8, u8, i16, u16, i32, u32, i64, u64, f32, f64, char, String,
    Vec<u8>, Vec<String>, Vec<Vec<u16>>, Vec<(char, i64)>,
    Option<String>, Option<Option<u8>>,
    Result<u32, String>, Result<(), ()>, Result<String, ()>, Result<(), f32>,
    (u8, String, f64), (Vec<bool>, (i16, Option<char>)),
    Person, Shape, Color, Perms, Vec<Shape>, Option<Person>, Result<Person, Color>, Vec<Perms>,
}

/// A Rust type of the menu, values of its component type, and the guest's string encoding.
#[derive(Debug)]
pub struct TypedCase {
    /// Which type of the menu.
    pub index: usize,
    pub values: Vec<Val>,
    pub encoding: &'static str,
}

impl TypedCase {
    /// How many Rust types the menu has.
    pub const MENU_LEN: usize = TYPED_MENU.len();

    /// An arbitrary case: a type of the menu and one to four values of it.
    pub fn arbitrary(u: &mut Unstructured) -> arbitrary::Result<TypedCase> {
        let index = u.choose_index(TYPED_MENU.len())?;
        let ty = typed_menu_type(index);
        let n = u.int_in_range(1..=4)?;
        let values = (0..n).map(|_| arbitrary_val(u, &ty)).collect::<arbitrary::Result<_>>()?;
        let encoding = ENCODINGS[u.choose_index(ENCODINGS.len())?];
        Ok(TypedCase { index, values, encoding })
    }

    /// The Rust type, as written in the menu.
    pub fn rust_type(&self) -> &'static str {
        TYPED_MENU[self.index]
    }

    /// The component that echoes values of the case's type.
    pub fn component(&self) -> String {
        typed_echo_component(&typed_menu_type(self.index), self.encoding)
    }
}

/// A component exporting `echo: func(x: ty, pad: padding) -> ty` that returns `x`.
fn typed_echo_component(ty: &InterfaceType, encoding: &str) -> String {
    let mut names = NamedTypes::default();
    let t = names.reference(ty);
    let pad = names.reference(&Padding::ty());
    echo_component_text(&mut names, &format!("(param \"x\" {t}) (param \"pad\" {pad})"), &t, ty, encoding)
}

/// Converts each value to the Rust type of the menu, passes it to an echoing guest through
/// `TypedFunc`, and checks that the Rust value that comes back is the one sent, and converts
/// back to the same `Val`.
pub fn typed_component_api(case: &TypedCase) -> Result<()> {
    typed_menu_round_trip(case).with_context(|| format!("the typed echo of {} in {}", case.rust_type(), case.encoding))
}

fn typed_round_trip<T>(case: &TypedCase) -> Result<()>
where
    T: ComponentType + Lift + Lower + std::fmt::Debug,
{
    let component = compile_cached(&case.component())?;
    let mut store = Store::new(engine(), ());
    let instance = Linker::new(engine()).instantiate(&mut store, &component).context("instantiating")?;
    let echo = instance.get_typed_func::<(T, Padding), (T,)>(&mut store, "echo")?;
    for value in &case.values {
        let sent = T::from_val(value.clone()).with_context(|| format!("converting {value:?} to the Rust type"))?;
        let sent_text = format!("{sent:?}");
        let (received,) =
            echo.call(&mut store, (sent, Padding::default())).with_context(|| format!("passing {sent_text}"))?;
        // Debug text compares floats bit for bit in effect (-0.0 and 0.0 differ; NaN is
        // never generated).
        if format!("{received:?}") != sent_text {
            bail!("sent {sent_text}, received {received:?}");
        }
        if received.to_val() != *value {
            bail!("{value:?} converted to {sent_text} and back to {:?}", received.to_val());
        }
    }
    Ok(())
}
