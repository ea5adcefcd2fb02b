//! `hwcert run` isolation, with real processes and real signals: a timeout kills the whole
//! process group, grandchild included; panics, aborts, segfaults and running out of memory
//! are crashes with the signal and the log's tail, and the run goes on; leftovers are killed;
//! `kill -9` of the supervisor leaves no worker or grandchild behind.

use crate::support;

use std::time::Duration;

use support::*;

#[test]
fn timeout_kills_the_whole_group_and_the_run_goes_on() {
    let d = tempfile::tempdir().expect("tmp");
    let o = run_in(d.path(), "sleep=1,cmd_sleep=1,pass", &["selftest::"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let l = latest(d.path());

    let e = &l["selftest::sleep"];
    assert_eq!(e["status"], "timeout", "{e}");
    let r = reason_of(e);
    assert!(r.contains("time limit of 1 s"), "{r}");
    // It ignores SIGTERM: only SIGKILL ends it.
    assert!(r.contains("SIGKILL"), "{r}");
    let (pid, pgid) = grandchild(&log_of(d.path(), e)).expect("grandchild line in the log");
    assert!(group_gone(pgid), "process group {pgid} is gone");
    assert!(pid_gone(pid), "grandchild sleep {pid} is gone");
    let ms = e["duration_ms"].as_u64().expect("duration");
    assert!((1000..10_000).contains(&ms), "{ms}");

    // A command case's group ends on SIGTERM.
    let e = &l["selftest::cmd_sleep::st0"];
    assert_eq!(e["status"], "timeout", "{e}");
    assert!(reason_of(e).contains("SIGTERM"), "{e}");

    // The run went on.
    assert_eq!(l["selftest::pass"]["status"], "pass");
    let out = text(&o.stdout);
    assert!(out.contains("TIMEOUT"), "{out}");
}

#[test]
fn panic_abort_segv_and_oom_are_crashes_and_the_run_goes_on() {
    if !address_space_limits_work() {
        return;
    }
    let d = tempfile::tempdir().expect("tmp");
    let o = run_in(
        d.path(),
        "panic,pass,abort,segv,alloc,cmd_pass",
        &["selftest::"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let l = latest(d.path());
    let crash = |name: &str, want: &[&str], tail: &str| {
        let e = &l[name];
        assert_eq!(e["status"], "crash", "{name}: {e}");
        let r = reason_of(e);
        for w in want {
            assert!(r.contains(w), "{name}: reason {r:?} lacks {w:?}");
        }
        let t: Vec<&str> = e["log_tail"]
            .as_array()
            .expect("log_tail")
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        assert!(
            t.iter().any(|l| l.contains(tail)),
            "{name}: tail {t:?} lacks {tail:?}"
        );
    };
    crash(
        "selftest::panic",
        &[
            "panicked at",
            "selftest panic: the widget table is inconsistent",
        ],
        "about to panic",
    );
    crash("selftest::abort", &["signal 6 (SIGABRT)"], "about to abort");
    crash(
        "selftest::segv",
        &["the worker was killed by signal 11 (SIGSEGV), no core dump"],
        "about to write to address 8",
    );
    crash(
        "selftest::alloc",
        &["out of memory", "memory allocation of", "SIGABRT"],
        "holding",
    );
    // Every instance ran, in plan order, and those after each crash passed.
    assert_eq!(
        names(d.path()),
        [
            "selftest::panic",
            "selftest::pass",
            "selftest::abort",
            "selftest::segv",
            "selftest::alloc",
            "selftest::cmd_pass::st0"
        ]
    );
    assert_eq!(l["selftest::pass"]["status"], "pass");
    assert_eq!(l["selftest::cmd_pass::st0"]["status"], "pass");
    // libtest-mimic's view and the summary.
    let out = text(&o.stdout);
    assert!(out.contains("CRASH"), "{out}");
    assert!(out.contains("Failed blockers (4)"), "{out}");
    assert!(out.contains("Cases: 2 passed; 4 failed"), "{out}");
}

#[test]
fn leftover_processes_are_killed_and_noted() {
    let d = tempfile::tempdir().expect("tmp");
    let o = run_in(d.path(), "leak", &["--exact", "selftest::leak"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let e = &latest(d.path())["selftest::leak"];
    assert_eq!(e["status"], "pass");
    assert_eq!(e["leaked"], true, "{e}");
    let log = log_of(d.path(), e);
    let pid: i32 = log
        .lines()
        .find_map(|l| l.strip_prefix("left grandchild sleep pid "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .expect("pid in the log");
    assert!(pid_gone(pid), "leaked sleep {pid} was killed");
    assert!(log.contains("were still running after it ended"), "{log}");
}

#[test]
fn kill_9_of_the_supervisor_leaves_no_worker_or_grandchild() {
    if !become_subreaper() {
        return;
    }
    let d = tempfile::tempdir().expect("tmp");
    let (mut sup, group, gc) = start_with_sleep(d.path(), "pass,sleep=60");
    let pgid = group.0;
    assert!(!group_gone(pgid));
    // As root, the supervisor is the OOM killer's last choice; its workers are not.
    let adj = |pid: u32| {
        std::fs::read_to_string(format!("/proc/{pid}/oom_score_adj"))
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    // (Some sandboxes refuse the write even to root: then only the worker's side is checked.)
    if adj(sup.0.id()) == "-1000" {
        assert_eq!(adj(pgid as u32), "0");
    } else {
        eprintln!("note: this system refused oom_score_adj -1000 to the supervisor");
        assert!(adj(pgid as u32).parse::<i32>().is_ok_and(|v| v >= 0));
    }
    kill9(&mut sup.0);
    assert!(
        reap_until_gone(pgid, Duration::from_secs(5)),
        "the worker's process group {pgid} is still there 5 s after kill -9 of the supervisor"
    );
    assert!(pid_gone(gc), "grandchild {gc}");
    // What finished before the kill is in the journal.
    assert_eq!(status_of(d.path(), "selftest::pass"), "pass");
    assert_eq!(status_of(d.path(), "selftest::sleep"), "<none>");
}

#[test]
fn parallel_workers_with_test_threads() {
    let d = tempfile::tempdir().expect("tmp");
    let o = run_in(
        d.path(),
        "pass,fail,skip,cmd_pass,cmd_skip,segv",
        &["selftest::", "--test-threads", "3"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let mut n = names(d.path());
    n.sort();
    assert_eq!(n.len(), 6, "{n:?}");
    let l = latest(d.path());
    assert_eq!(l["selftest::segv"]["status"], "crash");
    assert_eq!(l["selftest::cmd_skip::st0"]["status"], "skip");
}

/// A finished run directory whose plan holds selftest::sleep, to start workers by hand.
fn run_dir_with_sleep() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tmp");
    let o = run_in(d.path(), "sleep=0.3", &["selftest::"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    d
}

fn wait_grandchild(log: &std::path::Path) -> (i32, i32) {
    let mut found = None;
    assert!(
        wait_for(Duration::from_secs(20), || {
            found = std::fs::read_to_string(log)
                .ok()
                .and_then(|l| grandchild(&l));
            found.is_some()
        }),
        "no grandchild in {}",
        log.display()
    );
    found.expect("found")
}

#[test]
fn lifeline_pipe_alone_kills_the_group_when_the_write_end_closes() {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::os::unix::process::CommandExt;
    if !become_subreaper() {
        return;
    }
    let d = run_dir_with_sleep();
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two fresh descriptors, owned below.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: fresh descriptors.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let rfd = r.as_raw_fd();
    let log = d.path().join("by-hand.log");
    let out = std::fs::File::create(&log).expect("log");
    let mut cmd = std::process::Command::new(hwcert());
    cmd.args(["__worker", "--instance", "selftest::sleep", "--watch-fd"])
        .arg(rfd.to_string())
        .arg("--run-dir")
        .arg(d.path())
        .stdout(out.try_clone().expect("dup"))
        .stderr(out)
        .process_group(0);
    // SAFETY: fcntl only, between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            libc::fcntl(rfd, libc::F_SETFD, 0);
            Ok(())
        });
    }
    let mut worker = cmd.spawn().expect("spawn worker");
    let _guard = GroupGuard(worker.id() as i32);
    drop(r);
    let (gc, pgid) = wait_grandchild(&log);
    assert_eq!(pgid, worker.id() as i32);
    std::thread::sleep(Duration::from_millis(200));
    assert!(!group_gone(pgid), "alive while the write end is open");
    drop(w);
    let _ = worker.wait();
    assert!(
        reap_until_gone(pgid, Duration::from_secs(5)),
        "group {pgid}"
    );
    assert!(pid_gone(gc));
}

#[test]
fn parent_death_signal_alone_kills_the_group() {
    use std::os::unix::process::CommandExt;
    if !become_subreaper() {
        return;
    }
    let d = run_dir_with_sleep();
    let log = d.path().join("by-hand.log");
    // sh (the worker's parent, its own process group) starts the worker without a lifeline
    // pipe and waits; the worker arms PR_SET_PDEATHSIG against sh.
    let mut sh = std::process::Command::new("sh")
        .arg("-c")
        .arg("\"$0\" __worker --run-dir \"$1\" --instance selftest::sleep --supervisor-pid $$ >\"$2\" 2>&1 & wait")
        .arg(hwcert())
        .arg(d.path())
        .arg(&log)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0)
        .spawn()
        .expect("spawn sh");
    let _sh_group = GroupGuard(sh.id() as i32);
    let (gc, pgid) = wait_grandchild(&log);
    let _worker_group = GroupGuard(pgid);
    assert_ne!(pgid, sh.id() as i32, "the worker leads its own group");
    std::thread::sleep(Duration::from_millis(200));
    assert!(!group_gone(pgid));
    kill9(&mut sh);
    assert!(
        reap_until_gone(pgid, Duration::from_secs(5)),
        "group {pgid}"
    );
    assert!(pid_gone(gc));
}

#[test]
fn a_vendor_command_killed_by_a_signal_is_a_crash_and_a_nonzero_exit_a_fail() {
    let d = tempfile::tempdir().expect("tmp");
    let o = run_in(d.path(), "cmd_segv,cmd_fail,pass", &["selftest::"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let l = latest(d.path());
    let e = &l["selftest::cmd_segv::st0"];
    assert_eq!(e["status"], "crash", "{e}");
    let r = reason_of(e);
    assert!(
        r.contains("'sh' was killed by signal 11 (SIGSEGV), no core dump"),
        "{r}"
    );
    assert!(e["expected"].is_null() && e["measured"].is_null(), "{e}");
    let log = log_of(d.path(), e);
    assert!(
        log.contains("about to crash") && !log.contains("still alive"),
        "{log}"
    );
    // The text output says crash too.
    assert!(text(&o.stdout).contains("crash"), "{}", show(&o));
    let e = &l["selftest::cmd_fail::st0"];
    assert_eq!(e["status"], "fail", "{e}");
    assert_eq!(e["measured"], "exit status 3");
    assert_eq!(status_of(d.path(), "selftest::pass"), "pass");
}

#[test]
fn a_daemon_that_left_the_group_with_setsid_is_killed_and_the_case_flagged_leaked() {
    if !subreapers_work() {
        return;
    }
    let d = tempfile::tempdir().expect("tmp");
    let o = run_in(d.path(), "cmd_daemon,pass", &["selftest::"]);
    let l = latest(d.path());
    let e = &l["selftest::cmd_daemon::st0"];
    let log = log_of(d.path(), e);
    let pid: i32 = log
        .lines()
        .find_map(|l| l.strip_prefix("daemon pid "))
        .and_then(|p| p.trim().parse().ok())
        .expect("the daemon's pid in the log");
    // Should the test fail, the daemon must not outlive it.
    struct Kill(i32);
    impl Drop for Kill {
        fn drop(&mut self) {
            // Only while that pid is still our daemon (not a reused pid).
            let cmd = std::fs::read(format!("/proc/{}/cmdline", self.0)).unwrap_or_default();
            if cmd == b"sleep\x001000\x00" {
                // SAFETY: a signal to the daemon this test's run started.
                unsafe { libc::kill(self.0, libc::SIGKILL) };
            }
        }
    }
    let _k = Kill(pid);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert_eq!(e["status"], "pass", "{e}");
    assert_eq!(e["leaked"], true, "{e}");
    assert!(
        log.contains(&format!("process {pid} left the case's process group")),
        "{log}"
    );
    assert!(
        wait_for(Duration::from_secs(5), || pid_gone(pid)),
        "the daemon {pid} is gone"
    );
    assert_eq!(l["selftest::pass"]["leaked"], serde_json::Value::Null);
}

#[test]
fn a_daemon_left_by_a_worker_that_timed_out_or_crashed_is_killed_by_the_supervisor() {
    if !subreapers_work() {
        return;
    }
    let d = tempfile::tempdir().expect("tmp");
    let o = run_in(d.path(), "daemon_hang=1,daemon_crash,pass", &["selftest::"]);
    let l = latest(d.path());
    // Each daemon leads a session and a process group of its own: `sh` and its `sleep`.
    struct KillGroups(Vec<i32>);
    impl Drop for KillGroups {
        fn drop(&mut self) {
            for &g in &self.0 {
                if !group_gone(g) {
                    // SAFETY: a signal to the process group of a daemon this test's run started.
                    unsafe { libc::kill(-g, libc::SIGKILL) };
                }
            }
        }
    }
    let mut guard = KillGroups(Vec::new());
    let mut daemons = Vec::new();
    for (name, status, how) in [
        (
            "selftest::daemon_hang",
            "timeout",
            "exceeded its time limit",
        ),
        ("selftest::daemon_crash", "crash", "SIGSEGV"),
    ] {
        let e = &l[name];
        let log = log_of(d.path(), e);
        let pid: i32 = log
            .lines()
            .find_map(|l| l.strip_prefix("daemon pid "))
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name}: the daemon's pid in the log: {log}"));
        guard.0.push(pid);
        daemons.push((name, pid));
        assert_eq!(e["status"], status, "{e}");
        assert!(reason_of(e).contains(how), "{e}");
        assert_eq!(e["leaked"], true, "{name}: {e}");
        assert!(
            log.contains(&format!(
                "process {pid} left the process group of {name} and outlived its worker"
            )),
            "{log}"
        );
    }
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    for (name, pid) in daemons {
        assert!(
            wait_for(Duration::from_secs(2), || group_gone(pid)),
            "{name}: the daemon {pid} and its sleep are gone"
        );
    }
    assert_eq!(l["selftest::pass"]["status"], "pass");
    assert_eq!(l["selftest::pass"]["leaked"], serde_json::Value::Null);
}
