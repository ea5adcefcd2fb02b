//! The runner: `hwcert run` (libtest-mimic front, one worker process per instance, timeouts,
//! journal, resume) and the hidden worker subcommand.

use std::process::ExitCode;

use anyhow::Result;

/// `hwcert run` arguments.
#[derive(clap::Args, Debug)]
pub struct RunArgs {}

/// `hwcert __worker` arguments (hidden).
#[derive(clap::Args, Debug)]
pub struct WorkerArgs {}

/// `hwcert run`.
pub fn cmd_run(args: RunArgs) -> Result<ExitCode> {
    let _ = args;
    Ok(ExitCode::SUCCESS)
}

/// `hwcert __worker`: run one instance and report its outcome.
pub fn cmd_worker(args: WorkerArgs) -> Result<ExitCode> {
    let _ = args;
    Ok(ExitCode::SUCCESS)
}
