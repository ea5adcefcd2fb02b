//! The supervisor's run over a plan: the run directory prepared, the journal read back and
//! repaired, the supervisor made the subreaper of the workers' orphans, the trials run by
//! libtest-mimic, and the summary and exit status.

use std::collections::HashMap;
use std::fs;
use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context as _, Result};
use libtest_mimic::{Arguments, ColorSetting, FormatSetting, Trial};

use documents::plan::Plan;
use hwsys::text::escape_text;

use super::interrupted::journal_interrupted;
use super::report;
use super::rundir::{self, Journal, JournalEntry, RunState};
use super::supervise;
use super::trial::{allowed, lock, Shared};

pub(super) fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Run (or continue) the plan in `dir`, holding its lock.
pub(super) fn supervise(
    dir: &Path,
    plan: Plan,
    mut test: Arguments,
    _lock: rundir::DirLock,
    certify_dir: Option<&Path>,
) -> Result<ExitCode> {
    let started = std::time::Instant::now();
    let shown = escape_text(&dir.display().to_string()).to_string();
    let (resume_hint, next_hint) = match certify_dir {
        Some(out) => {
            let out = escape_text(&out.display().to_string()).to_string();
            (format!("hwcert certify --resume {out}"), String::new())
        }
        None => (
            format!("hwcert run --resume {shown}, then hwcert report {shown}"),
            format!(
                "Next: hwcert report {shown}   (writes report.json, report.html, report.md and \
                 junit.xml; --key FILE signs it)\n"
            ),
        ),
    };
    for sub in [rundir::LOGS_DIR, rundir::RESULTS_DIR] {
        let p = dir.join(sub);
        fs::create_dir_all(&p).with_context(|| format!("cannot create {}", p.display()))?;
    }
    rundir::fsync_dir(dir)?;
    let machine = super::machine::machine();
    let boot_id = machine.boot_id().unwrap_or_else(|| "unknown".into());
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
    // The run's start: kept from an earlier session of the run (a resume, maybe in a later
    // boot), else now.
    let run_started = RunState::read(dir).and_then(|s| s.run_started).or_else(|| {
        monotonic_us().map(|us| rundir::RunStart {
            boot_id: boot_id.clone(),
            monotonic_us: us,
        })
    });
    let state = RunState {
        boot_id: boot_id.clone(),
        supervisor_pid: std::process::id(),
        running: Vec::new(),
        run_started,
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
    if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } != 0 {
        // Linux ≥ 3.4 always has it; qemu-user (7.2) does not pass it on. Without it a
        // worker's orphans go to init and cannot be found after a timeout or crash.
        eprintln!(
            "hwcert: warning: cannot become a child subreaper ({}): processes a case leaves \
             behind after it times out or crashes may go unnoticed",
            std::io::Error::last_os_error()
        );
    }
    let lifeline = supervise::Lifeline::new().context("cannot create the lifeline pipe")?;
    // Ctrl-C (or a kill) ends the supervisor; the workers die with the lifeline, state.json
    // names what was running, and a resume journals it interrupted and runs it again.
    super::signals::on_interrupt(|sig| {
        format!(
            "\nhwcert: {sig}: the run stopped. What finished is kept in {shown}/journal.jsonl; \
             what was running is journaled interrupted and runs again on resume. No report \
             was written.\nTo resume: {resume_hint}\n"
        )
    });
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
    let stdout_tty = io::stdout().is_terminal();
    let style = report::Style {
        lines: pretty,
        colour: match test.color {
            Some(ColorSetting::Always) => true,
            Some(ColorSetting::Never) => false,
            _ => stdout_tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        },
        start_lines: !stdout_tty,
    };
    let reporter = report::Reporter::new(style, &to_run);
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
        machine,
        halted: Mutex::new(None),
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
    if let Some(h) = lock(&shared.halted).as_ref() {
        // The machine is going down: what is left runs on the next boot.
        eprintln!(
            "hwcert: {}; the run resumes on the next boot (hwcert-resume.service), or with \
             hwcert run --resume {}",
            escape_text(h),
            shared.dir.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let latest = lock(&shared.latest);
    let (summary, code) = report::summary(&shared.plan, &latest);
    let result_line = format!(
        "\nCases: {} passed; {} failed; {} skipped; {} filtered out; finished in {:.2}s\n\nRun directory: {}\n",
        conclusion.num_passed,
        conclusion.num_failed,
        conclusion.num_ignored,
        conclusion.num_filtered_out,
        started.elapsed().as_secs_f64(),
        shared.dir.display()
    );
    let text = if pretty {
        format!("{summary}{result_line}")
    } else {
        format!("{summary}\nRun directory: {}\n", shared.dir.display())
    };
    let text = format!("{text}{next_hint}");
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

/// CLOCK_MONOTONIC in microseconds (the kernel log's clock).
fn monotonic_us() -> Option<u64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given.
    if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) } != 0 {
        return None;
    }
    Some(u64::try_from(ts.tv_sec).ok()? * 1_000_000 + u64::try_from(ts.tv_nsec).ok()? / 1000)
}
