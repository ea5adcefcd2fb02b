//! Accelerator cases: GPUs, DCUs and NPUs, one instance per device of a compute vendor
//! (NVIDIA, AMD, Hygon, Huawei Ascend; a BMC's VGA is not one).
//!
//! * `accel::driver_bound` — the vendor's driver is bound, and the vendor tool lists the
//!   device: as many devices as PCI has (a GPU the driver gave up on is on PCI, not in
//!   nvidia-smi). A missing tool leaves the count unchecked (the log says so); a tool that
//!   fails with the driver bound fails the case.
//! * `accel::link_at_capability` — the PCIe link runs at the width it can, and at the speed it
//!   can unless the tool says the device is idle (GPUs lower their link speed at idle; the
//!   load case checks the speed under load). From the tool where it reports the link, else
//!   sysfs.
//! * `accel::load` — live, root: `dcgmi diag -r N -j` where DCGM is installed, else gpu-burn
//!   (`gpu_burn`). Neither's exit status or "Pass"/"OK" is trusted alone: the case needs the
//!   figures (GFLOPS, memory bandwidth where DCGM gives it), samples nvidia-smi every 5 s for
//!   peak temperature, peak power, thermal throttling and the link under load, and compares the
//!   ECC counters before and after. Profile thresholds judge the figures. Nothing is
//!   downloaded: without a load tool the case is not planned, and says why.
//! * `accel::ecc_clean` — no uncorrectable ECC error (volatile or lifetime), no page
//!   retirement or row remap pending or failed (NVIDIA, nvidia-smi); no uncorrectable error in
//!   the RAS counters (AMD and Hygon, sysfs `ras/*_err_count`); health "OK" (Ascend,
//!   `npu-smi info -t health`, and the table's Health column).
//! * `accel::kernel_log_clean` — no NVIDIA Xid for the device, no amdgpu/hydcu fault, timeout
//!   or reset, no Ascend driver error in the kernel log since boot (which holds the run: these
//!   cases come after the load).
//!
//! Profile settings (`[settings]`): `accel_dcgm_level` (1–4, default 2), `accel_load_seconds`
//! (gpu-burn's length, default the stress duration), `accel_min_gflops`,
//! `accel_min_mem_bandwidth_gbps`, `accel_max_temp_c`, `accel_max_power_w`,
//! `accel_throttle_fails` (thermal throttling during the load fails it; default false: it is
//! reported and recorded).
//!
//! ## Never met a real device
//!
//! This machine has no GPU. Every path here is tested on recorded or documented outputs and
//! fake tools that are real processes (tests/integration/accel.rs); none has run against a
//! real device: the live `nvidia-smi -q -x` sampling during a load, `dcgmi diag` on a real
//! DCGM, gpu-burn on a real GPU, `npu-smi info -t health` on an Ascend, amdgpu's sysfs
//! `ras/` counters on a real Instinct, Hygon's hy-smi at all (its output is assumed to be
//! rocm-smi's), and the kernel log patterns of amdgpu, hydcu and the Ascend driver beyond
//! NVIDIA's documented Xid line.

mod burn;

use std::time::{Duration, Instant};

use hwsys::cmd::{self, Limits};
use inventory::accel::{self as inv_accel, Accelerator, LiveTools, Probed, ToolStatus, Vendor};

use crate::kmsg;
use crate::stress::settings::{bool_setting, setting};
use crate::util::{self, live, reads_files, targets_or, Spec};
use crate::{Case, Component, Context, Inventory, RunOptions, Selection, Target, Verdict};

pub use burn::{parse_dcgmi, parse_gpu_burn, results_for, Burn, DiagResult};

pub(crate) fn cases() -> Vec<Box<dyn Case>> {
    vec![
        Spec {
            name: "accel::driver_bound",
            purpose: "The vendor's driver is bound and its tool lists as many devices as PCI has",
            component: Component::Accelerator,
            blocker: true,
            timeout: 120,
            estimate_ms: 2000,
            requirements: reads_files(),
            select: select_compute,
            run: driver_bound,
        }
        .build(),
        Spec {
            name: "accel::link_at_capability",
            purpose: "The accelerator's PCIe link runs at the width and speed it is capable of",
            component: Component::Accelerator,
            blocker: true,
            timeout: 120,
            estimate_ms: 2000,
            requirements: reads_files(),
            select: select_compute,
            run: link_at_capability,
        }
        .build(),
        Spec {
            name: "accel::load",
            purpose: "A compute load (DCGM diagnostic or gpu-burn) with checked figures: GFLOPS, memory bandwidth, peak temperature and power, ECC counters, throttling",
            component: Component::Accelerator,
            blocker: true,
            timeout: 4 * 3600,
            estimate_ms: 300_000,
            requirements: live(true, &["nvidia-smi"]),
            select: select_load_plain,
            run: load,
        }
        .build_with(Some(select_load)),
        Spec {
            name: "accel::ecc_clean",
            purpose: "No uncorrectable ECC error and no pending retirement or remap (NVIDIA), RAS counters clean (AMD, Hygon), health OK (Ascend)",
            component: Component::Accelerator,
            blocker: true,
            timeout: 120,
            estimate_ms: 2000,
            requirements: reads_files(),
            select: select_ecc,
            run: ecc_clean,
        }
        .build(),
        Spec {
            name: "accel::kernel_log_clean",
            purpose: "No Xid (NVIDIA), GPU fault or reset (AMD, Hygon) or driver error (Ascend) for the device in the kernel log",
            component: Component::Accelerator,
            blocker: true,
            timeout: 60,
            estimate_ms: 500,
            requirements: reads_files(),
            select: select_compute,
            run: kernel_log_clean,
        }
        .build(),
    ]
}

fn target(a: &Accelerator) -> Target {
    Target::item(
        a.address.clone(),
        Some(
            match a.details.as_ref().and_then(|d| d.product_name.as_ref()) {
                Some(n) => format!("{n} ({})", a.label),
                None => a.label.clone(),
            },
        ),
    )
}

fn compute(inv: &Inventory) -> impl Iterator<Item = &Accelerator> {
    inv.accelerators
        .iter()
        .filter(|a| a.vendor.is_some_and(Vendor::is_compute))
}

const NO_DEVICE: &str =
    "no GPU, DCU or NPU of a compute vendor (NVIDIA, AMD, Hygon, Huawei) on PCI";

fn select_compute(inv: &Inventory) -> Selection {
    targets_or(compute(inv).map(target).collect(), NO_DEVICE)
}

/// Why the tools of `vendor` gave nothing, from the inventory.
fn tool_reason(inv: &Inventory, vendor: Vendor) -> Option<String> {
    let names: Vec<&str> = inv_accel::Tool::for_vendor(vendor)
        .iter()
        .map(|t| t.program())
        .collect();
    inv.accelerator_tools
        .iter()
        .find(|t| names.iter().any(|n| t.tool.contains(n)))
        .filter(|t| t.status != ToolStatus::Used)
        .map(|t| {
            format!(
                "{} {}: {}",
                t.tool,
                if t.status == ToolStatus::Missing {
                    "missing"
                } else {
                    "failed"
                },
                t.detail.as_deref().unwrap_or("")
            )
        })
}

fn select_ecc(inv: &Inventory) -> Selection {
    let mut ts = Vec::new();
    let mut why = Vec::new();
    for a in compute(inv) {
        let v = a.vendor.unwrap_or(Vendor::Other);
        // AMD and Hygon counters are in sysfs; NVIDIA and Ascend need their tool.
        let readable = matches!(v, Vendor::Amd | Vendor::Hygon) || a.details.is_some();
        if readable {
            ts.push(target(a));
        } else if let Some(r) = tool_reason(inv, v) {
            why.push(format!("{}: {r}", a.address));
        } else {
            why.push(format!("{}: the tool does not list it", a.address));
        }
    }
    if ts.is_empty() && why.is_empty() {
        return Selection::NotApplicable(NO_DEVICE.into());
    }
    targets_or(
        ts,
        format!(
            "no accelerator whose error counters hwcert can read ({})",
            util::list(&why, 3)
        ),
    )
}

/// The load tools on this machine's PATH, in order of preference.
fn load_tools() -> (Option<std::path::PathBuf>, Option<std::path::PathBuf>) {
    (
        cmd::find("dcgmi"),
        cmd::find("gpu_burn").or_else(|| cmd::find("gpu-burn")),
    )
}

fn select_load_plain(inv: &Inventory) -> Selection {
    select_load(inv, &RunOptions::default())
}

fn select_load(inv: &Inventory, _: &RunOptions) -> Selection {
    let all: Vec<&Accelerator> = compute(inv).collect();
    if all.is_empty() {
        return Selection::NotApplicable(NO_DEVICE.into());
    }
    let nvidia: Vec<Target> = all
        .iter()
        .filter(|a| a.vendor == Some(Vendor::Nvidia))
        .map(|a| target(a))
        .collect();
    let others = all.len() - nvidia.len();
    if nvidia.is_empty() {
        return Selection::NotApplicable(format!(
            "{others} AMD/Hygon/Ascend accelerator(s): their load (ROCm's rvs, Hygon's and Ascend's burn tools) is not implemented"
        ));
    }
    let (dcgmi, burn) = load_tools();
    if dcgmi.is_none() && burn.is_none() {
        return Selection::NotApplicable(
            "no DCGM (dcgmi) and no gpu_burn on PATH: hwcert downloads nothing during a run (install datacenter-gpu-manager, or build gpu-burn beforehand)".into(),
        );
    }
    Selection::Targets(nvidia)
}

/// The vendor tools' view now: run live, or the tree's recorded outputs.
fn view(ctx: &Context<'_>) -> Probed {
    if ctx.is_live() {
        inv_accel::probe(&ctx.inventory.pci, &LiveTools::default())
    } else {
        inv_accel::probe(&ctx.inventory.pci, &inv_accel::RecordedTools(&ctx.sysroot))
    }
}

fn find_in<'a>(p: &'a Probed, addr: &str) -> Result<&'a Accelerator, Verdict> {
    p.accelerators
        .iter()
        .find(|a| a.address == addr)
        .ok_or_else(|| Verdict::error(format!("{addr} is not an accelerator on PCI any more")))
}

/// The drivers a vendor's devices must have (empty: any bound driver).
fn expected_drivers(v: Vendor) -> &'static [&'static str] {
    match v {
        Vendor::Nvidia => &["nvidia"],
        Vendor::Amd => &["amdgpu"],
        _ => &[],
    }
}

fn driver_bound(ctx: &mut Context<'_>) -> Verdict {
    let addr = match util::target_id(ctx) {
        Ok(a) => a,
        Err(v) => return v,
    };
    let p = view(ctx);
    let a = match find_in(&p, &addr) {
        Ok(a) => a,
        Err(v) => return v,
    };
    let v = a.vendor.unwrap_or(Vendor::Other);
    let want = expected_drivers(v);
    match &a.driver {
        None => {
            return Verdict::fail(
                format!(
                    "a bound driver{}",
                    if want.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", want.join(" or "))
                    }
                ),
                format!("{addr}: no driver bound"),
            )
        }
        Some(d) if !want.is_empty() && !want.contains(&d.as_str()) => {
            return Verdict::fail(
                format!("driver {}", want.join(" or ")),
                format!("{addr} is bound to {d}"),
            )
        }
        Some(d) => ctx.log(format!("{addr}: driver {d}")),
    }
    let on_pci = p
        .accelerators
        .iter()
        .filter(|x| x.vendor == Some(v))
        .count();
    let Some(run) = p
        .tools
        .iter()
        .find(|t| a.tool.as_deref() == Some(t.tool.as_str()))
    else {
        ctx.log("no vendor tool for this device: the device count is not checked");
        return Verdict::Pass;
    };
    match run.status {
        ToolStatus::Missing => {
            ctx.log(format!(
                "{}: device count not checked ({}); it would add: {}",
                run.tool,
                run.detail.as_deref().unwrap_or("missing"),
                run.would_add.as_deref().unwrap_or("")
            ));
            Verdict::Pass
        }
        ToolStatus::Failed => Verdict::fail(
            format!("{} answers with the driver bound", run.tool),
            run.detail.clone().unwrap_or_else(|| "it failed".into()),
        ),
        ToolStatus::Used => {
            let listed = run.devices.unwrap_or(0) as f64;
            ctx.measure("pci_devices", on_pci as f64, "");
            let same = ctx.judge("tool_devices", listed, "", "==", on_pci as f64);
            if let Some(dv) = &run.driver_version {
                ctx.log(format!("{} reports driver {dv}", run.tool));
            }
            if a.details.is_none() {
                return Verdict::fail(
                    format!("{} lists {addr}", run.tool),
                    format!(
                        "{} lists {listed} device(s), PCI has {on_pci}; {addr} is not among them",
                        run.tool
                    ),
                );
            }
            if !same {
                return Verdict::fail(
                    format!("{} lists the {on_pci} device(s) PCI has", run.tool),
                    format!("it lists {listed}"),
                );
            }
            Verdict::Pass
        }
    }
}

fn link_at_capability(ctx: &mut Context<'_>) -> Verdict {
    let addr = match util::target_id(ctx) {
        Ok(a) => a,
        Err(v) => return v,
    };
    let p = view(ctx);
    let a = match find_in(&p, &addr) {
        Ok(a) => a,
        Err(v) => return v,
    };
    let sysfs = ctx
        .inventory
        .pci
        .iter()
        .find(|d| d.address == addr)
        .and_then(|d| d.link.clone())
        .unwrap_or_default();
    let tool = a
        .details
        .as_ref()
        .and_then(|d| d.link.clone())
        .unwrap_or_default();
    let (cw, mw) = (
        tool.current_width.or(sysfs.current_width),
        tool.max_width.or(sysfs.max_width),
    );
    let (Some(cw), Some(mw)) = (cw, mw) else {
        return Verdict::skip(format!(
            "{addr}: neither sysfs nor the tool reports the link width"
        ));
    };
    let mut bad = Vec::new();
    if !ctx.judge("link_width", cw as f64, "lanes", ">=", mw as f64) {
        bad.push(format!("x{cw} of x{mw}"));
    }
    // Speed: generations from the tool, else GT/s from sysfs.
    let (cur, max, unit) = match (tool.current_gen, tool.max_gen) {
        (Some(c), Some(m)) => (c as f64, m as f64, "gen"),
        _ => match (sysfs.current_gts, sysfs.max_gts) {
            (Some(c), Some(m)) => (c, m, "GT/s"),
            _ => {
                return if bad.is_empty() {
                    Verdict::Pass
                } else {
                    Verdict::fail(format!("x{mw}"), format!("{addr}: {}", bad.join(", ")))
                }
            }
        },
    };
    if cur < max {
        let d = a.details.as_ref();
        let idle = d.is_some_and(|d| {
            d.throttle_reasons.iter().any(|r| r == "gpu_idle")
                || d.performance_state.as_deref().is_some_and(|s| s != "P0")
        });
        if idle {
            ctx.measure("link_speed", cur, unit);
            ctx.log(format!(
                "{addr}: link at {cur} {unit} of {max} while the device is idle ({}): link power saving; accel::load checks the speed under load",
                d.and_then(|d| d.performance_state.clone()).unwrap_or_else(|| "gpu_idle".into())
            ));
        } else if d.is_none() {
            ctx.measure("link_speed", cur, unit);
            if bad.is_empty() {
                return Verdict::skip(format!(
                    "{addr}: link at {cur} {unit} of {max}: whether the device idles (link power saving) is unknown without its tool"
                ));
            }
        } else if !ctx.judge("link_speed", cur, unit, ">=", max) {
            bad.push(format!("{cur} {unit} of {max} while busy"));
        }
    } else {
        ctx.judge("link_speed", cur, unit, ">=", max);
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            format!("x{mw} at {max} {unit}"),
            format!("{addr}: {}", bad.join(", ")),
        )
    }
}

/// The uncorrectable errors in an AMD/Hygon function's `ras/*_err_count` files ("ue: N").
fn ras_counts(ctx: &Context<'_>, addr: &str) -> Option<Vec<(String, u64, u64)>> {
    let dir = format!("sys/bus/pci/devices/{addr}/ras");
    if !ctx.sysroot.is_dir(&dir) {
        return None;
    }
    let mut out = Vec::new();
    for n in ctx.sysroot.list_dir(&dir) {
        if !n.ends_with("_err_count") {
            continue;
        }
        let Some(t) = ctx.sysroot.read(&format!("{dir}/{n}")) else {
            continue;
        };
        let get = |k: &str| {
            t.lines()
                .find_map(|l| l.strip_prefix(k))
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        if let (Some(ue), Some(ce)) = (get("ue:"), get("ce:")) {
            out.push((n.trim_end_matches("_err_count").to_string(), ue, ce));
        }
    }
    Some(out)
}

fn ecc_clean(ctx: &mut Context<'_>) -> Verdict {
    let addr = match util::target_id(ctx) {
        Ok(a) => a,
        Err(v) => return v,
    };
    let p = view(ctx);
    let a = match find_in(&p, &addr) {
        Ok(a) => a,
        Err(v) => return v,
    };
    match a.vendor.unwrap_or(Vendor::Other) {
        Vendor::Nvidia => {
            let Some(d) = &a.details else {
                return Verdict::skip(format!("nvidia-smi does not describe {addr} now"));
            };
            nvidia_ecc(ctx, &addr, d)
        }
        Vendor::Amd | Vendor::Hygon => {
            let Some(counts) = ras_counts(ctx, &addr) else {
                return Verdict::skip(format!(
                    "{addr} has no RAS counters in sysfs (ras/): its ECC errors are not known"
                ));
            };
            if counts.is_empty() {
                return Verdict::skip(format!("{addr}/ras holds no readable *_err_count file"));
            }
            let mut bad = Vec::new();
            for (block, ue, ce) in counts {
                ctx.measure(&format!("{block}_corrected"), ce as f64, "");
                if !ctx.judge(&format!("{block}_uncorrected"), ue as f64, "", "==", 0.0) {
                    bad.push(format!("{block}: {ue} uncorrectable"));
                }
            }
            if bad.is_empty() {
                Verdict::Pass
            } else {
                Verdict::fail(
                    "no uncorrectable error",
                    format!("{addr}: {}", bad.join(", ")),
                )
            }
        }
        Vendor::Huawei => {
            let d = a.details.clone().unwrap_or_default();
            let mut health = d.health.clone();
            if ctx.is_live() {
                if let Some(i) = d.index {
                    let idx = i.to_string();
                    match LiveTools::default().run("npu-smi", &["info", "-t", "health", "-i", &idx])
                    {
                        inv_accel::Collected::Output(b) => {
                            match inv_accel::parse_npu_health(&String::from_utf8_lossy(&b)) {
                                Ok(h) => health = Some(h),
                                Err(e) => return Verdict::error(e),
                            }
                        }
                        inv_accel::Collected::Missing(e) | inv_accel::Collected::Failed(e) => {
                            return Verdict::error(e)
                        }
                    }
                }
            }
            match health {
                Some(h) if h.eq_ignore_ascii_case("OK") => Verdict::Pass,
                Some(h) => Verdict::fail("health OK", format!("{addr}: npu-smi says {h}")),
                None => Verdict::skip(format!("npu-smi gives no health for {addr}")),
            }
        }
        Vendor::Other => Verdict::error(format!("{addr} is not a compute accelerator")),
    }
}

fn nvidia_ecc(ctx: &mut Context<'_>, addr: &str, d: &inv_accel::Details) -> Verdict {
    match d.ecc_mode.as_deref() {
        None => return Verdict::skip(format!("{addr}: nvidia-smi reports no ECC mode (a GPU without ECC)")),
        Some(m) if m.eq_ignore_ascii_case("Disabled") => {
            return Verdict::fail(
                "ECC enabled",
                format!("{addr}: ECC is disabled (pending: {}), so errors are not counted; nvidia-smi -e 1 and a GPU reset enable it", d.ecc_mode_pending.as_deref().unwrap_or("unknown")),
            )
        }
        _ => {}
    }
    let mut bad = Vec::new();
    if let Some(e) = &d.ecc {
        for (name, v) in [
            ("ecc_volatile_uncorrected", e.volatile_uncorrected),
            ("ecc_aggregate_uncorrected", e.aggregate_uncorrected),
        ] {
            if let Some(v) = v {
                if !ctx.judge(name, v as f64, "", "==", 0.0) {
                    bad.push(format!("{name} {v}"));
                }
            }
        }
        for (name, v) in [
            ("ecc_volatile_corrected", e.volatile_corrected),
            ("ecc_aggregate_corrected", e.aggregate_corrected),
        ] {
            if let Some(v) = v {
                ctx.measure(name, v as f64, "");
            }
        }
    }
    if let Some(r) = &d.retired_pages {
        if let Some(n) = r.double_bit {
            ctx.measure("retired_pages_double_bit", n as f64, "");
        }
        if let Some(n) = r.single_bit {
            ctx.measure("retired_pages_single_bit", n as f64, "");
        }
        if r.pending == Some(true) {
            bad.push("a page retirement is pending (reload the driver)".into());
        }
    }
    if let Some(r) = &d.remapped_rows {
        if let Some(n) = r.uncorrectable {
            ctx.measure("remapped_rows_uncorrectable", n as f64, "");
        }
        if r.pending == Some(true) {
            bad.push("a row remap is pending (reset the GPU)".into());
        }
        if r.failure == Some(true) {
            bad.push("a row remap failed (no spare rows left)".into());
        }
    }
    if d.ecc.is_none() && d.retired_pages.is_none() && d.remapped_rows.is_none() {
        return Verdict::skip(format!("{addr}: nvidia-smi reports no ECC counters"));
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            "no uncorrectable ECC error, no pending retirement or remap",
            format!("{addr}: {}", bad.join("; ")),
        )
    }
}

/// The kernel log records about accelerator `a` that report an error.
pub fn kernel_errors<'r>(a: &Accelerator, records: &'r [kmsg::Record]) -> Vec<&'r kmsg::Record> {
    let addr = a.address.to_ascii_lowercase();
    // NVRM names the device without its function: "NVRM: Xid (PCI:0000:19:00): 79, …".
    let nv = addr
        .rsplit_once('.')
        .map(|(p, _)| p)
        .unwrap_or(&addr)
        .to_string();
    records
        .iter()
        .filter(|r| {
            let t = r.text.to_ascii_lowercase();
            match a.vendor {
                Some(Vendor::Nvidia) => {
                    (t.contains("nvrm: xid") && t.contains(&format!("pci:{nv}")))
                        || (t.contains("fallen off the bus") && t.contains(&nv))
                }
                Some(Vendor::Amd) | Some(Vendor::Hygon) => {
                    let ours = t.contains(&addr);
                    let driver = t.contains("amdgpu") || t.contains("hydcu") || t.contains("hycu");
                    // Not "RAS" or "ECC" alone: amdgpu says "ECC is active" and "RAS INFO: ras
                    // initialized successfully" on every healthy boot.
                    let bad = [
                        "fault",
                        "timeout",
                        "timed out",
                        "gpu reset",
                        "hang",
                        "uncorrectable",
                        "poison",
                        "*error*",
                    ]
                    .iter()
                    .any(|w| t.contains(w));
                    bad && (ours || (driver && !t.contains("0000:")))
                }
                Some(Vendor::Huawei) => {
                    let driver = ["ascend", "davinci", "devdrv", "drv_pcie", "npu"]
                        .iter()
                        .any(|w| t.contains(w));
                    driver
                        && ["error", "fault", "timeout", "heartbeat lost"]
                            .iter()
                            .any(|w| t.contains(w))
                }
                _ => false,
            }
        })
        .collect()
}

fn kernel_log_clean(ctx: &mut Context<'_>) -> Verdict {
    let addr = match util::target_id(ctx) {
        Ok(a) => a,
        Err(v) => return v,
    };
    let Some(a) = ctx
        .inventory
        .accelerators
        .iter()
        .find(|a| a.address == addr)
        .cloned()
    else {
        return Verdict::error(format!("{addr} is not an accelerator in the inventory"));
    };
    let log = match kmsg::read(&ctx.sysroot) {
        Ok(l) => l,
        Err(why) => return Verdict::skip(format!("the kernel log cannot be read: {why}")),
    };
    if log.lost > 0 {
        ctx.log(format!(
            "{} kernel log records were lost before they were read",
            log.lost
        ));
    }
    let found = kernel_errors(&a, &log.records);
    ctx.judge("kernel_log_errors", found.len() as f64, "", "==", 0.0);
    if found.is_empty() {
        return Verdict::Pass;
    }
    for r in &found {
        ctx.log(r.display());
    }
    let shown: Vec<String> = found.iter().take(3).map(|r| r.text.clone()).collect();
    Verdict::fail(
        "no error for the device in the kernel log",
        format!(
            "{} record(s) in {}: {}",
            found.len(),
            log.source,
            shown.join(" | ")
        ),
    )
}

/// What the samples taken during the load saw.
#[derive(Debug, Default)]
struct Samples {
    n: u32,
    peak_temp: Option<f64>,
    peak_power: Option<f64>,
    thermal: u32,
    min_gen: Option<u32>,
    max_gen: Option<u32>,
    last: Option<inv_accel::Details>,
}

fn sample(tools: &LiveTools, index: &str, addr: &str, s: &mut Samples) {
    let inv_accel::Collected::Output(b) = tools.run("nvidia-smi", &["-q", "-x", "-i", index])
    else {
        return;
    };
    let Ok(p) = inv_accel::Tool::NvidiaSmi.parse(&String::from_utf8_lossy(&b)) else {
        return;
    };
    let Some(d) = p
        .devices
        .into_iter()
        .find(|(bus, _)| bus.as_deref().is_none_or(|b| b == addr))
        .map(|(_, d)| d)
    else {
        return;
    };
    s.n += 1;
    let max = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    };
    s.peak_temp = max(s.peak_temp, d.temperature_c);
    s.peak_power = max(s.peak_power, d.power_draw_w);
    if d.throttle_reasons
        .iter()
        .any(|r| r.contains("thermal") || r == "hw_slowdown")
    {
        s.thermal += 1;
    }
    if let Some(l) = &d.link {
        if let Some(c) = l.current_gen {
            s.min_gen = Some(s.min_gen.map_or(c, |m| m.min(c)));
        }
        s.max_gen = l.max_gen.or(s.max_gen);
    }
    s.last = Some(d);
}

fn uncorrected(d: Option<&inv_accel::Details>) -> u64 {
    d.and_then(|d| d.ecc.as_ref())
        .and_then(|e| e.volatile_uncorrected)
        .unwrap_or(0)
}

fn load(ctx: &mut Context<'_>) -> Verdict {
    let addr = match util::target_id(ctx) {
        Ok(a) => a,
        Err(v) => return v,
    };
    if let Err(v) = util::require_live(ctx, "accel::load") {
        return v;
    }
    if let Err(v) = util::require_root(ctx, "accel::load") {
        return v;
    }
    let tools = LiveTools::default();
    load_with(ctx, &addr, &tools, load_tools())
}

/// The load on `addr` with the given dcgmi and gpu-burn (tests hand in fake ones).
pub fn load_with(
    ctx: &mut Context<'_>,
    addr: &str,
    tools: &LiveTools,
    (dcgmi, burn): (Option<std::path::PathBuf>, Option<std::path::PathBuf>),
) -> Verdict {
    let settings = (|| -> Result<_, String> {
        Ok((
            setting::<u32>(ctx, "accel_dcgm_level")?.unwrap_or(2),
            setting::<u64>(ctx, "accel_load_seconds")?
                .unwrap_or_else(|| crate::stress::duration(ctx.options).as_secs()),
            setting::<f64>(ctx, "accel_min_gflops")?,
            setting::<f64>(ctx, "accel_min_mem_bandwidth_gbps")?,
            setting::<f64>(ctx, "accel_max_temp_c")?,
            setting::<f64>(ctx, "accel_max_power_w")?,
            bool_setting(ctx, "accel_throttle_fails")?.unwrap_or(false),
        ))
    })();
    let (level, seconds, min_gflops, min_bw, max_temp, max_power, throttle_fails) = match settings {
        Ok(s) => s,
        Err(e) => return Verdict::error(e),
    };
    if !(1..=4).contains(&level) {
        return Verdict::error(format!(
            "setting accel_dcgm_level = {level}: DCGM's levels are 1 to 4"
        ));
    }
    // Before: the device's index and its counters.
    let before = inv_accel::probe(&ctx.inventory.pci, tools);
    let Some(b) = before
        .accelerators
        .iter()
        .find(|a| a.address == addr)
        .and_then(|a| a.details.clone())
    else {
        let why = before
            .tools
            .first()
            .and_then(|t| t.detail.clone())
            .unwrap_or_default();
        return Verdict::error(format!(
            "nvidia-smi does not describe {addr}, so the load cannot address it: {why}"
        ));
    };
    if let Some(m) = b
        .mig
        .as_ref()
        .filter(|m| m.current.as_deref() == Some("Enabled"))
    {
        return Verdict::skip(format!(
            "{addr} is in MIG mode ({} MIG devices): DCGM's diagnostic and gpu-burn do not load a MIG-partitioned GPU; disable MIG (nvidia-smi -mig 0) to certify it",
            m.devices
        ));
    }
    let Some(index) = b.index else {
        return Verdict::error(format!("nvidia-smi gives no index for {addr}"));
    };
    let idx = index.to_string();
    let (prog, args, name): (std::path::PathBuf, Vec<String>, &str) = match (&dcgmi, &burn) {
        (Some(d), _) => (
            d.clone(),
            vec![
                "diag".into(),
                "-r".into(),
                level.to_string(),
                "-j".into(),
                "-i".into(),
                idx.clone(),
            ],
            "dcgmi",
        ),
        (None, Some(g)) => (
            g.clone(),
            vec!["-i".into(), idx.clone(), seconds.to_string()],
            "gpu_burn",
        ),
        (None, None) => {
            return Verdict::skip("no dcgmi and no gpu_burn on PATH (nothing is downloaded)")
        }
    };
    ctx.log(format!("running {} {}", prog.display(), args.join(" ")));
    // DCGM's levels take from seconds (1) to hours (4): the case's own limit (4 h, or the
    // profile's) is the bound; gpu-burn runs its length, and 10 minutes more is a hang.
    let tool_limit = if name == "dcgmi" {
        4 * 3600 - 60
    } else {
        seconds.saturating_add(600)
    };
    let limits = Limits {
        timeout: Duration::from_secs(tool_limit),
        max_stdout: 16 << 20,
        ..Limits::default()
    };
    let mut samples = Samples::default();
    let ran = std::thread::scope(|s| {
        let h = s.spawn(|| cmd::run(&prog, &args, limits));
        let mut next = Instant::now();
        while !h.is_finished() {
            if Instant::now() >= next {
                sample(tools, &idx, addr, &mut samples);
                next = Instant::now() + Duration::from_secs(5);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        h.join()
    });
    let ran = match ran {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            return Verdict::error(format!(
                "cannot run {}: {}",
                prog.display(),
                util::os_error(&e)
            ))
        }
        Err(_) => return Verdict::error("the load thread panicked"),
    };
    // One sample after, for the counters.
    sample(tools, &idx, addr, &mut samples);
    let out = String::from_utf8_lossy(&ran.stdout).into_owned();
    let mut bad: Vec<String> = Vec::new();
    if ran.timed_out {
        return Verdict::fail(format!("{name} finishes"), ran.describe());
    }
    match name {
        "dcgmi" => match parse_dcgmi(&out) {
            Err(e) => return Verdict::error(format!("{e} ({})", ran.describe())),
            Ok(all) => {
                let ours = results_for(&all, index);
                let failed: Vec<String> = ours
                    .iter()
                    .filter(|r| r.failed())
                    .map(|r| format!("{}: {} {}", r.test, r.status, r.messages.join(" ")))
                    .collect();
                // Passes that name this GPU: machine-wide deployment checks alone are no load.
                let passed = ours
                    .iter()
                    .filter(|r| r.passed() && r.gpus.contains(&index))
                    .count();
                ctx.measure("dcgm_tests_passed", passed as f64, "");
                ctx.measure("dcgm_level", level as f64, "");
                for r in &ours {
                    ctx.log(format!(
                        "dcgmi: {}: {} {}",
                        r.test,
                        r.status,
                        r.messages.join(" ")
                    ));
                }
                bad.extend(failed);
                if passed == 0 {
                    bad.push(format!("dcgmi reported no passing test for GPU {index}"));
                }
                if ran.code != Some(0) && bad.is_empty() {
                    bad.push(format!(
                        "dcgmi ended with {} though its results say Pass",
                        ran.describe()
                    ));
                }
                if let Some(g) = burn::figures(&ours, "gigaflops")
                    .into_iter()
                    .reduce(f64::max)
                {
                    judge_min(ctx, "gflops", g, "GFLOPS", min_gflops, &mut bad);
                }
                if let Some(bw) = burn::figures(&ours, "GB/s").into_iter().reduce(f64::max) {
                    judge_min(ctx, "memory_bandwidth", bw, "GB/s", min_bw, &mut bad);
                } else if min_bw.is_some() {
                    bad.push(format!("accel_min_mem_bandwidth_gbps is set but dcgmi -r {level} gave no bandwidth figure (level 3 or 4 runs Memory Bandwidth)"));
                }
            }
        },
        _ => {
            let b = parse_gpu_burn(&out);
            for l in &b.init_errors {
                bad.push(format!("gpu_burn: {l}"));
            }
            if b.progress_lines == 0 {
                bad.push(
                    "gpu_burn printed no progress figures (it reports OK even after an init error)"
                        .into(),
                );
            }
            ctx.judge("compute_errors", b.errors as f64, "", "==", 0.0);
            if b.errors > 0 {
                bad.push(format!("{} wrong results", b.errors));
            }
            if b.verdicts.is_empty() {
                bad.push("gpu_burn printed no verdict line".into());
            }
            for (g, v) in &b.verdicts {
                if v != "OK" {
                    bad.push(format!("gpu_burn: GPU {g}: {v}"));
                }
            }
            if ran.code != Some(0) {
                bad.push(format!("gpu_burn ended with {}", ran.describe()));
            }
            if let Some(g) = b.max_gflops {
                judge_min(ctx, "gflops", g, "GFLOPS", min_gflops, &mut bad);
            }
            if min_bw.is_some() {
                bad.push("accel_min_mem_bandwidth_gbps is set but gpu_burn measures no bandwidth (install DCGM)".into());
            }
        }
    }
    if samples.n == 0 {
        bad.push(
            "nvidia-smi gave no sample during the load: peak temperature and power unknown".into(),
        );
    }
    ctx.measure("samples", samples.n as f64, "");
    if let Some(t) = samples.peak_temp {
        match max_temp {
            Some(m) if !ctx.judge("peak_temperature", t, "°C", "<=", m) => {
                bad.push(format!("peak temperature {t} °C above {m}"))
            }
            Some(_) => {}
            None => ctx.measure("peak_temperature", t, "°C"),
        }
    }
    if let Some(p) = samples.peak_power {
        let limit = max_power.or(b.power_limit_w.map(|l| l * 1.05));
        match limit {
            Some(m) if !ctx.judge("peak_power", p, "W", "<=", m) => {
                bad.push(format!("peak power {p} W above {m:.1}"))
            }
            Some(_) => {}
            None => ctx.measure("peak_power", p, "W"),
        }
    }
    if samples.thermal > 0 {
        ctx.log(format!(
            "thermal throttling in {} of {} samples",
            samples.thermal, samples.n
        ));
    }
    if throttle_fails {
        if !ctx.judge(
            "thermal_throttle_samples",
            samples.thermal as f64,
            "",
            "==",
            0.0,
        ) {
            bad.push(format!(
                "thermal throttling in {} of {} samples",
                samples.thermal, samples.n
            ));
        }
    } else {
        ctx.measure("thermal_throttle_samples", samples.thermal as f64, "");
    }
    if let (Some(c), Some(m)) = (samples.min_gen, samples.max_gen) {
        if !ctx.judge("link_gen_under_load", c as f64, "gen", ">=", m as f64) {
            bad.push(format!("PCIe link at gen {c} of {m} under load"));
        }
    }
    let (u0, u1) = (uncorrected(Some(&b)), uncorrected(samples.last.as_ref()));
    if u1 > u0 {
        bad.push(format!(
            "{} new uncorrectable ECC error(s) during the load",
            u1 - u0
        ));
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            format!("{name} passes with its figures, counters and samples"),
            format!("{addr}: {}", bad.join("; ")),
        )
    }
}

fn judge_min(
    ctx: &mut Context<'_>,
    name: &str,
    v: f64,
    unit: &str,
    min: Option<f64>,
    bad: &mut Vec<String>,
) {
    match min {
        Some(m) => {
            if !ctx.judge(name, v, unit, ">=", m) {
                bad.push(format!("{name} {v} {unit} below {m}"));
            }
        }
        None => ctx.measure(name, v, unit),
    }
}
