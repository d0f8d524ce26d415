//! `v128` loads and stores: whole vectors, narrow loads that widen their lanes, loads that
//! splat one value or fill one lane, loads into a zeroed vector, and stores of one lane.
//!
//! Addresses and bounds checks are `memory`'s ([`FuncTranslator::heap_address`]), so a vector
//! access is checked exactly like a scalar one of its width; only the value handling is here.
//! Vectors leave these operators as `i8x16`, as everywhere in the translator (see `simd`).

use super::FuncTranslator;
use super::memory::memarg_memory;
use super::simd::{V128, pop_as, push};
use cranelift_codegen::ir::types::{F32X4, F64X2, I8, I8X16, I16, I16X8, I32, I32X4, I64, I64X2};
use cranelift_codegen::ir::{InstBuilder, Type, Value};
use wasmparser::{MemArg, Operator};

/// How a load of 8 bytes widens into 128 bits.
#[derive(Clone, Copy)]
enum Widening {
    Signed8x8,
    Unsigned8x8,
    Signed16x4,
    Unsigned16x4,
    Signed32x2,
    Unsigned32x2,
}

impl FuncTranslator<'_, '_> {
    /// Translates a `v128` load or store; returns false if `op` is not one.
    pub(super) fn translate_simd_memory(&mut self, op: &Operator<'_>) -> bool {
        use Operator::*;
        match *op {
            V128Load { memarg } => {
                let addr = self.pop_address(memarg, 16);
                let v = self.builder.ins().load(V128, Self::heap_flags(), addr, 0);
                self.stack.push(v);
            }
            V128Store { memarg } => self.store(memarg, None),
            V128Load8x8S { memarg } => self.load_widening(memarg, Widening::Signed8x8),
            V128Load8x8U { memarg } => self.load_widening(memarg, Widening::Unsigned8x8),
            V128Load16x4S { memarg } => self.load_widening(memarg, Widening::Signed16x4),
            V128Load16x4U { memarg } => self.load_widening(memarg, Widening::Unsigned16x4),
            V128Load32x2S { memarg } => self.load_widening(memarg, Widening::Signed32x2),
            V128Load32x2U { memarg } => self.load_widening(memarg, Widening::Unsigned32x2),
            V128Load8Splat { memarg } => self.load_splat(memarg, I8, I8X16),
            V128Load16Splat { memarg } => self.load_splat(memarg, I16, I16X8),
            V128Load32Splat { memarg } => self.load_splat(memarg, I32, I32X4),
            V128Load64Splat { memarg } => self.load_splat(memarg, I64, I64X2),
            V128Load32Zero { memarg } => self.load_zero(memarg, F32X4),
            V128Load64Zero { memarg } => self.load_zero(memarg, F64X2),
            V128Load8Lane { memarg, lane } => self.load_lane(memarg, lane, I8, I8X16),
            V128Load16Lane { memarg, lane } => self.load_lane(memarg, lane, I16, I16X8),
            V128Load32Lane { memarg, lane } => self.load_lane(memarg, lane, I32, I32X4),
            V128Load64Lane { memarg, lane } => self.load_lane(memarg, lane, I64, I64X2),
            V128Store8Lane { memarg, lane } => self.store_lane(memarg, lane, I8X16),
            V128Store16Lane { memarg, lane } => self.store_lane(memarg, lane, I16X8),
            V128Store32Lane { memarg, lane } => self.store_lane(memarg, lane, I32X4),
            V128Store64Lane { memarg, lane } => self.store_lane(memarg, lane, I64X2),
            _ => return false,
        }
        true
    }

    /// Pops an index and returns the checked native address of `size` bytes at it.
    fn pop_address(&mut self, memarg: MemArg, size: u32) -> Value {
        let index = self.pop();
        self.heap_address(memarg_memory(&memarg), index, memarg.offset, size)
    }

    /// `v128.loadNxM_{s,u}`: 8 bytes, each lane widened to twice its width.
    fn load_widening(&mut self, memarg: MemArg, widening: Widening) {
        let addr = self.pop_address(memarg, 8);
        let flags = Self::heap_flags();
        let ins = self.builder.ins();
        let v = match widening {
            Widening::Signed8x8 => ins.sload8x8(flags, addr, 0),
            Widening::Unsigned8x8 => ins.uload8x8(flags, addr, 0),
            Widening::Signed16x4 => ins.sload16x4(flags, addr, 0),
            Widening::Unsigned16x4 => ins.uload16x4(flags, addr, 0),
            Widening::Signed32x2 => ins.sload32x2(flags, addr, 0),
            Widening::Unsigned32x2 => ins.uload32x2(flags, addr, 0),
        };
        push(&mut self.builder, &mut self.stack, v);
    }

    /// `v128.loadN_splat`: one value copied into every lane of a `vector`.
    fn load_splat(&mut self, memarg: MemArg, lane: Type, vector: Type) {
        let addr = self.pop_address(memarg, lane.bytes());
        let x = self.builder.ins().load(lane, Self::heap_flags(), addr, 0);
        let v = self.builder.ins().splat(vector, x);
        push(&mut self.builder, &mut self.stack, v);
    }

    /// `v128.loadN_zero`: one value in lane 0 of a `vector`, zeros elsewhere. The value is
    /// loaded as a float (the lanes' bits are the same) so that it lands in a vector register.
    fn load_zero(&mut self, memarg: MemArg, vector: Type) {
        let scalar = vector.lane_type();
        let addr = self.pop_address(memarg, scalar.bytes());
        let x = self.builder.ins().load(scalar, Self::heap_flags(), addr, 0);
        let v = self.builder.ins().scalar_to_vector(vector, x);
        push(&mut self.builder, &mut self.stack, v);
    }

    /// `v128.loadN_lane`: one value written into lane `lane` of the vector operand.
    fn load_lane(&mut self, memarg: MemArg, lane: u8, scalar: Type, vector: Type) {
        let v = pop_as(&mut self.builder, &mut self.stack, vector);
        let addr = self.pop_address(memarg, scalar.bytes());
        let x = self.builder.ins().load(scalar, Self::heap_flags(), addr, 0);
        let r = self.builder.ins().insertlane(v, x, lane);
        push(&mut self.builder, &mut self.stack, r);
    }

    /// `v128.storeN_lane`: lane `lane` of the vector operand stored alone.
    fn store_lane(&mut self, memarg: MemArg, lane: u8, vector: Type) {
        let v = pop_as(&mut self.builder, &mut self.stack, vector);
        let x = self.builder.ins().extractlane(v, lane);
        let size = vector.lane_type().bytes();
        let addr = self.pop_address(memarg, size);
        self.builder.ins().store(Self::heap_flags(), x, addr, 0);
    }
}
