//! Reading a run directory as `hwcert run` leaves it:
//!
//! ```text
//! inventory.json      the machine as probed when the run started (hwcert.inventory/1)
//! plan.json           the plan (hwcert.plan/1)
//! journal.jsonl       one JSON object per line per finished instance; the last line of an
//!                     instance wins (an `interrupted` line, then its result after a resume)
//! logs/<name>.log     each instance's output
//! ```
//!
//! Everything is read tolerantly: unknown fields are ignored, a journal line or a measurement
//! that cannot be understood is a warning, not an error. This crate does not depend on the
//! runner (crate `suite`): the shapes it needs are declared here.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Component as PathComponent, Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use cases::Status;

use crate::Error;

pub const INVENTORY_FILE: &str = "inventory.json";
pub const PLAN_FILE: &str = "plan.json";
pub const JOURNAL_FILE: &str = "journal.jsonl";
pub const LOGS_DIR: &str = "logs";

/// The parts of plan.json a report needs.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PlanDoc {
    #[serde(default)]
    pub schema: String,
    #[serde(default)]
    pub profile: String,
    #[serde(default)]
    pub profile_file: Option<ProfileFile>,
    #[serde(default)]
    pub sysroot: Option<String>,
    #[serde(default)]
    pub instances: Vec<PlanInstance>,
}

/// The profile file a plan was made from.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProfileFile {
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub text: String,
}

/// One planned instance.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PlanInstance {
    pub name: String,
    #[serde(default)]
    pub case: String,
    #[serde(default)]
    pub component: String,
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub target_label: Option<String>,
    #[serde(default)]
    pub blocker: bool,
}

/// One journal line.
#[derive(Debug, Clone, Deserialize)]
pub struct JournalLine {
    pub name: String,
    pub status: Status,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub expected: Option<String>,
    #[serde(default)]
    pub measured: Option<String>,
    #[serde(default)]
    pub started: Option<String>,
    #[serde(default)]
    pub duration_ms: Option<f64>,
    /// One bad measurement loses only itself (see [`read_journal`]).
    #[serde(default)]
    pub measurements: Vec<Measurement>,
    #[serde(default)]
    pub log: Option<String>,
    #[serde(default)]
    pub boot_id: Option<String>,
    #[serde(default)]
    pub component: Option<String>,
    #[serde(default)]
    pub blocker: Option<bool>,
    #[serde(default)]
    pub leaked: bool,
}

/// A measured number as the report carries it: `value` is null where the case measured
/// something that is not a finite number (serde_json writes NaN as null).
#[derive(Debug, Clone, PartialEq, serde::Serialize, Deserialize)]
pub struct Measurement {
    pub name: String,
    pub value: Option<f64>,
    #[serde(default)]
    pub unit: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<Threshold>,
}

/// The limit that decided pass or fail.
#[derive(Debug, Clone, PartialEq, serde::Serialize, Deserialize)]
pub struct Threshold {
    /// `>=`, `<=`, `==`, `>`, `<`.
    pub op: String,
    pub value: Option<f64>,
}

impl Measurement {
    /// Whether the value holds against its threshold (`None` without one, or without numbers).
    pub fn holds(&self) -> Option<bool> {
        let t = self.threshold.as_ref()?;
        let (v, l) = (self.value?, t.value?);
        Some(match t.op.as_str() {
            ">=" => v >= l,
            "<=" => v <= l,
            "==" => v == l,
            ">" => v > l,
            "<" => v < l,
            _ => return None,
        })
    }
}

/// A run directory, read.
#[derive(Debug, Clone)]
pub struct RunDir {
    pub path: PathBuf,
    /// inventory.json as written (carried into the report verbatim).
    pub inventory_json: Value,
    pub inventory: hwdb::Inventory,
    /// plan.json as written (carried into the report verbatim).
    pub plan_json: Value,
    pub plan: PlanDoc,
    /// Every journal line that could be read, in file order.
    pub journal: Vec<JournalLine>,
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
        let (inventory_json, inventory) =
            read_json::<hwdb::Inventory>(&inv_path, "an inventory document (hwcert.inventory/1)")?;
        // The plan and the journal are the big files of a big run: read them side by side.
        let plan_path = dir.join(PLAN_FILE);
        let journal_path = dir.join(JOURNAL_FILE);
        let (plan, journal) = std::thread::scope(|s| {
            let plan =
                s.spawn(|| read_json::<PlanDoc>(&plan_path, "a plan document (hwcert.plan/1)"));
            let journal = read_journal(&journal_path);
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
            inventory,
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

/// One journal line: as written (the usual case), or read field by field so that a bad
/// measurement loses only itself; a line that cannot be read at all is a warning.
fn read_line(raw: &[u8], at: &str, warnings: &mut Vec<String>) -> Option<JournalLine> {
    if let Ok(l) = serde_json::from_slice::<JournalLine>(raw) {
        return Some(l);
    }
    let mut v: Value = match serde_json::from_slice(raw) {
        Ok(v) => v,
        Err(e) => {
            warnings.push(format!("{at}: ignored: {e}"));
            return None;
        }
    };
    let ms = match v.as_object_mut() {
        Some(o) => o.remove("measurements"),
        None => {
            warnings.push(format!("{at}: ignored: not a JSON object"));
            return None;
        }
    };
    let mut line: JournalLine = match serde_json::from_value(v) {
        Ok(l) => l,
        Err(e) => {
            warnings.push(format!("{at}: ignored: {e}"));
            return None;
        }
    };
    let ms = match ms {
        Some(Value::Array(a)) => a,
        Some(Value::Null) | None => Vec::new(),
        Some(_) => {
            warnings.push(format!(
                "{at}: {}: measurements is not a list: ignored",
                line.name
            ));
            Vec::new()
        }
    };
    for (j, m) in ms.into_iter().enumerate() {
        match serde_json::from_value::<Measurement>(m) {
            Ok(m) => line.measurements.push(m),
            Err(e) => warnings.push(format!(
                "{at}: {}: measurement {} ignored: {e}",
                line.name,
                j + 1
            )),
        }
    }
    Some(line)
}

/// Read journal.jsonl: its lines in order, and what could not be read. A last line without
/// its newline was cut short by a crash while it was written.
pub fn read_journal(path: &Path) -> Result<(Vec<JournalLine>, Vec<String>), Error> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok((
                Vec::new(),
                vec![format!(
                    "{}: no journal: no instance finished",
                    path.display()
                )],
            ));
        }
        Err(e) => return Err(Error::io(path, e)),
    };
    let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    let cut_short = !bytes.is_empty() && !bytes.ends_with(b"\n");
    let n = lines.len();
    // Lines are independent: parse them in a few contiguous chunks side by side, and put the
    // chunks back in order.
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4);
    let chunk = n.div_ceil(threads).max(1);
    let display = path.display().to_string();
    let parts: Vec<(Vec<JournalLine>, Vec<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = lines
            .chunks(chunk)
            .enumerate()
            .map(|(c, part)| {
                let display = &display;
                s.spawn(move || {
                    let mut out = Vec::with_capacity(part.len());
                    let mut warnings = Vec::new();
                    for (k, raw) in part.iter().enumerate() {
                        let i = c * chunk + k;
                        if raw.iter().all(u8::is_ascii_whitespace) {
                            continue;
                        }
                        let at = format!("{display}:{}", i + 1);
                        if cut_short && i + 1 == n && serde_json::from_slice::<Value>(raw).is_err()
                        {
                            warnings.push(format!("{at}: ignored an incomplete last line"));
                            continue;
                        }
                        if let Some(l) = read_line(raw, &at, &mut warnings) {
                            out.push(l);
                        }
                    }
                    (out, warnings)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| (Vec::new(), vec![format!("{display}: a reader panicked")]))
            })
            .collect()
    });
    let mut journal = Vec::with_capacity(n);
    let mut warnings = Vec::new();
    for (l, w) in parts {
        journal.extend(l);
        warnings.extend(w);
    }
    Ok((journal, warnings))
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

    #[test]
    fn measurements_hold() {
        let m = |v: Option<f64>, op: &str, l: f64| Measurement {
            name: "x".into(),
            value: v,
            unit: "u".into(),
            threshold: Some(Threshold {
                op: op.into(),
                value: Some(l),
            }),
        };
        assert_eq!(m(Some(2.0), ">=", 1.0).holds(), Some(true));
        assert_eq!(m(Some(0.5), ">=", 1.0).holds(), Some(false));
        assert_eq!(m(Some(1.0), "==", 1.0).holds(), Some(true));
        assert_eq!(m(None, "==", 1.0).holds(), None);
        assert_eq!(m(Some(1.0), "~", 1.0).holds(), None);
    }
}
