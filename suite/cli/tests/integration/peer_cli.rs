//! `hwcert peer`: refuses to start without an allow-list or with a bad one, and without iperf3;
//! serves and stops by itself at --duration (loopback only).

use std::process::Command;
use std::time::{Duration, Instant};

fn hwcert() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hwcert"))
}

fn fails_with(args: &[&str], path: Option<&str>, want: &str) {
    let mut c = hwcert();
    c.arg("peer").args(args);
    if let Some(p) = path {
        c.env("PATH", p);
    }
    let out = c.output().expect("hwcert");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} started");
    assert!(err.contains(want), "{args:?}: {err}");
}

#[test]
fn peer_needs_an_allow_list_and_iperf3() {
    fails_with(&[], None, "--allow");
    fails_with(&["--allow", "peer.example"], None, "not an IP address");
    fails_with(&["--allow", "192.0.2.0/40"], None, "prefix length");
    fails_with(
        &["--allow", "192.0.2.1", "--duration", "5x"],
        None,
        "--duration",
    );
    fails_with(
        &["--allow", "192.0.2.1", "--streams", "0"],
        None,
        "--streams",
    );
    fails_with(
        &["--allow", "192.0.2.1", "--iperf3", "/nonexistent/iperf3"],
        None,
        "install iperf3",
    );
}

#[test]
fn peer_serves_on_loopback_and_stops_at_its_duration() {
    if Command::new("iperf3").arg("--version").output().is_err() {
        eprintln!("skipped: iperf3 is not installed");
        return;
    }
    let port = 20_000 + (std::process::id() % 20_000) as u16;
    let t0 = Instant::now();
    let out = hwcert()
        .args([
            "peer",
            "--allow",
            "127.0.0.1",
            "--bind",
            "127.0.0.1",
            "--streams",
            "2",
        ])
        .args(["--port", &port.to_string(), "--duration", "2"])
        .output()
        .expect("hwcert peer");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        t0.elapsed() < Duration::from_secs(15),
        "did not stop at --duration"
    );
    assert_eq!(text.matches("listening").count(), 2, "{text}");
    assert!(text.contains("allowed: 127.0.0.1/32"), "{text}");
    assert!(text.contains("hwcert peer: stopped"), "{text}");
}
