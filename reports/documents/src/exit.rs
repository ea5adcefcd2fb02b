//! The exit statuses of `hwcert`, the same for every command.
//!
//! | status | meaning |
//! |---|---|
//! | 0 | done: certified, verified, found |
//! | 1 | the answer is no (not certified or incomplete, a signature that does not verify, a report refused), or an error (a file that cannot be read or written) |
//! | 2 | usage: the command line is wrong (nothing was started) |
//! | 3 | nothing matched (`hwdb query`) |
//!
//! A run's status comes from the same rule as its report's verdict: [`for_verdict`] of
//! [`crate::verdict::rule`].

use crate::verdict::Overall;

pub const OK: u8 = 0;
pub const NO: u8 = 1;
pub const USAGE: u8 = 2;
pub const NO_MATCH: u8 = 3;

/// The exit status of a run or a report with this verdict: 0 only when certified.
pub fn for_verdict(o: Overall) -> u8 {
    match o {
        Overall::Certified => OK,
        Overall::NotCertified | Overall::Incomplete => NO,
    }
}
