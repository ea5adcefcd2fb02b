//! What a case decides and what a worker hands back for one instance (the result file of
//! `results/`, read by the supervisor).

use serde::{Deserialize, Serialize};

use crate::measure::Measurement;
use crate::status::Status;

/// The worker's exit status when it cannot write its result file (the run directory's disk is
/// full or read-only): the tester's fault, not the case's, so the instance runs again.
pub const EXIT_CANNOT_WRITE: u8 = 75;

/// What a case's `run` decides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    /// What was expected, and what was measured instead.
    Fail {
        expected: String,
        measured: String,
    },
    /// Why it did not apply after all (not root, no such hardware, tool missing).
    Skip {
        reason: String,
    },
    /// The check itself could not run.
    Error {
        reason: String,
    },
    /// What the case ran was killed by a signal (which one, and whether it dumped core).
    Crash {
        reason: String,
    },
}

impl Verdict {
    pub fn fail(expected: impl Into<String>, measured: impl Into<String>) -> Self {
        Verdict::Fail {
            expected: expected.into(),
            measured: measured.into(),
        }
    }
    pub fn skip(reason: impl Into<String>) -> Self {
        Verdict::Skip {
            reason: reason.into(),
        }
    }
    pub fn error(reason: impl Into<String>) -> Self {
        Verdict::Error {
            reason: reason.into(),
        }
    }
    pub fn crash(reason: impl Into<String>) -> Self {
        Verdict::Crash {
            reason: reason.into(),
        }
    }
    pub fn status(&self) -> Status {
        match self {
            Verdict::Pass => Status::Pass,
            Verdict::Fail { .. } => Status::Fail,
            Verdict::Skip { .. } => Status::Skip,
            Verdict::Error { .. } => Status::Error,
            Verdict::Crash { .. } => Status::Crash,
        }
    }
    /// One line for a person: the reason, or "expected …, measured …".
    pub fn reason(&self) -> Option<String> {
        match self {
            Verdict::Pass => None,
            Verdict::Fail { expected, measured } => {
                Some(format!("expected {expected}; measured {measured}"))
            }
            Verdict::Skip { reason } | Verdict::Error { reason } | Verdict::Crash { reason } => {
                Some(reason.clone())
            }
        }
    }
}

/// What a worker reports for one instance: the verdict, the measurements, and a log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub verdict: Verdict,
    #[serde(default)]
    pub measurements: Vec<Measurement>,
    /// Processes that left the worker's process group (setsid, a daemon) outlived the case
    /// and were killed by the worker, their subreaper.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub leaked: bool,
    /// The case asks the supervisor to take the machine down (reboot, power cycle, crash) and
    /// resume it on the next boot; its verdict is then only the state it reached so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disrupt: Option<Disruption>,
}

/// What a disruptive case asks of the supervisor: journal "rebooting (boot_id X)", then act.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disruption {
    pub action: Action,
    /// One line for the journal and the person watching ("cycle 2 of 3").
    pub why: String,
}

/// How the machine is taken down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// A warm reboot: `systemctl reboot`.
    Reboot,
    /// A cold reboot: `ipmitool chassis power cycle` through the BMC.
    PowerCycle,
    /// A kernel crash: `c` written to /proc/sysrq-trigger (kdump captures it).
    Crash,
    /// A watchdog left to expire: the device is opened and never petted again.
    WatchdogExpire,
}

impl Action {
    /// What the journal says the machine is doing.
    pub fn doing(self) -> &'static str {
        match self {
            Action::Reboot => "rebooting",
            Action::PowerCycle => "power-cycling",
            Action::Crash => "crashing the kernel",
            Action::WatchdogExpire => "letting the watchdog expire",
        }
    }
}

/// The start of the reason of the journal line of an instance that took the machine down:
/// "rebooting (boot_id X)". The line is `interrupted` (it is not final: the instance runs
/// again on the next boot, and its own state file says where it was).
pub fn disrupt_reason(d: &Disruption, boot_id: &str) -> String {
    format!("{} (boot_id {boot_id}): {}", d.action.doing(), d.why)
}
