//! `dev.sh`'s choice of a Rust toolchain on a machine without cargo (issue 20.1): PATH holds
//! only the tools the script needs and stub `apt-get`, `apt-cache` and `dnf` that record what
//! they are asked (an install "installs" a stub cargo), HOME has no ~/.cargo. Nothing is really
//! installed.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// What the stubs offer: the candidate versions of Debian's rustc-web and rustc, and of the
/// dnf repositories' rust (`None`: that package manager is absent).
struct Machine {
    apt: Option<(&'static str, &'static str)>,
    dnf: Option<&'static str>,
    cargo: bool,
}

const TOOLS: &[&str] = &[
    "bash", "sh", "sed", "awk", "sort", "head", "tail", "cat", "dirname", "env", "grep", "uname",
    "chmod", "mkdir", "printf", "mawk", "gawk",
];

fn which(tool: &str) -> Option<PathBuf> {
    ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]
        .iter()
        .map(|d| Path::new(d).join(tool))
        .find(|p| p.is_file())
}

fn script(path: &Path, body: &str) {
    fs::write(path, format!("#!/bin/sh\n{body}")).expect("write a stub");
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// Run `dev.sh toolchain` on `m`; the output and what the stubs were asked, one line a call.
fn dev_sh(m: &Machine) -> (Output, String) {
    let t = tempfile::tempdir().expect("a temporary directory");
    let bin = t.path().join("bin");
    fs::create_dir(&bin).expect("bin");
    for tool in TOOLS {
        if let Some(p) = which(tool) {
            std::os::unix::fs::symlink(p, bin.join(tool)).expect("link a tool");
        }
    }
    let log = t.path().join("asked.log");
    let log_s = log.display().to_string();
    let bin_s = bin.display().to_string();
    // Root as far as the script can tell (it would use sudo otherwise).
    script(&bin.join("id"), "echo 0\n");
    let install_cargo = format!(
        "printf '#!/bin/sh\\necho cargo 1.99.0\\n' > {bin_s}/cargo; chmod 755 {bin_s}/cargo"
    );
    if let Some((web, plain)) = m.apt {
        script(
            &bin.join("apt-get"),
            &format!(
                "echo \"apt-get $*\" >> {log_s}\ncase \"$*\" in *install*) {install_cargo};; esac\n"
            ),
        );
        script(
            &bin.join("apt-cache"),
            &format!(
                "echo \"apt-cache $*\" >> {log_s}\ncase \"$2\" in\n  rustc-web) v='{web}';;\n  rustc) v='{plain}';;\n  *) v='(none)';;\nesac\n[ -z \"$v\" ] && v='(none)'\necho \"$2:\"\necho \"  Installed: (none)\"\necho \"  Candidate: $v\"\n"
            ),
        );
    }
    if let Some(rust) = m.dnf {
        script(
            &bin.join("dnf"),
            &format!(
                "echo \"dnf $*\" >> {log_s}\ncase \"$*\" in\n  *repoquery*) [ -n '{rust}' ] && echo '{rust}';;\n  *install*) {install_cargo};;\nesac\nexit 0\n"
            ),
        );
    }
    if m.cargo {
        script(&bin.join("cargo"), "echo cargo 1.95.0\n");
    }
    let home = t.path().join("home");
    fs::create_dir(&home).expect("home");
    let o = Command::new(bin.join("bash"))
        .arg(testing::fixtures::workspace().join("dev.sh"))
        .arg("toolchain")
        .env_clear()
        .env("PATH", &bin)
        .env("HOME", &home)
        .output()
        .expect("run dev.sh");
    let asked = fs::read_to_string(&log).unwrap_or_default();
    (o, asked)
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn installs(asked: &str) -> Vec<&str> {
    asked.lines().filter(|l| l.contains("install")).collect()
}

#[test]
fn debian_12_installs_rustc_web_from_the_security_archive() {
    let (o, asked) = dev_sh(&Machine {
        apt: Some(("1.96.0+dfsg1-1~deb12u2", "1.63.0+dfsg1-2")),
        dnf: None,
        cargo: false,
    });
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        installs(&asked),
        ["apt-get install -y -qq rustc-web cargo-web"],
        "{asked}"
    );
    assert!(
        text(&o).contains("installing rustc-web cargo-web 1.96.0"),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("dev.sh: cargo "), "{}", text(&o));
}

#[test]
fn a_newer_debian_installs_its_plain_rustc_and_cargo() {
    // No rustc-web (Debian 13, Ubuntu), a rustc new enough.
    let (o, asked) = dev_sh(&Machine {
        apt: Some(("", "1.97.1+dfsg1-1")),
        dnf: None,
        cargo: false,
    });
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        installs(&asked),
        ["apt-get install -y -qq rustc cargo"],
        "{asked}"
    );
}

#[test]
fn too_old_system_rust_is_not_installed_and_the_message_says_what_to_do() {
    // Debian 12 without bookworm-security: rustc-web 1.85, rustc 1.63.
    let (o, asked) = dev_sh(&Machine {
        apt: Some(("1.85.0+dfsg3-1~deb12u3", "1.63.0+dfsg1-2")),
        dnf: None,
        cargo: false,
    });
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(installs(&asked).is_empty(), "nothing installed: {asked}");
    let msg = text(&o);
    let rv = fs::read_to_string(testing::fixtures::workspace().join("Cargo.toml"))
        .expect("Cargo.toml")
        .lines()
        .find_map(|l| {
            l.strip_prefix("rust-version = \"")
                .map(|v| v.trim_end_matches('"').to_string())
        })
        .expect("rust-version");
    assert!(msg.contains(&format!("needs Rust {rv} or newer")), "{msg}");
    assert!(
        msg.contains("rustc-web 1.85.0+dfsg3-1~deb12u3, rustc 1.63.0+dfsg1-2"),
        "{msg}"
    );
    assert!(msg.contains("apt-get install rustc-web cargo-web"), "{msg}");
    assert!(msg.contains("dnf install rust cargo"), "{msg}");
}

#[test]
fn opencloudos_installs_rust_and_cargo_when_new_enough_only() {
    let (o, asked) = dev_sh(&Machine {
        apt: None,
        dnf: Some("1.96.0"),
        cargo: false,
    });
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        installs(&asked),
        ["dnf install -y -q rust cargo"],
        "{asked}"
    );

    let (o, asked) = dev_sh(&Machine {
        apt: None,
        dnf: Some("1.79.0"),
        cargo: false,
    });
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(installs(&asked).is_empty(), "{asked}");
    assert!(
        text(&o).contains("offer rust 1.79.0, older than"),
        "{}",
        text(&o)
    );
}

#[test]
fn cargo_on_path_is_used_and_nothing_is_asked() {
    let (o, asked) = dev_sh(&Machine {
        apt: Some(("1.96.0+dfsg1-1~deb12u2", "")),
        dnf: None,
        cargo: true,
    });
    assert!(o.status.success(), "{}", text(&o));
    assert!(asked.is_empty(), "{asked}");
    // No package manager at all: say so, with the list of what to install.
    let (o, _) = dev_sh(&Machine {
        apt: None,
        dnf: None,
        cargo: false,
    });
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("no apt-get, dnf or yum here"),
        "{}",
        text(&o)
    );
}
