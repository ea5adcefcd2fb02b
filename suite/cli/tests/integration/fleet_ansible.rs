//! The lab fleet (issue 18): the Ansible collection opencloudos.hwcert driven by ansible-core
//! over three sshd targets in network namespaces, by packaging/ansible/tests/fleet.sh with this
//! build's hwcert. The script says what each play shows; exit 77 is its skip (not root, no
//! network namespaces, ansible-core or openssh-server missing), with the reason on stderr.

use std::path::Path;
use std::process::Command;

use crate::support::{hwcert, show};

#[test]
fn ansible_play_over_three_namespaced_sshd_targets() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let script = repo.join("packaging/ansible/tests/fleet.sh");
    let out = match Command::new("bash").arg(&script).arg(hwcert()).output() {
        Ok(o) => o,
        Err(e) => panic!("cannot run bash {}: {e}", script.display()),
    };
    if out.status.code() == Some(77) {
        eprintln!("{}", String::from_utf8_lossy(&out.stderr).trim());
        return;
    }
    assert!(out.status.success(), "{}", show(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for line in [
        "ok   syntax-check",
        "ok   run 1",
        "ok   run 2",
        "ok   run 3",
        "ok   run 4",
    ] {
        assert!(stdout.contains(line), "no \"{line}\" in:\n{}", show(&out));
    }
    eprintln!("{stdout}");
}
