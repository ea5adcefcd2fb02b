//! Running a program with a time limit and a cap on what it prints: the one helper for
//! vendor tools (`nvidia-smi`, `rocm-smi`, `npu-smi`, `dcgmi`…) that may hang, flood their
//! output or leave children behind.
//!
//! The program runs in its own process group with stdin on `/dev/null`. At the time limit the
//! whole group is killed (SIGKILL), and so is any child the program left behind when it exits,
//! so a pipe held open by a grandchild cannot keep [`run`] waiting. Output past the cap is
//! dropped (the result says so); stderr keeps its last bytes only.

use std::ffi::OsStr;
use std::io::{self, Read};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How long a program may run and how much of its output is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Killed (with its process group) after this long.
    pub timeout: Duration,
    /// Most bytes of stdout kept; the rest is read and dropped.
    pub max_stdout: usize,
    /// Most bytes of stderr kept (the last ones).
    pub max_stderr: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(60),
            max_stdout: 32 << 20,
            max_stderr: 64 << 10,
        }
    }
}

/// What a program did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ran {
    /// Its exit code, when it exited.
    pub code: Option<i32>,
    /// The signal that ended it, when one did (SIGKILL after a timeout).
    pub signal: Option<i32>,
    /// Whether the time limit ended it.
    pub timed_out: bool,
    /// Its stdout (at most `max_stdout` bytes).
    pub stdout: Vec<u8>,
    /// Whether stdout went past `max_stdout`.
    pub stdout_truncated: bool,
    /// The last `max_stderr` bytes of its stderr.
    pub stderr: Vec<u8>,
    /// How long it ran.
    pub elapsed: Duration,
}

impl Ran {
    /// Whether it exited with status 0 in time.
    pub fn success(&self) -> bool {
        self.code == Some(0) && !self.timed_out
    }

    /// One line for a message: "exit status 3", "killed by signal 9", "timed out after 30 s".
    pub fn describe(&self) -> String {
        if self.timed_out {
            format!("timed out after {} s", self.elapsed.as_secs())
        } else if let Some(c) = self.code {
            format!("exit status {c}")
        } else if let Some(s) = self.signal {
            format!("killed by signal {s}")
        } else {
            "ended oddly".to_string()
        }
    }

    /// The last non-empty line of stderr, for an error message.
    pub fn stderr_last_line(&self) -> Option<String> {
        String::from_utf8_lossy(&self.stderr)
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(|l| crate::text::escape_controls(l).into_owned())
    }
}

/// The program `name` on `path` (a `PATH`-style list), as a shell finds it: a name with a `/`
/// is taken as it is, when it is an executable file.
pub fn find_in(name: &str, path: &OsStr) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let exec = |p: &Path| {
        p.metadata()
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    };
    if name.contains('/') {
        let p = PathBuf::from(name);
        return exec(&p).then_some(p);
    }
    if name.is_empty() {
        return None;
    }
    std::env::split_paths(path)
        .map(|d| d.join(name))
        .find(|p| exec(p))
}

/// The program `name` on this process's `PATH`.
pub fn find(name: &str) -> Option<PathBuf> {
    find_in(name, &std::env::var_os("PATH").unwrap_or_default())
}

/// Run `prog` with `args` under `limits`. The error is why it could not start at all.
pub fn run<S: AsRef<OsStr>>(prog: &Path, args: &[S], limits: Limits) -> io::Result<Ran> {
    // Looked up first: where spawning cannot report a failed exec (qemu-user turns glibc's
    // vfork-style posix_spawn into a fork), a missing program would be a child exiting 127.
    if find(&prog.to_string_lossy()).is_none() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{} is not an executable on PATH", prog.display()),
        ));
    }
    let start = Instant::now();
    let mut cmd = Command::new(prog);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = cmd.spawn()?;
    let pgid = child.id() as libc::pid_t;
    let out = child
        .stdout
        .take()
        .map(|s| reader(s, limits.max_stdout, false));
    let err = child
        .stderr
        .take()
        .map(|s| reader(s, limits.max_stderr, true));
    let mut timed_out = false;
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if start.elapsed() >= limits.timeout {
            timed_out = true;
            kill_group(pgid);
            break child.wait()?;
        }
        thread::sleep(Duration::from_millis(10));
    };
    // Whatever it left behind goes too: a grandchild holding the pipe must not keep us here.
    kill_group(pgid);
    let (stdout, stdout_truncated) = out
        .and_then(|h| h.join().ok())
        .unwrap_or((Vec::new(), false));
    let (stderr, _) = err
        .and_then(|h| h.join().ok())
        .unwrap_or((Vec::new(), false));
    Ok(Ran {
        code: status.code(),
        signal: status.signal(),
        timed_out,
        stdout,
        stdout_truncated,
        stderr,
        elapsed: start.elapsed(),
    })
}

fn kill_group(pgid: libc::pid_t) {
    // SAFETY: kill has no memory preconditions; the group is the child's own (process_group(0)),
    // never ours, and a group that is gone only gives ESRCH.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

/// Read a pipe to its end, keeping the first (or, with `tail`, the last) `cap` bytes.
fn reader<R: Read + Send + 'static>(
    mut r: R,
    cap: usize,
    tail: bool,
) -> thread::JoinHandle<(Vec<u8>, bool)> {
    thread::spawn(move || {
        let mut kept = Vec::new();
        let mut over = false;
        let mut buf = [0u8; 16 * 1024];
        loop {
            match r.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if tail {
                        kept.extend_from_slice(&buf[..n]);
                        if kept.len() > cap {
                            over = true;
                            let cut = kept.len() - cap;
                            kept.drain(..cut);
                        }
                    } else {
                        let room = cap.saturating_sub(kept.len());
                        if n > room {
                            over = true;
                        }
                        kept.extend_from_slice(&buf[..n.min(room)]);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        (kept, over)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str, limits: Limits) -> Ran {
        run(Path::new("/bin/sh"), &["-c", script], limits).expect("/bin/sh runs")
    }

    #[test]
    fn output_and_status() {
        let r = sh("echo hello; echo oops >&2; exit 3", Limits::default());
        assert_eq!(r.code, Some(3));
        assert!(!r.success());
        assert_eq!(r.stdout, b"hello\n");
        assert_eq!(r.stderr_last_line().as_deref(), Some("oops"));
        assert_eq!(r.describe(), "exit status 3");
    }

    #[test]
    fn a_hang_is_killed_at_the_limit_with_its_children() {
        let limits = Limits {
            timeout: Duration::from_millis(300),
            ..Limits::default()
        };
        let t = Instant::now();
        // The background child keeps stdout open: only killing the group ends the read.
        let r = sh("sleep 30 & echo started; sleep 30", limits);
        assert!(r.timed_out);
        assert_eq!(r.signal, Some(libc::SIGKILL));
        assert_eq!(r.stdout, b"started\n");
        assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    }

    #[test]
    fn a_child_left_behind_does_not_hold_the_pipe() {
        let t = Instant::now();
        let r = sh("sleep 30 & echo done", Limits::default());
        assert!(r.success());
        assert_eq!(r.stdout, b"done\n");
        assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    }

    #[test]
    fn output_is_capped() {
        let limits = Limits {
            max_stdout: 1000,
            max_stderr: 10,
            ..Limits::default()
        };
        let r = sh(
            "head -c 100000 /dev/zero; printf '0123456789abcdef' >&2",
            limits,
        );
        assert!(r.success());
        assert_eq!(r.stdout.len(), 1000);
        assert!(r.stdout_truncated);
        assert_eq!(r.stderr, b"6789abcdef");
    }

    #[test]
    fn finding_programs() {
        let dir = tempfile::tempdir().expect("temp dir");
        let p = dir.path().join("tool");
        std::fs::write(&p, "#!/bin/sh\n").expect("write");
        let path = std::env::join_paths([dir.path()]).expect("path");
        assert_eq!(find_in("tool", &path), None, "not executable yet");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        assert_eq!(find_in("tool", &path), Some(p.clone()));
        assert_eq!(find_in("missing", &path), None);
        assert_eq!(find_in("", &path), None);
        assert!(run(
            &dir.path().join("missing"),
            &[] as &[&str],
            Limits::default()
        )
        .is_err());
    }
}
