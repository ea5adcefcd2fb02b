//! `system::kdump_crash` — the crash kernel captures a real crash.
//!
//! Before: a crash kernel is loaded (`sys/kernel/kexec_crash_loaded` is 1), the dump target is
//! known (the profile's `kdump.path`, else kdump.conf's `path`, default /var/crash; a network
//! target — `nfs`, `ssh` — needs `kdump.path` naming where this machine reads it), and what is
//! already there is recorded. Then the case asks for the crash (sysrq `c`, through the
//! supervisor, after the journal says "crashing the kernel (boot_id X)"). On the next boot:
//! a new boot_id; a new dump directory under the target, without `vmcore-incomplete`; its
//! vmcore a readable dump by its header ([`crate::vmcore::inspect`]: kdump compressed or ELF,
//! whole, its VMCOREINFO's kernel release) — no debuginfo needed; its kernel log
//! (`makedumpfile --dump-dmesg`, else the `vmcore-dmesg.txt` kdump wrote beside it) holds the
//! sysrq crash. When `crash` and the kernel's debuginfo vmlinux are installed, `crash` must
//! open the dump too. The dump's size and the time from the crash to the dump's last write
//! are measured.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use documents::outcome::Action;

use crate::reboot::{ask_for, disruptive, read_state, remove_unit, usable_machine, write_state};
use crate::util::{machine as whole_machine, Spec};
use crate::{tool, vmcore, Case, Component, Context, Verdict};

pub(crate) fn cases() -> Vec<Box<dyn Case>> {
    vec![Spec {
        name: "system::kdump_crash",
        purpose: "A kernel crash (sysrq c) is captured by kdump: a new, whole, readable vmcore whose kernel log holds the crash",
        component: Component::System,
        blocker: true,
        timeout: 600,
        estimate_ms: 300_000,
        requirements: disruptive("kdump.enabled"),
        select: whole_machine,
        run: kdump_crash,
    }
    .build()]
}

/// What the case keeps across the crash.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KdumpState {
    pub from_boot: String,
    pub requested_ms: u64,
    /// The dump directory on the machine (absolute).
    pub target: String,
    /// What was in it before the crash.
    pub existing: Vec<String>,
}

const MAKEDUMPFILE_LIMIT: Duration = Duration::from_secs(300);
const CRASH_LIMIT: Duration = Duration::from_secs(300);

fn kdump_crash(ctx: &mut Context<'_>) -> Verdict {
    match run(ctx) {
        Ok(v) | Err(v) => v,
    }
}

/// The target directory as a path under the machine's sysroot.
fn local(root: &Path, target: &str) -> PathBuf {
    root.join(target.trim_start_matches('/'))
}

fn list(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn run(ctx: &mut Context<'_>) -> Result<Verdict, Verdict> {
    let m = usable_machine(ctx)?;
    let path = ctx
        .state_file()
        .ok_or_else(|| Verdict::error("the case runs outside a run directory"))?;
    let boot_id = m
        .boot_id()
        .ok_or_else(|| Verdict::error(format!("cannot read the boot id of {}", m.describe())))?;
    let clocks = m
        .clocks()
        .ok_or_else(|| Verdict::error(format!("cannot read the clocks of {}", m.describe())))?;
    let root = m.sysroot();
    let sys = hwsys::Sysroot::new(&root);
    let Some(st) = read_state::<KdumpState>(&path).map_err(Verdict::error)? else {
        // Before the crash.
        match sys.attr("sys/kernel/kexec_crash_loaded").as_deref() {
            Some("1") => ctx.log("a crash kernel is loaded (sys/kernel/kexec_crash_loaded = 1)"),
            other => {
                return Ok(Verdict::fail(
                    "a crash kernel loaded (sys/kernel/kexec_crash_loaded = 1)",
                    match other {
                        Some(v) => format!(
                            "kexec_crash_loaded = {v}: no crash kernel is loaded (is kdump.service \
                             running? systemctl status kdump)"
                        ),
                        None => "sys/kernel/kexec_crash_loaded is missing or unreadable".into(),
                    },
                ))
            }
        }
        let conf = sys.read("etc/kdump.conf").unwrap_or_default();
        let (conf_path, remote) = vmcore::kdump_target(&conf);
        let target = match (ctx.options.settings.get("kdump.path"), remote) {
            (Some(p), _) => p.clone(),
            (None, Some(r)) => {
                return Ok(Verdict::skip(format!(
                    "kdump.conf sends the dump over the network ({r}): set kdump.path in the \
                     profile to the directory where this machine can read it"
                )))
            }
            (None, None) => conf_path,
        };
        let existing = list(&local(&root, &target));
        ctx.log(format!(
            "dump target {target}: {} entries already there",
            existing.len()
        ));
        let st = KdumpState {
            from_boot: boot_id.clone(),
            requested_ms: clocks.realtime_ms,
            target: target.clone(),
            existing,
        };
        write_state(&path, &st).map_err(Verdict::error)?;
        ask_for(
            ctx,
            m.as_ref(),
            Action::Crash,
            format!("sysrq c; kdump writes the dump under {target}"),
        )?;
        return Ok(Verdict::Pass);
    };
    // After the crash.
    remove_unit(ctx, m.as_ref());
    let expected = format!(
        "a new boot, and under {} a new whole vmcore whose kernel log holds the sysrq crash",
        st.target
    );
    if st.from_boot == boot_id {
        return Ok(Verdict::fail(
            expected,
            format!("the machine did not crash: the boot_id is still {boot_id}"),
        ));
    }
    let dir = local(&root, &st.target);
    let new: Vec<String> = list(&dir)
        .into_iter()
        .filter(|e| !st.existing.contains(e))
        .collect();
    let asked = hwsys::time::format_rfc3339(st.requested_ms as i64);
    let Some(entry) = new.last() else {
        return Ok(Verdict::fail(
            expected,
            format!(
                "no new dump under {} after the crash asked for at {asked} (kdump did not \
                 capture it: see the crash kernel's console output)",
                st.target
            ),
        ));
    };
    let entry_dir = dir.join(entry);
    let shown = format!("{}/{entry}", st.target.trim_end_matches('/'));
    if entry_dir.join("vmcore-incomplete").exists() {
        return Ok(Verdict::fail(
            expected,
            format!("{shown}/vmcore-incomplete: the dump was not finished"),
        ));
    }
    let Some((name, core)) = ["vmcore", "vmcore.flat"]
        .iter()
        .map(|n| (n, entry_dir.join(n)))
        .find(|(_, p)| p.is_file())
    else {
        return Ok(Verdict::fail(expected, format!("{shown} holds no vmcore")));
    };
    let info = match vmcore::inspect(&core) {
        Ok(i) => i,
        Err(e) => {
            return Ok(Verdict::fail(
                expected,
                format!("{shown}/{name} is not a readable dump: {e}"),
            ))
        }
    };
    ctx.log(format!(
        "{shown}/{name}: {} dump of {} bytes{}{}",
        info.format,
        info.bytes,
        info.release
            .as_deref()
            .map(|r| format!(", kernel {r}"))
            .unwrap_or_default(),
        info.pages
            .map(|p| format!(", {p} pages"))
            .unwrap_or_default()
    ));
    ctx.measure("vmcore_bytes", info.bytes as f64, "bytes");
    if let Some(ms) = std::fs::metadata(&core)
        .and_then(|md| md.modified())
        .ok()
        .map(hwsys::time::unix_ms)
    {
        ctx.measure(
            "dump_seconds",
            (ms as f64 - st.requested_ms as f64) / 1000.0,
            "s",
        );
    }
    // The dump's kernel log.
    let mut dmesg = None;
    if m.is_live() {
        let out = std::env::temp_dir().join(format!("hwcert-vmcore-dmesg-{}", std::process::id()));
        let (core_s, out_s) = (core.display().to_string(), out.display().to_string());
        match tool::run(
            "makedumpfile",
            &["--dump-dmesg", &core_s, &out_s],
            MAKEDUMPFILE_LIMIT,
        ) {
            Ok(o) if o.success() => {
                dmesg = std::fs::read_to_string(&out).ok();
                ctx.log("kernel log of the dump read with makedumpfile --dump-dmesg");
            }
            Ok(o) => ctx.log(format!("makedumpfile --dump-dmesg: {}", o.failure())),
            Err(e) => ctx.log(format!("{e}")),
        }
        let _ = std::fs::remove_file(&out);
    }
    if dmesg.is_none() {
        dmesg = std::fs::read_to_string(entry_dir.join("vmcore-dmesg.txt")).ok();
        if dmesg.is_some() {
            ctx.log(format!(
                "kernel log of the dump from {shown}/vmcore-dmesg.txt"
            ));
        }
    }
    let Some(dmesg) = dmesg else {
        return Ok(Verdict::fail(
            expected,
            format!(
                "cannot read the dump's kernel log: no makedumpfile --dump-dmesg and no \
                 {shown}/vmcore-dmesg.txt"
            ),
        ));
    };
    let lines = vmcore::triggered_crash(&dmesg);
    if lines.is_empty() {
        return Ok(Verdict::fail(
            expected,
            "the dump's kernel log does not show the sysrq crash (another crash was dumped?)",
        ));
    }
    for l in &lines {
        ctx.log(format!("in the dump: {l}"));
    }
    if let Some(v) = with_crash(ctx, m.is_live(), &core, info.release.as_deref()) {
        return Ok(Verdict::fail(expected, v));
    }
    Ok(Verdict::Pass)
}

/// With `crash` and the kernel's debuginfo installed, `crash` must open the dump; `Some` is
/// why it did not.
fn with_crash(
    ctx: &mut Context<'_>,
    live: bool,
    core: &Path,
    release: Option<&str>,
) -> Option<String> {
    let release = release?;
    let vmlinux = PathBuf::from(format!("/usr/lib/debug/lib/modules/{release}/vmlinux"));
    if !live || !vmlinux.is_file() {
        ctx.log(format!(
            "no debuginfo ({}): the dump is checked by its header and kernel log, not with crash",
            vmlinux.display()
        ));
        return None;
    }
    let cmds = std::env::temp_dir().join(format!("hwcert-crash-{}.cmd", std::process::id()));
    if std::fs::write(&cmds, "sys\nquit\n").is_err() {
        return None;
    }
    let (v, c, i) = (
        vmlinux.display().to_string(),
        core.display().to_string(),
        cmds.display().to_string(),
    );
    let r = tool::run("crash", &["-s", "-i", &i, &v, &c], CRASH_LIMIT);
    let _ = std::fs::remove_file(&cmds);
    match r {
        Ok(o) if o.success() && o.stdout.contains("PANIC") => {
            ctx.log("crash opened the dump (sys shows the PANIC)");
            None
        }
        Ok(o) => Some(format!(
            "crash {v} {c} cannot read the dump: {}",
            o.failure()
        )),
        Err(tool::ToolError::NotFound(_)) => None,
        Err(e) => Some(format!("crash on the dump: {e}")),
    }
}
