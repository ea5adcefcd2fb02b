//! The accelerator part of the inventory: one [`Accelerator`] per PCI function of class 03xx
//! (display), 12xx (processing accelerator) or 0b40 (co-processor), with what the vendor's
//! tool said about it, and one [`ToolRun`] per tool asked.

use serde::{Deserialize, Serialize};

/// Whose device it is, for which tool applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Vendor {
    /// 10de: nvidia-smi, DCGM.
    Nvidia,
    /// 1002: amd-smi or rocm-smi.
    Amd,
    /// 1d94, Hygon DCU: hy-smi.
    Hygon,
    /// 19e5, Ascend NPU: npu-smi.
    Huawei,
    /// Anything else (a BMC's VGA, a Matrox): listed, no vendor tool known.
    Other,
}

impl Vendor {
    /// From a PCI vendor ID (4 lower-case hex digits).
    pub fn from_pci(id: Option<&str>) -> Vendor {
        match id {
            Some("10de") => Vendor::Nvidia,
            Some("1002") => Vendor::Amd,
            Some("1d94") => Vendor::Hygon,
            Some("19e5") => Vendor::Huawei,
            _ => Vendor::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Vendor::Nvidia => "nvidia",
            Vendor::Amd => "amd",
            Vendor::Hygon => "hygon",
            Vendor::Huawei => "huawei",
            Vendor::Other => "other",
        }
    }

    /// A compute vendor (one whose devices the accelerator cases check).
    pub fn is_compute(self) -> bool {
        self != Vendor::Other
    }
}

/// One accelerator (a PCI function of an accelerator class).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Accelerator {
    /// The PCI address ("0000:3b:00.0").
    pub address: String,
    pub vendor: Option<Vendor>,
    /// "display", "processing accelerator", "co-processor".
    pub kind: String,
    /// The PCI label ("NVIDIA Corporation GA100 [A100 PCIe 40GB] [10de:20f1]").
    pub label: String,
    /// The bound kernel driver.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// The tool that describes it ("nvidia-smi"), when the vendor has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// What the tool said about this device; absent when the tool is missing, failed, or did
    /// not list it (the [`ToolRun`] says which).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Details>,
}

/// What a vendor tool says about one device. Every field is optional: tools, models and
/// driver versions differ in what they report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Details {
    /// The tool's own index of the device (`nvidia-smi -i N`, `dcgmi diag -i N`, `npu-smi
    /// info -i N`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_name: Option<String>,
    /// The driver's version as the tool reports it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver_version: Option<String>,
    /// CUDA (NVIDIA) or ROCm/CANN version of the stack.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vbios_version: Option<String>,
    /// Firmware versions other than the VBIOS (InfoROM image, GSP, NPU firmware).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub firmware_version: Option<String>,
    /// Redacted unless identifiers are asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// Redacted unless identifiers are asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// "Enabled"/"Disabled" as the tool says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ecc_mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ecc_mode_pending: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ecc: Option<EccCounts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retired_pages: Option<RetiredPages>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remapped_rows: Option<RemappedRows>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_total_mib: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_used_mib: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<ToolLink>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub power_draw_w: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub power_limit_w: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature_c: Option<f64>,
    /// "P0" … "P12" (NVIDIA).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub performance_state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clocks: Option<Clocks>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mig: Option<Mig>,
    /// The NVLink/NVSwitch fabric state as nvidia-smi reports it ("Completed, Success").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fabric: Option<String>,
    /// Clock event (throttle) reasons active when the tool ran ("hw_thermal_slowdown").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub throttle_reasons: Vec<String>,
    /// The device's own health word (npu-smi's "OK", "Warning", "Alarm", "Critical").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<String>,
}

/// ECC error counts: volatile (since the driver loaded) and aggregate (lifetime).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EccCounts {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volatile_corrected: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volatile_uncorrected: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aggregate_corrected: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aggregate_uncorrected: Option<u64>,
}

/// Pages the driver retired (pre-Ampere NVIDIA).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetiredPages {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub single_bit: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub double_bit: Option<u64>,
    /// A retirement waits for the next driver reload.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending: Option<bool>,
}

/// Rows the memory remapped (Ampere and later NVIDIA).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemappedRows {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correctable: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uncorrectable: Option<u64>,
    /// A remap waits for a GPU reset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending: Option<bool>,
    /// A remap failed: the GPU is out of spare rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<bool>,
}

/// The PCIe link as the tool sees it (generation numbers, lanes).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolLink {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_gen: Option<u32>,
    /// The most both ends can do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_gen: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_width: Option<u32>,
}

/// Clocks in MHz.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clocks {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub graphics_mhz: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_mhz: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_graphics_mhz: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_memory_mhz: Option<u64>,
}

/// Multi-Instance GPU mode.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending: Option<String>,
    /// MIG devices configured.
    pub devices: u32,
}

/// How a tool's run went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolStatus {
    /// It ran (or its recorded output was read) and its output was understood.
    Used,
    /// Not installed (live), or no recorded output in the tree.
    Missing,
    /// It failed, hung, or printed something that is not its format.
    Failed,
}

/// One vendor tool the probe asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolRun {
    /// "nvidia-smi".
    pub tool: String,
    /// The command line ("nvidia-smi -q -x").
    pub command: String,
    pub status: ToolStatus,
    /// "live" (run now) or "recorded" (read from `.hwcert/tools/` in the tree).
    pub source: String,
    /// What went wrong, or where the output came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// What the tool would add, when it is missing or failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub would_add: Option<String>,
    /// Devices the tool listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub devices: Option<u32>,
    /// Driver version the tool reported, machine-wide.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver_version: Option<String>,
    /// Bus IDs the tool listed that match no accelerator function on PCI.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unmatched: Vec<String>,
}
