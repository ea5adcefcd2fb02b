//! Building small sysfs-like trees in unit tests.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

/// Write `content` at `root/rel`, creating the parents.
pub fn write(root: &Path, rel: &str, content: impl AsRef<[u8]>) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    fs::write(p, content).expect("write");
}

/// A symbolic link at `root/rel` to `target` (as written), creating the parents.
pub fn link(root: &Path, rel: &str, target: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    symlink(target, p).expect("symlink");
}
