//! # documents — hwcert's file formats and their rules
//!
//! Every file one part of hwcert writes and another reads is declared here, once:
//!
//! | file | module | schema |
//! |---|---|---|
//! | plan.json | [`plan`] | `hwcert.plan/1` |
//! | journal.jsonl | [`journal`] | one [`journal::JournalEntry`] a line |
//! | state.json, logs/, results/ | [`rundir`] | the run directory's layout |
//! | results/*.json | [`outcome`] | a worker's [`outcome::Outcome`] |
//! | report.json | [`report`], [`claims`] | `hwcert.report/1` ([`schema`]) |
//!
//! with the values they share: the one [`Status`] of an instance, a [`Measurement`] and its
//! threshold, and the one certification rule, [`report::judge`], that gives both the
//! report's verdict and the command's exit status ([`exit`]).
//!
//! This crate knows nothing of how cases run, how machines are probed, or how pages look.

use std::io;
use std::path::{Path, PathBuf};

pub mod claims;
pub mod exit;
pub mod journal;
pub mod measure;
pub mod outcome;
pub mod plan;
pub mod report;
pub mod rundir;
pub mod schema;
pub mod status;

pub use measure::{Measurement, Threshold};
pub use report::{judge, Overall};
pub use status::Status;

/// What went wrong, on which file, and what to do: one line.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: {}", .path.display(), io_reason(.error))]
    Io { path: PathBuf, error: io::Error },
    #[error("{0}")]
    Msg(String),
}

impl Error {
    pub fn io(path: impl AsRef<Path>, error: io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            error,
        }
    }
    pub fn msg(m: impl Into<String>) -> Self {
        Error::Msg(m.into())
    }
}

/// An I/O error as a short phrase ("no such file or directory", "permission denied",
/// "is a directory").
pub fn io_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file or directory".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => {
            let s = e.to_string();
            // "Is a directory (os error 21)" → "is a directory"
            let s = s.split(" (os error").next().unwrap_or(&s).to_string();
            let mut c = s.chars();
            match c.next() {
                Some(f) => f.to_lowercase().chain(c).collect(),
                None => s,
            }
        }
    }
}
