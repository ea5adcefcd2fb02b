//! `/proc/self/mountinfo` and `/proc/swaps`, as the kernel writes them (proc(5)): space-separated
//! fields in which a space, tab, newline and backslash are written as octal escapes (`\040`).

/// One line of mountinfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// `major:minor` of the mounted device (st_dev).
    pub majmin: String,
    /// The root of the mount within its filesystem.
    pub root: String,
    /// The mount point.
    pub point: String,
    /// Per-mount options (`rw,relatime`).
    pub options: String,
    pub fstype: String,
    /// The mount source (`/dev/sda1`, `tmpfs`, `server:/export`).
    pub source: String,
}

/// Undo the kernel's octal escapes (`\040` is a space). A backslash not followed by three
/// octal digits, or by a value above 255 (`\777`), stays as it is.
pub fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'\\' {
            if let Some(oct) = b.get(i + 1..i + 4) {
                if oct.iter().all(|d| (b'0'..=b'7').contains(d)) {
                    let v = oct
                        .iter()
                        .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
                    if let Ok(byte) = u8::try_from(v) {
                        out.push(byte);
                        i += 4;
                        continue;
                    }
                }
            }
        }
        out.push(c);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parse mountinfo: the mounts, and the 1-based numbers of the lines that are not mountinfo
/// lines (blank lines are neither).
pub fn parse(text: &str) -> (Vec<Mount>, Vec<usize>) {
    let mut mounts = Vec::new();
    let mut bad = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        // Six fixed fields, optional fields, "-", then type, source and super options.
        let sep = f.iter().position(|x| *x == "-");
        match (sep, f.get(2), f.get(3), f.get(4), f.get(5)) {
            (Some(sep), Some(majmin), Some(root), Some(point), Some(options)) if sep >= 6 => {
                let (Some(fstype), source) = (f.get(sep + 1), f.get(sep + 2)) else {
                    bad.push(i + 1);
                    continue;
                };
                mounts.push(Mount {
                    majmin: (*majmin).to_string(),
                    root: unescape(root),
                    point: unescape(point),
                    options: (*options).to_string(),
                    fstype: unescape(fstype),
                    source: source.map(|s| unescape(s)).unwrap_or_default(),
                });
            }
            _ => bad.push(i + 1),
        }
    }
    (mounts, bad)
}

/// The swap areas of `/proc/swaps` (its first column, escapes undone; the header skipped).
pub fn swaps(text: &str) -> Vec<String> {
    text.lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .map(unescape)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(unescape("/mnt/a\\040b\\"), "/mnt/a b\\");
        assert_eq!(unescape("/srv/my\\040data"), "/srv/my data");
        assert_eq!(unescape("a\\134b"), "a\\b");
        // Above 255 in octal: kept as written, never wrapped into a byte.
        for s in ["\\777x", "\\400", "\\477", "\\5", "\\08"] {
            assert_eq!(unescape(s), s);
        }
        assert_eq!(unescape(""), "");
    }

    #[test]
    fn lines() {
        let text = "36 35 98:0 /mnt1 /mnt/a\\040b rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n\
                    \n\
                    garbage\n\
                    40 27 8:17 /data /srv/x ro,nosuid shared:5 - xfs /dev/sdb1 rw\n\
                    41 27 0:50 / /run rw - tmpfs\n\
                    1 2 3 4 5 -\n";
        let (m, bad) = parse(text);
        assert_eq!(bad, vec![3, 6]);
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].point, "/mnt/a b");
        assert_eq!(m[0].root, "/mnt1");
        assert_eq!(m[0].majmin, "98:0");
        assert_eq!(m[0].fstype, "ext3");
        assert_eq!(m[0].source, "/dev/root");
        assert_eq!(m[1].options, "ro,nosuid");
        assert_eq!(m[2].source, "");
        let (m, bad) = parse("36 35 98:0 / / rw - ext4 /dev/vda \\777\n");
        assert!(bad.is_empty() && m[0].source == "/dev/vda");
    }

    #[test]
    fn swap_areas() {
        let t = "Filename\tType\tSize\tUsed\tPriority\n/dev/vdb2 partition 1 0 -2\n/swap\\040file file 1 0 -3\n";
        assert_eq!(swaps(t), vec!["/dev/vdb2", "/swap file"]);
        assert!(swaps("").is_empty());
    }
}
