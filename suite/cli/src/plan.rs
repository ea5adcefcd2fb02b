//! `hwcert plan`: the command line over [`harness::planner`].

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use harness::planner::{make_plan_with, render_text, PlanRequest, Planned};
use harness::{open_sysroot, profile};

use crate::{esay, write_human, write_stdout};

/// `hwcert plan` arguments.
#[derive(clap::Args, Debug)]
pub struct PlanArgs {
    /// A built-in profile (quick, standard, full) or a profile file (TOML).
    #[arg(long, default_value = "quick", value_name = "NAME|FILE")]
    pub profile: String,
    /// Plan for a recorded machine: a sysroot directory or snapshot.
    #[arg(long, value_name = "DIR|FILE", default_value = "/")]
    pub sysroot: PathBuf,
    /// Also list every case that was not planned, and why.
    #[arg(long)]
    pub explain: bool,
    /// Print the plan document.
    #[arg(long)]
    pub json: bool,
    /// Plan the cases the profile enables that reboot, crash or power-cycle the machine (as
    /// `run --allow-reboot` would).
    #[arg(long)]
    pub allow_reboot: bool,
}

/// `hwcert plan`.
pub fn cmd_plan(args: PlanArgs) -> Result<ExitCode> {
    let profile = profile::load(&args.profile)?;
    let (root, _tmp) = open_sysroot(&args.sysroot)?;
    let inv = inventory::probe(&inventory::ProbeOptions {
        sysroot: root.clone(),
        bmc: inventory::bmc::Target::from_settings(&profile.settings),
        ..Default::default()
    })?;
    let mut req = PlanRequest::new(&profile, &inv, &root);
    req.allow_reboot = args.allow_reboot;
    let Planned { mut plan, warnings } = make_plan_with(&req, &cases::catalog())?;
    plan.sysroot = args.sysroot.display().to_string();
    let text = if args.json {
        let mut s = hwsys::text::json_terminal_safe(serde_json::to_string_pretty(&plan)?);
        s.push('\n');
        s
    } else {
        render_text(&plan, Some(&profile), args.explain)
    };
    for w in &warnings {
        esay!("hwcert: warning: {w}");
    }
    if args.json {
        write_stdout(text.as_bytes())?;
    } else {
        write_human(&text)?;
    }
    Ok(ExitCode::SUCCESS)
}
