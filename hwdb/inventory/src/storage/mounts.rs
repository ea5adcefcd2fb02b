//! Mount points and swap areas by device, as lsblk-mnt.c finds them: `proc/self/mountinfo`
//! matched by major:minor or by a `/dev/…` source (each part of a multi-device source
//! `/dev/sdc1:/dev/sdc2`), and `[SWAP]` for the `/dev/…` areas of `proc/swaps`. The files are
//! parsed by [`hwsys::mountinfo`].

use std::collections::BTreeMap;

use hwsys::mountinfo;
use hwsys::sysroot::Sysroot;

/// Mounted filesystems and active swap, by device.
#[derive(Debug, Default)]
pub(super) struct Mounts {
    /// "8:1" → mount points.
    by_devno: BTreeMap<String, Vec<String>>,
    /// "sda1", "mapper/vg-root" (a source under /dev) → mount points.
    by_source: BTreeMap<String, Vec<String>>,
}

impl Mounts {
    pub(super) fn load(sys: &Sysroot) -> Self {
        let mut m = Mounts::default();
        if let Some(text) = sys.read("proc/self/mountinfo") {
            m.add_mountinfo(&text, |line| {
                sys.warn(
                    "proc/self/mountinfo",
                    format!("malformed line {line}, ignored"),
                )
            });
        }
        if let Some(text) = sys.read("proc/swaps") {
            for file in mountinfo::swaps(&text) {
                if let Some(dev) = file.strip_prefix("/dev/") {
                    m.by_source
                        .entry(dev.to_string())
                        .or_default()
                        .push("[SWAP]".into());
                }
            }
        }
        m
    }

    /// Index the mounts of a mountinfo text; `bad` is called with the 1-based number of each
    /// line that is not a mountinfo line.
    fn add_mountinfo(&mut self, text: &str, mut bad: impl FnMut(usize)) {
        let (mounts, bad_lines) = mountinfo::parse(text);
        for line in bad_lines {
            bad(line);
        }
        for m in mounts {
            self.by_devno
                .entry(m.majmin)
                .or_default()
                .push(m.point.clone());
            for part in m.source.split(':') {
                if let Some(dev) = part.strip_prefix("/dev/") {
                    self.by_source
                        .entry(dev.to_string())
                        .or_default()
                        .push(m.point.clone());
                }
            }
        }
    }

    /// Mount points of the device with this major:minor or one of these /dev names.
    pub(super) fn find(&self, devno: Option<&str>, names: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let lists = devno
            .and_then(|d| self.by_devno.get(d))
            .into_iter()
            .chain(names.iter().filter_map(|n| self.by_source.get(n)));
        for list in lists {
            for t in list {
                if !out.contains(t) {
                    out.push(t.clone());
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testutil::write;

    #[test]
    fn mountinfo_by_devno_and_source() {
        let mut m = Mounts::default();
        let mut bad = 0;
        m.add_mountinfo(
            "861 79 8:33 / /mnt/test rw - bcachefs /dev/sdc1:/dev/sdc2 rw\n\
             90 86 0:50 / /nfs rw - nfs srv:/export rw\nshort line\n",
            |_| bad += 1,
        );
        assert_eq!(bad, 1);
        assert_eq!(m.find(Some("8:34"), &["sdc2".into()]), ["/mnt/test"]);
        assert_eq!(m.find(Some("8:33"), &["sdc1".into()]), ["/mnt/test"]);
        assert!(m.find(None, &["srv".into()]).is_empty());
    }

    #[test]
    fn load_warns_about_bad_lines_and_reads_swaps() {
        let d = tempfile::tempdir().expect("tempdir");
        let r = d.path();
        write(
            r,
            "proc/self/mountinfo",
            "61 49 8:1 / /boot/efi\\040x rw,relatime shared:63 - vfat /dev/sda1 rw\ngarbage\n",
        );
        write(
            r,
            "proc/swaps",
            "Filename\tType\tSize\tUsed\tPriority\n/dev/sdb2 partition 1 0 -2\n\
             /swap\\040file file 1 0 -3\n",
        );
        let sys = Sysroot::new(r);
        let m = Mounts::load(&sys);
        assert_eq!(m.find(Some("8:1"), &[]), ["/boot/efi x"]);
        assert_eq!(m.find(None, &["sda1".into()]), ["/boot/efi x"]);
        assert_eq!(m.find(Some("8:18"), &["sdb2".into()]), ["[SWAP]"]);
        let w = sys.warnings();
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].path, "/proc/self/mountinfo");
        assert_eq!(w[0].message, "malformed line 2, ignored");
    }
}
