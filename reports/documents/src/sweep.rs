//! Queue-depth sweeps as measurements: how `storage::stress` records the throughput and the
//! p99 latency it measured at each queue depth, and how the report reads the curves back.
//!
//! A sweep is carried by an instance's ordinary [`Measurement`]s (so the worker's result file,
//! the journal and report.json carry it unchanged, and reports signed before still verify),
//! named by one rule:
//!
//! | measurement | unit | what |
//! |---|---|---|
//! | `{phase}_qd{N}_{metric}` | `MB/s` or `IOPS` | throughput at queue depth N |
//! | `{phase}_qd{N}_p99_us` | `µs` | p99 latency (submission to reaping) at depth N |
//! | `{phase}_peak_qd` | `depth` | the depth of the highest throughput |
//!
//! with the phases and their throughput metric in [`PHASES`]: `seq_write` and `seq_read` in
//! `mb_s` (MB/s, 10⁶ bytes), `randread` in `iops`. [`curves`] reads them back leniently: a
//! measurement whose name does not follow the rule, whose depth is not a whole number from 1 to
//! 65536 or whose value is not a finite number ≥ 0 is left out (a bad one loses only itself).

use crate::measure::Measurement;

/// A sweep phase: its name (the measurements' prefix), its throughput metric (the suffix) and
/// unit, and what a person calls it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Phase {
    pub name: &'static str,
    pub metric: &'static str,
    pub unit: &'static str,
    pub title: &'static str,
}

/// The phases `storage::stress` sweeps, in its order.
pub const PHASES: [Phase; 3] = [
    Phase {
        name: "seq_write",
        metric: "mb_s",
        unit: "MB/s",
        title: "sequential write",
    },
    Phase {
        name: "seq_read",
        metric: "mb_s",
        unit: "MB/s",
        title: "sequential read",
    },
    Phase {
        name: "randread",
        metric: "iops",
        unit: "IOPS",
        title: "4 KiB random read",
    },
];

/// The largest depth [`curves`] accepts.
pub const MAX_DEPTH: u32 = 65536;

/// The name of the throughput measurement of `phase` at `depth`: `seq_write_qd8_mb_s`.
pub fn rate_name(phase: &Phase, depth: u32) -> String {
    format!("{}_qd{depth}_{}", phase.name, phase.metric)
}

/// The name of the p99 latency measurement of `phase` at `depth`: `randread_qd32_p99_us`.
pub fn p99_name(phase: &Phase, depth: u32) -> String {
    format!("{}_qd{depth}_p99_us", phase.name)
}

/// The name of the peak depth measurement of `phase`: `seq_read_peak_qd`.
pub fn peak_name(phase: &Phase) -> String {
    format!("{}_peak_qd", phase.name)
}

/// Whether a measurement belongs to a sweep's curve (its per-depth figures, not the peak).
pub fn is_curve_point(name: &str) -> bool {
    PHASES.iter().any(|p| point_of(p, name).is_some())
}

/// One depth of a curve.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub depth: u32,
    /// Throughput in the phase's unit.
    pub rate: f64,
    /// p99 latency in µs, when recorded.
    pub p99_us: Option<f64>,
}

/// One phase's curve: its points by rising depth, and the peak depth as recorded (or, when
/// not recorded, the depth of the highest throughput).
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    pub phase: Phase,
    pub points: Vec<Point>,
    pub peak_depth: Option<u32>,
}

impl Curve {
    /// The point of the peak depth.
    pub fn peak(&self) -> Option<&Point> {
        let d = self.peak_depth?;
        self.points.iter().find(|p| p.depth == d)
    }
}

enum Kind {
    Rate,
    P99,
}

/// `(depth, kind)` of a measurement named by the rule for `phase`.
fn point_of(phase: &Phase, name: &str) -> Option<(u32, Kind)> {
    let rest = name.strip_prefix(phase.name)?.strip_prefix("_qd")?;
    let digits = rest.find(|c: char| !c.is_ascii_digit())?;
    let (num, tail) = rest.split_at(digits);
    // No sign, no leading zeros: one spelling per depth.
    if num.is_empty() || num.starts_with('0') || num.len() > 5 {
        return None;
    }
    let depth: u32 = num.parse().ok()?;
    if depth > MAX_DEPTH {
        return None;
    }
    let kind = match tail.strip_prefix('_')? {
        "p99_us" => Kind::P99,
        m if m == phase.metric => Kind::Rate,
        _ => return None,
    };
    Some((depth, kind))
}

fn usable(v: f64) -> Option<f64> {
    (v.is_finite() && v >= 0.0).then_some(v)
}

/// The curves in an instance's measurements, in [`PHASES`] order; a phase without a single
/// throughput point has none. The first of two measurements of the same name counts; a
/// latency without its throughput is left out.
pub fn curves(ms: &[Measurement]) -> Vec<Curve> {
    let mut out = Vec::new();
    for phase in PHASES {
        let mut points: Vec<Point> = Vec::new();
        let mut p99s: Vec<(u32, f64)> = Vec::new();
        let mut peak: Option<u32> = None;
        let peak_key = peak_name(&phase);
        for m in ms {
            if m.name == peak_key {
                if peak.is_none() {
                    peak = usable(m.value)
                        .filter(|v| v.fract() == 0.0 && *v >= 1.0 && *v <= f64::from(MAX_DEPTH))
                        .map(|v| v as u32);
                }
                continue;
            }
            let Some((depth, kind)) = point_of(&phase, &m.name) else {
                continue;
            };
            let Some(v) = usable(m.value) else { continue };
            match kind {
                Kind::Rate if !points.iter().any(|p| p.depth == depth) => points.push(Point {
                    depth,
                    rate: v,
                    p99_us: None,
                }),
                Kind::P99 if !p99s.iter().any(|&(d, _)| d == depth) => p99s.push((depth, v)),
                _ => {}
            }
        }
        if points.is_empty() {
            continue;
        }
        for p in &mut points {
            p.p99_us = p99s.iter().find(|&&(d, _)| d == p.depth).map(|&(_, v)| v);
        }
        points.sort_by_key(|p| p.depth);
        // A recorded peak must be one of the points; else the highest throughput's depth.
        let peak_depth = peak
            .filter(|d| points.iter().any(|p| p.depth == *d))
            .or_else(|| {
                points
                    .iter()
                    .fold(None::<&Point>, |b, p| match b {
                        Some(b) if b.rate >= p.rate => Some(b),
                        _ => Some(p),
                    })
                    .map(|p| p.depth)
            });
        out.push(Curve {
            phase,
            points,
            peak_depth,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(name: &str, v: f64, unit: &str) -> Measurement {
        Measurement::new(name, v, unit)
    }

    fn sample() -> Vec<Measurement> {
        let w = &PHASES[0];
        let r = &PHASES[2];
        vec![
            m("seq_write_mb_s", 300.0, "MB/s"),
            m(&rate_name(w, 2), 200.0, "MB/s"),
            m(&p99_name(w, 2), 900.0, "µs"),
            m(&rate_name(w, 1), 100.0, "MB/s"),
            m(&p99_name(w, 1), 800.0, "µs"),
            m(&rate_name(w, 4), 300.0, "MB/s"),
            m(&peak_name(w), 4.0, "depth"),
            m(&rate_name(r, 32), 50000.0, "IOPS"),
            m(&p99_name(r, 32), 1500.0, "µs"),
        ]
    }

    #[test]
    fn the_names_follow_the_rule_and_read_back() {
        assert_eq!(rate_name(&PHASES[0], 8), "seq_write_qd8_mb_s");
        assert_eq!(p99_name(&PHASES[2], 32), "randread_qd32_p99_us");
        assert_eq!(peak_name(&PHASES[1]), "seq_read_peak_qd");
        let c = curves(&sample());
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].phase.name, "seq_write");
        let depths: Vec<u32> = c[0].points.iter().map(|p| p.depth).collect();
        assert_eq!(depths, [1, 2, 4]);
        assert_eq!(c[0].points[0].p99_us, Some(800.0));
        assert_eq!(c[0].points[2].p99_us, None);
        assert_eq!(c[0].peak_depth, Some(4));
        assert_eq!(c[0].peak().map(|p| p.rate), Some(300.0));
        assert_eq!(c[1].phase.name, "randread");
        // No peak recorded: the highest throughput's depth.
        assert_eq!(c[1].peak_depth, Some(32));
        assert!(is_curve_point("seq_read_qd64_mb_s"));
        assert!(is_curve_point("randread_qd1_p99_us"));
        assert!(!is_curve_point("seq_write_mb_s"));
        assert!(!is_curve_point("seq_write_peak_qd"));
    }

    #[test]
    fn garbage_truncated_and_missing_measurements_lose_only_themselves() {
        let mut ms = sample();
        for bad in [
            "seq_write_qd",
            "seq_write_qd_mb_s",
            "seq_write_qd8",
            "seq_write_qd8_",
            "seq_write_qd8_mb",
            "seq_write_qd08_mb_s",
            "seq_write_qd0_mb_s",
            "seq_write_qd-8_mb_s",
            "seq_write_qd+8_mb_s",
            "seq_write_qd99999_mb_s",
            "seq_write_qd9999999999999999999999_mb_s",
            "seq_write_qd8_iops",
            "seq_write_qd8_mb_s_extra",
            "randread_qd8_mb_s",
            "seq_write_qd８_mb_s",
            "",
        ] {
            ms.push(m(bad, 1e9, "MB/s"));
            assert!(!is_curve_point(bad), "{bad}");
        }
        ms.push(m(&rate_name(&PHASES[0], 16), f64::NAN, "MB/s"));
        ms.push(m(&rate_name(&PHASES[0], 32), -1.0, "MB/s"));
        ms.push(m(&rate_name(&PHASES[0], 64), f64::INFINITY, "MB/s"));
        // A second measurement of the same depth does not replace the first.
        ms.push(m(&rate_name(&PHASES[0], 1), 7.0, "MB/s"));
        let c = curves(&ms);
        let depths: Vec<u32> = c[0].points.iter().map(|p| p.depth).collect();
        assert_eq!(depths, [1, 2, 4]);
        assert_eq!(c[0].points[0].rate, 100.0);

        // A peak that is no point, or no whole depth, is replaced by the highest point.
        for peak in [8.0, 2.5, 0.0, -4.0, f64::NAN, 1e12] {
            let mut ms = sample();
            ms.retain(|x| x.name != "seq_write_peak_qd");
            ms.insert(0, m("seq_write_peak_qd", peak, "depth"));
            assert_eq!(curves(&ms)[0].peak_depth, Some(4), "{peak}");
        }
        // A latency alone makes no curve; nothing at all, no curves.
        assert!(curves(&[m("seq_read_qd4_p99_us", 10.0, "µs")]).is_empty());
        assert!(curves(&[]).is_empty());
        assert!(curves(&[m("seq_read_peak_qd", 4.0, "depth")]).is_empty());
    }

    #[test]
    fn curves_survive_a_json_round_trip_with_nulls() {
        let text = serde_json::to_string(&sample()).expect("json");
        let back: Vec<Measurement> = serde_json::from_str(&text).expect("parse");
        assert_eq!(curves(&back), curves(&sample()));
        // A null value (NaN) loses only that point.
        let text = text.replacen("800.0", "null", 1);
        let back: Vec<Measurement> = serde_json::from_str(&text).expect("parse");
        let c = curves(&back);
        assert_eq!(c[0].points[0].p99_us, None);
        assert_eq!(c[0].points[0].rate, 100.0);
    }
}
