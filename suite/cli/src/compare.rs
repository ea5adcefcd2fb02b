//! `hwcert compare REPORT…` and `hwcert hwdb fleet --db DIR`: the fleet view (issue 18). Each
//! report is read and its signature checked ([`reports::fleet::load`]), the machines are
//! compared by model ([`documents::fleet::compare`]), and the view is printed as text or JSON
//! (`hwcert.fleet/1`), and written as an HTML page with `--html`.
//!
//! Exit status: 0 every machine alike its group and every report compared; 1 an inventory
//! difference or a measurement outlier, or a report that could not be read (left out); 7 a
//! report whose signature does not hold (left out; the rest are compared); 2 a wrong command
//! line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use documents::fleet::{Candidate, Fleet, Signature};

use crate::{esay, write_human, write_stdout};

/// The output options both commands share.
#[derive(clap::Args, Debug)]
pub struct FleetOptions {
    /// Who may sign the reports (ssh-keygen(1) allowed_signers format). Without it a
    /// signature is checked against its own key only, and the signer is not checked.
    #[arg(long, value_name = "FILE")]
    pub allowed_signers: Option<PathBuf>,
    /// A machine is an outlier when a figure is more than PCT percent of the group's median
    /// worse than the median (below it for bandwidth, IOPS, throughput; above it for latency).
    #[arg(long, value_name = "PCT", default_value_t = documents::fleet::DEFAULT_THRESHOLD_PCT,
          value_parser = threshold)]
    pub threshold: f64,
    /// text (for people) or json (the hwcert.fleet/1 document, `hwcert schema fleet`).
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Also write the view as a self-contained HTML page to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Format {
    Text,
    Json,
}

fn threshold(s: &str) -> Result<f64, String> {
    match s.trim().trim_end_matches('%').parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..=100.0).contains(&v) => Ok(v),
        _ => Err(format!("{s:?} is not a percentage from 0 to 100")),
    }
}

/// `hwcert compare`.
#[derive(clap::Args, Debug)]
pub struct CompareArgs {
    /// Report directories (report.json, report.json.sig beside it) or report.json files.
    #[arg(value_name = "REPORT_DIR|report.json", required = true)]
    pub reports: Vec<PathBuf>,
    #[command(flatten)]
    pub options: FleetOptions,
}

pub fn cmd_compare(args: CompareArgs) -> Result<ExitCode> {
    if let Some(c) = wrong_allowed(&args.options) {
        return Ok(c);
    }
    let allowed = args.options.allowed_signers.as_deref();
    let candidates = args
        .reports
        .iter()
        .map(|p| reports::fleet::load(p, &p.display().to_string(), allowed))
        .collect();
    show(candidates, &args.options)
}

/// The reports an HCL store keeps (`DIR/reports/<sha256>/`), in name order.
pub fn store_reports(db: &Path) -> Result<Vec<PathBuf>> {
    let dir = db.join(hcl::REPORTS_DIR);
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let e = e.with_context(|| format!("cannot read {}", dir.display()))?;
        if e.path().is_dir() {
            out.push(e.path());
        }
    }
    out.sort();
    Ok(out)
}

/// `hwcert hwdb fleet`: the reports of the store `db`.
pub fn cmd_fleet(db: &Path, options: &FleetOptions) -> Result<ExitCode> {
    if let Some(c) = wrong_allowed(options) {
        return Ok(c);
    }
    // Not a store: said as `hwdb query` says it.
    hcl::Store::open(db).with_context(|| format!("cannot open the HCL store {}", db.display()))?;
    let allowed = options.allowed_signers.as_deref();
    let candidates = store_reports(db)?
        .iter()
        .map(|p| {
            let name = p
                .strip_prefix(db)
                .map(|r| r.display().to_string())
                .unwrap_or_else(|_| p.display().to_string());
            reports::fleet::load(p, &name, allowed)
        })
        .collect();
    show(candidates, options)
}

/// The exit status of a view (see the module's documentation).
pub fn status(f: &Fleet) -> u8 {
    if f.inputs.iter().any(|i| i.signature == Signature::Failed) {
        documents::exit::TAMPERED
    } else if !f.alike() || f.totals.left_out > 0 || f.totals.machines == 0 {
        documents::exit::NO
    } else {
        documents::exit::OK
    }
}

/// A missing --allowed-signers file is a mistake of the command line, not the reports' fault.
fn wrong_allowed(o: &FleetOptions) -> Option<ExitCode> {
    let a = o.allowed_signers.as_ref()?;
    if a.is_file() {
        return None;
    }
    esay!(
        "hwcert: error: --allowed-signers {}: no such file",
        a.display()
    );
    Some(ExitCode::from(documents::exit::USAGE))
}

fn show(candidates: Vec<Candidate>, o: &FleetOptions) -> Result<ExitCode> {
    let f = documents::fleet::compare(candidates, o.threshold);
    if let Some(h) = &o.html {
        let page = reports::fleetpage::html(&f)?;
        hwsys::fs::write_atomic(h, page.as_bytes())
            .with_context(|| format!("cannot write {}", h.display()))?;
        esay!("hwcert: wrote {}", h.display());
    }
    match o.format {
        Format::Json => {
            let mut s = hwsys::text::json_terminal_safe(serde_json::to_string_pretty(&f)?);
            s.push('\n');
            write_stdout(s.as_bytes())?;
        }
        Format::Text => write_human(&reports::fleet::text(&f))?,
    }
    for i in f.inputs.iter().filter(|i| !i.included) {
        esay!("hwcert: left out {}: {}", i.source, i.detail);
    }
    Ok(ExitCode::from(status(&f)))
}
