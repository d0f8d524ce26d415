//! The `network` resource and the `wasi:sockets/network` and `instance-network` interfaces.
//!
//! A [`Network`] is only a capability token: `instance-network` hands one out, and the
//! operations that take one (`start-bind`, `start-connect`, `resolve-addresses`) check that
//! the handle is valid and otherwise consult the context's policy, which every network of a
//! context shares. `network-error-code` is `@unstable` in the WIT and not generated, so it is
//! not here.

use crate::bindings::wasi::sockets::{instance_network, network};
use crate::view::WasiCtxView;
use weld::component::Resource;

/// The value behind a `network` handle: the capability to use the context's network policy.
pub struct Network {
    _private: (),
}

impl network::HostNetwork for WasiCtxView<'_> {
    fn drop(&mut self, network: Resource<Network>) -> weld::Result<()> {
        self.table.delete(network)?;
        Ok(())
    }
}

impl network::Host for WasiCtxView<'_> {}

impl instance_network::Host for WasiCtxView<'_> {
    fn instance_network(&mut self) -> weld::Result<Resource<Network>> {
        Ok(self.table.push(Network { _private: () })?)
    }
}
