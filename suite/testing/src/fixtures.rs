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

/// A test that cannot check because `what` (a fixture, tool or privilege) is missing: with
/// `HWCERT_REQUIRE_FIXTURES=1` (CI, where ../shared is always beside the clone) this fails the
/// test with `why`; otherwise it prints the skip and the caller returns.
pub fn skip(why: &str) {
    skip_with(
        std::env::var("HWCERT_REQUIRE_FIXTURES").ok().as_deref(),
        why,
    );
}

fn skip_with(require: Option<&str>, why: &str) {
    if require == Some("1") {
        panic!("HWCERT_REQUIRE_FIXTURES=1 but {why}: put ../shared beside the clone or unset it");
    }
    eprintln!("SKIP: {why}");
}

#[cfg(test)]
mod tests {
    use super::skip_with;

    #[test]
    #[should_panic(expected = "HWCERT_REQUIRE_FIXTURES=1 but ../shared/fixtures is absent")]
    fn a_required_fixture_that_is_missing_fails() {
        skip_with(Some("1"), "../shared/fixtures is absent");
    }

    #[test]
    fn without_the_requirement_a_missing_fixture_is_a_skip() {
        skip_with(None, "../shared/fixtures is absent");
        skip_with(Some("0"), "../shared/fixtures is absent");
    }
}
