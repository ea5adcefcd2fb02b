//! The run directory as `hwcert run` leaves it, and reading it back:
//!
//! ```text
//! inventory.json      the machine as probed when the run started (hwcert.inventory/1)
//! plan.json           the plan (hwcert.plan/1)
//! journal.jsonl       one JSON object per line per finished instance; the last line of an
//!                     instance wins (an `interrupted` line, then its result after a resume)
//! state.json          what is running now (supervisor, boot, instances and their groups)
//! logs/<stem>.log     each instance's output
//! results/<stem>.json a worker's outcome, read by the supervisor
//! ```
//!
//! Reading is tolerant: unknown fields are ignored, a journal line or a measurement that
//! cannot be understood is a warning, not an error.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Component as PathComponent, Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Error;
use crate::journal::{self, JournalEntry};
use crate::plan::Plan;

pub const INVENTORY_FILE: &str = "inventory.json";
pub const PLAN_FILE: &str = "plan.json";
pub use crate::journal::JOURNAL_FILE;
pub const STATE_FILE: &str = "state.json";
pub const LOGS_DIR: &str = "logs";
pub const RESULTS_DIR: &str = "results";

/// The file name (without extension) that holds an instance's log and result. Instance names
/// are kept readable (`pci::driver_bound::0000:3b:00.0`); `/`, `%`, control characters and a
/// leading dot are percent-encoded so that distinct names never share a file, and very long
/// names are cut and suffixed with a hash of the whole name.
pub fn file_stem(instance: &str) -> String {
    let mut s = String::with_capacity(instance.len());
    for (i, c) in instance.chars().enumerate() {
        let encode = c == '/' || c == '%' || c.is_control() || (i == 0 && c == '.');
        if encode {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                s.push_str(&format!("%{b:02X}"));
            }
        } else {
            s.push(c);
        }
    }
    if s.is_empty() {
        s.push_str("%00");
    }
    // Room for ".log.tmp.<pid>" and friends under NAME_MAX (255 bytes).
    const MAX: usize = 200;
    if s.len() > MAX {
        let mut cut = MAX - 17;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        let h = hwsys::hash::fnv1a64(instance.as_bytes());
        s = format!("{}~{h:016x}", &s[..cut]);
    }
    s
}

/// `logs/<stem>.log`, relative to the run directory.
pub fn log_rel(instance: &str) -> String {
    format!("{LOGS_DIR}/{}.log", file_stem(instance))
}

/// `results/<stem>.json`.
pub fn result_path(dir: &Path, instance: &str) -> PathBuf {
    dir.join(RESULTS_DIR)
        .join(format!("{}.json", file_stem(instance)))
}

/// Where cases that outlive a boot keep their state (`casestate/`).
pub const CASE_STATE_DIR: &str = "casestate";

/// `casestate/<stem>.json`: what a case that takes the machine down keeps across boots.
pub fn case_state_path(dir: &Path, instance: &str) -> PathBuf {
    dir.join(CASE_STATE_DIR)
        .join(format!("{}.json", file_stem(instance)))
}

/// `results/<stem>.panic`: the panic message a worker leaves before it dies.
pub fn panic_path(dir: &Path, instance: &str) -> PathBuf {
    dir.join(RESULTS_DIR)
        .join(format!("{}.panic", file_stem(instance)))
}

/// What is running now: state.json.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    pub boot_id: String,
    pub supervisor_pid: u32,
    #[serde(default)]
    pub running: Vec<Running>,
    /// When the run started (its first session; a resume keeps it), in the terms of the
    /// kernel log's timestamps, so that cases can tell the records of the run from the
    /// boot's earlier ones. Absent in state files of older versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_started: Option<RunStart>,
}

/// An instant of a boot: the boot's ID and CLOCK_MONOTONIC then (the clock of the kernel log's
/// record timestamps, which do not count suspended time either).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunStart {
    pub boot_id: String,
    /// CLOCK_MONOTONIC, microseconds.
    pub monotonic_us: u64,
}

/// An instance that is running.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Running {
    pub name: String,
    /// UTC, RFC 3339.
    pub started: String,
    pub started_unix_ms: u64,
    /// The worker's process group, once spawned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pgid: Option<i32>,
}

impl RunState {
    pub fn read(dir: &Path) -> Option<RunState> {
        let b = fs::read(dir.join(STATE_FILE)).ok()?;
        serde_json::from_slice(&b).ok()
    }
    pub fn write(&self, dir: &Path) -> io::Result<()> {
        let mut b = serde_json::to_vec_pretty(self).map_err(io::Error::other)?;
        b.push(b'\n');
        hwsys::fs::write_atomic(&dir.join(STATE_FILE), &b)
    }
}

/// A run directory, read.
#[derive(Debug, Clone)]
pub struct RunDir {
    pub path: PathBuf,
    /// inventory.json as written (carried into the report verbatim).
    pub inventory_json: Value,
    /// plan.json as written (carried into the report verbatim).
    pub plan_json: Value,
    pub plan: Plan,
    /// Every journal line that could be read, in file order.
    pub journal: Vec<JournalEntry>,
    /// What could not be read.
    pub warnings: Vec<String>,
}

/// A JSON file as it is (to carry into the report) and as `T` (to read).
fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> Result<(Value, T), Error> {
    let bytes = fs::read(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::msg(format!(
                "{}: no such file: is {} the directory `hwcert run` made?",
                path.display(),
                path.parent().unwrap_or(Path::new(".")).display()
            ))
        } else {
            Error::io(path, e)
        }
    })?;
    let bad = |e: serde_json::Error| Error::msg(format!("{}: not {what}: {e}", path.display()));
    let typed = serde_json::from_slice(&bytes).map_err(bad)?;
    let value = serde_json::from_slice(&bytes).map_err(bad)?;
    Ok((value, typed))
}

impl RunDir {
    /// Read the run directory `dir`.
    pub fn read(dir: &Path) -> Result<RunDir, Error> {
        if !dir.is_dir() {
            return Err(Error::msg(format!(
                "{}: no such directory (give the run directory `hwcert run` made)",
                dir.display()
            )));
        }
        let inv_path = dir.join(INVENTORY_FILE);
        // The inventory's shape is the inventory crate's: here it must be an object, and it is
        // carried into the report as it is.
        let (inventory_json, _) = read_json::<serde_json::Map<String, Value>>(
            &inv_path,
            "an inventory document (hwcert.inventory/1)",
        )?;
        // The plan and the journal are the big files of a big run: read them side by side.
        let plan_path = dir.join(PLAN_FILE);
        let journal_path = dir.join(JOURNAL_FILE);
        let (plan, journal) = std::thread::scope(|s| {
            let plan = s.spawn(|| read_json::<Plan>(&plan_path, "a plan document (hwcert.plan/1)"));
            let journal = journal::read(&journal_path);
            let plan = plan
                .join()
                .unwrap_or_else(|_| Err(Error::msg("plan.json: the reader panicked")));
            (plan, journal)
        });
        let (plan_json, plan) = plan?;
        let (journal, warnings) = journal?;
        Ok(RunDir {
            path: dir.to_path_buf(),
            inventory_json,
            plan_json,
            plan,
            journal,
            warnings,
        })
    }

    /// The last journal line of each instance (its index in `journal`), and how many lines it
    /// has.
    pub fn latest(&self) -> BTreeMap<&str, (usize, u32)> {
        let mut m: BTreeMap<&str, (usize, u32)> = BTreeMap::new();
        for (i, l) in self.journal.iter().enumerate() {
            let e = m.entry(l.name.as_str()).or_insert((i, 0));
            e.0 = i;
            e.1 += 1;
        }
        m
    }
}

/// Whether `rel` is a plain relative path inside `logs/` (no `..`, not absolute).
pub fn is_log_path(rel: &str) -> bool {
    let p = Path::new(rel);
    let mut comps = p.components();
    if comps.next() != Some(PathComponent::Normal(LOGS_DIR.as_ref())) {
        return false;
    }
    let rest: Vec<_> = comps.collect();
    !rest.is_empty() && rest.iter().all(|c| matches!(c, PathComponent::Normal(_)))
}

/// Every regular file under `dir/logs`, as relative paths (`logs/…`) in sorted order.
/// Symbolic links and other special files are left out, with a warning.
pub fn list_logs(dir: &Path, warnings: &mut Vec<String>) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    let root = dir.join(LOGS_DIR);
    if !root.is_dir() {
        return Ok(out);
    }
    let mut stack = vec![(root, LOGS_DIR.to_string())];
    while let Some((d, rel)) = stack.pop() {
        let rd = fs::read_dir(&d).map_err(|e| Error::io(&d, e))?;
        for ent in rd {
            let ent = ent.map_err(|e| Error::io(&d, e))?;
            let Some(name) = ent.file_name().to_str().map(str::to_string) else {
                warnings.push(format!(
                    "{}: a file name that is not UTF-8 left out",
                    ent.path().display()
                ));
                continue;
            };
            let ft = ent.file_type().map_err(|e| Error::io(ent.path(), e))?;
            let child = format!("{rel}/{name}");
            if ft.is_dir() {
                stack.push((ent.path(), child));
            } else if ft.is_file() {
                out.push(child);
            } else {
                warnings.push(format!(
                    "{}: not a regular file (a link?): left out of the report",
                    ent.path().display()
                ));
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_stems_are_distinct_and_safe() {
        assert_eq!(
            file_stem("pci::driver_bound::0000:3b:00.0"),
            "pci::driver_bound::0000:3b:00.0"
        );
        assert_eq!(file_stem("a/b"), "a%2Fb");
        assert_eq!(file_stem("a%2Fb"), "a%252Fb");
        assert_eq!(file_stem(".."), "%2E.");
        assert_eq!(file_stem(""), "%00");
        assert_eq!(file_stem("x\ny"), "x%0Ay");
        let long = "x".repeat(300);
        let s = file_stem(&long);
        assert!(s.len() <= 200, "{}", s.len());
        assert_ne!(s, file_stem(&"x".repeat(301)));
    }

    #[test]
    fn log_paths() {
        assert!(is_log_path("logs/cpu::all_online.log"));
        assert!(is_log_path("logs/a/b.log"));
        for bad in [
            "",
            "logs",
            "logs/",
            "/logs/x",
            "logs/../plan.json",
            "x/logs/a",
            "../logs/a",
        ] {
            assert!(!is_log_path(bad), "{bad}");
        }
    }
}
