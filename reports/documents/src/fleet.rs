//! The fleet view, `hwcert.fleet/1`: many machines' reports compared, to find the one server of
//! fifty that differs from its peers (`hwcert compare`, `hwcert hwdb fleet`).
//!
//! Machines are grouped by model (DMI system vendor and product; without DMI, the CPU model
//! and architecture: [`crate::fleetinv::model`]). Within a group of two or more:
//!
//! - **inventory**: each attribute of [`crate::fleetinv::ATTRIBUTES`] gets the value most
//!   machines share (the majority; on a tie the first of the most common values in sorted order,
//!   with `tie` set) and the machines whose value differs, with the items a list attribute
//!   (DIMMs, PCI functions, disks) lacks or has beyond the majority's;
//! - **measurements**: every finite measurement of an instance that ran (pass or fail) whose
//!   direction is known ([`better`]), matched across machines by instance name (`case::target`)
//!   and key, gets the group's median; a machine is an outlier when its value is more than the
//!   threshold (percent of the median) worse than the median: below it where higher is better
//!   (bandwidth, IOPS, throughput), above it where lower is better (latency, durations).
//!
//! A group of one machine has nothing to compare against and says so (`note`). The document
//! also lists every input and what became of it (verified, signed, unsigned, or left out with
//! the reason). Its JSON Schema is `reports/schema/fleet.schema.json` ([`crate::schema`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::fleetinv::{self, AttrValue};
use crate::report::Report;
use crate::status::Status;

/// The schema name and version of the fleet view.
pub const SCHEMA: &str = "hwcert.fleet/1";

/// How far (percent of the group's median) a figure may be worse before it is an outlier.
pub const DEFAULT_THRESHOLD_PCT: f64 = 10.0;

/// The whole view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fleet {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// The outlier threshold, percent of the median.
    pub threshold_pct: f64,
    /// Every input, in the order given, and what became of it.
    pub inputs: Vec<Input>,
    /// The models, most machines first.
    pub groups: Vec<Group>,
    pub totals: Totals,
}

/// One report given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Input {
    /// The path as given (a report directory or a report.json).
    pub source: String,
    /// The machine's name in the view, when the report was compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine: Option<String>,
    pub signature: Signature,
    /// Whether the report is in the comparison.
    pub included: bool,
    /// What was found: the signature's key, or why the report was left out.
    pub detail: String,
}

/// What the signature beside a report said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signature {
    /// Good, by a key the allowed_signers file admits.
    Verified,
    /// Good, by a key that was not checked (no allowed_signers file was given).
    Signed,
    /// No signature beside the report: compared, and marked.
    Unsigned,
    /// The signature does not hold or its key is not allowed: left out.
    Failed,
    /// The report could not be read or is not a report: left out.
    Unreadable,
}

impl Signature {
    pub fn as_str(self) -> &'static str {
        match self {
            Signature::Verified => "verified",
            Signature::Signed => "signed",
            Signature::Unsigned => "unsigned",
            Signature::Failed => "failed",
            Signature::Unreadable => "unreadable",
        }
    }
}

/// The machines of one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    /// "Inspur NF5280M5", or "no DMI: CPU (arch)".
    pub model: String,
    /// Whether `model` comes from DMI.
    pub dmi: bool,
    /// The machines, by name.
    pub machines: Vec<String>,
    /// Why nothing is compared (a group of one machine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Every attribute some machine of the group has, in [`fleetinv::ATTRIBUTES`] order.
    pub attributes: Vec<Attribute>,
    /// Every measurement two or more machines of the group have, by instance and key.
    pub measurements: Vec<Figure>,
}

/// One inventory attribute across a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attribute {
    pub key: String,
    pub label: String,
    /// The value most machines share (`null`: most machines do not say).
    pub majority: Option<String>,
    /// How many machines share it.
    pub agree: usize,
    /// Two or more values were equally common: `majority` is the first of them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tie: bool,
    /// The machines whose value is another.
    pub differing: Vec<Differs>,
}

/// A machine whose attribute differs from the majority.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Differs {
    pub machine: String,
    /// Its value (`null`: its inventory does not say).
    pub value: Option<String>,
    /// Items of the majority's list it lacks (a DIMM slot, a PCI function, a disk).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    /// Items it has beyond the majority's list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra: Vec<String>,
}

/// Which way a figure is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    Higher,
    Lower,
}

/// One measurement across a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    /// The instance that measured it (`storage::stress::sda`).
    pub instance: String,
    pub case: String,
    /// The measurement's key (`randread_4k_iops`).
    pub key: String,
    /// For people ([`crate::human::label`]).
    pub label: String,
    pub unit: String,
    pub better: Better,
    pub median: f64,
    /// Each machine that has it, by name.
    pub values: Vec<MachineValue>,
    /// The machines worse than the median by more than the threshold.
    pub outliers: Vec<String>,
}

/// One machine's value of a figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MachineValue {
    pub machine: String,
    pub value: f64,
    /// (value − median) / |median| × 100; `null` when the median is 0.
    pub deviation_pct: Option<f64>,
}

/// Counts over the view.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub inputs: usize,
    /// Reports compared.
    pub machines: usize,
    /// Inputs left out (unreadable, or a signature that does not hold).
    pub left_out: usize,
    /// Compared without a signature.
    pub unsigned: usize,
    pub groups: usize,
    /// Machine–attribute pairs that differ from their group's majority.
    pub differences: usize,
    /// Machine–figure pairs beyond the threshold.
    pub outliers: usize,
}

impl Fleet {
    /// Whether every compared machine agrees with its group and none is an outlier.
    pub fn alike(&self) -> bool {
        self.totals.differences == 0 && self.totals.outliers == 0
    }
}

/// One input to [`compare`]: what was found about it, and its report when it is compared.
pub struct Candidate {
    pub input: Input,
    pub report: Option<Report>,
}

/// Which way `key` (in `unit`) is better, `None` for a figure that is not a performance figure
/// (a count, a size, a temperature, a percentage, a setting): those are not compared.
///
/// Lower is better for times: a unit of µs, us, ns, ms or s, or a key with a `lat` word or
/// ending in `_us`, `_ms`, `_ns` or `_seconds`. Higher is better for rates: a unit ending in
/// `/s` (MB/s, Mb/s, GB/s, GT/s, rounds/s, GFLOP/s) or IOPS, GFLOPS, Mpps, or a key ending in
/// `_iops`, `_mb_s`, `_gb_s`, `_per_s` or `_gflops`.
pub fn better(key: &str, unit: &str) -> Option<Better> {
    let k = key.to_ascii_lowercase();
    let words: Vec<&str> = k.split('_').collect();
    if matches!(unit, "µs" | "us" | "ns" | "ms" | "s")
        || words.contains(&"lat")
        || words.contains(&"latency")
        || ["_us", "_ms", "_ns", "_seconds"]
            .iter()
            .any(|s| k.ends_with(s))
    {
        return Some(Better::Lower);
    }
    if unit.ends_with("/s")
        || matches!(unit, "IOPS" | "GFLOPS" | "Mpps")
        || ["_iops", "_mb_s", "_gb_s", "_per_s", "_gflops"]
            .iter()
            .any(|s| k.ends_with(s))
    {
        return Some(Better::Higher);
    }
    None
}

/// The median of finite values (the mean of the middle two for an even count).
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// The name of a machine: its hostname, else its run directory's name, else the input's path.
fn base_name(r: &Report, source: &str) -> String {
    let host = r.inventory["host"]["hostname"]
        .as_str()
        .map(str::trim)
        .filter(|h| !h.is_empty() && !h.contains("redacted"));
    host.map(str::to_string)
        .or_else(|| Some(r.run.directory.trim().to_string()).filter(|d| !d.is_empty()))
        .unwrap_or_else(|| source.to_string())
}

/// Multiset difference: the items of `a` not matched in `b`.
fn minus(a: &[String], b: &[String]) -> Vec<String> {
    let mut left: Vec<&String> = b.iter().collect();
    let mut out = Vec::new();
    for x in a {
        match left.iter().position(|y| *y == x) {
            Some(i) => {
                left.remove(i);
            }
            None => out.push(x.clone()),
        }
    }
    out
}

fn attributes(members: &[(&str, &Report)]) -> Vec<Attribute> {
    let mut out = Vec::new();
    for (key, label) in fleetinv::ATTRIBUTES {
        let vals: Vec<(&str, Option<AttrValue>)> = members
            .iter()
            .map(|(n, r)| (*n, fleetinv::attribute(&r.inventory, key)))
            .collect();
        if vals.iter().all(|(_, v)| v.is_none()) {
            continue;
        }
        // Count by the text of each value; BTreeMap keeps the first of equal counts in order.
        let mut counts: BTreeMap<Option<String>, usize> = BTreeMap::new();
        for (_, v) in &vals {
            *counts.entry(v.as_ref().map(AttrValue::text)).or_default() += 1;
        }
        let most = counts.values().copied().max().unwrap_or(0);
        let tied = counts.values().filter(|c| **c == most).count() > 1;
        let majority = counts
            .iter()
            .find(|(_, c)| **c == most)
            .and_then(|(k, _)| k.clone());
        let reference = vals
            .iter()
            .find(|(_, v)| v.as_ref().map(AttrValue::text) == majority)
            .and_then(|(_, v)| v.clone());
        let differing = vals
            .iter()
            .filter(|(_, v)| v.as_ref().map(AttrValue::text) != majority)
            .map(|(n, v)| {
                let (missing, extra) = match (&reference, v) {
                    (Some(AttrValue::Items(maj)), Some(AttrValue::Items(mine))) => {
                        (minus(maj, mine), minus(mine, maj))
                    }
                    _ => (Vec::new(), Vec::new()),
                };
                Differs {
                    machine: (*n).to_string(),
                    value: v.as_ref().map(AttrValue::text),
                    missing,
                    extra,
                }
            })
            .collect();
        out.push(Attribute {
            key: (*key).to_string(),
            label: (*label).to_string(),
            majority,
            agree: most,
            tie: tied,
            differing,
        });
    }
    out
}

fn figures(members: &[(&str, &Report)], threshold_pct: f64) -> Vec<Figure> {
    // (instance, key) → (case, unit, better, [(machine, value)]).
    type Row<'a> = (String, String, Better, Vec<(&'a str, f64)>);
    let mut rows: BTreeMap<(String, String), Row> = BTreeMap::new();
    for (name, r) in members {
        for res in &r.results {
            if !matches!(res.status, Status::Pass | Status::Fail) || res.unplanned {
                continue;
            }
            for m in &res.measurements {
                let (Some(v), Some(b)) = (m.finite(), better(&m.name, &m.unit)) else {
                    continue;
                };
                let row = rows
                    .entry((res.name.clone(), m.name.clone()))
                    .or_insert_with(|| (res.case.clone(), m.unit.clone(), b, Vec::new()));
                // A unit that differs between machines is not the same figure: the first wins.
                if row.1 != m.unit {
                    continue;
                }
                match row.3.iter_mut().find(|(n, _)| n == name) {
                    Some(slot) => slot.1 = v,
                    None => row.3.push((name, v)),
                }
            }
        }
    }
    let mut out = Vec::new();
    for ((instance, key), (case, unit, b, vals)) in rows {
        if vals.len() < 2 {
            continue;
        }
        let nums: Vec<f64> = vals.iter().map(|(_, v)| *v).collect();
        let Some(med) = median(&nums) else { continue };
        let dev = |v: f64| (med != 0.0).then(|| (v - med) / med.abs() * 100.0);
        let values: Vec<MachineValue> = vals
            .iter()
            .map(|(n, v)| MachineValue {
                machine: (*n).to_string(),
                value: *v,
                deviation_pct: dev(*v),
            })
            .collect();
        let outliers = values
            .iter()
            .filter(|mv| match (mv.deviation_pct, b) {
                (Some(d), Better::Higher) => d < -threshold_pct,
                (Some(d), Better::Lower) => d > threshold_pct,
                (None, _) => false,
            })
            .map(|mv| mv.machine.clone())
            .collect();
        out.push(Figure {
            label: crate::human::label(&key),
            instance,
            case,
            key,
            unit,
            better: b,
            median: med,
            values,
            outliers,
        });
    }
    out
}

/// Compare the reports of `candidates` (those with a report; the rest are listed as left out).
/// A threshold that is not a finite, non-negative number is taken as the default.
pub fn compare(candidates: Vec<Candidate>, threshold_pct: f64) -> Fleet {
    let threshold_pct = if threshold_pct.is_finite() && threshold_pct >= 0.0 {
        threshold_pct
    } else {
        DEFAULT_THRESHOLD_PCT
    };
    let mut inputs = Vec::with_capacity(candidates.len());
    let mut reports: Vec<(usize, Report)> = Vec::new();
    for (i, c) in candidates.into_iter().enumerate() {
        if let (true, Some(r)) = (c.input.included, c.report) {
            reports.push((i, r));
        }
        inputs.push(c.input);
    }
    // Names: unique, the same for the same inputs.
    let bases: Vec<String> = reports
        .iter()
        .map(|(i, r)| base_name(r, &inputs[*i].source))
        .collect();
    let names: Vec<String> = bases
        .iter()
        .zip(&reports)
        .map(|(b, (i, _))| {
            if bases.iter().filter(|x| *x == b).count() > 1 {
                format!("{b} ({})", inputs[*i].source)
            } else {
                b.clone()
            }
        })
        .collect();
    for ((i, _), n) in reports.iter().zip(&names) {
        inputs[*i].machine = Some(n.clone());
    }
    let mut by_model: BTreeMap<(String, bool), Vec<(&str, &Report)>> = BTreeMap::new();
    for ((_, r), n) in reports.iter().zip(&names) {
        by_model
            .entry(fleetinv::model(&r.inventory))
            .or_default()
            .push((n.as_str(), r));
    }
    let mut groups: Vec<Group> = by_model
        .into_iter()
        .map(|((model, dmi), mut members)| {
            members.sort_by(|a, b| a.0.cmp(b.0));
            let machines = members.iter().map(|(n, _)| (*n).to_string()).collect();
            if members.len() < 2 {
                return Group {
                    model,
                    dmi,
                    machines,
                    note: Some(
                        "only one machine of this model: nothing to compare it against".into(),
                    ),
                    attributes: Vec::new(),
                    measurements: Vec::new(),
                };
            }
            Group {
                model,
                dmi,
                machines,
                note: None,
                attributes: attributes(&members),
                measurements: figures(&members, threshold_pct),
            }
        })
        .collect();
    groups.sort_by(|a, b| {
        b.machines
            .len()
            .cmp(&a.machines.len())
            .then(a.model.cmp(&b.model))
    });
    let totals = Totals {
        inputs: inputs.len(),
        machines: reports.len(),
        left_out: inputs.iter().filter(|i| !i.included).count(),
        unsigned: inputs
            .iter()
            .filter(|i| i.included && i.signature == Signature::Unsigned)
            .count(),
        groups: groups.len(),
        differences: groups
            .iter()
            .flat_map(|g| &g.attributes)
            .map(|a| a.differing.len())
            .sum(),
        outliers: groups
            .iter()
            .flat_map(|g| &g.measurements)
            .map(|f| f.outliers.len())
            .sum(),
    };
    Fleet {
        schema: SCHEMA.into(),
        threshold_pct,
        inputs,
        groups,
        totals,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_way_is_better() {
        assert_eq!(better("randread_4k_iops", "IOPS"), Some(Better::Higher));
        assert_eq!(better("triad_mb_s", "MB/s"), Some(Better::Higher));
        assert_eq!(better("throughput", "Mb/s"), Some(Better::Higher));
        assert_eq!(better("speed", "GT/s"), Some(Better::Higher));
        assert_eq!(better("fma_gflops", "GFLOP/s"), Some(Better::Higher));
        assert_eq!(better("rdma_write_msg_rate", "Mpps"), Some(Better::Higher));
        assert_eq!(better("lat_p99_us", "µs"), Some(Better::Lower));
        assert_eq!(better("rdma_read_lat_avg", "µs"), Some(Better::Lower));
        assert_eq!(better("rtt_avg", "ms"), Some(Better::Lower));
        assert_eq!(better("link_up_seconds", "s"), Some(Better::Lower));
        // Counts, sizes, temperatures and settings are not performance figures.
        assert_eq!(better("bytes_verified", "bytes"), None);
        assert_eq!(better("cpus_tested", "CPUs"), None);
        assert_eq!(better("peak_temperature", "°C"), None);
        assert_eq!(better("threshold", "%"), None);
        assert_eq!(better("", ""), None);
        // "plate" is no latency word.
        assert_eq!(better("plate_count", ""), None);
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[f64::NAN]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[5.0, f64::INFINITY, 1.0]), Some(3.0));
    }

    #[test]
    fn multiset_difference() {
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(minus(&v(&["a", "b", "b"]), &v(&["b"])), v(&["a", "b"]));
        assert_eq!(minus(&v(&["a"]), &v(&["a", "c"])), v(&[]));
    }
}
