//! # The published hardware compatibility list: a static site
//!
//! [`publish`] turns an HCL store ([`crate::store::Store`]) into a directory of plain files that
//! any web server — or none: every page works from `file://` — can serve:
//!
//! ```text
//! SITE/index.html              every system and component in a table, with filters
//!                              (architecture, OS release, vendor, device class, kind, free
//!                              text), sorting and paging, all in the browser; the view is
//!                              kept in the URL's fragment (#q=x710&arch=aarch64&page=2); the
//!                              first page of rows is in the HTML itself, for readers
//!                              without JavaScript, with a note pointing at hcl.csv
//! SITE/data/index.js           the table's data, loaded by <script src> (browsers refuse
//!                              fetch() of file:// URLs): window.HCL_INDEX (hwcert.hcl-index/1),
//!                              one table of the distinct strings and, per column, the rows'
//!                              indices into it as fixed-width base-64 digits
//! SITE/assets/hcl.css, hcl.js  the site's own style and script, built into hwcert (no CDN,
//!                              no web fonts, nothing fetched from elsewhere)
//! SITE/entries/<id>.html       a page per entry: identity, the current certification with
//!                              its case results, every certification newest first, links to
//!                              the signed reports and the ssh-keygen command that verifies them
//! SITE/reports/<sha256>/       the cited reports' files, hard-linked from the store (copied
//!                              where it is on another file system): report.html,
//!                              report.json, report.json.sig, report.md
//! SITE/hcl.json                for programs: counts and every entry in full, as the store
//!                              holds it (hwcert.hcl-site/1), one entry per line
//! SITE/hcl.csv                 for spreadsheets: one row per entry with its current
//!                              certification (RFC 4180, CRLF)
//! SITE/.hwcert-site            the marker that says hwcert made this directory
//! ```
//!
//! The first publish writes the site into a sibling temporary directory and renames it into
//! place (an atomic exchange where the directory exists empty). Publishing over a site
//! updates it in place and writes only what changed, in an order that keeps what a reader
//! sees coherent (see the `target` module): a republish of 100,000 entries with nothing changed writes
//! no page, and rsync, caches or a git checkout of the site see only real changes. Entry pages
//! hold nothing from other entries (not even the list's "as of" date), so a page changes only
//! with its entry or the reports it cites. An existing directory is used only when it holds
//! the marker (or is empty): a directory of someone else's is refused. What a killed publish
//! left behind (`.SITE.publish-PID-N`) is removed by the next.
//!
//! The same store makes byte-identical sites: nothing depends on the clock, the order of
//! directory listings or the number of threads ("as of" is the newest certification's date).
//!
//! Every string from the store is escaped where it lands: HTML-escaped in pages, JSON with
//! `<`, `>`, `&`, U+2028 and U+2029 escaped in the script (which builds rows with DOM calls
//! and `textContent` only), RFC 4180-quoted and defused against spreadsheet formulas in the
//! CSV. Entry IDs and report hashes become file names only when they are plain (an entry
//! file that is not is left out with a warning).
//!
//! 100,000 entries publish in about 3.5 s on two CPUs, and republish in about 3 s (tmpfs;
//! see bench/hcl.sh). Entry files are read by a strict reader of the store's own layout
//! (serde for anything else) into views that borrow their strings from the files' bytes;
//! pages are written by hand rather than from a template (five times faster); files are
//! read, created and linked relative to open directories; and the work is shared out to
//! `threads` threads.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use crate::key::Kind;
use crate::store::Store;

use dir::Dir;
use target::Target;
use view::EntryView;

use documents::Error;

mod data;
mod dir;
mod html;
mod strict;
mod target;
mod view;

/// The schema of hcl.json.
pub const SITE_SCHEMA: &str = "hwcert.hcl-site/1";
/// The schema of data/index.js's object.
pub const INDEX_SCHEMA: &str = "hwcert.hcl-index/1";
/// The file that marks a directory as a site hwcert published.
pub const MARKER: &str = ".hwcert-site";
/// Rows per page of the index table.
pub const PAGE_SIZE: usize = 100;
/// The title of a site unless told otherwise.
pub const DEFAULT_TITLE: &str = "OpenCloudOS hardware compatibility list";

/// The report files a site publishes, in the order of the bits of a report's file mask.
pub(crate) const REPORT_FILES: [&str; 4] = [
    reports::REPORT_HTML,
    reports::REPORT_JSON,
    reports::REPORT_SIG,
    reports::REPORT_MD,
];

const JS: &str = include_str!("../site/hcl.js");
const CSS: &str = include_str!("../site/hcl.css");

/// How to publish.
#[derive(Debug, Clone)]
pub struct PublishOptions {
    /// The site's title (`<h1>` and `<title>` of every page).
    pub title: String,
    /// Threads reading entries and writing pages (0: one per CPU).
    pub threads: usize,
}

impl Default for PublishOptions {
    fn default() -> Self {
        PublishOptions {
            title: DEFAULT_TITLE.to_string(),
            threads: default_threads(),
        }
    }
}

fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// What [`publish`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishSummary {
    pub systems: usize,
    pub components: usize,
    /// Report directories published under `reports/`.
    pub reports: usize,
    /// Entry files left out, reports the store lacks, and the like: one line each.
    pub warnings: Vec<String>,
    /// The site's directory.
    pub out: PathBuf,
    /// Whether a site published before was updated in place (rather than a new one made).
    pub in_place: bool,
    /// Entry pages written (new or changed), and those left as they were.
    pub pages_written: usize,
    pub pages_unchanged: usize,
    /// Files and directories removed from the site: pages of entries no longer in the
    /// store, reports no longer cited, anything publishing would not have written.
    pub removed: usize,
}

/// What the index, the CSV and the pages show of an entry.
pub(crate) struct Row<'a> {
    pub e: &'a EntryView<'a>,
    /// The entry file's bytes.
    pub raw: &'a [u8],
    pub vendor: &'a str,
    pub name: &'a str,
    /// Subsystem vendor and name (components).
    pub sub: String,
    /// `8086:1572 8086:0001` (components).
    pub ids: String,
    pub class: &'a str,
    /// `opencloudos 9.2`.
    pub rel: String,
    /// `YYYY-MM-DD` of the current certification.
    pub date: &'a str,
    pub driver: &'a str,
    pub driver_version: &'a str,
    pub firmware: &'a str,
    pub system: &'a str,
    pub os: &'a str,
}

fn s<'a>(o: &'a Option<std::borrow::Cow<'_, str>>) -> &'a str {
    o.as_deref().unwrap_or("")
}

/// The date part of an RFC 3339 time, or the string as it is.
pub(crate) fn day(d: &str) -> &str {
    match d.get(..10) {
        Some(x) if d.as_bytes().get(4) == Some(&b'-') => x,
        _ => d,
    }
}

impl<'a> Row<'a> {
    fn new(e: &'a EntryView<'a>, raw: &'a [u8]) -> Row<'a> {
        let k = &e.key;
        let (vendor, name, class) = match e.kind {
            Kind::System => (
                k.system_vendor
                    .as_deref()
                    .or(e.vendor.as_deref())
                    .unwrap_or(""),
                k.system_product
                    .as_deref()
                    .or(e.name.as_deref())
                    .unwrap_or(""),
                e.class.as_deref().unwrap_or("System"),
            ),
            Kind::Component => (
                e.vendor.as_deref().or(k.vendor_id.as_deref()).unwrap_or(""),
                e.name.as_deref().unwrap_or("PCI device"),
                e.class.as_deref().or(e.class_id.as_deref()).unwrap_or(""),
            ),
        };
        let sub = match (e.subsystem_vendor.as_deref(), e.subsystem.as_deref()) {
            (Some(v), Some(n)) => format!("{v} {n}"),
            (Some(x), None) | (None, Some(x)) => x.to_string(),
            (None, None) => String::new(),
        };
        let c = e.current();
        Row {
            e,
            raw,
            vendor,
            name,
            sub,
            ids: k.pci_ids().unwrap_or_default(),
            class,
            rel: k.release(),
            date: c.map(|c| day(&c.date)).unwrap_or(""),
            driver: c.map(|c| s(&c.driver)).unwrap_or(""),
            driver_version: c.map(|c| s(&c.driver_version)).unwrap_or(""),
            firmware: c.map(|c| s(&c.firmware)).unwrap_or(""),
            system: c.map(|c| s(&c.system)).unwrap_or(""),
            os: c.map(|c| s(&c.os)).unwrap_or(""),
        }
    }

    /// `Component`, `System`.
    pub fn kind_label(&self) -> &'static str {
        match self.e.kind {
            Kind::System => "System",
            Kind::Component => "Component",
        }
    }

    /// `i40e 2.22.18`.
    pub fn driver_label(&self) -> String {
        match (self.driver, self.driver_version) {
            ("", v) => v.to_string(),
            (d, "") => d.to_string(),
            (d, v) => format!("{d} {v}"),
        }
    }
}

/// Whether a string may be a file name in the site: letters, digits, `.`, `_`, `-`; not
/// starting with a dot; at most 200 bytes.
pub fn is_safe_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 200
        && !s.starts_with('.')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Whether a string is a lowercase hex SHA-256.
pub fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `1234567` → `1,234,567`.
pub(crate) fn thousands(n: usize) -> String {
    let d = n.to_string();
    let mut out = String::with_capacity(d.len() + d.len() / 3);
    for (i, c) in d.chars().enumerate() {
        if i > 0 && (d.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Facts the index and every page share.
pub(crate) struct Ctx<'a> {
    pub title: &'a str,
    /// The newest certification's date (`YYYY-MM-DD`), or empty.
    pub as_of: &'a str,
    pub systems: usize,
    pub components: usize,
    pub reports: usize,
    /// Report hash → which of [`REPORT_FILES`] the site holds (bit i for file i).
    pub report_files: &'a HashMap<String, u8, FxBuild>,
}

/// Publish `store` as a static site in `out` (see the module's documentation).
pub fn publish(store: &Store, out: &Path, opts: &PublishOptions) -> Result<PublishSummary, Error> {
    let threads = if opts.threads == 0 {
        default_threads()
    } else {
        opts.threads
    }
    .clamp(1, 64);
    let title = if opts.title.trim().is_empty() {
        DEFAULT_TITLE
    } else {
        opts.title.trim()
    };
    let (parent, name) = split_out(out)?;
    let existing = check_replaceable(out)?;

    let trace = Trace::new();
    let tr = |what: &str| trace.at(what);
    let (entry_dirs, paths) = entry_paths(store)?;
    let in_store = store_reports(store)?;
    tr("listed");
    // A site we published is updated in place; anything else (nothing, an empty directory)
    // is built beside and renamed into place.
    // Unique to this call: threads of one process may publish too.
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    let tmp = parent.join(format!(".{name}.publish-{}-{call}", std::process::id()));
    remove_leftovers(&parent, &name, threads);
    let target = if existing == Existing::Site {
        Target::in_place(out)?
    } else {
        if fs::symlink_metadata(&tmp).is_ok() {
            fs::remove_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
        }
        Target::fresh(&tmp)?
    };
    let res = (|| -> Result<Built, Error> {
        let store_rep = if in_store.is_empty() {
            None
        } else {
            let p = store.root().join(crate::layout::REPORTS_DIR);
            Some(Dir::open(&p).map_err(|e| Error::io(&p, e))?)
        };
        // Phase 1: read and parse the entry files, and meanwhile link the store's reports in.
        let chunks: Vec<&[EntryFile]> = paths.chunks(256).collect();
        let mut bytes: Vec<OnceLock<Arena>> = chunks.iter().map(|_| OnceLock::new()).collect();
        let parsed: Vec<Mutex<Vec<Result<EntryView, String>>>> =
            chunks.iter().map(|_| Mutex::new(Vec::new())).collect();
        let rchunks: Vec<&[String]> = in_store.chunks(64).collect();
        let linked: Mutex<Vec<(&str, u8)>> = Mutex::new(Vec::with_capacity(in_store.len()));
        let hard = AtomicBool::new(true);
        let mut jobs = Vec::with_capacity(chunks.len() + rchunks.len());
        for i in 0..chunks.len().max(rchunks.len()) {
            if i < chunks.len() {
                jobs.push(Phase1::Read(i));
            }
            if i < rchunks.len() {
                jobs.push(Phase1::Link(i));
            }
        }
        run_jobs(threads, &jobs, |job| {
            match *job {
                Phase1::Read(i) => {
                    let a = bytes[i].get_or_init(|| Arena::read(&entry_dirs, chunks[i]));
                    let v = chunks[i]
                        .iter()
                        .zip(&a.spans)
                        .map(|(f, span)| match span {
                            Ok((from, to)) => EntryView::parse(&f.path, &a.data[*from..*to]),
                            Err(e) => Err(e.clone()),
                        })
                        .collect();
                    *lock(&parsed[i]) = v;
                }
                Phase1::Link(i) => {
                    let Some(src) = &store_rep else {
                        return Ok(());
                    };
                    let mut got = Vec::with_capacity(rchunks[i].len());
                    let mut buf = Vec::with_capacity(256);
                    for sha in rchunks[i] {
                        let mask = target.report(src, sha, &hard, &mut buf)?;
                        got.push((sha.as_str(), mask));
                    }
                    lock(&linked).extend(got);
                }
            }
            Ok(())
        })?;
        tr("read, parsed, reports linked");

        let mut warnings = Vec::new();
        let mut entries: Vec<(EntryView, &[u8])> = Vec::with_capacity(paths.len());
        for (m, a) in parsed.iter().zip(&bytes) {
            let v = std::mem::take(&mut *lock(m));
            let Some(a) = a.get() else { continue };
            for (r, span) in v.into_iter().zip(&a.spans) {
                match (r, span) {
                    (Ok(e), Ok((from, to))) => entries.push((e, &a.data[*from..*to])),
                    (Err(w), _) => warnings.push(w),
                    (Ok(_), Err(w)) => warnings.push(w.clone()),
                }
            }
        }
        // Entries whose IDs cannot be file names, or that another file already claims, are
        // left out: a page name must never be a path.
        let mut seen: HashSet<&str, FxBuild> =
            HashSet::with_capacity_and_hasher(entries.len(), FxBuild::default());
        let mut kept: Vec<(&EntryView, &[u8])> = Vec::with_capacity(entries.len());
        for (e, raw) in &entries {
            if !is_safe_name(&e.id) {
                warnings.push(format!(
                    "{}: entry ID {:?} is not a plain file name (letters, digits, '.', '_', '-'); left out of the site",
                    store.entry_path(e.kind, &e.id).display(),
                    e.id
                ));
            } else if !seen.insert(&e.id) {
                warnings.push(format!(
                    "{}: a second entry with ID {}; left out of the site",
                    store.entry_path(e.kind, &e.id).display(),
                    e.id
                ));
            } else {
                kept.push((e, raw));
            }
        }
        // The reports the entries cite (history included), against those linked in.
        let mut cited: HashSet<&str, FxBuild> =
            HashSet::with_capacity_and_hasher(in_store.len() + 16, FxBuild::default());
        for (e, _) in &kept {
            for c in &e.certifications {
                if is_sha256(&c.report_sha256) {
                    cited.insert(&c.report_sha256);
                } else {
                    warnings.push(format!(
                        "{}: cites report {:?}, which is not a SHA-256; its page does not link it",
                        store.entry_path(e.kind, &e.id).display(),
                        c.report_sha256
                    ));
                }
            }
        }
        let mut cited: Vec<&str> = cited.into_iter().collect();
        cited.sort_unstable();
        let mut linked = linked.into_inner().unwrap_or_else(|p| p.into_inner());
        linked.sort_unstable();
        let mut report_files: HashMap<String, u8, FxBuild> =
            HashMap::with_capacity_and_hasher(cited.len(), FxBuild::default());
        let mut li = linked.iter().peekable();
        // Reports no entry cites (withdrawn entries) are not published: those linked just now
        // are removed at once, those the site had once its pages no longer link them.
        let unlink = |l: &str| -> Result<(), Error> {
            if !target.had_report(l) {
                let d = target.reports.path().join(l);
                target::remove_any(&d).map_err(|e| Error::io(&d, e))?;
            }
            Ok(())
        };
        for sha in &cited {
            while let Some((l, _)) = li.next_if(|(l, _)| l < sha) {
                unlink(l)?;
            }
            match li.next_if(|(l, _)| l == sha) {
                Some((_, mask)) if *mask != 0 => {
                    report_files.insert(sha.to_string(), *mask);
                }
                _ => warnings.push(format!(
                    "{}: cited by the store's entries but not in the store; their pages do not link it",
                    store.report_dir(sha).display()
                )),
            }
        }
        for (l, _) in li {
            unlink(l)?;
        }

        let rows: Vec<Row> = par_map(&kept, 1024, threads, |(e, raw)| Row::new(e, raw));
        // The index's order: systems first, then by vendor and name, case-insensitively.
        let keys: Vec<(Kind, String)> = par_map(&rows, 4096, threads, |r| {
            let mut k = String::with_capacity(r.vendor.len() + r.name.len() + 1);
            k.push_str(r.vendor);
            k.push('\0');
            k.push_str(r.name);
            k.make_ascii_lowercase();
            (r.e.kind, k)
        });
        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.sort_unstable_by(|&a, &b| {
            keys[a]
                .cmp(&keys[b])
                .then_with(|| rows[a].vendor.cmp(rows[b].vendor))
                .then_with(|| rows[a].name.cmp(rows[b].name))
                .then_with(|| rows[a].e.id.cmp(&rows[b].e.id))
        });
        drop(keys);
        let as_of = kept
            .iter()
            .flat_map(|(e, _)| e.certifications.iter().map(|c| &*c.date))
            .max()
            .map(day)
            .unwrap_or("")
            .to_string();
        let systems = kept.iter().filter(|(e, _)| e.kind == Kind::System).count();
        let ctx = Ctx {
            title,
            as_of: &as_of,
            systems,
            components: kept.len() - systems,
            reports: report_files.len(),
            report_files: &report_files,
        };
        tr("rows and order");

        // Phase 2: the files for machines, the index, and a page per entry.
        let mut jobs = vec![
            Phase2::Json,
            Phase2::Data,
            Phase2::Csv,
            Phase2::Index,
            Phase2::Assets,
        ];
        jobs.extend((0..rows.len().div_ceil(256)).map(Phase2::Pages));
        let phase2 = |job: &Phase2| -> Result<(), Error> {
            let put = |rel: &str, bytes: &[u8]| -> Result<(), Error> {
                write(&target.file(rel), bytes)?;
                target.settle(rel)
            };
            match *job {
                Phase2::Json => {
                    data::write_json(&target.file("hcl.json"), &ctx, &rows)?;
                    target.settle("hcl.json")
                }
                Phase2::Data => {
                    data::write_index_js(&target.file("data/index.js"), &rows, &order)?;
                    target.settle("data/index.js")
                }
                Phase2::Csv => {
                    data::write_csv(&target.file("hcl.csv"), &rows)?;
                    target.settle("hcl.csv")
                }
                Phase2::Index => {
                    let mut out = String::with_capacity(64 * 1024);
                    html::index_page(&mut out, &ctx, &rows, &order);
                    put("index.html", out.as_bytes())
                }
                Phase2::Assets => {
                    put("assets/hcl.css", CSS.as_bytes())?;
                    put("assets/hcl.js", JS.as_bytes())
                }
                Phase2::Pages(c) => {
                    let mut out = String::with_capacity(16 * 1024);
                    let mut file = String::with_capacity(256);
                    let mut buf = Vec::with_capacity(256);
                    let mut scratch = Vec::new();
                    for r in rows.iter().skip(c * 256).take(256) {
                        out.clear();
                        html::entry_page(&mut out, &ctx, r);
                        file.clear();
                        file.push_str(&r.e.id);
                        file.push_str(".html");
                        target.page(&file, out.as_bytes(), &mut buf, &mut scratch)?;
                    }
                    Ok(())
                }
            }
        };
        run_jobs(threads, &jobs, |job| {
            let t = std::time::Instant::now();
            let r = phase2(job);
            if !matches!(job, Phase2::Pages(_)) {
                trace.job(job.name(), t.elapsed());
            }
            r
        })?;
        tr("pages, index, hcl.json, hcl.csv");
        let marker = format!(
            "{SITE_SCHEMA}\nhwcert hwdb publish made this directory; publishing again updates it, and removes what it did not write.\n"
        );
        let mut built = Built {
            systems,
            components: kept.len() - systems,
            reports: report_files.len(),
            warnings,
            removed: 0,
        };
        let old = if target.is_in_place() {
            // The data files, then the index that loads them; the marker is the lock's file,
            // written over only if its text changed.
            target.commit(&[
                "assets/hcl.css",
                "assets/hcl.js",
                "data/index.js",
                "hcl.json",
                "hcl.csv",
                "index.html",
            ])?;
            let m = out.join(MARKER);
            if fs::read(&m).ok().as_deref() != Some(marker.as_bytes()) {
                write(&m, marker.as_bytes())?;
            }
            tr("changed files renamed into place");
            None
        } else {
            write(&tmp.join(MARKER), marker.as_bytes())?;
            let old = swap_in(&tmp, out, &parent, &name)?;
            tr("swapped in");
            old
        };
        // What the site no longer holds, found now (it is looked up in what the entries
        // borrow), removed below.
        let doomed = {
            let pages: HashSet<&str, FxBuild> = kept.iter().map(|(e, _)| &*e.id).collect();
            let published: HashSet<&str, FxBuild> =
                report_files.keys().map(|k| k.as_str()).collect();
            target.doomed(&pages, &published)
        };
        tr("what the site no longer holds found");
        // Freeing 100,000 parsed entries and their files' bytes takes a while: done on two
        // threads, while the old site, or what the site no longer holds, is removed.
        drop(rows);
        drop(kept);
        let half = entries.split_off(entries.len() / 2);
        std::thread::scope(|s| {
            let remover = s.spawn(|| match &old {
                Some(o) => remove_tree(o, threads)
                    .map_err(|e| (o.clone(), e))
                    .map(|()| (0, Vec::new())),
                None => Ok(target.remove(doomed, threads)),
            });
            s.spawn(move || drop(half));
            drop(entries);
            let e = match remover.join() {
                Ok(Ok((n, w))) => {
                    built.removed = n;
                    built.warnings.extend(w);
                    return;
                }
                Ok(Err((o, e))) => format!(
                    "the previous site was replaced but could not be removed ({e}); remove {} by hand",
                    o.display()
                ),
                Err(_) => "removing the previous site: a thread panicked".to_string(),
            };
            built.warnings.push(e);
        });
        drop(parsed);
        let half = bytes.split_off(bytes.len() / 2);
        std::thread::scope(|s| {
            s.spawn(move || drop(half));
            drop(bytes);
        });
        tr("old site removed, entries freed");
        Ok(built)
    })();
    let Built {
        systems,
        components,
        reports,
        warnings,
        removed,
    } = match res {
        Ok(x) => x,
        Err(e) => {
            if !target.is_in_place() {
                let _ = remove_tree(&tmp, threads);
            }
            return Err(e);
        }
    };
    Ok(PublishSummary {
        systems,
        components,
        reports,
        warnings,
        out: out.to_path_buf(),
        in_place: target.is_in_place(),
        pages_written: target.written.load(Ordering::Relaxed),
        pages_unchanged: target.unchanged.load(Ordering::Relaxed),
        removed,
    })
}

/// Remove what publishes into `parent/name` that were killed left behind: `.name.publish-PID`
/// and `.name.old-PID` of processes that are gone.
fn remove_leftovers(parent: &Path, name: &str, threads: usize) {
    let Ok(rd) = fs::read_dir(parent) else { return };
    let (a, b) = (format!(".{name}.publish-"), format!(".{name}.old-"));
    for e in rd.flatten() {
        let n = e.file_name();
        let Some(n) = n.to_str() else { continue };
        let Some(pid) = n.strip_prefix(&a).or_else(|| n.strip_prefix(&b)) else {
            continue;
        };
        let pid = pid.split('-').next().unwrap_or_default();
        let Ok(pid) = pid.parse::<libc::pid_t>() else {
            continue;
        };
        // SAFETY: signal 0 only asks whether the process exists.
        let gone = pid > 0
            && unsafe { libc::kill(pid, 0) } != 0
            && io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        if gone && e.file_type().is_ok_and(|t| t.is_dir()) {
            let _ = remove_tree(&e.path(), threads);
        }
    }
}

/// With `HWCERT_SITE_TIMES` set, where the time goes: wall and CPU time at each step, on
/// stderr (for bench/hcl.sh).
struct Trace {
    start: std::time::Instant,
    on: bool,
}

impl Trace {
    fn new() -> Trace {
        Trace {
            start: std::time::Instant::now(),
            on: std::env::var_os("HWCERT_SITE_TIMES").is_some(),
        }
    }

    fn at(&self, what: &str) {
        if !self.on {
            return;
        }
        // SAFETY: getrusage fills the struct it is given.
        let ru = unsafe {
            let mut ru: libc::rusage = std::mem::zeroed();
            libc::getrusage(libc::RUSAGE_SELF, &mut ru);
            ru
        };
        let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        // Written with `let _`: a closed stderr must not stop a publish.
        let _ = writeln!(
            io::stderr(),
            "site: {:7.3} s wall {:7.2} s user {:7.2} s sys  {what}",
            self.start.elapsed().as_secs_f64(),
            secs(ru.ru_utime),
            secs(ru.ru_stime)
        );
    }

    fn job(&self, what: &str, took: std::time::Duration) {
        if self.on {
            let _ = writeln!(
                io::stderr(),
                "site:   {what} took {:.3} s",
                took.as_secs_f64()
            );
        }
    }
}

/// The bytes of a chunk of entry files, one after the other (a few large allocations rather
/// than one per file: the views parsed from them are freed faster for it), and each file's
/// place in them or why it could not be read.
struct Arena {
    data: Vec<u8>,
    spans: Vec<Result<(usize, usize), String>>,
}

impl Arena {
    fn read(dirs: &[Dir], files: &[EntryFile]) -> Arena {
        use std::os::unix::ffi::OsStrExt;
        let mut data = Vec::with_capacity(files.len() * 6144);
        let mut spans = Vec::with_capacity(files.len());
        let mut buf = Vec::with_capacity(256);
        for f in files {
            let from = data.len();
            let name = f.path.file_name().map(|n| n.as_bytes()).unwrap_or_default();
            match dirs[f.dir].read_into(&mut buf, name, &mut data) {
                Ok(()) => spans.push(Ok((from, data.len()))),
                Err(e) => spans.push(Err(format!(
                    "{}: {}",
                    f.path.display(),
                    documents::io_reason(&e)
                ))),
            }
        }
        Arena { data, spans }
    }
}

/// An entry file of the store: its directory (an index into the open ones) and its path.
struct EntryFile {
    dir: usize,
    path: PathBuf,
}

/// What phase 1 made, for the summary.
struct Built {
    systems: usize,
    components: usize,
    reports: usize,
    warnings: Vec<String>,
    removed: usize,
}

enum Phase1 {
    Read(usize),
    Link(usize),
}

enum Phase2 {
    Json,
    Data,
    Csv,
    Index,
    Assets,
    Pages(usize),
}

impl Phase2 {
    fn name(&self) -> &'static str {
        match self {
            Phase2::Json => "hcl.json",
            Phase2::Data => "data/index.js",
            Phase2::Csv => "hcl.csv",
            Phase2::Index => "index.html",
            Phase2::Assets => "assets",
            Phase2::Pages(_) => "entries",
        }
    }
}

/// Every entry file of the store, in ID order: systems first, then by file name, as
/// [`Store::entries`] reads them; and the directories they are in, open.
fn entry_paths(store: &Store) -> Result<(Vec<Dir>, Vec<EntryFile>), Error> {
    use std::os::unix::ffi::OsStrExt;
    let mut paths: Vec<EntryFile> = Vec::new();
    let mut dirs = Vec::new();
    for d in [crate::layout::SYSTEMS_DIR, crate::layout::COMPONENTS_DIR] {
        let dir = store.root().join(d);
        let rd = match fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io(&dir, e)),
        };
        let at = dirs.len();
        dirs.push(Dir::open(&dir).map_err(|e| Error::io(&dir, e))?);
        let mut names: Vec<std::ffi::OsString> = rd
            .filter_map(|e| e.ok())
            .map(|e| e.file_name())
            .filter(|n| {
                let b = n.as_bytes();
                b.ends_with(b".json") && !b.starts_with(b".")
            })
            .collect();
        names.sort_unstable();
        paths.extend(names.into_iter().map(|n| EntryFile {
            dir: at,
            path: dir.join(n),
        }));
    }
    Ok((dirs, paths))
}

/// The reports the store holds: the names of `reports/` that are SHA-256s, sorted.
fn store_reports(store: &Store) -> Result<Vec<String>, Error> {
    let dir = store.root().join(crate::layout::REPORTS_DIR);
    let rd = match fs::read_dir(&dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(&dir, e)),
    };
    let mut names: Vec<String> = rd
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| is_sha256(n))
        .collect();
    names.sort_unstable();
    Ok(names)
}

/// Compare ASCII-case-insensitively, then exactly.
pub(crate) fn ci_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    a.bytes()
        .map(|c| c.to_ascii_lowercase())
        .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
        .then_with(|| a.cmp(b))
}

/// `f` of every item, in order, computed on up to `threads` threads taking chunks of `chunk`
/// items as they finish the last.
fn par_map<'a, T: Sync, R: Send>(
    items: &'a [T],
    chunk: usize,
    threads: usize,
    f: impl Fn(&'a T) -> R + Sync,
) -> Vec<R> {
    let chunks: Vec<&'a [T]> = items.chunks(chunk.max(1)).collect();
    let results: Vec<Mutex<Vec<R>>> = chunks.iter().map(|_| Mutex::new(Vec::new())).collect();
    let next = AtomicUsize::new(0);
    let work = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(part) = chunks.get(i) else { return };
        let got: Vec<R> = part.iter().map(&f).collect();
        *lock(&results[i]) = got;
    };
    std::thread::scope(|s| {
        for _ in 1..threads.min(chunks.len()).max(1) {
            s.spawn(work);
        }
        work();
    });
    results
        .into_iter()
        .flat_map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner()))
        .collect()
}

/// FxHash (as in rustc): much faster than SipHash on the many short strings here, and no
/// hash-flooding concern — the keys are the store's own strings, hashed once per run.
#[derive(Default, Clone, Copy)]
pub(crate) struct Fx(u64);

impl std::hash::Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type FxBuild = std::hash::BuildHasherDefault<Fx>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Run `jobs` on `threads` threads, each taking the next job when done with one; the first
/// error stops the rest.
fn run_jobs<J: Sync, F>(threads: usize, jobs: &[J], f: F) -> Result<(), Error>
where
    F: Fn(&J) -> Result<(), Error> + Sync,
{
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let first_err: Mutex<Option<Error>> = Mutex::new(None);
    let work = || loop {
        if failed.load(Ordering::Relaxed) {
            return;
        }
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(job) = jobs.get(i) else { return };
        if let Err(e) = f(job) {
            failed.store(true, Ordering::Relaxed);
            lock(&first_err).get_or_insert(e);
            return;
        }
    };
    let n = threads.min(jobs.len()).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = (1..n).map(|_| s.spawn(work)).collect();
        work();
        for h in handles {
            if h.join().is_err() {
                lock(&first_err).get_or_insert_with(|| Error::msg("publishing: a thread panicked"));
            }
        }
    });
    match first_err.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

pub(crate) fn write(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    fs::write(path, bytes).map_err(|e| Error::io(path, e))
}

/// Link (or copy, across file systems) a report's files from the store's `reports/` (`src`)
/// into the site's (`dst`) as `<sha>/<file>`; the mask of the files it has (0: the store does
/// not hold the report, and nothing is left behind).
fn copy_report(
    src: &Dir,
    dst: &Dir,
    sha: &str,
    linked: &AtomicBool,
    buf: &mut Vec<u8>,
) -> Result<u8, Error> {
    let to_dir = dst.path().join(sha);
    dst.mkdir(buf, sha.as_bytes())
        .map_err(|e| Error::io(&to_dir, e))?;
    let mut mask = 0u8;
    let mut rel = String::with_capacity(sha.len() + 24);
    for (bit, f) in REPORT_FILES.iter().enumerate() {
        report_rel(&mut rel, sha, f);
        if linked.load(Ordering::Relaxed) {
            match dst.link(src, rel.as_bytes(), rel.as_bytes(), buf) {
                Ok(()) => {
                    mask |= 1 << bit;
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                // Another file system, or one without hard links: copy from now on.
                Err(_) => linked.store(false, Ordering::Relaxed),
            }
        }
        let (from, to) = (src.path().join(&rel), dst.path().join(&rel));
        match fs::copy(&from, &to) {
            Ok(_) => mask |= 1 << bit,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(Error::msg(format!(
                    "cannot copy {} to {}: {}",
                    from.display(),
                    to.display(),
                    documents::io_reason(&e)
                )))
            }
        }
    }
    if mask == 0 {
        fs::remove_dir(&to_dir).map_err(|e| Error::io(&to_dir, e))?;
    }
    Ok(mask)
}

/// `<sha>/<file>` into `rel`: a report file's path under `reports/`.
pub(crate) fn report_rel(rel: &mut String, sha: &str, file: &str) {
    rel.clear();
    rel.push_str(sha);
    rel.push('/');
    rel.push_str(file);
}

/// The directory `out` goes into and its name.
fn split_out(out: &Path) -> Result<(PathBuf, String), Error> {
    let name = out
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| !n.is_empty() && *n != "." && *n != "..")
        .ok_or_else(|| {
            Error::msg(format!(
                "{}: not a directory name to publish into (give a path such as ./site)",
                out.display()
            ))
        })?;
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        return Err(Error::msg(format!(
            "{}: no such directory to publish the site into (make it first)",
            parent.display()
        )));
    }
    Ok((parent, name.to_string()))
}

/// What is where the site goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Existing {
    Nothing,
    /// An empty directory.
    Empty,
    /// A site we published (it has the marker).
    Site,
}

/// Refuse to replace anything but a site we published, or an empty directory.
fn check_replaceable(out: &Path) -> Result<Existing, Error> {
    let md = match fs::symlink_metadata(out) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Existing::Nothing),
        Err(e) => return Err(Error::io(out, e)),
    };
    if md.file_type().is_symlink() {
        return Err(Error::msg(format!(
            "{}: is a symbolic link; give the directory it points to, or another -o",
            out.display()
        )));
    }
    if !md.is_dir() {
        return Err(Error::msg(format!(
            "{}: exists and is not a directory; choose another -o",
            out.display()
        )));
    }
    if fs::symlink_metadata(out.join(MARKER)).is_ok_and(|m| m.is_file()) {
        return Ok(Existing::Site);
    }
    let mut rd = fs::read_dir(out).map_err(|e| Error::io(out, e))?;
    if rd.next().is_none() {
        return Ok(Existing::Empty);
    }
    Err(Error::msg(format!(
        "{}: exists and is not a site hwcert published (it has no {MARKER}); it was left alone: choose another -o, or remove it",
        out.display()
    )))
}

/// Put the finished site `tmp` at `out`; the directory holding the old site, if there was one,
/// for the caller to remove.
fn swap_in(tmp: &Path, out: &Path, parent: &Path, name: &str) -> Result<Option<PathBuf>, Error> {
    // Checked again right before: the directory may have changed while we wrote.
    // A site there is locked first: one being updated in place is not swapped away under
    // the publish updating it.
    let _lock = match check_replaceable(out) {
        Ok(Existing::Site) => Some(target::lock_site(out)?),
        Ok(_) => None,
        Err(e) => {
            let _ = remove_tree(tmp, 1);
            return Err(e);
        }
    };
    if fs::symlink_metadata(out).is_err() {
        return match fs::rename(tmp, out) {
            Ok(()) => Ok(None),
            Err(e) => {
                let _ = remove_tree(tmp, 1);
                Err(Error::io(out, e))
            }
        };
    }
    // One atomic exchange where the file system has it: readers see the old site or the new.
    if exchange(tmp, out).is_ok() {
        return Ok(Some(tmp.to_path_buf()));
    }
    // Named after the temporary directory's `PID-N`: unique to this call too.
    let id = tmp
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.rsplit(".publish-").next())
        .unwrap_or("0");
    let old = parent.join(format!(".{name}.old-{id}"));
    if fs::symlink_metadata(&old).is_ok() {
        fs::remove_dir_all(&old).map_err(|e| Error::io(&old, e))?;
    }
    if let Err(e) = fs::rename(out, &old) {
        let _ = remove_tree(tmp, 1);
        return Err(Error::io(out, e));
    }
    if let Err(e) = fs::rename(tmp, out) {
        let _ = fs::rename(&old, out);
        let _ = remove_tree(tmp, 1);
        return Err(Error::io(out, e));
    }
    Ok(Some(old))
}

/// renameat2(RENAME_EXCHANGE).
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let ca = CString::new(a.as_os_str().as_bytes())?;
    let cb = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: two NUL-terminated paths that live across the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Remove a directory tree, the big subdirectories' children on a few threads.
fn remove_tree(dir: &Path, threads: usize) -> Result<(), Error> {
    let mut kids: Vec<PathBuf> = Vec::new();
    for sub in ["entries", "reports"] {
        if let Ok(rd) = fs::read_dir(dir.join(sub)) {
            kids.extend(rd.filter_map(|e| e.ok()).map(|e| e.path()));
        }
    }
    if threads > 1 && kids.len() > 256 {
        let chunk = kids.len().div_ceil(threads);
        std::thread::scope(|s| {
            for part in kids.chunks(chunk) {
                s.spawn(move || {
                    for p in part {
                        let _ = fs::remove_file(p).or_else(|_| fs::remove_dir_all(p));
                    }
                });
            }
        });
    }
    match fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(dir, e)),
    }
}

/// Compare versions part by part, numbers as numbers: `8.10` after `8.9`.
pub(crate) fn version_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let key = |s: &str| -> Vec<(u64, String)> {
        s.split(['.', ' ', '-'])
            .map(|p| {
                let n: String = p.chars().take_while(|c| c.is_ascii_digit()).collect();
                (n.parse().unwrap_or(0), p.to_string())
            })
            .collect()
    };
    key(a).cmp(&key(b)).then_with(|| a.cmp(b))
}

/// Quote a word for a POSIX shell when it needs it.
pub(crate) fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./_-".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Flush-and-report helper for buffered writers.
pub(crate) fn finish(path: &Path, w: io::BufWriter<fs::File>) -> Result<(), Error> {
    let mut w = w;
    w.flush().map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(100000), "100,000");
        assert_eq!(thousands(1234567), "1,234,567");
        assert!(is_safe_name("pci-8086-1572.opencloudos-9.2.x86_64"));
        assert!(!is_safe_name("../x"));
        assert!(!is_safe_name(".hidden"));
        assert!(!is_safe_name("a/b"));
        assert!(!is_safe_name(""));
        assert!(is_sha256(&"a".repeat(64)));
        assert!(!is_sha256(&"A".repeat(64)));
        assert_eq!(
            version_cmp("opencloudos 8.10", "opencloudos 8.9"),
            std::cmp::Ordering::Greater
        );
        assert_eq!(shell_quote("lab@example.com"), "lab@example.com");
        assert_eq!(shell_quote("a b'c"), r"'a b'\''c'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(day("2026-03-01T10:00:00Z"), "2026-03-01");
        assert_eq!(day("soon"), "soon");
    }

    #[test]
    fn reports_are_linked_or_copied() {
        use std::os::unix::fs::MetadataExt;
        let t = tempfile::tempdir().expect("tmp");
        let st = Store::create(t.path().join("db")).expect("store");
        let sha = "ab".repeat(32);
        let d = st.report_dir(&sha);
        fs::create_dir_all(&d).expect("mkdir");
        fs::write(d.join("report.json"), b"{}").expect("write");
        fs::write(d.join("report.json.sig"), b"sig").expect("write");
        let src = Dir::open(&st.root().join(crate::layout::REPORTS_DIR)).expect("open");
        let mut buf = Vec::new();
        for (hard, site) in [(true, "linked"), (false, "copied")] {
            let site = t.path().join(site);
            fs::create_dir_all(site.join("reports")).expect("mkdir");
            let dst = Dir::open(&site.join("reports")).expect("open");
            let flag = AtomicBool::new(hard);
            let mask = copy_report(&src, &dst, &sha, &flag, &mut buf).expect("copy");
            assert_eq!(mask, 0b0110, "report.json and its signature");
            let p = site.join("reports").join(&sha).join("report.json");
            assert_eq!(fs::read(&p).expect("read"), b"{}");
            let links = fs::metadata(&p).expect("stat").nlink();
            assert_eq!(links, if hard { 2 } else { 1 });
            assert!(!site.join("reports").join(&sha).join("report.html").exists());
        }
        // A report the store does not have: nothing is left behind.
        let site = t.path().join("linked");
        let dst = Dir::open(&site.join("reports")).expect("open");
        let none = "cd".repeat(32);
        let flag = AtomicBool::new(true);
        assert_eq!(
            copy_report(&src, &dst, &none, &flag, &mut buf).expect("copy"),
            0
        );
        assert!(!site.join("reports").join(&none).exists());
    }
}
