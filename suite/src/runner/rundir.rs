//! The run directory: its files, the journal, the state file, the lock, and the small helpers
//! (atomic writes, fsync of directories, UTC times, boot id, file names for instance names).
//!
//! ```text
//! runs/<host>-<UTC>/
//!   inventory.json      the machine as probed when the run started
//!   plan.json           the plan, with the filter and test options (a resume reuses it)
//!   journal.jsonl       one line per finished instance, fsync'd before the next starts
//!   state.json          which instances are running, the boot id and the supervisor's pid
//!   logs/<name>.log     each instance's output (every attempt, appended)
//!   results/<name>.json the worker's outcome (read by the supervisor after the worker exits)
//! ```

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use cases::{Component, Measurement, Status};

pub const PLAN_FILE: &str = "plan.json";
pub const INVENTORY_FILE: &str = "inventory.json";
pub const JOURNAL_FILE: &str = "journal.jsonl";
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
        let h = fnv1a(instance.as_bytes());
        s = format!("{}~{h:016x}", &s[..cut]);
    }
    s
}

fn fnv1a(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &x in b {
        h ^= u64::from(x);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
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

/// `results/<stem>.panic`: the panic message a worker leaves before it dies.
pub fn panic_path(dir: &Path, instance: &str) -> PathBuf {
    dir.join(RESULTS_DIR)
        .join(format!("{}.panic", file_stem(instance)))
}

/// fsync a directory, so that a file created or renamed in it survives a crash.
pub fn fsync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Write a file atomically and durably: a temporary file beside it, fsync, rename, fsync of
/// the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let mut tmp_name = name.to_os_string();
    tmp_name.push(format!(".tmp.{}", std::process::id()));
    let tmp = dir.join(tmp_name);
    let r = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        fsync_dir(dir)
    })();
    if r.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    r
}

/// This boot's id (`/proc/sys/kernel/random/boot_id`), or `unknown`.
pub fn boot_id() -> String {
    fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

fn utc_parts(t: SystemTime) -> (i64, u32, u32, u32, u32, u32, u32) {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (y, mo, da) = reports::time::civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    (
        y,
        mo,
        da,
        (rem / 3600) as u32,
        (rem / 60 % 60) as u32,
        (rem % 60) as u32,
        d.subsec_millis(),
    )
}

/// RFC 3339 in UTC with milliseconds: `2025-11-25T19:14:02.123Z`.
pub fn rfc3339(t: SystemTime) -> String {
    let (y, mo, d, h, mi, s, ms) = utc_parts(t);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
}

/// A compact UTC time for directory names: `20251125T191402Z`.
pub fn compact_utc(t: SystemTime) -> String {
    let (y, mo, d, h, mi, s, _) = utc_parts(t);
    format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z")
}

/// Milliseconds since the epoch.
pub fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// An exclusive lock on the run directory, held while the value lives.
pub struct DirLock {
    _dir: File,
}

/// Take the run directory's lock without waiting; `Ok(None)` when another process holds it.
pub fn try_lock(dir: &Path) -> io::Result<Option<DirLock>> {
    let f = File::open(dir)?;
    // SAFETY: flock on a file descriptor we own.
    let r = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if r == 0 {
        return Ok(Some(DirLock { _dir: f }));
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(None)
    } else {
        Err(e)
    }
}

/// One finished (or interrupted) instance: a line of journal.jsonl.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    pub name: String,
    pub status: Status,
    /// Why (skip, error, timeout, crash, interrupted), or "expected …; measured …" for a fail.
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measured: Option<String>,
    /// UTC, RFC 3339.
    pub started: String,
    pub duration_ms: u64,
    #[serde(default)]
    pub measurements: Vec<Measurement>,
    /// The log file, relative to the run directory.
    pub log: String,
    pub boot_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<Component>,
    #[serde(default)]
    pub blocker: bool,
    /// The last lines of the log, for a timeout or a crash.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log_tail: Vec<String>,
    /// Processes of the instance were still running after it finished and were killed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub leaked: bool,
}

impl JournalEntry {
    /// A final result: anything but `interrupted` (an interrupted instance runs again).
    pub fn is_final(&self) -> bool {
        self.status != Status::Interrupted
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
            fsync_dir(dir)?;
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

/// Read a journal. A last line cut short by a crash (no newline) is cut off the file, so the
/// next append starts a clean line; lines that do not parse are returned as warnings.
pub fn read_journal(dir: &Path) -> io::Result<(Vec<JournalEntry>, Vec<String>)> {
    let path = dir.join(JOURNAL_FILE);
    let mut f = match OpenOptions::new().read(true).write(true).open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
        Err(e) => return Err(e),
    };
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes)?;
    let mut warnings = Vec::new();
    if !bytes.is_empty() && !bytes.ends_with(b"\n") {
        let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        warnings.push(format!(
            "{}: dropped an incomplete last line ({} bytes)",
            path.display(),
            bytes.len() - keep
        ));
        f.set_len(keep as u64)?;
        f.seek(SeekFrom::End(0))?;
        f.sync_all()?;
        bytes.truncate(keep);
    }
    let mut out = Vec::new();
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<JournalEntry>(line) {
            Ok(e) => out.push(e),
            Err(e) => warnings.push(format!("{}:{}: ignored: {e}", path.display(), i + 1)),
        }
    }
    Ok((out, warnings))
}

/// What is running now: state.json.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    pub boot_id: String,
    pub supervisor_pid: u32,
    #[serde(default)]
    pub running: Vec<Running>,
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
        write_atomic(&dir.join(STATE_FILE), &b)
    }
}

/// The last `n` non-empty lines of a file from byte `from` on (lossy UTF-8, each cut to 500
/// characters).
pub fn tail_lines(path: &Path, from: u64, n: usize) -> Vec<String> {
    let Ok(mut f) = File::open(path) else {
        return Vec::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    // Read at most the last 64 KiB.
    let start = from.max(len.saturating_sub(64 * 1024));
    if f.seek(SeekFrom::Start(start)).is_err() {
        return Vec::new();
    }
    let mut b = Vec::new();
    if f.read_to_end(&mut b).is_err() {
        return Vec::new();
    }
    let text = String::from_utf8_lossy(&b);
    let lines: Vec<String> = text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .map(|l| l.chars().take(500).collect())
        .collect();
    lines[lines.len().saturating_sub(n)..].to_vec()
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
    fn utc_times() {
        let t = UNIX_EPOCH + std::time::Duration::from_millis(1_764_098_042_123);
        assert_eq!(rfc3339(t), "2025-11-25T19:14:02.123Z");
        assert_eq!(compact_utc(t), "20251125T191402Z");
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        // A leap day.
        let t = UNIX_EPOCH + std::time::Duration::from_secs(951_782_400);
        assert_eq!(compact_utc(t), "20000229T000000Z");
    }

    #[test]
    fn torn_journal_line_is_cut() {
        let d = tempfile::tempdir().expect("tmp");
        let e = JournalEntry {
            name: "a".into(),
            status: Status::Pass,
            reason: None,
            expected: None,
            measured: None,
            started: rfc3339(SystemTime::now()),
            duration_ms: 1,
            measurements: vec![],
            log: log_rel("a"),
            boot_id: "b".into(),
            component: None,
            blocker: true,
            log_tail: vec![],
            leaked: false,
        };
        let mut j = Journal::open(d.path()).expect("open");
        j.append(&e).expect("append");
        drop(j);
        let mut f = OpenOptions::new()
            .append(true)
            .open(d.path().join(JOURNAL_FILE))
            .expect("open");
        f.write_all(b"{\"name\":\"b\",\"sta").expect("w");
        let (es, w) = read_journal(d.path()).expect("read");
        assert_eq!(es, vec![e.clone()]);
        assert_eq!(w.len(), 1, "{w:?}");
        let mut j = Journal::open(d.path()).expect("open");
        j.append(&e).expect("append");
        let (es, w) = read_journal(d.path()).expect("read");
        assert_eq!(es.len(), 2);
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn lock_is_exclusive() {
        let d = tempfile::tempdir().expect("tmp");
        let a = try_lock(d.path()).expect("lock");
        assert!(a.is_some());
        // flock locks belong to the open file, so a second open in the same process conflicts.
        assert!(try_lock(d.path()).expect("lock").is_none());
        drop(a);
        assert!(try_lock(d.path()).expect("lock").is_some());
    }
}
