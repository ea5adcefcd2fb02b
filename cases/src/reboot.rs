//! Cases that take the machine down and judge the boot that follows.
//!
//! * `system::reboot_cycle` — N reboots (the profile's `reboot.cycles`: standard 3, full 20),
//!   warm (`systemctl reboot`) or cold (`reboot.cold = true`: an IPMI chassis power cycle).
//!   Before each reboot the case records where it is in its state file
//!   (`casestate/system::reboot_cycle.json`), installs hwcert-resume.service
//!   ([`crate::resume_unit`]) and asks the supervisor to take the machine down; the journal
//!   line reads "rebooting (boot_id X): cycle n of N". On the next boot the unit resumes the
//!   run and the case judges the boot ([`check_boot`]): a new boot_id; back within
//!   `reboot.boot_timeout` (default 15 min; a boot that began later is reported as a boot that
//!   never came back — the one asked for hung, something else brought the machine up);
//!   `systemctl is-system-running` reached within `reboot.system_running_timeout` (default
//!   120 s); no failed unit; no new kernel log error (level `reboot.kmsg_level` or worse,
//!   default 3 = err, and every oops/BUG/panic/call trace/machine check/hardware error/I/O
//!   error, minus what the first boot logged too and minus `reboot.kmsg_allow`, a
//!   `|`-separated list of substrings); the same CPUs, memory, PCI functions and their
//!   drivers, disks, and links up at the same speed as on the first boot. The time a boot took
//!   is measured in one clock: from the reboot request (CLOCK_REALTIME) to the new boot's
//!   start (CLOCK_REALTIME − CLOCK_BOOTTIME, the offset recorded) plus the boot's own time to
//!   reach `running`. Every boot's result is in the state file before the next reboot, so a
//!   crash loses none.
//!
//! A case here is planned only when the profile enables it and the command line says
//! `--allow-reboot` ([`crate::Requirements::disruptive`]).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use documents::outcome::{Action, Disruption};
use hwsys::units::iec;

use crate::machine::{Clocks, Machine};
use crate::util::machine as whole_machine;
use crate::util::Spec;
use crate::{kmsg, resume_unit, Case, Component, Context, Inventory, Requirements, Verdict};

pub(crate) fn cases() -> Vec<Box<dyn Case>> {
    vec![Spec {
        name: "system::reboot_cycle",
        purpose: "The machine comes back from every reboot unchanged: booted, no failed unit, no new kernel error, same CPUs, memory, PCI functions and drivers, disks and link speeds",
        component: Component::System,
        blocker: true,
        timeout: 900,
        estimate_ms: 180_000,
        requirements: disruptive("reboot.cycles"),
        select: whole_machine,
        run: reboot_cycle,
    }
    .build()]
}

/// Requirements of a case that takes the machine down: live, enabled by `setting`.
pub(crate) fn disruptive(setting: &str) -> Requirements {
    Requirements {
        live: true,
        disruptive: Some(setting.to_string()),
        ..Requirements::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Settings

/// The profile settings of the boot checks (`[settings]`; the profile registry checks them).
#[derive(Debug, Clone, PartialEq)]
pub struct BootLimits {
    /// Longest time from the reboot request to the new boot's start.
    pub boot_timeout: Duration,
    /// Longest wait for `systemctl is-system-running`.
    pub running_timeout: Duration,
    /// Kernel log records of this level or worse are errors.
    pub kmsg_level: u8,
    /// Substrings of kernel log lines that are never errors.
    pub kmsg_allow: Vec<String>,
}

pub(crate) fn setting<T: std::str::FromStr>(
    ctx: &Context<'_>,
    key: &str,
    default: T,
) -> Result<T, Verdict> {
    match ctx.options.settings.get(key) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| {
            Verdict::error(format!(
                "the profile setting {key} = \"{}\" is not a valid value",
                hwsys::text::escape_controls(v)
            ))
        }),
    }
}

impl BootLimits {
    pub fn read(ctx: &Context<'_>) -> Result<BootLimits, Verdict> {
        Ok(BootLimits {
            boot_timeout: Duration::from_secs(setting(ctx, "reboot.boot_timeout", 900u64)?),
            running_timeout: Duration::from_secs(setting(
                ctx,
                "reboot.system_running_timeout",
                120u64,
            )?),
            kmsg_level: setting(ctx, "reboot.kmsg_level", 3u8)?,
            kmsg_allow: ctx
                .options
                .settings
                .get("reboot.kmsg_allow")
                .map(|s| {
                    s.split('|')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// What is compared across boots

/// What must be the same after every boot.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BootInventory {
    /// Online CPUs (a CPU list, "0-63").
    pub cpus_online: Option<String>,
    pub memory_bytes: Option<u64>,
    /// PCI address → "vendor:device driver".
    pub pci: BTreeMap<String, PciFn>,
    /// Disk name → what it is (model and size): names may move between boots, so disks are
    /// compared by what they are.
    pub disks: BTreeMap<String, String>,
    /// Physical interface that is up → its speed (Mb/s).
    pub links: BTreeMap<String, Option<u64>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PciFn {
    pub id: String,
    pub driver: Option<String>,
}

/// Memory may differ by this fraction between boots (firmware and crash kernel reservations).
const MEMORY_TOLERANCE: f64 = 0.005;

impl BootInventory {
    pub fn of(inv: &Inventory) -> BootInventory {
        let mut b = BootInventory {
            cpus_online: inv.cpu.online.clone(),
            memory_bytes: inv.memory.total_bytes,
            ..BootInventory::default()
        };
        for p in &inv.pci {
            b.pci.insert(
                p.address.clone(),
                PciFn {
                    id: format!(
                        "{}:{}",
                        p.vendor_id.as_deref().unwrap_or("?"),
                        p.device_id.as_deref().unwrap_or("?")
                    ),
                    driver: p.driver.clone(),
                },
            );
        }
        for d in &inv.storage {
            if d.kind.as_deref().is_some_and(|k| k != "disk") {
                continue;
            }
            let what = format!(
                "{} {}",
                d.model.as_deref().unwrap_or("(no model)"),
                d.size_bytes.map(iec).unwrap_or_else(|| "(no size)".into())
            );
            b.disks.insert(d.name.clone(), what);
        }
        for n in &inv.network {
            if n.is_virtual || n.operstate.as_deref() != Some("up") {
                continue;
            }
            b.links.insert(n.name.clone(), n.speed_mbps);
        }
        b
    }

    /// What changed from `first` to `self`, one line each.
    pub fn changes_from(&self, first: &BootInventory) -> Vec<String> {
        let mut out = Vec::new();
        if self.cpus_online != first.cpus_online {
            out.push(format!(
                "online CPUs {}, were {}",
                self.cpus_online.as_deref().unwrap_or("unknown"),
                first.cpus_online.as_deref().unwrap_or("unknown")
            ));
        }
        match (first.memory_bytes, self.memory_bytes) {
            (Some(a), Some(b)) if (a as f64 - b as f64).abs() > a as f64 * MEMORY_TOLERANCE => {
                out.push(format!("memory {}, was {}", iec(b), iec(a)))
            }
            (Some(a), None) => out.push(format!("memory size unknown, was {}", iec(a))),
            _ => {}
        }
        for (addr, f) in &first.pci {
            match self.pci.get(addr) {
                None => out.push(format!("PCI function {addr} ({}) is missing", f.id)),
                Some(g) if g.id != f.id => {
                    out.push(format!("PCI function {addr} is {}, was {}", g.id, f.id))
                }
                Some(g) if g.driver != f.driver => out.push(format!(
                    "PCI function {addr} ({}) is bound to {}, was {}",
                    f.id,
                    g.driver.as_deref().unwrap_or("no driver"),
                    f.driver.as_deref().unwrap_or("no driver")
                )),
                Some(_) => {}
            }
        }
        for (addr, g) in &self.pci {
            if !first.pci.contains_key(addr) {
                out.push(format!("PCI function {addr} ({}) is new", g.id));
            }
        }
        // Disks by what they are: a multiset difference.
        let count = |m: &BTreeMap<String, String>| {
            let mut c: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for (name, what) in m {
                c.entry(what.clone()).or_default().push(name.clone());
            }
            c
        };
        let (was, now) = (count(&first.disks), count(&self.disks));
        for (what, names) in &was {
            let n = now.get(what).map_or(0, Vec::len);
            if n < names.len() {
                out.push(format!(
                    "disk {what} is missing (was {}; {} of {} found)",
                    names.join(", "),
                    n,
                    names.len()
                ));
            }
        }
        for (what, names) in &now {
            if was.get(what).map_or(0, Vec::len) < names.len() {
                out.push(format!("disk {what} is new ({})", names.join(", ")));
            }
        }
        let speed =
            |s: &Option<u64>| s.map_or("unknown speed".to_string(), |s| format!("{s} Mb/s"));
        for (name, s) in &first.links {
            match self.links.get(name) {
                None => out.push(format!("link {name} is not up (was up at {})", speed(s))),
                Some(t) if t != s => out.push(format!(
                    "link {name} is up at {}, was {}",
                    speed(t),
                    speed(s)
                )),
                Some(_) => {}
            }
        }
        out
    }
}

/// The kernel log's errors: level `max_level` or worse, and every line [`kmsg::problem`]
/// names, without the allowed ones; each with its text normalised (digits to `#`) so the
/// same message of another boot compares equal.
pub fn kernel_errors(
    log: &kmsg::KernelLog,
    max_level: u8,
    allow: &[String],
) -> Vec<(String, String)> {
    log.records
        .iter()
        .filter(|r| r.level.is_some_and(|l| l <= max_level) || kmsg::problem(&r.text).is_some())
        .filter(|r| !allow.iter().any(|a| r.text.contains(a.as_str())))
        .map(|r| (normalise(&r.text), r.display()))
        .collect()
}

fn normalise(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    for c in t.chars() {
        if c.is_ascii_digit() {
            if !out.ends_with('#') {
                out.push('#');
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// What the first boot was.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FirstBoot {
    pub boot_id: String,
    pub boot_started_ms: u64,
    /// CLOCK_REALTIME − CLOCK_BOOTTIME when it was read.
    pub offset_ms: u64,
    pub inventory: BootInventory,
    /// Its kernel log errors, normalised (these are not "new" on a later boot).
    pub kernel_errors: Vec<String>,
}

impl FirstBoot {
    pub fn probe(
        m: &dyn Machine,
        limits: &BootLimits,
        boot_id: &str,
        c: Clocks,
    ) -> Result<FirstBoot, String> {
        let inv = probe(m)?;
        let sys = hwsys::Sysroot::new(m.sysroot());
        let errors = kmsg::read(&sys)
            .map(|l| kernel_errors(&l, limits.kmsg_level, &limits.kmsg_allow))
            .unwrap_or_default();
        Ok(FirstBoot {
            boot_id: boot_id.to_string(),
            boot_started_ms: c.boot_started_ms(),
            offset_ms: c.boot_started_ms(),
            inventory: BootInventory::of(&inv),
            kernel_errors: errors.into_iter().map(|e| e.0).collect(),
        })
    }
}

fn probe(m: &dyn Machine) -> Result<Inventory, String> {
    inventory::probe(&inventory::ProbeOptions {
        sysroot: m.sysroot(),
        all: false,
        show_identifiers: false,
        udev: false,
        // The boot comparison has no BMC part (BootInventory).
        bmc: None,
    })
    .map_err(|e| format!("cannot probe {}: {e}", m.describe()))
}

/// A reboot asked for and not yet seen through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    pub from_boot: String,
    /// CLOCK_REALTIME when it was asked for.
    pub requested_ms: u64,
    pub action: Action,
    /// How often it was asked for on the same boot (the supervisor died before acting).
    #[serde(default)]
    pub attempts: u32,
}

/// One boot as judged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BootRecord {
    pub boot_id: String,
    /// When it began (CLOCK_REALTIME − CLOCK_BOOTTIME).
    pub boot_started_ms: u64,
    /// The offset of the two clocks as read on this boot.
    pub offset_ms: u64,
    /// From the request to this boot's start.
    pub down_ms: i64,
    /// CLOCK_BOOTTIME when systemd said the boot was done.
    pub running_after_ms: Option<u64>,
    /// What was wrong; empty for a good boot.
    pub problems: Vec<String>,
    /// What the case noticed that is no problem.
    #[serde(default)]
    pub notes: Vec<String>,
}

impl BootRecord {
    /// From the request to `running`, when both are known.
    pub fn took_ms(&self) -> Option<i64> {
        self.running_after_ms.map(|r| self.down_ms + r as i64)
    }
}

/// Judge the boot after `pending`: the machine came back, booted, no failed unit, no new
/// kernel error, inventory as on the first boot.
pub fn check_boot(
    m: &dyn Machine,
    first: &FirstBoot,
    pending: &Pending,
    boot_id: &str,
    clocks: Clocks,
    limits: &BootLimits,
    log: &mut dyn FnMut(String),
) -> BootRecord {
    let mut r = BootRecord {
        boot_id: boot_id.to_string(),
        boot_started_ms: clocks.boot_started_ms(),
        offset_ms: clocks.boot_started_ms(),
        down_ms: clocks.boot_started_ms() as i64 - pending.requested_ms as i64,
        ..BootRecord::default()
    };
    let asked = hwsys::time::format_rfc3339(pending.requested_ms as i64);
    let began = hwsys::time::format_rfc3339(r.boot_started_ms as i64);
    log(format!(
        "boot {boot_id} began {began} (realtime − boottime = {} ms), {} after the {} asked for at {asked}",
        r.offset_ms,
        signed_duration(r.down_ms),
        pending.action.doing()
    ));
    if r.down_ms > limits.boot_timeout.as_millis() as i64 {
        r.problems.push(format!(
            "the boot asked for at {asked} never came back within {}: this boot began {} later \
             (the machine hung on the way down or up, and was brought back otherwise)",
            hwsys::time::human_duration(limits.boot_timeout.as_millis() as u64),
            signed_duration(r.down_ms)
        ));
    } else if r.down_ms < 0 {
        r.notes.push(format!(
            "this boot began {} before the request by the wall clock (the clock was set since)",
            signed_duration(-r.down_ms)
        ));
    }
    // systemd's word.
    let wait_from = Instant::now();
    loop {
        match m.system_state() {
            Ok(s) if s.booted() => {
                r.running_after_ms = m.clocks().map(|c| c.boottime_ms);
                log(format!(
                    "systemctl is-system-running: {} (after {} ms of boot)",
                    s.state,
                    r.running_after_ms.unwrap_or(0)
                ));
                break;
            }
            Ok(s) if wait_from.elapsed() >= limits.running_timeout => {
                r.problems.push(format!(
                    "the boot did not finish within {} s: systemctl is-system-running says {}{}",
                    limits.running_timeout.as_secs(),
                    s.state,
                    if s.jobs.is_empty() {
                        String::new()
                    } else {
                        format!(" with jobs queued for {}", crate::util::list(&s.jobs, 5))
                    }
                ));
                break;
            }
            Err(e) if wait_from.elapsed() >= limits.running_timeout => {
                r.problems
                    .push(format!("cannot tell whether the boot finished: {e}"));
                break;
            }
            _ => std::thread::sleep(Duration::from_millis(500)),
        }
    }
    match m.failed_units() {
        Ok(f) if f.is_empty() => log("no failed unit".into()),
        Ok(f) => r
            .problems
            .push(format!("failed units: {}", crate::util::list(&f, 8))),
        Err(e) => r
            .problems
            .push(format!("cannot list the failed units: {e}")),
    }
    let sys = hwsys::Sysroot::new(m.sysroot());
    match kmsg::read(&sys) {
        Ok(l) => {
            let errors = kernel_errors(&l, limits.kmsg_level, &limits.kmsg_allow);
            let new: Vec<String> = errors
                .iter()
                .filter(|(n, _)| !first.kernel_errors.contains(n))
                .map(|(_, shown)| shown.clone())
                .collect();
            log(format!(
                "kernel log: {} records from {}, {} errors, {} new since the first boot",
                l.records.len(),
                l.source,
                errors.len(),
                new.len()
            ));
            if !new.is_empty() {
                r.problems.push(format!(
                    "{} new kernel log error(s) of level {} or worse: {}",
                    new.len(),
                    limits.kmsg_level,
                    crate::util::list(&new, 4)
                ));
            }
        }
        Err(e) => r.problems.push(format!("no kernel log to check: {e}")),
    }
    match probe(m) {
        Ok(inv) => {
            let changes = BootInventory::of(&inv).changes_from(&first.inventory);
            if changes.is_empty() {
                log("inventory as on the first boot".into());
            } else {
                r.problems.push(format!(
                    "the inventory changed since the first boot: {}",
                    changes.join("; ")
                ));
            }
        }
        Err(e) => r.problems.push(e),
    }
    r
}

fn signed_duration(ms: i64) -> String {
    let d = hwsys::time::human_duration(ms.unsigned_abs());
    if ms < 0 {
        format!("-{d}")
    } else {
        d
    }
}

// ---------------------------------------------------------------------------------------------
// The state file

/// What `system::reboot_cycle` keeps across boots.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CycleState {
    pub cycles: u32,
    pub first: Option<FirstBoot>,
    #[serde(default)]
    pub boots: Vec<BootRecord>,
    #[serde(default)]
    pub pending: Option<Pending>,
}

/// Read a case's state; `Ok(None)` when it has none yet.
pub fn read_state<T: serde::de::DeserializeOwned>(p: &Path) -> Result<Option<T>, String> {
    match std::fs::read(p) {
        Ok(b) => serde_json::from_slice(&b).map(Some).map_err(|e| {
            format!(
                "{} is not this case's state ({e}): it was damaged; remove it to start the case over",
                p.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", p.display())),
    }
}

/// Write a case's state durably (before the machine goes down).
pub fn write_state<T: Serialize>(p: &Path, v: &T) -> Result<(), String> {
    if let Some(d) = p.parent() {
        std::fs::create_dir_all(d).map_err(|e| format!("cannot create {}: {e}", d.display()))?;
    }
    let mut b = serde_json::to_vec_pretty(v).map_err(|e| e.to_string())?;
    b.push(b'\n');
    hwsys::fs::write_atomic(p, &b).map_err(|e| format!("cannot write {}: {e}", p.display()))
}

/// Install the resume unit for this run and ask the supervisor for `action`.
pub fn ask_for(
    ctx: &mut Context<'_>,
    m: &dyn Machine,
    action: Action,
    why: String,
) -> Result<(), Verdict> {
    let run_dir = ctx
        .run_dir()
        .ok_or_else(|| Verdict::error("the case runs outside a run directory"))?
        .to_path_buf();
    let exe = std::env::current_exe()
        .map_err(|e| Verdict::error(format!("cannot find the hwcert executable: {e}")))?;
    let lines = resume_unit::install(m, &exe, &run_dir).map_err(Verdict::error)?;
    for l in lines {
        ctx.log(l);
    }
    ctx.log(format!("asking for: {} ({why})", action.doing()));
    ctx.disrupt(Disruption { action, why });
    Ok(())
}

/// The machine the case may act on: the injected one, or this one when the run reads it (as
/// root).
pub(crate) fn usable_machine(ctx: &Context<'_>) -> Result<std::sync::Arc<dyn Machine>, Verdict> {
    let m = ctx.machine();
    if m.is_live() {
        if !ctx.is_live() {
            return Err(Verdict::skip(
                "takes the machine down: runs only on the live system, not on a recorded tree",
            ));
        }
        if !ctx.is_root {
            return Err(Verdict::skip("needs root to reboot the machine"));
        }
    }
    Ok(m)
}

// ---------------------------------------------------------------------------------------------
// reboot_cycle

fn reboot_cycle(ctx: &mut Context<'_>) -> Verdict {
    match cycle(ctx) {
        Ok(v) | Err(v) => v,
    }
}

fn cycle(ctx: &mut Context<'_>) -> Result<Verdict, Verdict> {
    let m = usable_machine(ctx)?;
    let path = ctx
        .state_file()
        .ok_or_else(|| Verdict::error("the case runs outside a run directory"))?;
    let limits = BootLimits::read(ctx)?;
    let cycles: u32 = setting(ctx, "reboot.cycles", 3u32)?.clamp(1, 1000);
    let cold: bool = setting(ctx, "reboot.cold", false)?;
    let action = if cold {
        Action::PowerCycle
    } else {
        Action::Reboot
    };
    let how = if cold {
        "cold: ipmitool chassis power cycle"
    } else {
        "warm: systemctl reboot"
    };
    if cold
        && !ctx.options.settings.contains_key("ipmi.host")
        && !m.sysroot().join("dev/ipmi0").exists()
    {
        return Err(Verdict::skip(
            "reboot.cold asks for a power cycle through the BMC, but none is configured: no \
             ipmi.host in the profile and no local /dev/ipmi0 (load ipmi_si and ipmi_devintf)",
        ));
    }
    let boot_id = m
        .boot_id()
        .ok_or_else(|| Verdict::error(format!("cannot read the boot id of {}", m.describe())))?;
    let clocks = m
        .clocks()
        .ok_or_else(|| Verdict::error(format!("cannot read the clocks of {}", m.describe())))?;
    let mut st: CycleState = read_state(&path)
        .map_err(Verdict::error)?
        .unwrap_or_default();
    let Some(first) = st.first.clone() else {
        let first =
            FirstBoot::probe(m.as_ref(), &limits, &boot_id, clocks).map_err(Verdict::error)?;
        ctx.log(format!(
            "first boot {boot_id}: {} PCI functions, {} disks, {} links up, {} kernel log errors \
             (not new on later boots); {cycles} reboots ({how})",
            first.inventory.pci.len(),
            first.inventory.disks.len(),
            first.inventory.links.len(),
            first.kernel_errors.len()
        ));
        st = CycleState {
            cycles,
            first: Some(first),
            boots: Vec::new(),
            pending: None,
        };
        return request(ctx, m.as_ref(), &path, st, action, how, &boot_id, clocks);
    };
    if let Some(p) = st.pending.take() {
        if p.from_boot == boot_id {
            if p.attempts < 2 {
                ctx.log(format!(
                    "still boot {boot_id}: the {} asked for at {} did not happen (the supervisor \
                     stopped before it acted); asking again",
                    p.action.doing(),
                    hwsys::time::format_rfc3339(p.requested_ms as i64)
                ));
                let attempts = p.attempts + 1;
                st.pending = Some(Pending { attempts, ..p });
                write_state(&path, &st).map_err(Verdict::error)?;
                let n = st.boots.len() + 1;
                ask_for(
                    ctx,
                    m.as_ref(),
                    action,
                    format!("cycle {n} of {}, {how}", st.cycles),
                )?;
                return Ok(Verdict::Pass);
            }
            st.boots.push(BootRecord {
                boot_id: boot_id.clone(),
                problems: vec![format!(
                    "the machine did not reboot: the boot_id is still {boot_id} after {} requests",
                    p.attempts + 1
                )],
                ..BootRecord::default()
            });
            write_state(&path, &st).map_err(Verdict::error)?;
            return Ok(conclude(ctx, m.as_ref(), &st, true));
        }
        let rec = {
            let mut lines = Vec::new();
            let r = check_boot(
                m.as_ref(),
                &first,
                &p,
                &boot_id,
                clocks,
                &limits,
                &mut |l| lines.push(l),
            );
            for l in lines {
                ctx.log(l);
            }
            r
        };
        for pr in &rec.problems {
            ctx.log(format!(
                "boot {} of {}: PROBLEM: {pr}",
                st.boots.len() + 1,
                st.cycles
            ));
        }
        st.boots.push(rec);
        if st.boots.len() < st.cycles as usize {
            return request(ctx, m.as_ref(), &path, st, action, how, &boot_id, clocks);
        }
        write_state(&path, &st).map_err(Verdict::error)?;
    }
    Ok(conclude(ctx, m.as_ref(), &st, false))
}

#[allow(clippy::too_many_arguments)]
fn request(
    ctx: &mut Context<'_>,
    m: &dyn Machine,
    path: &Path,
    mut st: CycleState,
    action: Action,
    how: &str,
    boot_id: &str,
    clocks: Clocks,
) -> Result<Verdict, Verdict> {
    st.pending = Some(Pending {
        from_boot: boot_id.to_string(),
        requested_ms: clocks.realtime_ms,
        action,
        attempts: 0,
    });
    // The state is on disk before anything else: a crash from here on loses nothing.
    write_state(path, &st).map_err(Verdict::error)?;
    let n = st.boots.len() + 1;
    ask_for(ctx, m, action, format!("cycle {n} of {}, {how}", st.cycles))?;
    Ok(Verdict::Pass)
}

/// Remove the resume unit this run installed (a case that took the machine down is done).
pub(crate) fn remove_unit(ctx: &mut Context<'_>, m: &dyn Machine) {
    if let Some(dir) = ctx.run_dir().map(Path::to_path_buf) {
        match resume_unit::uninstall(m, &dir) {
            Ok(true) => ctx.log("removed hwcert-resume.service"),
            Ok(false) => {}
            Err(e) => ctx.log(format!("WARNING: {e}")),
        }
    }
}

/// The verdict over every boot seen; the resume unit is removed.
fn conclude(ctx: &mut Context<'_>, m: &dyn Machine, st: &CycleState, stopped: bool) -> Verdict {
    remove_unit(ctx, m);
    let mut bad = Vec::new();
    for (i, b) in st.boots.iter().enumerate() {
        let n = i + 1;
        if let Some(t) = b.took_ms() {
            ctx.measure(&format!("boot{n}_seconds"), t as f64 / 1000.0, "s");
        }
        ctx.measure(
            &format!("boot{n}_clock_offset_ms"),
            b.offset_ms as f64,
            "ms",
        );
        if !b.problems.is_empty() {
            bad.push(format!(
                "boot {n} ({}): {}",
                b.boot_id,
                b.problems.join("; ")
            ));
        }
    }
    let took: Vec<i64> = st.boots.iter().filter_map(BootRecord::took_ms).collect();
    if let Some(max) = took.iter().max() {
        ctx.measure("slowest_boot_seconds", *max as f64 / 1000.0, "s");
    }
    ctx.judge("boots_with_problems", bad.len() as f64, "", "==", 0.0);
    ctx.judge("reboots", st.boots.len() as f64, "", ">=", st.cycles as f64);
    let expected = format!(
        "{} reboots, each back in time, booted, without failed units or new kernel errors, \
         with the first boot's inventory",
        st.cycles
    );
    if bad.is_empty() && !stopped && st.boots.len() >= st.cycles as usize {
        ctx.log(format!(
            "{} reboots, every boot as the first",
            st.boots.len()
        ));
        return Verdict::Pass;
    }
    let mut measured = format!("{} of {} boots with problems: ", bad.len(), st.boots.len());
    measured.push_str(&bad.join(" | "));
    Verdict::fail(expected, measured)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inv() -> BootInventory {
        let mut b = BootInventory {
            cpus_online: Some("0-7".into()),
            memory_bytes: Some(64 << 30),
            ..Default::default()
        };
        b.pci.insert(
            "0000:3b:00.0".into(),
            PciFn {
                id: "8086:1572".into(),
                driver: Some("i40e".into()),
            },
        );
        b.disks.insert("sda".into(), "ST4000 3.6 TiB".into());
        b.disks.insert("sdb".into(), "ST4000 3.6 TiB".into());
        b.links.insert("eth0".into(), Some(10000));
        b
    }

    #[test]
    fn unchanged_inventory_has_no_changes_and_renamed_disks_are_the_same() {
        let a = inv();
        assert!(a.changes_from(&a).is_empty());
        let mut b = inv();
        let d = b.disks.remove("sda").expect("sda");
        b.disks.insert("sdc".into(), d);
        b.memory_bytes = Some((64 << 30) - (100 << 20));
        assert!(b.changes_from(&a).is_empty(), "{:?}", b.changes_from(&a));
    }

    #[test]
    fn every_kind_of_change_is_named() {
        let a = inv();
        let mut b = inv();
        b.disks.remove("sdb");
        b.links.insert("eth0".into(), Some(1000));
        b.pci.get_mut("0000:3b:00.0").expect("fn").driver = None;
        b.cpus_online = Some("0-3".into());
        b.memory_bytes = Some(32 << 30);
        let c = b.changes_from(&a);
        assert_eq!(c.len(), 5, "{c:?}");
        assert!(c
            .iter()
            .any(|l| l.contains("disk ST4000 3.6 TiB is missing (was sda, sdb; 1 of 2")));
        assert!(c
            .iter()
            .any(|l| l == "link eth0 is up at 1000 Mb/s, was 10000 Mb/s"));
        assert!(c.iter().any(|l| l.contains("bound to no driver, was i40e")));
        let mut d = inv();
        d.links.clear();
        d.pci.clear();
        let c = d.changes_from(&a);
        assert!(c.iter().any(|l| l.contains("link eth0 is not up")), "{c:?}");
        assert!(c
            .iter()
            .any(|l| l.contains("0000:3b:00.0 (8086:1572) is missing")));
    }

    #[test]
    fn kernel_errors_by_severity_with_an_allow_list() {
        let log = kmsg::KernelLog {
            records: kmsg::parse_kmsg(
                "6,1,100,-;usb 1-1: new high-speed USB device number 2\n\
                 4,2,200,-;ACPI Warning: harmless\n\
                 3,3,300,-;ACPI Error: AE_NOT_FOUND, While resolving a named reference 42\n\
                 3,4,400,-;mlx5_core 0000:3b:00.0: firmware error 7\n\
                 6,5,500,-;blk_update_request: I/O error, dev sda, sector 1234\n",
            ),
            ..Default::default()
        };
        let e = kernel_errors(&log, 3, &["ACPI Error: AE_NOT_FOUND".to_string()]);
        let texts: Vec<&str> = e.iter().map(|x| x.1.as_str()).collect();
        assert_eq!(e.len(), 2, "{texts:?}");
        assert!(texts[0].contains("mlx5_core"));
        assert!(
            texts[1].contains("I/O error"),
            "a problem line at level 6 still counts"
        );
        assert_eq!(e[0].0, "mlx#_core #:#b:#.#: firmware error #");
        assert_eq!(kernel_errors(&log, 4, &[]).len(), 4);
        assert!(kernel_errors(&kmsg::KernelLog::default(), 3, &[]).is_empty());
    }

    #[test]
    fn a_damaged_state_file_is_an_error_that_says_what_to_do() {
        let d = tempfile::tempdir().expect("tmp");
        let p = d.path().join("s.json");
        assert_eq!(read_state::<CycleState>(&p), Ok(None));
        std::fs::write(&p, b"{\"cycles\": 3, \"first\": {\"boot_i").expect("write");
        let e = read_state::<CycleState>(&p).expect_err("torn");
        assert!(e.contains("remove it to start the case over"), "{e}");
        let st = CycleState {
            cycles: 2,
            ..Default::default()
        };
        write_state(&p, &st).expect("write");
        assert_eq!(read_state::<CycleState>(&p), Ok(Some(st)));
    }
}
