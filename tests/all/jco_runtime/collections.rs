//! Lists, variants and the `flavorful` mix of both: the C++ guests' `test-imports` against
//! a host that checks every parameter, then each export.

use super::{linker_with, runtime_component};
use weld::component::HasSelf;
use weld::{Engine, Store};

mod lists {
    weld::component::bindgen!({
        inline: "
            package test:lists;
            interface test {
                empty-list-param: func(a: list<u8>);
                empty-string-param: func(a: string);
                empty-list-result: func() -> list<u8>;
                empty-string-result: func() -> string;
                list-param: func(a: list<u8>);
                list-param2: func(a: string);
                list-param3: func(a: list<string>);
                list-param4: func(a: list<list<string>>);
                list-param5: func(a: list<tuple<u8, u32, u8>>);
                list-result: func() -> list<u8>;
                list-result2: func() -> string;
                list-result3: func() -> list<string>;
                list-minmax8: func(a: list<u8>, b: list<s8>) -> tuple<list<u8>, list<s8>>;
                list-minmax16: func(a: list<u16>, b: list<s16>) -> tuple<list<u16>, list<s16>>;
                list-minmax32: func(a: list<u32>, b: list<s32>) -> tuple<list<u32>, list<s32>>;
                list-minmax64: func(a: list<u64>, b: list<s64>) -> tuple<list<u64>, list<s64>>;
                list-minmax-float: func(a: list<f32>, b: list<f64>) -> tuple<list<f32>, list<f64>>;
                list-roundtrip: func(a: list<u8>) -> list<u8>;
                string-roundtrip: func(a: string) -> string;
                list-param-large: func(a: list<string>);
            }
            world lists {
                import test;
                export test-imports: func();
                export allocated-bytes: func() -> u32;
                export test;
            }",
    });

    /// jco's host: fixed results, and every parameter checked against what the guest's test
    /// passes (a mismatch is recorded, to be asserted after the call).
    #[derive(Default)]
    pub struct Host {
        pub mismatches: crate::jco_runtime::Mismatches,
    }

    impl test::lists::test::Host for Host {
        fn empty_list_param(&mut self, a: Vec<u8>) {
            self.mismatches.expect("empty-list-param", a, vec![]);
        }
        fn empty_string_param(&mut self, a: String) {
            self.mismatches.expect("empty-string-param", a, String::new());
        }
        fn empty_list_result(&mut self) -> Vec<u8> {
            Vec::new()
        }
        fn empty_string_result(&mut self) -> String {
            String::new()
        }
        fn list_param(&mut self, a: Vec<u8>) {
            self.mismatches.expect("list-param", a, vec![1, 2, 3, 4]);
        }
        fn list_param2(&mut self, a: String) {
            self.mismatches.expect("list-param2", a.as_str(), "foo");
        }
        fn list_param3(&mut self, a: Vec<String>) {
            self.mismatches.expect("list-param3", a, vec!["foo".into(), "bar".into(), "baz".into()]);
        }
        fn list_param4(&mut self, a: Vec<Vec<String>>) {
            self.mismatches.expect("list-param4", a, vec![vec!["foo".into(), "bar".into()], vec!["baz".into()]]);
        }
        fn list_param5(&mut self, a: Vec<(u8, u32, u8)>) {
            self.mismatches.expect("list-param5", a, vec![(1, 2, 3), (4, 5, 6)]);
        }
        fn list_result(&mut self) -> Vec<u8> {
            vec![1, 2, 3, 4, 5]
        }
        fn list_result2(&mut self) -> String {
            "hello!".into()
        }
        fn list_result3(&mut self) -> Vec<String> {
            vec!["hello,".into(), "world!".into()]
        }
        fn list_minmax8(&mut self, a: Vec<u8>, b: Vec<i8>) -> (Vec<u8>, Vec<i8>) {
            (a, b)
        }
        fn list_minmax16(&mut self, a: Vec<u16>, b: Vec<i16>) -> (Vec<u16>, Vec<i16>) {
            (a, b)
        }
        fn list_minmax32(&mut self, a: Vec<u32>, b: Vec<i32>) -> (Vec<u32>, Vec<i32>) {
            (a, b)
        }
        fn list_minmax64(&mut self, a: Vec<u64>, b: Vec<i64>) -> (Vec<u64>, Vec<i64>) {
            (a, b)
        }
        fn list_minmax_float(&mut self, a: Vec<f32>, b: Vec<f64>) -> (Vec<f32>, Vec<f64>) {
            (a, b)
        }
        fn list_roundtrip(&mut self, a: Vec<u8>) -> Vec<u8> {
            a
        }
        fn string_roundtrip(&mut self, a: String) -> String {
            a
        }
        fn list_param_large(&mut self, a: Vec<String>) {
            self.mismatches.expect("list-param-large length", a.len(), 1000);
        }
    }
}

#[test]
fn lists() -> anyhow::Result<()> {
    let engine = Engine::default();
    let component = runtime_component(&engine, "lists.component.wasm");
    let linker = linker_with(&engine, &component, |l| lists::Lists::add_to_linker::<_, HasSelf<_>>(l, |h| h));
    let mut store = Store::new(&engine, lists::Host::default());
    let world = lists::Lists::instantiate(&mut store, &component, &linker)?;
    let allocated = world.call_allocated_bytes(&mut store)?;
    world.call_test_imports(&mut store)?;
    assert_eq!(store.data().mismatches.0, Vec::<String>::new(), "the guest passed what jco's host expects");
    let t = world.test_lists_test();
    assert_eq!(t.call_empty_list_result(&mut store)?, Vec::<u8>::new());
    assert_eq!(t.call_empty_string_result(&mut store)?, "");
    assert_eq!(t.call_list_result(&mut store)?, [1, 2, 3, 4, 5]);
    assert_eq!(t.call_list_result2(&mut store)?, "hello!");
    assert_eq!(t.call_list_result3(&mut store)?, ["hello,", "world!"]);
    assert_eq!(t.call_list_roundtrip(&mut store, &[1, 2, 3, 4])?, [1, 2, 3, 4]);
    assert_eq!(t.call_string_roundtrip(&mut store, "hello ⚑ world")?, "hello ⚑ world");
    assert_eq!(t.call_string_roundtrip(&mut store, "")?, "");
    t.call_list_param(&mut store, &[1, 2, 3, 4])?;
    t.call_list_param2(&mut store, "foo")?;
    t.call_list_param3(&mut store, &["foo".to_string(), "bar".to_string(), "baz".to_string()])?;
    t.call_list_param4(&mut store, &[vec!["foo".to_string(), "bar".to_string()], vec!["baz".to_string()]])?;
    t.call_empty_list_param(&mut store, &[])?;
    t.call_empty_string_param(&mut store, "")?;
    let large: Vec<String> = (0..1000).map(|_| "blah".to_string()).collect();
    t.call_list_param_large(&mut store, &large)?;
    assert_eq!(world.call_allocated_bytes(&mut store)?, allocated, "the guest freed everything it allocated");
    Ok(())
}

mod variants {
    weld::component::bindgen!({
        inline: "
            package test:variants;
            interface test {
                enum e1 { a, b }
                variant c1 { a(s32), b(s64) }
                variant c2 { a(s32), b(f32) }
                variant c3 { a(s32), b(f64) }
                variant c4 { a(s64), b(f32) }
                variant c5 { a(s64), b(f64) }
                variant c6 { a(f32), b(f64) }
                type casts = tuple<c1, c2, c3, c4, c5, c6>;
                variant z1 { a(s32), b }
                variant z2 { a(s64), b }
                variant z3 { a(f32), b }
                variant z4 { a(f64), b }
                type zeros = tuple<z1, z2, z3, z4>;
                type option-typedef = option<u32>;
                type bool-typedef = bool;
                type result-typedef = result<u32>;
                enum my-errno { success, a, b }
                roundtrip-option: func(a: option<f32>) -> option<u8>;
                roundtrip-result: func(a: result<u32, f32>) -> result<f64, u8>;
                roundtrip-enum: func(a: e1) -> e1;
                invert-bool: func(a: bool) -> bool;
                variant-casts: func(a: casts) -> casts;
                variant-zeros: func(a: zeros) -> zeros;
                variant-typedefs: func(a: option-typedef, b: bool-typedef, c: result-typedef);
                variant-enums: func(a: bool, b: result, c: my-errno) -> tuple<bool, result, my-errno>;
            }
            world variants {
                import test;
                export test-imports: func();
                export test;
            }",
        additional_derives: [PartialEq],
    });

    use test::variants::test::{Casts, E1, MyErrno, Zeros};

    /// jco's host for `test:variants/test`.
    #[derive(Default)]
    pub struct Host {
        pub mismatches: crate::jco_runtime::Mismatches,
    }

    impl test::variants::test::Host for Host {
        fn roundtrip_option(&mut self, a: Option<f32>) -> Option<u8> {
            a.map(|x| x as u8)
        }
        fn roundtrip_result(&mut self, a: Result<u32, f32>) -> Result<f64, u8> {
            match a {
                Ok(x) => Ok(f64::from(x)),
                Err(x) => Err(x.round() as u8),
            }
        }
        fn roundtrip_enum(&mut self, a: E1) -> E1 {
            a
        }
        fn invert_bool(&mut self, a: bool) -> bool {
            !a
        }
        fn variant_casts(&mut self, a: Casts) -> Casts {
            a
        }
        fn variant_zeros(&mut self, a: Zeros) -> Zeros {
            a
        }
        fn variant_typedefs(&mut self, _a: Option<u32>, _b: bool, _c: Result<u32, ()>) {}
        fn variant_enums(&mut self, a: bool, b: Result<(), ()>, c: MyErrno) -> (bool, Result<(), ()>, MyErrno) {
            if (a, b, c) != (true, Ok(()), MyErrno::Success) {
                self.mismatches.0.push(format!("variant-enums got ({a}, {b:?}, {c:?})"));
            }
            (false, Err(()), MyErrno::A)
        }
    }
}

#[test]
fn variants() -> anyhow::Result<()> {
    use variants::exports::test::variants::test::{C1, C2, C3, C4, C5, C6, E1, Z1, Z2, Z3, Z4};
    let engine = Engine::default();
    let component = runtime_component(&engine, "variants.component.wasm");
    let linker = linker_with(&engine, &component, |l| variants::Variants::add_to_linker::<_, HasSelf<_>>(l, |h| h));
    let mut store = Store::new(&engine, variants::Host::default());
    let world = variants::Variants::instantiate(&mut store, &component, &linker)?;
    world.call_test_imports(&mut store)?;
    assert_eq!(store.data().mismatches.0, Vec::<String>::new());
    let t = world.test_variants_test();
    assert_eq!(t.call_roundtrip_option(&mut store, Some(1.0))?, Some(1));
    assert_eq!(t.call_roundtrip_option(&mut store, None)?, None);
    assert_eq!(t.call_roundtrip_result(&mut store, Ok(2))?, Ok(2.0));
    assert_eq!(t.call_roundtrip_result(&mut store, Err(5.2))?, Err(5));
    assert_eq!(t.call_roundtrip_enum(&mut store, E1::A)?, E1::A);
    assert_eq!(t.call_roundtrip_enum(&mut store, E1::B)?, E1::B);
    assert!(!t.call_invert_bool(&mut store, true)?);
    assert!(t.call_invert_bool(&mut store, false)?);
    let casts = (C1::A(1), C2::A(2), C3::A(3), C4::A(4), C5::A(5), C6::A(6.0));
    assert_eq!(t.call_variant_casts(&mut store, casts)?, casts);
    let casts = (C1::B(1), C2::B(2.0), C3::B(3.0), C4::B(4.0), C5::B(5.0), C6::B(6.0));
    assert_eq!(t.call_variant_casts(&mut store, casts)?, casts);
    let zeros = (Z1::A(1), Z2::A(2), Z3::A(3.0), Z4::A(4.0));
    assert_eq!(t.call_variant_zeros(&mut store, zeros)?, zeros);
    t.call_variant_typedefs(&mut store, None, false, Err(()))?;
    Ok(())
}

mod flavorful {
    weld::component::bindgen!({
        inline: "
            package test:flavorful;
            interface test {
                record list-in-record1 { a: string }
                record list-in-record2 { a: string }
                record list-in-record3 { a: string }
                record list-in-record4 { a: string }
                type list-in-alias = list-in-record4;
                type list-in-variant1-v1 = option<string>;
                type list-in-variant1-v2 = result<_, string>;
                type list-in-variant2 = option<string>;
                type list-in-variant3 = option<string>;
                enum my-errno { success, a, b }
                type list-typedef = string;
                type list-typedef3 = list<string>;
                type list-typedef2 = list<u8>;
                f-list-in-record1: func(a: list-in-record1);
                f-list-in-record2: func() -> list-in-record2;
                f-list-in-record3: func(a: list-in-record3) -> list-in-record3;
                f-list-in-record4: func(a: list-in-alias) -> list-in-alias;
                f-list-in-variant1: func(a: list-in-variant1-v1, b: list-in-variant1-v2);
                f-list-in-variant2: func() -> list-in-variant2;
                f-list-in-variant3: func(a: list-in-variant3) -> list-in-variant3;
                errno-result: func() -> result<_, my-errno>;
                list-typedefs: func(a: list-typedef, c: list-typedef3) -> tuple<list-typedef2, list-typedef3>;
                list-of-variants: func(a: list<bool>, b: list<result>, c: list<my-errno>)
                    -> tuple<list<bool>, list<result>, list<my-errno>>;
            }
            world flavorful {
                import test;
                export test-imports: func();
                export test;
            }",
        additional_derives: [PartialEq],
    });

    use test::flavorful::test::{ListInRecord1, ListInRecord2, ListInRecord3, ListInRecord4, MyErrno};

    /// jco's host for `test:flavorful/test`: fixed results, parameters checked (mismatches
    /// recorded), and `errno-result` failing with `b` the first time only.
    #[derive(Default)]
    pub struct Host {
        pub mismatches: crate::jco_runtime::Mismatches,
        pub errno_calls: u32,
    }

    impl test::flavorful::test::Host for Host {
        fn f_list_in_record1(&mut self, _a: ListInRecord1) {}
        fn f_list_in_record2(&mut self) -> ListInRecord2 {
            ListInRecord2 { a: "list_in_record2".into() }
        }
        fn f_list_in_record3(&mut self, a: ListInRecord3) -> ListInRecord3 {
            self.mismatches.expect("f-list-in-record3", a.a.as_str(), "list_in_record3 input");
            ListInRecord3 { a: "list_in_record3 output".into() }
        }
        fn f_list_in_record4(&mut self, a: ListInRecord4) -> ListInRecord4 {
            self.mismatches.expect("f-list-in-record4", a.a.as_str(), "input4");
            ListInRecord4 { a: "result4".into() }
        }
        fn f_list_in_variant1(&mut self, a: Option<String>, b: Result<(), String>) {
            self.mismatches.expect("f-list-in-variant1 a", a, Some("foo".into()));
            self.mismatches.expect("f-list-in-variant1 b", b, Err("bar".into()));
        }
        fn f_list_in_variant2(&mut self) -> Option<String> {
            Some("list_in_variant2".into())
        }
        fn f_list_in_variant3(&mut self, a: Option<String>) -> Option<String> {
            self.mismatches.expect("f-list-in-variant3", a, Some("input3".into()));
            Some("output3".into())
        }
        fn errno_result(&mut self) -> Result<(), MyErrno> {
            self.errno_calls += 1;
            if self.errno_calls == 1 { Err(MyErrno::B) } else { Ok(()) }
        }
        fn list_typedefs(&mut self, a: String, c: Vec<String>) -> (Vec<u8>, Vec<String>) {
            self.mismatches.expect("list-typedefs a", a.as_str(), "typedef1");
            self.mismatches.expect("list-typedefs c", c, vec!["typedef2".to_string()]);
            (b"typedef3".to_vec(), vec!["typedef4".into()])
        }
        fn list_of_variants(
            &mut self,
            a: Vec<bool>,
            b: Vec<Result<(), ()>>,
            c: Vec<MyErrno>,
        ) -> (Vec<bool>, Vec<Result<(), ()>>, Vec<MyErrno>) {
            self.mismatches.expect("list-of-variants a", a, vec![true, false]);
            self.mismatches.expect("list-of-variants b", b, vec![Ok(()), Err(())]);
            self.mismatches.expect("list-of-variants c", c, vec![MyErrno::Success, MyErrno::A]);
            (vec![false, true], vec![Err(()), Ok(())], vec![MyErrno::A, MyErrno::B])
        }
    }
}

#[test]
fn flavorful() -> anyhow::Result<()> {
    use flavorful::exports::test::flavorful::test::{ListInRecord2, ListInRecord3, ListInRecord4, MyErrno};
    let engine = Engine::default();
    let component = runtime_component(&engine, "flavorful.component.wasm");
    let linker = linker_with(&engine, &component, |l| flavorful::Flavorful::add_to_linker::<_, HasSelf<_>>(l, |h| h));
    let mut store = Store::new(&engine, flavorful::Host::default());
    let world = flavorful::Flavorful::instantiate(&mut store, &component, &linker)?;
    world.call_test_imports(&mut store)?;
    assert_eq!(store.data().mismatches.0, Vec::<String>::new());
    let t = world.test_flavorful_test();
    assert_eq!(t.call_f_list_in_record2(&mut store)?, ListInRecord2 { a: "list_in_record2".into() });
    assert_eq!(
        t.call_f_list_in_record3(&mut store, &ListInRecord3 { a: "list_in_record3 input".into() })?,
        ListInRecord3 { a: "list_in_record3 output".into() }
    );
    assert_eq!(
        t.call_f_list_in_record4(&mut store, &ListInRecord4 { a: "input4".into() })?,
        ListInRecord4 { a: "result4".into() }
    );
    assert_eq!(t.call_f_list_in_variant2(&mut store)?, Some("list_in_variant2".to_string()));
    assert_eq!(t.call_f_list_in_variant3(&mut store, &Some("input3".to_string()))?, Some("output3".to_string()));
    assert_eq!(t.call_errno_result(&mut store)?, Err(MyErrno::B));
    assert_eq!(
        t.call_list_typedefs(&mut store, &"typedef1".to_string(), &vec!["typedef2".to_string()])?,
        (b"typedef3".to_vec(), vec!["typedef4".to_string()])
    );
    Ok(())
}
