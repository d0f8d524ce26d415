//! Each canonical ABI operation run on weld and on the reference and compared: layout and
//! flattening, `lower_flat`, `store`, and `lift_flat` and `load` of what was lowered, as is and
//! with garbage at one site at a time. A disagreement is an error that shows the case, the
//! operation and both outcomes.

use super::case::CanonicalCase;
use super::json::{encoding_name, hex_bytes, type_json, val_json};
use super::memory::ReallocPlan;
use super::memory::{TestMemory, junk};
use super::sites::{At, Site, Walker, What, garbage};
use super::traps::weld_kind;
use super::worker::{Answer, Reference};
use crate::seeded_bytes;
use anyhow::{Context, Result, anyhow, bail};
use arbitrary::Unstructured;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use weld::component::{Options, lift_flat, load, lower_flat, store};
use weld_environ::component::abi::{AbiContext, core_signature};
use weld_environ::component::{FlatType, MemoryWidth, flatten};

/// What a run compared, for tests to check that the cases reach what they should.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Cases checked.
    pub cases: usize,
    /// Lowerings (flat and to memory) compared.
    pub lowerings: usize,
    /// Lifts compared, garbage included.
    pub lifts: usize,
    /// How often each trap kind was seen on both sides, and agreed on.
    pub traps: BTreeMap<String, usize>,
}

/// How many garbage lifts each lowered value gets, flat and from memory.
const GARBAGE_PER_VALUE: usize = 3;

/// Checks one case; an error describes the first disagreement.
pub fn canonical_reference(reference: &mut Reference, case: &CanonicalCase, stats: &mut Stats) -> Result<()> {
    let run = Run { reference, case, width: MemoryWidth::from_memory64(case.mem64) };
    run.check(stats).with_context(|| {
        format!(
            "{} = {:?}, {}, memory{} of {} bytes, at {:#x}, realloc {:?}",
            case.ty,
            case.value,
            encoding_name(case.encoding),
            if case.mem64 { "64" } else { "32" },
            case.memory_size,
            case.ptr,
            case.realloc
        )
    })
}

struct Run<'a> {
    reference: &'a mut Reference,
    case: &'a CanonicalCase,
    width: MemoryWidth,
}

fn names(types: &[FlatType]) -> Value {
    json!(types.iter().map(|t| t.name()).collect::<Vec<_>>())
}

fn u64s(v: &Value) -> Result<Vec<u64>> {
    let items = v.as_array().ok_or_else(|| anyhow!("not an array: {v}"))?;
    items.iter().map(|x| x.as_u64().ok_or_else(|| anyhow!("not a u64: {x}"))).collect()
}

impl Run<'_> {
    fn opts(&self) -> Options {
        Options { string_encoding: self.case.encoding, lift_bytes: false }
    }

    fn opts_json(&self, realloc: Option<&ReallocPlan>) -> Value {
        let mut o = json!({ "encoding": encoding_name(self.case.encoding), "mem64": self.case.mem64 });
        if let Some(plan) = realloc {
            o["realloc"] = plan.json();
        }
        o
    }

    fn memory(&self) -> TestMemory {
        TestMemory::new(self.case.memory_size, self.case.mem64, self.case.realloc)
    }

    fn check(mut self, stats: &mut Stats) -> Result<()> {
        stats.cases += 1;
        self.check_abi().context("layout and flattening")?;
        let mut u_bytes = seeded_bytes(self.case.garbage_seed, 2048);
        let ty = &self.case.ty;
        if ty.abi().flat_count.is_some()
            && let Some((mem, flat)) = self.check_lower_flat(stats).context("lower_flat")?
        {
            let mut u = Unstructured::new(&u_bytes);
            self.check_lifts(stats, &mem, Some(&flat), &mut u).context("lift_flat")?;
        }
        u_bytes.reverse();
        if let Some(mem) = self.check_store(stats).context("store")? {
            let mut u = Unstructured::new(&u_bytes);
            self.check_lifts(stats, &mem, None, &mut u).context("load")?;
        }
        Ok(())
    }

    /// Layouts, flat types and core signatures.
    fn check_abi(&mut self) -> Result<()> {
        let c = self.case;
        let mut types = vec![&c.ty];
        types.extend(&c.params);
        types.extend(&c.result);
        let request = json!({
            "op": "abi",
            "types": types.iter().map(|t| type_json(t)).collect::<Vec<_>>(),
            "params": c.params.iter().map(type_json).collect::<Vec<_>>(),
            "results": c.result.iter().map(type_json).collect::<Vec<_>>(),
            "mem64": c.mem64,
        });
        let Answer::Done(answer) = self.reference.ask(&request)? else { bail!("the reference trapped") };
        let w = self.width;
        for (ty, layout) in types.iter().zip(answer["layouts"].as_array().into_iter().flatten()) {
            let (size, align) = (layout[0].as_u64(), layout[1].as_u64());
            if size != Some(u64::from(ty.abi().size(w))) || align != Some(u64::from(ty.abi().align(w))) {
                bail!(
                    "{ty}: weld's size and alignment {} and {}, the reference's {layout}",
                    ty.abi().size(w),
                    ty.abi().align(w)
                );
            }
            let reference_flat = layout[2].as_array().map_or(0, Vec::len);
            match flatten(ty, w) {
                Some(flat) if names(&flat) != layout[2] => {
                    bail!("{ty}: weld flattens to {flat:?}, the reference to {}", layout[2])
                }
                None if reference_flat <= weld_environ::component::MAX_FLAT_PARAMS => {
                    bail!("{ty}: weld flattens to too many values, the reference to {}", layout[2])
                }
                _ => {}
            }
        }
        for (context, key) in [(AbiContext::Lift, "lift"), (AbiContext::Lower, "lower")] {
            let sig = core_signature(c.params.iter(), c.result.as_ref(), w, context);
            let ours = json!([names(&sig.params), names(&sig.results)]);
            if ours != answer[key] {
                bail!("{key} signature of {:?} -> {:?}: weld {ours}, reference {}", c.params, c.result, answer[key]);
            }
        }
        Ok(())
    }

    /// Compares two lowerings that completed: flat values, realloc calls, and the bytes the
    /// value's sites cover in the reference's memory.
    fn compare_lowered(&self, mem: &TestMemory, flat: Option<&[u64]>, answer: &Value) -> Result<()> {
        let reallocs = answer["reallocs"].as_array().into_iter().flatten().map(u64s).collect::<Result<Vec<_>>>()?;
        let ours: Vec<Vec<u64>> = mem.reallocs.iter().map(|c| c.to_vec()).collect();
        if ours != reallocs {
            bail!("realloc calls (old, old size, align, new size, returned): weld {ours:?}, reference {reallocs:?}");
        }
        let mut theirs: Vec<u8> = (0..mem.bytes.len()).map(junk).collect();
        let written = hex_bytes(answer["memory"].as_str().unwrap_or_default())?;
        theirs[..written.len()].copy_from_slice(&written);
        let mut walker = Walker { bytes: &theirs, width: self.width, encoding: self.case.encoding, sites: Vec::new() };
        match flat {
            Some(ours_flat) => {
                let reference_flat = u64s(&answer["flat"])?;
                if ours_flat != reference_flat {
                    bail!("flat values: weld {ours_flat:x?}, reference {reference_flat:x?}");
                }
                walker.flat(&self.case.ty, &reference_flat, &mut 0);
            }
            None => walker.mem(&self.case.ty, self.case.ptr),
        }
        for site in &walker.sites {
            if let At::Mem(at) = site.at {
                let range = at as usize..(at + site.len) as usize;
                if mem.bytes[range.clone()] != theirs[range.clone()] {
                    bail!(
                        "memory at {at:#x} ({:?}): weld wrote {:02x?}, the reference {:02x?}",
                        site.what,
                        &mem.bytes[range.clone()],
                        &theirs[range]
                    );
                }
            }
        }
        Ok(())
    }

    /// `lower_flat` on both sides; weld's memory and flat values if both completed.
    fn check_lower_flat(&mut self, stats: &mut Stats) -> Result<Option<(TestMemory, Vec<u64>)>> {
        let c = self.case;
        let mut mem = self.memory();
        let mut flat = Vec::new();
        let ours = lower_flat(&mut mem, &self.opts(), &c.value, &c.ty, &mut flat);
        let Some(answer) = self.reference_lowering(stats, json!({ "op": "lower_flat" }), ours)? else {
            return Ok(None);
        };
        self.compare_lowered(&mem, Some(&flat), &answer)?;
        Ok(Some((mem, flat)))
    }

    /// `store` on both sides; weld's memory if both completed.
    fn check_store(&mut self, stats: &mut Stats) -> Result<Option<TestMemory>> {
        let c = self.case;
        let mut mem = self.memory();
        let ours = store(&mut mem, &self.opts(), &c.value, &c.ty, c.ptr);
        let Some(answer) = self.reference_lowering(stats, json!({ "op": "store", "ptr": c.ptr }), ours)? else {
            return Ok(None);
        };
        self.compare_lowered(&mem, None, &answer)?;
        Ok(Some(mem))
    }

    /// Has the reference lower the case's value as `request` says (its `op`, and `ptr` for a
    /// store), after weld's lowering ended with `ours`: the reference's answer if both
    /// completed, `None` if both trapped for the same reason, an error if they differ.
    fn reference_lowering(&mut self, stats: &mut Stats, mut request: Value, ours: Result<()>) -> Result<Option<Value>> {
        let c = self.case;
        request["ty"] = type_json(&c.ty);
        request["value"] = val_json(&c.value, &c.ty)?;
        request["opts"] = self.opts_json(Some(&c.realloc));
        request["memory"] = json!({ "size": c.memory_size });
        let theirs = self.reference.ask(&request)?;
        stats.lowerings += 1;
        if agreed_trap(stats, &ours, &theirs)? {
            return Ok(None);
        }
        let Answer::Done(answer) = theirs else { unreachable!("agreed_trap saw the trap") };
        Ok(Some(answer))
    }

    /// Lifts what was lowered (flat values `flat`, or the value at the case's pointer), which
    /// must give the original value, then the same with garbage at one site at a time.
    fn check_lifts(
        &mut self,
        stats: &mut Stats,
        mem: &TestMemory,
        flat: Option<&[u64]>,
        u: &mut Unstructured,
    ) -> Result<()> {
        let original = val_json(&self.case.value, &self.case.ty)?;
        let ptr = self.case.ptr;
        // A misbehaving realloc may have made allocations overlap: the value lifted back
        // need not be the one lowered then (weld and the reference must still agree).
        let faulty = self.case.realloc.fault.is_some();
        match self.lift(stats, mem, flat, ptr).context("the value as lowered")? {
            Some(v) if v == original || faulty => {}
            None if faulty => {}
            Some(v) => bail!("lowered {original} and lifted back {v}"),
            None => bail!("lowered {original}, and lifting it back trapped"),
        }
        let mut walker =
            Walker { bytes: &mem.bytes, width: self.width, encoding: self.case.encoding, sites: Vec::new() };
        match flat {
            Some(flat) => walker.flat(&self.case.ty, flat, &mut 0),
            None => walker.mem(&self.case.ty, ptr),
        }
        let sites = walker.sites;
        let mem_len = mem.bytes.len() as u64;
        for _ in 0..GARBAGE_PER_VALUE {
            let mut mem = mem.clone();
            let mut flat = flat.map(<[u64]>::to_vec);
            let mut ptr = ptr;
            // Now and then the top pointer of a load, otherwise a site.
            let described = if flat.is_none() && (sites.is_empty() || u.ratio(1u8, 8).unwrap_or(false)) {
                let size = u64::from(self.case.ty.abi().size(self.width));
                let options = [ptr + 1, mem_len + 1 - size.min(mem_len), mem_len, u64::from(u32::MAX)];
                ptr = options[u.choose_index(options.len()).unwrap_or(0)];
                format!("the pointer {ptr:#x}")
            } else if sites.is_empty() {
                break;
            } else {
                let site = sites[u.choose_index(sites.len()).unwrap_or(0)];
                inject(u, &site, &mut mem, flat.as_mut(), self.width)?
            };
            self.lift(stats, &mem, flat.as_deref(), ptr).with_context(|| format!("with garbage: {described}"))?;
        }
        Ok(())
    }

    /// One lift on both sides; the value (as JSON) if both returned one.
    fn lift(&mut self, stats: &mut Stats, mem: &TestMemory, flat: Option<&[u64]>, ptr: u64) -> Result<Option<Value>> {
        let c = self.case;
        let mut ours_mem = mem.clone();
        let opts = self.opts();
        let ours = match flat {
            Some(flat) => lift_flat(&mut ours_mem, &opts, &c.ty, &mut flat.iter().copied()),
            None => load(&mut ours_mem, &opts, &c.ty, ptr),
        };
        let ours = ours.and_then(|v| val_json(&v, &c.ty));
        let mut request = json!({
            "ty": type_json(&c.ty),
            "opts": self.opts_json(None),
            "memory": mem.json(mem.dirty_end()),
            "handles": mem.handles_json(),
        });
        match flat {
            Some(flat) => {
                request["op"] = json!("lift_flat");
                request["flat"] = json!(flat);
            }
            None => {
                request["op"] = json!("load");
                request["ptr"] = json!(ptr);
            }
        }
        let theirs = self.reference.ask(&request)?;
        stats.lifts += 1;
        if agreed_trap(stats, &ours, &theirs)? {
            return Ok(None);
        }
        let (Ok(ours), Answer::Done(answer)) = (ours, theirs) else { unreachable!("agreed_trap saw the trap") };
        if ours != answer["value"] {
            bail!("lifted: weld {ours}, reference {}", answer["value"]);
        }
        Ok(Some(ours))
    }
}

/// Whether both sides trapped with the same kind (counted in `stats`); an error if only one
/// did, or their kinds differ; `false` if both completed.
fn agreed_trap<T>(stats: &mut Stats, ours: &Result<T>, theirs: &Answer) -> Result<bool> {
    match (ours, theirs) {
        (Ok(_), Answer::Done(_)) => Ok(false),
        (Err(e), Answer::Trap { kind, detail }) => {
            let our_kind = weld_kind(e);
            if our_kind != *kind {
                bail!("both trapped, weld with {our_kind} ({e:#}), the reference with {kind} ({detail})");
            }
            *stats.traps.entry(our_kind).or_default() += 1;
            Ok(true)
        }
        (Err(e), Answer::Done(answer)) => bail!("weld trapped ({e:#}), the reference did not: {answer}"),
        (Ok(_), Answer::Trap { kind, detail }) => bail!("the reference trapped with {kind} ({detail}), weld did not"),
    }
}

/// Writes garbage at `site` (in `flat` for a flat site, else in memory); describes what it did.
fn inject(
    u: &mut Unstructured,
    site: &Site,
    mem: &mut TestMemory,
    flat: Option<&mut Vec<u64>>,
    width: MemoryWidth,
) -> Result<String> {
    let mem_len = mem.bytes.len() as u64;
    match site.at {
        At::Flat(i, core) => {
            let flat = flat.ok_or_else(|| anyhow!("a flat site without flat values"))?;
            let value = garbage(u, site, flat[i], mem_len, width)?;
            flat[i] = match core {
                FlatType::I32 | FlatType::F32 => value & u64::from(u32::MAX),
                FlatType::I64 | FlatType::F64 => value,
            };
            Ok(format!("flat value {i} ({:?}) set to {:#x}", site.what, flat[i]))
        }
        At::Mem(at) => {
            let (at, len) = match site.what {
                What::StringBytes { utf16 } => {
                    let unit = if utf16 { 2 } else { 1 };
                    let k = u.choose_index((site.len / unit).max(1) as usize)? as u64;
                    (at + k * unit, unit)
                }
                _ => (at, site.len),
            };
            let mut current = [0u8; 8];
            current[..len as usize].copy_from_slice(&mem.bytes[at as usize..(at + len) as usize]);
            let value = garbage(u, site, u64::from_le_bytes(current), mem_len, width)?;
            mem.bytes[at as usize..(at + len) as usize].copy_from_slice(&value.to_le_bytes()[..len as usize]);
            Ok(format!("{len} bytes at {at:#x} ({:?}) set to {value:#x}", site.what))
        }
    }
}
