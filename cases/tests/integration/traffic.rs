//! The traffic cases: iperf3 reports recorded on this machine (fixtures/iperf3, made with
//! iperf 3.12 between two network namespaces), and real traffic between two network
//! namespaces joined by veth pairs that each test makes and removes (documentation addresses
//! only). A case runs in a child process under `ip netns exec` (so /sys shows that
//! namespace), which is this test binary again running `helper_process_entry`; the peer is
//! `cases::traffic::peer::serve`, what `hwcert peer` runs, in the other namespace.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use cases::traffic::iperf::{parse, ParseError};
use cases::{Context, Inventory, RunOptions, Target, Verdict};

fn fixture(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/iperf3")
        .join(name);
    std::fs::read_to_string(&p).expect("fixture")
}

#[test]
fn recorded_iperf3_reports_parse() {
    let send = parse(&fixture("tcp_send.json"), false).expect("send");
    assert!(
        (send.received_bps - 8_074_000_000.0).abs() < 50e6,
        "{}",
        send.received_bps
    );
    assert!(send.sent_bps >= send.received_bps);
    assert_eq!(send.version.as_deref(), Some("iperf 3.12"));
    assert_eq!(send.local_host.as_deref(), Some("192.0.2.1"));
    assert!(send.cpu_local_percent.is_some() && send.cpu_remote_percent.is_some());
    assert_eq!(send.reverse_received_bps, None);
    let rev = parse(&fixture("tcp_reverse.json"), false).expect("reverse");
    assert!(rev.received_bps > 1e9);
    let bidir = parse(&fixture("tcp_bidir.json"), false).expect("bidir");
    let back = bidir.reverse_received_bps.expect("the other direction");
    assert!((back - 3_152_577_492.4).abs() < 1.0);
    let udp = parse(&fixture("udp.json"), true).expect("udp");
    assert!((udp.lost_percent.expect("loss") - 48.0455).abs() < 0.001);
    assert_eq!((udp.lost_packets, udp.packets), (Some(41434), Some(86239)));
    assert!(udp.jitter_ms.expect("jitter") < 0.01);
    // A TCP report read as UDP lacks the UDP figures, and the other way round.
    assert!(matches!(
        parse(&fixture("tcp_send.json"), true),
        Err(ParseError::Missing(_))
    ));
    match parse(&fixture("refused.json"), false) {
        Err(ParseError::Iperf(e)) => assert!(e.contains("unable to connect"), "{e}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn truncated_and_garbage_reports_are_errors() {
    for f in [
        "tcp_send.json",
        "tcp_reverse.json",
        "tcp_bidir.json",
        "udp.json",
    ] {
        let text = fixture(f);
        for cut in [1, text.len() / 3, text.len() / 2, text.len() - 3] {
            let r = parse(&text[..cut], f == "udp.json");
            assert!(
                matches!(r, Err(ParseError::NotJson(_))),
                "{f} cut at {cut}: {r:?}"
            );
        }
    }
    for g in [
        "",
        "garbage",
        "\u{0}\u{7f}",
        "iperf3: error - unable to connect",
        "null",
        "42",
    ] {
        assert!(parse(g, false).is_err(), "{g:?}");
    }
    // The figures removed: missing, never zero.
    let no_end = fixture("tcp_send.json").replace("\"sum_received\"", "\"sum_rx\"");
    assert!(matches!(parse(&no_end, false), Err(ParseError::Missing(_))));
}

// ---------------------------------------------------------------------------------------------
// Namespaces

/// One traffic test at a time in this binary: they share two cores.
static TRAFFIC: Mutex<()> = Mutex::new(());
static SEQ: AtomicU32 = AtomicU32::new(0);

fn sh(args: &[&str]) -> Result<String, String> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .map_err(|e| format!("{}: {e}", args[0]))?;
    if !out.status.success() {
        return Err(format!(
            "{}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Two namespaces `a` (this machine) and `b` (the peer), joined by veth `va` — `vb`
/// (192.0.2.1/24 — 192.0.2.2/24). Removed on drop, also when the test panics.
struct Pair {
    a: String,
    b: String,
    children: Vec<Child>,
}

impl Pair {
    fn new() -> Option<Pair> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: network namespaces need root");
            return None;
        }
        if which("iperf3").is_none() || which("ping").is_none() {
            eprintln!("skipped: iperf3 or ping is not installed");
            return None;
        }
        if let Err(e) = cases::traffic::flap::is_up("lo") {
            if e.raw_os_error() == Some(libc::ENOSYS) {
                eprintln!("skipped: interface ioctls: {e} (qemu-user does not pass them on)");
                return None;
            }
        }
        let n = SEQ.fetch_add(1, Ordering::SeqCst);
        let base = format!("hwcert-t-{}-{n}", std::process::id());
        let p = Pair {
            a: format!("{base}a"),
            b: format!("{base}b"),
            children: Vec::new(),
        };
        let (a, b) = (p.a.clone(), p.b.clone());
        let steps: Vec<Vec<&str>> = vec![
            vec!["ip", "netns", "add", &a],
            vec!["ip", "netns", "add", &b],
            vec![
                "ip", "link", "add", "va", "netns", &a, "type", "veth", "peer", "name", "vb",
                "netns", &b,
            ],
            vec!["ip", "-n", &a, "addr", "add", "192.0.2.1/24", "dev", "va"],
            vec!["ip", "-n", &b, "addr", "add", "192.0.2.2/24", "dev", "vb"],
            vec!["ip", "-n", &a, "link", "set", "lo", "up"],
            vec!["ip", "-n", &b, "link", "set", "lo", "up"],
            vec!["ip", "-n", &a, "link", "set", "va", "up"],
            vec!["ip", "-n", &b, "link", "set", "vb", "up"],
        ];
        for s in steps {
            if let Err(e) = sh(&s) {
                eprintln!("skipped: cannot make the namespaces: {e}");
                return None;
            }
        }
        Some(p)
    }

    /// A second veth pair `vc` — `vd` (198.51.100.1/24 — 198.51.100.2/24).
    fn second_link(&self) {
        for s in [
            vec![
                "ip", "link", "add", "vc", "netns", &self.a, "type", "veth", "peer", "name", "vd",
                "netns", &self.b,
            ],
            vec![
                "ip",
                "-n",
                &self.a,
                "addr",
                "add",
                "198.51.100.1/24",
                "dev",
                "vc",
            ],
            vec![
                "ip",
                "-n",
                &self.b,
                "addr",
                "add",
                "198.51.100.2/24",
                "dev",
                "vd",
            ],
            vec!["ip", "-n", &self.a, "link", "set", "vc", "up"],
            vec!["ip", "-n", &self.b, "link", "set", "vd", "up"],
        ] {
            sh(&s).expect("second link");
        }
    }

    fn in_ns(&self, ns: &str, args: &[&str]) -> String {
        let mut v = vec!["ip", "netns", "exec", ns];
        v.extend_from_slice(args);
        sh(&v).expect("command in the namespace")
    }

    /// `hwcert peer`'s servers in `b`, allowing `allow`; returns the log file.
    fn peer(&mut self, allow: &str, streams: u16) -> PathBuf {
        let log = std::env::temp_dir().join(format!("{}-peer.log", self.b));
        let _ = std::fs::remove_file(&log);
        let child = helper(&self.b)
            .env("HWCERT_T_MODE", "peer")
            .env("HWCERT_T_ALLOW", allow)
            .env("HWCERT_T_STREAMS", streams.to_string())
            .env("HWCERT_T_LOG", &log)
            .spawn()
            .expect("peer");
        self.children.push(child);
        let t0 = Instant::now();
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if text.matches("listening").count() >= usize::from(streams) {
                break;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "the peer did not start: {text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(300));
        log
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        for ns in [&self.a, &self.b] {
            // Whatever still runs inside (started by this test) ends with the namespace.
            if let Ok(pids) = sh(&["ip", "netns", "pids", ns]) {
                for pid in pids
                    .split_whitespace()
                    .filter_map(|p| p.parse::<i32>().ok())
                {
                    // SAFETY: a process in a namespace this test made.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
            }
            let _ = sh(&["ip", "netns", "del", ns]);
        }
    }
}

fn which(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(tool))
            .find(|f| f.is_file())
    })
}

/// This test binary in namespace `ns`, running only `helper_process_entry`.
fn helper(ns: &str) -> Command {
    let exe = std::env::current_exe().expect("test binary");
    let mut c = Command::new("ip");
    c.args(["netns", "exec", ns])
        .arg(exe)
        .args([
            "traffic::helper_process_entry",
            "--exact",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// What a case did in the child.
struct Ran {
    verdict: Verdict,
    log: String,
    measurements: Vec<(String, f64)>,
}

impl Ran {
    fn m(&self, name: &str) -> Option<f64> {
        self.measurements
            .iter()
            .find(|(n, _)| n == name)
            .map(|x| x.1)
    }
    fn text(&self) -> String {
        format!("{:?}\n{}", self.verdict, self.log)
    }
}

fn settings_env(settings: &[(&str, &str)]) -> String {
    settings
        .iter()
        .map(|(k, v)| format!("network.{k}={v}"))
        .collect::<Vec<_>>()
        .join(";")
}

fn case_command(pair: &Pair, case: &str, iface: &str, settings: &[(&str, &str)]) -> Command {
    let mut c = helper(&pair.a);
    c.env("HWCERT_T_MODE", "case")
        .env("HWCERT_T_CASE", case)
        .env("HWCERT_T_TARGET", iface)
        .env("HWCERT_T_SETTINGS", settings_env(settings));
    c
}

fn collect(out: std::process::Output) -> Ran {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("HWCERT-T-OUTCOME ").map(|x| x.1))
        .unwrap_or_else(|| {
            panic!(
                "no outcome from the child: {stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let v: serde_json::Value = serde_json::from_str(line).expect("outcome json");
    Ran {
        verdict: serde_json::from_value(v["verdict"].clone()).expect("verdict"),
        log: v["log"].as_str().unwrap_or("").to_string(),
        measurements: v["measurements"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| Some((m["name"].as_str()?.to_string(), m["value"].as_f64()?)))
            .collect(),
    }
}

fn run_case(pair: &Pair, case: &str, iface: &str, settings: &[(&str, &str)]) -> Ran {
    collect(
        case_command(pair, case, iface, settings)
            .output()
            .expect("child"),
    )
}

/// The child's side: run one case (or the peer) as the parent asked, print the outcome.
#[test]
fn helper_process_entry() {
    let Ok(mode) = std::env::var("HWCERT_T_MODE") else {
        return; // Not a child: nothing to do.
    };
    if mode == "peer" {
        use cases::traffic::peer::{serve, PeerConfig};
        let allow = std::env::var("HWCERT_T_ALLOW").expect("allow");
        let cfg = PeerConfig {
            iperf3: "iperf3".into(),
            port: 5201,
            streams: std::env::var("HWCERT_T_STREAMS")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(1),
            bind: None,
            allow: allow
                .split(',')
                .map(|a| a.parse().expect("allowed"))
                .collect(),
            duration: Duration::from_secs(120),
        };
        let log =
            std::fs::File::create(std::env::var("HWCERT_T_LOG").expect("log")).expect("log file");
        let log: std::sync::Arc<Mutex<dyn std::io::Write + Send>> =
            std::sync::Arc::new(Mutex::new(log));
        serve(
            &cfg,
            std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
            log,
        )
        .expect("serve");
        return;
    }
    let case = cases::find(&std::env::var("HWCERT_T_CASE").expect("case")).expect("a case");
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
    let inv = Inventory::default();
    let buf = std::sync::Arc::new(Mutex::new(Vec::<u8>::new()));
    struct W(std::sync::Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for W {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("log").extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut ctx = Context::new(&inv, "/", &target, &options, true, Box::new(W(buf.clone())));
    let verdict = case.run(&mut ctx);
    let outcome = ctx.finish(verdict);
    let log = String::from_utf8_lossy(&buf.lock().expect("log")).into_owned();
    let v = serde_json::json!({
        "verdict": outcome.verdict,
        "measurements": outcome.measurements,
        "log": log,
    });
    println!("HWCERT-T-OUTCOME {v}");
}

fn peer_settings() -> Vec<(&'static str, &'static str)> {
    vec![("peer", "192.0.2.2"), ("seconds", "1")]
}

fn why(r: &Ran) -> String {
    match &r.verdict {
        Verdict::Fail { expected, measured } => format!("{expected} | {measured}"),
        Verdict::Error { reason } | Verdict::Skip { reason } | Verdict::Crash { reason } => {
            reason.clone()
        }
        Verdict::Pass => "pass".into(),
    }
}

#[test]
fn throughput_passes_at_full_speed_and_names_every_direction() {
    let _l = TRAFFIC.lock().unwrap_or_else(|e| e.into_inner());
    let Some(mut pair) = Pair::new() else { return };
    let log = pair.peer("192.0.2.1", 1);
    // 30%: the two cores of this machine are shared with builds; 80% is the shaped test's.
    let mut s = peer_settings();
    s.push(("threshold", "30"));
    let r = run_case(&pair, "network::throughput", "va", &s);
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.text());
    for m in [
        "throughput_send",
        "throughput_receive",
        "throughput_bidir_send",
        "throughput_bidir_receive",
    ] {
        assert!(r.m(m).expect(m) >= 3000.0, "{m}: {}", r.text());
    }
    assert_eq!(r.m("link_speed"), Some(10_000.0));
    assert_eq!(r.m("streams"), Some(1.0));
    assert!(r.m("cpu_local_send").is_some());
    assert!(
        r.log.contains("route to 192.0.2.2: 192.0.2.2 dev va"),
        "{}",
        r.log
    );
    assert!(r.log.contains("--bind-dev va"), "{}", r.log);
    let plog = std::fs::read_to_string(log).expect("peer log");
    assert!(plog.contains("client 192.0.2.1"), "{plog}");
}

#[test]
fn throughput_fails_when_shaped_to_half_the_link() {
    let _l = TRAFFIC.lock().unwrap_or_else(|e| e.into_inner());
    let Some(mut pair) = Pair::new() else { return };
    for (ns, dev) in [(pair.a.clone(), "va"), (pair.b.clone(), "vb")] {
        pair.in_ns(
            &ns,
            &[
                "tc", "qdisc", "add", "dev", dev, "root", "tbf", "rate", "5gbit", "burst", "2mb",
                "latency", "50ms",
            ],
        );
    }
    pair.peer("192.0.2.1", 1);
    let r = run_case(&pair, "network::throughput", "va", &peer_settings());
    let Verdict::Fail { expected, measured } = &r.verdict else {
        panic!("{}", r.text())
    };
    assert!(
        expected.contains("80% of the 10000 Mb/s link"),
        "{expected}"
    );
    assert!(expected.contains("192.0.2.2"), "{expected}");
    assert!(measured.contains("va → 192.0.2.2 send"), "{measured}");
    assert!(measured.contains("threshold 80%"), "{measured}");
    assert!(
        r.m("throughput_send").expect("send") <= 5_300.0,
        "{}",
        r.text()
    );
}

#[test]
fn udp_loss_is_caught() {
    let _l = TRAFFIC.lock().unwrap_or_else(|e| e.into_inner());
    let Some(mut pair) = Pair::new() else { return };
    // netem where the kernel has it; else a 20 Mbit/s shaper with a short queue drops what
    // 100 Mbit/s of UDP brings beyond it.
    let netem = Command::new("ip")
        .args([
            "netns", "exec", &pair.a, "tc", "qdisc", "add", "dev", "va", "root", "netem", "loss",
            "5%",
        ])
        .status()
        .is_ok_and(|s| s.success());
    if !netem {
        eprintln!("note: no netem in this kernel: loss made by a tbf shaper instead");
        pair.in_ns(
            &pair.a.clone(),
            &[
                "tc", "qdisc", "add", "dev", "va", "root", "tbf", "rate", "20mbit", "burst",
                "32kb", "limit", "64kb",
            ],
        );
    }
    pair.peer("192.0.2.1", 1);
    let mut s = peer_settings();
    s.push(("udp_rate_mbps", "100"));
    let r = run_case(&pair, "network::udp_loss", "va", &s);
    let Verdict::Fail { measured, .. } = &r.verdict else {
        panic!("{}", r.text())
    };
    assert!(measured.contains("loss"), "{measured}");
    assert!(r.m("udp_loss").expect("loss") > 1.0, "{}", r.text());
    // The same link unshaped at a rate it carries passes.
    pair.in_ns(
        &pair.a.clone(),
        &["tc", "qdisc", "del", "dev", "va", "root"],
    );
    let mut s = peer_settings();
    s.push(("udp_rate_mbps", "20"));
    let r = run_case(&pair, "network::udp_loss", "va", &s);
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.text());
}

#[test]
fn latency_passes_and_a_shaped_delay_fails() {
    let _l = TRAFFIC.lock().unwrap_or_else(|e| e.into_inner());
    let Some(pair) = Pair::new() else { return };
    let mut s = peer_settings();
    s.push(("ping_count", "50"));
    s.push(("latency_p99_ms", "20"));
    let r = run_case(&pair, "network::latency", "va", &s);
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.text());
    assert!(r.m("rtt_p50").expect("p50") < 1.0);
    let mut strict = s.clone();
    strict.push(("latency_p50_ms", "0.000001"));
    let r = run_case(&pair, "network::latency", "va", &strict);
    assert!(matches!(r.verdict, Verdict::Fail { .. }), "{}", r.text());
}

#[test]
fn jumbo_fails_when_the_peer_end_is_at_1500() {
    let _l = TRAFFIC.lock().unwrap_or_else(|e| e.into_inner());
    let Some(pair) = Pair::new() else { return };
    pair.in_ns(&pair.a, &["ip", "link", "set", "va", "mtu", "9000"]);
    let mut s = peer_settings();
    s.push(("jumbo_mtu", "9000"));
    let r = run_case(&pair, "network::jumbo", "va", &s);
    let Verdict::Fail { measured, .. } = &r.verdict else {
        panic!("{}", r.text())
    };
    assert!(measured.contains("about"), "{measured}");
    let pmtu = r.m("path_mtu").expect("path mtu");
    assert!((1490.0..=1500.0).contains(&pmtu), "{pmtu}");
    // Both ends at 9000: passes.
    pair.in_ns(&pair.b, &["ip", "link", "set", "vb", "mtu", "9000"]);
    let r = run_case(&pair, "network::jumbo", "va", &s);
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.text());
    assert_eq!(r.m("path_mtu"), Some(9000.0));
}

#[test]
fn a_peer_that_is_down_or_short_of_listeners_fails() {
    let _l = TRAFFIC.lock().unwrap_or_else(|e| e.into_inner());
    let Some(mut pair) = Pair::new() else { return };
    let r = run_case(&pair, "network::throughput", "va", &peer_settings());
    let Verdict::Fail { expected, measured } = &r.verdict else {
        panic!("{}", r.text())
    };
    assert!(expected.contains("ready"), "{expected}");
    assert!(measured.contains("port 5201"), "{measured}");
    // One listener where the profile asks for two streams: fails, never passes.
    pair.peer("192.0.2.1", 1);
    let mut s = peer_settings();
    s.push(("streams", "2"));
    let r = run_case(&pair, "network::throughput", "va", &s);
    let Verdict::Fail { measured, .. } = &r.verdict else {
        panic!("{}", r.text())
    };
    assert!(
        measured.contains("port 5202") && !measured.contains("port 5201"),
        "{measured}"
    );
}

#[test]
fn the_peer_refuses_a_client_not_on_its_allow_list() {
    let _l = TRAFFIC.lock().unwrap_or_else(|e| e.into_inner());
    let Some(mut pair) = Pair::new() else { return };
    let log = pair.peer("198.51.100.9", 1);
    let r = run_case(&pair, "network::throughput", "va", &peer_settings());
    // Refused at the readiness check, or (if the few-byte check won the race with the kill)
    // cut off in the measurement: never a pass.
    assert_ne!(r.verdict, Verdict::Pass, "{}", r.text());
    assert!(
        why(&r).contains("not ready") || why(&r).contains("no figure"),
        "{}",
        r.text()
    );
    // Refused at once (iperf3's output line-buffered): not even the first direction measured.
    assert_eq!(r.m("throughput_send"), None, "{}", r.text());
    let plog = std::fs::read_to_string(log).expect("peer log");
    assert!(
        plog.contains("client 192.0.2.1") && plog.contains("REFUSED"),
        "{plog}"
    );
}

#[test]
fn a_peer_reached_through_another_interface_fails() {
    let _l = TRAFFIC.lock().unwrap_or_else(|e| e.into_inner());
    let Some(mut pair) = Pair::new() else { return };
    pair.second_link();
    pair.peer("192.0.2.1,198.51.100.1", 1);
    // The interface under test is vc, but 192.0.2.2 is on va's network.
    let r = run_case(&pair, "network::throughput", "vc", &peer_settings());
    let Verdict::Fail { expected, measured } = &r.verdict else {
        panic!("{}", r.text())
    };
    assert!(expected.contains("reached through vc"), "{expected}");
    assert!(measured.contains("through va"), "{measured}");
    assert!(
        !r.log.contains("$ iperf3"),
        "no traffic before the route is proven: {}",
        r.log
    );
}

/// A directory holding `ip` (and `ping`), and an `iperf3` that is `script` (none when `None`).
fn fake_path(script: Option<&str>) -> tempfile::TempDir {
    let d = tempfile::Builder::new()
        .prefix("hwcert-t-path")
        .tempdir_in("/dev/shm")
        .expect("dir");
    for t in ["ip", "ping"] {
        if let Some(p) = which(t) {
            std::os::unix::fs::symlink(p, d.path().join(t)).expect("link");
        }
    }
    if let Some(s) = script {
        use std::os::unix::fs::PermissionsExt;
        let p = d.path().join("iperf3");
        std::fs::write(&p, s).expect("script");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("mode");
    }
    d
}

fn with_path(pair: &Pair, dir: &Path) -> Ran {
    let mut c = case_command(pair, "network::throughput", "va", &peer_settings());
    c.env("PATH", dir);
    collect(c.output().expect("child"))
}

#[test]
fn iperf3_missing_garbage_or_killed_is_never_a_pass() {
    let _l = TRAFFIC.lock().unwrap_or_else(|e| e.into_inner());
    let Some(mut pair) = Pair::new() else { return };
    pair.peer("192.0.2.1", 1);
    let missing = fake_path(None);
    let r = with_path(&pair, missing.path());
    let Verdict::Error { reason } = &r.verdict else {
        panic!("{}", r.text())
    };
    assert!(reason.contains("iperf3 is not installed"), "{reason}");

    let garbage = fake_path(Some("#!/bin/sh\necho '{\"start\": garbage'\nexit 0\n"));
    let r = with_path(&pair, garbage.path());
    assert!(matches!(r.verdict, Verdict::Fail { .. }), "{}", r.text());
    assert!(why(&r).contains("no JSON report"), "{}", r.text());

    // The real iperf3, killed a second into the measurement (the readiness runs are shorter).
    let real = which("iperf3").expect("iperf3");
    let killer = format!(
        "#!/bin/sh\ncase \"$*\" in *' -t '*) {} \"$@\" & p=$!; sleep 0.5; kill -9 $p; wait $p; exit 137;; esac\nexec {} \"$@\"\n",
        real.display(),
        real.display()
    );
    let killed = fake_path(Some(&killer));
    let r = with_path(&pair, killed.path());
    let Verdict::Error { reason } = &r.verdict else {
        panic!("{}", r.text())
    };
    assert!(reason.contains("iperf3 gave no figure"), "{reason}");
    assert!(
        reason.contains("signal: 9") || reason.contains("137"),
        "{reason}"
    );
}

fn link_is_up(pair: &Pair) -> bool {
    let out = pair.in_ns(&pair.a, &["ip", "-o", "link", "show", "va"]);
    out.split(['<', '>'])
        .nth(1)
        .is_some_and(|f| f.split(',').any(|x| x == "UP"))
}

#[test]
fn link_flap_goes_down_and_up_and_carries_traffic() {
    let _l = TRAFFIC.lock().unwrap_or_else(|e| e.into_inner());
    let Some(mut pair) = Pair::new() else { return };
    pair.peer("192.0.2.1", 1);
    let mut s = peer_settings();
    s.extend([
        ("link_flap", "true"),
        ("flap_down_ms", "300"),
        ("threshold", "30"),
    ]);
    let r = run_case(&pair, "network::link_flap", "va", &s);
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.text());
    assert!(r.m("link_up_seconds").is_some());
    assert!(r.m("after_flap_send").expect("traffic after") > 3000.0);
    assert!(link_is_up(&pair));
}

#[test]
fn a_link_flap_killed_while_down_is_put_back_up() {
    let _l = TRAFFIC.lock().unwrap_or_else(|e| e.into_inner());
    let Some(mut pair) = Pair::new() else { return };
    pair.peer("192.0.2.1", 1);
    let mut s = peer_settings();
    s.extend([("link_flap", "true"), ("flap_down_ms", "20000")]);
    let mut c = case_command(&pair, "network::link_flap", "va", &s);
    // Its own process group, killed whole as the runner kills a worker at its time limit.
    std::os::unix::process::CommandExt::process_group(&mut c, 0);
    let mut child = c.spawn().expect("child");
    let t0 = Instant::now();
    while link_is_up(&pair) {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "the link never went down"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: the process group of the child this test started.
    unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
    let _ = child.wait();
    let t1 = Instant::now();
    while !link_is_up(&pair) {
        assert!(
            t1.elapsed() < Duration::from_secs(5),
            "the link stayed down after the kill"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
