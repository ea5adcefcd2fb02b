//! What to run, as `hwcert run` and `hwcert certify` ask for it: the request, the usage
//! errors (exit status 2), and libtest-mimic's options — those kept in plan.json so that a
//! resume selects the same instances, and those it cannot run with.

use std::fs;
use std::path::{Path, PathBuf};

use libtest_mimic::Arguments;

/// What to run: a new run (a profile on a sysroot into a directory) or the resume of one,
/// with libtest-mimic's selection and test options. `hwcert run` and `hwcert certify` make
/// one of these from their command lines.
#[derive(Debug, Default)]
pub struct RunRequest {
    /// A built-in profile (quick, standard, full) or a profile file [default: quick].
    pub profile: Option<String>,
    /// A recorded machine: a sysroot directory or a snapshot [default: /].
    pub sysroot: Option<PathBuf>,
    /// The run directory to create [default: ./runs/<host>-<UTC time>].
    pub out: Option<PathBuf>,
    /// Continue the run in this directory instead.
    pub resume: Option<PathBuf>,
    /// Destructive cases may write the devices in `devices`.
    pub destructive: bool,
    pub devices: Vec<String>,
    /// `--allow-reboot`: cases the profile enables may reboot, crash or power-cycle the
    /// machine.
    pub allow_reboot: bool,
    /// Filters and test options, as for `cargo test`.
    pub test: Arguments,
    /// The run is `hwcert certify -o DIR`'s: an interruption says `hwcert certify --resume DIR`,
    /// and the end does not say that `hwcert report` comes next (certify makes the report).
    pub certify_dir: Option<PathBuf>,
}

/// A usage error: exit status 2.
#[derive(Debug)]
pub(super) struct Usage(String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

pub(super) fn usage(msg: impl Into<String>) -> anyhow::Error {
    Usage(msg.into()).into()
}

/// The selection options of a libtest-mimic command line, as arguments (stored in plan.json so
/// a resume selects the same instances). Output options (format, color, logfile) are not: a
/// resume may choose its own.
pub(super) fn selection_args(a: &Arguments) -> Vec<String> {
    let mut v = Vec::new();
    for (on, flag) in [
        (a.include_ignored, "--include-ignored"),
        (a.ignored, "--ignored"),
        (a.exact, "--exact"),
        (a.test, "--test"),
        (a.bench, "--bench"),
    ] {
        if on {
            v.push(flag.to_string());
        }
    }
    if let Some(n) = a.test_threads {
        v.push(format!("--test-threads={n}"));
    }
    for s in &a.skip {
        v.push(format!("--skip={s}"));
    }
    if let Some(f) = &a.filter {
        v.push("--".into());
        v.push(f.clone());
    }
    v
}

pub(super) fn gave_selection_args(a: &Arguments) -> bool {
    a.include_ignored
        || a.ignored
        || a.exact
        || a.test
        || a.bench
        || a.list
        || a.test_threads.is_some()
        || !a.skip.is_empty()
        || a.filter.is_some()
}

/// The test options libtest-mimic would take but cannot run with: `--test-threads 0` (its
/// thread pool would wait forever), a `--logfile` that cannot be written (it panics). Checked
/// before a run directory is made, and on the options a resume reads from plan.json.
pub(super) fn check_test_options(a: &Arguments) -> Result<(), String> {
    if a.test_threads == Some(0) {
        return Err(
            "--test-threads 0: give at least 1 (instances run one at a time unless \
                    --test-threads is given)"
                .into(),
        );
    }
    if let Some(f) = &a.logfile {
        let p = Path::new(f);
        if f.is_empty() {
            return Err("--logfile: give a file name".into());
        }
        if p.is_dir() {
            return Err(format!("--logfile {f}: is a directory; give a file name"));
        }
        let parent = p.parent().filter(|d| !d.as_os_str().is_empty());
        if let Some(d) = parent {
            if !d.is_dir() {
                return Err(format!(
                    "--logfile {f}: the directory {} does not exist",
                    d.display()
                ));
            }
        }
        // libtest-mimic creates (truncates) it later; make sure it can.
        fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(p)
            .map_err(|e| format!("--logfile {f}: cannot write it: {e}"))?;
    }
    Ok(())
}
