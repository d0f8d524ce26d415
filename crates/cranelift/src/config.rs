//! The settings that change the generated code: the target machine ([`Target`]), the
//! optimization level ([`OptLevel`]) and the rest of [`CompilerConfig`].
//!
//! Only the settings themselves (and how a target name or an optimization level is spelled):
//! turning them into a Cranelift ISA is `isa`'s job, and compiling with them the compile
//! driver's. They live apart so that every part of the compiler (the ISA builder, the driver,
//! function translation, trampolines) can read them without importing one another.

use anyhow::{Result, anyhow};
use std::str::FromStr;

/// The machine to generate code for.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Target {
    /// The machine weld runs on, with the CPU features it detects.
    #[default]
    Host,
    /// Another target triple, e.g. `aarch64-unknown-linux-gnu` (code can be produced, not run).
    Triple(target_lexicon::Triple),
}

impl Target {
    /// Parses `x86_64`, `aarch64` or a full triple.
    pub fn parse(s: &str) -> Result<Target> {
        let full = match s {
            "x86_64" => "x86_64-unknown-linux-gnu",
            "aarch64" | "arm64" => "aarch64-unknown-linux-gnu",
            other => other,
        };
        let triple = target_lexicon::Triple::from_str(full).map_err(|e| anyhow!("unknown target `{s}`: {e}"))?;
        Ok(Target::Triple(triple))
    }
}

/// How hard Cranelift optimizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OptLevel {
    /// No optimization: fastest compilation.
    None,
    /// Optimize for speed (the default).
    #[default]
    Speed,
    /// Optimize for speed and size.
    SpeedAndSize,
}

impl OptLevel {
    pub(crate) fn as_cranelift(self) -> &'static str {
        match self {
            OptLevel::None => "none",
            OptLevel::Speed => "speed",
            OptLevel::SpeedAndSize => "speed_and_size",
        }
    }
}

/// Settings that change the generated code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompilerConfig {
    /// The machine to compile for.
    pub target: Target,
    /// Cranelift's optimization level.
    pub opt_level: OptLevel,
    /// Canonicalize NaNs produced by float arithmetic.
    pub nan_canonicalization: bool,
    /// Run regalloc2's checker on every function (slow; for debugging the compiler).
    pub regalloc_checker: bool,
    /// Check every memory access explicitly instead of relying on guard pages.
    pub explicit_bounds_checks: bool,
    /// Bytes of guard region after a 32-bit memory's 4 GiB reservation; accesses whose static
    /// offset fits in it need no explicit check.
    pub guard_size: u64,
    /// Compile functions on several threads.
    pub parallel: bool,
    /// Count the fuel each function consumes (most operators cost 1) in the store's counter,
    /// checked at function entry and at loop headers (Wasmtime's `consume_fuel`).
    pub consume_fuel: bool,
    /// Compare the engine's epoch with the store's deadline at function entry and at loop
    /// headers (Wasmtime's `epoch_interruption`).
    pub epoch_interruption: bool,
    /// Compile relaxed-SIMD operators to one fixed behaviour on every host (Wasmtime's
    /// `relaxed_simd_deterministic`) instead of the target's fastest.
    pub relaxed_simd_deterministic: bool,
}

impl Default for CompilerConfig {
    fn default() -> Self {
        CompilerConfig {
            target: Target::Host,
            opt_level: OptLevel::Speed,
            nan_canonicalization: false,
            regalloc_checker: false,
            explicit_bounds_checks: false,
            guard_size: 2 << 30,
            parallel: true,
            consume_fuel: false,
            epoch_interruption: false,
            relaxed_simd_deterministic: false,
        }
    }
}
