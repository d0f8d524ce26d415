//! Translating one value from one component's representation to the other's, for every
//! interface type: the value is read from flat core values (locals) or from linear memory on
//! one side and written to locals or memory on the other, following CanonicalABI.md's
//! `lift_flat`/`load` on the source side and `lower_flat`/`store` on the destination side,
//! fused so that no intermediate value exists.
//!
//! This file holds scalars, handles, records, tuples, fixed-length lists and variants (with
//! enums, options and results); strings and lists are in `lists.rs`.

use crate::func::{FuncBuilder, Local, memarg};
use anyhow::{Result, bail};
use wasm_encoder::{BlockType, Instruction as I, ValType};
use weld_environ::Trap;
use weld_environ::component::abi::{FlatType, MemoryWidth, flatten};
use weld_environ::component::adapt::{AdapterImport, AdapterLibcall, CallSide};
use weld_environ::component::info::{Options, RuntimeResourceIndex};
use weld_environ::component::types::InterfaceType;

/// One side of the call, as the adapter sees it.
pub(crate) struct Side<'a> {
    /// Whether it is the caller or the callee.
    pub(crate) side: CallSide,
    /// Its canonical options.
    pub(crate) opts: &'a Options,
    /// Its memory width.
    pub(crate) width: MemoryWidth,
    /// Its memory, as an index in the adapter module, if it has one.
    pub(crate) memory: Option<u32>,
}

impl Side<'_> {
    pub(crate) fn wide(&self) -> bool {
        self.width == MemoryWidth::Mem64
    }

    pub(crate) fn ptr(&self) -> ValType {
        if self.wide() { ValType::I64 } else { ValType::I32 }
    }

    pub(crate) fn mem(&self) -> Result<u32> {
        match self.memory {
            Some(m) => Ok(m),
            None => bail!("the canonical options have no memory, but the type needs one"),
        }
    }
}

/// A place in linear memory: the address in a local plus a static offset.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MemLoc {
    pub(crate) addr: Local,
    pub(crate) offset: u32,
}

impl MemLoc {
    fn at(self, extra: u32) -> MemLoc {
        MemLoc { addr: self.addr, offset: self.offset + extra }
    }
}

/// Where a value is read from.
#[derive(Clone, Debug)]
pub(crate) enum Src {
    /// Flat core values, one local each, in the source side's flattening.
    Flat(Vec<Local>),
    /// Linear memory of the source side.
    Mem(MemLoc),
}

/// Where a value is written to.
#[derive(Clone, Debug)]
pub(crate) enum Dst {
    /// Flat core values, one local each, in the destination side's flattening.
    Flat(Vec<Local>),
    /// Linear memory of the destination side.
    Mem(MemLoc),
}

pub(crate) fn val_type(t: FlatType) -> ValType {
    match t {
        FlatType::I32 => ValType::I32,
        FlatType::I64 => ValType::I64,
        FlatType::F32 => ValType::F32,
        FlatType::F64 => ValType::F64,
    }
}

/// The flat core types of `ty` in memories of `width` (types in a flat position always have
/// a flattening).
pub(crate) fn flat_types(ty: &InterfaceType, width: MemoryWidth) -> Vec<ValType> {
    flatten(ty, width).unwrap_or_default().into_iter().map(val_type).collect()
}

fn flat_count(ty: &InterfaceType) -> usize {
    usize::from(ty.abi().flat_count.unwrap_or(0))
}

/// Fresh locals for the flattening of `ty` on `side`.
pub(crate) fn flat_locals(f: &mut FuncBuilder<'_>, ty: &InterfaceType, width: MemoryWidth) -> Vec<Local> {
    flat_types(ty, width).into_iter().map(|t| f.local(t)).collect()
}

/// How a scalar is loaded and stored.
struct Access {
    load: fn(wasm_encoder::MemArg) -> I<'static>,
    store: fn(wasm_encoder::MemArg) -> I<'static>,
}

const U8: Access = Access { load: I::I32Load8U, store: I::I32Store8 };
const S8: Access = Access { load: I::I32Load8S, store: I::I32Store8 };
const U16: Access = Access { load: I::I32Load16U, store: I::I32Store16 };
const S16: Access = Access { load: I::I32Load16S, store: I::I32Store16 };
const I32: Access = Access { load: I::I32Load, store: I::I32Store };
const I64: Access = Access { load: I::I64Load, store: I::I64Store };
const F32: Access = Access { load: I::F32Load, store: I::F32Store };
const F64: Access = Access { load: I::F64Load, store: I::F64Store };

/// An unsigned integer access of `size` bytes (1, 2 or 4) into an `i32`.
fn uint_access(size: u32) -> Access {
    match size {
        1 => U8,
        2 => U16,
        _ => I32,
    }
}

/// Translation in one direction: from `from` (the side that lifts) to `to` (the side that
/// lowers).
pub(crate) struct Pass<'a> {
    pub(crate) from: &'a Side<'a>,
    pub(crate) to: &'a Side<'a>,
}

impl Pass<'_> {
    /// Reads the scalar at `src` onto the stack.
    fn read(&self, f: &mut FuncBuilder<'_>, src: &Src, access: &Access) -> Result<()> {
        match src {
            Src::Flat(locals) => f.get(locals[0]),
            Src::Mem(loc) => {
                let m = self.from.mem()?;
                f.get(loc.addr);
                f.ins((access.load)(memarg(m, loc.offset)));
            }
        }
        Ok(())
    }

    /// Writes the scalar that `produce` pushes to `dst`.
    fn write(
        &self,
        f: &mut FuncBuilder<'_>,
        dst: &Dst,
        access: &Access,
        produce: impl FnOnce(&mut FuncBuilder<'_>) -> Result<()>,
    ) -> Result<()> {
        match dst {
            Dst::Flat(locals) => {
                produce(f)?;
                f.set(locals[0]);
            }
            Dst::Mem(loc) => {
                let m = self.to.mem()?;
                f.get(loc.addr);
                produce(f)?;
                f.ins((access.store)(memarg(m, loc.offset)));
            }
        }
        Ok(())
    }

    /// Copies a scalar: reads with `load`, applies `convert`, writes with `store`.
    fn scalar(
        &self,
        f: &mut FuncBuilder<'_>,
        src: &Src,
        dst: &Dst,
        load: &Access,
        store: &Access,
        convert: impl FnOnce(&mut FuncBuilder<'_>) -> Result<()>,
    ) -> Result<()> {
        self.write(f, dst, store, |f| {
            self.read(f, src, load)?;
            convert(f)
        })
    }

    /// Copies an 8- or 16-bit integer, applying `narrow` to a flat source.
    fn small_int(
        &self,
        f: &mut FuncBuilder<'_>,
        src: &Src,
        dst: &Dst,
        access: &Access,
        narrow: &[I<'static>],
    ) -> Result<()> {
        self.scalar(f, src, dst, access, access, |f| {
            if matches!(src, Src::Flat(_)) {
                for i in narrow {
                    f.ins(i.clone());
                }
            }
            Ok(())
        })
    }

    /// Translates a value of type `ty` from `src` to `dst`.
    pub(crate) fn translate(&self, f: &mut FuncBuilder<'_>, ty: &InterfaceType, src: &Src, dst: &Dst) -> Result<()> {
        let none = |_: &mut FuncBuilder<'_>| Ok(());
        match ty {
            InterfaceType::Bool => self.scalar(f, src, dst, &U8, &U8, |f| {
                f.ins(I::I32Const(0));
                f.ins(I::I32Ne);
                Ok(())
            }),
            // A load from memory already masks or sign-extends; a flat value needs it done.
            InterfaceType::U8 => self.small_int(f, src, dst, &U8, &[I::I32Const(0xff), I::I32And]),
            InterfaceType::S8 => self.small_int(f, src, dst, &S8, &[I::I32Extend8S]),
            InterfaceType::U16 => self.small_int(f, src, dst, &U16, &[I::I32Const(0xffff), I::I32And]),
            InterfaceType::S16 => self.small_int(f, src, dst, &S16, &[I::I32Extend16S]),
            InterfaceType::U32 | InterfaceType::S32 => self.scalar(f, src, dst, &I32, &I32, none),
            InterfaceType::U64 | InterfaceType::S64 => self.scalar(f, src, dst, &I64, &I64, none),
            InterfaceType::F32 => self.scalar(f, src, dst, &F32, &F32, none),
            InterfaceType::F64 => self.scalar(f, src, dst, &F64, &F64, none),
            InterfaceType::Char => self.scalar(f, src, dst, &I32, &I32, |f| {
                validate_char(f);
                Ok(())
            }),
            InterfaceType::Enum(e) => {
                let size = e.discriminant_size();
                let cases = e.names().len() as u32;
                self.scalar(f, src, dst, &uint_access(size), &uint_access(size), |f| {
                    let d = f.local(ValType::I32);
                    f.set(d);
                    f.get(d);
                    f.ins(I::I32Const(cases as i32));
                    f.ins(I::I32GeU);
                    f.trap_if(Trap::InvalidDiscriminant);
                    f.get(d);
                    Ok(())
                })
            }
            InterfaceType::Flags(flags) => {
                let n = flags.names().len() as u32;
                let access = uint_access(ty.abi().size(MemoryWidth::Mem32).max(1));
                self.scalar(f, src, dst, &access, &access, |f| {
                    if n < 32 {
                        f.ins(I::I32Const(((1u64 << n) - 1) as i32));
                        f.ins(I::I32And);
                    }
                    Ok(())
                })
            }
            InterfaceType::Own(r) | InterfaceType::Borrow(r) => {
                let resource = RuntimeResourceIndex::from_u32(r.0);
                let (from, to) = (self.from.opts.instance, self.to.opts.instance);
                let call = if matches!(ty, InterfaceType::Own(_)) {
                    AdapterLibcall::TransferOwn { resource, from, to }
                } else {
                    AdapterLibcall::TransferBorrow { resource, from, to }
                };
                let func = f.module.import_func(AdapterImport::Libcall(call), &[ValType::I32], &[ValType::I32]);
                self.scalar(f, src, dst, &I32, &I32, |f| {
                    f.ins(I::Call(func));
                    Ok(())
                })
            }
            InterfaceType::String => self.string(f, src, dst),
            InterfaceType::List(list) => self.list(f, list.element(), src, dst),
            InterfaceType::Map(m) => self.translate(f, m.entries(), src, dst),
            InterfaceType::Record(r) => {
                let types: Vec<&InterfaceType> = r.fields().iter().map(|field| &field.ty).collect();
                self.fields(f, &types, r.field_offsets(self.from.width), r.field_offsets(self.to.width), src, dst)
            }
            InterfaceType::Tuple(t) => {
                let types: Vec<&InterfaceType> = t.types().iter().collect();
                self.fields(f, &types, t.field_offsets(self.from.width), t.field_offsets(self.to.width), src, dst)
            }
            InterfaceType::FixedList(l) => {
                let types: Vec<&InterfaceType> = (0..l.len()).map(|_| l.element()).collect();
                let offsets = |w| (0..l.len()).map(|i| l.element_offset(i, w)).collect::<Vec<_>>();
                self.fields(f, &types, &offsets(self.from.width), &offsets(self.to.width), src, dst)
            }
            InterfaceType::Variant(v) => {
                let cases: Vec<Option<&InterfaceType>> = v.cases().iter().map(|c| c.ty.as_ref()).collect();
                self.variant_with(f, &cases, *v.layout(), ty, src, dst)
            }
            InterfaceType::Option(o) => {
                let layout = *o.layout();
                self.variant_with(f, &[None, Some(o.some())], layout, ty, src, dst)
            }
            InterfaceType::Result(r) => {
                let layout = *r.layout();
                self.variant_with(f, &[r.ok(), r.err()], layout, ty, src, dst)
            }
            // Their handles live in tables of the async machinery, which moves them between
            // instances; the inliner never gives FACT a call whose type contains one.
            InterfaceType::Future(_) | InterfaceType::Stream(_) | InterfaceType::ErrorContext => {
                bail!("bug: FACT was asked to adapt a value of type `{ty}`, which only the async machinery can pass")
            }
        }
    }

    /// Translates the fields of a record, tuple or fixed-length list in order.
    fn fields(
        &self,
        f: &mut FuncBuilder<'_>,
        types: &[&InterfaceType],
        src_offsets: &[u32],
        dst_offsets: &[u32],
        src: &Src,
        dst: &Dst,
    ) -> Result<()> {
        let (mut src_at, mut dst_at) = (0usize, 0usize);
        for (i, ty) in types.iter().enumerate() {
            let n = flat_count(ty);
            let s = match src {
                Src::Flat(l) => Src::Flat(l[src_at..src_at + n].to_vec()),
                Src::Mem(loc) => Src::Mem(loc.at(src_offsets[i])),
            };
            let d = match dst {
                Dst::Flat(l) => Dst::Flat(l[dst_at..dst_at + n].to_vec()),
                Dst::Mem(loc) => Dst::Mem(loc.at(dst_offsets[i])),
            };
            src_at += n;
            dst_at += n;
            self.translate(f, ty, &s, &d)?;
        }
        Ok(())
    }

    /// Translates a variant-like value: checks the discriminant, copies it, and translates the
    /// payload of the case it names, converting between the joined flat types of the cases.
    fn variant_with(
        &self,
        f: &mut FuncBuilder<'_>,
        cases: &[Option<&InterfaceType>],
        layout: weld_environ::component::abi::VariantLayout,
        ty: &InterfaceType,
        src: &Src,
        dst: &Dst,
    ) -> Result<()> {
        let n = cases.len() as u32;
        let access = uint_access(layout.discriminant_size);
        let disc = f.local(ValType::I32);
        self.read(f, src, &access)?;
        f.set(disc);
        f.get(disc);
        f.ins(I::I32Const(n as i32));
        f.ins(I::I32GeU);
        f.trap_if(Trap::InvalidDiscriminant);
        self.write(f, dst, &access, |f| {
            f.get(disc);
            Ok(())
        })?;
        // The joined payload locals (flat) or the payload's place (memory).
        let src_joined: Vec<Local> = match src {
            Src::Flat(l) => l[1..].to_vec(),
            Src::Mem(_) => Vec::new(),
        };
        let dst_joined: Vec<Local> = match dst {
            Dst::Flat(l) => l[1..].to_vec(),
            Dst::Mem(_) => Vec::new(),
        };
        if cases.iter().all(Option::is_none) {
            return Ok(());
        }
        debug_assert!(matches!(src, Src::Mem(_)) || flat_count(ty) == src_joined.len() + 1);

        // block $end; block $c{n-1} .. block $c0; br_table; end; case 0; br $end; ...
        f.ins(I::Block(BlockType::Empty));
        for _ in 0..n {
            f.ins(I::Block(BlockType::Empty));
        }
        f.get(disc);
        f.ins(I::BrTable((0..n).collect::<Vec<u32>>().into(), n - 1));
        for (i, case) in cases.iter().enumerate() {
            f.ins(I::End);
            self.case_payload(f, *case, layout, src, dst, &src_joined, &dst_joined)?;
            // Open blocks: cases i+1 .. n-1 and $end.
            f.ins(I::Br(n - 1 - i as u32));
        }
        f.ins(I::End);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn case_payload(
        &self,
        f: &mut FuncBuilder<'_>,
        case: Option<&InterfaceType>,
        layout: weld_environ::component::abi::VariantLayout,
        src: &Src,
        dst: &Dst,
        src_joined: &[Local],
        dst_joined: &[Local],
    ) -> Result<()> {
        let Some(payload) = case else {
            for l in dst_joined {
                f.zero(l.ty);
                f.set(*l);
            }
            return Ok(());
        };
        let s = match src {
            Src::Flat(_) => {
                let locals = flat_locals(f, payload, self.from.width);
                for (l, j) in locals.iter().zip(src_joined) {
                    f.get(*j);
                    narrow(f, j.ty, l.ty);
                    f.set(*l);
                }
                Src::Flat(locals)
            }
            Src::Mem(loc) => Src::Mem(loc.at(layout.payload_offset(self.from.width))),
        };
        match dst {
            Dst::Flat(_) => {
                let locals = flat_locals(f, payload, self.to.width);
                self.translate(f, payload, &s, &Dst::Flat(locals.clone()))?;
                for (i, j) in dst_joined.iter().enumerate() {
                    match locals.get(i) {
                        Some(l) => {
                            f.get(*l);
                            widen(f, l.ty, j.ty);
                        }
                        None => f.zero(j.ty),
                    }
                    f.set(*j);
                }
            }
            Dst::Mem(loc) => {
                let d = Dst::Mem(loc.at(layout.payload_offset(self.to.width)));
                self.translate(f, payload, &s, &d)?;
            }
        }
        Ok(())
    }
}

/// Traps unless the `i32` on the stack is a Unicode scalar value; leaves it there.
fn validate_char(f: &mut FuncBuilder<'_>) {
    let c = f.local(ValType::I32);
    f.set(c);
    // c >= 0x110000 || (c - 0xd800) < 0x800
    f.get(c);
    f.ins(I::I32Const(0x110000));
    f.ins(I::I32GeU);
    f.get(c);
    f.ins(I::I32Const(0xd800));
    f.ins(I::I32Sub);
    f.ins(I::I32Const(0x800));
    f.ins(I::I32LtU);
    f.ins(I::I32Or);
    f.trap_if(Trap::InvalidChar);
    f.get(c);
}

/// Converts a joined flat value (of type `joined`) to a case's flat type `case`: the spec's
/// `lift_flat_variant` `wrap`.
fn narrow(f: &mut FuncBuilder<'_>, joined: ValType, case: ValType) {
    match (joined, case) {
        (a, b) if a == b => {}
        (ValType::I64, ValType::I32) => f.ins(I::I32WrapI64),
        (ValType::I32, ValType::F32) => f.ins(I::F32ReinterpretI32),
        (ValType::I64, ValType::F32) => {
            f.ins(I::I32WrapI64);
            f.ins(I::F32ReinterpretI32);
        }
        (ValType::I64, ValType::F64) => f.ins(I::F64ReinterpretI64),
        (a, b) => unreachable!("no join of {b:?} into {a:?}"),
    }
}

/// Converts a case's flat value of type `case` to the joined type `joined`: the spec's
/// `lower_flat_variant`.
fn widen(f: &mut FuncBuilder<'_>, case: ValType, joined: ValType) {
    match (case, joined) {
        (a, b) if a == b => {}
        (ValType::I32, ValType::I64) => f.ins(I::I64ExtendI32U),
        (ValType::F32, ValType::I32) => f.ins(I::I32ReinterpretF32),
        (ValType::F32, ValType::I64) => {
            f.ins(I::I32ReinterpretF32);
            f.ins(I::I64ExtendI32U);
        }
        (ValType::F64, ValType::I64) => f.ins(I::I64ReinterpretF64),
        (a, b) => unreachable!("no join of {a:?} into {b:?}"),
    }
}
