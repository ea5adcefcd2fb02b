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
//! * `accel::load` — live, root, per vendor (see [`load`]): NVIDIA `dcgmi diag -r N -j` where
//!   DCGM is installed, else gpu-burn (`gpu_burn`), nvidia-smi sampled every 5 s (peak
//!   temperature, peak power, thermal throttling, the link under load) and the ECC counters
//!   compared before and after; AMD and Hygon the ROCm Validation Suite (`rvs`: gst's GFLOPS,
//!   babel's memory bandwidth, on the GPU's KFD id), rocm-smi or hy-smi sampled; Huawei Ascend
//!   `ascend-dmi -f` (TFLOPS, power) and `--bw -t d2d` (bandwidth) between two
//!   `npu-smi info -t health`, npu-smi sampled. No tool's exit status or "PASS"/"OK" is trusted
//!   alone: the case needs the figures, and profile thresholds judge them and the peaks.
//!   Nothing is downloaded: a device whose vendor's load tool is not installed is not planned,
//!   and the plan says why.
//! * `accel::ecc_clean` — no uncorrectable ECC error (volatile or lifetime), no page
//!   retirement or row remap pending or failed (NVIDIA, nvidia-smi); no uncorrectable error in
//!   the RAS counters (AMD and Hygon, sysfs `ras/*_err_count`); health "OK" (Ascend,
//!   `npu-smi info -t health`, and the table's Health column).
//! * `accel::kernel_log_clean` — no NVIDIA Xid for the device, no amdgpu/hydcu fault, timeout
//!   or reset, no Ascend driver error in the kernel log during the run: the records stamped
//!   after the run's start (the supervisor records it in state.json as CLOCK_MONOTONIC of its
//!   boot, the kernel log's clock; 1 s of slack), or the whole boot when the run started in
//!   an earlier one. These cases come after the load.
//!
//! Profile settings (`[settings]`): `accel_dcgm_level` (1–4, default 2), `accel_load_seconds`
//! (gpu-burn's and rvs gst's length, default the stress duration), `accel_min_gflops` (also
//! gst's target; 1000 when unset),
//! `accel_min_mem_bandwidth_gbps`, `accel_max_temp_c`, `accel_max_power_w`,
//! `accel_throttle_fails` (thermal throttling during the load fails it; default false: it is
//! reported and recorded).
//!
//! ## Never met a real device
//!
//! This machine has no GPU. Every path here is tested on recorded or documented outputs and
//! fake tools that are real processes (tests/integration/accel.rs, accel_vendors.rs); none has
//! run against a real device: the live `nvidia-smi -q -x` sampling during a load, `dcgmi diag`
//! on a real DCGM, gpu-burn on a real GPU, `npu-smi info -t health` on an Ascend, amdgpu's
//! sysfs `ras/` counters on a real Instinct, Hygon's hy-smi at all (its output is assumed to be
//! rocm-smi's), rvs at all (hwcert's configuration's keys and the gst/babel lines are from
//! RVS's sources and documentation; the DTK's rvs is assumed to be RVS), the KFD topology's
//! `location_id` mapping on real hardware, ascend-dmi at all (its tables are written from the
//! documentation's column names), and the kernel log patterns of amdgpu, hydcu and the Ascend
//! driver beyond NVIDIA's documented Xid line.

mod burn;
mod common;
mod dmi;
mod load;
mod rvs;

use inventory::accel::{self as inv_accel, Accelerator, LiveTools, ToolStatus, Vendor};

use crate::kmsg;
use crate::util::{self, live, reads_files, targets_or, Spec};
use crate::{Case, Component, Context, Inventory, Selection, Verdict};

use common::{compute, subject, target, Source, Subject, NO_DEVICE};
use load::{select_load, select_load_plain};

pub use burn::{parse_dcgmi, parse_gpu_burn, results_for, Burn, DiagResult};
pub use dmi::{parse_bandwidth as parse_dmi_bandwidth, parse_flops as parse_dmi_flops, Flops};
pub use load::{load_with, select_load_with, LoadTools};
pub use rvs::{kfd_gpu_id, parse_rvs, RvsRun};

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
            requirements: live(true, &[]),
            select: select_load_plain,
            run: load::load,
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

/// The drivers a vendor's devices must have (empty: any bound driver).
fn expected_drivers(v: Vendor) -> &'static [&'static str] {
    match v {
        Vendor::Nvidia => &["nvidia"],
        Vendor::Amd => &["amdgpu"],
        _ => &[],
    }
}

fn driver_bound(ctx: &mut Context<'_>) -> Verdict {
    let sub = match subject(ctx, Source::ToolsNow) {
        Ok(s) => s,
        Err(v) => return v,
    };
    let (addr, a) = (sub.addr.clone(), &sub.device);
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
    let Some(p) = sub.view.as_ref() else {
        return Verdict::error(format!("{addr}: no view of the vendor tools"));
    };
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
    let sub = match subject(ctx, Source::ToolsNow) {
        Ok(s) => s,
        Err(v) => return v,
    };
    let (addr, a) = (sub.addr.clone(), &sub.device);
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
    let sub = match subject(ctx, Source::ToolsNow) {
        Ok(s) => s,
        Err(v) => return v,
    };
    let (addr, a) = (sub.addr.clone(), &sub.device);
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

/// How much earlier than the run's start a record still counts as the run's: the kernel
/// stamps records with its scheduler clock, which may differ from CLOCK_MONOTONIC by a little.
const RUN_START_SLACK_US: u64 = 1_000_000;

/// The run's start in the kernel log's terms (µs of CLOCK_MONOTONIC), when the log read is of
/// the boot the run started in: the supervisor records it in state.json. `None` (the whole
/// boot's log is the run's, or no run is known) says why in the case's log.
fn run_start_us(ctx: &mut Context<'_>) -> Option<u64> {
    let Some(dir) = ctx.run_dir().map(std::path::Path::to_path_buf) else {
        ctx.log("not part of a run: every kernel log record of the boot is read");
        return None;
    };
    let Some(start) = documents::rundir::RunState::read(&dir).and_then(|s| s.run_started) else {
        ctx.log(format!(
            "{}: no run start recorded (written by an older hwcert?): every kernel log record of the boot is read",
            dir.join(documents::rundir::STATE_FILE).display()
        ));
        return None;
    };
    // The boot the log is of: this machine's, or the recorded sysroot's.
    let boot = ctx
        .sysroot
        .read("proc/sys/kernel/random/boot_id")
        .map(|b| b.trim().to_string());
    if boot.as_deref() != Some(start.boot_id.as_str()) {
        ctx.log(format!(
            "the run started in boot {}, the kernel log is of boot {}: all of it is within the run",
            start.boot_id,
            boot.as_deref().unwrap_or("unknown")
        ));
        return None;
    }
    Some(start.monotonic_us)
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
    let Subject { device: a, .. } = match subject(ctx, Source::Inventory) {
        Ok(s) => s,
        Err(v) => return v,
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
    let records = match run_start_us(ctx) {
        Some(start) => {
            let (ours, before): (Vec<_>, Vec<_>) = log
                .records
                .iter()
                .cloned()
                .partition(|r| r.usec.is_none_or(|us| us + RUN_START_SLACK_US >= start));
            ctx.log(format!(
                "the run started at {}.{:06} s of this boot: {} record(s) before it are not the run's, {} are",
                start / 1_000_000,
                start % 1_000_000,
                before.len(),
                ours.len()
            ));
            ours
        }
        None => log.records.clone(),
    };
    let found = kernel_errors(&a, &records);
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
