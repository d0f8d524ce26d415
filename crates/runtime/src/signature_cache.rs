//! A store's copy of what an untyped call ([`Func::call`](crate::Func::call)) needs to know
//! about a function's signature: its parameter and result types and its entry trampoline.
//!
//! The engine keeps both behind locks (its signature registry and its trampoline cache), and
//! reading the registry cloned the type, two allocations: together they were most of what a
//! `Func::call` of `(i32) -> i32` cost. A store makes one call at a time, so it keeps its own
//! map from signature id to both, filled the first time it calls a function of a signature,
//! and hands out the types as a copy small enough for the stack ([`CallTypes`]).
//!
//! Typed calls (`TypedFunc`) do not use it: they check their signature once, when made, and
//! keep the trampoline themselves.

use crate::{Engine, ValType};
use anyhow::Result;
use rustc_hash::FxHashMap;

/// The signatures a store has called, by engine signature id.
#[derive(Debug, Default)]
pub(crate) struct SignatureCache {
    map: FxHashMap<u32, CachedSignature>,
}

#[derive(Debug)]
struct CachedSignature {
    /// Parameter types, then result types.
    types: Box<[ValType]>,
    params: usize,
    /// The entry trampoline's address (`None` for host functions, called without one).
    entry: Option<usize>,
}

impl CachedSignature {
    /// The types, copied out, and the entry trampoline unless the function is a `host` one.
    #[inline]
    fn copy_out(&self, host: bool) -> (CallTypes, Option<*const u8>) {
        let types = &self.types;
        let storage = if types.len() <= INLINE_TYPES {
            let mut inline = [ValType::I32; INLINE_TYPES];
            inline[..types.len()].copy_from_slice(types);
            TypeStorage::Inline { types: inline, len: types.len() as u8 }
        } else {
            TypeStorage::Heap(types.clone())
        };
        let entry = if host { None } else { self.entry.map(|e| e as *const u8) };
        (CallTypes { storage, params: self.params }, entry)
    }
}

/// How many types a [`CallTypes`] holds without allocating.
const INLINE_TYPES: usize = 14;

/// The parameter and result types of one signature, copied out of a [`SignatureCache`].
pub(crate) struct CallTypes {
    storage: TypeStorage,
    params: usize,
}

enum TypeStorage {
    Inline { types: [ValType; INLINE_TYPES], len: u8 },
    Heap(Box<[ValType]>),
}

impl CallTypes {
    fn all(&self) -> &[ValType] {
        match &self.storage {
            TypeStorage::Inline { types, len } => &types[..usize::from(*len)],
            TypeStorage::Heap(types) => types,
        }
    }

    /// The parameter types.
    #[inline]
    pub fn params(&self) -> &[ValType] {
        &self.all()[..self.params]
    }

    /// The result types.
    #[inline]
    pub fn results(&self) -> &[ValType] {
        &self.all()[self.params..]
    }
}

impl SignatureCache {
    /// The types of signature `id` (of `engine`) and, unless `host`, its entry trampoline.
    #[inline]
    pub fn lookup(&mut self, engine: &Engine, id: u32, host: bool) -> Result<(CallTypes, Option<*const u8>)> {
        // One hash lookup when the signature is there already.
        if let Some(cached) = self.map.get(&id)
            && (cached.entry.is_some() || host)
        {
            return Ok(cached.copy_out(host));
        }
        self.fill(engine, id, host)?;
        Ok(self.map[&id].copy_out(host))
    }

    /// Reads signature `id` from the engine (and its entry trampoline, unless `host`).
    #[cold]
    fn fill(&mut self, engine: &Engine, id: u32, host: bool) -> Result<()> {
        let entry = if host { None } else { Some(engine.entry_trampoline(id)? as usize) };
        let cached = self.map.entry(id).or_insert_with(|| {
            let ty = engine.signature(id);
            let types = ty.params.iter().chain(ty.results.iter()).copied().collect();
            CachedSignature { types, params: ty.params.len(), entry: None }
        });
        cached.entry = cached.entry.or(entry);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, FuncType};

    #[test]
    fn types_come_back_whole_inline_or_not() {
        let engine = Engine::new(&Config::new()).unwrap();
        let mut cache = SignatureCache::default();
        for (params, results) in [(0, 0), (1, 1), (7, 7), (14, 0), (9, 8), (20, 3)] {
            let p: Vec<ValType> = (0..params).map(|i| if i % 2 == 0 { ValType::I32 } else { ValType::F64 }).collect();
            let r: Vec<ValType> = (0..results).map(|_| ValType::I64).collect();
            let id = engine.signature_id(&FuncType::new(p.clone(), r.clone()));
            for _ in 0..2 {
                let (types, entry) = cache.lookup(&engine, id, false).unwrap();
                assert_eq!((types.params(), types.results()), (&p[..], &r[..]), "{params} -> {results}");
                assert_eq!(entry, Some(engine.entry_trampoline(id).unwrap()));
                let (_, entry) = cache.lookup(&engine, id, true).unwrap();
                assert_eq!(entry, None);
            }
        }
    }
}
