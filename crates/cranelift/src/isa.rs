//! Building the Cranelift target ISA from weld's compiler settings.

use crate::{CompilerConfig, Target};
use anyhow::{Context, Result, anyhow};
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};

/// Builds the ISA that `config` asks for.
pub fn build_isa(config: &CompilerConfig) -> Result<OwnedTargetIsa> {
    let mut flags = settings::builder();
    let set = |flags: &mut settings::Builder, name: &str, value: &str| {
        flags.set(name, value).with_context(|| format!("setting Cranelift flag {name}={value}"))
    };
    set(&mut flags, "opt_level", config.opt_level.as_cranelift())?;
    set(&mut flags, "preserve_frame_pointers", "true")?;
    set(&mut flags, "enable_probestack", "true")?;
    set(&mut flags, "probestack_strategy", "inline")?;
    set(&mut flags, "unwind_info", "false")?;
    // Wasm functions may return more values than the `tail` convention has return registers
    // (the spec sets no limit); the rest go through a return area the caller provides.
    set(&mut flags, "enable_multi_ret_implicit_sret", "true")?;
    set(&mut flags, "enable_verifier", if cfg!(debug_assertions) { "true" } else { "false" })?;
    set(&mut flags, "enable_nan_canonicalization", bool_str(config.nan_canonicalization))?;
    set(&mut flags, "regalloc_checker", bool_str(config.regalloc_checker))?;
    // Fuel metering keeps its counter in the pinned register (see translate/interrupt.rs).
    set(&mut flags, "enable_pinned_reg", bool_str(config.consume_fuel))?;
    let shared = settings::Flags::new(flags);
    let builder = match &config.target {
        Target::Host => cranelift_native::builder().map_err(|e| anyhow!("this host is not supported: {e}"))?,
        Target::Triple(t) => {
            cranelift_codegen::isa::lookup(t.clone()).with_context(|| format!("unsupported target {t}"))?
        }
    };
    builder.finish(shared).context("building the Cranelift target")
}

fn bool_str(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}
