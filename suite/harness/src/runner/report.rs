//! What a person sees during a run: one line per finished instance (status, duration, name,
//! reason), a progress bar with an ETA from the plan's estimates on a terminal when the work is
//! long, and a summary by component at the end.

use std::collections::{BTreeMap, HashMap};
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use cases::Status;

use super::rundir::JournalEntry;
use documents::plan::Plan;

/// Show the progress bar only when the estimated work is at least this long.
const BAR_MIN_ESTIMATE: Duration = Duration::from_secs(10);

/// The statuses a journal holds (every one but `not run`).
pub const ALL_STATUSES: [Status; 7] = [
    Status::Pass,
    Status::Fail,
    Status::Skip,
    Status::Error,
    Status::Timeout,
    Status::Crash,
    Status::Interrupted,
];

pub struct Reporter {
    /// Print a line per instance (pretty format); otherwise libtest-mimic prints.
    lines: bool,
    bar: Option<ProgressBar>,
    total: usize,
    done: AtomicUsize,
    done_ms: AtomicU64,
}

impl Reporter {
    /// `to_run`: the estimates (ms) of the instances that will run now.
    pub fn new(lines: bool, to_run: &[u64]) -> Reporter {
        let total_ms: u64 = to_run.iter().sum();
        let bar = (lines
            && std::io::stderr().is_terminal()
            && Duration::from_millis(total_ms) >= BAR_MIN_ESTIMATE)
            .then(|| {
                let pb =
                    ProgressBar::with_draw_target(Some(total_ms), ProgressDrawTarget::stderr());
                if let Ok(style) = ProgressStyle::with_template(
                    "{spinner} {elapsed_precise} [{bar:30}] {msg} · ETA {eta}",
                ) {
                    pb.set_style(style.progress_chars("=> "));
                }
                pb.enable_steady_tick(Duration::from_millis(250));
                pb
            });
        Reporter {
            lines,
            bar,
            total: to_run.len(),
            done: AtomicUsize::new(0),
            done_ms: AtomicU64::new(0),
        }
    }

    fn print(&self, line: &str) {
        let write = || {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", hwsys::text::escape_text(line));
            let _ = out.flush();
        };
        match &self.bar {
            Some(b) => b.suspend(write),
            None => write(),
        }
    }

    /// A line outside the per-instance flow (interrupted instances found on resume).
    pub fn note(&self, e: &JournalEntry) {
        if self.lines {
            self.print(&line(e, ""));
        }
    }

    pub fn started(&self, name: &str) {
        if let Some(b) = &self.bar {
            b.set_message(format!(
                "{}/{} {}",
                self.done.load(Ordering::Relaxed) + 1,
                self.total,
                hwsys::text::escape_controls(name)
            ));
        }
    }

    /// An instance finished (`earlier`: its result came from the journal of an earlier run).
    pub fn finished(&self, e: &JournalEntry, earlier: bool, estimate_ms: u64) {
        if !earlier {
            self.done.fetch_add(1, Ordering::Relaxed);
            self.done_ms.fetch_add(estimate_ms, Ordering::Relaxed);
            if let Some(b) = &self.bar {
                b.inc(estimate_ms);
            }
        }
        if self.lines {
            self.print(&line(e, if earlier { " (from the journal)" } else { "" }));
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// `       PASS [   0.012s] cpu::all_online`, with `: reason` when there is one.
pub fn line(e: &JournalEntry, suffix: &str) -> String {
    let reason = e
        .reason
        .as_deref()
        .map(|r| {
            let one: String = r.split_whitespace().collect::<Vec<_>>().join(" ");
            let cut: String = one.chars().take(160).collect();
            if cut.len() < one.len() {
                format!(": {cut}…")
            } else {
                format!(": {cut}")
            }
        })
        .unwrap_or_default();
    let leak = if e.leaked {
        " [leaked processes killed]"
    } else {
        ""
    };
    format!(
        "{:>11} [{:>9.3}s] {}{reason}{leak}{suffix}",
        e.status.as_str().to_uppercase(),
        e.duration_ms as f64 / 1000.0,
        e.name
    )
}

/// The summary by component and the exit code, from the report's own rule
/// ([`documents::verdict::judge_plan`]): 0 only when the run is certified.
pub fn summary(plan: &Plan, latest: &HashMap<String, JournalEntry>) -> (String, u8) {
    let mut by_comp: BTreeMap<&str, [usize; 7]> = BTreeMap::new();
    let mut failed = Vec::new();
    for inst in &plan.instances {
        let Some(e) = latest.get(&inst.name) else {
            continue;
        };
        let comp = inst.component.as_str();
        let i = ALL_STATUSES
            .iter()
            .position(|s| *s == e.status)
            .unwrap_or(0);
        by_comp.entry(comp).or_default()[i] += 1;
        if inst.blocker
            && (e.status.is_failure()
                || documents::verdict::leaves_open(e.status, e.reason.as_deref()))
        {
            failed.push(e);
        }
    }
    let mut s = String::new();
    s.push_str("\nSummary by component:\n");
    s.push_str(&format!("  {:<10}", "component"));
    for st in ALL_STATUSES {
        s.push_str(&format!(" {:>11}", st.as_str()));
    }
    s.push('\n');
    if by_comp.is_empty() {
        s.push_str("  (no instance ran)\n");
    }
    for (comp, counts) in &by_comp {
        s.push_str(&format!("  {comp:<10}"));
        for c in counts {
            s.push_str(&format!(" {c:>11}"));
        }
        s.push('\n');
    }
    let overall = documents::verdict::judge_plan(plan, latest);
    let code = documents::exit::for_verdict(overall);
    s.push('\n');
    s.push_str(&verdict_text(plan, latest, overall, &failed));
    (s, code)
}

/// The verdict in words, the same rule and the same words as the report's: certified only
/// for a live run of a certification profile whose every blocker ran and passed.
fn verdict_text(
    plan: &Plan,
    latest: &HashMap<String, JournalEntry>,
    overall: documents::verdict::Overall,
    failed: &[&JournalEntry],
) -> String {
    use documents::verdict::Overall;
    let one_line = |r: &str| r.split_whitespace().collect::<Vec<_>>().join(" ");
    let blockers = plan.instances.iter().filter(|i| i.blocker).count();
    let not_run: Vec<&str> = plan
        .instances
        .iter()
        .filter(|i| i.blocker && !latest.contains_key(&i.name))
        .map(|i| i.name.as_str())
        .collect();
    let mut s = String::new();
    match overall {
        Overall::Certified => {
            s.push_str(&format!(
                "Certified: all {blockers} blockers ran and passed, on the live system.\n"
            ));
            return s;
        }
        Overall::NotCertified => s.push_str("Not certified.\n"),
        Overall::Incomplete => s.push_str("Incomplete: not certified.\n"),
    }
    if blockers == 0 {
        s.push_str("  The plan holds no blocker, so nothing can be certified.\n");
    }
    let line = |e: &JournalEntry| {
        format!(
            "  {} — {}{}\n",
            e.name,
            e.status.as_str(),
            e.reason
                .as_deref()
                .map(|r| format!(": {}", one_line(r)))
                .unwrap_or_default()
        )
    };
    let (failures, open): (Vec<&JournalEntry>, Vec<&JournalEntry>) =
        failed.iter().copied().partition(|e| e.status.is_failure());
    if !failures.is_empty() {
        s.push_str(&format!("Failed blockers ({}):\n", failures.len()));
        s.extend(failures.into_iter().map(line));
    }
    if !open.is_empty() {
        s.push_str(&format!(
            "Blockers not finished or skipped ({}):\n",
            open.len()
        ));
        s.extend(open.into_iter().map(line));
    }
    if !not_run.is_empty() {
        s.push_str(&format!(
            "  {} of {blockers} blockers did not run: {}{}.\n",
            not_run.len(),
            not_run
                .iter()
                .take(5)
                .copied()
                .collect::<Vec<_>>()
                .join(", "),
            if not_run.len() > 5 {
                format!(" and {} more", not_run.len() - 5)
            } else {
                String::new()
            }
        ));
    }
    for g in documents::verdict::gaps(plan) {
        match g.name {
            Some(n) => s.push_str(&format!(
                "  {n} {}: {}\n",
                g.kind.as_str(),
                one_line(&g.reason)
            )),
            None => s.push_str(&format!("  {}\n", one_line(&g.reason))),
        }
    }
    s
}
