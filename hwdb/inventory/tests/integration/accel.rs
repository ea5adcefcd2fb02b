//! Accelerators: the vendor tools' parsers on recorded and documented outputs
//! (tests/tool-outputs, whose README says where each comes from), on truncated, garbage
//! and empty input; the probe of the hand-made tree gpu-server (tests/fixtures/make_gpu_server.py)
//! joining PCI with the recorded nvidia-smi output; the live seam with fake tools that are
//! real processes (print an output, hang, print garbage, fail after printing); a snapshot.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use inventory::accel::{self, LiveTools, Tool, ToolStatus, Vendor};
use inventory::{ProbeOptions, Sysroot};

use crate::common::{own_fixtures, tempdir};

/// tests/tool-outputs/REL (beside the trees, not among them: it is no sysroot).
fn output_path(rel: &str) -> PathBuf {
    own_fixtures().join("../tool-outputs").join(rel)
}

fn fixture(rel: &str) -> String {
    fs::read_to_string(output_path(rel)).expect("fixture")
}

fn parse(tool: Tool, rel: &str) -> accel::Parsed {
    tool.parse(&fixture(rel))
        .unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Every prefix cut at a line boundary before the end is refused (the last line of a text
/// table may be cut without losing a device, so only the structured formats are checked
/// everywhere; the table at its device rows).
fn refuses_truncated(tool: Tool, text: &str) {
    let t = text.trim_end();
    let cuts: Vec<usize> = t
        .char_indices()
        .filter(|(_, c)| *c == '\n')
        .map(|(i, _)| i)
        .collect();
    for &cut in cuts.iter().step_by(1 + cuts.len() / 40) {
        assert!(
            tool.parse(&t[..cut]).is_err(),
            "{tool:?} accepted a prefix of {cut} bytes:\n{}",
            &t[cut.saturating_sub(200)..cut]
        );
    }
    assert!(tool.parse(&t[..t.len() / 2]).is_err());
}

const GARBAGE: &[&str] = &[
    "",
    "\n\n",
    "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.",
    "\u{0}\u{1}\u{2}binary\u{ff}",
    "{\"card0\": ",
    "[1, 2, 3]",
    "<html><body>not it</body></html>",
];

#[test]
fn nvidia_smi_v100s_460_pre_ampere_layout() {
    let p = parse(Tool::NvidiaSmi, "nvidia-smi/v100s-460.73.01.xml");
    assert_eq!(p.driver_version.as_deref(), Some("460.73.01"));
    assert_eq!(p.reported, Some(1));
    let (bus, d) = &p.devices[0];
    assert_eq!(bus.as_deref(), Some("0000:00:0d.0"));
    assert_eq!(d.product_name.as_deref(), Some("Tesla V100S-PCIE-32GB"));
    assert_eq!(d.stack_version.as_deref(), Some("CUDA 11.2"));
    assert_eq!(d.vbios_version.as_deref(), Some("88.00.98.00.01"));
    assert_eq!(d.serial.as_deref(), Some("1562920006088"));
    assert_eq!(d.ecc_mode.as_deref(), Some("Enabled"));
    let ecc = d.ecc.as_ref().expect("ecc");
    assert_eq!(
        (ecc.volatile_uncorrected, ecc.aggregate_corrected),
        (Some(0), Some(0))
    );
    let r = d.retired_pages.as_ref().expect("retired pages");
    assert_eq!(
        (r.single_bit, r.double_bit, r.pending),
        (Some(0), Some(0), Some(false))
    );
    assert_eq!(d.remapped_rows, None, "N/A before Ampere");
    let l = d.link.as_ref().expect("link");
    assert_eq!(
        (l.current_gen, l.max_gen, l.current_width, l.max_width),
        (Some(3), Some(3), Some(16), Some(16))
    );
    assert_eq!(
        (d.power_draw_w, d.power_limit_w),
        (Some(232.8), Some(250.0))
    );
    assert_eq!(d.temperature_c, Some(66.0));
    assert_eq!(d.memory_total_mib, Some(32510));
    assert!(d.throttle_reasons.is_empty(), "{:?}", d.throttle_reasons);
    assert_eq!(d.mig, None);
}

#[test]
fn nvidia_smi_l4_555_event_reasons_and_new_ecc_layout() {
    let p = parse(Tool::NvidiaSmi, "nvidia-smi/l4-555.42.06.xml");
    let (bus, d) = &p.devices[0];
    assert_eq!(bus.as_deref(), Some("0000:01:00.0"));
    assert_eq!(d.stack_version.as_deref(), Some("CUDA 12.5"));
    assert_eq!(d.throttle_reasons, ["gpu_idle"]);
    let rr = d.remapped_rows.as_ref().expect("remapped rows");
    assert_eq!(
        (rr.uncorrectable, rr.pending, rr.failure),
        (Some(0), Some(false), Some(false))
    );
    assert_eq!(d.retired_pages, None, "all N/A on Ada");
    assert_eq!(d.ecc.as_ref().and_then(|e| e.volatile_uncorrected), Some(0));
    assert_eq!((d.power_draw_w, d.power_limit_w), (Some(27.22), Some(72.0)));
    assert_eq!(d.firmware_version.as_deref(), Some("G193.0200.00.01"));
    assert_eq!(d.fabric, None);
}

#[test]
fn nvidia_smi_a100_mig_and_h100_errors() {
    let p = parse(Tool::NvidiaSmi, "nvidia-smi/a100x2-535.129.03.xml");
    assert_eq!(p.devices.len(), 2);
    let mig = p.devices[0].1.mig.as_ref().expect("mig");
    assert_eq!((mig.current.as_deref(), mig.devices), (Some("Enabled"), 2));
    let idle = &p.devices[1].1;
    assert_eq!(idle.performance_state.as_deref(), Some("P8"));
    assert_eq!(idle.link.as_ref().and_then(|l| l.current_gen), Some(1));

    let p = parse(Tool::NvidiaSmi, "nvidia-smi/h100-errors-550.54.15.xml");
    let d = &p.devices[0].1;
    let ecc = d.ecc.as_ref().expect("ecc");
    assert_eq!(
        (ecc.volatile_uncorrected, ecc.volatile_corrected),
        (Some(2), Some(7))
    );
    let rr = d.remapped_rows.as_ref().expect("rows");
    assert_eq!((rr.uncorrectable, rr.pending), (Some(1), Some(true)));
    assert_eq!(d.throttle_reasons, ["hw_slowdown", "hw_thermal_slowdown"]);
    assert_eq!(d.fabric.as_deref(), Some("Completed, Success"));
}

#[test]
fn every_parser_refuses_truncated_garbage_and_empty_output() {
    for (tool, rel) in [
        (Tool::NvidiaSmi, "nvidia-smi/v100s-460.73.01.xml"),
        (Tool::NvidiaSmi, "nvidia-smi/l4-555.42.06.xml"),
        (Tool::NvidiaSmi, "nvidia-smi/a100x2-535.129.03.xml"),
        (Tool::RocmSmi, "rocm-smi/mi250x2-showallinfo.json"),
        (Tool::HySmi, "hy-smi/k100x2-showallinfo.json"),
        (Tool::AmdSmi, "amd-smi/mi300x-static.json"),
    ] {
        refuses_truncated(tool, &fixture(rel));
    }
    for tool in [
        Tool::NvidiaSmi,
        Tool::AmdSmi,
        Tool::RocmSmi,
        Tool::HySmi,
        Tool::NpuSmi,
    ] {
        for g in GARBAGE {
            assert!(tool.parse(g).is_err(), "{tool:?} accepted {g:?}");
        }
    }
    // npu-smi's table cut before its first chip row.
    let t = fixture("npu-smi/910b3x2-info.txt");
    let cut = t.find("| 0                         |").expect("chip row");
    assert!(Tool::NpuSmi.parse(&t[..cut]).is_err());
    // The other root element, valid XML.
    assert!(Tool::NvidiaSmi
        .parse("<?xml version=\"1.0\"?><other/>")
        .is_err());
}

#[test]
fn rocm_smi_hy_smi_and_amd_smi() {
    let p = parse(Tool::RocmSmi, "rocm-smi/mi250x2-showallinfo.json");
    assert_eq!(p.driver_version.as_deref(), Some("6.2.4"));
    assert_eq!(p.devices.len(), 2);
    let (bus, d) = &p.devices[0];
    assert_eq!(bus.as_deref(), Some("0000:c1:00.0"));
    assert_eq!(
        d.product_name.as_deref(),
        Some("AMD INSTINCT MI250 (MCM) OAM AC MBA")
    );
    assert_eq!(d.temperature_c, Some(38.0), "junction before edge");
    assert_eq!(d.memory_total_mib, Some(65520));
    assert_eq!(p.devices[1].1.power_draw_w, None, "N/A");

    let p = parse(Tool::HySmi, "hy-smi/k100x2-showallinfo.json");
    assert_eq!(p.devices.len(), 2);
    assert_eq!(p.devices[1].0.as_deref(), Some("0000:3e:00.0"));
    assert_eq!(p.devices[0].1.product_name.as_deref(), Some("K100_AI"));
    assert_eq!(p.driver_version.as_deref(), Some("6.3.14-V1.4.2"));

    let p = parse(Tool::AmdSmi, "amd-smi/mi300x-static.json");
    let (bus, d) = &p.devices[0];
    assert_eq!(bus.as_deref(), Some("0000:0c:00.0"));
    assert_eq!(d.product_name.as_deref(), Some("AMD Instinct MI300X"));
    assert_eq!(d.driver_version.as_deref(), Some("6.7.0"));
    assert_eq!(d.memory_total_mib, Some(196592));
    // The later layout, {"gpu_data": [...]}.
    let wrapped = format!(
        "{{\"gpu_data\": {}}}",
        fixture("amd-smi/mi300x-static.json")
    );
    assert_eq!(
        Tool::AmdSmi
            .parse(&wrapped)
            .expect("gpu_data")
            .devices
            .len(),
        1
    );
}

#[test]
fn npu_smi_table_and_health() {
    let p = parse(Tool::NpuSmi, "npu-smi/910b3x2-info.txt");
    assert_eq!(p.driver_version.as_deref(), Some("23.0.rc3"));
    assert_eq!(p.devices.len(), 2);
    let (bus, d) = &p.devices[1];
    assert_eq!(bus.as_deref(), Some("0000:c2:00.0"));
    assert_eq!(d.product_name.as_deref(), Some("Ascend 910B3"));
    assert_eq!(d.health.as_deref(), Some("Warning"));
    assert_eq!((d.power_draw_w, d.temperature_c), (Some(91.2), Some(41.0)));
    assert_eq!(
        (d.memory_used_mib, d.memory_total_mib),
        (Some(3390), Some(65536))
    );
    assert_eq!(
        accel::parse_npu_health(&fixture("npu-smi/health-ok.txt")).as_deref(),
        Ok("OK")
    );
    assert_eq!(
        accel::parse_npu_health(&fixture("npu-smi/health-alarm.txt")).as_deref(),
        Ok("Alarm")
    );
    for g in GARBAGE {
        assert!(accel::parse_npu_health(g).is_err());
    }
}

fn gpu_server() -> PathBuf {
    own_fixtures().join("gpu-server")
}

#[test]
fn the_gpu_server_tree_joins_pci_and_the_recorded_tool() {
    let inv = inventory::probe(&ProbeOptions {
        sysroot: gpu_server(),
        ..ProbeOptions::default()
    })
    .expect("probe");
    assert_eq!(inv.accelerators.len(), 3, "{:#?}", inv.accelerators);
    let bmc = inv
        .accelerators
        .iter()
        .find(|a| a.address == "0000:03:00.0")
        .expect("bmc vga");
    assert_eq!(
        (bmc.vendor, bmc.tool.as_deref(), bmc.kind.as_str()),
        (Some(Vendor::Other), None, "display")
    );
    assert!(bmc.details.is_none());
    let gpus: Vec<_> = inv
        .accelerators
        .iter()
        .filter(|a| a.vendor == Some(Vendor::Nvidia))
        .collect();
    assert_eq!(gpus.len(), 2);
    for g in &gpus {
        let d = g.details.as_ref().expect("details joined by bus id");
        assert_eq!(d.driver_version.as_deref(), Some("535.129.03"));
        assert_eq!(d.serial.as_deref(), Some(inventory::REDACTED));
        assert_eq!(d.uuid.as_deref(), Some(inventory::REDACTED));
        assert_eq!(g.driver.as_deref(), Some("nvidia"));
    }
    assert_eq!(inv.accelerator_tools.len(), 1);
    let t = &inv.accelerator_tools[0];
    assert_eq!(
        (t.status, t.source.as_str(), t.devices),
        (ToolStatus::Used, "recorded", Some(2))
    );
    assert!(t.unmatched.is_empty());
    let text = inventory::summary::render(&inv);
    assert!(text.contains("Accelerators (3 devices)"), "{text}");
    assert!(text.contains("nvidia-smi -q -x (recorded): used"), "{text}");

    let shown = inventory::probe(&ProbeOptions {
        sysroot: gpu_server(),
        show_identifiers: true,
        ..ProbeOptions::default()
    })
    .expect("probe");
    let d = shown.accelerators[1].details.as_ref().expect("details");
    assert_eq!(d.serial.as_deref(), Some("1324021000001"));
    // The document round-trips.
    let json = serde_json::to_string(&inv).expect("json");
    let back: inventory::Inventory = serde_json::from_str(&json).expect("read back");
    assert_eq!(back, inv);
}

#[test]
fn without_the_recorded_output_the_inventory_says_what_the_tool_would_add() {
    let d = tempdir();
    assert!(std::process::Command::new("cp")
        .arg("-a")
        .arg(gpu_server().join("."))
        .arg(d.path())
        .status()
        .expect("cp")
        .success());
    fs::remove_file(d.path().join(".hwcert/tools/nvidia-smi-q-x.xml")).expect("rm");
    let inv = inventory::probe(&ProbeOptions {
        sysroot: d.path().to_path_buf(),
        ..ProbeOptions::default()
    })
    .expect("probe");
    let t = &inv.accelerator_tools[0];
    assert_eq!(t.status, ToolStatus::Missing);
    assert!(
        t.would_add.as_deref().unwrap_or("").contains("ECC"),
        "{t:?}"
    );
    assert!(
        t.detail
            .as_deref()
            .unwrap_or("")
            .contains("no recorded output"),
        "{t:?}"
    );
    assert!(inv.accelerators.iter().all(|a| a.details.is_none()));
    let text = inventory::summary::render(&inv);
    assert!(text.contains("missing (no recorded output"), "{text}");
    assert!(
        text.contains("it would add: driver and CUDA versions"),
        "{text}"
    );
    assert_eq!(
        inv.accelerators
            .iter()
            .filter(|a| a.tool.as_deref() == Some("nvidia-smi"))
            .count(),
        2
    );

    // Garbage in its place: failed, with the parser's reason.
    fs::write(
        d.path().join(".hwcert/tools/nvidia-smi-q-x.xml"),
        "<nvidia_smi_log><gpu>",
    )
    .expect("write");
    let inv = inventory::probe(&ProbeOptions {
        sysroot: d.path().to_path_buf(),
        ..ProbeOptions::default()
    })
    .expect("probe");
    let t = &inv.accelerator_tools[0];
    assert_eq!(t.status, ToolStatus::Failed);
    assert!(
        t.detail.as_deref().unwrap_or("").contains("truncated"),
        "{t:?}"
    );
}

/// A directory of fake tools: `name` runs `script` (sh).
fn fake_tools(tools: &[(&str, String)]) -> tempfile::TempDir {
    let d = tempdir();
    for (name, script) in tools {
        let p = d.path().join(name);
        fs::write(&p, format!("#!/bin/sh\n{script}\n")).expect("write tool");
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    d
}

fn live(dir: &Path, timeout: Duration) -> LiveTools {
    let mut t = LiveTools {
        path: dir.as_os_str().to_owned(),
        ..LiveTools::default()
    };
    t.limits.timeout = timeout;
    t
}

#[test]
fn the_live_seam_runs_real_processes_and_trusts_only_what_they_print_in_time() {
    let sys = Sysroot::new(gpu_server());
    let pci = inventory::pci::probe(&sys, None);
    let xml = output_path("nvidia-smi/a100x2-535.129.03.xml");
    let cases = [
        (
            "prints",
            format!("cat '{}'", xml.display()),
            ToolStatus::Used,
            "",
        ),
        (
            "hangs",
            "sleep 60".to_string(),
            ToolStatus::Failed,
            "no answer in 1 s",
        ),
        (
            "garbage",
            "echo 'Segmentation fault'".to_string(),
            ToolStatus::Failed,
            "not an XML document",
        ),
        (
            "fails after printing",
            format!(
                "cat '{}'; echo 'Unable to determine the device handle' >&2; exit 15",
                xml.display()
            ),
            ToolStatus::Failed,
            "exit status 15: Unable to determine",
        ),
    ];
    for (what, script, status, detail) in cases {
        let d = fake_tools(&[("nvidia-smi", script)]);
        let t0 = Instant::now();
        let got = accel::probe(&pci, &live(d.path(), Duration::from_secs(1)));
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "{what}: {:?}",
            t0.elapsed()
        );
        let run = &got.tools[0];
        assert_eq!(
            (run.status, run.source.as_str()),
            (status, "live"),
            "{what}: {run:?}"
        );
        assert!(
            run.detail.as_deref().unwrap_or("").contains(detail),
            "{what}: {run:?}"
        );
        let joined = got
            .accelerators
            .iter()
            .filter(|a| a.details.is_some())
            .count();
        assert_eq!(
            joined,
            if status == ToolStatus::Used { 2 } else { 0 },
            "{what}"
        );
        assert_eq!(
            got.outputs.len(),
            joined / 2,
            "{what}: raw output kept only when used"
        );
    }
    // Not installed at all.
    let empty = fake_tools(&[]);
    let got = accel::probe(&pci, &live(empty.path(), Duration::from_secs(1)));
    assert_eq!(got.tools[0].status, ToolStatus::Missing);
    assert!(got.tools[0]
        .detail
        .as_deref()
        .unwrap_or("")
        .contains("not installed"));
}

#[test]
fn amd_prefers_amd_smi_then_rocm_smi_and_lists_what_pci_lacks() {
    let mut pci = Vec::new();
    for a in ["0000:c1:00.0", "0000:c6:00.0"] {
        pci.push(inventory::pci::PciDevice {
            address: a.into(),
            vendor_id: Some("1002".into()),
            class_id: Some("0b4000".into()),
            ..Default::default()
        });
    }
    let rocm = output_path("rocm-smi/mi250x2-showallinfo.json");
    let d = fake_tools(&[("rocm-smi", format!("cat '{}'", rocm.display()))]);
    let got = accel::probe(&pci, &live(d.path(), Duration::from_secs(5)));
    assert_eq!(got.tools[0].tool, "rocm-smi");
    assert_eq!(got.tools[0].status, ToolStatus::Used);
    assert_eq!(got.accelerators[0].kind, "co-processor");
    assert!(got.accelerators.iter().all(|a| a.details.is_some()));

    // amd-smi, when installed, answers first; its MI300X is on no PCI function here.
    let amd = output_path("amd-smi/mi300x-static.json");
    let d = fake_tools(&[
        ("rocm-smi", format!("cat '{}'", rocm.display())),
        ("amd-smi", format!("cat '{}'", amd.display())),
    ]);
    let got = accel::probe(&pci, &live(d.path(), Duration::from_secs(5)));
    assert_eq!(got.tools[0].tool, "amd-smi");
    assert_eq!(got.tools[0].unmatched, ["0000:0c:00.0"]);
}

#[test]
fn a_snapshot_keeps_the_tool_output_redacted_and_probes_the_same() {
    let t = tempdir();
    let archive = t.path().join("snap.tar.gz");
    let f = fs::File::create(&archive).expect("create");
    inventory::snapshot::write(
        &ProbeOptions {
            sysroot: gpu_server(),
            ..ProbeOptions::default()
        },
        f,
    )
    .expect("snapshot");
    let dest = t.path().join("x");
    fs::create_dir(&dest).expect("mkdir");
    inventory::snapshot::extract(&archive, &dest).expect("extract");
    let root = inventory::snapshot::extracted_root(&dest);
    let xml = fs::read_to_string(root.join(".hwcert/tools/nvidia-smi-q-x.xml"))
        .expect("recorded in the snapshot");
    assert!(
        !xml.contains("1324021000001"),
        "serial left in the snapshot"
    );
    assert!(xml.contains("<serial>REDACTED</serial>"));
    let a = inventory::probe(&ProbeOptions {
        sysroot: gpu_server(),
        ..ProbeOptions::default()
    })
    .expect("probe");
    let b = inventory::probe(&ProbeOptions {
        sysroot: root,
        ..ProbeOptions::default()
    })
    .expect("probe");
    assert_eq!(a.accelerators, b.accelerators);
    assert_eq!(a.accelerator_tools, b.accelerator_tools);
}

/// `hwcert snapshot` asks each vendor tool once: the one output is both the inventory's and
/// the snapshot's. A fake nvidia-smi counts its invocations in a file.
#[test]
fn a_snapshot_runs_each_tool_once() {
    let t = tempdir();
    let calls = t.path().join("calls");
    let xml = output_path("nvidia-smi/a100x2-535.129.03.xml");
    let d = fake_tools(&[(
        "nvidia-smi",
        format!("echo x >> '{}'; cat '{}'", calls.display(), xml.display()),
    )]);
    let archive = t.path().join("snap.tar.gz");
    let f = fs::File::create(&archive).expect("create");
    inventory::snapshot::write_with(
        &ProbeOptions {
            sysroot: gpu_server(),
            ..ProbeOptions::default()
        },
        &live(d.path(), Duration::from_secs(10)),
        f,
    )
    .expect("snapshot");
    let n = fs::read_to_string(&calls)
        .expect("the fake ran")
        .lines()
        .count();
    assert_eq!(n, 1, "nvidia-smi ran {n} times for one snapshot");
    // What it printed is what the snapshot holds (redacted) and what its probe reads.
    let dest = t.path().join("x");
    fs::create_dir(&dest).expect("mkdir");
    inventory::snapshot::extract(&archive, &dest).expect("extract");
    let root = inventory::snapshot::extracted_root(&dest);
    let got = fs::read(root.join(".hwcert/tools/nvidia-smi-q-x.xml")).expect("recorded");
    let want = accel::redact_output(
        "nvidia-smi-q-x.xml",
        &fs::read(&xml).expect("read"),
        inventory::REDACTED,
    );
    assert_eq!(got, want);
    let inv = inventory::probe(&ProbeOptions {
        sysroot: root,
        ..ProbeOptions::default()
    })
    .expect("probe");
    assert_eq!(inv.accelerator_tools[0].status, ToolStatus::Used);
    assert_eq!(inv.accelerator_tools[0].devices, Some(2));
}

#[test]
fn recorded_outputs_lose_their_identifiers_in_a_snapshot() {
    let r = |rel: &str, file: &str| {
        String::from_utf8(accel::redact_output(
            file,
            fixture(rel).as_bytes(),
            "REDACTED",
        ))
        .expect("utf8")
    };
    let xml = r("nvidia-smi/v100s-460.73.01.xml", "nvidia-smi-q-x.xml");
    assert!(
        !xml.contains("1562920006088") && !xml.contains("GPU-76098dc1"),
        "{xml}"
    );
    assert!(
        Tool::NvidiaSmi.parse(&xml).is_ok(),
        "still nvidia-smi's document"
    );
    let json = r(
        "rocm-smi/mi250x2-showallinfo.json",
        "rocm-smi-showallinfo.json",
    );
    assert!(
        !json.contains("PCB052715-0071") && !json.contains("0x5f3c1a2b3d4e5f60"),
        "{json}"
    );
    assert_eq!(Tool::RocmSmi.parse(&json).expect("parses").devices.len(), 2);
    let json = r("amd-smi/mi300x-static.json", "amd-smi-static.json");
    assert!(
        !json.contains("PCB046982-0088") && !json.contains("0x7A3C5E6F8B9D0A12"),
        "{json}"
    );
    // npu-smi info's table holds no identifier: kept as it is.
    let t = r("npu-smi/910b3x2-info.txt", "npu-smi-info.txt");
    assert_eq!(t, fixture("npu-smi/910b3x2-info.txt"));
}
