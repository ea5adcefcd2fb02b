//! The planner: which instances of which cases apply to a machine, under a profile, and why
//! the others do not. `hwcert plan`.
//!
//! For each case of the catalog in catalog order, then each command case of the profile:
//!
//! 1. a profile `exclude` pattern matching the case name, or an `include` list that cannot match
//!    it → not planned ("excluded by the profile (pattern …)");
//! 2. the selector finds nothing → not planned with its reason;
//! 3. instance names left out by `include`/`exclude` → not planned, that instance only;
//! 4. an unmet requirement → not planned ("needs root", "needs tool smartctl (not on PATH)",
//!    "needs 64 GiB of memory, the machine has 23.5 GiB", "runs only on the live system"; a
//!    case that reboots, crashes or power-cycles the machine: "the profile does not enable it
//!    (setting reboot.cycles …)" or "… the command line does not say --allow-reboot");
//! 5. otherwise one instance per target, with its time limit (the profile's `[timeouts]`, else
//!    the case's, grown to fit a stress case's length), estimate (a stress case's from
//!    `stress_seconds`) and blocker flag. Destructive instances are planned and flagged: the
//!    runner runs them only when `--destructive --device` names their target.

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use anyhow::Result;

use cases::{Case, Component, Requirements, Selection, Target};
use hwsys::units::{util_linux_size, SizeStyle};

use crate::profile::{self, format_duration, CommandCase, Located, Pattern, Profile, StressLength};
use documents::plan::{
    stressor_of, InstanceKind, NotPlanned, NotPlannedKind, Plan, PlannedInstance, PLAN_SCHEMA,
};

/// What a plan is made from.
pub struct PlanRequest<'a> {
    pub profile: &'a Profile,
    pub inventory: &'a inventory::Inventory,
    pub sysroot: &'a std::path::Path,
    /// Devices named with `--destructive --device` (`sdb` or `/dev/sdb`).
    pub destructive_devices: Vec<String>,
    pub is_root: bool,
    /// `--allow-reboot`: cases that take the machine down may be planned (when the profile
    /// enables them too).
    pub allow_reboot: bool,
}

impl<'a> PlanRequest<'a> {
    /// A request with no destructive devices, as the current user.
    pub fn new(
        profile: &'a Profile,
        inventory: &'a inventory::Inventory,
        sysroot: &'a Path,
    ) -> Self {
        PlanRequest {
            profile,
            inventory,
            sysroot,
            destructive_devices: Vec::new(),
            is_root: is_root(),
            allow_reboot: false,
        }
    }
}

/// Whether this process runs as root (effective uid 0).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// A plan, and what the person planning should know (patterns that match nothing, devices no
/// destructive case targets, vendor commands missing on this machine).
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub plan: Plan,
    pub warnings: Vec<String>,
}

/// Memory one stress pass covers per second, for the estimate of `memory = "pass"`: a
/// write-and-verify pass over all memory, conservatively (real machines do 2–10 times better).
pub const MEMORY_PASS_BYTES_PER_SECOND: u64 = 2 << 30;

/// Make the plan with the built-in catalog.
pub fn make_plan(req: &PlanRequest<'_>) -> Result<Plan> {
    Ok(make_plan_with(req, &cases::catalog())?.plan)
}

/// One thing to plan: a built-in case or a profile's command case.
enum Entry<'a> {
    Builtin(&'a dyn Case),
    Command(&'a CommandCase),
}

struct Facts<'a> {
    name: &'a str,
    component: Component,
    purpose: &'a str,
    requirements: &'a Requirements,
    timeout: Duration,
    estimate: Duration,
    blocker: bool,
}

impl<'a> Entry<'a> {
    fn facts(&self) -> Facts<'a> {
        match *self {
            Entry::Builtin(c) => {
                let i = c.info();
                Facts {
                    name: &i.name,
                    component: i.component,
                    purpose: &i.purpose,
                    requirements: &i.requirements,
                    timeout: i.timeout,
                    estimate: i.estimate,
                    blocker: i.blocker,
                }
            }
            Entry::Command(c) => Facts {
                name: &c.name,
                component: c.component,
                purpose: &c.purpose,
                requirements: &c.requirements,
                timeout: c.timeout,
                estimate: c.estimate,
                blocker: c.blocker,
            },
        }
    }

    fn select(&self, inv: &inventory::Inventory, options: &cases::RunOptions) -> Selection {
        match *self {
            Entry::Builtin(c) => c.select_with(inv, options),
            Entry::Command(c) if c.applies_to.is_empty() => {
                Selection::Targets(vec![Target::machine()])
            }
            Entry::Command(c) => {
                let t = profile::select(&c.applies_to, inv);
                if t.is_empty() {
                    let sels: Vec<&str> = c.applies_to.iter().map(|s| s.as_str()).collect();
                    Selection::NotApplicable(format!(
                        "nothing on this machine matches applies_to {}",
                        sels.join(", ")
                    ))
                } else {
                    Selection::Targets(t)
                }
            }
        }
    }
}

fn pattern_reason(verb: &str, p: &Located<Pattern>) -> String {
    format!(
        "{verb} by the profile (pattern \"{}\", {}:{})",
        p.value, p.at.file, p.at.line
    )
}

fn not_included_reason(include: &[Located<Pattern>]) -> String {
    let list: Vec<String> = include.iter().map(|p| format!("\"{}\"", p.value)).collect();
    format!("not included by the profile (include: {})", list.join(", "))
}

/// Make the plan from `catalog` (in its order) and the profile's command cases.
pub fn make_plan_with(req: &PlanRequest<'_>, catalog: &[Box<dyn Case>]) -> Result<Planned> {
    let profile = req.profile;
    let names: Vec<String> = catalog.iter().map(|c| c.info().name.clone()).collect();
    profile::check_command_names(profile, &names)?;

    use NotPlannedKind::{Excluded, NotApplicable, Unmet};
    let live = hwsys::Sysroot::new(req.sysroot).is_live();
    let path_var = std::env::var_os("PATH").unwrap_or_default();
    let include = profile.include.as_deref();
    let mut used_include = vec![false; include.map_or(0, <[_]>::len)];
    let mut used_exclude = vec![false; profile.exclude.len()];
    let mut used_timeouts = vec![false; profile.timeouts.len()];
    let mut warnings = Vec::new();
    let mut instances = Vec::new();
    let mut not_planned = Vec::new();

    // What selectors may depend on (network::mtu_roundtrip picks the profile's interfaces).
    let select_options = cases::RunOptions {
        mtu_interfaces: profile.mtu_interfaces.clone(),
        // The traffic cases pick interfaces and peers from the network.* settings, the BMC
        // cases their BMC from ipmi.host.
        settings: profile
            .settings
            .iter()
            .filter(|(k, _)| k.starts_with("network.") || k.starts_with("ipmi."))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        ..Default::default()
    };
    let entries: Vec<Entry<'_>> = catalog
        .iter()
        .map(|c| Entry::Builtin(c.as_ref()))
        .chain(profile.commands.iter().map(Entry::Command))
        .collect();

    for entry in &entries {
        let f = entry.facts();
        // 1. The profile, on the case's name.
        let mut excluded = None;
        for (i, p) in profile.exclude.iter().enumerate() {
            if p.value.matches(f.name) {
                used_exclude[i] = true;
                excluded = excluded.or(Some(p));
            }
        }
        if let Some(p) = excluded {
            not_planned.push(
                NotPlanned::case(f.name, pattern_reason("excluded", p)).of(Excluded, f.blocker),
            );
            continue;
        }
        let mut whole_case_included = include.is_none();
        if let Some(inc) = include {
            for (i, p) in inc.iter().enumerate() {
                if p.value.matches(f.name) {
                    used_include[i] = true;
                    whole_case_included = true;
                }
            }
            if !whole_case_included
                && !inc
                    .iter()
                    .any(|p| p.value.may_match_longer(&format!("{}::", f.name)))
            {
                not_planned.push(
                    NotPlanned::case(f.name, not_included_reason(inc)).of(Excluded, f.blocker),
                );
                continue;
            }
        }
        // 2. The selector.
        let targets = match entry.select(req.inventory, &select_options) {
            Selection::Targets(t) if t.is_empty() => {
                not_planned.push(
                    NotPlanned::case(f.name, "no target on this machine")
                        .of(NotApplicable, f.blocker),
                );
                continue;
            }
            Selection::Targets(t) => t,
            // Nothing of the case was included anyway: that is the reason.
            Selection::NotApplicable(_) if !whole_case_included => {
                not_planned.push(
                    NotPlanned::case(f.name, include.map(not_included_reason).unwrap_or_default())
                        .of(Excluded, f.blocker),
                );
                continue;
            }
            Selection::NotApplicable(reason) => {
                not_planned.push(NotPlanned::case(f.name, reason).of(NotApplicable, f.blocker));
                continue;
            }
        };
        // 3. The profile, on instance names.
        let mut kept = Vec::new();
        let mut left_out = Vec::new();
        for t in targets {
            let inst = cases::instance_name(f.name, &t);
            let mut hit = whole_case_included;
            for (i, p) in include.into_iter().flatten().enumerate() {
                if p.value.matches(&inst) {
                    used_include[i] = true;
                    hit = true;
                }
            }
            let mut reason = if hit {
                None
            } else {
                include.map(not_included_reason)
            };
            for (i, p) in profile.exclude.iter().enumerate() {
                if p.value.matches(&inst) {
                    used_exclude[i] = true;
                    reason = reason.or_else(|| Some(pattern_reason("excluded", p)));
                }
            }
            match reason {
                Some(r) => left_out.push((t, r)),
                None => kept.push(t),
            }
        }
        if kept.is_empty() {
            let (kind, reason) = match left_out.into_iter().next() {
                Some(x) => (Excluded, x.1),
                None => (NotApplicable, "no target on this machine".into()),
            };
            not_planned.push(NotPlanned::case(f.name, reason).of(kind, f.blocker));
            continue;
        }
        // 4. Requirements.
        let unmet = unmet_requirements(f.requirements, req, live, &path_var);
        if !unmet.is_empty() {
            not_planned.push(NotPlanned::case(f.name, unmet.join("; ")).of(Unmet, f.blocker));
            continue;
        }
        for (t, reason) in left_out {
            not_planned.push(NotPlanned {
                case: f.name.to_string(),
                reason,
                target: t.id,
                kind: Some(Excluded),
                blocker: f.blocker,
            });
        }
        // 5. Instances.
        let stressor = stressor_of(f.name);
        for t in kept {
            let name = cases::instance_name(f.name, &t);
            let (mut timeout, estimate) = stress_times(&f, stressor, profile, req.inventory);
            if let Some(o) = profile.timeout_for(f.name, &name) {
                if let Some(i) = profile.timeouts.iter().position(|x| std::ptr::eq(x, o)) {
                    used_timeouts[i] = true;
                }
                timeout = o.seconds as f64;
                if stressor.is_some() && timeout < estimate {
                    warnings.push(format!(
                        "{}:{}: {}: the time limit {} of {name} is shorter than its {} of stress",
                        o.at.file,
                        o.at.line,
                        o.at.key,
                        format_duration(timeout),
                        format_duration(estimate)
                    ));
                }
            }
            instances.push(PlannedInstance {
                name,
                case: f.name.to_string(),
                component: f.component,
                target: t.id.clone(),
                target_label: t.label.clone(),
                purpose: f.purpose.to_string(),
                timeout_s: timeout,
                estimate_s: estimate,
                blocker: f.blocker,
                destructive: f.requirements.destructive,
                kind: match entry {
                    Entry::Builtin(_) => InstanceKind::Builtin,
                    Entry::Command(c) => InstanceKind::Command {
                        argv: c.argv.clone(),
                    },
                },
            });
        }
        if live {
            if let Entry::Command(c) = entry {
                if let Some(w) = missing_command(c, &path_var) {
                    warnings.push(w);
                }
            }
        }
    }

    // What the person planning should know.
    let unused = |used: &[bool], list: &[Located<Pattern>], what: &str| -> Vec<String> {
        list.iter()
            .zip(used)
            .filter(|(_, u)| !**u)
            .map(|(p, _)| format!("{}: pattern \"{}\" {what}", p.at, p.value))
            .collect()
    };
    if let Some(inc) = include {
        warnings.extend(unused(
            &used_include,
            inc,
            "includes nothing on this machine",
        ));
    }
    warnings.extend(unused(
        &used_exclude,
        &profile.exclude,
        "excludes nothing on this machine",
    ));
    for (t, used) in profile.timeouts.iter().zip(&used_timeouts) {
        if !used {
            warnings.push(format!(
                "{}: pattern \"{}\" sets the time limit of nothing planned",
                t.at, t.pattern
            ));
        }
    }
    let devices: Vec<String> = req
        .destructive_devices
        .iter()
        .map(|d| d.strip_prefix("/dev/").unwrap_or(d).to_string())
        .collect();
    for d in &devices {
        let targeted = instances
            .iter()
            .any(|i| i.destructive && i.target.as_deref() == Some(d.as_str()));
        if !targeted {
            warnings.push(format!(
                "--device {d}: no destructive case in the plan targets it"
            ));
        }
    }

    let mut seen = std::collections::HashSet::new();
    warnings.retain(|w| seen.insert(w.clone()));

    let mut settings = profile.settings.clone();
    for s in profile::STRESSORS {
        match profile.stress.get(s) {
            Some(StressLength::Seconds(n)) => {
                settings.insert(format!("stress.{s}_seconds"), n.to_string());
            }
            Some(StressLength::Passes(n)) => {
                settings.insert(format!("stress.{s}_passes"), n.to_string());
            }
            None => {}
        }
    }
    let plan = Plan {
        schema: PLAN_SCHEMA.into(),
        profile: profile.name.clone(),
        profile_file: profile.source.clone(),
        profile_chain: profile.chain.clone(),
        certifies: Some(profile.certifies),
        not_certifying: profile.not_certifying.clone(),
        options: cases::RunOptions {
            stress_seconds: profile.stress.uniform_seconds(),
            destructive_devices: devices,
            mtu_interfaces: profile.mtu_interfaces.clone(),
            settings,
        },
        test_args: Vec::new(),
        sysroot: req.sysroot.display().to_string(),
        log_cap_bytes: profile
            .log_cap
            .unwrap_or(documents::plan::DEFAULT_LOG_CAP_BYTES),
        instances,
        not_planned,
    };
    Ok(Planned { plan, warnings })
}

/// Time limit and estimate of one instance, in seconds, before `[timeouts]`.
fn stress_times(
    f: &Facts<'_>,
    stressor: Option<&str>,
    profile: &Profile,
    inv: &inventory::Inventory,
) -> (f64, f64) {
    let timeout = f.timeout.as_secs_f64();
    let estimate = f.estimate.as_secs_f64();
    let Some(s) = stressor else {
        return (timeout, estimate);
    };
    match profile.stress.get(s) {
        // The stress itself, a quarter more and a minute for setup and a slow machine (the case's
        // own limit is for an unknown length).
        Some(StressLength::Seconds(n)) => {
            let n = n as f64;
            (n * 1.25 + 60.0, n)
        }
        Some(StressLength::Passes(p)) => match inv.memory.total_bytes {
            Some(total) => {
                let est =
                    (total as f64 * f64::from(p) / MEMORY_PASS_BYTES_PER_SECOND as f64).max(1.0);
                // The estimate is rough: leave three times as long and five minutes.
                (est * 3.0 + 300.0, est)
            }
            None => (timeout, estimate),
        },
        None => (timeout, estimate),
    }
}

fn unmet_requirements(
    r: &Requirements,
    req: &PlanRequest<'_>,
    live: bool,
    path_var: &OsStr,
) -> Vec<String> {
    let mut out = Vec::new();
    if r.root && !req.is_root {
        out.push("needs root".to_string());
    }
    for t in &r.tools {
        if !on_path(t, path_var) {
            out.push(format!("needs tool {t} (not on PATH)"));
        }
    }
    if let Some(min) = r.min_memory_bytes {
        let need = util_linux_size(min, SizeStyle::IecSpaced);
        match req.inventory.memory.total_bytes {
            Some(have) if have >= min => {}
            Some(have) => out.push(format!(
                "needs {need} of memory, the machine has {}",
                util_linux_size(have, SizeStyle::IecSpaced)
            )),
            None => out.push(format!(
                "needs {need} of memory, and the machine's memory size is unknown"
            )),
        }
    }
    if r.live && !live {
        out.push("runs only on the live system (--sysroot is a recorded machine)".to_string());
    }
    if let Some(key) = &r.disruptive {
        let enabled = req
            .profile
            .settings
            .get(key)
            .filter(|v| !matches!(v.trim(), "" | "0" | "false"));
        match enabled {
            None => out.push(format!(
                "takes the machine down (reboot, crash or power cycle): the profile does not \
                 enable it (setting {key} in [settings]) and the command line must say \
                 --allow-reboot"
            )),
            Some(v) if !req.allow_reboot => out.push(format!(
                "takes the machine down (reboot, crash or power cycle): the profile enables it \
                 ({key} = {v}) but the command line does not say --allow-reboot"
            )),
            Some(_) => {}
        }
    }
    if let Some(key) = &r.disruptive_when {
        let on = req
            .profile
            .settings
            .get(key)
            .is_some_and(|v| v.trim() == "true");
        if on && !req.allow_reboot {
            out.push(format!(
                "the profile makes it take the machine down ({key} = true) but the command \
                 line does not say --allow-reboot"
            ));
        }
    }
    out
}

/// Whether an executable file `tool` is in one of the directories of `path_var`.
pub fn on_path(tool: &str, path_var: &OsStr) -> bool {
    std::env::split_paths(path_var)
        .filter(|d| !d.as_os_str().is_empty())
        .any(|d| is_executable(&d.join(tool)))
}

fn is_executable(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn missing_command(c: &CommandCase, path_var: &OsStr) -> Option<String> {
    let prog = c.argv.first()?;
    let found = if prog.contains('/') {
        is_executable(Path::new(prog))
    } else {
        on_path(prog, path_var)
    };
    (!found).then(|| {
        format!(
            "{}: the command of {} ({prog}) is not an executable file on this machine: it \
             will fail",
            c.at, c.name
        )
    })
}

/// The plan as text: instances in aligned columns, totals, and (with `explain`) every case not
/// planned and why.
pub fn render_text(plan: &Plan, profile: Option<&Profile>, explain: bool) -> String {
    let mut out = String::new();
    let mut head = format!("Profile: {}", plan.profile);
    if let Some(p) = profile {
        if p.chain.len() > 1 {
            head.push_str(&format!(" (extends {})", p.chain[1..].join(" → ")));
        }
        if let Some(d) = &p.description {
            head.push_str(&format!(" — {d}"));
        }
    }
    out.push_str(&head);
    out.push('\n');
    if let Some(p) = profile {
        let stress = p.stress.describe();
        if !stress.is_empty() {
            out.push_str(&format!("Stress:  {stress}\n"));
        }
    }
    if plan.sysroot != "/" {
        out.push_str(&format!("Sysroot: {}\n", plan.sysroot));
    }
    out.push('\n');

    let enabled = |i: &PlannedInstance| {
        !i.destructive
            || i.target
                .as_ref()
                .is_some_and(|t| plan.options.destructive_devices.contains(t))
    };
    let rows: Vec<[String; 5]> = plan
        .instances
        .iter()
        .map(|i| {
            let mut note = Vec::new();
            if let InstanceKind::Command { argv } = &i.kind {
                note.push(format!("runs {}", argv.join(" ")));
            }
            if i.destructive && !enabled(i) {
                note.push(format!(
                    "destructive: runs only with --destructive --device {}",
                    i.target.as_deref().unwrap_or("…")
                ));
            } else if i.destructive {
                note.push("destructive".to_string());
            }
            [
                i.name.clone(),
                format_duration(i.timeout_s),
                format_duration(i.estimate_s),
                if i.blocker { "blocker" } else { "advisory" }.to_string(),
                note.join("; "),
            ]
        })
        .collect();
    let header = [
        "INSTANCE".to_string(),
        "TIMEOUT".to_string(),
        "ESTIMATE".to_string(),
        "BLOCKER".to_string(),
        String::new(),
    ];
    if !rows.is_empty() {
        let mut w = [0usize; 5];
        for r in std::iter::once(&header).chain(&rows) {
            for (i, c) in r.iter().enumerate() {
                w[i] = w[i].max(c.chars().count());
            }
        }
        for r in std::iter::once(&header).chain(&rows) {
            let mut line = String::new();
            for (i, c) in r.iter().enumerate() {
                if i + 1 == r.len() {
                    line.push_str(c);
                } else {
                    line.push_str(&format!("{c:<width$}  ", width = w[i]));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    let counted: Vec<&PlannedInstance> = plan.instances.iter().filter(|i| enabled(i)).collect();
    let total: f64 = counted.iter().map(|i| i.estimate_s).sum();
    let n = counted.len();
    if !rows.is_empty() {
        out.push('\n');
    }
    out.push_str(&format!(
        "{n} instance{}, estimate {} (one at a time)\n",
        if n == 1 { "" } else { "s" },
        format_duration(total)
    ));
    let idle = plan.instances.len() - n;
    if idle > 0 {
        out.push_str(&format!(
            "{idle} destructive instance{} not counted: {} only with --destructive --device\n",
            if idle == 1 { "" } else { "s" },
            if idle == 1 { "it runs" } else { "they run" }
        ));
    }
    if !plan.not_planned.is_empty() {
        let m = plan.not_planned.len();
        if explain {
            out.push_str(&format!("\nNot planned ({m}):\n"));
            let w = plan
                .not_planned
                .iter()
                .map(|x| x.name().chars().count())
                .max()
                .unwrap_or(0);
            for x in &plan.not_planned {
                out.push_str(&format!("{:<w$}  {}\n", x.name(), x.reason));
            }
        } else {
            out.push_str(&format!("{m} not planned (--explain says why)\n"));
        }
    }
    out
}
