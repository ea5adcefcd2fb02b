//! A report's signed files (report.json, report.json.sig) linked (or copied, across file
//! systems) from the store's `reports/` into a site's. Its report.html and report.md are
//! never taken from the store: publish renders them (see the `pages` module).

use std::fs;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};

use super::dir::Dir;
use super::layout::{REPORT_FILES, SIGNED};

use documents::Error;

/// Link (or copy, across file systems) a report's signed files from the store's `reports/`
/// (`src`) into the site's (`dst`) as `<sha>/<file>`; the mask of the files it has (0: the
/// store does not hold the report, and nothing is left behind).
pub(crate) fn copy_report(
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
        if SIGNED & (1 << bit) == 0 {
            continue;
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::REPORTS_DIR;
    use crate::store::Store;

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
        // A submitter's renderings in an old store: never taken.
        fs::write(d.join("report.html"), b"<script>alert(1)</script>").expect("write");
        fs::write(d.join("report.md"), b"<script>alert(1)</script>").expect("write");
        let src = Dir::open(&st.root().join(REPORTS_DIR)).expect("open");
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
            assert!(!site.join("reports").join(&sha).join("report.md").exists());
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
