//! `ipmitool sel elist`: the System Event Log, one entry a line,
//! `id | date | time | sensor | event | direction [| detail]` (the record ID in hex), and
//! what an entry means ([`SelEntry::severity`]).

/// One SEL entry.
#[derive(Debug, Clone, PartialEq)]
pub struct SelEntry {
    /// The record ID (ipmitool prints it in hex).
    pub id: u32,
    /// As the BMC prints it ("04/15/2023", "Pre-Init").
    pub date: String,
    pub time: String,
    /// "Memory #0xb2", "Processor CPU1 Status".
    pub sensor: String,
    /// "Uncorrectable ECC", "Upper Critical going high".
    pub event: String,
    /// "Asserted" or "Deasserted" (absent on OEM records).
    pub direction: Option<String>,
    /// What follows ("CPU 0 DIMM 8", "Reading 95 > Threshold 90 degrees C").
    pub detail: Option<String>,
}

/// How bad an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

/// The SEL, and the lines that were not entries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SelLog {
    pub entries: Vec<SelEntry>,
    pub skipped: Vec<String>,
}

/// Events that mean the hardware failed (matched case-insensitively in the event text of an
/// asserted entry).
const CRITICAL: &[&str] = &[
    "uncorrectable ecc",
    "uncorrectable machine check",
    "uncorrectable error",
    "ierr",
    "thermal trip",
    "frb1",
    "frb2",
    "frb3",
    "machine check exception",
    "processor configuration error",
    "bus fatal error",
    "bus uncorrectable",
    "pci serr",
    "pci perr",
    "fatal nmi",
    "power supply failure detected",
    "failure detected",
    "soft-power control failure",
    "power unit failure",
    "upper critical going high",
    "upper non-recoverable going high",
    "lower critical going low",
    "lower non-recoverable going low",
    "drive fault",
    "memory device disabled",
    "parity",
];

/// Events worth a look that do not fail a machine.
const WARNING: &[&str] = &[
    "correctable ecc",
    "correctable machine check",
    "non-critical",
    "predictive failure",
    "redundancy lost",
    "redundancy degraded",
    "ac lost",
    "power supply input lost",
    "timer expired",
    "hard reset",
    "power cycle",
    "throttl",
];

impl SelEntry {
    /// Critical (asserted failures: uncorrectable ECC, processor IERR or thermal trip,
    /// power unit or supply failure, a critical or non-recoverable threshold crossed, a fatal
    /// bus error, a drive fault), a warning (correctable errors, non-critical crossings, lost
    /// redundancy, AC lost, a watchdog reset), or information. A deasserted entry is a
    /// recovery: information.
    pub fn severity(&self) -> Severity {
        if self
            .direction
            .as_deref()
            .is_some_and(|d| d.eq_ignore_ascii_case("deasserted"))
        {
            return Severity::Info;
        }
        let e = self.event.to_ascii_lowercase();
        // "Correctable ECC" is in "Uncorrectable ECC": the critical list goes first, and a
        // correctable event is not matched by "uncorrectable …".
        if CRITICAL.iter().any(|c| e.contains(c)) {
            return Severity::Critical;
        }
        if WARNING.iter().any(|w| e.contains(w)) {
            return Severity::Warning;
        }
        Severity::Info
    }

    /// The entry on one line, for logs and messages.
    pub fn line(&self) -> String {
        let mut s = format!(
            "#{:x} {} {} {}: {}",
            self.id, self.date, self.time, self.sensor, self.event
        );
        if let Some(d) = &self.direction {
            s.push_str(&format!(" ({})", d.to_ascii_lowercase()));
        }
        if let Some(d) = &self.detail {
            s.push_str(&format!(", {d}"));
        }
        s
    }
}

/// Understand `ipmitool sel elist` (or `sel list`, the same columns without sensor names).
pub fn parse_sel(text: &str) -> Result<SelLog, String> {
    let mut log = SelLog::default();
    let mut said_empty = false;
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if t.eq_ignore_ascii_case("SEL has no entries") {
            said_empty = true;
            continue;
        }
        let f: Vec<&str> = t.split('|').map(str::trim).collect();
        let id = f.first().and_then(|i| u32::from_str_radix(i, 16).ok());
        let (Some(id), true) = (id, f.len() >= 5) else {
            log.skipped
                .push(hwsys::text::escape_controls(t).into_owned());
            continue;
        };
        let esc = |s: &str| hwsys::text::escape_controls(s).into_owned();
        let direction = f
            .get(5)
            .filter(|d| d.eq_ignore_ascii_case("asserted") || d.eq_ignore_ascii_case("deasserted"))
            .map(|d| esc(d));
        let rest_from = if direction.is_some() { 6 } else { 5 };
        let detail: Vec<&str> = f
            .iter()
            .skip(rest_from)
            .copied()
            .filter(|s| !s.is_empty())
            .collect();
        log.entries.push(SelEntry {
            id,
            date: esc(f[1]),
            time: esc(f[2]),
            sensor: esc(f[3]),
            event: esc(f[4]),
            direction,
            detail: (!detail.is_empty()).then(|| esc(&detail.join(" | "))),
        });
    }
    if log.entries.is_empty() && !said_empty {
        return Err(if log.skipped.is_empty() {
            "ipmitool sel elist printed nothing (an empty SEL says \"SEL has no entries\")"
                .to_string()
        } else {
            format!(
                "not ipmitool sel elist output: none of its {} lines is \"id | date | time | \
                 sensor | event | direction\" (first: {})",
                log.skipped.len(),
                log.skipped[0].chars().take(80).collect::<String>()
            )
        });
    }
    Ok(log)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(line: &str) -> SelEntry {
        parse_sel(line).expect("an entry").entries.remove(0)
    }

    #[test]
    fn severities() {
        let ue =
            entry("  3d | 10/02/2025 | 17:33:30 | Memory DIMM A3 | Uncorrectable ECC | Asserted");
        assert_eq!((ue.id, ue.severity()), (0x3d, Severity::Critical));
        let ce = entry(
            "  18 | 01/27/2015 | 11:41:08 | Memory | Correctable ECC | Asserted | CPU 0 DIMM 8",
        );
        assert_eq!(ce.severity(), Severity::Warning);
        assert_eq!(ce.detail.as_deref(), Some("CPU 0 DIMM 8"));
        let back = entry("   2 | 03/29/2026 | 06:15:44 | Temperature #0x30 | Upper Critical going high | Deasserted");
        assert_eq!(back.severity(), Severity::Info);
        let ierr = entry("  a1 | 07/01/2024 | 02:00:00 | Processor CPU1 Status | IERR | Asserted");
        assert_eq!(ierr.severity(), Severity::Critical);
        let boot = entry("   2 | 04/15/2023 | 12:46:36 | System Boot Initiated #0xe5 | Initiated by power up | Asserted");
        assert_eq!(boot.severity(), Severity::Info);
        let oem = entry("   3 | 03/29/2026 | 07:00:03 | OEM record dc | 000000");
        assert_eq!(
            (oem.direction.clone(), oem.severity()),
            (None, Severity::Info)
        );
    }

    #[test]
    fn empty_garbage_truncated() {
        assert!(parse_sel("SEL has no entries\n")
            .expect("empty")
            .entries
            .is_empty());
        assert!(parse_sel("")
            .expect_err("an error")
            .contains("printed nothing"));
        let e = parse_sel("Get SEL Info command failed: Timeout\n").expect_err("an error");
        assert!(e.contains("not ipmitool sel elist output"), "{e}");
        let t = parse_sel("   1 | 04/15/2023 | 12:45:56 | Event Logging Disabled #0xe3 | Log area reset/cleared | Asserted\n   2 | 04/15/20")
            .expect("one whole line");
        assert_eq!(t.entries.len(), 1);
        assert_eq!(t.skipped.len(), 1);
    }
}
