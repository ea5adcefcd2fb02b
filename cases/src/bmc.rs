//! The BMC's own view of the machine, through ipmitool (the local /dev/ipmi0, or lanplus to
//! the BMC the profile names: `ipmi.host`, `ipmi.user`, `ipmi.password_file`).
//!
//! - `system::bmc_sensors`: `ipmitool sensor`, the threshold table. A sensor whose status is
//!   `cr`/`nr` or whose reading is beyond a critical or non-recoverable threshold fails the
//!   case, named with its reading and threshold; a non-critical one (`nc`) is a warning in the
//!   log; sensors with no reading (`na`: absent, disabled) and discrete ones are not judged
//!   (`inventory::bmc::Sensor::judge`).
//! - `system::bmc_sel`: the System Event Log entries added during the run. The inventory holds
//!   the SEL's count when the run began (`ipmitool sel info` at the probe); at the end the case
//!   reads `ipmitool sel elist` and judges the entries after that many (all of them when the
//!   SEL now holds fewer: it was cleared or wrapped during the run). Critical ones
//!   (uncorrectable ECC, processor IERR, thermal trip, power unit or supply failure, a critical
//!   threshold crossed; `inventory::bmc::SelEntry::severity`) fail it; the others are listed.
//!
//! Both are planned only where a BMC can answer: the profile names one (`ipmi.host`), or the
//! inventory found a local IPMI device (its `bmc` section used or failed); otherwise
//! `plan --explain` says there is none and why. They come after the stress cases, so that what
//! the load did is in the readings and the log. Every ipmitool call has a time limit
//! (`ipmi.timeout`, default 60 s): an ipmitool that hangs is killed and the case says so.

use std::time::Duration;

use inventory::bmc::{self as ibmc, BmcStatus, Judgement, Severity};

use crate::machine::ipmi_args;
use crate::reboot::setting;
use crate::tool::{self, ToolError};
use crate::util::{list, live, Spec};
use crate::{Case, Component, Context, Inventory, RunOptions, Selection, Target, Verdict};

pub(crate) fn cases() -> Vec<Box<dyn Case>> {
    vec![
        Spec {
            name: "system::bmc_sensors",
            purpose:
                "No BMC sensor is critical or non-recoverable, or beyond its critical thresholds",
            component: Component::System,
            blocker: true,
            timeout: 300,
            estimate_ms: 10_000,
            requirements: live(false, &["ipmitool"]),
            select: |inv| select(inv, &RunOptions::default()),
            run: sensors,
        }
        .build_with(Some(select)),
        Spec {
            name: "system::bmc_sel",
            purpose: "The BMC logged no critical event (SEL) during the run",
            component: Component::System,
            blocker: true,
            timeout: 300,
            estimate_ms: 5_000,
            requirements: live(false, &["ipmitool"]),
            select: |inv| select(inv, &RunOptions::default()),
            run: sel,
        }
        .build_with(Some(select)),
    ]
}

/// Where a BMC can answer: named in the profile, or found by the probe.
fn select(inv: &Inventory, options: &RunOptions) -> Selection {
    if let Some(h) = options.settings.get("ipmi.host") {
        return Selection::Targets(vec![Target {
            id: None,
            label: Some(format!("BMC lanplus {h}")),
        }]);
    }
    match &inv.bmc {
        Some(b) if matches!(b.status, BmcStatus::Used | BmcStatus::Failed) => {
            Selection::Targets(vec![Target {
                id: None,
                label: Some(format!("BMC {}", b.reached)),
            }])
        }
        Some(b) => Selection::NotApplicable(format!(
            "no BMC to ask: {}",
            if b.detail.is_empty() {
                "the inventory found none".to_string()
            } else {
                b.detail.join("; ")
            }
        )),
        None => Selection::NotApplicable(
            "no BMC to ask: the inventory has no bmc section (probed by an older hwcert) and the \
             profile names no ipmi.host"
                .into(),
        ),
    }
}

/// "local /dev/ipmi0" or "lanplus HOST", for messages.
fn reached(ctx: &Context<'_>) -> String {
    crate::machine::bmc_target(ctx.options).describe()
}

/// Run `ipmitool [target] args…` under the case's limit: stdout, or the verdict saying why not.
fn ipmitool(ctx: &mut Context<'_>, args: &[&str]) -> Result<String, Verdict> {
    let limit = Duration::from_secs(setting(ctx, "ipmi.timeout", 60u64)?.max(1));
    let mut a = ipmi_args(ctx.options);
    a.extend(args.iter().map(|s| s.to_string()));
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let what = format!("ipmitool {} ({})", args.join(" "), reached(ctx));
    ctx.log(format!("running {what}, limit {} s", limit.as_secs()));
    match tool::run("ipmitool", &a, limit) {
        Ok(o) if o.success() => Ok(o.stdout),
        Ok(o) => Err(Verdict::error(format!(
            "{what} failed: {}; check that the BMC answers (ipmi_si and ipmi_devintf loaded for \
             the local one; ipmi.host, ipmi.user and ipmi.password_file for lanplus)",
            o.failure()
        ))),
        Err(ToolError::NotFound(_)) => Err(Verdict::skip(
            "ipmitool is not installed (not on PATH): install the ipmitool package",
        )),
        Err(e @ ToolError::Timeout(..)) => Err(Verdict::error(format!(
            "{what}: {e}; the BMC did not answer in time (raise ipmi.timeout for a slow BMC)"
        ))),
        Err(e) => Err(Verdict::error(format!("{what}: {e}"))),
    }
}

fn sensors(ctx: &mut Context<'_>) -> Verdict {
    match check_sensors(ctx) {
        Ok(v) | Err(v) => v,
    }
}

fn check_sensors(ctx: &mut Context<'_>) -> Result<Verdict, Verdict> {
    crate::util::require_live(ctx, "reading the BMC's sensors")?;
    let out = ipmitool(ctx, &["sensor"])?;
    let table = ibmc::parse_sensors(&out)
        .map_err(|e| Verdict::error(format!("ipmitool sensor ({}): {e}", reached(ctx))))?;
    for s in &table.skipped {
        ctx.log(format!("not a sensor line, skipped: {s}"));
    }
    let (mut critical, mut warnings, mut unjudged) = (Vec::new(), 0usize, 0usize);
    for s in &table.sensors {
        match s.judge() {
            Judgement::Ok => {}
            Judgement::NotJudged => unjudged += 1,
            Judgement::Warning(m) => {
                warnings += 1;
                ctx.log(format!("warning: {m}"));
            }
            Judgement::Critical(m) => {
                ctx.log(format!("CRITICAL: {m}"));
                critical.push(m);
            }
        }
    }
    let n = table.sensors.len();
    ctx.log(format!(
        "{n} sensors: {} critical, {warnings} non-critical, {unjudged} not judged (no reading, \
         or discrete)",
        critical.len()
    ));
    ctx.measure("sensors", n as f64, "");
    ctx.measure("sensors_noncritical", warnings as f64, "");
    if !ctx.judge("sensors_critical", critical.len() as f64, "", "==", 0.0) {
        return Ok(Verdict::fail(
            "no sensor critical or non-recoverable, none beyond its critical thresholds",
            list(&critical, 8),
        ));
    }
    if n == unjudged {
        return Ok(Verdict::skip(format!(
            "none of the BMC's {n} sensors has a reading to judge"
        )));
    }
    Ok(Verdict::Pass)
}

fn sel(ctx: &mut Context<'_>) -> Verdict {
    match check_sel(ctx) {
        Ok(v) | Err(v) => v,
    }
}

/// Why the SEL of the run's start could take no new entry, if it could not: it overflowed, or
/// it was 100% used ("1024 entries, 100% used").
fn full_at_start(sel: &ibmc::SelInfo) -> Option<String> {
    let used = sel
        .percent_used
        .as_deref()
        .and_then(|p| p.trim().trim_end_matches('%').trim().parse::<f64>().ok());
    if sel.overflow == Some(true) {
        return Some(format!("{} entries, overflow", sel.entries));
    }
    match used {
        Some(u) if u >= 100.0 => Some(format!("{} entries, {u}% used", sel.entries)),
        _ => None,
    }
}

fn check_sel(ctx: &mut Context<'_>) -> Result<Verdict, Verdict> {
    crate::util::require_live(ctx, "reading the BMC's event log")?;
    let start = ctx.inventory.bmc.as_ref().and_then(|b| b.sel.as_ref());
    if let Some(full) = start.and_then(full_at_start) {
        return Ok(Verdict::skip(format!(
            "the SEL was full when the run began ({full}): the BMC may have dropped or \
             overwritten the events of this run, so they cannot be judged; save it (ipmitool \
             sel save FILE), clear it (ipmitool sel clear) and run again"
        )));
    }
    let Some(start) = start.map(|s| s.entries) else {
        let why = ctx
            .inventory
            .bmc
            .as_ref()
            .map(|b| b.detail.join("; "))
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| "the probe did not read it".into());
        return Ok(Verdict::skip(format!(
            "the inventory holds no SEL count from the start of the run ({why}); without it the \
             entries added during the run are not known"
        )));
    };
    let out = ipmitool(ctx, &["sel", "elist"])?;
    let log = ibmc::parse_sel(&out)
        .map_err(|e| Verdict::error(format!("ipmitool sel elist ({}): {e}", reached(ctx))))?;
    for s in &log.skipped {
        ctx.log(format!("not an entry line, skipped: {s}"));
    }
    let now = log.entries.len() as u64;
    let new = if now < start {
        ctx.log(format!(
            "the SEL held {start} entries at the start and holds {now} now: it was cleared or \
             wrapped during the run; every entry is judged"
        ));
        &log.entries[..]
    } else {
        &log.entries[start as usize..]
    };
    ctx.log(format!(
        "SEL: {start} entries at the start, {now} now, {} added during the run",
        new.len()
    ));
    let mut critical = Vec::new();
    for e in new {
        let sev = e.severity();
        let line = e.line();
        ctx.log(format!(
            "{}: {line}",
            match sev {
                Severity::Critical => "CRITICAL",
                Severity::Warning => "warning",
                Severity::Info => "info",
            }
        ));
        if sev == Severity::Critical {
            critical.push(line);
        }
    }
    ctx.measure("sel_added", new.len() as f64, "");
    if !ctx.judge("sel_critical", critical.len() as f64, "", "==", 0.0) {
        return Ok(Verdict::fail(
            "no critical BMC event during the run",
            list(&critical, 8),
        ));
    }
    Ok(Verdict::Pass)
}
