//! Make a run directory for trying `hwcert report` and for the render benchmark.
//!
//! ```sh
//! cargo run -p reports --example make_run -- DIR                 # the raid-sas machine, a few problems
//! cargo run -p reports --example make_run -- DIR --instances 10000
//! ```
//!
//! With `--instances N`, the plan holds N instances: the raid-sas plan, then disk, interface
//! and CPU instances of a large machine made up to reach N; every instance has a log of 20
//! lines, one in ten has measurements (per-CPU throughput, bandwidths), one in a hundred fails.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::json;

use testing::rundir::RunBuilder;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut dir = None;
    let mut n: Option<usize> = None;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--instances" => {
                n = args.get(i + 1).and_then(|v| v.parse().ok());
                if n.is_none() {
                    eprintln!("make_run: --instances needs a number");
                    return ExitCode::from(2);
                }
                i += 1;
            }
            a if dir.is_none() && !a.starts_with('-') => dir = Some(PathBuf::from(a)),
            a => {
                eprintln!("make_run: unexpected argument {a}");
                return ExitCode::from(2);
            }
        }
        i += 1;
    }
    let Some(dir) = dir else {
        eprintln!("usage: make_run DIR [--instances N]");
        return ExitCode::from(2);
    };
    let mut b = RunBuilder::raid_sas();
    match n {
        None => demo(&mut b),
        Some(n) => big(&mut b, n),
    }
    if let Err(e) = b.write(&dir) {
        eprintln!("make_run: {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    eprintln!(
        "make_run: wrote {} ({} instances, {} journal lines)",
        dir.display(),
        b.instances().len(),
        b.lines.len()
    );
    ExitCode::SUCCESS
}

fn per_cpu(cpus: usize, slow: Option<usize>) -> serde_json::Value {
    let mut ms: Vec<serde_json::Value> = (0..cpus)
        .map(|c| {
            let v = if Some(c) == slow {
                612.0
            } else {
                1180.0 + ((c * 37) % 41) as f64
            };
            json!({"name": format!("cpu{c}_ops_per_s"), "value": v, "unit": "rounds/s",
                   "threshold": {"op": ">=", "value": 1000.0}})
        })
        .collect();
    ms.push(json!({"name": "total_ops_per_s", "value": 1200.0 * cpus as f64, "unit": "rounds/s"}));
    ms.push(json!({"name": "wrong_answers", "value": 0, "unit": "CPUs", "threshold": {"op": "==", "value": 0}}));
    json!(ms)
}

fn stream() -> serde_json::Value {
    json!([
        {"name": "copy_mb_s", "value": 91234.5, "unit": "MB/s"},
        {"name": "scale_mb_s", "value": 88012.3, "unit": "MB/s"},
        {"name": "add_mb_s", "value": 99871.0, "unit": "MB/s"},
        {"name": "triad_mb_s", "value": 99502.7, "unit": "MB/s"},
        {"name": "bytes_verified", "value": 1073741824u64, "unit": "bytes"}
    ])
}

/// The raid-sas run with one failure, one advisory failure, measurements and an instance
/// that never ran.
fn demo(b: &mut RunBuilder) {
    let names = b.instances();
    let l = b.finish("pci::link_not_degraded::0000:3b:00.0", "fail");
    l["expected"] = json!("16 GT/s x8 (the card's maximum)");
    l["measured"] = json!("8 GT/s x8");
    l["reason"] = json!("expected 16 GT/s x8 (the card's maximum); measured 8 GT/s x8");
    if let Some(log) = b
        .logs
        .get_mut("logs/pci::link_not_degraded::0000:3b:00.0.log")
    {
        log.extend_from_slice(
            b"0000:3b:00.0: LnkCap 16GT/s x8, LnkSta 8GT/s x8\n\
              0000:3a:00.0 (root port): LnkCap 8GT/s x16\n\
              the slot's root port runs at Gen3: move the card to a Gen4 slot\n",
        );
    }
    let l = b.finish("cpu::microcode", "fail");
    l["expected"] = json!("microcode 0x5003707 or later (Intel 2023-08 release)");
    l["measured"] = json!("0x5003604");
    l["reason"] = json!("expected microcode 0x5003707 or later; measured 0x5003604");
    b.finish("cpu::all_online", "pass")["measurements"] = per_cpu(8, None);
    b.finish("memory::size_consistent", "pass")["measurements"] = stream();
    b.finish("system::kdump_ready", "skip")["reason"] = json!("needs root");
    for n in &names[..names.len() - 1] {
        if !b.lines.iter().any(|l| l["name"] == n.as_str()) {
            b.finish(n, "pass");
        }
    }
}

/// A run of `n` instances.
fn big(b: &mut RunBuilder, n: usize) {
    let mut instances = b.plan["instances"].as_array().cloned().unwrap_or_default();
    let kinds = [
        ("storage::identity", "storage", "disk"),
        ("storage::smart_health", "storage", "disk"),
        ("network::link_up", "network", "eth"),
        ("cpu::stress", "cpu", "cpu"),
        ("pci::aer_clean", "pci", "0000:c1:00."),
    ];
    let mut k = 0;
    while instances.len() < n {
        let (case, comp, prefix) = kinds[k % kinds.len()];
        let target = format!("{prefix}{}", k / kinds.len());
        instances.push(json!({
            "name": format!("{case}::{target}"),
            "case": case,
            "component": comp,
            "target": target,
            "target_label": format!("made-up {comp} {target}"),
            "purpose": "benchmark",
            "timeout_s": 60.0,
            "estimate_s": 1.0,
            "blocker": k % 7 != 0,
            "destructive": false,
            "kind": {"type": "builtin"}
        }));
        k += 1;
    }
    instances.truncate(n);
    b.plan["instances"] = json!(instances);
    let names = b.instances();
    for (i, name) in names.iter().enumerate() {
        let status = if i % 100 == 99 {
            "fail"
        } else if i % 50 == 25 {
            "skip"
        } else {
            "pass"
        };
        let line = b.finish(name, status);
        if i % 10 == 3 {
            line["measurements"] = if i % 20 == 3 {
                per_cpu(64, (status == "fail").then_some(5))
            } else {
                stream()
            };
        }
        let log = format!("logs/{name}.log");
        if let Some(text) = b.logs.get_mut(&log) {
            for j in 0..17 {
                text.extend_from_slice(
                    format!(
                        "{name}: step {j}: read 4096 bytes at offset {} in 0.{j:03} s\n",
                        j * 4096
                    )
                    .as_bytes(),
                );
            }
        }
    }
}
