//! The RDMA cases on a crafted sysroot (a ConnectX-6 InfiniBand port, an mlx5 RoCE port) bind-mounted over /sys in a private
//! mount namespace of the child that runs the case,
//! with fake `ib_write_bw` / `ib_read_lat` scripts on PATH printing recorded perftest outputs
//! (cases/tests/fixtures/perftest), hanging, or printing garbage; the cases run in a child
//! process so that each test has its own PATH.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use cases::{Context, RunOptions, Selection, Target, Verdict};

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A copy of the hand-made tree, to change.
fn sysroot() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    let src = manifest().join("../hwdb/inventory/tests/fixtures/rdma-sysroot/sys");
    let ok = Command::new("cp")
        .arg("-a")
        .arg(&src)
        .arg(d.path())
        .status()
        .expect("cp");
    assert!(ok.success());
    d
}

fn set(root: &Path, rel: &str, v: &str) {
    let p = root.join(rel);
    let real = std::fs::canonicalize(&p).unwrap_or(p);
    std::fs::write(real, format!("{v}\n")).expect("write");
}

/// A directory with fake perftest programs: `mode` is "cat FILE", "hang" or "garbage".
fn fakes(dir: &Path, mode: &str) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    let body = match mode.split_once(' ') {
        Some(("cat", f)) => format!(
            "/bin/cat '{}'",
            manifest().join("tests/fixtures/perftest").join(f).display()
        ),
        _ if mode == "hang" => "exec /bin/sleep 600".to_string(),
        _ => "echo 'Couldn'\"'\"'t connect to 192.0.2.2:18515'; echo '#bytes x'; echo 'zzz 1 2'; exit 1".to_string(),
    };
    for t in ["ib_write_bw", "ib_read_lat"] {
        let p = bin.join(t);
        std::fs::write(
            &p,
            format!(
                "#!/bin/sh\necho \"$0 $*\" >> '{}'\n{body}\n",
                dir.join("args").display()
            ),
        )
        .expect("script");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    bin
}

struct Ran {
    verdict: Verdict,
    log: String,
    measurements: Vec<(String, f64, Option<f64>)>,
}

impl Ran {
    fn m(&self, n: &str) -> Option<f64> {
        self.measurements.iter().find(|m| m.0 == n).map(|m| m.1)
    }
}

fn run(root: &Path, path: &Path, case: &str, dev: &str, settings: &str) -> Ran {
    let exe = std::env::current_exe().expect("test binary");
    // The case runs on the live system (sysroot `/`) of a private mount namespace where the
    // crafted tree is bind-mounted over /sys: a live case reads no other machine than this.
    let out = Command::new("/usr/bin/unshare")
        .args(["-m", "--propagation", "private", "/bin/sh", "-c"])
        .arg("/bin/mount --bind \"$1\" /sys || exit 99; shift; exec \"$@\"")
        .arg("sh")
        .arg(root.join("sys"))
        .arg(exe)
        .args([
            "rdma::child_entry",
            "--exact",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("PATH", path)
        .env("HWCERT_T_RDMA", case)
        .env("HWCERT_T_TARGET", dev)
        .env("HWCERT_T_SETTINGS", settings)
        .stdin(Stdio::null())
        .output()
        .expect("child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("HWCERT-T-OUTCOME ").map(|x| x.1))
        .unwrap_or_else(|| {
            panic!(
                "no outcome: {stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let v: serde_json::Value = serde_json::from_str(line).expect("json");
    Ran {
        verdict: serde_json::from_value(v["verdict"].clone()).expect("verdict"),
        log: v["log"].as_str().unwrap_or("").to_string(),
        measurements: v["measurements"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| {
                Some((
                    m["name"].as_str()?.to_string(),
                    m["value"].as_f64()?,
                    m["threshold"]["value"].as_f64(),
                ))
            })
            .collect(),
    }
}

/// The child: run one case on the sysroot, print the outcome.
#[test]
fn child_entry() {
    let Ok(case) = std::env::var("HWCERT_T_RDMA") else {
        return;
    };
    let root = "/".to_string();
    let inv = crate::common::probe(Path::new(&root));
    let case = cases::find(&case).expect("a case");
    let target = Target::item(std::env::var("HWCERT_T_TARGET").expect("target"), None);
    let mut options = RunOptions::default();
    for kv in std::env::var("HWCERT_T_SETTINGS")
        .unwrap_or_default()
        .split(';')
    {
        if let Some((k, v)) = kv.split_once('=') {
            options.settings.insert(k.to_string(), v.to_string());
        }
    }
    let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
    struct W(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for W {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("log").extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut ctx = Context::new(
        &inv,
        &root,
        &target,
        &options,
        true,
        Box::new(W(buf.clone())),
    );
    let verdict = case.run(&mut ctx);
    let outcome = ctx.finish(verdict);
    let log = String::from_utf8_lossy(&buf.lock().expect("log")).into_owned();
    let v = serde_json::json!({"verdict": outcome.verdict, "measurements": outcome.measurements, "log": log});
    println!("HWCERT-T-OUTCOME {v}");
}

const PEER: &str = "network.rdma_peer=192.0.2.2;network.rdma_seconds=1";

#[test]
fn planned_only_with_an_active_port_and_a_peer() {
    let d = sysroot();
    let inv = crate::common::probe(d.path());
    assert_eq!(inv.rdma.len(), 2);
    let case = cases::find("network::rdma_bw").expect("case");
    let mut o = RunOptions::default();
    match case.select_with(&inv, &o) {
        Selection::NotApplicable(r) => assert!(r.contains("rdma_peer"), "{r}"),
        s => panic!("planned without a peer: {s:?}"),
    }
    o.settings
        .insert("network.rdma_peer".into(), "192.0.2.2".into());
    let Selection::Targets(ts) = case.select_with(&inv, &o) else {
        panic!("not planned")
    };
    // mlx5_0's InfiniBand port is ACTIVE; mlx5_1's RoCE port is DOWN.
    let ids: Vec<_> = ts.iter().filter_map(|t| t.id.clone()).collect();
    assert_eq!(ids, ["mlx5_0"]);
    set(
        d.path(),
        "sys/class/infiniband/mlx5_0/ports/1/state",
        "1: DOWN",
    );
    let inv = crate::common::probe(d.path());
    match case.select_with(&inv, &o) {
        Selection::NotApplicable(r) => {
            assert!(
                r.contains("mlx5_0: port 1 DOWN") && r.contains("mlx5_1: port 1 DOWN"),
                "{r}"
            )
        }
        s => panic!("planned with every port down: {s:?}"),
    }
    let empty = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(empty.path().join("sys/devices")).expect("dir");
    let none = crate::common::probe(empty.path());
    match case.select_with(&none, &o) {
        Selection::NotApplicable(r) => assert!(r.contains("no RDMA device"), "{r}"),
        s => panic!("planned without a device: {s:?}"),
    }
}

#[test]
fn bandwidth_passes_and_fails_against_the_port_rate() {
    let d = sysroot();
    // 5544.28 MB/s = 46.51 Gb/s: 83% of an FDR port, over 80%.
    set(
        d.path(),
        "sys/class/infiniband/mlx5_0/ports/1/rate",
        "56 Gb/sec (4X FDR)",
    );
    let bin = fakes(d.path(), "cat send_bw_rows_arm_mlx5.txt");
    let r = run(d.path(), &bin, "network::rdma_bw", "mlx5_0", PEER);
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.log);
    let got = r.m("throughput_rdma_write").expect("figure");
    assert!((got - 46_510.0).abs() < 20.0, "{got}");
    assert_eq!(r.m("link_speed"), Some(56_000.0));
    let args = std::fs::read_to_string(d.path().join("args")).expect("args");
    assert!(
        args.contains("-d mlx5_0 -i 1 -p 18515 -D 1 -s 65536 --report_gbits -F 192.0.2.2"),
        "{args}"
    );
    assert!(r.log.contains("83% of the port's 56 Gb/s"), "{}", r.log);
    // The same figure on the 200 Gb/s HDR port is 23%: a fail naming figure, rate, threshold.
    let d = sysroot();
    let bin = fakes(d.path(), "cat send_bw_rows_arm_mlx5.txt");
    let r = run(d.path(), &bin, "network::rdma_bw", "mlx5_0", PEER);
    let Verdict::Fail { expected, measured } = &r.verdict else {
        panic!("{:?} {}", r.verdict, r.log)
    };
    assert!(
        expected.contains("80% of 200 Gb/s (160.0 Gb/s)") && expected.contains("192.0.2.2"),
        "{expected}"
    );
    assert!(
        measured.contains("46.51 Gb/s") && measured.contains("mlx5_0 port 1"),
        "{measured}"
    );
    // A profile threshold of 20% passes it.
    let r = run(
        d.path(),
        &bin,
        "network::rdma_bw",
        "mlx5_0",
        &format!("{PEER};network.rdma_threshold=20"),
    );
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.log);
}

#[test]
fn latency_typical_judged_p99_recorded() {
    let d = sysroot();
    let bin = fakes(d.path(), "cat read_lat_client_ib_mlx4.txt");
    let r = run(d.path(), &bin, "network::rdma_lat", "mlx5_0", PEER);
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.log);
    assert_eq!(r.m("rdma_read_lat_typical"), Some(1.79));
    assert_eq!(r.m("rdma_read_lat_p99"), Some(1.88));
    let args = std::fs::read_to_string(d.path().join("args")).expect("args");
    assert!(
        args.contains("ib_read_lat -d mlx5_0 -i 1 -p 18516"),
        "{args}"
    );
    // The RoCE VF's 6.74 µs is over the 5 µs default.
    let bin = fakes(&d.path().join("roce"), "cat read_lat_client_roce_cx5.txt");
    let r = run(d.path(), &bin, "network::rdma_lat", "mlx5_0", PEER);
    let Verdict::Fail { measured, .. } = &r.verdict else {
        panic!("{:?}", r.verdict)
    };
    assert!(
        measured.contains("typical 6.74 µs, p99 7.15 µs"),
        "{measured}"
    );
    // A p99 limit is judged when set.
    let r = run(
        d.path(),
        &bin,
        "network::rdma_lat",
        "mlx5_0",
        &format!("{PEER};network.rdma_latency_us=10;network.rdma_latency_p99_us=7"),
    );
    assert!(matches!(r.verdict, Verdict::Fail { .. }), "{:?}", r.verdict);
    assert!(r
        .measurements
        .iter()
        .any(|m| m.0 == "rdma_read_lat_p99" && m.2 == Some(7.0)));
}

#[test]
fn garbage_missing_hang_and_a_down_port_are_never_a_pass() {
    let d = sysroot();
    let bin = fakes(d.path(), "garbage");
    let r = run(d.path(), &bin, "network::rdma_bw", "mlx5_0", PEER);
    let Verdict::Error { reason } = &r.verdict else {
        panic!("{:?}", r.verdict)
    };
    assert!(reason.contains("no result table"), "{reason}");
    // A recorded output cut inside its row.
    let bin = fakes(&d.path().join("cut"), "cat write_bw_server_roce_cut.txt");
    let r = run(d.path(), &bin, "network::rdma_bw", "mlx5_0", PEER);
    assert!(
        matches!(r.verdict, Verdict::Error { .. }),
        "{:?}",
        r.verdict
    );
    // perftest not installed: a skip that says what to install.
    let empty = d.path().join("empty");
    std::fs::create_dir_all(&empty).expect("dir");
    let r = run(d.path(), &empty, "network::rdma_lat", "mlx5_0", PEER);
    let Verdict::Skip { reason } = &r.verdict else {
        panic!("{:?}", r.verdict)
    };
    assert!(reason.contains("perftest"), "{reason}");
    // The port went down after planning.
    let bin = fakes(&d.path().join("ok"), "cat read_lat_client_ib_mlx4.txt");
    set(
        d.path(),
        "sys/class/infiniband/mlx5_0/ports/1/state",
        "2: INIT",
    );
    let r = run(d.path(), &bin, "network::rdma_lat", "mlx5_0", PEER);
    let Verdict::Fail { measured, .. } = &r.verdict else {
        panic!("{:?}", r.verdict)
    };
    assert!(measured.contains("port 1 2: INIT"), "{measured}");
    // A hang is killed at its limit (1 s of traffic + 30 s).
    set(
        d.path(),
        "sys/class/infiniband/mlx5_0/ports/1/state",
        "4: ACTIVE",
    );
    let bin = fakes(&d.path().join("hang"), "hang");
    let t0 = std::time::Instant::now();
    let r = run(d.path(), &bin, "network::rdma_bw", "mlx5_0", PEER);
    let Verdict::Error { reason } = &r.verdict else {
        panic!("{:?}", r.verdict)
    };
    assert!(reason.contains("killed"), "{reason}");
    assert!(t0.elapsed().as_secs() < 60);
}
