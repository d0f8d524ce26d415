//! Files: opening by the rules of `open-at`, reading and writing at offsets, sizes, times,
//! types and identity, and the errors of operations on the wrong kind of descriptor.

use crate::common::Sandbox;
use weld_wasi::FsPerms;
use weld_wasi::p2::bindings::filesystem::types::{
    Advice, Datetime, DescriptorFlags as DF, DescriptorType, ErrorCode, HostDescriptor, MetadataHashValue,
    NewTimestamp, OpenFlags as OF, PathFlags as PF,
};

const KIB64: usize = 64 * 1024;

/// A timestamp as a comparable tuple (the generated record has no `PartialEq`).
fn t(d: Option<Datetime>) -> Option<(u64, u32)> {
    d.map(|d| (d.seconds, d.nanoseconds))
}

fn hv(h: MetadataHashValue) -> (u64, u64) {
    (h.lower, h.upper)
}

#[test]
fn create_write_read_rename_delete() {
    let mut sb = Sandbox::new(FsPerms::ReadWrite);
    let pre = sb.preopen();
    let rw = DF::READ | DF::WRITE;
    let f = sb.open(&pre, PF::empty(), "new.txt", OF::CREATE | OF::EXCLUSIVE, rw).unwrap();
    assert_eq!(sb.view().write(f, b"hello world".to_vec(), 0).unwrap(), Ok(11));
    assert_eq!(sb.view().write(f, b"W".to_vec(), 6).unwrap(), Ok(1));
    assert_eq!(sb.view().read(f, 5, 6).unwrap().unwrap(), (b"World".to_vec(), false));
    assert_eq!(std::fs::read(sb.pre().join("new.txt")).unwrap(), b"hello World");

    assert_eq!(sb.open(&pre, PF::empty(), "new.txt", OF::CREATE | OF::EXCLUSIVE, rw).err(), Some(ErrorCode::Exist));
    sb.view().rename_at(pre, "new.txt".into(), pre, "sub/renamed.txt".into()).unwrap().unwrap();
    assert!(!sb.pre().join("new.txt").exists());
    assert_eq!(std::fs::read(sb.pre().join("sub/renamed.txt")).unwrap(), b"hello World");
    // The open descriptor follows the file.
    assert_eq!(sb.view().read(f, 5, 0).unwrap().unwrap().0, b"hello");

    sb.view().unlink_file_at(pre, "sub/renamed.txt".into()).unwrap().unwrap();
    assert!(!sb.pre().join("sub/renamed.txt").exists());
    assert_eq!(sb.view().unlink_file_at(pre, "sub/renamed.txt".into()).unwrap(), Err(ErrorCode::NoEntry));
    sb.view().drop(f).unwrap();
}

#[test]
fn truncate_empties_and_create_keeps() {
    let mut sb = Sandbox::new(FsPerms::ReadWrite);
    let pre = sb.preopen();
    let f = sb.open(&pre, PF::empty(), "file.txt", OF::CREATE, DF::READ).unwrap();
    assert_eq!(sb.view().read(f, 100, 0).unwrap().unwrap().0, b"hello");
    let f = sb.open(&pre, PF::empty(), "file.txt", OF::TRUNCATE, DF::READ).unwrap();
    assert_eq!(sb.view().read(f, 100, 0).unwrap().unwrap(), (Vec::new(), true));
    assert_eq!(std::fs::metadata(sb.pre().join("file.txt")).unwrap().len(), 0);
    // create and truncate imply write.
    assert_eq!(sb.view().get_flags(f).unwrap().unwrap(), DF::READ | DF::WRITE);
}

#[test]
fn huge_read_lengths_return_at_most_64_kib() {
    let mut sb = Sandbox::new(FsPerms::ReadWrite);
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(sb.pre().join("big"), &data).unwrap();
    let f = sb.open_read("big");
    for len in [u64::MAX, 1 << 32, u64::MAX / 2] {
        let (bytes, eof) = sb.view().read(f, len, 0).unwrap().unwrap();
        assert_eq!((bytes.len(), eof), (KIB64, false));
        assert_eq!(bytes, data[..KIB64]);
    }
    let (tail, eof) = sb.view().read(f, u64::MAX, KIB64 as u64).unwrap().unwrap();
    assert_eq!((tail.as_slice(), eof), (&data[KIB64..], false));
    // The end is reported once a read finds nothing, at the end or past it.
    assert_eq!(sb.view().read(f, u64::MAX, data.len() as u64).unwrap().unwrap(), (Vec::new(), true));
    assert_eq!(sb.view().read(f, 10, 1 << 40).unwrap().unwrap(), (Vec::new(), true));
    // A read of nothing says whether the offset is at the end.
    assert_eq!(sb.view().read(f, 0, 0).unwrap().unwrap(), (Vec::new(), false));
    assert_eq!(sb.view().read(f, 0, data.len() as u64).unwrap().unwrap(), (Vec::new(), true));
    // An offset the host cannot seek to is an error, not a trap.
    assert_eq!(sb.view().read(f, 10, u64::MAX).unwrap(), Err(ErrorCode::Invalid));
}

#[test]
fn writes_past_the_end_fill_with_zeros_and_set_size_resizes() {
    let mut sb = Sandbox::new(FsPerms::ReadWrite);
    let f = sb.open_rw("file.txt");
    assert_eq!(sb.view().write(f, b"!".to_vec(), 8).unwrap(), Ok(1));
    assert_eq!(std::fs::read(sb.pre().join("file.txt")).unwrap(), b"hello\0\0\0!");
    sb.view().set_size(f, 2).unwrap().unwrap();
    assert_eq!(std::fs::read(sb.pre().join("file.txt")).unwrap(), b"he");
    sb.view().set_size(f, 4).unwrap().unwrap();
    assert_eq!(std::fs::read(sb.pre().join("file.txt")).unwrap(), b"he\0\0");
    assert_eq!(sb.view().set_size(f, u64::MAX).unwrap(), Err(ErrorCode::Invalid));
    assert_eq!(sb.view().write(f, b"x".to_vec(), u64::MAX).unwrap(), Err(ErrorCode::Invalid));
    // A file opened for reading only cannot be written, by the host's own rules.
    let r = sb.open_read("file.txt");
    assert_eq!(sb.view().write(r, b"x".to_vec(), 0).unwrap(), Err(ErrorCode::BadDescriptor));
}

#[test]
fn open_flag_rules() {
    let mut sb = Sandbox::new(FsPerms::ReadWrite);
    std::os::unix::fs::symlink("file.txt", sb.pre().join("link")).unwrap();
    std::os::unix::fs::symlink("sub", sb.pre().join("sublink")).unwrap();
    let pre = sb.preopen();
    let none = PF::empty();
    let open = |sb: &mut Sandbox, pf, path: &str, of, df| sb.open(&pre, pf, path, of, df).map(|_| ()).err();
    assert_eq!(open(&mut sb, none, "missing", OF::empty(), DF::READ), Some(ErrorCode::NoEntry));
    assert_eq!(open(&mut sb, none, "file.txt", OF::DIRECTORY, DF::READ), Some(ErrorCode::NotDirectory));
    assert_eq!(open(&mut sb, none, "sub", OF::empty(), DF::READ | DF::WRITE), Some(ErrorCode::IsDirectory));
    assert_eq!(open(&mut sb, none, "sub", OF::DIRECTORY | OF::CREATE, DF::READ), Some(ErrorCode::Invalid));
    assert_eq!(open(&mut sb, none, "sub", OF::DIRECTORY | OF::TRUNCATE, DF::READ), Some(ErrorCode::Invalid));
    assert_eq!(open(&mut sb, none, "sub", OF::DIRECTORY | OF::EXCLUSIVE, DF::READ), Some(ErrorCode::Invalid));
    assert_eq!(
        open(&mut sb, none, "file.txt", OF::empty(), DF::READ | DF::FILE_INTEGRITY_SYNC),
        Some(ErrorCode::Unsupported)
    );
    assert_eq!(open(&mut sb, none, "file.txt/x", OF::empty(), DF::READ), Some(ErrorCode::NotDirectory));
    // Symlinks in the last component: not followed unless asked.
    assert_eq!(open(&mut sb, none, "link", OF::empty(), DF::READ), Some(ErrorCode::Loop));
    assert_eq!(open(&mut sb, PF::SYMLINK_FOLLOW, "link", OF::empty(), DF::READ), None);
    assert_eq!(open(&mut sb, none, "sublink", OF::DIRECTORY, DF::READ), Some(ErrorCode::Loop));
    let sub = sb.open(&pre, PF::SYMLINK_FOLLOW, "sublink", OF::DIRECTORY, DF::READ).unwrap();
    assert_eq!(sb.view().get_type(sub).unwrap(), Ok(DescriptorType::Directory));
    // A directory opened without the directory flag is a directory all the same.
    let sub = sb.open(&pre, none, "sub", OF::empty(), DF::READ).unwrap();
    assert_eq!(sb.view().get_type(sub).unwrap(), Ok(DescriptorType::Directory));
    // An intermediate symlink is followed (inside the preopen).
    assert_eq!(open(&mut sb, none, "sublink/inner.txt", OF::empty(), DF::READ), None);
}

#[test]
fn descriptors_of_the_wrong_kind() {
    let mut sb = Sandbox::new(FsPerms::ReadWrite);
    let pre = sb.preopen();
    let file = sb.open_rw("file.txt");
    // File operations on a directory.
    assert_eq!(sb.view().read(pre, 1, 0).unwrap().err(), Some(ErrorCode::BadDescriptor));
    assert_eq!(sb.view().write(pre, vec![1], 0).unwrap().err(), Some(ErrorCode::BadDescriptor));
    assert_eq!(sb.view().set_size(pre, 0).unwrap().err(), Some(ErrorCode::BadDescriptor));
    assert_eq!(sb.view().advise(pre, 0, 0, Advice::Normal).unwrap().err(), Some(ErrorCode::BadDescriptor));
    assert_eq!(sb.view().read_via_stream(pre, 0).unwrap().err(), Some(ErrorCode::IsDirectory));
    assert_eq!(sb.view().write_via_stream(pre, 0).unwrap().err(), Some(ErrorCode::BadDescriptor));
    assert_eq!(sb.view().append_via_stream(pre).unwrap().err(), Some(ErrorCode::BadDescriptor));
    // Directory operations on a file.
    let nd = Some(ErrorCode::NotDirectory);
    let v = &mut sb.view();
    assert_eq!(v.open_at(file, PF::empty(), "x".into(), OF::empty(), DF::READ).unwrap().err(), nd);
    assert_eq!(v.stat_at(file, PF::empty(), "x".into()).unwrap().err(), nd);
    assert_eq!(v.read_directory(file).unwrap().err(), nd);
    assert_eq!(v.create_directory_at(file, "x".into()).unwrap().err(), nd);
    assert_eq!(v.unlink_file_at(file, "x".into()).unwrap().err(), nd);
    assert_eq!(v.readlink_at(file, "x".into()).unwrap().err(), nd);
    assert_eq!(v.symlink_at(file, "a".into(), "x".into()).unwrap().err(), nd);
    assert_eq!(v.rename_at(file, "a".into(), pre, "x".into()).unwrap().err(), nd);
    assert_eq!(v.rename_at(pre, "file.txt".into(), file, "x".into()).unwrap().err(), nd);
    assert_eq!(v.link_at(pre, PF::empty(), "file.txt".into(), file, "x".into()).unwrap().err(), nd);
    assert_eq!(v.metadata_hash_at(file, PF::empty(), "x".into()).unwrap().err(), nd);
    // Operations on both kinds work on both.
    v.advise(file, 0, 0, Advice::Sequential).unwrap().unwrap();
    v.advise(file, u64::MAX, u64::MAX, Advice::DontNeed).unwrap().ok();
    v.sync(file).unwrap().unwrap();
    v.sync_data(file).unwrap().unwrap();
    v.sync(pre).unwrap().unwrap();
    // A handle that is not in the table is a trap, not an error code.
    let gone = file;
    v.drop(file).unwrap();
    assert!(v.read(gone, 1, 0).is_err());
}

#[test]
fn stat_types_times_and_identity() {
    let mut sb = Sandbox::new(FsPerms::ReadWrite);
    std::os::unix::fs::symlink("file.txt", sb.pre().join("link")).unwrap();
    let pre = sb.preopen();
    let file = sb.open_rw("file.txt");
    let v = &mut sb.view();

    let stat = v.stat(file).unwrap().unwrap();
    assert_eq!((stat.type_, stat.size, stat.link_count), (DescriptorType::RegularFile, 5, 1));
    assert!(stat.data_modification_timestamp.is_some() && stat.status_change_timestamp.is_some());
    assert_eq!(v.get_type(file).unwrap(), Ok(DescriptorType::RegularFile));
    assert_eq!(v.stat(pre).unwrap().unwrap().type_, DescriptorType::Directory);
    let link = v.stat_at(pre, PF::empty(), "link".into()).unwrap().unwrap();
    assert_eq!((link.type_, link.size), (DescriptorType::SymbolicLink, "file.txt".len() as u64));
    let target = v.stat_at(pre, PF::SYMLINK_FOLLOW, "link".into()).unwrap().unwrap();
    assert_eq!((target.type_, target.size), (DescriptorType::RegularFile, 5));
    assert_eq!(v.stat_at(pre, PF::empty(), "missing".into()).unwrap().err(), Some(ErrorCode::NoEntry));

    // set-times and set-times-at, seen by stat.
    let at = |seconds, nanoseconds| Datetime { seconds, nanoseconds };
    let (a, m) = (at(1_000_000_000, 5_000), at(1_100_000_000, 123_456_789));
    v.set_times(file, NewTimestamp::Timestamp(a), NewTimestamp::Timestamp(m)).unwrap().unwrap();
    let stat = v.stat(file).unwrap().unwrap();
    assert_eq!((t(stat.data_access_timestamp), t(stat.data_modification_timestamp)), (t(Some(a)), t(Some(m))));
    v.set_times(file, NewTimestamp::NoChange, NewTimestamp::Now).unwrap().unwrap();
    let stat = v.stat(file).unwrap().unwrap();
    assert_eq!(t(stat.data_access_timestamp), t(Some(a)));
    assert!(stat.data_modification_timestamp.unwrap().seconds > 1_600_000_000);
    let m2 = at(1_200_000_000, 0);
    let new = NewTimestamp::Timestamp(m2);
    v.set_times_at(pre, PF::SYMLINK_FOLLOW, "link".into(), NewTimestamp::NoChange, new).unwrap().unwrap();
    assert_eq!(t(v.stat(file).unwrap().unwrap().data_modification_timestamp), t(Some(m2)));
    let m3 = at(1_300_000_000, 0);
    let new = NewTimestamp::Timestamp(m3);
    v.set_times_at(pre, PF::empty(), "link".into(), NewTimestamp::NoChange, new).unwrap().unwrap();
    let link = v.stat_at(pre, PF::empty(), "link".into()).unwrap().unwrap();
    assert_eq!(t(link.data_modification_timestamp), t(Some(m3)));
    assert_eq!(t(v.stat(file).unwrap().unwrap().data_modification_timestamp), t(Some(m2)));
    v.set_times(pre, NewTimestamp::Timestamp(a), NewTimestamp::Timestamp(m)).unwrap().unwrap();
    assert_eq!(t(v.stat(pre).unwrap().unwrap().data_modification_timestamp), t(Some(m)));
    // Times the host cannot hold are an overflow, not a panic.
    let huge = NewTimestamp::Timestamp(at(u64::MAX, u32::MAX));
    assert_eq!(v.set_times(file, huge, huge).unwrap(), Err(ErrorCode::Overflow));

    // Identity: the same file through two descriptors, and a different one.
    let again = v.open_at(pre, PF::SYMLINK_FOLLOW, "link".into(), OF::empty(), DF::READ).unwrap().unwrap();
    let other = v.open_at(pre, PF::empty(), "sub/inner.txt".into(), OF::empty(), DF::READ).unwrap().unwrap();
    assert!(v.is_same_object(file, again).unwrap());
    assert!(!v.is_same_object(file, other).unwrap());
    assert!(!v.is_same_object(file, pre).unwrap());
    let h = v.metadata_hash(file).unwrap().unwrap();
    assert_eq!(hv(v.metadata_hash(again).unwrap().unwrap()), hv(h));
    assert_eq!(hv(v.metadata_hash_at(pre, PF::SYMLINK_FOLLOW, "link".into()).unwrap().unwrap()), hv(h));
    assert_ne!(hv(v.metadata_hash_at(pre, PF::empty(), "link".into()).unwrap().unwrap()), hv(h));
    assert_ne!(hv(v.metadata_hash(other).unwrap().unwrap()), hv(h));
    assert_ne!(h.lower, h.upper);
}

#[test]
fn get_flags_report_how_descriptors_were_opened() {
    let mut sb = Sandbox::new(FsPerms::ReadWrite);
    let pre = sb.preopen();
    assert_eq!(sb.view().get_flags(pre).unwrap().unwrap(), DF::READ | DF::MUTATE_DIRECTORY);
    let cases = [(DF::READ, DF::READ), (DF::WRITE, DF::WRITE), (DF::READ | DF::WRITE, DF::READ | DF::WRITE)];
    for (asked, reported) in cases {
        let f = sb.open(&pre, PF::empty(), "file.txt", OF::empty(), asked).unwrap();
        assert_eq!(sb.view().get_flags(f).unwrap().unwrap(), reported);
    }
    let sub = sb.open(&pre, PF::empty(), "sub", OF::DIRECTORY, DF::READ).unwrap();
    assert_eq!(sb.view().get_flags(sub).unwrap().unwrap(), DF::READ);
    let sub = sb.open(&pre, PF::empty(), "sub", OF::DIRECTORY, DF::READ | DF::MUTATE_DIRECTORY).unwrap();
    assert_eq!(sb.view().get_flags(sub).unwrap().unwrap(), DF::READ | DF::MUTATE_DIRECTORY);
}

#[test]
fn odd_paths_are_errors_not_panics() {
    let mut sb = Sandbox::new(FsPerms::ReadWrite);
    let pre = sb.preopen();
    let long = "x".repeat(5000);
    let long_component = "y".repeat(300);
    let cases = [
        ("", ErrorCode::NoEntry),
        ("a\0b", ErrorCode::Invalid),
        (long.as_str(), ErrorCode::NameTooLong),
        (long_component.as_str(), ErrorCode::NameTooLong),
        ("file.txt/", ErrorCode::NotDirectory),
        ("missing/", ErrorCode::NoEntry),
    ];
    for (path, code) in cases {
        let shown = &path[..path.len().min(20)];
        assert_eq!(sb.open(&pre, PF::empty(), path, OF::empty(), DF::READ).err(), Some(code), "open {shown:?}");
        let v = &mut sb.view();
        assert!(v.stat_at(pre, PF::SYMLINK_FOLLOW, path.into()).unwrap().is_err(), "stat {shown:?}");
        assert!(v.create_directory_at(pre, format!("{path}/d")).unwrap().is_err(), "mkdir {shown:?}");
        // A symlink's target is only a string: some of these are valid targets. What matters
        // is that none traps (the outer unwrap).
        let _ = v.symlink_at(pre, path.into(), "l".into()).unwrap();
        let _ = v.unlink_file_at(pre, "l".into()).unwrap();
    }
    // Names that are valid but unusual stay inside and work.
    for name in ["...", ".hidden", "sp ace", "ünï©ødé", "-dash"] {
        let rw = DF::READ | DF::WRITE;
        let f = sb.open(&pre, PF::empty(), name, OF::CREATE, rw).unwrap();
        assert_eq!(sb.view().write(f, name.as_bytes().to_vec(), 0).unwrap(), Ok(name.len() as u64));
        assert_eq!(std::fs::read(sb.pre().join(name)).unwrap(), name.as_bytes());
    }
}
