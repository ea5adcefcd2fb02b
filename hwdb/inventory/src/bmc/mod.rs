//! The baseboard management controller, through ipmitool: its firmware and IPMI version
//! (`ipmitool mc info`), the machine's FRU data (`ipmitool fru print`) and the System Event
//! Log's fill (`ipmitool sel info`, the count `system::bmc_sel` compares with at the end of a
//! run).
//!
//! The BMC is asked only where one can answer: on the live system when a local IPMI device
//! exists (`/dev/ipmi0`, `/dev/ipmi/0` or `/dev/ipmidev/0`, made by ipmi_si and ipmi_devintf)
//! or when the probe is told of a BMC over the LAN ([`Target::Lan`], from the profile's
//! `ipmi.host`); on a recorded tree or snapshot, from the outputs a live probe recorded under
//! `.hwcert/tools/ipmitool-*.txt`. Every ipmitool call has a time limit (killed after; a BMC
//! that does not answer is a note, not a hung probe). Without ipmitool or a BMC the inventory
//! says so in [`Bmc::status`] and [`Bmc::detail`]: a note, never an error.
//!
//! The parsers are public: the cases read `ipmitool sensor` ([`parse_sensors`]) and
//! `ipmitool sel elist` ([`parse_sel`]) with them.

mod parse;
mod sel;
mod sensor;

use serde::{Deserialize, Serialize};

use hwsys::Sysroot;

use crate::accel::tools::{Collected, LiveTools, MAX_OUTPUT, TOOLS_DIR};

pub use parse::{parse_fru, parse_mc_info, parse_sel_info, FruDevice, McInfo, SelInfo};
pub use sel::{parse_sel, SelEntry, SelLog, Severity};
pub use sensor::{parse_sensors, Judgement, Reading, Sensor, SensorTable};

/// The local IPMI device nodes ipmitool's `open` interface tries.
pub const LOCAL_DEVICES: &[&str] = &["dev/ipmi0", "dev/ipmi/0", "dev/ipmidev/0"];

/// How long one ipmitool call of the probe may take (a BMC over the LAN that does not answer
/// costs this much, once per command).
pub const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// How a BMC is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The local device (ipmitool's default `open` interface).
    Local,
    /// Over the LAN (`-I lanplus -H host [-U user] [-f password_file]`).
    Lan {
        host: String,
        user: Option<String>,
        password_file: Option<String>,
    },
}

impl Target {
    /// The BMC a profile's settings name over the LAN (`ipmi.host`, `ipmi.user`,
    /// `ipmi.password_file`, checked when the profile loaded); `None` when they name none.
    pub fn from_settings(settings: &std::collections::BTreeMap<String, String>) -> Option<Target> {
        let host = settings.get("ipmi.host")?;
        Some(Target::Lan {
            host: host.clone(),
            user: settings.get("ipmi.user").cloned(),
            password_file: settings.get("ipmi.password_file").cloned(),
        })
    }

    /// ipmitool's arguments before the command.
    pub fn args(&self) -> Vec<String> {
        match self {
            Target::Local => Vec::new(),
            Target::Lan {
                host,
                user,
                password_file,
            } => {
                let mut a = vec!["-I".into(), "lanplus".into(), "-H".into(), host.clone()];
                if let Some(u) = user {
                    a.extend(["-U".into(), u.clone()]);
                }
                if let Some(f) = password_file {
                    a.extend(["-f".into(), f.clone()]);
                }
                a
            }
        }
    }

    /// "local /dev/ipmi0" or "lanplus 192.0.2.10".
    pub fn describe(&self) -> String {
        match self {
            Target::Local => "local /dev/ipmi0".into(),
            Target::Lan { host, .. } => format!("lanplus {host}"),
        }
    }
}

/// Whether the probe reached a BMC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BmcStatus {
    /// It answered `mc info`.
    Used,
    /// No BMC to ask (no local device, none named), or no ipmitool, or nothing recorded.
    Missing,
    /// ipmitool ran and failed, hung or printed something else.
    Failed,
}

/// The BMC section of the inventory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bmc {
    pub status: BmcStatus,
    /// "local /dev/ipmi0", "lanplus 192.0.2.10", or "none".
    pub reached: String,
    /// "live" or "recorded".
    pub source: String,
    /// Why it is missing or failed, and what went wrong with the parts that did.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub detail: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mc: Option<McInfo>,
    /// The builtin FRU device (ID 0), else the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fru: Option<FruDevice>,
    /// How many FRU devices `fru print` listed (power supplies, backplanes, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fru_devices: Option<usize>,
    /// The SEL when the probe ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sel: Option<SelInfo>,
}

impl Bmc {
    fn missing(source: &str, why: impl Into<String>) -> Bmc {
        Bmc {
            status: BmcStatus::Missing,
            reached: "none".into(),
            source: source.into(),
            detail: vec![why.into()],
            mc: None,
            fru: None,
            fru_devices: None,
            sel: None,
        }
    }

    /// The BMC firmware for people: "Dell Inc 2.70 (IPMI 2.0)".
    pub fn firmware(&self) -> Option<String> {
        let mc = self.mc.as_ref()?;
        let mut s: Vec<String> = Vec::new();
        if let Some(m) = &mc.manufacturer_name {
            s.push(m.clone());
        }
        s.push(mc.firmware()?);
        if let Some(v) = &mc.ipmi_version {
            s.push(format!("(IPMI {v})"));
        }
        Some(s.join(" "))
    }

    /// Replace the FRU's serial numbers and asset tag by `redacted`.
    pub fn redact(&mut self, redacted: &str) {
        if let Some(f) = &mut self.fru {
            for v in f.identifiers() {
                if v.is_some() {
                    *v = Some(redacted.to_string());
                }
            }
        }
    }
}

/// One ipmitool command the probe runs, and the file its output is recorded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    McInfo,
    FruPrint,
    SelInfo,
}

impl Command {
    pub fn args(self) -> &'static [&'static str] {
        match self {
            Command::McInfo => &["mc", "info"],
            Command::FruPrint => &["fru", "print"],
            Command::SelInfo => &["sel", "info"],
        }
    }
    /// The recorded output's file under [`TOOLS_DIR`].
    pub fn file(self) -> &'static str {
        match self {
            Command::McInfo => "ipmitool-mc-info.txt",
            Command::FruPrint => "ipmitool-fru-print.txt",
            Command::SelInfo => "ipmitool-sel-info.txt",
        }
    }
}

/// Where ipmitool's outputs come from.
pub trait BmcSource {
    /// "live" or "recorded".
    fn kind(&self) -> &'static str;
    fn collect(&self, c: Command) -> Collected;
}

/// ipmitool on the live system, reaching `target`.
pub struct LiveBmc {
    pub target: Target,
    pub tools: LiveTools,
}

impl LiveBmc {
    pub fn new(target: Target) -> LiveBmc {
        let mut tools = LiveTools::default();
        tools.limits.timeout = PROBE_TIMEOUT;
        LiveBmc { target, tools }
    }
}

impl BmcSource for LiveBmc {
    fn kind(&self) -> &'static str {
        "live"
    }
    fn collect(&self, c: Command) -> Collected {
        let mut args = self.target.args();
        args.extend(c.args().iter().map(|s| s.to_string()));
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        self.tools.run("ipmitool", &a)
    }
}

/// The outputs a live probe recorded in a tree.
pub struct RecordedBmc<'a>(pub &'a Sysroot);

impl BmcSource for RecordedBmc<'_> {
    fn kind(&self) -> &'static str {
        "recorded"
    }
    fn collect(&self, c: Command) -> Collected {
        let rel = format!("{TOOLS_DIR}/{}", c.file());
        if !self.0.exists(&rel) {
            return Collected::Missing(format!("no recorded output {rel} in the tree"));
        }
        match self.0.read_bytes(&rel, MAX_OUTPUT as u64) {
            Some(b) => Collected::Output(b),
            None => Collected::Failed(format!("{rel}: cannot be read (see the warnings)")),
        }
    }
}

/// The local IPMI device of the machine `sys` reads, if any.
pub fn local_device(sys: &Sysroot) -> Option<&'static str> {
    LOCAL_DEVICES.iter().copied().find(|d| sys.exists(d))
}

/// What a probe of the BMC found, with the raw outputs that answered (file name under
/// [`TOOLS_DIR`], bytes) for a snapshot to record.
pub type Probed = (Bmc, Vec<(String, Vec<u8>)>);

/// Probe the BMC of the machine `sys` reads: live through ipmitool when a local device
/// exists or `lan` names one, else from the recorded outputs of a tree.
pub fn probe(sys: &Sysroot, lan: Option<Target>) -> Probed {
    let (bmc, mut outputs) = probe_once(sys, lan);
    // A live probe that reached no BMC records what it found, so that a snapshot says the
    // same ("no local IPMI device", "ipmitool is not installed") and not "nothing recorded".
    if sys.is_live() && outputs.is_empty() {
        outputs.push((NOT_REACHED_FILE.to_string(), not_reached_record(&bmc)));
    }
    (bmc, outputs)
}

/// The record, under [`TOOLS_DIR`], of a live probe that reached no BMC: the status word
/// (`missing`, `failed`) on the first line, then one line per detail.
pub const NOT_REACHED_FILE: &str = "bmc-not-reached.txt";

fn not_reached_record(b: &Bmc) -> Vec<u8> {
    let status = match b.status {
        BmcStatus::Failed => "failed",
        _ => "missing",
    };
    let mut text = format!("{status}\n");
    for d in &b.detail {
        text.push_str(&d.replace('\n', " "));
        text.push('\n');
    }
    text.into_bytes()
}

/// A recorded [`NOT_REACHED_FILE`] read back; `None` where it is not one.
fn read_not_reached(text: &str) -> Option<Bmc> {
    let mut lines = text.lines();
    let status = match lines.next()?.trim() {
        "missing" => BmcStatus::Missing,
        "failed" => BmcStatus::Failed,
        _ => return None,
    };
    let mut b = Bmc::missing("recorded", "");
    b.status = status;
    b.detail = lines
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    Some(b)
}

fn probe_once(sys: &Sysroot, lan: Option<Target>) -> Probed {
    if sys.is_live() {
        let target = match (lan, local_device(sys)) {
            (Some(t), _) => t,
            (None, Some(_)) => Target::Local,
            (None, None) => {
                return (
                    Bmc::missing(
                        "live",
                        "no BMC: no local IPMI device (/dev/ipmi0; load ipmi_si and \
                         ipmi_devintf where the machine has one) and no ipmi.host in the profile",
                    ),
                    Vec::new(),
                )
            }
        };
        let src = LiveBmc::new(target.clone());
        ask(&src, &target.describe())
    } else {
        let src = RecordedBmc(sys);
        if !sys.exists(&format!("{TOOLS_DIR}/{}", Command::McInfo.file())) {
            let rel = format!("{TOOLS_DIR}/{NOT_REACHED_FILE}");
            if let Some(bytes) = sys.read_bytes(&rel, MAX_OUTPUT as u64) {
                match read_not_reached(&String::from_utf8_lossy(&bytes)) {
                    Some(b) => return (b, Vec::new()),
                    None => sys.warn(&rel, "not a record of a BMC that was not reached"),
                }
            }
            return (
                Bmc::missing(
                    "recorded",
                    format!(
                        "no BMC recorded in the tree ({TOOLS_DIR}/{})",
                        Command::McInfo.file()
                    ),
                ),
                Vec::new(),
            );
        }
        ask(&src, "recorded")
    }
}

/// Ask `src` for mc info, then (when the BMC answered) the FRU and the SEL's fill.
pub fn ask(src: &dyn BmcSource, reached: &str) -> Probed {
    let mut outputs = Vec::new();
    let mut bmc = Bmc::missing(src.kind(), "");
    bmc.detail.clear();
    bmc.reached = reached.to_string();
    let mc = match src.collect(Command::McInfo) {
        Collected::Output(b) => {
            let text = String::from_utf8_lossy(&b).into_owned();
            outputs.push((Command::McInfo.file().to_string(), b));
            text
        }
        Collected::Missing(why) => {
            let mut b = Bmc::missing(src.kind(), why);
            b.reached = reached.to_string();
            return (b, Vec::new());
        }
        Collected::Failed(why) => {
            bmc.status = BmcStatus::Failed;
            bmc.detail.push(why);
            return (bmc, Vec::new());
        }
    };
    match parse_mc_info(&mc) {
        Ok(m) => bmc.mc = Some(m),
        Err(e) => {
            bmc.status = BmcStatus::Failed;
            bmc.detail.push(format!("ipmitool mc info: {e}"));
            return (bmc, Vec::new());
        }
    }
    bmc.status = BmcStatus::Used;
    let mut get = |c: Command, bmc: &mut Bmc| -> Option<String> {
        match src.collect(c) {
            Collected::Output(b) => {
                let text = String::from_utf8_lossy(&b).into_owned();
                outputs.push((c.file().to_string(), b));
                Some(text)
            }
            Collected::Missing(why) | Collected::Failed(why) => {
                bmc.detail.push(why);
                None
            }
        }
    };
    if let Some(t) = get(Command::FruPrint, &mut bmc) {
        match parse_fru(&t) {
            Ok(devs) => {
                bmc.fru_devices = Some(devs.len());
                bmc.fru = devs
                    .iter()
                    .find(|d| d.id == Some(0))
                    .or(devs.first())
                    .cloned();
            }
            Err(e) => bmc.detail.push(format!("ipmitool fru print: {e}")),
        }
    }
    if let Some(t) = get(Command::SelInfo, &mut bmc) {
        match parse_sel_info(&t) {
            Ok(s) => bmc.sel = Some(s),
            Err(e) => bmc.detail.push(format!("ipmitool sel info: {e}")),
        }
    }
    (bmc, outputs)
}

/// A recorded `fru print` with its serial numbers and asset tags overwritten (for snapshots);
/// other outputs unchanged.
pub fn redact_output(file: &str, bytes: &[u8], redacted: &str) -> Vec<u8> {
    if file != Command::FruPrint.file() {
        return bytes.to_vec();
    }
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let key = line.split_once(':').map(|(k, _)| k.trim());
        match key {
            // An empty field stays empty (the probe of the snapshot must read what the live
            // probe read, redacted: no value, not "REDACTED").
            Some("Chassis Serial" | "Board Serial" | "Product Serial" | "Product Asset Tag")
                if line
                    .split_once(':')
                    .is_some_and(|(_, v)| !v.trim().is_empty()) =>
            {
                let (k, _) = line.split_once(':').unwrap_or((line, ""));
                out.push_str(k);
                out.push_str(": ");
                out.push_str(redacted);
                if line.ends_with('\n') {
                    out.push('\n');
                }
            }
            _ => out.push_str(line),
        }
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lan_arguments_name_the_password_file() {
        let t = Target::Lan {
            host: "192.0.2.10".into(),
            user: Some("admin".into()),
            password_file: Some("/etc/hwcert/bmc.pw".into()),
        };
        assert_eq!(
            t.args().join(" "),
            "-I lanplus -H 192.0.2.10 -U admin -f /etc/hwcert/bmc.pw"
        );
        assert!(Target::Local.args().is_empty());
    }

    #[test]
    fn fru_output_redaction_keeps_the_rest() {
        let r = redact_output(
            "ipmitool-fru-print.txt",
            b"FRU Device Description : Builtin FRU Device (ID 0)\n Board Serial          : ABC123\n Board Mfg             : Supermicro\n",
            "REDACTED",
        );
        let r = String::from_utf8(r).expect("utf-8");
        assert!(r.contains(" Board Serial          : REDACTED\n"), "{r}");
        assert!(r.contains("Supermicro") && !r.contains("ABC123"), "{r}");
    }

    #[test]
    fn a_bmc_not_reached_is_recorded_and_read_back() {
        let d = tempfile::tempdir().expect("tmp");
        let tree = |text: &[u8]| {
            let dir = d.path().join(format!("t{}", text.len()));
            std::fs::create_dir_all(dir.join(TOOLS_DIR)).expect("mkdir");
            std::fs::write(dir.join(TOOLS_DIR).join(NOT_REACHED_FILE), text).expect("w");
            dir
        };
        let live = Bmc {
            status: BmcStatus::Failed,
            reached: "local /dev/ipmi0".into(),
            source: "live".into(),
            detail: vec!["ipmitool mc info: timed out after 20 s".into()],
            mc: None,
            fru: None,
            fru_devices: None,
            sel: None,
        };
        let root = tree(&not_reached_record(&live));
        let sys = Sysroot::new(&root);
        let (b, out) = probe(&sys, None);
        assert!(out.is_empty(), "a recorded tree records nothing more");
        assert_eq!(b.status, BmcStatus::Failed);
        assert_eq!(b.source, "recorded");
        assert_eq!(b.detail, live.detail);
        // Garbage, an empty file: a warning, and the tree is one without a record.
        for junk in [&b"\x00\xffused\nmc\n"[..], b""] {
            let sys = Sysroot::new(tree(junk));
            let (b, _) = probe(&sys, None);
            assert_eq!(b.status, BmcStatus::Missing);
            assert!(
                b.detail[0].starts_with("no BMC recorded in the tree"),
                "{:?}",
                b.detail
            );
            assert!(
                sys.warnings()
                    .iter()
                    .any(|w| w.path.ends_with(NOT_REACHED_FILE)),
                "{:?}",
                sys.warnings()
            );
        }
    }

    #[test]
    fn a_live_probe_without_a_bmc_leaves_a_record() {
        // This machine, live: either a BMC answered (its mc info is recorded) or the probe
        // says why not, and records that.
        let sys = Sysroot::new("/");
        assert!(sys.is_live());
        let (b, out) = probe(&sys, None);
        if b.status == BmcStatus::Used {
            assert!(out.iter().any(|(f, _)| f == Command::McInfo.file()));
            return;
        }
        assert_eq!(out.len(), 1, "{out:?}");
        let (file, bytes) = &out[0];
        assert_eq!(file, NOT_REACHED_FILE);
        let back = read_not_reached(&String::from_utf8_lossy(bytes)).expect("a record");
        assert_eq!((back.status, back.detail), (b.status, b.detail));
    }
}
