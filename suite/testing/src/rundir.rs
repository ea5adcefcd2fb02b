//! Run directories for tests and benchmarks: the inventory of a recorded machine, a plan made
//! from the case catalog, journal lines and logs as `hwcert run` writes them. Not for
//! production use.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;

use serde_json::{json, Value};

pub use crate::fixtures::fixture;

/// The inventory of a sysroot, as `hwcert probe --json --sysroot ROOT` prints it.
pub fn probe(root: &Path) -> inventory::Inventory {
    let opts = inventory::ProbeOptions {
        sysroot: root.to_path_buf(),
        all: false,
        show_identifiers: false,
        udev: false,
        bmc: None,
    };
    match inventory::probe(&opts) {
        Ok(i) => i,
        Err(e) => panic!("cannot probe {}: {e}", root.display()),
    }
}

/// A plan document for `inv`: every case of the catalog on every target it selects, in
/// catalog order, as `hwcert plan --json` writes it, of the certification profile `standard`
/// (so without the cases that take the machine down, which need --allow-reboot).
pub fn plan(inv: &inventory::Inventory, sysroot: &Path) -> Value {
    let mut instances = Vec::new();
    let mut not_planned = Vec::new();
    for case in cases::catalog() {
        let info = case.info();
        // Planned only with --allow-reboot (and a profile that enables them): not here.
        let r = &info.requirements;
        if r.disruptive.is_some() || r.disruptive_when.is_some() {
            not_planned.push(json!({
                "case": info.name,
                "reason": "takes the machine down: the command line does not say --allow-reboot",
            }));
            continue;
        }
        match case.select(inv) {
            cases::Selection::Targets(ts) => {
                for t in ts {
                    let mut i = json!({
                        "name": cases::instance_name(&info.name, &t),
                        "case": info.name,
                        "component": info.component,
                        "purpose": info.purpose,
                        "timeout_s": info.timeout.as_secs_f64(),
                        "estimate_s": info.estimate.as_secs_f64(),
                        "blocker": info.blocker,
                        "destructive": info.requirements.destructive,
                        "kind": { "type": "builtin" },
                    });
                    if let Some(id) = &t.id {
                        i["target"] = json!(id);
                    }
                    if let Some(l) = &t.label {
                        i["target_label"] = json!(l);
                    }
                    instances.push(i);
                }
            }
            cases::Selection::NotApplicable(why) => {
                not_planned.push(json!({ "case": info.name, "reason": why }));
            }
        }
    }
    json!({
        "schema": "hwcert.plan/1",
        "profile": "standard",
        "profile_chain": ["standard"],
        "certifies": true,
        "options": {
            "stress_seconds": null,
            "destructive_devices": [],
            "mtu_interfaces": [],
            "settings": {}
        },
        "test_args": [],
        "sysroot": sysroot.display().to_string(),
        "instances": instances,
        "not_planned": not_planned,
    })
}

/// A run directory being made.
pub struct RunBuilder {
    pub inventory: Value,
    pub plan: Value,
    /// Journal lines, in order.
    pub lines: Vec<Value>,
    /// Log files by relative path (`logs/…`).
    pub logs: BTreeMap<String, Vec<u8>>,
    /// Milliseconds since the epoch of the next line's start.
    pub clock_ms: i64,
    pub boot_id: String,
}

/// 2025-11-25T08:00:00Z.
pub const T0_MS: i64 = 1_764_057_600_000;

impl RunBuilder {
    /// A run of the raid-sas machine (Inspur NF5280M5, MegaRAID 9560-16i, SAS9300-8i,
    /// OpenCloudOS 8.8), nothing journaled yet.
    ///
    /// The plan says the run was live (sysroot `/`) so that its report can certify, as a real
    /// run of that machine would: [`RunBuilder::raid_sas_recorded`] is the same run of the
    /// recorded tree, which cannot.
    pub fn raid_sas() -> RunBuilder {
        let mut b = RunBuilder::raid_sas_recorded();
        b.plan["sysroot"] = json!("/");
        b
    }

    /// The raid-sas machine as `hwcert run --sysroot` of its recorded tree plans it.
    pub fn raid_sas_recorded() -> RunBuilder {
        let root = fixture("raid-sas");
        let inv = probe(&root);
        let plan = plan(&inv, &root);
        RunBuilder::new(&inv, plan)
    }

    pub fn new(inv: &inventory::Inventory, plan: Value) -> RunBuilder {
        RunBuilder {
            inventory: match serde_json::to_value(inv) {
                Ok(v) => v,
                Err(e) => panic!("inventory: {e}"),
            },
            plan,
            lines: Vec::new(),
            logs: BTreeMap::new(),
            clock_ms: T0_MS,
            boot_id: "5a1d0e3c-2f4b-4d7e-9c61-0b8f7e6d5c4a".into(),
        }
    }

    /// The planned instance names, in order.
    pub fn instances(&self) -> Vec<String> {
        self.plan["instances"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|i| i["name"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Journal `name` as finished with `status`, a log of a few lines, one second later than
    /// the line before; returns the line to adjust.
    pub fn finish(&mut self, name: &str, status: &str) -> &mut Value {
        let log = format!("logs/{name}.log");
        let text = self.logs.entry(log.clone()).or_default();
        text.extend_from_slice(
            format!("{name}: started\n{name}: checking\n{name}: {status}\n").as_bytes(),
        );
        let started = hwsys::time::format_rfc3339(self.clock_ms);
        self.clock_ms += 1000;
        let mut line = json!({
            "name": name,
            "status": status,
            "reason": null,
            "started": started,
            "duration_ms": 850,
            "measurements": [],
            "log": log,
            "boot_id": self.boot_id,
        });
        match status {
            "fail" => {
                line["reason"] = json!("expected x; measured y");
                line["expected"] = json!("x");
                line["measured"] = json!("y");
            }
            "skip" => line["reason"] = json!("needs root"),
            "error" | "timeout" | "crash" | "interrupted" => {
                line["reason"] = json!(format!("{status} (made up for a test)"))
            }
            _ => {}
        }
        self.lines.push(line);
        let n = self.lines.len() - 1;
        &mut self.lines[n]
    }

    /// Journal every planned instance that has no line yet as passed.
    pub fn pass_the_rest(&mut self) {
        let done: std::collections::BTreeSet<String> = self
            .lines
            .iter()
            .filter_map(|l| l["name"].as_str().map(str::to_string))
            .collect();
        for n in self.instances() {
            if !done.contains(&n) {
                self.finish(&n, "pass");
            }
        }
    }

    /// Write inventory.json, plan.json, journal.jsonl and logs/ into `dir`.
    pub fn write(&self, dir: &Path) -> io::Result<()> {
        fs::create_dir_all(dir.join("logs"))?;
        let pretty = |v: &Value| {
            let mut s = serde_json::to_string_pretty(v).map_err(io::Error::other)?;
            s.push('\n');
            Ok::<_, io::Error>(s)
        };
        fs::write(dir.join("inventory.json"), pretty(&self.inventory)?)?;
        fs::write(dir.join("plan.json"), pretty(&self.plan)?)?;
        let mut j = String::new();
        for l in &self.lines {
            j.push_str(&serde_json::to_string(l).map_err(io::Error::other)?);
            j.push('\n');
        }
        fs::write(dir.join("journal.jsonl"), j)?;
        for (rel, bytes) in &self.logs {
            let p = dir.join(rel);
            if let Some(parent) = p.parent() {
                fs::create_dir_all(parent)?;
            }
            fs::write(p, bytes)?;
        }
        Ok(())
    }
}
