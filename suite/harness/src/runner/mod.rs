//! The runner: `hwcert run` and the hidden `hwcert __worker`.
//!
//! libtest-mimic is the face: instance names are test names, so FILTER, `--exact`, `--skip`,
//! `--list`, `--ignored`, `--include-ignored`, `--test-threads` (default 1 here) and `--format`
//! behave as they do for `cargo test`. Each instance runs in a worker process (this binary,
//! `__worker`) that leads its own process group; the supervisor kills the group at the
//! instance's timeout and records `timeout`, records `crash` for a panic, an abort or a
//! signal, and goes on. Workers die with the supervisor (a lifeline pipe, and
//! PR_SET_PDEATHSIG as a backup).
//!
//! Every finished instance is one fsync'd line of `journal.jsonl` before the next starts;
//! `state.json` says what is running. `--resume DIR` continues the same plan: what has a final
//! result never runs again; what was running when the supervisor or the machine went down is
//! journaled `interrupted` and runs again.
//!
//! Exit status: 0 when every blocker passed or was skipped with a reason, 1 when one failed,
//! errored, timed out, crashed or was interrupted (and for an error during the run), 2 for a
//! usage error (including a --resume directory that is missing, not a run directory, or in
//! use).

use std::collections::HashMap;
use std::fs;
use std::io::{self, Write};
use std::os::fd::RawFd;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use anyhow::{bail, Context as _, Result};
use clap::Parser as _;
use libtest_mimic::{Arguments, Completion, Failed, FormatSetting, Trial};

use cases::Status;

use crate::{planner, profile};
use documents::plan::{Plan, PlannedInstance};
use hwsys::text::escape_text;

mod logcap;
mod report;
pub mod rundir;
mod signals;

mod supervise;
mod worker;

pub use worker::{worker, WorkerRequest};

use rundir::{Journal, JournalEntry, RunState, Running, INVENTORY_FILE, PLAN_FILE};

/// What to run: a new run (a profile on a sysroot into a directory) or the resume of one,
/// with libtest-mimic's selection and test options. `hwcert run` and `hwcert certify` make
/// one of these from their command lines.
#[derive(Debug, Default)]
pub struct RunRequest {
    /// A built-in profile (quick, standard, full) or a profile file [default: quick].
    pub profile: Option<String>,
    /// A recorded machine: a sysroot directory or a snapshot [default: /].
    pub sysroot: Option<PathBuf>,
    /// The run directory to create [default: ./runs/<host>-<UTC time>].
    pub out: Option<PathBuf>,
    /// Continue the run in this directory instead.
    pub resume: Option<PathBuf>,
    /// Destructive cases may write the devices in `devices`.
    pub destructive: bool,
    pub devices: Vec<String>,
    /// Filters and test options, as for `cargo test`.
    pub test: Arguments,
}

/// A usage error: exit status 2.
#[derive(Debug)]
struct Usage(String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

fn usage(msg: impl Into<String>) -> anyhow::Error {
    Usage(msg.into()).into()
}

/// Run (or resume) a plan. A usage error (a wrong option, a --resume directory that is not a
/// run's) is printed and gives exit status 2, before any run directory is made.
pub fn run(args: RunRequest) -> Result<ExitCode> {
    match start(args) {
        Err(e) if e.downcast_ref::<Usage>().is_some() => {
            eprintln!("hwcert: error: {}", escape_text(&e.to_string()));
            Ok(ExitCode::from(2))
        }
        r => r,
    }
}

/// The selection options of a libtest-mimic command line, as arguments (stored in plan.json so
/// a resume selects the same instances). Output options (format, color, logfile) are not: a
/// resume may choose its own.
fn selection_args(a: &Arguments) -> Vec<String> {
    let mut v = Vec::new();
    for (on, flag) in [
        (a.include_ignored, "--include-ignored"),
        (a.ignored, "--ignored"),
        (a.exact, "--exact"),
        (a.test, "--test"),
        (a.bench, "--bench"),
    ] {
        if on {
            v.push(flag.to_string());
        }
    }
    if let Some(n) = a.test_threads {
        v.push(format!("--test-threads={n}"));
    }
    for s in &a.skip {
        v.push(format!("--skip={s}"));
    }
    if let Some(f) = &a.filter {
        v.push("--".into());
        v.push(f.clone());
    }
    v
}

fn gave_selection_args(a: &Arguments) -> bool {
    a.include_ignored
        || a.ignored
        || a.exact
        || a.test
        || a.bench
        || a.list
        || a.test_threads.is_some()
        || !a.skip.is_empty()
        || a.filter.is_some()
}

fn read_json<T: serde::de::DeserializeOwned>(p: &Path) -> Result<T> {
    let b = fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
    serde_json::from_slice(&b).with_context(|| format!("{} is not valid", p.display()))
}

fn write_json<T: serde::Serialize>(p: &Path, v: &T) -> Result<()> {
    let mut b = serde_json::to_vec_pretty(v)?;
    b.push(b'\n');
    rundir::write_atomic(p, &b).with_context(|| format!("cannot write {}", p.display()))
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Probe the machine and make the plan (plus self-tests when HWCERT_SELFTEST is set).
fn make_plan(
    args: &RunRequest,
    sysroot: &Path,
    plan_sysroot: &Path,
) -> Result<(inventory::Inventory, Plan)> {
    let spec = args.profile.as_deref().unwrap_or("quick");
    let profile = profile::load(spec).map_err(|e| usage(format!("--profile {spec}: {e:#}")))?;
    let live = plan_sysroot == Path::new("/");
    let inv = inventory::probe(&inventory::ProbeOptions {
        sysroot: sysroot.to_path_buf(),
        all: false,
        show_identifiers: false,
        udev: live,
    })?;
    let mut plan = planner::make_plan(&planner::PlanRequest {
        profile: &profile,
        inventory: &inv,
        sysroot: plan_sysroot,
        destructive_devices: args.devices.clone(),
        is_root: is_root(),
    })?;
    #[cfg(feature = "selftest")]
    if let Ok(spec) = std::env::var(testing::selftest::ENV) {
        if !spec.trim().is_empty() && spec.trim() != "0" {
            testing::selftest::append_to_plan(&mut plan, &spec, &inv)
                .map_err(|e| usage(format!("{e}")))?;
        }
    }
    plan.test_args = selection_args(&args.test);
    Ok((inv, plan))
}

/// Whether a destructive instance may run: its target was named with --device.
fn allowed(plan: &Plan, inst: &PlannedInstance) -> bool {
    !inst.destructive
        || inst
            .target
            .as_ref()
            .is_some_and(|t| plan.options.destructive_devices.iter().any(|d| d == t))
}

/// The test options libtest-mimic would take but cannot run with: `--test-threads 0` (its
/// thread pool would wait forever), a `--logfile` that cannot be written (it panics). Checked
/// before a run directory is made, and on the options a resume reads from plan.json.
fn check_test_options(a: &Arguments) -> Result<(), String> {
    if a.test_threads == Some(0) {
        return Err(
            "--test-threads 0: give at least 1 (instances run one at a time unless \
                    --test-threads is given)"
                .into(),
        );
    }
    if let Some(f) = &a.logfile {
        let p = Path::new(f);
        if f.is_empty() {
            return Err("--logfile: give a file name".into());
        }
        if p.is_dir() {
            return Err(format!("--logfile {f}: is a directory; give a file name"));
        }
        let parent = p.parent().filter(|d| !d.as_os_str().is_empty());
        if let Some(d) = parent {
            if !d.is_dir() {
                return Err(format!(
                    "--logfile {f}: the directory {} does not exist",
                    d.display()
                ));
            }
        }
        // libtest-mimic creates (truncates) it later; make sure it can.
        fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(p)
            .map_err(|e| format!("--logfile {f}: cannot write it: {e}"))?;
    }
    Ok(())
}

fn start(args: RunRequest) -> Result<ExitCode> {
    check_test_options(&args.test).map_err(usage)?;
    if let Some(dir) = args.resume.clone() {
        return resume(&dir, args);
    }
    let sysroot_arg = args.sysroot.clone().unwrap_or_else(|| PathBuf::from("/"));
    if !sysroot_arg.exists() {
        return Err(usage(format!(
            "--sysroot {}: no such file or directory",
            sysroot_arg.display()
        )));
    }
    if args.test.list {
        let (root, _tmp) = crate::open_sysroot(&sysroot_arg)?;
        let (_, plan) = make_plan(&args, &root, &root)?;
        let trials = plan
            .instances
            .iter()
            .map(|i| Trial::test(&i.name, || Ok(())).with_ignored_flag(!allowed(&plan, i)))
            .collect();
        let _ = libtest_mimic::run(&args.test, trials);
        return Ok(ExitCode::SUCCESS);
    }

    // The run directory: --out, or runs/<host>-<UTC time>.
    if let Some(out) = &args.out {
        if out.join(PLAN_FILE).exists() {
            return Err(usage(format!(
                "--out {}: already a run directory; continue it with --resume {0}",
                out.display()
            )));
        }
        if out.exists() {
            let empty = fs::read_dir(out)
                .map(|mut d| d.next().is_none())
                .unwrap_or(false);
            if !empty {
                return Err(usage(format!(
                    "--out {}: exists and is not an empty directory",
                    out.display()
                )));
            }
        }
    }
    let (root, _tmp) = crate::open_sysroot(&sysroot_arg)?;
    let snapshot = sysroot_arg.is_file();
    let plan_root = if snapshot {
        root.clone()
    } else {
        fs::canonicalize(&sysroot_arg)
            .with_context(|| format!("cannot open {}", sysroot_arg.display()))?
    };
    let (inv, mut plan) = make_plan(&args, &root, &plan_root)?;
    let dir = match &args.out {
        Some(out) => {
            fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
            out.clone()
        }
        None => new_run_dir(&inv)?,
    };
    let dir = fs::canonicalize(&dir).with_context(|| format!("cannot open {}", dir.display()))?;
    let Some(lock) = rundir::try_lock(&dir)? else {
        return Err(usage(format!(
            "{} is in use by another hwcert run",
            dir.display()
        )));
    };
    if snapshot {
        // Workers read the machine's files during the run, and after a resume: keep the
        // snapshot's tree in the run directory.
        let dest = dir.join("sysroot");
        fs::create_dir_all(&dest)?;
        let x = inventory::snapshot::extract(&sysroot_arg, &dest)?;
        for w in &x.warnings {
            eprintln!("hwcert: warning: {}", escape_text(w));
        }
        plan.sysroot = inventory::snapshot::extracted_root(&dest)
            .display()
            .to_string();
    }
    write_json(&dir.join(INVENTORY_FILE), &inv)?;
    write_json(&dir.join(PLAN_FILE), &plan)?;
    eprintln!(
        "hwcert: run directory {}: {} instances planned (profile {})",
        dir.display(),
        plan.instances.len(),
        plan.profile
    );
    supervise(&dir, plan, args.test, lock)
}

fn new_run_dir(inv: &inventory::Inventory) -> Result<PathBuf> {
    let host: String = inv
        .host
        .hostname
        .as_deref()
        .unwrap_or("host")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let base = Path::new("runs");
    fs::create_dir_all(base).with_context(|| format!("cannot create {}", base.display()))?;
    let stem = format!("{host}-{}", rundir::compact_utc(SystemTime::now()));
    for n in 1..1000 {
        let p = if n == 1 {
            base.join(&stem)
        } else {
            base.join(format!("{stem}-{n}"))
        };
        match fs::create_dir(&p) {
            Ok(()) => return Ok(p),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot create {}", p.display())),
        }
    }
    bail!(
        "cannot find a free run directory name under {}",
        base.display()
    )
}

fn resume(dir: &Path, args: RunRequest) -> Result<ExitCode> {
    let shown = dir.display();
    if !dir.is_dir() {
        return Err(usage(format!("--resume {shown}: no such directory")));
    }
    if !dir.join(PLAN_FILE).is_file() {
        return Err(usage(format!(
            "--resume {shown}: not a hwcert run directory (no {PLAN_FILE})"
        )));
    }
    if gave_selection_args(&args.test) {
        return Err(usage(
            "--resume continues a run with the filter and test options it started with \
             (plan.json); only --format, --quiet, --color and --logfile may be given",
        ));
    }
    let dir = fs::canonicalize(dir).with_context(|| format!("cannot open {shown}"))?;
    let Some(lock) = rundir::try_lock(&dir)? else {
        let pid = RunState::read(&dir)
            .map(|s| format!(" (pid {})", s.supervisor_pid))
            .unwrap_or_default();
        return Err(usage(format!(
            "--resume {shown}: the run directory is in use by another hwcert run{pid}"
        )));
    };
    let plan: Plan =
        read_json(&dir.join(PLAN_FILE)).map_err(|e| usage(format!("--resume {shown}: {e:#}")))?;
    if !dir.join(INVENTORY_FILE).is_file() {
        return Err(usage(format!(
            "--resume {shown}: not a hwcert run directory (no {INVENTORY_FILE})"
        )));
    }
    let mut test = Arguments::try_parse_from(
        std::iter::once("hwcert run".to_string()).chain(plan.test_args.iter().cloned()),
    )
    .map_err(|e| {
        usage(format!(
            "--resume {shown}: bad test options in plan.json: {e}"
        ))
    })?;
    test.format = args.test.format;
    test.quiet = args.test.quiet;
    test.color = args.test.color;
    test.logfile = args.test.logfile.clone();
    check_test_options(&test).map_err(|e| {
        usage(format!(
            "--resume {shown}: bad test options in plan.json: {e}"
        ))
    })?;
    supervise(&dir, plan, test, lock)
}

/// State shared by the trials.
struct Shared {
    dir: PathBuf,
    exe: PathBuf,
    plan: Plan,
    boot_id: String,
    lifeline: RawFd,
    journal: Mutex<Journal>,
    state: Mutex<RunState>,
    latest: Mutex<HashMap<String, JournalEntry>>,
    reporter: report::Reporter,
    /// The run cannot go on (the journal or the state file cannot be written).
    broken: Mutex<Option<String>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    fn fail_run(&self, what: String) -> Failed {
        let mut b = lock(&self.broken);
        if b.is_none() {
            *b = Some(what.clone());
        }
        Failed::from(format!("not recorded: {what}"))
    }

    fn entry(
        &self,
        inst: &PlannedInstance,
        status: Status,
        reason: Option<String>,
    ) -> JournalEntry {
        JournalEntry {
            name: inst.name.clone(),
            status,
            reason,
            expected: None,
            measured: None,
            started: rundir::rfc3339(SystemTime::now()),
            duration_ms: 0,
            measurements: Vec::new(),
            log: rundir::log_rel(&inst.name),
            boot_id: self.boot_id.clone(),
            component: Some(inst.component),
            blocker: inst.blocker,
            log_tail: Vec::new(),
            leaked: false,
            log_dropped_bytes: None,
        }
    }

    /// Journal a final entry (fsync'd), then drop the instance from the running set. The
    /// error names the file that could not be written.
    fn record(&self, e: &JournalEntry) -> Result<(), String> {
        lock(&self.journal).append(e).map_err(|err| {
            format!(
                "cannot write {}: {err}",
                self.dir.join(rundir::JOURNAL_FILE).display()
            )
        })?;
        lock(&self.latest).insert(e.name.clone(), e.clone());
        let mut st = lock(&self.state);
        st.running.retain(|r| r.name != e.name);
        st.write(&self.dir).map_err(|err| {
            format!(
                "cannot write {}: {err}",
                self.dir.join(rundir::STATE_FILE).display()
            )
        })
    }

    fn run_trial(&self, inst: &PlannedInstance) -> Result<Completion, Failed> {
        if let Some(b) = lock(&self.broken).as_ref() {
            return Err(Failed::from(format!("not run: {b}")));
        }
        let est_ms = (inst.estimate_s * 1000.0) as u64;
        let earlier = lock(&self.latest)
            .get(&inst.name)
            .filter(|e| e.is_final())
            .cloned();
        if let Some(e) = earlier {
            self.reporter.finished(&e, true, est_ms);
            return completion(&e);
        }
        if !allowed(&self.plan, inst) {
            let e = self.entry(
                inst,
                Status::Skip,
                Some(format!(
                    "destructive: runs only with --destructive --device {}",
                    inst.target.as_deref().unwrap_or("?")
                )),
            );
            let _ = fs::write(
                self.dir.join(&e.log),
                format!("{}\n", e.reason.as_deref().unwrap_or("")),
            );
            if let Err(err) = self.record(&e) {
                return Err(self.fail_run(err));
            }
            self.reporter.finished(&e, false, est_ms);
            return completion(&e);
        }

        self.reporter.started(&inst.name);
        let now = SystemTime::now();
        {
            let mut st = lock(&self.state);
            st.running.push(Running {
                name: inst.name.clone(),
                started: rundir::rfc3339(now),
                started_unix_ms: rundir::unix_ms(now),
                pgid: None,
            });
            if let Err(err) = st.write(&self.dir) {
                return Err(self.fail_run(format!(
                    "cannot write {}: {err}",
                    self.dir.join(rundir::STATE_FILE).display()
                )));
            }
        }
        let spec = supervise::WorkerSpec {
            exe: &self.exe,
            dir: &self.dir,
            instance: &inst.name,
            timeout: Duration::from_secs_f64(inst.timeout_s.clamp(0.001, 1e7)),
            lifeline: self.lifeline,
            log_cap: self.plan.log_cap_bytes,
        };
        let finished = supervise::run_worker(&spec, |pgid| {
            let mut st = lock(&self.state);
            if let Some(r) = st.running.iter_mut().find(|r| r.name == inst.name) {
                r.pgid = Some(pgid);
            }
            let _ = st.write(&self.dir);
        });
        let e = match finished {
            Ok(f) => {
                let mut e = self.entry(inst, f.status, f.reason);
                if let Some(cases::Verdict::Fail { expected, measured }) = f.verdict {
                    e.expected = Some(expected);
                    e.measured = Some(measured);
                }
                e.started = rundir::rfc3339(f.started);
                e.duration_ms = f.duration.as_millis() as u64;
                e.measurements = f.measurements;
                e.log_tail = f.log_tail;
                e.leaked = f.leaked;
                e.log_dropped_bytes = f.log_dropped;
                e
            }
            Err(err) => {
                let mut e = self.entry(
                    inst,
                    Status::Error,
                    Some(format!("cannot run the worker: {err}")),
                );
                e.started = rundir::rfc3339(now);
                e
            }
        };
        if let Err(err) = self.record(&e) {
            return Err(self.fail_run(err));
        }
        self.reporter.finished(&e, false, est_ms);
        completion(&e)
    }
}

/// libtest-mimic's view: pass → ok; skip → ignored with the reason; the rest → failed with
/// the reason and the log's last lines.
fn completion(e: &JournalEntry) -> Result<Completion, Failed> {
    match e.status {
        Status::Pass => Ok(Completion::Completed),
        Status::Skip => Ok(Completion::ignored_with(
            e.reason.clone().unwrap_or_else(|| "skipped".into()),
        )),
        s => {
            let mut msg = s.as_str().to_string();
            if let Some(r) = &e.reason {
                msg.push_str(": ");
                msg.push_str(r);
            }
            if !e.log_tail.is_empty() {
                msg.push_str(&format!("\n--- last lines of {} ---\n", e.log));
                msg.push_str(&e.log_tail.join("\n"));
            }
            Err(Failed::from(msg))
        }
    }
}

/// Journal what was running when the previous supervisor or the machine went down.
fn journal_interrupted(
    dir: &Path,
    plan: &Plan,
    boot_id: &str,
    journal: &mut Journal,
    latest: &mut HashMap<String, JournalEntry>,
) -> Result<Vec<JournalEntry>> {
    let Some(state) = RunState::read(dir) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for r in &state.running {
        // Final already, or this very interruption was journaled by a resume that itself
        // died before it rewrote the state file.
        if latest
            .get(&r.name)
            .is_some_and(|e| e.is_final() || e.started == r.started)
        {
            continue;
        }
        let Some(inst) = plan.instances.iter().find(|i| i.name == r.name) else {
            continue;
        };
        let rebooted = state.boot_id != boot_id;
        let reason = if rebooted {
            format!(
                "the machine rebooted while it ran (boot_id changed from {} to {boot_id}); it runs again",
                state.boot_id
            )
        } else {
            // The old worker's group dies on its own (lifeline); give it a moment.
            if let Some(pgid) = r.pgid {
                let end = std::time::Instant::now() + Duration::from_secs(5);
                while supervise::group_has_live_members(pgid) && std::time::Instant::now() < end {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            format!(
                "the supervisor (pid {}) died while it ran (supervisor crash or kill); it runs again",
                state.supervisor_pid
            )
        };
        let log = rundir::log_rel(&r.name);
        let last_write = fs::metadata(dir.join(&log))
            .and_then(|m| m.modified())
            .map(rundir::unix_ms)
            .unwrap_or(r.started_unix_ms);
        let e = JournalEntry {
            name: r.name.clone(),
            status: Status::Interrupted,
            reason: Some(reason),
            expected: None,
            measured: None,
            started: r.started.clone(),
            duration_ms: last_write.saturating_sub(r.started_unix_ms),
            measurements: Vec::new(),
            log_tail: rundir::tail_lines(&dir.join(&log), 0, 12),
            log,
            boot_id: state.boot_id.clone(),
            component: Some(inst.component),
            blocker: inst.blocker,
            leaked: false,
            log_dropped_bytes: None,
        };
        journal.append(&e).with_context(|| {
            format!("cannot write {}", dir.join(rundir::JOURNAL_FILE).display())
        })?;
        latest.insert(e.name.clone(), e.clone());
        out.push(e);
    }
    Ok(out)
}

/// Run (or continue) the plan in `dir`, holding its lock.
fn supervise(
    dir: &Path,
    plan: Plan,
    mut test: Arguments,
    _lock: rundir::DirLock,
) -> Result<ExitCode> {
    let started = std::time::Instant::now();
    for sub in [rundir::LOGS_DIR, rundir::RESULTS_DIR] {
        let p = dir.join(sub);
        fs::create_dir_all(&p).with_context(|| format!("cannot create {}", p.display()))?;
    }
    rundir::fsync_dir(dir)?;
    let boot_id = rundir::boot_id();
    let (entries, warnings) = rundir::read_journal(dir)
        .with_context(|| format!("cannot read {}", dir.join(rundir::JOURNAL_FILE).display()))?;
    for w in warnings {
        eprintln!("hwcert: warning: {}", escape_text(&w.to_string()));
    }
    let mut latest: HashMap<String, JournalEntry> = HashMap::new();
    for e in entries {
        latest.insert(e.name.clone(), e);
    }
    let mut journal = Journal::open(dir)
        .with_context(|| format!("cannot open {}", dir.join(rundir::JOURNAL_FILE).display()))?;
    let interrupted = journal_interrupted(dir, &plan, &boot_id, &mut journal, &mut latest)?;
    let state = RunState {
        boot_id: boot_id.clone(),
        supervisor_pid: std::process::id(),
        running: Vec::new(),
    };
    state
        .write(dir)
        .with_context(|| format!("cannot write {}", dir.join(rundir::STATE_FILE).display()))?;

    // As root, the supervisor is the OOM killer's last choice (workers reset theirs). It is the
    // reaper of the workers' orphans, so it can kill and reap a whole process group.
    if is_root() {
        let _ = fs::write("/proc/self/oom_score_adj", "-1000");
    }
    // SAFETY: prctl on this process.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    let lifeline = supervise::Lifeline::new().context("cannot create the lifeline pipe")?;
    let exe = std::env::current_exe().context("cannot find the hwcert executable")?;

    // One at a time by default; never more threads than instances (each would be spawned).
    test.test_threads = Some(
        test.test_threads
            .unwrap_or(1)
            .clamp(1, plan.instances.len().max(1)),
    );
    let pretty = !test.quiet && matches!(test.format, None | Some(FormatSetting::Pretty));
    if pretty && test.logfile.is_none() {
        // Our reporter prints the per-instance lines (with durations and reasons).
        test.logfile = Some("/dev/null".into());
    }
    let flags: Vec<bool> = plan.instances.iter().map(|i| !allowed(&plan, i)).collect();
    let to_run: Vec<u64> = plan
        .instances
        .iter()
        .zip(&flags)
        .filter(|(i, &ign)| {
            let t = Trial::test(&i.name, || Ok(())).with_ignored_flag(ign);
            !test.is_filtered_out(&t)
                && !test.is_ignored(&t)
                && !latest.get(&i.name).is_some_and(JournalEntry::is_final)
        })
        .map(|(i, _)| (i.estimate_s * 1000.0) as u64)
        .collect();
    // Of the plan's instances (a journal line of another is not one of them).
    let done_before = plan
        .instances
        .iter()
        .filter(|i| latest.get(&i.name).is_some_and(JournalEntry::is_final))
        .count();
    if done_before > 0 || !interrupted.is_empty() {
        eprintln!(
            "hwcert: resuming {}: {done_before} of {} instances already finished, {} interrupted",
            dir.display(),
            plan.instances.len(),
            interrupted.len()
        );
    }
    let reporter = report::Reporter::new(pretty, &to_run);
    for e in &interrupted {
        reporter.note(e);
    }
    let shared = Arc::new(Shared {
        dir: dir.to_path_buf(),
        exe,
        plan,
        boot_id,
        lifeline: lifeline.read_fd(),
        journal: Mutex::new(journal),
        state: Mutex::new(state),
        latest: Mutex::new(latest),
        reporter,
        broken: Mutex::new(None),
    });
    let trials = shared
        .plan
        .instances
        .iter()
        .zip(flags)
        .map(|(inst, ign)| {
            let sh = Arc::clone(&shared);
            let inst = inst.clone();
            Trial::ignorable_test(inst.name.clone(), move || sh.run_trial(&inst))
                .with_ignored_flag(ign)
        })
        .collect();
    let conclusion = libtest_mimic::run(&test, trials);
    shared.reporter.finish();
    // Orphans that left the worker's process group and ended: reap them.
    // SAFETY: no std::process::Child is outstanding any more.
    while unsafe { libc::waitpid(-1, std::ptr::null_mut(), libc::WNOHANG) } > 0 {}

    if let Some(b) = lock(&shared.broken).as_ref() {
        bail!("the run stopped: {b}");
    }
    let latest = lock(&shared.latest);
    let (summary, code) = report::summary(&shared.plan, &latest);
    let result_line = format!(
        "\ntest result: {}. {} passed; {} failed; {} ignored; {} measured; {} filtered out; finished in {:.2}s\n\nRun directory: {}\n",
        if conclusion.has_failed() { "FAILED" } else { "ok" },
        conclusion.num_passed,
        conclusion.num_failed,
        conclusion.num_ignored,
        conclusion.num_measured,
        conclusion.num_filtered_out,
        started.elapsed().as_secs_f64(),
        shared.dir.display()
    );
    let text = if pretty {
        format!("{summary}{result_line}")
    } else {
        format!("{summary}\nRun directory: {}\n", shared.dir.display())
    };
    let text = escape_text(&text);
    if matches!(test.format, Some(FormatSetting::Json)) {
        eprint!("{text}");
    } else {
        let mut out = io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }
    Ok(ExitCode::from(code))
}
