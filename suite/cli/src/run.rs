//! `hwcert run` and the hidden `hwcert __worker`: the command lines over [`harness::runner`].

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use libtest_mimic::Arguments;

use harness::runner::{self, RunRequest, WorkerRequest};

/// `hwcert run` arguments.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// A built-in profile (quick, standard, full) or a profile file (TOML) [default: quick].
    #[arg(long, value_name = "NAME|FILE")]
    pub profile: Option<String>,
    /// Run against a recorded machine: a sysroot directory or a snapshot [default: /].
    #[arg(long, value_name = "DIR|FILE")]
    pub sysroot: Option<PathBuf>,
    /// The run directory to create [default: ./runs/<host>-<UTC time>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Continue the run in DIR: the same plan, filter and options; only what has no final
    /// result runs.
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with_all = ["profile", "sysroot", "out", "destructive", "devices", "allow_reboot"]
    )]
    pub resume: Option<PathBuf>,
    /// Allow destructive cases on the devices named with --device.
    #[arg(long, requires = "devices")]
    pub destructive: bool,
    /// A device that destructive cases may write (a block device name); repeat for more.
    #[arg(long = "device", value_name = "ID", requires = "destructive")]
    pub devices: Vec<String>,
    /// Allow the cases the profile enables to reboot, crash or power-cycle this machine
    /// (system::reboot_cycle); the run resumes on each next boot through
    /// hwcert-resume.service.
    #[arg(long)]
    pub allow_reboot: bool,
    #[command(
        flatten,
        next_help_heading = "Selection and output (as for cargo test)"
    )]
    pub test: Arguments,
    #[command(flatten)]
    help: RunHelp,
}

/// Replaces the help template and note that the flattened libtest-mimic arguments bring along
/// (flattened last, so its settings win).
#[derive(clap::Args, Debug)]
#[command(
    // libtest's options that mean nothing for cases are accepted (scripts written for cargo
    // test keep working) but not shown; the rest say what they do here.
    mut_arg("test", |a| a.hide(true)),
    mut_arg("bench", |a| a.hide(true)),
    mut_arg("nocapture", |a| a.hide(true)),
    mut_arg("show_output", |a| a.hide(true)),
    mut_arg("unstable_flags", |a| a.hide(true)),
    mut_arg("include_ignored", |a| a.help("Also run the ignored (destructive) cases")),
    mut_arg("ignored", |a| a.help("Run only the ignored (destructive) cases")),
    mut_arg("list", |a| a.help("List the planned cases (NAME: case) and create nothing")),
    mut_arg("exact", |a| a.help("Match FILTER as a whole case name, not a part of one")),
    mut_arg("quiet", |a| a.help("One character per case (as --format terse)").long_help(None::<&str>)),
    mut_arg("test_threads", |a| a.help("How many cases run at once [default: 1]").long_help(None::<&str>)),
    mut_arg("logfile", |a| a.help("Write the per-case results to PATH instead of stdout")),
    mut_arg("skip", |a| a.help("Skip the cases whose names contain FILTER (repeatable)")),
    mut_arg("color", |a| a
        .help("Colour the status words: auto (on a terminal, unless NO_COLOR is set), always, never")
        .long_help(None::<&str>)
        .hide_possible_values(true)),
    mut_arg("format", |a| a
        .help("pretty (a line per case, its figures, a progress bar), terse (a character per case) or json (libtest's events)")
        .long_help(None::<&str>)
        .hide_possible_values(true)),
    mut_arg("filter", |a| a.help("Run only the cases whose names contain FILTER").long_help(None::<&str>)),
    help_template = "{about-with-newline}\n{usage-heading} {usage}\n\n{all-args}{after-help}",
    after_help = "Instance names are test names: FILTER, --exact, --skip, --ignored and --list work \
                  as for cargo test. Instances run one at a time unless --test-threads is given. \
                  Destructive instances are ignored unless --destructive --device names their \
                  target.\n\nExit status: 0 when the run certifies (a live run of a \
                  certification profile, every blocker run and passed), 1 when it does not (a \
                  blocker failed, errored, timed out, crashed, was interrupted, skipped, \
                  excluded or not planned; a recorded machine; a profile built on quick), 2 \
                  for a usage error. Ctrl-C stops the run resumably: `hwcert run --resume \
                  DIR`, then `hwcert report DIR`."
)]
struct RunHelp {}

impl From<RunArgs> for RunRequest {
    fn from(a: RunArgs) -> Self {
        RunRequest {
            profile: a.profile,
            sysroot: a.sysroot,
            out: a.out,
            resume: a.resume,
            destructive: a.destructive,
            devices: a.devices,
            allow_reboot: a.allow_reboot,
            test: a.test,
            certify_dir: None,
        }
    }
}

/// `hwcert run`.
pub fn cmd_run(args: RunArgs) -> Result<ExitCode> {
    runner::run(args.into())
}

/// `hwcert __worker` arguments (hidden; the supervisor writes them).
#[derive(clap::Args, Debug)]
pub struct WorkerArgs {
    /// The run directory.
    #[arg(long, value_name = "DIR")]
    pub run_dir: PathBuf,
    /// The instance to run.
    #[arg(long, value_name = "NAME")]
    pub instance: String,
    /// The read end of the supervisor's lifeline pipe.
    #[arg(long, value_name = "FD")]
    pub watch_fd: Option<i32>,
    /// The supervisor's pid (to notice it died before the death signal was armed).
    #[arg(long, value_name = "PID")]
    pub supervisor_pid: Option<i32>,
}

/// `hwcert __worker`.
pub fn cmd_worker(a: WorkerArgs) -> Result<ExitCode> {
    runner::worker(WorkerRequest {
        run_dir: a.run_dir,
        instance: a.instance,
        watch_fd: a.watch_fd,
        supervisor_pid: a.supervisor_pid,
    })
}
