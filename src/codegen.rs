//! The code generation flags every compiling command shares (`--opt-level`,
//! `--explicit-bounds-checks`, `--nan-canonicalization`, `--relaxed-simd-deterministic`), and the engine they configure. A leaf
//! module, so that each command's module can use it without importing `main.rs`.

use clap::{Args, ValueEnum};
use weld::Config;

/// Code generation options shared by the commands that compile.
#[derive(Args)]
pub struct CodegenOptions {
    /// Cranelift optimization level.
    #[arg(long, value_enum, default_value = "speed")]
    pub opt_level: OptLevelArg,
    /// Check every memory access explicitly instead of relying on guard pages.
    #[arg(long)]
    pub explicit_bounds_checks: bool,
    /// Canonicalize NaNs produced by float arithmetic.
    #[arg(long)]
    pub nan_canonicalization: bool,
    /// Compile relaxed-SIMD operators to the same behaviour on every host.
    #[arg(long)]
    pub relaxed_simd_deterministic: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum OptLevelArg {
    None,
    Speed,
    #[value(name = "speed_and_size", alias = "speed-and-size")]
    SpeedAndSize,
}

impl OptLevelArg {
    pub fn to_cranelift(self) -> weld_cranelift::OptLevel {
        match self {
            OptLevelArg::None => weld_cranelift::OptLevel::None,
            OptLevelArg::Speed => weld_cranelift::OptLevel::Speed,
            OptLevelArg::SpeedAndSize => weld_cranelift::OptLevel::SpeedAndSize,
        }
    }
}

impl CodegenOptions {
    /// The configuration these settings make, for a command that adds its own.
    pub fn config(&self) -> Config {
        let mut config = Config::new();
        config
            .cranelift_opt_level(self.opt_level.to_cranelift())
            .explicit_bounds_checks(self.explicit_bounds_checks)
            .cranelift_nan_canonicalization(self.nan_canonicalization)
            .relaxed_simd_deterministic(self.relaxed_simd_deterministic);
        config
    }
}
