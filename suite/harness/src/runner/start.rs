//! Starting a run — the plan made and written with the inventory into a new run directory —
//! or resuming the one in a directory; then [`supervise`](super::session::supervise) runs it.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::{bail, Context as _, Result};
use clap::Parser as _;
use libtest_mimic::{Arguments, Trial};

use crate::{planner, profile};
use documents::plan::Plan;
use hwsys::text::escape_text;

use super::request::{
    check_test_options, gave_selection_args, selection_args, usage, RunRequest, Usage,
};
use super::rundir::{self, RunState, INVENTORY_FILE, PLAN_FILE};
use super::session::{is_root, supervise};
use super::trial::allowed;

/// Run (or resume) a plan. A usage error (a wrong option, a --resume directory that is not a
/// run's) is printed and gives exit status 2, before any run directory is made.
pub fn run(args: RunRequest) -> Result<ExitCode> {
    match start(args) {
        Err(e) if e.downcast_ref::<Usage>().is_some() => {
            eprintln!("hwcert: error: {}", escape_text(&e.to_string()));
            Ok(ExitCode::from(2))
        }
        r => r,
    }
}

fn read_json<T: serde::de::DeserializeOwned>(p: &Path) -> Result<T> {
    let b = fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
    serde_json::from_slice(&b).with_context(|| format!("{} is not valid", p.display()))
}

fn write_json<T: serde::Serialize>(p: &Path, v: &T) -> Result<()> {
    let mut b = serde_json::to_vec_pretty(v)?;
    b.push(b'\n');
    rundir::write_atomic(p, &b).with_context(|| format!("cannot write {}", p.display()))
}

/// Probe the machine and make the plan (plus self-tests when HWCERT_SELFTEST is set).
fn make_plan(
    args: &RunRequest,
    sysroot: &Path,
    plan_sysroot: &Path,
) -> Result<(inventory::Inventory, Plan)> {
    let spec = args.profile.as_deref().unwrap_or("quick");
    let profile = profile::load(spec).map_err(|e| usage(format!("--profile {spec}: {e:#}")))?;
    let live = plan_sysroot == Path::new("/");
    let inv = inventory::probe(&inventory::ProbeOptions {
        sysroot: sysroot.to_path_buf(),
        all: false,
        show_identifiers: false,
        udev: live,
        bmc: inventory::bmc::Target::from_settings(&profile.settings),
    })?;
    let mut plan = planner::make_plan(&planner::PlanRequest {
        profile: &profile,
        inventory: &inv,
        sysroot: plan_sysroot,
        destructive_devices: args.devices.clone(),
        is_root: is_root(),
        allow_reboot: args.allow_reboot,
    })?;
    #[cfg(feature = "selftest")]
    if let Ok(spec) = std::env::var(testing::selftest::ENV) {
        if !spec.trim().is_empty() && spec.trim() != "0" {
            testing::selftest::append_to_plan(&mut plan, &spec, &inv)
                .map_err(|e| usage(format!("{e}")))?;
        }
    }
    plan.test_args = selection_args(&args.test);
    Ok((inv, plan))
}

fn start(args: RunRequest) -> Result<ExitCode> {
    check_test_options(&args.test).map_err(usage)?;
    if let Some(dir) = args.resume.clone() {
        return resume(&dir, args);
    }
    let sysroot_arg = args.sysroot.clone().unwrap_or_else(|| PathBuf::from("/"));
    if !sysroot_arg.exists() {
        return Err(usage(format!(
            "--sysroot {}: no such file or directory",
            sysroot_arg.display()
        )));
    }
    if args.test.list {
        let (root, _tmp) = crate::open_sysroot(&sysroot_arg)?;
        let (_, plan) = make_plan(&args, &root, &root)?;
        // `NAME: case`, one a line, in plan order: what FILTER, --exact, --skip and --ignored
        // select (libtest's own list would say "test").
        let mut out = String::new();
        for i in &plan.instances {
            let ignored = !allowed(&plan, i);
            let t = Trial::test(&i.name, || Ok(())).with_ignored_flag(ignored);
            if args.test.is_filtered_out(&t) || (args.test.ignored && !ignored) {
                continue;
            }
            out.push_str(&format!("{}: case\n", i.name));
        }
        print!("{}", escape_text(&out));
        return Ok(ExitCode::SUCCESS);
    }

    // The run directory: --out, or runs/<host>-<UTC time>.
    if let Some(out) = &args.out {
        if out.join(PLAN_FILE).exists() {
            return Err(usage(format!(
                "--out {}: already a run directory; continue it with --resume {0}",
                out.display()
            )));
        }
        if out.exists() {
            let empty = fs::read_dir(out)
                .map(|mut d| d.next().is_none())
                .unwrap_or(false);
            if !empty {
                return Err(usage(format!(
                    "--out {}: exists and is not an empty directory",
                    out.display()
                )));
            }
        }
    }
    let (root, _tmp) = crate::open_sysroot(&sysroot_arg)?;
    let snapshot = sysroot_arg.is_file();
    let plan_root = if snapshot {
        root.clone()
    } else {
        fs::canonicalize(&sysroot_arg)
            .with_context(|| format!("cannot open {}", sysroot_arg.display()))?
    };
    let (inv, mut plan) = make_plan(&args, &root, &plan_root)?;
    let dir = match &args.out {
        Some(out) => {
            fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
            out.clone()
        }
        None => new_run_dir(&inv)?,
    };
    let dir = fs::canonicalize(&dir).with_context(|| format!("cannot open {}", dir.display()))?;
    let Some(lock) = rundir::try_lock(&dir)? else {
        return Err(usage(format!(
            "{} is in use by another hwcert run",
            dir.display()
        )));
    };
    if snapshot {
        // Workers read the machine's files during the run, and after a resume: keep the
        // snapshot's tree in the run directory.
        let dest = dir.join("sysroot");
        fs::create_dir_all(&dest)?;
        let x = inventory::snapshot::extract(&sysroot_arg, &dest)?;
        for w in &x.warnings {
            eprintln!("hwcert: warning: {}", escape_text(w));
        }
        plan.sysroot = inventory::snapshot::extracted_root(&dest)
            .display()
            .to_string();
    }
    write_json(&dir.join(INVENTORY_FILE), &inv)?;
    write_json(&dir.join(PLAN_FILE), &plan)?;
    eprintln!(
        "hwcert: run directory {}: {} instances planned (profile {})",
        dir.display(),
        plan.instances.len(),
        plan.profile
    );
    supervise(&dir, plan, args.test, lock, args.certify_dir.as_deref())
}

fn new_run_dir(inv: &inventory::Inventory) -> Result<PathBuf> {
    let host: String = inv
        .host
        .hostname
        .as_deref()
        .unwrap_or("host")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let base = Path::new("runs");
    fs::create_dir_all(base).with_context(|| format!("cannot create {}", base.display()))?;
    let stem = format!("{host}-{}", rundir::compact_utc(SystemTime::now()));
    for n in 1..1000 {
        let p = if n == 1 {
            base.join(&stem)
        } else {
            base.join(format!("{stem}-{n}"))
        };
        match fs::create_dir(&p) {
            Ok(()) => return Ok(p),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot create {}", p.display())),
        }
    }
    bail!(
        "cannot find a free run directory name under {}",
        base.display()
    )
}

fn resume(dir: &Path, args: RunRequest) -> Result<ExitCode> {
    let shown = dir.display();
    if !dir.is_dir() {
        return Err(usage(format!("--resume {shown}: no such directory")));
    }
    if !dir.join(PLAN_FILE).is_file() {
        return Err(usage(format!(
            "--resume {shown}: not a hwcert run directory (no {PLAN_FILE})"
        )));
    }
    if gave_selection_args(&args.test) {
        return Err(usage(
            "--resume continues a run with the filter and test options it started with \
             (plan.json); only --format, --quiet, --color and --logfile may be given",
        ));
    }
    let dir = fs::canonicalize(dir).with_context(|| format!("cannot open {shown}"))?;
    let Some(lock) = rundir::try_lock(&dir)? else {
        let pid = RunState::read(&dir)
            .map(|s| format!(" (pid {})", s.supervisor_pid))
            .unwrap_or_default();
        return Err(usage(format!(
            "--resume {shown}: the run directory is in use by another hwcert run{pid}"
        )));
    };
    let plan: Plan =
        read_json(&dir.join(PLAN_FILE)).map_err(|e| usage(format!("--resume {shown}: {e:#}")))?;
    if !dir.join(INVENTORY_FILE).is_file() {
        return Err(usage(format!(
            "--resume {shown}: not a hwcert run directory (no {INVENTORY_FILE})"
        )));
    }
    let mut test = Arguments::try_parse_from(
        std::iter::once("hwcert run".to_string()).chain(plan.test_args.iter().cloned()),
    )
    .map_err(|e| {
        usage(format!(
            "--resume {shown}: bad test options in plan.json: {e}"
        ))
    })?;
    test.format = args.test.format;
    test.quiet = args.test.quiet;
    test.color = args.test.color;
    test.logfile = args.test.logfile.clone();
    check_test_options(&test).map_err(|e| {
        usage(format!(
            "--resume {shown}: bad test options in plan.json: {e}"
        ))
    })?;
    supervise(&dir, plan, test, lock, args.certify_dir.as_deref())
}
