//! PCIe Advanced Error Reporting counters (aer_dev_correctable, aer_dev_fatal,
//! aer_dev_nonfatal).

use super::model::{AerCounters, PciAer};
use hwsys::sysroot::Sysroot;

pub(super) fn read_aer(sys: &Sysroot, dir: &str, has: &dyn Fn(&str) -> bool) -> Option<PciAer> {
    let file = |name: &str, total: &str| {
        if !has(name) {
            return None;
        }
        let rel = format!("{dir}/{name}");
        let text = sys.read(&rel)?;
        Some(parse_aer(sys, &rel, &text, total))
    };
    let aer = PciAer {
        correctable: file("aer_dev_correctable", "TOTAL_ERR_COR"),
        fatal: file("aer_dev_fatal", "TOTAL_ERR_FATAL"),
        nonfatal: file("aer_dev_nonfatal", "TOTAL_ERR_NONFATAL"),
    };
    (aer != PciAer::default()).then_some(aer)
}

/// "NAME COUNT" lines; a line that is not one is a warning (once per file).
fn parse_aer(sys: &Sysroot, rel: &str, text: &str, total_name: &str) -> AerCounters {
    let mut out = AerCounters::default();
    let mut bad = 0usize;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let parsed = line
            .rsplit_once(char::is_whitespace)
            .and_then(|(name, n)| Some((name.trim(), n.parse::<u64>().ok()?)))
            .filter(|(name, _)| !name.is_empty());
        match parsed {
            Some((name, n)) if name == total_name => out.total = Some(n),
            Some((name, n)) => {
                out.counts.insert(name.to_string(), n);
            }
            None => bad += 1,
        }
    }
    if bad > 0 {
        sys.warn(
            rel,
            format!("{bad} line(s) are not 'NAME COUNT' and were ignored"),
        );
    }
    out
}
