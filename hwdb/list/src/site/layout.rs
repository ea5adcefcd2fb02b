//! What a site holds, by name: its schemas, its marker, the index's page size, the report
//! files it publishes and its own style and script.

/// The schema of hcl.json.
pub const SITE_SCHEMA: &str = "hwcert.hcl-site/1";

/// The schema of data/index.js's object.
pub const INDEX_SCHEMA: &str = "hwcert.hcl-index/1";

/// The file that marks a directory as a site hwcert published.
pub const MARKER: &str = ".hwcert-site";

/// Rows per page of the index table.
pub const PAGE_SIZE: usize = 100;

/// The report files a site publishes, in the order of the bits of a report's file mask.
pub(crate) const REPORT_FILES: [&str; 4] = [
    reports::REPORT_HTML,
    reports::REPORT_JSON,
    reports::REPORT_SIG,
    reports::REPORT_MD,
];

/// The site's script (assets/hcl.js) and style (assets/hcl.css), built into hwcert.
pub(crate) const JS: &str = include_str!("../../site/hcl.js");

pub(crate) const CSS: &str = include_str!("../../site/hcl.css");
