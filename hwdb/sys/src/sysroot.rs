//! The one reader every probe goes through: files under a root directory (default `/`), as
//! `lscpu --sysroot` reads them.
//!
//! Decision 2 of the design lives here: a file that is missing, empty, unreadable, garbage, of
//! the wrong type, a dangling link or a directory is never a panic or a hang. Reads that fail
//! return `None` and leave a [`Warning`] naming the file and the reason. A file that a kernel or
//! device simply does not provide (an optional attribute) is silent; the `*_required` readers
//! warn about those too.
//!
//! With a sysroot other than `/`, symbolic links are resolved by this module, never by the
//! operating system: an absolute link target is taken inside the sysroot, so a recorded snapshot
//! can never make the probe read the running host's files.
//!
//! The reader can also record every path it touched ([`Sysroot::with_recording`]): that list is
//! what `hwcert snapshot` archives.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Largest file read in full by default. sysfs attributes are one page; /proc/cpuinfo of a
/// 512-CPU machine is about 1 MiB.
pub const DEFAULT_LIMIT: u64 = 8 << 20;
/// Largest number of symbolic links followed while resolving one path (as Linux's MAXSYMLINKS).
const MAX_LINKS: usize = 40;

/// One file that could not be read or understood.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Warning {
    /// The path as the probed system sees it (`/sys/...`), not the sysroot's host path.
    pub path: String,
    /// Why it could not be used.
    pub message: String,
}

/// What was touched while probing, for snapshots. Every path is relative to the root, with
/// no symbolic link in it (links are recorded separately, as links).
#[derive(Debug, Default, Clone)]
pub struct Recorded {
    /// Files read, with the bytes that were read.
    pub files: BTreeMap<PathBuf, Vec<u8>>,
    /// Directories listed, with the names they held.
    pub dirs: BTreeMap<PathBuf, Vec<String>>,
    /// Symbolic links met while resolving paths.
    pub links: BTreeSet<PathBuf>,
    /// Paths whose existence was tested and found.
    pub present: BTreeSet<PathBuf>,
}

/// A root directory and everything read from it.
#[derive(Debug)]
pub struct Sysroot {
    root: PathBuf,
    live: bool,
    warnings: RefCell<Vec<Warning>>,
    recorded: Option<RefCell<Recorded>>,
}

#[derive(Debug)]
enum Failure {
    /// The path does not exist (and is not a dangling link).
    Missing,
    /// Anything else: the message says what.
    Bad(String),
}

impl Sysroot {
    /// A reader rooted at `root`. `/` (or a path that resolves to it) is the live system.
    pub fn new(root: impl AsRef<Path>) -> Self {
        let root = root.as_ref();
        let live = root == Path::new("/")
            || fs::canonicalize(root)
                .map(|p| p == Path::new("/"))
                .unwrap_or(false);
        Sysroot {
            root: if live {
                PathBuf::from("/")
            } else {
                root.to_path_buf()
            },
            live,
            warnings: RefCell::new(Vec::new()),
            recorded: None,
        }
    }

    /// Also record every path read, listed or followed (for `hwcert snapshot`).
    pub fn with_recording(mut self) -> Self {
        self.recorded = Some(RefCell::new(Recorded::default()));
        self
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether this reads the running system (root `/`): only then may udev and ioctls be used.
    pub fn is_live(&self) -> bool {
        self.live
    }

    /// Warnings so far, in the order they were met.
    pub fn warnings(&self) -> Vec<Warning> {
        self.warnings.borrow().clone()
    }

    /// Take the warnings, leaving none.
    pub fn take_warnings(&self) -> Vec<Warning> {
        std::mem::take(&mut *self.warnings.borrow_mut())
    }

    /// What was recorded (empty unless [`Sysroot::with_recording`]).
    pub fn recorded(&self) -> Recorded {
        self.recorded
            .as_ref()
            .map(|r| r.borrow().clone())
            .unwrap_or_default()
    }

    /// Add a warning about `rel` (a path relative to the root, as everywhere in this API).
    pub fn warn(&self, rel: &str, message: impl Into<String>) {
        let w = Warning {
            path: display_path(rel),
            message: message.into(),
        };
        let mut ws = self.warnings.borrow_mut();
        if !ws.contains(&w) {
            ws.push(w);
        }
    }

    fn record(&self, f: impl FnOnce(&mut Recorded)) {
        if let Some(r) = &self.recorded {
            f(&mut r.borrow_mut());
        }
    }

    /// The host path of `rel`, with every symbolic link resolved inside the root.
    fn resolve(&self, rel: &str) -> Result<PathBuf, Failure> {
        let rel = rel.trim_start_matches('/');
        if self.live && self.recorded.is_none() {
            // The kernel resolves links on the live system; nothing can escape `/`.
            return Ok(Path::new("/").join(rel));
        }
        // Components still to walk, in reverse order so that pop() yields the next one.
        // Each component remembers whether it came from a link's target: a missing one of
        // those is a dangling link, a missing one of the caller's is just absent.
        let mut todo: Vec<(std::ffi::OsString, bool)> = Vec::new();
        push_components(&mut todo, Path::new(rel), false);
        let mut done = PathBuf::new(); // relative to root, link-free
        let mut hops = 0usize;
        while let Some((c, from_link)) = todo.pop() {
            if c == OsStr::new("..") {
                done.pop();
                continue;
            }
            let candidate = done.join(&c);
            let host = self.root.join(&candidate);
            match fs::symlink_metadata(&host) {
                Ok(md) if md.file_type().is_symlink() => {
                    hops += 1;
                    if hops > MAX_LINKS {
                        return Err(Failure::Bad("too many levels of symbolic links".into()));
                    }
                    self.record(|r| {
                        r.links.insert(candidate.clone());
                    });
                    let target = fs::read_link(&host)
                        .map_err(|e| Failure::Bad(format!("cannot read link: {e}")))?;
                    if target.is_absolute() {
                        done = PathBuf::new();
                    }
                    push_components(&mut todo, &target, true);
                }
                Ok(_) => done = candidate,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Err(if from_link {
                        Failure::Bad(format!(
                            "dangling symbolic link (to /{} which does not exist)",
                            candidate.display()
                        ))
                    } else {
                        Failure::Missing
                    });
                }
                Err(e) => return Err(Failure::Bad(describe_io(&e))),
            }
        }
        Ok(self.root.join(done))
    }

    fn read_limited(&self, rel: &str, limit: u64) -> Result<Vec<u8>, Failure> {
        self.read_upto(rel, limit, true)
    }

    /// At most `limit` bytes of the file; when `whole`, a longer file is a failure, else only
    /// its first `limit` bytes are read.
    fn read_upto(&self, rel: &str, limit: u64, whole: bool) -> Result<Vec<u8>, Failure> {
        let host = self.resolve(rel)?;
        // O_NONBLOCK: a FIFO or device planted in a snapshot must not hang the probe.
        let file = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(&host)
            .map_err(|e| {
                if e.kind() == io::ErrorKind::NotFound {
                    match fs::symlink_metadata(&host) {
                        Ok(md) if md.file_type().is_symlink() => {
                            Failure::Bad("dangling symbolic link".into())
                        }
                        _ => Failure::Missing,
                    }
                } else {
                    Failure::Bad(describe_io(&e))
                }
            })?;
        let md = file.metadata().map_err(|e| Failure::Bad(describe_io(&e)))?;
        let ft = md.file_type();
        if ft.is_dir() {
            return Err(Failure::Bad("is a directory, expected a file".into()));
        }
        if ft.is_fifo() || ft.is_socket() || ft.is_char_device() || ft.is_block_device() {
            return Err(Failure::Bad("is not a regular file".into()));
        }
        let mut buf = Vec::new();
        let mut take = (&file).take(if whole { limit + 1 } else { limit });
        read_retrying(&mut take, &mut buf).map_err(|e| Failure::Bad(describe_io(&e)))?;
        if buf.len() as u64 > limit {
            return Err(Failure::Bad(format!("larger than {limit} bytes")));
        }
        if let Some(real) = self.relative(&host) {
            self.record(|r| {
                r.files.insert(real, buf.clone());
            });
        }
        Ok(buf)
    }

    fn report<T>(&self, rel: &str, r: Result<T, Failure>, required: bool) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(Failure::Missing) => {
                if required {
                    self.warn(rel, "missing");
                }
                None
            }
            Err(Failure::Bad(m)) => {
                self.warn(rel, m);
                None
            }
        }
    }

    /// Raw bytes of a file of at most `limit` bytes. Missing is silent.
    pub fn read_bytes(&self, rel: &str, limit: u64) -> Option<Vec<u8>> {
        let r = self.read_limited(rel, limit);
        self.report(rel, r, false)
    }

    /// The first `limit` bytes of a file (all of it when shorter), for files whose length says
    /// nothing (a PCI function's `config`: 256 or 4096 bytes to root, 64 to anyone else; only
    /// what is read is touched, and recorded). Missing is silent; anything else wrong is a
    /// warning.
    pub fn read_prefix(&self, rel: &str, limit: u64) -> Option<Vec<u8>> {
        let r = self.read_upto(rel, limit, false);
        self.report(rel, r, false)
    }

    fn text(&self, rel: &str, required: bool, empty_ok: bool) -> Option<String> {
        let r = self.read_limited(rel, DEFAULT_LIMIT).and_then(|b| {
            String::from_utf8(b).map_err(|_| Failure::Bad("not valid UTF-8 text".into()))
        });
        let r = r.and_then(|t| {
            if !empty_ok && is_blank(&t) {
                Err(Failure::Bad("empty".into()))
            } else {
                Ok(t)
            }
        });
        self.report(rel, r, required)
    }

    /// A whole text file. Missing is silent; empty (nothing but white space or NULs) is a
    /// warning and `None`, never a value; anything else wrong is a warning.
    pub fn read(&self, rel: &str) -> Option<String> {
        self.text(rel, false, false)
    }

    /// As [`Sysroot::read`], for the files that are legitimately empty (a list of offline
    /// CPUs when none is, a CPU-less NUMA node's cpulist): empty is `Some("")`, silently.
    pub fn read_maybe_empty(&self, rel: &str) -> Option<String> {
        self.text(rel, false, true)
    }

    /// A whole text file that every Linux system of its kind has: missing and empty are
    /// warnings.
    pub fn read_required(&self, rel: &str) -> Option<String> {
        self.text(rel, true, false)
    }

    /// A one-value attribute, trimmed of white space and NULs. Missing is silent; empty is a
    /// warning and `None`, as for [`Sysroot::read`]: an empty file is never a value.
    pub fn attr(&self, rel: &str) -> Option<String> {
        let t = self.read(rel)?;
        Some(trim_value(&t).to_string())
    }

    /// As [`Sysroot::attr`], for the attributes a working kernel may leave empty (a string the
    /// firmware or the device did not fill in, a dm device created without a uuid): empty is
    /// `None`, silently. Each call site says why its attribute may be empty.
    pub fn attr_maybe_empty(&self, rel: &str) -> Option<String> {
        let s = self.read_maybe_empty(rel)?;
        let t = trim_value(&s);
        (!t.is_empty()).then(|| t.to_string())
    }

    /// A one-value attribute parsed as `T`; garbage and empty are warnings.
    pub fn parse<T: FromStr>(&self, rel: &str) -> Option<T> {
        let s = self.attr(rel)?;
        match s.parse() {
            Ok(v) => Some(v),
            Err(_) => {
                self.warn(rel, format!("cannot parse '{}'", shorten(&s)));
                None
            }
        }
    }

    /// A hexadecimal attribute (`0x8086` or `8086`); garbage is a warning.
    pub fn parse_hex(&self, rel: &str) -> Option<u64> {
        let s = self.attr(rel)?;
        let digits = s
            .strip_prefix("0x")
            .or_else(|| s.strip_prefix("0X"))
            .unwrap_or(&s);
        match u64::from_str_radix(digits, 16) {
            Ok(v) => Some(v),
            Err(_) => {
                self.warn(
                    rel,
                    format!("expected a hexadecimal number, found '{}'", shorten(&s)),
                );
                None
            }
        }
    }

    /// Whether the path exists (following links inside the root). Never warns.
    pub fn exists(&self, rel: &str) -> bool {
        self.test(rel, |p| p.exists())
    }

    /// Whether the path is a directory (following links inside the root). Never warns.
    pub fn is_dir(&self, rel: &str) -> bool {
        self.test(rel, |p| p.is_dir())
    }

    fn test(&self, rel: &str, f: impl Fn(&Path) -> bool) -> bool {
        match self.resolve(rel) {
            Ok(p) if f(&p) => {
                if let Some(real) = self.relative(&p) {
                    self.record(|r| {
                        r.present.insert(real);
                    });
                }
                true
            }
            _ => false,
        }
    }

    /// A resolved host path as a path relative to the root (for recording).
    fn relative(&self, host: &Path) -> Option<PathBuf> {
        self.recorded.as_ref()?;
        host.strip_prefix(&self.root).ok().map(Path::to_path_buf)
    }

    fn list(&self, rel: &str) -> Result<Vec<String>, Failure> {
        let host = self.resolve(rel)?;
        let rd = fs::read_dir(&host).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => Failure::Missing,
            _ if host.is_file() => Failure::Bad("is a file, expected a directory".into()),
            _ => Failure::Bad(describe_io(&e)),
        })?;
        let mut names: Vec<String> = rd
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort_by(|a, b| natural_cmp(a, b));
        if let Some(real) = self.relative(&host) {
            self.record(|r| {
                r.dirs.insert(real, names.clone());
            });
        }
        Ok(names)
    }

    /// The entries of a directory, in natural order (`cpu2` before `cpu10`). Missing is silent
    /// and gives an empty list.
    pub fn list_dir(&self, rel: &str) -> Vec<String> {
        let r = self.list(rel);
        self.report(rel, r, false).unwrap_or_default()
    }

    /// As [`Sysroot::list_dir`], but a missing directory is a warning.
    pub fn list_dir_required(&self, rel: &str) -> Vec<String> {
        let r = self.list(rel);
        self.report(rel, r, true).unwrap_or_default()
    }

    /// The target of a symbolic link, as written. Missing is silent.
    pub fn read_link(&self, rel: &str) -> Option<PathBuf> {
        let rel_t = rel.trim_start_matches('/');
        let (parent, name) = match rel_t.rsplit_once('/') {
            Some((p, n)) => (p, n),
            None => ("", rel_t),
        };
        let r = self.resolve(parent).and_then(|p| {
            let host = p.join(name);
            match fs::symlink_metadata(&host) {
                Ok(md) if md.file_type().is_symlink() => fs::read_link(&host)
                    .map(|t| (host, t))
                    .map_err(|e| Failure::Bad(format!("cannot read link: {e}"))),
                Ok(_) => Err(Failure::Bad("is not a symbolic link".into())),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Err(Failure::Missing),
                Err(e) => Err(Failure::Bad(describe_io(&e))),
            }
        });
        let r = r.map(|(host, target)| {
            if let Some(real) = self.relative(&host) {
                self.record(|rec| {
                    rec.links.insert(real);
                });
            }
            target
        });
        self.report(rel, r, false)
    }

    /// The last component of a link's target (`driver` → `ahci`). Missing is silent.
    pub fn link_name(&self, rel: &str) -> Option<String> {
        self.read_link(rel)
            .and_then(|t| t.file_name().map(|n| n.to_string_lossy().into_owned()))
    }

    /// The path relative to the root with all links resolved (`sys/class/net/eth0` →
    /// `sys/devices/pci0000:00/0000:00:03.0/virtio0/net/eth0`). Missing is silent.
    pub fn canonical(&self, rel: &str) -> Option<String> {
        let r = if self.live && self.recorded.is_none() {
            fs::canonicalize(Path::new("/").join(rel.trim_start_matches('/'))).map_err(|e| match e
                .kind()
            {
                io::ErrorKind::NotFound => Failure::Missing,
                _ => Failure::Bad(describe_io(&e)),
            })
        } else {
            self.resolve(rel)
        };
        let p = self.report(rel, r, false)?;
        let stripped = p.strip_prefix(&self.root).ok()?;
        Some(stripped.to_string_lossy().into_owned())
    }
}

fn push_components(todo: &mut Vec<(std::ffi::OsString, bool)>, p: &Path, from_link: bool) {
    let mut comps: Vec<(std::ffi::OsString, bool)> = p
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some((s.to_os_string(), from_link)),
            Component::ParentDir => Some(("..".into(), from_link)),
            _ => None,
        })
        .collect();
    comps.reverse();
    todo.extend(comps);
}

fn read_retrying(r: &mut impl Read, buf: &mut Vec<u8>) -> io::Result<()> {
    loop {
        match r.read_to_end(buf) {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

fn describe_io(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::EACCES) | Some(libc::EPERM) => {
            "permission denied (run as root to read it)".into()
        }
        Some(libc::EISDIR) => "is a directory, expected a file".into(),
        Some(libc::ENOTDIR) => "a path component is a file, expected a directory".into(),
        Some(libc::ELOOP) => "too many levels of symbolic links".into(),
        Some(libc::EAGAIN) => "would block (not a regular file)".into(),
        Some(libc::ENXIO) | Some(libc::ENODEV) => "no such device".into(),
        Some(libc::EIO) => "input/output error".into(),
        _ => {
            let s = e.to_string();
            // Drop Rust's " (os error N)" suffix: the text is what a person reads.
            match s.find(" (os error") {
                Some(i) => s[..i].to_lowercase(),
                None => s,
            }
        }
    }
}

/// The path as the probed system names it.
fn display_path(rel: &str) -> String {
    format!("/{}", rel.trim_start_matches('/'))
}

/// A one-value attribute's text without the white space and NULs around it.
fn trim_value(t: &str) -> &str {
    t.trim_matches(|c: char| c.is_whitespace() || c == '\0')
}

/// Whether a file's text holds nothing but white space and NULs.
fn is_blank(t: &str) -> bool {
    trim_value(t).is_empty()
}

/// A value shortened for a warning message.
pub fn shorten(s: &str) -> String {
    let one_line: String = s
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .take(40)
        .collect();
    if s.chars().count() > 40 {
        format!("{one_line}…")
    } else {
        one_line
    }
}

/// Natural order of names: digit runs compare as numbers (`cpu2` < `cpu10`).
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut ai, mut bi) = (a.as_bytes(), b.as_bytes());
    loop {
        match (ai.first(), bi.first()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, Some(_)) => return std::cmp::Ordering::Less,
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let an = ai.iter().take_while(|c| c.is_ascii_digit()).count();
                let bn = bi.iter().take_while(|c| c.is_ascii_digit()).count();
                let (ad, bd) = (&ai[..an], &bi[..bn]);
                let at = trim_zeros(ad);
                let bt = trim_zeros(bd);
                let ord = at.len().cmp(&bt.len()).then_with(|| at.cmp(bt));
                if ord != std::cmp::Ordering::Equal {
                    return ord;
                }
                ai = &ai[an..];
                bi = &bi[bn..];
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                ai = &ai[1..];
                bi = &bi[1..];
            }
        }
    }
}

fn trim_zeros(d: &[u8]) -> &[u8] {
    let n = d.iter().take_while(|c| **c == b'0').count();
    &d[n.min(d.len().saturating_sub(1))..]
}

/// Parse a Linux CPU list ("0-5,48-53", "0,2-3", empty) into sorted ids.
pub fn parse_cpu_list(s: &str) -> Option<Vec<u32>> {
    let s = s.trim();
    let mut out = Vec::new();
    if s.is_empty() {
        return Some(out);
    }
    for part in s.split(',') {
        let part = part.trim();
        // "0-31:2" strides are allowed by the kernel's bitmap list syntax.
        let (range, stride) = match part.split_once(':') {
            Some((r, st)) => (r, st.split('/').next()?.parse::<u32>().ok()?),
            None => (part, 1),
        };
        if stride == 0 {
            return None;
        }
        match range.split_once('-') {
            Some((a, b)) => {
                let (a, b): (u32, u32) = (a.parse().ok()?, b.parse().ok()?);
                if a > b || b - a > 1 << 20 {
                    return None;
                }
                out.extend((a..=b).step_by(stride as usize));
            }
            None => out.push(range.parse().ok()?),
        }
    }
    out.sort_unstable();
    out.dedup();
    Some(out)
}

/// Format ids as lscpu does ("0,1,4-6,48-53"): a range only for three or more CPUs.
pub fn format_cpu_list(ids: &[u32]) -> String {
    let mut sorted: Vec<u32> = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = String::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else if end == start + 1 {
            // As lscpu (util-linux cpulist_create): a range only for three or more.
            out.push_str(&format!("{start},{end}"));
        } else {
            out.push_str(&format!("{start}-{end}"));
        }
        i += 1;
    }
    out
}

/// Parse a kernel cpumask ("ff,ffffffff" hex words, most significant first) into ids.
pub fn parse_cpu_mask(s: &str) -> Option<Vec<u32>> {
    let mut out = Vec::new();
    let words: Vec<&str> = s.trim().split(',').collect();
    for (wi, w) in words.iter().rev().enumerate() {
        let w = w.trim();
        if w.len() > 8 {
            return None;
        }
        let v = u32::from_str_radix(w, 16).ok()?;
        for bit in 0..32u32 {
            if v & (1u32 << bit) != 0 {
                out.push(wi as u32 * 32 + bit);
            }
        }
    }
    out.sort_unstable();
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tree() -> tempfile::TempDir {
        let d = tempfile::tempdir().expect("tempdir");
        let r = d.path();
        fs::create_dir_all(r.join("sys/devices/pci0000:00/0000:00:02.0")).expect("mkdir");
        fs::create_dir_all(r.join("sys/bus/pci/devices")).expect("mkdir");
        fs::create_dir_all(r.join("sys/bus/pci/drivers/virtio-pci")).expect("mkdir");
        fs::write(
            r.join("sys/devices/pci0000:00/0000:00:02.0/vendor"),
            "0x1af4\n",
        )
        .expect("w");
        fs::write(
            r.join("sys/devices/pci0000:00/0000:00:02.0/garbage"),
            "zz\n",
        )
        .expect("w");
        fs::write(r.join("sys/devices/pci0000:00/0000:00:02.0/empty"), "").expect("w");
        fs::write(
            r.join("sys/devices/pci0000:00/0000:00:02.0/binary"),
            [0xff, 0xfe],
        )
        .expect("w");
        symlink(
            "../../../devices/pci0000:00/0000:00:02.0",
            r.join("sys/bus/pci/devices/0000:00:02.0"),
        )
        .expect("ln");
        symlink(
            "../../../bus/pci/drivers/virtio-pci",
            r.join("sys/devices/pci0000:00/0000:00:02.0/driver"),
        )
        .expect("ln");
        symlink(
            "nowhere",
            r.join("sys/devices/pci0000:00/0000:00:02.0/dangling"),
        )
        .expect("ln");
        symlink("/etc/hostname", r.join("sys/escape")).expect("ln");
        symlink("loop2", r.join("sys/loop1")).expect("ln");
        symlink("loop1", r.join("sys/loop2")).expect("ln");
        d
    }

    #[test]
    fn a_prefix_reads_only_its_bytes_and_records_them() {
        let d = tree();
        let r = d.path();
        let dev = "sys/devices/pci0000:00/0000:00:02.0";
        let config: Vec<u8> = (0..=255u8).collect();
        fs::write(r.join(format!("{dev}/config")), &config).expect("w");
        let s = Sysroot::new(r).with_recording();
        let cfg = "sys/bus/pci/devices/0000:00:02.0/config";
        assert_eq!(s.read_prefix(cfg, 64).as_deref(), Some(&config[..64]));
        assert_eq!(s.read_prefix(cfg, 4096).as_deref(), Some(&config[..]));
        assert_eq!(
            s.read_bytes(cfg, 64),
            None,
            "read_bytes still refuses a longer file"
        );
        let w = s.take_warnings();
        assert!(
            w.len() == 1 && w[0].message.contains("larger than 64"),
            "{w:?}"
        );
        assert_eq!(s.read_prefix(&format!("{dev}/missing"), 64), None);
        assert_eq!(s.read_prefix(&format!("{dev}/dangling"), 64), None);
        assert_eq!(s.read_prefix(&format!("{dev}/empty"), 64), Some(Vec::new()));
        let w = s.take_warnings();
        assert_eq!(w.len(), 1, "missing is silent, dangling is not: {w:?}");
        assert!(w[0].path.ends_with("dangling"), "{w:?}");
        let rec = s.recorded();
        assert_eq!(
            rec.files
                .get(Path::new(&format!("{dev}/config")))
                .map(Vec::len),
            Some(256),
            "the last read is recorded"
        );
    }

    #[test]
    fn an_empty_file_is_a_warning_never_a_value() {
        let d = tempfile::tempdir().expect("tmp");
        let r = d.path();
        std::fs::create_dir_all(r.join("sys/x")).expect("mkdir");
        for (f, v) in [("empty", ""), ("blank", " \n\0"), ("label", "")] {
            std::fs::write(r.join("sys/x").join(f), v).expect("write");
        }
        let s = Sysroot::new(r);
        assert_eq!(s.read("sys/x/empty"), None);
        assert_eq!(s.read_required("sys/x/blank"), None);
        assert_eq!(s.parse::<u32>("sys/x/empty"), None);
        assert_eq!(s.parse_hex("sys/x/blank"), None);
        assert_eq!(s.attr("sys/x/label"), None);
        let w = s.take_warnings();
        for f in ["sys/x/empty", "sys/x/blank", "sys/x/label"] {
            assert!(
                w.iter()
                    .any(|x| x.path.ends_with(f) && x.message.contains("empty")),
                "{f}: {w:?}"
            );
        }
        // Legitimately empty: said so at the call site.
        assert_eq!(s.read_maybe_empty("sys/x/empty").as_deref(), Some(""));
        assert_eq!(s.attr_maybe_empty("sys/x/label"), None);
        assert_eq!(s.attr_maybe_empty("sys/x/blank"), None);
        assert!(s.warnings().is_empty(), "{:?}", s.warnings());
    }

    #[test]
    fn reads_through_relative_links() {
        let d = tree();
        let s = Sysroot::new(d.path());
        assert_eq!(
            s.parse_hex("sys/bus/pci/devices/0000:00:02.0/vendor"),
            Some(0x1af4)
        );
        assert_eq!(
            s.link_name("sys/bus/pci/devices/0000:00:02.0/driver")
                .as_deref(),
            Some("virtio-pci")
        );
        assert_eq!(
            s.canonical("sys/bus/pci/devices/0000:00:02.0").as_deref(),
            Some("sys/devices/pci0000:00/0000:00:02.0")
        );
        assert!(s.warnings().is_empty(), "{:?}", s.warnings());
    }

    #[test]
    fn bad_files_warn_and_never_panic() {
        let d = tree();
        let s = Sysroot::new(d.path());
        let dev = "sys/devices/pci0000:00/0000:00:02.0";
        assert_eq!(s.parse_hex(&format!("{dev}/garbage")), None);
        assert_eq!(s.attr(&format!("{dev}/empty")), None);
        assert_eq!(s.read(&format!("{dev}/binary")), None);
        assert_eq!(s.read(&format!("{dev}/dangling")), None);
        assert_eq!(s.read(dev), None);
        assert_eq!(s.read(&format!("{dev}/absent")), None);
        assert_eq!(s.read("sys/loop1"), None);
        assert_eq!(s.list_dir(&format!("{dev}/vendor")), Vec::<String>::new());
        let w = s.warnings();
        let find = |p: &str| {
            w.iter()
                .find(|x| x.path.ends_with(p))
                .map(|x| x.message.clone())
                .unwrap_or_default()
        };
        assert!(find("/garbage").contains("hexadecimal"), "{w:?}");
        assert!(find("/binary").contains("UTF-8"), "{w:?}");
        assert!(find("/dangling").contains("dangling"), "{w:?}");
        assert!(find("0000:00:02.0").contains("directory"), "{w:?}");
        assert!(find("/loop1").contains("symbolic links"), "{w:?}");
        assert!(find("/vendor").contains("expected a directory"), "{w:?}");
        assert!(
            !w.iter().any(|x| x.path.ends_with("/absent")),
            "missing is silent"
        );
        assert!(find("/empty").contains("empty"), "{w:?}");
        s.read_required(&format!("{dev}/absent"));
        assert!(s.warnings().iter().any(|x| x.path.ends_with("/absent")));
    }

    #[test]
    fn absolute_links_stay_inside_the_sysroot() {
        let d = tree();
        let s = Sysroot::new(d.path());
        assert_eq!(
            s.read("sys/escape"),
            None,
            "must not read the host's /etc/hostname"
        );
        assert!(
            s.warnings()[0].message.contains("dangling"),
            "{:?}",
            s.warnings()
        );
    }

    #[test]
    fn fifo_does_not_hang() {
        let d = tree();
        let p = d.path().join("sys/fifo");
        let c = std::ffi::CString::new(p.to_string_lossy().as_bytes()).expect("cstr");
        // SAFETY: mkfifo with a valid NUL-terminated path.
        let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o644) };
        assert_eq!(rc, 0);
        let s = Sysroot::new(d.path());
        assert_eq!(s.read("sys/fifo"), None);
        assert!(s.warnings()[0].message.contains("not a regular file"));
    }

    #[test]
    fn recording_lists_what_was_touched() {
        let d = tree();
        let s = Sysroot::new(d.path()).with_recording();
        s.attr("sys/bus/pci/devices/0000:00:02.0/vendor");
        s.list_dir("sys/bus/pci/devices");
        assert!(s.exists("sys/bus/pci/drivers/virtio-pci"));
        assert_eq!(
            s.link_name("sys/bus/pci/devices/0000:00:02.0/driver")
                .as_deref(),
            Some("virtio-pci")
        );
        let r = s.recorded();
        assert_eq!(
            r.files
                .get(Path::new("sys/devices/pci0000:00/0000:00:02.0/vendor"))
                .map(|b| b.as_slice()),
            Some(&b"0x1af4\n"[..])
        );
        assert!(r
            .links
            .contains(Path::new("sys/bus/pci/devices/0000:00:02.0")));
        assert!(r
            .links
            .contains(Path::new("sys/devices/pci0000:00/0000:00:02.0/driver")));
        assert_eq!(
            r.dirs.get(Path::new("sys/bus/pci/devices")),
            Some(&vec!["0000:00:02.0".to_string()])
        );
        assert!(r
            .present
            .contains(Path::new("sys/bus/pci/drivers/virtio-pci")));
    }

    #[test]
    fn cpu_lists_and_masks() {
        assert_eq!(parse_cpu_list("0-2,5"), Some(vec![0, 1, 2, 5]));
        assert_eq!(parse_cpu_list(""), Some(vec![]));
        assert_eq!(parse_cpu_list("0-3:2"), Some(vec![0, 2]));
        assert_eq!(parse_cpu_list("3-1"), None);
        assert_eq!(parse_cpu_list("x"), None);
        assert_eq!(
            format_cpu_list(&[0, 1, 2, 3, 4, 5, 48, 49, 50]),
            "0-5,48-50"
        );
        assert_eq!(format_cpu_list(&[7]), "7");
    }

    /// util-linux's cpulist_create (lib/cpuset.c): a run of two is "i,i+1", a range only
    /// for three or more CPUs.
    #[test]
    fn cpu_list_runs_of_two_as_lscpu() {
        assert_eq!(format_cpu_list(&[0, 1]), "0,1");
        assert_eq!(format_cpu_list(&[0, 1, 2]), "0-2");
        assert_eq!(format_cpu_list(&[0, 1, 4, 5, 6, 9]), "0,1,4-6,9");
        assert_eq!(format_cpu_list(&[]), "");
        assert_eq!(parse_cpu_mask("00000000,00000003"), Some(vec![0, 1]));
        assert_eq!(parse_cpu_mask("1,00000000"), Some(vec![32]));
        assert_eq!(parse_cpu_mask("zz"), None);
    }

    #[test]
    fn natural_order() {
        let mut v = vec!["cpu10", "cpu2", "cpu1", "cpufreq", "cpu0"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, ["cpu0", "cpu1", "cpu2", "cpu10", "cpufreq"]);
    }
}
