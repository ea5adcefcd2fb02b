//! Hardware error counters read before and after a stressor.
//!
//! * EDAC memory controllers (`sys/devices/system/edac/mc/mc*/`): `ce_count`, `ue_count`,
//!   `ce_noinfo_count`, `ue_noinfo_count`, and per DIMM `dimm*/dimm_ce_count`,
//!   `dimm*/dimm_ue_count` named by their `dimm_label` (x86 and arm64 GHES alike).
//! * Machine checks from `proc/interrupts`, per CPU: `MCE` (machine-check exceptions), `THR`
//!   (threshold interrupts: corrected errors over the bank's threshold) and `DFR` (AMD deferred
//!   errors). `MCP` (machine-check polls) counts polls, not errors, and is ignored.
//!
//! * PCIe AER totals of one PCI function (a disk's controller, [`Counters::add_aer`]).
//!
//! `sys/devices/system/machinecheck/machinecheck*/` holds the MCA bank *controls* (bank masks,
//! `check_interval`, `tolerant`), not counts, so it is only used to say whether MCA is present.
//! Any counter that grows during the run is a new hardware error: the case fails and names it.

use std::collections::BTreeMap;

use hwsys::Sysroot;

/// Counter name → value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters(pub BTreeMap<String, u64>);

/// `proc/interrupts` rows that count machine-check errors.
const MCE_ROWS: [(&str, &str); 3] = [
    ("MCE", "machine-check exceptions"),
    ("THR", "threshold APIC interrupts (corrected errors)"),
    ("DFR", "deferred error interrupts"),
];

impl Counters {
    /// Read every counter that exists.
    pub fn read(sys: &Sysroot) -> Counters {
        let mut m = BTreeMap::new();
        let base = "sys/devices/system/edac/mc";
        for mc in sys.list_dir(base) {
            if !mc.starts_with("mc") {
                continue;
            }
            for f in ["ce_count", "ue_count", "ce_noinfo_count", "ue_noinfo_count"] {
                if let Some(v) = sys.parse::<u64>(&format!("{base}/{mc}/{f}")) {
                    m.insert(format!("EDAC {mc} {f}"), v);
                }
            }
            for d in sys.list_dir(&format!("{base}/{mc}")) {
                if !(d.starts_with("dimm") || d.starts_with("rank")) {
                    continue;
                }
                let label = sys
                    .attr(&format!("{base}/{mc}/{d}/dimm_label"))
                    .map(|l| format!(" ({l})"))
                    .unwrap_or_default();
                for f in ["dimm_ce_count", "dimm_ue_count"] {
                    if let Some(v) = sys.parse::<u64>(&format!("{base}/{mc}/{d}/{f}")) {
                        m.insert(format!("EDAC {mc} {d}{label} {f}"), v);
                    }
                }
            }
        }
        if let Some(text) = sys.read("proc/interrupts") {
            parse_interrupts(&text, &mut m);
        }
        Counters(m)
    }

    /// Counters that grew (or appeared non-zero) since `before`, as "name: a → b" lines.
    pub fn new_errors(&self, before: &Counters) -> Vec<String> {
        self.0
            .iter()
            .filter_map(|(k, &after)| {
                let was = before.0.get(k).copied().unwrap_or(0);
                (after > was).then(|| format!("{k}: {was} → {after}"))
            })
            .collect()
    }

    /// Add the PCIe AER totals of one PCI function (`aer_dev_correctable`, `aer_dev_nonfatal`,
    /// `aer_dev_fatal`: their `TOTAL_ERR_*` lines).
    pub fn add_aer(&mut self, sys: &Sysroot, pci: &str) {
        for f in ["aer_dev_correctable", "aer_dev_nonfatal", "aer_dev_fatal"] {
            let Some(text) = sys.read(&format!("sys/bus/pci/devices/{pci}/{f}")) else {
                continue;
            };
            for line in text.lines() {
                let mut p = line.split_whitespace();
                if let (Some(k), Some(v)) = (p.next(), p.next()) {
                    if let (true, Ok(v)) = (k.starts_with("TOTAL_"), v.parse::<u64>()) {
                        self.0.insert(format!("AER {pci} {k}"), v);
                    }
                }
            }
        }
    }

    /// Whether any EDAC counter exists (memory error reporting is active).
    pub fn has_edac(&self) -> bool {
        self.0.keys().any(|k| k.starts_with("EDAC"))
    }
}

/// Whether the kernel's machine-check architecture is present.
pub fn has_mca(sys: &Sysroot) -> bool {
    !sys.list_dir("sys/devices/system/machinecheck").is_empty()
}

/// The MCE/THR/DFR rows of `proc/interrupts`, one counter per CPU column.
fn parse_interrupts(text: &str, out: &mut BTreeMap<String, u64>) {
    let mut lines = text.lines();
    let Some(header) = lines.next() else { return };
    let cpus: Vec<String> = header
        .split_whitespace()
        .map(|c| c.to_ascii_lowercase())
        .collect();
    for line in lines {
        let Some((name, rest)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim();
        let Some((_, what)) = MCE_ROWS.iter().find(|(n, _)| *n == name) else {
            continue;
        };
        for (i, v) in rest.split_whitespace().take(cpus.len()).enumerate() {
            if let Ok(v) = v.parse::<u64>() {
                out.insert(format!("{name} {what} on {}", cpus[i]), v);
            } else {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::path::Path;

    fn write(root: &Path, rel: &str, s: &str) {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        fs::write(p, s).expect("write");
    }

    const INTERRUPTS: &str = "           CPU0       CPU1       \n\
  0:         44          0   IO-APIC   2-edge      timer\n\
NMI:          0          0   Non-maskable interrupts\n\
MCE:          0          0   Machine check exceptions\n\
MCP:         12         12   Machine check polls\n\
THR:          0          0   Threshold APIC interrupts\n";

    #[test]
    fn new_mce_and_edac_errors_are_named() {
        let d = tempfile::tempdir().expect("tempdir");
        let r = d.path();
        write(r, "proc/interrupts", INTERRUPTS);
        write(r, "sys/devices/system/edac/mc/mc0/ce_count", "3\n");
        write(r, "sys/devices/system/edac/mc/mc0/ue_count", "0\n");
        write(
            r,
            "sys/devices/system/edac/mc/mc0/dimm2/dimm_ce_count",
            "3\n",
        );
        write(
            r,
            "sys/devices/system/edac/mc/mc0/dimm2/dimm_label",
            "CPU0_DIMM_A2\n",
        );
        let sys = Sysroot::new(r);
        let before = Counters::read(&sys);
        assert!(before.has_edac());
        assert_eq!(before.0["MCE machine-check exceptions on cpu1"], 0);
        assert!(!before.0.keys().any(|k| k.starts_with("MCP")));

        // Polls go up (not errors), one MCE on CPU1, one corrected error on a DIMM.
        write(
            r,
            "proc/interrupts",
            &INTERRUPTS
                .replace("MCE:          0          0", "MCE:          0          1")
                .replace("MCP:         12         12", "MCP:         13         13"),
        );
        write(r, "sys/devices/system/edac/mc/mc0/ce_count", "4\n");
        write(
            r,
            "sys/devices/system/edac/mc/mc0/dimm2/dimm_ce_count",
            "4\n",
        );
        let sys = Sysroot::new(r);
        let after = Counters::read(&sys);
        let new = after.new_errors(&before);
        assert_eq!(
            new,
            [
                "EDAC mc0 ce_count: 3 → 4",
                "EDAC mc0 dimm2 (CPU0_DIMM_A2) dimm_ce_count: 3 → 4",
                "MCE machine-check exceptions on cpu1: 0 → 1",
            ]
        );
        assert!(before.new_errors(&before).is_empty());
    }

    #[test]
    fn aer_totals_of_the_controller_are_counted() {
        let d = tempfile::tempdir().expect("tempdir");
        let dev = "sys/bus/pci/devices/0000:3b:00.0";
        write(
            d.path(),
            &format!("{dev}/aer_dev_correctable"),
            "RxErr 0\nBadTLP 2\nTOTAL_ERR_COR 2\n",
        );
        write(
            d.path(),
            &format!("{dev}/aer_dev_fatal"),
            "TOTAL_ERR_FATAL 0\n",
        );
        let sys = Sysroot::new(d.path());
        let mut c = Counters::default();
        c.add_aer(&sys, "0000:3b:00.0");
        assert_eq!(c.0.len(), 2);
        assert_eq!(c.0["AER 0000:3b:00.0 TOTAL_ERR_COR"], 2);
        assert_eq!(c.0["AER 0000:3b:00.0 TOTAL_ERR_FATAL"], 0);
    }

    #[test]
    fn garbage_and_missing_files_give_no_counters() {
        let d = tempfile::tempdir().expect("tempdir");
        write(d.path(), "proc/interrupts", "garbage\nMCE: x y\n");
        write(
            d.path(),
            "sys/devices/system/edac/mc/mc0/ce_count",
            "many\n",
        );
        let sys = Sysroot::new(d.path());
        assert!(Counters::read(&sys).0.is_empty());
        assert!(!has_mca(&sys));
    }
}
