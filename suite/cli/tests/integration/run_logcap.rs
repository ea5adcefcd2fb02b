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

/// Run `hwcert run` and wait for it with wait4: its status and the peak resident set (KiB) of
/// it and every process below it that was waited for (the worker, the shell, head and tr).
fn run_measured(dir: &Path, profile: &Path, selftests: &str) -> (i32, i64, String) {
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

/// Run a command and wait for it with wait4: its exit status, the peak resident set (KiB) of
/// it and of what it waited for, and its output.
fn measured(dir: &Path, mut c: std::process::Command) -> (i32, i64, String) {
    let out = std::fs::File::create(dir.join("cmd.out")).expect("out");
    c.stdout(out.try_clone().expect("dup"))
        .stderr(Stdio::from(out));
    let child = c.spawn().expect("spawn hwcert");
    let pid = child.id() as i32;
    let mut status = 0;
    // SAFETY: zeroed rusage is a valid value for wait4 to fill.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waiting for our own child (std's Child never waits for it: it is forgotten).
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    std::mem::forget(child);
    assert_eq!(r, pid, "wait4");
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    let text = std::fs::read_to_string(dir.join("cmd.out")).unwrap_or_default();
    (code, ru.ru_maxrss, text)
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
    let mut c = std::process::Command::new(hwcert());
    c.env("XDG_CONFIG_HOME", t.path().join("config"))
        .arg("report")
        .arg(&run)
        .arg("-o")
        .arg(&report);
    let (code, maxrss_kib, out) = measured(t.path(), c);
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
    eprintln!("hwcert report of a {size}-byte log: max RSS {maxrss_kib} KiB");
    assert!(
        maxrss_kib < 64 * 1024,
        "the peak resident set of hwcert report: {maxrss_kib} KiB"
    );
}

#[test]
fn a_case_printing_100_mib_keeps_the_head_the_tail_and_the_exact_count_in_bounded_memory() {
    let t = tempfile::tempdir().expect("tmp");
    let profile = capped_profile(t.path());
    let (code, maxrss_kib, out) = run_measured(t.path(), &profile, "cmd_flood=600");
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
         run tree max RSS {maxrss_kib} KiB",
        total,
        log.len()
    );
    // Memory: the worker copied the output through a 64 KiB buffer; the supervisor held at
    // most half the cap. 100 MiB read into memory anywhere would show here.
    assert!(
        worker_hwm_kib < 48 * 1024,
        "the worker's peak resident set: {worker_hwm_kib} KiB"
    );
    assert!(
        maxrss_kib < 64 * 1024,
        "the peak resident set of hwcert run and its processes: {maxrss_kib} KiB"
    );

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
