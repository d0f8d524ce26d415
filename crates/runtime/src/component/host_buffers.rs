//! The buffers a host producer or consumer moves elements through: a [`Source`] (what the
//! other side is writing) and a [`Destination`] (the room the other side's read left).
//! Either is a guest's buffer in its linear memory, during one of its copies, or the loop's
//! own buffer when the host holds both ends (`concurrent/host_pipe.rs`).
//!
//! Elements go straight between the guest's memory and the host's values: bytes in one
//! copy (`list<u8>`-style), anything else lifted or lowered one at a time by the stream's
//! payload type. Bytes may also be written or read in place ([`Destination::as_direct`],
//! [`Source::as_direct`]), so that a producer reading a file or socket reads straight into
//! the guest's memory. What was moved advances the guest's copy, which completes with that
//! count.
//!
//! Kept apart from `host_streams.rs` (the ends and their drivers) because it is the only
//! part that touches guest memory.

use super::canonical::GuestMemory;
use super::concurrent::host_work::{EndBuffer, HostBuffer, HostItems};
use super::concurrent::state::{WaitableId, end, end_mut};
use super::lift::{Lift, LiftContext, LiftSource};
use super::lower::{Lower, LowerContext, LowerDest};
use super::store_memory::guest_memory;
use super::types::InterfaceType;
use super::values::Val;
use crate::store::{AsContextMut, StoreContextMut, StoreInner};
use anyhow::{Result, bail};
use std::marker::PhantomData;
use weld_environ::component::MemoryWidth;
use weld_environ::component::adapt::CallSide;

/// Where [`Source::read`] puts the elements it takes: a `Vec<T>` takes every element offered
/// (appended to it); an `Option<T>` takes one while it is `None`, leaving the rest to a
/// later read (a short read: the writer keeps what was not read).
pub trait ReadBuffer<T> {
    /// How many more elements it takes.
    fn room(&self) -> usize;
    /// Adds `item`.
    fn push(&mut self, item: T);
    /// Adds the elements whose bytes are `bytes` (a list of `u8`), no more than
    /// [`room`](Self::room).
    fn push_bytes(&mut self, bytes: &[u8])
    where
        T: Lift,
    {
        for item in T::list_from_bytes(bytes) {
            self.push(item);
        }
    }
}

impl<T> ReadBuffer<T> for Vec<T> {
    fn room(&self) -> usize {
        usize::MAX
    }
    fn push(&mut self, item: T) {
        Vec::push(self, item);
    }
    fn push_bytes(&mut self, bytes: &[u8])
    where
        T: Lift,
    {
        // One copy, into the room the vector already has.
        T::extend_from_bytes(self, bytes);
    }
}

impl<T> ReadBuffer<T> for Option<T> {
    fn room(&self) -> usize {
        usize::from(self.is_none())
    }
    fn push(&mut self, item: T) {
        *self = Some(item);
    }
}

/// The elements a guest (or a host producer) is writing, for a [`StreamConsumer`] or a
/// [`FutureConsumer`].
pub struct Source<'a, T> {
    at: EndBuffer<'a>,
    _items: PhantomData<fn() -> T>,
}

impl<'a, T> Source<'a, T> {
    /// The source reading from `at`.
    pub(super) fn new(at: EndBuffer<'a>) -> Self {
        Source { at, _items: PhantomData }
    }
}

/// The room a guest's read (or a host consumer's buffer) left, for a [`StreamProducer`].
pub struct Destination<'a, T> {
    shared: usize,
    at: EndBuffer<'a>,
    _items: PhantomData<fn() -> T>,
}

impl<'a, T> Destination<'a, T> {
    /// The destination of the stream or future `shared`, writing into `at`.
    pub(super) fn new(shared: usize, at: EndBuffer<'a>) -> Self {
        Destination { shared, at, _items: PhantomData }
    }
}

/// The guest buffer of a pending copy: where it is, its element type and size, and how many
/// elements are left.
struct GuestBuffer {
    instance: crate::handles::ComponentInstanceId,
    options: weld_environ::component::info::Options,
    ptr: u64,
    remain: u32,
    payload: Option<InterfaceType>,
    size: u32,
}

fn guest_buffer<T>(store: &StoreInner<T>, guest: WaitableId) -> Result<GuestBuffer> {
    let c = &store.opaque().concurrent;
    let Some(b) = &end(c, guest).buffer else { bail!("bug: a pending copy without a buffer") };
    // The guest end's own type: resource ids are its component's.
    let payload = end(c, guest).payload().cloned();
    let size = payload.as_ref().map_or(0, |p| p.abi().size(MemoryWidth::from_memory64(b.options.memory64)));
    Ok(GuestBuffer {
        instance: b.instance.0,
        options: b.options.clone(),
        ptr: b.ptr,
        remain: b.remain(),
        payload,
        size,
    })
}

fn advance<T>(store: &mut StoreInner<T>, guest: WaitableId, n: u32, size: u32) {
    if let Some(b) = &mut end_mut(&mut store.opaque_mut().concurrent, guest).buffer {
        b.progress += n;
        b.ptr += u64::from(n) * u64::from(size);
    }
}

impl<T: Lift> Source<'_, T> {
    /// How many elements the guest offers.
    pub fn remaining<D>(&self, mut store: impl AsContextMut<Data = D>) -> usize {
        let store = store.as_context_mut();
        match &self.at {
            EndBuffer::Guest(guest) => guest_buffer(store, *guest).map_or(0, |b| b.remain as usize),
            EndBuffer::Host(b) => b.len(),
        }
    }

    /// Takes elements the guest offers into `buf`: every one into a `Vec`, one into an
    /// `Option` (see [`ReadBuffer`]). What is not taken stays the writer's.
    pub fn read<D>(&mut self, mut store: impl AsContextMut<Data = D>, buf: &mut impl ReadBuffer<T>) -> Result<()> {
        let store = store.as_context_mut();
        let guest = match &mut self.at {
            EndBuffer::Guest(guest) => *guest,
            EndBuffer::Host(b) => return take_host_items(b, buf),
        };
        let b = guest_buffer(store, guest)?;
        let n = b.remain.min(u32::try_from(buf.room()).unwrap_or(u32::MAX));
        if n == 0 {
            return Ok(());
        }
        let Some(payload) = &b.payload else {
            bail!("a stream without elements has nothing to read");
        };
        let store_id = store.opaque().id();
        let (mut mem, opts) = guest_memory(store, b.instance, &b.options, CallSide::Caller);
        if T::BYTES {
            let start = usize::try_from(b.ptr)?;
            buf.push_bytes(&mem.bytes()[start..start + n as usize]);
        } else {
            let origin = super::lift::MemoryOrigin::new(store_id, b.instance, &b.options, CallSide::Caller);
            let mut cx = LiftContext { mem: &mut mem, opts, origin };
            for i in 0..u64::from(n) {
                buf.push(T::lift(&mut cx, payload, LiftSource::Memory(b.ptr + i * u64::from(b.size)))?);
            }
        }
        advance(store, guest, n, b.size);
        Ok(())
    }
}

/// Takes elements from the front of a host buffer into `buf`, as `T`s, as many as it takes.
fn take_host_items<T: Lift>(b: &mut HostBuffer, buf: &mut impl ReadBuffer<T>) -> Result<()> {
    let n = b.len().min(buf.room());
    match &mut b.items {
        HostItems::Bytes(bytes) if T::BYTES => buf.push_bytes(&bytes[..n]),
        HostItems::Bytes(bytes) => {
            for byte in &bytes[..n] {
                buf.push(T::from_val(Val::U8(*byte))?);
            }
        }
        HostItems::Vals(vals) => {
            for val in vals.drain(..n) {
                buf.push(T::from_val(val)?);
            }
        }
    }
    if let HostItems::Bytes(bytes) = &mut b.items {
        bytes.drain(..n);
    }
    Ok(())
}

/// Takes every element of a host buffer into `buf`, as values.
fn take_host_vals(b: &mut HostBuffer, buf: &mut Vec<Val>) {
    match &mut b.items {
        HostItems::Bytes(bytes) => buf.extend(bytes.drain(..).map(Val::U8)),
        HostItems::Vals(vals) => buf.append(vals),
    }
}

/// Puts elements from the front of `items` into a host buffer, as many as it has room for;
/// returns how many.
fn put_host_items<T: Lower>(b: &mut HostBuffer, items: &[T]) -> Result<usize> {
    let n = items.len().min(b.free());
    match (&mut b.items, T::list_as_bytes(&items[..n])) {
        (HostItems::Bytes(bytes), Some(slice)) => bytes.extend_from_slice(slice),
        (HostItems::Bytes(bytes), None) => {
            for item in &items[..n] {
                match item.to_val() {
                    Val::U8(byte) => bytes.push(byte),
                    other => bail!("expected a `u8` for a `stream<u8>`, found {}", other.kind()),
                }
            }
        }
        (HostItems::Vals(vals), _) => {
            vals.extend(items[..n].iter().map(Lower::to_val));
        }
    }
    Ok(n)
}

/// The payload type of the future or stream `shared`.
fn payload_of_shared<T>(store: &StoreInner<T>, shared: usize) -> Option<InterfaceType> {
    store.opaque().concurrent.shared.get(shared).and_then(|s| s.payload().cloned())
}

impl Source<'_, Val> {
    /// Takes every element the guest offers as values of the stream's payload type,
    /// appending them to `buf` (for untyped consumers, of a [`StreamAny`]).
    pub fn read_vals<D>(&mut self, mut store: impl AsContextMut<Data = D>, buf: &mut Vec<Val>) -> Result<()> {
        let store = store.as_context_mut();
        let guest = match &mut self.at {
            EndBuffer::Guest(guest) => *guest,
            EndBuffer::Host(b) => {
                take_host_vals(b, buf);
                return Ok(());
            }
        };
        let b = guest_buffer(store, guest)?;
        let Some(payload) = &b.payload else { bail!("a stream without elements has nothing to read") };
        let store_id = store.opaque().id();
        let (mut mem, opts) = guest_memory(store, b.instance, &b.options, CallSide::Caller);
        let origin = super::lift::MemoryOrigin::new(store_id, b.instance, &b.options, CallSide::Caller);
        let mut cx = LiftContext { mem: &mut mem, opts, origin };
        for i in 0..u64::from(b.remain) {
            buf.push(cx.lift_val(payload, LiftSource::Memory(b.ptr + i * u64::from(b.size)))?);
        }
        advance(store, guest, b.remain, b.size);
        Ok(())
    }
}

impl Destination<'_, Val> {
    /// Writes values from the front of `items` into the guest's buffer, as many as it has
    /// room for, each checked against the stream's payload type; returns how many (for
    /// untyped producers, of a [`StreamAny`]).
    pub fn write_vals<D>(&mut self, mut store: impl AsContextMut<Data = D>, items: &mut Vec<Val>) -> Result<usize> {
        let store = store.as_context_mut();
        let guest = match &mut self.at {
            EndBuffer::Guest(guest) => *guest,
            EndBuffer::Host(b) => {
                let Some(payload) = payload_of_shared(store, self.shared) else {
                    bail!("a stream without elements takes no elements")
                };
                let n = items.len().min(b.free());
                for item in &items[..n] {
                    item.typecheck(&payload)?;
                }
                match &mut b.items {
                    HostItems::Bytes(bytes) => {
                        for item in items.drain(..n) {
                            match item {
                                Val::U8(byte) => bytes.push(byte),
                                other => bail!("expected a `u8` for a `stream<u8>`, found {}", other.kind()),
                            }
                        }
                    }
                    HostItems::Vals(vals) => vals.extend(items.drain(..n)),
                }
                return Ok(n);
            }
        };
        let b = guest_buffer(store, guest)?;
        let n = items.len().min(b.remain as usize);
        let Some(payload) = &b.payload else { bail!("a stream without elements takes no elements") };
        let (mut mem, opts) = guest_memory(store, b.instance, &b.options, CallSide::Callee);
        let mut cx = LowerContext { mem: &mut mem, opts };
        for (i, item) in items[..n].iter().enumerate() {
            item.typecheck(payload)?;
            cx.lower_val(item, payload, LowerDest::Memory(b.ptr + i as u64 * u64::from(b.size)))?;
        }
        items.drain(..n);
        advance(store, guest, n as u32, b.size);
        Ok(n)
    }
}

impl<T: Lower> Destination<'_, T> {
    /// How many elements the guest's read has room for.
    pub fn remaining<D>(&self, mut store: impl AsContextMut<Data = D>) -> usize {
        let store = store.as_context_mut();
        match &self.at {
            EndBuffer::Guest(guest) => guest_buffer(store, *guest).map_or(0, |b| b.remain as usize),
            EndBuffer::Host(b) => b.free(),
        }
    }

    /// Writes elements from the front of `items` into the guest's buffer, as many as it has
    /// room for; returns how many.
    pub fn write<D>(&mut self, store: impl AsContextMut<Data = D>, items: &mut Vec<T>) -> Result<usize> {
        let n = self.write_slice(store, items)?;
        items.drain(..n);
        Ok(n)
    }

    /// Writes elements from the front of `items` into the guest's buffer, as many as it has
    /// room for, leaving `items` as they are; returns how many. Bytes go in one copy, from
    /// wherever the producer keeps them.
    pub fn write_slice<D>(&mut self, mut store: impl AsContextMut<Data = D>, items: &[T]) -> Result<usize> {
        let store = store.as_context_mut();
        let guest = match &mut self.at {
            EndBuffer::Guest(guest) => *guest,
            EndBuffer::Host(b) => return put_host_items(b, items),
        };
        let b = guest_buffer(store, guest)?;
        let n = items.len().min(b.remain as usize);
        if n == 0 {
            return Ok(0);
        }
        let Some(payload) = &b.payload else {
            bail!("a stream without elements takes no elements");
        };
        let (mut mem, opts) = guest_memory(store, b.instance, &b.options, CallSide::Callee);
        match T::list_as_bytes(&items[..n]) {
            Some(bytes) => {
                let start = usize::try_from(b.ptr)?;
                mem.bytes_mut()[start..start + n].copy_from_slice(bytes);
            }
            None => {
                let mut cx = LowerContext { mem: &mut mem, opts };
                for (i, item) in items[..n].iter().enumerate() {
                    item.lower(&mut cx, payload, LowerDest::Memory(b.ptr + i as u64 * u64::from(b.size)))?;
                }
            }
        }
        advance(store, guest, n as u32, b.size);
        Ok(n)
    }
}

/// The bytes of the guest's buffer of a pending copy, from its current position (its memory
/// is the store's: a slice of it borrows the store). Empty if the copy has no memory, which
/// validation rules out for a stream of bytes.
fn guest_bytes<D>(store: &StoreInner<D>, guest: WaitableId) -> (usize, usize, Option<crate::handles::Memory>) {
    let Ok(b) = guest_buffer(store, guest) else { return (0, 0, None) };
    let state = store.opaque().component_instance(b.instance);
    let memory = b.options.memory.map(|m| state.memories[m]);
    (usize::try_from(b.ptr).unwrap_or(usize::MAX), b.remain as usize, memory)
}

impl<'a> Destination<'a, u8> {
    /// The room of the guest's read as bytes to write into in place, at most `max` of them:
    /// write into [`DirectDestination::remaining`], then say how many with
    /// [`DirectDestination::mark_written`]. No copy goes between: a producer that reads a
    /// file or a socket can read straight into the guest's memory.
    pub fn as_direct<D>(self, store: StoreContextMut<'a, D>, max: usize) -> DirectDestination<'a, D> {
        let Destination { at, .. } = self;
        let mut direct = DirectDestination { store, at, max, written: 0, base: 0 };
        if let EndBuffer::Host(b) = &mut direct.at
            && let HostItems::Bytes(bytes) = &mut b.items
        {
            // The host buffer grows by the room given, and shrinks back to what was written
            // when the view goes.
            direct.base = bytes.len();
            let room = b.room.saturating_sub(direct.base).min(max);
            bytes.resize(direct.base + room, 0);
        }
        direct
    }
}

/// The guest's buffer of a read of a `stream<u8>`, written in place (from
/// [`Destination::as_direct`]).
pub struct DirectDestination<'a, D> {
    store: StoreContextMut<'a, D>,
    at: EndBuffer<'a>,
    max: usize,
    written: usize,
    /// For a host buffer: its length before this view.
    base: usize,
}

impl<D> DirectDestination<'_, D> {
    /// The bytes not written yet (at most the `max` asked for).
    pub fn remaining(&mut self) -> &mut [u8] {
        let left = self.max - self.written;
        match &mut self.at {
            EndBuffer::Guest(guest) => {
                let (ptr, remain, memory) = guest_bytes(self.store.0, *guest);
                let Some(memory) = memory else { return &mut [] };
                let data = self.store.0.opaque_mut().memory_mut(memory.index).data_mut();
                data.get_mut(ptr..).map_or(&mut [][..], |d| {
                    let n = remain.min(left).min(d.len());
                    &mut d[..n]
                })
            }
            EndBuffer::Host(b) => match &mut b.items {
                HostItems::Bytes(bytes) => &mut bytes[self.base + self.written..],
                HostItems::Vals(_) => &mut [],
            },
        }
    }

    /// Says that the first `n` bytes of [`remaining`](Self::remaining) were written: they go
    /// to the reader.
    ///
    /// # Panics
    ///
    /// If `n` is more than `remaining` has.
    pub fn mark_written(&mut self, n: usize) {
        let room = self.remaining().len();
        assert!(n <= room, "{n} bytes marked written, but only {room} were given");
        self.written += n;
        if let EndBuffer::Guest(guest) = self.at {
            advance(self.store.0, guest, n as u32, 1);
        }
    }
}

impl<D> Drop for DirectDestination<'_, D> {
    fn drop(&mut self) {
        if let EndBuffer::Host(b) = &mut self.at
            && let HostItems::Bytes(bytes) = &mut b.items
        {
            bytes.truncate(self.base + self.written);
        }
    }
}

impl<'a> Source<'a, u8> {
    /// The bytes the guest's write offers, to read in place: read
    /// [`DirectSource::remaining`], then say how many were taken with
    /// [`DirectSource::mark_read`] (the rest stays the writer's).
    pub fn as_direct<D>(self, store: StoreContextMut<'a, D>) -> DirectSource<'a, D> {
        DirectSource { store, at: self.at }
    }
}

/// The guest's buffer of a write of a `stream<u8>`, read in place (from
/// [`Source::as_direct`]).
pub struct DirectSource<'a, D> {
    store: StoreContextMut<'a, D>,
    at: EndBuffer<'a>,
}

impl<D> DirectSource<'_, D> {
    /// The bytes not taken yet.
    pub fn remaining(&mut self) -> &[u8] {
        match &self.at {
            EndBuffer::Guest(guest) => {
                let (ptr, remain, memory) = guest_bytes(self.store.0, *guest);
                let Some(memory) = memory else { return &[] };
                let data = self.store.0.opaque().memory(memory.index).data();
                data.get(ptr..).map_or(&[][..], |d| &d[..remain.min(d.len())])
            }
            EndBuffer::Host(b) => match &b.items {
                HostItems::Bytes(bytes) => bytes,
                HostItems::Vals(_) => &[],
            },
        }
    }

    /// Says that the first `n` bytes of [`remaining`](Self::remaining) were taken.
    ///
    /// # Panics
    ///
    /// If `n` is more than `remaining` has.
    pub fn mark_read(&mut self, n: usize) {
        let have = self.remaining().len();
        assert!(n <= have, "{n} bytes marked read, but only {have} were offered");
        match &mut self.at {
            EndBuffer::Guest(guest) => advance(self.store.0, *guest, n as u32, 1),
            EndBuffer::Host(b) => {
                if let HostItems::Bytes(bytes) = &mut b.items {
                    bytes.drain(..n);
                }
            }
        }
    }
}
