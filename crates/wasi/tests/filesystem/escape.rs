//! Every way out of a preopen a guest might try fails with `not-permitted`, and leaves
//! everything outside exactly as it was.

use crate::common::{SECRET, Sandbox, snapshot};
use weld_wasi::FsPerms;
use weld_wasi::p2::bindings::filesystem::types::{
    DescriptorFlags as DF, ErrorCode, HostDescriptor, NewTimestamp, OpenFlags as OF, PathFlags as PF,
};

const NP: Result<(), ErrorCode> = Err(ErrorCode::NotPermitted);

/// Asserts that `attempt` fails with `not-permitted` and that neither `outside/` nor the
/// root around the sandbox changed.
fn refused<T: std::fmt::Debug>(
    sb: &mut Sandbox,
    what: &str,
    attempt: impl FnOnce(&mut Sandbox) -> Result<T, ErrorCode>,
) {
    let outside = snapshot(&sb.outside());
    let root: Vec<_> = std::fs::read_dir(&sb.root).unwrap().map(|e| e.unwrap().file_name()).collect();
    let result = attempt(sb);
    assert_eq!(result.map(|_| ()), NP, "{what}");
    assert_eq!(snapshot(&sb.outside()), outside, "{what} changed something outside");
    let after: Vec<_> = std::fs::read_dir(&sb.root).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(after, root, "{what} created something next to the preopen");
    assert_eq!(std::fs::read(sb.outside().join("secret.txt")).unwrap(), SECRET);
}

const ESCAPING_PATHS: &[&str] = &[
    "../outside/secret.txt",
    "sub/../../outside/secret.txt",
    "./../outside/secret.txt",
    "sub/../sub/../../outside/secret.txt",
];

#[test]
fn dot_dot_paths_are_refused_for_every_operation() {
    let mut sb = Sandbox::new(FsPerms::ReadWrite);
    let pre = sb.preopen();
    for path in ESCAPING_PATHS {
        let p = || path.to_string();
        for follow in [PF::empty(), PF::SYMLINK_FOLLOW] {
            refused(&mut sb, &format!("open-at {path}"), |sb| sb.open(&pre, follow, path, OF::empty(), DF::READ));
            refused(&mut sb, &format!("stat-at {path}"), |sb| sb.view().stat_at(pre, follow, p()).unwrap());
            refused(&mut sb, &format!("metadata-hash-at {path}"), |sb| {
                sb.view().metadata_hash_at(pre, follow, p()).unwrap()
            });
        }
        let rw = DF::READ | DF::WRITE;
        refused(&mut sb, &format!("truncate {path}"), |sb| sb.open(&pre, PF::empty(), path, OF::TRUNCATE, rw));
        refused(&mut sb, &format!("write-open {path}"), |sb| sb.open(&pre, PF::empty(), path, OF::empty(), rw));
        let new_file = path.replace("secret.txt", "created.txt");
        refused(&mut sb, &format!("create {new_file}"), |sb| sb.open(&pre, PF::empty(), &new_file, OF::CREATE, rw));
        refused(&mut sb, &format!("unlink-file-at {path}"), |sb| sb.view().unlink_file_at(pre, p()).unwrap());
        refused(&mut sb, &format!("readlink-at {path}"), |sb| sb.view().readlink_at(pre, p()).unwrap());
        refused(&mut sb, &format!("set-times-at {path}"), |sb| {
            let t = NewTimestamp::Now;
            sb.view().set_times_at(pre, PF::empty(), p(), t, t).unwrap()
        });
        let new_dir = path.replace("secret.txt", "newdir");
        refused(&mut sb, &format!("create-directory-at {new_dir}"), |sb| {
            sb.view().create_directory_at(pre, new_dir.clone()).unwrap()
        });
        let whole = path.replace("/secret.txt", "");
        refused(&mut sb, &format!("remove-directory-at {whole}"), |sb| {
            sb.view().remove_directory_at(pre, whole.clone()).unwrap()
        });
        refused(&mut sb, &format!("symlink-at with link {new_file}"), |sb| {
            sb.view().symlink_at(pre, "file.txt".into(), new_file.clone()).unwrap()
        });
    }
    refused(&mut sb, "open-at ..", |sb| sb.open(&pre, PF::empty(), "..", OF::DIRECTORY, DF::READ));
}

#[test]
fn absolute_paths_are_refused() {
    let mut sb = Sandbox::new(FsPerms::ReadWrite);
    let pre = sb.preopen();
    let secret = sb.outside().join("secret.txt").display().to_string();
    let created = sb.outside().join("created.txt").display().to_string();
    for path in ["/", "/etc/passwd", secret.as_str()] {
        refused(&mut sb, path, |sb| sb.open(&pre, PF::SYMLINK_FOLLOW, path, OF::empty(), DF::READ));
        refused(&mut sb, path, |sb| sb.view().stat_at(pre, PF::SYMLINK_FOLLOW, path.into()).unwrap());
    }
    let rw = DF::READ | DF::WRITE;
    refused(&mut sb, "truncate absolute", |sb| sb.open(&pre, PF::empty(), &secret, OF::TRUNCATE, rw));
    refused(&mut sb, "create absolute", |sb| sb.open(&pre, PF::empty(), &created, OF::CREATE, rw));
    refused(&mut sb, "unlink absolute", |sb| sb.view().unlink_file_at(pre, secret.clone()).unwrap());
}

#[test]
fn a_host_symlink_to_the_parent_is_not_followed_out() {
    let mut sb = Sandbox::new(FsPerms::ReadWrite);
    std::os::unix::fs::symlink("..", sb.pre().join("up")).unwrap();
    std::os::unix::fs::symlink("../..", sb.pre().join("sub/up2")).unwrap();
    let pre = sb.preopen();
    for path in ["up", "up/outside/secret.txt", "sub/up2/outside/secret.txt"] {
        refused(&mut sb, path, |sb| sb.open(&pre, PF::SYMLINK_FOLLOW, path, OF::empty(), DF::READ));
        refused(&mut sb, path, |sb| sb.view().stat_at(pre, PF::SYMLINK_FOLLOW, path.into()).unwrap());
    }
    // Through the link as an intermediate component, following or not.
    let rw = DF::READ | DF::WRITE;
    refused(&mut sb, "create through up/", |sb| sb.open(&pre, PF::empty(), "up/outside/new.txt", OF::CREATE, rw));
    refused(&mut sb, "truncate through up/", |sb| {
        sb.open(&pre, PF::empty(), "up/outside/secret.txt", OF::TRUNCATE, rw)
    });
    refused(&mut sb, "unlink through up/", |sb| sb.view().unlink_file_at(pre, "up/outside/secret.txt".into()).unwrap());
    // The link itself is inside and may be read and examined.
    assert_eq!(sb.view().readlink_at(pre, "up".into()).unwrap().unwrap(), "..");
}

#[test]
fn a_host_symlink_to_an_absolute_path_is_not_followed() {
    let mut sb = Sandbox::new(FsPerms::ReadWrite);
    let secret = sb.outside().join("secret.txt");
    std::os::unix::fs::symlink(&secret, sb.pre().join("abs")).unwrap();
    std::os::unix::fs::symlink(sb.outside(), sb.pre().join("absdir")).unwrap();
    let pre = sb.preopen();
    refused(&mut sb, "open abs", |sb| sb.open(&pre, PF::SYMLINK_FOLLOW, "abs", OF::empty(), DF::READ));
    refused(&mut sb, "open absdir/secret.txt", |sb| {
        sb.open(&pre, PF::empty(), "absdir/secret.txt", OF::empty(), DF::READ)
    });
    let rw = DF::READ | DF::WRITE;
    refused(&mut sb, "truncate abs", |sb| sb.open(&pre, PF::SYMLINK_FOLLOW, "abs", OF::TRUNCATE, rw));
    refused(&mut sb, "stat abs", |sb| sb.view().stat_at(pre, PF::SYMLINK_FOLLOW, "abs".into()).unwrap());
    refused(&mut sb, "set-times through abs", |sb| {
        let t = NewTimestamp::Now;
        sb.view().set_times_at(pre, PF::SYMLINK_FOLLOW, "abs".into(), t, t).unwrap()
    });
    // Reading the link back would tell the guest a host path.
    refused(&mut sb, "readlink abs", |sb| sb.view().readlink_at(pre, "abs".into()).unwrap());
}

#[test]
fn guest_symlinks_cannot_lead_out() {
    let mut sb = Sandbox::new(FsPerms::ReadWrite);
    let pre = sb.preopen();
    let secret = sb.outside().join("secret.txt").display().to_string();
    refused(&mut sb, "symlink-at to an absolute target", |sb| {
        sb.view().symlink_at(pre, secret.clone(), "abs".into()).unwrap()
    });
    refused(&mut sb, "symlink-at to /", |sb| sb.view().symlink_at(pre, "/".into(), "root".into()).unwrap());
    assert!(!sb.pre().join("abs").exists() && std::fs::symlink_metadata(sb.pre().join("root")).is_err());

    // A relative target that climbs out may be written (it is only a string), as in
    // Wasmtime, but nothing can go through it.
    for (link, target) in [("esc", "../outside/secret.txt"), ("esc2", "../../outside/secret.txt"), ("escdir", "..")] {
        sb.view().symlink_at(pre, target.into(), link.into()).unwrap().unwrap();
        assert_eq!(sb.view().readlink_at(pre, link.into()).unwrap().unwrap(), target);
    }
    let rw = DF::READ | DF::WRITE;
    refused(&mut sb, "open esc", |sb| sb.open(&pre, PF::SYMLINK_FOLLOW, "esc", OF::empty(), DF::READ));
    refused(&mut sb, "truncate esc", |sb| sb.open(&pre, PF::SYMLINK_FOLLOW, "esc", OF::TRUNCATE, rw));
    refused(&mut sb, "truncate esc2", |sb| sb.open(&pre, PF::SYMLINK_FOLLOW, "esc2", OF::TRUNCATE, rw));
    refused(&mut sb, "create through escdir", |sb| sb.open(&pre, PF::empty(), "escdir/outside/x", OF::CREATE, rw));
    refused(&mut sb, "stat esc", |sb| sb.view().stat_at(pre, PF::SYMLINK_FOLLOW, "esc".into()).unwrap());
    // Not following, the link itself is what is opened: ELOOP, not the target.
    assert_eq!(sb.open(&pre, PF::empty(), "esc", OF::empty(), DF::READ).err(), Some(ErrorCode::Loop));
}

#[test]
fn hard_links_and_renames_cannot_cross_the_boundary() {
    let mut sb = Sandbox::new(FsPerms::ReadWrite);
    let pre = sb.preopen();
    let inside = snapshot(&sb.pre());
    refused(&mut sb, "link-at out", |sb| {
        sb.view().link_at(pre, PF::empty(), "file.txt".into(), pre, "../outside/linked".into()).unwrap()
    });
    refused(&mut sb, "link-at in", |sb| {
        sb.view().link_at(pre, PF::empty(), "../outside/secret.txt".into(), pre, "stolen".into()).unwrap()
    });
    refused(&mut sb, "rename-at out", |sb| {
        sb.view().rename_at(pre, "file.txt".into(), pre, "../outside/moved".into()).unwrap()
    });
    refused(&mut sb, "rename-at in", |sb| {
        sb.view().rename_at(pre, "../outside/secret.txt".into(), pre, "got".into()).unwrap()
    });
    refused(&mut sb, "rename-at of a directory out", |sb| {
        sb.view().rename_at(pre, "sub".into(), pre, "../sub".into()).unwrap()
    });
    let abs = sb.outside().join("abs-linked").display().to_string();
    refused(&mut sb, "link-at to an absolute path", |sb| {
        sb.view().link_at(pre, PF::empty(), "file.txt".into(), pre, abs.clone()).unwrap()
    });
    assert_eq!(snapshot(&sb.pre()), inside, "a refused link or rename changed the preopen");
}

#[test]
fn a_subdirectory_descriptor_is_confined_to_itself() {
    let mut sb = Sandbox::new(FsPerms::ReadWrite);
    let pre = sb.preopen();
    let sub = sb.open(&pre, PF::empty(), "sub", OF::DIRECTORY, DF::READ).unwrap();
    assert!(sb.open(&sub, PF::empty(), "inner.txt", OF::empty(), DF::READ).is_ok());
    refused(&mut sb, "sub: ../file.txt", |sb| sb.open(&sub, PF::empty(), "../file.txt", OF::empty(), DF::READ));
    refused(&mut sb, "sub: ../../outside", |sb| {
        sb.open(&sub, PF::empty(), "../../outside/secret.txt", OF::empty(), DF::READ)
    });
}
