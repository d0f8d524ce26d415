//! [`CodeFingerprint`]: what code compiled by a [`Compiler`](crate::Compiler) depends on, so
//! that code compiled earlier (an ahead-of-time artifact, a cache entry) is used only by a
//! compiler that would have produced code that runs the same way.
//!
//! It names the target triple, every code-changing setting of [`CompilerConfig`] and the
//! target's CPU features, each as text, so that a mismatch can be reported by name ("compiled
//! with opt_level=none, this engine has opt_level=speed"), not as two unequal hashes. It does
//! not know how it is stored: the runtime encodes it in artifacts and hashes it into cache
//! keys. It does not cover the compiler's own version either: the runtime adds its build
//! identity beside it.

use crate::{CompilerConfig, OptLevel};
use anyhow::{Result, bail};
use cranelift_codegen::isa::TargetIsa;

/// The target, settings and CPU features that code was compiled for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeFingerprint {
    /// The target triple, e.g. `x86_64-unknown-linux-gnu`.
    pub triple: String,
    /// Code-changing settings as `(name, value)`, in a fixed order.
    pub settings: Vec<(String, String)>,
    /// The CPU features the code may use (the target's enabled boolean ISA flags), sorted.
    pub cpu_features: Vec<String>,
}

impl CodeFingerprint {
    /// The fingerprint of code that `isa` compiles with `config`.
    pub(crate) fn new(isa: &dyn TargetIsa, config: &CompilerConfig) -> CodeFingerprint {
        let mut settings = config_settings(config);
        let mut cpu_features = Vec::new();
        for flag in isa.isa_flags() {
            match flag.as_bool() {
                Some(true) => cpu_features.push(flag.name.to_string()),
                Some(false) => {}
                // Not a feature that is present or absent: it must be equal.
                None => {
                    let text = flag.to_string();
                    let value = text.split_once('=').map_or(text.as_str(), |(_, v)| v).to_string();
                    settings.push((format!("isa.{}", flag.name), value));
                }
            }
        }
        cpu_features.sort();
        CodeFingerprint { triple: isa.triple().to_string(), settings, cpu_features }
    }

    /// Checks that code with fingerprint `self` runs correctly under a compiler whose
    /// fingerprint is `current`: the same triple and settings, and no CPU feature that
    /// `current` lacks. The error says which one differs, in those words.
    pub fn check_runs_under(&self, current: &CodeFingerprint) -> Result<()> {
        if self.triple != current.triple {
            bail!("it was compiled for the target {}, but this engine compiles for {}", self.triple, current.triple);
        }
        for (name, value) in &self.settings {
            match current.settings.iter().find(|(n, _)| n == name) {
                Some((_, now)) if now == value => {}
                Some((_, now)) => {
                    bail!("it was compiled with {name}={value}, but this engine has {name}={now}")
                }
                None => bail!("it was compiled with the setting {name}={value}, which this engine does not know"),
            }
        }
        if let Some((name, now)) = current.settings.iter().find(|(n, _)| !self.settings.iter().any(|(m, _)| m == n)) {
            bail!("it was compiled without the setting {name}, which this engine has as {name}={now}");
        }
        let missing: Vec<&str> =
            self.cpu_features.iter().filter(|f| !current.cpu_features.contains(f)).map(String::as_str).collect();
        if !missing.is_empty() {
            bail!(
                "it uses CPU features this engine's target lacks: {} (compile it again on this machine, or \
                 for a baseline target)",
                missing.join(", ")
            );
        }
        Ok(())
    }

    /// A canonical text form of the whole fingerprint, one line per item (for hashing into
    /// cache keys).
    pub fn canonical_text(&self) -> String {
        let mut s = format!("triple={}\n", self.triple);
        for (name, value) in &self.settings {
            s.push_str(&format!("{name}={value}\n"));
        }
        for f in &self.cpu_features {
            s.push_str(&format!("cpu={f}\n"));
        }
        s
    }
}

/// The settings of `config` that change generated code. The destructuring names every field,
/// so a new setting does not compile until it is listed here or said not to change code.
fn config_settings(config: &CompilerConfig) -> Vec<(String, String)> {
    let CompilerConfig {
        target: _, // recorded as the ISA's triple and features
        opt_level,
        nan_canonicalization,
        regalloc_checker: _, // checks the register allocator; the code is the same
        explicit_bounds_checks,
        guard_size,
        parallel: _, // the code is the same whatever the number of threads
        consume_fuel,
        epoch_interruption,
        relaxed_simd_deterministic,
    } = config;
    let opt_level = match opt_level {
        OptLevel::None => "none",
        OptLevel::Speed => "speed",
        OptLevel::SpeedAndSize => "speed_and_size",
    };
    [
        ("opt_level", opt_level.to_string()),
        ("nan_canonicalization", nan_canonicalization.to_string()),
        ("explicit_bounds_checks", explicit_bounds_checks.to_string()),
        ("guard_size", guard_size.to_string()),
        ("consume_fuel", consume_fuel.to_string()),
        ("epoch_interruption", epoch_interruption.to_string()),
        ("relaxed_simd_deterministic", relaxed_simd_deterministic.to_string()),
    ]
    .into_iter()
    .map(|(n, v)| (n.to_string(), v))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Target, build_isa};

    fn fingerprint(config: CompilerConfig) -> CodeFingerprint {
        CodeFingerprint::new(&*build_isa(&config).unwrap(), &config)
    }

    #[test]
    fn the_same_config_is_compatible() {
        let a = fingerprint(CompilerConfig::default());
        a.check_runs_under(&fingerprint(CompilerConfig::default())).unwrap();
    }

    #[test]
    fn a_changed_setting_is_named() {
        let speed = fingerprint(CompilerConfig::default());
        let none = fingerprint(CompilerConfig { opt_level: OptLevel::None, ..Default::default() });
        let err = none.check_runs_under(&speed).unwrap_err().to_string();
        assert!(err.contains("opt_level=none") && err.contains("opt_level=speed"), "{err}");
    }

    #[test]
    fn settings_that_do_not_change_code_are_ignored() {
        let a = fingerprint(CompilerConfig::default());
        let b = fingerprint(CompilerConfig { parallel: false, regalloc_checker: true, ..Default::default() });
        assert_eq!(a, b);
    }

    #[test]
    fn another_target_is_refused() {
        let host = fingerprint(CompilerConfig::default());
        let other = if cfg!(target_arch = "aarch64") { "x86_64" } else { "aarch64" };
        let cross = fingerprint(CompilerConfig { target: Target::parse(other).unwrap(), ..Default::default() });
        let err = cross.check_runs_under(&host).unwrap_err().to_string();
        assert!(err.contains("compiled for the target"), "{err}");
    }

    #[test]
    fn a_missing_cpu_feature_is_named() {
        let host = fingerprint(CompilerConfig::default());
        let mut more = host.clone();
        more.cpu_features.push("has_imaginary_feature".into());
        let err = more.check_runs_under(&host).unwrap_err().to_string();
        assert!(err.contains("has_imaginary_feature"), "{err}");
        // Fewer features than the host is fine: a baseline build runs anywhere.
        let mut fewer = host.clone();
        fewer.cpu_features.clear();
        fewer.check_runs_under(&host).unwrap();
    }
}
