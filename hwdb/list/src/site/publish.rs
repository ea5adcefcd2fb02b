//! The publish pipeline, phase by phase: the store listed, its entry files read and parsed
//! while its reports are linked in, the entries a site can hold kept and the reports they cite
//! matched, rows built and ordered, the pages, index and data files written, the site put in
//! place, and what it no longer holds removed.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use super::data;
use super::dir::Dir;
use super::fx::FxBuild;
use super::html;
use super::layout::{marker_text, CSS, JS, MARKER, REPORT_CSS};
use super::options::{default_threads, PublishOptions, PublishSummary, DEFAULT_TITLE};
use super::pages;
use super::par::{lock, par_map, run_jobs};
use super::parse;
use super::read::{entry_paths, store_reports, Arena, EntryFile};
use super::row::{Ctx, Row};
use super::signers;
use super::swap::{check_replaceable, remove_leftovers, remove_tree, split_out, swap_in, Existing};
use super::target::{self, Target};
use super::trace::Trace;
use super::util::{day, is_safe_name, is_sha256};
use super::view::EntryView;
use super::write::write;
use crate::key::Kind;
use crate::layout::REPORTS_DIR;
use crate::store::Store;

use documents::Error;

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
    let base_url = match &opts.base_url {
        Some(u) => super::options::base_url(u).map_err(Error::msg)?,
        None => String::new(),
    };
    let (parent, name) = split_out(out)?;
    let existing = check_replaceable(out)?;

    let trace = Trace::new();
    let listing = Listing::of(store)?;
    trace.at("listed");
    let tmp = temp_dir(&parent, &name);
    remove_leftovers(&parent, &name, threads);
    let target = open_target(existing, out, &tmp)?;
    let p = Publish {
        store,
        target: &target,
        threads,
        trace: &trace,
        base_url: &base_url,
    };
    let place = Place {
        out,
        tmp: &tmp,
        parent: &parent,
        name: &name,
    };
    let built = match build(&p, &listing, title, &place) {
        Ok(b) => b,
        Err(e) => {
            if !target.is_in_place() {
                let _ = remove_tree(&tmp, threads);
            }
            return Err(e);
        }
    };
    Ok(PublishSummary {
        systems: built.systems,
        components: built.components,
        reports: built.reports,
        warnings: built.warnings,
        out: out.to_path_buf(),
        in_place: target.is_in_place(),
        pages_written: target.written.load(Ordering::Relaxed),
        pages_unchanged: target.unchanged.load(Ordering::Relaxed),
        removed: built.removed,
    })
}

/// What every phase of one publish works with.
struct Publish<'a> {
    store: &'a Store,
    target: &'a Target,
    threads: usize,
    trace: &'a Trace,
    /// [`Ctx::base_url`].
    base_url: &'a str,
}

/// Where the site goes: `out`, in `parent` by the name `name`; `tmp` is the directory a new
/// site is built in beside it.
struct Place<'a> {
    out: &'a Path,
    tmp: &'a Path,
    parent: &'a Path,
    name: &'a str,
}

/// What the store holds: its entry files (and their directories, open) and its reports.
struct Listing {
    dirs: Vec<Dir>,
    paths: Vec<EntryFile>,
    reports: Vec<String>,
}

impl Listing {
    fn of(store: &Store) -> Result<Listing, Error> {
        let (dirs, paths) = entry_paths(store)?;
        let reports = store_reports(store)?;
        Ok(Listing {
            dirs,
            paths,
            reports,
        })
    }
}

/// The directory a new site is built in: `.NAME.publish-PID-N` beside it, unique to this call
/// (threads of one process may publish too).
fn temp_dir(parent: &Path, name: &str) -> PathBuf {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    parent.join(format!(".{name}.publish-{}-{call}", std::process::id()))
}

/// Where this publish writes: a site we published is updated in place; anything else
/// (nothing, an empty directory) is built in `tmp` and renamed into place.
fn open_target(existing: Existing, out: &Path, tmp: &Path) -> Result<Target, Error> {
    if existing == Existing::Site {
        return Target::in_place(out);
    }
    if fs::symlink_metadata(tmp).is_ok() {
        fs::remove_dir_all(tmp).map_err(|e| Error::io(tmp, e))?;
    }
    Target::fresh(tmp)
}

/// What the phases made, for the summary.
struct Built {
    systems: usize,
    components: usize,
    reports: usize,
    warnings: Vec<String>,
    removed: usize,
}

/// Every phase after the listing, in order.
fn build(p: &Publish, listing: &Listing, title: &str, place: &Place) -> Result<Built, Error> {
    let store_rep = if listing.reports.is_empty() {
        None
    } else {
        let d = p.store.root().join(REPORTS_DIR);
        Some(Dir::open(&d).map_err(|e| Error::io(&d, e))?)
    };
    // Phase 1: read and parse the entry files, and meanwhile link the store's reports in.
    let chunks: Vec<&[EntryFile]> = listing.paths.chunks(256).collect();
    let bytes: Vec<OnceLock<Arena>> = chunks.iter().map(|_| OnceLock::new()).collect();
    let parsed: Vec<Mutex<Vec<Result<EntryView, String>>>> =
        chunks.iter().map(|_| Mutex::new(Vec::new())).collect();
    let read = Reading {
        dirs: &listing.dirs,
        chunks: &chunks,
        bytes: &bytes,
        parsed: &parsed,
    };
    let linked = read_and_link(p, &read, store_rep.as_ref(), &listing.reports)?;
    p.trace.at("read, parsed, reports linked");

    let (entries, mut warnings) = take_parsed(&parsed, &bytes);
    let kept = keep_publishable(p.store, &entries, &mut warnings);
    let (mut report_files, cited) = published_reports(p, &kept, linked, &mut warnings)?;
    // The reports' pages, rendered from their report.json before any page links them.
    pages::render_all(
        p.target,
        p.threads,
        &cited,
        &mut report_files,
        &mut warnings,
    )?;
    drop(cited);
    p.trace.at("report pages rendered");
    let signers = signers::allowed_signers(p.target, &kept, &report_files, &mut warnings);
    let (rows, order) = rows_in_order(&kept, p.threads);
    let as_of = as_of(&kept);
    let systems = kept.iter().filter(|(e, _)| e.kind == Kind::System).count();
    let ctx = Ctx {
        title,
        as_of: &as_of,
        systems,
        components: kept.len() - systems,
        revoked: kept.iter().filter(|(e, _)| e.revoked().is_some()).count(),
        reports: report_files.len(),
        report_files: &report_files,
        base_url: p.base_url,
        signers: &signers.text,
        signer_keys: &signers.keys,
    };
    p.trace.at("rows and order");

    // Phase 2: the files for machines, the index, and a page per entry.
    write_files(p, &ctx, &rows, &order)?;
    p.trace.at("pages, index, hcl.json, hcl.csv");
    let mut built = Built {
        systems,
        components: kept.len() - systems,
        reports: report_files.len(),
        warnings,
        removed: 0,
    };
    let old = put_in_place(p, place)?;
    // What the site no longer holds, found now (it is looked up in what the entries
    // borrow), removed below.
    let doomed = {
        let pages: HashSet<&str, FxBuild> = kept.iter().map(|(e, _)| &*e.id).collect();
        let published: HashSet<&str, FxBuild> = report_files.keys().map(|k| k.as_str()).collect();
        p.target.doomed(&pages, &published)
    };
    p.trace.at("what the site no longer holds found");
    // Freeing 100,000 parsed entries and their files' bytes takes a while: done on two
    // threads, while the old site, or what the site no longer holds, is removed.
    drop(rows);
    drop(kept);
    remove_and_free(p, old.as_deref(), doomed, entries, &mut built);
    drop(parsed);
    free_on_two_threads(bytes);
    p.trace.at("old site removed, entries freed");
    Ok(built)
}

/// Phase 1's jobs: read and parse a chunk of entry files, or link a chunk of reports in.
enum Phase1 {
    Read(usize),
    Link(usize),
}

/// Where phase 1 reads entry files into: per chunk of files, their bytes and their views.
struct Reading<'r, 'b> {
    dirs: &'r [Dir],
    chunks: &'r [&'r [EntryFile]],
    bytes: &'b [OnceLock<Arena>],
    parsed: &'r [Mutex<Vec<Result<EntryView<'b>, String>>>],
}

/// Phase 1: read and parse the entry files into `read`, and meanwhile link the store's
/// reports (`in_store`, in `store_rep`) into the site; the mask of each report's files.
fn read_and_link<'s>(
    p: &Publish,
    read: &Reading,
    store_rep: Option<&Dir>,
    in_store: &'s [String],
) -> Result<Vec<(&'s str, u8)>, Error> {
    let rchunks: Vec<&[String]> = in_store.chunks(64).collect();
    let linked: Mutex<Vec<(&str, u8)>> = Mutex::new(Vec::with_capacity(in_store.len()));
    let hard = AtomicBool::new(true);
    let mut jobs = Vec::with_capacity(read.chunks.len() + rchunks.len());
    for i in 0..read.chunks.len().max(rchunks.len()) {
        if i < read.chunks.len() {
            jobs.push(Phase1::Read(i));
        }
        if i < rchunks.len() {
            jobs.push(Phase1::Link(i));
        }
    }
    run_jobs(p.threads, &jobs, |job| {
        match *job {
            Phase1::Read(i) => {
                let files = read.chunks[i];
                let a = read.bytes[i].get_or_init(|| Arena::read(read.dirs, files));
                let v = files
                    .iter()
                    .zip(&a.spans)
                    .map(|(f, span)| match span {
                        Ok((from, to)) => parse::entry(&f.path, &a.data[*from..*to]),
                        Err(e) => Err(e.clone()),
                    })
                    .collect();
                *lock(&read.parsed[i]) = v;
            }
            Phase1::Link(i) => {
                let Some(src) = store_rep else {
                    return Ok(());
                };
                let mut got = Vec::with_capacity(rchunks[i].len());
                let mut buf = Vec::with_capacity(256);
                for sha in rchunks[i] {
                    let mask = p.target.report(src, sha, &hard, &mut buf)?;
                    got.push((sha.as_str(), mask));
                }
                lock(&linked).extend(got);
            }
        }
        Ok(())
    })?;
    Ok(linked.into_inner().unwrap_or_else(|p| p.into_inner()))
}

/// The entries phase 1 parsed, each with its file's bytes, in the order of the files; and a
/// warning for each file that could not be read or parsed.
fn take_parsed<'b>(
    parsed: &[Mutex<Vec<Result<EntryView<'b>, String>>>],
    bytes: &'b [OnceLock<Arena>],
) -> (Vec<(EntryView<'b>, &'b [u8])>, Vec<String>) {
    let files = bytes.iter().filter_map(|a| a.get()).map(|a| a.spans.len());
    let mut entries = Vec::with_capacity(files.sum());
    let mut warnings = Vec::new();
    for (m, a) in parsed.iter().zip(bytes) {
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
    (entries, warnings)
}

/// The entries a site can hold: those whose IDs cannot be file names, or that another file
/// already claims, are left out with a warning (a page name must never be a path).
fn keep_publishable<'e, 'b>(
    store: &Store,
    entries: &'e [(EntryView<'b>, &'b [u8])],
    warnings: &mut Vec<String>,
) -> Vec<(&'e EntryView<'b>, &'b [u8])> {
    let mut seen: HashSet<&str, FxBuild> =
        HashSet::with_capacity_and_hasher(entries.len(), FxBuild::default());
    let mut kept = Vec::with_capacity(entries.len());
    for (e, raw) in entries {
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
            kept.push((e, *raw));
        }
    }
    kept
}

/// Each published report's file mask, by its SHA-256.
type ReportFiles = HashMap<String, u8, FxBuild>;

/// The reports the kept entries cite (history included), against those phase 1 linked in:
/// each published report's file mask (of its signed files: its pages are rendered next), and
/// the published reports with the key that signed them, in hash order. Reports no entry cites
/// (withdrawn entries) are not published: those linked just now are removed at once, those
/// the site had once its pages no longer link them.
fn published_reports<'k>(
    p: &Publish,
    kept: &'k [(&EntryView, &[u8])],
    mut linked: Vec<(&str, u8)>,
    warnings: &mut Vec<String>,
) -> Result<(ReportFiles, Vec<pages::Cited<'k>>), Error> {
    // Each cited report and the key its certifications name (the same for all: they are of
    // one add; the least, should they differ, so that the page does not depend on order).
    let mut cited: HashMap<&str, &str, FxBuild> =
        HashMap::with_capacity_and_hasher(linked.len() + 16, FxBuild::default());
    for (e, _) in kept {
        for c in &e.certifications {
            if is_sha256(&c.report_sha256) {
                let key = cited.entry(&c.report_sha256).or_insert(&c.signing_key);
                if *c.signing_key < **key {
                    *key = &c.signing_key;
                }
            } else {
                warnings.push(format!(
                    "{}: cites report {:?}, which is not a SHA-256; its page does not link it",
                    p.store.entry_path(e.kind, &e.id).display(),
                    c.report_sha256
                ));
            }
        }
    }
    let mut cited: Vec<pages::Cited> = cited.into_iter().collect();
    cited.sort_unstable();
    linked.sort_unstable();
    let mut report_files: HashMap<String, u8, FxBuild> =
        HashMap::with_capacity_and_hasher(cited.len(), FxBuild::default());
    let mut li = linked.iter().peekable();
    let unlink = |l: &str| -> Result<(), Error> {
        if !p.target.had_report(l) {
            let d = p.target.reports.path().join(l);
            target::remove_any(&d).map_err(|e| Error::io(&d, e))?;
        }
        Ok(())
    };
    for (sha, _) in &cited {
        while let Some((l, _)) = li.next_if(|(l, _)| l < sha) {
            unlink(l)?;
        }
        match li.next_if(|(l, _)| l == sha) {
            Some((_, mask)) if *mask != 0 => {
                report_files.insert(sha.to_string(), *mask);
            }
            _ => warnings.push(format!(
                "{}: cited by the store's entries but not in the store; their pages do not link it",
                p.store.report_dir(sha).display()
            )),
        }
    }
    for (l, _) in li {
        unlink(l)?;
    }
    cited.retain(|(sha, _)| report_files.contains_key(*sha));
    Ok((report_files, cited))
}

/// A row per kept entry, in ID order, and the index's order of them: systems first, then by
/// vendor and name, case-insensitively.
fn rows_in_order<'a>(
    kept: &'a [(&'a EntryView<'a>, &'a [u8])],
    threads: usize,
) -> (Vec<Row<'a>>, Vec<usize>) {
    let rows: Vec<Row> = par_map(kept, 1024, threads, |(e, raw)| Row::new(e, raw));
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
    (rows, order)
}

/// The list's "as of" date: the newest certification's day, or empty.
fn as_of(kept: &[(&EntryView, &[u8])]) -> String {
    kept.iter()
        .flat_map(|(e, _)| e.certifications.iter().map(|c| &*c.date))
        .max()
        .map(day)
        .unwrap_or("")
        .to_string()
}

/// Phase 2's jobs: a file for machines, the index, the assets, or a chunk of entry pages.
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

/// Entry pages per phase 2 job.
const PAGES_PER_JOB: usize = 256;

/// Phase 2: the files for machines, the index, the assets and a page per entry, on
/// `p.threads` threads.
fn write_files(p: &Publish, ctx: &Ctx, rows: &[Row], order: &[usize]) -> Result<(), Error> {
    let mut jobs = vec![
        Phase2::Json,
        Phase2::Data,
        Phase2::Csv,
        Phase2::Index,
        Phase2::Assets,
    ];
    jobs.extend((0..rows.len().div_ceil(PAGES_PER_JOB)).map(Phase2::Pages));
    run_jobs(p.threads, &jobs, |job| {
        let t = std::time::Instant::now();
        let r = write_file(p.target, ctx, rows, order, job);
        if !matches!(job, Phase2::Pages(_)) {
            p.trace.job(job.name(), t.elapsed());
        }
        r
    })
}

/// One job of phase 2.
fn write_file(
    target: &Target,
    ctx: &Ctx,
    rows: &[Row],
    order: &[usize],
    job: &Phase2,
) -> Result<(), Error> {
    let put = |rel: &str, bytes: &[u8]| -> Result<(), Error> {
        write(&target.file(rel), bytes)?;
        target.settle(rel)
    };
    match *job {
        Phase2::Json => {
            data::write_json(&target.file("hcl.json"), ctx, rows)?;
            target.settle("hcl.json")
        }
        Phase2::Data => {
            // The shards first (new names: nothing links them yet), then their manifest.
            let shards = data::shards(rows, order);
            for s in &shards {
                target.shard(&s.name, &s.bytes)?;
            }
            data::write_index_js(&target.file("data/index.js"), rows, order, &shards)?;
            target.settle("data/index.js")
        }
        Phase2::Csv => {
            data::write_csv(&target.file("hcl.csv"), ctx.base_url, rows)?;
            target.settle("hcl.csv")
        }
        Phase2::Index => {
            let mut out = String::with_capacity(64 * 1024);
            html::index_page(&mut out, ctx, rows, order);
            put("index.html", out.as_bytes())
        }
        Phase2::Assets => {
            put("assets/hcl.css", CSS.as_bytes())?;
            put("assets/hcl.js", JS.as_bytes())?;
            put(REPORT_CSS, reports::render::REPORT_CSS.as_bytes())?;
            put(signers::FILE, ctx.signers.as_bytes())
        }
        Phase2::Pages(c) => write_pages(target, ctx, rows, c),
    }
}

/// The entry pages of the `c`th chunk of [`PAGES_PER_JOB`] rows, each with its entry's
/// document beside it (`<id>.json`: the store's file as it is, every certification).
fn write_pages(target: &Target, ctx: &Ctx, rows: &[Row], c: usize) -> Result<(), Error> {
    let mut out = String::with_capacity(16 * 1024);
    let mut file = String::with_capacity(256);
    let mut buf = Vec::with_capacity(256);
    let mut scratch = Vec::new();
    for r in rows.iter().skip(c * PAGES_PER_JOB).take(PAGES_PER_JOB) {
        out.clear();
        html::entry_page(&mut out, ctx, r);
        file.clear();
        file.push_str(&r.e.id);
        file.push_str(".html");
        target.page(&file, out.as_bytes(), &mut buf, &mut scratch)?;
        file.truncate(file.len() - ".html".len());
        file.push_str(".json");
        target.entry_doc(&file, r.raw, &mut buf, &mut scratch)?;
    }
    Ok(())
}

/// Put the written site in place: in place, the changed data files renamed over the site's
/// and the marker brought up to date; else the new site swapped in. The directory holding the
/// old site, if there was one, for the caller to remove.
fn put_in_place(p: &Publish, place: &Place) -> Result<Option<PathBuf>, Error> {
    let marker = marker_text();
    if p.target.is_in_place() {
        // The data files, then the index that loads them; the marker is the lock's file,
        // written over only if its text changed.
        p.target.commit(&[
            "assets/hcl.css",
            "assets/hcl.js",
            REPORT_CSS,
            "data/index.js",
            "hcl.json",
            "hcl.csv",
            "index.html",
        ])?;
        let m = place.out.join(MARKER);
        if fs::read(&m).ok().as_deref() != Some(marker.as_bytes()) {
            write(&m, marker.as_bytes())?;
        }
        p.trace.at("changed files renamed into place");
        Ok(None)
    } else {
        write(&place.tmp.join(MARKER), marker.as_bytes())?;
        let old = swap_in(place.tmp, place.out, place.parent, place.name)?;
        p.trace.at("swapped in");
        Ok(old)
    }
}

/// Remove the old site (`old`, after a swap) or what the site no longer holds (`doomed`, in
/// place) while `entries` are freed on two threads; into `built`, how many were removed and a
/// warning for what could not be.
fn remove_and_free<T: Send>(
    p: &Publish,
    old: Option<&Path>,
    doomed: Vec<PathBuf>,
    entries: Vec<T>,
    built: &mut Built,
) {
    std::thread::scope(|s| {
        let remover = s.spawn(|| match old {
            Some(o) => remove_tree(o, p.threads)
                .map_err(|e| (o.to_path_buf(), e))
                .map(|()| (0, Vec::new())),
            None => Ok(p.target.remove(doomed, p.threads)),
        });
        free_on_two_threads(entries);
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
}

/// Drop `v`, half of it on another thread.
fn free_on_two_threads<T: Send>(mut v: Vec<T>) {
    let half = v.split_off(v.len() / 2);
    std::thread::scope(|s| {
        s.spawn(move || drop(half));
        drop(v);
    });
}
