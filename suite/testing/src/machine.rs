//! A directory standing for a machine, so that tests reboot, crash and power-cycle it as often
//! as they like. The `hwcert` of `cargo test` (harness feature `selftest`) acts on it instead
//! of this machine when [`ENV`] names it — the supervisor and the workers alike.
//!
//! ```text
//! DIR/root/        the machine's files (a sysroot: proc/sys/kernel/random/boot_id, sys/, dev/kmsg)
//! DIR/booted_at_ms when this boot began, in CLOCK_REALTIME milliseconds
//! DIR/skew_ms      how far the machine's wall clock is ahead of this one's (default 0)
//! DIR/system-state is-system-running's word, then one line per unit with a queued job
//!                  (missing: "running")
//! DIR/failed-units one failed unit a line
//! DIR/units/       its systemd unit directory; DIR/state/ its /var/lib/hwcert
//! DIR/actions.log  one line per action taken: "reboot from BOOT_ID"
//! DIR/act-error    when present, every action fails with its text
//! DIR/watchdog.log what was done to its watchdog: open DEV, keepalive, magic-close
//! DIR/watchdog-busy when present, opening the watchdog fails with its text
//! ```
//!
//! Its watchdog's timeout and timeleft are `root/sys/class/watchdog/watchdog0/{timeout,timeleft}`.
//!
//! An action only logs: the test then "boots" the machine ([`FakeMachine::boot`]), changes
//! what it likes in `root/`, and resumes the run as hwcert-resume.service would.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use cases::machine::{parse_failed_units, Clocks, Machine, SystemState, Watchdog};
use documents::outcome::Action;
use documents::plan::RunOptions;

/// The variable that names the fake machine's directory.
pub const ENV: &str = "HWCERT_FAKE_MACHINE";

const BOOT_ID: &str = "root/proc/sys/kernel/random/boot_id";

/// A machine in a directory.
#[derive(Debug, Clone)]
pub struct FakeMachine {
    dir: PathBuf,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn read_i64(p: &Path) -> Option<i64> {
    fs::read_to_string(p).ok()?.trim().parse().ok()
}

impl FakeMachine {
    /// The machine in `dir` (as made by [`FakeMachine::create`]).
    pub fn open(dir: impl Into<PathBuf>) -> FakeMachine {
        FakeMachine { dir: dir.into() }
    }

    /// A machine in `dir` whose files are a copy of the tree `root` (`cp -a`), booted once.
    pub fn create(dir: &Path, root: &Path) -> io::Result<FakeMachine> {
        fs::create_dir_all(dir)?;
        let st = std::process::Command::new("cp")
            .arg("-a")
            .arg(root)
            .arg(dir.join("root"))
            .status()?;
        if !st.success() {
            return Err(io::Error::other(format!("cp -a {} failed", root.display())));
        }
        for d in ["units", "state"] {
            fs::create_dir_all(dir.join(d))?;
        }
        let m = FakeMachine::open(dir);
        m.boot(0, 1_000)?;
        Ok(m)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
    /// Its files.
    pub fn root(&self) -> PathBuf {
        self.dir.join("root")
    }

    fn wall_ms(&self) -> i64 {
        now_ms() + read_i64(&self.dir.join("skew_ms")).unwrap_or(0)
    }

    /// A new boot, with a new boot_id (returned): the machine's clock moves on by `down_ms`
    /// (the way down and the firmware) and `up_ms` (the boot so far), so this boot began
    /// `down_ms` after the wall time of the moment before and has run for `up_ms`.
    pub fn boot(&self, down_ms: i64, up_ms: i64) -> io::Result<String> {
        let id = format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            (now_ms() as u64) & 0xffff_ffff,
            std::process::id() & 0xffff,
            self.actions().len() & 0xfff,
            fastrand() & 0xfff,
            fastrand() & 0xffff_ffff_ffff
        );
        let p = self.dir.join(BOOT_ID);
        fs::create_dir_all(p.parent().unwrap_or(&self.dir))?;
        fs::write(&p, format!("{id}\n"))?;
        let skew = read_i64(&self.dir.join("skew_ms")).unwrap_or(0);
        self.set_skew_ms(skew + down_ms + up_ms)?;
        fs::write(
            self.dir.join("booted_at_ms"),
            (self.wall_ms() - up_ms).to_string(),
        )?;
        Ok(id)
    }

    /// Move the machine's wall clock `ms` ahead of this one's (from now on).
    pub fn set_skew_ms(&self, ms: i64) -> io::Result<()> {
        fs::write(self.dir.join("skew_ms"), ms.to_string())
    }

    /// Set what systemd says: the state word and the units with a queued job.
    pub fn set_system_state(&self, state: &str, jobs: &[&str]) -> io::Result<()> {
        let mut t = format!("{state}\n");
        for j in jobs {
            t.push_str(j);
            t.push('\n');
        }
        fs::write(self.dir.join("system-state"), t)
    }

    /// Set the failed units.
    pub fn set_failed_units(&self, units: &[&str]) -> io::Result<()> {
        fs::write(self.dir.join("failed-units"), units.join("\n"))
    }

    /// The actions taken so far.
    pub fn actions(&self) -> Vec<String> {
        fs::read_to_string(self.dir.join("actions.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

/// A few random bits (no rand crate: the nanoseconds of the clock and a counter).
fn fastrand() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0x9e37_79b9_7f4a_7c15);
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0);
    let mut x = N.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed) ^ t;
    x ^= x >> 31;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^ (x >> 29)
}

impl Machine for FakeMachine {
    fn describe(&self) -> String {
        format!("the simulated machine at {}", self.dir.display())
    }
    fn is_live(&self) -> bool {
        false
    }
    fn sysroot(&self) -> PathBuf {
        self.root()
    }
    fn boot_id(&self) -> Option<String> {
        fs::read_to_string(self.dir.join(BOOT_ID))
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }
    fn clocks(&self) -> Option<Clocks> {
        let booted = read_i64(&self.dir.join("booted_at_ms"))?;
        let wall = self.wall_ms();
        Some(Clocks {
            realtime_ms: wall.max(0) as u64,
            boottime_ms: (wall - booted).max(0) as u64,
        })
    }
    fn unit_dir(&self) -> PathBuf {
        self.dir.join("units")
    }
    fn state_dir(&self) -> PathBuf {
        self.dir.join("state")
    }
    fn system_state(&self) -> Result<SystemState, String> {
        let t = match fs::read_to_string(self.dir.join("system-state")) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => "running\n".into(),
            Err(e) => return Err(e.to_string()),
        };
        let mut lines = t.lines();
        Ok(SystemState {
            state: lines.next().unwrap_or("").trim().to_string(),
            jobs: lines
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty())
                .collect(),
        })
    }
    fn failed_units(&self) -> Result<Vec<String>, String> {
        match fs::read_to_string(self.dir.join("failed-units")) {
            Ok(t) => Ok(parse_failed_units(&t)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(e.to_string()),
        }
    }
    fn open_watchdog(&self, dev: &str) -> Result<Box<dyn Watchdog>, String> {
        if let Ok(e) = fs::read_to_string(self.dir.join("watchdog-busy")) {
            return Err(format!("cannot open {dev}: {}", e.trim()));
        }
        let w = FakeWatchdog {
            dir: self.dir.clone(),
        };
        w.log(&format!("open {dev}"))?;
        Ok(Box::new(w))
    }
    fn act(&self, action: Action, _options: &RunOptions) -> Result<(), String> {
        if let Ok(e) = fs::read_to_string(self.dir.join("act-error")) {
            return Err(e.trim().to_string());
        }
        let word = match action {
            Action::Reboot => "reboot",
            Action::PowerCycle => "power-cycle",
            Action::Crash => "crash",
            Action::WatchdogExpire => "watchdog-expire",
        };
        let line = format!(
            "{word} from {}\n",
            self.boot_id().unwrap_or_else(|| "unknown".into())
        );
        use std::io::Write as _;
        fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("actions.log"))
            .and_then(|mut f| f.write_all(line.as_bytes()))
            .map_err(|e| format!("cannot log the action: {e}"))
    }
}

struct FakeWatchdog {
    dir: PathBuf,
}

impl FakeWatchdog {
    fn log(&self, what: &str) -> Result<(), String> {
        use std::io::Write as _;
        fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("watchdog.log"))
            .and_then(|mut f| writeln!(f, "{what}"))
            .map_err(|e| e.to_string())
    }
    fn attr(&self, name: &str) -> Option<u32> {
        fs::read_to_string(
            self.dir
                .join("root/sys/class/watchdog/watchdog0")
                .join(name),
        )
        .ok()?
        .trim()
        .parse()
        .ok()
    }
}

impl Watchdog for FakeWatchdog {
    fn keepalive(&mut self) -> Result<(), String> {
        self.log("keepalive")
    }
    fn timeout(&mut self) -> Result<u32, String> {
        self.attr("timeout")
            .ok_or_else(|| "WDIOC_GETTIMEOUT: Inappropriate ioctl for device".into())
    }
    fn timeleft(&mut self) -> Result<Option<u32>, String> {
        Ok(self.attr("timeleft"))
    }
    fn stop(self: Box<Self>) -> Result<(), String> {
        self.log("magic-close")
    }
}
