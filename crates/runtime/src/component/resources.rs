//! Resources: the runtime identity of a resource type ([`ResourceType`]) and the handles the
//! host holds ([`ResourceAny`] for any resource, [`Resource<T>`] for resources the host
//! defines). Plain data: what a handle refers to is in the handle tables (`handle_table.rs`),
//! and dropping a handle ([`ResourceAny::resource_drop`], in `intrinsics.rs`) runs destructors.

use crate::handles::{ComponentInstanceId, StoreId};
use anyhow::{Result, bail};
use std::any::TypeId;
use std::marker::PhantomData;
use weld_environ::component::ResourceId;
use weld_environ::component::info::RuntimeResourceIndex;

/// The identity of a resource type at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ResourceType(ResourceTypeKind);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum ResourceTypeKind {
    /// Defined by the host with Rust type `TypeId`.
    Host(TypeId),
    /// Defined by a guest: resource `resource` of component instance `instance` of a store.
    Guest { store: StoreId, instance: ComponentInstanceId, resource: RuntimeResourceIndex },
    /// A resource type a component's type names before it is instantiated, numbered in the
    /// order its type description meets them (see `types::Component`).
    Uninstantiated(ResourceId),
}

impl ResourceType {
    /// The resource type the host defines with the Rust type `T` (see [`Resource<T>`]).
    #[inline]
    pub fn host<T: 'static>() -> ResourceType {
        ResourceType(ResourceTypeKind::Host(TypeId::of::<T>()))
    }

    #[inline]
    pub(crate) fn guest(store: StoreId, instance: ComponentInstanceId, resource: RuntimeResourceIndex) -> ResourceType {
        ResourceType(ResourceTypeKind::Guest { store, instance, resource })
    }

    /// Resource `id` of a component's type, before instantiation.
    #[inline]
    pub(crate) fn uninstantiated(id: ResourceId) -> ResourceType {
        ResourceType(ResourceTypeKind::Uninstantiated(id))
    }

    /// The store, component instance and resource of a guest-defined resource type.
    #[inline]
    pub(crate) fn guest_parts(&self) -> Option<(StoreId, ComponentInstanceId, RuntimeResourceIndex)> {
        match self.0 {
            ResourceTypeKind::Guest { store, instance, resource } => Some((store, instance, resource)),
            ResourceTypeKind::Host(_) | ResourceTypeKind::Uninstantiated(_) => None,
        }
    }

    /// Whether the host defines this resource type.
    #[inline]
    pub fn is_host(&self) -> bool {
        matches!(self.0, ResourceTypeKind::Host(_))
    }
}

impl std::fmt::Display for ResourceType {
    #[inline]
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            ResourceTypeKind::Host(_) => f.write_str("host-defined resource"),
            ResourceTypeKind::Guest { .. } => f.write_str("guest-defined resource"),
            ResourceTypeKind::Uninstantiated(id) => write!(f, "resource {} of an uninstantiated component", id.0),
        }
    }
}

/// A handle to a resource of any type, held by the host: an owned handle (which the host must
/// pass back to a guest or drop with [`ResourceAny::resource_drop`]) or a borrowed one (valid
/// during the call that gave it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ResourceAny {
    ty: ResourceType,
    rep: u32,
    owned: bool,
}

impl ResourceAny {
    #[inline]
    pub(crate) fn new(ty: ResourceType, rep: u32, owned: bool) -> ResourceAny {
        ResourceAny { ty, rep, owned }
    }

    /// The resource's type.
    #[inline]
    pub fn ty(&self) -> ResourceType {
        self.ty
    }

    /// Whether this is an owned handle.
    #[inline]
    pub fn owned(&self) -> bool {
        self.owned
    }

    /// The representation (for host-defined resources, the value the host chose).
    #[inline]
    pub(crate) fn rep(&self) -> u32 {
        self.rep
    }

    /// Converts to a typed handle of a host-defined resource of Rust type `T`.
    #[inline]
    pub fn try_into_resource<T: 'static>(self) -> Result<Resource<T>> {
        if self.ty != ResourceType::host::<T>() {
            bail!("the handle is to a {}, not to the host resource type asked for", self.ty);
        }
        Ok(Resource { rep: self.rep, owned: self.owned, _marker: PhantomData })
    }
}

/// A handle to a resource the host defines with the Rust type `T`; `rep` is the host's own
/// number for it (an index into its own table, say).
#[derive(PartialEq, Eq, Hash)]
pub struct Resource<T> {
    rep: u32,
    owned: bool,
    _marker: PhantomData<fn() -> T>,
}

impl<T> Clone for Resource<T> {
    #[inline]
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Resource<T> {}

// Not derived: `T` is a marker (often an empty enum) and need not be `Debug`.
impl<T> std::fmt::Debug for Resource<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resource").field("rep", &self.rep).field("owned", &self.owned).finish()
    }
}

impl<T: 'static> Resource<T> {
    /// An owned handle with representation `rep`.
    #[inline]
    pub fn new_own(rep: u32) -> Resource<T> {
        Resource { rep, owned: true, _marker: PhantomData }
    }

    /// A borrowed handle with representation `rep`.
    #[inline]
    pub fn new_borrow(rep: u32) -> Resource<T> {
        Resource { rep, owned: false, _marker: PhantomData }
    }

    /// The representation.
    #[inline]
    pub fn rep(&self) -> u32 {
        self.rep
    }

    /// Whether this is an owned handle.
    #[inline]
    pub fn owned(&self) -> bool {
        self.owned
    }

    /// As an untyped handle.
    #[inline]
    pub fn into_any(self) -> ResourceAny {
        ResourceAny { ty: ResourceType::host::<T>(), rep: self.rep, owned: self.owned }
    }
}
