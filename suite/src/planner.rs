//! The planner: which instances of which cases apply to a machine, under a profile, and why
//! the others do not. `hwcert plan`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use crate::plan::{InstanceKind, NotPlanned, Plan, PlannedInstance, PLAN_SCHEMA};
use crate::profile::Profile;

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
}

/// What a plan is made from.
pub struct PlanRequest<'a> {
    pub profile: &'a Profile,
    pub inventory: &'a hwdb::Inventory,
    pub sysroot: &'a std::path::Path,
    /// Devices named with `--destructive --device`.
    pub destructive_devices: Vec<String>,
    pub is_root: bool,
}

/// Make the plan.
pub fn make_plan(req: &PlanRequest<'_>) -> Result<Plan> {
    let mut instances = Vec::new();
    let mut not_planned = Vec::new();
    for case in cases::catalog() {
        let info = case.info();
        match case.select(req.inventory) {
            cases::Selection::Targets(ts) => {
                for t in ts {
                    instances.push(PlannedInstance {
                        name: cases::instance_name(&info.name, &t),
                        case: info.name.clone(),
                        component: info.component,
                        target: t.id.clone(),
                        target_label: t.label.clone(),
                        purpose: info.purpose.clone(),
                        timeout_s: info.timeout.as_secs_f64(),
                        estimate_s: info.estimate.as_secs_f64(),
                        blocker: info.blocker,
                        destructive: info.requirements.destructive,
                        kind: InstanceKind::Builtin,
                    });
                }
            }
            cases::Selection::NotApplicable(reason) => not_planned.push(NotPlanned {
                case: info.name.clone(),
                reason,
            }),
        }
    }
    Ok(Plan {
        schema: PLAN_SCHEMA.into(),
        profile: req.profile.name.clone(),
        profile_file: None,
        options: cases::RunOptions {
            destructive_devices: req.destructive_devices.clone(),
            ..Default::default()
        },
        test_args: Vec::new(),
        sysroot: req.sysroot.display().to_string(),
        instances,
        not_planned,
    })
}

/// `hwcert plan`.
pub fn cmd_plan(args: PlanArgs) -> Result<ExitCode> {
    let _ = args;
    Ok(ExitCode::SUCCESS)
}
