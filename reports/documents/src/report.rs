//! The report document, `hwcert.report/1`: what report.json holds. It is the truth (its bytes are
//! what is signed); the HTML, Markdown and JUnit files are rendered from it.
//!
//! Key order is the declaration order below (verdict before the details, inventory and plan
//! last); maps are sorted by key. [`Report::to_json`] is the canonical serialization.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use hwsys::time;

use crate::claims::HclEntry;
use crate::measure::Measurement;
use crate::rundir::RunDir;
pub use crate::status::Status;
pub use crate::verdict::Overall;
use crate::verdict::{gaps, leaves_open, rule_with};
pub use crate::verdict::{Gap, GapKind};

/// The schema name and version of report.json.
pub const SCHEMA: &str = "hwcert.report/1";

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// The tool that made the report.
    pub tool: Tool,
    /// The profile the run followed.
    pub profile: Profile,
    /// When and where the run happened.
    pub run: RunInfo,
    /// Certified, not certified or incomplete, and why; per component too.
    pub verdict: Verdict,
    /// How many instances ended each way.
    pub counts: Counts,
    /// Every instance, in plan order (instances the journal has and the plan does not come
    /// last).
    pub results: Vec<InstanceResult>,
    /// Hardware compatibility list entries this run supports: the system, then one per PCI
    /// function with a driver.
    pub hcl: Vec<HclEntry>,
    /// Every log file, with its SHA-256, so that the signature covers the logs too.
    pub logs: Vec<LogFile>,
    /// What could not be read while making the report.
    pub warnings: Vec<String>,
    /// The inventory document (`hwcert.inventory/1`) as the run recorded it.
    pub inventory: Value,
    /// The plan document (`hwcert.plan/1`) as the run recorded it.
    pub plan: Value,
}

/// The tool that made the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
    /// The git commit it was built from, or "unknown".
    pub git_commit: String,
    /// SHA-256 of the running binary (/proc/self/exe), where readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary_sha256: Option<String>,
    /// The pci.ids database the inventory's PCI names come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pci_ids: Option<String>,
}

/// The profile of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// `quick`, `standard`, `full`, or a profile file's name.
    pub name: String,
    /// The profile file, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// SHA-256 of that file's text as the plan recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_sha256: Option<String>,
    /// The profile and what it extends, the profile first (absent in older reports).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<String>,
    /// Whether it is a certification profile (absent in older reports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certifies: Option<bool>,
}

/// When and where.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// The run directory's name.
    pub directory: String,
    /// The earliest start in the journal (UTC, RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<String>,
    /// The latest end in the journal (start + duration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished: Option<String>,
    /// From `started` to `finished`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// The sysroot the plan was made from (`/` for the live system).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sysroot: Option<String>,
    /// The boots the run spanned (more than one after a reboot and a resume).
    pub boot_ids: Vec<String>,
}

/// The verdict, with the instances that decided it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub overall: Overall,
    /// One sentence for people.
    pub summary: String,
    /// Blockers that failed, errored, timed out or crashed.
    pub failed_blockers: Vec<String>,
    /// Blockers that did not run, were interrupted, or skipped.
    pub incomplete: Vec<Unfinished>,
    /// What keeps the run from certifying whatever its results: a recorded machine, a profile
    /// that does not certify, blockers excluded or not planned (absent in older reports).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gaps: Vec<Gap>,
    /// Advisory instances that did not pass (they warn, they do not decide).
    pub advisory_failures: Vec<String>,
    /// Per component, in catalog order.
    pub components: Vec<ComponentVerdict>,
}

/// A blocker that did not finish.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unfinished {
    pub name: String,
    pub status: Status,
    /// Why, when the case said (a skip's reason).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The verdict of one component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentVerdict {
    pub component: String,
    pub verdict: Overall,
    pub blockers: u64,
    pub counts: Counts,
    pub failed_blockers: Vec<String>,
    pub incomplete: Vec<String>,
    /// Blockers of the component excluded or not planned (absent in older reports).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_planned: Vec<String>,
}

/// Instances by how they ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub total: u64,
    pub pass: u64,
    pub fail: u64,
    pub skip: u64,
    pub error: u64,
    pub timeout: u64,
    pub crash: u64,
    pub interrupted: u64,
    pub not_run: u64,
}

impl Counts {
    pub fn add(&mut self, s: Status) {
        self.total += 1;
        match s {
            Status::Pass => self.pass += 1,
            Status::Fail => self.fail += 1,
            Status::Skip => self.skip += 1,
            Status::Error => self.error += 1,
            Status::Timeout => self.timeout += 1,
            Status::Crash => self.crash += 1,
            Status::Interrupted => self.interrupted += 1,
            Status::NotRun => self.not_run += 1,
        }
    }
}

/// One instance's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceResult {
    /// `case` or `case::target`.
    pub name: String,
    pub case: String,
    pub component: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_label: Option<String>,
    pub blocker: bool,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measured: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_id: Option<String>,
    pub measurements: Vec<Measurement>,
    /// Its log (`logs/…`), one of [`Report::logs`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    /// Journal lines for it (more than one after an interruption and a resume).
    pub attempts: u32,
    /// Processes of the instance outlived it and were killed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub leaked: bool,
    /// Bytes of output the log cap dropped from the middle of its log (last attempt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_dropped_bytes: Option<u64>,
    /// Journaled but not in the plan (a plan rewritten under a run): shown, with a warning,
    /// but left out of every count and verdict.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unplanned: bool,
}

/// A log file and its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogFile {
    /// Relative to the report directory: `logs/…`.
    pub path: String,
    pub sha256: String,
    pub size: u64,
}

/// The parts of the report that come from the run, before the logs are hashed.
pub(crate) struct Assembled {
    /// The planned instances in plan order, then those only journaled (see `planned`).
    pub results: Vec<InstanceResult>,
    /// How many of `results` are planned: the rest are in the journal but not in the plan
    /// (warned about, reported, and left out of the counts).
    pub planned: usize,
    pub warnings: Vec<String>,
    pub started_ms: Option<i64>,
    pub finished_ms: Option<i64>,
    pub boot_ids: Vec<String>,
}

/// The case of an instance name (`pci::driver_bound::0000:3b:00.0` → `pci::driver_bound`).
fn case_of(name: &str) -> String {
    let parts: Vec<&str> = name.splitn(3, "::").collect();
    if parts.len() >= 2 {
        format!("{}::{}", parts[0], parts[1])
    } else {
        name.to_string()
    }
}

/// Put the run's results together: plan order, last journal line wins.
pub(crate) fn assemble(run: &RunDir, logs: &BTreeSet<String>) -> Assembled {
    let mut warnings = Vec::new();
    let latest = run.latest();
    let mut results = Vec::with_capacity(run.plan.instances.len());
    let mut planned = BTreeSet::new();
    let mut started_ms: Option<i64> = None;
    let mut finished_ms: Option<i64> = None;
    let mut boot_ids: Vec<String> = Vec::new();
    for l in &run.journal {
        if !l.boot_id.is_empty() && !boot_ids.contains(&l.boot_id) {
            boot_ids.push(l.boot_id.clone());
        }
        if let Some(s) = Some(l.started.as_str()).filter(|s| !s.is_empty()) {
            match time::parse_rfc3339(s) {
                Some(t) => {
                    let end = t.saturating_add(i64::try_from(l.duration_ms).unwrap_or(i64::MAX));
                    started_ms = Some(started_ms.map_or(t, |m| m.min(t)));
                    finished_ms = Some(finished_ms.map_or(end, |m| m.max(end)));
                }
                None => warnings.push(format!(
                    "journal: {}: started \"{s}\" is not an RFC 3339 time",
                    l.name
                )),
            }
        }
    }
    let from_journal = |name: &str, r: &mut InstanceResult, warnings: &mut Vec<String>| {
        let Some(&(i, attempts)) = latest.get(name) else {
            return;
        };
        let l = &run.journal[i];
        r.status = l.status;
        r.reason = l.reason.clone();
        r.expected = l.expected.clone();
        r.measured = l.measured.clone();
        r.started = Some(l.started.clone()).filter(|s| !s.is_empty());
        r.duration_ms = Some(l.duration_ms);
        r.boot_id = Some(l.boot_id.clone()).filter(|s| !s.is_empty());
        r.measurements = l.measurements.clone();
        r.attempts = attempts;
        r.leaked = l.leaked;
        r.log_dropped_bytes = l.log_dropped_bytes;
        r.log = match Some(l.log.as_str()).filter(|s| !s.is_empty()) {
            Some(p) if logs.contains(p) => Some(p.to_string()),
            Some(p) if !crate::rundir::is_log_path(p) => {
                warnings.push(format!(
                    "journal: {name}: log \"{p}\" is not a file under logs/: left out"
                ));
                None
            }
            Some(p) => {
                warnings.push(format!("journal: {name}: log {p} is missing"));
                None
            }
            None => None,
        };
    };
    for p in &run.plan.instances {
        planned.insert(p.name.as_str());
        let mut r = InstanceResult {
            name: p.name.clone(),
            case: if p.case.is_empty() {
                case_of(&p.name)
            } else {
                p.case.clone()
            },
            component: p.component.as_str().to_string(),
            target: p.target.clone(),
            target_label: p.target_label.clone(),
            blocker: p.blocker,
            status: Status::NotRun,
            reason: None,
            expected: None,
            measured: None,
            started: None,
            duration_ms: None,
            boot_id: None,
            measurements: Vec::new(),
            log: None,
            attempts: 0,
            leaked: false,
            log_dropped_bytes: None,
            unplanned: false,
        };
        from_journal(&p.name, &mut r, &mut warnings);
        results.push(r);
    }
    let n_planned = results.len();
    // Journaled but not planned (a plan rewritten under a run): reported, never dropped.
    let mut extra: Vec<(usize, &str)> = latest
        .iter()
        .filter(|(n, _)| !planned.contains(*n))
        .map(|(n, (i, _))| (*i, *n))
        .collect();
    extra.sort();
    for (i, name) in extra {
        let l = &run.journal[i];
        warnings.push(format!("journal: {name} is not in the plan"));
        let case = case_of(name);
        let mut r = InstanceResult {
            name: name.to_string(),
            component: l
                .component
                .map(|c| c.as_str().to_string())
                .unwrap_or_else(|| case.split("::").next().unwrap_or_default().to_string()),
            target: name
                .strip_prefix(&case)
                .and_then(|t| t.strip_prefix("::"))
                .map(str::to_string),
            case,
            target_label: None,
            blocker: l.blocker,
            status: Status::NotRun,
            reason: None,
            expected: None,
            measured: None,
            started: None,
            duration_ms: None,
            boot_id: None,
            measurements: Vec::new(),
            log: None,
            attempts: 0,
            leaked: false,
            log_dropped_bytes: None,
            unplanned: true,
        };
        from_journal(name, &mut r, &mut warnings);
        results.push(r);
    }
    Assembled {
        results,
        planned: n_planned,
        warnings,
        started_ms,
        finished_ms,
        boot_ids,
    }
}

/// Catalog order of the components; unknown ones after, by name.
fn component_rank(c: &str) -> (usize, String) {
    const ORDER: [&str; 8] = [
        "system", "cpu", "memory", "pci", "storage", "network", "accel", "vendor",
    ];
    (
        ORDER.iter().position(|o| *o == c).unwrap_or(ORDER.len()),
        c.to_string(),
    )
}

fn unfinished(r: &InstanceResult) -> bool {
    leaves_open(r.status, r.reason.as_deref())
}

/// The verdict over some results (all of them, one component's, one HCL entry's cases),
/// without the run's gaps: see [`judge_with`].
pub fn judge<'a>(results: impl IntoIterator<Item = &'a InstanceResult>) -> Overall {
    judge_with(&[], results)
}

/// The verdict over some results and the gaps that concern them (the run's own, and the
/// blockers of theirs that were not planned): at best incomplete when there is one.
pub fn judge_with<'a>(
    gaps: &[Gap],
    results: impl IntoIterator<Item = &'a InstanceResult>,
) -> Overall {
    rule_with(
        gaps,
        results
            .into_iter()
            .map(|r| (r.blocker, r.status, r.reason.as_deref())),
    )
}

/// The component of a gap's case (`cpu::cpufreq` → `cpu`); none for a run-wide gap.
pub fn gap_component(g: &Gap) -> Option<&str> {
    g.name.as_deref().map(|n| n.split("::").next().unwrap_or(n))
}

fn list(names: &[String], max: usize) -> String {
    let mut s = names
        .iter()
        .take(max)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > max {
        s.push_str(&format!(" and {} more", names.len() - max));
    }
    s
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The verdict of a whole run: over the planned results only, and the plan's gaps.
pub(crate) fn verdict(all: &[InstanceResult], gaps: Vec<Gap>) -> Verdict {
    let planned: Vec<&InstanceResult> = all.iter().filter(|r| !r.unplanned).collect();
    let results = &planned[..];
    let failed_blockers: Vec<String> = results
        .iter()
        .filter(|r| r.blocker && r.status.is_failure())
        .map(|r| r.name.clone())
        .collect();
    let incomplete: Vec<Unfinished> = results
        .iter()
        .filter(|r| r.blocker && unfinished(r))
        .map(|r| Unfinished {
            name: r.name.clone(),
            status: r.status,
            reason: r.reason.clone(),
        })
        .collect();
    let advisory_failures: Vec<String> = results
        .iter()
        .filter(|r| !r.blocker && r.status.is_failure())
        .map(|r| r.name.clone())
        .collect();
    let blockers = results.iter().filter(|r| r.blocker).count();
    let overall = judge_with(&gaps, results.iter().copied());
    let inc_names: Vec<String> = incomplete.iter().map(|u| u.name.clone()).collect();
    let summary = match overall {
        Overall::NotCertified => {
            let mut s = format!(
                "Not certified: {} failed: {}.",
                plural(failed_blockers.len(), "blocker", "blockers"),
                list(&failed_blockers, 5)
            );
            if !incomplete.is_empty() {
                s.push_str(&format!(
                    " Also {} did not finish.",
                    plural(incomplete.len(), "blocker", "blockers")
                ));
            }
            s
        }
        Overall::Incomplete if blockers == 0 => {
            "Incomplete: the plan holds no blocker, so nothing can be certified.".to_string()
        }
        Overall::Incomplete => {
            let not_run = incomplete
                .iter()
                .filter(|u| u.status == Status::NotRun)
                .count();
            let interrupted = incomplete
                .iter()
                .filter(|u| u.status == Status::Interrupted)
                .count();
            let skipped = incomplete.len() - not_run - interrupted;
            let mut parts = Vec::new();
            if not_run > 0 {
                parts.push(format!("{not_run} did not run"));
            }
            if interrupted > 0 {
                parts.push(format!("{interrupted} interrupted"));
            }
            if skipped > 0 {
                parts.push(format!("{skipped} skipped"));
            }
            let mut s = String::from("Incomplete: not certified.");
            for g in gaps.iter().filter(|g| g.name.is_none()) {
                s.push_str(&format!(" {}.", capitalize(&g.reason)));
            }
            let left_out: Vec<String> = gaps.iter().filter_map(|g| g.name.clone()).collect();
            if !left_out.is_empty() {
                s.push_str(&format!(
                    " {} not planned (excluded, or a requirement not met): {}.",
                    plural(left_out.len(), "blocker", "blockers"),
                    list(&left_out, 5)
                ));
            }
            if !incomplete.is_empty() {
                s.push_str(&format!(
                    " No blocker failed, but {} of {blockers} blockers did not finish ({}): {}.",
                    incomplete.len(),
                    parts.join(", "),
                    list(&inc_names, 5)
                ));
            } else {
                s.push_str(&format!(
                    " No blocker failed ({} of {blockers} passed).",
                    blockers
                ));
            }
            s
        }
        Overall::Certified => {
            let mut s = format!(
                "Certified: {} passed, on the live system.",
                plural(blockers, "blocker", "blockers")
            );
            if !advisory_failures.is_empty() {
                s.push_str(&format!(
                    " {} did not pass.",
                    plural(advisory_failures.len(), "advisory case", "advisory cases")
                ));
            }
            s
        }
    };
    let mut by_comp: BTreeMap<(usize, String), Vec<&InstanceResult>> = BTreeMap::new();
    for r in results {
        by_comp
            .entry(component_rank(&r.component))
            .or_default()
            .push(r);
    }
    let components = by_comp
        .into_iter()
        .map(|((_, c), rs)| {
            let mut counts = Counts::default();
            for r in &rs {
                counts.add(r.status);
            }
            let mine: Vec<Gap> = gaps
                .iter()
                .filter(|g| gap_component(g).is_none_or(|x| x == c))
                .cloned()
                .collect();
            ComponentVerdict {
                not_planned: mine.iter().filter_map(|g| g.name.clone()).collect(),
                verdict: judge_with(&mine, rs.iter().copied()),
                component: c,
                blockers: rs.iter().filter(|r| r.blocker).count() as u64,
                counts,
                failed_blockers: rs
                    .iter()
                    .filter(|r| r.blocker && r.status.is_failure())
                    .map(|r| r.name.clone())
                    .collect(),
                incomplete: rs
                    .iter()
                    .filter(|r| r.blocker && unfinished(r))
                    .map(|r| r.name.clone())
                    .collect(),
            }
        })
        .collect();
    Verdict {
        overall,
        summary,
        failed_blockers,
        incomplete,
        gaps,
        advisory_failures,
        components,
    }
}

impl Report {
    /// Why this report does not certify, judged again from the document itself (its plan and
    /// results) whatever verdict it carries, so that a "certified" an older hwcert gave a
    /// recorded machine or a `quick` run is caught: the plan's [`gaps`] and each skipped
    /// blocker, one sentence each. Empty when nothing keeps it from certifying.
    pub fn gaps_now(&self) -> Vec<String> {
        let mut out: Vec<String> =
            match serde_json::from_value::<crate::plan::Plan>(self.plan.clone()) {
                Ok(p) => gaps(&p)
                    .into_iter()
                    .map(|g| match g.name {
                        Some(n) => format!("blocker {n} {}: {}", g.kind.as_str(), g.reason),
                        None => g.reason,
                    })
                    .collect(),
                Err(e) => vec![format!(
                    "its plan cannot be read ({e}): nothing can be certified"
                )],
            };
        for r in self.results.iter().filter(|r| !r.unplanned) {
            if r.blocker && r.status == Status::Skip {
                out.push(format!(
                    "blocker {} skipped: {}",
                    r.name,
                    r.reason.as_deref().unwrap_or("no reason given")
                ));
            }
        }
        out
    }

    /// The canonical bytes of report.json: pretty JSON, keys in a stable order, a newline at
    /// the end. These are the bytes that are signed.
    pub fn to_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        let mut v = serde_json::to_vec_pretty(self)?;
        v.push(b'\n');
        Ok(v)
    }

    /// Build the document from a run (logs already hashed). The run's inventory and plan
    /// documents move into the report.
    ///
    /// `claims` makes the HCL entries the results support (it reads the run's inventory,
    /// which this crate does not model).
    pub fn from_run(
        run: &mut RunDir,
        logs: Vec<LogFile>,
        tool: Tool,
        claims: impl FnOnce(&RunDir, &[InstanceResult]) -> (Vec<HclEntry>, Vec<String>),
    ) -> Report {
        let names: BTreeSet<String> = logs.iter().map(|l| l.path.clone()).collect();
        let a = assemble(run, &names);
        let mut warnings = run.warnings.clone();
        warnings.extend(a.warnings);
        let verdict = verdict(&a.results, gaps(&run.plan));
        // The totals are the plan's: a journal line of an instance not in the plan is warned
        // about and listed, but is not one of the run's instances.
        let mut counts = Counts::default();
        for r in a.results.iter().take(a.planned) {
            counts.add(r.status);
        }
        // Unplanned results come last (see `assemble`); no HCL entry rests on them.
        let (hcl, hcl_warnings) = claims(run, &a.results[..a.planned]);
        warnings.extend(hcl_warnings);
        let profile_file = run.plan.profile_file.as_ref();
        Report {
            schema: SCHEMA.to_string(),
            tool,
            profile: Profile {
                name: run.plan.profile.clone(),
                file: profile_file.map(|f| f.path.clone()),
                file_sha256: profile_file.map(|f| hwsys::hash::sha256_hex(f.text.as_bytes())),
                chain: run.plan.profile_chain.clone(),
                certifies: run.plan.certifies,
            },
            run: RunInfo {
                directory: run
                    .path
                    .canonicalize()
                    .ok()
                    .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                    .unwrap_or_else(|| run.path.display().to_string()),
                started: a.started_ms.map(time::format_rfc3339),
                finished: a.finished_ms.map(time::format_rfc3339),
                duration_ms: a
                    .started_ms
                    .zip(a.finished_ms)
                    .map(|(s, f)| (f - s).max(0) as u64),
                sysroot: Some(run.plan.sysroot.clone()).filter(|s| !s.is_empty()),
                boot_ids: a.boot_ids,
            },
            verdict,
            counts,
            results: a.results,
            hcl,
            logs,
            warnings,
            inventory: std::mem::take(&mut run.inventory_json),
            plan: std::mem::take(&mut run.plan_json),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(name: &str, blocker: bool, status: Status, reason: Option<&str>) -> InstanceResult {
        InstanceResult {
            name: name.into(),
            case: case_of(name),
            component: name.split("::").next().unwrap_or_default().into(),
            target: None,
            target_label: None,
            blocker,
            status,
            reason: reason.map(str::to_string),
            expected: None,
            measured: None,
            started: None,
            duration_ms: None,
            boot_id: None,
            measurements: vec![],
            log: None,
            attempts: 1,
            leaked: false,
            log_dropped_bytes: None,
            unplanned: false,
        }
    }

    #[test]
    fn verdicts() {
        use Status::*;
        let pass = r("cpu::a", true, Pass, None);
        let skip_why = r("cpu::b", true, Skip, Some("not root"));
        let skip_bare = r("cpu::c", true, Skip, None);
        let adv_fail = r("pci::d", false, Fail, Some("x"));
        let fail = r("pci::e", true, Fail, Some("x"));
        let timeout = r("pci::f", true, Timeout, Some("x"));
        let interrupted = r("memory::g", true, Interrupted, Some("reboot"));
        let not_run = r("memory::h", true, NotRun, None);
        let adv_not_run = r("memory::i", false, NotRun, None);

        let v = verdict(
            &[pass.clone(), adv_fail.clone(), adv_not_run.clone()],
            vec![],
        );
        assert_eq!(v.overall, Overall::Certified, "{}", v.summary);
        assert_eq!(v.advisory_failures, vec!["pci::d"]);
        assert!(v
            .summary
            .starts_with("Certified: 1 blocker passed, on the live system."));

        // A skipped blocker, with a reason or without, was not tested: incomplete, and its
        // component too.
        for skipped in [skip_why.clone(), skip_bare] {
            let v = verdict(&[pass.clone(), skipped, adv_fail.clone()], vec![]);
            assert_eq!(v.overall, Overall::Incomplete, "{}", v.summary);
            assert!(v.summary.contains("1 skipped"), "{}", v.summary);
            assert_eq!(v.components[0].verdict, Overall::Incomplete);
        }
        assert_eq!(
            verdict(std::slice::from_ref(&skip_why), vec![]).incomplete[0]
                .reason
                .as_deref(),
            Some("not root")
        );

        // A gap (recorded machine, excluded blocker) leaves all-passed results incomplete; a
        // named one only its component.
        let recorded = Gap {
            kind: GapKind::RecordedMachine,
            name: None,
            reason: "recorded machine: …".into(),
        };
        let excluded = Gap {
            kind: GapKind::Excluded,
            name: Some("memory::x".into()),
            reason: "excluded by the profile".into(),
        };
        let v = verdict(&[pass.clone(), adv_fail.clone()], vec![recorded.clone()]);
        assert_eq!(v.overall, Overall::Incomplete, "{}", v.summary);
        assert!(v.summary.contains("Recorded machine"), "{}", v.summary);
        assert_eq!(v.components[0].verdict, Overall::Incomplete);
        let mem_pass = r("memory::y", true, Pass, None);
        let v = verdict(&[pass.clone(), mem_pass], vec![excluded]);
        assert_eq!(v.overall, Overall::Incomplete, "{}", v.summary);
        assert!(v.summary.contains("memory::x"), "{}", v.summary);
        let comps: Vec<_> = v
            .components
            .iter()
            .map(|c| (c.component.as_str(), c.verdict))
            .collect();
        assert_eq!(
            comps,
            vec![("cpu", Overall::Certified), ("memory", Overall::Incomplete)]
        );
        assert_eq!(v.components[1].not_planned, vec!["memory::x"]);

        let v = verdict(
            &[pass.clone(), interrupted.clone(), not_run.clone()],
            vec![],
        );
        assert_eq!(v.overall, Overall::Incomplete);
        assert_eq!(v.incomplete.len(), 2);
        assert!(v.summary.contains("memory::g, memory::h"), "{}", v.summary);

        // A failed blocker is "not certified", gaps or not.
        let v = verdict(&[pass.clone(), fail.clone()], vec![recorded]);
        assert_eq!(v.overall, Overall::NotCertified, "{}", v.summary);
        let v = verdict(&[pass, fail, timeout, interrupted, not_run], vec![]);
        assert_eq!(v.overall, Overall::NotCertified);
        assert_eq!(v.failed_blockers, vec!["pci::e", "pci::f"]);
        assert!(v.summary.contains("2 blockers failed: pci::e, pci::f"));
        let comps: Vec<_> = v
            .components
            .iter()
            .map(|c| (c.component.as_str(), c.verdict))
            .collect();
        assert_eq!(
            comps,
            vec![
                ("cpu", Overall::Certified),
                ("memory", Overall::Incomplete),
                ("pci", Overall::NotCertified)
            ]
        );

        let v = verdict(&[adv_fail], vec![]);
        assert_eq!(v.overall, Overall::Incomplete);
        assert!(v.summary.contains("no blocker"));
    }

    #[test]
    fn status_names() {
        let s = serde_json::to_string(&Status::NotRun).unwrap_or_default();
        assert_eq!(s, "\"not run\"");
        let o = serde_json::to_string(&Overall::NotCertified).unwrap_or_default();
        assert_eq!(o, "\"not certified\"");
        assert_eq!(
            case_of("pci::driver_bound::0000:3b:00.0"),
            "pci::driver_bound"
        );
        assert_eq!(case_of("cpu::all_online"), "cpu::all_online");
    }
}
