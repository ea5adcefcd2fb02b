//! The kernel log since boot: read from `/dev/kmsg` on the live system, or from a recorded
//! sysroot's `dev/kmsg` (a regular file of kmsg records) or `var/log/dmesg` (dmesg text).
//!
//! `/dev/kmsg` is read with `O_NONBLOCK` until `EAGAIN`: one record per `read`, never waiting
//! for new messages. Opening it needs root or `kernel.dmesg_restrict=0`; without either the
//! log is unavailable and the reason says so. Records the ring buffer overwrote before the
//! read are counted (the first sequence number is not 0, or `read` said `EPIPE`).

use std::io::{ErrorKind, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::time::{Duration, Instant};

use hwsys::Sysroot;

/// One kernel log record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The syslog level (0 emerg … 7 debug), when known.
    pub level: Option<u8>,
    /// The record's sequence number (kmsg only).
    pub seq: Option<u64>,
    /// Microseconds since boot, when known.
    pub usec: Option<u64>,
    /// The message, with kmsg's `\xNN` escapes decoded.
    pub text: String,
}

impl Record {
    /// The record as dmesg prints it: `[   12.345678] text`.
    pub fn display(&self) -> String {
        match self.usec {
            Some(us) => format!(
                "[{:>5}.{:06}] {}",
                us / 1_000_000,
                us % 1_000_000,
                self.text
            ),
            None => self.text.clone(),
        }
    }
}

/// The kernel log and where it came from.
#[derive(Debug, Clone, Default)]
pub struct KernelLog {
    pub records: Vec<Record>,
    /// `/dev/kmsg`, `dev/kmsg in the sysroot`, …
    pub source: String,
    /// Records lost before or while reading (overwritten in the ring buffer).
    pub lost: u64,
}

/// Most records read from /dev/kmsg (the ring buffer holds far fewer; this only bounds a
/// kernel that logs faster than we read).
const MAX_RECORDS: usize = 1 << 20;
/// Longest time spent reading /dev/kmsg.
const MAX_READ: Duration = Duration::from_secs(10);

/// Read the kernel log of the machine `sys` describes; the error is why there is none.
pub fn read(sys: &Sysroot) -> Result<KernelLog, String> {
    if sys.is_live() {
        return read_live("/dev/kmsg");
    }
    if sys.exists("dev/kmsg") {
        let text = sys
            .read("dev/kmsg")
            .ok_or_else(|| "dev/kmsg in the sysroot is not a readable text file".to_string())?;
        let records = parse_kmsg(&text);
        let lost = records.first().and_then(|r| r.seq).unwrap_or(0);
        return Ok(KernelLog {
            records,
            source: "dev/kmsg in the sysroot".into(),
            lost,
        });
    }
    if sys.exists("var/log/dmesg") {
        let text = sys.read("var/log/dmesg").ok_or_else(|| {
            "var/log/dmesg in the sysroot is not a readable text file".to_string()
        })?;
        return Ok(KernelLog {
            records: parse_dmesg(&text),
            source: "var/log/dmesg in the sysroot".into(),
            lost: 0,
        });
    }
    Err("the sysroot has no kernel log (neither dev/kmsg nor var/log/dmesg)".into())
}

/// Read a kmsg device (or a file of records) without blocking.
pub fn read_live(path: &str) -> Result<KernelLog, String> {
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::EPERM) | Some(libc::EACCES) => format!(
                "{path}: permission denied: reading the kernel log needs root or \
                 kernel.dmesg_restrict=0"
            ),
            _ => format!("{path}: {}", crate::util::os_error(&e)),
        })?;
    let mut log = KernelLog {
        source: path.to_string(),
        ..KernelLog::default()
    };
    let mut buf = vec![0u8; 16 * 1024];
    let start = Instant::now();
    let mut pending = String::new();
    loop {
        if log.records.len() >= MAX_RECORDS || start.elapsed() > MAX_READ {
            break;
        }
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                // A device returns one record per read; a plain file returns many.
                pending.push_str(&String::from_utf8_lossy(&buf[..n]));
                while let Some(i) = pending.find('\n') {
                    let line: String = pending.drain(..=i).collect();
                    if let Some(r) = parse_kmsg_record(line.trim_end_matches('\n')) {
                        log.records.push(r);
                    }
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if e.raw_os_error() == Some(libc::EPIPE) => {
                // Overwritten while we read: the next read continues after the gap.
                log.lost += 1;
                continue;
            }
            Err(e) => return Err(format!("{path}: {}", crate::util::os_error(&e))),
        }
    }
    if let Some(r) = parse_kmsg_record(pending.trim_end_matches('\n')) {
        log.records.push(r);
    }
    if let Some(first) = log.records.first().and_then(|r| r.seq) {
        log.lost += first;
    }
    Ok(log)
}

/// Parse a file of kmsg records (continuation lines, which start with a space, are the
/// records' dictionaries and are skipped).
pub fn parse_kmsg(text: &str) -> Vec<Record> {
    text.lines().filter_map(parse_kmsg_record).collect()
}

/// Parse one kmsg record: `prio,seq,usec,flags[,…];message`.
pub fn parse_kmsg_record(line: &str) -> Option<Record> {
    if line.starts_with(' ') || line.is_empty() {
        return None;
    }
    let (head, msg) = line.split_once(';')?;
    let mut fields = head.split(',');
    let prio: u32 = fields.next()?.trim().parse().ok()?;
    let seq: u64 = fields.next()?.trim().parse().ok()?;
    let usec: u64 = fields.next()?.trim().parse().ok()?;
    Some(Record {
        level: Some((prio & 7) as u8),
        seq: Some(seq),
        usec: Some(usec),
        text: unescape(msg),
    })
}

/// Parse dmesg text: `[    1.234567] message` lines, or bare messages.
pub fn parse_dmesg(text: &str) -> Vec<Record> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let t = l.trim_start();
            if let Some(rest) = t.strip_prefix('[') {
                if let Some((ts, msg)) = rest.split_once(']') {
                    if let Some(usec) = parse_seconds(ts.trim()) {
                        return Record {
                            level: None,
                            seq: None,
                            usec: Some(usec),
                            text: msg.strip_prefix(' ').unwrap_or(msg).to_string(),
                        };
                    }
                }
            }
            Record {
                level: None,
                seq: None,
                usec: None,
                text: l.to_string(),
            }
        })
        .collect()
}

/// "12.345678" → microseconds.
fn parse_seconds(s: &str) -> Option<u64> {
    let (secs, frac) = s.split_once('.').unwrap_or((s, "0"));
    let secs: u64 = secs.parse().ok()?;
    if frac.is_empty() || frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut f = frac.to_string();
    f.truncate(6);
    while f.len() < 6 {
        f.push('0');
    }
    let us: u64 = f.parse().ok()?;
    secs.checked_mul(1_000_000)?.checked_add(us)
}

/// Decode kmsg's `\xNN` escapes.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1] == b'x' {
            if let Ok(v) = u8::from_str_radix(&s[i + 2..i + 4], 16) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What a line of the kernel log reports that a certified machine must not: the kind, or
/// `None` for an ordinary line.
pub fn problem(text: &str) -> Option<&'static str> {
    if text.contains("Oops:") || text.contains("Oops -") {
        return Some("oops");
    }
    if text.contains("Kernel panic") {
        return Some("panic");
    }
    // Case matters: "[Firmware Bug]:" is a firmware note, "BUG:" is the kernel's.
    if text.contains("BUG:") || text.contains("kernel BUG at") {
        return Some("BUG");
    }
    if text.contains("Call Trace:") || text.contains("Call trace:") {
        return Some("call trace");
    }
    let lower = text.to_ascii_lowercase();
    if lower.contains("hardware error") {
        return Some("hardware error");
    }
    if lower.contains("machine check") {
        return Some("machine check");
    }
    if text.contains("I/O error") && !is_virtual_block_device(text) {
        return Some("I/O error");
    }
    None
}

/// I/O errors of loop, nbd, zram and ram disks are about files and networks, not hardware.
fn is_virtual_block_device(text: &str) -> bool {
    ["dev loop", "dev nbd", "dev zram", "dev ram"]
        .iter()
        .any(|p| text.contains(p))
}

/// Whether a line says a clocksource was found unstable.
pub fn clocksource_unstable(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.contains("unstable") && (lower.contains("clocksource") || lower.contains("tsc"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kmsg_records() {
        let r = parse_kmsg_record("6,17,70,-;tsc: Detected 2445.428 MHz processor").expect("r");
        assert_eq!(r.level, Some(6));
        assert_eq!(r.seq, Some(17));
        assert_eq!(
            r.display(),
            "[    0.000070] tsc: Detected 2445.428 MHz processor"
        );
        let r = parse_kmsg_record("3,5,1500000,-,caller=T1;a\\x0ab\\x5c").expect("r");
        assert_eq!(r.text, "a\nb\\");
        assert_eq!(r.level, Some(3));
        assert_eq!(parse_kmsg_record(" SUBSYSTEM=pci"), None);
        assert_eq!(parse_kmsg_record("garbage"), None);
        assert_eq!(parse_kmsg_record("x,y,z;m"), None);
        assert_eq!(parse_kmsg_record(""), None);
        assert_eq!(unescape("\\x"), "\\x");
        assert_eq!(unescape("\\xzz"), "\\xzz");
        assert_eq!(unescape("end\\x4"), "end\\x4");
    }

    #[test]
    fn dmesg_text() {
        let r = parse_dmesg(
            "[    0.392010] clocksource: Switched to clocksource kvm-clock\nplain\n[x] y\n",
        );
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].usec, Some(392_010));
        assert_eq!(r[0].text, "clocksource: Switched to clocksource kvm-clock");
        assert_eq!(r[1].usec, None);
        assert_eq!(r[2].text, "[x] y");
        assert_eq!(parse_seconds("1.5"), Some(1_500_000));
        assert_eq!(parse_seconds("99999999999999999999.1"), None);
    }

    #[test]
    fn problems() {
        assert_eq!(
            problem("[Firmware Bug]: TSC doesn't count with P0 frequency!"),
            None
        );
        assert_eq!(
            problem("PCI: Using host bridge windows from ACPI; if necessary, use \"pci=nocrs\" and report a bug"),
            None
        );
        assert_eq!(problem("mce: CPU0: Thermal monitoring enabled (TM1)"), None);
        assert_eq!(problem("MCE: In-kernel MCE decoding enabled."), None);
        assert_eq!(
            problem("BUG: kernel NULL pointer dereference, address: 0000000000000000"),
            Some("BUG")
        );
        assert_eq!(problem("Oops: 0000 [#1] SMP NOPTI"), Some("oops"));
        assert_eq!(
            problem("Internal error: Oops: 96000005 [#1] SMP"),
            Some("oops")
        );
        assert_eq!(problem("Call Trace:"), Some("call trace"));
        assert_eq!(problem("Call trace:"), Some("call trace"));
        assert_eq!(
            problem("mce: [Hardware Error]: Machine check events logged"),
            Some("hardware error")
        );
        assert_eq!(
            problem(
                "{1}[Hardware Error]: Hardware error from APEI Generic Hardware Error Source: 0"
            ),
            Some("hardware error")
        );
        assert_eq!(
            problem("blk_update_request: I/O error, dev sdb, sector 2048 op 0x0:(READ)"),
            Some("I/O error")
        );
        assert_eq!(
            problem("I/O error, dev loop3, sector 0 op 0x0:(READ)"),
            None
        );
        assert_eq!(
            problem("Kernel panic - not syncing: Fatal exception"),
            Some("panic")
        );
    }

    #[test]
    fn unstable_clocksources() {
        assert!(clocksource_unstable(
            "clocksource: timekeeping watchdog on CPU3: Marking clocksource 'tsc' as unstable because the skew is too large:"
        ));
        assert!(clocksource_unstable(
            "tsc: Marking TSC unstable due to clocksource watchdog"
        ));
        assert!(clocksource_unstable(
            "TSC found unstable after boot, most likely due to broken BIOS. Use 'tsc=unstable'."
        ));
        assert!(!clocksource_unstable(
            "clocksource: Switched to clocksource tsc"
        ));
        assert!(!clocksource_unstable(
            "sched_clock: Marking stable (1160006452, 30102227)->(1205418484, -15309805)"
        ));
    }

    #[test]
    fn live_kmsg_is_read_or_refused_with_a_reason() {
        match read_live("/dev/kmsg") {
            Ok(log) => assert!(!log.records.is_empty(), "a booted kernel has logged"),
            Err(e) => assert!(e.contains("/dev/kmsg"), "{e}"),
        }
        let e = read_live("/nonexistent/kmsg").expect_err("missing");
        assert!(e.contains("No such file") || e.contains("no such"), "{e}");
    }

    #[test]
    fn a_plain_file_of_records_reads_too() {
        let d = tempfile::tempdir().expect("tmp");
        let p = d.path().join("kmsg");
        std::fs::write(
            &p,
            "6,3,10,-;one\n SUBSYSTEM=x\n4,4,20,-;two\n4,5,30,-;three",
        )
        .expect("w");
        let log = read_live(p.to_str().expect("utf8")).expect("read");
        let texts: Vec<&str> = log.records.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(texts, ["one", "two", "three"]);
        assert_eq!(log.lost, 3, "the first record is number 3");
    }
}
