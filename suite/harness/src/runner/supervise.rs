//! Running one instance in a worker process: spawn it as the leader of a new process group,
//! wait with a deadline, kill the whole group at the timeout (SIGTERM, a grace period,
//! SIGKILL), kill whatever the instance left behind (a leak), and tell what happened from the
//! result file, the panic file and the exit status.

use std::collections::BTreeSet;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use cases::{Measurement, Outcome, Status, Verdict};

use super::logcap::{self, LogPump};
use super::rundir;
use super::signals::killed_by;

/// The pipe that ties every worker's life to the supervisor's: workers inherit the read end;
/// only this process holds the write end (close-on-exec), so when it dies, however it dies,
/// the workers read end-of-file and kill their process groups.
pub struct Lifeline {
    read: OwnedFd,
    _write: OwnedFd,
}

impl Lifeline {
    pub fn new() -> io::Result<Lifeline> {
        let (read, write) = logcap::pipe()?;
        Ok(Lifeline {
            read,
            _write: write,
        })
    }
    pub fn read_fd(&self) -> RawFd {
        self.read.as_raw_fd()
    }
}

/// What to run.
pub struct WorkerSpec<'a> {
    pub exe: &'a Path,
    pub dir: &'a Path,
    pub instance: &'a str,
    pub timeout: Duration,
    pub lifeline: RawFd,
    /// The most output of this attempt its log keeps (the plan's `log_cap_bytes`).
    pub log_cap: u64,
}

/// How the worker ended, from the supervisor's side.
#[derive(Debug, Clone)]
pub struct Finished {
    pub status: Status,
    pub verdict: Option<Verdict>,
    pub reason: Option<String>,
    pub measurements: Vec<Measurement>,
    pub log_tail: Vec<String>,
    pub leaked: bool,
    /// Bytes of output the log cap dropped.
    pub log_dropped: Option<u64>,
    pub started: SystemTime,
    pub duration: Duration,
    /// The case asks for the machine to be taken down.
    pub disrupt: Option<documents::outcome::Disruption>,
}

/// The grace between SIGTERM and SIGKILL at a timeout: a tenth of the time limit, within
/// 0.5–5 s.
pub fn kill_grace(timeout: Duration) -> Duration {
    (timeout / 10).clamp(Duration::from_millis(500), Duration::from_secs(5))
}

/// How long leftover processes may take to exit on their own after the worker did.
const LEAK_TIMEOUT: Duration = Duration::from_millis(200);

/// How long the log pump may still copy output once the worker's process group is gone (a
/// writer that is not in the group keeps the pipe open at most this long).
const PUMP_GRACE: Duration = Duration::from_secs(2);

fn kill_group(pgid: i32, sig: i32) {
    // SAFETY: a signal to a process group we created.
    unsafe { libc::kill(-pgid, sig) };
}

/// Whether no process of the group is left (zombies included).
pub fn group_gone(pgid: i32) -> bool {
    // SAFETY: signal 0 only checks existence.
    let r = unsafe { libc::kill(-pgid, 0) };
    r == -1 && io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}

/// Whether a live (not zombie) process is left in the group, from /proc: for a group whose
/// zombies are not ours to reap (a previous supervisor's).
pub fn group_has_live_members(pgid: i32) -> bool {
    let Ok(rd) = fs::read_dir("/proc") else {
        return !group_gone(pgid);
    };
    rd.flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| fs::read_to_string(e.path().join("stat")).ok())
        .any(|stat| {
            // pid (comm) state ppid pgrp …; comm may hold spaces and parentheses.
            let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
                return false;
            };
            let mut f = rest.split_whitespace();
            let state = f.next();
            let pgrp = f.nth(1).and_then(|p| p.parse::<i32>().ok());
            pgrp == Some(pgid) && !matches!(state, Some("Z") | Some("X"))
        })
}

/// The processes whose parent is `ppid`, from /proc: (pid, process group, zombie).
pub fn children_of(ppid: i32) -> Vec<(i32, i32, bool)> {
    let Ok(rd) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    rd.flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()))
        .filter_map(|pid| {
            let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // pid (comm) state ppid pgrp …; comm may hold spaces and parentheses.
            let rest = &stat[stat.rfind(')')? + 1..];
            let mut f = rest.split_whitespace();
            let state = f.next()?;
            let parent = f.next()?.parse::<i32>().ok()?;
            let pgrp = f.next()?.parse::<i32>().ok()?;
            (parent == ppid).then_some((pid, pgrp, matches!(state, "Z" | "X")))
        })
        .collect()
}

/// SIGKILL these children of ours (by pid) and reap them, waiting at most 5 s for them all (a
/// process stuck in the kernel is left, a zombie for later).
pub fn kill_and_reap(pids: &[i32]) {
    for &pid in pids {
        // SAFETY: a signal to a process that is our child.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    let end = Instant::now() + Duration::from_secs(5);
    let mut left: Vec<i32> = pids.to_vec();
    while !left.is_empty() {
        left.retain(|&pid| {
            let mut st = 0;
            // SAFETY: waitpid on our own child.
            let r = unsafe { libc::waitpid(pid, &mut st, libc::WNOHANG) };
            r == 0
        });
        if left.is_empty() || Instant::now() >= end {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Kill (by pid) and reap the children of this process that `take(pid, process group)` picks,
/// then theirs, which come to this process as their subreaper, one generation a round (at most
/// 100), until none is picked. The pids killed that were running (not zombies).
pub fn kill_orphans(take: impl Fn(i32, i32) -> bool) -> Vec<i32> {
    let me = std::process::id() as i32;
    let mut killed = Vec::new();
    for _ in 0..100 {
        let picked: Vec<(i32, i32, bool)> = children_of(me)
            .into_iter()
            .filter(|&(pid, pgrp, _)| take(pid, pgrp))
            .collect();
        if picked.is_empty() {
            break;
        }
        killed.extend(picked.iter().filter(|c| !c.2).map(|c| c.0));
        kill_and_reap(&picked.iter().map(|c| c.0).collect::<Vec<_>>());
    }
    killed
}

/// The workers this supervisor runs now, by pid (= process group). Every other child of the
/// supervisor is an orphan a dead worker left behind: the supervisor is the subreaper of what
/// a worker started once the worker is gone.
static WORKERS: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());

fn workers() -> MutexGuard<'static, BTreeSet<i32>> {
    WORKERS.lock().unwrap_or_else(|p| p.into_inner())
}

/// Takes a worker out of [`WORKERS`] when it is dropped (on every way out of [`run_worker`]).
struct Registered(i32);

impl Drop for Registered {
    fn drop(&mut self) {
        workers().remove(&self.0);
    }
}

/// Reap the group's members that are our children (the supervisor is a child subreaper, so
/// the worker's orphans are).
fn reap_zombies(pgid: i32) {
    loop {
        let mut st = 0;
        // SAFETY: waitpid on our own children of this group.
        let r = unsafe { libc::waitpid(-pgid, &mut st, libc::WNOHANG) };
        if r <= 0 {
            return;
        }
    }
}

/// Wait until the group is gone (reaping as it goes), at most `d`.
fn wait_group_gone(pgid: i32, d: Duration) -> bool {
    let end = Instant::now() + d;
    loop {
        reap_zombies(pgid);
        if group_gone(pgid) {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Wait for the child until `deadline`; `None` if it is still running then.
fn wait_until(child: &mut Child, deadline: Instant) -> io::Result<Option<ExitStatus>> {
    let mut nap = Duration::from_millis(1);
    loop {
        if let Some(s) = child.try_wait()? {
            return Ok(Some(s));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        std::thread::sleep(nap.min(deadline - now));
        nap = (nap * 2).min(Duration::from_millis(50));
    }
}

/// Run one instance in a worker; `on_spawn` receives the worker's pid (= its process group).
pub fn run_worker(spec: &WorkerSpec<'_>, on_spawn: impl FnOnce(i32)) -> io::Result<Finished> {
    let result = rundir::result_path(spec.dir, spec.instance);
    let panic_file = rundir::panic_path(spec.dir, spec.instance);
    for p in [&result, &panic_file] {
        match fs::remove_file(p) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    let log_path: PathBuf = spec.dir.join(rundir::log_rel(spec.instance));
    let mut log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)?;
    let started = SystemTime::now();
    writeln!(
        log,
        "=== hwcert: {} started {} ===",
        spec.instance,
        rundir::rfc3339(started)
    )?;
    let from = log.metadata()?.len();
    // The worker's stdout and stderr: a pipe that the log pump copies into the log, capped.
    let (out_r, out_w) = logcap::output_pipe()?;

    let mut cmd = Command::new(spec.exe);
    cmd.arg("__worker")
        .arg("--run-dir")
        .arg(spec.dir)
        .arg("--instance")
        .arg(spec.instance)
        .arg("--watch-fd")
        .arg(spec.lifeline.to_string())
        .arg("--supervisor-pid")
        .arg(std::process::id().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::from(out_w.try_clone()?))
        .stderr(Stdio::from(out_w))
        .process_group(0);
    // No case sees a secret (the supervisor read what it needs before the run).
    for v in documents::secrets::SECRET_ENV {
        cmd.env_remove(v);
    }
    let fd = spec.lifeline;
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            // The worker keeps the lifeline's read end across exec.
            if libc::fcntl(fd, libc::F_SETFD, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let t0 = Instant::now();
    // Registered while it is spawned: no other worker's thread takes it for an orphan.
    let mut child = {
        let mut w = workers();
        let c = cmd.spawn()?;
        w.insert(c.id() as i32);
        c
    };
    let _registered = Registered(child.id() as i32);
    // Only the worker and what it starts may hold the pipe's write end: its end of file is
    // the end of the output.
    drop(cmd);
    let pgid = child.id() as i32;
    let pump = match LogPump::start(out_r, log, spec.log_cap) {
        Ok(p) => p,
        Err(e) => {
            kill_group(pgid, libc::SIGKILL);
            let _ = child.wait();
            wait_group_gone(pgid, Duration::from_secs(5));
            return Err(e);
        }
    };
    on_spawn(pgid);

    let mut timeout_note = None;
    let exit = match wait_until(&mut child, t0 + spec.timeout)? {
        Some(s) => s,
        None => {
            // Time is up: SIGTERM to the group, a grace period for the whole group to go,
            // then SIGKILL to whatever is left.
            let grace = kill_grace(spec.timeout);
            kill_group(pgid, libc::SIGTERM);
            let end = Instant::now() + grace;
            let mut status = None;
            loop {
                if status.is_none() {
                    status = child.try_wait()?;
                }
                if status.is_some() {
                    reap_zombies(pgid);
                    if group_gone(pgid) {
                        break;
                    }
                }
                if Instant::now() >= end {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let gone = status.is_some() && group_gone(pgid);
            if !gone {
                kill_group(pgid, libc::SIGKILL);
            }
            let s = match status {
                Some(s) => s,
                None => child.wait()?,
            };
            wait_group_gone(pgid, Duration::from_secs(5));
            timeout_note = Some(if gone {
                format!(
                    "exceeded its time limit of {}; its process group ended on SIGTERM",
                    secs(spec.timeout)
                )
            } else {
                format!(
                    "exceeded its time limit of {}; its process group was killed (SIGKILL) {} after SIGTERM",
                    secs(spec.timeout),
                    secs(grace)
                )
            });
            s
        }
    };
    let duration = t0.elapsed();

    // Leftovers: processes of the group still running after the worker ended.
    let mut leaked = false;
    if timeout_note.is_none() && !wait_group_gone(pgid, LEAK_TIMEOUT) {
        leaked = true;
        kill_group(pgid, libc::SIGKILL);
        wait_group_gone(pgid, Duration::from_secs(5));
    }
    // What the worker had inherited as their subreaper — a daemon that left its process group
    // with setsid — came to this process when the worker died (a timeout, a crash; a worker
    // that ends normally kills them itself): kill them by pid. Children of the supervisor that
    // are neither a running worker nor in a running worker's group are this worker's (with
    // --test-threads, one of two workers that died at the same moment may get the other's).
    let orphans = {
        let mut w = workers();
        w.remove(&pgid);
        kill_orphans(|pid, pgrp| !w.contains(&pid) && !w.contains(&pgrp))
    };
    leaked |= !orphans.is_empty();
    // Every writer of the pipe is gone (or was killed): the log gets the rest, capped.
    let cap = pump.finish(PUMP_GRACE);
    if let Some(e) = &cap.error {
        eprintln!(
            "hwcert: warning: cannot write {}: {e}; output of {} after that is lost",
            log_path.display(),
            hwsys::text::escape_controls(spec.instance)
        );
    }
    if leaked {
        if let Ok(mut log) = OpenOptions::new().append(true).open(&log_path) {
            for pid in &orphans {
                let _ = writeln!(
                    log,
                    "=== hwcert: process {pid} left the process group of {} and outlived its \
                     worker; killed it ===",
                    spec.instance
                );
            }
            if orphans.is_empty() {
                let _ = writeln!(
                    log,
                    "=== hwcert: processes of {} were still running after it ended; killed \
                     them ===",
                    spec.instance
                );
            }
        }
    }

    let tail = rundir::tail_lines(&log_path, from, 12);
    let outcome: Option<Outcome> = fs::read(&result)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let mut f = Finished {
        status: Status::Crash,
        verdict: None,
        reason: None,
        measurements: Vec::new(),
        log_tail: Vec::new(),
        leaked,
        log_dropped: Some(cap.dropped).filter(|&n| n > 0),
        started,
        duration,
        disrupt: None,
    };
    if let Some(note) = timeout_note {
        f.status = Status::Timeout;
        f.reason = Some(note);
        f.log_tail = tail;
        if let Some(o) = outcome {
            f.measurements = o.measurements;
        }
        return Ok(f);
    }
    if let Some(o) = outcome {
        f.leaked |= o.leaked;
        f.status = o.verdict.status();
        f.reason = o.verdict.reason();
        f.measurements = o.measurements;
        f.verdict = Some(o.verdict);
        f.disrupt = o.disrupt;
        if !matches!(f.status, Status::Pass | Status::Skip) {
            f.log_tail = tail;
        }
        return Ok(f);
    }
    if exit.code() == Some(i32::from(documents::outcome::EXIT_CANNOT_WRITE)) {
        // The run directory failed the worker (a full or read-only disk): no result of the
        // case's, so it is not final and a resume runs it again.
        f.status = Status::Interrupted;
        f.reason = Some(format!(
            "the worker could not write its result {} (is the run directory's disk full or \
             read-only?); it runs again on --resume",
            result.display()
        ));
        f.log_tail = tail;
        return Ok(f);
    }
    let panic = fs::read_to_string(&panic_file)
        .ok()
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "));
    let how = describe_exit(exit, &tail);
    f.reason = Some(match panic {
        Some(p) => format!("{p} ({how})"),
        None => how,
    });
    f.log_tail = tail;
    Ok(f)
}

/// "killed by signal 11 (SIGSEGV)", "exited with status 3 without a result", …
fn describe_exit(s: ExitStatus, tail: &[String]) -> String {
    match (s.code(), s.signal()) {
        (Some(0), _) => "the worker exited without writing a result".into(),
        (Some(c), _) => format!("the worker exited with status {c} without a result"),
        (None, Some(sig)) => {
            let mut r = format!("the worker was {}", killed_by(sig, s.core_dumped()));
            if sig == libc::SIGKILL {
                r.push_str("; not sent by hwcert: the OOM killer or another process");
            }
            if sig == libc::SIGABRT {
                if let Some(l) = tail.iter().find(|l| l.contains("memory allocation of")) {
                    r = format!("out of memory: {l}; {r}");
                }
            }
            r
        }
        (None, None) => format!("the worker ended oddly: {s}"),
    }
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.1} s")
    }
}
