//! The plain sysfs attributes of a block device or partition, read as lsblk reads them:
//! MAJ:MIN, the size in bytes, 0/1 flags, discard limits, the active scheduler, and the
//! `partition` file that tells a partition from a disk.

use hwsys::sysroot::Sysroot;

use super::model::Discard;

/// A 0/1 attribute.
pub(super) fn flag(sys: &Sysroot, rel: &str) -> Option<bool> {
    sys.parse::<u8>(rel).map(|v| v != 0)
}

/// `dir/dev`, "MAJOR:MINOR" (lsblk's MAJ:MIN); anything else is warned about.
pub(super) fn maj_min(sys: &Sysroot, dir: &str) -> Option<String> {
    let rel = format!("{dir}/dev");
    let s = sys.attr(&rel)?;
    let ok = s
        .split_once(':')
        .is_some_and(|(a, b)| a.parse::<u32>().is_ok() && b.parse::<u32>().is_ok());
    if ok {
        Some(s)
    } else {
        sys.warn(
            &rel,
            format!(
                "expected MAJOR:MINOR, found '{}'",
                hwsys::sysroot::shorten(&s)
            ),
        );
        None
    }
}

/// `dir/size`, in 512-byte sectors, as bytes (lsblk's SIZE).
pub(super) fn size_bytes(sys: &Sysroot, dir: &str) -> Option<u64> {
    let rel = format!("{dir}/size");
    let sectors: u64 = sys.parse(&rel)?;
    let bytes = sectors.checked_mul(512);
    if bytes.is_none() {
        sys.warn(&rel, format!("{sectors} sectors overflow a byte count"));
    }
    bytes
}

/// The discard limits, none when the kernel reports none of them.
pub(super) fn discard(sys: &Sysroot, dir: &str, queue: &str) -> Option<Discard> {
    let d = Discard {
        alignment: sys.parse(&format!("{dir}/discard_alignment")),
        granularity: sys.parse(&format!("{queue}/discard_granularity")),
        max_bytes: sys.parse(&format!("{queue}/discard_max_bytes")),
        zeroes: flag(sys, &format!("{queue}/discard_zeroes_data")),
    };
    if d == Discard::default() {
        None
    } else {
        Some(d)
    }
}

/// Whether `dir` is a partition, by its `partition` file (read rather than tested for, so that a
/// recording reader keeps it): `Some(number)`, the number `None` when it is garbage (warned).
pub(super) fn partition_file(sys: &Sysroot, dir: &str) -> Option<Option<u32>> {
    let rel = format!("{dir}/partition");
    let text = sys.read(&rel)?;
    let t = text.trim();
    match t.parse() {
        Ok(n) => Some(Some(n)),
        Err(_) => {
            sys.warn(
                &rel,
                format!("cannot parse '{}'", hwsys::sysroot::shorten(t)),
            );
            Some(None)
        }
    }
}

/// The bracketed entry of `queue/scheduler` ("mq-deadline kyber [bfq] none" → "bfq").
pub(super) fn active_scheduler(s: &str) -> Option<String> {
    let start = s.find('[')?;
    let rest = s.get(start + 1..)?;
    let end = rest.find(']')?;
    let name = rest.get(..end)?.trim();
    (!name.is_empty()).then(|| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedulers() {
        assert_eq!(active_scheduler("noop deadline [cfq] "), Some("cfq".into()));
        assert_eq!(active_scheduler("none"), None);
        assert_eq!(active_scheduler("[]"), None);
    }
}
