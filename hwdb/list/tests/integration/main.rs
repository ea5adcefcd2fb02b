//! The integration tests of this crate, in one binary (one link instead of one per file).

mod revoke;
mod site;
mod site_reports;
