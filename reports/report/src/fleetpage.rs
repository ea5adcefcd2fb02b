//! The fleet view as one self-contained HTML page (`hwcert compare --html FILE`): the report
//! pages' style, a chart of every measurement with an outlier (each machine's value against the
//! group's median and the threshold), and the site's Content-Security-Policy, the inline style
//! allowed by its hash. No script, no network.

use std::fmt::Write as _;

use minijinja::value::{Serde, Value};
use minijinja::Environment;
use serde::Serialize;
use sha2::{Digest, Sha256};

use documents::fleet::{Better, Figure, Fleet, Signature};
use documents::human;

use crate::render::REPORT_CSS;
use crate::svg::escape;

const TEMPLATE: &str = include_str!("../templates/fleet.html.j2");

/// What the page adds to the report pages' style.
const FLEET_CSS: &str = "\
.diff td { overflow-wrap: anywhere; }\n\
tr.outlier td.num { color: var(--fail); font-weight: 600; }\n\
.group { margin-top: 28px; }\n";

/// The site's policy (`hcl::site`'s, the same directives), with the page's inline style
/// admitted by its SHA-256.
pub const CSP_BASE: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'none'";

fn base64(b: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut o = String::with_capacity(b.len().div_ceil(3) * 4);
    for c in b.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                o.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                o.push('=');
            }
        }
    }
    o
}

/// The page's style and its policy.
fn style_and_csp() -> (String, String) {
    let css = format!("{REPORT_CSS}{FLEET_CSS}");
    let hash = base64(&Sha256::digest(css.as_bytes()));
    let csp = CSP_BASE.replace(
        "style-src 'self'",
        &format!("style-src 'self' 'sha256-{hash}'"),
    );
    (css, csp)
}

/// A bar per machine (worst first), the median as a line and the threshold as a dashed line;
/// outliers in the failure colour.
pub fn chart(f: &Figure, threshold_pct: f64) -> String {
    const W: f64 = 640.0;
    const LABEL: f64 = 200.0;
    const AREA: f64 = 330.0;
    const ROW: f64 = 18.0;
    const TOP: f64 = 24.0;
    let mut vals: Vec<(&str, f64)> = f
        .values
        .iter()
        .map(|v| (v.machine.as_str(), v.value))
        .collect();
    match f.better {
        Better::Higher => vals.sort_by(|a, b| a.1.total_cmp(&b.1)),
        Better::Lower => vals.sort_by(|a, b| b.1.total_cmp(&a.1)),
    }
    let limit = match f.better {
        Better::Higher => f.median * (1.0 - threshold_pct / 100.0),
        Better::Lower => f.median * (1.0 + threshold_pct / 100.0),
    };
    let top = vals
        .iter()
        .map(|v| v.1)
        .chain([f.median, limit])
        .fold(0.0f64, |a, b| if b.is_finite() { a.max(b) } else { a });
    let span = if top > 0.0 { top } else { 1.0 };
    let x = |v: f64| LABEL + v.max(0.0) / span * AREA;
    let h = TOP + ROW * vals.len() as f64 + 22.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart fleet" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {h}" width="{W}" height="{h}" role="img" aria-label="{}"><text x="0" y="14" class="ct">{}</text>"#,
        escape(&format!(
            "{}: each machine against the median ({})",
            f.label, f.unit
        )),
        escape(&format!(
            "{} — {} ({})",
            f.instance,
            f.label,
            crate::fleet::better_text(f.better)
        ))
    );
    for (i, (name, v)) in vals.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        let out = f.outliers.iter().any(|o| o == name);
        let _ = write!(
            s,
            r#"<g class="{}" data-machine="{}"><title>{}</title><text x="{}" y="{}" class="cl" text-anchor="end">{}</text><rect x="{LABEL}" y="{}" width="{:.1}" height="{}" fill="{}"/><text x="{:.1}" y="{}" class="cv">{}</text></g>"#,
            if out { "bar outlier" } else { "bar" },
            escape(name),
            escape(&format!("{name}: {}", human::value(*v, &f.unit))),
            LABEL - 6.0,
            y + 12.0,
            escape(&truncate(name, 28)),
            y + 2.0,
            (x(*v) - LABEL).max(1.0),
            ROW - 5.0,
            if out { "#c62828" } else { "#4a78c2" },
            x(*v) + 4.0,
            y + 12.0,
            escape(&human::value(*v, &f.unit))
        );
    }
    let bottom = TOP + ROW * vals.len() as f64;
    let _ = write!(
        s,
        r##"<line class="median" x1="{m:.1}" y1="{t}" x2="{m:.1}" y2="{bottom}" stroke="#1a1a1a" stroke-width="2"/><text x="{m:.1}" y="{}" class="tl" text-anchor="middle">median {}</text><line class="limit" x1="{l:.1}" y1="{t}" x2="{l:.1}" y2="{bottom}" stroke="#c62828" stroke-width="1" stroke-dasharray="4 3"/></svg>"##,
        bottom + 14.0,
        escape(&human::value(f.median, &f.unit)),
        m = x(f.median),
        l = x(limit),
        t = TOP - 2.0,
    );
    s
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

#[derive(Serialize)]
struct ViewInput<'a> {
    source: &'a str,
    machine: Option<&'a str>,
    signature: &'static str,
    class: &'static str,
    included: bool,
    detail: &'a str,
}

#[derive(Serialize)]
struct ViewDiff {
    label: String,
    majority: String,
    agree: usize,
    tie: bool,
    machine: String,
    value: String,
    missing: Vec<String>,
    extra: Vec<String>,
}

#[derive(Serialize)]
struct ViewOutlier {
    machine: String,
    value: String,
    deviation: String,
}

#[derive(Serialize)]
struct ViewFigure {
    id: String,
    instance: String,
    label: String,
    better: &'static str,
    median: String,
    chart: String,
    outliers: Vec<ViewOutlier>,
}

#[derive(Serialize)]
struct ViewGroup {
    id: String,
    model: String,
    dmi: bool,
    machines: Vec<String>,
    note: Option<String>,
    attributes: usize,
    alike: Vec<String>,
    diffs: Vec<ViewDiff>,
    compared: usize,
    figures: Vec<ViewFigure>,
}

#[derive(Serialize)]
struct View<'a> {
    version: &'static str,
    csp: String,
    css: Value,
    summary: String,
    class: &'static str,
    headline: &'static str,
    threshold: String,
    inputs: Vec<ViewInput<'a>>,
    groups: Vec<ViewGroup>,
}

fn view(f: &Fleet) -> View<'_> {
    let (css, csp) = style_and_csp();
    let t = &f.totals;
    let (class, headline) = if t.machines == 0 {
        ("fail", "Nothing to compare")
    } else if f.alike() && t.left_out == 0 {
        ("pass", "Alike")
    } else if f.alike() {
        ("warn", "Alike, reports left out")
    } else {
        ("fail", "Machines differ")
    };
    let inputs = f
        .inputs
        .iter()
        .map(|i| ViewInput {
            source: &i.source,
            machine: i.machine.as_deref(),
            signature: i.signature.as_str(),
            class: match i.signature {
                Signature::Verified => "pass",
                Signature::Signed => "neutral",
                Signature::Unsigned => "warn",
                Signature::Failed | Signature::Unreadable => "fail",
            },
            included: i.included,
            detail: &i.detail,
        })
        .collect();
    let groups = f
        .groups
        .iter()
        .enumerate()
        .map(|(gi, g)| {
            let mut diffs = Vec::new();
            let mut alike = Vec::new();
            for a in &g.attributes {
                if a.differing.is_empty() {
                    alike.push(format!(
                        "{}: {}",
                        a.label,
                        a.majority.as_deref().unwrap_or("(not recorded)")
                    ));
                }
                for d in &a.differing {
                    diffs.push(ViewDiff {
                        label: a.label.clone(),
                        majority: a
                            .majority
                            .clone()
                            .unwrap_or_else(|| "(not recorded)".into()),
                        agree: a.agree,
                        tie: a.tie,
                        machine: d.machine.clone(),
                        value: d.value.clone().unwrap_or_else(|| "(not recorded)".into()),
                        missing: d.missing.clone(),
                        extra: d.extra.clone(),
                    });
                }
            }
            let figures = g
                .measurements
                .iter()
                .enumerate()
                .filter(|(_, m)| !m.outliers.is_empty())
                .map(|(fi, m)| ViewFigure {
                    id: format!("g{gi}-f{fi}"),
                    instance: m.instance.clone(),
                    label: m.label.clone(),
                    better: crate::fleet::better_text(m.better),
                    median: human::value(m.median, &m.unit),
                    chart: chart(m, f.threshold_pct),
                    outliers: m
                        .values
                        .iter()
                        .filter(|v| m.outliers.contains(&v.machine))
                        .map(|v| ViewOutlier {
                            machine: v.machine.clone(),
                            value: human::value(v.value, &m.unit),
                            deviation: crate::fleet::pct(v.deviation_pct),
                        })
                        .collect(),
                })
                .collect();
            ViewGroup {
                id: format!("group-{gi}"),
                model: g.model.clone(),
                dmi: g.dmi,
                machines: g.machines.clone(),
                note: g.note.clone(),
                attributes: g.attributes.len(),
                alike,
                diffs,
                compared: g.measurements.len(),
                figures,
            }
        })
        .collect();
    View {
        version: env!("CARGO_PKG_VERSION"),
        csp,
        css: Value::from_safe_string(css),
        summary: crate::fleet::summary(f),
        class,
        headline,
        threshold: human::value(f.threshold_pct, ""),
        inputs,
        groups,
    }
}

/// The page of `f`.
pub fn html(f: &Fleet) -> Result<String, documents::Error> {
    let mut env = Environment::new();
    env.add_template("fleet.html.j2", TEMPLATE)
        .map_err(|e| documents::Error::msg(format!("fleet.html.j2: {e}")))?;
    let t = env
        .get_template("fleet.html.j2")
        .map_err(|e| documents::Error::msg(format!("fleet.html.j2: {e}")))?;
    t.render(Value::from(Serde(&view(f))))
        .map_err(|e| documents::Error::msg(format!("cannot render fleet.html.j2: {e:#}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_as_csp_hashes_need_it() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn the_policy_admits_only_the_pages_own_style() {
        let (css, csp) = style_and_csp();
        assert!(
            csp.contains("script-src 'self'") && csp.contains("'sha256-"),
            "{csp}"
        );
        assert!(!csp.contains("unsafe-inline"));
        assert!(css.starts_with(REPORT_CSS));
    }
}
