//! Code generation for a named target produces that target's machine code.

use weld_cranelift::{Compiler, CompilerConfig, Target};

fn compile_for(target: &str) -> weld_cranelift::CompiledCode {
    let wasm = wat_module();
    let translation = weld_environ::translate_module(&wasm, weld_environ::supported_features()).unwrap();
    let config = CompilerConfig { target: Target::parse(target).unwrap(), ..Default::default() };
    Compiler::new(config).unwrap().compile_module(&translation.module, translation.bodies).unwrap()
}

fn wat_module() -> Vec<u8> {
    wat::parse_str(
        r#"(module
            (func (param i32) (result i32) local.get 0 i32.const 1 i32.add)
            (func (result i32) i32.const 7 call 0))"#,
    )
    .unwrap()
}

fn last_bytes(code: &weld_cranelift::CompiledCode, f: usize, n: usize) -> &[u8] {
    let loc = code.functions[f];
    let end = (loc.start + loc.len) as usize;
    &code.bytes[end - n..end]
}

#[test]
fn aarch64_code_links_calls() {
    let code = compile_for("aarch64");
    assert_eq!(code.functions.len(), 2);
    // Function 0 is a leaf ending in `ret` (0xd65f03c0, little-endian); function 1 has its
    // out-of-line stack-overflow trap after its `ret`.
    assert_eq!(last_bytes(&code, 0, 4), [0xc0, 0x03, 0x5f, 0xd6]);
    let f1 = code.functions[1];
    let words = &code.bytes[f1.start as usize..(f1.start + f1.len) as usize];
    assert!(words.chunks(4).any(|w| w == [0xc0, 0x03, 0x5f, 0xd6]), "function 1 has a ret");
    // The direct call was linked as a `bl` (opcode 0b100101) to function 0.
    let f1 = code.functions[1];
    let body = &code.bytes[f1.start as usize..(f1.start + f1.len) as usize];
    let bl = body.chunks(4).enumerate().find(|(_, w)| w[3] >> 2 == 0b100101).expect("a bl instruction");
    let insn = u32::from_le_bytes(bl.1.try_into().unwrap());
    let imm26 = ((insn & 0x03ff_ffff) << 6) as i32 >> 6;
    let pc = f1.start as i64 + 4 * bl.0 as i64;
    assert_eq!(pc + 4 * i64::from(imm26), i64::from(code.functions[0].start));
}

#[test]
fn x86_64_code_links_calls() {
    let code = compile_for("x86_64");
    assert_eq!(last_bytes(&code, 0, 1), [0xc3]);
    // Function 1 calls function 0 with `call rel32` (0xe8), linked to its start.
    let f1 = code.functions[1];
    let body = &code.bytes[f1.start as usize..(f1.start + f1.len) as usize];
    let at = body.windows(5).enumerate().position(|(i, w)| {
        let rel = i32::from_le_bytes(w[1..5].try_into().unwrap());
        w[0] == 0xe8 && i64::from(f1.start) + i as i64 + 5 + i64::from(rel) == i64::from(code.functions[0].start)
    });
    assert!(at.is_some(), "a call to function 0");
}

#[test]
fn unknown_targets_are_errors() {
    let err = Target::parse("mips-unknown-nowhere-whatever").unwrap_err();
    assert!(err.to_string().contains("unknown target"), "{err}");
}

/// Fuel and epoch checks, and the preserve-all stubs their slow paths call, compile for every
/// target (the stubs' convention saves every register the libcall may clobber).
#[test]
fn interrupt_checks_and_stubs_compile_for_every_target() {
    let wasm = wat::parse_str(
        r#"(module
            (memory 1)
            (func $f (param i32) (result i32)
              (loop $l (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
              (memory.fill (i32.const 0) (i32.const 0) (local.get 0))
              (call $f (local.get 0))))"#,
    )
    .unwrap();
    for target in ["x86_64", "aarch64"] {
        let config = CompilerConfig {
            target: Target::parse(target).unwrap(),
            consume_fuel: true,
            epoch_interruption: true,
            ..Default::default()
        };
        let compiler = Compiler::new(config).unwrap();
        let translation = weld_environ::translate_module(&wasm, weld_environ::supported_features()).unwrap();
        let code = compiler.compile_module(&translation.module, translation.bodies).unwrap();
        assert_eq!(code.functions.len(), 1, "{target}");
        for libcall in [weld_environ::Libcall::OutOfFuel, weld_environ::Libcall::NewEpoch] {
            let stub = compiler.interrupt_stub(libcall).unwrap();
            // The stub traps (the pending trap) when the libcall reports one.
            assert_eq!(stub.traps.len(), 1, "{target} {libcall:?}");
            assert_eq!(stub.traps[0].trap, weld_environ::Trap::HostError);
        }
    }
}
