//! One instance as a libtest-mimic trial: skipped when destructive and not allowed, taken
//! from the journal when an earlier run finished it, otherwise run in a worker, journaled
//! (fsync'd) and reported.

use std::collections::HashMap;
use std::fs;
use std::os::fd::RawFd;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use libtest_mimic::{Completion, Failed};

use cases::Status;
use documents::plan::{Plan, PlannedInstance};

use super::report;
use super::rundir::{self, Journal, JournalEntry, RunState, Running};
use super::supervise;

/// Whether a destructive instance may run: its target was named with --device.
pub(super) fn allowed(plan: &Plan, inst: &PlannedInstance) -> bool {
    !inst.destructive
        || inst
            .target
            .as_ref()
            .is_some_and(|t| plan.options.destructive_devices.iter().any(|d| d == t))
}

/// State shared by the trials.
pub(super) struct Shared {
    pub(super) dir: PathBuf,
    pub(super) exe: PathBuf,
    pub(super) plan: Plan,
    pub(super) boot_id: String,
    pub(super) lifeline: RawFd,
    pub(super) journal: Mutex<Journal>,
    pub(super) state: Mutex<RunState>,
    pub(super) latest: Mutex<HashMap<String, JournalEntry>>,
    pub(super) reporter: report::Reporter,
    /// The run cannot go on (the journal or the state file cannot be written).
    pub(super) broken: Mutex<Option<String>>,
    /// What disruptive cases act on.
    pub(super) machine: std::sync::Arc<dyn cases::machine::Machine>,
    /// The machine is being taken down ("rebooting (boot_id X): …"): no other instance starts.
    pub(super) halted: Mutex<Option<String>>,
}

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
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

    pub(super) fn run_trial(&self, inst: &PlannedInstance) -> Result<Completion, Failed> {
        if let Some(b) = lock(&self.broken).as_ref() {
            return Err(Failed::from(format!("not run: {b}")));
        }
        if let Some(h) = lock(&self.halted).as_ref() {
            // Not journaled: it runs after the reboot.
            return Ok(Completion::ignored_with(format!(
                "not run yet: {h}; it runs on the next boot"
            )));
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

        self.reporter.started(&inst.name, est_ms);
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
        let mut disrupt = None;
        let e = match finished {
            Ok(mut f) => {
                disrupt = f.disrupt.take();
                if let Some(d) = &disrupt {
                    // Not final: the instance runs again on the next boot.
                    f.status = Status::Interrupted;
                    f.reason = Some(documents::outcome::disrupt_reason(d, &self.boot_id));
                    f.verdict = None;
                }
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
        if let Some(d) = disrupt {
            return self.take_down(inst, e, d, est_ms);
        }
        self.reporter.finished(&e, false, est_ms);
        completion(&e)
    }

    /// The instance's "rebooting (boot_id X)" line is on disk: stop starting instances and
    /// act. When the action cannot even start, the instance ends with that error.
    fn take_down(
        &self,
        inst: &PlannedInstance,
        rebooting: JournalEntry,
        d: documents::outcome::Disruption,
        est_ms: u64,
    ) -> Result<Completion, Failed> {
        let what = rebooting.reason.clone().unwrap_or_default();
        *lock(&self.halted) = Some(what.clone());
        self.reporter.note(&rebooting);
        match self.machine.act(d.action, &self.plan.options) {
            Ok(()) => Ok(Completion::ignored_with(format!(
                "{what}; it goes on after the reboot"
            ))),
            Err(err) => {
                *lock(&self.halted) = None;
                let mut e = self.entry(
                    inst,
                    Status::Error,
                    Some(format!(
                        "{} on {} could not be started: {err}",
                        d.action.doing(),
                        self.machine.describe()
                    )),
                );
                e.started = rebooting.started.clone();
                e.measurements = rebooting.measurements.clone();
                if let Err(err) = self.record(&e) {
                    return Err(self.fail_run(err));
                }
                self.reporter.finished(&e, false, est_ms);
                completion(&e)
            }
        }
    }
}

/// libtest-mimic's view: pass → ok; skip → ignored with the reason; the rest → failed with
/// the reason and the log's last lines.
pub(super) fn completion(e: &JournalEntry) -> Result<Completion, Failed> {
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
