//! The exit statuses of `hwcert`, the same for every command.
//!
//! | status | meaning |
//! |---|---|
//! | 0 | done: certified, verified, found |
//! | 1 | the answer is no (not certified or incomplete, a signature that does not verify, a report refused), or an error (a file that cannot be read or written) |
//! | 2 | usage: the command line is wrong (nothing was started) |
//! | 3 | nothing matched (`hwdb query`: no certified entry, or none in the asked state) |
//! | 4 | already done (`hwdb revoke`: the certification is already revoked; nothing changed) |
//! | 5 | unknown (`hwdb revoke`: no such entry in the store, or no entry cites that report) |
//! | 6 | not trusted (`hwdb revoke`: the key is not a list maintainer's, per `--maintainers`; `hwdb publish --maintainers`: a revocation's key is not on that file) |
//! | 7 | tampered (`hwdb revoke`, `query`, `add`, `publish`: a revocation in the store does not verify against its signature, or an entry's record of it disagrees with the signed document; nothing was changed or written) |
//! | 8 | cannot certify (`hwdb add`: the report's run cannot certify whatever its results — a recorded machine or snapshot, a profile that is not a certification profile such as `quick` or one built on it, or a blocker excluded, not planned or skipped; the reasons are printed; nothing was added) |
//!
//! A run's status comes from the same rule as its report's verdict: [`for_verdict`] of
//! [`crate::verdict::rule`].

use crate::verdict::Overall;

pub const OK: u8 = 0;
pub const NO: u8 = 1;
pub const USAGE: u8 = 2;
pub const NO_MATCH: u8 = 3;
pub const ALREADY: u8 = 4;
pub const UNKNOWN: u8 = 5;
pub const UNTRUSTED: u8 = 6;
pub const TAMPERED: u8 = 7;
pub const NOT_CERTIFYING: u8 = 8;

/// The exit status of a run or a report with this verdict: 0 only when certified.
pub fn for_verdict(o: Overall) -> u8 {
    match o {
        Overall::Certified => OK,
        Overall::NotCertified | Overall::Incomplete => NO,
    }
}
