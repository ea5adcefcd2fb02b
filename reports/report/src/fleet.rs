//! The fleet view's inputs and its text: each report read and its signature checked
//! ([`load`]), then compared by [`documents::fleet::compare`]; [`text`] is what the terminal
//! shows ([`crate::fleetpage`] is the HTML page).
//!
//! A report with a `.sig` beside it is compared only when the signature holds: against an
//! allowed_signers file when one is given (as `hwcert verify` checks it, logs included where
//! the directory has them), else by its own key (the signer is then not checked, and the input
//! says so). A report without a signature is compared and marked unsigned. A report that
//! cannot be read, is not JSON or not a `hwcert.report/1` document, or whose signature does not
//! hold, is left out with the reason.

use std::fs;
use std::path::Path;

use documents::fleet::{Better, Candidate, Fleet, Input, Signature};
use documents::human;
use documents::report::{Report, SCHEMA};

use crate::verify::{check_detached, report_path, sig_path, verify};

fn left_out(source: &str, signature: Signature, detail: String) -> Candidate {
    Candidate {
        input: Input {
            source: source.to_string(),
            machine: None,
            signature,
            included: false,
            detail,
        },
        report: None,
    }
}

/// Read the report at `path` (a report directory or its report.json) and check its signature;
/// `source` is how the input is named in the view.
pub fn load(path: &Path, source: &str, allowed_signers: Option<&Path>) -> Candidate {
    let file = report_path(path);
    let bytes = match fs::read(&file) {
        Ok(b) => b,
        Err(e) => {
            return left_out(
                source,
                Signature::Unreadable,
                format!(
                    "cannot read {}: {}",
                    file.display(),
                    documents::io_reason(&e)
                ),
            )
        }
    };
    let value: serde_json::Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => {
            return left_out(
                source,
                Signature::Unreadable,
                format!("{}: not JSON ({e}): not a report", file.display()),
            )
        }
    };
    if value["schema"].as_str() != Some(SCHEMA) {
        return left_out(
            source,
            Signature::Unreadable,
            format!(
                "{}: not a hwcert report (schema {}, not {SCHEMA})",
                file.display(),
                value["schema"]
            ),
        );
    }
    let report: Report = match serde_json::from_value(value) {
        Ok(r) => r,
        Err(e) => {
            return left_out(
                source,
                Signature::Unreadable,
                format!("{}: not a valid {SCHEMA} document: {e}", file.display()),
            )
        }
    };
    let sig = sig_path(&file);
    let (signature, detail) = match fs::read(&sig) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (
            Signature::Unsigned,
            format!("no signature ({} is missing)", sig.display()),
        ),
        Err(e) => {
            return left_out(
                source,
                Signature::Failed,
                format!(
                    "cannot read {}: {}",
                    sig.display(),
                    documents::io_reason(&e)
                ),
            )
        }
        Ok(sig_bytes) => match allowed_signers {
            Some(allowed) => match verify(&file, allowed, None) {
                Err(e) => return left_out(source, Signature::Failed, e.to_string()),
                Ok(v) if v.ok() => (
                    Signature::Verified,
                    v.signer
                        .map(|s| {
                            format!("signed by {} ({})", s.principals.join(", "), s.fingerprint)
                        })
                        .unwrap_or_else(|| "verified".into()),
                ),
                Ok(v) => {
                    let why: Vec<String> = v
                        .checks
                        .iter()
                        .filter(|c| !c.ok)
                        .map(|c| format!("{}: {}", c.what, c.detail))
                        .collect();
                    return left_out(source, Signature::Failed, why.join("; "));
                }
            },
            None => match check_detached(&bytes, &sig_bytes, crate::keys::NAMESPACE) {
                Ok(key) => (
                    Signature::Signed,
                    format!(
                        "good signature by {}; signer not checked (no --allowed-signers)",
                        key.fingerprint(ssh_key::HashAlg::Sha256)
                    ),
                ),
                Err(why) => {
                    return left_out(
                        source,
                        Signature::Failed,
                        format!("{}: {why}", sig.display()),
                    )
                }
            },
        },
    };
    Candidate {
        input: Input {
            source: source.to_string(),
            machine: None,
            signature,
            included: true,
            detail,
        },
        report: Some(report),
    }
}

/// A percentage for people: "-30.0 %".
pub fn pct(d: Option<f64>) -> String {
    match d {
        Some(d) if d.is_finite() => format!("{d:+.1} %"),
        _ => "n/a".into(),
    }
}

/// Which way is better, for people.
pub fn better_text(b: Better) -> &'static str {
    match b {
        Better::Higher => "higher is better",
        Better::Lower => "lower is better",
    }
}

/// The one-line summary of a view.
pub fn summary(f: &Fleet) -> String {
    let t = &f.totals;
    let mut s = format!(
        "{} reports: {} compared in {} model group{}",
        t.inputs,
        t.machines,
        t.groups,
        if t.groups == 1 { "" } else { "s" }
    );
    if t.unsigned > 0 {
        s.push_str(&format!(" ({} unsigned)", t.unsigned));
    }
    if t.left_out > 0 {
        s.push_str(&format!(", {} left out", t.left_out));
    }
    s.push_str(&format!(
        "; {} inventory difference{}, {} measurement outlier{} (more than {} % worse than the \
         group's median)",
        t.differences,
        if t.differences == 1 { "" } else { "s" },
        t.outliers,
        if t.outliers == 1 { "" } else { "s" },
        human::value(f.threshold_pct, "")
    ));
    s
}

/// The view as text for a terminal (the caller escapes control characters).
pub fn text(f: &Fleet) -> String {
    let mut o = String::new();
    o.push_str(&format!("hwcert fleet view: {}\n\nInputs\n", summary(f)));
    for i in &f.inputs {
        o.push_str(&format!(
            "  {:<8} {:<10} {}{}: {}\n",
            if i.included { "compared" } else { "LEFT OUT" },
            i.signature.as_str(),
            i.source,
            i.machine
                .as_deref()
                .filter(|m| *m != i.source)
                .map(|m| format!(" ({m})"))
                .unwrap_or_default(),
            i.detail
        ));
    }
    for g in &f.groups {
        o.push_str(&format!(
            "\n{}: {} machine{} ({})\n",
            g.model,
            g.machines.len(),
            if g.machines.len() == 1 { "" } else { "s" },
            g.machines.join(", ")
        ));
        if let Some(n) = &g.note {
            o.push_str(&format!("  {n}\n"));
            continue;
        }
        let differ: Vec<_> = g
            .attributes
            .iter()
            .filter(|a| !a.differing.is_empty())
            .collect();
        o.push_str(&format!(
            "  Inventory: {} attributes compared, {} differ\n",
            g.attributes.len(),
            differ.len()
        ));
        for a in differ {
            o.push_str(&format!(
                "    {}: {} on {} of {}{}\n",
                a.label,
                a.majority.as_deref().unwrap_or("(not recorded)"),
                a.agree,
                g.machines.len(),
                if a.tie { " (a tie)" } else { "" }
            ));
            for d in &a.differing {
                let mut parts = Vec::new();
                if !d.missing.is_empty() {
                    parts.push(format!("missing {}", d.missing.join("; ")));
                }
                if !d.extra.is_empty() {
                    parts.push(format!("extra {}", d.extra.join("; ")));
                }
                if parts.is_empty() {
                    parts.push(d.value.clone().unwrap_or_else(|| "(not recorded)".into()));
                }
                o.push_str(&format!("      {}: {}\n", d.machine, parts.join(", ")));
            }
        }
        let out: Vec<_> = g
            .measurements
            .iter()
            .filter(|m| !m.outliers.is_empty())
            .collect();
        o.push_str(&format!(
            "  Measurements: {} compared, {} with outliers\n",
            g.measurements.len(),
            out.len()
        ));
        for m in out {
            o.push_str(&format!(
                "    {} {} ({}): median {}\n",
                m.instance,
                m.label,
                better_text(m.better),
                human::value(m.median, &m.unit)
            ));
            for v in m.values.iter().filter(|v| m.outliers.contains(&v.machine)) {
                o.push_str(&format!(
                    "      {}: {} ({})\n",
                    v.machine,
                    human::value(v.value, &m.unit),
                    pct(v.deviation_pct)
                ));
            }
        }
    }
    o
}
