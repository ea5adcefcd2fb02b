//! Memory cases.
//!
//! * `memory::size_consistent` — three views of the memory size agree:
//!   - MemTotal (what the kernel manages) against the online memory blocks: the kernel keeps
//!     its page tables (`struct page`, 64 bytes per 4 KiB page: 1.6 %), its image and early
//!     reservations, so MemTotal may fall short of the blocks by **4 % + 512 MiB**, plus the
//!     crash kernel reservation (`sys/kernel/kexec_crash_size`) and boot-time gigantic (1 GiB)
//!     huge pages, which are taken before MemTotal is counted. MemTotal above the blocks by
//!     more than one block is a fail too.
//!   - The online blocks against the DIMMs' total (SMBIOS type 17): firmware reservations and
//!     the MMIO hole below 4 GiB may cost **max(2 GiB, 3 %)** — but never as much as half the
//!     smallest DIMM, so one DIMM the OS does not see always fails. (Memory mirroring or sparing
//!     set in the firmware also fails, with the numbers: say so in the report.) More online
//!     memory than DIMMs is logged, not failed (HBM, CXL or a firmware table that undercounts).
//!   - Without blocks, MemTotal is compared with the DIMMs with both tolerances.
//! * `memory::edac_clean` — every EDAC memory controller's corrected and uncorrected error
//!   counters (controller, csrow and DIMM/rank level) are 0. No EDAC memory controller skips with
//!   the reason (virtual machines have none; on bare metal the platform's EDAC driver is not
//!   loaded).

use hwsys::units::iec;

use crate::util::{self, machine, reads_files, Spec};
use crate::{Case, Component, Context, Verdict};

const GIB: u64 = 1 << 30;
const MIB: u64 = 1 << 20;

pub(crate) fn cases() -> Vec<Box<dyn Case>> {
    vec![
        Spec {
            name: "memory::size_consistent",
            purpose: "MemTotal, the online memory blocks and the DIMMs agree (within kernel and firmware reservations)",
            component: Component::Memory,
            blocker: true,
            timeout: 10,
            estimate_ms: 50,
            requirements: reads_files(),
            select: machine,
            run: size_consistent,
        }
        .build(),
        Spec {
            name: "memory::edac_clean",
            purpose: "No corrected or uncorrected memory error counted by EDAC",
            component: Component::Memory,
            blocker: true,
            timeout: 30,
            estimate_ms: 100,
            requirements: reads_files(),
            select: machine,
            run: edac_clean,
        }
        .build(),
    ]
}

// ---------------------------------------------------------------------------------------------
// size_consistent

/// The numbers the size check compares.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sizes {
    pub mem_total: Option<u64>,
    pub online: Option<u64>,
    pub block_size: Option<u64>,
    pub dimm_total: Option<u64>,
    /// The smallest populated DIMM.
    pub smallest_dimm: Option<u64>,
    /// Crash kernel reservation.
    pub crash: u64,
    /// Boot-time gigantic huge pages (size >= 1 GiB × count).
    pub gigantic: u64,
}

/// How far MemTotal may fall below the online blocks.
pub fn kernel_allowance(s: &Sizes, online: u64) -> u64 {
    (online / 25)
        .saturating_add(512 * MIB)
        .saturating_add(s.crash)
        .saturating_add(s.gigantic)
}

/// How far the online blocks may fall below the DIMMs' total.
pub fn firmware_allowance(s: &Sizes, dimms: u64) -> u64 {
    let a = (2 * GIB).max(dimms / 100 * 3);
    match s.smallest_dimm {
        Some(d) if d > 0 => a.min(d / 2),
        _ => a,
    }
}

/// Compare; `Err` holds the problems. Log lines go to `log`.
pub fn check_sizes(s: &Sizes, log: &mut Vec<String>) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    let b = iec;
    let Some(total) = s.mem_total else {
        return Err(vec!["no MemTotal in /proc/meminfo".into()]);
    };
    let online = s.online.filter(|o| *o > 0);
    if let Some(online) = online {
        let allow = kernel_allowance(s, online);
        log.push(format!(
            "MemTotal {} vs online blocks {}: kernel may keep up to {}",
            b(total),
            b(online),
            b(allow)
        ));
        if total.saturating_add(allow) < online {
            problems.push(format!(
                "MemTotal {} is {} below the online memory blocks ({}); at most {} is explained \
                 by kernel reservations, crashkernel and gigantic pages",
                b(total),
                b(online - total),
                b(online),
                b(allow)
            ));
        }
        let block = s.block_size.unwrap_or(128 * MIB);
        if total > online.saturating_add(block) {
            problems.push(format!(
                "MemTotal {} exceeds the online memory blocks ({})",
                b(total),
                b(online)
            ));
        }
    } else {
        log.push(
            "no memory blocks (sys/devices/system/memory): MemTotal vs blocks not checked".into(),
        );
    }
    match s.dimm_total.filter(|d| *d > 0) {
        Some(dimms) => {
            let (seen, what, allow) = match online {
                Some(o) => (o, "online memory", firmware_allowance(s, dimms)),
                None => (
                    total,
                    "MemTotal",
                    firmware_allowance(s, dimms).saturating_add(kernel_allowance(s, total)),
                ),
            };
            log.push(format!(
                "DIMMs {} vs {what} {}: firmware may keep up to {}",
                b(dimms),
                b(seen),
                b(allow)
            ));
            if seen.saturating_add(allow) < dimms {
                problems.push(format!(
                    "{what} {} is {} below the DIMMs' total {} (more than the {} firmware \
                     reservations explain: a DIMM not seen by the OS, or mirroring/sparing set in \
                     the firmware)",
                    b(seen),
                    b(dimms - seen),
                    b(dimms),
                    b(allow)
                ));
            } else if seen > dimms.saturating_add(s.block_size.unwrap_or(128 * MIB)) {
                log.push(format!(
                    "note: {what} {} exceeds the DIMMs' total {} (memory the SMBIOS table does \
                     not list: HBM, CXL, or an incomplete table)",
                    b(seen),
                    b(dimms)
                ));
            }
        }
        None => log.push(
            "no DIMM sizes (SMBIOS type 17 needs root and a platform with DMI): DIMM total not \
             checked"
                .into(),
        ),
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn size_consistent(ctx: &mut Context<'_>) -> Verdict {
    let m = &ctx.inventory.memory;
    let populated: Vec<u64> = m
        .dimms
        .iter()
        .filter(|d| d.populated)
        .filter_map(|d| d.size_bytes)
        .filter(|s| *s > 0)
        .collect();
    let gigantic = m
        .huge_pages
        .as_ref()
        .map(|h| {
            h.pools
                .iter()
                .filter(|p| p.size_bytes >= GIB)
                .map(|p| p.size_bytes.saturating_mul(p.nr))
                .sum::<u64>()
        })
        .unwrap_or(0);
    let s = Sizes {
        mem_total: m.total_bytes,
        online: m.online_bytes,
        block_size: m.block_size_bytes,
        dimm_total: m.dimm_total_bytes,
        smallest_dimm: populated.iter().copied().min(),
        crash: ctx
            .sysroot
            .parse::<u64>("sys/kernel/kexec_crash_size")
            .unwrap_or(0),
        gigantic,
    };
    if s.mem_total.is_none() {
        return Verdict::skip("no MemTotal (proc/meminfo missing or unreadable)");
    }
    if s.online.unwrap_or(0) == 0 && s.dimm_total.unwrap_or(0) == 0 {
        return Verdict::skip(
            "nothing to compare MemTotal with: no memory blocks (sys/devices/system/memory) and \
             no DIMM table (SMBIOS type 17)",
        );
    }
    let gib = |v: u64| v as f64 / GIB as f64;
    if let Some(t) = s.mem_total {
        ctx.measure("mem_total", gib(t), "GiB");
    }
    if let Some(o) = s.online.filter(|o| *o > 0) {
        ctx.measure("online", gib(o), "GiB");
    }
    if let Some(d) = s.dimm_total {
        ctx.measure("dimm_total", gib(d), "GiB");
    }
    let mut log = Vec::new();
    let r = check_sizes(&s, &mut log);
    for l in log {
        ctx.log(l);
    }
    match r {
        Ok(()) => Verdict::Pass,
        Err(p) => Verdict::fail(
            "MemTotal, online memory and DIMMs agree within the documented reservations",
            p.join("; "),
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// edac_clean

const EDAC_MC: &str = "sys/devices/system/edac/mc";

/// Non-zero EDAC counters: "mc0/dimm2 (CPU_SrcID#0_Ha#0_Chan#0_DIMM#0) dimm_ce_count 3".
/// Also returns the controller-level corrected and uncorrected totals.
pub fn edac_counters(sys: &hwsys::Sysroot, controllers: &[String]) -> (Vec<String>, u64, u64) {
    let mut bad = Vec::new();
    let (mut ce, mut ue) = (0u64, 0u64);
    for mc in controllers {
        let dir = format!("{EDAC_MC}/{mc}");
        for (file, total) in [
            ("ce_count", Some(&mut ce)),
            ("ue_count", Some(&mut ue)),
            ("ce_noinfo_count", None),
            ("ue_noinfo_count", None),
        ] {
            if let Some(n) = sys.parse::<u64>(&format!("{dir}/{file}")) {
                if let Some(t) = total {
                    *t += n;
                }
                if n > 0 {
                    bad.push(format!("{mc} {file} {n}"));
                }
            }
        }
        for sub in sys.list_dir(&dir) {
            let sdir = format!("{dir}/{sub}");
            let files: &[&str] = if sub.starts_with("dimm") || sub.starts_with("rank") {
                &["dimm_ce_count", "dimm_ue_count"]
            } else if sub.starts_with("csrow") {
                &["ce_count", "ue_count"]
            } else {
                continue;
            };
            let label = sys
                .attr(&format!("{sdir}/dimm_label"))
                .or_else(|| sys.attr(&format!("{sdir}/ch0_dimm_label")))
                .map(|l| format!(" ({l})"))
                .unwrap_or_default();
            for f in files {
                if let Some(n) = sys.parse::<u64>(&format!("{sdir}/{f}")) {
                    if n > 0 {
                        bad.push(format!("{mc}/{sub}{label} {f} {n}"));
                    }
                }
            }
        }
    }
    (bad, ce, ue)
}

fn edac_clean(ctx: &mut Context<'_>) -> Verdict {
    let controllers: Vec<String> = ctx
        .sysroot
        .list_dir(EDAC_MC)
        .into_iter()
        .filter(|n| {
            n.strip_prefix("mc")
                .is_some_and(|i| i.parse::<u32>().is_ok())
        })
        .collect();
    if controllers.is_empty() {
        if let Some(h) = util::virtual_machine(ctx.inventory) {
            return Verdict::skip(format!(
                "virtual machine ({h}): no EDAC memory controller is emulated (/{EDAC_MC} is empty or absent)"
            ));
        }
        return Verdict::skip(format!(
            "no EDAC memory controller (/{EDAC_MC} is empty or absent): memory errors are not \
             reported to the OS — load the platform's EDAC driver (skx_edac, i10nm_edac, \
             amd64_edac, ghes_edac, …)"
        ));
    }
    for mc in &controllers {
        let name = ctx
            .sysroot
            .attr(&format!("{EDAC_MC}/{mc}/mc_name"))
            .unwrap_or_else(|| "-".into());
        ctx.log(format!("{mc}: {name}"));
    }
    let (bad, ce, ue) = edac_counters(&ctx.sysroot, &controllers);
    ctx.judge("corrected", ce as f64, "errors", "==", 0.0);
    ctx.judge("uncorrected", ue as f64, "errors", "==", 0.0);
    if bad.is_empty() {
        return Verdict::Pass;
    }
    for b in &bad {
        ctx.log(b);
    }
    Verdict::fail(
        "no corrected or uncorrected memory error",
        format!(
            "{} corrected, {} uncorrected: {}",
            ce,
            ue,
            util::list(&bad, 8)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(total: u64, online: Option<u64>, dimms: Option<u64>) -> Sizes {
        Sizes {
            mem_total: Some(total),
            online,
            block_size: Some(128 * MIB),
            dimm_total: dimms,
            smallest_dimm: dimms.map(|d| d / 8),
            crash: 0,
            gigantic: 0,
        }
    }

    #[test]
    fn tolerances() {
        let mut log = Vec::new();
        // This VM: 24 GiB of blocks, MemTotal 23.54 GiB.
        assert!(check_sizes(&sizes(25_276_510_208, Some(24 * GIB), None), &mut log).is_ok());
        // 10 % short.
        assert!(check_sizes(&sizes(216 * GIB / 10, Some(24 * GIB), None), &mut log).is_err());
        // A crash kernel explains a larger gap.
        let mut s = sizes(22 * GIB, Some(24 * GIB), None);
        assert!(check_sizes(&s, &mut log).is_err());
        s.crash = GIB;
        assert!(check_sizes(&s, &mut log).is_ok());
        // MemTotal above the blocks.
        assert!(check_sizes(&sizes(30 * GIB, Some(24 * GIB), None), &mut log).is_err());
        // 8 × 32 GiB DIMMs, one missing: 224 GiB online.
        assert!(check_sizes(
            &sizes(220 * GIB, Some(224 * GIB), Some(256 * GIB)),
            &mut log
        )
        .is_err());
        // All there, 1 GiB of firmware reservations.
        assert!(check_sizes(
            &sizes(251 * GIB, Some(255 * GIB), Some(256 * GIB)),
            &mut log
        )
        .is_ok());
        // No blocks: MemTotal against DIMMs with both allowances.
        assert!(check_sizes(&sizes(250 * GIB, None, Some(256 * GIB)), &mut log).is_ok());
        assert!(check_sizes(&sizes(200 * GIB, None, Some(256 * GIB)), &mut log).is_err());
        // Garbage-sized inputs never overflow.
        assert!(check_sizes(&sizes(u64::MAX, Some(u64::MAX), Some(u64::MAX)), &mut log).is_ok());
        assert!(check_sizes(&sizes(0, Some(u64::MAX), Some(1)), &mut log).is_err());
        let none = Sizes::default();
        assert!(check_sizes(&none, &mut log).is_err());
    }

    #[test]
    fn one_missing_small_dimm_always_fails() {
        // 24 × 32 GiB = 768 GiB; 3 % would hide one DIMM, half the smallest does not.
        let mut s = sizes(730 * GIB, Some(736 * GIB), Some(768 * GIB));
        s.smallest_dimm = Some(32 * GIB);
        assert_eq!(firmware_allowance(&s, 768 * GIB), 16 * GIB);
        let mut log = Vec::new();
        assert!(check_sizes(&s, &mut log).is_err());
    }
}
