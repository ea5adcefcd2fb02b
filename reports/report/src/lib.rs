//! # reports — the hwcert report: the signed document, its renderings, verification
//!
//! [`build_report`] reads a run directory (`inventory.json`, `plan.json`, `journal.jsonl`,
//! `logs/`, as `hwcert run` leaves it — see [`run`]) and writes a report directory:
//!
//! ```text
//! report.json       the document (hwcert.report/1, see [`document`]): the truth
//! report.json.sig   its OpenSSH SSHSIG signature (Ed25519, namespace hwcert-report)
//! allowed_signers   the signer's allowed_signers line (when signed; not itself signed)
//! report.html       one self-contained page rendered from report.json (templates/)
//! report.md         a summary to paste into a ticket
//! junit.xml         one testcase per instance, for CI systems
//! logs/             the instances' logs; report.json holds the SHA-256 of each
//! ```
//!
//! The signature covers report.json's bytes, and report.json holds the hash of every log, so
//! the signature covers the logs too. The HTML, Markdown and JUnit files are renderings: they
//! are not signed, and can be made again from report.json. Anyone verifies with stock OpenSSH:
//!
//! ```sh
//! ssh-keygen -Y verify -f allowed_signers -I PRINCIPAL -n hwcert-report -s report.json.sig < report.json
//! ```
//!
//! or with [`verify::verify`] (`hwcert verify`), which checks the logs as well. Keys are
//! OpenSSH Ed25519 key pairs ([`keys`]).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub mod fleet;
pub mod fleetpage;
pub mod hcl;
pub mod junit;
pub mod keys;
pub mod render;
pub mod sshsig;
pub mod svg;
pub mod verify;

use documents::report::{self as document, Counts, Overall, Report};
use documents::rundir as run;
pub use documents::Error;
use inventory::Inventory;

/// Files of a report directory.
pub use documents::reportdir::{JUNIT_XML, REPORT_HTML, REPORT_JSON, REPORT_MD, REPORT_SIG};

/// Lowercase hex SHA-256.
pub fn sha256_hex(b: &[u8]) -> String {
    hwsys::hash::sha256_hex(b)
}

/// SHA-256 of the running binary (/proc/self/exe), computed once.
pub fn binary_sha256() -> Option<String> {
    static SUM: OnceLock<Option<String>> = OnceLock::new();
    SUM.get_or_init(|| {
        let path = Path::new("/proc/self/exe");
        let f = fs::File::open(path)
            .or_else(|_| std::env::current_exe().and_then(fs::File::open))
            .ok()?;
        hwsys::hash::sha256_hex_of(f).ok()
    })
    .clone()
}

/// The tool section of a report made by this build, for an inventory.
pub fn tool_info(inv: &Inventory) -> document::Tool {
    document::Tool {
        name: "hwcert".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        git_commit: env!("HWCERT_GIT_COMMIT").into(),
        binary_sha256: binary_sha256(),
        pci_ids: inv.probed_by.pci_ids.clone(),
    }
}

/// What [`build_report`] made.
#[derive(Debug, Clone)]
pub struct ReportSummary {
    pub out_dir: PathBuf,
    pub overall: Overall,
    /// The verdict's one sentence.
    pub summary: String,
    pub counts: Counts,
    /// The signing key's fingerprint (`SHA256:…`) when the report was signed.
    pub signed_by: Option<String>,
    /// How many log files were copied and hashed.
    pub logs: usize,
    /// What could not be read (also in report.json's `warnings`).
    pub warnings: Vec<String>,
}

/// Write `bytes` to `path` atomically and durably (see [`hwsys::fs::write_atomic`]).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    hwsys::fs::write_atomic(path, bytes).map_err(|e| Error::io(path, e))
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// A reader that writes what it reads to `w` (when given), counting the bytes; a write error
/// is kept in `error` (and ends the reading).
struct Tee<R, W> {
    r: R,
    w: Option<W>,
    n: u64,
    error: Option<io::Error>,
}

impl<R: io::Read, W: io::Write> io::Read for Tee<R, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.r.read(buf)?;
        if let Some(w) = &mut self.w {
            if let Err(e) = w.write_all(&buf[..n]) {
                self.error = Some(e);
                return Err(io::Error::other("the copy could not be written"));
            }
        }
        self.n += n as u64;
        Ok(n)
    }
}

/// Copy the run's logs into `out/logs` (unless the report is written into the run directory
/// itself) and hash them. Logs of an earlier report in `out` that the run no longer has are
/// removed; a `logs/` directory in `out` that is not a report's is never touched.
fn copy_logs(
    run_dir: &Path,
    out: &Path,
    warnings: &mut Vec<String>,
) -> Result<Vec<document::LogFile>, Error> {
    let rels = run::list_logs(run_dir, warnings)?;
    let in_place = same_dir(run_dir, out);
    let out_logs = out.join(run::LOGS_DIR);
    if !in_place && out_logs.exists() {
        let mut ignored = Vec::new();
        let existing = run::list_logs(out, &mut ignored)?;
        let ours = out.join(REPORT_JSON).is_file();
        let wanted: std::collections::BTreeSet<&String> = rels.iter().collect();
        let stale: Vec<&String> = existing.iter().filter(|e| !wanted.contains(e)).collect();
        if !stale.is_empty() && !ours {
            return Err(Error::msg(format!(
                "{}: holds files that are not a report's logs: choose another directory with -o",
                out_logs.display()
            )));
        }
        for s in stale {
            let p = out.join(s);
            fs::remove_file(&p).map_err(|e| Error::io(&p, e))?;
        }
    }
    if !in_place {
        let dirs: std::collections::BTreeSet<PathBuf> = rels
            .iter()
            .filter_map(|r| out.join(r).parent().map(Path::to_path_buf))
            .collect();
        for d in dirs {
            fs::create_dir_all(&d).map_err(|e| Error::io(&d, e))?;
        }
    }
    // Hashed as it is copied: the bytes hashed are the bytes written, and no log is ever held
    // in memory whole.
    let copy_one = |rel: &String| -> Result<document::LogFile, Error> {
        let src = run_dir.join(rel);
        let dst = out.join(rel);
        let r = fs::File::open(&src).map_err(|e| Error::io(&src, e))?;
        let w = match in_place {
            true => None,
            false => Some(fs::File::create(&dst).map_err(|e| Error::io(&dst, e))?),
        };
        let mut tee = Tee {
            r,
            w,
            n: 0,
            error: None,
        };
        let sha256 = hwsys::hash::sha256_hex_of(&mut tee).map_err(|e| match tee.error.take() {
            Some(we) => Error::io(&dst, we),
            None => Error::io(&src, e),
        })?;
        Ok(document::LogFile {
            path: rel.clone(),
            sha256,
            size: tee.n,
        })
    };
    // Thousands of small files: a few threads, each on a contiguous share, in order.
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4);
    let chunk = rels.len().div_ceil(threads).max(1);
    let parts: Vec<Result<Vec<document::LogFile>, Error>> = std::thread::scope(|s| {
        let handles: Vec<_> = rels
            .chunks(chunk)
            .map(|part| s.spawn(|| part.iter().map(copy_one).collect::<Result<Vec<_>, _>>()))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Error::msg("copying the logs: a thread panicked")))
            })
            .collect()
    });
    let mut out_files = Vec::with_capacity(rels.len());
    for p in parts {
        out_files.extend(p?);
    }
    Ok(out_files)
}

/// Make the report of the run in `run_dir` in `out_dir` (created if needed), signed with the
/// private key `key` when given (otherwise unsigned, and an earlier signature is removed).
pub fn build_report(
    run_dir: &Path,
    out_dir: &Path,
    key: Option<&Path>,
) -> Result<ReportSummary, Error> {
    // The key first: a key that cannot sign must not leave a half-made report behind.
    let key = key.map(keys::load_signing_key).transpose()?;
    let mut run = run::RunDir::read(run_dir)?;
    if out_dir.starts_with(run_dir.join(run::LOGS_DIR)) {
        return Err(Error::msg(format!(
            "{}: the report cannot go inside the run's logs/ (choose another -o)",
            out_dir.display()
        )));
    }
    fs::create_dir_all(out_dir).map_err(|e| Error::io(out_dir, e))?;
    let mut warnings = Vec::new();
    let logs = copy_logs(run_dir, out_dir, &mut warnings)?;
    let n_logs = logs.len();
    let inv_path = run_dir.join(run::INVENTORY_FILE);
    let inv: Inventory = serde_json::from_value(run.inventory_json.clone()).map_err(|e| {
        Error::msg(format!(
            "{}: not an inventory document (hwcert.inventory/1): {e}",
            inv_path.display()
        ))
    })?;
    let tool = tool_info(&inv);
    let mut report = Report::from_run(&mut run, logs, tool, |run, results| {
        hcl::entries(run, &inv, results)
    });
    report.warnings.extend(warnings);
    let json = report
        .to_json()
        .map_err(|e| Error::msg(format!("cannot write the report: {e}")))?;
    write_atomic(&out_dir.join(REPORT_JSON), &json)?;
    let sig_path = out_dir.join(REPORT_SIG);
    let signed_by = match &key {
        Some(k) => {
            let pem = keys::sign(k, &json)?;
            write_atomic(&sig_path, pem.as_bytes())?;
            // The signer's line beside the report, so the printed ssh-keygen command works.
            let line = keys::signer_line(k)?;
            write_atomic(
                &out_dir.join(documents::reportdir::ALLOWED_SIGNERS),
                format!("{line}\n").as_bytes(),
            )?;
            Some(
                k.public_key()
                    .fingerprint(ssh_key::HashAlg::Sha256)
                    .to_string(),
            )
        }
        None => {
            for p in [
                sig_path.clone(),
                out_dir.join(documents::reportdir::ALLOWED_SIGNERS),
            ] {
                match fs::remove_file(&p) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(Error::io(&p, e)),
                    _ => {}
                }
            }
            None
        }
    };
    // The renderings read the document only (it reads back from report.json as it is: the
    // tests hold that), and the logs report.json hashes.
    write_renderings(&report, out_dir, signed_by.as_deref())?;
    Ok(ReportSummary {
        out_dir: out_dir.to_path_buf(),
        overall: report.verdict.overall,
        summary: report.verdict.summary.clone(),
        counts: report.counts.clone(),
        signed_by,
        logs: n_logs,
        warnings: report.warnings,
    })
}

/// Write report.html, report.md and junit.xml into `dir` (which holds the logs).
pub fn write_renderings(r: &Report, dir: &Path, signed_by: Option<&str>) -> Result<(), Error> {
    let (html, md) = render::pages(r, dir, signed_by)?;
    write_atomic(&dir.join(REPORT_HTML), html.as_bytes())?;
    write_atomic(&dir.join(REPORT_MD), md.as_bytes())?;
    let xml = junit::junit(r, dir)?;
    write_atomic(&dir.join(JUNIT_XML), xml.as_bytes())?;
    Ok(())
}
