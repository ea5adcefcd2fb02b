//! The plan: which case instances a run holds, in order, and why the other cases were left out.
//! `hwcert plan --json` prints it and `hwcert run` writes it to the run directory as plan.json,
//! so that `--resume` continues the same plan.

use serde::{Deserialize, Serialize};

use cases::{Component, RunOptions};

/// The plan document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// "hwcert.plan/1".
    pub schema: String,
    /// The profile's name (`quick`, `standard`, `full`, or the file's `name`/path).
    pub profile: String,
    /// The profile file, when one was given, and its contents (so a resume needs no file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_file: Option<ProfileSource>,
    /// Options the cases read (stress durations, destructive devices, …).
    pub options: RunOptions,
    /// The run's filter and test options as given on the command line (libtest-mimic's), so a
    /// resume applies the same ones.
    #[serde(default)]
    pub test_args: Vec<String>,
    /// The sysroot the plan was made from (`/` for a live run).
    pub sysroot: String,
    /// What will run, in order.
    pub instances: Vec<PlannedInstance>,
    /// Every case that was not planned, and why.
    pub not_planned: Vec<NotPlanned>,
}

/// A profile file and what it held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileSource {
    pub path: String,
    pub text: String,
}

/// One instance of a case on one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedInstance {
    /// `case` or `case::target` — the test name.
    pub name: String,
    /// The case's name (`pci::driver_bound`).
    pub case: String,
    pub component: Component,
    /// The target id (PCI address, block device, interface), absent for machine-wide cases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_label: Option<String>,
    pub purpose: String,
    pub timeout_s: f64,
    pub estimate_s: f64,
    pub blocker: bool,
    /// Ignored unless `--destructive --device` names the target.
    pub destructive: bool,
    /// Built-in, or a profile's command.
    pub kind: InstanceKind,
}

/// How an instance is run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum InstanceKind {
    /// A case of the built-in catalog, looked up by name.
    Builtin,
    /// A vendor command from a profile: passes on exit 0, skips on 77, fails otherwise.
    Command { argv: Vec<String> },
}

/// A case that is not in the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotPlanned {
    pub case: String,
    pub reason: String,
}

/// The schema name of plan.json.
pub const PLAN_SCHEMA: &str = "hwcert.plan/1";
