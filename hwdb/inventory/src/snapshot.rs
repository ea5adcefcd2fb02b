//! Snapshots: a tar.gz of exactly the files a probe reads, so that probing the extracted tree
//! (`hwcert probe --sysroot DIR`, or the archive itself) reproduces the same inventory.
//!
//! A snapshot is made by probing once with a recording [`Sysroot`] (every file read, directory
//! listed, link followed and path tested) and archiving what was recorded: file contents as they
//! were read (never read twice: some sysfs reads touch hardware), links as links, listed
//! directories with all their entries. Identifiers (serial numbers, UUIDs, WWNs, MAC addresses,
//! the SMBIOS serial strings) are overwritten unless asked for. A manifest,
//! `hwcert-snapshot.json`, says what made it.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::inventory::{ProbeError, ProbeOptions, REDACTED};
use crate::probe::probe_parts_with;
use crate::{dmi, smbios};
use hwsys::sysroot::{Recorded, Sysroot};

/// The manifest's file name at the top of a snapshot.
pub const MANIFEST: &str = "hwcert-snapshot.json";

/// What a snapshot says about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// "hwcert.snapshot/1".
    pub schema: String,
    pub tool_version: String,
    /// Seconds since the epoch when it was taken.
    pub created_unix: u64,
    /// The sysroot it was taken from ("/" for the live system).
    pub source: String,
    pub hostname: Option<String>,
    pub arch: Option<String>,
    pub kernel: Option<String>,
    /// Whether identifiers were overwritten.
    pub redacted: bool,
    pub files: usize,
    pub links: usize,
    pub dirs: usize,
}

/// What a snapshot holds.
#[derive(Debug, Clone, PartialEq)]
enum Entry {
    Dir,
    File(Vec<u8>),
    Link(PathBuf),
}

/// Errors making or opening a snapshot.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error(transparent)]
    Probe(#[from] ProbeError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{0}: not a hwcert snapshot or sysroot archive ({1})")]
    BadArchive(PathBuf, String),
}

/// Probe `opts.sysroot` recording every access and write the snapshot to `out` (gzip'd tar).
/// Returns the manifest written. All block devices are recorded, whatever `opts.all` says.
pub fn write(opts: &ProbeOptions, out: impl Write) -> Result<Manifest, SnapshotError> {
    // Fail early and plainly on something that is not a Linux tree (without a probe: on the
    // live system that would run the vendor tools twice, once for it and once to record).
    crate::probe::check_tree(&opts.sysroot)?;
    let sys = Sysroot::new(&opts.sysroot).with_recording();
    if sys.is_live() {
        write_from(opts, &sys, &crate::accel::LiveTools::default(), out)
    } else {
        // A tree's recorded outputs are read through the recording reader, so that one the
        // probe could not use is in the snapshot as it was.
        write_from(opts, &sys, &crate::accel::RecordedTools(&sys), out)
    }
}

/// [`write`] asking `tools` for the accelerator tools' outputs (tests hand in fake tools).
/// Each tool is asked once: its output goes both into the inventory and into the snapshot.
pub fn write_with(
    opts: &ProbeOptions,
    tools: &dyn crate::accel::ToolSource,
    out: impl Write,
) -> Result<Manifest, SnapshotError> {
    crate::probe::check_tree(&opts.sysroot)?;
    let sys = Sysroot::new(&opts.sysroot).with_recording();
    write_from(opts, &sys, tools, out)
}

fn write_from(
    opts: &ProbeOptions,
    sys: &Sysroot,
    tools: &dyn crate::accel::ToolSource,
    out: impl Write,
) -> Result<Manifest, SnapshotError> {
    let rec_opts = ProbeOptions {
        all: true,
        show_identifiers: true,
        udev: false,
        ..opts.clone()
    };
    let (inv, outputs) = probe_parts_with(sys, &rec_opts, tools);
    let recorded = sys.recorded();
    let mut entries = entries(sys.root(), &recorded, !opts.show_identifiers);
    // The vendor tools' and ipmitool's outputs (run live, or read from the tree), where a probe of the
    // snapshot reads them.
    for (file, bytes) in outputs {
        let b = if opts.show_identifiers {
            bytes
        } else {
            if file.starts_with("ipmitool-") {
                crate::bmc::redact_output(&file, &bytes, REDACTED)
            } else {
                crate::accel::redact_output(&file, &bytes, REDACTED)
            }
        };
        let dir = PathBuf::from(crate::accel::TOOLS_DIR);
        for d in dir.ancestors().filter(|d| !d.as_os_str().is_empty()) {
            entries.entry(d.to_path_buf()).or_insert(Entry::Dir);
        }
        entries.insert(dir.join(file), Entry::File(b));
    }
    let created_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let manifest = Manifest {
        schema: "hwcert.snapshot/1".into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        created_unix,
        source: opts.sysroot.display().to_string(),
        // The host's name is as identifying as its serial numbers.
        hostname: if opts.show_identifiers {
            inv.host.hostname.clone()
        } else {
            inv.host.hostname.as_ref().map(|_| REDACTED.to_string())
        },
        arch: inv.host.arch.clone(),
        kernel: inv.host.kernel.clone(),
        redacted: !opts.show_identifiers,
        files: entries
            .values()
            .filter(|e| matches!(e, Entry::File(_)))
            .count(),
        links: entries
            .values()
            .filter(|e| matches!(e, Entry::Link(_)))
            .count(),
        dirs: entries.values().filter(|e| matches!(e, Entry::Dir)).count(),
    };
    let io_err = |source| SnapshotError::Io {
        path: PathBuf::from("<snapshot>"),
        source,
    };
    let gz = flate2::write::GzEncoder::new(out, flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    let json = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
    append(
        &mut tar,
        Path::new(MANIFEST),
        &Entry::File(json),
        created_unix,
    )
    .map_err(io_err)?;
    for (path, entry) in &entries {
        append(&mut tar, path, entry, created_unix).map_err(io_err)?;
    }
    let gz = tar.into_inner().map_err(io_err)?;
    gz.finish().map_err(io_err)?.flush().map_err(io_err)?;
    Ok(manifest)
}

fn append<W: Write>(
    tar: &mut tar::Builder<W>,
    path: &Path,
    entry: &Entry,
    mtime: u64,
) -> io::Result<()> {
    let mut h = tar::Header::new_gnu();
    h.set_mtime(mtime);
    match entry {
        Entry::Dir => {
            h.set_entry_type(tar::EntryType::Directory);
            h.set_mode(0o755);
            h.set_size(0);
            tar.append_data(&mut h, path, io::empty())
        }
        Entry::File(b) => {
            h.set_entry_type(tar::EntryType::Regular);
            h.set_mode(0o644);
            h.set_size(b.len() as u64);
            tar.append_data(&mut h, path, b.as_slice())
        }
        Entry::Link(t) => {
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_mode(0o777);
            h.set_size(0);
            tar.append_link(&mut h, path, t)
        }
    }
}

/// Turn what was recorded into archive entries (parents included, identifiers redacted).
fn entries(root: &Path, rec: &Recorded, redact: bool) -> BTreeMap<PathBuf, Entry> {
    let mut out: BTreeMap<PathBuf, Entry> = BTreeMap::new();
    for (p, bytes) in &rec.files {
        let b = if redact {
            redact_file(p, bytes)
        } else {
            bytes.clone()
        };
        out.insert(p.clone(), Entry::File(b));
    }
    let mut links: Vec<PathBuf> = rec.links.iter().cloned().collect();
    for (dir, names) in &rec.dirs {
        out.entry(dir.clone()).or_insert(Entry::Dir);
        for n in names {
            let p = dir.join(n);
            if out.contains_key(&p) {
                continue;
            }
            match fs::symlink_metadata(root.join(&p)) {
                Ok(md) if md.file_type().is_symlink() => links.push(p),
                Ok(md) if md.is_dir() => {
                    out.insert(p, Entry::Dir);
                }
                // Listed but never read: its name is what counted.
                Ok(_) => {
                    out.insert(p, Entry::File(Vec::new()));
                }
                Err(_) => {}
            }
        }
    }
    for p in &rec.present {
        if out.contains_key(p) {
            continue;
        }
        match fs::symlink_metadata(root.join(p)) {
            Ok(md) if md.is_dir() => {
                out.insert(p.clone(), Entry::Dir);
            }
            Ok(md) if md.file_type().is_symlink() => links.push(p.clone()),
            Ok(_) => {
                out.insert(p.clone(), Entry::File(Vec::new()));
            }
            Err(_) => {}
        }
    }
    for p in links {
        let Ok(target) = fs::read_link(root.join(&p)) else {
            continue;
        };
        // Keep the target's directory, so the link resolves in the snapshot too.
        if let Some(t) = link_target_in_root(&p, &target) {
            if !out.contains_key(&t)
                && fs::metadata(root.join(&t))
                    .map(|m| m.is_dir())
                    .unwrap_or(false)
            {
                out.insert(t, Entry::Dir);
            }
        }
        out.insert(p, Entry::Link(target));
    }
    // Every ancestor as a directory (tar extractors want them, and order matters).
    let paths: Vec<PathBuf> = out.keys().cloned().collect();
    for p in paths {
        let mut a = p.parent();
        while let Some(d) = a {
            if d.as_os_str().is_empty() {
                break;
            }
            out.entry(d.to_path_buf()).or_insert(Entry::Dir);
            a = d.parent();
        }
    }
    out
}

/// Where a link at `link` (relative to the root) points, relative to the root, lexically.
fn link_target_in_root(link: &Path, target: &Path) -> Option<PathBuf> {
    let mut out = if target.is_absolute() {
        PathBuf::new()
    } else {
        link.parent()?.to_path_buf()
    };
    for c in target.components() {
        match c {
            Component::Normal(s) => out.push(s),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

/// Files naming the host or the boot, overwritten whole in a redacted snapshot.
const HOST_IDENTITY_FILES: &[&str] = &[
    "proc/sys/kernel/hostname",
    "proc/sys/kernel/domainname",
    "proc/sys/kernel/random/boot_id",
    "etc/hostname",
];

/// Identifier files and what to do with them.
fn redact_file(path: &Path, bytes: &[u8]) -> Vec<u8> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let parent = path
        .parent()
        .and_then(|p| p.to_str())
        .unwrap_or_default()
        .to_string();
    let text = || format!("{REDACTED}\n").into_bytes();
    if path == Path::new(dmi::DMI_TABLE) {
        let mut b = bytes.to_vec();
        smbios::redact_table(&mut b);
        return b;
    }
    // The host's name and this boot's id: they tell which machine (and which boot) a shared
    // snapshot came from. A probe's own output keeps them (the run directory's name, the
    // report's same-boot check use them); a snapshot is made to be passed around.
    if HOST_IDENTITY_FILES.iter().any(|f| path == Path::new(f)) {
        return text();
    }
    match name {
        "product_serial" | "product_uuid" | "board_serial" | "chassis_serial"
        | "board_asset_tag" | "chassis_asset_tag"
            if parent.ends_with("dmi/id") =>
        {
            text()
        }
        // Block devices, NVMe controllers, SCSI devices.
        "serial" | "wwn" => text(),
        // "naa.5000c500a1b2c3d4" → "naa.XXXXXXXXXXXXXXXX": the kind of name stays readable.
        "wwid" => {
            let t = String::from_utf8_lossy(bytes);
            let (prefix, rest) = t.split_at(t.find('.').map(|i| i + 1).unwrap_or(0));
            let masked: String = rest
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { 'X' } else { c })
                .collect();
            format!("{prefix}{masked}").into_bytes()
        }
        // NVMe namespace identifiers (a device-mapper uuid names a volume, not hardware, and
        // tells LVM from other mappings).
        "eui" | "nguid" | "uuid" if parent.contains("/nvme") => text(),
        // Network interfaces.
        "address" | "perm_addr" if parent.contains("/net/") => text(),
        // SCSI VPD pages 0x80 (unit serial) and 0x83 (device identification): keep the
        // 4-byte header so the page still parses, blank the identifier bytes.
        "vpd_pg80" | "vpd_pg83" => redact_vpd(bytes),
        _ => bytes.to_vec(),
    }
}

/// Blank the identifier bytes of a VPD page, keeping its structure.
fn redact_vpd(bytes: &[u8]) -> Vec<u8> {
    let mut b = bytes.to_vec();
    match b.get(1) {
        Some(0x80) => {
            for x in b.iter_mut().skip(4) {
                *x = b'X';
            }
        }
        Some(0x83) => {
            // Designation descriptors: 4-byte header, then `len` identifier bytes. Binary
            // identifiers keep their first byte (an NAA identifier's type lives there) and
            // lose the rest; ASCII ones become 'X'.
            let mut pos = 4usize;
            while pos + 4 <= b.len() {
                let len = b[pos + 3] as usize;
                let end = (pos + 4 + len).min(b.len());
                let ascii = b[pos] & 0x0F == 2;
                for (i, x) in b[pos + 4..end].iter_mut().enumerate() {
                    if ascii {
                        *x = b'X';
                    } else if i > 0 {
                        *x = 0xAA;
                    }
                }
                pos += 4 + len;
            }
        }
        _ => {}
    }
    b
}

/// How much [`extract`] writes at most: a small archive can expand to gigabytes (a 3 MB gzip
/// holds a 3 GiB file of zeros), and a read-only probe must not fill the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes kept of one file: one more than the sysroot's read limit, so that a probe of the
    /// extracted tree still finds the file too large, as it would on the recorded machine.
    pub per_file: u64,
    /// Bytes written in all.
    pub total: u64,
    /// Archive entries (files, directories, links) unpacked.
    pub entries: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_file: hwsys::sysroot::DEFAULT_LIMIT + 1,
            total: 1 << 30,
            entries: 1_000_000,
        }
    }
}

/// What [`extract`] left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extracted {
    /// Bytes of file contents written.
    pub bytes: u64,
    /// Entries unpacked.
    pub entries: u64,
    /// One line per file cut or left out, and per limit reached.
    pub warnings: Vec<String>,
}

/// Extract a snapshot (or any sysroot tarball) into `dest` within the default [`Limits`].
/// Refuses entries that would land outside `dest`.
pub fn extract(archive: &Path, dest: &Path) -> Result<Extracted, SnapshotError> {
    extract_with(archive, dest, Limits::default())
}

/// [`extract`] within `limits`: a file larger than `per_file` is cut there, a file that
/// would pass `total` is left out, and unpacking stops after `entries` entries; each is
/// named in the returned warnings.
pub fn extract_with(
    archive: &Path,
    dest: &Path,
    limits: Limits,
) -> Result<Extracted, SnapshotError> {
    let bad = |e: io::Error| SnapshotError::BadArchive(archive.to_path_buf(), e.to_string());
    let f = fs::File::open(archive).map_err(|source| SnapshotError::Io {
        path: archive.to_path_buf(),
        source,
    })?;
    let gz = flate2::read::GzDecoder::new(io::BufReader::new(f));
    let mut t = tar::Archive::new(gz);
    t.set_preserve_permissions(false);
    t.set_preserve_mtime(false);
    t.set_overwrite(true);
    let mut done = Extracted::default();
    let mut left_out = 0u64;
    for entry in t.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        if done.entries >= limits.entries {
            done.warnings.push(format!(
                "{}: more than {} entries: the rest is left out",
                archive.display(),
                limits.entries
            ));
            break;
        }
        let name = entry.path().map_err(bad)?.display().to_string();
        let is_file = entry.header().entry_type().is_file();
        let size = entry.size();
        if is_file && done.bytes.saturating_add(size.min(limits.per_file)) > limits.total {
            left_out += 1;
            done.warnings.push(format!(
                "{name}: left out ({size} bytes; the archive holds more than {} bytes)",
                limits.total
            ));
            continue;
        }
        if is_file && size > limits.per_file {
            let Some(host) = safe_target(dest, &name) else {
                return Err(SnapshotError::BadArchive(
                    archive.to_path_buf(),
                    format!("{name}: a path outside the destination"),
                ));
            };
            if let Some(parent) = host.parent() {
                fs::create_dir_all(parent).map_err(|source| SnapshotError::Io {
                    path: parent.to_path_buf(),
                    source,
                })?;
            }
            if !inside(dest, &host) {
                return Err(SnapshotError::BadArchive(
                    archive.to_path_buf(),
                    format!("{name}: a path outside the destination"),
                ));
            }
            let _ = fs::remove_file(&host);
            let mut out = fs::File::create(&host).map_err(|source| SnapshotError::Io {
                path: host.clone(),
                source,
            })?;
            let n = io::copy(&mut io::Read::take(&mut entry, limits.per_file), &mut out)
                .map_err(bad)?;
            done.bytes += n;
            done.warnings.push(format!(
                "{name}: cut to its first {n} of {size} bytes (larger than a probe reads)"
            ));
        } else {
            if !entry.unpack_in(dest).map_err(bad)? {
                return Err(SnapshotError::BadArchive(
                    archive.to_path_buf(),
                    format!("{name}: a path outside the destination"),
                ));
            }
            if is_file {
                done.bytes += size;
            }
        }
        done.entries += 1;
    }
    if left_out > 0 {
        done.warnings.push(format!(
            "{}: {left_out} files left out past {} bytes",
            archive.display(),
            limits.total
        ));
    }
    Ok(done)
}

/// `dest/name` when `name` is a plain relative path (no `..`, not absolute).
fn safe_target(dest: &Path, name: &str) -> Option<PathBuf> {
    let mut p = dest.to_path_buf();
    for c in Path::new(name).components() {
        match c {
            Component::Normal(n) => p.push(n),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (p != dest).then_some(p)
}

/// Whether `host`'s directory, links resolved, is inside `dest` (an archive's own links must
/// not carry a write out of it).
fn inside(dest: &Path, host: &Path) -> bool {
    let (Ok(d), Some(Ok(parent))) = (dest.canonicalize(), host.parent().map(|p| p.canonicalize()))
    else {
        return false;
    };
    parent.starts_with(d) && !host.symlink_metadata().is_ok_and(|m| m.is_symlink())
}

/// The root of an extracted archive: the directory itself, or its one top-level directory when
/// the archive held NAME/proc, NAME/sys.
pub fn extracted_root(dest: &Path) -> PathBuf {
    let has_tree = |d: &Path| {
        ["proc", "sys", "etc", MANIFEST]
            .iter()
            .any(|p| d.join(p).symlink_metadata().is_ok())
    };
    if has_tree(dest) {
        return dest.to_path_buf();
    }
    let subdirs: Vec<PathBuf> = fs::read_dir(dest)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    match subdirs.as_slice() {
        [one] if has_tree(one) => one.clone(),
        _ => dest.to_path_buf(),
    }
}

/// Read the manifest of an extracted snapshot, if it has one.
pub fn read_manifest(root: &Path) -> Option<Manifest> {
    let b = fs::read(root.join(MANIFEST)).ok()?;
    serde_json::from_slice(&b).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vpd_pages_keep_their_shape() {
        let pg80 = [0u8, 0x80, 0, 4, b'S', b'N', b'1', b'2'];
        assert_eq!(redact_vpd(&pg80), [0, 0x80, 0, 4, b'X', b'X', b'X', b'X']);
        let pg83 = [0u8, 0x83, 0, 12, 1, 3, 0, 8, 0x50, 1, 2, 3, 4, 5, 6, 7];
        let r = redact_vpd(&pg83);
        assert_eq!(&r[..9], &pg83[..9]);
        assert!(r[9..].iter().all(|b| *b == 0xAA));
        assert_eq!(
            redact_vpd(&[0, 0x83, 0, 9, 2, 3, 0, 200]).len(),
            8,
            "truncated page"
        );
        assert_eq!(redact_vpd(&[]), Vec::<u8>::new());
    }

    #[test]
    fn identifier_files_are_redacted() {
        let r =
            |p: &str, b: &[u8]| String::from_utf8_lossy(&redact_file(Path::new(p), b)).into_owned();
        assert_eq!(
            r("sys/devices/virtual/dmi/id/product_serial", b"X1"),
            "REDACTED\n"
        );
        assert_eq!(
            r("sys/devices/virtual/dmi/id/product_name", b"R740"),
            "R740"
        );
        assert_eq!(
            r(
                "sys/devices/pci0000:00/0000:00:03.0/virtio0/net/eth0/address",
                b"52:54:00:12:34:56\n"
            ),
            "REDACTED\n"
        );
        assert_eq!(r("sys/devices/virtual/nvme-fabrics/address", b"x"), "x");
        for f in HOST_IDENTITY_FILES {
            assert_eq!(r(f, b"node1.lab.example\n"), "REDACTED\n", "{f}");
        }
        assert_eq!(r("proc/sys/kernel/osrelease", b"6.6.0\n"), "6.6.0\n");
        assert_eq!(
            r("sys/etc/hostname", b"x"),
            "x",
            "only the host's own files"
        );
        assert_eq!(
            r(
                "sys/devices/pci0000:00/0000:00:04.0/nvme/nvme0/serial",
                b"S4"
            ),
            "REDACTED\n"
        );
    }

    #[test]
    fn link_targets() {
        assert_eq!(
            link_target_in_root(
                Path::new("sys/bus/pci/devices/0000:00:02.0"),
                Path::new("../../../devices/pci0000:00/0000:00:02.0")
            ),
            Some(PathBuf::from("sys/devices/pci0000:00/0000:00:02.0"))
        );
        assert_eq!(
            link_target_in_root(Path::new("proc/self"), Path::new("4242")),
            Some(PathBuf::from("proc/4242"))
        );
    }
}
