//! The one certification rule: the verdict of a run, of a component and of an HCL entry, and
//! so the exit status of `hwcert run`, `certify` and `report` ([`crate::exit::for_verdict`]).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::journal::JournalEntry;
use crate::plan::Plan;
use crate::status::Status;

/// The overall outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Overall {
    /// Every blocker passed, or skipped with a reason.
    #[serde(rename = "certified")]
    Certified,
    /// A blocker failed (fail, error, timeout or crash).
    #[serde(rename = "not certified")]
    NotCertified,
    /// No blocker failed, but one did not run, was interrupted or skipped without a reason.
    #[serde(rename = "incomplete")]
    Incomplete,
}

impl Overall {
    pub fn as_str(self) -> &'static str {
        match self {
            Overall::Certified => "certified",
            Overall::NotCertified => "not certified",
            Overall::Incomplete => "incomplete",
        }
    }
}

/// Whether a blocker ending with this status and reason leaves certification open: not
/// finished, or skipped without saying why.
pub fn leaves_open(status: Status, reason: Option<&str>) -> bool {
    status.is_unfinished() || (status == Status::Skip && reason.is_none_or(|s| s.trim().is_empty()))
}

/// The certification rule, over `(blocker, status, reason)` of each instance: not certified
/// when a blocker failed (fail, error, timeout, crash); incomplete when a blocker did not
/// finish or skipped without a reason, or when there is no blocker at all; certified
/// otherwise. The report's verdict and every exit status come from here.
pub fn rule<'a>(results: impl IntoIterator<Item = (bool, Status, Option<&'a str>)>) -> Overall {
    let mut incomplete = false;
    let mut any = false;
    for (blocker, status, reason) in results {
        if !blocker {
            continue;
        }
        any = true;
        if status.is_failure() {
            return Overall::NotCertified;
        }
        incomplete |= leaves_open(status, reason);
    }
    if incomplete || !any {
        Overall::Incomplete
    } else {
        Overall::Certified
    }
}

/// The verdict of a plan and the last journal line of each instance, as the report will give
/// it: a planned instance without a line is `not run`; lines for instances the plan does not
/// hold do not count.
pub fn judge_plan(plan: &Plan, latest: &HashMap<String, JournalEntry>) -> Overall {
    rule(plan.instances.iter().map(|i| match latest.get(&i.name) {
        Some(e) => (i.blocker, e.status, e.reason.as_deref()),
        None => (i.blocker, Status::NotRun, None),
    }))
}
