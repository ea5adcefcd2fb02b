//! Renderings of report.json: report.html (one self-contained page), report.md (a summary for
//! a ticket) and junit.xml. The HTML and Markdown come from minijinja templates in
//! `reports/templates/`, built into the binary. HTML escapes every value (autoescape by
//! extension); Markdown escapes every value with its own rules, so that a device name cannot
//! break a table or smuggle in markup. Log excerpts are read from the report directory's
//! `logs/`, whose hashes report.json holds.

use std::path::Path;

use minijinja::value::{Serde, Value};
use minijinja::{AutoEscape, Environment, State};
use serde::Serialize;

use hwsys::units::{util_linux_size, SizeStyle};

use crate::svg;
use documents::claims::HclEntry;
use documents::report::{InstanceResult, Overall, Report};
use documents::Error;
use documents::Status;
use hwsys::time::human_duration;

const HTML_TEMPLATE: &str = include_str!("../templates/report.html.j2");
const MD_TEMPLATE: &str = include_str!("../templates/report.md.j2");

/// report.html's style: inline in the page by default; a page rendered with
/// [`PageOptions::stylesheet`] links it instead (a site that forbids inline style serves it
/// as a file of its own).
pub const REPORT_CSS: &str = include_str!("../templates/report.css");

/// How a page is made beyond the report itself. The default is the self-contained
/// report.html that `hwcert report` writes.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct PageOptions<'a> {
    /// A Content-Security-Policy for report.html (a `<meta http-equiv>` in its head).
    pub csp: Option<&'a str>,
    /// Link this stylesheet ([`REPORT_CSS`]) rather than holding the style inline.
    pub stylesheet: Option<&'a str>,
}

/// Measurement tables longer than this are folded (the chart and report.json hold them all).
const FOLD_ROWS: usize = 16;

/// Lines of log shown for an instance that did not pass.
pub const LOG_TAIL_LINES: usize = 40;
const LOG_TAIL_BYTES: u64 = 16 * 1024;

/// The last `n` lines of a log (at most the last 16 KiB), as text: invalid UTF-8 replaced,
/// terminal escapes and control characters other than tab removed.
pub fn log_tail(path: &Path, n: usize) -> Option<Vec<String>> {
    hwsys::text::tail(
        path,
        hwsys::text::Tail {
            lines: n,
            max_bytes: LOG_TAIL_BYTES,
            ..hwsys::text::Tail::default()
        },
    )
}

#[derive(Serialize)]
struct Fact {
    label: &'static str,
    value: String,
}

#[derive(Serialize)]
struct CountView {
    label: &'static str,
    n: u64,
    class: &'static str,
}

#[derive(Serialize)]
struct MeasureRow {
    /// For people ("Latency p99"); `key` is the name in report.json.
    name: String,
    key: String,
    /// With its unit, scaled ("1.23 GB/s").
    value: String,
    unit: String,
    threshold: Option<String>,
    /// "ok", "bad" or "" (no threshold).
    class: &'static str,
}

#[derive(Serialize)]
struct ProblemView<'a> {
    name: &'a str,
    status: &'static str,
    class: &'static str,
    blocker: bool,
    target_label: Option<&'a str>,
    reason: Option<&'a str>,
    expected: Option<&'a str>,
    measured: Option<&'a str>,
    duration: Option<String>,
    log: Option<&'a str>,
    /// The log cap dropped output from the middle of the log: how much.
    log_truncated: Option<String>,
    log_tail: Option<String>,
    measurements: Vec<MeasureRow>,
    /// The measurements that missed their threshold (shown even when the table is folded).
    missed: Vec<MeasureRow>,
    /// More rows than a page should show open: the table goes into a <details>.
    fold: bool,
    charts: Vec<String>,
}

/// One line of "What to do next": a failed or unfinished blocker (advisory ones after), what
/// was found and the next step.
#[derive(Serialize)]
struct NextStep<'a> {
    name: &'a str,
    status: &'static str,
    class: &'static str,
    blocker: bool,
    found: String,
    hint: &'static str,
}

/// The next step for an instance that ended with `s`.
fn hint(s: Status) -> &'static str {
    match s {
        Status::Fail => {
            "fix what it measured (hardware, firmware, driver or configuration), then certify \
             again: a resume does not rerun a case that finished"
        }
        Status::Error => {
            "the case could not run: see its log, fix the cause (a tool, a permission, a \
             device), then run it again"
        }
        Status::Timeout => {
            "it ran past its time limit: see the last lines of its log for where it hung; \
             a slow machine may need a longer limit in a profile"
        }
        Status::Crash => "the case's worker crashed: see its log, and report it with report.json",
        Status::Interrupted => {
            "the run stopped while it ran (reboot, kill, power): continue with \
             `hwcert run --resume RUN_DIR`"
        }
        Status::NotRun => "it did not run: continue the run with `hwcert run --resume RUN_DIR`",
        Status::Skip => "it was skipped without a reason: run it again, as root if it needs it",
        Status::Pass => "",
    }
}

fn next_steps(r: &Report) -> Vec<NextStep<'_>> {
    let mut v: Vec<NextStep<'_>> = r
        .results
        .iter()
        .filter(|x| {
            x.status.is_failure()
                || x.status == Status::Interrupted
                || (x.blocker
                    && (x.status == Status::NotRun
                        || (x.status == Status::Skip
                            && x.reason.as_deref().is_none_or(|s| s.trim().is_empty()))))
        })
        .map(|x| NextStep {
            name: &x.name,
            status: x.status.as_str(),
            class: status_class(x.status),
            blocker: x.blocker,
            found: match (&x.expected, &x.measured, &x.reason) {
                (Some(e), Some(m), _) => format!("expected {e}; measured {m}"),
                (_, _, Some(reason)) => {
                    let one: String = reason.split_whitespace().collect::<Vec<_>>().join(" ");
                    if one.chars().count() > 200 {
                        let mut c: String = one.chars().take(199).collect();
                        c.push('…');
                        c
                    } else {
                        one
                    }
                }
                _ => String::new(),
            },
            hint: hint(x.status),
        })
        .collect();
    v.sort_by_key(|n| !n.blocker);
    v
}

#[derive(Serialize)]
struct MeasuredView<'a> {
    name: &'a str,
    status: &'static str,
    class: &'static str,
    charts: Vec<String>,
    rows: Vec<MeasureRow>,
    fold: bool,
}

#[derive(Serialize)]
struct ResultRow<'a> {
    name: &'a str,
    component: &'a str,
    blocker: bool,
    status: &'static str,
    class: &'static str,
    duration: String,
    note: String,
    log: Option<&'a str>,
}

#[derive(Serialize)]
struct CaseChip<'a> {
    name: &'a str,
    status: &'static str,
    class: &'static str,
    blocker: bool,
}

#[derive(Serialize)]
struct HclView<'a> {
    kind: &'static str,
    title: String,
    verdict: &'static str,
    class: &'static str,
    facts: Vec<Fact>,
    cases: Vec<CaseChip<'a>>,
}

#[derive(Serialize)]
struct Table {
    title: String,
    head: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

/// A count column of the Components table: shown only when some component has one.
#[derive(Serialize)]
struct CountColumn {
    key: &'static str,
    label: &'static str,
}

fn count_columns(cs: &[documents::report::ComponentVerdict]) -> Vec<CountColumn> {
    type Count = fn(&documents::report::Counts) -> u64;
    let cols: [(&str, &str, Count); 8] = [
        ("pass", "Pass", |c| c.pass),
        ("fail", "Fail", |c| c.fail),
        ("error", "Error", |c| c.error),
        ("timeout", "Timeout", |c| c.timeout),
        ("crash", "Crash", |c| c.crash),
        ("interrupted", "Interrupted", |c| c.interrupted),
        ("not_run", "Not run", |c| c.not_run),
        ("skip", "Skip", |c| c.skip),
    ];
    cols.into_iter()
        .filter(|(k, _, f)| *k == "pass" || cs.iter().any(|c| f(&c.counts) > 0))
        .map(|(key, label, _)| CountColumn { key, label })
        .collect()
}

#[derive(Serialize)]
struct ComponentView<'a> {
    component: &'a str,
    verdict: &'static str,
    class: &'static str,
    blockers: u64,
    counts: &'a documents::report::Counts,
    failed_blockers: &'a [String],
    incomplete: &'a [String],
    not_planned: &'a [String],
}

/// A blocker that was not tested: skipped, excluded, or not planned for an unmet requirement.
#[derive(Serialize)]
struct NotTestedView<'a> {
    name: &'a str,
    /// "skipped", "excluded", "not planned".
    how: &'static str,
    reason: &'a str,
}

#[derive(Serialize)]
struct View<'a> {
    title: String,
    overall: &'static str,
    overall_class: &'static str,
    summary: &'a str,
    facts: Vec<Fact>,
    counts: Vec<CountView>,
    components: Vec<ComponentView<'a>>,
    count_columns: Vec<CountColumn>,
    problems: Vec<ProblemView<'a>>,
    next: Vec<NextStep<'a>>,
    incomplete: Vec<ResultRow<'a>>,
    /// Why the run cannot certify, whatever its results (recorded machine, profile).
    run_gaps: Vec<&'a str>,
    not_tested: Vec<NotTestedView<'a>>,
    hcl: Vec<HclView<'a>>,
    measured: Vec<MeasuredView<'a>>,
    results: Vec<ResultRow<'a>>,
    inventory: Vec<Table>,
    /// The accelerators and their vendor tools (issue 19's block of the page).
    accelerators: Vec<Table>,
    warnings: &'a [String],
    schema: &'a str,
    tool: &'a documents::report::Tool,
    signed_by: Option<&'a str>,
    log_tail_lines: usize,
    page: PageOptions<'a>,
}

fn status_class(s: Status) -> &'static str {
    match s {
        Status::Pass => "pass",
        Status::Skip => "skip",
        Status::NotRun | Status::Interrupted => "warn",
        _ => "fail",
    }
}

fn overall_class(o: Overall) -> &'static str {
    match o {
        Overall::Certified => "pass",
        Overall::NotCertified => "fail",
        Overall::Incomplete => "warn",
    }
}

fn measure_rows(r: &InstanceResult) -> Vec<MeasureRow> {
    r.measurements
        .iter()
        .map(|m| MeasureRow {
            name: documents::human::label(&m.name),
            key: m.name.clone(),
            value: documents::human::value(m.value, &m.unit),
            unit: m.unit.clone(),
            threshold: m.threshold.as_ref().map(|t| {
                format!(
                    "{} {}",
                    documents::human::op(&t.op),
                    documents::human::value(t.value, &m.unit)
                )
            }),
            class: match m.holds() {
                Some(true) => "pass",
                Some(false) => "fail",
                None => "",
            },
        })
        .collect()
}

/// "the log cap dropped 99 MiB (103809045 bytes) of output from the middle of the log".
fn log_truncated(r: &InstanceResult) -> Option<String> {
    r.log_dropped_bytes.filter(|&n| n > 0).map(|n| {
        format!(
            "the log cap dropped {} ({n} bytes) of output from the middle of the log",
            hwsys::units::iec(n)
        )
    })
}

fn result_row(r: &InstanceResult) -> ResultRow<'_> {
    let note = match (&r.expected, &r.measured, &r.reason) {
        (Some(e), Some(m), _) => format!("expected {e}; measured {m}"),
        (_, _, Some(reason)) => reason.clone(),
        _ => String::new(),
    };
    // Cut first, so that the truncation is always shown.
    let cut = |note: String| {
        if note.chars().count() > 240 {
            let mut n: String = note.chars().take(239).collect();
            n.push('…');
            n
        } else {
            note
        }
    };
    let note = match log_truncated(r) {
        Some(t) if note.is_empty() => t,
        Some(t) => format!("{}; {t}", cut(note)),
        None => cut(note),
    };
    ResultRow {
        name: &r.name,
        component: &r.component,
        blocker: r.blocker,
        status: r.status.as_str(),
        class: status_class(r.status),
        duration: r.duration_ms.map(human_duration).unwrap_or_default(),
        note,
        log: r.log.as_deref(),
    }
}

fn opt(parts: &[Option<&str>]) -> String {
    parts
        .iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ")
}

fn push(facts: &mut Vec<Fact>, label: &'static str, value: String) {
    if !value.trim().is_empty() {
        facts.push(Fact { label, value });
    }
}

/// An HCL entry's card. Inside a report that is not certified, an entry whose own cases all
/// passed says "passed its cases" in a neutral colour: a green "certified" there would
/// contradict the verdict (nothing is listed from a report that is not certified).
fn hcl_view(e: &HclEntry, overall: Overall) -> HclView<'_> {
    let mut facts = Vec::new();
    let (verdict, platform) = match e {
        HclEntry::System(s) => {
            push(&mut facts, "Vendor", opt(&[s.vendor.as_deref()]));
            push(
                &mut facts,
                "Product",
                opt(&[s.product.as_deref(), s.product_version.as_deref()]),
            );
            push(&mut facts, "Family", opt(&[s.family.as_deref()]));
            push(
                &mut facts,
                "Board",
                opt(&[
                    s.board_vendor.as_deref(),
                    s.board.as_deref(),
                    s.board_version.as_deref(),
                ]),
            );
            push(
                &mut facts,
                "BIOS",
                opt(&[
                    s.bios_vendor.as_deref(),
                    s.bios_version.as_deref(),
                    s.bios_date.as_deref(),
                ]),
            );
            let mut cpu = opt(&[s.cpu_model.as_deref()]);
            if let Some(n) = s.cpu_sockets {
                cpu.push_str(&format!(" × {n}"));
            }
            push(&mut facts, "CPU", cpu);
            push(
                &mut facts,
                "Device tree",
                opt(&[s.device_tree_model.as_deref()]),
            );
            push(&mut facts, "Hypervisor", opt(&[s.hypervisor.as_deref()]));
            if let Some(why) = documents::claims::unkeyed_system_reason(s) {
                push(&mut facts, "Not listable", why);
            }
            (s.verdict, &s.platform)
        }
        HclEntry::Pci(p) => {
            let ids = format!(
                "{}:{} subsystem {}:{}",
                p.vendor_id.as_deref().unwrap_or("?"),
                p.device_id.as_deref().unwrap_or("?"),
                p.subsystem_vendor_id.as_deref().unwrap_or("?"),
                p.subsystem_device_id.as_deref().unwrap_or("?")
            );
            push(&mut facts, "IDs", ids);
            push(
                &mut facts,
                "Device",
                opt(&[p.vendor_name.as_deref(), p.device_name.as_deref()]),
            );
            push(
                &mut facts,
                "Subsystem",
                opt(&[
                    p.subsystem_vendor_name.as_deref(),
                    p.subsystem_name.as_deref(),
                ]),
            );
            push(
                &mut facts,
                "Class",
                format!(
                    "{} [{}]",
                    p.class_name.as_deref().unwrap_or(""),
                    p.class_id.as_deref().unwrap_or("?")
                ),
            );
            push(&mut facts, "Revision", opt(&[p.revision.as_deref()]));
            push(&mut facts, "Address", p.address.clone());
            push(
                &mut facts,
                "Driver",
                opt(&[Some(p.driver.as_str()), p.driver_version.as_deref()]),
            );
            push(&mut facts, "Firmware", opt(&[p.firmware.as_deref()]));
            (p.verdict, &p.platform)
        }
    };
    push(&mut facts, "Architecture", opt(&[platform.arch.as_deref()]));
    push(&mut facts, "OS", opt(&[platform.os.as_deref()]));
    push(&mut facts, "Kernel", opt(&[platform.kernel.as_deref()]));
    HclView {
        kind: match e {
            HclEntry::System(_) => "system",
            HclEntry::Pci(_) => "pci",
        },
        title: documents::claims::title(e),
        verdict: if verdict == Overall::Certified && overall != Overall::Certified {
            "passed its cases"
        } else {
            verdict.as_str()
        },
        class: if verdict == Overall::Certified && overall != Overall::Certified {
            "neutral"
        } else {
            overall_class(verdict)
        },
        facts,
        cases: e
            .cases()
            .iter()
            .map(|c| CaseChip {
                name: &c.name,
                status: c.status.as_str(),
                class: status_class(c.status),
                blocker: c.blocker,
            })
            .collect(),
    }
}

fn size(b: Option<u64>) -> String {
    b.map(|b| util_linux_size(b, SizeStyle::IecSpaced))
        .unwrap_or_default()
}

fn s(o: &Option<String>) -> String {
    o.clone().unwrap_or_default()
}

/// The accelerators (one row each, PCI joined with the vendor tool) and the tools asked.
fn accelerator_tables(inv: &inventory::Inventory) -> Vec<Table> {
    if inv.accelerators.is_empty() {
        return Vec::new();
    }
    let rows = inv
        .accelerators
        .iter()
        .map(|a| {
            let d = a.details.clone().unwrap_or_default();
            let link = d
                .link
                .as_ref()
                .map(|l| {
                    let n = |v: Option<u32>| v.map(|v| v.to_string()).unwrap_or_else(|| "?".into());
                    format!(
                        "gen {} of {}, x{} of x{}",
                        n(l.current_gen),
                        n(l.max_gen),
                        n(l.current_width),
                        n(l.max_width)
                    )
                })
                .unwrap_or_default();
            let ecc = match (&d.ecc_mode, &d.ecc) {
                (Some(m), Some(e)) => format!(
                    "{m}; uncorrectable {}",
                    e.volatile_uncorrected
                        .map(|v| v.to_string())
                        .unwrap_or_else(|| "?".into())
                ),
                (Some(m), None) => m.clone(),
                _ => String::new(),
            };
            let mut extra = Vec::new();
            if let Some(m) = &d.mig {
                extra.push(format!("MIG {} ({} devices)", s(&m.current), m.devices));
            }
            if let Some(f) = &d.fabric {
                extra.push(format!("fabric {f}"));
            }
            if let Some(h) = &d.health {
                extra.push(format!("health {h}"));
            }
            if let Some(p) = d.power_limit_w {
                extra.push(format!("power limit {p} W"));
            }
            vec![
                a.address.clone(),
                d.product_name.clone().unwrap_or_else(|| a.label.clone()),
                a.vendor.map(|v| v.as_str().to_string()).unwrap_or_default(),
                s(&a.driver),
                opt(&[
                    d.driver_version.as_deref(),
                    d.stack_version.as_deref(),
                    d.vbios_version.as_deref().map(|_| "VBIOS"),
                    d.vbios_version.as_deref(),
                ]),
                d.memory_total_mib
                    .map(|m| format!("{m} MiB"))
                    .unwrap_or_default(),
                link,
                ecc,
                extra.join(", "),
            ]
        })
        .collect();
    let mut out = vec![Table {
        title: "Accelerators".into(),
        head: vec![
            "Address",
            "Device",
            "Vendor",
            "Driver",
            "Versions",
            "Memory",
            "PCIe link",
            "ECC",
            "Other",
        ],
        rows,
    }];
    if !inv.accelerator_tools.is_empty() {
        out.push(Table {
            title: "Accelerator tools".into(),
            head: vec!["Tool", "Status", "Source", "Devices", "Note"],
            rows: inv
                .accelerator_tools
                .iter()
                .map(|t| {
                    let status = match t.status {
                        inventory::accel::ToolStatus::Used => "used",
                        inventory::accel::ToolStatus::Missing => "missing",
                        inventory::accel::ToolStatus::Failed => "failed",
                    };
                    let mut note = s(&t.detail);
                    if let Some(w) = &t.would_add {
                        note = format!("{note}; would add: {w}");
                    }
                    if !t.unmatched.is_empty() {
                        note = format!("{note}; not on PCI: {}", t.unmatched.join(", "));
                    }
                    vec![
                        t.command.clone(),
                        status.to_string(),
                        t.source.clone(),
                        t.devices.map(|n| n.to_string()).unwrap_or_default(),
                        note.trim_start_matches("; ").to_string(),
                    ]
                })
                .collect(),
        });
    }
    out
}

/// The BMC for the report's facts: "DELL Inc 2.70 (IPMI 2.0) in DELL PowerEdge R730, local
/// /dev/ipmi0"; nothing when the probe reached none.
fn bmc_summary(b: &inventory::bmc::Bmc) -> Option<String> {
    let fw = b.firmware()?;
    let mut s = format!("firmware {fw}");
    if let Some(f) = b.fru.as_ref().and_then(|f| f.summary()) {
        s.push_str(&format!(" in {f}"));
    }
    s.push_str(&format!(", {}", b.reached));
    Some(s)
}

/// The inventory's BMC rows: firmware and how it was reached, the FRU, the SEL's fill; or why
/// there is none.
fn bmc_rows(b: &inventory::bmc::Bmc, kv: &mut impl FnMut(&str, String)) {
    use inventory::bmc::BmcStatus;
    match b.status {
        BmcStatus::Used => {
            kv(
                "BMC",
                format!(
                    "{} ({})",
                    b.firmware().unwrap_or_else(|| "firmware unknown".into()),
                    b.reached
                ),
            );
            if let Some(f) = &b.fru {
                kv("BMC FRU", f.summary().unwrap_or_default());
                kv(
                    "BMC FRU board",
                    opt(&[
                        f.board_manufacturer.as_deref(),
                        f.board_product.as_deref(),
                        f.board_part.as_deref(),
                    ]),
                );
            }
            if let Some(sel) = &b.sel {
                kv(
                    "BMC SEL",
                    format!(
                        "{} entries{}",
                        sel.entries,
                        sel.percent_used
                            .as_deref()
                            .map(|p| format!(", {p} used"))
                            .unwrap_or_default()
                    ),
                );
            }
        }
        BmcStatus::Missing => kv("BMC", format!("none: {}", b.detail.join("; "))),
        BmcStatus::Failed => kv(
            "BMC",
            format!("{}: failed: {}", b.reached, b.detail.join("; ")),
        ),
    }
}

fn inventory_tables(inv: &inventory::Inventory) -> Vec<Table> {
    let mut t = Vec::new();
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut kv = |k: &str, v: String| {
        if !v.trim().is_empty() {
            rows.push(vec![k.to_string(), v]);
        }
    };
    let h = &inv.host;
    if let Some(d) = &inv.dmi {
        kv(
            "System",
            opt(&[
                d.sys_vendor.as_deref(),
                d.product_name.as_deref(),
                d.product_version.as_deref(),
            ]),
        );
        kv(
            "Board",
            opt(&[d.board_vendor.as_deref(), d.board_name.as_deref()]),
        );
        kv(
            "BIOS",
            opt(&[
                d.bios_vendor.as_deref(),
                d.bios_version.as_deref(),
                d.bios_date.as_deref(),
            ]),
        );
        kv(
            "Chassis",
            opt(&[d.chassis_vendor.as_deref(), d.chassis_type.as_deref()]),
        );
    }
    if let Some(b) = &inv.bmc {
        bmc_rows(b, &mut kv);
    }
    kv(
        "OS",
        h.os.as_ref()
            .and_then(|o| o.pretty_name.clone())
            .unwrap_or_default(),
    );
    kv("Kernel", s(&h.kernel));
    kv("Architecture", s(&h.arch));
    kv("Boot", s(&h.boot_mode));
    if let Some(sb) = h.secure_boot {
        kv("Secure Boot", if sb { "on" } else { "off" }.into());
    }
    if let Some(tn) = &h.kernel_taint {
        kv(
            "Kernel taint",
            if tn.value == 0 {
                "0 (not tainted)".into()
            } else {
                format!(
                    "{} ({})",
                    tn.value,
                    tn.flags
                        .iter()
                        .map(|f| f.letter.clone())
                        .collect::<Vec<_>>()
                        .join("")
                )
            },
        );
    }
    let c = &inv.cpu;
    kv("CPU", opt(&[c.model_name.as_deref()]));
    let topo = match (c.sockets, c.cores_per_socket, c.threads_per_core) {
        (Some(s), Some(co), Some(th)) => {
            format!("{s} sockets × {co} cores × {th} threads")
        }
        _ => String::new(),
    };
    kv(
        "CPUs",
        format!(
            "{} {}{}",
            c.cpus.map(|n| n.to_string()).unwrap_or_default(),
            c.online
                .as_ref()
                .map(|o| format!("(online {o}) "))
                .unwrap_or_default(),
            topo
        ),
    );
    if !c.numa_nodes.is_empty() {
        kv("NUMA nodes", c.numa_nodes.len().to_string());
    }
    kv("Microcode", s(&c.microcode));
    kv(
        "Hypervisor",
        opt(&[c.hypervisor.as_deref(), c.virtualization_type.as_deref()]),
    );
    kv("Memory", size(inv.memory.total_bytes));
    if !inv.memory.dimms.is_empty() {
        kv("DIMMs", inv.memory.dimms.len().to_string());
    }
    t.push(Table {
        title: "System".into(),
        head: vec!["", ""],
        rows,
    });

    t.push(Table {
        title: format!("PCI ({} functions)", inv.pci.len()),
        head: vec!["Address", "Class", "Device", "IDs", "Driver", "Link"],
        rows: inv
            .pci
            .iter()
            .map(|d| {
                vec![
                    d.address.clone(),
                    format!("{} [{}]", s(&d.class_name), s(&d.class_id)),
                    opt(&[
                        d.vendor_name.as_deref(),
                        d.device_name.as_deref(),
                        d.subsystem_name.as_deref().map(|_| "—"),
                        d.subsystem_name.as_deref(),
                    ]),
                    format!(
                        "{}:{} {}:{}",
                        s(&d.vendor_id),
                        s(&d.device_id),
                        s(&d.subsystem_vendor_id),
                        s(&d.subsystem_device_id)
                    ),
                    s(&d.driver),
                    d.link
                        .as_ref()
                        .map(|l| {
                            format!(
                                "{} x{} of {} x{}",
                                s(&l.current_speed),
                                l.current_width.map(|w| w.to_string()).unwrap_or_default(),
                                s(&l.max_speed),
                                l.max_width.map(|w| w.to_string()).unwrap_or_default()
                            )
                        })
                        .unwrap_or_default(),
                ]
            })
            .collect(),
    });
    t.push(Table {
        title: format!("Storage ({} devices)", inv.storage.len()),
        head: vec![
            "Name",
            "Type",
            "Transport",
            "Size",
            "Model",
            "Firmware",
            "Driver",
            "Controller",
        ],
        rows: inv
            .storage
            .iter()
            .map(|b| {
                vec![
                    b.name.clone(),
                    s(&b.kind),
                    s(&b.transport),
                    // As `hwcert probe` prints them: decimal units, as disks are labelled.
                    b.size_bytes.map(hwsys::units::decimal).unwrap_or_default(),
                    inv.disk_model(b).unwrap_or_default(),
                    s(&b.firmware),
                    opt(&[b.driver.as_deref(), b.controller_driver.as_deref()]),
                    s(&b.pci_address),
                ]
            })
            .collect(),
    });
    if !inv.nvme.is_empty() {
        t.push(Table {
            title: format!("NVMe controllers ({})", inv.nvme.len()),
            head: vec!["Name", "Model", "Firmware", "Transport", "PCI", "State"],
            rows: inv
                .nvme
                .iter()
                .map(|n| {
                    vec![
                        n.name.clone(),
                        s(&n.model),
                        s(&n.firmware),
                        s(&n.transport),
                        s(&n.pci_address),
                        s(&n.state),
                    ]
                })
                .collect(),
        });
    }
    t.push(Table {
        title: format!("Network ({} interfaces)", inv.network.len()),
        head: vec!["Name", "Kind", "Driver", "PCI", "State", "Speed", "MTU"],
        rows: inv
            .network
            .iter()
            .map(|n| {
                vec![
                    n.name.clone(),
                    s(&n.kind),
                    s(&n.driver),
                    s(&n.pci_address),
                    s(&n.operstate),
                    n.speed_mbps
                        .map(|v| format!("{v} Mb/s"))
                        .unwrap_or_default(),
                    n.mtu.map(|v| v.to_string()).unwrap_or_default(),
                ]
            })
            .collect(),
    });
    t
}

/// The view of `r` for the templates; log tails read from under `dir` where given.
fn view<'a>(
    r: &'a Report,
    dir: Option<&Path>,
    signed_by: Option<&'a str>,
    page: PageOptions<'a>,
) -> View<'a> {
    let inv: Option<inventory::Inventory> = serde_json::from_value(r.inventory.clone()).ok();
    let title = r
        .hcl
        .iter()
        .find_map(|e| match e {
            HclEntry::System(_) => Some(documents::claims::title(e)),
            _ => None,
        })
        .filter(|t| !t.is_empty())
        .or_else(|| inv.as_ref().and_then(|i| i.host.hostname.clone()))
        .or_else(|| {
            r.hcl.iter().find_map(|e| match e {
                HclEntry::System(s) => documents::claims::unkeyed_system_name(s),
                _ => None,
            })
        })
        .unwrap_or_else(|| "unknown system".into());
    let mut facts = Vec::new();
    push(&mut facts, "System", title.clone());
    if let Some(i) = &inv {
        push(
            &mut facts,
            "OS",
            opt(&[
                i.host.os.as_ref().and_then(|o| o.pretty_name.as_deref()),
                i.host.kernel.as_deref(),
                i.host.arch.as_deref(),
            ]),
        );
        if let Some(b) = i.bmc.as_ref().and_then(bmc_summary) {
            push(&mut facts, "BMC", b);
        }
    }
    push(
        &mut facts,
        "Profile",
        opt(&[
            Some(r.profile.name.as_str()),
            r.profile.file.as_deref().map(|_| "from"),
            r.profile.file.as_deref(),
        ]),
    );
    push(
        &mut facts,
        "Started",
        r.run.started.clone().unwrap_or_default(),
    );
    push(
        &mut facts,
        "Finished",
        r.run.finished.clone().unwrap_or_default(),
    );
    push(
        &mut facts,
        "Duration",
        r.run.duration_ms.map(human_duration).unwrap_or_default(),
    );
    if r.run.boot_ids.len() > 1 {
        push(
            &mut facts,
            "Boots",
            format!(
                "{} (the run was resumed after a reboot)",
                r.run.boot_ids.len()
            ),
        );
    }
    // certify's run directory is always `run` (beside the report): a name that says nothing.
    if r.run.directory != "run" {
        push(&mut facts, "Run directory", r.run.directory.clone());
    }
    let c = &r.counts;
    let counts = [
        ("pass", c.pass, "pass"),
        ("fail", c.fail, "fail"),
        ("error", c.error, "fail"),
        ("timeout", c.timeout, "fail"),
        ("crash", c.crash, "fail"),
        ("interrupted", c.interrupted, "warn"),
        ("not run", c.not_run, "warn"),
        ("skip", c.skip, "skip"),
    ]
    .into_iter()
    .filter(|(_, n, _)| *n > 0)
    .map(|(label, n, class)| CountView { label, n, class })
    .collect();
    // Blockers first, then advisory instances; plan order within each.
    let mut problem_results: Vec<&InstanceResult> = r
        .results
        .iter()
        .filter(|x| x.status.is_failure() || x.status == Status::Interrupted)
        .collect();
    problem_results.sort_by_key(|x| !x.blocker);
    let problems = problem_results
        .into_iter()
        .map(|x| ProblemView {
            name: &x.name,
            status: x.status.as_str(),
            class: status_class(x.status),
            blocker: x.blocker,
            target_label: x.target_label.as_deref(),
            reason: x.reason.as_deref(),
            expected: x.expected.as_deref(),
            measured: x.measured.as_deref(),
            duration: x.duration_ms.map(human_duration),
            log: x.log.as_deref(),
            log_truncated: log_truncated(x),
            log_tail: x
                .log
                .as_deref()
                .zip(dir)
                .and_then(|(l, dir)| log_tail(&dir.join(l), LOG_TAIL_LINES))
                .map(|ls| ls.join("\n")),
            measurements: measure_rows(x),
            missed: measure_rows(x)
                .into_iter()
                .filter(|m| m.class == "fail")
                .collect(),
            fold: x.measurements.len() > FOLD_ROWS,
            charts: svg::charts(&x.measurements),
        })
        .collect();
    let incomplete = r
        .results
        .iter()
        .filter(|x| x.status == Status::NotRun)
        .map(result_row)
        .collect();
    let run_gaps = r
        .verdict
        .gaps
        .iter()
        .filter(|g| g.name.is_none())
        .map(|g| g.reason.as_str())
        .collect();
    let not_tested = r
        .results
        .iter()
        .filter(|x| x.blocker && !x.unplanned && x.status == Status::Skip)
        .map(|x| NotTestedView {
            name: &x.name,
            how: "skipped",
            reason: x.reason.as_deref().unwrap_or("no reason given"),
        })
        .chain(r.verdict.gaps.iter().filter_map(|g| {
            Some(NotTestedView {
                name: g.name.as_deref()?,
                how: g.kind.as_str(),
                reason: &g.reason,
            })
        }))
        .collect();
    let measured = r
        .results
        .iter()
        .filter(|x| !x.measurements.is_empty())
        .map(|x| MeasuredView {
            name: &x.name,
            status: x.status.as_str(),
            class: status_class(x.status),
            charts: svg::charts(&x.measurements),
            rows: measure_rows(x),
            fold: x.measurements.len() > FOLD_ROWS,
        })
        .collect();
    View {
        title,
        overall: r.verdict.overall.as_str(),
        overall_class: overall_class(r.verdict.overall),
        summary: &r.verdict.summary,
        facts,
        counts,
        count_columns: count_columns(&r.verdict.components),
        components: r
            .verdict
            .components
            .iter()
            .map(|c| ComponentView {
                component: &c.component,
                verdict: c.verdict.as_str(),
                class: overall_class(c.verdict),
                blockers: c.blockers,
                counts: &c.counts,
                failed_blockers: &c.failed_blockers,
                incomplete: &c.incomplete,
                not_planned: &c.not_planned,
            })
            .collect(),
        problems,
        next: next_steps(r),
        incomplete,
        run_gaps,
        not_tested,
        hcl: r
            .hcl
            .iter()
            .map(|e| hcl_view(e, r.verdict.overall))
            .collect(),
        measured,
        results: r.results.iter().map(result_row).collect(),
        inventory: inv.as_ref().map(inventory_tables).unwrap_or_default(),
        accelerators: inv.as_ref().map(accelerator_tables).unwrap_or_default(),
        warnings: &r.warnings,
        schema: &r.schema,
        tool: &r.tool,
        signed_by,
        log_tail_lines: LOG_TAIL_LINES,
        page,
    }
}

/// Escaped for HTML, with a line-break opportunity (`<wbr>`) after each `::`, `/`, `_` and
/// `.` of an instance name, so that names wrap between their parts, not mid-word.
pub fn breakable(s: &str) -> String {
    let e = svg::escape(s);
    let mut o = String::with_capacity(e.len() + 16);
    let mut chars = e.chars().peekable();
    while let Some(c) = chars.next() {
        o.push(c);
        let brk = match c {
            ':' => chars.peek() != Some(&':'),
            '/' | '_' | '.' => true,
            _ => false,
        };
        if brk && chars.peek().is_some() {
            o.push_str("<wbr>");
        }
    }
    o
}

/// Markdown-escape text for a table cell or a line: no markup, no raw HTML, one line.
pub fn md_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '~' | '!' => {
                o.push('\\');
                o.push(c);
            }
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '\n' | '\r' | '\t' => o.push(' '),
            // Shown, never obeyed: `\e` (escaped for Markdown as `\\e`).
            c if c.is_control() => o.push_str(
                &hwsys::text::escape_controls(c.encode_utf8(&mut [0u8; 4])).replace('\\', "\\\\"),
            ),
            c => o.push(c),
        }
    }
    o
}

/// Markdown inline code (names, paths): a fence longer than any run of backticks inside.
fn md_code(s: &str) -> String {
    let one_line: String = s
        .chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => " ".to_string(),
            c if c.is_control() => {
                hwsys::text::escape_controls(c.encode_utf8(&mut [0u8; 4])).into_owned()
            }
            c => c.to_string(),
        })
        .collect();
    let one_line = one_line.replace('|', "\\|");
    let mut longest = 0;
    let mut run = 0;
    for c in one_line.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if one_line.starts_with('`') || one_line.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{one_line}{pad}{fence}")
}

/// A relative path as a URL path: every byte but unreserved ones, `/` and `:` percent-encoded
/// (instance names hold `%`, `#` or `?` now and then).
pub fn url_path(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/' | b':') {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

fn environment() -> Result<Environment<'static>, Error> {
    let mut env = Environment::new();
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .keep_trailing_newline(true)
            .build()
            .map_err(|e| Error::msg(format!("template syntax: {e}")))?,
    );
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".md.j2") {
            AutoEscape::Custom("markdown".into())
        } else {
            minijinja::default_auto_escape_callback(name)
        }
    });
    env.set_formatter(|out, state: &mut State, value| {
        if matches!(state.auto_escape(), AutoEscape::Custom(n) if n == "markdown") {
            if value.is_safe() {
                return out
                    .write_str(value.as_str().unwrap_or_default())
                    .map_err(Into::into);
            }
            if value.is_none() || value.is_undefined() {
                return Ok(());
            }
            return out
                .write_str(&md_escape(&value.to_string()))
                .map_err(Into::into);
        }
        minijinja::escape_formatter(out, state, value)
    });
    env.add_filter("code", |s: String| Value::from_safe_string(md_code(&s)));
    env.add_filter("url", |s: String| url_path(&s));
    env.add_filter("breakable", |s: String| {
        Value::from_safe_string(breakable(&s))
    });
    env.add_filter("dur", |ms: Option<u64>| {
        ms.map(human_duration).unwrap_or_default()
    });
    env.add_template("report.css", REPORT_CSS)
        .map_err(|e| Error::msg(format!("report.css: {e}")))?;
    env.add_template("report.html.j2", HTML_TEMPLATE)
        .map_err(|e| Error::msg(format!("report.html template: {e}")))?;
    env.add_template("report.md.j2", MD_TEMPLATE)
        .map_err(|e| Error::msg(format!("report.md template: {e}")))?;
    Ok(env)
}

fn render(env: &Environment<'_>, name: &str, ctx: &Value) -> Result<String, Error> {
    let t = env
        .get_template(name)
        .map_err(|e| Error::msg(format!("{name}: {e}")))?;
    t.render(ctx.clone())
        .map_err(|e| Error::msg(format!("cannot render {name}: {e:#}")))
}

/// report.html of a report whose logs are in `dir/logs`.
pub fn html(r: &Report, dir: &Path, signed_by: Option<&str>) -> Result<String, Error> {
    let ctx = Value::from(Serde(&view(
        r,
        Some(dir),
        signed_by,
        PageOptions::default(),
    )));
    render(&environment()?, "report.html.j2", &ctx)
}

/// report.md.
pub fn markdown(r: &Report, dir: &Path, signed_by: Option<&str>) -> Result<String, Error> {
    let ctx = Value::from(Serde(&view(
        r,
        Some(dir),
        signed_by,
        PageOptions::default(),
    )));
    render(&environment()?, "report.md.j2", &ctx)
}

/// report.html and report.md of a report whose logs are in `dir`.
pub fn pages(r: &Report, dir: &Path, signed_by: Option<&str>) -> Result<(String, String), Error> {
    Renderer::new()?.pages(r, Some(dir), signed_by, PageOptions::default())
}

/// The renderers with their templates compiled once, for many reports (a site renders every
/// report it publishes). Rendering reads nothing but the report and, where given, the logs
/// its results name.
pub struct Renderer {
    env: Environment<'static>,
}

impl Renderer {
    pub fn new() -> Result<Renderer, Error> {
        Ok(Renderer {
            env: environment()?,
        })
    }

    /// report.html and report.md of `r`: log tails from under `logs` (the report directory)
    /// where given, none without; `signed_by` is the signing key's fingerprint.
    pub fn pages(
        &self,
        r: &Report,
        logs: Option<&Path>,
        signed_by: Option<&str>,
        page: PageOptions,
    ) -> Result<(String, String), Error> {
        let ctx = Value::from(Serde(&view(r, logs, signed_by, page)));
        let html = render(&self.env, "report.html.j2", &ctx)?;
        let md = render(&self.env, "report.md.j2", &ctx)?;
        Ok((html, md))
    }
}

/// What names this build's renderings: the same report and the same renderer id make the same
/// pages. hwcert's version and git commit, and a hash of the templates (which change without
/// a commit while they are edited).
pub fn renderer_id() -> String {
    let mut t = String::with_capacity(HTML_TEMPLATE.len() + MD_TEMPLATE.len() + REPORT_CSS.len());
    for s in [HTML_TEMPLATE, MD_TEMPLATE, REPORT_CSS] {
        t.push_str(s);
        t.push('\0');
    }
    let h = hwsys::hash::sha256_hex(t.as_bytes());
    format!(
        "hwcert {} {} templates {}",
        env!("CARGO_PKG_VERSION"),
        env!("HWCERT_GIT_COMMIT"),
        &h[..16]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_escapes() {
        assert_eq!(
            md_escape("<script>a|b</script>\n*x* [l](u)"),
            "&lt;script&gt;a\\|b&lt;/script&gt; \\*x\\* \\[l\\](u)"
        );
        assert_eq!(md_code("pci::driver_bound"), "`pci::driver_bound`");
        assert_eq!(md_code("a`b|c"), "``a`b\\|c``");
        assert_eq!(md_code("`x"), "`` `x ``");
    }

    #[test]
    fn log_links() {
        assert_eq!(
            url_path("logs/pci::driver_bound::0000:3b:00.0.log"),
            "logs/pci::driver_bound::0000:3b:00.0.log"
        );
        assert_eq!(url_path("logs/a%2Fb #1?.log"), "logs/a%252Fb%20%231%3F.log");
    }

    #[test]
    fn log_lines_are_cleaned() {
        assert_eq!(
            hwsys::text::strip_escapes("\u{1b}[31mred\u{1b}[0m ok\u{7}\tx"),
            "red ok\tx"
        );
    }
}
