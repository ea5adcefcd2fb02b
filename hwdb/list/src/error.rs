//! What goes wrong with a store: [`HclError`], naming the file and what to do.

use std::io;
use std::path::{Path, PathBuf};

use crate::layout::{COMPONENTS_DIR, SYSTEMS_DIR};

/// What went wrong with a store, on which file, and what to do.
#[derive(Debug, thiserror::Error)]
pub enum HclError {
    #[error("{}: {error}", .path.display())]
    Io { path: PathBuf, error: io::Error },
    #[error("{}: not an HCL entry ({why}); fix or remove the file, the store was not changed", .path.display())]
    BadEntry { path: PathBuf, why: String },
    #[error("{0}")]
    Invalid(String),
    #[error("{}: not an HCL store (no {SYSTEMS_DIR}/ or {COMPONENTS_DIR}/ directory); `hwcert hwdb add` makes one", .0.display())]
    NotAStore(PathBuf),
    /// A revocation that does not verify (see [`crate::revocation`]).
    #[error("{}: the revocation does not verify ({why}); nothing was changed: restore the file and the entry from the list's history (git)", .path.display())]
    Tampered { path: PathBuf, why: String },
    /// A revocation that verifies, signed by a key the maintainers' file does not admit.
    #[error("{}: the revocation is not a maintainer's ({why}); nothing was written", .path.display())]
    Untrusted { path: PathBuf, why: String },
    /// A report would certify again an entry whose certification was revoked.
    #[error("entry {id} was revoked on {date} by {by}: {reason}; this report would make it certified again: add it with --reinstate if that is meant (the revocation stays in the entry's history)", reason = hwsys::text::escape_controls(.reason))]
    Revoked {
        id: String,
        date: String,
        by: String,
        reason: String,
    },
}

/// An io error on `path`, as an [`HclError::Io`].
pub(crate) fn io_err(path: &Path) -> impl FnOnce(io::Error) -> HclError + '_ {
    move |error| HclError::Io {
        path: path.to_path_buf(),
        error,
    }
}
