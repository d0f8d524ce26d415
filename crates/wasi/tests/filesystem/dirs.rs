//! Directories: preopens, listings, creating and removing, symlinks and hard links, and the
//! error codes that tell a guest why an operation failed.

use crate::common::Sandbox;
use std::collections::BTreeMap;
use weld::component::Resource;
use weld_wasi::FsPerms;
use weld_wasi::p2::bindings::filesystem::preopens::Host as _;
use weld_wasi::p2::bindings::filesystem::types::{
    Descriptor, DescriptorFlags as DF, DescriptorType as DT, ErrorCode, HostDescriptor, HostDirectoryEntryStream,
    OpenFlags as OF, PathFlags as PF,
};

fn list(sb: &mut Sandbox, dir: &Resource<Descriptor>) -> BTreeMap<String, DT> {
    let stream = sb.view().read_directory(*dir).unwrap().unwrap();
    let mut out = BTreeMap::new();
    while let Some(entry) = sb.view().read_directory_entry(stream).unwrap().unwrap() {
        assert!(out.insert(entry.name, entry.type_).is_none(), "an entry was listed twice");
    }
    // The end stays the end.
    assert!(matches!(sb.view().read_directory_entry(stream).unwrap(), Ok(None)));
    HostDirectoryEntryStream::drop(&mut sb.view(), stream).unwrap();
    out
}

#[test]
fn preopens_are_fresh_descriptors_in_order() {
    let mut sb = Sandbox::with_preopens(&[("pre", "/", FsPerms::ReadWrite), ("b", "/data", FsPerms::ReadOnly)]);
    let first = sb.view().get_directories().unwrap();
    let second = sb.view().get_directories().unwrap();
    let names: Vec<_> = first.iter().map(|(_, name)| name.as_str()).collect();
    assert_eq!(names, ["/", "/data"]);
    assert_ne!(first[0].0.rep(), second[0].0.rep(), "each call hands out new handles");
    // Dropping one handle leaves the other, and the context's preopen, usable.
    HostDescriptor::drop(&mut sb.view(), first[0].0).unwrap();
    let (fd, _) = second[0].clone();
    assert_eq!(sb.view().get_type(fd).unwrap(), Ok(DT::Directory));
    assert_eq!(sb.view().get_flags(second[1].0).unwrap(), Ok(DF::READ));
    assert_eq!(sb.view().get_directories().unwrap().len(), 2);
    // No preopens: an empty list.
    let mut none = weld_wasi::WasiCtx::builder().build();
    let mut table = weld_wasi::ResourceTable::new();
    let mut view = weld_wasi::WasiCtxView { ctx: &mut none, table: &mut table };
    assert!(view.get_directories().unwrap().is_empty());
}

#[test]
fn listings_have_every_entry_once_with_its_type_and_no_dots() {
    let mut sb = Sandbox::new(FsPerms::ReadWrite);
    std::os::unix::fs::symlink("file.txt", sb.pre().join("link")).unwrap();
    std::os::unix::fs::symlink("nowhere", sb.pre().join("dangling")).unwrap();
    let fifo = sb.pre().join("fifo");
    rustix::fs::mknodat(rustix::fs::CWD, &fifo, rustix::fs::FileType::Fifo, rustix::fs::Mode::from_raw_mode(0o600), 0)
        .unwrap();
    for i in 0..300 {
        std::fs::write(sb.pre().join(format!("many-{i:03}")), b"").unwrap();
    }
    let pre = sb.preopen();
    let listed = list(&mut sb, &pre);
    assert_eq!(listed.len(), 6 + 300);
    assert_eq!(listed["file.txt"], DT::RegularFile);
    assert_eq!(listed["sub"], DT::Directory);
    assert_eq!(listed["empty"], DT::Directory);
    assert_eq!(listed["link"], DT::SymbolicLink);
    assert_eq!(listed["dangling"], DT::SymbolicLink);
    assert_eq!(listed["fifo"], DT::Fifo);
    assert!(!listed.contains_key(".") && !listed.contains_key(".."));
    let empty = sb.open(&pre, PF::empty(), "empty", OF::DIRECTORY, DF::READ).unwrap();
    assert!(list(&mut sb, &empty).is_empty());
    // Two listings of one directory do not disturb each other.
    let a = sb.view().read_directory(pre).unwrap().unwrap();
    let b = sb.view().read_directory(pre).unwrap().unwrap();
    let first_a = sb.view().read_directory_entry(a).unwrap().unwrap().unwrap();
    let mut from_b = Vec::new();
    while let Some(e) = sb.view().read_directory_entry(b).unwrap().unwrap() {
        from_b.push(e.name);
    }
    assert_eq!(from_b.len(), 306);
    assert!(from_b.contains(&first_a.name));
    let mut rest_of_a = 1;
    while sb.view().read_directory_entry(a).unwrap().unwrap().is_some() {
        rest_of_a += 1;
    }
    assert_eq!(rest_of_a, 306);
}

#[test]
fn create_and_remove_directories() {
    let mut sb = Sandbox::new(FsPerms::ReadWrite);
    let pre = sb.preopen();
    let v = &mut sb.view();
    v.create_directory_at(pre, "made".into()).unwrap().unwrap();
    v.create_directory_at(pre, "made/deeper".into()).unwrap().unwrap();
    assert_eq!(v.create_directory_at(pre, "made".into()).unwrap(), Err(ErrorCode::Exist));
    assert_eq!(v.create_directory_at(pre, "no/such/parent".into()).unwrap(), Err(ErrorCode::NoEntry));
    assert_eq!(v.remove_directory_at(pre, "made".into()).unwrap(), Err(ErrorCode::NotEmpty));
    assert_eq!(v.remove_directory_at(pre, "file.txt".into()).unwrap(), Err(ErrorCode::NotDirectory));
    assert_eq!(v.unlink_file_at(pre, "made".into()).unwrap(), Err(ErrorCode::IsDirectory));
    v.remove_directory_at(pre, "made/deeper".into()).unwrap().unwrap();
    v.remove_directory_at(pre, "made".into()).unwrap().unwrap();
    assert!(!sb.pre().join("made").exists());
}

#[test]
fn symlinks_and_hard_links() {
    let mut sb = Sandbox::new(FsPerms::ReadWrite);
    let pre = sb.preopen();
    let v = &mut sb.view();
    v.symlink_at(pre, "sub/inner.txt".into(), "link".into()).unwrap().unwrap();
    assert_eq!(v.readlink_at(pre, "link".into()).unwrap(), Ok("sub/inner.txt".into()));
    assert_eq!(v.readlink_at(pre, "file.txt".into()).unwrap(), Err(ErrorCode::Invalid));
    assert_eq!(v.symlink_at(pre, "x".into(), "link".into()).unwrap(), Err(ErrorCode::Exist));
    let f = v.open_at(pre, PF::SYMLINK_FOLLOW, "link".into(), OF::empty(), DF::READ).unwrap().unwrap();
    assert_eq!(v.read(f, 100, 0).unwrap().unwrap().0, b"inner");
    // Unlinking a symlink removes the link, not its target.
    v.unlink_file_at(pre, "link".into()).unwrap().unwrap();
    assert!(std::fs::symlink_metadata(sb.pre().join("link")).is_err());
    assert!(sb.pre().join("sub/inner.txt").exists());

    let v = &mut sb.view();
    v.link_at(pre, PF::empty(), "file.txt".into(), pre, "sub/hard.txt".into()).unwrap().unwrap();
    let stat = v.stat_at(pre, PF::empty(), "file.txt".into()).unwrap().unwrap();
    assert_eq!(stat.link_count, 2);
    assert_eq!(
        v.link_at(pre, PF::SYMLINK_FOLLOW, "file.txt".into(), pre, "h2".into()).unwrap(),
        Err(ErrorCode::Invalid)
    );
    assert_eq!(
        v.link_at(pre, PF::empty(), "file.txt".into(), pre, "sub/hard.txt".into()).unwrap(),
        Err(ErrorCode::Exist)
    );
    assert_eq!(std::fs::read(sb.pre().join("sub/hard.txt")).unwrap(), b"hello");
}

#[test]
fn renames_between_preopens_and_over_existing_entries() {
    let mut sb = Sandbox::with_preopens(&[("pre", "/a", FsPerms::ReadWrite), ("b", "/b", FsPerms::ReadWrite)]);
    let fds = sb.preopens();
    let (a, b) = (fds[0], fds[1]);
    let v = &mut sb.view();
    v.rename_at(a, "file.txt".into(), b, "moved.txt".into()).unwrap().unwrap();
    assert_eq!(std::fs::read(sb.root.join("b/moved.txt")).unwrap(), b"hello");
    let v = &mut sb.view();
    v.rename_at(b, "moved.txt".into(), a, "sub/inner.txt".into()).unwrap().unwrap();
    assert_eq!(std::fs::read(sb.pre().join("sub/inner.txt")).unwrap(), b"hello");
    let v = &mut sb.view();
    assert_eq!(v.rename_at(a, "missing".into(), b, "x".into()).unwrap(), Err(ErrorCode::NoEntry));
    assert_eq!(v.rename_at(a, "sub".into(), a, "empty".into()).unwrap(), Ok(()));
    assert_eq!(v.rename_at(a, "empty".into(), a, "empty/x".into()).unwrap(), Err(ErrorCode::Invalid));
    assert_eq!(v.rename_at(a, "nope".into(), a, "nope".into()).unwrap(), Err(ErrorCode::NoEntry));
}
