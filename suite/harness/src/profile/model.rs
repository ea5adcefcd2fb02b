//! The resolved profile and its parts: what the planner reads, and where each thing was
//! written (for errors that name the file, the line and the key).

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use cases::{Component, Requirements};
use documents::plan::ProfileSource;

use super::duration::format_duration;
use super::pattern::Pattern;
use super::selector::Selector;

/// The stressors `stress_seconds` sets, and the case each one is.
pub const STRESSORS: [&str; 3] = ["cpu", "memory", "storage"];

/// Where something was written: file, line (1-based) and key (`case[0].timeout`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub key: String,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.key)
    }
}

/// A malformed or missing profile: one line naming the file, and the line and key when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileError {
    pub file: String,
    pub line: Option<usize>,
    pub key: Option<String>,
    pub message: String,
}

impl ProfileError {
    /// An error at a place in a file.
    pub fn at(at: &Location, message: impl Into<String>) -> Self {
        ProfileError {
            file: at.file.clone(),
            line: Some(at.line),
            key: Some(at.key.clone()),
            message: message.into(),
        }
    }
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, &self.key) {
            (Some(l), Some(k)) => write!(f, "{}:{l}: {k}: {}", self.file, self.message),
            (Some(l), None) => write!(f, "{}:{l}: {}", self.file, self.message),
            _ => write!(f, "profile {}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for ProfileError {}

/// A value and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    pub value: T,
    pub at: Location,
}

/// How long one stressor runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StressLength {
    Seconds(u64),
    /// Full passes over memory (memory only).
    Passes(u32),
}

/// The least stress a certification profile runs, as `standard` does: CPU 10 minutes, storage
/// 5 minutes per disk, memory one full pass (or, timed, as long as the CPU). A profile built on
/// `standard` or `full` that shortens one is not a certification profile: a few seconds of
/// stress prove nothing, whatever the chain.
pub const MIN_CERTIFYING_STRESS: [(&str, StressLength); 3] = [
    ("cpu", StressLength::Seconds(600)),
    ("memory", StressLength::Passes(1)),
    ("storage", StressLength::Seconds(300)),
];

impl Stress {
    /// The first stressor shorter than a certification needs, said for people; `None` when
    /// each runs at least [`MIN_CERTIFYING_STRESS`].
    pub fn short_of_certification(&self) -> Option<String> {
        let show = |l: StressLength| match l {
            StressLength::Seconds(s) if s % 60 == 0 => format!("{} min", s / 60),
            StressLength::Seconds(s) => format!("{s} s"),
            StressLength::Passes(1) => "one full pass".into(),
            StressLength::Passes(n) => format!("{n} full passes"),
        };
        for (name, min) in MIN_CERTIFYING_STRESS {
            let Some(have) = self.get(name) else {
                continue; // the case's own default, which is the certification length
            };
            let enough = match (have, min) {
                (StressLength::Seconds(a), StressLength::Seconds(b)) => a >= b,
                (StressLength::Passes(a), StressLength::Passes(b)) => a >= b,
                // Timed memory stress: as long as the CPU's minimum.
                (StressLength::Seconds(a), StressLength::Passes(_)) => a >= 600,
                (StressLength::Passes(_), StressLength::Seconds(_)) => false,
            };
            if !enough {
                let want = if name == "memory" {
                    "one full pass or 10 min".to_string()
                } else {
                    show(min)
                };
                return Some(format!(
                    "its {name} stress runs {} where a certification runs at least {want}",
                    show(have)
                ));
            }
        }
        None
    }
}

/// The length of each stressor; `None` leaves the case at its own default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stress {
    pub cpu: Option<StressLength>,
    pub memory: Option<StressLength>,
    pub storage: Option<StressLength>,
}

impl Stress {
    /// The length of one stressor (`cpu`, `memory`, `storage`).
    pub fn get(&self, stressor: &str) -> Option<StressLength> {
        match stressor {
            "cpu" => self.cpu,
            "memory" => self.memory,
            "storage" => self.storage,
            _ => None,
        }
    }

    pub(super) fn slot(&mut self, stressor: &str) -> Option<&mut Option<StressLength>> {
        match stressor {
            "cpu" => Some(&mut self.cpu),
            "memory" => Some(&mut self.memory),
            "storage" => Some(&mut self.storage),
            _ => None,
        }
    }

    /// The one number of seconds all stressors share, if they do.
    pub fn uniform_seconds(&self) -> Option<u64> {
        match (self.cpu, self.memory, self.storage) {
            (
                Some(StressLength::Seconds(a)),
                Some(StressLength::Seconds(b)),
                Some(StressLength::Seconds(c)),
            ) if a == b && b == c => Some(a),
            _ => None,
        }
    }

    /// "cpu 10m, memory 1 pass, storage 5m per disk".
    pub fn describe(&self) -> String {
        STRESSORS
            .iter()
            .filter_map(|s| {
                let per = if *s == "storage" { " per disk" } else { "" };
                self.get(s).map(|l| match l {
                    StressLength::Seconds(n) => format!("{s} {}{per}", format_duration(n as f64)),
                    StressLength::Passes(1) => format!("{s} 1 pass"),
                    StressLength::Passes(n) => format!("{s} {n} passes"),
                })
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A vendor command case from a profile.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandCase {
    /// `component::case`.
    pub name: String,
    pub component: Component,
    pub purpose: String,
    /// The command and its arguments (a relative path made absolute against the profile file).
    pub argv: Vec<String>,
    pub timeout: Duration,
    pub estimate: Duration,
    pub blocker: bool,
    /// Empty: one machine-wide instance.
    pub applies_to: Vec<Selector>,
    pub requirements: Requirements,
    /// Where `name` was written.
    pub at: Location,
}

/// A `[timeouts]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeoutOverride {
    pub pattern: Pattern,
    pub seconds: u64,
    /// 0 for the profile given, 1 for its parent, …
    pub depth: usize,
    pub at: Location,
}

/// A resolved profile: the built-in or file given, with everything it extends folded in.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// `quick`, `standard`, `full`, or the file's `name` (else its path as given).
    pub name: String,
    pub description: Option<String>,
    /// The profile and what it extends, the given one first ("acme.toml", "standard", "quick").
    pub chain: Vec<String>,
    /// Whether it is a certification profile: `standard`, `full`, or a file whose chain reaches
    /// one of them before any other built-in ([`documents::verdict::CERTIFYING`]).
    pub certifies: bool,
    /// Why a profile whose chain reaches a certification profile still does not certify
    /// (a stressor shorter than [`MIN_CERTIFYING_STRESS`]).
    pub not_certifying: Option<String>,
    /// The file given and its text (absent for a built-in).
    pub source: Option<ProfileSource>,
    pub stress: Stress,
    /// `None`: every case.
    pub include: Option<Vec<Located<Pattern>>>,
    pub exclude: Vec<Located<Pattern>>,
    pub mtu_interfaces: Vec<String>,
    /// `log_cap` in bytes; `None`: the default.
    pub log_cap: Option<u64>,
    pub settings: BTreeMap<String, String>,
    pub timeouts: Vec<TimeoutOverride>,
    pub commands: Vec<CommandCase>,
}

impl Profile {
    /// A profile with nothing in it (what a file without `extends` starts from).
    pub fn empty(name: &str) -> Self {
        Profile {
            name: name.to_string(),
            description: None,
            chain: Vec::new(),
            certifies: false,
            not_certifying: None,
            source: None,
            stress: Stress::default(),
            include: None,
            exclude: Vec::new(),
            mtu_interfaces: Vec::new(),
            log_cap: None,
            settings: BTreeMap::new(),
            timeouts: Vec::new(),
            commands: Vec::new(),
        }
    }

    /// The `[timeouts]` entry for an instance, if any: the most specific match.
    pub fn timeout_for(&self, case: &str, instance: &str) -> Option<&TimeoutOverride> {
        self.timeouts
            .iter()
            .filter_map(|t| {
                let rank = if t.pattern.is_literal() && t.pattern.as_str() == instance {
                    (3, 0)
                } else if t.pattern.is_literal() && t.pattern.as_str() == case {
                    (2, 0)
                } else if t.pattern.matches(instance) || t.pattern.matches(case) {
                    (1, t.pattern.specificity())
                } else {
                    return None;
                };
                Some((rank, std::cmp::Reverse(t.depth), t))
            })
            .max_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)))
            .map(|x| x.2)
    }
}
