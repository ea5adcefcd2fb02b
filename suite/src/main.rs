//! `hwcert`: the hardware compatibility certification suite for OpenCloudOS.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

use suite::{open_sysroot, planner, runner};

#[derive(Parser, Debug)]
#[command(
    name = "hwcert",
    version,
    about = "Hardware compatibility certification for OpenCloudOS",
    long_about = "Hardware compatibility certification for OpenCloudOS.\n\n\
                  hwcert finds the hardware of a machine (probe), records it for bug reports and \
                  tests (snapshot), and — as the suite grows — plans and runs certification cases \
                  and writes a signed report."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Find the hardware: host, firmware, CPU, memory, PCI, storage, network.
    ///
    /// Reads procfs and sysfs under --sysroot (default /), as `lscpu --sysroot` does. Needs no
    /// root for what Linux lets any user read. Serial numbers, UUIDs and MAC addresses are
    /// redacted unless --show-identifiers.
    Probe {
        /// Root of the tree to probe: a directory holding proc/ and sys/, or a snapshot
        /// (.tar.gz) made by `hwcert snapshot`.
        #[arg(long, value_name = "DIR|FILE", default_value = "/")]
        sysroot: PathBuf,
        /// Print the inventory document (schema hwcert.inventory/1) instead of the summary.
        #[arg(long)]
        json: bool,
        /// Also list loop, ram and zram block devices.
        #[arg(long)]
        all: bool,
        /// Show serial numbers, UUIDs, WWNs and MAC addresses.
        #[arg(long)]
        show_identifiers: bool,
        /// Do not read the udev database (live system only).
        #[arg(long)]
        no_udev: bool,
    },
    /// Record the files `probe` reads into a .tar.gz, for bug reports and test fixtures.
    ///
    /// `hwcert probe --sysroot FILE.tar.gz` (or the extracted directory) reproduces the same
    /// inventory. Identifiers are overwritten unless --show-identifiers.
    Snapshot {
        /// The archive to write.
        #[arg(short, long, value_name = "FILE.tar.gz")]
        output: PathBuf,
        /// Root of the tree to record (default /, the live system).
        #[arg(long, value_name = "DIR", default_value = "/")]
        sysroot: PathBuf,
        /// Keep serial numbers, UUIDs, WWNs and MAC addresses in the snapshot.
        #[arg(long)]
        show_identifiers: bool,
    },
    /// List the case instances a run would hold, in order, with time limits and estimates.
    Plan(planner::PlanArgs),
    /// Run the certification cases, each in its own worker process, journaled and resumable.
    Run(runner::RunArgs),
    /// Run one instance (used by `hwcert run`; not for people).
    #[command(name = "__worker", hide = true)]
    Worker(runner::WorkerArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            // One line: what failed and why.
            let mut msg = format!("{e}");
            for cause in e.chain().skip(1) {
                msg.push_str(&format!(": {cause}"));
            }
            eprintln!("hwcert: error: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Plan(args) => planner::cmd_plan(args),
        Command::Run(args) => runner::cmd_run(args),
        Command::Worker(args) => runner::cmd_worker(args),
        Command::Probe {
            sysroot,
            json,
            all,
            show_identifiers,
            no_udev,
        } => {
            let (root, _tmp) = open_sysroot(&sysroot)?;
            let opts = hwdb::ProbeOptions {
                sysroot: root,
                all,
                show_identifiers,
                udev: !no_udev,
            };
            let inv = hwdb::probe(&opts)?;
            let text = if json {
                let mut s = serde_json::to_string_pretty(&inv)?;
                s.push('\n');
                s
            } else {
                hwdb::summary::render(&inv)
            };
            write_stdout(text.as_bytes())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Snapshot {
            output,
            sysroot,
            show_identifiers,
        } => {
            if output.as_os_str().is_empty() {
                bail!("--output must name a file");
            }
            let opts = hwdb::ProbeOptions {
                sysroot,
                all: true,
                show_identifiers,
                udev: false,
            };
            // Write next to the target and rename, so a failed run leaves no half archive.
            let dir = output
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let tmp = tempfile::NamedTempFile::new_in(dir)
                .with_context(|| format!("cannot write in {}", dir.display()))?;
            let manifest = hwdb::snapshot::write(&opts, std::io::BufWriter::new(tmp.as_file()))?;
            // A temporary file is private (0600); a snapshot is meant to be shared.
            std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644))
                .with_context(|| format!("cannot set the mode of {}", tmp.path().display()))?;
            tmp.persist(&output)
                .with_context(|| format!("cannot write {}", output.display()))?;
            eprintln!(
                "hwcert: wrote {} ({} files, {} links, {} directories; identifiers {})",
                output.display(),
                manifest.files,
                manifest.links,
                manifest.dirs,
                if manifest.redacted {
                    "redacted"
                } else {
                    "kept"
                }
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Write to stdout; a closed pipe (`hwcert probe | head`) is not an error.
fn write_stdout(b: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(b).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("cannot write to standard output"),
    }
}
