//! journal.jsonl: one JSON line per finished (or interrupted) instance, appended and fsync'd
//! before the next instance starts, so that nothing finished is lost. The runner writes it
//! ([`Journal`]), a resume reads it back after [`repair`], and the report reads it with
//! [`read`], which loses only what it cannot read (a bad line, a bad measurement) and says so.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::error::Error;
use crate::measure::Measurement;
use crate::plan::Component;
use crate::status::Status;

/// The journal's file name in the run directory.
pub const JOURNAL_FILE: &str = "journal.jsonl";

/// One finished (or interrupted) instance: a line of journal.jsonl.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    pub name: String,
    pub status: Status,
    /// Why (skip, error, timeout, crash, interrupted), or "expected …; measured …" for a fail.
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measured: Option<String>,
    /// UTC, RFC 3339 (empty when a line written by hand lacks it).
    #[serde(default)]
    pub started: String,
    #[serde(default, deserialize_with = "whole_ms")]
    pub duration_ms: u64,
    #[serde(default)]
    pub measurements: Vec<Measurement>,
    /// The log file, relative to the run directory (empty: none).
    #[serde(default)]
    pub log: String,
    #[serde(default)]
    pub boot_id: String,
    /// The instance's component (absent in old lines, or one this build does not know).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "known_component"
    )]
    pub component: Option<Component>,
    #[serde(default)]
    pub blocker: bool,
    /// The last lines of the log, for a timeout or a crash.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log_tail: Vec<String>,
    /// Processes of the instance were still running after it finished and were killed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub leaked: bool,
    /// Bytes of this attempt's output that the log cap dropped from the middle of its log
    /// (absent: none; the log holds a line saying so where they were).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_dropped_bytes: Option<u64>,
}

/// A duration written as a whole or fractional number of milliseconds (negative reads as 0).
fn whole_ms<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let v = Option::<f64>::deserialize(d)?.unwrap_or(0.0);
    Ok(if v.is_finite() && v > 0.0 {
        v.min(u64::MAX as f64) as u64
    } else {
        0
    })
}

fn known_component<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Component>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    Ok(v.and_then(|v| serde_json::from_value(v).ok()))
}

impl JournalEntry {
    /// A final result: anything but `interrupted` (an interrupted instance runs again).
    pub fn is_final(&self) -> bool {
        self.status.is_final()
    }
}

/// The journal, open for appending.
pub struct Journal {
    file: File,
}

impl Journal {
    /// Open (creating it, durably, if needed) the journal of a run directory.
    pub fn open(dir: &Path) -> io::Result<Journal> {
        let path = dir.join(JOURNAL_FILE);
        let existed = path.exists();
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        if !existed {
            file.sync_all()?;
            hwsys::fs::fsync_dir(dir)?;
        }
        Ok(Journal { file })
    }

    /// Append one line and fsync it.
    pub fn append(&mut self, e: &JournalEntry) -> io::Result<()> {
        let mut line = serde_json::to_string(e).map_err(io::Error::other)?;
        line.push('\n');
        self.file.write_all(line.as_bytes())?;
        self.file.sync_data()
    }
}

/// Make a journal whose writer was killed mid-line appendable again. A last line without its
/// newline that still parses was written whole and only lost the newline: it is kept, and the
/// newline added. One that does not parse was cut short: it is cut off. Returns what was done,
/// for the run's warnings.
pub fn repair(path: &Path) -> io::Result<Option<String>> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if bytes.is_empty() || bytes.ends_with(b"\n") {
        return Ok(None);
    }
    let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let last = bytes.get(keep..).unwrap_or_default();
    let what = if serde_json::from_slice::<JournalEntry>(last).is_ok() {
        let mut f = OpenOptions::new().append(true).open(path)?;
        f.write_all(b"\n")?;
        f.sync_all()?;
        format!(
            "{}: the last line lacked its newline (a crash after writing it): kept",
            path.display()
        )
    } else {
        let f = OpenOptions::new().write(true).open(path)?;
        f.set_len(keep as u64)?;
        f.sync_all()?;
        format!(
            "{}: dropped an incomplete last line ({} bytes)",
            path.display(),
            bytes.len() - keep
        )
    };
    Ok(Some(what))
}

/// One journal line: as written (the usual case), or read field by field so that a bad
/// measurement loses only itself; a line that cannot be read at all is a warning.
fn read_line(raw: &[u8], at: &str, warnings: &mut Vec<String>) -> Option<JournalEntry> {
    if let Ok(l) = serde_json::from_slice::<JournalEntry>(raw) {
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
    let mut line: JournalEntry = match serde_json::from_value(v) {
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
/// its newline is kept when it parses (the writer died after writing it whole) and otherwise
/// reported as cut short. A missing journal is a warning (no instance finished).
pub fn read(path: &Path) -> Result<(Vec<JournalEntry>, Vec<String>), Error> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
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
    let parts: Vec<(Vec<JournalEntry>, Vec<String>)> = std::thread::scope(|s| {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str) -> JournalEntry {
        serde_json::from_str(&format!(r#"{{"name":"{name}","status":"pass"}}"#)).expect("test")
    }

    #[test]
    fn a_whole_last_line_without_newline_is_kept() {
        let d = tempfile::tempdir().expect("test");
        let mut j = Journal::open(d.path()).expect("test");
        j.append(&entry("a")).expect("test");
        let p = d.path().join(JOURNAL_FILE);
        let mut b = fs::read(&p).expect("test");
        let second = serde_json::to_vec(&entry("b")).expect("test");
        b.extend_from_slice(&second);
        fs::write(&p, &b).expect("test");
        let (lines, w) = read(&p).expect("test");
        assert_eq!(
            lines.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert!(w.is_empty(), "{w:?}");
        let said = repair(&p).expect("test").expect("test");
        assert!(said.contains("kept"), "{said}");
        assert!(fs::read(&p).expect("test").ends_with(b"}\n"));
        assert_eq!(read(&p).expect("test").0.len(), 2);
        assert_eq!(repair(&p).expect("test"), None);
    }

    #[test]
    fn a_torn_last_line_is_cut() {
        let d = tempfile::tempdir().expect("test");
        let mut j = Journal::open(d.path()).expect("test");
        j.append(&entry("a")).expect("test");
        let p = d.path().join(JOURNAL_FILE);
        let mut b = fs::read(&p).expect("test");
        let good = b.len();
        b.extend_from_slice(br#"{"name":"b","sta"#);
        fs::write(&p, &b).expect("test");
        let (lines, w) = read(&p).expect("test");
        assert_eq!(lines.len(), 1);
        assert!(w[0].contains("incomplete last line"), "{w:?}");
        assert!(repair(&p).expect("test").expect("test").contains("dropped"));
        assert_eq!(fs::read(&p).expect("test").len(), good);
        // Appends go on a clean line.
        let mut j = Journal::open(d.path()).expect("test");
        j.append(&entry("c")).expect("test");
        assert_eq!(read(&p).expect("test").0.len(), 2);
    }

    #[test]
    fn lenient_fields() {
        let l: JournalEntry = serde_json::from_str(
            r#"{"name":"x","status":"fail","duration_ms":12.7,"component":"quantum","blocker":true}"#,
        )
        .expect("test");
        assert_eq!(l.duration_ms, 12);
        assert_eq!(l.component, None);
        assert!(l.blocker && l.started.is_empty());
        let l: JournalEntry = serde_json::from_str(
            r#"{"name":"x","status":"pass","duration_ms":-5,"component":"cpu"}"#,
        )
        .expect("test");
        assert_eq!((l.duration_ms, l.component), (0, Some(Component::Cpu)));
        assert!(serde_json::from_str::<JournalEntry>(r#"{"name":"x","status":"maybe"}"#).is_err());
    }
}
