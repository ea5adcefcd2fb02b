//! Running a machine tool (`systemctl`, `ipmitool`, `makedumpfile`) under a time limit: the
//! tool leads its own process group, which is killed when the limit passes, and its output is
//! kept up to a cap. A tool that hangs (an unreachable BMC, a wedged D-Bus) is a
//! [`ToolError::Timeout`], never a hung case.

use std::os::unix::process::ExitStatusExt as _;
use std::path::Path;
use std::process::ExitStatus;
use std::time::Duration;

/// The most bytes of stdout (and of stderr) kept.
pub const OUTPUT_CAP: usize = 4 << 20;

/// What a tool printed and how it ended.
#[derive(Debug, Clone)]
pub struct Output {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Whether it exited 0.
    pub fn success(&self) -> bool {
        self.status.success()
    }
    /// "exit status 1: <first stderr line>" for a message.
    pub fn failure(&self) -> String {
        let how = match (self.status.code(), self.status.signal()) {
            (Some(c), _) => format!("exit status {c}"),
            (None, Some(s)) => format!("signal {s}"),
            _ => "an odd end".to_string(),
        };
        match self.stderr.lines().map(str::trim).find(|l| !l.is_empty()) {
            Some(l) => format!("{how}: {}", hwsys::text::escape_controls(l)),
            None => how,
        }
    }
}

/// Why a tool gave no output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolError {
    NotFound(String),
    Timeout(String, Duration),
    Io(String, String),
}

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ToolError::NotFound(p) => write!(f, "{p} is not installed (not on PATH)"),
            ToolError::Timeout(p, d) => write!(
                f,
                "{p} did not finish within {:.1} s and was killed",
                d.as_secs_f64()
            ),
            ToolError::Io(p, e) => write!(f, "cannot run {p}: {e}"),
        }
    }
}

impl std::error::Error for ToolError {}

/// Run `prog args…` with stdin closed, for at most `limit` (through [`hwsys::cmd::run`], the
/// one runner of machine tools: its own process group, killed at the limit with whatever it
/// left behind, output capped).
pub fn run(prog: &str, args: &[&str], limit: Duration) -> Result<Output, ToolError> {
    let limits = hwsys::cmd::Limits {
        timeout: limit,
        max_stdout: OUTPUT_CAP,
        max_stderr: OUTPUT_CAP,
    };
    let ran = hwsys::cmd::run(Path::new(prog), args, limits).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ToolError::NotFound(prog.to_string()),
        _ => ToolError::Io(prog.to_string(), e.to_string()),
    })?;
    if ran.timed_out {
        return Err(ToolError::Timeout(prog.to_string(), limit));
    }
    // The wait status as the kernel reports it: exit code in the second byte, else the signal.
    let status = match (ran.code, ran.signal) {
        (Some(c), _) => ExitStatus::from_raw((c & 0xff) << 8),
        (None, Some(s)) => ExitStatus::from_raw(s & 0x7f),
        (None, None) => ExitStatus::from_raw(0x7f),
    };
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    Ok(Output {
        status,
        stdout: text(ran.stdout),
        stderr: text(ran.stderr),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn output_status_and_missing_tool() {
        let o = run(
            "sh",
            &["-c", "echo hi; echo oops >&2; exit 3"],
            Duration::from_secs(10),
        )
        .expect("sh runs");
        assert_eq!(o.stdout, "hi\n");
        assert!(!o.success());
        assert_eq!(o.failure(), "exit status 3: oops");
        assert_eq!(
            run("hwcert-no-such-tool", &[], Duration::from_secs(1)).expect_err("missing"),
            ToolError::NotFound("hwcert-no-such-tool".into())
        );
    }

    #[test]
    fn a_hanging_tool_is_killed_at_its_limit() {
        let t = Instant::now();
        let e = run(
            "sh",
            &["-c", "sleep 30 & sleep 30"],
            Duration::from_millis(300),
        )
        .expect_err("hangs");
        assert!(matches!(e, ToolError::Timeout(..)), "{e}");
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    }
}
