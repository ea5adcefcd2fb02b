//! The case interface: what a case is ([`CaseInfo`], [`Requirements`]), what it applies to
//! ([`Target`], [`Selection`]), what it sees and records while it runs ([`Context`]), and the
//! [`Case`] trait itself.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use documents::measure::{Measurement, Threshold};
use documents::outcome::{Disruption, Outcome, Verdict};
use documents::plan::{Component, RunOptions};
use inventory::Inventory;

use crate::machine::{LiveMachine, Machine};

/// What an instance needs before it can run at all.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Requirements {
    /// Needs root (effective uid 0).
    pub root: bool,
    /// Writes to a device: ignored unless `--destructive --device` names its target.
    pub destructive: bool,
    /// Programs that must be on PATH.
    pub tools: Vec<String>,
    /// At least this much MemTotal.
    pub min_memory_bytes: Option<u64>,
    /// Runs only on the live system (not on a recorded sysroot).
    pub live: bool,
    /// Takes the machine down (reboots, crashes or power-cycles it): planned only when the
    /// profile turns on this setting and the command line says `--allow-reboot`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disruptive: Option<String>,
    /// Takes the machine down only when the profile turns on this setting; then it needs
    /// `--allow-reboot` too (`system::watchdog_reset` with `watchdog.disruptive`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disruptive_when: Option<String>,
}

/// What a case is: everything the planner shows without running it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseInfo {
    /// `component::case`.
    pub name: String,
    /// One line: what it proves.
    pub purpose: String,
    pub component: Component,
    pub requirements: Requirements,
    /// Default time limit of one instance.
    #[serde(with = "duration_secs")]
    pub timeout: Duration,
    /// Expected duration of one instance (for the plan's estimate).
    #[serde(with = "duration_secs")]
    pub estimate: Duration,
    /// A failed blocker means "not certified"; an advisory case only warns.
    pub blocker: bool,
}

/// One item a case applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// The instance-name suffix: a PCI address, a block device, an interface; `None` for a
    /// machine-wide case.
    pub id: Option<String>,
    /// Human description ("Broadcom MegaRAID 9560-16i", "eth0 (virtio_net)").
    pub label: Option<String>,
}

impl Target {
    /// The whole machine.
    pub fn machine() -> Self {
        Target {
            id: None,
            label: None,
        }
    }
    /// One item.
    pub fn item(id: impl Into<String>, label: Option<String>) -> Self {
        Target {
            id: Some(id.into()),
            label,
        }
    }
}

/// What a selector found.
#[derive(Debug, Clone, PartialEq)]
pub enum Selection {
    /// One instance per target.
    Targets(Vec<Target>),
    /// The case does not apply to this machine, and why ("no NVMe controller").
    NotApplicable(String),
}

/// Everything a running case can see and record.
pub struct Context<'a> {
    /// The machine as probed (for a live run, the live inventory).
    pub inventory: &'a Inventory,
    /// Where the machine's files are read from (`/` on the live system).
    pub sysroot: hwsys::Sysroot,
    /// The instance's target.
    pub target: &'a Target,
    pub options: &'a RunOptions,
    /// Whether the run has root.
    pub is_root: bool,
    measurements: Vec<Measurement>,
    log: Box<dyn std::io::Write + 'a>,
    machine: Arc<dyn Machine>,
    run: Option<(PathBuf, String)>,
    disrupt: Option<Disruption>,
}

impl<'a> Context<'a> {
    /// A context; `log` receives the case's log lines (the worker's log file, a buffer in tests).
    pub fn new(
        inventory: &'a Inventory,
        sysroot: impl Into<PathBuf>,
        target: &'a Target,
        options: &'a RunOptions,
        is_root: bool,
        log: Box<dyn std::io::Write + 'a>,
    ) -> Self {
        Context {
            inventory,
            sysroot: hwsys::Sysroot::new(sysroot.into()),
            target,
            options,
            is_root,
            measurements: Vec::new(),
            log,
            machine: Arc::new(LiveMachine),
            run: None,
            disrupt: None,
        }
    }

    /// The machine a disruptive case acts on (this one unless a test gave another).
    pub fn with_machine(mut self, m: Arc<dyn Machine>) -> Self {
        self.machine = m;
        self
    }

    /// The run directory and the instance's name, for a case that keeps state across boots.
    pub fn with_run(mut self, dir: impl Into<PathBuf>, instance: impl Into<String>) -> Self {
        self.run = Some((dir.into(), instance.into()));
        self
    }

    /// The machine disruptive cases act on.
    pub fn machine(&self) -> Arc<dyn Machine> {
        Arc::clone(&self.machine)
    }

    /// The run directory (absent when the case runs outside a run, in a unit test).
    pub fn run_dir(&self) -> Option<&Path> {
        self.run.as_ref().map(|(d, _)| d.as_path())
    }

    /// The file this instance keeps its state in across boots
    /// (`casestate/<instance>.json` in the run directory).
    pub fn state_file(&self) -> Option<PathBuf> {
        self.run
            .as_ref()
            .map(|(d, i)| documents::rundir::case_state_path(d, i))
    }

    /// Ask the supervisor to take the machine down once this instance's outcome is in; the
    /// instance runs again on the next boot.
    pub fn disrupt(&mut self, d: Disruption) {
        self.disrupt = Some(d);
    }

    /// One line of the instance's log.
    pub fn log(&mut self, line: impl AsRef<str>) {
        let _ = writeln!(self.log, "{}", line.as_ref());
        let _ = self.log.flush();
    }

    /// Record a measurement.
    pub fn measure(&mut self, name: &str, value: f64, unit: &str) {
        self.measurements.push(Measurement {
            name: name.into(),
            value,
            unit: unit.into(),
            threshold: None,
        });
    }

    /// Record a measurement judged against a threshold (`op` is `>=`, `<=` or `==`); returns
    /// whether it holds.
    pub fn judge(&mut self, name: &str, value: f64, unit: &str, op: &str, limit: f64) -> bool {
        let ok = match op {
            ">=" => value >= limit,
            "<=" => value <= limit,
            "==" => value == limit,
            ">" => value > limit,
            "<" => value < limit,
            _ => false,
        };
        self.measurements.push(Measurement {
            name: name.into(),
            value,
            unit: unit.into(),
            threshold: Some(Threshold {
                op: op.into(),
                value: limit,
            }),
        });
        ok
    }

    /// Whether this run reads the running system (sysroot `/`): only then may a case open
    /// device nodes, issue ioctls or run tools.
    pub fn is_live(&self) -> bool {
        self.sysroot.is_live()
    }

    /// The target's id (`None` for a machine-wide instance).
    pub fn target_id(&self) -> Option<&str> {
        self.target.id.as_deref()
    }

    /// The measurements so far.
    pub fn measurements(&self) -> &[Measurement] {
        &self.measurements
    }

    /// Finish: the outcome with everything measured.
    pub fn finish(self, verdict: Verdict) -> Outcome {
        Outcome {
            verdict,
            measurements: self.measurements,
            leaked: false,
            disrupt: self.disrupt,
        }
    }
}

/// One certification check.
pub trait Case: Send + Sync {
    /// Name, purpose, component, requirements, timeout, blocker.
    fn info(&self) -> &CaseInfo;
    /// The inventory items it applies to.
    fn select(&self, inv: &Inventory) -> Selection;
    /// The inventory items it applies to under a run's options. Only cases whose targets
    /// depend on the profile (`network::mtu_roundtrip` and its `mtu_interfaces`) override it;
    /// a planner that knows the options calls this one.
    fn select_with(&self, inv: &Inventory, options: &RunOptions) -> Selection {
        let _ = options;
        self.select(inv)
    }
    /// Check one instance.
    fn run(&self, ctx: &mut Context<'_>) -> Verdict;
}

/// The instance name of a case on a target: `case` or `case::target`. A target ID comes
/// from the machine (an interface or disk name, or a crafted snapshot's): its control
/// characters are escaped, so the name is safe in every output that prints it.
pub fn instance_name(case: &str, target: &Target) -> String {
    match &target.id {
        Some(id) => format!("{case}::{}", hwsys::text::escape_controls(id)),
        None => case.to_string(),
    }
}

mod duration_secs {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let v = f64::deserialize(d)?;
        if !(0.0..=1e9).contains(&v) {
            return Err(serde::de::Error::custom("duration out of range"));
        }
        Ok(Duration::from_secs_f64(v))
    }
}
