//! Records which pci.ids database the pci-ids crate embedded: its build script compiles the
//! copy in its own source directory (refreshed from upstream when the build machine is online),
//! so the version is read from that same file, located through Cargo.lock.

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let version = pci_ids_file().and_then(|f| {
        println!("cargo:rerun-if-changed={}", f.display());
        let text = std::fs::read_to_string(&f).ok()?;
        text.lines()
            .take(40)
            .find_map(|l| {
                l.trim_start_matches(['#', ' ', '\t'])
                    .strip_prefix("Version:")
            })
            .map(|v| v.trim().to_string())
    });
    println!(
        "cargo:rustc-env=HWDB_PCI_IDS_VERSION={}",
        version.unwrap_or_default()
    );
}

/// The pci-ids crate's version from the workspace Cargo.lock.
fn locked_version() -> Option<String> {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR")?);
    let lock = std::fs::read_to_string(
        manifest
            .ancestors()
            .find(|d| d.join("Cargo.lock").is_file())?
            .join("Cargo.lock"),
    )
    .ok()?;
    let mut lines = lock.lines();
    while let Some(l) = lines.next() {
        if l.trim() == "name = \"pci-ids\"" {
            let v = lines
                .next()?
                .trim()
                .strip_prefix("version = \"")?
                .strip_suffix('"')?;
            return Some(v.to_string());
        }
    }
    None
}

fn pci_ids_file() -> Option<PathBuf> {
    let version = locked_version()?;
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))?;
    let src = home.join("registry/src");
    for reg in std::fs::read_dir(src).ok()?.flatten() {
        let f = reg.path().join(format!("pci-ids-{version}/pciids/pci.ids"));
        if f.is_file() {
            return Some(f);
        }
    }
    None
}
