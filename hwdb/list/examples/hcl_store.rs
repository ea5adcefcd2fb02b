//! A synthetic HCL store, and the time `hcl::site::publish` takes to publish it: for
//! bench/hcl.sh.
//!
//! ```sh
//! cargo run --release -p hcl --example hcl_store -- gen 100000 DIR      # make a store
//! cargo run --release -p hcl --example hcl_store -- publish DIR SITE    # publish it, timed
//! cargo run --release -p hcl --example hcl_store -- add DIR 7           # a new report
//! cargo run --release -p hcl --example hcl_store -- verify DIR          # its revocations, timed
//! cargo run --release -p hcl --example hcl_store -- browse SITE         # its index in Chromium
//! ```
//!
//! `publish` prints one line of `key=value` figures: milliseconds, entries, reports, pages
//! written and left unchanged, files removed, files and bytes in the site, the size of
//! data/index.js; `--threads N` sets the threads. `add DIR SEED` adds to the store, through
//! `Store::add`, one new report that certifies ten of its entries again (a lab's run of one
//! system and its components). `browse`
//! opens SITE/index.html in headless Chromium and prints, in milliseconds, how long the page
//! took to load, to show the first results (the manifest and the first shard of the index in)
//! and to have every shard in, then how long filtering took for a few searches
//! typed into the filter, a select and a sort (`key=value` lines).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use hcl::site::{self, PublishOptions};
use hcl::Store;

fn usage() -> ExitCode {
    eprintln!(
        "usage: hcl_store gen N DIR | hcl_store publish DIR SITE [--threads N] | hcl_store verify DIR [--threads N] | hcl_store add DIR SEED | hcl_store browse SITE"
    );
    ExitCode::from(2)
}

/// Load and filter timings of SITE/index.html in headless Chromium.
fn browse(site: &Path) -> Result<(), String> {
    let chromium = testing::browser::find_chromium().ok_or("no chromium on PATH")?;
    let profile = std::env::temp_dir().join(format!("hcl-browse-{}", std::process::id()));
    let r = (|| {
        let mut b = testing::browser::Browser::start(
            &chromium,
            &profile,
            std::time::Duration::from_secs(120),
        )?;
        let index = site
            .canonicalize()
            .map_err(|e| format!("{}: {e}", site.display()))?
            .join("index.html");
        let t = Instant::now();
        b.navigate(&format!("file://{}", index.display()))?;
        b.wait_for("document.documentElement.dataset.first === '1' || document.documentElement.dataset.ready === '1'")?;
        let first = t.elapsed().as_secs_f64() * 1000.0;
        b.wait_for("document.documentElement.dataset.ready === '1'")?;
        let ready = t.elapsed().as_secs_f64() * 1000.0;
        let nav = b.eval(
            "(() => { const n = performance.getEntriesByType('navigation')[0]; \
             return {dom: n.domContentLoadedEventEnd, load: n.loadEventEnd}; })()",
        )?;
        let stats = b.eval("window.HCL_STATS")?;
        println!(
            "load_ms={:.0} dom_content_loaded_ms={:.0} first_results_ms={first:.0} ready_ms={ready:.0} script_init_ms={:.0} shards={} count={}",
            nav["load"].as_f64().unwrap_or(0.0),
            nav["dom"].as_f64().unwrap_or(0.0),
            stats["init_ms"].as_f64().unwrap_or(0.0),
            stats["shards"],
            b.eval("document.getElementById('count').textContent")?
        );
        // Typed searches: the time from the input event to the table shown, less the
        // debounce, and the script's own filter and render times.
        let typed = b.eval(
            "(async () => { const q = document.getElementById('f-q'); const out = []; \
             for (const w of ['i', 'in', 'int', 'inte', 'intel', 'intel 10gbe', '8086:1', 'nvme aarch64', 'zzzz', '']) { \
               const u = HCL_STATS.updates; const t0 = performance.now(); \
               q.value = w; q.dispatchEvent(new Event('input')); \
               while (HCL_STATS.updates === u) await new Promise(r => setTimeout(r, 0)); \
               out.push({q: w, shown_ms: performance.now() - t0 - 120, filter_ms: HCL_STATS.filter_ms, \
                         render_ms: HCL_STATS.render_ms, count: document.getElementById('count').textContent}); } \
             return out; })()",
        )?;
        for x in typed.as_array().into_iter().flatten() {
            println!(
                "search={:?} filter_ms={:.1} render_ms={:.1} shown_ms={:.1} count={:?}",
                x["q"].as_str().unwrap_or(""),
                x["filter_ms"].as_f64().unwrap_or(0.0),
                x["render_ms"].as_f64().unwrap_or(0.0),
                x["shown_ms"].as_f64().unwrap_or(0.0),
                x["count"].as_str().unwrap_or("")
            );
        }
        // A select and a sort, which apply at once (no debounce).
        for (what, js) in [
            ("select arch=aarch64", "(() => { const s = document.getElementById('f-arch'); s.value = 'aarch64'; s.dispatchEvent(new Event('change')); })()"),
            ("sort by date", "document.querySelector('th[data-col=date] button').click()"),
            ("sort by vendor", "document.querySelector('th[data-col=vendor] button').click()"),
            ("next page", "document.getElementById('next').click()"),
        ] {
            let u = b.eval("HCL_STATS.updates")?;
            let t = b.eval(&format!("(() => {{ const t0 = performance.now(); {js}; return performance.now() - t0; }})()"))?;
            b.wait_for(&format!("HCL_STATS.updates > {u}"))?;
            let stats = b.eval("window.HCL_STATS")?;
            println!(
                "{what}: shown_ms={:.1} filter_ms={:.1} render_ms={:.1}",
                t.as_f64().unwrap_or(0.0),
                stats["filter_ms"].as_f64().unwrap_or(0.0),
                stats["render_ms"].as_f64().unwrap_or(0.0)
            );
        }
        let heap = b.eval("performance.memory ? performance.memory.usedJSHeapSize : 0")?;
        println!("js_heap_mb={:.0}", heap.as_f64().unwrap_or(0.0) / 1e6);
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&profile);
    r
}

/// Files and bytes under a directory (hard links counted at their full size).
fn du(p: &Path) -> (u64, u64) {
    let mut files = 0;
    let mut bytes = 0;
    let mut stack = vec![p.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(_) => {
                    files += 1;
                    bytes += e.metadata().map(|m| m.len()).unwrap_or(0);
                }
                Err(_) => {}
            }
        }
    }
    (files, bytes)
}

/// Add one new report to the store at `db` that certifies ten of its entries again, spread
/// over the store; how many it certified.
fn add_report(db: &Path, seed: &str) -> Result<usize, String> {
    use hcl::{Entry, NewEntry, Submission};
    let store = Store::open(db).map_err(|e| e.to_string())?;
    let paths = store.entry_paths().map_err(|e| e.to_string())?;
    let run = 9_000_000
        + seed
            .bytes()
            .fold(0u64, |h, b| h.wrapping_mul(31) + u64::from(b));
    let report_json = testing::synth::report_json(
        run,
        "2026-11-20T10:00:00Z",
        "9.2",
        "x86_64",
        &format!("bench {seed}"),
        10,
    );
    let sha = reports::sha256_hex(report_json.as_bytes());
    let step = (paths.len() / 10).max(1);
    let mut entries = Vec::new();
    for p in paths.iter().step_by(step).take(10) {
        let b = std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
        let e = Entry::from_file_bytes(p, &b).map_err(|e| e.to_string())?;
        let Some(c) = e.current() else { continue };
        let mut c = c.clone();
        c.report_sha256 = sha.clone();
        c.date = "2026-11-20T10:00:00Z".into();
        entries.push(NewEntry {
            key: e.key.clone(),
            names: e.names.clone(),
            certification: c,
        });
    }
    let n = entries.len();
    let sub = Submission {
        report_sha256: sha,
        report_files: vec![
            ("report.json".into(), report_json.into_bytes()),
            ("report.json.sig".into(), b"synthetic\n".to_vec()),
        ],
        entries,
    };
    store
        .add(&sub, "2026-11-21T00:00:00Z")
        .map_err(|e| e.to_string())?;
    Ok(n)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let threads = args
        .iter()
        .position(|a| a == "--threads")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    match args.first().map(String::as_str) {
        Some("gen") => {
            let (Some(n), Some(dir)) = (
                args.get(1).and_then(|v| v.parse::<usize>().ok()),
                args.get(2).map(PathBuf::from),
            ) else {
                return usage();
            };
            let t = Instant::now();
            match testing::synth::generate(&dir, n, if threads == 0 { 4 } else { threads }) {
                Ok(s) => {
                    eprintln!(
                        "hcl_store: {} entries ({} systems, {} components), {} certifications, {} reports in {} ms",
                        s.systems + s.components,
                        s.systems,
                        s.components,
                        s.certifications,
                        s.reports,
                        t.elapsed().as_millis()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("hcl_store: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Some("add") => {
            let (Some(db), Some(seed)) = (args.get(1), args.get(2)) else {
                return usage();
            };
            match add_report(Path::new(db), seed) {
                Ok(n) => {
                    eprintln!("hcl_store: a new report certifies {n} entries again");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("hcl_store: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Some("verify") => {
            // What `hwcert hwdb publish` does before it publishes: every revocation verified.
            let Some(db) = args.get(1) else {
                return usage();
            };
            let store = match Store::open(db) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("hcl_store: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let n = if threads == 0 {
                std::thread::available_parallelism().map_or(1, |n| n.get())
            } else {
                threads
            };
            let t = Instant::now();
            match hcl::revoke::verify_store(&store, n, None) {
                Ok(k) => {
                    println!("ms={} revocations={k}", t.elapsed().as_millis());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("hcl_store: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Some("publish") => {
            let (Some(db), Some(out)) = (args.get(1), args.get(2)) else {
                return usage();
            };
            let store = match Store::open(db) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("hcl_store: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let opts = PublishOptions {
                threads,
                ..PublishOptions::default()
            };
            let t = Instant::now();
            let r = site::publish(&store, Path::new(out), &opts);
            let ms = t.elapsed().as_millis();
            match r {
                Ok(s) => {
                    let (files, bytes) = du(&s.out);
                    let index = std::fs::metadata(s.out.join("data/index.js"))
                        .map(|m| m.len())
                        .unwrap_or(0);
                    // The index's shards: how many, their bytes in all, the largest.
                    let (mut shards, mut shard_bytes, mut shard_max) = (0u64, 0u64, 0u64);
                    for e in std::fs::read_dir(s.out.join("data"))
                        .into_iter()
                        .flatten()
                        .flatten()
                    {
                        if e.file_name().to_string_lossy().starts_with("shard-") {
                            let n = e.metadata().map(|m| m.len()).unwrap_or(0);
                            shards += 1;
                            shard_bytes += n;
                            shard_max = shard_max.max(n);
                        }
                    }
                    let html = std::fs::metadata(s.out.join("index.html"))
                        .map(|m| m.len())
                        .unwrap_or(0);
                    let json = std::fs::metadata(s.out.join("hcl.json"))
                        .map(|m| m.len())
                        .unwrap_or(0);
                    let csv = std::fs::metadata(s.out.join("hcl.csv"))
                        .map(|m| m.len())
                        .unwrap_or(0);
                    println!(
                        "ms={ms} entries={} systems={} components={} reports={} warnings={} written={} unchanged={} removed={} files={files} bytes={bytes} index_js={index} shards={shards} shard_bytes={shard_bytes} shard_max={shard_max} index_html={html} hcl_json={json} hcl_csv={csv}",
                        s.systems + s.components,
                        s.systems,
                        s.components,
                        s.reports,
                        s.warnings.len(),
                        s.pages_written,
                        s.pages_unchanged,
                        s.removed
                    );
                    for w in s.warnings.iter().take(5) {
                        eprintln!("hcl_store: warning: {w}");
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("hcl_store: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Some("browse") => {
            let Some(site) = args.get(1) else {
                return usage();
            };
            match browse(Path::new(site)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("hcl_store: browse: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        _ => usage(),
    }
}
