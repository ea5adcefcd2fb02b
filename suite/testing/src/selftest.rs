//! Self-test cases: instances that pass, fail, skip, panic, abort, segfault, hang, leak
//! processes and eat memory, so that the runner's isolation is tested with real processes and
//! real signals. They are planned only when `HWCERT_SELFTEST` is set when the plan is made:
//!
//! - `HWCERT_SELFTEST=1` (or `all`): every self-test;
//! - `HWCERT_SELFTEST=pass,sleep=2,fail`: these, in this order; `=SECONDS` sets the time limit.
//!
//! `HWCERT_SELFTEST_SLEEP=SECONDS` (read by the worker) sets how long `selftest::sleep`'s
//! grandchild sleeps (default: an hour).

use std::time::Duration;

use anyhow::{bail, Result};

use cases::{
    Case, CaseInfo, Component, Context, Inventory, Requirements, Selection, Target, Verdict,
};

use documents::plan::{InstanceKind, Plan, PlannedInstance};

/// The variable that turns self-tests on, at plan time.
pub const ENV: &str = "HWCERT_SELFTEST";
/// How long `selftest::sleep`'s grandchild sleeps, in seconds.
pub const SLEEP_ENV: &str = "HWCERT_SELFTEST_SLEEP";

const DEFAULT_TIMEOUT: f64 = 10.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Pass,
    Fail,
    Skip,
    Error,
    /// An advisory (non-blocker) failure.
    Warn,
    Panic,
    Abort,
    Segv,
    /// Ignores SIGTERM and waits for a grandchild `sleep`.
    Sleep,
    /// Allocates until an allocation fails (under an address-space limit).
    Alloc,
    /// Passes at once, leaving a grandchild `sleep` behind.
    Leak,
    /// A destructive instance on the pretend device `fakedisk0`; writes nothing.
    Destructive,
    /// Logs its whole environment (what a careless case would print) and passes.
    Env,
    /// Starts a daemon in a session of its own (`setsid sh -c 'sleep 1000'`), then hangs past
    /// its time limit.
    DaemonHang,
    /// Starts a daemon like `DaemonHang`, then crashes (SIGSEGV).
    DaemonCrash,
    /// Logs the environment of its parent — the supervisor — from /proc/PPID/environ.
    ParentEnv,
}

const BUILTIN: &[(&str, Kind, &str)] = &[
    ("pass", Kind::Pass, "passes"),
    (
        "fail",
        Kind::Fail,
        "fails with expected and measured values",
    ),
    ("skip", Kind::Skip, "skips with a reason"),
    ("error", Kind::Error, "cannot run its check"),
    ("warn", Kind::Warn, "an advisory case that fails"),
    ("panic", Kind::Panic, "panics"),
    ("abort", Kind::Abort, "aborts (SIGABRT)"),
    ("segv", Kind::Segv, "dereferences a bad pointer (SIGSEGV)"),
    (
        "sleep",
        Kind::Sleep,
        "ignores SIGTERM and waits on a grandchild sleep",
    ),
    (
        "alloc",
        Kind::Alloc,
        "allocates memory until it runs out (address space limited to 256 MiB more)",
    ),
    ("leak", Kind::Leak, "passes and leaves a grandchild running"),
    ("env", Kind::Env, "logs its environment and passes"),
    (
        "daemon_hang",
        Kind::DaemonHang,
        "starts a setsid daemon, then hangs past its time limit",
    ),
    (
        "daemon_crash",
        Kind::DaemonCrash,
        "starts a setsid daemon, then crashes (SIGSEGV)",
    ),
    (
        "parent_env",
        Kind::ParentEnv,
        "logs the supervisor's environment (/proc/PPID/environ) and passes",
    ),
    (
        "destructive",
        Kind::Destructive,
        "a destructive case on the pretend device fakedisk0",
    ),
];

/// Vendor-style command self-tests on the target `st0`: (name, `sh -c` script).
const COMMANDS: &[(&str, &str)] = &[
    (
        "cmd_pass",
        "echo \"HWCERT_TARGET=$HWCERT_TARGET HWCERT_INSTANCE=$HWCERT_INSTANCE HWCERT_RUN_DIR=$HWCERT_RUN_DIR\"; \
         [ \"$HWCERT_TARGET\" = st0 ] && [ \"$HWCERT_INSTANCE\" = selftest::cmd_pass::st0 ] && [ -f \"$HWCERT_RUN_DIR/plan.json\" ]",
    ),
    ("cmd_skip", "echo checking the widget; echo no widget on st0; exit 77"),
    ("cmd_fail", "echo the widget is broken >&2; exit 3"),
    ("cmd_sleep", "sleep 1000"),
    ("cmd_env", "echo the environment:; env"),
    (
        "cmd_fill",
        "[ -e \"$HWCERT_RUN_DIR/filled-once\" ] && exit 0; : > \"$HWCERT_RUN_DIR/filled-once\"; \
         echo filling the disk; head -c 1G /dev/zero > \"$HWCERT_RUN_DIR/filler\" 2>/dev/null; exit 0",
    ),
    (
        "cmd_daemon",
        "setsid sh -c 'exec sleep 1000' </dev/null >/dev/null 2>&1 & echo daemon pid $!",
    ),
    (
        // 100 MiB between two marker lines, then the worker's peak resident set (its parent's
        // VmHWM): what the log cap keeps of it, and how much memory the worker needed.
        "cmd_flood",
        "echo BEGIN-OF-OUTPUT; head -c 104857600 /dev/zero | tr '\\0' x; echo; echo END-OF-OUTPUT; \
         grep VmHWM /proc/$PPID/status",
    ),
    (
        "cmd_segv",
        "echo about to crash; ulimit -c 0; kill -SEGV $$; echo still alive",
    ),
];

struct SelfTest {
    info: CaseInfo,
    kind: Kind,
}

fn info(short: &str, kind: Kind, purpose: &str) -> CaseInfo {
    CaseInfo {
        name: format!("selftest::{short}"),
        purpose: format!("Self-test of the runner: {purpose}"),
        component: Component::System,
        requirements: Requirements {
            destructive: kind == Kind::Destructive,
            ..Default::default()
        },
        timeout: Duration::from_secs_f64(DEFAULT_TIMEOUT),
        estimate: Duration::from_millis(100),
        blocker: kind != Kind::Warn,
    }
}

/// Every built-in self-test case (the worker looks cases up here after the catalog).
pub fn catalog() -> Vec<Box<dyn Case>> {
    BUILTIN
        .iter()
        .map(|&(short, kind, purpose)| {
            Box::new(SelfTest {
                info: info(short, kind, purpose),
                kind,
            }) as Box<dyn Case>
        })
        .collect()
}

/// Stop this process from writing a core file before it crashes on purpose.
fn no_core_dump() {
    // SAFETY: plain system calls on this process.
    unsafe {
        let zero = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        libc::setrlimit(libc::RLIMIT_CORE, &zero);
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}

impl Case for SelfTest {
    fn info(&self) -> &CaseInfo {
        &self.info
    }

    fn select(&self, _inv: &Inventory) -> Selection {
        match self.kind {
            Kind::Destructive => {
                Selection::Targets(vec![Target::item("fakedisk0", Some("pretend disk".into()))])
            }
            _ => Selection::Targets(vec![Target::machine()]),
        }
    }

    fn run(&self, ctx: &mut Context<'_>) -> Verdict {
        ctx.log(format!("{}: starting", self.info.name));
        match self.kind {
            Kind::Pass => {
                ctx.measure("answer", 42.0, "1");
                Verdict::Pass
            }
            Kind::Fail | Kind::Warn => {
                ctx.judge("widgets", 3.0, "1", ">=", 4.0);
                Verdict::fail("at least 4 widgets", "3 widgets")
            }
            Kind::Skip => Verdict::skip("no widget on this machine"),
            Kind::Error => Verdict::error("cannot read /proc/widgets: no such file"),
            Kind::Panic => {
                ctx.log("about to panic");
                panic!("selftest panic: the widget table is inconsistent");
            }
            Kind::Abort => {
                ctx.log("about to abort");
                no_core_dump();
                std::process::abort();
            }
            Kind::Segv => {
                ctx.log("about to write to address 8");
                no_core_dump();
                // SAFETY: deliberately not safe: this write faults (SIGSEGV) — that is the test.
                unsafe { std::ptr::write_volatile(8usize as *mut u8, 1) };
                Verdict::error("survived a write to address 8")
            }
            Kind::Sleep => {
                // SAFETY: ignoring a signal; inherited by the grandchild across exec.
                unsafe { libc::signal(libc::SIGTERM, libc::SIG_IGN) };
                let secs = std::env::var(SLEEP_ENV).unwrap_or_else(|_| "3600".into());
                let child = std::process::Command::new("sleep").arg(&secs).spawn();
                let mut child = match child {
                    Ok(c) => c,
                    Err(e) => return Verdict::error(format!("cannot run sleep: {e}")),
                };
                // SAFETY: getpgrp has no preconditions.
                let pgid = unsafe { libc::getpgrp() };
                ctx.log(format!(
                    "grandchild sleep {secs} pid {} in process group {pgid}",
                    child.id()
                ));
                match child.wait() {
                    Ok(s) if s.success() => Verdict::Pass,
                    Ok(s) => Verdict::fail("sleep exits 0", s.to_string()),
                    Err(e) => Verdict::error(format!("cannot wait for sleep: {e}")),
                }
            }
            Kind::Alloc => {
                no_core_dump();
                let vm = std::fs::read_to_string("/proc/self/status")
                    .ok()
                    .and_then(|s| {
                        s.lines()
                            .find_map(|l| l.strip_prefix("VmSize:"))
                            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                    })
                    .unwrap_or(1024 * 1024u64);
                let limit = vm * 1024 + (256 << 20);
                let rl = libc::rlimit {
                    rlim_cur: limit as libc::rlim_t,
                    rlim_max: limit as libc::rlim_t,
                };
                // SAFETY: setrlimit on this process.
                if unsafe { libc::setrlimit(libc::RLIMIT_AS, &rl) } != 0 {
                    return Verdict::error("cannot limit the address space");
                }
                ctx.log(format!("address space limited to {} MiB", limit >> 20));
                let mut hog: Vec<Vec<u8>> = Vec::new();
                loop {
                    hog.push(vec![1u8; 16 << 20]);
                    ctx.log(format!("holding {} MiB", hog.len() * 16));
                }
            }
            Kind::Env => {
                for (k, v) in std::env::vars_os() {
                    ctx.log(format!(
                        "env {}={}",
                        k.to_string_lossy(),
                        v.to_string_lossy()
                    ));
                }
                Verdict::Pass
            }
            Kind::DaemonHang | Kind::DaemonCrash => {
                let daemon = std::process::Command::new("setsid")
                    .args(["sh", "-c", "sleep 1000; true"])
                    .stdin(std::process::Stdio::null())
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn();
                let pid = match daemon {
                    Ok(c) => c.id(),
                    Err(e) => return Verdict::error(format!("cannot run setsid: {e}")),
                };
                // setsid runs sh in place (it leads no process group): the daemon is `pid`,
                // once it is in its session of its own.
                let end = std::time::Instant::now() + Duration::from_secs(5);
                while session_of(pid) != Some(pid) && std::time::Instant::now() < end {
                    std::thread::sleep(Duration::from_millis(5));
                }
                ctx.log(format!("daemon pid {pid}"));
                if self.kind == Kind::DaemonCrash {
                    no_core_dump();
                    // SAFETY: deliberately not safe: this write faults (SIGSEGV) — the test.
                    unsafe { std::ptr::write_volatile(8usize as *mut u8, 1) };
                    return Verdict::error("survived a write to address 8");
                }
                loop {
                    std::thread::sleep(Duration::from_secs(3600));
                }
            }
            Kind::ParentEnv => {
                // SAFETY: getppid has no preconditions.
                let ppid = unsafe { libc::getppid() };
                let p = format!("/proc/{ppid}/environ");
                match std::fs::read(&p) {
                    Ok(b) => {
                        for v in b.split(|&c| c == 0).filter(|v| !v.is_empty()) {
                            ctx.log(format!("parent env {}", String::from_utf8_lossy(v)));
                        }
                        Verdict::Pass
                    }
                    Err(e) => Verdict::error(format!("cannot read {p}: {e}")),
                }
            }
            Kind::Leak => match std::process::Command::new("sleep").arg("3600").spawn() {
                Ok(c) => {
                    ctx.log(format!("left grandchild sleep pid {} running", c.id()));
                    Verdict::Pass
                }
                Err(e) => Verdict::error(format!("cannot run sleep: {e}")),
            },
            Kind::Destructive => {
                ctx.log(format!(
                    "would write to {}",
                    ctx.target.id.as_deref().unwrap_or("?")
                ));
                Verdict::Pass
            }
        }
    }
}

/// The session of a process, from /proc/PID/stat.
fn session_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // pid (comm) state ppid pgrp session …
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(3)?.parse().ok()
}

/// Append the self-tests named by `spec` (the value of `HWCERT_SELFTEST`) to a plan, and drop
/// from its `not_planned` the cases the profile excluded (a self-test run is judged on the
/// self-tests it holds; whether the machine is live and the profile certifies still count).
pub fn append_to_plan(plan: &mut Plan, spec: &str, inv: &Inventory) -> Result<()> {
    let spec = spec.trim();
    let items: Vec<(String, Option<f64>)> = if spec == "1" || spec == "all" {
        BUILTIN
            .iter()
            .map(|b| b.0)
            .chain(COMMANDS.iter().map(|c| c.0))
            .map(|s| (s.to_string(), None))
            .collect()
    } else {
        let mut v = Vec::new();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, t) = match item.split_once('=') {
                Some((n, t)) => match t.parse::<f64>() {
                    Ok(t) if t > 0.0 && t < 1e6 => (n, Some(t)),
                    _ => bail!("{ENV}: '{item}': the time limit must be a number of seconds"),
                },
                None => (item, None),
            };
            let name = name.strip_prefix("selftest::").unwrap_or(name);
            v.push((name.to_string(), t));
        }
        v
    };
    let cat = catalog();
    for (short, timeout) in items {
        let timeout_s = timeout.unwrap_or(DEFAULT_TIMEOUT);
        if let Some(case) = cat
            .iter()
            .find(|c| c.info().name == format!("selftest::{short}"))
        {
            let info = case.info();
            let Selection::Targets(targets) = case.select(inv) else {
                continue;
            };
            for t in targets {
                plan.instances.push(PlannedInstance {
                    name: cases::instance_name(&info.name, &t),
                    case: info.name.clone(),
                    component: info.component,
                    target: t.id.clone(),
                    target_label: t.label.clone(),
                    purpose: info.purpose.clone(),
                    timeout_s,
                    estimate_s: if short == "sleep" {
                        timeout_s
                    } else {
                        info.estimate.as_secs_f64()
                    },
                    blocker: info.blocker,
                    destructive: info.requirements.destructive,
                    kind: InstanceKind::Builtin,
                });
            }
        } else if let Some((_, script)) = COMMANDS.iter().find(|c| c.0 == short) {
            let case = format!("selftest::{short}");
            plan.instances.push(PlannedInstance {
                name: format!("{case}::st0"),
                case,
                component: Component::Vendor,
                target: Some("st0".into()),
                target_label: Some("self-test target".into()),
                purpose: "Self-test of the runner: a vendor command".into(),
                timeout_s,
                estimate_s: 0.1,
                blocker: true,
                destructive: false,
                kind: InstanceKind::Command {
                    argv: vec!["sh".into(), "-c".into(), (*script).into()],
                },
            });
        } else {
            let known: Vec<&str> = BUILTIN
                .iter()
                .map(|b| b.0)
                .chain(COMMANDS.iter().map(|c| c.0))
                .collect();
            bail!(
                "{ENV}: unknown self-test '{short}' (known: {})",
                known.join(", ")
            );
        }
    }
    // The built-in cases the profile excluded were left out so that the self-tests alone
    // decide the verdict (suite/cli/tests/integration/selftest-only.toml): they are no gap.
    plan.not_planned
        .retain(|n| n.kind != Some(documents::plan::NotPlannedKind::Excluded));
    Ok(())
}
