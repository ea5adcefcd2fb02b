//! PCI cases, one instance per function (or per driver).
//!
//! * `pci::driver_bound` — every function that needs a driver has one. Exempt, and so not
//!   selected: bridges of every kind (class 06: host, ISA, PCI-to-PCI, …; a root port's
//!   `pcieport` is a service driver, not the device's), base system peripherals (08: PIC,
//!   timers, IOMMUs, the "System peripheral" functions of server uncores), the 0500 RAM
//!   controllers, signal processing controllers (11: performance counters) and non-essential
//!   instrumentation (13) — the platform functions Linux reads through config space without
//!   binding — and SR-IOV virtual functions, which are left unbound for guests on purpose.
//! * `pci::link_not_degraded` — each PCIe link runs at the speed and width both of its ends
//!   support: the function's maximum and its upstream port's maximum. A link is judged at its
//!   upstream component (an endpoint, or a switch's upstream port) below a root port or a
//!   switch downstream port; root ports and switch downstream ports are its other end.
//!   Display controllers lower their link speed when idle: re-run those under load.
//! * `pci::aer_clean` — every AER counter (correctable, non-fatal, fatal) of a function that
//!   has them is 0.
//! * `pci::driver_in_tree` — one instance per bound driver: built in, or a module whose
//!   `sys/module/<m>/taint` has no O (out-of-tree) or P (proprietary), and no E (unsigned,
//!   where the kernel checks signatures) or F (force-loaded).

use std::collections::BTreeMap;

use inventory::pci::PciDevice;

use crate::util::{self, reads_files, targets_or, Spec};
use crate::{Case, Component, Context, Inventory, Selection, Target, Verdict};

const DEVICES: &str = "sys/bus/pci/devices";

pub(crate) fn cases() -> Vec<Box<dyn Case>> {
    vec![
        Spec {
            name: "pci::driver_bound",
            purpose: "A driver is bound to the PCI function",
            component: Component::Pci,
            blocker: true,
            timeout: 10,
            estimate_ms: 10,
            requirements: reads_files(),
            select: select_driver_bound,
            run: driver_bound,
        }
        .build(),
        Spec {
            name: "pci::link_not_degraded",
            purpose: "The PCIe link runs at the speed and width both its ends support",
            component: Component::Pci,
            blocker: true,
            timeout: 10,
            estimate_ms: 10,
            requirements: reads_files(),
            select: select_links,
            run: link_not_degraded,
        }
        .build(),
        Spec {
            name: "pci::aer_clean",
            purpose: "No PCIe Advanced Error Reporting error counted on the function",
            component: Component::Pci,
            blocker: true,
            timeout: 10,
            estimate_ms: 10,
            requirements: reads_files(),
            select: select_aer,
            run: aer_clean,
        }
        .build(),
        Spec {
            name: "pci::driver_in_tree",
            purpose: "The PCI driver is built in or an in-tree, signed module",
            component: Component::Pci,
            blocker: true,
            timeout: 10,
            estimate_ms: 10,
            requirements: reads_files(),
            select: select_drivers,
            run: driver_in_tree,
        }
        .build(),
    ]
}

fn find<'a>(inv: &'a Inventory, addr: &str) -> Option<&'a PciDevice> {
    inv.pci.iter().find(|d| d.address == addr)
}

// ---------------------------------------------------------------------------------------------
// driver_bound

/// Whether a function is expected to have a driver bound (see the module documentation).
pub fn needs_driver(d: &PciDevice) -> bool {
    if d.physfn.is_some() || d.is_bridge {
        return false;
    }
    let Some(class) = d.class_id.as_deref() else {
        return true;
    };
    let base = class.get(..2).unwrap_or("");
    let sub = class.get(..4).unwrap_or("");
    !(matches!(base, "06" | "08" | "11" | "13") || sub == "0500")
}

fn select_driver_bound(inv: &Inventory) -> Selection {
    let ts = inv
        .pci
        .iter()
        .filter(|d| needs_driver(d))
        .map(|d| Target::item(&d.address, Some(d.label())))
        .collect();
    targets_or(
        ts,
        "no PCI function that needs a driver (bridges and platform functions are exempt)",
    )
}

fn driver_bound(ctx: &mut Context<'_>) -> Verdict {
    let addr = match util::target_id(ctx) {
        Ok(a) => a,
        Err(v) => return v,
    };
    let dev = find(ctx.inventory, &addr);
    let name = dev.map(|d| d.label()).unwrap_or_else(|| addr.clone());
    let dir = format!("{DEVICES}/{addr}");
    if !ctx.sysroot.exists(&dir) {
        return Verdict::fail(
            format!("a driver bound to {addr} ({name})"),
            format!("the function is gone (no /{dir})"),
        );
    }
    match ctx.sysroot.link_name(&format!("{dir}/driver")) {
        Some(drv) => {
            ctx.log(format!("{addr} ({name}): driver {drv}"));
            Verdict::Pass
        }
        None => {
            let hint = match dev.map(|d| d.modules.as_slice()).unwrap_or(&[]) {
                [] => "no module's alias matches it (no driver in this kernel)".to_string(),
                m => format!("modules.alias matches {} (not loaded, or its probe failed: see the kernel log)", m.join(", ")),
            };
            Verdict::fail(
                format!("a driver bound to {addr} ({name})"),
                format!("no driver bound to {addr} ({name}); {hint}"),
            )
        }
    }
}

// ---------------------------------------------------------------------------------------------
// link_not_degraded

/// The bridge above `d`, when it is one (a non-bridge parent, such as a VMD controller, is a
/// host bridge to this purpose).
fn upstream<'a>(inv: &'a Inventory, d: &PciDevice) -> Option<&'a PciDevice> {
    let p = find(inv, d.parent.as_deref()?)?;
    p.is_bridge.then_some(p)
}

/// Whether a bridge is a downstream-facing port (a root port, or a switch downstream port):
/// bridges alternate below a root port — upstream port, downstream port, upstream port, …
fn faces_down(inv: &Inventory, bridge: &PciDevice) -> bool {
    let mut level = 0usize;
    let mut cur = bridge;
    while let Some(p) = upstream(inv, cur) {
        level += 1;
        cur = p;
        if level > 64 {
            break;
        }
    }
    level.is_multiple_of(2)
}

/// The functions whose link is judged at them (see the module documentation).
pub fn link_targets(inv: &Inventory) -> Vec<&PciDevice> {
    inv.pci
        .iter()
        .filter(|d| {
            let Some(l) = &d.link else { return false };
            if l.max_gts.is_none() && l.max_width.is_none() {
                return false;
            }
            match upstream(inv, d) {
                Some(p) => faces_down(inv, p),
                // Directly below a host bridge: a root port is the link's other end.
                None => !d.is_bridge,
            }
        })
        .collect()
}

fn select_links(inv: &Inventory) -> Selection {
    let ts = link_targets(inv)
        .into_iter()
        .map(|d| Target::item(&d.address, Some(d.label())))
        .collect();
    targets_or(ts, "no PCIe function with link speed and width attributes")
}

/// "8.0 GT/s PCIe", "8 GT/s" → 8.0.
pub fn parse_gts(s: &str) -> Option<f64> {
    let mut w = s.split_whitespace();
    let n: f64 = w.next()?.parse().ok()?;
    (w.next()? == "GT/s" && n.is_finite() && n > 0.0).then_some(n)
}

/// "16.0 GT/s x4".
pub fn link_text(gts: Option<f64>, width: Option<u32>) -> String {
    let s = gts.map_or("unknown speed".into(), |g| format!("{g:.1} GT/s"));
    match width {
        Some(w) => format!("{s} x{w}"),
        None => format!("{s}, width unknown"),
    }
}

fn min_opt<T: PartialOrd + Copy>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if y < x { y } else { x }),
        (x, None) => x,
        (None, y) => y,
    }
}

fn link_not_degraded(ctx: &mut Context<'_>) -> Verdict {
    let addr = match util::target_id(ctx) {
        Ok(a) => a,
        Err(v) => return v,
    };
    let Some(dev) = find(ctx.inventory, &addr) else {
        return Verdict::skip(format!("{addr} is not in the inventory"));
    };
    let Some(link) = dev.link.clone() else {
        return Verdict::skip(format!("{addr} has no PCIe link attributes"));
    };
    let dir = format!("{DEVICES}/{addr}");
    // The current state now, not at probe time; the maxima do not change.
    let cur_gts = ctx
        .sysroot
        .attr(&format!("{dir}/current_link_speed"))
        .and_then(|s| parse_gts(&s))
        .or(link.current_gts);
    let cur_width = ctx
        .sysroot
        .parse::<u32>(&format!("{dir}/current_link_width"))
        .filter(|w| (1..=32).contains(w))
        .or(link.current_width);
    let up = upstream(ctx.inventory, dev);
    let up_link = up.and_then(|p| p.link.clone());
    let exp_gts = min_opt(link.max_gts, up_link.as_ref().and_then(|l| l.max_gts));
    let exp_width = min_opt(link.max_width, up_link.as_ref().and_then(|l| l.max_width));
    ctx.log(format!(
        "{addr}: maximum {}; upstream {}: maximum {}; running {}",
        link_text(link.max_gts, link.max_width),
        up.map_or("(host bridge)", |p| p.address.as_str()),
        up_link
            .as_ref()
            .map_or("unknown".into(), |l| link_text(l.max_gts, l.max_width)),
        link_text(cur_gts, cur_width),
    ));
    if let Some(g) = cur_gts {
        match exp_gts {
            Some(e) => {
                ctx.judge("speed", g, "GT/s", ">=", e);
            }
            None => ctx.measure("speed", g, "GT/s"),
        }
    }
    if let Some(w) = cur_width {
        match exp_width {
            Some(e) => {
                ctx.judge("width", f64::from(w), "lanes", ">=", f64::from(e));
            }
            None => ctx.measure("width", f64::from(w), "lanes"),
        }
    }
    let expected = link_text(exp_gts, exp_width);
    let measured = link_text(cur_gts, cur_width);
    if cur_width.is_none() && cur_gts.is_none() {
        return Verdict::fail(expected, "link down (no current speed or width)");
    }
    let slower = matches!((cur_gts, exp_gts), (Some(c), Some(e)) if c + 1e-6 < e);
    let narrower = matches!((cur_width, exp_width), (Some(c), Some(e)) if c < e);
    if !slower && !narrower {
        return Verdict::Pass;
    }
    let mut m = measured;
    if slower && !narrower && dev.class_id.as_deref().is_some_and(|c| c.starts_with("03")) {
        m.push_str(" (display controllers lower their link speed when idle: re-run under load)");
    }
    Verdict::fail(expected, m)
}

// ---------------------------------------------------------------------------------------------
// aer_clean

fn select_aer(inv: &Inventory) -> Selection {
    let ts = inv
        .pci
        .iter()
        .filter(|d| d.aer.is_some())
        .map(|d| Target::item(&d.address, Some(d.label())))
        .collect();
    targets_or(
        ts,
        "no PCI function exposes AER counters (aer_dev_correctable: AER needs PCIe, firmware \
         that grants it to the OS, and kernel 4.17 or later)",
    )
}

/// "NAME COUNT" lines of an AER counter file: (name, count), the TOTAL_ERR_* line included.
pub fn parse_aer(text: &str) -> Vec<(String, u64)> {
    text.lines()
        .filter_map(|l| {
            let (name, n) = l.trim().rsplit_once(char::is_whitespace)?;
            let name = name.trim();
            (!name.is_empty()).then_some((name.to_string(), n.parse().ok()?))
        })
        .collect()
}

fn aer_clean(ctx: &mut Context<'_>) -> Verdict {
    let addr = match util::target_id(ctx) {
        Ok(a) => a,
        Err(v) => return v,
    };
    let inv_aer = find(ctx.inventory, &addr).and_then(|d| d.aer.clone());
    let mut bad = Vec::new();
    let mut read_any = false;
    for (file, kind, inv_counts) in [
        (
            "aer_dev_correctable",
            "correctable",
            inv_aer.as_ref().and_then(|a| a.correctable.clone()),
        ),
        (
            "aer_dev_nonfatal",
            "non-fatal",
            inv_aer.as_ref().and_then(|a| a.nonfatal.clone()),
        ),
        (
            "aer_dev_fatal",
            "fatal",
            inv_aer.as_ref().and_then(|a| a.fatal.clone()),
        ),
    ] {
        let now = ctx
            .sysroot
            .read(&format!("{DEVICES}/{addr}/{file}"))
            .map(|t| parse_aer(&t));
        let counts: Vec<(String, u64)> = match now {
            Some(c) if !c.is_empty() => c,
            _ => match inv_counts {
                // Counted at probe time; unreadable now.
                Some(c) => {
                    let mut v: Vec<(String, u64)> = c.counts.into_iter().collect();
                    if let Some(t) = c.total {
                        v.push(("TOTAL".into(), t));
                    }
                    v
                }
                None => continue,
            },
        };
        read_any = true;
        let total: u64 = counts
            .iter()
            .find(|(n, _)| n.starts_with("TOTAL"))
            .map(|(_, t)| *t)
            .unwrap_or_else(|| {
                counts
                    .iter()
                    .map(|(_, c)| *c)
                    .fold(0u64, u64::saturating_add)
            });
        ctx.judge(kind, total as f64, "errors", "==", 0.0);
        let nonzero: Vec<String> = counts
            .iter()
            .filter(|(n, c)| *c > 0 && !n.starts_with("TOTAL"))
            .map(|(n, c)| format!("{n} {c}"))
            .collect();
        if total > 0 || !nonzero.is_empty() {
            bad.push(format!("{kind} {total} ({})", nonzero.join(", ")));
        }
    }
    if !read_any {
        return Verdict::skip(format!("{addr}: no AER counter file is readable"));
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail("no AER error counted", bad.join("; "))
    }
}

// ---------------------------------------------------------------------------------------------
// driver_in_tree

fn select_drivers(inv: &Inventory) -> Selection {
    let mut by_driver: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for d in &inv.pci {
        if let Some(drv) = &d.driver {
            by_driver.entry(drv).or_default().push(&d.address);
        }
    }
    let ts = by_driver
        .into_iter()
        .map(|(drv, addrs)| {
            Target::item(
                drv,
                Some(format!(
                    "bound to {}",
                    util::list(&addrs.iter().map(|a| a.to_string()).collect::<Vec<_>>(), 4)
                )),
            )
        })
        .collect();
    targets_or(ts, "no PCI function has a driver bound")
}

/// What a module's taint letters mean for certification: the failing ones, described.
pub fn judge_module_taint(letters: &str) -> Vec<&'static str> {
    letters
        .chars()
        .filter_map(|c| match c {
            'O' => Some("out-of-tree (O)"),
            'P' => Some("proprietary (P)"),
            'E' => Some("unsigned (E)"),
            'F' => Some("force-loaded (F)"),
            _ => None,
        })
        .collect()
}

fn driver_in_tree(ctx: &mut Context<'_>) -> Verdict {
    let drv = match util::target_id(ctx) {
        Ok(a) => a,
        Err(v) => return v,
    };
    let ddir = format!("sys/bus/pci/drivers/{drv}");
    if !ctx.sysroot.exists(&ddir) {
        if ctx.is_live() {
            return Verdict::fail(
                format!("driver {drv} registered (/{ddir})"),
                "the driver is no longer registered (module unloaded?)",
            );
        }
        return Verdict::skip(format!("the tree does not record /{ddir}"));
    }
    let Some(module) = ctx.sysroot.link_name(&format!("{ddir}/module")) else {
        ctx.log(format!("{drv}: built into the kernel (no module link)"));
        return Verdict::Pass;
    };
    let mdir = format!("sys/module/{module}");
    let version = ctx.sysroot.attr(&format!("{mdir}/version"));
    let src = ctx.sysroot.attr(&format!("{mdir}/srcversion"));
    ctx.log(format!(
        "{drv}: module {module}, version {}, srcversion {}",
        version.as_deref().unwrap_or("-"),
        src.as_deref().unwrap_or("-")
    ));
    let taint_file = format!("{mdir}/taint");
    if !ctx.sysroot.exists(&taint_file) {
        ctx.log(format!(
            "no /{taint_file}: nothing recorded against the module"
        ));
        return Verdict::Pass;
    }
    let letters = ctx.sysroot.attr(&taint_file).unwrap_or_default();
    let bad = judge_module_taint(&letters);
    if bad.is_empty() {
        ctx.log(format!(
            "{module}: in-tree{}",
            if letters.is_empty() {
                String::new()
            } else {
                format!(" (taint {letters})")
            }
        ));
        return Verdict::Pass;
    }
    Verdict::fail(
        format!("{drv} built in, or an in-tree signed module"),
        format!(
            "module {module} is {} (sys/module/{module}/taint: {letters}{})",
            bad.join(", "),
            version
                .map(|v| format!("; version {v}"))
                .unwrap_or_default()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speeds() {
        assert_eq!(parse_gts("8.0 GT/s PCIe"), Some(8.0));
        assert_eq!(parse_gts("8 GT/s"), Some(8.0));
        assert_eq!(parse_gts("2.5 GT/s"), Some(2.5));
        assert_eq!(parse_gts("Unknown"), None);
        assert_eq!(parse_gts("NaN GT/s"), None);
        assert_eq!(parse_gts(""), None);
        assert_eq!(link_text(Some(16.0), Some(4)), "16.0 GT/s x4");
        assert_eq!(link_text(Some(2.5), None), "2.5 GT/s, width unknown");
    }

    #[test]
    fn aer_lines() {
        let v = parse_aer("RxErr 0\nBadTLP 3\nTOTAL_ERR_COR 3\ngarbage\n 7\n");
        assert_eq!(
            v,
            [
                ("RxErr".to_string(), 0),
                ("BadTLP".to_string(), 3),
                ("TOTAL_ERR_COR".to_string(), 3)
            ]
        );
    }

    #[test]
    fn exemptions() {
        let mk = |class: &str| PciDevice {
            class_id: Some(class.into()),
            ..PciDevice::default()
        };
        assert!(!needs_driver(&mk("060000")));
        assert!(!needs_driver(&mk("060100")));
        assert!(!needs_driver(&mk("088000")));
        assert!(!needs_driver(&mk("110100")));
        assert!(needs_driver(&mk("010802")));
        assert!(needs_driver(&mk("050210")), "CXL memory needs cxl_pci");
        assert!(needs_driver(&mk("ffff00")));
        assert!(needs_driver(&PciDevice::default()));
        let mut vf = mk("020000");
        vf.physfn = Some("0000:3b:00.0".into());
        assert!(!needs_driver(&vf));
        assert_eq!(
            judge_module_taint("OE"),
            ["out-of-tree (O)", "unsigned (E)"]
        );
        assert!(judge_module_taint("").is_empty());
        assert!(judge_module_taint("C").is_empty());
    }
}
