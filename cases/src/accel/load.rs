//! `accel::load`: a compute load on one accelerator with its figures checked, per vendor.
//!
//! * NVIDIA: `dcgmi diag -r N -j` where DCGM is installed, else gpu-burn; nvidia-smi sampled.
//! * AMD and Hygon DCU: the ROCm Validation Suite (`rvs`; Hygon's DTK ships its own build)
//!   with hwcert's configuration: `gst` (SGEMM at a GFLOPS target) then `babel` (BabelStream
//!   memory bandwidth) on the one GPU, addressed by its KFD id; rocm-smi (AMD) or hy-smi
//!   (Hygon) sampled for temperature and power.
//! * Huawei Ascend: `npu-smi info -t health` before and after; `ascend-dmi -f` (AI Core
//!   TFLOPS and power at full load), then `ascend-dmi --bw -t d2d` (memory bandwidth);
//!   `npu-smi info` sampled.
//!
//! No tool's exit status or "PASS"/"OK" is trusted alone: the case needs the figures, and
//! judges them and the samples' peaks against the profile (`accel_min_gflops`,
//! `accel_min_mem_bandwidth_gbps`, `accel_max_temp_c`, `accel_max_power_w`). Nothing is
//! downloaded: without the vendor's load tool the device is not planned, and the plan says
//! why.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hwsys::cmd::{self, Limits, Ran};
use inventory::accel::{self as inv_accel, Accelerator, LiveTools, Tool, Vendor};

use super::burn::{self, parse_dcgmi, parse_gpu_burn, results_for};
use super::common::{compute, subject, target, Source, NO_DEVICE};
use super::{dmi, rvs};
use crate::stress::settings::{bool_setting, setting};
use crate::util;
use crate::{Context, Inventory, RunOptions, Selection, Target, Verdict};

/// The load tools of this machine (tests hand in fake ones).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadTools {
    pub dcgmi: Option<PathBuf>,
    pub gpu_burn: Option<PathBuf>,
    pub rvs: Option<PathBuf>,
    pub ascend_dmi: Option<PathBuf>,
    /// How long past the load's length rvs and ascend-dmi may run before they are killed as
    /// hung (their start-up, babel's and the bandwidth test's own time).
    pub grace: Duration,
}

/// [`LoadTools::grace`]'s default.
pub const LOAD_GRACE: Duration = Duration::from_secs(900);

impl Default for LoadTools {
    fn default() -> Self {
        LoadTools {
            dcgmi: None,
            gpu_burn: None,
            rvs: None,
            ascend_dmi: None,
            grace: LOAD_GRACE,
        }
    }
}

impl LoadTools {
    /// The tools found on `path` (a `PATH`-style list).
    pub fn find_in(path: &OsStr) -> LoadTools {
        let f = |n: &str| cmd::find_in(n, path);
        LoadTools {
            dcgmi: f("dcgmi"),
            gpu_burn: f("gpu_burn").or_else(|| f("gpu-burn")),
            rvs: f("rvs"),
            ascend_dmi: f("ascend-dmi"),
            grace: LOAD_GRACE,
        }
    }

    /// The tools on this process's `PATH`.
    pub fn on_path() -> LoadTools {
        LoadTools::find_in(&std::env::var_os("PATH").unwrap_or_default())
    }

    /// Whether a load tool for `v`'s devices is here; else what to install.
    fn for_vendor(&self, v: Vendor) -> Result<(), &'static str> {
        let ok = match v {
            Vendor::Nvidia => self.dcgmi.is_some() || self.gpu_burn.is_some(),
            Vendor::Amd | Vendor::Hygon => self.rvs.is_some(),
            Vendor::Huawei => self.ascend_dmi.is_some(),
            Vendor::Other => false,
        };
        if ok {
            return Ok(());
        }
        Err(match v {
            Vendor::Nvidia => "no DCGM (dcgmi) and no gpu_burn on PATH: hwcert downloads nothing during a run (install datacenter-gpu-manager, or build gpu-burn beforehand)",
            Vendor::Amd => "no ROCm Validation Suite (rvs) on PATH: hwcert downloads nothing during a run (install rocm-validation-suite beforehand)",
            Vendor::Hygon => "no rvs (the DTK's ROCm Validation Suite) on PATH: hwcert downloads nothing during a run (install Hygon's DTK, with its bin directory on PATH, beforehand)",
            Vendor::Huawei => "no ascend-dmi on PATH: hwcert downloads nothing during a run (install the MindX toolbox, Ascend-mindx-toolbox, beforehand)",
            Vendor::Other => "not a compute accelerator",
        })
    }
}

fn vendor_name(v: Vendor) -> &'static str {
    match v {
        Vendor::Nvidia => "NVIDIA",
        Vendor::Amd => "AMD",
        Vendor::Hygon => "Hygon",
        Vendor::Huawei => "Huawei Ascend",
        Vendor::Other => "other",
    }
}

pub(crate) fn select_load_plain(inv: &Inventory) -> Selection {
    select_load(inv, &RunOptions::default())
}

pub(crate) fn select_load(inv: &Inventory, _: &RunOptions) -> Selection {
    select_load_with(inv, &LoadTools::on_path())
}

/// The devices whose vendor's load tool is installed; why not, per vendor, when none.
pub fn select_load_with(inv: &Inventory, tools: &LoadTools) -> Selection {
    let all: Vec<&Accelerator> = compute(inv).collect();
    if all.is_empty() {
        return Selection::NotApplicable(NO_DEVICE.into());
    }
    let mut ts: Vec<Target> = Vec::new();
    let mut why: Vec<String> = Vec::new();
    for a in &all {
        let v = a.vendor.unwrap_or(Vendor::Other);
        match tools.for_vendor(v) {
            Ok(()) => ts.push(target(a)),
            Err(w) => {
                let line = format!("{}: {w}", vendor_name(v));
                if !why.contains(&line) {
                    why.push(line);
                }
            }
        }
    }
    if ts.is_empty() {
        return Selection::NotApplicable(why.join("; "));
    }
    Selection::Targets(ts)
}

pub(crate) fn load(ctx: &mut Context<'_>) -> Verdict {
    let s = match subject(ctx, Source::LiveRoot("accel::load")) {
        Ok(s) => s,
        Err(v) => return v,
    };
    load_with(ctx, &s.addr, &LiveTools::default(), &LoadTools::on_path())
}

/// The profile's settings for the load.
struct Settings {
    level: u32,
    seconds: u64,
    min_gflops: Option<f64>,
    min_bw: Option<f64>,
    max_temp: Option<f64>,
    max_power: Option<f64>,
    throttle_fails: bool,
}

fn settings(ctx: &Context<'_>) -> Result<Settings, Verdict> {
    let s = (|| -> Result<_, String> {
        Ok(Settings {
            level: setting::<u32>(ctx, "accel_dcgm_level")?.unwrap_or(2),
            seconds: setting::<u64>(ctx, "accel_load_seconds")?
                .unwrap_or_else(|| crate::stress::duration(ctx.options).as_secs()),
            min_gflops: setting::<f64>(ctx, "accel_min_gflops")?,
            min_bw: setting::<f64>(ctx, "accel_min_mem_bandwidth_gbps")?,
            max_temp: setting::<f64>(ctx, "accel_max_temp_c")?,
            max_power: setting::<f64>(ctx, "accel_max_power_w")?,
            throttle_fails: bool_setting(ctx, "accel_throttle_fails")?.unwrap_or(false),
        })
    })()
    .map_err(Verdict::error)?;
    if !(1..=4).contains(&s.level) {
        return Err(Verdict::error(format!(
            "setting accel_dcgm_level = {}: DCGM's levels are 1 to 4",
            s.level
        )));
    }
    Ok(s)
}

/// The load on `addr` with the given vendor tools and load tools (tests hand in fake ones).
pub fn load_with(
    ctx: &mut Context<'_>,
    addr: &str,
    tools: &LiveTools,
    load: &LoadTools,
) -> Verdict {
    let s = match settings(ctx) {
        Ok(s) => s,
        Err(v) => return v,
    };
    let vendor = ctx
        .inventory
        .accelerators
        .iter()
        .find(|a| a.address == addr)
        .and_then(|a| a.vendor)
        .unwrap_or(Vendor::Other);
    if let Err(why) = load.for_vendor(vendor) {
        return Verdict::skip(format!("{addr}: {why}"));
    }
    match vendor {
        Vendor::Nvidia => nvidia(ctx, addr, tools, load, &s),
        Vendor::Amd | Vendor::Hygon => match &load.rvs {
            Some(p) => rocm(ctx, addr, vendor, tools, p, load.grace, &s),
            None => Verdict::skip(format!("{addr}: no rvs")),
        },
        Vendor::Huawei => match &load.ascend_dmi {
            Some(p) => ascend(ctx, addr, tools, p, load.grace, &s),
            None => Verdict::skip(format!("{addr}: no ascend-dmi")),
        },
        Vendor::Other => Verdict::error(format!("{addr} is not a compute accelerator")),
    }
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

fn max_of(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    }
}

impl Samples {
    fn add(&mut self, d: inv_accel::Details) {
        self.n += 1;
        self.peak_temp = max_of(self.peak_temp, d.temperature_c);
        self.peak_power = max_of(self.peak_power, d.power_draw_w);
        if d.throttle_reasons
            .iter()
            .any(|r| r.contains("thermal") || r == "hw_slowdown")
        {
            self.thermal += 1;
        }
        if let Some(l) = &d.link {
            if let Some(c) = l.current_gen {
                self.min_gen = Some(self.min_gen.map_or(c, |m| m.min(c)));
            }
            self.max_gen = l.max_gen.or(self.max_gen);
        }
        self.last = Some(d);
    }
}

/// One sample of `addr` from `tool` run with `args` (the device found by its bus ID, or the
/// only device when the tool names none).
fn sample(tools: &LiveTools, tool: Tool, args: &[&str], addr: &str, s: &mut Samples) {
    let inv_accel::Collected::Output(b) = tools.run(tool.program(), args) else {
        return;
    };
    let Ok(p) = tool.parse(&String::from_utf8_lossy(&b)) else {
        return;
    };
    if let Some(d) = p
        .devices
        .into_iter()
        .find(|(bus, _)| bus.as_deref().is_none_or(|b| b == addr))
        .map(|(_, d)| d)
    {
        s.add(d);
    }
}

/// Run `prog args` under `limits`, calling `sample` at once and every 5 s until it ends.
fn run_sampled(
    prog: &Path,
    args: &[String],
    limits: Limits,
    mut sample: impl FnMut(),
) -> Result<Ran, Verdict> {
    let ran = std::thread::scope(|sc| {
        let h = sc.spawn(|| cmd::run(prog, args, limits));
        let mut next = Instant::now();
        while !h.is_finished() {
            if Instant::now() >= next {
                sample();
                next = Instant::now() + Duration::from_secs(5);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        h.join()
    });
    match ran {
        Ok(Ok(r)) => Ok(r),
        Ok(Err(e)) => Err(Verdict::error(format!(
            "cannot run {}: {}",
            prog.display(),
            util::os_error(&e)
        ))),
        Err(_) => Err(Verdict::error("the load thread panicked")),
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

/// The samples' peaks against the profile (power: its limit, else 5 % above `power_limit`).
fn judge_samples(
    ctx: &mut Context<'_>,
    sampler: &str,
    samples: &Samples,
    s: &Settings,
    power_limit: Option<f64>,
    bad: &mut Vec<String>,
) {
    if samples.n == 0 {
        bad.push(format!(
            "{sampler} gave no sample during the load: peak temperature and power unknown"
        ));
    }
    ctx.measure("samples", samples.n as f64, "");
    if let Some(t) = samples.peak_temp {
        match s.max_temp {
            Some(m) if !ctx.judge("peak_temperature", t, "°C", "<=", m) => {
                bad.push(format!("peak temperature {t} °C above {m}"))
            }
            Some(_) => {}
            None => ctx.measure("peak_temperature", t, "°C"),
        }
    }
    if let Some(p) = samples.peak_power {
        let limit = s.max_power.or(power_limit.map(|l| l * 1.05));
        match limit {
            Some(m) if !ctx.judge("peak_power", p, "W", "<=", m) => {
                bad.push(format!("peak power {p} W above {m:.1}"))
            }
            Some(_) => {}
            None => ctx.measure("peak_power", p, "W"),
        }
    }
}

fn verdict(tool: &str, addr: &str, bad: Vec<String>) -> Verdict {
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            format!("{tool} passes with its figures, counters and samples"),
            format!("{addr}: {}", bad.join("; ")),
        )
    }
}

fn uncorrected(d: Option<&inv_accel::Details>) -> u64 {
    d.and_then(|d| d.ecc.as_ref())
        .and_then(|e| e.volatile_uncorrected)
        .unwrap_or(0)
}

/// The vendor tool's description of the device at `addr` before the load (its index, its
/// counters), probed again now; an error naming why `tool` did not describe it.
fn described(
    ctx: &Context<'_>,
    addr: &str,
    tools: &LiveTools,
    tool: &str,
) -> Result<inv_accel::Details, Verdict> {
    let now = inv_accel::probe(&ctx.inventory.pci, tools);
    if let Some(d) = now
        .accelerators
        .iter()
        .find(|a| a.address == addr)
        .and_then(|a| a.details.clone())
    {
        return Ok(d);
    }
    let why = now
        .tools
        .iter()
        .find(|t| t.tool.contains(tool))
        .or(now.tools.first())
        .and_then(|t| t.detail.clone())
        .unwrap_or_default();
    Err(Verdict::error(format!(
        "{tool} does not describe {addr}, so the load cannot address it: {why}"
    )))
}

/// NVIDIA: DCGM's diagnostic, else gpu-burn; nvidia-smi before, during and after.
fn nvidia(
    ctx: &mut Context<'_>,
    addr: &str,
    tools: &LiveTools,
    load: &LoadTools,
    s: &Settings,
) -> Verdict {
    // Before: the device's index and its counters.
    let b = match described(ctx, addr, tools, "nvidia-smi") {
        Ok(b) => b,
        Err(v) => return v,
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
    let (prog, args, name): (PathBuf, Vec<String>, &str) = match (&load.dcgmi, &load.gpu_burn) {
        (Some(d), _) => (
            d.clone(),
            vec![
                "diag".into(),
                "-r".into(),
                s.level.to_string(),
                "-j".into(),
                "-i".into(),
                idx.clone(),
            ],
            "dcgmi",
        ),
        (None, Some(g)) => (
            g.clone(),
            vec!["-i".into(), idx.clone(), s.seconds.to_string()],
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
        s.seconds.saturating_add(600)
    };
    let limits = Limits {
        timeout: Duration::from_secs(tool_limit),
        max_stdout: 16 << 20,
        ..Limits::default()
    };
    let mut samples = Samples::default();
    let smi_args = ["-q", "-x", "-i", idx.as_str()];
    let ran = match run_sampled(&prog, &args, limits, || {
        sample(tools, Tool::NvidiaSmi, &smi_args, addr, &mut samples)
    }) {
        Ok(r) => r,
        Err(v) => return v,
    };
    // One sample after, for the counters.
    sample(tools, Tool::NvidiaSmi, &smi_args, addr, &mut samples);
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
                ctx.measure("dcgm_level", s.level as f64, "");
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
                    judge_min(ctx, "gflops", g, "GFLOPS", s.min_gflops, &mut bad);
                }
                if let Some(bw) = burn::figures(&ours, "GB/s").into_iter().reduce(f64::max) {
                    judge_min(ctx, "memory_bandwidth", bw, "GB/s", s.min_bw, &mut bad);
                } else if s.min_bw.is_some() {
                    bad.push(format!("accel_min_mem_bandwidth_gbps is set but dcgmi -r {} gave no bandwidth figure (level 3 or 4 runs Memory Bandwidth)", s.level));
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
                judge_min(ctx, "gflops", g, "GFLOPS", s.min_gflops, &mut bad);
            }
            if s.min_bw.is_some() {
                bad.push("accel_min_mem_bandwidth_gbps is set but gpu_burn measures no bandwidth (install DCGM)".into());
            }
        }
    }
    judge_samples(ctx, "nvidia-smi", &samples, s, b.power_limit_w, &mut bad);
    if samples.thermal > 0 {
        ctx.log(format!(
            "thermal throttling in {} of {} samples",
            samples.thermal, samples.n
        ));
    }
    if s.throttle_fails {
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
    verdict(name, addr, bad)
}

/// A file of our own for a tool's configuration, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(stem: &str, text: &str) -> std::io::Result<TempFile> {
        use std::io::Write;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let p =
            std::env::temp_dir().join(format!("hwcert-{stem}-{}-{nanos}.conf", std::process::id()));
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&p)?;
        f.write_all(text.as_bytes())?;
        Ok(TempFile(p))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// AMD and Hygon: rvs gst then babel on the GPU, rocm-smi or hy-smi sampled.
fn rocm(
    ctx: &mut Context<'_>,
    addr: &str,
    vendor: Vendor,
    tools: &LiveTools,
    prog: &Path,
    grace: Duration,
    s: &Settings,
) -> Verdict {
    let sampler = if vendor == Vendor::Hygon {
        Tool::HySmi
    } else {
        Tool::RocmSmi
    };
    let Some(gpu_id) = rvs::kfd_gpu_id(&ctx.sysroot, addr) else {
        return Verdict::error(format!(
            "{addr}: no KFD topology node with its PCI location (sys/class/kfd/kfd/topology/nodes/*/properties location_id): rvs addresses GPUs by their KFD gpu_id; is the {} driver loaded?",
            if vendor == Vendor::Hygon { "hydcu" } else { "amdgpu" }
        ));
    };
    // gst sustains a target: the profile's minimum, else a floor every Instinct or DCU passes
    // (the figure recorded is the highest the GPU reached).
    let target = s.min_gflops.unwrap_or(1000.0);
    let conf = match TempFile::new("rvs", &rvs::config(&gpu_id, s.seconds, target)) {
        Ok(f) => f,
        Err(e) => {
            return Verdict::error(format!(
                "cannot write rvs's configuration in {}: {}",
                std::env::temp_dir().display(),
                util::os_error(&e)
            ))
        }
    };
    let args: Vec<String> = vec![
        "-c".into(),
        conf.0.display().to_string(),
        "-d".into(),
        "3".into(),
    ];
    ctx.log(format!(
        "running {} {} (gst at {target:.0} GFLOPS for {} s, then babel, on KFD GPU {gpu_id})",
        prog.display(),
        args.join(" "),
        s.seconds
    ));
    let limits = Limits {
        timeout: Duration::from_secs(s.seconds) + grace,
        max_stdout: 16 << 20,
        ..Limits::default()
    };
    let mut samples = Samples::default();
    let ran = match run_sampled(prog, &args, limits, || {
        sample(tools, sampler, sampler.args(), addr, &mut samples)
    }) {
        Ok(r) => r,
        Err(v) => return v,
    };
    if ran.timed_out {
        return Verdict::fail("rvs finishes", ran.describe());
    }
    let out = String::from_utf8_lossy(&ran.stdout);
    let r = rvs::parse_rvs(&out, &gpu_id);
    let mut bad: Vec<String> = Vec::new();
    for e in &r.errors {
        ctx.log(format!("rvs: {e}"));
    }
    bad.extend(r.errors.iter().take(3).map(|e| format!("rvs: {e}")));
    match r.max_gflops() {
        Some(g) => judge_min(ctx, "gflops", g, "GFLOPS", s.min_gflops, &mut bad),
        None => bad.push(format!(
            "rvs gst printed no GFLOPS figure for KFD GPU {gpu_id} ({})",
            ran.describe()
        )),
    }
    if r.gst_verdicts.contains(&false) {
        bad.push(format!("rvs gst: the GPU did not meet {target:.0} GFLOPS"));
    } else if r.gst_verdicts.is_empty() && r.max_gflops().is_some() {
        bad.push("rvs gst printed no result line (PASS/FAIL): cut output?".into());
    }
    match r.max_bandwidth() {
        Some(bw) => {
            for (k, v) in &r.bandwidth_gbps {
                ctx.log(format!("rvs babel: {k} {v:.1} GB/s"));
            }
            judge_min(ctx, "memory_bandwidth", bw, "GB/s", s.min_bw, &mut bad)
        }
        None => bad.push("rvs babel printed no bandwidth table".into()),
    }
    if ran.code != Some(0) {
        bad.push(format!("rvs ended with {}", ran.describe()));
    }
    let limit = ctx
        .inventory
        .accelerators
        .iter()
        .find(|a| a.address == addr)
        .and_then(|a| a.details.as_ref())
        .and_then(|d| d.power_limit_w)
        .or_else(|| samples.last.as_ref().and_then(|d| d.power_limit_w))
        .filter(|l| *l > 0.0);
    judge_samples(ctx, sampler.program(), &samples, s, limit, &mut bad);
    verdict("rvs", addr, bad)
}

/// `npu-smi info -t health -i N`'s word, or why there is none.
fn npu_health(tools: &LiveTools, index: &str) -> Result<String, String> {
    match tools.run("npu-smi", &["info", "-t", "health", "-i", index]) {
        inv_accel::Collected::Output(b) => {
            inv_accel::parse_npu_health(&String::from_utf8_lossy(&b))
        }
        inv_accel::Collected::Missing(e) | inv_accel::Collected::Failed(e) => Err(e),
    }
}

/// Huawei Ascend: health, ascend-dmi's compute and bandwidth tests, health again.
fn ascend(
    ctx: &mut Context<'_>,
    addr: &str,
    tools: &LiveTools,
    prog: &Path,
    grace: Duration,
    s: &Settings,
) -> Verdict {
    // Before: the NPU's index in npu-smi (ascend-dmi's device id) and its health.
    let d = match described(ctx, addr, tools, "npu-smi") {
        Ok(d) => d,
        Err(v) => return v,
    };
    let Some(index) = d.index else {
        return Verdict::error(format!("npu-smi gives no NPU id for {addr}"));
    };
    let idx = index.to_string();
    let mut bad: Vec<String> = Vec::new();
    match npu_health(tools, &idx) {
        Ok(h) if h.eq_ignore_ascii_case("OK") => ctx.log(format!("health before: {h}")),
        Ok(h) => {
            return Verdict::fail(
                "health OK before the load",
                format!("{addr}: npu-smi says {h} before the load"),
            )
        }
        Err(e) => return Verdict::error(format!("{addr}: health before the load: {e}")),
    }
    let limits = Limits {
        timeout: Duration::from_secs(s.seconds) + grace,
        max_stdout: 4 << 20,
        ..Limits::default()
    };
    let mut samples = Samples::default();
    // The compute test.
    let args: Vec<String> = ["-f", "-t", "fp16", "-d", idx.as_str()]
        .iter()
        .map(|a| a.to_string())
        .collect();
    ctx.log(format!("running {} {}", prog.display(), args.join(" ")));
    let ran = match run_sampled(prog, &args, limits, || {
        sample(tools, Tool::NpuSmi, Tool::NpuSmi.args(), addr, &mut samples)
    }) {
        Ok(r) => r,
        Err(v) => return v,
    };
    if ran.timed_out {
        return Verdict::fail("ascend-dmi -f finishes", ran.describe());
    }
    match dmi::parse_flops(&String::from_utf8_lossy(&ran.stdout), index) {
        Ok(f) => {
            ctx.log(format!("ascend-dmi -f: {} GFLOPS ({})", f.gflops, f.kind));
            judge_min(ctx, "gflops", f.gflops, "GFLOPS", s.min_gflops, &mut bad);
            if let Some(p) = f.power_w {
                samples.peak_power = max_of(samples.peak_power, Some(p));
            }
        }
        Err(e) => bad.push(format!("{e} ({})", ran.describe())),
    }
    if ran.code != Some(0) {
        bad.push(format!("ascend-dmi -f ended with {}", ran.describe()));
    }
    // The bandwidth test, device memory to device memory.
    let args: Vec<String> = ["--bw", "-t", "d2d", "-d", idx.as_str()]
        .iter()
        .map(|a| a.to_string())
        .collect();
    ctx.log(format!("running {} {}", prog.display(), args.join(" ")));
    let ran = match run_sampled(prog, &args, limits, || {
        sample(tools, Tool::NpuSmi, Tool::NpuSmi.args(), addr, &mut samples)
    }) {
        Ok(r) => r,
        Err(v) => return v,
    };
    if ran.timed_out {
        return Verdict::fail("ascend-dmi --bw finishes", ran.describe());
    }
    match dmi::parse_bandwidth(&String::from_utf8_lossy(&ran.stdout)) {
        Ok(bw) => judge_min(ctx, "memory_bandwidth", bw, "GB/s", s.min_bw, &mut bad),
        Err(e) => bad.push(format!("{e} ({})", ran.describe())),
    }
    if ran.code != Some(0) {
        bad.push(format!("ascend-dmi --bw ended with {}", ran.describe()));
    }
    // After: the health again.
    match npu_health(tools, &idx) {
        Ok(h) if h.eq_ignore_ascii_case("OK") => ctx.log(format!("health after: {h}")),
        Ok(h) => bad.push(format!("npu-smi says {h} after the load")),
        Err(e) => bad.push(format!("health after the load: {e}")),
    }
    judge_samples(ctx, "npu-smi", &samples, s, d.power_limit_w, &mut bad);
    verdict("ascend-dmi", addr, bad)
}
