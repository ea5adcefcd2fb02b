//! The layout of a store directory: the names of its subdirectories (see [`crate::store`]).

/// Subdirectories of a store.
pub const SYSTEMS_DIR: &str = "systems";
pub const COMPONENTS_DIR: &str = "components";
pub const REPORTS_DIR: &str = "reports";
/// Signed revocation documents: `revocations/<entry id>/<report sha256>.json` and `.json.sig`.
pub const REVOCATIONS_DIR: &str = "revocations";
