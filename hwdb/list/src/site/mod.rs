//! # The published hardware compatibility list: a static site
//!
//! [`publish`](fn@publish) turns an HCL store ([`crate::store::Store`]) into a directory of plain files that
//! any web server — or none: every page works from `file://` — can serve:
//!
//! ```text
//! SITE/index.html              every system and component in a table, with filters
//!                              (architecture, OS release, vendor, device class, kind, free
//!                              text), sorting and paging, all in the browser; the view is
//!                              kept in the URL's fragment (#q=x710&arch=aarch64&page=2); the
//!                              first page of rows is in the HTML itself, for readers
//!                              without JavaScript, with a note pointing at hcl.csv
//! SITE/data/index.js           the search's index, loaded by <script src> (browsers refuse
//!                              fetch() of file:// URLs): a small manifest,
//!                              window.HCL_INDEX (hwcert.hcl-index/2): the number of rows,
//!                              the select filters' options with their counts, and the shards
//! SITE/data/shard-<hash>.js    the index's rows, 5,000 a shard in the table's default order,
//!                              each named by a hash of its bytes and loaded by the script
//!                              after the manifest (first results once the first is in):
//!                              the current state of each entry only (no history), as one
//!                              table of the shard's distinct strings and, per column, the
//!                              rows' indices into it as fixed-width base-64 digits; a `st`
//!                              column for the entry's state beyond certified
//!                              (`Row::status`)
//! SITE/assets/hcl.css, hcl.js  the site's own style and script, built into hwcert (no CDN,
//!                              no web fonts, nothing fetched from elsewhere)
//! SITE/entries/<id>.html       a page per entry: identity, the current certification with
//!                              its case results, every certification newest first, links to
//!                              the signed reports and the ssh-keygen command that verifies them
//! SITE/entries/<id>.json       the entry's document, every certification, as the store holds
//!                              it (hwcert.hcl/1): an entry's full history, for programs
//! SITE/reports/<sha256>/       the cited reports: report.json and report.json.sig
//!                              hard-linked from the store (copied where it is on another
//!                              file system); report.html and report.md rendered by publish
//!                              from that report.json, never the store's (only report.json
//!                              is signed: see the `pages` module)
//! SITE/assets/report.css       the report pages' style (the site's policy allows no inline
//!                              style)
//! SITE/hcl.json                for programs: counts and every entry in full, as the store
//!                              holds it (hwcert.hcl-site/1), one entry per line (about
//!                              200 MB at 100,000 entries: the search never loads it)
//! SITE/hcl.csv                 for spreadsheets: one row per entry with its current
//!                              certification (RFC 4180, CRLF)
//! SITE/allowed_signers      the public key of every lab whose reports the site publishes
//!                              (ssh-keygen's ALLOWED SIGNERS), so that the verify command
//!                              each entry page prints works as printed (see `signers`)
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
//! Every HTML page of the site carries the same Content-Security-Policy, [`CSP`]: scripts and
//! styles from the site's own files only.
//!
//! Every string from the store is escaped where it lands: HTML-escaped in pages, JSON with
//! `<`, `>`, `&`, U+2028 and U+2029 escaped in the script (which builds rows with DOM calls
//! and `textContent` only), RFC 4180-quoted and defused against spreadsheet formulas in the
//! CSV. Entry IDs and report hashes become file names only when they are plain (an entry
//! file that is not is left out with a warning).
//!
//! 100,000 entries (22,000 reports) publish in about 9.6 s of CPU (7 s before the reports'
//! pages were rendered and the entries' documents written), and republish in about 6.6 s
//! (5.8 s before), on tmpfs (bench/hcl.sh; a busy machine, so wall times varied). Entry files are read by a strict reader of the store's own layout
//! (serde for anything else) into views that borrow their strings from the files' bytes;
//! pages are written by hand rather than from a template (five times faster); files are
//! read, created and linked relative to open directories; and the work is shared out to
//! `threads` threads.

mod data;
mod dir;
mod fx;
mod html;
mod layout;
mod link;
mod minify;
mod options;
mod pages;
mod par;
mod parse;
mod publish;
mod read;
mod row;
mod signers;
mod strict;
mod swap;
mod target;
mod trace;
mod util;
mod view;
mod write;

pub use layout::{CSP, INDEX_SCHEMA, MARKER, PAGE_SIZE, SITE_SCHEMA};
pub use options::{base_url, PublishOptions, PublishSummary, DEFAULT_TITLE};
pub use publish::publish;
pub use util::{is_safe_name, is_sha256};
