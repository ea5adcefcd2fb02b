//! Running the traffic cases' tools, bounded in time (through `hwsys::cmd`).

use std::time::Duration;

use crate::util;

/// What a bounded command did (through [`hwsys::cmd::run`]: its own process group, killed
/// with it at the limit, output capped).
pub struct Ran {
    /// "exit status 1", "timed out after 40 s", …
    pub status: String,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
}

/// What to do when `prog` is missing.
fn install_hint(prog: &str) -> &str {
    match prog {
        "ip" => "iproute",
        "ping" => "iputils",
        p if p.starts_with("ib_") => "perftest",
        p => p,
    }
}

/// Run `argv` (a program on PATH) for at most `limit`.
pub fn run_bounded(argv: &[String], limit: Duration) -> Result<Ran, String> {
    let Some(prog) = argv.first() else {
        return Err("no program to run".into());
    };
    let limits = hwsys::cmd::Limits {
        timeout: limit,
        max_stdout: 64 << 20,
        max_stderr: 1 << 20,
    };
    match hwsys::cmd::run(std::path::Path::new(prog), &argv[1..], limits) {
        Ok(r) => Ok(Ran {
            status: r.describe(),
            stdout: String::from_utf8_lossy(&r.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&r.stderr).into_owned(),
            timed_out: r.timed_out,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(format!(
            "{prog} is not installed (not on PATH): install it (dnf install {})",
            install_hint(prog)
        )),
        Err(e) => Err(format!("cannot run {prog}: {}", util::os_error(&e))),
    }
}

/// Run every command of `argvs` at once, each for at most `limit`; results in order.
pub fn run_all(argvs: &[Vec<String>], limit: Duration) -> Vec<Result<Ran, String>> {
    std::thread::scope(|s| {
        let hs: Vec<_> = argvs
            .iter()
            .map(|a| s.spawn(move || run_bounded(a, limit)))
            .collect();
        hs.into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("the thread running the command panicked".into()))
            })
            .collect()
    })
}

pub(crate) fn args(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}
