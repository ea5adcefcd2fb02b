//! # Profiles
//!
//! A profile says which cases a run holds and how long the stressors run. hwcert has three
//! built-in profiles, written in the same TOML as a user's (`suite/profiles/`):
//!
//! | profile | what |
//! |---|---|
//! | `quick` | every driver and system case, 10 seconds of each stressor; a few minutes |
//! | `standard` | the certification profile: CPU stress 10 minutes, one full memory pass, storage stress 5 minutes per disk |
//! | `full` | a burn-in of hours: CPU stress 2 h, memory stress 1 h, storage stress 30 min per disk |
//!
//! `--profile NAME|FILE`: one of these names, or a TOML file. Every key is optional; an unknown
//! key is an error.
//!
//! ```toml
//! name = "acme-nic"                 # shown in plans and reports (default: the path as given)
//! description = "ACME NIC certification"
//! extends = "standard"              # a built-in, or a file relative to this one ("base.toml")
//!
//! # One duration for every stressor …
//! stress_seconds = 60
//! # … or one per stressor (cpu, memory, storage); the others are inherited. Memory also takes
//! # "pass" or "N passes": full passes over memory, however long they take.
//! stress_seconds = { cpu = "10m", memory = "pass", storage = "5m" }
//!
//! include = ["system::*", "pci::*"]       # only cases (or instances) matching one of these
//! exclude = ["storage::*", "pci::link_not_degraded::0000:3b:00.0"]
//! mtu_interfaces = ["eth1"]               # interfaces network::mtu_roundtrip may change
//! log_cap = "4MiB"                        # the most output an instance's log keeps (per attempt)
//!
//! [settings]                             # free key/values for the cases (strings, numbers, booleans)
//! iperf_server = "10.0.0.2"
//!
//! [timeouts]                             # time limits by case or instance name (globs)
//! "storage::read_verify" = "2h"
//!
//! [[case]]                               # a vendor command case
//! name = "vendor::firmware_check"        # component::case, not a built-in case's name
//! command = ["/opt/vendor/check-fw", "--strict"]
//! timeout = "30s"                        # default 5m
//! estimate = "10s"                       # default 10s (at most the timeout)
//! blocker = true                         # default true: a failure means "not certified"
//! applies_to = "pci:15b3:*"              # optional: one instance per match, else one per machine
//! purpose = "firmware is the certified version"
//! root = true                            # needs root (default false)
//! tools = ["mstflint"]                   # programs that must be on PATH
//! live = true                            # only on the live system, not on a --sysroot snapshot
//! ```
//!
//! * **Durations**: `"30s"`, `"5m"`, `"1h30m"`, `"1h 30m 10s"`, or plain seconds (`90` or `"90"`);
//!   more than 0 and at most 30 days.
//! * **`stress_seconds`** sets the length of the stress cases `cpu::stress`, `memory::stress` and
//!   `storage::stress` (per disk). A single number sets all three. The plan carries each
//!   instance's value (`stress_seconds` or `stress_passes` on the instance, see
//!   [`documents::plan::Plan::run_options`]), `options.stress_seconds` when all three are the same
//!   number of seconds, and the settings `stress.cpu_seconds`, `stress.memory_seconds` or
//!   `stress.memory_passes`, `stress.storage_seconds`. A profile without `extends` and without
//!   `stress_seconds` leaves the stress cases at their own defaults.
//! * **Patterns** (`include`, `exclude`, `[timeouts]` keys) are globs over case names and instance
//!   names: `*` (any run, `::` included), `?`, `[a-z]`, `[!…]`. A pattern matching a case name
//!   takes or leaves the whole case; one matching an instance name (`storage::stress::sdb`) just
//!   that instance. An instance runs when `include` is absent or matches it, and no `exclude`
//!   does: exclude wins.
//! * **`extends`**: the file inherits everything of its parent. `include`, `mtu_interfaces`,
//!   and each stressor replace the parent's; `exclude`, `[timeouts]`, `[settings]` and
//!   `[[case]]` add to it (a setting of the same key replaces the parent's). `name` and
//!   `description` are the file's own, never inherited. Chains may be as deep as 16; a cycle is
//!   an error.
//! * **`log_cap`**: the most output one attempt of an instance keeps in its log, and so in the
//!   report: `"4MiB"`, `"512K"`, `"1G"` (powers of 1024) or plain bytes; from 64 KiB to
//!   256 MiB, default 4 MiB ([`documents::plan::DEFAULT_LOG_CAP_BYTES`]). Past it the log keeps
//!   the first and the last half of the cap, with a line between them saying how many bytes
//!   were dropped; the journal and the report carry the count (`log_dropped_bytes`). An
//!   extending file's value replaces its parent's.
//! * **`[timeouts]`**: the most specific match wins (an exact instance name, then an exact case
//!   name, then the glob with most literal characters; at equal rank, the extending file's).
//!   Without a match, a case keeps its own time limit; a stress case's limit grows with its
//!   length.
//! * **`[[case]]`** command cases run after the built-in cases, parents' first. The command runs
//!   with the instance's target in `$HWCERT_TARGET` (empty for a machine-wide instance); exit 0
//!   passes, 77 skips, anything else fails. A first word with a `/` that is relative is relative
//!   to the profile file; a bare word is looked up on PATH. `applies_to` is one selector or a
//!   list: `pci:VVVV[:DDDD[:SVVV:SDDD]]`, `class:CC[SS[PP]]`, `driver:NAME`, `disk:NAME`,
//!   `net:NAME` (each part a glob; see [`Selector`]); the instance is then named
//!   `vendor::firmware_check::0000:3b:00.0`. The component is the name's first part when it is
//!   one of hwcert's (`pci`, `storage`, …), else `vendor`.
//!
//! Every error in a profile is one line naming the file, the line and the key:
//! `acme.toml:7: case[0].timeout: "30x" is not a duration (write 30s, 5m, 1h30m or plain seconds)`.

mod duration;
mod pattern;
mod selector;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

pub use duration::{format_duration, parse_duration};
pub use pattern::Pattern;
pub use selector::{select, Selector};

use cases::{Component, Requirements};
use documents::plan::ProfileSource;

/// The built-in profiles: name and TOML text.
pub const BUILTIN: [(&str, &str); 3] = [
    ("quick", include_str!("../profiles/quick.toml")),
    ("standard", include_str!("../profiles/standard.toml")),
    ("full", include_str!("../profiles/full.toml")),
];

/// How deep `extends` chains may go.
pub const MAX_DEPTH: usize = 16;

/// Default time limit of a command case.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(300);
/// Default estimate of a command case (at most its time limit).
pub const COMMAND_ESTIMATE: Duration = Duration::from_secs(10);

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

    fn slot(&mut self, stressor: &str) -> Option<&mut Option<StressLength>> {
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

/// Load a profile by built-in name or file path, and check its command cases against the
/// built-in catalog. Errors are [`ProfileError`]s.
pub fn load(spec: &str) -> anyhow::Result<Profile> {
    let p = load_profile(spec)?;
    let names: Vec<String> = cases::catalog()
        .iter()
        .map(|c| c.info().name.clone())
        .collect();
    check_command_names(&p, &names)?;
    Ok(p)
}

/// Load a profile by built-in name or file path (without the catalog check of [`load`]).
pub fn load_profile(spec: &str) -> Result<Profile, ProfileError> {
    let source = if let Some((name, _)) = BUILTIN.iter().find(|(n, _)| *n == spec) {
        Source::Builtin(name)
    } else {
        let p = PathBuf::from(spec);
        if !p.exists() {
            return Err(ProfileError {
                file: spec.to_string(),
                line: None,
                key: None,
                message: format!(
                    "no such profile: not a built-in ({}) and no such file",
                    builtin_names()
                ),
            });
        }
        Source::File(p)
    };
    let mut stack = vec![source.identity()];
    let (mut profile, top) = load_chain(&source, &mut stack)?;
    profile.name = match (&top.name, &source) {
        (Some(n), _) => n.clone(),
        (None, Source::Builtin(n)) => n.to_string(),
        (None, Source::File(_)) => spec.to_string(),
    };
    if let Source::File(p) = &source {
        profile.source = Some(ProfileSource {
            path: std::path::absolute(p)
                .unwrap_or_else(|_| p.clone())
                .display()
                .to_string(),
            text: top.text.clone(),
        });
    }
    Ok(profile)
}

/// Refuse command cases named like a built-in case.
pub fn check_command_names(p: &Profile, builtin: &[String]) -> Result<(), ProfileError> {
    for c in &p.commands {
        if builtin.contains(&c.name) {
            return Err(ProfileError::at(
                &c.at,
                format!(
                    "\"{}\" is the name of a built-in case: give the command case its own name",
                    c.name
                ),
            ));
        }
    }
    Ok(())
}

fn builtin_names() -> String {
    BUILTIN.iter().map(|b| b.0).collect::<Vec<_>>().join(", ")
}

#[derive(Debug, Clone)]
enum Source {
    Builtin(&'static str),
    File(PathBuf),
}

impl Source {
    fn identity(&self) -> String {
        match self {
            Source::Builtin(n) => format!("built-in {n}"),
            Source::File(p) => std::fs::canonicalize(p)
                .unwrap_or_else(|_| p.clone())
                .display()
                .to_string(),
        }
    }
    fn label(&self) -> String {
        match self {
            Source::Builtin(n) => format!("built-in profile {n}"),
            Source::File(p) => p.display().to_string(),
        }
    }
    fn short(&self) -> String {
        match self {
            Source::Builtin(n) => n.to_string(),
            Source::File(p) => p.display().to_string(),
        }
    }
}

/// What one file says, validated.
struct Layer {
    text: String,
    name: Option<String>,
    description: Option<String>,
    extends: Option<Located<String>>,
    stress: Stress,
    include: Option<Vec<Located<Pattern>>>,
    exclude: Vec<Located<Pattern>>,
    mtu_interfaces: Option<Vec<String>>,
    log_cap: Option<u64>,
    settings: BTreeMap<String, String>,
    timeouts: Vec<TimeoutOverride>,
    commands: Vec<CommandCase>,
}

fn load_chain(source: &Source, stack: &mut Vec<String>) -> Result<(Profile, Layer), ProfileError> {
    let label = source.label();
    let (text, dir) = match source {
        Source::Builtin(n) => {
            let text = BUILTIN
                .iter()
                .find(|b| b.0 == *n)
                .map(|b| b.1)
                .unwrap_or_default();
            (text.to_string(), None)
        }
        Source::File(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| ProfileError {
                file: label.clone(),
                line: None,
                key: None,
                message: format!("cannot read it: {e}"),
            })?;
            let dir = p
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_path_buf();
            (text, Some(dir))
        }
    };
    let layer = parse_layer(&text, &label, dir.as_deref())?;
    let mut base = Profile::empty("");
    if let Some(ext) = &layer.extends {
        let parent = if let Some((n, _)) = BUILTIN.iter().find(|b| b.0 == ext.value) {
            Source::Builtin(n)
        } else {
            let Some(dir) = &dir else {
                return Err(ProfileError::at(
                    &ext.at,
                    format!(
                        "a built-in profile extends only built-ins ({})",
                        builtin_names()
                    ),
                ));
            };
            let p = dir.join(&ext.value);
            if !p.is_file() {
                return Err(ProfileError::at(
                    &ext.at,
                    format!(
                        "\"{}\" is not a built-in profile ({}) and {} is no file",
                        ext.value,
                        builtin_names(),
                        p.display()
                    ),
                ));
            }
            Source::File(p)
        };
        let id = parent.identity();
        if let Some(i) = stack.iter().position(|s| *s == id) {
            let mut cycle: Vec<String> = stack[i..].to_vec();
            cycle.push(id);
            return Err(ProfileError::at(
                &ext.at,
                format!("extends itself: {}", cycle.join(" → ")),
            ));
        }
        if stack.len() >= MAX_DEPTH {
            return Err(ProfileError::at(
                &ext.at,
                format!("more than {MAX_DEPTH} profiles extend one another"),
            ));
        }
        stack.push(id);
        base = load_chain(&parent, stack)?.0;
        stack.pop();
    }
    let profile = merge(base, &layer, source.short())?;
    Ok((profile, layer))
}

fn merge(mut p: Profile, l: &Layer, short: String) -> Result<Profile, ProfileError> {
    p.chain.insert(0, short);
    // A description says what its own file does: never inherited.
    p.description = l.description.clone();
    for s in STRESSORS {
        if let (Some(v), Some(slot)) = (l.stress.get(s), p.stress.slot(s)) {
            *slot = Some(v);
        }
    }
    if l.include.is_some() {
        p.include = l.include.clone();
    }
    p.exclude.extend(l.exclude.iter().cloned());
    if let Some(m) = &l.mtu_interfaces {
        p.mtu_interfaces = m.clone();
    }
    if l.log_cap.is_some() {
        p.log_cap = l.log_cap;
    }
    p.settings
        .extend(l.settings.iter().map(|(k, v)| (k.clone(), v.clone())));
    for t in &mut p.timeouts {
        t.depth += 1;
    }
    p.timeouts.extend(l.timeouts.iter().cloned());
    for c in &l.commands {
        if let Some(prev) = p.commands.iter().find(|x| x.name == c.name) {
            return Err(ProfileError::at(
                &c.at,
                format!(
                    "case \"{}\" is already defined by {}:{}",
                    c.name, prev.at.file, prev.at.line
                ),
            ));
        }
        p.commands.push(c.clone());
    }
    Ok(p)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: Option<String>,
    description: Option<String>,
    extends: Option<String>,
    stress_seconds: Option<toml::Value>,
    include: Option<Vec<String>>,
    exclude: Option<Vec<String>>,
    mtu_interfaces: Option<Vec<String>>,
    log_cap: Option<toml::Value>,
    settings: Option<BTreeMap<String, toml::Value>>,
    timeouts: Option<BTreeMap<String, toml::Value>>,
    #[serde(default)]
    case: Vec<RawCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    name: String,
    command: Vec<String>,
    purpose: Option<String>,
    timeout: Option<toml::Value>,
    estimate: Option<toml::Value>,
    blocker: Option<bool>,
    applies_to: Option<toml::Value>,
    root: Option<bool>,
    tools: Option<Vec<String>>,
    live: Option<bool>,
}

/// One segment of a key path.
#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

fn render_path(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                if !k.is_empty()
                    && k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                {
                    s.push_str(k);
                } else {
                    s.push_str(&format!("{k:?}"));
                }
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

fn line_of(text: &str, pos: usize) -> usize {
    let pos = pos.min(text.len());
    text.as_bytes()[..pos]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The key path of the narrowest key or value whose span holds `pos`.
fn path_at(doc: &DeTable<'_>, pos: usize) -> Vec<Seg> {
    fn walk_table(
        t: &DeTable<'_>,
        pos: usize,
        path: &mut Vec<Seg>,
        best: &mut Option<(usize, Vec<Seg>)>,
    ) {
        for (k, v) in t.iter() {
            path.push(Seg::Key(k.get_ref().to_string()));
            for span in [k.span(), v.span()] {
                if span.contains(&pos) || (span.is_empty() && span.start == pos) {
                    let len = span.len();
                    if best.as_ref().is_none_or(|b| len <= b.0) {
                        *best = Some((len, path.clone()));
                    }
                }
            }
            walk_value(v, pos, path, best);
            path.pop();
        }
    }
    fn walk_value(
        v: &Spanned<DeValue<'_>>,
        pos: usize,
        path: &mut Vec<Seg>,
        best: &mut Option<(usize, Vec<Seg>)>,
    ) {
        match v.get_ref() {
            DeValue::Table(t) => walk_table(t, pos, path, best),
            DeValue::Array(a) => {
                for (i, e) in a.iter().enumerate() {
                    path.push(Seg::Index(i));
                    let span = e.span();
                    if span.contains(&pos) && best.as_ref().is_none_or(|b| span.len() <= b.0) {
                        *best = Some((span.len(), path.clone()));
                    }
                    walk_value(e, pos, path, best);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut best = None;
    walk_table(doc, pos, &mut Vec::new(), &mut best);
    best.map(|b| b.1).unwrap_or_default()
}

/// Where the key path was written (its key, or its array element).
fn locate(doc: &DeTable<'_>, path: &[Seg]) -> Option<usize> {
    let mut table = doc;
    let mut value: Option<&Spanned<DeValue<'_>>> = None;
    let mut at = None;
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if let Some(v) = value {
                    table = v.get_ref().as_table()?;
                }
                let (key, v) = table.iter().find(|(key, _)| key.get_ref() == k)?;
                at = Some(key.span().start);
                value = Some(v);
            }
            Seg::Index(i) => {
                let e = value?.get_ref().as_array()?.get(*i)?;
                at = Some(e.span().start);
                value = Some(e);
            }
        }
    }
    at
}

/// The key a syntax error sits at: the `key =` of its line under the table header above it.
fn guess_key(text: &str, line: usize) -> String {
    let mut table = String::new();
    for (i, l) in text.lines().enumerate().take(line) {
        let t = l.trim();
        if t.starts_with('[') {
            let name = t.trim_start_matches('[');
            let name = name.split(']').next().unwrap_or("").trim();
            table = name.to_string();
            if i + 1 == line {
                return if table.is_empty() {
                    "(table header)".into()
                } else {
                    table
                };
            }
        } else if i + 1 == line {
            if let Some((k, _)) = t.split_once('=') {
                let k = k.trim();
                if !k.is_empty() {
                    return if table.is_empty() {
                        k.to_string()
                    } else {
                        format!("{table}.{k}")
                    };
                }
            }
        }
    }
    if table.is_empty() {
        "(top level)".into()
    } else {
        table
    }
}

/// One line from a possibly multi-line message.
fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

struct Ctx<'a> {
    doc: &'a DeTable<'a>,
    text: &'a str,
    file: &'a str,
}

impl Ctx<'_> {
    fn at(&self, path: &[Seg]) -> Location {
        // The nearest written ancestor when the path itself is not in the file.
        let mut line = 1;
        for n in (0..=path.len()).rev() {
            if let Some(pos) = locate(self.doc, &path[..n]) {
                line = line_of(self.text, pos);
                break;
            }
        }
        Location {
            file: self.file.to_string(),
            line,
            key: render_path(path),
        }
    }
    fn err(&self, path: &[Seg], msg: impl Into<String>) -> ProfileError {
        ProfileError::at(&self.at(path), msg)
    }
}

fn k(s: &str) -> Seg {
    Seg::Key(s.to_string())
}

/// Parse and check one profile file.
fn parse_layer(text: &str, file: &str, dir: Option<&Path>) -> Result<Layer, ProfileError> {
    let doc = match DeTable::parse(text) {
        Ok(d) => d,
        Err(e) => {
            let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(1);
            return Err(ProfileError {
                file: file.to_string(),
                line: Some(line),
                key: Some(guess_key(text, line)),
                message: format!("not valid TOML: {}", one_line(e.message())),
            });
        }
    };
    let raw: RawProfile = match toml::from_str(text) {
        Ok(r) => r,
        Err(e) => {
            let pos = e.span().map(|s| s.start).unwrap_or(0);
            let mut path = path_at(doc.get_ref(), pos);
            let msg = one_line(e.message())
                .replace("expected a sequence", "expected a list ([…])")
                .replace("expected a map", "expected a table");
            // "missing field `command`": the table is where it is missing from.
            let line = locate(doc.get_ref(), &path)
                .map(|p| line_of(text, p))
                .unwrap_or_else(|| line_of(text, pos));
            if let Some(f) = msg
                .strip_prefix("missing field `")
                .and_then(|m| m.strip_suffix('`'))
            {
                path.push(k(f));
            }
            let key = if path.is_empty() {
                guess_key(text, line)
            } else {
                render_path(&path)
            };
            return Err(ProfileError {
                file: file.to_string(),
                line: Some(line),
                key: Some(key),
                message: msg,
            });
        }
    };
    let ctx = Ctx {
        doc: doc.get_ref(),
        text,
        file,
    };
    check_layer(&ctx, raw, text, dir)
}

fn check_layer(
    ctx: &Ctx<'_>,
    raw: RawProfile,
    text: &str,
    dir: Option<&Path>,
) -> Result<Layer, ProfileError> {
    if let Some(n) = &raw.name {
        if n.trim().is_empty() || n.contains(['\n', '\r']) {
            return Err(ctx.err(&[k("name")], "a profile's name is one non-empty line"));
        }
    }
    let extends = match raw.extends {
        Some(e) if e.trim().is_empty() => {
            return Err(ctx.err(&[k("extends")], "names no profile"));
        }
        Some(e) => Some(Located {
            value: e,
            at: ctx.at(&[k("extends")]),
        }),
        None => None,
    };
    let stress = match &raw.stress_seconds {
        Some(v) => stress(ctx, v)?,
        None => Stress::default(),
    };
    let patterns = |key: &str, list: &Option<Vec<String>>| -> Result<_, ProfileError> {
        let Some(list) = list else { return Ok(None) };
        let mut out = Vec::new();
        for (i, p) in list.iter().enumerate() {
            let path = [k(key), Seg::Index(i)];
            let pat = Pattern::name(p).map_err(|e| ctx.err(&path, e))?;
            out.push(Located {
                value: pat,
                at: ctx.at(&path),
            });
        }
        Ok(Some(out))
    };
    let include = patterns("include", &raw.include)?;
    let exclude = patterns("exclude", &raw.exclude)?.unwrap_or_default();
    if let Some(list) = &raw.mtu_interfaces {
        for (i, n) in list.iter().enumerate() {
            let ok = !n.is_empty()
                && n.len() <= 15
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@'));
            if !ok {
                return Err(ctx.err(
                    &[k("mtu_interfaces"), Seg::Index(i)],
                    format!("\"{n}\" is not an interface name"),
                ));
            }
        }
    }
    let log_cap = raw.log_cap.as_ref().map(|v| log_cap(ctx, v)).transpose()?;
    let mut settings = BTreeMap::new();
    for (key, v) in raw.settings.iter().flatten() {
        let path = [k("settings"), k(key)];
        if key.starts_with("stress.") {
            return Err(ctx.err(
                &path,
                "settings beginning with \"stress.\" are hwcert's, from stress_seconds",
            ));
        }
        let s = match v {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => {
                return Err(ctx.err(
                    &path,
                    format!(
                        "a setting is a string, a number or a boolean, not {}",
                        other.type_str()
                    ),
                ))
            }
        };
        settings.insert(key.clone(), s);
    }
    let mut timeouts = Vec::new();
    for (key, v) in raw.timeouts.iter().flatten() {
        let path = [k("timeouts"), k(key)];
        let pattern = Pattern::name(key).map_err(|e| ctx.err(&path, e))?;
        let seconds = duration_value(ctx, &path, v)?;
        timeouts.push(TimeoutOverride {
            pattern,
            seconds,
            depth: 0,
            at: ctx.at(&path),
        });
    }
    let mut commands: Vec<CommandCase> = Vec::new();
    for (i, c) in raw.case.into_iter().enumerate() {
        let cmd = command_case(ctx, i, c, dir)?;
        if let Some(prev) = commands.iter().find(|p| p.name == cmd.name) {
            return Err(ProfileError::at(
                &cmd.at,
                format!(
                    "case \"{}\" is defined twice (first at line {})",
                    cmd.name, prev.at.line
                ),
            ));
        }
        commands.push(cmd);
    }
    Ok(Layer {
        text: text.to_string(),
        name: raw.name,
        description: raw.description,
        extends,
        stress,
        include,
        exclude,
        mtu_interfaces: raw.mtu_interfaces,
        log_cap,
        settings,
        timeouts,
        commands,
    })
}

/// `log_cap`: a size (`"4MiB"`, `"512K"`) or plain bytes, within the bounds of the plan's.
fn log_cap(ctx: &Ctx<'_>, v: &toml::Value) -> Result<u64, ProfileError> {
    use documents::plan::{MAX_LOG_CAP_BYTES, MIN_LOG_CAP_BYTES};
    let path = [k("log_cap")];
    let (shown, n) = match v {
        toml::Value::Integer(i) => (i.to_string(), u64::try_from(*i).ok()),
        toml::Value::String(s) => (format!("\"{s}\""), cases::stress::parse_size(s)),
        other => {
            return Err(ctx.err(
                &path,
                format!(
                    "expected a size (\"4MiB\", \"512K\") or a number of bytes, not {}",
                    other.type_str()
                ),
            ))
        }
    };
    let range = format!(
        "the log cap is from {} to {}",
        hwsys::units::iec(MIN_LOG_CAP_BYTES),
        hwsys::units::iec(MAX_LOG_CAP_BYTES)
    );
    match n {
        Some(n) if (MIN_LOG_CAP_BYTES..=MAX_LOG_CAP_BYTES).contains(&n) => Ok(n),
        Some(n) => Err(ctx.err(
            &path,
            format!("{shown} is {}: {range}", hwsys::units::iec(n)),
        )),
        None => Err(ctx.err(
            &path,
            format!("{shown} is not a size (write 4MiB, 512K or plain bytes): {range}"),
        )),
    }
}

fn duration_value(ctx: &Ctx<'_>, path: &[Seg], v: &toml::Value) -> Result<u64, ProfileError> {
    match v {
        toml::Value::Integer(i) => {
            let s = i.to_string();
            parse_duration(&s).map_err(|e| ctx.err(path, e))
        }
        toml::Value::String(s) => parse_duration(s).map_err(|e| ctx.err(path, e)),
        other => Err(ctx.err(
            path,
            format!(
                "expected a duration (\"30s\", \"5m\", \"1h30m\") or seconds, not {}",
                other.type_str()
            ),
        )),
    }
}

fn stress_length(
    ctx: &Ctx<'_>,
    path: &[Seg],
    v: &toml::Value,
    memory: bool,
) -> Result<StressLength, ProfileError> {
    if let toml::Value::String(s) = v {
        let t = s.trim();
        let passes = if t == "pass" {
            Some(Ok(1))
        } else {
            t.strip_suffix(" passes")
                .or_else(|| t.strip_suffix(" pass"))
                .map(|n| n.trim().parse::<u32>())
        };
        if let Some(n) = passes {
            if !memory {
                return Err(ctx.err(
                    path,
                    "only memory stress runs in passes; give the others a duration",
                ));
            }
            return match n {
                Ok(n @ 1..=100) => Ok(StressLength::Passes(n)),
                _ => Err(ctx.err(path, format!("\"{s}\": from 1 to 100 passes"))),
            };
        }
    }
    duration_value(ctx, path, v).map(StressLength::Seconds)
}

fn stress(ctx: &Ctx<'_>, v: &toml::Value) -> Result<Stress, ProfileError> {
    let base = [k("stress_seconds")];
    let mut out = Stress::default();
    match v {
        toml::Value::Table(t) => {
            for (name, v) in t {
                let path = [k("stress_seconds"), k(name)];
                let Some(slot) = out.slot(name) else {
                    return Err(ctx.err(
                        &path,
                        format!(
                            "no stressor \"{name}\": the stressors are cpu, memory and storage"
                        ),
                    ));
                };
                *slot = Some(stress_length(ctx, &path, v, name == "memory")?);
            }
        }
        v => {
            let n = stress_length(ctx, &base, v, false)?;
            out.cpu = Some(n);
            out.memory = Some(n);
            out.storage = Some(n);
        }
    }
    Ok(out)
}

fn component_of(prefix: &str) -> Component {
    match prefix {
        "system" => Component::System,
        "cpu" => Component::Cpu,
        "memory" => Component::Memory,
        "pci" => Component::Pci,
        "storage" => Component::Storage,
        "network" => Component::Network,
        _ => Component::Vendor,
    }
}

fn command_case(
    ctx: &Ctx<'_>,
    i: usize,
    c: RawCase,
    dir: Option<&Path>,
) -> Result<CommandCase, ProfileError> {
    let p = |key: &str| [k("case"), Seg::Index(i), k(key)];
    let part_ok = |s: &str| {
        s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    let component = match c.name.split_once("::") {
        Some((a, b)) if part_ok(a) && part_ok(b) => component_of(a),
        _ => {
            return Err(ctx.err(
                &p("name"),
                format!(
                    "\"{}\" is not a case name: write component::case in lower-case letters, \
                     digits and _ (vendor::firmware_check)",
                    c.name
                ),
            ))
        }
    };
    if c.command.is_empty() || c.command[0].trim().is_empty() {
        return Err(ctx.err(
            &p("command"),
            "an empty command: give the program and its arguments",
        ));
    }
    if c.command.iter().any(|a| a.contains('\0')) {
        return Err(ctx.err(&p("command"), "a command argument holds a NUL character"));
    }
    let mut argv = c.command;
    if argv[0].contains('/') && !argv[0].starts_with('/') {
        if let Some(dir) = dir {
            let abs =
                std::path::absolute(dir.join(&argv[0])).unwrap_or_else(|_| dir.join(&argv[0]));
            argv[0] = abs.display().to_string();
        }
    }
    let timeout = match &c.timeout {
        Some(v) => Duration::from_secs(duration_value(ctx, &p("timeout"), v)?),
        None => COMMAND_TIMEOUT,
    };
    let estimate = match &c.estimate {
        Some(v) => {
            let e = Duration::from_secs(duration_value(ctx, &p("estimate"), v)?);
            if e > timeout {
                return Err(ctx.err(
                    &p("estimate"),
                    format!(
                        "the estimate ({}) is longer than the timeout ({})",
                        format_duration(e.as_secs_f64()),
                        format_duration(timeout.as_secs_f64())
                    ),
                ));
            }
            e
        }
        None => COMMAND_ESTIMATE.min(timeout),
    };
    let applies_to = match &c.applies_to {
        None => Vec::new(),
        Some(toml::Value::String(s)) => {
            vec![Selector::parse(s).map_err(|e| ctx.err(&p("applies_to"), e))?]
        }
        Some(toml::Value::Array(a)) if !a.is_empty() => {
            let mut out = Vec::new();
            for (j, v) in a.iter().enumerate() {
                let path = [k("case"), Seg::Index(i), k("applies_to"), Seg::Index(j)];
                let Some(s) = v.as_str() else {
                    return Err(ctx.err(&path, "a selector is a string (\"pci:15b3:*\")"));
                };
                out.push(Selector::parse(s).map_err(|e| ctx.err(&path, e))?);
            }
            out
        }
        Some(toml::Value::Array(_)) => {
            return Err(ctx.err(
                &p("applies_to"),
                "an empty list: leave applies_to out for one machine-wide instance",
            ))
        }
        Some(other) => {
            return Err(ctx.err(
                &p("applies_to"),
                format!(
                    "expected a selector (\"pci:15b3:*\") or a list of them, not {}",
                    other.type_str()
                ),
            ))
        }
    };
    let tools = c.tools.unwrap_or_default();
    for (j, t) in tools.iter().enumerate() {
        if t.is_empty() || t.contains('/') || t.chars().any(char::is_whitespace) {
            return Err(ctx.err(
                &[k("case"), Seg::Index(i), k("tools"), Seg::Index(j)],
                format!("\"{t}\" is not a program name (looked up on PATH)"),
            ));
        }
    }
    let purpose = c
        .purpose
        .unwrap_or_else(|| format!("vendor command: {}", argv.join(" ")));
    Ok(CommandCase {
        name: c.name,
        component,
        purpose,
        argv,
        timeout,
        estimate,
        blocker: c.blocker.unwrap_or(true),
        applies_to,
        requirements: Requirements {
            root: c.root.unwrap_or(false),
            destructive: false,
            tools,
            min_memory_bytes: None,
            live: c.live.unwrap_or(false),
        },
        at: ctx.at(&p("name")),
    })
}
