//! # reports — the hwcert report: the signed document, its renderings, verification
//!
//! [`build_report`] reads a run directory (`inventory.json`, `plan.json`, `journal.jsonl`,
//! `logs/`, as `hwcert run` leaves it — see [`run`]) and writes a report directory:
//!
//! ```text
//! report.json       the document (hwcert.report/1, see [`document`]): the truth
//! report.json.sig   its OpenSSH SSHSIG signature (Ed25519, namespace hwcert-report)
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

use sha2::{Digest, Sha256};

pub mod document;
pub mod hcl;
pub mod junit;
pub mod keys;
pub mod render;
pub mod run;
pub mod schema;
pub mod site;
pub mod svg;
#[doc(hidden)]
pub mod testkit;
pub mod time;
pub mod verify;

pub use document::{Counts, Overall, Report, ResultStatus, SCHEMA};
pub use hwdb::Inventory;

/// Files of a report directory.
pub const REPORT_JSON: &str = "report.json";
pub const REPORT_SIG: &str = "report.json.sig";
pub const REPORT_HTML: &str = "report.html";
pub const REPORT_MD: &str = "report.md";
pub const JUNIT_XML: &str = "junit.xml";

/// What went wrong, on which file, and what to do: one line.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: {}", .path.display(), io_reason(.error))]
    Io { path: PathBuf, error: io::Error },
    #[error("{0}")]
    Msg(String),
}

impl Error {
    pub fn io(path: impl AsRef<Path>, error: io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            error,
        }
    }
    pub fn msg(m: impl Into<String>) -> Self {
        Error::Msg(m.into())
    }
}

/// An I/O error as a short phrase ("no such file", "permission denied").
pub(crate) fn io_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file or directory".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => {
            let s = e.to_string();
            // "Is a directory (os error 21)" → "is a directory"
            let s = s.split(" (os error").next().unwrap_or(&s).to_string();
            let mut c = s.chars();
            match c.next() {
                Some(f) => f.to_lowercase().chain(c).collect(),
                None => s,
            }
        }
    }
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(b: &[u8]) -> String {
    verify::hex(&Sha256::digest(b))
}

/// SHA-256 of the running binary (/proc/self/exe), computed once.
pub fn binary_sha256() -> Option<String> {
    static SUM: OnceLock<Option<String>> = OnceLock::new();
    SUM.get_or_init(|| {
        let path = Path::new("/proc/self/exe");
        let mut f = fs::File::open(path)
            .or_else(|_| std::env::current_exe().and_then(fs::File::open))
            .ok()?;
        let mut h = Sha256::new();
        io::copy(&mut f, &mut h).ok()?;
        Some(verify::hex(&h.finalize()))
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

/// Write `bytes` to `path` through a temporary file and a rename, so that a reader never sees
/// half a file.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let name = path
        .file_name()
        .ok_or_else(|| Error::msg(format!("{}: not a file name", path.display())))?;
    let mut tmp_name = name.to_os_string();
    tmp_name.push(format!(".tmp.{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let r = fs::write(&tmp, bytes).and_then(|_| fs::rename(&tmp, path));
    if let Err(e) = r {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    Ok(())
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
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
    let copy_one = |rel: &String| -> Result<document::LogFile, Error> {
        let src = run_dir.join(rel);
        let bytes = fs::read(&src).map_err(|e| Error::io(&src, e))?;
        if !in_place {
            let dst = out.join(rel);
            fs::write(&dst, &bytes).map_err(|e| Error::io(&dst, e))?;
        }
        Ok(document::LogFile {
            path: rel.clone(),
            sha256: sha256_hex(&bytes),
            size: bytes.len() as u64,
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
    let tool = tool_info(&run.inventory);
    let mut report = Report::from_run(&mut run, logs, tool);
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
            Some(
                k.public_key()
                    .fingerprint(ssh_key::HashAlg::Sha256)
                    .to_string(),
            )
        }
        None => {
            match fs::remove_file(&sig_path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    return Err(Error::io(&sig_path, e))
                }
                _ => {}
            }
            None
        }
    };
    // The renderings read the document only (it reads back from report.json as it is: the
    // tests hold that), and the logs report.json hashes.
    render::write_all(&report, out_dir, signed_by.as_deref())?;
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
