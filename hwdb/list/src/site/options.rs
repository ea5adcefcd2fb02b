//! How to publish ([`PublishOptions`]) and what a publish did ([`PublishSummary`]).

use std::path::PathBuf;

/// The title of a site unless told otherwise.
pub const DEFAULT_TITLE: &str = "OpenCloudOS hardware compatibility list";

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

pub(crate) fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// What [`publish`](fn@crate::site::publish) wrote.
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
