//! Helpers for the `hwcert run` tests: run the binary with self-tests planned, read the
//! journal, watch and reap process groups.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub fn hwcert() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_hwcert"))
}

/// The profile that plans no built-in case, only the self-tests.
pub fn selftest_profile() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/selftest-only.toml")
}

/// `hwcert run --out DIR ARGS…` with `HWCERT_SELFTEST=selftests` (a fresh run when `out` is
/// given), planning only the self-tests unless ARGS name a profile or a resume.
pub fn command(selftests: &str, args: &[&str]) -> Command {
    let mut c = Command::new(hwcert());
    c.arg("run");
    if !args.iter().any(|a| *a == "--profile" || *a == "--resume") {
        c.arg("--profile").arg(selftest_profile());
    }
    c.args(args)
        .env("HWCERT_SELFTEST", selftests)
        .env_remove("HWCERT_SELFTEST_SLEEP")
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null());
    c
}

pub fn run_in(dir: &Path, selftests: &str, args: &[&str]) -> Output {
    let mut a = vec!["--out", dir.to_str().expect("utf-8 path")];
    a.extend_from_slice(args);
    command(selftests, &a).output().expect("run hwcert")
}

pub fn resume(dir: &Path, env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(hwcert());
    c.arg("run")
        .arg("--resume")
        .arg(dir)
        .env_remove("HWCERT_SELFTEST")
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run hwcert --resume")
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

pub fn show(o: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status,
        text(&o.stdout),
        text(&o.stderr)
    )
}

/// Every journal line, parsed (a line that does not parse fails the test).
pub fn journal(dir: &Path) -> Vec<Value> {
    let t = std::fs::read_to_string(dir.join("journal.jsonl")).unwrap_or_default();
    assert!(
        t.is_empty() || t.ends_with('\n'),
        "journal ends with a newline"
    );
    t.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("journal line {l}: {e}")))
        .collect()
}

/// The last journal entry of each instance.
pub fn latest(dir: &Path) -> HashMap<String, Value> {
    let mut m = HashMap::new();
    for e in journal(dir) {
        m.insert(e["name"].as_str().expect("name").to_string(), e);
    }
    m
}

pub fn names(dir: &Path) -> Vec<String> {
    journal(dir)
        .iter()
        .map(|e| e["name"].as_str().expect("name").to_string())
        .collect()
}

pub fn status_of(dir: &Path, name: &str) -> String {
    latest(dir)
        .get(name)
        .and_then(|e| e["status"].as_str())
        .unwrap_or("<none>")
        .to_string()
}

pub fn reason_of(e: &Value) -> String {
    e["reason"].as_str().unwrap_or("").to_string()
}

pub fn log_of(dir: &Path, e: &Value) -> String {
    std::fs::read_to_string(dir.join(e["log"].as_str().expect("log path"))).unwrap_or_default()
}

/// Poll `f` until it holds or `d` passes.
pub fn wait_for(d: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + d;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Make this test process the reaper of orphans below it (as PID 1 would be), so that dead
/// processes of a killed supervisor's tree are reaped here and vanish.
/// False (and says why, as a skip) where the system cannot: qemu-user 7.2 does not pass
/// PR_SET_CHILD_SUBREAPER on (EINVAL); Linux has had it since 3.4.
#[must_use]
pub fn become_subreaper() -> bool {
    // SAFETY: prctl on this process.
    let r = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    let e = std::io::Error::last_os_error();
    if r != 0 && e.raw_os_error() == Some(libc::EINVAL) {
        eprintln!("skipped: PR_SET_CHILD_SUBREAPER: {e} (qemu-user does not pass it on)");
        return false;
    }
    assert_eq!(r, 0, "PR_SET_CHILD_SUBREAPER: {e}");
    true
}

/// Whether hwcert's own processes can be child subreapers here (read-only probe: qemu-user
/// answers PR_GET_CHILD_SUBREAPER with EINVAL too). False says why, as a skip.
#[must_use]
pub fn subreapers_work() -> bool {
    let mut v: libc::c_int = 0;
    // SAFETY: prctl writes one int to `v`.
    let r = unsafe {
        libc::prctl(
            libc::PR_GET_CHILD_SUBREAPER,
            &mut v as *mut libc::c_int,
            0,
            0,
            0,
        )
    };
    if r != 0 {
        eprintln!(
            "skipped: PR_GET_CHILD_SUBREAPER: {} (qemu-user does not pass subreapers on)",
            std::io::Error::last_os_error()
        );
    }
    r == 0
}

/// Whether RLIMIT_AS is applied here (qemu-user accepts and ignores it), probed in a forked
/// child that sets a 1 TiB limit and reads it back. False says why, as a skip.
#[must_use]
pub fn address_space_limits_work() -> bool {
    // SAFETY: the child only calls async-signal-safe functions, then _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
    if pid == 0 {
        let want = 1u64 << 40;
        let set = libc::rlimit {
            rlim_cur: want,
            rlim_max: libc::RLIM_INFINITY,
        };
        let mut got = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: plain getrlimit/setrlimit on valid structs, then _exit.
        unsafe {
            let ok = libc::setrlimit(libc::RLIMIT_AS, &set) == 0
                && libc::getrlimit(libc::RLIMIT_AS, &mut got) == 0
                && got.rlim_cur == want;
            libc::_exit(if ok { 0 } else { 1 });
        }
    }
    let mut status = 0;
    // SAFETY: waits for the child forked above.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    if !ok {
        eprintln!("skipped: RLIMIT_AS is not applied here (qemu-user ignores it)");
    }
    ok
}

/// kill(-pgid, 0) fails with ESRCH: no process of the group is left (zombies included).
pub fn group_gone(pgid: i32) -> bool {
    // SAFETY: signal 0 only checks.
    let r = unsafe { libc::kill(-pgid, 0) };
    r == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}

pub fn pid_gone(pid: i32) -> bool {
    // SAFETY: signal 0 only checks.
    let r = unsafe { libc::kill(pid, 0) };
    r == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}

/// Reap what of the group is our child (after `become_subreaper`), until it is gone.
pub fn reap_until_gone(pgid: i32, d: Duration) -> bool {
    wait_for(d, || {
        loop {
            let mut st = 0;
            // SAFETY: waitpid on children of this group.
            if unsafe { libc::waitpid(-pgid, &mut st, libc::WNOHANG) } <= 0 {
                break;
            }
        }
        group_gone(pgid)
    })
}

/// The running entry of `name` in state.json: its worker's process group, once spawned.
pub fn running_pgid(dir: &Path, name: &str) -> Option<i32> {
    let s: Value = serde_json::from_slice(&std::fs::read(dir.join("state.json")).ok()?).ok()?;
    s["running"]
        .as_array()?
        .iter()
        .find(|r| r["name"] == name)
        .and_then(|r| r["pgid"].as_i64())
        .map(|p| p as i32)
}

/// `grandchild sleep N pid P in process group G` from selftest::sleep's log.
pub fn grandchild(log: &str) -> Option<(i32, i32)> {
    let l = log
        .lines()
        .rev()
        .find(|l| l.starts_with("grandchild sleep"))?;
    let w: Vec<&str> = l.split_whitespace().collect();
    let pid = w.get(4)?.parse().ok()?;
    let pgid = w.get(8)?.parse().ok()?;
    Some((pid, pgid))
}

/// Kills a process group this test started when dropped (also when the test fails), so no
/// process outlives the test.
pub struct GroupGuard(pub i32);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        // SAFETY: a signal to a process group this test created.
        unsafe { libc::kill(-self.0, libc::SIGKILL) };
    }
}

/// A background supervisor, killed when dropped.
pub struct Supervisor(pub std::process::Child);

impl Drop for Supervisor {
    fn drop(&mut self) {
        kill9(&mut self.0);
    }
}

/// Start `hwcert run` in the background with a selftest::sleep that outlives the test's
/// patience, and wait until its grandchild runs. Returns the supervisor, the worker's process
/// group and the grandchild's pid.
pub fn start_with_sleep(dir: &Path, selftests: &str) -> (Supervisor, GroupGuard, i32) {
    let sup = command(
        selftests,
        &["--out", dir.to_str().expect("utf-8"), "selftest::"],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .expect("spawn hwcert run");
    let sup = Supervisor(sup);
    let log = dir.join("logs/selftest::sleep.log");
    let mut found = None;
    let ok = wait_for(Duration::from_secs(30), || {
        let pg = running_pgid(dir, "selftest::sleep");
        let gc = std::fs::read_to_string(&log)
            .ok()
            .and_then(|l| grandchild(&l));
        if let (Some(pg), Some((pid, gpg))) = (pg, gc) {
            assert_eq!(pg, gpg, "the grandchild is in the worker's group");
            found = Some((pg, pid));
            return true;
        }
        false
    });
    assert!(ok, "selftest::sleep did not start in 30 s");
    let (pg, pid) = found.expect("found");
    (sup, GroupGuard(pg), pid)
}

/// SIGKILL a process we started.
pub fn kill9(child: &mut std::process::Child) {
    // SAFETY: a signal to our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let _ = child.wait();
}

/// Run `c` to its end, or kill it after `d` and fail the test (a hang is a defect, not a
/// test that never ends).
pub fn output_within(c: &mut Command, d: Duration) -> Output {
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hwcert");
    let exited = wait_for(d, || matches!(child.try_wait(), Ok(Some(_))));
    if !exited {
        kill9(&mut child);
        panic!("{c:?} did not end within {d:?}");
    }
    child.wait_with_output().expect("collect the output")
}

/// `Some(why)` when this test binary runs under a user-mode emulator (qemu-user): the kernel's
/// own architecture (/proc/sys/kernel/arch, which qemu-user does not rewrite, unlike uname)
/// is not the one the binary was built for.
pub fn emulated() -> Option<String> {
    let kernel = std::fs::read_to_string("/proc/sys/kernel/arch").ok()?;
    let kernel = kernel.trim();
    (kernel != std::env::consts::ARCH).then(|| {
        format!(
            "this {} test binary runs emulated on a {kernel} kernel (qemu-user)",
            std::env::consts::ARCH
        )
    })
}

/// Whether overwriting a string of this process's environment block (the one it got at exec)
/// shows in its /proc/self/environ, as it does on Linux: that is how hwcert hides a secret
/// from other processes of the user (`hwsys::env::take`). qemu-user shows there the block the
/// kernel gave the qemu process itself, which the emulated program never sees nor can write
/// (it gets its own copy in guest memory). False says so, as a skip.
#[must_use]
pub fn environ_overwrites_show() -> bool {
    // SAFETY: the child only uses its own copy of the memory and the async-signal-safe
    // open/read/close/_exit; environ is read after fork, where no other thread runs.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
    if pid == 0 {
        extern "C" {
            static mut environ: *mut *mut libc::c_char;
        }
        fn sum() -> u64 {
            let mut buf = [0u8; 4096];
            let mut h: u64 = 0;
            // SAFETY: reading a proc file into a stack buffer.
            unsafe {
                let fd = libc::open(c"/proc/self/environ".as_ptr(), libc::O_RDONLY);
                if fd < 0 {
                    libc::_exit(2);
                }
                loop {
                    let n = libc::read(fd, buf.as_mut_ptr().cast(), buf.len());
                    if n <= 0 {
                        break;
                    }
                    for &b in &buf[..n as usize] {
                        h = h.wrapping_mul(1_000_003).wrapping_add(u64::from(b) + 1);
                    }
                }
                libc::close(fd);
            }
            h
        }
        let before = sum();
        // SAFETY: environ is a null-terminated array of C strings; the child writes its own
        // copy of each (the first byte of every string, some of which the kernel put there).
        unsafe {
            let mut p = environ;
            while !p.is_null() && !(*p).is_null() {
                if **p != 0 {
                    **p = b'#' as libc::c_char;
                }
                p = p.add(1);
            }
            libc::_exit(if sum() != before { 0 } else { 1 });
        }
    }
    let mut status = 0;
    // SAFETY: waits for the child forked above.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    if !ok {
        eprintln!(
            "skipped: the check of the supervisor's /proc/PID/environ: overwriting this \
             process's environment strings does not change its /proc/self/environ ({}): \
             qemu-user shows the environment the host kernel gave the qemu process, which \
             the emulated program cannot reach; the workers' and cases' environments are \
             still checked",
            emulated()
                .unwrap_or_else(|| "not emulated, as far as /proc/sys/kernel/arch says".into())
        );
    }
    ok
}

/// The peak resident set (VmHWM, KiB) of a running process's own memory, `None` once it has
/// exited. Unlike wait4's ru_maxrss, it leaves out the memory the process had before its
/// exec: the test process's, which a spawned child shares (vfork) or copies (fork) until it
/// execs, and which Linux counts into the child's ru_maxrss.
pub fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let l = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    l["VmHWM:".len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}
