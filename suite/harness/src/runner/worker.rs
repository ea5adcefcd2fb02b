//! The worker: `hwcert __worker`, one process per instance, leader of its own process group.
//!
//! It dies with the supervisor. The supervisor hands it the read end of a pipe whose write end
//! only the supervisor holds; a thread blocks reading it, and on end-of-file (the supervisor is
//! gone, however it died) kills the worker's whole process group. As a backup, the kernel sends
//! the worker SIGHUP when its parent dies (PR_SET_PDEATHSIG), and the handler does the same.
//!
//! It loads plan.json and inventory.json from the run directory, runs its instance — a built-in
//! case in this process, or a vendor command as a child — and writes the outcome atomically to
//! `results/<name>.json`. A panic leaves `results/<name>.panic` with the message; a crash
//! leaves nothing, and the supervisor records it from the exit status.

use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};

use cases::{Outcome, Target, Verdict};

use super::logcap;
use super::rundir::{self, INVENTORY_FILE, PLAN_FILE};
use documents::plan::{InstanceKind, Plan, PlannedInstance};
#[cfg(feature = "selftest")]
use testing::selftest;

/// One instance for a worker process (`hwcert __worker`, whose arguments the supervisor
/// writes).
#[derive(Debug)]
pub struct WorkerRequest {
    /// The run directory.
    pub run_dir: PathBuf,
    /// The instance to run.
    pub instance: String,
    /// The read end of the supervisor's lifeline pipe.
    pub watch_fd: Option<i32>,
    /// The supervisor's pid (to notice it died before the death signal was armed).
    pub supervisor_pid: Option<i32>,
}

extern "C" fn kill_own_group(_sig: libc::c_int) {
    // SAFETY: kill is async-signal-safe.
    unsafe {
        libc::kill(0, libc::SIGKILL);
    }
}

/// Arm both lifelines: the pipe watcher and the parent-death signal. First make sure this
/// process leads its own process group (the supervisor already made it so), so that killing
/// "our group" can never reach whoever started the worker.
fn arm_lifelines(args: &WorkerRequest) {
    // SAFETY: setpgid on this process.
    unsafe { libc::setpgid(0, 0) };
    if let Some(fd) = args.watch_fd {
        // SAFETY: fcntl on an inherited descriptor; children of the case must not hold it.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
        std::thread::Builder::new()
            .name("lifeline".into())
            .spawn(move || {
                let mut b = [0u8; 16];
                loop {
                    // SAFETY: reading into a local buffer.
                    let n = unsafe { libc::read(fd, b.as_mut_ptr().cast(), b.len()) };
                    if n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                        continue;
                    }
                    if n == 0 {
                        // EOF: every write end is closed, the supervisor is gone.
                        kill_own_group(0);
                    }
                    if n < 0 {
                        eprintln!(
                            "hwcert worker: the lifeline (fd {fd}) cannot be read: {}",
                            io::Error::last_os_error()
                        );
                        return;
                    }
                }
            })
            .ok();
    }
    if let Some(ppid) = args.supervisor_pid {
        // SAFETY: installing an async-signal-safe handler, then arming the death signal.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = kill_own_group as *const () as usize;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(libc::SIGHUP, &sa, std::ptr::null_mut());
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGHUP, 0, 0, 0);
            if libc::getppid() != ppid {
                // The supervisor died before the death signal was armed.
                libc::kill(0, libc::SIGKILL);
            }
        }
    }
}

/// The supervisor (as root) is the OOM killer's last choice; a case must not be.
fn reset_oom_score() {
    let p = "/proc/self/oom_score_adj";
    if let Ok(v) = fs::read_to_string(p) {
        if v.trim().parse::<i32>().is_ok_and(|v| v < 0) {
            let _ = fs::write(p, "0");
        }
    }
}

/// `hwcert __worker`: run one instance and write its outcome.
pub fn worker(args: WorkerRequest) -> Result<ExitCode> {
    // The supervisor starts workers without secrets; a worker started some other way drops
    // them too, before any case code runs (one thread only so far).
    for v in documents::secrets::SECRET_ENV {
        std::env::remove_var(v);
    }
    arm_lifelines(&args);
    reset_oom_score();
    // What the case starts and orphans — a daemon that left our process group with setsid —
    // becomes our child, so that it can be found and killed when the case ends.
    // SAFETY: prctl on this process.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };

    let dir = args.run_dir.clone();
    let result = rundir::result_path(&dir, &args.instance);
    let panic_file = rundir::panic_path(&dir, &args.instance);
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = rundir::write_atomic(&panic_file, info.to_string().as_bytes());
        default_hook(info);
    }));

    let outcome = match load(&dir, &args.instance) {
        Ok((plan, inv, inst)) => match &inst.kind {
            InstanceKind::Builtin => run_builtin(&dir, &plan, &inv, &inst),
            InstanceKind::Command { argv } => run_command(&dir, &inst, argv),
        },
        Err(e) => {
            let mut msg = format!("{e}");
            for c in e.chain().skip(1) {
                msg.push_str(&format!(": {c}"));
            }
            eprintln!("hwcert worker: {msg}");
            Outcome {
                verdict: Verdict::error(msg),
                measurements: Vec::new(),
                leaked: false,
                disrupt: None,
            }
        }
    };
    let mut outcome = outcome;
    if kill_escaped() {
        outcome.leaked = true;
    }
    let mut b = serde_json::to_vec(&outcome)?;
    b.push(b'\n');
    if let Err(e) = rundir::write_atomic(&result, &b) {
        // Not eprintln!: on a full disk the log (our stderr) may fail too.
        let _ = writeln!(
            io::stderr(),
            "hwcert worker: cannot write {}: {e}",
            result.display()
        );
        return Ok(ExitCode::from(documents::outcome::EXIT_CANNOT_WRITE));
    }
    Ok(ExitCode::SUCCESS)
}

/// Kill (by pid) the processes the case left behind outside this worker's process group —
/// orphans this worker inherited as their subreaper — and reap them, until none is left. Those
/// in the group are the supervisor's to find (it kills the group). Whether any was running.
fn kill_escaped() -> bool {
    let me = std::process::id() as i32;
    // A child still in the group may be about to call setsid: look again shortly.
    for _ in 0..20 {
        let children = super::supervise::children_of(me);
        if children.iter().any(|&(_, pgrp, _)| pgrp != me)
            || !children.iter().any(|&(_, _, zombie)| !zombie)
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let killed = super::supervise::kill_orphans(|_, pgrp| pgrp != me);
    for pid in &killed {
        let _ = writeln!(
            io::stderr(),
            "=== hwcert: process {pid} left the case's process group and was still running \
             after the case ended; killed it ==="
        );
    }
    !killed.is_empty()
}

fn load(dir: &Path, name: &str) -> Result<(Plan, cases::Inventory, PlannedInstance)> {
    let p = dir.join(PLAN_FILE);
    let plan: Plan = serde_json::from_slice(
        &fs::read(&p).with_context(|| format!("cannot read {}", p.display()))?,
    )
    .with_context(|| format!("{} is not a plan", p.display()))?;
    let p = dir.join(INVENTORY_FILE);
    let inv: cases::Inventory = serde_json::from_slice(
        &fs::read(&p).with_context(|| format!("cannot read {}", p.display()))?,
    )
    .with_context(|| format!("{} is not an inventory", p.display()))?;
    let inst = plan
        .instances
        .iter()
        .find(|i| i.name == name)
        .cloned()
        .with_context(|| format!("no instance '{name}' in the plan"))?;
    Ok((plan, inv, inst))
}

fn run_builtin(dir: &Path, plan: &Plan, inv: &cases::Inventory, inst: &PlannedInstance) -> Outcome {
    let catalog = cases::catalog().into_iter();
    // Test builds carry the self-test cases; release builds have none.
    #[cfg(feature = "selftest")]
    let catalog = catalog.chain(selftest::catalog());
    let Some(case) = catalog.into_iter().find(|c| c.info().name == inst.case) else {
        return Outcome {
            verdict: Verdict::error(format!(
                "case '{}' is not in this hwcert's catalog (version {})",
                inst.case,
                env!("CARGO_PKG_VERSION")
            )),
            measurements: Vec::new(),
            leaked: false,
            disrupt: None,
        };
    };
    let target = Target {
        id: inst.target.clone(),
        label: inst.target_label.clone(),
    };
    // SAFETY: geteuid has no preconditions.
    let is_root = unsafe { libc::geteuid() } == 0;
    // This instance's options: a stress case gets its own stressor's duration.
    let options = plan.run_options(inst);
    let mut ctx = cases::Context::new(
        inv,
        &plan.sysroot,
        &target,
        &options,
        is_root,
        Box::new(io::stderr()),
    )
    .with_machine(super::machine::machine())
    .with_run(dir, &inst.name);
    // The planner never plans a live-only case for a recorded tree; a hand-edited plan.json
    // must not make one load this machine in the tree's name either.
    let verdict = if case.info().requirements.live && !ctx.is_live() {
        cases::Verdict::skip(format!(
            "runs only on the live system, and this run reads the tree at {}",
            plan.sysroot
        ))
    } else {
        case.run(&mut ctx)
    };
    ctx.finish(verdict)
}

/// A vendor command: exit 0 passes, 77 skips (the last output line is the reason), another
/// status fails, a signal is a crash.
fn run_command(dir: &Path, inst: &PlannedInstance, argv: &[String]) -> Outcome {
    let no_measurements = |verdict| Outcome {
        verdict,
        measurements: Vec::new(),
        leaked: false,
        disrupt: None,
    };
    let Some((prog, rest)) = argv.split_first() else {
        return no_measurements(Verdict::error("the command case has an empty argv"));
    };
    let _ = io::stderr().flush();
    let mut cmd = Command::new(prog);
    cmd.args(rest)
        .env("HWCERT_TARGET", inst.target.as_deref().unwrap_or(""))
        .env("HWCERT_RUN_DIR", dir)
        .env("HWCERT_INSTANCE", &inst.name)
        .stdin(Stdio::null());
    for v in documents::secrets::SECRET_ENV {
        cmd.env_remove(v);
    }
    let ran = forward_output(cmd);
    let (status, last) = match ran {
        Ok(r) => r,
        Err(e) => return no_measurements(Verdict::error(format!("cannot run '{prog}': {e}"))),
    };
    let verdict = match (status.code(), status.signal()) {
        (Some(0), _) => Verdict::Pass,
        (Some(77), _) => {
            Verdict::skip(last.unwrap_or_else(|| "the command exited 77 (skip)".into()))
        }
        (Some(c), _) => Verdict::fail("exit status 0", format!("exit status {c}")),
        // A signal is a crash of what the case ran, not a result it reported.
        (None, Some(sig)) => Verdict::crash(format!(
            "'{prog}' was {}",
            super::signals::killed_by(sig, status.core_dumped())
        )),
        (None, None) => Verdict::error(format!("the command ended oddly: {status}")),
    };
    no_measurements(verdict)
}

/// How long a command's output is still copied after it exited (a process it left behind may
/// hold the pipe open).
const DRAIN_AFTER_EXIT: Duration = Duration::from_secs(1);

/// Run the command with its stdout and stderr on a pipe that this worker copies to its own
/// stderr (the supervisor's log pump), keeping only the last 64 KiB: its exit status and its
/// last non-empty output line (the reason of a skip), never more of its output in memory.
fn forward_output(mut cmd: Command) -> io::Result<(ExitStatus, Option<String>)> {
    let (r, w) = logcap::output_pipe()?;
    cmd.stdout(Stdio::from(w.try_clone()?))
        .stderr(Stdio::from(w));
    let mut child = cmd.spawn()?;
    drop(cmd);
    let mut src = fs::File::from(r);
    let mut last = logcap::Ring::new(64 * 1024);
    let mut buf = vec![0u8; 64 * 1024];
    let mut out = io::stderr();
    let mut exited: Option<(ExitStatus, Instant)> = None;
    let mut checked = Instant::now();
    loop {
        match exited {
            Some((_, at)) if at.elapsed() >= DRAIN_AFTER_EXIT => break,
            // Also while output streams in: a process it left behind may go on printing.
            None if checked.elapsed() >= Duration::from_millis(50) => {
                checked = Instant::now();
                exited = child.try_wait()?.map(|s| (s, Instant::now()));
            }
            _ => {}
        }
        match logcap::readable(&src, 50) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(_) => break,
        }
        match src.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                last.push(&buf[..n]);
                // A log that cannot be written must not stop the command.
                let _ = out.write_all(&buf[..n]);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let status = match exited {
        Some((s, _)) => s,
        None => child.wait()?,
    };
    let line = hwsys::text::tail_of(
        &last.to_vec(),
        last.cut(),
        hwsys::text::Tail {
            lines: 1,
            skip_empty: true,
            max_chars: 500,
            ..hwsys::text::Tail::default()
        },
    )
    .pop();
    Ok((status, line))
}
