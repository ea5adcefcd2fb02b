//! The one certification rule: the verdict of a run, of a component and of an HCL entry, and
//! so the exit status of `hwcert run`, `certify` and `report` ([`crate::exit::for_verdict`]).
//!
//! A run certifies only when it is a live run (not a recorded tree nor a snapshot) of a
//! certification profile (`standard`, `full`, or a profile file built on one of them: not
//! `quick`, a file built on `quick` alone, nor a file that extends no built-in; see
//! [`CERTIFYING`]) and every blocker ran and
//! passed: a blocker that was excluded, not planned for an unmet requirement, skipped, not run
//! or interrupted leaves the run incomplete, and so does a recorded machine or a profile that
//! does not certify ([`gaps`]). A blocker that failed means not certified.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::journal::JournalEntry;
use crate::plan::Plan;
use crate::status::Status;

/// The overall outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Overall {
    /// A live run of a certification profile in which every blocker ran and passed.
    #[serde(rename = "certified")]
    Certified,
    /// A blocker failed (fail, error, timeout or crash).
    #[serde(rename = "not certified")]
    NotCertified,
    /// No blocker failed, but one did not run, was interrupted, skipped, excluded or not
    /// planned; or the run is of a recorded machine, or of a profile that does not certify.
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

/// Whether a blocker ending with this status leaves certification open: not finished, or
/// skipped (with a reason or without: what was not tested is not certified). The reason is
/// kept for the callers that say why.
pub fn leaves_open(status: Status, _reason: Option<&str>) -> bool {
    status.is_unfinished() || status == Status::Skip
}

/// The certification profiles: these built-ins, and the profile files whose `extends` chain
/// reaches one of them before any other built-in. `quick` (a few seconds of stress prove
/// nothing), a file built on `quick` alone, and a file that extends no built-in do not certify.
pub const CERTIFYING: [&str; 2] = ["standard", "full"];

/// Why a run in which no blocker failed still does not certify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    pub kind: GapKind,
    /// The case or instance, for a blocker that was not tested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// For people: what and why.
    pub reason: String,
}

/// The kinds of [`Gap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GapKind {
    /// The plan was made from a recorded tree or a snapshot, not the live system.
    RecordedMachine,
    /// The profile is not a certification profile, or the plan does not say.
    Profile,
    /// A blocker the profile excluded.
    Excluded,
    /// A blocker not planned because a requirement was not met.
    NotPlanned,
}

impl GapKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GapKind::RecordedMachine => "recorded machine",
            GapKind::Profile => "profile",
            GapKind::Excluded => "excluded",
            GapKind::NotPlanned => "not planned",
        }
    }
}

/// Whether a plan's sysroot is the live system.
pub fn is_live(sysroot: &str) -> bool {
    std::path::Path::new(sysroot) == std::path::Path::new("/")
}

/// What keeps a plan from certifying whatever its results: a recorded machine, a profile that
/// does not certify (or a plan that does not say), and each blocker excluded or not planned
/// for an unmet requirement. Empty when the plan can certify.
pub fn gaps(plan: &Plan) -> Vec<Gap> {
    let mut out = Vec::new();
    if !is_live(&plan.sysroot) {
        out.push(Gap {
            kind: GapKind::RecordedMachine,
            name: None,
            reason: format!(
                "recorded machine: the plan was made from {}, not the live system; only a live \
                 run certifies",
                if plan.sysroot.is_empty() {
                    "an unnamed sysroot"
                } else {
                    plan.sysroot.as_str()
                }
            ),
        });
    }
    let chain = if plan.profile_chain.is_empty() {
        plan.profile.clone()
    } else {
        plan.profile_chain.join(" → ")
    };
    match plan.certifies {
        Some(true) => {}
        Some(false) => out.push(Gap {
            kind: GapKind::Profile,
            name: None,
            reason: match &plan.not_certifying {
                Some(why) => format!("profile {chain} does not certify: {why}"),
                None => format!(
                    "profile {chain} is not a certification profile (it does not extend {}); \
                     certify with standard or full, or a profile built on them",
                    CERTIFYING.join(" or ")
                ),
            },
        }),
        None => out.push(Gap {
            kind: GapKind::Profile,
            name: None,
            reason: format!(
                "the plan does not record whether profile {chain} certifies (an older \
                 hwcert made it): plan and run again"
            ),
        }),
    }
    for n in &plan.not_planned {
        if !n.leaves_open() {
            continue;
        }
        let kind = match n.kind {
            Some(crate::plan::NotPlannedKind::Excluded) => GapKind::Excluded,
            _ => GapKind::NotPlanned,
        };
        out.push(Gap {
            kind,
            name: Some(n.name()),
            reason: n.reason.clone(),
        });
    }
    out
}

/// The rule with the run's [`gaps`]: as [`rule`], but a run with gaps is at best incomplete.
pub fn rule_with<'a>(
    gaps: &[Gap],
    results: impl IntoIterator<Item = (bool, Status, Option<&'a str>)>,
) -> Overall {
    match rule(results) {
        Overall::Certified if !gaps.is_empty() => Overall::Incomplete,
        o => o,
    }
}

/// The certification rule, over `(blocker, status, reason)` of each instance: not certified
/// when a blocker failed (fail, error, timeout, crash); incomplete when a blocker did not
/// finish or skipped, or when there is no blocker at all; certified otherwise (and then only
/// if the run has no [`gaps`]: [`rule_with`]). The report's verdict and every exit status come from here.
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
/// hold do not count; the plan's [`gaps`] leave it at best incomplete.
pub fn judge_plan(plan: &Plan, latest: &HashMap<String, JournalEntry>) -> Overall {
    rule_with(
        &gaps(plan),
        plan.instances.iter().map(|i| match latest.get(&i.name) {
            Some(e) => (i.blocker, e.status, e.reason.as_deref()),
            None => (i.blocker, Status::NotRun, None),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{NotPlanned, NotPlannedKind, RunOptions, PLAN_SCHEMA};

    fn plan(sysroot: &str, certifies: Option<bool>, not_planned: Vec<NotPlanned>) -> Plan {
        Plan {
            schema: PLAN_SCHEMA.into(),
            profile: "acme".into(),
            profile_file: None,
            profile_chain: vec!["acme.toml".into(), "quick".into()],
            certifies,
            not_certifying: None,
            options: RunOptions::default(),
            test_args: vec![],
            sysroot: sysroot.into(),
            log_cap_bytes: crate::plan::DEFAULT_LOG_CAP_BYTES,
            instances: vec![],
            not_planned,
        }
    }

    #[test]
    fn gaps_of_a_plan() {
        assert_eq!(gaps(&plan("/", Some(true), vec![])), vec![]);
        let g = gaps(&plan("/work/raid-sas", Some(false), vec![]));
        let kinds: Vec<GapKind> = g.iter().map(|g| g.kind).collect();
        assert_eq!(kinds, vec![GapKind::RecordedMachine, GapKind::Profile]);
        assert!(g[0].reason.contains("/work/raid-sas"), "{}", g[0].reason);
        assert!(g[1].reason.contains("acme.toml → quick"), "{}", g[1].reason);
        // An older plan that does not say whether its profile certifies certifies nothing.
        assert_eq!(gaps(&plan("/", None, vec![]))[0].kind, GapKind::Profile);
        // Blockers excluded or with unmet requirements are gaps; advisory cases, cases with
        // nothing to test and older entries without a kind are not.
        let np = vec![
            NotPlanned::case("cpu::cpufreq", "excluded by the profile")
                .of(NotPlannedKind::Excluded, true),
            NotPlanned::case("cpu::stress", "runs only on the live system")
                .of(NotPlannedKind::Unmet, true),
            NotPlanned::case("pci::aer", "excluded").of(NotPlannedKind::Excluded, false),
            NotPlanned::case("storage::nvme_smart", "no target on this machine")
                .of(NotPlannedKind::NotApplicable, true),
            NotPlanned::case("memory::old", "whatever"),
        ];
        let g = gaps(&plan("/", Some(true), np));
        let names: Vec<(GapKind, Option<&str>)> =
            g.iter().map(|g| (g.kind, g.name.as_deref())).collect();
        assert_eq!(
            names,
            vec![
                (GapKind::Excluded, Some("cpu::cpufreq")),
                (GapKind::NotPlanned, Some("cpu::stress"))
            ]
        );
        // All passed, but a gap: incomplete; a failure stays a failure.
        let pass = [(true, Status::Pass, None)];
        assert_eq!(rule_with(&g, pass), Overall::Incomplete);
        assert_eq!(rule_with(&[], pass), Overall::Certified);
        assert_eq!(
            rule_with(&g, [(true, Status::Fail, Some("x"))]),
            Overall::NotCertified
        );
        // A skipped blocker, reason or not, leaves it open.
        assert_eq!(
            rule([(true, Status::Skip, Some("needs root"))]),
            Overall::Incomplete
        );
    }

    #[test]
    fn old_plans_read() {
        let old = r#"{"schema":"hwcert.plan/1","profile":"quick","options":{"stress_seconds":null,
            "destructive_devices":[],"mtu_interfaces":[]},"sysroot":"/","instances":[],
            "not_planned":[{"case":"cpu::x","reason":"needs root"}]}"#;
        let p: Plan = serde_json::from_str(old).expect("an old plan reads");
        assert_eq!(p.certifies, None);
        assert_eq!(p.not_planned[0].kind, None);
        assert!(!p.not_planned[0].blocker);
    }
}
