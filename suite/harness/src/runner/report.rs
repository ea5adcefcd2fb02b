//! What a person sees during a run: one line per finished instance (status, duration, name,
//! reason; the status in colour on a terminal) with a one-line summary of its figures below it
//! when it measured any, a progress bar beneath them on a terminal when the work is long (its
//! position and ETA from the plan's estimates and the running instance's elapsed time), a plain
//! line at each start when the output is not a terminal, and a summary by component at the end.

use std::collections::{BTreeMap, HashMap};
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

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

/// How the per-instance lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Print a line per instance (pretty format); otherwise libtest-mimic prints.
    pub lines: bool,
    /// Colour the status (stdout is a terminal, or --color always).
    pub colour: bool,
    /// A plain line when an instance starts (stdout is not a terminal: a log file, a pipe).
    pub start_lines: bool,
}

/// Where the run is, for the bar and its ETA: the estimates of what runs now, of what has
/// finished, and the instances running with their start and estimate.
#[derive(Debug, Default)]
pub struct Progress {
    total: usize,
    total_ms: u64,
    done: usize,
    done_ms: u64,
    running: Vec<(String, Instant, u64)>,
}

impl Progress {
    pub fn new(to_run: &[u64]) -> Progress {
        Progress {
            total: to_run.len(),
            total_ms: to_run.iter().sum(),
            ..Progress::default()
        }
    }

    pub fn start(&mut self, name: &str, estimate_ms: u64, at: Instant) {
        self.running.push((name.to_string(), at, estimate_ms));
    }

    pub fn finish(&mut self, name: &str, estimate_ms: u64) {
        self.running.retain(|(n, _, _)| n != name);
        self.done += 1;
        self.done_ms += estimate_ms;
    }

    /// The work done (ms of estimates): the finished instances' estimates, and of each
    /// running one its elapsed time up to its estimate. Never more than the total.
    pub fn position(&self, now: Instant) -> u64 {
        let running: u64 = self
            .running
            .iter()
            .map(|(_, at, est)| (now.saturating_duration_since(*at).as_millis() as u64).min(*est))
            .sum();
        (self.done_ms + running).min(self.total_ms)
    }

    /// The time left: the estimates of what has not finished less the time the running ones
    /// have had. It only falls while an instance runs (flat once it overruns its estimate),
    /// and a finished instance takes its whole estimate off.
    pub fn eta(&self, now: Instant) -> Duration {
        Duration::from_millis(self.total_ms.saturating_sub(self.position(now)))
    }

    /// `3/26 done · cpu::stress 0:42/~1:00 · ETA 5:12`: finished of all (never N/N while one
    /// still runs), the running instance with its elapsed time and estimate, the time left.
    pub fn message(&self, now: Instant) -> String {
        let mut s = format!("{}/{} done", self.done.min(self.total), self.total);
        if let Some((name, at, est)) = self.running.first() {
            s.push_str(&format!(
                " · {} {}/~{}",
                hwsys::text::escape_controls(name),
                clock(now.saturating_duration_since(*at)),
                clock(Duration::from_millis(*est))
            ));
            if self.running.len() > 1 {
                s.push_str(&format!(" (+{} more)", self.running.len() - 1));
            }
        }
        s.push_str(&format!(" · ETA {}", clock(self.eta(now))));
        s
    }
}

/// `m:ss`, or `h:mm:ss` from an hour.
fn clock(d: Duration) -> String {
    let t = d.as_secs();
    if t >= 3600 {
        format!("{}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60)
    } else {
        format!("{}:{:02}", t / 60, t % 60)
    }
}

pub struct Reporter {
    style: Style,
    bar: Option<ProgressBar>,
    progress: Arc<Mutex<Progress>>,
    stop: Arc<AtomicBool>,
    ticker: Mutex<Option<JoinHandle<()>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Reporter {
    /// `to_run`: the estimates (ms) of the instances that will run now.
    pub fn new(style: Style, to_run: &[u64]) -> Reporter {
        let progress = Arc::new(Mutex::new(Progress::new(to_run)));
        let total_ms: u64 = to_run.iter().sum();
        let stop = Arc::new(AtomicBool::new(false));
        let bar = (style.lines
            && std::io::stderr().is_terminal()
            && Duration::from_millis(total_ms) >= BAR_MIN_ESTIMATE)
            .then(|| {
                let pb =
                    ProgressBar::with_draw_target(Some(total_ms), ProgressDrawTarget::stderr());
                if let Ok(style) =
                    ProgressStyle::with_template("{spinner} {elapsed_precise} [{bar:30}] {msg}")
                {
                    pb.set_style(style.progress_chars("=> "));
                }
                pb.enable_steady_tick(Duration::from_millis(250));
                pb
            });
        // The bar's position and ETA move while an instance runs, not only when one ends.
        let ticker = bar.clone().map(|pb| {
            let progress = Arc::clone(&progress);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let now = Instant::now();
                    let (pos, msg) = {
                        let p = lock(&progress);
                        (p.position(now), p.message(now))
                    };
                    pb.set_position(pos);
                    pb.set_message(msg);
                    std::thread::sleep(Duration::from_millis(250));
                }
            })
        });
        Reporter {
            style,
            bar,
            progress,
            stop,
            ticker: Mutex::new(ticker),
        }
    }

    /// Write lines already made safe for a terminal (escaped, colour added after).
    fn print(&self, text: &str) {
        let write = || {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{text}");
            let _ = out.flush();
        };
        match &self.bar {
            Some(b) => b.suspend(write),
            None => write(),
        }
    }

    /// A line outside the per-instance flow (interrupted instances found on resume).
    pub fn note(&self, e: &JournalEntry) {
        if self.style.lines {
            self.print(&lines(e, "", self.style.colour));
        }
    }

    pub fn started(&self, name: &str, estimate_ms: u64) {
        let now = Instant::now();
        let msg = {
            let mut p = lock(&self.progress);
            p.start(name, estimate_ms, now);
            p.message(now)
        };
        if let Some(b) = &self.bar {
            b.set_message(msg);
        } else if self.style.lines && self.style.start_lines {
            self.print(&format!(
                "{:>11} {:>12} {}",
                "START",
                format!("[~{}]", clock(Duration::from_millis(estimate_ms))),
                hwsys::text::escape_text(name)
            ));
        }
    }

    /// An instance finished (`earlier`: its result came from the journal of an earlier run).
    pub fn finished(&self, e: &JournalEntry, earlier: bool, estimate_ms: u64) {
        if !earlier {
            let now = Instant::now();
            let (pos, msg) = {
                let mut p = lock(&self.progress);
                p.finish(&e.name, estimate_ms);
                (p.position(now), p.message(now))
            };
            if let Some(b) = &self.bar {
                b.set_position(pos);
                b.set_message(msg);
            }
        }
        if self.style.lines {
            self.print(&lines(
                e,
                if earlier { " (from the journal)" } else { "" },
                self.style.colour,
            ));
        }
    }

    pub fn finish(&self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = lock(&self.ticker).take() {
            let _ = t.join();
        }
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// The status word's colour on a terminal: green pass, yellow skip, bold red for the rest.
fn paint(status: Status, word: &str) -> String {
    let code = match status {
        Status::Pass => "32",
        Status::Skip => "33",
        _ => "1;31",
    };
    format!("\x1b[{code}m{word}\x1b[0m")
}

/// The instance's line ([`line`], escaped for the terminal, the status coloured when
/// `colour`), and below it, indented, the one-line summary of its figures when it has one.
pub fn lines(e: &JournalEntry, suffix: &str, colour: bool) -> String {
    let mut text = hwsys::text::escape_text(&line(e, suffix)).into_owned();
    if colour {
        let word = e.status.as_str().to_uppercase();
        if let Some(at) = text.find(&word) {
            text.replace_range(at..at + word.len(), &paint(e.status, &word));
        }
    }
    if let Some(sum) = documents::human::summary(&e.measurements) {
        text.push_str(&format!("\n{:>24}{}", "", hwsys::text::escape_text(&sum)));
    }
    text
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

#[cfg(test)]
mod tests {
    use super::*;
    use documents::Measurement;

    #[test]
    fn eta_falls_while_a_case_runs_and_never_shows_all_done_early() {
        // Three instances of 10 s, 60 s and 5 s.
        let mut p = Progress::new(&[10_000, 60_000, 5_000]);
        let t0 = Instant::now();
        assert_eq!(p.eta(t0), Duration::from_secs(75));
        p.start("a", 10_000, t0);
        assert_eq!(p.eta(t0 + Duration::from_secs(4)), Duration::from_secs(71));
        // a overruns its estimate: the ETA stays flat, it does not grow.
        assert_eq!(p.eta(t0 + Duration::from_secs(30)), Duration::from_secs(65));
        p.finish("a", 10_000);
        let t1 = t0 + Duration::from_secs(30);
        p.start("b", 60_000, t1);
        let mut last = p.eta(t1);
        for s in 1..200 {
            let e = p.eta(t1 + Duration::from_secs(s));
            assert!(e <= last, "the ETA grew at {s} s: {last:?} → {e:?}");
            last = e;
        }
        assert!(p
            .message(t1)
            .starts_with("1/3 done · b 0:00/~1:00 · ETA 1:05"));
        p.finish("b", 60_000);
        p.start("c", 5_000, t1);
        // The last one runs: 2 of 3 done, not 3/3.
        assert!(
            p.message(t1).starts_with("2/3 done · c "),
            "{}",
            p.message(t1)
        );
        assert_eq!(p.position(t1 + Duration::from_secs(99)), 75_000);
        p.finish("c", 5_000);
        assert_eq!(p.message(t1), "3/3 done · ETA 0:00");
        assert_eq!(clock(Duration::from_secs(3725)), "1:02:05");
    }

    fn entry(status: Status, ms: Vec<Measurement>) -> JournalEntry {
        serde_json::from_value::<JournalEntry>(serde_json::json!({
            "name": "storage::stress::vda\u{1b}[2J",
            "status": status.as_str(),
            "started": "2026-12-03T16:00:00Z",
            "duration_ms": 10293,
            "log": "logs/x.log",
            "boot_id": "b",
        }))
        .map(|mut e| {
            e.measurements = ms;
            e
        })
        .expect("a journal entry")
    }

    #[test]
    fn a_line_per_case_with_its_figures_and_colour_only_when_asked() {
        let ms = vec![
            Measurement::new("seq_write_mb_s", 1234.0, "MB/s"),
            Measurement::new("randread_4k_iops", 45210.0, "IOPS"),
            Measurement::new("lat_p99_us", 850.0, "µs"),
        ];
        let plain = lines(&entry(Status::Pass, ms.clone()), "", false);
        let (first, second) = plain.split_once('\n').expect("two lines");
        assert!(first
            .trim_start()
            .starts_with("PASS [   10.293s] storage::stress::vda"));
        assert!(
            !plain.contains('\u{1b}'),
            "no raw escape, no colour: {plain:?}"
        );
        assert_eq!(
            second.trim_start(),
            "Sequential write 1.23 GB/s, Random read 4 KiB 45.2k IOPS, Latency p99 850 µs"
        );
        let col = lines(&entry(Status::Fail, Vec::new()), "", true);
        assert!(col.contains("\u{1b}[1;31mFAIL\u{1b}[0m"), "{col:?}");
        assert_eq!(col.matches('\u{1b}').count(), 2, "only the colour: {col:?}");
        assert!(!col.contains('\n'), "no figures, no second line");
    }
}
