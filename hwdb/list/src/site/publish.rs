//! The publish pipeline: the store listed and read, rows built and ordered, the pages, index
//! and data files written, and the site put in place.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use super::data;
use super::fx::FxBuild;
use super::html;
use super::layout::{CSS, JS, MARKER, SITE_SCHEMA};
use super::options::{default_threads, PublishOptions, PublishSummary, DEFAULT_TITLE};
use super::par::{lock, par_map, run_jobs};
use super::parse;
use super::read::{entry_paths, store_reports, Arena, EntryFile};
use super::row::{Ctx, Row};
use super::swap::{check_replaceable, remove_leftovers, remove_tree, split_out, swap_in, Existing};
use super::target::{self, Target};
use super::trace::Trace;
use super::util::{day, is_safe_name, is_sha256};
use super::view::EntryView;
use super::write::write;
use crate::key::Kind;
use crate::layout::REPORTS_DIR;
use crate::store::Store;

use super::dir::Dir;
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
            let p = store.root().join(REPORTS_DIR);
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
                            Ok((from, to)) => parse::entry(&f.path, &a.data[*from..*to]),
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
