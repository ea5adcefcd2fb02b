//! The reports' pages of a site: report.html and report.md of every published report,
//! rendered by publish from the report's report.json with the suite's own renderers
//! ([`reports::render::Renderer`]).
//!
//! Only report.json is signed. A submitter's report.html and report.md are whatever bytes
//! were beside it (`echo '<script>…</script>' >> report.html` still verifies), so a site that
//! served them would serve the submitter's script from the list's origin. Hence:
//!
//! - `hwcert hwdb add` keeps only report.json and its signature in the store
//!   ([`crate::submit::prepare`]): the store never holds a submitter's rendering again;
//! - publish renders the pages itself, here, from the report.json the store holds (its
//!   SHA-256 must be the report's name: the bytes whose signature was verified), never copying
//!   or linking a store's report.html or report.md. That is also what makes old stores safe:
//!   stores filled before this rule still hold submitted renderings, and publishing them now
//!   ignores those files. Add time alone could not do that, and publish time alone is enough;
//! - the pages carry the site's [`CSP`] and link the report's style as the site's own file
//!   (`assets/report.css`): the policy allows no inline style, and the same policy holds on
//!   every page;
//! - they are rendered without the logs (the store does not keep them): a page is a function
//!   of report.json, its signer and this renderer only, so the same store makes the same site.
//!
//! Rendering costs a few milliseconds a report, so publishing in place renders only what it
//! must: a report new to the site, or every report when the site's marker names another
//! renderer (an upgrade of hwcert, or a site published before this rule, whose pages were
//! copied from the store). A report.json this hwcert cannot read, or that does not hash to
//! its name, gets no pages, with a warning; its report.json and signature are still published.

use std::collections::HashMap;
use std::sync::Mutex;

use documents::report::Report;
use documents::Error;
use reports::render::{PageOptions, Renderer};

use super::fx::FxBuild;
use super::layout::{CSP, RENDERED, REPORT_CSS_FROM_PAGE, REPORT_FILES};
use super::link::report_rel;
use super::par::{lock, run_jobs};
use super::target::Target;

/// A published report: its SHA-256 and the fingerprint of the key that signed it.
pub(crate) type Cited<'a> = (&'a str, &'a str);

/// The options of every report page a site publishes.
pub(crate) const SITE_PAGE: PageOptions<'static> = PageOptions {
    csp: Some(CSP),
    stylesheet: Some(REPORT_CSS_FROM_PAGE),
};

/// report.html and report.md of `json` (a report.json) as a site publishes them, signed by the
/// key `signed_by` (its fingerprint); why not, when it is not a report this hwcert reads.
pub(crate) fn render(
    renderer: &Renderer,
    json: &[u8],
    signed_by: &str,
) -> Result<(String, String), String> {
    let r: Report = serde_json::from_slice(json).map_err(|e| {
        format!(
            "not a {} document this hwcert reads: {e}",
            documents::report::SCHEMA
        )
    })?;
    let signed_by = Some(signed_by).filter(|s| !s.is_empty());
    renderer
        .pages(&r, None, signed_by, SITE_PAGE)
        .map_err(|e| e.to_string())
}

/// Reports per job.
const PER_JOB: usize = 16;

/// Render the pages of the published reports `cited` (SHA-256, signing key) into the site, on
/// `threads` threads; the bits of the rendered files are added to `report_files`, and a
/// warning is pushed for each report that gets none.
pub(crate) fn render_all(
    target: &Target,
    threads: usize,
    cited: &[Cited],
    report_files: &mut HashMap<String, u8, FxBuild>,
    warnings: &mut Vec<String>,
) -> Result<(), Error> {
    let json_bit = 1u8
        << REPORT_FILES
            .iter()
            .position(|f| *f == reports::REPORT_JSON)
            .unwrap_or(1);
    let (todo, without): (Vec<Cited>, Vec<Cited>) = cited
        .iter()
        .copied()
        .partition(|(sha, _)| report_files.get(*sha).is_some_and(|m| m & json_bit != 0));
    // No report.json, no pages: those the site had are removed.
    let mut rel = String::with_capacity(96);
    for (sha, _) in without {
        for f in [reports::REPORT_HTML, reports::REPORT_MD] {
            report_rel(&mut rel, sha, f);
            target.drop_report_page(&rel);
        }
    }
    if todo.is_empty() {
        return Ok(());
    }
    let renderer = Renderer::new()?;
    let jobs: Vec<&[Cited]> = todo.chunks(PER_JOB).collect();
    let done: Mutex<Vec<(&str, Result<(), String>)>> = Mutex::new(Vec::with_capacity(todo.len()));
    run_jobs(threads, &jobs, |part| {
        let mut buf = Vec::with_capacity(256);
        let mut json = Vec::new();
        let mut rel = String::with_capacity(96);
        let mut got = Vec::with_capacity(part.len());
        for &(sha, key) in *part {
            if target.has_rendered(sha, &mut buf) {
                got.push((sha, Ok(())));
                continue;
            }
            json.clear();
            report_rel(&mut rel, sha, reports::REPORT_JSON);
            let pages = match target
                .reports
                .read_into(&mut buf, rel.as_bytes(), &mut json)
            {
                Err(e) => Err(documents::io_reason(&e)),
                Ok(()) if hwsys::hash::sha256_hex(&json) != sha => Err(
                    "its SHA-256 is not the report's name: not the report that was signed".into(),
                ),
                Ok(()) => render(&renderer, &json, key),
            };
            match pages {
                Ok((html, md)) => {
                    for (f, bytes) in [(reports::REPORT_HTML, html), (reports::REPORT_MD, md)] {
                        report_rel(&mut rel, sha, f);
                        target.report_page(&rel, bytes.as_bytes(), &mut buf)?;
                    }
                    got.push((sha, Ok(())));
                }
                Err(why) => {
                    // Pages the site had of it are no longer linked, and removed at the end.
                    for f in [reports::REPORT_HTML, reports::REPORT_MD] {
                        report_rel(&mut rel, sha, f);
                        target.drop_report_page(&rel);
                    }
                    got.push((sha, Err(why)));
                }
            }
        }
        lock(&done).extend(got);
        Ok(())
    })?;
    let mut done = done.into_inner().unwrap_or_else(|p| p.into_inner());
    done.sort_unstable_by(|a, b| a.0.cmp(b.0));
    for (sha, r) in done {
        match r {
            Ok(()) => {
                if let Some(m) = report_files.get_mut(sha) {
                    *m |= RENDERED;
                }
            }
            Err(why) => {
                warnings.push(format!(
                "{}: {why}; its report.html and report.md are not published (report.json and its \
                 signature are)",
                target.reports.path().join(sha).join(reports::REPORT_JSON).display()
            ))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_not_a_report_renders_nothing() {
        let renderer = Renderer::new().expect("renderer");
        let good = testing_report();
        assert!(render(&renderer, good.as_bytes(), "SHA256:x").is_ok());
        for bad in [
            &good.as_bytes()[..good.len() / 2],
            b"".as_slice(),
            b"\xff\xfe garbage".as_slice(),
            b"[]".as_slice(),
            b"{\"schema\":\"hwcert.report/1\"}".as_slice(),
        ] {
            let e = render(&renderer, bad, "SHA256:x").expect_err("not a report");
            assert!(e.contains("not a hwcert.report/1 document"), "{e}");
        }
    }

    /// A small report document (the synthetic store's kind).
    fn testing_report() -> String {
        serde_json::json!({
            "schema": "hwcert.report/1",
            "tool": {"name": "hwcert", "version": "0.1.0", "git_commit": "x"},
            "profile": {"name": "quick"},
            "run": {"directory": "run", "boot_ids": []},
            "verdict": {"overall": "certified", "summary": "ok", "failed_blockers": [],
                        "incomplete": [], "advisory_failures": [], "components": []},
            "counts": {"total": 0, "pass": 0, "fail": 0, "skip": 0, "error": 0, "timeout": 0,
                       "crash": 0, "interrupted": 0, "not_run": 0},
            "results": [], "hcl": [], "logs": [], "warnings": [], "inventory": {}, "plan": {}
        })
        .to_string()
    }
}
