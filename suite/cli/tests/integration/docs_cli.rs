//! The documentation made from the code: the README's generated blocks, the man pages, the
//! completions, and the RPM spec's lines for the programs the cases run.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use crate::support::{hwcert, text};

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn readme_generated_blocks_are_what_the_code_says() {
    let readme = repo().join("README.md");
    let o = Command::new(hwcert())
        .args(["__docs", "readme"])
        .arg(&readme)
        .output()
        .expect("run hwcert __docs readme");
    assert!(o.status.success(), "{}", text(&o.stderr));
    let now = std::fs::read_to_string(&readme).expect("README.md");
    if text(&o.stdout) != now {
        let first = text(&o.stdout)
            .lines()
            .zip(now.lines())
            .position(|(a, b)| a != b)
            .map_or("at the end".to_string(), |i| format!("at line {}", i + 1));
        panic!(
            "README.md's generated blocks differ from the clap definitions or the case catalog \
             ({first}): run ./dev.sh docs and commit README.md"
        );
    }
}

/// The visible subcommands `hwcert --help` lists (nested ones through `hwcert hwdb --help`).
fn listed_commands(args: &[&str]) -> Vec<String> {
    let o = Command::new(hwcert())
        .args(args)
        .arg("--help")
        .output()
        .expect("hwcert --help");
    assert!(o.status.success());
    let help = text(&o.stdout);
    let Some(rest) = help.split("Commands:\n").nth(1) else {
        return Vec::new();
    };
    rest.lines()
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect()
}

#[test]
fn man_pages_exist_for_every_command_and_render() {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = Command::new(hwcert())
        .args(["__docs", "man"])
        .arg(dir.path())
        .output()
        .expect("run hwcert __docs man");
    assert!(o.status.success(), "{}", text(&o.stderr));
    let mut want = vec!["hwcert.1".to_string()];
    for c in listed_commands(&[]) {
        want.push(format!("hwcert-{c}.1"));
        for sub in listed_commands(&[&c]) {
            want.push(format!("hwcert-{c}-{sub}.1"));
        }
    }
    assert!(want.contains(&"hwcert-hwdb-add.1".to_string()), "{want:?}");
    let mut have: Vec<String> = std::fs::read_dir(dir.path())
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    have.sort();
    want.sort();
    assert_eq!(have, want);
    let page = std::fs::read_to_string(dir.path().join("hwcert-verify.1")).expect("page");
    assert!(page.contains("allowed\\-signers"), "{page}");
    assert!(!page.contains("__worker") && !page.contains("__docs"));
    // man(1) renders it where man is installed.
    if let Ok(m) = Command::new("man")
        .arg("-l")
        .arg(dir.path().join("hwcert-run.1"))
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .output()
    {
        assert!(m.status.success(), "{}", text(&m.stderr));
        assert!(text(&m.stdout).contains("--resume"), "{}", text(&m.stdout));
    }
}

#[test]
fn completions_for_each_shell_and_bash_parses_them() {
    for shell in ["bash", "zsh", "fish"] {
        let o = Command::new(hwcert())
            .args(["completions", shell])
            .output()
            .expect("run hwcert completions");
        assert!(o.status.success(), "{shell}: {}", text(&o.stderr));
        let s = text(&o.stdout);
        for word in ["certify", "probe", "hwdb", "allowed-signers"] {
            assert!(s.contains(word), "{shell} lacks {word}");
        }
    }
    let o = Command::new("bash")
        .args(["-n", "-c"])
        .arg(text(
            &Command::new(hwcert())
                .args(["completions", "bash"])
                .output()
                .expect("completions")
                .stdout,
        ))
        .output()
        .expect("bash -n");
    assert!(o.status.success(), "{}", text(&o.stderr));
    let bad = Command::new(hwcert())
        .args(["completions", "tcsh"])
        .output()
        .expect("run");
    assert_eq!(bad.status.code(), Some(2));
}

/// Every program a case declares has its `# tool NAME` line and a Suggests: after it in the
/// spec, and the spec names no program no case declares.
#[test]
fn spec_suggests_every_program_the_cases_run() {
    let declared: BTreeSet<String> = cases::catalog()
        .iter()
        .flat_map(|c| c.info().requirements.tools.clone())
        .collect();
    let spec = std::fs::read_to_string(repo().join("packaging/hwcert.spec")).expect("spec");
    let lines: Vec<&str> = spec.lines().collect();
    let mut in_spec = BTreeSet::new();
    for (i, l) in lines.iter().enumerate() {
        if let Some(tool) = l.strip_prefix("# tool ") {
            let next = lines.get(i + 1).copied().unwrap_or_default();
            assert!(
                next.starts_with("Suggests:") && next.len() > "Suggests:".len(),
                "packaging/hwcert.spec: `# tool {tool}` is not followed by its Suggests: line"
            );
            in_spec.insert(tool.trim().to_string());
        }
    }
    assert_eq!(
        in_spec, declared,
        "packaging/hwcert.spec's `# tool` lines must be the programs the cases declare"
    );
}
