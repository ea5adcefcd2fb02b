//! Cases about the whole system: the OS, the kernel's state and log, crash dumps, time and the
//! watchdog.
//!
//! * `system::os_supported` — OpenCloudOS 8.x, 9.x or Stream passes. Another CentOS 8 / RHEL
//!   8 or 9 compatible system (Rocky, AlmaLinux, RHEL, TencentOS, Anolis, …) also passes, with
//!   a warning in the log: the hardware results carry over, but the HCL lists OpenCloudOS, so
//!   a listing needs a run on OpenCloudOS itself. Anything else (Debian, CentOS 7, Fedora)
//!   fails with what was found.
//! * `system::kernel_taint` — fails on proprietary (P), out-of-tree (O), unsigned (E) or
//!   force-loaded (F) modules, naming the modules from `sys/module/*/taint`. Other taint bits
//!   are logged (the kernel log case judges oopses, machine checks and lockups).
//! * `system::dmesg_clean` — no oops, BUG, panic, call trace, machine check, hardware error or
//!   I/O error in the kernel log since boot; the offending lines are quoted.
//! * `system::kdump_ready` — crash kernel memory reserved and the kdump service enabled.
//! * `system::clocksource` — a current clocksource, never marked unstable in the kernel log.
//!   On bare-metal x86 the current one must be `tsc` (the kernel only falls back to hpet or
//!   acpi_pm when it rejected the TSC) unless `clocksource=` on the command line chose
//!   another; virtual machines use their hypervisor's clock.
//! * `system::watchdog_present` (advisory) — a watchdog device; skipped on virtual machines,
//!   where one is only there when the hypervisor emulates it.

use std::collections::BTreeMap;

use hwsys::units::iec;
use inventory::host::{decode_taint, OsRelease};

use crate::util::{self, machine, reads_files, Spec};
use crate::{kmsg, Case, Component, Context, Verdict};

pub(crate) fn cases() -> Vec<Box<dyn Case>> {
    vec![
        Spec {
            name: "system::os_supported",
            purpose: "The OS is OpenCloudOS 8.x, 9.x or Stream (or a CentOS 8 / RHEL 8-9 compatible system)",
            component: Component::System,
            blocker: true,
            timeout: 10,
            estimate_ms: 10,
            requirements: reads_files(),
            select: machine,
            run: os_supported,
        }
        .build(),
        Spec {
            name: "system::kernel_taint",
            purpose: "No proprietary, out-of-tree, unsigned or force-loaded kernel module",
            component: Component::System,
            blocker: true,
            timeout: 10,
            estimate_ms: 50,
            requirements: reads_files(),
            select: machine,
            run: kernel_taint,
        }
        .build(),
        Spec {
            name: "system::dmesg_clean",
            purpose: "No oops, BUG, call trace, machine check, hardware error or I/O error in the kernel log since boot",
            component: Component::System,
            blocker: true,
            timeout: 30,
            estimate_ms: 500,
            requirements: reads_files(),
            select: machine,
            run: dmesg_clean,
        }
        .build(),
        Spec {
            name: "system::kdump_ready",
            purpose: "Crash kernel memory is reserved and the kdump service is enabled",
            component: Component::System,
            blocker: true,
            timeout: 10,
            estimate_ms: 10,
            requirements: reads_files(),
            select: machine,
            run: kdump_ready,
        }
        .build(),
        Spec {
            name: "system::clocksource",
            purpose: "A stable clocksource (tsc on bare-metal x86), never marked unstable",
            component: Component::System,
            blocker: true,
            timeout: 30,
            estimate_ms: 500,
            requirements: reads_files(),
            select: machine,
            run: clocksource,
        }
        .build(),
        Spec {
            name: "system::watchdog_present",
            purpose: "A hardware watchdog device is available",
            component: Component::System,
            blocker: false,
            timeout: 10,
            estimate_ms: 10,
            requirements: reads_files(),
            select: machine,
            run: watchdog_present,
        }
        .build(),
    ]
}

// ---------------------------------------------------------------------------------------------
// os_supported

/// What an os-release describes, for certification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OsClass {
    /// OpenCloudOS 8.x, 9.x or Stream ("OpenCloudOS 9").
    OpenCloudOs(String),
    /// Another CentOS 8 / RHEL 8-9 compatible system, with its major version.
    RhelCompatible(String, u32),
    /// Anything else.
    Other,
}

const RHEL_FAMILY: &[&str] = &[
    "rhel",
    "centos",
    "rocky",
    "almalinux",
    "ol",
    "tencentos",
    "anolis",
    "circle",
    "eurolinux",
    "navy",
    "virtuozzo",
    "cloudlinux",
    "opencloudos",
];

/// The major version: from VERSION_ID ("9.2" → 9), else PLATFORM_ID ("platform:el8" → 8).
fn major(os: &OsRelease) -> Option<u32> {
    let from_version = os
        .version_id
        .as_deref()
        .and_then(|v| v.split('.').next())
        .and_then(|m| m.trim().parse().ok());
    from_version.or_else(|| {
        let p = os.platform_id.as_deref()?;
        let digits: String = p
            .rsplit(':')
            .next()?
            .chars()
            .skip_while(|c| !c.is_ascii_digit())
            .take_while(|c| c.is_ascii_digit())
            .collect();
        digits.parse().ok()
    })
}

/// Classify an os-release.
pub fn classify(os: &OsRelease) -> OsClass {
    let id = os.id.as_deref().unwrap_or("").to_ascii_lowercase();
    let name = os.name.as_deref().unwrap_or("");
    let platform = os.platform_id.as_deref().unwrap_or("");
    let major = major(os);
    if id == "opencloudos" {
        let stream = name.to_ascii_lowercase().contains("stream") || platform.contains(":ocs");
        if stream {
            return OsClass::OpenCloudOs(format!(
                "OpenCloudOS Stream {}",
                os.version_id.as_deref().unwrap_or("")
            ));
        }
        return match major {
            Some(m @ (8 | 9)) => OsClass::OpenCloudOs(format!("OpenCloudOS {m}")),
            _ => OsClass::Other,
        };
    }
    let like: Vec<String> = os
        .id_like
        .as_deref()
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
    let family = RHEL_FAMILY.contains(&id.as_str())
        || like
            .iter()
            .any(|l| matches!(l.as_str(), "rhel" | "centos" | "opencloudos"));
    let el_platform = platform.contains(":el8") || platform.contains(":el9");
    match major {
        Some(m @ (8 | 9)) if family || el_platform => OsClass::RhelCompatible(
            os.pretty_name
                .clone()
                .or_else(|| os.name.clone())
                .unwrap_or(id),
            m,
        ),
        _ => OsClass::Other,
    }
}

fn describe_os(os: &OsRelease) -> String {
    let pretty = os
        .pretty_name
        .clone()
        .or_else(|| os.name.clone())
        .unwrap_or_else(|| "an unnamed OS".into());
    format!(
        "{pretty} (ID={}, VERSION_ID={})",
        os.id.as_deref().unwrap_or("-"),
        os.version_id.as_deref().unwrap_or("-")
    )
}

fn os_supported(ctx: &mut Context<'_>) -> Verdict {
    const EXPECTED: &str =
        "OpenCloudOS 8.x, 9.x or Stream (or a CentOS 8 / RHEL 8-9 compatible system)";
    let Some(os) = ctx.inventory.host.os.clone() else {
        return Verdict::error(
            "cannot tell the OS: etc/os-release (and usr/lib/os-release) is missing or has no KEY=value line",
        );
    };
    match classify(&os) {
        OsClass::OpenCloudOs(what) => {
            ctx.log(format!("{what}: {}", describe_os(&os)));
            Verdict::Pass
        }
        OsClass::RhelCompatible(name, m) => {
            ctx.log(format!(
                "WARNING: {name} is RHEL {m} compatible but not OpenCloudOS: the hardware results \
                 carry over, the HCL lists OpenCloudOS — re-run on OpenCloudOS {m} for a listing"
            ));
            Verdict::Pass
        }
        OsClass::Other => Verdict::fail(EXPECTED, describe_os(&os)),
    }
}

// ---------------------------------------------------------------------------------------------
// kernel_taint

/// Taint letters that fail certification: proprietary, out-of-tree, unsigned, forced modules.
const BAD_LETTERS: &[char] = &['P', 'O', 'E', 'F'];

/// Loaded modules by taint letter (from `sys/module/*/taint`).
fn modules_by_letter(sys: &hwsys::Sysroot) -> BTreeMap<char, Vec<String>> {
    let mut out: BTreeMap<char, Vec<String>> = BTreeMap::new();
    for m in sys.list_dir("sys/module") {
        let Some(t) = sys.attr(&format!("sys/module/{m}/taint")) else {
            continue;
        };
        for c in t.chars().filter(|c| c.is_ascii_uppercase()) {
            out.entry(c).or_default().push(m.clone());
        }
    }
    out
}

fn kernel_taint(ctx: &mut Context<'_>) -> Verdict {
    let value = ctx
        .sysroot
        .parse::<u64>("proc/sys/kernel/tainted")
        .or_else(|| ctx.inventory.host.kernel_taint.as_ref().map(|t| t.value));
    let Some(value) = value else {
        return Verdict::skip(
            "the kernel taint (proc/sys/kernel/tainted) is not readable in this tree",
        );
    };
    ctx.measure("taint", value as f64, "");
    let taint = decode_taint(value);
    if taint.flags.is_empty() {
        ctx.log("kernel not tainted");
        return Verdict::Pass;
    }
    let by_letter = modules_by_letter(&ctx.sysroot);
    let mut bad = Vec::new();
    for f in &taint.flags {
        let letter = f.letter.chars().next().unwrap_or('?');
        let mods = by_letter.get(&letter);
        let who = match mods {
            Some(m) if !m.is_empty() => format!(" by {}", m.join(", ")),
            _ if BAD_LETTERS.contains(&letter) => {
                " by a module no longer loaded (or a tree without sys/module/*/taint)".to_string()
            }
            _ => String::new(),
        };
        let line = format!("{} ({}){who}", f.letter, f.description);
        ctx.log(format!("taint bit {}: {line}", f.bit));
        if BAD_LETTERS.contains(&letter) {
            bad.push(line);
        }
    }
    if bad.is_empty() {
        let letters: String = taint.flags.iter().map(|f| f.letter.as_str()).collect();
        ctx.log(format!(
            "tainted {value} ({letters}) by no module flag this case judges"
        ));
        return Verdict::Pass;
    }
    Verdict::fail(
        "no proprietary (P), out-of-tree (O), unsigned (E) or force-loaded (F) module",
        format!("kernel tainted {value}: {}", bad.join("; ")),
    )
}

// ---------------------------------------------------------------------------------------------
// dmesg_clean

/// Most offending lines quoted in a verdict.
const MAX_QUOTED: usize = 8;

/// Offending records: (index, kind). A call trace is reported at its header line (WARNING,
/// INFO, BUG, …) when one comes shortly before it.
pub fn findings(records: &[kmsg::Record]) -> Vec<(usize, &'static str)> {
    let mut out: Vec<(usize, &'static str)> = Vec::new();
    for (i, r) in records.iter().enumerate() {
        let Some(kind) = kmsg::problem(&r.text) else {
            continue;
        };
        if kind == "call trace" {
            // Already covered by an oops or BUG reported just before.
            if out
                .last()
                .is_some_and(|(j, k)| matches!(*k, "oops" | "BUG" | "panic") && i - j <= 60)
            {
                continue;
            }
            let header = (i.saturating_sub(60)..i).rev().find(|&j| {
                let t = &records[j].text;
                t.starts_with("WARNING:")
                    || t.starts_with("INFO:")
                    || t.contains("blocked for more than")
            });
            out.push((header.unwrap_or(i), kind));
        } else {
            out.push((i, kind));
        }
    }
    out
}

fn dmesg_clean(ctx: &mut Context<'_>) -> Verdict {
    let log = match kmsg::read(&ctx.sysroot) {
        Ok(l) => l,
        Err(why) => return Verdict::skip(format!("no kernel log to check: {why}")),
    };
    ctx.log(format!(
        "read {} records from {}",
        log.records.len(),
        log.source
    ));
    if log.lost > 0 {
        ctx.log(format!(
            "note: {} earlier records were overwritten in the ring buffer before this read; \
             only what remains is checked",
            log.lost
        ));
    }
    ctx.measure("records", log.records.len() as f64, "");
    let found = findings(&log.records);
    ctx.judge("problems", found.len() as f64, "", "==", 0.0);
    if found.is_empty() {
        return Verdict::Pass;
    }
    let mut quoted = Vec::new();
    for (i, kind) in &found {
        let line = format!("{kind}: {}", log.records[*i].display());
        ctx.log(&line);
        quoted.push(line);
    }
    let shown = quoted.len().min(MAX_QUOTED);
    let mut measured = format!(
        "{} problem line(s): {}",
        found.len(),
        quoted[..shown].join(" | ")
    );
    if quoted.len() > shown {
        measured.push_str(&format!(
            " | … and {} more (see the log)",
            quoted.len() - shown
        ));
    }
    Verdict::fail(
        "no oops, BUG, panic, call trace, machine check, hardware error or I/O error in the kernel log since boot",
        measured,
    )
}

// ---------------------------------------------------------------------------------------------
// kdump_ready

/// Service units that mean "kdump enabled" (kdump-tools is Debian's name for it).
const KDUMP_UNITS: &[&str] = &["kdump.service", "kdump-tools.service"];

fn kdump_ready(ctx: &mut Context<'_>) -> Verdict {
    let sys = &ctx.sysroot;
    let cmdline = sys
        .attr("proc/cmdline")
        .or_else(|| ctx.inventory.host.cmdline.clone())
        .unwrap_or_default();
    let param = cmdline
        .split_whitespace()
        .find(|w| w.starts_with("crashkernel="))
        .map(str::to_string);
    let size = sys.parse::<u64>("sys/kernel/kexec_crash_size");
    let mut missing = Vec::new();
    match (size, &param) {
        (Some(n), _) if n > 0 => {
            ctx.log(format!("crash kernel memory reserved: {}", iec(n)));
        }
        (Some(_), Some(p)) => missing.push(format!(
            "no crash kernel memory reserved although the command line has {p} \
             (sys/kernel/kexec_crash_size is 0: the reservation failed)"
        )),
        (Some(_), None) => missing.push(
            "no crash kernel memory reserved (sys/kernel/kexec_crash_size is 0 and there is no \
             crashkernel= on the kernel command line)"
                .to_string(),
        ),
        (None, Some(p)) => ctx.log(format!(
            "{p} on the kernel command line (sys/kernel/kexec_crash_size not readable)"
        )),
        (None, None) => missing.push(
            "no crash kernel memory reserved (no crashkernel= on the kernel command line, no \
             sys/kernel/kexec_crash_size)"
                .to_string(),
        ),
    }
    if let Some(n) = size {
        ctx.measure("crash_kernel", n as f64, "bytes");
    }
    let mut enabled = Vec::new();
    for dir in ctx.sysroot.list_dir("etc/systemd/system") {
        if !dir.ends_with(".wants") {
            continue;
        }
        for unit in ctx.sysroot.list_dir(&format!("etc/systemd/system/{dir}")) {
            if KDUMP_UNITS.contains(&unit.as_str()) {
                enabled.push(format!("etc/systemd/system/{dir}/{unit}"));
            }
        }
    }
    if enabled.is_empty() {
        let installed = [
            "usr/lib/systemd/system",
            "lib/systemd/system",
            "etc/systemd/system",
        ]
        .iter()
        .flat_map(|d| KDUMP_UNITS.iter().map(move |u| format!("{d}/{u}")))
        .find(|p| ctx.sysroot.exists(p));
        missing.push(match installed {
            Some(p) => format!(
                "the kdump service is installed (/{p}) but not enabled (systemctl enable kdump)"
            ),
            None => "the kdump service is neither installed nor enabled (install kexec-tools, \
                     then systemctl enable kdump)"
                .to_string(),
        });
    } else {
        ctx.log(format!("kdump enabled: {}", enabled.join(", ")));
    }
    if missing.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            "crash kernel memory reserved and the kdump service enabled",
            missing.join("; "),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// clocksource

const CLOCKSOURCE: &str = "sys/devices/system/clocksource/clocksource0";

fn clocksource(ctx: &mut Context<'_>) -> Verdict {
    let current = ctx
        .sysroot
        .attr(&format!("{CLOCKSOURCE}/current_clocksource"));
    let available = ctx
        .sysroot
        .attr(&format!("{CLOCKSOURCE}/available_clocksource"))
        .unwrap_or_default();
    let Some(current) = current else {
        if !ctx.is_live() {
            return Verdict::skip(format!(
                "the tree does not record the clocksource (/{CLOCKSOURCE}/current_clocksource)"
            ));
        }
        return Verdict::fail(
            "a current clocksource",
            format!("none (/{CLOCKSOURCE}/current_clocksource is missing or empty)"),
        );
    };
    ctx.log(format!(
        "current clocksource {current}; available: {available}"
    ));
    let mut problems = Vec::new();
    match kmsg::read(&ctx.sysroot) {
        Ok(log) => {
            let unstable: Vec<String> = log
                .records
                .iter()
                .filter(|r| kmsg::clocksource_unstable(&r.text))
                .map(|r| r.display())
                .collect();
            for l in &unstable {
                ctx.log(format!("unstable: {l}"));
            }
            if !unstable.is_empty() {
                problems.push(format!(
                    "the kernel log marks a clocksource unstable: {}",
                    util::list(&unstable, 3)
                ));
            }
        }
        Err(why) => ctx.log(format!(
            "kernel log not read ({why}): whether a clocksource was marked unstable is not checked"
        )),
    }
    let arch = ctx.inventory.host.arch.as_deref().unwrap_or("");
    let vm = util::virtual_machine(ctx.inventory);
    let x86_metal = matches!(arch, "x86_64" | "i686" | "i386") && vm.is_none();
    let cmdline = ctx.inventory.host.cmdline.clone().unwrap_or_default();
    let chosen = cmdline
        .split_whitespace()
        .find(|w| w.starts_with("clocksource="))
        .map(str::to_string);
    if current != "tsc" {
        match (&vm, &chosen) {
            (Some(h), _) => ctx.log(format!(
                "virtual machine ({h}): {current} is the hypervisor's clock, tsc is not required"
            )),
            (None, Some(c)) => ctx.log(format!("{c} on the command line chose {current}")),
            (None, None) if x86_metal => problems.push(format!(
                "bare-metal x86 runs on {current}, not tsc: the kernel rejected the TSC"
            )),
            (None, None) => {}
        }
    }
    if problems.is_empty() {
        Verdict::Pass
    } else {
        let expected = if x86_metal {
            "tsc (on bare metal) as the current clocksource, never marked unstable"
        } else {
            "a current clocksource never marked unstable"
        };
        Verdict::fail(expected, format!("{current}: {}", problems.join("; ")))
    }
}

// ---------------------------------------------------------------------------------------------
// watchdog_present

fn watchdog_present(ctx: &mut Context<'_>) -> Verdict {
    let class: Vec<String> = ctx.sysroot.list_dir("sys/class/watchdog");
    for w in &class {
        let identity = ctx
            .sysroot
            .attr(&format!("sys/class/watchdog/{w}/identity"))
            .unwrap_or_else(|| "no identity".into());
        ctx.log(format!("{w}: {identity}"));
    }
    let nodes: Vec<String> = ctx
        .sysroot
        .list_dir("dev")
        .into_iter()
        .filter(|n| n.starts_with("watchdog"))
        .collect();
    if !nodes.is_empty() {
        ctx.log(format!("device nodes: /dev/{}", nodes.join(", /dev/")));
    }
    if !class.is_empty() || !nodes.is_empty() {
        return Verdict::Pass;
    }
    if let Some(h) = util::virtual_machine(ctx.inventory) {
        return Verdict::skip(format!(
            "virtual machine ({h}) without an emulated watchdog device: a watchdog is a property \
             of the physical server"
        ));
    }
    Verdict::fail(
        "a watchdog device (sys/class/watchdog: iTCO_wdt, sp5100_tco, ipmi_watchdog, sbsa_gwdt, …)",
        "none: no sys/class/watchdog entry and no /dev/watchdog (is the platform's watchdog driver loaded?)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use inventory::host::parse_os_release;

    #[test]
    fn os_classes() {
        let c = |t: &str| classify(&parse_os_release(t));
        assert_eq!(
            c("ID=opencloudos\nVERSION_ID=9.2\nPLATFORM_ID=platform:oc9\n"),
            OsClass::OpenCloudOs("OpenCloudOS 9".into())
        );
        assert_eq!(
            c("ID=\"opencloudos\"\nVERSION_ID=\"8.8\"\n"),
            OsClass::OpenCloudOs("OpenCloudOS 8".into())
        );
        assert_eq!(
            c("NAME=\"OpenCloudOS Stream\"\nID=\"opencloudos\"\nVERSION_ID=\"23\"\nPLATFORM_ID=\"platform:ocs23\"\n"),
            OsClass::OpenCloudOs("OpenCloudOS Stream 23".into())
        );
        assert_eq!(c("ID=opencloudos\nVERSION_ID=7.9\n"), OsClass::Other);
        assert_eq!(
            c("ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.3\"\nPRETTY_NAME=\"Rocky Linux 9.3\"\n"),
            OsClass::RhelCompatible("Rocky Linux 9.3".into(), 9)
        );
        assert_eq!(
            c("ID=\"tencentos\"\nPLATFORM_ID=\"platform:el8\"\n"),
            OsClass::RhelCompatible("tencentos".into(), 8)
        );
        assert_eq!(c("ID=centos\nVERSION_ID=7\n"), OsClass::Other);
        assert_eq!(c("ID=fedora\nVERSION_ID=39\n"), OsClass::Other);
        assert_eq!(c("ID=debian\nVERSION_ID=12\n"), OsClass::Other);
        assert_eq!(c(""), OsClass::Other);
        assert_eq!(c("ID=rhel\nVERSION_ID=garbage\n"), OsClass::Other);
    }

    #[test]
    fn call_traces_are_reported_at_their_header() {
        let recs = kmsg::parse_dmesg(
            "[1.0] ok\n[2.0] WARNING: CPU: 1 PID: 7 at drivers/x.c:10 f+0x1/0x2\n[2.1] Modules linked in:\n[2.2] Call Trace:\n[2.3]  <TASK>\n\
             [3.0] BUG: unable to handle page fault for address: 0\n[3.1] Oops: 0000 [#1] SMP\n[3.2] Call Trace:\n",
        );
        let f = findings(&recs);
        let got: Vec<(String, &str)> = f.iter().map(|(i, k)| (recs[*i].text.clone(), *k)).collect();
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(got[0].0.starts_with("WARNING: CPU: 1"), "{got:?}");
        assert_eq!(got[0].1, "call trace");
        assert_eq!(got[1].1, "BUG");
        assert_eq!(got[2].1, "oops");
    }
}
