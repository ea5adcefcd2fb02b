//! `hwcert`: the hardware compatibility certification suite for OpenCloudOS.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{CommandFactory, Parser, Subcommand};

use harness::{open_sysroot, runner};
use suite::{compare, docs, esay, hwdb, peer, plan, run, say, write_human, write_stdout};

#[derive(Parser, Debug)]
#[command(
    name = "hwcert",
    version,
    about = "Hardware compatibility certification for OpenCloudOS",
    long_about = "Hardware compatibility certification for OpenCloudOS.\n\n\
                  hwcert finds the hardware of a machine (probe), plans the cases that apply \
                  (plan), runs them each in its own process (run), writes a signed report \
                  (report, verify) — all in one go with `hwcert certify` — and keeps the \
                  published hardware compatibility list (hwdb add, query, publish)."
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
        /// Reach the BMC this profile names over the LAN (its ipmi.host, ipmi.user and
        /// ipmi.password_file) instead of the local /dev/ipmi0 (live system only).
        #[arg(long, value_name = "NAME|FILE")]
        bmc_profile: Option<String>,
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
        /// Keep serial numbers, UUIDs, WWNs, MAC addresses, the hostname and the boot id in the
        /// snapshot.
        #[arg(long)]
        show_identifiers: bool,
        /// Replace FILE if it exists (without it, an existing FILE is an error, exit 2).
        #[arg(long)]
        force: bool,
        /// Reach the BMC this profile names over the LAN (its ipmi.host, ipmi.user and
        /// ipmi.password_file) instead of the local /dev/ipmi0 (live system only).
        #[arg(long, value_name = "NAME|FILE")]
        bmc_profile: Option<String>,
    },
    /// List the case instances a run would hold, in order, with time limits and estimates.
    Plan(plan::PlanArgs),
    /// Run the certification cases, each in its own worker process, journaled and resumable.
    Run(run::RunArgs),
    /// Run one instance (used by `hwcert run`; not for people).
    #[command(name = "__worker", hide = true)]
    Worker(run::WorkerArgs),
    /// Write the report of a run: report.json (signed), report.html, report.md, junit.xml, logs.
    ///
    /// report.json is the record; its signature (report.json.sig, OpenSSH SSHSIG, namespace
    /// hwcert-report) covers the logs through their hashes. Without --key, the lab key made by
    /// `hwcert keygen` signs when it exists; otherwise the report is unsigned.
    Report(ReportArgs),
    /// Check a report: its signature, its signer against an allowed_signers file, its logs.
    ///
    /// Exit status 0 only when all hold. The same signature check as
    /// `ssh-keygen -Y verify -f FILE -I PRINCIPAL -n hwcert-report -s report.json.sig < report.json`.
    Verify(VerifyArgs),
    /// Make an Ed25519 key pair to sign reports with, and print its allowed_signers line.
    Keygen(KeygenArgs),
    /// The main job: probe, plan, run, report and sign, in one command.
    ///
    /// Writes OUT/run (the run directory: inventory, plan, journal, logs) and OUT/report (the
    /// signed report.json with its HTML, Markdown and JUnit renderings). Without a key of its own
    /// it signs with a local lab key, made on first use under the user's configuration directory.
    Certify {
        /// A built-in profile (quick, standard, full) or a profile file (TOML).
        #[arg(long, default_value = "quick", value_name = "NAME|FILE")]
        profile: String,
        /// Where to write the run and the report [default: ./certification/<host>-<UTC time>].
        #[arg(short, long, value_name = "OUT")]
        output: Option<PathBuf>,
        /// Sign with this OpenSSH Ed25519 private key instead of the local lab key.
        #[arg(long, value_name = "FILE")]
        key: Option<PathBuf>,
        /// Continue an interrupted certification in OUT (its run), then write its report.
        #[arg(long, value_name = "OUT", conflicts_with_all = ["profile", "output", "allow_reboot"])]
        resume: Option<PathBuf>,
        /// Let the cases that take the machine down (reboot cycles, a kdump crash, a watchdog
        /// reset, a BMC power cycle) run, where the profile enables them. The run goes on
        /// after each boot (hwcert-resume.service); `hwcert certify --resume OUT` writes the
        /// signed report once it is over.
        #[arg(long)]
        allow_reboot: bool,
    },
    /// The fleet view: compare many machines' reports, model by model.
    ///
    /// Machines of one model (DMI system vendor and product; without DMI, the CPU model) are
    /// compared: each inventory attribute (BIOS, kernel, CPU, memory and DIMM population, PCI
    /// functions and links, NIC link speeds and firmware, disk models and firmware) with the
    /// value most machines share and the machines that differ; each performance figure the
    /// cases measured with the group's median and the machines more than --threshold percent
    /// worse (below for bandwidth, IOPS, throughput; above for latency). A report whose
    /// signature does not hold is left out with the reason; an unsigned one is compared and
    /// marked.
    ///
    /// Exit status: 0 all alike; 1 a difference or an outlier, or a report that cannot be
    /// read; 7 a report whose signature does not hold (left out); 2 a wrong command line.
    Compare(compare::CompareArgs),
    /// The hardware compatibility list: add verified reports, query it, publish the website.
    Hwdb {
        #[command(subcommand)]
        command: hwdb::HwdbCommand,
    },
    /// Serve the network traffic cases of other machines: iperf3 servers on the cases' ports,
    /// for the clients on --allow only, bounded in time, each client logged (issue 15).
    Peer(peer::PeerArgs),
    /// Print the JSON Schema of a document.
    Schema {
        /// Which document.
        #[arg(value_enum)]
        document: SchemaDoc,
    },
    /// Print the shell completion script for bash, zsh or fish.
    ///
    /// The RPM installs them; by hand: `hwcert completions bash >
    /// /usr/share/bash-completion/completions/hwcert`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Documentation made from these definitions (used by the build and ./dev.sh docs).
    #[command(name = "__docs", hide = true)]
    Docs {
        #[command(subcommand)]
        what: DocsCommand,
    },
}

#[derive(Subcommand, Debug)]
enum DocsCommand {
    /// Write the man pages (hwcert.1 and one per subcommand) into DIR.
    Man {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// Print FILE (the README) with its generated blocks made again.
    Readme {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

#[derive(clap::Args, Debug)]
struct ReportArgs {
    /// The run directory `hwcert run` made.
    #[arg(value_name = "RUN_DIR")]
    run_dir: PathBuf,
    /// Where to write the report [default: RUN_DIR/report].
    #[arg(short, long, value_name = "OUT")]
    output: Option<PathBuf>,
    /// The OpenSSH Ed25519 private key to sign with (mode 0600).
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
struct VerifyArgs {
    /// A report directory, or its report.json (report.json.sig beside it).
    #[arg(value_name = "REPORT_DIR|report.json")]
    report: PathBuf,
    /// The allowed_signers file (ssh-keygen(1) format) naming who may sign reports.
    #[arg(long, value_name = "FILE")]
    allowed_signers: PathBuf,
    /// The signer must be allowed as this principal (ssh-keygen's -I).
    #[arg(short = 'I', long, value_name = "NAME")]
    principal: Option<String>,
}

#[derive(clap::Args, Debug)]
struct KeygenArgs {
    /// The private key file to write (FILE.pub beside it) [default: the lab key,
    /// $XDG_CONFIG_HOME/hwcert/report_ed25519 or ~/.config/hwcert/report_ed25519].
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    file: Option<PathBuf>,
    /// Who signs with it, as verifiers will name it in allowed_signers [default: user@host].
    #[arg(long, value_name = "NAME")]
    principal: Option<String>,
    /// Make no key: print the allowed_signers line of the existing key KEY (its KEY.pub), with
    /// --principal or the key's comment as the principal.
    #[arg(long, value_name = "KEY", conflicts_with = "file")]
    print_signer: Option<PathBuf>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum SchemaDoc {
    /// report.json (hwcert.report/1).
    Report,
    /// The fleet view of `hwcert compare --format json` (hwcert.fleet/1).
    Fleet,
}

fn main() -> ExitCode {
    // Secrets leave the environment first, before any thread starts: whoever reads
    // /proc/<this pid>/environ during a run of hours sees none (workers get none either).
    for v in documents::secrets::SECRET_ENV {
        // SAFETY: the first thing main does; no other thread exists yet.
        let value = unsafe { hwsys::env::take(v) };
        if *v == documents::secrets::PASSPHRASE_ENV {
            reports::keys::set_passphrase(value.and_then(|s| s.into_string().ok()));
        }
    }
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            // One line: what failed and why.
            let mut msg = format!("{e}");
            for cause in e.chain().skip(1) {
                msg.push_str(&format!(": {cause}"));
            }
            esay!("hwcert: error: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Plan(args) => plan::cmd_plan(args),
        Command::Run(args) => run::cmd_run(args),
        Command::Worker(args) => run::cmd_worker(args),
        Command::Report(args) => cmd_report(args),
        Command::Verify(args) => cmd_verify(args),
        Command::Keygen(args) => cmd_keygen(args),
        Command::Certify {
            profile,
            output,
            key,
            resume,
            allow_reboot,
        } => cmd_certify(&profile, output, key, resume, allow_reboot),
        Command::Compare(args) => compare::cmd_compare(args),
        Command::Hwdb { command } => hwdb::cmd_hwdb(command),
        Command::Peer(args) => peer::cmd_peer(args),
        Command::Completions { shell } => {
            write_stdout(&docs::completions(&Cli::command(), shell))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Docs { what } => cmd_docs(what),
        Command::Schema { document } => {
            let text = match document {
                SchemaDoc::Report => documents::schema::REPORT_SCHEMA,
                SchemaDoc::Fleet => documents::schema::FLEET_SCHEMA,
            };
            write_stdout(text.as_bytes())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Probe {
            sysroot,
            json,
            all,
            show_identifiers,
            no_udev,
            bmc_profile,
        } => {
            let bmc = match bmc_of(bmc_profile.as_deref()) {
                Ok(b) => b,
                Err(code) => return Ok(code),
            };
            let (root, _tmp) = open_sysroot(&sysroot)?;
            let opts = inventory::ProbeOptions {
                sysroot: root,
                all,
                show_identifiers,
                udev: !no_udev,
                bmc,
            };
            let inv = inventory::probe(&opts)?;
            if json {
                let mut s = hwsys::text::json_terminal_safe(serde_json::to_string_pretty(&inv)?);
                s.push('\n');
                write_stdout(s.as_bytes())?;
            } else {
                write_human(&inventory::summary::render(&inv))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Snapshot {
            output,
            sysroot,
            show_identifiers,
            force,
            bmc_profile,
        } => {
            let bmc = match bmc_of(bmc_profile.as_deref()) {
                Ok(b) => b,
                Err(code) => return Ok(code),
            };
            if output.as_os_str().is_empty() {
                bail!("--output must name a file");
            }
            // symlink_metadata: a dangling link at FILE is something there too.
            if !force && std::fs::symlink_metadata(&output).is_ok() {
                return Ok(refuse_overwrite(&output));
            }
            let opts = inventory::ProbeOptions {
                sysroot,
                all: true,
                show_identifiers,
                udev: false,
                bmc,
            };
            // Write next to the target and rename, so a failed run leaves no half archive.
            let dir = output
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let tmp = tempfile::NamedTempFile::new_in(dir)
                .with_context(|| format!("cannot write in {}", dir.display()))?;
            let manifest =
                inventory::snapshot::write(&opts, std::io::BufWriter::new(tmp.as_file()))?;
            // A temporary file is private (0600); a snapshot is meant to be shared.
            std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644))
                .with_context(|| format!("cannot set the mode of {}", tmp.path().display()))?;
            // Durable before it takes the name, as every other file hwcert writes.
            tmp.as_file()
                .sync_all()
                .with_context(|| format!("cannot write {}", tmp.path().display()))?;
            if force {
                tmp.persist(&output)
                    .with_context(|| format!("cannot write {}", output.display()))?;
            } else {
                // No-clobber: FILE may have appeared while the tree was read.
                match tmp.persist_noclobber(&output) {
                    Ok(_) => {}
                    Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => {
                        return Ok(refuse_overwrite(&output));
                    }
                    Err(e) => {
                        return Err(anyhow::Error::new(e.error)
                            .context(format!("cannot write {}", output.display())))
                    }
                }
            }
            esay!(
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

/// `hwcert __docs`.
fn cmd_docs(what: DocsCommand) -> Result<ExitCode> {
    match what {
        DocsCommand::Man { dir } => {
            for f in docs::write_man_pages(&Cli::command(), &dir)? {
                esay!("hwcert: wrote {}", f.display());
            }
        }
        DocsCommand::Readme { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let text = docs::refresh_readme(&text, &Cli::command())
                .with_context(|| format!("in {}", file.display()))?;
            write_stdout(text.as_bytes())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `hwcert snapshot -o FILE` where FILE exists and no --force: a usage error (exit 2).
fn refuse_overwrite(output: &Path) -> ExitCode {
    esay!(
        "hwcert: error: {} exists; pass --force to replace it",
        output.display()
    );
    ExitCode::from(2)
}

/// `hwcert report`.
fn cmd_report(args: ReportArgs) -> Result<ExitCode> {
    let out = args
        .output
        .clone()
        .unwrap_or_else(|| args.run_dir.join("report"));
    let key = match args.key {
        Some(k) => Some(k),
        None => reports::keys::default_key_path()
            .ok()
            .filter(|p| p.exists()),
    };
    let s = reports::build_report(&args.run_dir, &out, key.as_deref())?;
    let c = &s.counts;
    esay!(
        "hwcert: wrote {} (report.json, report.html, report.md, junit.xml, {} logs); {}",
        out.display(),
        s.logs,
        match (&s.signed_by, &key) {
            (Some(f), Some(k)) => format!("signed with {} ({f})", k.display()),
            _ => "unsigned: pass --key, or make the lab key with `hwcert keygen`".to_string(),
        }
    );
    if !s.warnings.is_empty() {
        esay!(
            "hwcert: {} warnings (in report.json): {}",
            s.warnings.len(),
            s.warnings[0]
        );
    }
    say!("{}", s.summary);
    say!(
        "{} instances: {} pass, {} fail, {} error, {} timeout, {} crash, {} interrupted, {} not run, {} skip",
        c.total, c.pass, c.fail, c.error, c.timeout, c.crash, c.interrupted, c.not_run, c.skip
    );
    Ok(ExitCode::SUCCESS)
}

/// `hwcert certify`: run, then report and sign.
fn cmd_certify(
    profile: &str,
    output: Option<PathBuf>,
    key: Option<PathBuf>,
    resume: Option<PathBuf>,
    allow_reboot: bool,
) -> Result<ExitCode> {
    if let Some(out) = &resume {
        if !out.join("run").join("plan.json").is_file() {
            esay!(
                "hwcert: certify --resume {}: no certification run there (no {})",
                out.display(),
                out.join("run/plan.json").display()
            );
            return Ok(ExitCode::from(documents::exit::USAGE));
        }
    }
    let out = match resume.clone().or(output) {
        Some(o) => o,
        None => {
            let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_string())
                .unwrap_or_else(|_| "host".into());
            PathBuf::from("certification").join(format!(
                "{host}-{}",
                hwsys::time::compact_utc(std::time::SystemTime::now())
            ))
        }
    };
    if resume.is_none() && out.join("run").exists() {
        bail!(
            "{}: already holds a run; choose another -o (or `hwcert certify --resume {}`)",
            out.display(),
            out.display()
        );
    }
    // The key first: a run of hours must not end in a report that cannot be signed.
    let (key, created) = match key {
        Some(k) => (k, false),
        None => reports::keys::ensure_lab_key().context("cannot make the local lab key")?,
    };
    let signing = reports::keys::load_signing_key(&key)?;
    if created {
        esay!(
            "hwcert: made a local lab key at {}: this report is signed by a local lab key, not by \
             a certification authority. Give reviewers its allowed_signers line:",
            key.display()
        );
        let principal = signing.comment().to_string();
        let principal = if principal.is_empty() {
            reports::keys::default_principal()
        } else {
            principal
        };
        esay!(
            "  {}",
            reports::keys::allowed_signers_line(&principal, signing.public_key())?
        );
    }
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let run_dir = out.join("run");
    // The same run as `hwcert run --profile P --out OUT/run`, through the runner's API.
    let ran = runner::run(runner::RunRequest {
        profile: resume.is_none().then(|| profile.to_string()),
        out: resume.is_none().then(|| run_dir.clone()),
        resume: resume.is_some().then(|| run_dir.clone()),
        certify_dir: Some(out.clone()),
        allow_reboot,
        ..Default::default()
    })?;
    if ran == ExitCode::from(2) || !run_dir.join("plan.json").exists() {
        bail!("the run did not start (see above); no report written");
    }
    if let Some(why) = runner::awaiting_disruption(&run_dir) {
        // The machine goes down now: a report of the unfinished run would be incomplete.
        esay!(
            "hwcert: {}: no report yet. The run goes on after the boot (hwcert-resume.service); \
             when it is over, `hwcert certify --resume {}` writes the signed report.",
            hwsys::text::escape_text(&why),
            out.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let report_dir = out.join("report");
    let s = reports::build_report(&run_dir, &report_dir, Some(&key))?;
    say!();
    say!("{}", s.summary);
    say!("Report:   {}", report_dir.join("report.html").display());
    say!(
        "Verify:   hwcert verify {} --allowed-signers FILE   (FILE from a source you trust; \
         the signer's line is in {})",
        report_dir.display(),
        report_dir
            .join(documents::reportdir::ALLOWED_SIGNERS)
            .display()
    );
    Ok(ExitCode::from(documents::exit::for_verdict(s.overall)))
}

/// `hwcert verify`.
fn cmd_verify(args: VerifyArgs) -> Result<ExitCode> {
    if let Some(p) = &args.principal {
        if p.is_empty() {
            bail!("--principal must not be empty");
        }
    }
    let v = reports::verify::verify(
        &args.report,
        &args.allowed_signers,
        args.principal.as_deref(),
    )?;
    let mut out = String::new();
    for c in &v.checks {
        out.push_str(&format!(
            "{} {:<9} {}\n",
            if c.ok { "ok  " } else { "FAIL" },
            c.what,
            c.detail
        ));
    }
    for n in &v.notes {
        out.push_str(&format!("note {n}\n"));
    }
    if v.ok() && !v.logs_checked {
        out.push_str(&format!(
            "hwcert: {}: verified: the signature of report.json by an allowed signer (it covers \
             the SHA-512 hash of the whole report); logs are not part of a published report, so \
             they were not checked\n",
            v.report.display()
        ));
        write_stdout(out.as_bytes())?;
        Ok(ExitCode::SUCCESS)
    } else if v.ok() {
        out.push_str(&format!("hwcert: {}: verified\n", v.report.display()));
        write_human(&out)?;
        Ok(ExitCode::SUCCESS)
    } else {
        let failed: Vec<&str> = v.checks.iter().filter(|c| !c.ok).map(|c| c.what).collect();
        out.push_str(&format!(
            "hwcert: {}: NOT verified ({} failed)\n",
            v.report.display(),
            failed.join(", ")
        ));
        write_human(&out)?;
        Ok(ExitCode::FAILURE)
    }
}

/// `hwcert keygen`.
fn cmd_keygen(args: KeygenArgs) -> Result<ExitCode> {
    if let Some(key) = &args.print_signer {
        let line = reports::keys::signer_line_of_file(key, args.principal.as_deref())?;
        say!("{line}");
        return Ok(ExitCode::SUCCESS);
    }
    let principal = args
        .principal
        .unwrap_or_else(reports::keys::default_principal);
    let file = match args.file {
        Some(f) => f,
        None => {
            let p = reports::keys::default_key_path()?;
            if let Some(dir) = p.parent() {
                use std::os::unix::fs::DirBuilderExt;
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
            p
        }
    };
    let k = reports::keys::keygen(&file, &principal)?;
    esay!(
        "hwcert: wrote {} (private key, mode 0600) and {}\nhwcert: key {} for principal {}; \
         verifiers put this line in their allowed_signers file:",
        k.private.display(),
        k.public.display(),
        k.fingerprint,
        k.principal
    );
    say!("{}", k.allowed_signers);
    Ok(ExitCode::SUCCESS)
}

/// The BMC `--bmc-profile SPEC` names over the LAN. A profile that does not load or names no
/// BMC is a usage error (exit 2), said before anything is probed.
fn bmc_of(spec: Option<&str>) -> Result<Option<inventory::bmc::Target>, ExitCode> {
    let Some(spec) = spec else { return Ok(None) };
    let why = match harness::profile::load(spec) {
        Ok(p) => match inventory::bmc::Target::from_settings(&p.settings) {
            Some(t) => return Ok(Some(t)),
            None => "the profile names no BMC (set ipmi.host, and ipmi.user and \
                     ipmi.password_file where it needs them)"
                .to_string(),
        },
        Err(e) => format!("{e:#}"),
    };
    esay!("hwcert: error: --bmc-profile {spec}: {why}");
    Err(ExitCode::from(2))
}
