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
//! | the fleet view (`hwcert compare --format json`) | [`fleet`], [`fleetinv`] | `hwcert.fleet/1` ([`schema`]) |
//!
//! with the values they share: the one [`Status`] of an instance, a [`Measurement`] and its
//! threshold (and [`sweep`], the rule that names the queue-depth curves carried in measurements),
//! and the one certification rule, [`report::judge`], that gives both the
//! report's verdict and the command's exit status ([`exit`]).
//!
//! This crate knows nothing of how cases run, how machines are probed, or how pages look.

pub mod claims;
mod error;
pub mod exit;
pub mod fleet;
pub mod fleetinv;
pub mod human;
pub mod journal;
pub mod measure;
pub mod outcome;
pub mod plan;
pub mod report;
pub mod reportdir;
pub mod rundir;
pub mod schema;
pub mod secrets;
pub mod status;
pub mod sweep;
pub mod verdict;

pub use error::{io_reason, Error};
pub use measure::{Measurement, Threshold};
pub use report::judge;
pub use status::Status;
pub use verdict::Overall;
