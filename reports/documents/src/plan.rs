//! The plan: which case instances a run holds, in order, and why the other cases were left out.
//! `hwcert plan --json` prints it and `hwcert run` writes it to the run directory as plan.json,
//! so that `--resume` continues the same plan.

use serde::{Deserialize, Serialize};

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
    /// The profile and what it extends, the profile first (`["acme.toml", "quick"]`): built-ins
    /// by name, files by path. Empty in plans written before it was recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profile_chain: Vec<String>,
    /// Whether the profile is a certification profile: not `quick` nor one built on it (see
    /// [`crate::verdict::gaps`]). Absent in plans written before it was recorded, which
    /// therefore certify nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certifies: Option<bool>,
    /// Why a profile built on a certification profile does not certify (its stress shorter
    /// than the minimum); absent when `certifies` follows from the chain alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_certifying: Option<String>,
    /// Options the cases read (stress durations, destructive devices, …).
    pub options: RunOptions,
    /// The run's filter and test options as given on the command line (libtest-mimic's), so a
    /// resume applies the same ones.
    #[serde(default)]
    pub test_args: Vec<String>,
    /// The sysroot the plan was made from (`/` for a live run).
    pub sysroot: String,
    /// The most output one attempt of an instance keeps in its log, in bytes: the first half
    /// and the last half are kept, what lies between is dropped and the log says how much
    /// (the profile's `log_cap`; plans written before it existed read as the default).
    #[serde(default = "default_log_cap")]
    pub log_cap_bytes: u64,
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

/// A case that is not in the plan — or one instance of it, when `target` is set (a profile
/// pattern left out just that instance).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotPlanned {
    pub case: String,
    pub reason: String,
    /// The one target left out, when the rest of the case is planned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Why, as a kind the verdict reads (absent in plans written before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<NotPlannedKind>,
    /// Whether the case is a blocker: a blocker that was excluded, or whose requirements were
    /// not met, leaves certification open (see [`crate::verdict::gaps`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub blocker: bool,
}

/// Why a case was not planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotPlannedKind {
    /// The profile's `exclude`, or an `include` that does not match it.
    Excluded,
    /// A requirement is not met: root, a tool, memory, the live system.
    Unmet,
    /// Nothing on this machine for it to test (no target; the selector says why).
    NotApplicable,
}

impl NotPlanned {
    /// The whole case.
    pub fn case(case: impl Into<String>, reason: impl Into<String>) -> Self {
        NotPlanned {
            case: case.into(),
            reason: reason.into(),
            target: None,
            kind: None,
            blocker: false,
        }
    }
    /// This, with its kind and whether the case is a blocker.
    pub fn of(mut self, kind: NotPlannedKind, blocker: bool) -> Self {
        self.kind = Some(kind);
        self.blocker = blocker;
        self
    }
    /// Whether leaving it out keeps the run from certifying: a blocker excluded or with an
    /// unmet requirement.
    pub fn leaves_open(&self) -> bool {
        self.blocker
            && matches!(
                self.kind,
                Some(NotPlannedKind::Excluded | NotPlannedKind::Unmet)
            )
    }
    /// `case` or `case::target`.
    pub fn name(&self) -> String {
        match &self.target {
            Some(t) => format!("{}::{t}", self.case),
            None => self.case.clone(),
        }
    }
}

/// The stressor a stress case is (`cpu::stress` → `cpu`), for the per-stressor settings.
pub fn stressor_of(case: &str) -> Option<&'static str> {
    ["cpu", "memory", "storage"]
        .into_iter()
        .find(|s| case.strip_prefix(s) == Some("::stress"))
}

impl Plan {
    /// The options one instance runs with: the plan's, with `stress_seconds` set to this
    /// stressor's length for `cpu::stress`, `memory::stress` and `storage::stress` (from the
    /// settings `stress.cpu_seconds`, `stress.memory_seconds`, `stress.storage_seconds`; memory
    /// given in passes has `stress.memory_passes` and no `stress_seconds`).
    pub fn run_options(&self, inst: &PlannedInstance) -> RunOptions {
        let mut o = self.options.clone();
        if let Some(s) = stressor_of(&inst.case) {
            o.stress_seconds = o
                .settings
                .get(&format!("stress.{s}_seconds"))
                .and_then(|v| v.parse().ok());
        }
        o
    }
}

/// The log cap of a profile that sets none: 4 MiB of output per attempt of an instance.
pub const DEFAULT_LOG_CAP_BYTES: u64 = 4 << 20;
/// The smallest log cap a profile may set (64 KiB).
pub const MIN_LOG_CAP_BYTES: u64 = 64 << 10;
/// The largest log cap a profile may set (256 MiB: half of it is held in memory while the
/// instance runs).
pub const MAX_LOG_CAP_BYTES: u64 = 256 << 20;

fn default_log_cap() -> u64 {
    DEFAULT_LOG_CAP_BYTES
}

/// The schema name of plan.json.
pub const PLAN_SCHEMA: &str = "hwcert.plan/1";

/// The part of the machine a case is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Component {
    System,
    Cpu,
    Memory,
    Pci,
    Storage,
    Network,
    /// GPUs, DCUs and NPUs (`accel::*`).
    #[serde(rename = "accel")]
    Accelerator,
    /// Vendor command cases from a profile.
    Vendor,
}

impl Component {
    pub fn as_str(self) -> &'static str {
        match self {
            Component::System => "system",
            Component::Cpu => "cpu",
            Component::Memory => "memory",
            Component::Pci => "pci",
            Component::Storage => "storage",
            Component::Network => "network",
            Component::Accelerator => "accel",
            Component::Vendor => "vendor",
        }
    }
}

/// Options of a run that cases read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunOptions {
    /// Stress duration per stressor, from the profile.
    pub stress_seconds: Option<u64>,
    /// Devices that destructive cases may write (`--destructive --device`).
    pub destructive_devices: Vec<String>,
    /// Interfaces the profile allows `network::mtu_roundtrip` to change.
    pub mtu_interfaces: Vec<String>,
    /// Free-form profile settings for cases (`[settings]` in a profile file).
    #[serde(default)]
    pub settings: std::collections::BTreeMap<String, String>,
}
