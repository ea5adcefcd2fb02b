//! Where [`publish`](fn@crate::site::publish) writes: a new directory, or a site it published before.
//!
//! The first publish builds the site in a sibling temporary directory, which is then renamed
//! into place. Publishing over a site updates it in place, in an order that keeps every state
//! a reader can see coherent:
//!
//! 1. reports the store has and the site lacks are linked in (no page links them yet);
//! 2. every page is rendered and compared with the site's: an unchanged page is left alone
//!    (its file, inode and mtime stay, so rsync, caches and a git checkout of the site see
//!    no change), a changed one is written beside it and renamed over it;
//! 3. the data files and the index likewise, renamed into place only once every page is;
//! 4. last, what the store no longer lists is removed: pages of entries gone, reports no
//!    entry cites, and anything else in the site that publishing would not have written
//!    (the site holds only what hwcert writes, as its marker says).
//!
//! A failure part-way leaves a site whose pages are each whole, old or new; publishing again
//! completes it. Two publishes into one site take turns (a lock on the marker file).

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use super::dir::Dir;
use super::fx::FxBuild;
use super::layout::{marker_text, MARKER, REPORT_FILES, SIGNED};
use super::link::{copy_report, report_rel};
use super::par::lock;
use documents::Error;
use hwsys::fs::{Lock, Wait};

/// The top-level names of a site, and those of its small directories.
const TOP: [&str; 9] = [
    MARKER,
    super::layout::ALLOWED_SIGNERS,
    "index.html",
    "hcl.json",
    "hcl.csv",
    "assets",
    "data",
    "entries",
    "reports",
];
const SMALL_DIRS: [(&str, &[&str]); 2] = [
    ("assets", &["hcl.css", "hcl.js", "report.css"]),
    ("data", &["index.js"]),
];

pub(crate) struct Target {
    /// The directory written into: the temporary one, or the site.
    pub root: PathBuf,
    pub entries: Dir,
    pub reports: Dir,
    /// Publishing over a site: what it held before, and the lock.
    old: Option<Old>,
    /// Pages written, pages left as they were.
    pub written: AtomicUsize,
    pub unchanged: AtomicUsize,
    /// Files given to [`Target::file`] in place, to rename over the site's once all is
    /// written: (temporary name, final name).
    pending: Mutex<Vec<(PathBuf, PathBuf)>>,
    /// Report files the store no longer has, removed at the end.
    stale: Mutex<Vec<PathBuf>>,
    /// Reports the site had whose signed files this publish replaced: their pages are
    /// rendered again.
    relinked: Mutex<HashSet<String, FxBuild>>,
    /// The index's shards this publish wrote or kept (names under data/).
    shards: Mutex<HashSet<String, FxBuild>>,
}

struct Old {
    pages: HashSet<Vec<u8>, FxBuild>,
    reports: HashSet<Vec<u8>, FxBuild>,
    /// Whether the site's marker says its reports' pages were rendered by this renderer.
    rendered_here: bool,
    _lock: Lock,
}

/// The name a file is written under before it is renamed over `name`: hidden, and unique to
/// this process (a leftover of a crash is removed by the next publish).
fn temp_name(name: &[u8]) -> Vec<u8> {
    let mut t = Vec::with_capacity(name.len() + 24);
    t.push(b'.');
    t.extend_from_slice(name);
    t.extend_from_slice(format!(".publish-{}", std::process::id()).as_bytes());
    t
}

fn io_err(p: &Path, e: io::Error) -> Error {
    Error::io(p, e)
}

/// Whether two stats are of the same file.
fn same_inode(a: &libc::stat, b: &libc::stat) -> bool {
    a.st_dev == b.st_dev && a.st_ino == b.st_ino
}

fn is_dir(st: &libc::stat) -> bool {
    st.st_mode & libc::S_IFMT == libc::S_IFDIR
}

impl Target {
    /// A new, empty directory to build a site in.
    pub fn fresh(root: &Path) -> Result<Target, Error> {
        for d in ["", "assets", "data", "entries", "reports"] {
            let p = root.join(d);
            fs::create_dir(&p).map_err(|e| io_err(&p, e))?;
        }
        let open = |p: PathBuf| Dir::open(&p).map_err(|e| io_err(&p, e));
        Ok(Target {
            root: root.to_path_buf(),
            entries: open(root.join("entries"))?,
            reports: open(root.join("reports"))?,
            old: None,
            written: AtomicUsize::new(0),
            unchanged: AtomicUsize::new(0),
            pending: Mutex::new(Vec::new()),
            stale: Mutex::new(Vec::new()),
            relinked: Mutex::new(HashSet::default()),
            shards: Mutex::new(HashSet::default()),
        })
    }

    /// The site at `root` (it holds the marker), to update in place: locked, and listed.
    pub fn in_place(root: &Path) -> Result<Target, Error> {
        let lockf = lock_site(root)?;
        let top = Dir::open(root).map_err(|e| io_err(root, e))?;
        let mut buf = Vec::new();
        // The site's directories, made again where missing or not directories.
        let mut sub = |name: &str| -> Result<Dir, Error> {
            let p = root.join(name);
            match top.sub(&mut buf, name) {
                Ok(d) => return Ok(d),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(_) => remove_any(&p).map_err(|e| io_err(&p, e))?,
            }
            fs::create_dir(&p).map_err(|e| io_err(&p, e))?;
            top.sub(&mut buf, name).map_err(|e| io_err(&p, e))
        };
        for d in ["assets", "data"] {
            sub(d)?;
        }
        let entries = sub("entries")?;
        let reports = sub("reports")?;
        let list = |d: &Dir| -> Result<HashSet<Vec<u8>, FxBuild>, Error> {
            Ok(d.names()
                .map_err(|e| io_err(d.path(), e))?
                .into_iter()
                .map(|n| n.as_bytes().to_vec())
                .collect())
        };
        let rendered_here =
            fs::read(root.join(MARKER)).is_ok_and(|m| m == marker_text().as_bytes());
        let old = Old {
            pages: list(&entries)?,
            reports: list(&reports)?,
            rendered_here,
            _lock: lockf,
        };
        Ok(Target {
            root: root.to_path_buf(),
            entries,
            reports,
            old: Some(old),
            written: AtomicUsize::new(0),
            unchanged: AtomicUsize::new(0),
            pending: Mutex::new(Vec::new()),
            stale: Mutex::new(Vec::new()),
            relinked: Mutex::new(HashSet::default()),
            shards: Mutex::new(HashSet::default()),
        })
    }

    pub fn is_in_place(&self) -> bool {
        self.old.is_some()
    }

    /// Whether the site held the report `sha` before this publish.
    pub fn had_report(&self, sha: &str) -> bool {
        self.old
            .as_ref()
            .is_some_and(|o| o.reports.contains(sha.as_bytes()))
    }

    /// Put the page `name` (`<id>.html`) with `bytes` into `entries/`. `scratch` is a buffer
    /// for reading the site's page.
    pub fn page(
        &self,
        name: &str,
        bytes: &[u8],
        buf: &mut Vec<u8>,
        scratch: &mut Vec<u8>,
    ) -> Result<(), Error> {
        self.entry_file(name, bytes, buf, scratch, true)
    }

    /// Put an entry's document (`<id>.json`) into `entries/`, as [`Target::page`] does, but
    /// not counted among the pages.
    pub fn entry_doc(
        &self,
        name: &str,
        bytes: &[u8],
        buf: &mut Vec<u8>,
        scratch: &mut Vec<u8>,
    ) -> Result<(), Error> {
        self.entry_file(name, bytes, buf, scratch, false)
    }

    fn entry_file(
        &self,
        name: &str,
        bytes: &[u8],
        buf: &mut Vec<u8>,
        scratch: &mut Vec<u8>,
        count: bool,
    ) -> Result<(), Error> {
        let counter = |c: &AtomicUsize| {
            if count {
                c.fetch_add(1, Ordering::Relaxed);
            }
        };
        let n = name.as_bytes();
        let err = |e| io_err(&self.entries.path().join(name), e);
        let Some(old) = &self.old else {
            self.entries.create(buf, n, bytes).map_err(err)?;
            counter(&self.written);
            return Ok(());
        };
        if old.pages.contains(n) {
            scratch.clear();
            // A page that cannot be read (a directory, a symbolic link) is replaced.
            if self.entries.read_own(buf, n, scratch).is_ok() && scratch[..] == *bytes {
                counter(&self.unchanged);
                return Ok(());
            }
        } else {
            match self.entries.create(buf, n, bytes) {
                Ok(()) => {
                    counter(&self.written);
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(err(e)),
            }
        }
        let t = temp_name(n);
        self.entries.unlink(buf, &t).map_err(err)?;
        self.entries.create(buf, &t, bytes).map_err(err)?;
        if let Err(e) = self.entries.rename(buf, &t, n) {
            let _ = self.entries.unlink(buf, &t);
            // A directory by the page's name: removed, then the page put in its place.
            if is_dir_err(&e) {
                let p = self.entries.path().join(name);
                remove_any(&p).map_err(|e| io_err(&p, e))?;
                return self.entry_file(name, bytes, buf, scratch, count);
            }
            return Err(err(e));
        }
        counter(&self.written);
        Ok(())
    }

    /// Whether the site holds report.html and report.md of the report `sha` as this renderer
    /// made them: it held the report before, its marker names this renderer, and both are
    /// files.
    pub fn has_rendered(&self, sha: &str, buf: &mut Vec<u8>) -> bool {
        let Some(old) = &self.old else {
            return false;
        };
        if !old.rendered_here
            || !old.reports.contains(sha.as_bytes())
            || lock(&self.relinked).contains(sha)
        {
            return false;
        }
        let mut rel = String::with_capacity(sha.len() + 24);
        [reports::REPORT_HTML, reports::REPORT_MD].iter().all(|f| {
            report_rel(&mut rel, sha, f);
            let reg = |s: &libc::stat| s.st_mode & libc::S_IFMT == libc::S_IFREG;
            matches!(self.reports.stat(buf, rel.as_bytes()), Ok(Some(st)) if reg(&st))
        })
    }

    /// Put a report page (`<sha>/report.html`, `<sha>/report.md`) into `reports/`: in
    /// place, written beside it and renamed over it (never written through: the site's file
    /// may be a link to the store's).
    pub fn report_page(&self, rel: &str, bytes: &[u8], buf: &mut Vec<u8>) -> Result<(), Error> {
        let err = |e| io_err(&self.reports.path().join(rel), e);
        if self.old.is_none() {
            return self.reports.create(buf, rel.as_bytes(), bytes).map_err(err);
        }
        let (dir, name) = rel.rsplit_once('/').unwrap_or(("", rel));
        let t = format!("{dir}/.{name}.publish-{}", std::process::id());
        self.reports.unlink(buf, t.as_bytes()).map_err(err)?;
        self.reports.create(buf, t.as_bytes(), bytes).map_err(err)?;
        if let Err(e) = self.reports.rename(buf, t.as_bytes(), rel.as_bytes()) {
            let _ = self.reports.unlink(buf, t.as_bytes());
            if is_dir_err(&e) {
                let p = self.reports.path().join(rel);
                remove_any(&p).map_err(|e| io_err(&p, e))?;
                return self.report_page(rel, bytes, buf);
            }
            return Err(err(e));
        }
        Ok(())
    }

    /// A report page the site will no longer link: removed at the end, once no page does.
    pub fn drop_report_page(&self, rel: &str) {
        let p = self.reports.path().join(rel);
        if self.old.is_some() && fs::symlink_metadata(&p).is_ok() {
            lock(&self.stale).push(p);
        }
    }

    /// Link (or copy) the signed files of the report `sha` from the store's `reports/` (`src`)
    /// into the site's; the mask of its files (0: the store does not hold it, and the site
    /// keeps nothing).
    pub fn report(
        &self,
        src: &Dir,
        sha: &str,
        hard: &AtomicBool,
        buf: &mut Vec<u8>,
    ) -> Result<u8, Error> {
        let Some(old) = &self.old else {
            return copy_report(src, &self.reports, sha, hard, buf);
        };
        if !old.reports.contains(sha.as_bytes()) {
            return copy_report(src, &self.reports, sha, hard, buf);
        }
        let here = self.reports.path().join(sha);
        let st = self
            .reports
            .stat(buf, sha.as_bytes())
            .map_err(|e| io_err(&here, e))?;
        if !st.as_ref().is_some_and(is_dir) {
            // Not a directory (a file, or a link to one elsewhere): replaced.
            remove_any(&here).map_err(|e| io_err(&here, e))?;
            return copy_report(src, &self.reports, sha, hard, buf);
        }
        let mut mask = 0u8;
        let mut rel = String::with_capacity(sha.len() + 24);
        for (bit, f) in REPORT_FILES.iter().enumerate() {
            if SIGNED & (1 << bit) == 0 {
                // Rendered by publish, never linked (see the `pages` module).
                continue;
            }
            report_rel(&mut rel, sha, f);
            let from_p = src.path().join(&rel);
            let to_p = self.reports.path().join(&rel);
            let a = src
                .stat(buf, rel.as_bytes())
                .map_err(|e| io_err(&from_p, e))?;
            let b = self
                .reports
                .stat(buf, rel.as_bytes())
                .map_err(|e| io_err(&to_p, e))?;
            match (a, b) {
                (None, None) => continue,
                (None, Some(_)) => {
                    // Pages stop linking it in this publish; removed once they have.
                    lock(&self.stale).push(to_p);
                    continue;
                }
                (Some(a), Some(b))
                    if same_inode(&a, &b) || same_content(&from_p, &to_p, &a, &b) => {}
                (Some(_), _) => {
                    lock(&self.relinked).insert(sha.to_string());
                    let t = format!("{sha}/.{f}.publish-{}", std::process::id());
                    let tp = self.reports.path().join(&t);
                    self.reports
                        .unlink(buf, t.as_bytes())
                        .map_err(|e| io_err(&tp, e))?;
                    let linked = hard.load(Ordering::Relaxed)
                        && self
                            .reports
                            .link(src, rel.as_bytes(), t.as_bytes(), buf)
                            .is_ok();
                    if !linked {
                        hard.store(false, Ordering::Relaxed);
                        fs::copy(&from_p, &tp).map_err(|e| {
                            Error::msg(format!(
                                "cannot copy {} to {}: {}",
                                from_p.display(),
                                tp.display(),
                                documents::io_reason(&e)
                            ))
                        })?;
                    }
                    self.reports
                        .rename(buf, t.as_bytes(), rel.as_bytes())
                        .map_err(|e| io_err(&to_p, e))?;
                }
            }
            mask |= 1 << bit;
        }
        if mask == 0 {
            lock(&self.stale).push(here);
        }
        Ok(mask)
    }

    /// Put the index's shard `name` into data/. Its name is a hash of its bytes: a site that
    /// has it keeps its file; a new one is written beside and renamed into place (no reader
    /// sees a part of it), before any manifest names it.
    pub fn shard(&self, name: &str, bytes: &[u8]) -> Result<(), Error> {
        lock(&self.shards).insert(name.to_string());
        let p = self.root.join("data").join(name);
        if self.old.is_some() {
            if let Ok(m) = fs::symlink_metadata(&p) {
                if m.is_file()
                    && m.len() == bytes.len() as u64
                    && fs::read(&p).is_ok_and(|b| b == bytes)
                {
                    return Ok(());
                }
                remove_any(&p).map_err(|e| io_err(&p, e))?;
            }
            let t = self.file(&format!("data/{name}"));
            fs::write(&t, bytes).map_err(|e| io_err(&t, e))?;
            return fs::rename(&t, &p).map_err(|e| io_err(&p, e));
        }
        fs::write(&p, bytes).map_err(|e| io_err(&p, e))
    }

    /// Where to write the data file `rel` (`hcl.json`, `data/index.js`…): in place, beside
    /// it, to be put in place by [`Target::settle`] and [`Target::commit`].
    pub fn file(&self, rel: &str) -> PathBuf {
        let p = self.root.join(rel);
        if self.old.is_none() {
            return p;
        }
        let name = p.file_name().map(|n| n.as_bytes()).unwrap_or_default();
        let t = OsString::from(std::ffi::OsStr::from_bytes(&temp_name(name)));
        p.with_file_name(t)
    }

    /// In place, after writing `rel` at [`Target::file`]: dropped when the site's is the same,
    /// else kept to rename over it in [`Target::commit`].
    pub fn settle(&self, rel: &str) -> Result<(), Error> {
        if self.old.is_none() {
            return Ok(());
        }
        let (t, p) = (self.file(rel), self.root.join(rel));
        let same = match (fs::symlink_metadata(&t), fs::symlink_metadata(&p)) {
            (Ok(a), Ok(b)) if b.is_file() && a.len() == b.len() => {
                files_equal(&t, &p).map_err(|e| io_err(&p, e))?
            }
            _ => false,
        };
        if same {
            fs::remove_file(&t).map_err(|e| io_err(&t, e))?;
        } else {
            lock(&self.pending).push((t, p));
        }
        Ok(())
    }

    /// In place: the changed data files renamed over the site's, in the order given (the
    /// index last, once what it loads is there).
    pub fn commit(&self, order: &[&str]) -> Result<(), Error> {
        let mut pending = std::mem::take(&mut *lock(&self.pending));
        for rel in order {
            let p = self.root.join(rel);
            if let Some(i) = pending.iter().position(|(_, q)| *q == p) {
                let (t, p) = pending.swap_remove(i);
                if let Err(e) = fs::rename(&t, &p) {
                    if fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir()) {
                        remove_any(&p).map_err(|e| io_err(&p, e))?;
                        fs::rename(&t, &p).map_err(|e| io_err(&p, e))?;
                    } else {
                        let _ = fs::remove_file(&t);
                        return Err(io_err(&p, e));
                    }
                }
            }
        }
        for (t, _) in pending {
            let _ = fs::remove_file(t);
        }
        Ok(())
    }

    /// In place, last: what to remove — the pages not in `pages`, the reports not in
    /// `reports`, the report files the store no longer has, and whatever else publishing
    /// would not have written.
    pub fn doomed(
        &self,
        pages: &HashSet<&str, FxBuild>,
        reports: &HashSet<&str, FxBuild>,
    ) -> Vec<PathBuf> {
        let Some(old) = &self.old else {
            return Vec::new();
        };
        let mut doomed: Vec<PathBuf> = std::mem::take(&mut *lock(&self.stale));
        // entries/ as listed before: under the lock, nothing but this publish changed it
        // since, and this publish's own temporary files are renamed or removed.
        for n in &old.pages {
            let keep = n
                .strip_suffix(b".html")
                .or_else(|| n.strip_suffix(b".json"))
                .and_then(|id| std::str::from_utf8(id).ok())
                .is_some_and(|id| pages.contains(id));
            if !keep {
                doomed.push(
                    self.entries
                        .path()
                        .join(OsString::from(std::ffi::OsStr::from_bytes(n))),
                );
            }
        }
        for n in &old.reports {
            let keep = std::str::from_utf8(n).is_ok_and(|s| reports.contains(s));
            if !keep {
                doomed.push(
                    self.reports
                        .path()
                        .join(OsString::from(std::ffi::OsStr::from_bytes(n))),
                );
            }
        }
        if let Ok(rd) = fs::read_dir(&self.root) {
            for e in rd.flatten() {
                let n = e.file_name();
                if !n.to_str().is_some_and(|n| TOP.contains(&n)) {
                    doomed.push(e.path());
                }
            }
        }
        let shards = lock(&self.shards);
        for (d, known) in SMALL_DIRS {
            if let Ok(rd) = fs::read_dir(self.root.join(d)) {
                for e in rd.flatten() {
                    let keep = e
                        .file_name()
                        .to_str()
                        .is_some_and(|n| known.contains(&n) || (d == "data" && shards.contains(n)));
                    if !keep {
                        doomed.push(e.path());
                    }
                }
            }
        }
        doomed
    }

    /// Remove what [`Target::doomed`] found: how many were, and a warning for each that
    /// could not be.
    pub fn remove(&self, doomed: Vec<PathBuf>, threads: usize) -> (usize, Vec<String>) {
        let warnings: Mutex<Vec<String>> = Mutex::new(Vec::new());
        let chunk = doomed.len().div_ceil(threads.max(1)).max(64);
        std::thread::scope(|s| {
            for part in doomed.chunks(chunk) {
                let warnings = &warnings;
                s.spawn(move || {
                    for p in part {
                        if let Err(e) = remove_any(p) {
                            lock(warnings).push(format!(
                                "{}: could not be removed from the site ({}); remove it by hand",
                                p.display(),
                                documents::io_reason(&e)
                            ));
                        }
                    }
                });
            }
        });
        let warnings = warnings.into_inner().unwrap_or_else(|p| p.into_inner());
        (doomed.len() - warnings.len(), warnings)
    }
}

/// Lock the site at `root` (an exclusive `flock` on its marker file, held while the file is
/// open): publishing in place, or renaming a new site over it, waits for whoever holds it.
/// The marker locked is the one at `root` once locked (a site renamed away meanwhile is
/// not the one wanted).
pub(crate) fn lock_site(root: &Path) -> Result<Lock, Error> {
    use std::os::unix::fs::MetadataExt;
    let marker = root.join(MARKER);
    loop {
        let f = fs::File::open(&marker).map_err(|e| io_err(&marker, e))?;
        // The file's own inode, to compare with what the marker's name stands for once locked.
        let a = f.metadata();
        let lock = match Lock::on(f, Wait::Yes) {
            Ok(Some(l)) => l,
            // Waiting, the lock is always had in the end.
            Ok(None) => return Err(io_err(&marker, io::ErrorKind::WouldBlock.into())),
            Err(e) => return Err(io_err(&marker, e)),
        };
        if let (Ok(a), Ok(b)) = (a, fs::metadata(&marker)) {
            if a.dev() == b.dev() && a.ino() == b.ino() {
                return Ok(lock);
            }
        }
    }
}

fn is_dir_err(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EISDIR) | Some(libc::ENOTEMPTY) | Some(libc::EEXIST)
    )
}

/// Remove a file, a symbolic link or a directory tree; gone already is no error.
pub(crate) fn remove_any(p: &Path) -> io::Result<()> {
    match fs::symlink_metadata(p) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
        Ok(m) if m.is_dir() => match fs::remove_dir_all(p) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            r => r,
        },
        Ok(_) => match fs::remove_file(p) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            r => r,
        },
    }
}

/// Two regular files of the same size with the same bytes (the site's copy of a report on
/// another file system).
fn same_content(a: &Path, b: &Path, sa: &libc::stat, sb: &libc::stat) -> bool {
    let reg = |s: &libc::stat| s.st_mode & libc::S_IFMT == libc::S_IFREG;
    reg(sa) && reg(sb) && sa.st_size == sb.st_size && files_equal(a, b).unwrap_or(false)
}

fn files_equal(a: &Path, b: &Path) -> io::Result<bool> {
    use std::io::Read;
    let (mut fa, mut fb) = (fs::File::open(a)?, fs::File::open(b)?);
    let (mut ba, mut bb) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let n = read_full(&mut fa, &mut ba)?;
        let m = read_full(&mut fb, &mut bb)?;
        if n != m || ba[..n] != bb[..m] {
            return Ok(false);
        }
        if n == 0 {
            return Ok(true);
        }
    }
    fn read_full(f: &mut fs::File, buf: &mut [u8]) -> io::Result<usize> {
        let mut got = 0;
        while got < buf.len() {
            match f.read(&mut buf[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(got)
    }
}
