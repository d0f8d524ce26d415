//! Trap errors: the [`Trap`] code and the [`WasmBacktrace`] attached to it as context, and
//! the errors of the traps the runtime raises itself ([`trap_with`]).

use crate::vm::code_memory::lookup_code;
use crate::vm::traphandlers::TrapRecord;
use std::fmt;
pub use weld_environ::Trap;

/// One wasm frame of a backtrace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameInfo {
    /// The module's name, if it has one.
    pub module_name: Option<String>,
    /// The function's name (from the name section) or `func[N]`.
    pub func_name: String,
}

/// The wasm frames active when a trap happened, innermost first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WasmBacktrace {
    /// The frames.
    pub frames: Vec<FrameInfo>,
}

impl WasmBacktrace {
    fn from_pcs(pcs: &[usize]) -> WasmBacktrace {
        let mut frames = Vec::new();
        for (i, pc) in pcs.iter().enumerate() {
            // Return addresses point after the call; look up the call itself.
            let pc = if i == 0 { *pc } else { pc - 1 };
            let Some((info, offset)) = lookup_code(pc) else { continue };
            let f = info.functions.partition_point(|f| f.start <= offset);
            if let Some(name) = f.checked_sub(1).and_then(|f| info.function_name(f)) {
                frames.push(FrameInfo { module_name: info.module_name.clone(), func_name: name });
            }
        }
        WasmBacktrace { frames }
    }
}

impl fmt::Display for WasmBacktrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error while executing at wasm backtrace:")?;
        // Deep recursion makes thousands of frames: show the innermost and outermost ones.
        const HEAD: usize = 20;
        const TAIL: usize = 5;
        let n = self.frames.len();
        for (i, frame) in self.frames.iter().enumerate() {
            if n > HEAD + TAIL && i == HEAD {
                writeln!(f, "    ... {} frames omitted ...", n - HEAD - TAIL)?;
            }
            if n > HEAD + TAIL && (HEAD..n - TAIL).contains(&i) {
                continue;
            }
            let module = frame.module_name.as_deref().unwrap_or("<unknown>");
            write!(f, "    {i}: {module}!{}", frame.func_name)?;
            if i + 1 < n {
                writeln!(f)?;
            }
        }
        Ok(())
    }
}

/// The error of a trap the runtime raises itself, where the spec says "trap" (a check of the
/// canonical ABI, of a handle table, ...): `trap` is in the error's chain (so
/// `downcast_ref::<Trap>()` finds it), under `detail`, which says which check failed, on
/// which side of the call and at which value.
#[inline]
pub(crate) fn trap_with(trap: Trap, detail: String) -> anyhow::Error {
    anyhow::Error::new(trap).context(detail)
}

/// Turns a trap recorded by the signal handler into the error a call returns.
pub(crate) fn trap_error(record: TrapRecord, pending: Option<anyhow::Error>, with_backtrace: bool) -> anyhow::Error {
    let error = match (record.trap, pending) {
        (Trap::HostError, Some(e)) => e,
        (trap, _) => anyhow::Error::new(trap),
    };
    if with_backtrace {
        let bt = WasmBacktrace::from_pcs(&record.pcs);
        if !bt.frames.is_empty() {
            return error.context(bt);
        }
    }
    error
}
