//! Resuming after a crash: what state.json says was running when the previous supervisor or
//! the machine went down is journaled `interrupted` (and runs again).

use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, Result};

use cases::Status;
use documents::plan::Plan;

use super::rundir::{self, Journal, JournalEntry, RunState};
use super::supervise;

/// Journal what was running when the previous supervisor or the machine went down.
pub(super) fn journal_interrupted(
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
