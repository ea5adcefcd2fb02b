//! The seam between the probe and the vendor tools. Tools are programs, not files: on the
//! live system a [`LiveTools`] runs them (with a time limit, through [`hwsys::cmd`]); on a
//! recorded tree or snapshot a [`RecordedTools`] reads what a live probe recorded, under
//! [`TOOLS_DIR`] in the tree (`.hwcert/tools/nvidia-smi-q-x.xml`), through the tree's
//! [`Sysroot`] like every other file. `hwcert snapshot` of the live system writes each output
//! there, so probing the snapshot gives the same inventory.

use std::ffi::OsString;
use std::time::Duration;

use hwsys::cmd::{self, Limits};
use hwsys::Sysroot;

use super::model::Vendor;
use super::parsed::Parsed;
use super::{npu, nvidia, rocm};

/// Where a tree holds recorded tool outputs.
pub const TOOLS_DIR: &str = ".hwcert/tools";

/// Most bytes of a tool's output read (nvidia-smi -q -x of 16 GPUs is about 1 MiB).
pub const MAX_OUTPUT: usize = 16 << 20;

/// How long the probe lets a tool run.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

/// A vendor tool the probe knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tool {
    NvidiaSmi,
    AmdSmi,
    RocmSmi,
    HySmi,
    NpuSmi,
}

impl Tool {
    /// The tools for a vendor's devices, the preferred first.
    pub fn for_vendor(v: Vendor) -> &'static [Tool] {
        match v {
            Vendor::Nvidia => &[Tool::NvidiaSmi],
            Vendor::Amd => &[Tool::AmdSmi, Tool::RocmSmi],
            Vendor::Hygon => &[Tool::HySmi],
            Vendor::Huawei => &[Tool::NpuSmi],
            Vendor::Other => &[],
        }
    }

    /// The program's name.
    pub fn program(self) -> &'static str {
        match self {
            Tool::NvidiaSmi => "nvidia-smi",
            Tool::AmdSmi => "amd-smi",
            Tool::RocmSmi => "rocm-smi",
            Tool::HySmi => "hy-smi",
            Tool::NpuSmi => "npu-smi",
        }
    }

    /// Its arguments.
    pub fn args(self) -> &'static [&'static str] {
        match self {
            Tool::NvidiaSmi => &["-q", "-x"],
            Tool::AmdSmi => &["static", "--json"],
            Tool::RocmSmi | Tool::HySmi => &["--showallinfo", "--json"],
            Tool::NpuSmi => &["info"],
        }
    }

    /// The command line, for people.
    pub fn command(self) -> String {
        format!("{} {}", self.program(), self.args().join(" "))
    }

    /// The recorded output's file name under [`TOOLS_DIR`].
    pub fn file(self) -> &'static str {
        match self {
            Tool::NvidiaSmi => "nvidia-smi-q-x.xml",
            Tool::AmdSmi => "amd-smi-static.json",
            Tool::RocmSmi => "rocm-smi-showallinfo.json",
            Tool::HySmi => "hy-smi-showallinfo.json",
            Tool::NpuSmi => "npu-smi-info.txt",
        }
    }

    /// What the inventory gains with it.
    pub fn would_add(self) -> &'static str {
        match self {
            Tool::NvidiaSmi => "driver and CUDA versions, VBIOS, ECC mode and counts, retired pages and remapped rows, memory, PCIe link generation, power limit, clocks, MIG and NVLink fabric state (install the NVIDIA driver's nvidia-smi)",
            Tool::AmdSmi | Tool::RocmSmi => "product name, driver version, VBIOS, VRAM, power and temperature (install amd-smi or rocm-smi from ROCm)",
            Tool::HySmi => "product name, driver version, VBIOS, memory, power and temperature (install Hygon's DTK hy-smi)",
            Tool::NpuSmi => "product name, firmware and driver version, health, power, temperature and HBM (install the Ascend driver's npu-smi)",
        }
    }

    /// Understand its output.
    pub fn parse(self, text: &str) -> Result<Parsed, String> {
        match self {
            Tool::NvidiaSmi => nvidia::parse(text),
            Tool::AmdSmi => rocm::parse_amd_smi(text),
            Tool::RocmSmi => rocm::parse_rocm_smi(text, "rocm-smi"),
            Tool::HySmi => rocm::parse_rocm_smi(text, "hy-smi"),
            Tool::NpuSmi => npu::parse(text),
        }
    }
}

/// What asking a tool gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Collected {
    /// Its output (it exited 0 in time).
    Output(Vec<u8>),
    /// Not installed, or not recorded: why.
    Missing(String),
    /// It failed, hung or printed too much: why.
    Failed(String),
}

/// Where tool outputs come from.
pub trait ToolSource {
    /// "live" or "recorded".
    fn kind(&self) -> &'static str;
    /// Run (or read) `tool`.
    fn collect(&self, tool: Tool) -> Collected;
}

/// Runs tools on the live system.
#[derive(Debug, Clone)]
pub struct LiveTools {
    /// Where programs are looked up (this process's `PATH` by default).
    pub path: OsString,
    pub limits: Limits,
}

impl Default for LiveTools {
    fn default() -> Self {
        LiveTools {
            path: std::env::var_os("PATH").unwrap_or_default(),
            limits: Limits {
                timeout: PROBE_TIMEOUT,
                max_stdout: MAX_OUTPUT,
                ..Limits::default()
            },
        }
    }
}

impl LiveTools {
    /// Run `program args…`: the output when it exited 0 in time, else why not.
    pub fn run(&self, program: &str, args: &[&str]) -> Collected {
        let Some(exe) = cmd::find_in(program, &self.path) else {
            return Collected::Missing(format!("{program} is not installed (not on PATH)"));
        };
        let line = format!("{program} {}", args.join(" "));
        match cmd::run(&exe, args, self.limits) {
            Err(e) => Collected::Failed(format!("{line}: cannot run it: {e}")),
            Ok(r) if r.timed_out => Collected::Failed(format!(
                "{line}: no answer in {} s (killed)",
                self.limits.timeout.as_secs()
            )),
            Ok(r) if r.stdout_truncated => Collected::Failed(format!(
                "{line}: printed more than {} bytes",
                self.limits.max_stdout
            )),
            Ok(r) if !r.success() => Collected::Failed(format!(
                "{line}: {}{}",
                r.describe(),
                r.stderr_last_line()
                    .or_else(|| {
                        String::from_utf8_lossy(&r.stdout)
                            .lines()
                            .rev()
                            .find(|l| !l.trim().is_empty())
                            .map(|l| hwsys::text::escape_controls(l.trim()).into_owned())
                    })
                    .map(|l| format!(": {l}"))
                    .unwrap_or_default()
            )),
            Ok(r) => Collected::Output(r.stdout),
        }
    }
}

impl ToolSource for LiveTools {
    fn kind(&self) -> &'static str {
        "live"
    }
    fn collect(&self, tool: Tool) -> Collected {
        self.run(tool.program(), tool.args())
    }
}

/// Reads the outputs a live probe recorded in a tree.
pub struct RecordedTools<'a>(pub &'a Sysroot);

impl ToolSource for RecordedTools<'_> {
    fn kind(&self) -> &'static str {
        "recorded"
    }
    fn collect(&self, tool: Tool) -> Collected {
        let rel = format!("{TOOLS_DIR}/{}", tool.file());
        if !self.0.exists(&rel) {
            return Collected::Missing(format!("no recorded output {rel} in the tree"));
        }
        match self.0.read_bytes(&rel, MAX_OUTPUT as u64) {
            Some(b) => Collected::Output(b),
            None => Collected::Failed(format!("{rel}: cannot be read (see the warnings)")),
        }
    }
}
