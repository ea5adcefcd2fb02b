//! `accel::load` beyond NVIDIA: AMD and Hygon (the ROCm Validation Suite's gst and babel,
//! rocm-smi / hy-smi sampled) and Huawei Ascend (ascend-dmi's compute and bandwidth tests,
//! npu-smi's health before and after, npu-smi sampled). The gpu-server tree's 19:00.0 is
//! turned into the vendor's device (and, for rvs, given its KFD topology node); the tools are
//! fake programs on a PATH of their own printing the recorded and written outputs of
//! hwdb/inventory/tests/tool-outputs (see its README), hanging, printing garbage or missing.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cases::accel::{select_load_with, LoadTools};
use cases::{Context, RunOptions, Selection, Target, Verdict};
use inventory::accel::LiveTools;

use crate::common::{copy_tree, handmade, probe, tempdir, write, Log, Ran};

const DEV: &str = "sys/devices/pci0000:17/0000:17:02.0/0000:19:00.0";
const ADDR: &str = "0000:19:00.0";

fn out(rel: &str) -> PathBuf {
    handmade("../tool-outputs").join(rel)
}

/// The gpu-server tree with 19:00.0 made a device of `vendor` (PCI vendor and device IDs).
fn tree(vendor: &str, device: &str, class: &str, kfd: bool) -> tempfile::TempDir {
    let t = copy_tree(&handmade("gpu-server"));
    write(t.path(), &format!("{DEV}/vendor"), format!("{vendor}\n"));
    write(t.path(), &format!("{DEV}/device"), format!("{device}\n"));
    write(t.path(), &format!("{DEV}/class"), format!("{class}\n"));
    if kfd {
        // Node 0 is the CPU; node 1 the GPU at 19:00.0 (location_id 0x19 << 8 = 6400).
        let n = "sys/class/kfd/kfd/topology/nodes";
        write(
            t.path(),
            &format!("{n}/0/properties"),
            "cpu_cores_count 64\nsimd_count 0\nlocation_id 0\ndomain 0\n",
        );
        write(t.path(), &format!("{n}/0/gpu_id"), "0\n");
        write(
            t.path(),
            &format!("{n}/1/properties"),
            "cpu_cores_count 0\nsimd_count 440\nlocation_id 6400\ndomain 0\n",
        );
        write(t.path(), &format!("{n}/1/gpu_id"), "11743\n");
    }
    t
}

fn amd() -> tempfile::TempDir {
    tree("0x1002", "0x740c", "0x038000", true)
}
fn hygon() -> tempfile::TempDir {
    tree("0x1d94", "0x6320", "0x038000", true)
}
fn ascend() -> tempfile::TempDir {
    tree("0x19e5", "0xd802", "0x120000", false)
}

/// A directory of fake tools, each a shell script.
fn fakes(tools: &[(&str, String)]) -> tempfile::TempDir {
    let d = tempdir();
    for (name, body) in tools {
        let p = d.path().join(name);
        fs::write(&p, format!("#!/bin/sh\n{body}\n")).expect("write");
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    d
}

fn cat(rel: &str) -> String {
    format!("cat '{}'", out(rel).display())
}

/// `tool` printing `rel` with its first device's bus ID made 19:00.0.
fn sed_bus(tool: &str, rel: &str, from: &str) -> (&'static str, String) {
    let name: &'static str = match tool {
        "rocm-smi" => "rocm-smi",
        "hy-smi" => "hy-smi",
        _ => "npu-smi",
    };
    (
        name,
        format!("sed -e 's/{from}/{ADDR}/' '{}'", out(rel).display()),
    )
}

fn rocm_smi() -> (&'static str, String) {
    sed_bus(
        "rocm-smi",
        "rocm-smi/mi250x2-showallinfo.json",
        "0000:C1:00.0",
    )
}

/// npu-smi: its table for `info`, `health` for `info -t health -i N`.
fn npu_smi(health: &str) -> (&'static str, String) {
    (
        "npu-smi",
        format!(
            "if [ \"$2\" = \"-t\" ]; then cat '{}'; else sed -e 's/0000:C1:00.0/{ADDR}/' '{}'; fi",
            out(health).display(),
            out("npu-smi/910b3x2-info.txt").display()
        ),
    )
}

fn ascend_dmi() -> (&'static str, String) {
    (
        "ascend-dmi",
        format!(
            "case \"$1\" in -f) {};; --bw) {};; *) exit 2;; esac",
            cat("ascend-dmi/910b3-flops-fp16.txt"),
            cat("ascend-dmi/910b3-bw-d2d.txt")
        ),
    )
}

/// Run the load on 19:00.0 of `root` with the tools in `dir` and the profile `settings`.
fn load(root: &Path, dir: &Path, settings: &[(&str, &str)]) -> Ran {
    let inv = probe(root);
    let mut options = RunOptions::default();
    options
        .settings
        .insert("accel_load_seconds".into(), "1".into());
    for (k, v) in settings {
        options.settings.insert(k.to_string(), v.to_string());
    }
    let target = Target::item(ADDR, None);
    let log = Log::default();
    let mut ctx = Context::new(&inv, root, &target, &options, true, Box::new(log.clone()));
    let tools = LiveTools {
        path: dir.as_os_str().to_owned(),
        ..LiveTools::default()
    };
    let mut load = LoadTools::find_in(dir.as_os_str());
    load.grace = Duration::from_secs(3);
    let v = cases::accel::load_with(&mut ctx, ADDR, &tools, &load);
    Ran {
        outcome: ctx.finish(v),
        log: log.text(),
    }
}

fn failed(r: &Ran) -> bool {
    matches!(r.outcome.verdict, Verdict::Fail { .. })
}

#[test]
fn amd_rvs_gst_and_babel_figures_are_recorded_and_the_gpu_addressed_by_its_kfd_id() {
    let t = amd();
    let d = tempdir();
    let conf = d.path().join("conf");
    let path = d.path().join("path");
    let tools = fakes(&[
        rocm_smi(),
        (
            "rvs",
            format!(
                "echo \"$2\" > '{}'; cp \"$2\" '{}'; {}",
                path.display(),
                conf.display(),
                cat("rvs/mi250x-gst-babel-pass.txt")
            ),
        ),
    ]);
    let r = load(t.path(), tools.path(), &[("accel_min_gflops", "30000")]);
    assert_eq!(
        r.outcome.verdict,
        Verdict::Pass,
        "{}\n{}",
        r.reason(),
        r.log
    );
    assert_eq!(r.measurement("gflops"), Some(38921.5625));
    assert_eq!(r.measurement("memory_bandwidth"), Some(1402.761119));
    assert_eq!(r.measurement("peak_temperature"), Some(38.0));
    assert_eq!(r.measurement("peak_power"), Some(92.0));
    assert!(r.measurement("samples").unwrap_or(0.0) >= 1.0);
    let c = fs::read_to_string(&conf).expect("rvs got its configuration");
    assert_eq!(c.matches("device: 11743").count(), 2, "{c}");
    assert!(c.contains("target_stress: 30000"), "{c}");
    assert!(c.contains("module: babel"), "{c}");
    // The configuration is hwcert's own temporary file: gone after the run.
    let p = fs::read_to_string(&path).expect("rvs -c PATH");
    assert!(p.trim().ends_with(".conf"), "{p}");
    assert!(!Path::new(p.trim()).exists(), "{p} left behind");
}

#[test]
fn amd_figures_under_the_profile_fail() {
    let t = amd();
    let tools = fakes(&[rocm_smi(), ("rvs", cat("rvs/mi250x-gst-babel-pass.txt"))]);
    let r = load(
        t.path(),
        tools.path(),
        &[
            ("accel_min_gflops", "40000"),
            ("accel_min_mem_bandwidth_gbps", "1500"),
            ("accel_max_temp_c", "35"),
            ("accel_max_power_w", "90"),
        ],
    );
    let why = r.reason();
    assert!(
        why.contains("gflops 38921.5625 GFLOPS below 40000"),
        "{why}"
    );
    assert!(
        why.contains("memory_bandwidth 1402.761119 GB/s below 1500"),
        "{why}"
    );
    assert!(why.contains("peak temperature 38 °C above 35"), "{why}");
    assert!(why.contains("peak power 92 W above 90"), "{why}");
}

#[test]
fn amd_rvs_is_not_trusted_for_its_exit_status_or_pass_alone() {
    let t = amd();
    // gst below its target and a failed babel validation, exit 0.
    let tools = fakes(&[rocm_smi(), ("rvs", cat("rvs/mi250x-gst-fail.txt"))]);
    let r = load(t.path(), tools.path(), &[]);
    assert!(
        r.reason().contains("did not meet 1000 GFLOPS"),
        "{}",
        r.reason()
    );
    assert!(
        r.reason().contains("Validation failed on c[]"),
        "{}",
        r.reason()
    );
    // Garbage, exit 0: no figure, no pass.
    let tools = fakes(&[
        rocm_smi(),
        (
            "rvs",
            "echo 'RVS-GST: action: hwcert_gst  PASS'; echo '\u{1}zz'".into(),
        ),
    ]);
    let r = load(t.path(), tools.path(), &[]);
    assert!(failed(&r), "{:?}", r.outcome.verdict);
    assert!(
        r.reason().contains("no GFLOPS figure for KFD GPU 11743"),
        "{}",
        r.reason()
    );
    assert!(r.reason().contains("no bandwidth table"), "{}", r.reason());
    // Cut after gst's figures: no result line, no babel.
    let cut = fs::read_to_string(out("rvs/mi250x-gst-babel-pass.txt")).expect("read");
    let cut: String = cut.lines().take(5).collect::<Vec<_>>().join("\n");
    let tools = fakes(&[rocm_smi(), ("rvs", format!("cat <<'EOF'\n{cut}\nEOF"))]);
    let r = load(t.path(), tools.path(), &[]);
    assert!(r.reason().contains("no result line"), "{}", r.reason());
    // A good run whose process then fails.
    let tools = fakes(&[
        rocm_smi(),
        (
            "rvs",
            format!("{}; exit 1", cat("rvs/mi250x-gst-babel-pass.txt")),
        ),
    ]);
    let r = load(t.path(), tools.path(), &[]);
    assert!(
        r.reason().contains("rvs ended with exit status 1"),
        "{}",
        r.reason()
    );
    // No sampler: the peaks are unknown, which fails.
    let tools = fakes(&[("rvs", cat("rvs/mi250x-gst-babel-pass.txt"))]);
    let r = load(t.path(), tools.path(), &[]);
    assert!(
        r.reason().contains("rocm-smi gave no sample"),
        "{}",
        r.reason()
    );
}

#[test]
fn a_hung_rvs_is_killed_at_its_limit() {
    let t = amd();
    let tools = fakes(&[rocm_smi(), ("rvs", "exec sleep 600".into())]);
    let start = std::time::Instant::now();
    let r = load(t.path(), tools.path(), &[]);
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "{:?}",
        start.elapsed()
    );
    assert!(failed(&r), "{:?}", r.outcome.verdict);
    assert!(r.reason().contains("timed out after 4 s"), "{}", r.reason());
}

#[test]
fn without_rvs_or_its_kfd_node_the_amd_load_says_why() {
    let t = amd();
    let inv = probe(t.path());
    let none = fakes(&[rocm_smi()]);
    // Not planned: the plan's reason names the tool and that nothing is downloaded.
    match select_load_with(&inv, &LoadTools::find_in(none.path().as_os_str())) {
        Selection::NotApplicable(why) => {
            assert!(why.contains("AMD: no ROCm Validation Suite (rvs)"), "{why}");
            assert!(why.contains("NVIDIA: no DCGM"), "{why}");
            assert!(why.contains("downloads nothing"), "{why}");
        }
        s => panic!("{s:?}"),
    }
    let r = load(t.path(), none.path(), &[]);
    assert!(
        matches!(r.outcome.verdict, Verdict::Skip { .. }),
        "{:?}",
        r.outcome.verdict
    );
    // With rvs, the AMD device is planned (the NVIDIA one still has no load tool).
    let with = fakes(&[rocm_smi(), ("rvs", "exit 0".into())]);
    match select_load_with(&inv, &LoadTools::find_in(with.path().as_os_str())) {
        Selection::Targets(ts) => {
            let ids: Vec<_> = ts.iter().filter_map(|t| t.id.clone()).collect();
            assert_eq!(ids, [ADDR]);
        }
        s => panic!("{s:?}"),
    }
    // No KFD node for the GPU: rvs cannot be told which GPU.
    crate::common::remove(t.path(), "sys/class/kfd");
    let r = load(t.path(), with.path(), &[]);
    assert!(
        r.reason().contains("no KFD topology node"),
        "{}",
        r.reason()
    );
}

#[test]
fn hygon_dcu_rvs_of_the_dtk_and_hy_smi() {
    let t = hygon();
    let tools = fakes(&[
        sed_bus("hy-smi", "hy-smi/k100x2-showallinfo.json", "0000:3D:00.0"),
        ("rvs", cat("rvs/k100-gst-babel-pass-0x.txt")),
    ]);
    let r = load(t.path(), tools.path(), &[("accel_min_gflops", "20000")]);
    assert_eq!(
        r.outcome.verdict,
        Verdict::Pass,
        "{}\n{}",
        r.reason(),
        r.log
    );
    assert_eq!(r.measurement("gflops"), Some(21402.119141));
    assert_eq!(r.measurement("memory_bandwidth"), Some(781.662034));
    assert_eq!(r.measurement("peak_temperature"), Some(44.0));
    assert_eq!(r.measurement("peak_power"), Some(68.0));
    // "pass: TRUE" with figures below the profile's: a failure.
    let r = load(t.path(), tools.path(), &[("accel_min_gflops", "25000")]);
    assert!(r.reason().contains("below 25000"), "{}", r.reason());
    // The sampler is hy-smi: rocm-smi alone gives no sample of a DCU.
    let tools = fakes(&[rocm_smi(), ("rvs", cat("rvs/k100-gst-babel-pass-0x.txt"))]);
    let r = load(t.path(), tools.path(), &[]);
    assert!(
        r.reason().contains("hy-smi gave no sample"),
        "{}",
        r.reason()
    );
    let inv = probe(t.path());
    match select_load_with(&inv, &LoadTools::default()) {
        Selection::NotApplicable(why) => assert!(why.contains("Hygon: no rvs"), "{why}"),
        s => panic!("{s:?}"),
    }
}

#[test]
fn ascend_dmi_figures_and_health_before_and_after() {
    let t = ascend();
    let tools = fakes(&[npu_smi("npu-smi/health-ok.txt"), ascend_dmi()]);
    let r = load(t.path(), tools.path(), &[("accel_min_gflops", "250000")]);
    assert_eq!(
        r.outcome.verdict,
        Verdict::Pass,
        "{}\n{}",
        r.reason(),
        r.log
    );
    assert_eq!(r.measurement("gflops"), Some(280041.0));
    assert_eq!(r.measurement("memory_bandwidth"), Some(1384.06));
    assert_eq!(r.measurement("peak_temperature"), Some(39.0));
    // ascend-dmi's own power reading at full load is a peak too.
    assert_eq!(r.measurement("peak_power"), Some(352.6));
    assert!(r.log.contains("health before: OK") && r.log.contains("health after: OK"));
    // Under the profile's figures.
    let r = load(
        t.path(),
        tools.path(),
        &[
            ("accel_min_gflops", "300000"),
            ("accel_min_mem_bandwidth_gbps", "1600"),
            ("accel_max_power_w", "350"),
        ],
    );
    let why = r.reason();
    assert!(why.contains("gflops 280041 GFLOPS below 300000"), "{why}");
    assert!(
        why.contains("memory_bandwidth 1384.06 GB/s below 1600"),
        "{why}"
    );
    assert!(why.contains("peak power 352.6 W above 350"), "{why}");
}

#[test]
fn ascend_health_garbage_hang_and_missing() {
    let t = ascend();
    // Health Alarm before: no load on a sick NPU.
    let tools = fakes(&[npu_smi("npu-smi/health-alarm.txt"), ascend_dmi()]);
    let r = load(t.path(), tools.path(), &[]);
    assert!(r.reason().contains("before the load"), "{}", r.reason());
    // Health OK before, Alarm after (the first health call leaves a flag).
    let d = tempdir();
    let flag = d.path().join("asked");
    let smi = format!(
        "if [ \"$2\" = \"-t\" ]; then if [ -e '{f}' ]; then cat '{a}'; else touch '{f}'; cat '{o}'; fi; else sed -e 's/0000:C1:00.0/{ADDR}/' '{i}'; fi",
        f = flag.display(),
        a = out("npu-smi/health-alarm.txt").display(),
        o = out("npu-smi/health-ok.txt").display(),
        i = out("npu-smi/910b3x2-info.txt").display()
    );
    let tools = fakes(&[("npu-smi", smi), ascend_dmi()]);
    let r = load(t.path(), tools.path(), &[]);
    assert!(r.reason().contains("after the load"), "{}", r.reason());
    // Garbage with exit 0: no figures.
    let tools = fakes(&[
        npu_smi("npu-smi/health-ok.txt"),
        ("ascend-dmi", "echo 'Success'; echo '\u{2}xx'".into()),
    ]);
    let r = load(t.path(), tools.path(), &[]);
    assert!(
        r.reason().contains("no table with a TFLOPS column"),
        "{}",
        r.reason()
    );
    assert!(
        r.reason().contains("no table with a Bandwidth column"),
        "{}",
        r.reason()
    );
    // A hang is killed at its limit.
    let tools = fakes(&[
        npu_smi("npu-smi/health-ok.txt"),
        ("ascend-dmi", "exec sleep 600".into()),
    ]);
    let r = load(t.path(), tools.path(), &[]);
    assert!(r.reason().contains("timed out after 4 s"), "{}", r.reason());
    // Missing: skipped, and not planned, saying what to install.
    let tools = fakes(&[npu_smi("npu-smi/health-ok.txt")]);
    let r = load(t.path(), tools.path(), &[]);
    assert!(
        matches!(r.outcome.verdict, Verdict::Skip { .. }),
        "{:?}",
        r.outcome.verdict
    );
    assert!(r.reason().contains("no ascend-dmi"), "{}", r.reason());
    match select_load_with(&probe(t.path()), &LoadTools::default()) {
        Selection::NotApplicable(why) => {
            assert!(why.contains("Huawei Ascend: no ascend-dmi"), "{why}")
        }
        s => panic!("{s:?}"),
    }
}
