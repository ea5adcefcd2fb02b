//! Whether a disk may be written, and what is on it: its family (partitions and everything
//! built on them through sysfs `holders/`), the mounts and swap areas on that family, and the
//! refusals of a raw device that is in use (mounted, swap, LVM, MD, dm-crypt, root, read-only).

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use hwsys::mountinfo::{self, Mount};
use hwsys::Sysroot;

/// The mounts of `proc/self/mountinfo`: none when it cannot be read, lines that are not
/// mountinfo lines left out.
pub(super) fn mounts(sys: &Sysroot) -> Vec<Mount> {
    sys.read("proc/self/mountinfo")
        .map(|t| mountinfo::parse(&t).0)
        .unwrap_or_default()
}

/// A block device related to a disk: the disk, a partition, or something built on them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Member {
    pub(super) name: String,
    /// `sys/block/...` path of its directory.
    pub(super) path: String,
    /// Whose holder it is (None for the disk and its partitions).
    pub(super) on: Option<String>,
}

/// The disk, its partitions and everything built on them (recursively through `holders/`).
pub(super) fn family(sys: &Sysroot, disk: &str) -> Vec<Member> {
    let mut out = vec![Member {
        name: disk.to_string(),
        path: format!("sys/block/{disk}"),
        on: None,
    }];
    for p in partitions(sys, disk) {
        out.push(Member {
            path: format!("sys/block/{disk}/{p}"),
            name: p,
            on: None,
        });
    }
    let mut i = 0;
    let mut seen: BTreeSet<String> = out.iter().map(|m| m.name.clone()).collect();
    while i < out.len() && out.len() < 1000 {
        let m = out[i].clone();
        for h in sys.list_dir(&format!("{}/holders", m.path)) {
            if seen.insert(h.clone()) {
                out.push(Member {
                    path: format!("sys/block/{h}"),
                    name: h,
                    on: Some(m.name.clone()),
                });
            }
        }
        i += 1;
    }
    out
}

/// Partitions of a disk: its subdirectories with a `partition` file.
fn partitions(sys: &Sysroot, disk: &str) -> Vec<String> {
    sys.list_dir(&format!("sys/block/{disk}"))
        .into_iter()
        .filter(|p| sys.exists(&format!("sys/block/{disk}/{p}/partition")))
        .collect()
}

/// `/dev` names a member may be mounted or swapped by.
fn dev_names(sys: &Sysroot, m: &Member) -> Vec<String> {
    let mut v = vec![format!("/dev/{}", m.name)];
    if let Some(dm) = sys.attr(&format!("{}/dm/name", m.path)) {
        v.push(format!("/dev/mapper/{dm}"));
    }
    v
}

/// What a holder is, for a refusal.
fn describe_holder(sys: &Sysroot, h: &Member) -> String {
    let on = h.on.as_deref().unwrap_or("?");
    let uuid = sys.attr(&format!("{}/dm/uuid", h.path)).unwrap_or_default();
    let dm = sys
        .attr(&format!("{}/dm/name", h.path))
        .map(|n| format!(" ({n})"))
        .unwrap_or_default();
    if h.name.starts_with("md") {
        format!("{on} is a member of MD array {}", h.name)
    } else if uuid.starts_with("LVM-") {
        format!("{on} is an LVM physical volume of {}{dm}", h.name)
    } else if uuid.starts_with("CRYPT-") {
        format!("{on} holds the encrypted volume {}{dm}", h.name)
    } else {
        format!("{on} is held by {}{dm}", h.name)
    }
}

/// The mounts of a member: by its device number, or by a `/dev` name as their source (btrfs
/// and some overlays show an anonymous device number).
pub(super) fn mounts_of<'m>(sys: &Sysroot, m: &Member, mounts: &'m [Mount]) -> Vec<&'m Mount> {
    let majmin = sys.attr(&format!("{}/dev", m.path));
    let names = dev_names(sys, m);
    mounts
        .iter()
        .filter(|mt| Some(&mt.majmin) == majmin.as_ref() || names.contains(&mt.source))
        .collect()
}

/// Why the raw device `name` must not be written, from sysfs and procfs alone (see
/// [`live_refusals`] for what needs the device itself). Empty when nothing is found.
pub fn refusals(sys: &Sysroot, name: &str) -> Vec<String> {
    if name.is_empty() || name.contains('/') || !sys.is_dir(&format!("sys/block/{name}")) {
        return vec![format!(
            "{name} is not a whole block device (no sys/block/{name})"
        )];
    }
    let mut out = Vec::new();
    if sys.attr(&format!("sys/block/{name}/ro")).as_deref() == Some("1") {
        out.push(format!("{name} is read-only"));
    }
    let fam = family(sys, name);
    for h in fam.iter().filter(|m| m.on.is_some()) {
        out.push(describe_holder(sys, h));
    }
    let all = mounts(sys);
    for m in &fam {
        for mt in mounts_of(sys, m, &all) {
            out.push(format!("{} is mounted at {}", m.name, mt.point));
            if mt.point == "/" {
                out.push(format!(
                    "{name} holds the root filesystem (/ is on {})",
                    m.name
                ));
            }
        }
    }
    if let Some(swaps) = sys.read("proc/swaps") {
        for dev in mountinfo::swaps(&swaps) {
            if let Some(m) = fam.iter().find(|m| dev_names(sys, m).contains(&dev)) {
                out.push(format!("{} is in use as swap", m.name));
            }
        }
    }
    let mut seen = BTreeSet::new();
    out.retain(|r| seen.insert(r.clone()));
    out
}

/// Refusals that need the device node: an LVM2 label or an MD superblock on it (a member of a
/// volume group or array that is not active), or the kernel refusing an exclusive open.
pub fn live_refusals(dev: &Path, size: u64) -> Vec<String> {
    use std::os::unix::fs::FileExt;
    let mut out = Vec::new();
    let f = match File::open(dev) {
        Ok(f) => f,
        Err(e) => return vec![format!("cannot open {} to check it: {e}", dev.display())],
    };
    let mut head = vec![0u8; 8192];
    let n = f.read_at(&mut head, 0).unwrap_or(0);
    head.truncate(n);
    for sector in 0..4 {
        let s = &head[(sector * 512).min(n)..((sector + 1) * 512).min(n)];
        if s.len() >= 32 && &s[..8] == b"LABELONE" && &s[24..32] == b"LVM2 001" {
            out.push(format!(
                "{} carries an LVM2 physical volume label",
                dev.display()
            ));
        }
    }
    const MD_MAGIC: u32 = 0xa92b_4efc;
    let mut md_at = vec![("1.1", 0u64), ("1.2", 4096)];
    if size >= 128 << 10 {
        md_at.push(("0.90", (size & !0xffff) - 0x10000));
        md_at.push(("1.0", (size - 8192) & !0xfff));
    }
    for (version, at) in md_at {
        let mut m = [0u8; 4];
        if f.read_at(&mut m, at).ok() == Some(4) && u32::from_le_bytes(m) == MD_MAGIC {
            out.push(format!(
                "{} carries an MD RAID superblock (metadata {version})",
                dev.display()
            ));
        }
    }
    if let Err(e) = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_EXCL)
        .open(dev)
    {
        out.push(format!(
            "the kernel refuses {} an exclusive open ({e}): mounted, swap, or held by dm/md",
            dev.display()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::FileExt;

    fn write(root: &Path, rel: &str, s: &str) {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        fs::write(p, s).expect("write");
    }

    fn mkdir(root: &Path, rel: &str) {
        fs::create_dir_all(root.join(rel)).expect("mkdir");
    }

    #[test]
    fn mountinfo_lines_parse_with_escapes() {
        let (m, bad) = mountinfo::parse(
            "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard\n\
             40 27 8:17 /data /srv/my\\040data ro,nosuid shared:5 - xfs /dev/sdb1 rw\n\
             garbage\n",
        );
        assert_eq!(m.len(), 2);
        assert_eq!(bad, [3]);
        assert_eq!(m[0].majmin, "254:0");
        assert_eq!(m[0].point, "/");
        assert_eq!(m[1].point, "/srv/my data");
        assert_eq!(m[1].root, "/data");
        assert_eq!(
            (m[1].fstype.as_str(), m[1].source.as_str()),
            ("xfs", "/dev/sdb1")
        );
        assert_eq!(m[1].options, "ro,nosuid");
    }

    #[test]
    fn an_octal_escape_above_255_is_kept_as_written() {
        // The unescape this case once had computed `\777` in a u8 and panicked on overflow.
        let d = crafted();
        write(
            d.path(),
            "proc/self/mountinfo",
            "40 1 8:33 /x\\777 /mnt/a\\777b\\040c rw - ext4 /dev/sdc1\\400 rw\n",
        );
        let sys = Sysroot::new(d.path());
        let m = mounts(&sys);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].root, "/x\\777");
        assert_eq!(m[0].point, "/mnt/a\\777b c");
        assert_eq!(m[0].source, "/dev/sdc1\\400");
        assert_eq!(refusals(&sys, "sdc"), ["sdc1 is mounted at /mnt/a\\777b c"]);
    }

    /// A machine with: sdb clean; sdc1 mounted at /data; sdd an LVM PV holding the root LV;
    /// sde1 in md0; sdf2 used as swap; sdg held by a crypt mapping; sdh read-only.
    fn crafted() -> tempfile::TempDir {
        let d = tempfile::tempdir().expect("tempdir");
        let r = d.path();
        for (disk, dev) in [
            ("sdb", "8:16"),
            ("sdc", "8:32"),
            ("sdd", "8:48"),
            ("sde", "8:64"),
            ("sdf", "8:80"),
            ("sdg", "8:96"),
            ("sdh", "8:112"),
        ] {
            write(r, &format!("sys/block/{disk}/dev"), dev);
            write(r, &format!("sys/block/{disk}/ro"), "0");
            mkdir(r, &format!("sys/block/{disk}/holders"));
        }
        write(r, "sys/block/sdh/ro", "1");
        write(r, "sys/block/sdc/sdc1/partition", "1");
        write(r, "sys/block/sdc/sdc1/dev", "8:33");
        mkdir(r, "sys/block/sdc/sdc1/holders");
        mkdir(r, "sys/block/sdd/holders/dm-0");
        write(r, "sys/block/dm-0/dev", "253:0");
        write(r, "sys/block/dm-0/dm/name", "vg0-root");
        write(r, "sys/block/dm-0/dm/uuid", "LVM-abcdef");
        mkdir(r, "sys/block/dm-0/holders");
        write(r, "sys/block/sde/sde1/partition", "1");
        write(r, "sys/block/sde/sde1/dev", "8:65");
        mkdir(r, "sys/block/sde/sde1/holders/md0");
        write(r, "sys/block/md0/dev", "9:0");
        write(r, "sys/block/sdf/sdf2/partition", "2");
        write(r, "sys/block/sdf/sdf2/dev", "8:82");
        mkdir(r, "sys/block/sdg/holders/dm-1");
        write(r, "sys/block/dm-1/dev", "253:1");
        write(r, "sys/block/dm-1/dm/name", "secret");
        write(r, "sys/block/dm-1/dm/uuid", "CRYPT-LUKS2-xyz");
        write(
            r,
            "proc/self/mountinfo",
            "22 1 253:0 / / rw,relatime - xfs /dev/mapper/vg0-root rw\n\
             40 22 8:33 / /data rw,relatime - ext4 /dev/sdc1 rw\n",
        );
        write(
            r,
            "proc/swaps",
            "Filename\tType\tSize\tUsed\tPriority\n/dev/sdf2 partition 1048572 0 -2\n",
        );
        d
    }

    #[test]
    fn a_clean_disk_has_no_refusals() {
        let d = crafted();
        assert_eq!(
            refusals(&Sysroot::new(d.path()), "sdb"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn every_kind_of_use_is_refused() {
        let d = crafted();
        let sys = Sysroot::new(d.path());
        assert_eq!(refusals(&sys, "sdc"), ["sdc1 is mounted at /data"]);
        assert_eq!(
            refusals(&sys, "sdd"),
            [
                "sdd is an LVM physical volume of dm-0 (vg0-root)",
                "dm-0 is mounted at /",
                "sdd holds the root filesystem (/ is on dm-0)",
            ]
        );
        assert_eq!(refusals(&sys, "sde"), ["sde1 is a member of MD array md0"]);
        assert_eq!(refusals(&sys, "sdf"), ["sdf2 is in use as swap"]);
        assert_eq!(
            refusals(&sys, "sdg"),
            ["sdg holds the encrypted volume dm-1 (secret)"]
        );
        assert_eq!(refusals(&sys, "sdh"), ["sdh is read-only"]);
        assert_eq!(
            refusals(&sys, "sdc1"),
            ["sdc1 is not a whole block device (no sys/block/sdc1)"]
        );
        assert_eq!(
            refusals(&sys, "../sdb"),
            ["../sdb is not a whole block device (no sys/block/../sdb)"]
        );
    }

    #[test]
    fn a_mount_by_source_name_alone_is_found() {
        // btrfs and some overlays show an anonymous device number: the source names the disk.
        let d = crafted();
        write(
            d.path(),
            "proc/self/mountinfo",
            "40 1 0:45 / /pool rw - btrfs /dev/sdb rw\n",
        );
        assert_eq!(
            refusals(&Sysroot::new(d.path()), "sdb"),
            ["sdb is mounted at /pool"]
        );
    }

    #[test]
    fn live_refusals_find_lvm_and_md_signatures() {
        let d = tempfile::tempdir().expect("tempdir");
        let p = d.path().join("img");
        let f = File::create(&p).expect("create");
        f.set_len(1 << 20).expect("size");
        assert!(live_refusals(&p, 1 << 20).is_empty());
        let mut label = [0u8; 32];
        label[..8].copy_from_slice(b"LABELONE");
        label[24..].copy_from_slice(b"LVM2 001");
        f.write_all_at(&label, 512).expect("label");
        f.write_all_at(&0xa92b_4efcu32.to_le_bytes(), 4096)
            .expect("md");
        let r = live_refusals(&p, 1 << 20);
        assert_eq!(r.len(), 2, "{r:?}");
        assert!(r[0].ends_with("carries an LVM2 physical volume label"));
        assert!(r[1].ends_with("carries an MD RAID superblock (metadata 1.2)"));
    }
}
