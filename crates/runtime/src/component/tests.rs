//! Tests of lifting and lowering: round trips through memory and through flat values for
//! every kind of type, strings in each encoding, and the spec's traps.

use super::canonical::{GuestMemory, Options, lift_flat, load, lower_flat, store};
use super::types::InterfaceType as T;
use super::values::Val;
use crate::Trap;
use anyhow::{Result, bail};
use weld_environ::component::translate::StringEncoding;

/// A test memory whose `realloc` bumps a pointer and copies the old contents.
struct VecMemory {
    data: Vec<u8>,
    next: u64,
    memory64: bool,
    /// Added to every pointer `realloc` returns, to test its checks.
    skew: u64,
}

impl VecMemory {
    fn new() -> VecMemory {
        VecMemory { data: vec![0; 65536], next: 1024, memory64: false, skew: 0 }
    }
}

impl GuestMemory for VecMemory {
    fn bytes(&self) -> &[u8] {
        &self.data
    }
    fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.data
    }
    fn realloc(&mut self, old_ptr: u64, old_size: u64, align: u32, new_size: u64) -> Result<u64> {
        let ptr = self.next.next_multiple_of(u64::from(align));
        if ptr + new_size > self.data.len() as u64 {
            bail!("out of memory");
        }
        let keep = old_size.min(new_size) as usize;
        self.data.copy_within(old_ptr as usize..old_ptr as usize + keep, ptr as usize);
        self.next = ptr + new_size;
        Ok(ptr + self.skew)
    }
    fn memory64(&self) -> bool {
        self.memory64
    }
}

fn opts(enc: StringEncoding) -> Options {
    Options { string_encoding: enc, lift_bytes: false }
}

const ENCODINGS: [StringEncoding; 3] = [StringEncoding::Utf8, StringEncoding::Utf16, StringEncoding::CompactUtf16];

fn s(x: &str) -> Val {
    Val::String(x.to_string())
}

fn some(v: Val) -> Option<Box<Val>> {
    Some(Box::new(v))
}

/// Round-trips `val` through memory and, if `ty` is small enough, through flat values, in
/// every string encoding and both memory widths.
fn round_trip(val: &Val, ty: &T) {
    for enc in ENCODINGS {
        for memory64 in [false, true] {
            let o = opts(enc);
            let mut mem = VecMemory { memory64, ..VecMemory::new() };
            let w = weld_environ::component::MemoryWidth::from_memory64(memory64);
            let ptr = 64u64.next_multiple_of(u64::from(ty.abi().align(w)));
            store(&mut mem, &o, val, ty, ptr).unwrap();
            assert_eq!(&load(&mut mem, &o, ty, ptr).unwrap(), val, "{ty} via memory ({enc:?}, memory64 {memory64})");
            if ty.abi().flat_count.is_some() {
                let mut flat = Vec::new();
                lower_flat(&mut mem, &o, val, ty, &mut flat).unwrap();
                assert_eq!(flat.len(), usize::from(ty.abi().flat_count.unwrap()));
                let lifted = lift_flat(&mut mem, &o, ty, &mut flat.into_iter()).unwrap();
                assert_eq!(&lifted, val, "{ty} via flat ({enc:?}, memory64 {memory64})");
            }
        }
    }
}

#[test]
fn scalars() {
    let cases = [
        (Val::Bool(true), T::Bool),
        (Val::S8(-5), T::S8),
        (Val::U8(250), T::U8),
        (Val::S16(-30000), T::S16),
        (Val::U16(65000), T::U16),
        (Val::S32(i32::MIN), T::S32),
        (Val::U32(u32::MAX), T::U32),
        (Val::S64(-1), T::S64),
        (Val::U64(u64::MAX), T::U64),
        (Val::Float32(-1.5), T::F32),
        (Val::Float64(1e300), T::F64),
        (Val::Char('\u{10FFFF}'), T::Char),
    ];
    for (val, ty) in cases {
        round_trip(&val, &ty);
    }
}

#[test]
fn aggregates() {
    let inner = T::record([("a", T::U8), ("b", T::tuple([T::U64, T::Char]))]);
    let ty = T::record([("x", inner.clone()), ("name", T::String), ("z", T::S16)]);
    let val = Val::Record(vec![
        (
            "x".into(),
            Val::Record(vec![("a".into(), Val::U8(7)), ("b".into(), Val::Tuple(vec![Val::U64(9), Val::Char('é')]))]),
        ),
        ("name".into(), s("ok")),
        ("z".into(), Val::S16(-2)),
    ]);
    round_trip(&val, &ty);
    round_trip(&Val::List(vec![val.clone(), val]), &T::list(ty));
    round_trip(&Val::Tuple(vec![Val::Float32(1.0), Val::Bool(false)]), &T::tuple([T::F32, T::Bool]));
    round_trip(&Val::List(vec![s("a"), s("ünï"), s(""), s("𝄞")]), &T::list(T::String));
    round_trip(&Val::List(vec![Val::U16(3), Val::U16(4)]), &T::fixed_list(T::U16, 2));
    round_trip(&Val::List(vec![]), &T::list(T::U64));
}

#[test]
fn variants() {
    for n in [1usize, 256, 257] {
        let cases = (0..n).map(|i| (format!("c{i}"), (i % 3 == 0).then_some(T::U32)));
        let ty = T::variant(cases);
        round_trip(&Val::Variant("c0".into(), some(Val::U32(77))), &ty);
        if n > 1 {
            let last = format!("c{}", n - 1);
            let payload = ((n - 1) % 3 == 0).then(|| Box::new(Val::U32(1)));
            round_trip(&Val::Variant(last, payload), &ty);
        }
        let ty = T::enumeration((0..n).map(|i| format!("e{i}")));
        round_trip(&Val::Enum(format!("e{}", n - 1)), &ty);
    }
    // Payloads whose flat types differ from the joined ones.
    let ty =
        T::variant([("i", Some(T::U32)), ("f", Some(T::F32)), ("l", Some(T::U64)), ("d", Some(T::F64)), ("n", None)]);
    round_trip(&Val::Variant("f".into(), some(Val::Float32(-2.25))), &ty);
    round_trip(&Val::Variant("i".into(), some(Val::U32(0xdead_beef))), &ty);
    round_trip(&Val::Variant("d".into(), some(Val::Float64(0.1))), &ty);
    round_trip(&Val::Variant("n".into(), None), &ty);
    let opt = T::option(T::U64);
    round_trip(&Val::Option(None), &opt);
    round_trip(&Val::Option(some(Val::U64(1 << 40))), &opt);
    let res = T::result(Some(T::String), Some(T::list(T::U16)));
    round_trip(&Val::Result(Ok(some(s("fine")))), &res);
    round_trip(&Val::Result(Err(some(Val::List(vec![Val::U16(1), Val::U16(65535)])))), &res);
    round_trip(&Val::Result(Err(None)), &T::result(Some(T::U8), None));
}

#[test]
fn flags() {
    let three = T::flags(["a", "b", "c"]);
    round_trip(&Val::Flags(vec!["a".into(), "c".into()]), &three);
    round_trip(&Val::Flags(vec![]), &three);
    let names: Vec<String> = (0..40).map(|i| format!("f{i}")).collect();
    let forty = T::flags(names.clone());
    round_trip(&Val::Flags(vec![names[0].clone(), names[31].clone(), names[32].clone(), names[39].clone()]), &forty);
    // Bits are laid out little-endian: f32 is bit 0 of the second word.
    let mut mem = VecMemory::new();
    let o = Options::default();
    store(&mut mem, &o, &Val::Flags(vec![names[32].clone()]), &forty, 8).unwrap();
    assert_eq!(&mem.data[8..16], &[0, 0, 0, 0, 1, 0, 0, 0]);
    // Unknown bits are ignored when lifting.
    let val = lift_flat(&mut mem, &o, &three, &mut [0xffu64].into_iter()).unwrap();
    assert_eq!(val, Val::Flags(vec!["a".into(), "b".into(), "c".into()]));
}

#[test]
fn strings_in_each_encoding() {
    for text in ["", "hello", "café ÿ", "Ǆ mixed ÿ€", "emoji 😀 and 𝄞", "\u{0}"] {
        round_trip(&s(text), &T::String);
    }
    // The bytes in memory follow the encoding.
    let mut mem = VecMemory::new();
    let mut flat = Vec::new();
    lower_flat(&mut mem, &opts(StringEncoding::CompactUtf16), &s("ÿa"), &T::String, &mut flat).unwrap();
    assert_eq!(flat[1], 2, "latin1 without tag");
    assert_eq!(&mem.data[flat[0] as usize..][..2], &[0xff, b'a']);
    flat.clear();
    lower_flat(&mut mem, &opts(StringEncoding::CompactUtf16), &s("a€"), &T::String, &mut flat).unwrap();
    assert_eq!(flat[1], 2 | 1 << 31, "utf16 with tag");
    assert_eq!(&mem.data[flat[0] as usize..][..4], &[b'a', 0, 0xac, 0x20]);
    flat.clear();
    lower_flat(&mut mem, &opts(StringEncoding::Utf16), &s("😀"), &T::String, &mut flat).unwrap();
    assert_eq!(flat[1], 2);
    assert_eq!(&mem.data[flat[0] as usize..][..4], &[0x3d, 0xd8, 0x00, 0xde]);
    mem.memory64 = true;
    flat.clear();
    lower_flat(&mut mem, &opts(StringEncoding::CompactUtf16), &s("€"), &T::String, &mut flat).unwrap();
    assert_eq!(flat[1], 1 | 1 << 63);
}

/// The trap in an error's chain (if any) and its message (the detail a trap carries).
fn described(e: anyhow::Error) -> (Option<Trap>, String) {
    (e.downcast_ref::<Trap>().copied(), e.to_string())
}

fn lift_err(mem: &mut VecMemory, enc: StringEncoding, ty: &T, flat: &[u64]) -> (Option<Trap>, String) {
    described(lift_flat(mem, &opts(enc), ty, &mut flat.iter().copied()).unwrap_err())
}

fn trap(t: Trap, detail: &str) -> (Option<Trap>, String) {
    (Some(t), detail.to_string())
}

#[test]
fn string_traps() {
    let mut mem = VecMemory::new();
    mem.data[0x10..0x12].copy_from_slice(&[0xc3, 0x28]);
    assert_eq!(
        lift_err(&mut mem, StringEncoding::Utf8, &T::String, &[0x10, 2]),
        trap(Trap::InvalidUtf8, "invalid utf-8 sequence at byte 0 of the string at 0x10 in the guest's memory")
    );
    assert_eq!(
        lift_err(&mut mem, StringEncoding::Utf8, &T::String, &[0x10, 1]),
        trap(
            Trap::InvalidUtf8,
            "incomplete utf-8 byte sequence at the end of the string at 0x10 in the guest's memory"
        )
    );
    mem.data[0x20..0x24].copy_from_slice(&[b'a', 0, 0x00, 0xd8]);
    let lone = trap(Trap::InvalidUtf16, "lone surrogate 0xd800 in the utf-16 string at 0x20 in the guest's memory");
    assert_eq!(lift_err(&mut mem, StringEncoding::Utf16, &T::String, &[0x20, 2]), lone);
    assert_eq!(lift_err(&mut mem, StringEncoding::CompactUtf16, &T::String, &[0x20, 2 | 1 << 31]), lone);
    assert_eq!(
        lift_err(&mut mem, StringEncoding::Utf8, &T::String, &[0xfffe, 5]),
        trap(
            Trap::StringOutOfBounds,
            "string pointer/length out of bounds of memory: 5 bytes at 0xfffe do not fit in the guest's memory of \
             65536 bytes"
        )
    );
    assert_eq!(
        lift_err(&mut mem, StringEncoding::Utf16, &T::String, &[0x21, 1]),
        trap(Trap::UnalignedPointer, "string pointer 0x21 is not aligned to 2 in the guest's memory")
    );
    let (t, detail) = lift_err(&mut mem, StringEncoding::Utf8, &T::String, &[0, 1 << 30]);
    assert_eq!(t, Some(Trap::StringOutOfBounds));
    assert!(detail.starts_with("string too long: 0x40000000 tagged code units at 0x0"), "{detail}");
    // Latin-1 accepts every byte.
    mem.data[0x30] = 0xe9;
    let v =
        lift_flat(&mut mem, &opts(StringEncoding::CompactUtf16), &T::String, &mut [0x30u64, 1].into_iter()).unwrap();
    assert_eq!(v, s("é"));
}

#[test]
fn pointer_traps() {
    let mut mem = VecMemory::new();
    let o = Options::default();
    assert_eq!(
        described(load(&mut mem, &o, &T::U32, 3).unwrap_err()),
        trap(Trap::UnalignedPointer, "value pointer 0x3 is not aligned to 4 in the guest's memory")
    );
    assert_eq!(
        described(load(&mut mem, &o, &T::U64, 65536).unwrap_err()),
        trap(
            Trap::PointerOutOfBounds,
            "value pointer out of bounds of memory: 8 bytes at 0x10000 do not fit in the guest's memory of 65536 bytes"
        )
    );
    let err = store(&mut mem, &o, &Val::U16(1), &T::U16, 1).unwrap_err();
    assert_eq!(described(err).0, Some(Trap::UnalignedPointer));
    let err = store(&mut mem, &o, &Val::U16(1), &T::U16, u64::MAX - 1).unwrap_err();
    assert_eq!(described(err).0, Some(Trap::PointerOutOfBounds));
    // Lists: misaligned, out of bounds and too long element ranges.
    let ty = T::list(T::U32);
    assert_eq!(
        lift_err(&mut mem, StringEncoding::Utf8, &ty, &[2, 1]),
        trap(Trap::UnalignedPointer, "list pointer 0x2 is not aligned to 4 in the guest's memory")
    );
    assert_eq!(
        lift_err(&mut mem, StringEncoding::Utf8, &ty, &[65532, 2]),
        trap(
            Trap::ListOutOfBounds,
            "list pointer/length out of bounds of memory: 8 bytes at 0xfffc do not fit in the guest's memory of \
             65536 bytes"
        )
    );
    let (t, detail) = lift_err(&mut mem, StringEncoding::Utf8, &ty, &[0, 1 << 27]);
    assert_eq!(t, Some(Trap::ListOutOfBounds));
    assert!(detail.starts_with("list too long: 134217728 elements of 4 bytes at 0x0"), "{detail}");
    // A list pointer in memory that points out of bounds.
    mem.data[0..8].copy_from_slice(&[0xf0, 0xff, 0, 0, 8, 0, 0, 0]);
    assert_eq!(described(load(&mut mem, &o, &ty, 0).unwrap_err()).0, Some(Trap::ListOutOfBounds));
}

#[test]
fn realloc_traps() {
    let mut mem = VecMemory { skew: 1, ..VecMemory::new() };
    let o = opts(StringEncoding::Utf16);
    let err = lower_flat(&mut mem, &o, &s("hi"), &T::String, &mut Vec::new()).unwrap_err();
    assert_eq!(
        described(err),
        trap(
            Trap::UnalignedPointer,
            "realloc return: result not aligned: 0x401, allocated for a string in the guest's memory, is not aligned \
             to 2"
        )
    );
    let mut mem = VecMemory { skew: 1, ..VecMemory::new() };
    let err = store(&mut mem, &o, &Val::List(vec![Val::U64(1)]), &T::list(T::U64), 0).unwrap_err();
    assert_eq!(
        described(err),
        trap(
            Trap::UnalignedPointer,
            "realloc return: result not aligned: 0x401, allocated for a list in the guest's memory, is not aligned to 8"
        )
    );
    let mut mem = VecMemory { skew: 70000, ..VecMemory::new() };
    let err = store(&mut mem, &o, &s("x"), &T::String, 0).unwrap_err();
    let (t, detail) = described(err);
    assert_eq!(t, Some(Trap::StringOutOfBounds));
    assert!(detail.starts_with("realloc return: beyond end of memory: 2 bytes at"), "{detail}");
    let mut mem = VecMemory { skew: 70000, ..VecMemory::new() };
    let err = store(&mut mem, &o, &Val::List(vec![]), &T::list(T::U8), 0).unwrap_err();
    assert_eq!(described(err).0, Some(Trap::ListOutOfBounds));
    // An error from realloc itself is passed on.
    let mut mem = VecMemory { next: 65535, ..VecMemory::new() };
    let err = store(&mut mem, &o, &s("xyz"), &T::String, 0).unwrap_err();
    assert_eq!(described(err), (None, "out of memory".to_string()));
}

#[test]
fn value_traps() {
    let mut mem = VecMemory::new();
    let o = Options::default();
    let bad_char = |v: u32| trap(Trap::InvalidChar, &format!("char value {v:#x} is not a Unicode scalar value"));
    assert_eq!(lift_err(&mut mem, StringEncoding::Utf8, &T::Char, &[0xd800]), bad_char(0xd800));
    assert_eq!(lift_err(&mut mem, StringEncoding::Utf8, &T::Char, &[0x110000]), bad_char(0x110000));
    mem.data[4..8].copy_from_slice(&0xdfffu32.to_le_bytes());
    assert_eq!(described(load(&mut mem, &o, &T::Char, 4).unwrap_err()), bad_char(0xdfff));
    let ty = T::variant([("a", None), ("b", Some(T::U8))]);
    assert_eq!(
        lift_err(&mut mem, StringEncoding::Utf8, &ty, &[2, 0]),
        trap(Trap::InvalidDiscriminant, "discriminant 2 is past the last of the 2 cases of variant { a, b(u8) }")
    );
    mem.data[16] = 2;
    let (t, detail) = described(load(&mut mem, &o, &T::option(T::U8), 16).unwrap_err());
    assert_eq!(t, Some(Trap::InvalidDiscriminant));
    assert!(detail.starts_with("discriminant 2 is past"), "{detail}");
    let e = T::enumeration(["x", "y", "z"]);
    assert_eq!(lift_err(&mut mem, StringEncoding::Utf8, &e, &[3]).0, Some(Trap::InvalidDiscriminant));
    // 257 cases: a 2-byte discriminant; 257 itself is out of range.
    let big = T::enumeration((0..257).map(|i| format!("e{i}")));
    mem.data[20..22].copy_from_slice(&257u16.to_le_bytes());
    assert_eq!(described(load(&mut mem, &o, &big, 20).unwrap_err()).0, Some(Trap::InvalidDiscriminant));
    mem.data[20..22].copy_from_slice(&256u16.to_le_bytes());
    assert_eq!(load(&mut mem, &o, &big, 20).unwrap(), Val::Enum("e256".into()));
    // Too few flat values: not a trap (the caller gave the wrong number of values).
    assert_eq!(lift_err(&mut mem, StringEncoding::Utf8, &T::String, &[0]), (None, "too few flat values".into()));
    // Typecheck errors come before any memory access, and are not traps.
    let err = store(&mut mem, &o, &Val::U8(1), &T::String, 0).unwrap_err();
    assert_eq!(described(err), (None, "expected string, found u8".into()));
}

#[test]
fn flat_integer_rules() {
    let mut mem = VecMemory::new();
    let o = Options::default();
    let mut lift = |ty: &T, x: u64| lift_flat(&mut mem, &o, ty, &mut [x].into_iter()).unwrap();
    // bool: any nonzero is true.
    assert_eq!(lift(&T::Bool, 2), Val::Bool(true));
    assert_eq!(lift(&T::Bool, 0), Val::Bool(false));
    // Narrow integers keep their low bits, sign-extended for signed types.
    assert_eq!(lift(&T::U8, 0x1ff), Val::U8(0xff));
    assert_eq!(lift(&T::S8, 0xff), Val::S8(-1));
    assert_eq!(lift(&T::S16, 0x18000), Val::S16(i16::MIN));
    assert_eq!(lift(&T::S32, 0xffff_ffff), Val::S32(-1));
    // Lowering a signed narrow integer gives its i32 (sign-extended, then zero-extended bits).
    let mut mem = VecMemory::new();
    let mut flat = Vec::new();
    lower_flat(&mut mem, &o, &Val::S8(-1), &T::S8, &mut flat).unwrap();
    assert_eq!(flat, [0xffff_ffff]);
    // A NaN's payload is passed through.
    let nan = f32::from_bits(0x7fc0_0123);
    match lift(&T::F32, 0x7fc0_0123) {
        Val::Float32(f) => assert_eq!(f.to_bits(), nan.to_bits()),
        v => panic!("{v:?}"),
    }
    // variant { a(f32), b(u64) }: the f32 payload sits in an i64 slot, high bits ignored.
    let ty = T::variant([("a", Some(T::F32)), ("b", Some(T::U64))]);
    let v = lift_flat(&mut mem, &o, &ty, &mut [0u64, 0xdead_0000_3fc0_0000].into_iter()).unwrap();
    assert_eq!(v, Val::Variant("a".into(), some(Val::Float32(1.5))));
    // Unused joined slots are zero when lowering and skipped when lifting.
    let ty = T::variant([("a", Some(T::tuple([T::U8, T::U8]))), ("b", None)]);
    flat.clear();
    lower_flat(&mut mem, &o, &Val::Variant("b".into(), None), &ty, &mut flat).unwrap();
    assert_eq!(flat, [1, 0, 0]);
    let mut rest = [1u64, 5, 6, 42].into_iter();
    assert_eq!(lift_flat(&mut mem, &o, &ty, &mut rest).unwrap(), Val::Variant("b".into(), None));
    assert_eq!(rest.next(), Some(42));
    // Types that never pass flat are refused.
    let wide = T::tuple(vec![T::U8; 17]);
    assert!(lift_flat(&mut mem, &o, &wide, &mut std::iter::repeat(0)).is_err());
}

#[test]
fn utf8_validation_fast_path_agrees_with_from_utf8() {
    use super::canonical::{StringAt, check_utf8, validate_utf8};
    let message = |r: Result<()>| {
        r.err().map(|e| {
            assert_eq!(e.downcast_ref::<crate::Trap>(), Some(&crate::Trap::InvalidUtf8));
            format!("{e:#}")
        })
    };
    let at = StringAt { ptr: 0x40, side: None };
    let mut cases: Vec<Vec<u8>> = vec![vec![], b"plain ascii".to_vec(), "héllo ☃ 𝄞".as_bytes().to_vec()];
    // Non-ASCII characters and errors on either side of the 64-byte blocks, and at the end.
    for at in [0, 1, 62, 63, 64, 65, 127, 128, 200] {
        for insert in ["é".as_bytes(), "☃".as_bytes(), "𝄞".as_bytes(), &[0xff], &[0xc3], &[0xe2, 0x98], &[0x80]] {
            let mut s = vec![b'a'; 256];
            s.splice(at..at, insert.iter().copied());
            cases.push(s.clone());
            s.truncate(at + insert.len());
            cases.push(s);
        }
    }
    for raw in &cases {
        let expected = message(check_utf8(raw, at).map(|_| ()));
        assert_eq!(message(validate_utf8(raw, at)), expected, "{raw:?}");
        assert_eq!(expected.is_none(), std::str::from_utf8(raw).is_ok());
    }
}

#[test]
fn async_values_need_a_store() {
    // Futures, streams and error contexts live in a store's handle tables: a memory that is
    // not a store's cannot lift or lower them, and says so by the type's name.
    let mut mem = VecMemory::new();
    let o = opts(StringEncoding::Utf8);
    for ty in [T::future(Some(T::U32)), T::stream(Some(T::U8)), T::stream(None), T::ErrorContext] {
        let article = if ty == T::ErrorContext { "an" } else { "a" };
        let lifting = format!("lifting {article} `{ty}` is not supported yet");
        // Inside an aggregate, the error names the async type itself.
        let record = T::record([("a", T::U8), ("x", ty.clone())]);
        for t in [&ty, &record] {
            assert_eq!(load(&mut mem, &o, t, 64).unwrap_err().to_string(), lifting, "{t}");
            assert_eq!(lift_flat(&mut mem, &o, t, &mut [0u64, 1].into_iter()).unwrap_err().to_string(), lifting);
        }
        // A value of another kind is refused by the type check.
        for val in [Val::U32(1), Val::List(vec![])] {
            let e = store(&mut mem, &o, &val, &ty, 64).unwrap_err().to_string();
            assert!(e.contains(&format!("expected {ty}")) || e.contains(&format!("expected `{ty}`")), "{e}");
            assert!(val.typecheck(&ty).is_err());
        }
        assert_eq!(Val::default_for(&ty).unwrap_err().to_string(), format!("a handle ({ty}) has no default value"));
        // A value that holds none of them lifts: `none` of an `option<stream<u8>>`.
        let option = T::option(ty.clone());
        assert_eq!(lift_flat(&mut mem, &o, &option, &mut [0u64, 0].into_iter()).unwrap(), Val::Option(None));
    }
}
