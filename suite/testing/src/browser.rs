//! A headless Chromium driven over the Chrome DevTools Protocol, for the site's tests and
//! benchmark: no WebDriver, no network port. Chromium started with `--remote-debugging-pipe`
//! reads NUL-terminated JSON messages on fd 3 and writes its own on fd 4.
//!
//! The browser runs in its own process group, which is killed (by its ID) when the
//! [`Browser`] is dropped, on every path; it also dies with the thread that started it
//! (`PR_SET_PDEATHSIG`). Every wait has a deadline.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The flags every headless Chromium hwcert starts gets: no sandbox (it runs as root in CI),
/// no GPU, and nothing fetched from the network on its own.
pub const HEADLESS_FLAGS: [&str; 6] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// A browser on PATH (`chromium`, `chromium-browser`, `google-chrome`), if any.
pub fn find_chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .flat_map(|b| std::env::split_paths(&path).map(move |d| d.join(b)))
        .find(|p| p.is_file())
}

/// A running headless Chromium with one page attached.
pub struct Browser {
    child: Child,
    to: File,
    from: Receiver<Value>,
    next_id: u64,
    session: Option<String>,
    /// Events received while waiting for replies, oldest first.
    pub events: VecDeque<Value>,
    deadline: Instant,
}

fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0i32; 2];
    // SAFETY: pipe2 fills two descriptors we then own.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fresh descriptors from pipe2, owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// A copy of `fd` at 100 or above (close-on-exec), so that putting the child's ends on fds 3
/// and 4 cannot overwrite one with the other.
fn high(fd: OwnedFd) -> std::io::Result<OwnedFd> {
    // SAFETY: duplicating a descriptor we own.
    let r = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 100) };
    if r < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor from fcntl.
    Ok(unsafe { OwnedFd::from_raw_fd(r) })
}

impl Browser {
    /// Start `chromium` headless with a fresh profile in `profile`; everything this browser
    /// does must finish within `limit`.
    pub fn start(chromium: &Path, profile: &Path, limit: Duration) -> Result<Browser, String> {
        let deadline = Instant::now() + limit;
        let (child_in, to) = pipe().map_err(|e| format!("pipe: {e}"))?;
        let (from, child_out) = pipe().map_err(|e| format!("pipe: {e}"))?;
        let child_in = high(child_in).map_err(|e| format!("fcntl: {e}"))?;
        let child_out = high(child_out).map_err(|e| format!("fcntl: {e}"))?;
        let (cin, cout) = (child_in.as_raw_fd(), child_out.as_raw_fd());
        let mut cmd = Command::new(chromium);
        cmd.args(HEADLESS_FLAGS)
            .args([
                "--disable-extensions",
                "--disable-default-apps",
                "--no-first-run",
                "--no-default-browser-check",
                "--mute-audio",
                "--remote-debugging-pipe",
                "--window-size=1280,900",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                if libc::dup2(cin, 3) < 0 || libc::dup2(cout, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // Its own process group, to be killed whole; and dead with its starter.
                libc::setpgid(0, 0);
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = cmd
            .spawn()
            .map_err(|e| format!("{}: {e}", chromium.display()))?;
        drop((child_in, child_out));
        let (tx, rx) = mpsc::channel();
        let mut reader = File::from(from);
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let mut chunk = vec![0u8; 1 << 16];
            loop {
                let n = match reader.read(&mut chunk) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                buf.extend_from_slice(&chunk[..n]);
                while let Some(i) = buf.iter().position(|&b| b == 0) {
                    let msg: Vec<u8> = buf.drain(..=i).collect();
                    if let Ok(v) = serde_json::from_slice::<Value>(&msg[..msg.len() - 1]) {
                        if tx.send(v).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        let mut b = Browser {
            child,
            to: File::from(to),
            from: rx,
            next_id: 0,
            session: None,
            events: VecDeque::new(),
            deadline,
        };
        let t = b.call("Target.createTarget", json!({"url": "about:blank"}))?;
        let target = t["targetId"]
            .as_str()
            .ok_or("Target.createTarget: no targetId")?
            .to_string();
        let a = b.call(
            "Target.attachToTarget",
            json!({"targetId": target, "flatten": true}),
        )?;
        b.session = Some(
            a["sessionId"]
                .as_str()
                .ok_or("Target.attachToTarget: no sessionId")?
                .to_string(),
        );
        b.call("Page.enable", json!({}))?;
        b.call("Runtime.enable", json!({}))?;
        Ok(b)
    }

    /// The browser's process ID (its process group's too).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn left(&self) -> Result<Duration, String> {
        self.deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| "the browser took too long (deadline passed)".to_string())
    }

    /// Send a command (to the page once attached) and wait for its reply's `result`.
    pub fn call(&mut self, method: &str, params: Value) -> Result<Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = &self.session {
            msg["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&msg).map_err(|e| e.to_string())?;
        bytes.push(0);
        self.to
            .write_all(&bytes)
            .map_err(|e| format!("{method}: writing to the browser: {e}"))?;
        loop {
            let v = self.recv()?;
            if v["id"].as_u64() == Some(id) {
                if let Some(e) = v.get("error") {
                    return Err(format!("{method}: {e}"));
                }
                return Ok(v["result"].clone());
            }
            self.events.push_back(v);
        }
    }

    fn recv(&mut self) -> Result<Value, String> {
        let left = self.left()?;
        match self.from.recv_timeout(left) {
            Ok(v) => Ok(v),
            Err(RecvTimeoutError::Timeout) => Err("the browser did not answer in time".into()),
            Err(RecvTimeoutError::Disconnected) => Err("the browser exited".into()),
        }
    }

    /// Wait for an event by method name (one already received counts), returning it.
    pub fn wait_event(&mut self, method: &str) -> Result<Value, String> {
        if let Some(i) = self.events.iter().position(|e| e["method"] == method) {
            return self.events.remove(i).ok_or_else(|| "event vanished".into());
        }
        loop {
            let v = self.recv()?;
            if v["method"] == method {
                return Ok(v);
            }
            self.events.push_back(v);
        }
    }

    /// Open `url` and wait for its load event.
    pub fn navigate(&mut self, url: &str) -> Result<(), String> {
        self.events.retain(|e| e["method"] != "Page.loadEventFired");
        let r = self.call("Page.navigate", json!({"url": url}))?;
        if let Some(e) = r.get("errorText").and_then(Value::as_str) {
            return Err(format!("{url}: {e}"));
        }
        self.wait_event("Page.loadEventFired")?;
        Ok(())
    }

    /// Reload the page and wait for its load event.
    pub fn reload(&mut self) -> Result<(), String> {
        self.events.retain(|e| e["method"] != "Page.loadEventFired");
        self.call("Page.reload", json!({}))?;
        self.wait_event("Page.loadEventFired")?;
        Ok(())
    }

    /// Evaluate a JavaScript expression in the page (promises awaited), its value as JSON.
    pub fn eval(&mut self, expr: &str) -> Result<Value, String> {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": expr, "returnByValue": true, "awaitPromise": true}),
        )?;
        if let Some(ex) = r.get("exceptionDetails") {
            return Err(format!("{expr}: {ex}"));
        }
        Ok(r["result"]["value"].clone())
    }

    /// Evaluate `expr` every 25 ms until it is truthy, returning its value.
    pub fn wait_for(&mut self, expr: &str) -> Result<Value, String> {
        loop {
            let v = self.eval(expr)?;
            let truthy = match &v {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_f64() != Some(0.0),
                Value::String(s) => !s.is_empty(),
                _ => true,
            };
            if truthy {
                return Ok(v);
            }
            self.left()
                .map_err(|e| format!("waiting for {expr}: {e}"))?;
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Type `text` into the focused element as real key events, one character at a time.
    pub fn type_text(&mut self, text: &str) -> Result<(), String> {
        for c in text.chars() {
            let s = c.to_string();
            self.call(
                "Input.dispatchKeyEvent",
                json!({"type": "keyDown", "key": s, "text": s, "unmodifiedText": s}),
            )?;
            self.call("Input.dispatchKeyEvent", json!({"type": "keyUp", "key": s}))?;
        }
        Ok(())
    }

    /// Press a named key (`Backspace`, `Enter`) in the focused element.
    pub fn press(&mut self, key: &str, code: i64) -> Result<(), String> {
        self.call(
            "Input.dispatchKeyEvent",
            json!({"type": "rawKeyDown", "key": key, "code": key, "windowsVirtualKeyCode": code}),
        )?;
        self.call(
            "Input.dispatchKeyEvent",
            json!({"type": "keyUp", "key": key, "code": key, "windowsVirtualKeyCode": code}),
        )?;
        Ok(())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Asked to close first, the browser removes its shared-memory files in /dev/shm;
        // killed, it cannot. What is left after a few seconds is killed all the same.
        self.next_id += 1;
        let close = json!({"id": self.next_id, "method": "Browser.close", "params": {}});
        if let Ok(mut bytes) = serde_json::to_vec(&close) {
            bytes.push(0);
            if self.to.write_all(&bytes).is_ok() {
                let until = Instant::now() + Duration::from_secs(3);
                while Instant::now() < until && matches!(self.child.try_wait(), Ok(None)) {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        }
        let pid = self.child.id() as i32;
        // SAFETY: signalling the process group of the browser this value started.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
