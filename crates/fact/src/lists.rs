//! Strings and lists: values that live in linear memory behind a (pointer, length) pair.
//!
//! A list is checked on the source side (length limit, alignment, bounds), allocated on the
//! destination side with its `realloc` (result checked for alignment and bounds), and copied
//! with one `memory.copy` when the element's bytes are the same on both sides, or element by
//! element in a loop otherwise.
//!
//! A string goes through one runtime function (`AdapterLibcall::String`) that validates,
//! transcodes and allocates exactly as the spec's `load_string`/`store_string` do: that code
//! exists once, in Rust, for every pair of encodings.

use crate::func::{FuncBuilder, Local, memarg};
use crate::values::{Dst, MemLoc, Pass, Src};
use anyhow::{Context, Result};
use wasm_encoder::{BlockType, Instruction as I, ValType};
use weld_environ::Trap;
use weld_environ::component::MAX_LIST_BYTE_LENGTH;
use weld_environ::component::adapt::{AdapterImport, AdapterLibcall, StringSide};
use weld_environ::component::types::InterfaceType;

/// Whether a value of `ty` is the same bytes on both sides of any call: integers and floats,
/// and aggregates of them (which have no pointers, so their layout does not depend on the
/// memory width).
fn is_plain(ty: &InterfaceType) -> bool {
    match ty {
        InterfaceType::U8
        | InterfaceType::S8
        | InterfaceType::U16
        | InterfaceType::S16
        | InterfaceType::U32
        | InterfaceType::S32
        | InterfaceType::U64
        | InterfaceType::S64
        | InterfaceType::F32
        | InterfaceType::F64 => true,
        InterfaceType::Record(r) => r.fields().iter().all(|f| is_plain(&f.ty)),
        InterfaceType::Tuple(t) => t.types().iter().all(is_plain),
        InterfaceType::FixedList(l) => is_plain(l.element()),
        _ => false,
    }
}

impl Pass<'_> {
    /// Reads a (pointer, length) pair of the source side.
    fn read_pair(&self, f: &mut FuncBuilder<'_>, src: &Src) -> Result<(Local, Local)> {
        match src {
            Src::Flat(l) => Ok((l[0], l[1])),
            Src::Mem(loc) => {
                let m = self.from.mem()?;
                let (t, wide) = (self.from.ptr(), self.from.wide());
                let size = if wide { 8 } else { 4 };
                let load = if wide { I::I64Load } else { I::I32Load };
                let (p, n) = (f.local(t), f.local(t));
                f.get(loc.addr);
                f.ins(load(memarg(m, loc.offset)));
                f.set(p);
                f.get(loc.addr);
                f.ins(load(memarg(m, loc.offset + size)));
                f.set(n);
                Ok((p, n))
            }
        }
    }

    /// Writes a (pointer, length) pair of the destination side.
    fn write_pair(&self, f: &mut FuncBuilder<'_>, dst: &Dst, p: Local, n: Local) -> Result<()> {
        match dst {
            Dst::Flat(l) => {
                f.get(p);
                f.set(l[0]);
                f.get(n);
                f.set(l[1]);
            }
            Dst::Mem(loc) => {
                let m = self.to.mem()?;
                let wide = self.to.wide();
                let size = if wide { 8 } else { 4 };
                let store = if wide { I::I64Store } else { I::I32Store };
                f.get(loc.addr);
                f.get(p);
                f.ins(store(memarg(m, loc.offset)));
                f.get(loc.addr);
                f.get(n);
                f.ins(store(memarg(m, loc.offset + size)));
            }
        }
        Ok(())
    }

    /// Translates a string through the runtime's string copy.
    pub(crate) fn string(&self, f: &mut FuncBuilder<'_>, src: &Src, dst: &Dst) -> Result<()> {
        let (p, n) = self.read_pair(f, src)?;
        let side = |s: &crate::values::Side<'_>, realloc| -> Result<StringSide> {
            Ok(StringSide {
                side: s.side,
                memory: s.opts.memory.context("a string crosses a call, but the canonical options have no memory")?,
                memory64: s.wide(),
                encoding: s.opts.string_encoding,
                realloc,
                instance: s.opts.instance,
            })
        };
        let call = AdapterLibcall::String { from: side(self.from, None)?, to: side(self.to, self.to.opts.realloc)? };
        let (ft, tt) = (self.from.ptr(), self.to.ptr());
        let func = f.module.import_func(AdapterImport::Libcall(call), &[ft, ft], &[tt, tt]);
        f.get(p);
        f.get(n);
        f.ins(I::Call(func));
        let (q, m) = (f.local(tt), f.local(tt));
        f.set(m);
        f.set(q);
        self.write_pair(f, dst, q, m)
    }

    /// Translates a `list<elem>`.
    pub(crate) fn list(&self, f: &mut FuncBuilder<'_>, elem: &InterfaceType, src: &Src, dst: &Dst) -> Result<()> {
        let (p, n) = self.read_pair(f, src)?;
        let (fw, tw) = (self.from.wide(), self.to.wide());
        let (from_mem, to_mem) = (self.from.mem()?, self.to.mem()?);
        let abi = elem.abi();
        let (src_size, src_align) = (abi.size(self.from.width), abi.align(self.from.width));
        let (dst_size, dst_align) = (abi.size(self.to.width), abi.align(self.to.width));

        let n64 = f.local(ValType::I64);
        f.get(n);
        f.ptr_to_i64(fw);
        f.set(n64);
        if src_size > 0 {
            f.get(n64);
            f.ins(I::I64Const((MAX_LIST_BYTE_LENGTH / u64::from(src_size)) as i64));
            f.ins(I::I64GtU);
            f.trap_if(Trap::ListOutOfBounds);
        }
        f.check_align(p, src_align, Trap::UnalignedPointer);
        let src_bytes = f.local(ValType::I64);
        f.get(n64);
        f.ins(I::I64Const(i64::from(src_size)));
        f.ins(I::I64Mul);
        f.set(src_bytes);
        f.check_range(from_mem, p, src_bytes, Trap::ListOutOfBounds);

        let dst_bytes = f.local(self.to.ptr());
        f.get(n64);
        f.ins(I::I64Const(i64::from(dst_size)));
        f.ins(I::I64Mul);
        f.i64_to_ptr(tw);
        f.set(dst_bytes);
        let realloc = self.to.opts.realloc.context("a list crosses a call, but the callee side has no `realloc`")?;
        let q = f.allocate(realloc, self.to.opts.instance, dst_align, dst_bytes);
        f.check_align(q, dst_align, Trap::UnalignedPointer);
        let dst_bytes64 = f.local(ValType::I64);
        f.get(dst_bytes);
        f.ptr_to_i64(tw);
        f.set(dst_bytes64);
        f.check_range(to_mem, q, dst_bytes64, Trap::ListOutOfBounds);

        if is_plain(elem) && src_size == dst_size {
            f.get(q);
            f.get(p);
            f.get(src_bytes);
            if !(fw && tw) {
                f.ins(I::I32WrapI64);
            }
            f.ins(I::MemoryCopy { src_mem: from_mem, dst_mem: to_mem });
        } else {
            self.list_loop(f, elem, (p, src_size), (q, dst_size), n64)?;
        }

        let n_out = f.local(self.to.ptr());
        f.get(n);
        f.convert_ptr(fw, tw);
        f.set(n_out);
        self.write_pair(f, dst, q, n_out)
    }

    /// Translates `count` elements one by one.
    fn list_loop(
        &self,
        f: &mut FuncBuilder<'_>,
        elem: &InterfaceType,
        (src_start, src_size): (Local, u32),
        (dst_start, dst_size): (Local, u32),
        count: Local,
    ) -> Result<()> {
        let (fw, tw) = (self.from.wide(), self.to.wide());
        let (cs, cd, rem) = (f.local(self.from.ptr()), f.local(self.to.ptr()), f.local(ValType::I64));
        f.get(src_start);
        f.set(cs);
        f.get(dst_start);
        f.set(cd);
        f.get(count);
        f.set(rem);
        f.ins(I::Block(BlockType::Empty));
        f.get(rem);
        f.ins(I::I64Eqz);
        f.ins(I::BrIf(0));
        f.ins(I::Loop(BlockType::Empty));
        self.translate(f, elem, &Src::Mem(MemLoc { addr: cs, offset: 0 }), &Dst::Mem(MemLoc { addr: cd, offset: 0 }))?;
        for (cursor, wide, size) in [(cs, fw, src_size), (cd, tw, dst_size)] {
            f.get(cursor);
            f.ptr_const(wide, u64::from(size));
            f.ins(if wide { I::I64Add } else { I::I32Add });
            f.set(cursor);
        }
        f.get(rem);
        f.ins(I::I64Const(1));
        f.ins(I::I64Sub);
        f.set(rem);
        f.get(rem);
        f.ins(I::I64Const(0));
        f.ins(I::I64Ne);
        f.ins(I::BrIf(0));
        f.ins(I::End);
        f.ins(I::End);
        Ok(())
    }
}
