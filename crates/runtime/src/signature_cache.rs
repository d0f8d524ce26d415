//! A store's copy of what an untyped call ([`Func::call`](crate::Func::call)) needs to know
//! about a function's signature: its parameter and result types and its entry trampoline.
//!
//! The engine keeps both behind locks (its signature registry and its trampoline cache), and
//! reading the registry cloned the type, two allocations: together they were most of what a
//! `Func::call` of `(i32) -> i32` cost. A store makes one call at a time, so it keeps its own
//! map from signature id to both, filled the first time it calls a function of a signature.
//!
//! It lends the types out rather than copying them: a copy of even a few types went through
//! `memcpy` and cost a third of an untyped call. A call borrows them to check its arguments,
//! lets go while it converts them (which needs the store), and borrows them again by
//! [`SignatureCache::get`] for its results; entries are never removed, so the second look-up
//! finds what the first one filled, even if the call made other calls in between.
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

/// One signature's types and entry trampoline.
#[derive(Debug)]
pub(crate) struct CachedSignature {
    /// Parameter types, then result types.
    types: Box<[ValType]>,
    params: usize,
    /// The entry trampoline's address, once a wasm function of this signature was called.
    entry: Option<usize>,
}

impl CachedSignature {
    /// The parameter types.
    #[inline]
    pub fn params(&self) -> &[ValType] {
        &self.types[..self.params]
    }

    /// The result types.
    #[inline]
    pub fn results(&self) -> &[ValType] {
        &self.types[self.params..]
    }

    /// The entry trampoline for a wasm function, `None` for a `host` one (called without it).
    #[inline]
    pub fn entry(&self, host: bool) -> Option<*const u8> {
        if host { None } else { self.entry.map(|e| e as *const u8) }
    }
}

impl SignatureCache {
    /// Signature `id` (of `engine`), with its entry trampoline unless the function called is a
    /// `host` one.
    #[inline]
    pub fn lookup(&mut self, engine: &Engine, id: u32, host: bool) -> Result<&CachedSignature> {
        let cached = self.map.entry(id).or_insert_with(|| CachedSignature::read(engine, id));
        if cached.entry.is_none() && !host {
            cached.entry = Some(engine.entry_trampoline(id)? as usize);
        }
        Ok(cached)
    }

    /// Signature `id`, if a [`lookup`](Self::lookup) has filled it.
    #[inline]
    pub fn get(&self, id: u32) -> Option<&CachedSignature> {
        self.map.get(&id)
    }
}

impl CachedSignature {
    /// Signature `id`'s types, read from the engine's registry.
    #[cold]
    fn read(engine: &Engine, id: u32) -> CachedSignature {
        let ty = engine.signature(id);
        let types = ty.params.iter().chain(ty.results.iter()).copied().collect();
        CachedSignature { types, params: ty.params.len(), entry: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, FuncType};

    #[test]
    fn types_come_back_whole() {
        let engine = Engine::new(&Config::new()).unwrap();
        let mut cache = SignatureCache::default();
        for (params, results) in [(0, 0), (1, 1), (7, 7), (14, 0), (9, 8), (20, 3)] {
            let p: Vec<ValType> = (0..params).map(|i| if i % 2 == 0 { ValType::I32 } else { ValType::F64 }).collect();
            let r: Vec<ValType> = (0..results).map(|_| ValType::I64).collect();
            let id = engine.signature_id(&FuncType::new(p.clone(), r.clone()));
            for _ in 0..2 {
                let sig = cache.lookup(&engine, id, false).unwrap();
                assert_eq!((sig.params(), sig.results()), (&p[..], &r[..]), "{params} -> {results}");
                assert_eq!(sig.entry(false), Some(engine.entry_trampoline(id).unwrap()));
                assert_eq!(cache.lookup(&engine, id, true).unwrap().entry(true), None);
                assert_eq!(cache.get(id).unwrap().results(), &r[..]);
            }
        }
    }
}
