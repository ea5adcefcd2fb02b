//! The log cap: a case printing 100 MiB leaves a log of the profile's `log_cap` (its first
//! and last halves, and a line with the exact count of what was dropped between them), the
//! journal and the report say how much was dropped, and neither the supervisor nor the worker
//! held the output in memory.

use crate::support;

use std::path::Path;
use std::process::Stdio;

use support::*;

const MIB: u64 = 1 << 20;
const FLOOD: &str = "selftest::cmd_flood::st0";

/// A profile of the self-tests alone with `log_cap = "1MiB"`.
fn capped_profile(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("capped.toml");
    std::fs::write(
        &p,
        format!(
            "name = \"capped\"\nextends = \"{}\"\nlog_cap = \"1MiB\"\n",
            selftest_profile().display()
        ),
    )
    .expect("write the profile");
    p
}

/// Run `hwcert run` to its end: its status, its own peak resident set (KiB, see
/// [`measured`]) and its output.
fn run_measured(dir: &Path, profile: &Path, selftests: &str) -> (i32, u64, String) {
    let c = command(
        selftests,
        &[
            "--profile",
            profile.to_str().expect("utf-8"),
            "--out",
            dir.join("run").to_str().expect("utf-8"),
            "selftest::",
        ],
    );
    measured(dir, c)
}

/// Run a command to its end: its exit status, its own peak resident set (KiB: the last VmHWM
/// read from /proc/PID/status, every 2 ms while it runs the command) and its output. Not wait4's
/// ru_maxrss: Linux counts into a child's the memory it had before exec, the test process's
/// (shared through vfork, copied by fork); under qemu-user that is the emulated test binary's,
/// 65 to 260 MiB depending on how many tests ran before it.
fn measured(dir: &Path, mut c: std::process::Command) -> (i32, u64, String) {
    let out = std::fs::File::create(dir.join("cmd.out")).expect("out");
    c.stdout(out.try_clone().expect("dup"))
        .stderr(Stdio::from(out));
    // Samples count once the child runs the command: until its exec, a forked child (qemu-user
    // makes std's vfork a fork) holds a copy of the test process's memory.
    let mut args = Vec::new();
    for a in c.get_args() {
        args.extend_from_slice(a.as_encoded_bytes());
        args.push(0);
    }
    let mut child = c.spawn().expect("spawn hwcert");
    let cmdline = format!("/proc/{}/cmdline", child.id());
    let mut peak = 0;
    let status = loop {
        if std::fs::read(&cmdline).is_ok_and(|l| l.ends_with(&args)) {
            if let Some(kib) = vm_hwm_kib(child.id()) {
                peak = peak.max(kib);
            }
        }
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    };
    let text = std::fs::read_to_string(dir.join("cmd.out")).unwrap_or_default();
    (status.code().unwrap_or(-1), peak, text)
}

/// The bound on a peak resident set that a small input takes `baseline_kib`, on a huge one:
/// 32 MiB more (100 MiB held anywhere would show). Natively also `native_kib` in all; under
/// qemu-user not that one: there the process holds the emulator too (its code, its
/// translation cache in 2 MiB huge pages and the guest binary's pages, some 30-45 MiB).
fn assert_bounded(what: &str, peak_kib: u64, baseline_kib: u64, native_kib: u64) {
    // (A short run may end before the first sample: its 0 only makes the bound stricter.)
    assert!(
        peak_kib > 0,
        "{what}: no peak resident set read while it ran"
    );
    assert!(
        peak_kib < baseline_kib + 32 * 1024,
        "{what}: peak resident set {peak_kib} KiB, {baseline_kib} KiB on a small input"
    );
    match emulated() {
        None => assert!(
            peak_kib < native_kib,
            "{what}: peak resident set {peak_kib} KiB"
        ),
        Some(why) => eprintln!(
            "skipped: the {} MiB bound on {what} ({peak_kib} KiB): {why}, whose own memory \
             the process holds ({baseline_kib} KiB on a small input); its growth is bounded",
            native_kib / 1024
        ),
    }
}

#[test]
fn the_report_copies_and_hashes_a_huge_log_without_holding_it_in_memory() {
    // A run directory from before the log cap: a log of 100 MiB.
    let t = tempfile::tempdir().expect("tmp");
    let run = t.path().join("run");
    let o = run_in(&run, "cmd_pass", &["selftest::"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let e = &latest(&run)["selftest::cmd_pass::st0"];
    let log = run.join(e["log"].as_str().expect("log"));
    let report_of = |out: &str| {
        let mut c = std::process::Command::new(hwcert());
        c.env("XDG_CONFIG_HOME", t.path().join("config"))
            .arg("report")
            .arg(&run)
            .arg("-o")
            .arg(t.path().join(out));
        c
    };
    let (code, small_kib, out) = measured(t.path(), report_of("report-small"));
    assert_eq!(code, 0, "{out}");
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&log)
            .expect("open the log");
        let chunk = vec![b'y'; MIB as usize];
        for _ in 0..100 {
            f.write_all(&chunk).expect("grow the log");
        }
    }
    let size = std::fs::metadata(&log).expect("log").len();
    let report = t.path().join("report");
    let (code, peak_kib, out) = measured(t.path(), report_of("report"));
    assert_eq!(code, 0, "{out}");
    let copy = report.join(e["log"].as_str().expect("log"));
    assert_eq!(std::fs::metadata(&copy).expect("copy").len(), size);
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report.join("report.json")).expect("report.json"))
            .expect("json");
    let entry = r["logs"]
        .as_array()
        .expect("logs")
        .iter()
        .find(|l| l["path"] == e["log"])
        .expect("the log in report.json");
    assert_eq!(entry["size"], size);
    let f = std::fs::File::open(&copy).expect("open the copy");
    assert_eq!(
        entry["sha256"],
        hwsys::hash::sha256_hex_of(f).expect("hash the copy")
    );
    eprintln!(
        "hwcert report of a {size}-byte log: peak RSS {peak_kib} KiB ({small_kib} KiB of a \
         short one)"
    );
    assert_bounded("hwcert report", peak_kib, small_kib, 64 * 1024);
}

#[test]
fn a_case_printing_100_mib_keeps_the_head_the_tail_and_the_exact_count_in_bounded_memory() {
    let t = tempfile::tempdir().expect("tmp");
    let profile = capped_profile(t.path());
    let small = t.path().join("small");
    std::fs::create_dir(&small).expect("mkdir");
    let (code, small_kib, out) = run_measured(&small, &profile, "cmd_pass");
    assert_eq!(code, 0, "{out}");
    let (code, peak_kib, out) = run_measured(t.path(), &profile, "cmd_flood=600");
    assert_eq!(code, 0, "{out}");
    let run = t.path().join("run");
    let plan: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("plan.json")).expect("plan")).expect("json");
    assert_eq!(
        plan["log_cap_bytes"], MIB,
        "the plan carries the profile's cap"
    );

    let e = &latest(&run)[FLOOD];
    assert_eq!(e["status"], "pass", "{e}");
    let log = std::fs::read(run.join(e["log"].as_str().expect("log"))).expect("read the log");

    // The header line, then the first half MiB of the real output.
    let nl = log.iter().position(|&b| b == b'\n').expect("a header line");
    assert!(
        log.starts_with(format!("=== hwcert: {FLOOD} started ").as_bytes()),
        "{}",
        String::from_utf8_lossy(&log[..nl])
    );
    let body = &log[nl + 1..];
    let half = (MIB / 2) as usize;
    let begin = b"BEGIN-OF-OUTPUT\n";
    assert_eq!(&body[..begin.len()], begin);
    assert!(body[begin.len()..half].iter().all(|&b| b == b'x'));

    // The note: on a line of its own, with the exact count.
    let rest = &body[half..];
    let note_end = rest[1..]
        .iter()
        .position(|&b| b == b'\n')
        .expect("the note")
        + 2;
    let note = String::from_utf8_lossy(&rest[..note_end]).into_owned();
    let tail = &rest[note_end..];
    assert_eq!(tail.len(), half, "the last half MiB is kept: {note}");

    // The tail is the real end of the output: x…x, the end marker, the worker's VmHWM.
    let end = b"\nEND-OF-OUTPUT\n";
    let at = tail
        .windows(end.len())
        .position(|w| w == end)
        .expect("the end marker in the tail");
    assert!(tail[..at].iter().all(|&b| b == b'x'));
    let hwm_line = &tail[at + end.len()..];
    let hwm = String::from_utf8_lossy(hwm_line).into_owned();
    assert!(
        hwm.starts_with("VmHWM:") && hwm.ends_with(" kB\n"),
        "{hwm:?}"
    );
    let worker_hwm_kib: u64 = hwm
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .expect("VmHWM in kB");

    let total = begin.len() as u64 + 100 * MIB + end.len() as u64 + hwm_line.len() as u64;
    let dropped = total - MIB;
    assert_eq!(
        note,
        format!(
            "\n=== hwcert: log cap 1 MiB: {dropped} bytes of output dropped here (the first \
             524288 and the last 524288 of {total} bytes are kept) ===\n"
        )
    );
    assert_eq!(e["log_dropped_bytes"], dropped, "{e}");
    assert!(log.len() as u64 <= nl as u64 + 1 + MIB + note.len() as u64);

    eprintln!(
        "log cap: {} bytes of output, {dropped} dropped; log {} bytes; worker VmHWM {worker_hwm_kib} KiB; \
         supervisor peak RSS {peak_kib} KiB ({small_kib} KiB on a short run)",
        total,
        log.len()
    );
    // Memory: the worker copied the output through a 64 KiB buffer; the supervisor held at
    // most half the cap. 100 MiB read into memory anywhere would show here. (The worker's
    // baseline is the supervisor's of a short run: the same program under the same emulator.)
    assert_bounded("the worker", worker_hwm_kib, small_kib, 48 * 1024);
    assert_bounded("hwcert run", peak_kib, small_kib, 64 * 1024);

    // The report copies the capped log and says it was truncated.
    let report = t.path().join("report");
    let o = std::process::Command::new(hwcert())
        .env("XDG_CONFIG_HOME", t.path().join("config"))
        .arg("report")
        .arg(&run)
        .arg("-o")
        .arg(&report)
        .output()
        .expect("hwcert report");
    assert!(o.status.success(), "{}", show(&o));
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report.join("report.json")).expect("report.json"))
            .expect("json");
    let res = r["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|x| x["name"] == FLOOD)
        .expect("the flood's result");
    assert_eq!(res["log_dropped_bytes"], dropped, "{res}");
    let copied = std::fs::read(report.join(e["log"].as_str().expect("log"))).expect("copy");
    assert_eq!(copied, log, "the report holds the capped log");
    let html = std::fs::read_to_string(report.join("report.html")).expect("html");
    assert!(
        html.contains(&format!(
            "({dropped} bytes) of output from the middle of the log"
        )),
        "the page says the log was truncated"
    );
}

#[test]
fn the_default_cap_is_4_mib_and_a_short_log_is_whole() {
    let d = tempfile::tempdir().expect("tmp");
    let o = run_in(d.path(), "cmd_pass", &["selftest::"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let plan: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.path().join("plan.json")).expect("plan"))
            .expect("json");
    assert_eq!(plan["log_cap_bytes"], 4 * MIB);
    let e = &latest(d.path())["selftest::cmd_pass::st0"];
    assert!(e.get("log_dropped_bytes").is_none(), "{e}");
    let log = log_of(d.path(), e);
    assert!(log.contains("HWCERT_TARGET=st0"), "{log}");
    assert!(!log.contains("dropped"), "{log}");
}
