//! The exception handler tables of compiled code in an artifact's metadata: for each call
//! with handlers, its return offset, frame size and handlers in order.
//!
//! Like the rest of the metadata they are covered by the artifact's checksum; reading them
//! still checks what the unwinder relies on (targets inside the code, sites in order), so a
//! damaged or forged table is an error here rather than a jump to a wrong address later.

use super::encoding::{Reader, Writer};
use anyhow::{Result, bail};
use weld_cranelift::{ExceptionHandler, ExceptionSite};

/// Writes `sites`.
pub(super) fn write_exception_sites(w: &mut Writer, sites: &[ExceptionSite]) {
    w.len(sites.len());
    for site in sites {
        w.u32(site.ret_offset);
        w.u32(site.frame_size);
        w.len(site.handlers.len());
        for h in &site.handlers {
            let (kind, a, b) = match *h {
                ExceptionHandler::Context { sp_offset } => (0, sp_offset, 0),
                ExceptionHandler::Tag { tag_slot, target } => (1, tag_slot, target),
                ExceptionHandler::CatchAll { target } => (2, target, 0),
            };
            w.u8(kind);
            w.u32(a);
            w.u32(b);
        }
    }
}

/// Reads the sites of code of `code_len` bytes.
pub(super) fn read_exception_sites(r: &mut Reader<'_>, code_len: usize) -> Result<Vec<ExceptionSite>> {
    let n = r.len()?;
    let mut sites: Vec<ExceptionSite> = Vec::with_capacity(n.min(1 << 16));
    let inside = |offset: u32| (offset as usize) < code_len;
    for _ in 0..n {
        let (ret_offset, frame_size) = (r.u32()?, r.u32()?);
        if !inside(ret_offset) || sites.last().is_some_and(|last| last.ret_offset >= ret_offset) {
            bail!("its exception handler table is out of order or points outside the code");
        }
        let count = r.len()?;
        let mut handlers = Vec::with_capacity(count.min(64));
        for _ in 0..count {
            let (kind, a, b) = (r.u8()?, r.u32()?, r.u32()?);
            handlers.push(match kind {
                0 => ExceptionHandler::Context { sp_offset: a },
                1 if inside(b) => ExceptionHandler::Tag { tag_slot: a, target: b },
                2 if inside(a) => ExceptionHandler::CatchAll { target: a },
                _ => bail!("its exception handler table holds an unknown or misplaced handler"),
            });
        }
        sites.push(ExceptionSite { ret_offset, frame_size, handlers });
    }
    Ok(sites)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sites() -> Vec<ExceptionSite> {
        vec![
            ExceptionSite {
                ret_offset: 8,
                frame_size: 32,
                handlers: vec![
                    ExceptionHandler::Context { sp_offset: 16 },
                    ExceptionHandler::Tag { tag_slot: 72, target: 40 },
                    ExceptionHandler::CatchAll { target: 50 },
                ],
            },
            ExceptionSite { ret_offset: 20, frame_size: 16, handlers: vec![ExceptionHandler::CatchAll { target: 60 }] },
        ]
    }

    fn encoded(sites: &[ExceptionSite]) -> Vec<u8> {
        let mut w = Writer::default();
        write_exception_sites(&mut w, sites);
        w.bytes
    }

    #[test]
    fn sites_round_trip() {
        let bytes = encoded(&sites());
        assert_eq!(read_exception_sites(&mut Reader::new(&bytes, "metadata"), 100).unwrap(), sites());
    }

    #[test]
    fn handlers_outside_the_code_are_refused() {
        let bytes = encoded(&sites());
        let err = read_exception_sites(&mut Reader::new(&bytes, "metadata"), 55).unwrap_err();
        assert!(err.to_string().contains("exception handler table"), "{err}");
        let mut unordered = sites();
        unordered.swap(0, 1);
        let bytes = encoded(&unordered);
        assert!(read_exception_sites(&mut Reader::new(&bytes, "metadata"), 100).is_err());
    }
}
