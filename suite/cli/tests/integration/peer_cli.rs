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

/// A directory holding iperf3 (the real one, linked) and, with `perftest`, fake ib_write_bw
/// and ib_read_lat scripts that log their arguments and print a recorded server output
/// (cases/tests/fixtures/perftest) after `delay` seconds, as a server does once its client
/// has run.
fn fake_path(dir: &std::path::Path, perftest: bool, delay: &str) -> String {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    if let Some(real) = ["/usr/bin/iperf3", "/bin/iperf3"]
        .iter()
        .find(|p| std::path::Path::new(p).exists())
    {
        std::os::unix::fs::symlink(real, bin.join("iperf3")).expect("link iperf3");
    }
    if perftest {
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../cases/tests/fixtures/perftest");
        for (prog, file) in [
            ("ib_write_bw", "write_bw_server_roce_cut.txt"),
            ("ib_read_lat", "read_lat_server_ib_mlx4.txt"),
        ] {
            let p = bin.join(prog);
            std::fs::write(
                &p,
                format!(
                    "#!/bin/sh\necho \"$0 $*\" >> '{args}'\n/bin/sleep {delay}\n/bin/cat '{f}'\n",
                    args = dir.join("args").display(),
                    f = fixtures.join(file).display()
                ),
            )
            .expect("script");
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
    }
    bin.display().to_string()
}

#[test]
fn peer_rdma_arguments_and_perftest_missing() {
    let d = tempfile::tempdir().expect("tempdir");
    let without = fake_path(d.path(), false, "0");
    fails_with(
        &["--allow", "192.0.2.1", "--rdma", "mlx5_0"],
        Some(&without),
        "install perftest",
    );
    let p = tempfile::tempdir().expect("tempdir");
    let with = fake_path(p.path(), true, "0");
    fails_with(
        &["--allow", "192.0.2.1", "--rdma", "mlx5_0:0"],
        Some(&with),
        "1 to 255",
    );
    fails_with(
        &["--allow", "192.0.2.1", "--rdma", "../x"],
        Some(&with),
        "not an RDMA device name",
    );
    fails_with(
        &[
            "--allow",
            "192.0.2.1",
            "--rdma",
            "mlx5_0",
            "--rdma-seconds",
            "0",
        ],
        Some(&with),
        "--rdma-seconds",
    );
    fails_with(
        &[
            "--allow",
            "192.0.2.1",
            "--rdma",
            "a,b",
            "--rdma-port",
            "65533",
        ],
        Some(&with),
        "do not fit",
    );
}

#[test]
fn peer_rdma_serves_each_client_with_the_cases_options_until_its_duration() {
    if !["/usr/bin/iperf3", "/bin/iperf3"]
        .iter()
        .any(|p| std::path::Path::new(p).exists())
    {
        eprintln!("skipped: iperf3 is not installed");
        return;
    }
    let d = tempfile::tempdir().expect("tempdir");
    // Each fake server "serves a client" every 0.5 s: several clients in 3 s.
    let path = fake_path(d.path(), true, "0.5");
    // Clear of the ports of the other test of this binary.
    let port = 20_002 + (std::process::id() % 20_000) as u16;
    let t0 = Instant::now();
    let out = hwcert()
        .args(["peer", "--allow", "127.0.0.1", "--bind", "127.0.0.1"])
        .args(["--streams", "1", "--port", &port.to_string()])
        .args([
            "--rdma",
            "mlx5_0",
            "--rdma",
            "rxe0:2",
            "--rdma-seconds",
            "7",
        ])
        .args(["--duration", "3"])
        .env("PATH", &path)
        .output()
        .expect("hwcert peer");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(t0.elapsed() < Duration::from_secs(20), "did not stop");
    assert!(
        text.contains("RDMA servers for mlx5_0 port 1, rxe0 port 2 on TCP ports 18515–18518"),
        "{text}"
    );
    assert!(text.contains("--allow does not apply"), "{text}");
    let args = std::fs::read_to_string(d.path().join("args")).expect("args");
    for want in [
        "ib_write_bw -d mlx5_0 -i 1 -p 18515 -D 7 -s 65536 --report_gbits -F\n",
        "ib_read_lat -d mlx5_0 -i 1 -p 18516 -n 10000 -F\n",
        "ib_write_bw -d rxe0 -i 2 -p 18517 -D 7 -s 65536 --report_gbits -F\n",
        "ib_read_lat -d rxe0 -i 2 -p 18518 -n 10000 -F\n",
    ] {
        assert!(args.contains(want), "{want:?} not in {args}");
    }
    // Restarted after each client, each client logged with what perftest said of it.
    assert!(args.matches("ib_read_lat -d mlx5_0").count() >= 2, "{args}");
    assert!(
        text.contains("port 18516: ib_read_lat exit status 0")
            && text.contains("client LID 0x01 QPN 0x0215"),
        "{text}"
    );
    assert!(
        text.contains("at the time bound (") && text.contains("client(s) served)"),
        "{text}"
    );
    assert!(text.contains("RDMA servers stopped"), "{text}");
    assert!(text.contains("hwcert peer: stopped"), "{text}");

    // A server that no client ever reaches is ended at the time bound, not waited for.
    let h = tempfile::tempdir().expect("tempdir");
    let path = fake_path(h.path(), true, "600");
    let t0 = Instant::now();
    let out = hwcert()
        .args(["peer", "--allow", "127.0.0.1", "--bind", "127.0.0.1"])
        .args(["--streams", "1", "--port", &port.to_string()])
        .args(["--rdma", "mlx5_0", "--duration", "2"])
        .env("PATH", &path)
        .output()
        .expect("hwcert peer");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        t0.elapsed() < Duration::from_secs(20),
        "waited for the hung server"
    );
    assert!(
        text.contains("port 18515: ib_write_bw ended at the time bound while waiting for a client (0 client(s) served)"),
        "{text}"
    );
}
