//! Inline SVG charts of an instance's measurements: one bar chart per unit that two or more
//! measurements share (per-CPU throughput, the four STREAM bandwidths, read and write rates),
//! and one line chart per queue-depth sweep ([`documents::sweep`]: throughput and p99 latency
//! by depth, the peak marked). Bars that miss their threshold are drawn in the failure colour,
//! with the threshold marked. Every label is escaped here: the charts go into the page as they
//! are (no scripts: the page's CSP allows none).

use std::fmt::Write;

use documents::sweep::{self, Curve};
use documents::Measurement;

/// Escape text for HTML and SVG (elements and attribute values).
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#x27;"),
            c => o.push(c),
        }
    }
    o
}

/// A number for people: integers as they are, others with three or four significant digits.
pub fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    let a = v.abs();
    if v.fract() == 0.0 && a < 1e15 {
        return format!("{v:.0}");
    }
    if a >= 1e6 {
        format!("{v:.3e}")
    } else if a >= 100.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else if a >= 0.001 {
        format!("{v:.4}")
    } else {
        format!("{v:.3e}")
    }
}

/// A measurement's threshold as text: `>= 1200`.
pub fn fmt_threshold(m: &Measurement) -> Option<String> {
    let t = m.threshold.as_ref()?;
    Some(format!(
        "{} {}",
        t.op,
        Some(t.value)
            .filter(|v| v.is_finite())
            .map(fmt_num)
            .unwrap_or_else(|| "n/a".into())
    ))
}

/// The series a measurement belongs to: its unit, and its name with the numbers taken out when
/// it has any (`cpu12_ops_per_s` → `cpu#_ops_per_s`), so that per-CPU figures make one chart
/// and a total in the same unit does not squash them.
fn series(m: &Measurement) -> (String, String) {
    let mut key = String::new();
    let mut in_digits = false;
    let mut has = false;
    for c in m.name.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                key.push('#');
            }
            in_digits = true;
            has = true;
        } else {
            key.push(c);
            in_digits = false;
        }
    }
    (m.unit.clone(), if has { key } else { String::new() })
}

/// The charts of one instance: the sweep curves ([`sweep_charts`]), then one bar chart per
/// series of two or more numbers, in the order the series first appear (a sweep's points are
/// in its curve, not in bars).
pub fn charts(ms: &[Measurement]) -> Vec<String> {
    let mut out = sweep_charts(ms);
    let link = throughput_chart(ms);
    let rest: Vec<Measurement> = ms
        .iter()
        .filter(|m| !sweep::is_curve_point(&m.name))
        .filter(|m| link.is_none() || !is_link_figure(m))
        .cloned()
        .collect();
    out.extend(link);
    out.extend(bar_charts(&rest));
    out
}

/// One line chart per queue-depth sweep in the measurements.
pub fn sweep_charts(ms: &[Measurement]) -> Vec<String> {
    sweep::curves(ms).iter().map(curve_chart).collect()
}

/// Whether figures in `unit` that share a chart are comparable: rates (MB/s, IOPS, rounds/s,
/// GFLOP/s) of one case are; counts, sizes and unitless numbers (records and problems, an
/// array size and the bytes verified) are not, unless they are one numbered series.
fn comparable_unit(unit: &str) -> bool {
    unit.contains("/s") || unit == "IOPS"
}

/// Whether a measurement has a limit worth a bar (`>=`, `<=`, `>`, `<` against a finite
/// number; `== 0` counts of errors are in the table).
fn has_limit(m: &Measurement) -> bool {
    m.threshold
        .as_ref()
        .is_some_and(|t| t.value.is_finite() && t.op != "==")
        && m.value.is_finite()
}

fn bar_charts(ms: &[Measurement]) -> Vec<String> {
    let keys: Vec<(String, String)> = ms.iter().map(series).collect();
    let mut order: Vec<&(String, String)> = Vec::new();
    for k in &keys {
        if !order.contains(&k) {
            order.push(k);
        }
    }
    order
        .into_iter()
        .filter_map(|k| {
            let group: Vec<&Measurement> = ms
                .iter()
                .zip(&keys)
                .filter(|(m, mk)| *mk == k && m.value.is_finite())
                .map(|(m, _)| m)
                .collect();
            let numbered = !k.1.is_empty();
            let limited = group.iter().any(|m| has_limit(m));
            (group.len() >= 2 && (numbered || comparable_unit(&k.0) || limited)
                || group.len() == 1 && limited)
                .then(|| chart(&k.0, &group))
        })
        .collect()
}

/// A coordinate with one decimal (`12.5`), written without the float formatter's slow path.
struct F1(f64);
/// A coordinate with two decimals.
struct F2(f64);

fn fixed(f: &mut std::fmt::Formatter<'_>, v: f64, scale: f64, digits: usize) -> std::fmt::Result {
    let t = (v * scale).round();
    if !t.is_finite() || t.abs() > 1e15 {
        return f.write_str("0");
    }
    let t = t as i64;
    let unit = scale as i64;
    let sign = if t < 0 { "-" } else { "" };
    let a = t.unsigned_abs();
    write!(f, "{sign}{}.{:0digits$}", a / unit as u64, a % unit as u64)
}

impl std::fmt::Display for F1 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fixed(f, self.0, 10.0, 1)
    }
}

impl std::fmt::Display for F2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fixed(f, self.0, 100.0, 2)
    }
}

const FAIL: &str = "#c62828";
const BAR: &str = "#1565c0";
const MARK: &str = "#222";
const LATENCY: &str = "#ef6c00";
const GRID: &str = "#ccc";

/// A sweep's curve: throughput (line and dots, left axis) and p99 latency (dashed, right axis)
/// by queue depth on a log₂ axis, the peak ringed and written out.
fn curve_chart(c: &Curve) -> String {
    const W: f64 = 640.0;
    const H: f64 = 244.0;
    const LEFT: f64 = 64.0;
    const RIGHT: f64 = 64.0;
    const TOP: f64 = 58.0;
    const BOTTOM: f64 = 30.0;
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let unit = c.phase.unit;
    let pts = &c.points;
    let lg = |d: u32| f64::from(d.max(1)).log2();
    let (lo, hi) = (lg(pts[0].depth), lg(pts[pts.len() - 1].depth));
    let x = |d: u32| {
        if hi > lo {
            LEFT + (lg(d) - lo) / (hi - lo) * pw
        } else {
            LEFT + pw / 2.0
        }
    };
    let top_of = |v: f64| if v > 0.0 { v * 1.1 } else { 1.0 };
    let rmax = top_of(pts.iter().fold(0.0f64, |a, p| a.max(p.rate)));
    let lmax = top_of(pts.iter().filter_map(|p| p.p99_us).fold(0.0f64, f64::max));
    let yr = |v: f64| TOP + ph - v / rmax * ph;
    let yl = |v: f64| TOP + ph - v / lmax * ph;
    let has_lat = pts.iter().any(|p| p.p99_us.is_some());
    let peak = c.peak();
    let title = format!("{} — {unit} and p99 latency by queue depth", c.phase.title);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart sweep" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="{}"><text x="0" y="14" class="ct">{}</text>"#,
        escape(&format!("line chart: {title}")),
        escape(&title)
    );
    if let Some(p) = peak {
        let _ = write!(
            s,
            r#"<text x="0" y="30" class="cv">{}</text>"#,
            escape(&format!(
                "peak {} {unit} at queue depth {}{}",
                fmt_num(p.rate),
                p.depth,
                p.p99_us
                    .map(|l| format!(", p99 {} µs", fmt_num(l)))
                    .unwrap_or_default()
            ))
        );
    }
    // Axes, grid and ticks: 0, half and the top of each axis; every depth below.
    for f in [0.0, 0.5, 1.0] {
        let y = TOP + ph - f * ph;
        let _ = write!(
            s,
            r#"<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{GRID}" stroke-width="1"/><text x="{}" y="{}" class="cl" text-anchor="end" fill="{BAR}">{}</text>"#,
            F1(LEFT),
            F1(LEFT + pw),
            F1(y),
            F1(y),
            F1(LEFT - 4.0),
            F1(y + 4.0),
            escape(&fmt_num(tick(f * rmax)))
        );
        if has_lat {
            let _ = write!(
                s,
                r#"<text x="{}" y="{}" class="cl" fill="{LATENCY}">{}</text>"#,
                F1(LEFT + pw + 4.0),
                F1(y + 4.0),
                escape(&fmt_num(tick(f * lmax)))
            );
        }
    }
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" class="cl" fill="{BAR}">{}</text>"#,
        F1(0.0),
        F1(TOP - 12.0),
        escape(&format!("{unit} (line)"))
    );
    if has_lat {
        let _ = write!(
            s,
            r#"<text x="{W}" y="{}" class="cl" text-anchor="end" fill="{LATENCY}">p99 µs (dashed)</text>"#,
            F1(TOP - 12.0)
        );
    }
    for p in pts {
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" class="cl" text-anchor="middle">{}</text>"#,
            F1(x(p.depth)),
            F1(H - 12.0),
            p.depth
        );
    }
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" class="cl" text-anchor="middle">queue depth</text>"#,
        F1(LEFT + pw / 2.0),
        F1(H - 1.0)
    );
    // The latency line, then the throughput line over it.
    let lat: Vec<String> = pts
        .iter()
        .filter_map(|p| Some(format!("{},{}", F1(x(p.depth)), F1(yl(p.p99_us?)))))
        .collect();
    if lat.len() >= 2 {
        let _ = write!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{LATENCY}" stroke-width="1.5" stroke-dasharray="4 3"/>"#,
            lat.join(" ")
        );
    }
    let line: Vec<String> = pts
        .iter()
        .map(|p| format!("{},{}", F1(x(p.depth)), F1(yr(p.rate))))
        .collect();
    if line.len() >= 2 {
        let _ = write!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{BAR}" stroke-width="2"/>"#,
            line.join(" ")
        );
    }
    for p in pts {
        let (cx, cy) = (F1(x(p.depth)), F1(yr(p.rate)));
        let lat = p
            .p99_us
            .map(|l| format!(", p99 {} µs", fmt_num(l)))
            .unwrap_or_default();
        let _ = write!(
            s,
            r#"<g><title>{}</title><circle cx="{cx}" cy="{cy}" r="3.5" fill="{BAR}"/>"#,
            escape(&format!(
                "queue depth {}: {} {unit}{lat}",
                p.depth,
                fmt_num(p.rate)
            ))
        );
        if let Some(l) = p.p99_us {
            let _ = write!(
                s,
                r#"<circle cx="{cx}" cy="{}" r="2.5" fill="{LATENCY}"/>"#,
                F1(yl(l))
            );
        }
        if peak.is_some_and(|k| k.depth == p.depth) {
            let _ = write!(
                s,
                r#"<circle class="peak" cx="{cx}" cy="{cy}" r="7" fill="none" stroke="{MARK}" stroke-width="1.5"/>"#
            );
        }
        s.push_str("</g>");
    }
    s.push_str("</svg>");
    s
}

/// A tick value with at most three significant digits (the axis tops are 1.1 × the largest).
fn tick(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 0.0;
    }
    let mag = 10f64.powf(v.log10().floor() - 2.0);
    (v / mag).round() * mag
}

fn chart(unit: &str, ms: &[&Measurement]) -> String {
    let vals: Vec<f64> = ms.iter().map(|m| m.finite().unwrap_or(0.0)).collect();
    let limits: Vec<Option<f64>> = ms
        .iter()
        .map(|m| {
            m.threshold
                .as_ref()
                .map(|t| t.value)
                .filter(|v| v.is_finite())
                .filter(|v| v.is_finite())
        })
        .collect();
    let max = vals
        .iter()
        .chain(limits.iter().flatten())
        .fold(0.0f64, |a, &b| a.max(b));
    let min = vals.iter().fold(0.0f64, |a, &b| a.min(b));
    let span = if max - min > 0.0 { max - min } else { 1.0 };
    if ms.len() <= 40 {
        horizontal(unit, ms, &vals, &limits, min, span)
    } else {
        columns(unit, ms, &vals, &limits, min, span)
    }
}

fn bar_colour(m: &Measurement) -> &'static str {
    if m.holds() == Some(false) {
        FAIL
    } else {
        BAR
    }
}

fn shorten(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

/// Up to 40 bars, one row each, labelled.
fn horizontal(
    unit: &str,
    ms: &[&Measurement],
    vals: &[f64],
    limits: &[Option<f64>],
    min: f64,
    span: f64,
) -> String {
    const W: f64 = 640.0;
    const LABEL: f64 = 190.0;
    const AREA: f64 = 330.0;
    // Rows are taller when a limit's tick carries its label below the bar.
    let any_limit = limits.iter().any(Option::is_some);
    let row: f64 = if any_limit { 30.0 } else { 18.0 };
    const TOP: f64 = 22.0;
    let h = TOP + row * ms.len() as f64 + 8.0;
    let x = |v: f64| LABEL + (v - min) / span * AREA;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {h}" width="{W}" height="{h}" role="img" aria-label="{}"><text x="0" y="14" class="ct">{}</text>"#,
        escape(&format!("bar chart in {unit}")),
        escape(&chart_title(unit, ms))
    );
    for (i, m) in ms.iter().enumerate() {
        let y = TOP + row * i as f64;
        let v = vals[i];
        let (x0, x1) = (x(0.0f64.max(min)), x(v));
        let (bx, bw) = if x1 >= x0 {
            (x0, x1 - x0)
        } else {
            (x1, x0 - x1)
        };
        let thr = limit_text(m)
            .map(|t| format!(" (limit {t})"))
            .unwrap_or_default();
        let _ = write!(
            s,
            r#"<g><title>{}</title><text x="{}" y="{}" class="cl" text-anchor="end">{}</text><rect x="{}" y="{}" width="{}" height="{}" fill="{}"/><text x="{}" y="{}" class="cv">{}</text>"#,
            escape(&format!(
                "{} ({}) = {}{thr}",
                documents::human::label(&m.name),
                m.name,
                documents::human::value(v, unit)
            )),
            F1(LABEL - 6.0),
            F1(y + 12.5),
            escape(&shorten(&documents::human::label(&m.name), 28)),
            F1(bx),
            F1(y + 3.0),
            F1(bw.max(0.5)),
            F1(12.0),
            bar_colour(m),
            F1(x1.max(x0) + 4.0),
            F1(y + 12.5),
            escape(&documents::human::value(v, unit))
        );
        if let Some(l) = limits[i] {
            let lx = x(l);
            // The limit's label once, and again only where it changes.
            let label = if i == 0 || limits[i - 1] != Some(l) {
                limit_text(m)
                    .map(|t| format!("limit {t}"))
                    .unwrap_or_default()
            } else {
                String::new()
            };
            let _ = write!(
                s,
                r#"<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{MARK}" stroke-width="2"/><text x="{}" y="{}" class="tl" text-anchor="middle">{}</text>"#,
                F1(lx),
                F1(lx),
                F1(y + 1.0),
                F1(y + 17.0),
                F1(lx),
                F1(y + 26.0),
                escape(&label)
            );
        }
        s.push_str("</g>");
    }
    s.push_str("</svg>");
    s
}

/// A limit for people: `≥ 1.00 GB/s`.
fn limit_text(m: &Measurement) -> Option<String> {
    let t = m.threshold.as_ref()?;
    Some(format!(
        "{} {}",
        documents::human::op(&t.op),
        documents::human::value(t.value, &m.unit)
    ))
}

/// A chart's title: what its bars are, and the unit ("Copy, Scale, Add, Triad — MB/s").
fn chart_title(unit: &str, ms: &[&Measurement]) -> String {
    let mut names: Vec<String> = Vec::new();
    for m in ms {
        let l = documents::human::label(&series_name(&m.name));
        if !names.contains(&l) {
            names.push(l);
        }
    }
    let what = if names.len() > 4 {
        format!("{} and {} more", names[..3].join(", "), names.len() - 3)
    } else {
        names.join(", ")
    };
    if unit.is_empty() {
        what
    } else {
        format!("{what} — {unit}")
    }
}

/// A name with its numbers as `N` (`cpu12_ops_per_s` → `cpuN_ops_per_s`), for titles.
fn series_name(name: &str) -> String {
    let mut o = String::new();
    let mut in_digits = false;
    for c in name.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                o.push('N');
            }
            in_digits = true;
        } else {
            o.push(c);
            in_digits = false;
        }
    }
    o
}

/// Many bars (per-CPU figures of a big machine): thin columns, the threshold marks, and the
/// smallest, median and largest value written out.
fn columns(
    unit: &str,
    ms: &[&Measurement],
    vals: &[f64],
    limits: &[Option<f64>],
    min: f64,
    span: f64,
) -> String {
    const W: f64 = 640.0;
    const H: f64 = 200.0;
    const TOP: f64 = 40.0;
    const BOTTOM: f64 = 18.0;
    let n = ms.len() as f64;
    let step = W / n;
    let area = H - TOP - BOTTOM;
    let y = |v: f64| TOP + area - (v - min) / span * area;
    let mut sorted = vals.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let failing = ms.iter().filter(|m| m.holds() == Some(false)).count();
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="{}"><text x="0" y="14" class="ct">{}</text><text x="0" y="30" class="cv">{}</text>"#,
        escape(&format!("column chart in {unit}")),
        escape(&format!("{unit} — {} values", ms.len())),
        escape(&format!(
            "min {} · median {} · max {}{}",
            fmt_num(sorted[0]),
            fmt_num(median),
            fmt_num(sorted[sorted.len() - 1]),
            if failing > 0 {
                format!(" · {failing} below threshold")
            } else {
                String::new()
            }
        ))
    );
    let base = y(0.0f64.max(min));
    for (i, m) in ms.iter().enumerate() {
        let x = step * i as f64;
        let top = y(vals[i]);
        let (by, bh) = if top <= base {
            (top, base - top)
        } else {
            (base, top - base)
        };
        let _ = write!(
            s,
            r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>"#,
            F2(x),
            F1(by),
            F2((step * 0.8).max(0.5)),
            F1(bh.max(0.5)),
            bar_colour(m),
            escape(&format!(
                "{} = {} {unit}{}",
                m.name,
                fmt_num(vals[i]),
                fmt_threshold(m)
                    .map(|t| format!(" (threshold {t})"))
                    .unwrap_or_default()
            ))
        );
        if let Some(l) = limits[i] {
            let ly = F1(y(l));
            let _ = write!(
                s,
                r#"<line x1="{}" x2="{}" y1="{ly}" y2="{ly}" stroke="{MARK}" stroke-width="1.5"/>"#,
                F2(x),
                F2(x + step)
            );
        }
    }
    let first = escape(&shorten(&ms[0].name, 30));
    let last = escape(&shorten(&ms[ms.len() - 1].name, 30));
    let _ = write!(
        s,
        r#"<text x="0" y="{}" class="cl">{first}</text><text x="{W}" y="{}" class="cl" text-anchor="end">{last}</text></svg>"#,
        F1(H - 4.0),
        F1(H - 4.0)
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use documents::Threshold;

    fn m(name: &str, v: f64, unit: &str, thr: Option<f64>) -> Measurement {
        Measurement {
            name: name.into(),
            value: v,
            unit: unit.into(),
            threshold: thr.map(|t| Threshold {
                op: ">=".into(),
                value: t,
            }),
        }
    }

    #[test]
    fn groups_by_unit() {
        let ms = vec![
            m("copy", 1.0, "MB/s", None),
            m("passes", 1.0, "passes", None),
            m("scale", 2.0, "MB/s", None),
        ];
        let c = charts(&ms);
        assert_eq!(c.len(), 1);
        assert!(
            c[0].contains(">Copy<") && c[0].contains(">Scale<"),
            "{}",
            c[0]
        );
        assert!(!c[0].contains("passes"));
    }

    #[test]
    fn only_comparable_figures_share_a_chart() {
        // Records vs problems (no unit), an array size vs bytes verified: not comparable.
        let ms = vec![
            m("records", 1200.0, "", None),
            m("problems", 2.0, "", None),
            m("stream_array_bytes", 268435456.0, "bytes", None),
            m("bytes_verified", 1073741824.0, "bytes", None),
        ];
        assert!(charts(&ms).is_empty(), "{:?}", charts(&ms));
        // One figure against its limit is a chart: the tick carries the limit's label.
        let one = charts(&[m("seq_read_mb_s", 812.0, "MB/s", Some(1000.0))]);
        assert_eq!(one.len(), 1);
        assert!(one[0].contains(">limit ≥ 1 GB/s<"), "{}", one[0]);
        assert!(one[0].contains(">Sequential read<") && one[0].contains(">812 MB/s<"));
        assert!(one[0].contains("Sequential read — MB/s"), "{}", one[0]);
        well_formed(&one[0]);
    }

    #[test]
    fn numbered_names_are_their_own_series() {
        let mut ms: Vec<Measurement> = (0..4)
            .map(|i| m(&format!("cpu{i}_ops_per_s"), 1000.0, "rounds/s", None))
            .collect();
        ms.push(m("total_ops_per_s", 4000.0, "rounds/s", None));
        ms.push(m("fma_gflops", 4.0, "GFLOP/s", None));
        let c = charts(&ms);
        assert_eq!(c.len(), 1);
        assert!(c[0].contains("cpu3_ops_per_s") && !c[0].contains("total"));
    }

    #[test]
    fn failing_bars_and_escaping() {
        let ms = vec![
            m("<script>alert(x)</script>", 10.0, "ops/s", Some(5.0)),
            m("slow", 2.0, "ops/s", Some(5.0)),
        ];
        let c = charts(&ms).join("");
        assert!(!c.contains("<script>"), "{c}");
        assert!(c.contains("&lt;script&gt;"));
        assert!(c.contains(FAIL) && c.contains(BAR));
    }

    #[test]
    fn many_bars_are_columns() {
        let ms: Vec<Measurement> = (0..256)
            .map(|i| {
                m(
                    &format!("cpu{i}_ops_per_s"),
                    1000.0 + i as f64,
                    "rounds/s",
                    Some(900.0),
                )
            })
            .collect();
        let c = charts(&ms);
        assert_eq!(c.len(), 1);
        assert!(c[0].contains("256 values"));
        assert!(
            c[0].contains("min 1000 · median 1128 · max 1255"),
            "{}",
            &c[0][..400]
        );
    }

    /// The measurements of a sweep: rates and p99s by depth, the peak, and figures beside.
    fn sweep_ms() -> Vec<Measurement> {
        let mut ms = vec![
            m("seq_write_mb_s", 5135.0, "MB/s", None),
            m("seq_write_peak_qd", 32.0, "depth", None),
            m("seq_read_mb_s", 4000.0, "MB/s", None),
        ];
        for (d, r, l) in [(1, 900.0, 1200.0), (2, 1700.0, 1300.0), (4, 3252.0, 1400.0)] {
            ms.push(m(&format!("seq_write_qd{d}_mb_s"), r, "MB/s", None));
            ms.push(m(&format!("seq_write_qd{d}_p99_us"), l, "µs", None));
        }
        for (d, r, l) in [
            (8, 4100.0, 2500.0),
            (16, 4900.0, 4100.0),
            (32, 5135.0, 7900.0),
        ] {
            ms.push(m(&format!("seq_write_qd{d}_mb_s"), r, "MB/s", None));
            ms.push(m(&format!("seq_write_qd{d}_p99_us"), l, "µs", None));
        }
        ms.push(m("randread_qd1_iops", 9000.0, "IOPS", None));
        ms
    }

    /// Every tag of an SVG is one of the few a chart uses, and no text holds a raw `<`, `>` or
    /// `&` that is not an entity: what escaping must guarantee.
    fn well_formed(svg: &str) {
        const TAGS: [&str; 8] = [
            "svg", "text", "line", "polyline", "circle", "g", "title", "rect",
        ];
        let mut rest = svg;
        while let Some(i) = rest.find('<') {
            let tag = rest[i + 1..]
                .trim_start_matches('/')
                .split(|c: char| !c.is_ascii_alphanumeric())
                .next()
                .unwrap_or("");
            assert!(TAGS.contains(&tag), "tag <{tag}> in {svg}");
            let close = rest[i..].find('>').expect("a closed tag") + i;
            assert!(!rest[i + 1..close].contains('<'), "{svg}");
            rest = &rest[close + 1..];
            let text_end = rest.find('<').unwrap_or(rest.len());
            let text = &rest[..text_end];
            assert!(!text.contains('>'), "raw > in {text}");
            for (j, _) in text.match_indices('&') {
                let ent = &text[j..];
                assert!(
                    ["&amp;", "&lt;", "&gt;", "&quot;", "&#x27;"]
                        .iter()
                        .any(|e| ent.starts_with(e)),
                    "raw & in {text}"
                );
            }
        }
    }

    #[test]
    fn a_sweep_is_a_line_chart_with_its_peak_and_not_bars() {
        let c = charts(&sweep_ms());
        let sweeps: Vec<&String> = c
            .iter()
            .filter(|c| c.contains("class=\"chart sweep\""))
            .collect();
        assert_eq!(sweeps.len(), 2, "{c:?}");
        let w = sweeps[0];
        assert!(
            w.contains("sequential write — MB/s and p99 latency by queue depth"),
            "{w}"
        );
        assert!(
            w.contains("peak 5135 MB/s at queue depth 32, p99 7900 µs"),
            "{w}"
        );
        // Six points, each with its tooltip, two lines, one ring at the peak.
        assert_eq!(w.matches("<title>queue depth ").count(), 6);
        assert!(w.contains("<title>queue depth 4: 3252 MB/s, p99 1400 µs</title>"));
        assert_eq!(w.matches("<polyline").count(), 2);
        assert_eq!(w.matches("class=\"peak\"").count(), 1);
        for d in ["1", "2", "4", "8", "16", "32"] {
            assert!(
                w.contains(&format!("text-anchor=\"middle\">{d}</text>")),
                "{d}"
            );
        }
        // On a log₂ axis the depths are evenly spaced: 1 at the left edge, 32 at the right.
        assert!(w.contains(r#"<circle cx="64.0""#) && w.contains(r#"<circle cx="576.0""#));
        // One point, no latency: a dot, no lines.
        let r = sweeps[1];
        assert!(r.contains("4 KiB random read") && r.contains("peak 9000 IOPS at queue depth 1<"));
        assert_eq!(r.matches("<polyline").count(), 0);
        assert!(!r.contains("p99 µs"));
        // The sweep's points are not bars; the rest still are.
        assert!(c.iter().all(|x| !x.contains(">seq_write_qd")), "{c:?}");
        assert!(c
            .iter()
            .any(|x| x.contains("class=\"chart\"") && x.contains(">Sequential read<")));
        for x in &c {
            well_formed(x);
        }
    }

    #[test]
    fn sweep_charts_escape_and_survive_garbage() {
        let mut ms = sweep_ms();
        // Names that look like sweep points but are not are bars, escaped.
        for d in [4, 8] {
            ms.push(m(
                &format!("seq_write_qd{d}_mb_s<script>"),
                1.0,
                "MB/s",
                None,
            ));
            ms.push(m(&format!("seq_write_qd{d}<b>_mb_s"), 1.0, "MB/s&<>", None));
        }
        ms.push(m("seq_write_qd64_mb_s", f64::NAN, "MB/s", None));
        ms.push(m("seq_write_qd128_p99_us", 5.0, "µs", None));
        let c = charts(&ms);
        for x in &c {
            well_formed(x);
            assert!(!x.contains("<script>") && !x.contains("<b>"));
        }
        let all = c.join("");
        assert!(all.contains("seq_write_qd4_mb_s&lt;script&gt;"), "{all}");
        assert!(all.contains("MB/s&amp;&lt;&gt;"), "{all}");
        // The NaN point and the latency without a rate are left out of the curve.
        let w = c
            .iter()
            .find(|x| x.contains("sequential write"))
            .expect("curve");
        assert_eq!(w.matches("<title>queue depth ").count(), 6);
        // Nothing usable: no sweep chart, no panic.
        for garbage in [
            vec![m("seq_write_qd1_mb_s", f64::NAN, "MB/s", None)],
            vec![m("seq_write_qd1_p99_us", 3.0, "µs", None)],
            vec![m("seq_write_peak_qd", 4.0, "depth", None)],
            vec![],
        ] {
            assert!(sweep_charts(&garbage).is_empty());
        }
        // All zeros: a flat line at the bottom, finite coordinates.
        let zeros = vec![
            m("seq_read_qd1_mb_s", 0.0, "MB/s", None),
            m("seq_read_qd2_mb_s", 0.0, "MB/s", None),
        ];
        let z = sweep_charts(&zeros).join("");
        well_formed(&z);
        assert!(!z.contains("NaN") && !z.contains("inf"), "{z}");
    }

    #[test]
    fn ticks_keep_three_digits() {
        assert_eq!(tick(5648.5), 5650.0);
        assert_eq!(tick(0.0), 0.0);
        assert_eq!(tick(f64::NAN), 0.0);
        assert!((tick(0.12345) - 0.123).abs() < 1e-12);
    }

    #[test]
    fn coordinates() {
        assert_eq!(F1(12.54).to_string(), "12.5");
        assert_eq!(F1(12.56).to_string(), "12.6");
        assert_eq!(F1(-0.25).to_string(), "-0.3");
        assert_eq!(F1(0.0).to_string(), "0.0");
        assert_eq!(F2(1.23456).to_string(), "1.23");
        assert_eq!(F2(f64::NAN).to_string(), "0");
    }

    #[test]
    fn numbers() {
        assert_eq!(fmt_num(3.0), "3");
        assert_eq!(fmt_num(1234.567), "1234.6");
        assert_eq!(fmt_num(12.345), "12.35");
        assert_eq!(fmt_num(0.5), "0.5000");
        assert_eq!(fmt_num(f64::NAN), "n/a");
    }
}

// ---------------------------------------------------------------------------------------------
// Network throughput against the link speed (issue 15): one block, its own.

/// A throughput direction of the network traffic cases, judged against the link speed.
fn is_link_figure(m: &Measurement) -> bool {
    m.unit == "Mb/s"
        && (m.name == "link_speed"
            || ["throughput_", "after_flap_", "jumbo_throughput_"]
                .iter()
                .any(|p| m.name.starts_with(p)))
}

/// The network traffic cases' figures: one bar per direction (send, receive, bidir) on a scale
/// of the negotiated link speed, the link speed and the threshold drawn across; a bar under its
/// threshold in the failure colour. `None` without a `link_speed` and a judged direction.
pub fn throughput_chart(ms: &[Measurement]) -> Option<String> {
    let speed = ms
        .iter()
        .find(|m| m.name == "link_speed" && m.unit == "Mb/s")
        .and_then(Measurement::finite)
        .filter(|v| *v > 0.0)?;
    let dirs: Vec<&Measurement> = ms
        .iter()
        .filter(|m| is_link_figure(m) && m.name != "link_speed" && m.threshold.is_some())
        .filter(|m| m.value.is_finite())
        .collect();
    if dirs.is_empty() {
        return None;
    }
    const W: f64 = 640.0;
    const LEFT: f64 = 150.0;
    const RIGHT: f64 = 24.0;
    const TOP: f64 = 40.0;
    const ROW: f64 = 26.0;
    let h = TOP + ROW * dirs.len() as f64 + 24.0;
    let pw = W - LEFT - RIGHT;
    let top = dirs
        .iter()
        .map(|m| m.value)
        .fold(speed, f64::max)
        .max(speed * 1.05);
    let x = |v: f64| LEFT + (v.max(0.0) / top) * pw;
    let title = format!(
        "Throughput against the link speed ({} Mb/s)",
        fmt_num(speed)
    );
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart link" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {}" width="{W}" height="{}" role="img" aria-label="{}"><text x="0" y="14" class="ct">{}</text>"#,
        F1(h),
        F1(h),
        escape(&format!("bar chart: {title}")),
        escape(&title)
    );
    let bottom = TOP + ROW * dirs.len() as f64;
    let _ = write!(
        s,
        r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{MARK}" stroke-width="2"/><text x="{}" y="{}" font-size="11" text-anchor="middle">link {} Mb/s</text>"#,
        F1(x(speed)),
        F1(TOP - 8.0),
        F1(x(speed)),
        F1(bottom),
        F1(x(speed)),
        F1(TOP - 12.0),
        fmt_num(speed)
    );
    for (i, m) in dirs.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        let label = m.name.replace('_', " ");
        let limit = m
            .threshold
            .as_ref()
            .map(|t| t.value)
            .filter(|v| v.is_finite());
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" font-size="12" text-anchor="end">{}</text><rect x="{LEFT}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect><text x="{}" y="{}" font-size="11">{} Mb/s ({}%)</text>"#,
            F1(LEFT - 6.0),
            F1(y + ROW * 0.6),
            escape(&label),
            F1(y + 4.0),
            F1(x(m.value) - LEFT),
            F1(ROW - 8.0),
            bar_colour(m),
            escape(&format!("{label}: {} Mb/s", fmt_num(m.value))),
            F1((x(m.value) + 4.0).min(W - 120.0)),
            F1(y + ROW * 0.6),
            fmt_num(m.value),
            fmt_num(100.0 * m.value / speed)
        );
        if let Some(l) = limit {
            let _ = write!(
                s,
                r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{FAIL}" stroke-width="2" stroke-dasharray="4 3"><title>{}</title></line>"#,
                F1(x(l)),
                F1(y + 1.0),
                F1(x(l)),
                F1(y + ROW - 1.0),
                escape(&format!(
                    "threshold {} Mb/s ({}% of the link)",
                    fmt_num(l),
                    fmt_num(100.0 * l / speed)
                ))
            );
        }
    }
    let _ = write!(
        s,
        r#"<text x="{LEFT}" y="{}" font-size="11">dashed: the threshold of each direction; solid: the negotiated link speed</text></svg>"#,
        F1(bottom + 16.0)
    );
    Some(s)
}

#[cfg(test)]
mod link_chart_tests {
    use super::*;

    fn m(name: &str, value: f64, limit: Option<f64>) -> Measurement {
        Measurement {
            name: name.into(),
            value,
            unit: "Mb/s".into(),
            threshold: limit.map(|v| documents::measure::Threshold {
                op: ">=".into(),
                value: v,
            }),
        }
    }

    #[test]
    fn throughput_against_link_speed_and_threshold() {
        let ms = vec![
            m("link_speed", 10_000.0, None),
            m("throughput_send", 9_400.0, Some(8_000.0)),
            m("throughput_receive", 4_990.0, Some(8_000.0)),
            m("throughput_bidir", 8_100.0, Some(8_000.0)),
        ];
        let svg = throughput_chart(&ms).expect("a chart");
        assert!(svg.contains("link 10000 Mb/s"), "{svg}");
        assert_eq!(svg.matches("<rect").count(), 3);
        assert_eq!(svg.matches("stroke-dasharray").count(), 3);
        // The receive direction misses its threshold: drawn in the failure colour.
        let recv = svg.split("throughput receive").nth(1).expect("receive bar");
        assert!(recv.contains(FAIL), "{recv}");
        assert!(svg.contains("4990 Mb/s (49.90%)"), "{svg}");
        // Charts: the link chart once, the same figures not again as plain bars.
        let all = charts(&ms);
        assert_eq!(all.len(), 1);
        // Without the link speed or a judged figure, no chart.
        assert_eq!(throughput_chart(&ms[1..]), None);
        assert_eq!(throughput_chart(&ms[..1]), None);
        assert_eq!(throughput_chart(&[m("link_speed", f64::NAN, None)]), None);
    }
}
