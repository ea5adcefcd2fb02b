//! The accelerator cases on the hand-made tree gpu-server (two A100 behind root ports, a BMC
//! VGA, the recorded nvidia-smi output in .hwcert/tools/, an Xid in the kernel log) and copies
//! of it changed to fail; the load with fake dcgmi, gpu_burn and nvidia-smi that are real
//! processes printing recorded and documented outputs (never trusting their exit status or
//! "OK" alone).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use cases::{Context, RunOptions, Target, Verdict};
use inventory::accel::LiveTools;

use crate::common::{case, copy_tree, handmade, probe, run_all, run_on, targets, tempdir, write};

fn server() -> PathBuf {
    handmade("gpu-server")
}

/// hwdb/inventory/tests/tool-outputs/REL: recorded and documented tool outputs.
fn accel_fixture(rel: &str) -> PathBuf {
    handmade("../tool-outputs").join(rel)
}

fn by_id<'a>(all: &'a [(String, crate::common::Ran)], id: &str) -> &'a crate::common::Ran {
    &all.iter()
        .find(|(t, _)| t == id)
        .unwrap_or_else(|| panic!("no instance {id}"))
        .1
}

#[test]
fn the_accelerator_cases_select_the_gpus_not_the_bmc_vga() {
    let inv = probe(&server());
    for name in [
        "accel::driver_bound",
        "accel::link_at_capability",
        "accel::ecc_clean",
        "accel::kernel_log_clean",
    ] {
        let ts = targets(case(name).as_ref(), &inv, &RunOptions::default()).expect(name);
        let ids: Vec<_> = ts.iter().filter_map(|t| t.id.clone()).collect();
        assert_eq!(ids, ["0000:18:00.0", "0000:19:00.0"], "{name}");
    }
    // A machine without accelerators: each says why it is not planned.
    let none = probe(&handmade("raid-sas"));
    for name in ["accel::driver_bound", "accel::load", "accel::ecc_clean"] {
        let why = targets(case(name).as_ref(), &none, &RunOptions::default()).expect_err(name);
        assert!(why.contains("no GPU, DCU or NPU"), "{name}: {why}");
    }
}

#[test]
fn without_nvidia_smi_ecc_is_not_planned_and_says_why() {
    let t = copy_tree(&server());
    fs::remove_file(t.path().join(".hwcert/tools/nvidia-smi-q-x.xml")).expect("rm");
    let inv = probe(t.path());
    let why = targets(
        case("accel::ecc_clean").as_ref(),
        &inv,
        &RunOptions::default(),
    )
    .expect_err("not planned");
    assert!(why.contains("nvidia-smi missing"), "{why}");
    // The driver case still runs; the count is not checked, and the log says so.
    let all = run_all("accel::driver_bound", t.path());
    for (_, r) in &all {
        assert_eq!(r.verdict(), &Verdict::Pass, "{}", r.reason());
        assert!(r.log.contains("device count not checked"), "{}", r.log);
    }
}

#[test]
fn driver_bound_and_the_device_count() {
    let all = run_all("accel::driver_bound", &server());
    for (id, r) in &all {
        assert_eq!(r.verdict(), &Verdict::Pass, "{id}: {}", r.reason());
        assert_eq!(r.measurement("tool_devices"), Some(2.0));
    }
    // nvidia-smi lists one GPU (the H100 output at 19:00.0): 18:00.0 is on PCI, not in it.
    let t = copy_tree(&server());
    fs::copy(
        accel_fixture("nvidia-smi/h100-errors-550.54.15.xml"),
        t.path().join(".hwcert/tools/nvidia-smi-q-x.xml"),
    )
    .expect("copy");
    let all = run_all("accel::driver_bound", t.path());
    let r = by_id(&all, "0000:18:00.0");
    assert!(
        matches!(r.verdict(), Verdict::Fail { .. }),
        "{:?}",
        r.verdict()
    );
    assert!(r.reason().contains("not among them"), "{}", r.reason());
    let r = by_id(&all, "0000:19:00.0");
    assert!(r.reason().contains("lists 1"), "{}", r.reason());
    // nouveau bound instead of nvidia.
    let t = copy_tree(&server());
    crate::common::link(
        t.path(),
        "sys/devices/pci0000:17/0000:17:01.0/0000:18:00.0/driver",
        "../../../../bus/pci/drivers/nouveau",
    );
    fs::create_dir_all(t.path().join("sys/bus/pci/drivers/nouveau")).expect("mkdir");
    let all = run_all("accel::driver_bound", t.path());
    let r = by_id(&all, "0000:18:00.0");
    assert!(r.reason().contains("bound to nouveau"), "{}", r.reason());
}

#[test]
fn the_link_is_judged_at_capability_and_idle_downshift_is_told_apart() {
    let all = run_all("accel::link_at_capability", &server());
    let r = by_id(&all, "0000:18:00.0");
    assert_eq!(r.verdict(), &Verdict::Pass, "{}", r.reason());
    // 19:00.0 runs gen 1 of 4 at P8 with gpu_idle: power saving, not a fault.
    let r = by_id(&all, "0000:19:00.0");
    assert_eq!(r.verdict(), &Verdict::Pass, "{}", r.reason());
    assert!(r.log.contains("while the device is idle"), "{}", r.log);
    // The same link while busy (P0, not idle) fails; so does a narrow link.
    let t = copy_tree(&server());
    let xml = fs::read_to_string(t.path().join(".hwcert/tools/nvidia-smi-q-x.xml")).expect("read");
    let busy = xml
        .replace(
            "<performance_state>P8</performance_state>",
            "<performance_state>P0</performance_state>",
        )
        .replace(
            "<clocks_event_reason_gpu_idle>Active",
            "<clocks_event_reason_gpu_idle>Not Active",
        )
        .replacen(
            "<current_link_width>16x</current_link_width>",
            "<current_link_width>8x</current_link_width>",
            1,
        );
    write(t.path(), ".hwcert/tools/nvidia-smi-q-x.xml", busy);
    let all = run_all("accel::link_at_capability", t.path());
    let r = by_id(&all, "0000:19:00.0");
    assert!(
        r.reason().contains("1 gen of 4 while busy"),
        "{}",
        r.reason()
    );
    let r = by_id(&all, "0000:18:00.0");
    assert!(r.reason().contains("x8 of x16"), "{}", r.reason());
}

#[test]
fn ecc_errors_and_pending_remaps_fail() {
    for (_, r) in run_all("accel::ecc_clean", &server()) {
        assert_eq!(r.verdict(), &Verdict::Pass, "{}", r.reason());
        assert_eq!(r.measurement("ecc_volatile_uncorrected"), Some(0.0));
    }
    let t = copy_tree(&server());
    fs::copy(
        accel_fixture("nvidia-smi/h100-errors-550.54.15.xml"),
        t.path().join(".hwcert/tools/nvidia-smi-q-x.xml"),
    )
    .expect("copy");
    let all = run_all("accel::ecc_clean", t.path());
    assert_eq!(all.len(), 1, "only the listed GPU is planned");
    let r = by_id(&all, "0000:19:00.0");
    let why = r.reason();
    assert!(why.contains("ecc_volatile_uncorrected 2"), "{why}");
    assert!(why.contains("row remap is pending"), "{why}");
    assert_eq!(r.measurement("ecc_volatile_corrected"), Some(7.0));
    // ECC disabled: errors are not counted, which fails.
    let xml = fs::read_to_string(server().join(".hwcert/tools/nvidia-smi-q-x.xml")).expect("read");
    write(
        t.path(),
        ".hwcert/tools/nvidia-smi-q-x.xml",
        xml.replace("<current_ecc>Enabled", "<current_ecc>Disabled"),
    );
    let r = run_all("accel::ecc_clean", t.path()).remove(0).1;
    assert!(r.reason().contains("ECC is disabled"), "{}", r.reason());
}

#[test]
fn amd_ras_counters_in_sysfs() {
    let t = copy_tree(&server());
    let dir = "sys/devices/pci0000:17/0000:17:01.0/0000:18:00.0";
    write(t.path(), &format!("{dir}/vendor"), "0x1002\n");
    write(t.path(), &format!("{dir}/device"), "0x740c\n");
    write(t.path(), &format!("{dir}/class"), "0x0b4000\n");
    write(
        t.path(),
        &format!("{dir}/ras/umc_err_count"),
        "ue: 0\nce: 3\n",
    );
    write(
        t.path(),
        &format!("{dir}/ras/gfx_err_count"),
        "ue: 1\nce: 0\n",
    );
    let all = run_all("accel::ecc_clean", t.path());
    let r = by_id(&all, "0000:18:00.0");
    assert!(
        r.reason().contains("gfx: 1 uncorrectable"),
        "{}",
        r.reason()
    );
    assert_eq!(r.measurement("umc_corrected"), Some(3.0));
    write(
        t.path(),
        &format!("{dir}/ras/gfx_err_count"),
        "ue: 0\nce: 0\n",
    );
    let all = run_all("accel::ecc_clean", t.path());
    assert_eq!(by_id(&all, "0000:18:00.0").verdict(), &Verdict::Pass);
    // No ras/ at all: skipped with the reason.
    crate::common::remove(t.path(), &format!("{dir}/ras"));
    let all = run_all("accel::ecc_clean", t.path());
    assert!(by_id(&all, "0000:18:00.0")
        .reason()
        .contains("no RAS counters"));
}

#[test]
fn an_xid_in_the_kernel_log_fails_its_gpu_only() {
    let all = run_all("accel::kernel_log_clean", &server());
    assert_eq!(by_id(&all, "0000:18:00.0").verdict(), &Verdict::Pass);
    let r = by_id(&all, "0000:19:00.0");
    assert!(
        r.reason().contains("Xid (PCI:0000:19:00): 79"),
        "{}",
        r.reason()
    );
    assert_eq!(r.measurement("kernel_log_errors"), Some(1.0));
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
    format!("cat '{}'", accel_fixture(rel).display())
}

/// Run the load on 19:00.0 with the fake tools in `dir` and the profile `settings`.
fn load(dir: &Path, dcgmi: bool, burn: bool, settings: &[(&str, &str)]) -> crate::common::Ran {
    load_on("0000:19:00.0", dir, dcgmi, burn, settings)
}

fn load_on(
    addr: &str,
    dir: &Path,
    dcgmi: bool,
    burn: bool,
    settings: &[(&str, &str)],
) -> crate::common::Ran {
    let inv = probe(&server());
    let mut options = RunOptions::default();
    for (k, v) in settings {
        options.settings.insert(k.to_string(), v.to_string());
    }
    let target = Target::item(addr, None);
    let log = crate::common::Log::default();
    let mut ctx = Context::new(
        &inv,
        server(),
        &target,
        &options,
        true,
        Box::new(log.clone()),
    );
    let tools = LiveTools {
        path: dir.as_os_str().to_owned(),
        ..LiveTools::default()
    };
    let load = cases::accel::LoadTools {
        dcgmi: dcgmi.then(|| dir.join("dcgmi")),
        gpu_burn: burn.then(|| dir.join("gpu_burn")),
        ..cases::accel::LoadTools::default()
    };
    let v = cases::accel::load_with(&mut ctx, addr, &tools, &load);
    crate::common::Ran {
        outcome: ctx.finish(v),
        log: log.text(),
    }
}

/// nvidia-smi printing the A100 pair with 19:00.0's link back at gen 4 (as under load).
fn smi() -> (&'static str, String) {
    (
        "nvidia-smi",
        format!(
            "sed -e 's|<current_link_gen>1<|<current_link_gen>4<|' -e 's|<device_current_link_gen>1<|<device_current_link_gen>4<|' '{}'",
            accel_fixture("nvidia-smi/a100x2-535.129.03.xml").display()
        ),
    )
}

#[test]
fn dcgm_diag_passes_on_its_results_and_records_the_figures() {
    let d = fakes(&[smi(), ("dcgmi", cat("dcgmi/diag-r2-pass.json"))]);
    let r = load(d.path(), true, false, &[("accel_min_gflops", "15000")]);
    assert_eq!(
        r.outcome.verdict,
        Verdict::Pass,
        "{}\n{}",
        r.reason(),
        r.log
    );
    assert_eq!(r.measurement("gflops"), Some(17282.46));
    assert_eq!(r.measurement("memory_bandwidth"), Some(1624.33));
    assert_eq!(r.measurement("peak_temperature"), Some(29.0));
    assert_eq!(r.measurement("peak_power"), Some(52.0));
    assert_eq!(r.measurement("thermal_throttle_samples"), Some(0.0));
    // 18:00.0 is in MIG mode: neither tool loads it, and the skip says so.
    let r = load_on("0000:18:00.0", d.path(), true, false, &[]);
    assert!(
        r.reason().contains("MIG mode (2 MIG devices)"),
        "{}",
        r.reason()
    );
    // The same run below the profile's figure fails.
    let r = load(d.path(), true, false, &[("accel_min_gflops", "20000")]);
    assert!(
        r.reason().contains("gflops 17282.46 GFLOPS below 20000"),
        "{}",
        r.reason()
    );
}

#[test]
fn dcgm_is_not_trusted_for_its_exit_status_alone() {
    // A failing result with exit 0.
    let d = fakes(&[smi(), ("dcgmi", cat("dcgmi/diag-r2-fail.json"))]);
    let r = load(d.path(), true, false, &[]);
    assert!(r.reason().contains("GPU Memory: Fail"), "{}", r.reason());
    // Results about another GPU only: nothing passed for this one.
    let other = fs::read_to_string(accel_fixture("dcgmi/diag-r2-pass.json"))
        .expect("read")
        .replace("\"gpu_id\": \"1\"", "\"gpu_id\": \"0\"");
    let d = fakes(&[smi(), ("dcgmi", format!("cat <<'EOF'\n{other}\nEOF"))]);
    let r = load(d.path(), true, false, &[]);
    assert!(
        r.reason().contains("no passing test for GPU 1"),
        "{}",
        r.reason()
    );
    // Every result Pass, exit 226.
    let d = fakes(&[
        smi(),
        (
            "dcgmi",
            format!("{}; exit 226", cat("dcgmi/diag-r2-pass.json")),
        ),
    ]);
    let r = load(d.path(), true, false, &[]);
    assert!(
        r.reason().contains("though its results say Pass"),
        "{}",
        r.reason()
    );
    // Garbage, or a cut document, with exit 0: an error, never a pass.
    for body in [
        "echo 'Error: unable to connect to host engine'".to_string(),
        "head -c 300 ".to_string() + &cat("dcgmi/diag-r2-pass.json")[4..],
    ] {
        let d = fakes(&[smi(), ("dcgmi", body)]);
        let r = load(d.path(), true, false, &[]);
        assert!(
            matches!(r.outcome.verdict, Verdict::Error { .. }),
            "{:?}",
            r.outcome.verdict
        );
    }
}

#[test]
fn gpu_burn_needs_figures_and_no_errors_not_just_ok() {
    let d = fakes(&[smi(), ("gpu_burn", cat("gpu-burn/ok.txt"))]);
    let r = load(d.path(), false, true, &[("accel_load_seconds", "1")]);
    assert_eq!(
        r.outcome.verdict,
        Verdict::Pass,
        "{}\n{}",
        r.reason(),
        r.log
    );
    assert_eq!(r.measurement("gflops"), Some(18102.0));
    assert_eq!(r.measurement("compute_errors"), Some(0.0));
    // "GPU 0: OK" after an init error, exit 0: no figures, so a failure.
    let d = fakes(&[smi(), ("gpu_burn", cat("gpu-burn/init-error-ok.txt"))]);
    let r = load(d.path(), false, true, &[]);
    assert!(r.reason().contains("no progress figures"), "{}", r.reason());
    assert!(r.reason().contains("Couldn't init"), "{}", r.reason());
    // Wrong results, exit 0.
    let d = fakes(&[smi(), ("gpu_burn", cat("gpu-burn/errors.txt"))]);
    let r = load(d.path(), false, true, &[]);
    assert!(r.reason().contains("12 wrong results"), "{}", r.reason());
    // A good run whose process then fails.
    let d = fakes(&[
        smi(),
        ("gpu_burn", format!("{}; exit 1", cat("gpu-burn/ok.txt"))),
    ]);
    let r = load(d.path(), false, true, &[]);
    assert!(r.reason().contains("exit status 1"), "{}", r.reason());
    // Bandwidth asked of a tool that measures none.
    let d = fakes(&[smi(), ("gpu_burn", cat("gpu-burn/ok.txt"))]);
    let r = load(
        d.path(),
        false,
        true,
        &[("accel_min_mem_bandwidth_gbps", "1000")],
    );
    assert!(
        r.reason().contains("measures no bandwidth"),
        "{}",
        r.reason()
    );
}

#[test]
fn the_load_reports_throttling_heat_and_new_ecc_errors() {
    // nvidia-smi answers, once the load runs, with 19:00.0 hot, in thermal slowdown, and with
    // an uncorrectable error that was not there before the load.
    let before =
        fs::read_to_string(accel_fixture("nvidia-smi/a100x2-535.129.03.xml")).expect("read");
    // 19:00.0 is the second GPU of the document: change its half only.
    let at = before
        .find("<gpu id=\"00000000:19:00.0\">")
        .expect("19:00.0");
    let hot = before[..at].to_string()
        + &before[at..]
            .replacen("<gpu_temp>29 C</gpu_temp>", "<gpu_temp>93 C</gpu_temp>", 1)
            .replacen(
                "<clocks_event_reason_hw_thermal_slowdown>Not Active",
                "<clocks_event_reason_hw_thermal_slowdown>Active",
                1,
            )
            .replacen(
                "<dram_uncorrectable>0</dram_uncorrectable>",
                "<dram_uncorrectable>1</dram_uncorrectable>",
                1,
            );
    assert_ne!(hot, before);
    let d = tempdir();
    fs::write(d.path().join("before.xml"), &before).expect("write");
    fs::write(d.path().join("hot.xml"), &hot).expect("write");
    let flag = d.path().join("started");
    // The first call (before the load) prints the clean state, every later one the hot one.
    let smi = format!(
        "if [ -e '{f}' ]; then cat '{h}'; else touch '{f}'; cat '{b}'; fi",
        f = flag.display(),
        h = d.path().join("hot.xml").display(),
        b = d.path().join("before.xml").display()
    );
    let tools = fakes(&[("nvidia-smi", smi), ("gpu_burn", cat("gpu-burn/ok.txt"))]);
    let r = load(tools.path(), false, true, &[("accel_max_temp_c", "90")]);
    let why = r.reason();
    assert!(why.contains("peak temperature 93 °C above 90"), "{why}");
    assert!(why.contains("1 new uncorrectable ECC error"), "{why}");
    // Its link stayed at gen 1 under load: not the idle power saving the link case allows.
    assert!(why.contains("PCIe link at gen 1 of 4 under load"), "{why}");
    assert!(r.measurement("thermal_throttle_samples").unwrap_or(0.0) >= 1.0);
    assert!(r.log.contains("thermal throttling in"), "{}", r.log);
    // Throttling alone fails only when the profile says so.
    fs::remove_file(&flag).expect("rm");
    let r = load(
        tools.path(),
        false,
        true,
        &[("accel_throttle_fails", "true")],
    );
    assert!(
        r.reason().contains("thermal throttling in"),
        "{}",
        r.reason()
    );
}

#[test]
fn the_load_is_not_planned_without_a_load_tool_and_says_why() {
    let inv = probe(&server());
    // This machine has neither dcgmi nor gpu_burn on PATH.
    if inventory::accel::LiveTools::default().run("dcgmi", &["--version"])
        != inventory::accel::Collected::Missing("dcgmi is not installed (not on PATH)".into())
    {
        eprintln!("SKIP: dcgmi is installed here");
        return;
    }
    let why = targets(case("accel::load").as_ref(), &inv, &RunOptions::default())
        .expect_err("not planned");
    assert!(why.contains("no DCGM (dcgmi) and no gpu_burn"), "{why}");
    assert!(why.contains("downloads nothing"), "{why}");
    // It runs only live and as root.
    let r = run_on(
        case("accel::load").as_ref(),
        &inv,
        &server(),
        &Target::item("0000:18:00.0", None),
        &RunOptions::default(),
        true,
    );
    assert!(r.reason().contains("live system only"), "{}", r.reason());
}

#[test]
fn amdgpu_and_ascend_log_lines_healthy_and_not() {
    use cases::kmsg::parse_dmesg;
    use inventory::accel::{Accelerator, Vendor};
    let amd = Accelerator {
        address: "0000:c1:00.0".into(),
        vendor: Some(Vendor::Amd),
        ..Accelerator::default()
    };
    let healthy = parse_dmesg(
        "[    9.100000] amdgpu 0000:c1:00.0: amdgpu: ECC is active.\n\
         [    9.200000] amdgpu 0000:c1:00.0: amdgpu: RAS INFO: ras initialized successfully, hardware ability[7fff] ras_mask[7fff]\n\
         [    9.300000] [drm] Initialized amdgpu 3.54.0 20150101 for 0000:c1:00.0 on minor 1\n\
         [   10.000000] amdgpu 0000:c6:00.0: amdgpu: [gfxhub0] no-retry page fault\n",
    );
    assert!(
        cases::accel::kernel_errors(&amd, &healthy).is_empty(),
        "{healthy:?}"
    );
    let bad = parse_dmesg(
        "[  100.000000] amdgpu 0000:c1:00.0: amdgpu: [gfxhub0] no-retry page fault (src_id:0 ring:24 vmid:8)\n\
         [  101.000000] [drm:amdgpu_job_timedout [amdgpu]] *ERROR* ring gfx_0.0.0 timeout, signaled seq=1, emitted seq=2\n",
    );
    assert_eq!(cases::accel::kernel_errors(&amd, &bad).len(), 2);
    let npu = Accelerator {
        address: "0000:c1:00.0".into(),
        vendor: Some(Vendor::Huawei),
        ..Accelerator::default()
    };
    let logs = parse_dmesg(
        "[    8.000000] [ascend] [devdrv] [INFO] device 0 startup success\n\
         [  200.000000] [ascend] [ERROR] [devdrv] [devdrv_heart_beat_timer 1022] device 0 heartbeat lost\n",
    );
    assert_eq!(cases::accel::kernel_errors(&npu, &logs).len(), 1);
}

/// Run accel::kernel_log_clean on `addr` of `root` as an instance of the run in `run`.
fn log_case_in_run(root: &Path, run: &Path, addr: &str) -> crate::common::Ran {
    let inv = probe(root);
    let target = Target::item(addr, None);
    let options = RunOptions::default();
    let log = crate::common::Log::default();
    let mut ctx = Context::new(&inv, root, &target, &options, true, Box::new(log.clone()))
        .with_run(run, format!("accel::kernel_log_clean::{addr}"));
    let v = case("accel::kernel_log_clean").run(&mut ctx);
    crate::common::Ran {
        outcome: ctx.finish(v),
        log: log.text(),
    }
}

#[test]
fn the_kernel_log_is_read_from_the_runs_start() {
    use documents::rundir::{RunStart, RunState};
    // The tree's boot: an Xid at 3600.5 s (the tree's dmesg), one more at 7200 s.
    let t = copy_tree(&server());
    write(t.path(), "proc/sys/kernel/random/boot_id", "b-1\n");
    let dmesg = fs::read_to_string(server().join("var/log/dmesg")).expect("dmesg");
    write(
        t.path(),
        "var/log/dmesg",
        format!("{dmesg}[ 7200.000001] NVRM: Xid (PCI:0000:19:00): 48, pid='<unknown>', name=<unknown>, An uncorrectable double bit error\n"),
    );
    let run = tempdir();
    let state = |boot: &str, start_us: u64| RunState {
        boot_id: "b-1".into(),
        supervisor_pid: 1,
        running: Vec::new(),
        run_started: Some(RunStart {
            boot_id: boot.into(),
            monotonic_us: start_us,
        }),
    };
    // The run started at 5000 s of this boot: only the second Xid is the run's.
    state("b-1", 5_000_000_000)
        .write(run.path())
        .expect("state");
    let r = log_case_in_run(t.path(), run.path(), "0000:19:00.0");
    assert_eq!(r.measurement("kernel_log_errors"), Some(1.0), "{}", r.log);
    assert!(
        r.reason().contains(": 48,") && !r.reason().contains(": 79,"),
        "{}",
        r.reason()
    );
    assert!(
        r.log.contains("3 record(s) before it are not the run's"),
        "{}",
        r.log
    );
    // Started after both: clean. A record within the slack (1 s) before the start counts.
    state("b-1", 7_200_500_000)
        .write(run.path())
        .expect("state");
    let r = log_case_in_run(t.path(), run.path(), "0000:19:00.0");
    assert_eq!(r.measurement("kernel_log_errors"), Some(1.0), "{}", r.log);
    state("b-1", 8_000_000_000)
        .write(run.path())
        .expect("state");
    let r = log_case_in_run(t.path(), run.path(), "0000:19:00.0");
    assert_eq!(r.verdict(), &Verdict::Pass, "{}", r.reason());
    // The run started in an earlier boot: all of this boot is the run's.
    state("b-0", 8_000_000_000)
        .write(run.path())
        .expect("state");
    let r = log_case_in_run(t.path(), run.path(), "0000:19:00.0");
    assert_eq!(r.measurement("kernel_log_errors"), Some(2.0), "{}", r.log);
    assert!(r.log.contains("the run started in boot b-0"), "{}", r.log);
    // A state file without the run's start (an older hwcert's): the whole boot, said so.
    let mut old = state("b-1", 0);
    old.run_started = None;
    old.write(run.path()).expect("state");
    let r = log_case_in_run(t.path(), run.path(), "0000:19:00.0");
    assert_eq!(r.measurement("kernel_log_errors"), Some(2.0), "{}", r.log);
    assert!(r.log.contains("no run start recorded"), "{}", r.log);
}
