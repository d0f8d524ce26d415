//! [`EngineStamp`]: what an artifact or a cache entry records of the engine that compiled it
//! (weld's build, the target and code-changing settings, the WebAssembly features), and the
//! check that an engine may load it, with an error that names what differs.

use super::encoding::{Reader, Writer};
use anyhow::{Result, bail};
use weld_cranelift::CodeFingerprint;

/// This build of weld: its version and a hash of the sources that decide compiled code.
pub(crate) const BUILD: &str = concat!("weld ", env!("CARGO_PKG_VERSION"), " (build ", env!("WELD_BUILD_ID"), ")");

/// What compiled code depends on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EngineStamp {
    /// The build of weld ([`BUILD`] when it was this one).
    pub(crate) build: String,
    /// The target, settings and CPU features.
    pub(crate) code: CodeFingerprint,
    /// The WebAssembly features enabled (wasmparser's bits): they decide what validated.
    pub(crate) features: u64,
}

impl EngineStamp {
    /// The stamp of this build with `code` and `features`.
    pub(crate) fn current(code: &CodeFingerprint, features: u64) -> EngineStamp {
        EngineStamp { build: BUILD.to_string(), code: code.clone(), features }
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.str(&self.build);
        w.str(&self.code.triple);
        w.len(self.code.settings.len());
        for (name, value) in &self.code.settings {
            w.str(name);
            w.str(value);
        }
        w.len(self.code.cpu_features.len());
        for f in &self.code.cpu_features {
            w.str(f);
        }
        w.u64(self.features);
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<EngineStamp> {
        let build = r.str()?.to_string();
        let triple = r.str()?.to_string();
        let n = r.len()?;
        let mut settings = Vec::new();
        for _ in 0..n {
            settings.push((r.str()?.to_string(), r.str()?.to_string()));
        }
        let n = r.len()?;
        let mut cpu_features = Vec::new();
        for _ in 0..n {
            cpu_features.push(r.str()?.to_string());
        }
        let features = r.u64()?;
        Ok(EngineStamp { build, code: CodeFingerprint { triple, settings, cpu_features }, features })
    }

    /// Checks that code stamped `self` may be loaded by an engine stamped `current`.
    pub(crate) fn check_loadable_by(&self, current: &EngineStamp) -> Result<()> {
        if self.build != current.build {
            bail!("it was compiled by {}, and this is {}: compile it again with this weld", self.build, current.build);
        }
        self.code.check_runs_under(&current.code)?;
        if self.features != current.features {
            bail!(
                "it was compiled with other WebAssembly features enabled (bits {:#x}, this engine has {:#x})",
                self.features,
                current.features
            );
        }
        Ok(())
    }

    /// One text holding the whole stamp (for cache keys).
    pub(crate) fn canonical_text(&self) -> String {
        format!("{}\n{}features={:#x}\n", self.build, self.code.canonical_text(), self.features)
    }
}
