//! `wasi:filesystem@0.3.0` (`types` and `preopens`): the same descriptors, preopens and
//! operations as WASI 0.2 (`crate::filesystem`), reached through WASI 0.3's functions.
//!
//! A `descriptor` is the same [`Descriptor`] in the store's resource table, so every rule of
//! the 0.2 host holds here too: paths resolve through cap-std beneath a directory and never
//! leave a preopen (`not-permitted`), and a read-only tree refuses every change. Each async
//! method looks its handles up, calls the 0.2 operation, and converts the result to 0.3's
//! types (`types`); the work is synchronous, done inside the method's future on its first
//! poll, as 0.2 does it on the calling thread. File contents and directory listings move
//! through weld's host stream ends (`streams`).
//!
//! Write permission is the tree's, as in 0.2 (and Wasmtime): a directory descriptor without
//! `mutate-directory` may still change what is beneath it when its preopen is writable,
//! though the WIT says `read-only` there; 0.2 and 0.3 guests sharing one context see the same
//! rules.
//!
//! Not supported: a `new-timestamp` before 1970 (`unsupported`; 0.2's operations take
//! unsigned seconds).

mod streams;
mod types;

pub use types::{
    Advice, DescriptorFlags, DescriptorStat, DescriptorType, DirectoryEntry, ErrorCode, MetadataHashValue,
    NewTimestamp, OpenFlags, PathFlags,
};

use crate::bindings::wasi::filesystem::preopens::Host as _;
use crate::bindings::wasi::filesystem::types as p2;
use crate::filesystem::Descriptor;
use crate::filesystem::errors::FsResult;
use crate::p3::oneshot;
use crate::view::{WasiCtxView, WasiView};
use streams::{DirectoryProducer, FileConsumer, FileProducer, Outcome, Target, fs_error};
use weld::component::{
    Accessor, ComponentNamedList, ComponentType, FutureReader, Lift, LinkerInstance, Lower, Resource, ResourceType,
    StoreContextMut, StreamReader,
};

/// What an operation gives the guest: a value or an `error-code`, or a trap.
type Answer<R> = weld::Result<Result<R, ErrorCode>>;

/// The result of a shared (0.2) operation as a 0.3 answer, converting the value with `Into`.
fn answer<R, V: Into<R>>(result: FsResult<V>) -> Answer<R> {
    match result {
        Ok(value) => Ok(Ok(value.into())),
        Err(e) => fs_error(e).map(Err),
    }
}

/// A handle.
type Fd = Resource<Descriptor>;

/// Defines `wasi:filesystem/preopens` in `preopens`.
pub(crate) fn add_preopens<T: WasiView + 'static>(preopens: &mut LinkerInstance<'_, T>) -> weld::Result<()> {
    preopens.func_wrap("get-directories", |mut store: StoreContextMut<'_, T>, (): ()| {
        Ok((store.data_mut().ctx().get_directories()?,))
    })
}

/// Defines `wasi:filesystem/types` in `types`: the `descriptor` resource and its methods.
pub(crate) fn add_types<T: WasiView + 'static>(types: &mut LinkerInstance<'_, T>) -> weld::Result<()> {
    types.resource("descriptor", ResourceType::host::<Descriptor>(), |mut store: StoreContextMut<'_, T>, rep| {
        store.data_mut().ctx().table.delete(Fd::new_own(rep))?;
        Ok(())
    })?;
    add_stream_methods(types)?;
    add_descriptor_methods(types)?;
    add_path_methods(types)
}

/// A `future<result<_, error-code>>` that resolves with what a stream's end reports.
fn outcome_future<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    outcome: oneshot::Receiver<Outcome>,
) -> FutureReader<Outcome> {
    FutureReader::new(store, async move { Ok(outcome.await.unwrap_or(Ok(()))) })
}

/// The file behind `fd` for a stream that writes it: `bad-descriptor` for a directory or a
/// file not opened for writing (what the host's write would say, decided before any byte is
/// taken from the guest), `not-permitted` on a read-only tree.
fn writable_file(
    view: &WasiCtxView<'_>,
    fd: &Fd,
) -> weld::Result<Result<std::sync::Arc<cap_std::fs::File>, ErrorCode>> {
    let file = view.file(fd).and_then(|f| {
        f.perms.require_write()?;
        if !f.open_mode.write {
            return Err(p2::ErrorCode::BadDescriptor.into());
        }
        Ok(f.file)
    });
    answer(file)
}

/// `write-via-stream` and `append-via-stream`: what the guest writes to `data` goes into the
/// file behind `fd` at `target`; the future resolves when the guest ends the stream or a
/// write fails.
fn write_stream<T: WasiView + 'static>(
    mut store: StoreContextMut<'_, T>,
    fd: Fd,
    data: StreamReader<u8>,
    target: Target,
) -> weld::Result<(FutureReader<Outcome>,)> {
    let file = writable_file(&store.data_mut().ctx(), &fd)?;
    let (done, outcome) = oneshot::channel();
    data.pipe(&mut store, FileConsumer::new(file, target, done))?;
    Ok((outcome_future(&mut store, outcome),))
}

/// `read-via-stream`, `write-via-stream`, `append-via-stream` and `read-directory`: each
/// returns at once, with a stream whose end the host drives and a future of its outcome.
fn add_stream_methods<T: WasiView + 'static>(types: &mut LinkerInstance<'_, T>) -> weld::Result<()> {
    types.func_wrap(
        "[method]descriptor.read-via-stream",
        |mut store: StoreContextMut<'_, T>, (fd, offset): (Fd, u64)| {
            let file = match store.data_mut().ctx().descriptor(&fd) {
                Ok(Descriptor::File(f)) => Ok(f.file.clone()),
                Ok(Descriptor::Dir(_)) => Err(ErrorCode::IsDirectory),
                Err(e) => Err(fs_error(e)?),
            };
            let (done, outcome) = oneshot::channel();
            let stream = StreamReader::new(&mut store, FileProducer::new(file, offset, done));
            Ok(((stream, outcome_future(&mut store, outcome)),))
        },
    )?;
    types.func_wrap(
        "[method]descriptor.write-via-stream",
        |store: StoreContextMut<'_, T>, (fd, data, offset): (Fd, StreamReader<u8>, u64)| {
            write_stream(store, fd, data, Target::At(offset))
        },
    )?;
    types.func_wrap(
        "[method]descriptor.append-via-stream",
        |store: StoreContextMut<'_, T>, (fd, data): (Fd, StreamReader<u8>)| write_stream(store, fd, data, Target::End),
    )?;
    types.func_wrap("[method]descriptor.read-directory", |mut store: StoreContextMut<'_, T>, (fd,): (Fd,)| {
        let entries = answer(store.data_mut().ctx().dir(&fd).and_then(|d| d.read_directory()))?;
        let (done, outcome) = oneshot::channel();
        let stream = StreamReader::new(&mut store, DirectoryProducer::new(entries, done));
        Ok(((stream, outcome_future(&mut store, outcome)),))
    })
}

/// Defines the async method `[method]descriptor.{name}`, whose work `op` does at once with
/// the store's WASI view when the method's future is first polled.
fn method<T, P, R>(
    types: &mut LinkerInstance<'_, T>,
    name: &str,
    op: fn(&mut WasiCtxView<'_>, P) -> weld::Result<R>,
) -> weld::Result<()>
where
    T: WasiView + 'static,
    P: ComponentNamedList + Lift + Send + 'static,
    R: ComponentType + Lower + Send + 'static,
{
    types.func_wrap_concurrent(&format!("[method]descriptor.{name}"), move |accessor: &Accessor<T>, params: P| {
        Box::pin(async move {
            let result = accessor.with(|mut store| op(&mut store.data_mut().ctx(), params))?;
            Ok((result,))
        })
    })
}

/// The methods on a descriptor itself: `advise`, `sync-data`, `get-flags`, `get-type`,
/// `set-size`, `set-times`, `sync`, `stat`, `is-same-object` and `metadata-hash`.
fn add_descriptor_methods<T: WasiView + 'static>(types: &mut LinkerInstance<'_, T>) -> weld::Result<()> {
    method(types, "advise", |view, (fd, offset, len, advice): (Fd, u64, u64, Advice)| -> Answer<()> {
        answer(view.file(&fd).and_then(|f| f.advise(offset, len, advice.into())))
    })?;
    method(types, "sync-data", |view, (fd,): (Fd,)| -> Answer<()> {
        answer(view.descriptor(&fd).and_then(Descriptor::sync_data))
    })?;
    method(types, "get-flags", |view, (fd,): (Fd,)| -> Answer<DescriptorFlags> {
        answer(view.descriptor(&fd).map(Descriptor::get_flags))
    })?;
    method(types, "get-type", |view, (fd,): (Fd,)| -> Answer<DescriptorType> {
        answer(view.descriptor(&fd).and_then(Descriptor::get_type))
    })?;
    method(types, "set-size", |view, (fd, size): (Fd, u64)| -> Answer<()> {
        answer(view.file(&fd).and_then(|f| f.set_size(size)))
    })?;
    method(types, "set-times", |view, (fd, atime, mtime): (Fd, NewTimestamp, NewTimestamp)| -> Answer<()> {
        let (atime, mtime) = match (atime.try_into(), mtime.try_into()) {
            (Ok(a), Ok(m)) => (a, m),
            (Err(code), _) | (_, Err(code)) => return Ok(Err(code)),
        };
        answer(view.descriptor(&fd).and_then(|d| d.set_times(atime, mtime)))
    })?;
    method(types, "sync", |view, (fd,): (Fd,)| -> Answer<()> {
        answer(view.descriptor(&fd).and_then(Descriptor::sync))
    })?;
    method(types, "stat", |view, (fd,): (Fd,)| -> Answer<DescriptorStat> {
        answer(view.descriptor(&fd).and_then(Descriptor::stat))
    })?;
    method(types, "is-same-object", |view, (fd, other): (Fd, Fd)| -> weld::Result<bool> {
        Ok(view.table.get(&fd)?.is_same_object(view.table.get(&other)?))
    })?;
    method(types, "metadata-hash", |view, (fd,): (Fd,)| -> Answer<MetadataHashValue> {
        answer(view.descriptor(&fd).and_then(Descriptor::metadata_hash))
    })
}

/// The methods on paths beneath a directory descriptor: `open-at`, `stat-at`,
/// `metadata-hash-at`, `set-times-at`, `create-directory-at`, `remove-directory-at`,
/// `unlink-file-at`, `readlink-at`, `symlink-at`, `link-at` and `rename-at`.
fn add_path_methods<T: WasiView + 'static>(types: &mut LinkerInstance<'_, T>) -> weld::Result<()> {
    method(
        types,
        "open-at",
        |view,
         (fd, path_flags, path, open_flags, flags): (Fd, PathFlags, String, OpenFlags, DescriptorFlags)|
         -> Answer<Fd> {
            let opened = view.dir(&fd).and_then(|d| {
                let descriptor = d.open_at(path_flags.into(), &path, open_flags.into(), flags.into())?;
                Ok(view.table.push(descriptor)?)
            });
            answer(opened)
        },
    )?;
    method(types, "stat-at", |view, (fd, path_flags, path): (Fd, PathFlags, String)| -> Answer<DescriptorStat> {
        answer(view.dir(&fd).and_then(|d| d.stat_at(path_flags.into(), &path)))
    })?;
    method(
        types,
        "metadata-hash-at",
        |view, (fd, path_flags, path): (Fd, PathFlags, String)| -> Answer<MetadataHashValue> {
            answer(view.dir(&fd).and_then(|d| d.metadata_hash_at(path_flags.into(), &path)))
        },
    )?;
    method(
        types,
        "set-times-at",
        |view,
         (fd, path_flags, path, atime, mtime): (Fd, PathFlags, String, NewTimestamp, NewTimestamp)|
         -> Answer<()> {
            let (atime, mtime) = match (atime.try_into(), mtime.try_into()) {
                (Ok(a), Ok(m)) => (a, m),
                (Err(code), _) | (_, Err(code)) => return Ok(Err(code)),
            };
            answer(view.dir(&fd).and_then(|d| d.set_times_at(path_flags.into(), &path, atime, mtime)))
        },
    )?;
    method(types, "create-directory-at", |view, (fd, path): (Fd, String)| -> Answer<()> {
        answer(view.dir(&fd).and_then(|d| d.create_directory_at(&path)))
    })?;
    method(types, "remove-directory-at", |view, (fd, path): (Fd, String)| -> Answer<()> {
        answer(view.dir(&fd).and_then(|d| d.remove_directory_at(&path)))
    })?;
    method(types, "unlink-file-at", |view, (fd, path): (Fd, String)| -> Answer<()> {
        answer(view.dir(&fd).and_then(|d| d.unlink_file_at(&path)))
    })?;
    method(types, "readlink-at", |view, (fd, path): (Fd, String)| -> Answer<String> {
        answer(view.dir(&fd).and_then(|d| d.readlink_at(&path)))
    })?;
    method(types, "symlink-at", |view, (fd, target, link): (Fd, String, String)| -> Answer<()> {
        answer(view.dir(&fd).and_then(|d| d.symlink_at(&target, &link)))
    })?;
    method(
        types,
        "link-at",
        |view, (fd, old_flags, old_path, new_fd, new_path): (Fd, PathFlags, String, Fd, String)| -> Answer<()> {
            let linked = view.dir(&fd).and_then(|old| {
                let new = view.dir(&new_fd)?;
                old.link_at(old_flags.into(), &old_path, &new, &new_path)
            });
            answer(linked)
        },
    )?;
    method(types, "rename-at", |view, (fd, old_path, new_fd, new_path): (Fd, String, Fd, String)| -> Answer<()> {
        let renamed = view.dir(&fd).and_then(|old| {
            let new = view.dir(&new_fd)?;
            old.rename_at(&old_path, &new, &new_path)
        });
        answer(renamed)
    })
}
