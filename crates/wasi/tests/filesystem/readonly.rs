//! A read-only preopen refuses every operation that would change something with
//! `not-permitted`, before asking the host (so even operations the host would refuse for
//! another reason, or that would do nothing, say `not-permitted`), and still serves reads.

use crate::common::{Sandbox, snapshot};
use weld_wasi::FsPerms;
use weld_wasi::p2::bindings::filesystem::types::{
    Datetime, DescriptorFlags as DF, DescriptorType, ErrorCode, HostDescriptor, HostDirectoryEntryStream, NewTimestamp,
    OpenFlags as OF, PathFlags as PF,
};

/// Asserts `not-permitted` and that the preopen did not change.
fn refused<T: std::fmt::Debug>(
    sb: &mut Sandbox,
    what: &str,
    attempt: impl FnOnce(&mut Sandbox) -> Result<T, ErrorCode>,
) {
    let before = snapshot(&sb.pre());
    let result = attempt(sb).map(|_| ());
    assert_eq!(result, Err(ErrorCode::NotPermitted), "{what}");
    assert_eq!(snapshot(&sb.pre()), before, "{what} changed the read-only tree");
}

#[test]
fn every_mutating_operation_is_refused() {
    let mut sb = Sandbox::new(FsPerms::ReadOnly);
    std::os::unix::fs::symlink("file.txt", sb.pre().join("link")).unwrap();
    let pre = sb.preopen();
    let file = sb.open_read("file.txt");
    let rw = DF::READ | DF::WRITE;
    let t = NewTimestamp::Timestamp(Datetime { seconds: 1_000_000, nanoseconds: 0 });

    // open-at: anything that writes, whether or not the file exists.
    for path in ["file.txt", "new.txt"] {
        refused(&mut sb, "open-at create", |sb| sb.open(&pre, PF::empty(), path, OF::CREATE, DF::READ));
        refused(&mut sb, "open-at create exclusive", |sb| {
            sb.open(&pre, PF::empty(), path, OF::CREATE | OF::EXCLUSIVE, DF::READ)
        });
        refused(&mut sb, "open-at truncate", |sb| sb.open(&pre, PF::empty(), path, OF::TRUNCATE, DF::READ));
        refused(&mut sb, "open-at write", |sb| sb.open(&pre, PF::empty(), path, OF::empty(), DF::WRITE));
        refused(&mut sb, "open-at read-write", |sb| sb.open(&pre, PF::empty(), path, OF::empty(), rw));
    }
    // Path operations, including ones the host would fail anyway (so the check came first).
    refused(&mut sb, "create-directory-at", |sb| sb.view().create_directory_at(pre, "d".into()).unwrap());
    refused(&mut sb, "create-directory-at existing", |sb| sb.view().create_directory_at(pre, "sub".into()).unwrap());
    refused(&mut sb, "remove-directory-at", |sb| sb.view().remove_directory_at(pre, "empty".into()).unwrap());
    refused(&mut sb, "remove-directory-at missing", |sb| sb.view().remove_directory_at(pre, "missing".into()).unwrap());
    refused(&mut sb, "unlink-file-at", |sb| sb.view().unlink_file_at(pre, "file.txt".into()).unwrap());
    refused(&mut sb, "unlink-file-at link", |sb| sb.view().unlink_file_at(pre, "link".into()).unwrap());
    refused(&mut sb, "unlink-file-at missing", |sb| sb.view().unlink_file_at(pre, "missing".into()).unwrap());
    refused(&mut sb, "symlink-at", |sb| sb.view().symlink_at(pre, "file.txt".into(), "l2".into()).unwrap());
    refused(&mut sb, "link-at", |sb| {
        sb.view().link_at(pre, PF::empty(), "file.txt".into(), pre, "hard".into()).unwrap()
    });
    refused(&mut sb, "rename-at", |sb| sb.view().rename_at(pre, "file.txt".into(), pre, "moved.txt".into()).unwrap());
    refused(&mut sb, "rename-at onto itself", |sb| {
        sb.view().rename_at(pre, "file.txt".into(), pre, "file.txt".into()).unwrap()
    });
    for follow in [PF::empty(), PF::SYMLINK_FOLLOW] {
        refused(&mut sb, "set-times-at", |sb| sb.view().set_times_at(pre, follow, "file.txt".into(), t, t).unwrap());
        refused(&mut sb, "set-times-at now", |sb| {
            sb.view().set_times_at(pre, follow, "link".into(), NewTimestamp::Now, NewTimestamp::Now).unwrap()
        });
    }
    // Operations on open descriptors.
    refused(&mut sb, "set-times of a file", |sb| sb.view().set_times(file, t, t).unwrap());
    refused(&mut sb, "set-times of no change", |sb| {
        sb.view().set_times(file, NewTimestamp::NoChange, NewTimestamp::NoChange).unwrap()
    });
    refused(&mut sb, "set-times of the directory", |sb| sb.view().set_times(pre, t, t).unwrap());
    refused(&mut sb, "set-size", |sb| sb.view().set_size(file, 0).unwrap());
    refused(&mut sb, "set-size unchanged", |sb| sb.view().set_size(file, 5).unwrap());
    refused(&mut sb, "write", |sb| sb.view().write(file, b"x".to_vec(), 0).unwrap());
    refused(&mut sb, "write nothing", |sb| sb.view().write(file, Vec::new(), 0).unwrap());
    refused(&mut sb, "write-via-stream", |sb| sb.view().write_via_stream(file, 0).unwrap());
    refused(&mut sb, "append-via-stream", |sb| sb.view().append_via_stream(file).unwrap());
}

#[test]
fn renames_and_links_need_both_trees_writable() {
    let mut sb = Sandbox::with_preopens(&[("pre", "/rw", FsPerms::ReadWrite), ("ro", "/ro", FsPerms::ReadOnly)]);
    std::fs::write(sb.root.join("ro/kept.txt"), b"kept").unwrap();
    let fds = sb.preopens();
    let (rw, ro) = (fds[0], fds[1]);
    let ro_before = snapshot(&sb.root.join("ro"));
    refused(&mut sb, "rename rw -> ro", |sb| {
        sb.view().rename_at(rw, "file.txt".into(), ro, "file.txt".into()).unwrap()
    });
    refused(&mut sb, "rename ro -> rw", |sb| {
        sb.view().rename_at(ro, "kept.txt".into(), rw, "kept.txt".into()).unwrap()
    });
    refused(&mut sb, "link rw -> ro", |sb| {
        sb.view().link_at(rw, PF::empty(), "file.txt".into(), ro, "file.txt".into()).unwrap()
    });
    refused(&mut sb, "link ro -> rw", |sb| {
        sb.view().link_at(ro, PF::empty(), "kept.txt".into(), rw, "kept.txt".into()).unwrap()
    });
    assert_eq!(snapshot(&sb.root.join("ro")), ro_before);
    assert!(sb.pre().join("file.txt").exists() && !sb.pre().join("kept.txt").exists());
}

#[test]
fn reading_still_works() {
    let mut sb = Sandbox::new(FsPerms::ReadOnly);
    let pre = sb.preopen();
    assert_eq!(sb.view().get_flags(pre).unwrap().unwrap(), DF::READ);
    let file = sb.open_read("file.txt");
    assert_eq!(sb.view().get_flags(file).unwrap().unwrap(), DF::READ);
    assert_eq!(sb.view().read(file, 100, 0).unwrap().unwrap(), (b"hello".to_vec(), false));
    let stat = sb.view().stat(file).unwrap().unwrap();
    assert_eq!((stat.type_, stat.size), (DescriptorType::RegularFile, 5));
    assert!(sb.view().read_via_stream(file, 0).unwrap().is_ok());
    // A subdirectory asking for mutate-directory on a read-only tree opens, without it.
    let sub = sb.open(&pre, PF::empty(), "sub", OF::DIRECTORY, DF::READ | DF::MUTATE_DIRECTORY).unwrap();
    assert_eq!(sb.view().get_flags(sub).unwrap().unwrap(), DF::READ);
    let entries = sb.view().read_directory(sub).unwrap().unwrap();
    let first = sb.view().read_directory_entry(entries).unwrap().unwrap().unwrap();
    assert_eq!(first.name, "inner.txt");
    // Syncing changes nothing and is allowed.
    sb.view().sync(file).unwrap().unwrap();
    sb.view().sync_data(pre).unwrap().unwrap();
}
