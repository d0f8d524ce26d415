//! The `wasi:random` interfaces on a [`WasiCtxView`], with the context's size limit.

use super::RandomCtx;
use crate::bindings::wasi::random::{insecure, insecure_seed, random};
use crate::view::WasiCtxView;

impl RandomCtx {
    pub(crate) fn bytes(&mut self, secure: bool, len: u64) -> weld::Result<Vec<u8>> {
        if len > self.max_size {
            weld::bail!(
                "wasi:random: {len} random bytes were asked for, more than the limit of {} (WasiCtxBuilder::max_random_size)",
                self.max_size
            );
        }
        let mut bytes = vec![0; len as usize];
        let source = if secure { &mut self.secure } else { &mut self.insecure };
        source.fill_bytes(&mut bytes);
        Ok(bytes)
    }
}

impl random::Host for WasiCtxView<'_> {
    fn get_random_bytes(&mut self, len: u64) -> weld::Result<Vec<u8>> {
        self.ctx.random.bytes(true, len)
    }

    fn get_random_u64(&mut self) -> weld::Result<u64> {
        Ok(self.ctx.random.secure.next_u64())
    }
}

impl insecure::Host for WasiCtxView<'_> {
    fn get_insecure_random_bytes(&mut self, len: u64) -> weld::Result<Vec<u8>> {
        self.ctx.random.bytes(false, len)
    }

    fn get_insecure_random_u64(&mut self) -> weld::Result<u64> {
        Ok(self.ctx.random.insecure.next_u64())
    }
}

impl insecure_seed::Host for WasiCtxView<'_> {
    fn insecure_seed(&mut self) -> weld::Result<(u64, u64)> {
        let seed = self.ctx.random.insecure_seed;
        Ok((seed as u64, (seed >> 64) as u64))
    }
}
