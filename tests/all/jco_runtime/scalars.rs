//! Numbers, records and flags, strings, many arguments and the smoke test: the C++ guests'
//! `test-imports` against the host side, then each export.

use super::{linker_with, runtime_component};
use weld::component::HasSelf;
use weld::{Engine, Store};

mod numbers {
    weld::component::bindgen!({
        inline: "
            package test:numbers;
            interface test {
                roundtrip-u8: func(a: u8) -> u8;
                roundtrip-s8: func(a: s8) -> s8;
                roundtrip-u16: func(a: u16) -> u16;
                roundtrip-s16: func(a: s16) -> s16;
                roundtrip-u32: func(a: u32) -> u32;
                roundtrip-s32: func(a: s32) -> s32;
                roundtrip-u64: func(a: u64) -> u64;
                roundtrip-s64: func(a: s64) -> s64;
                roundtrip-f32: func(a: f32) -> f32;
                roundtrip-f64: func(a: f64) -> f64;
                roundtrip-char: func(a: char) -> char;
                set-scalar: func(a: u32);
                get-scalar: func() -> u32;
            }
            world numbers {
                import test;
                export test-imports: func();
                export test;
            }",
    });

    /// The host side: identities, and a cell for the scalar.
    #[derive(Default)]
    pub struct Host {
        pub scalar: u32,
    }

    impl test::numbers::test::Host for Host {
        fn roundtrip_u8(&mut self, a: u8) -> u8 {
            a
        }
        fn roundtrip_s8(&mut self, a: i8) -> i8 {
            a
        }
        fn roundtrip_u16(&mut self, a: u16) -> u16 {
            a
        }
        fn roundtrip_s16(&mut self, a: i16) -> i16 {
            a
        }
        fn roundtrip_u32(&mut self, a: u32) -> u32 {
            a
        }
        fn roundtrip_s32(&mut self, a: i32) -> i32 {
            a
        }
        fn roundtrip_u64(&mut self, a: u64) -> u64 {
            a
        }
        fn roundtrip_s64(&mut self, a: i64) -> i64 {
            a
        }
        fn roundtrip_f32(&mut self, a: f32) -> f32 {
            a
        }
        fn roundtrip_f64(&mut self, a: f64) -> f64 {
            a
        }
        fn roundtrip_char(&mut self, a: char) -> char {
            a
        }
        fn set_scalar(&mut self, a: u32) {
            self.scalar = a;
        }
        fn get_scalar(&mut self) -> u32 {
            self.scalar
        }
    }
}

#[test]
fn numbers() -> anyhow::Result<()> {
    let engine = Engine::default();
    let component = runtime_component(&engine, "numbers.component.wasm");
    let linker =
        linker_with(&engine, &component, |l| numbers::Numbers::add_to_linker::<numbers::Host, HasSelf<_>>(l, |h| h));
    let mut store = Store::new(&engine, numbers::Host::default());
    let world = numbers::Numbers::instantiate(&mut store, &component, &linker)?;
    world.call_test_imports(&mut store)?;
    let t = world.test_numbers_test();
    assert_eq!(t.call_roundtrip_u8(&mut store, 255)?, 255);
    assert_eq!(t.call_roundtrip_s8(&mut store, -128)?, -128);
    assert_eq!(t.call_roundtrip_u16(&mut store, 65535)?, 65535);
    assert_eq!(t.call_roundtrip_s16(&mut store, -32768)?, -32768);
    assert_eq!(t.call_roundtrip_u32(&mut store, u32::MAX)?, u32::MAX);
    assert_eq!(t.call_roundtrip_s32(&mut store, i32::MIN)?, i32::MIN);
    assert_eq!(t.call_roundtrip_u64(&mut store, u64::MAX)?, u64::MAX);
    assert_eq!(t.call_roundtrip_s64(&mut store, i64::MIN)?, i64::MIN);
    assert_eq!(t.call_roundtrip_f32(&mut store, f32::INFINITY)?, f32::INFINITY);
    assert!(t.call_roundtrip_f32(&mut store, f32::NAN)?.is_nan());
    assert_eq!(t.call_roundtrip_f64(&mut store, f64::NEG_INFINITY)?, f64::NEG_INFINITY);
    assert_eq!(t.call_roundtrip_char(&mut store, '🚩')?, '🚩');
    assert_eq!(t.call_roundtrip_char(&mut store, ' ')?, ' ');
    t.call_set_scalar(&mut store, 2)?;
    assert_eq!(t.call_get_scalar(&mut store)?, 2);
    t.call_set_scalar(&mut store, 4)?;
    assert_eq!(t.call_get_scalar(&mut store)?, 4);
    Ok(())
}

mod records {
    weld::component::bindgen!({
        inline: "
            package test:records;
            interface test {
                flags f1 { a, b }
                flags f2 { c, d, e }
                flags flag8 { b0, b1, b2, b3, b4, b5, b6, b7 }
                flags flag16 { b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13, b14, b15 }
                flags flag32 {
                    b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13, b14, b15,
                    b16, b17, b18, b19, b20, b21, b22, b23, b24, b25, b26, b27, b28, b29, b30, b31,
                }
                record r1 { a: u8, b: f1 }
                multiple-results: func() -> tuple<u8, u16>;
                swap-tuple: func(a: tuple<u8, u32>) -> tuple<u32, u8>;
                roundtrip-flags1: func(a: f1) -> f1;
                roundtrip-flags2: func(a: f2) -> f2;
                roundtrip-flags3: func(a: flag8, b: flag16, c: flag32) -> tuple<flag8, flag16, flag32>;
                roundtrip-record1: func(a: r1) -> r1;
                tuple1: func(a: tuple<u8>) -> tuple<u8>;
            }
            world records {
                import test;
                export test-imports: func();
                export test;
            }",
        additional_derives: [PartialEq],
    });

    use test::records::test::{F1, F2, Flag8, Flag16, Flag32, R1};

    /// jco's host: `multiple-results` is `(4, 5)`, the others give back what they get.
    pub struct Host;

    impl test::records::test::Host for Host {
        fn multiple_results(&mut self) -> (u8, u16) {
            (4, 5)
        }
        fn swap_tuple(&mut self, a: (u8, u32)) -> (u32, u8) {
            (a.1, a.0)
        }
        fn roundtrip_flags1(&mut self, a: F1) -> F1 {
            a
        }
        fn roundtrip_flags2(&mut self, a: F2) -> F2 {
            a
        }
        fn roundtrip_flags3(&mut self, a: Flag8, b: Flag16, c: Flag32) -> (Flag8, Flag16, Flag32) {
            (a, b, c)
        }
        fn roundtrip_record1(&mut self, a: R1) -> R1 {
            a
        }
        fn tuple1(&mut self, a: (u8,)) -> (u8,) {
            a
        }
    }
}

#[test]
fn records() -> anyhow::Result<()> {
    use records::exports::test::records::test::{F1, F2, R1};
    let engine = Engine::default();
    let component = runtime_component(&engine, "records.component.wasm");
    let linker = linker_with(&engine, &component, |l| records::Records::add_to_linker::<_, HasSelf<_>>(l, |h| h));
    let mut store = Store::new(&engine, records::Host);
    let world = records::Records::instantiate(&mut store, &component, &linker)?;
    world.call_test_imports(&mut store)?;
    let t = world.test_records_test();
    assert_eq!(t.call_multiple_results(&mut store)?, (100, 200));
    assert_eq!(t.call_swap_tuple(&mut store, (1, 2))?, (2, 1));
    assert_eq!(t.call_roundtrip_flags1(&mut store, F1::A)?, F1::A);
    assert_eq!(t.call_roundtrip_flags1(&mut store, F1::empty())?, F1::empty());
    assert_eq!(t.call_roundtrip_flags1(&mut store, F1::A | F1::B)?, F1::A | F1::B);
    assert_eq!(t.call_roundtrip_flags2(&mut store, F2::C | F2::E)?, F2::C | F2::E);
    assert_eq!(t.call_roundtrip_flags2(&mut store, F2::D)?, F2::D);
    let r = R1 { a: 8, b: F1::empty() };
    assert_eq!(t.call_roundtrip_record1(&mut store, r)?, r);
    let r = R1 { a: 0, b: F1::A | F1::B };
    assert_eq!(t.call_roundtrip_record1(&mut store, r)?, r);
    assert_eq!(t.call_tuple1(&mut store, (1,))?, (1,));
    Ok(())
}

mod strings {
    weld::component::bindgen!({
        inline: "
            package test:strings;
            interface imports {
                take-basic: func(s: string);
                return-unicode: func() -> string;
            }
            world strings {
                import imports;
                export test-imports: func();
                export return-empty: func() -> string;
                export roundtrip: func(s: string) -> string;
            }",
    });

    /// jco's host: `take-basic` must receive "latin utf16".
    #[derive(Default)]
    pub struct Host {
        pub taken: Vec<String>,
    }

    impl test::strings::imports::Host for Host {
        fn take_basic(&mut self, s: String) {
            self.taken.push(s);
        }
        fn return_unicode(&mut self) -> String {
            "🚀🚀🚀 𠈄𓀀".to_string()
        }
    }
}

#[test]
fn strings() -> anyhow::Result<()> {
    let engine = Engine::default();
    let component = runtime_component(&engine, "strings.component.wasm");
    let linker = linker_with(&engine, &component, |l| strings::Strings::add_to_linker::<_, HasSelf<_>>(l, |h| h));
    let mut store = Store::new(&engine, strings::Host::default());
    let world = strings::Strings::instantiate(&mut store, &component, &linker)?;
    world.call_test_imports(&mut store)?;
    assert_eq!(store.data().taken, ["latin utf16"]);
    assert_eq!(world.call_roundtrip(&mut store, "str")?, "str");
    assert_eq!(world.call_roundtrip(&mut store, "🚀🚀🚀 𠈄𓀀")?, "🚀🚀🚀 𠈄𓀀");
    assert_eq!(world.call_return_empty(&mut store)?, "");
    Ok(())
}

mod many_arguments {
    weld::component::bindgen!({
        inline: "
            package test:many-arguments;
            world many-arguments {
                import imports: interface {
                    many-arguments: func(a1: u64, a2: u64, a3: u64, a4: u64, a5: u64, a6: u64, a7: u64, a8: u64,
                        a9: u64, a10: u64, a11: u64, a12: u64, a13: u64, a14: u64, a15: u64, a16: u64);
                }
                export many-arguments: func(a1: u64, a2: u64, a3: u64, a4: u64, a5: u64, a6: u64, a7: u64, a8: u64,
                    a9: u64, a10: u64, a11: u64, a12: u64, a13: u64, a14: u64, a15: u64, a16: u64);
            }",
    });

    /// Records the arguments the guest passes on.
    #[derive(Default)]
    pub struct Host {
        pub received: Vec<Vec<u64>>,
    }

    impl imports::Host for Host {
        #[allow(clippy::too_many_arguments)]
        fn many_arguments(
            &mut self,
            a1: u64,
            a2: u64,
            a3: u64,
            a4: u64,
            a5: u64,
            a6: u64,
            a7: u64,
            a8: u64,
            a9: u64,
            a10: u64,
            a11: u64,
            a12: u64,
            a13: u64,
            a14: u64,
            a15: u64,
            a16: u64,
        ) {
            self.received.push(vec![a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16]);
        }
    }
}

#[test]
fn many_arguments() -> anyhow::Result<()> {
    let engine = Engine::default();
    let component = runtime_component(&engine, "many-arguments.component.wasm");
    let linker =
        linker_with(&engine, &component, |l| many_arguments::ManyArguments::add_to_linker::<_, HasSelf<_>>(l, |h| h));
    let mut store = Store::new(&engine, many_arguments::Host::default());
    let world = many_arguments::ManyArguments::instantiate(&mut store, &component, &linker)?;
    world.call_many_arguments(&mut store, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)?;
    assert_eq!(store.data().received, [(1..=16).collect::<Vec<u64>>()]);
    Ok(())
}

/// The smoke test's guest prints with `printf`, which wasi-libc sends through the preview1
/// adapter to WASI 0.2's stdio streams (after asking for the preopened directories): the world
/// adds just those, so that the host captures what is printed (weld has no WASI host yet;
/// everything else stays a trap).
mod smoke {
    weld::component::bindgen!({
        inline: "
            package test:smoke;
            interface imports { thunk: func(); }
            world smoke {
                import imports;
                import wasi:cli/stdin@0.2.0;
                import wasi:cli/stdout@0.2.0;
                import wasi:cli/stderr@0.2.0;
                import wasi:filesystem/preopens@0.2.0;
                import wasi:cli/terminal-stdin@0.2.0;
                import wasi:cli/terminal-stdout@0.2.0;
                import wasi:cli/terminal-stderr@0.2.0;
                export thunk: func();
            }
            package wasi:io@0.2.0 {
                interface error { resource error; }
                interface streams {
                    use error.{error};
                    variant stream-error { last-operation-failed(error), closed }
                    resource input-stream;
                    resource output-stream {
                        check-write: func() -> result<u64, stream-error>;
                        write: func(contents: list<u8>) -> result<_, stream-error>;
                        blocking-write-and-flush: func(contents: list<u8>) -> result<_, stream-error>;
                        blocking-flush: func() -> result<_, stream-error>;
                    }
                }
            }
            package wasi:cli@0.2.0 {
                interface stdin { use wasi:io/streams@0.2.0.{input-stream}; get-stdin: func() -> input-stream; }
                interface stdout { use wasi:io/streams@0.2.0.{output-stream}; get-stdout: func() -> output-stream; }
                interface stderr { use wasi:io/streams@0.2.0.{output-stream}; get-stderr: func() -> output-stream; }
                interface terminal-input { resource terminal-input; }
                interface terminal-output { resource terminal-output; }
                interface terminal-stdin {
                    use terminal-input.{terminal-input};
                    get-terminal-stdin: func() -> option<terminal-input>;
                }
                interface terminal-stdout {
                    use terminal-output.{terminal-output};
                    get-terminal-stdout: func() -> option<terminal-output>;
                }
                interface terminal-stderr {
                    use terminal-output.{terminal-output};
                    get-terminal-stderr: func() -> option<terminal-output>;
                }
            }
            package wasi:filesystem@0.2.0 {
                interface types { resource descriptor; }
                interface preopens {
                    use types.{descriptor};
                    get-directories: func() -> list<tuple<descriptor, string>>;
                }
            }",
    });

    use wasi::io::streams::{InputStream, OutputStream, StreamError};
    use weld::component::Resource;

    /// Counts the calls of the host's `thunk`, and keeps what the guest writes to stdout (rep
    /// 1) and stderr (rep 2).
    #[derive(Default)]
    pub struct Host {
        pub thunks: u32,
        pub stdout: Vec<u8>,
        pub stderr: Vec<u8>,
    }

    impl test::smoke::imports::Host for Host {
        fn thunk(&mut self) {
            self.thunks += 1;
        }
    }

    impl wasi::io::error::Host for Host {}
    impl wasi::io::error::HostError for Host {
        fn drop(&mut self, _: Resource<wasi::io::error::Error>) -> anyhow::Result<()> {
            Ok(())
        }
    }
    impl wasi::io::streams::Host for Host {}
    impl wasi::io::streams::HostInputStream for Host {
        fn drop(&mut self, _: Resource<InputStream>) -> anyhow::Result<()> {
            Ok(())
        }
    }
    impl wasi::io::streams::HostOutputStream for Host {
        fn check_write(&mut self, _: Resource<OutputStream>) -> Result<u64, StreamError> {
            Ok(4096)
        }
        fn write(&mut self, this: Resource<OutputStream>, contents: Vec<u8>) -> Result<(), StreamError> {
            match this.rep() {
                1 => self.stdout.extend(contents),
                _ => self.stderr.extend(contents),
            }
            Ok(())
        }
        fn blocking_write_and_flush(
            &mut self,
            this: Resource<OutputStream>,
            contents: Vec<u8>,
        ) -> Result<(), StreamError> {
            self.write(this, contents)
        }
        fn blocking_flush(&mut self, _: Resource<OutputStream>) -> Result<(), StreamError> {
            Ok(())
        }
        fn drop(&mut self, _: Resource<OutputStream>) -> anyhow::Result<()> {
            Ok(())
        }
    }
    impl wasi::filesystem::types::Host for Host {}
    impl wasi::filesystem::types::HostDescriptor for Host {
        fn drop(&mut self, _: Resource<wasi::filesystem::types::Descriptor>) -> anyhow::Result<()> {
            Ok(())
        }
    }
    impl wasi::filesystem::preopens::Host for Host {
        fn get_directories(&mut self) -> Vec<(Resource<wasi::filesystem::types::Descriptor>, String)> {
            Vec::new()
        }
    }
    impl wasi::cli::terminal_input::Host for Host {}
    impl wasi::cli::terminal_input::HostTerminalInput for Host {
        fn drop(&mut self, _: Resource<wasi::cli::terminal_input::TerminalInput>) -> anyhow::Result<()> {
            Ok(())
        }
    }
    impl wasi::cli::terminal_output::Host for Host {}
    impl wasi::cli::terminal_output::HostTerminalOutput for Host {
        fn drop(&mut self, _: Resource<wasi::cli::terminal_output::TerminalOutput>) -> anyhow::Result<()> {
            Ok(())
        }
    }
    impl wasi::cli::terminal_stdin::Host for Host {
        fn get_terminal_stdin(&mut self) -> Option<Resource<wasi::cli::terminal_input::TerminalInput>> {
            None
        }
    }
    impl wasi::cli::terminal_stdout::Host for Host {
        fn get_terminal_stdout(&mut self) -> Option<Resource<wasi::cli::terminal_output::TerminalOutput>> {
            None
        }
    }
    impl wasi::cli::terminal_stderr::Host for Host {
        fn get_terminal_stderr(&mut self) -> Option<Resource<wasi::cli::terminal_output::TerminalOutput>> {
            None
        }
    }
    impl wasi::cli::stdin::Host for Host {
        fn get_stdin(&mut self) -> Resource<InputStream> {
            Resource::new_own(0)
        }
    }
    impl wasi::cli::stdout::Host for Host {
        fn get_stdout(&mut self) -> Resource<OutputStream> {
            Resource::new_own(1)
        }
    }
    impl wasi::cli::stderr::Host for Host {
        fn get_stderr(&mut self) -> Resource<OutputStream> {
            Resource::new_own(2)
        }
    }
}

#[test]
fn smoke() -> anyhow::Result<()> {
    let engine = Engine::default();
    let component = runtime_component(&engine, "smoke.component.wasm");
    let linker = linker_with(&engine, &component, |l| smoke::Smoke::add_to_linker::<_, HasSelf<_>>(l, |h| h));
    let mut store = Store::new(&engine, smoke::Host::default());
    let world = smoke::Smoke::instantiate(&mut store, &component, &linker)?;
    assert_eq!(store.data().thunks, 0);
    world.call_thunk(&mut store)?;
    assert_eq!(store.data().thunks, 1, "the host's thunk ran exactly once");
    assert_eq!(String::from_utf8_lossy(&store.data().stdout), "howdy\n", "what the guest printed through WASI stdout");
    assert!(store.data().stderr.is_empty());
    Ok(())
}
