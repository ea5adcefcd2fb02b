//! Where the recorded machines are.

use std::path::{Path, PathBuf};

/// The workspace's root directory.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// A recorded machine of the repository: `hwdb/inventory/tests/fixtures/NAME` (a directory, or
/// `NAME.tar.gz`).
pub fn fixture(name: &str) -> PathBuf {
    fixtures_dir().join(name)
}

/// `hwdb/inventory/tests/fixtures`.
pub fn fixtures_dir() -> PathBuf {
    workspace().join("hwdb/inventory/tests/fixtures")
}

/// The shared recorded dumps (`../shared/fixtures` beside the workspace), when present.
pub fn shared() -> Option<PathBuf> {
    let p = workspace().parent()?.join("shared/fixtures");
    p.is_dir().then_some(p)
}
