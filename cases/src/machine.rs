//! The boundary to the machine itself, for the cases that take it down: which boot this is,
//! its clocks, systemd's view of the boot, where units go, and the actions that reboot,
//! power-cycle or crash it. [`LiveMachine`] is this machine; tests hand cases and the runner
//! another [`Machine`] (a directory standing for a machine, `testing::machine`), so that twenty
//! boots, a crash in the middle of a case and a boot that never came back are simulated
//! without rebooting anything.
//!
//! The live implementation reads `/proc/sys/kernel/random/boot_id` directly (the one machine
//! read besides the runner's own that is not a sysroot read: the boot id is what tells a
//! resumed run that the machine rebooted) and runs `systemctl`, `ipmitool` under time limits.

use std::path::PathBuf;
use std::time::Duration;

use documents::outcome::Action;
use documents::plan::RunOptions;

use crate::tool;

/// The two clocks of a boot read together: CLOCK_REALTIME and CLOCK_BOOTTIME (which counts
/// suspend too), in milliseconds. Their difference is when the boot began in wall time, so
/// boot times are compared in one clock (never UTC against local time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clocks {
    pub realtime_ms: u64,
    pub boottime_ms: u64,
}

impl Clocks {
    /// When this boot began, in CLOCK_REALTIME milliseconds (realtime − boottime).
    pub fn boot_started_ms(&self) -> u64 {
        self.realtime_ms.saturating_sub(self.boottime_ms)
    }
}

/// systemd's word on the boot (`systemctl is-system-running`) and the units that still have
/// a job queued (`systemctl list-jobs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemState {
    pub state: String,
    pub jobs: Vec<String>,
}

/// The resume unit's name: its own job keeps the boot "starting" while it runs.
pub const RESUME_UNIT: &str = "hwcert-resume.service";

impl SystemState {
    /// Booted: `running`, or `degraded` (failed units are judged on their own), or `starting`
    /// with no job left but the resume unit's own and the targets that wait for it (the
    /// oneshot that resumed this run is itself part of the boot).
    pub fn booted(&self) -> bool {
        match self.state.as_str() {
            "running" | "degraded" => true,
            "starting" => self
                .jobs
                .iter()
                .all(|u| u == RESUME_UNIT || u.ends_with(".target")),
            _ => false,
        }
    }
}

/// The machine a disruptive case works on.
pub trait Machine: Send + Sync {
    /// "this machine" or "the simulated machine at DIR", for messages.
    fn describe(&self) -> String;
    /// Whether this is the machine hwcert runs on.
    fn is_live(&self) -> bool;
    /// Where its files are read from (`/` for the live machine).
    fn sysroot(&self) -> PathBuf;
    /// This boot's id, or `None` when it cannot be read.
    fn boot_id(&self) -> Option<String>;
    /// Both clocks, read together.
    fn clocks(&self) -> Option<Clocks>;
    /// Where systemd units are installed (`/etc/systemd/system`).
    fn unit_dir(&self) -> PathBuf;
    /// Where hwcert keeps what the resume unit reads (`/var/lib/hwcert`).
    fn state_dir(&self) -> PathBuf;
    /// `systemctl is-system-running` and the queued jobs.
    fn system_state(&self) -> Result<SystemState, String>;
    /// The failed units (`systemctl list-units --state=failed`).
    fn failed_units(&self) -> Result<Vec<String>, String>;
    /// Take the machine down. Returns once the action was handed over (a reboot goes on
    /// without us); an error says what could not be done.
    fn act(&self, action: Action, options: &RunOptions) -> Result<(), String>;
    /// Open a watchdog device (`/dev/watchdog0`): opening arms it, so the caller pets it and
    /// stops it with the magic close.
    fn open_watchdog(&self, dev: &str) -> Result<Box<dyn Watchdog>, String>;
}

/// An open (armed) watchdog device.
pub trait Watchdog {
    /// WDIOC_KEEPALIVE.
    fn keepalive(&mut self) -> Result<(), String>;
    /// WDIOC_GETTIMEOUT, seconds.
    fn timeout(&mut self) -> Result<u32, String>;
    /// WDIOC_GETTIMELEFT, seconds (`None` where the driver cannot tell).
    fn timeleft(&mut self) -> Result<Option<u32>, String>;
    /// The magic close ('V', then close): the watchdog stops, unless its driver has nowayout.
    fn stop(self: Box<Self>) -> Result<(), String>;
}

/// The watchdog ioctls (linux/watchdog.h: _IOR('W', n, int)).
const WDIOC_KEEPALIVE: libc::c_ulong = 0x8004_5705;
const WDIOC_GETTIMEOUT: libc::c_ulong = 0x8004_5707;
const WDIOC_GETTIMELEFT: libc::c_ulong = 0x8004_570a;

struct LiveWatchdog {
    file: std::fs::File,
    dev: String,
}

impl LiveWatchdog {
    fn ioctl(&self, req: libc::c_ulong, what: &str) -> Result<i32, std::io::Error> {
        use std::os::fd::AsRawFd as _;
        let mut v: libc::c_int = 0;
        // SAFETY: the watchdog ioctls read or write one int.
        let r = unsafe { libc::ioctl(self.file.as_raw_fd(), req as _, &mut v) };
        if r < 0 {
            let e = std::io::Error::last_os_error();
            return Err(std::io::Error::new(
                e.kind(),
                format!("{what} on {}: {e}", self.dev),
            ));
        }
        Ok(v)
    }
}

impl Watchdog for LiveWatchdog {
    fn keepalive(&mut self) -> Result<(), String> {
        self.ioctl(WDIOC_KEEPALIVE, "WDIOC_KEEPALIVE")
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
    fn timeout(&mut self) -> Result<u32, String> {
        self.ioctl(WDIOC_GETTIMEOUT, "WDIOC_GETTIMEOUT")
            .map(|v| v.max(0) as u32)
            .map_err(|e| e.to_string())
    }
    fn timeleft(&mut self) -> Result<Option<u32>, String> {
        match self.ioctl(WDIOC_GETTIMELEFT, "WDIOC_GETTIMELEFT") {
            Ok(v) => Ok(Some(v.max(0) as u32)),
            Err(e)
                if e.raw_os_error() == Some(libc::EOPNOTSUPP)
                    || e.raw_os_error() == Some(libc::ENOTTY) =>
            {
                Ok(None)
            }
            Err(e) => Err(e.to_string()),
        }
    }
    fn stop(self: Box<Self>) -> Result<(), String> {
        use std::io::Write as _;
        (&self.file)
            .write_all(b"V")
            .map_err(|e| format!("the magic close of {}: {e}", self.dev))
    }
}

/// Parse `systemctl list-jobs --no-legend` lines ("  123 foo.service start running") into the
/// units with a job; a line that is not a job is ignored.
pub fn parse_jobs(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let id = w.next()?;
            id.parse::<u64>().ok()?;
            let unit = w.next()?;
            is_unit_name(unit).then(|| unit.to_string())
        })
        .collect()
}

/// Parse `systemctl list-units --state=failed --no-legend --plain` lines ("foo.service loaded
/// failed failed Foo"; a leading "●" as older systemd prints without --plain is skipped).
pub fn parse_failed_units(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace().skip_while(|t| *t == "●" || *t == "*");
            let unit = w.next()?;
            is_unit_name(unit).then(|| unit.to_string())
        })
        .collect()
}

fn is_unit_name(s: &str) -> bool {
    const KINDS: &[&str] = &[
        ".service",
        ".socket",
        ".target",
        ".mount",
        ".automount",
        ".swap",
        ".timer",
        ".path",
        ".slice",
        ".scope",
        ".device",
    ];
    KINDS.iter().any(|k| s.len() > k.len() && s.ends_with(k))
        && s.chars().all(|c| c.is_ascii_graphic())
}

/// This machine.
#[derive(Debug, Clone, Default)]
pub struct LiveMachine;

const SYSTEMCTL_LIMIT: Duration = Duration::from_secs(30);
const IPMITOOL_LIMIT: Duration = Duration::from_secs(60);

fn clock_ms(id: libc::clockid_t) -> Option<u64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given.
    if unsafe { libc::clock_gettime(id, &mut ts) } != 0 {
        return None;
    }
    Some(ts.tv_sec as u64 * 1000 + ts.tv_nsec as u64 / 1_000_000)
}

/// The ipmitool arguments that reach the BMC the profile names (`ipmi.host`, `ipmi.user`,
/// `ipmi.password_file`: lanplus), or the local one (/dev/ipmi0) when it names none. The
/// password is only ever read by ipmitool from its file (`-f`).
pub fn ipmi_args(options: &RunOptions) -> Vec<String> {
    bmc_target(options).args()
}

/// The BMC the profile names over the LAN, else the local one.
pub fn bmc_target(options: &RunOptions) -> inventory::bmc::Target {
    inventory::bmc::Target::from_settings(&options.settings)
        .unwrap_or(inventory::bmc::Target::Local)
}

impl Machine for LiveMachine {
    fn describe(&self) -> String {
        "this machine".into()
    }
    fn is_live(&self) -> bool {
        true
    }
    fn sysroot(&self) -> PathBuf {
        PathBuf::from("/")
    }
    fn boot_id(&self) -> Option<String> {
        std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }
    fn clocks(&self) -> Option<Clocks> {
        Some(Clocks {
            realtime_ms: clock_ms(libc::CLOCK_REALTIME)?,
            boottime_ms: clock_ms(libc::CLOCK_BOOTTIME)?,
        })
    }
    fn unit_dir(&self) -> PathBuf {
        PathBuf::from("/etc/systemd/system")
    }
    fn state_dir(&self) -> PathBuf {
        PathBuf::from("/var/lib/hwcert")
    }
    fn system_state(&self) -> Result<SystemState, String> {
        // is-system-running exits non-zero for every state but running: its word is the answer.
        let o = tool::run("systemctl", &["is-system-running"], SYSTEMCTL_LIMIT)
            .map_err(|e| e.to_string())?;
        let state = o.stdout.trim().to_string();
        if state.is_empty() {
            return Err(format!(
                "systemctl is-system-running said nothing ({})",
                o.failure()
            ));
        }
        let jobs = tool::run("systemctl", &["list-jobs", "--no-legend"], SYSTEMCTL_LIMIT)
            .map_err(|e| e.to_string())?;
        Ok(SystemState {
            state,
            jobs: parse_jobs(&jobs.stdout),
        })
    }
    fn failed_units(&self) -> Result<Vec<String>, String> {
        let o = tool::run(
            "systemctl",
            &["list-units", "--state=failed", "--no-legend", "--plain"],
            SYSTEMCTL_LIMIT,
        )
        .map_err(|e| e.to_string())?;
        if !o.success() {
            return Err(format!(
                "systemctl list-units --state=failed: {}",
                o.failure()
            ));
        }
        Ok(parse_failed_units(&o.stdout))
    }
    fn open_watchdog(&self, dev: &str) -> Result<Box<dyn Watchdog>, String> {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(dev)
            .map_err(|e| format!("cannot open {dev}: {e}"))?;
        Ok(Box::new(LiveWatchdog {
            file,
            dev: dev.to_string(),
        }))
    }
    fn act(&self, action: Action, options: &RunOptions) -> Result<(), String> {
        match action {
            Action::Reboot => {
                let o = tool::run("systemctl", &["reboot"], SYSTEMCTL_LIMIT)
                    .map_err(|e| e.to_string())?;
                if o.success() {
                    Ok(())
                } else {
                    Err(format!("systemctl reboot: {}", o.failure()))
                }
            }
            Action::PowerCycle => {
                let mut args = ipmi_args(options);
                args.extend(["chassis".into(), "power".into(), "cycle".into()]);
                let a: Vec<&str> = args.iter().map(String::as_str).collect();
                let o = tool::run("ipmitool", &a, IPMITOOL_LIMIT).map_err(|e| e.to_string())?;
                if o.success() {
                    Ok(())
                } else {
                    Err(format!("ipmitool chassis power cycle: {}", o.failure()))
                }
            }
            Action::Crash => {
                // What is written before the crash must be on disk: the journal says why.
                // SAFETY: sync has no preconditions.
                unsafe { libc::sync() };
                std::fs::write("/proc/sys/kernel/sysrq", "1")
                    .map_err(|e| format!("cannot enable sysrq (/proc/sys/kernel/sysrq): {e}"))?;
                std::fs::write("/proc/sysrq-trigger", "c")
                    .map_err(|e| format!("cannot write /proc/sysrq-trigger: {e}"))
            }
            Action::WatchdogExpire => {
                // SAFETY: sync has no preconditions.
                unsafe { libc::sync() };
                // Opened, petted once and left open: the timer runs out and resets the board.
                let f = std::fs::OpenOptions::new()
                    .write(true)
                    .open("/dev/watchdog")
                    .map_err(|e| format!("cannot open /dev/watchdog: {e}"))?;
                use std::io::Write as _;
                (&f).write_all(b"\0")
                    .map_err(|e| format!("cannot pet /dev/watchdog: {e}"))?;
                std::mem::forget(f);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_and_failed_units_parse() {
        let jobs =
            "  89 hwcert-resume.service start running\n  1 multi-user.target start waiting\n\
                    garbage line\n 7\n";
        assert_eq!(
            parse_jobs(jobs),
            vec!["hwcert-resume.service", "multi-user.target"]
        );
        let st = SystemState {
            state: "starting".into(),
            jobs: parse_jobs(jobs),
        };
        assert!(st.booted());
        let st = SystemState {
            state: "starting".into(),
            jobs: parse_jobs("  90 NetworkManager-wait-online.service start running\n"),
        };
        assert!(!st.booted());
        assert!(!SystemState {
            state: "maintenance".into(),
            jobs: vec![]
        }
        .booted());
        assert!(SystemState {
            state: "degraded".into(),
            jobs: vec![]
        }
        .booted());

        let failed = "● kdump.service loaded failed failed Crash recovery kernel arming\n\
                      systemd-modules-load.service loaded failed failed Load Kernel Modules\n\
                      \n0 loaded units listed.\n";
        assert_eq!(
            parse_failed_units(failed),
            vec!["kdump.service", "systemd-modules-load.service"]
        );
        assert!(parse_failed_units("").is_empty());
        assert!(parse_failed_units("\u{1b}[1m.service\n").is_empty());
    }

    #[test]
    fn ipmi_arguments_name_the_password_file_never_a_password() {
        let mut o = RunOptions::default();
        assert!(ipmi_args(&o).is_empty(), "local BMC");
        o.settings.insert("ipmi.host".into(), "192.0.2.10".into());
        o.settings.insert("ipmi.user".into(), "admin".into());
        o.settings
            .insert("ipmi.password_file".into(), "/etc/hwcert/bmc.pw".into());
        assert_eq!(
            ipmi_args(&o).join(" "),
            "-I lanplus -H 192.0.2.10 -U admin -f /etc/hwcert/bmc.pw"
        );
    }

    #[test]
    fn live_clocks_and_boot_id_read() {
        let m = LiveMachine;
        let c = m.clocks().expect("clocks");
        assert!(c.boot_started_ms() > 1_500_000_000_000, "{c:?}");
        assert!(m.boot_id().is_some_and(|b| b.len() >= 32));
    }
}
