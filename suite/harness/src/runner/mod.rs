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
//! A case that takes the machine down (`system::reboot_cycle`) hands back its outcome with a
//! disruption: the supervisor journals the instance `interrupted` with "rebooting (boot_id X):
//! …" (fsync'd), starts no other instance, and then acts (`systemctl reboot`, a power cycle, a
//! crash) on the run's machine (`machine.rs`). hwcert-resume.service, which the case installed,
//! resumes the run on the next boot, and the instance runs again from its own state.
//!
//! Exit status: 0 when the run certifies ([`documents::verdict`]: a live run of a
//! certification profile with every blocker run and passed), 1 when it does not (and for an
//! error during the run), 2 for a usage error (including a --resume directory that is missing, not a run directory, or in
//! use).

mod interrupted;
mod logcap;
mod machine;
mod report;
mod request;
pub mod rundir;
mod session;
mod signals;
mod start;
mod supervise;
mod trial;
mod worker;

pub use request::RunRequest;
pub use start::run;
pub use worker::{worker, WorkerRequest};

/// Whether the run in `dir` stopped to take this machine down and waits for the next boot:
/// its last journal line is a disruptive instance's `interrupted` "rebooting (boot_id X): …"
/// (or power-cycling, crashing, …) stamped with this boot's id. Then the run is not over,
/// and nothing is to be reported yet: the reason is returned.
pub fn awaiting_disruption(dir: &std::path::Path) -> Option<String> {
    use documents::outcome::Action;
    let (entries, _) = rundir::read_journal(dir).ok()?;
    let last = entries.last()?;
    if last.status != documents::status::Status::Interrupted {
        return None;
    }
    let reason = last.reason.as_deref()?;
    let boot = machine::machine().boot_id()?;
    let stamped = [
        Action::Reboot,
        Action::PowerCycle,
        Action::Crash,
        Action::WatchdogExpire,
    ]
    .iter()
    .any(|a| reason.starts_with(&format!("{} (boot_id {boot}): ", a.doing())));
    stamped.then(|| reason.to_string())
}
