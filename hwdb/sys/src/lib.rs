//! # hwsys — the system helpers of hwcert
//!
//! Small, dependency-free pieces every other crate of the workspace uses, each written once:
//!
//! - [`sysroot`]: the one reader every probe and case goes through, rooted at a directory
//!   (`/` on the live system), that turns a missing, empty or garbage file into a [`Warning`];
//! - [`fs`]: writes that a crash cannot tear (temporary file, fsync, rename, fsync of the
//!   directory) and exclusive locks on a file or directory (`flock`);
//! - [`glob`]: `fnmatch(3)` patterns and OpenSSH's `*`/`?` wildcards, linear in practice and
//!   never recursive;
//! - [`mountinfo`]: `/proc/self/mountinfo` and `/proc/swaps` fields, with the kernel's octal
//!   escapes undone;
//! - [`units`]: sizes as util-linux and people read them, and CPU lists as lscpu writes them;
//! - [`hash`]: FNV-1a for stable short names, SHA-256 in hex;
//! - [`time`]: RFC 3339 in UTC, civil dates, durations for people;
//! - [`text`]: terminal-safe text (control characters escaped or removed) and log tails;
//! - [`cmd`]: running a vendor tool with a time limit (its whole process group killed) and a
//!   cap on its output;
//! - [`env`]: taking a secret out of the process environment, `/proc/PID/environ` included.
//!
//! This crate knows nothing of hwcert's documents, cases or reports.

pub mod cmd;
pub mod env;
pub mod fs;
pub mod glob;
pub mod hash;
pub mod mountinfo;
pub mod sysroot;
pub mod text;
pub mod time;
pub mod units;

pub use sysroot::{Sysroot, Warning};
