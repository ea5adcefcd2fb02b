//! What a site holds, by name: its schemas, its marker, the index's page size, the report
//! files it publishes and its own style and script.

/// The schema of hcl.json.
pub const SITE_SCHEMA: &str = "hwcert.hcl-site/1";

/// The schema of data/index.js's object (the manifest) and of its shards'. Version 2: the
/// rows moved from data/index.js into shards (`data/shard-<hash>.js`); version 1 held them all.
pub const INDEX_SCHEMA: &str = "hwcert.hcl-index/2";

/// The file that marks a directory as a site hwcert published.
pub const MARKER: &str = ".hwcert-site";

/// The signers' public keys at the top of a site (written by `signers`).
pub const ALLOWED_SIGNERS: &str = "allowed_signers";

/// The marker's text: the schema, what made the directory, and which renderer made the
/// reports' pages. A site whose marker names another renderer (an older hwcert, or a site
/// published before the pages were rendered, when they were copied from the store) has every
/// report page rendered again.
pub(crate) fn marker_text() -> String {
    format!(
        "{SITE_SCHEMA}\nhwcert hwdb publish made this directory; publishing again updates it, and removes what it did not write.\n{RENDERED_BY}{}\n",
        reports::render::renderer_id()
    )
}

/// The marker's line that names the renderer of the reports' pages.
pub(crate) const RENDERED_BY: &str = "reports rendered by: ";

/// Rows per page of the index table.
pub const PAGE_SIZE: usize = 100;

/// The Content-Security-Policy of every HTML page of a site: the index, the entry pages and
/// the reports' pages (a `<meta http-equiv>` in each head, so that it holds from `file://`
/// and behind any web server). Scripts and styles only from the site's own files: no inline
/// script, no inline style, no event-handler attributes, nothing from elsewhere.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'none'";

/// The report files a site publishes, in the order of the bits of a report's file mask.
/// report.json and its signature are the store's, linked in; report.html and report.md are
/// rendered by publish from report.json ([`RENDERED`]), never the store's.
pub(crate) const REPORT_FILES: [&str; 4] = [
    reports::REPORT_HTML,
    reports::REPORT_JSON,
    reports::REPORT_SIG,
    reports::REPORT_MD,
];

/// The bits of a report's file mask that publish renders: report.html and report.md.
pub(crate) const RENDERED: u8 = 0b1001;

/// The bits of report.json and its signature, linked from the store.
pub(crate) const SIGNED: u8 = 0b0110;

/// The report pages' stylesheet in a site, and the way to it from a report's page
/// (`reports/<sha256>/report.html`).
pub(crate) const REPORT_CSS: &str = "assets/report.css";
pub(crate) const REPORT_CSS_FROM_PAGE: &str = "../../assets/report.css";

/// The site's script (assets/hcl.js) and style (assets/hcl.css), built into hwcert.
pub(crate) const JS: &str = include_str!("../../site/hcl.js");

pub(crate) const CSS: &str = include_str!("../../site/hcl.css");
