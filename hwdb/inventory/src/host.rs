//! The host: architecture, kernel, OS release, hostname, boot mode, kernel taint.

use serde::{Deserialize, Serialize};

use hwsys::sysroot::Sysroot;

/// The host section of the inventory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Host {
    /// Machine architecture as `uname -m` names it (x86_64, aarch64, …). With a sysroot, from
    /// the tree's own evidence, never the running host's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// Kernel release (`uname -r`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
    /// The full /proc/version line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel_version: Option<String>,
    /// The OS release from etc/os-release.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<OsRelease>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// `uefi` or `bios` (x86 without EFI); absent where neither can be told.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boot_mode: Option<String>,
    /// UEFI Secure Boot state, where the EFI variable is readable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secure_boot: Option<bool>,
    /// The kernel command line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cmdline: Option<String>,
    /// This boot's id (proc/sys/kernel/random/boot_id): tells a reboot from a crash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boot_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel_taint: Option<Taint>,
    /// The board's name in the flattened device tree (`model`), where the firmware gives one:
    /// what names a machine without DMI (many aarch64 boards).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_tree_model: Option<String>,
}

/// Fields of os-release(5).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OsRelease {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_like: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pretty_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform_id: Option<String>,
}

/// The kernel taint mask and what it means.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Taint {
    pub value: u64,
    pub flags: Vec<TaintFlag>,
}

/// One set taint bit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaintFlag {
    pub bit: u32,
    /// The letter the kernel prints in oops headers ("P", "O", "E", …).
    pub letter: String,
    pub name: String,
    pub description: String,
}

/// The kernel's taint bits (Documentation/admin-guide/tainted-kernels.rst):
/// bit, letter, short name, description.
pub const TAINT_BITS: &[(u32, char, &str, &str)] = &[
    (
        0,
        'P',
        "proprietary_module",
        "proprietary module was loaded",
    ),
    (1, 'F', "forced_module", "module was force loaded"),
    (
        2,
        'S',
        "cpu_out_of_spec",
        "kernel running on an out of specification system",
    ),
    (3, 'R', "forced_rmmod", "module was force unloaded"),
    (
        4,
        'M',
        "machine_check",
        "processor reported a Machine Check Exception (MCE)",
    ),
    (
        5,
        'B',
        "bad_page",
        "bad page referenced or some unexpected page flags",
    ),
    (6, 'U', "user", "taint requested by userspace application"),
    (
        7,
        'D',
        "die",
        "kernel died recently, i.e. there was an OOPS or BUG",
    ),
    (
        8,
        'A',
        "overridden_acpi_table",
        "ACPI table overridden by user",
    ),
    (9, 'W', "warn", "kernel issued warning"),
    (10, 'C', "crap", "staging driver was loaded"),
    (
        11,
        'I',
        "firmware_workaround",
        "workaround for bug in platform firmware applied",
    ),
    (
        12,
        'O',
        "oot_module",
        "externally-built (\"out-of-tree\") module was loaded",
    ),
    (13, 'E', "unsigned_module", "unsigned module was loaded"),
    (14, 'L', "soft_lockup", "soft lockup occurred"),
    (15, 'K', "livepatch", "kernel has been live patched"),
    (
        16,
        'X',
        "aux",
        "auxiliary taint, defined for and used by distros",
    ),
    (
        17,
        'T',
        "randstruct",
        "kernel was built with the struct randomization plugin",
    ),
    (18, 'N', "test", "an in-kernel test has been run"),
    (
        19,
        'J',
        "fwctl",
        "userspace used a mutating debug operation in fwctl",
    ),
];

/// Decode a taint mask.
pub fn decode_taint(value: u64) -> Taint {
    let mut flags = Vec::new();
    for bit in 0..64u32 {
        if value & (1u64 << bit) == 0 {
            continue;
        }
        let flag = match TAINT_BITS.iter().find(|t| t.0 == bit) {
            Some(&(b, letter, name, description)) => TaintFlag {
                bit: b,
                letter: letter.to_string(),
                name: name.into(),
                description: description.into(),
            },
            None => TaintFlag {
                bit,
                letter: "?".into(),
                name: format!("bit{bit}"),
                description: "unknown taint bit".into(),
            },
        };
        flags.push(flag);
    }
    Taint { value, flags }
}

/// Where the kernel shows the device tree: proc/device-tree links to it.
const DT_MODELS: [&str; 2] = [
    "sys/firmware/devicetree/base/model",
    "proc/device-tree/model",
];

/// The device tree's `model` property: a NUL-terminated string (several, in principle: the
/// first is the name). Printable text only; an empty or unprintable value is none.
fn device_tree_model(sys: &Sysroot) -> Option<String> {
    let rel = DT_MODELS.iter().find(|r| sys.exists(r))?;
    let bytes = sys.read_bytes(rel, 4096)?;
    let first = bytes.split(|b| *b == 0).next().unwrap_or_default();
    let s = String::from_utf8_lossy(first);
    let s = s.trim();
    if s.is_empty() || s.chars().any(char::is_control) {
        if !s.is_empty() {
            sys.warn(rel, "the device tree's model is not text: left out");
        }
        return None;
    }
    Some(s.to_string())
}

/// Probe the host section.
pub fn probe(sys: &Sysroot) -> Host {
    let kernel_version = sys.attr("proc/version");
    let kernel = sys.attr("proc/sys/kernel/osrelease").or_else(|| {
        kernel_version
            .as_deref()
            .and_then(|v| v.strip_prefix("Linux version "))
            .and_then(|v| v.split_whitespace().next())
            .map(str::to_string)
    });
    let arch = detect_arch(sys, kernel.as_deref());
    let os = os_release(sys);
    let hostname = sys
        .attr("proc/sys/kernel/hostname")
        // hostname(5): an empty /etc/hostname is no static hostname, not a broken file.
        .or_else(|| sys.attr_maybe_empty("etc/hostname"))
        .filter(|h| h != "(none)");
    let efi = sys.is_dir("sys/firmware/efi");
    let boot_mode = if efi {
        Some("uefi".to_string())
    } else if matches!(arch.as_deref(), Some("x86_64" | "i686" | "i386"))
        && sys.is_dir("sys/firmware")
    {
        Some("bios".to_string())
    } else {
        None
    };
    let secure_boot = if efi { secure_boot(sys) } else { None };
    let kernel_taint = sys
        .parse::<u64>("proc/sys/kernel/tainted")
        .map(decode_taint);
    Host {
        arch,
        kernel,
        kernel_version,
        os,
        hostname,
        boot_mode,
        secure_boot,
        cmdline: sys.attr("proc/cmdline"),
        boot_id: sys.attr("proc/sys/kernel/random/boot_id"),
        kernel_taint,
        device_tree_model: device_tree_model(sys),
    }
}

/// The architecture: the running kernel's on the live system; otherwise what the tree shows.
fn detect_arch(sys: &Sysroot, kernel: Option<&str>) -> Option<String> {
    // Newer kernels publish it (proc/sys/kernel/arch, since 6.1); a snapshot keeps it.
    if let Some(a) = sys.attr("proc/sys/kernel/arch") {
        return Some(a);
    }
    if sys.is_live() {
        if let Some(m) = uname_machine() {
            return Some(m);
        }
    }
    crate::cpu::detect_arch(sys).or_else(|| kernel.and_then(arch_from_release))
}

/// RHEL-family kernel releases end in the architecture ("5.4.119-20.0009.29.oc8.x86_64").
fn arch_from_release(release: &str) -> Option<String> {
    const KNOWN: &[&str] = &[
        "x86_64",
        "aarch64",
        "ppc64le",
        "ppc64",
        "s390x",
        "riscv64",
        "loongarch64",
        "i686",
    ];
    let last = release.rsplit(['.', '+', '-']).next()?;
    KNOWN.iter().find(|k| **k == last).map(|k| k.to_string())
}

fn uname_machine() -> Option<String> {
    // SAFETY: uname fills the zeroed struct; the fields are NUL-terminated C strings.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointer to a utsname.
    if unsafe { libc::uname(&mut u) } != 0 {
        return None;
    }
    let bytes: Vec<u8> = u
        .machine
        .iter()
        .take_while(|c| **c != 0)
        // c_char is i8 on x86_64 and u8 on aarch64: the cast is needed on one of them.
        .map(|c| c.to_ne_bytes()[0])
        .collect();
    String::from_utf8(bytes).ok().filter(|s| !s.is_empty())
}

/// Parse etc/os-release (falling back to usr/lib/os-release, as os-release(5) says).
fn os_release(sys: &Sysroot) -> Option<OsRelease> {
    let text = if sys.exists("etc/os-release") {
        sys.read("etc/os-release")
    } else if sys.exists("usr/lib/os-release") {
        sys.read("usr/lib/os-release")
    } else {
        sys.read_required("etc/os-release")
    }?;
    let os = parse_os_release(&text);
    if os == OsRelease::default() {
        sys.warn("etc/os-release", "no KEY=value lines");
        return None;
    }
    Some(os)
}

/// Parse os-release(5) text: KEY=value with shell quoting.
pub fn parse_os_release(text: &str) -> OsRelease {
    let mut os = OsRelease::default();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = unquote(v.trim());
        let slot = match k.trim() {
            "ID" => &mut os.id,
            "ID_LIKE" => &mut os.id_like,
            "NAME" => &mut os.name,
            "VERSION" => &mut os.version,
            "VERSION_ID" => &mut os.version_id,
            "PRETTY_NAME" => &mut os.pretty_name,
            "PLATFORM_ID" => &mut os.platform_id,
            _ => continue,
        };
        if !v.is_empty() {
            *slot = Some(v);
        }
    }
    os
}

fn unquote(v: &str) -> String {
    let inner = if v.len() >= 2
        && ((v.starts_with('"') && v.ends_with('"')) || (v.starts_with('\'') && v.ends_with('\'')))
    {
        &v[1..v.len() - 1]
    } else {
        v
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

const SECURE_BOOT_VAR: &str =
    "sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c";

fn secure_boot(sys: &Sysroot) -> Option<bool> {
    // efivarfs: 4 bytes of attributes, then the one-byte value.
    let b = sys.read_bytes(SECURE_BOOT_VAR, 64)?;
    match b.get(4) {
        Some(v) if b.len() == 5 => Some(*v == 1),
        _ => {
            sys.warn(
                SECURE_BOOT_VAR,
                format!("expected 5 bytes, found {}", b.len()),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn os_release_quoting() {
        let os = parse_os_release(
            "NAME=\"OpenCloudOS\"\nVERSION=\"9.2\"\nID=opencloudos\nID_LIKE=\"opencloudos\"\n\
             VERSION_ID=\"9.2\"\nPLATFORM_ID=\"platform:oc9\"\n# comment\nPRETTY_NAME='OpenCloudOS 9.2'\n\
             garbage line\nANSI_COLOR=\"0;31\"\n",
        );
        assert_eq!(os.id.as_deref(), Some("opencloudos"));
        assert_eq!(os.version_id.as_deref(), Some("9.2"));
        assert_eq!(os.pretty_name.as_deref(), Some("OpenCloudOS 9.2"));
        assert_eq!(os.platform_id.as_deref(), Some("platform:oc9"));
        assert_eq!(parse_os_release("A=\"\\\"x\\\"\"").id, None);
        assert_eq!(parse_os_release(""), OsRelease::default());
    }

    #[test]
    fn taint_decoding() {
        let t = decode_taint(4097 | (1 << 13));
        let letters: Vec<&str> = t.flags.iter().map(|f| f.letter.as_str()).collect();
        assert_eq!(letters, ["P", "O", "E"]);
        assert_eq!(decode_taint(0).flags.len(), 0);
        assert_eq!(decode_taint(1 << 40).flags[0].name, "bit40");
    }

    #[test]
    fn arch_from_rhel_release() {
        assert_eq!(
            arch_from_release("5.4.119-20.0009.29.oc8.x86_64").as_deref(),
            Some("x86_64")
        );
        assert_eq!(
            arch_from_release("6.6.47-12.oc9.aarch64").as_deref(),
            Some("aarch64")
        );
        assert_eq!(arch_from_release("6.1.0-18-amd64"), None);
    }

    #[test]
    fn sysroot_host() {
        let d = tempfile::tempdir().expect("tmp");
        let r = d.path();
        fs::create_dir_all(r.join("proc/sys/kernel/random")).expect("mkdir");
        fs::create_dir_all(r.join("etc")).expect("mkdir");
        fs::create_dir_all(r.join("sys/firmware/efi/efivars")).expect("mkdir");
        fs::write(
            r.join("proc/sys/kernel/osrelease"),
            "6.6.47-12.oc9.aarch64\n",
        )
        .expect("w");
        fs::write(r.join("proc/sys/kernel/tainted"), "garbage\n").expect("w");
        fs::write(r.join("proc/sys/kernel/hostname"), "node1\n").expect("w");
        fs::write(r.join("etc/os-release"), "ID=opencloudos\nVERSION_ID=9.2\n").expect("w");
        fs::write(r.join(SECURE_BOOT_VAR), [0x06u8, 0, 0, 0, 1]).expect("w");
        let sys = Sysroot::new(r);
        let h = probe(&sys);
        assert_eq!(
            h.arch.as_deref(),
            Some("aarch64"),
            "from the release, not the host"
        );
        assert_eq!(h.boot_mode.as_deref(), Some("uefi"));
        assert_eq!(h.secure_boot, Some(true));
        assert_eq!(h.hostname.as_deref(), Some("node1"));
        assert_eq!(h.kernel_taint, None);
        assert!(sys
            .warnings()
            .iter()
            .any(|w| w.path == "/proc/sys/kernel/tainted"));
    }

    #[test]
    fn device_tree_model_names_a_board_without_dmi() {
        let model = |rel: &str, bytes: &[u8]| {
            let d = tempfile::tempdir().expect("tmp");
            let p = d.path().join(rel);
            fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            fs::write(&p, bytes).expect("w");
            let sys = Sysroot::new(d.path());
            let m = probe(&sys).device_tree_model;
            let warned = sys.warnings().iter().any(|w| w.path.ends_with("/model"));
            (m, warned)
        };
        let base = "sys/firmware/devicetree/base/model";
        // The property is NUL-terminated; a second string is not part of the name.
        assert_eq!(
            model(base, b"Phytium D2000 Development Board\0rev2\0"),
            (Some("Phytium D2000 Development Board".into()), false)
        );
        // Older trees are reached through proc/device-tree.
        assert_eq!(
            model(
                "proc/device-tree/model",
                b"  Raspberry Pi 4 Model B Rev 1.4\0"
            ),
            (Some("Raspberry Pi 4 Model B Rev 1.4".into()), false)
        );
        // Empty, only NULs, or cut before its NUL.
        assert_eq!(model(base, b""), (None, false));
        assert_eq!(model(base, b"\0\0"), (None, false));
        assert_eq!(
            model(base, b"Ampere Mt.Jad"),
            (Some("Ampere Mt.Jad".into()), false)
        );
        // Garbage (control bytes, an escape sequence) is left out with a warning, never shown.
        assert_eq!(model(base, b"\x1b]0;owned\x07board\0"), (None, true));
        // None at all: no model and no warning.
        let d = tempfile::tempdir().expect("tmp");
        let sys = Sysroot::new(d.path());
        assert_eq!(probe(&sys).device_tree_model, None);
        assert!(!sys.warnings().iter().any(|w| w.path.ends_with("/model")));
    }

    #[test]
    fn empty_tree_warns_for_os_release() {
        let d = tempfile::tempdir().expect("tmp");
        let sys = Sysroot::new(d.path());
        let h = probe(&sys);
        assert_eq!(h.os, None);
        assert!(sys.warnings().iter().any(|w| w.path == "/etc/os-release"));
    }
}
