//! RDMA cases against a peer running perftest servers (`hwcert peer --rdma DEV`).
//!
//! * `network::rdma_bw` — `ib_write_bw` from each RDMA device with an ACTIVE port to the peer,
//!   for the profile's seconds at 64 KiB messages: the average passes at the profile's
//!   `rdma_threshold` percent of the port's rate (default 80%, the same as TCP: RDMA has no
//!   kernel stack in the way and perftest at 64 KiB reaches 90–97% of the rate on healthy
//!   ConnectX links, so 80% leaves room for a busy peer and still catches a link trained
//!   down or a slot too narrow; oec-hardware's 50% would pass a 200 Gb/s port at 100).
//! * `network::rdma_lat` — `ib_read_lat` (2-byte reads): the typical (median) latency within
//!   `rdma_latency_us` (default 5 µs, near the 4.5 µs that NVIDIA's multinode checks allow
//!   for reads), p99 and average recorded, p99 judged where `rdma_latency_p99_us` is set.
//!
//! The peer is `rdma_peer` (`network.rdma_peer[.<dev>]`), else `network_peer`: the address
//! perftest exchanges its connection data with (IPoIB's on InfiniBand, the RoCE
//! interface's on Ethernet). Every perftest run is bounded in time through `hwsys::cmd`.

use std::time::Duration;

use super::exec::{args, run_bounded};
use super::perftest;
use super::settings::NO_PEER;
use crate::util::{self, live, Spec};
use crate::{Case, Component, Context, Inventory, RunOptions, Selection, Target, Verdict};

pub const DEFAULT_THRESHOLD_PERCENT: f64 = 80.0;
pub const DEFAULT_PORT: u16 = 18515;
pub const DEFAULT_LATENCY_US: f64 = 5.0;
pub const MESSAGE_BYTES: u64 = 65536;

/// The RDMA settings of one device.
#[derive(Debug, Clone, PartialEq)]
pub struct RdmaSettings {
    pub peer: Option<String>,
    pub threshold_percent: f64,
    pub seconds: u64,
    pub port: u16,
    pub latency_us: f64,
    pub latency_p99_us: Option<f64>,
}

impl RdmaSettings {
    pub fn for_device(s: &std::collections::BTreeMap<String, String>, dev: &str) -> Self {
        let get = |k: &str| {
            s.get(&format!("network.{k}.{dev}"))
                .or_else(|| s.get(&format!("network.{k}")))
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
        };
        let num = |k: &str| {
            get(k)
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| v.is_finite() && *v > 0.0)
        };
        RdmaSettings {
            peer: get("rdma_peer").or_else(|| get("peer")).map(str::to_string),
            threshold_percent: num("rdma_threshold")
                .unwrap_or(DEFAULT_THRESHOLD_PERCENT)
                .min(100.0),
            seconds: get("rdma_seconds")
                .or_else(|| get("seconds"))
                .and_then(|v| v.parse().ok())
                .unwrap_or(super::settings::DEFAULT_SECONDS)
                .clamp(1, 3600),
            port: get("rdma_port")
                .and_then(|v| v.parse().ok())
                .filter(|p| *p > 0)
                .unwrap_or(DEFAULT_PORT),
            latency_us: num("rdma_latency_us").unwrap_or(DEFAULT_LATENCY_US),
            latency_p99_us: num("rdma_latency_p99_us"),
        }
    }
}

/// The `ib_write_bw` command line of `network::rdma_bw` (`peer` given) and of the server
/// `hwcert peer --rdma` runs for it (`peer` None): the same options on both sides, as
/// perftest needs.
pub fn write_bw_args(
    dev: &str,
    ib_port: u32,
    tcp_port: u16,
    seconds: u64,
    peer: Option<&str>,
) -> Vec<String> {
    let mut v = args(&[
        "ib_write_bw",
        "-d",
        dev,
        "-i",
        &ib_port.to_string(),
        "-p",
        &tcp_port.to_string(),
        "-D",
        &seconds.to_string(),
        "-s",
        &MESSAGE_BYTES.to_string(),
        "--report_gbits",
        "-F",
    ]);
    v.extend(peer.map(str::to_string));
    v
}

/// The `ib_read_lat` command line of `network::rdma_lat` and of its server (see
/// [`write_bw_args`]).
pub fn read_lat_args(dev: &str, ib_port: u32, tcp_port: u16, peer: Option<&str>) -> Vec<String> {
    let mut v = args(&[
        "ib_read_lat",
        "-d",
        dev,
        "-i",
        &ib_port.to_string(),
        "-p",
        &tcp_port.to_string(),
        "-n",
        "10000",
        "-F",
    ]);
    v.extend(peer.map(str::to_string));
    v
}

fn any_rdma_peer(s: &std::collections::BTreeMap<String, String>) -> bool {
    super::settings::any_peer(s)
        || s.keys()
            .any(|k| k == "network.rdma_peer" || k.starts_with("network.rdma_peer."))
}

pub(crate) fn cases() -> Vec<Box<dyn Case>> {
    let spec = |name, purpose, tool: &'static str, estimate_ms, run| Spec {
        name,
        purpose,
        component: Component::Network,
        blocker: true,
        timeout: 300,
        estimate_ms,
        requirements: live(false, &[tool]),
        select: no_options,
        run,
    };
    vec![
        spec(
            "network::rdma_bw",
            "RDMA write bandwidth to the peer (ib_write_bw) at the profile's threshold of the port's rate",
            "ib_write_bw",
            15_000,
            rdma_bw,
        )
        .build_with(Some(select)),
        spec(
            "network::rdma_lat",
            "RDMA read latency to the peer (ib_read_lat): typical within the profile's limit, p99 recorded",
            "ib_read_lat",
            5_000,
            rdma_lat,
        )
        .build_with(Some(select)),
    ]
}

fn no_options(_: &Inventory) -> Selection {
    Selection::NotApplicable(NO_PEER.into())
}

fn select(inv: &Inventory, o: &RunOptions) -> Selection {
    if inv.rdma.is_empty() {
        return Selection::NotApplicable(
            "no RDMA device (sys/class/infiniband has none: no InfiniBand or RoCE adapter, or its driver is not loaded)".into(),
        );
    }
    if !any_rdma_peer(&o.settings) {
        return Selection::NotApplicable(format!(
            "no RDMA peer configured: set rdma_peer = \"ADDRESS\" in the profile's [network] (or {NO_PEER}), and run `hwcert peer --rdma DEVICE --allow THIS-MACHINE'S-ADDRESS` there"
        ));
    }
    let mut ts = Vec::new();
    let mut down = Vec::new();
    for d in &inv.rdma {
        let Some(p) = d.ports.iter().find(|p| p.is_active()) else {
            down.push(format!(
                "{}: {}",
                d.name,
                if d.ports.is_empty() {
                    "no port".to_string()
                } else {
                    d.ports
                        .iter()
                        .map(|p| {
                            format!(
                                "port {} {}",
                                p.port,
                                p.state.as_deref().unwrap_or("state unknown")
                            )
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ));
            continue;
        };
        let s = RdmaSettings::for_device(&o.settings, &d.name);
        let Some(peer) = s.peer else {
            down.push(format!("{}: no peer for it", d.name));
            continue;
        };
        ts.push(Target::item(
            &d.name,
            Some(format!(
                "{} port {} ({}, {}) → peer {peer}",
                d.name,
                p.port,
                p.link_layer.as_deref().unwrap_or("link layer unknown"),
                p.rate.as_deref().unwrap_or("rate unknown")
            )),
        ));
    }
    util::targets_or(
        ts,
        format!(
            "no RDMA port ready for traffic (ACTIVE): {}",
            util::list(&down, 5)
        ),
    )
}

/// The device's first ACTIVE port: (number, rate in Gb/s, rate text, link layer).
fn active_port(
    ctx: &Context<'_>,
    dev: &str,
) -> Result<(u32, Option<f64>, String, String), Verdict> {
    let base = format!("sys/class/infiniband/{dev}");
    if !ctx.sysroot.exists(&base) {
        return Err(Verdict::fail(
            format!("{dev} present"),
            format!("{dev} is gone (no /{base})"),
        ));
    }
    let mut ports: Vec<u32> = ctx
        .sysroot
        .list_dir(&format!("{base}/ports"))
        .into_iter()
        .filter_map(|p| p.parse().ok())
        .collect();
    ports.sort_unstable();
    let mut seen = Vec::new();
    for n in ports {
        let state = ctx
            .sysroot
            .attr(&format!("{base}/ports/{n}/state"))
            .unwrap_or_default();
        if state.ends_with("ACTIVE") {
            let rate = ctx
                .sysroot
                .attr(&format!("{base}/ports/{n}/rate"))
                .unwrap_or_default();
            let ll = ctx
                .sysroot
                .attr(&format!("{base}/ports/{n}/link_layer"))
                .unwrap_or_else(|| "link layer unknown".into());
            return Ok((n, perftest::parse_port_rate(&rate), rate, ll));
        }
        seen.push(format!(
            "port {n} {}",
            if state.is_empty() {
                "state unknown"
            } else {
                &state
            }
        ));
    }
    Err(Verdict::fail(
        format!("{dev}: a port in state ACTIVE"),
        if seen.is_empty() {
            format!("{dev} has no port under /{base}/ports")
        } else {
            format!(
                "{}: cable, switch port or subnet manager (InfiniBand needs one running)",
                seen.join(", ")
            )
        },
    ))
}

struct Run {
    dev: String,
    port: u32,
    rate_gbps: Option<f64>,
    rate: String,
    link_layer: String,
    peer: String,
    s: RdmaSettings,
}

fn prepare(ctx: &mut Context<'_>) -> Result<Run, Verdict> {
    let dev = util::target_id(ctx)?;
    if dev.is_empty()
        || !dev
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(Verdict::error(format!(
            "'{}' is not an RDMA device name",
            hwsys::text::escape_controls(&dev)
        )));
    }
    util::require_live(ctx, "sending RDMA traffic to the peer")?;
    let s = RdmaSettings::for_device(&ctx.options.settings, &dev);
    let Some(peer) = s.peer.clone() else {
        return Err(Verdict::skip(format!(
            "{dev}: no RDMA peer (rdma_peer or network_peer)"
        )));
    };
    if peer.parse::<std::net::IpAddr>().is_err() {
        return Err(Verdict::error(format!(
            "rdma_peer \"{}\" for {dev} is not an IP address",
            hwsys::text::escape_controls(&peer)
        )));
    }
    let (port, rate_gbps, rate, link_layer) = active_port(ctx, &dev)?;
    ctx.log(format!(
        "{dev} port {port}: {link_layer}, {rate}; peer {peer}"
    ));
    Ok(Run {
        dev,
        port,
        rate_gbps,
        rate,
        link_layer,
        peer,
        s,
    })
}

/// Run one perftest client; its stdout, or the verdict when it gave none.
fn perftest_run(
    ctx: &mut Context<'_>,
    argv: &[String],
    limit: Duration,
) -> Result<String, Verdict> {
    ctx.log(format!("$ {}", argv.join(" ")));
    let ran = match run_bounded(argv, limit) {
        Ok(r) => r,
        Err(e) if e.contains("not installed") => return Err(Verdict::skip(e)),
        Err(e) => return Err(Verdict::error(e)),
    };
    if ran.timed_out {
        return Err(Verdict::error(format!(
            "{} ran past its limit of {} s and was killed (the peer's server not answering? start it with `hwcert peer --rdma DEVICE`)",
            argv[0],
            limit.as_secs()
        )));
    }
    Ok(format!("{}\n{}", ran.stdout, ran.stderr.trim())
        .trim()
        .to_string()
        + "\n")
}

fn no_figure(tool: &str, out: &str) -> Verdict {
    let tail: String = hwsys::text::escape_controls(
        out.lines()
            .rev()
            .find(|l| !l.trim().is_empty() && !l.starts_with('-'))
            .unwrap_or("no output"),
    )
    .chars()
    .take(200)
    .collect();
    Verdict::error(format!(
        "{tool} printed no result table (last line: \"{}\")",
        tail.trim()
    ))
}

fn rdma_bw(ctx: &mut Context<'_>) -> Verdict {
    let r = match prepare(ctx) {
        Ok(r) => r,
        Err(v) => return v,
    };
    let Some(rate) = r.rate_gbps else {
        return Verdict::fail(
            format!(
                "{} port {}: a rate to judge bandwidth against",
                r.dev, r.port
            ),
            format!(
                "the port's rate is \"{}\"",
                hwsys::text::escape_controls(&r.rate)
            ),
        );
    };
    let argv = write_bw_args(&r.dev, r.port, r.s.port, r.s.seconds, Some(&r.peer));
    let out = match perftest_run(ctx, &argv, Duration::from_secs(r.s.seconds + 30)) {
        Ok(o) => o,
        Err(v) => return v,
    };
    let Some(row) = perftest::parse_bw(&out).and_then(|rows| rows.last().cloned()) else {
        return no_figure("ib_write_bw", &out);
    };
    let limit = rate * r.s.threshold_percent / 100.0;
    // In Mb/s and named like the TCP figures, so the report's throughput chart draws them.
    ctx.measure("link_speed", rate * 1000.0, "Mb/s");
    ctx.measure("threshold", r.s.threshold_percent, "%");
    if let Some(m) = row.msg_rate_mpps {
        ctx.measure("rdma_write_msg_rate", m, "Mpps");
    }
    let ok = ctx.judge(
        "throughput_rdma_write",
        row.average_gbps * 1000.0,
        "Mb/s",
        ">=",
        limit * 1000.0,
    );
    let line = format!(
        "ib_write_bw {} port {} ({}) → {}: {:.2} Gb/s average at {} B = {:.0}% of the port's {rate} Gb/s, threshold {}% ({limit:.1} Gb/s)",
        r.dev,
        r.port,
        r.link_layer,
        r.peer,
        row.average_gbps,
        row.bytes,
        100.0 * row.average_gbps / rate,
        r.s.threshold_percent
    );
    ctx.log(&line);
    if ok {
        return Verdict::Pass;
    }
    Verdict::fail(
        format!(
            "{} port {} → {}: RDMA write at least {}% of {rate} Gb/s ({limit:.1} Gb/s)",
            r.dev, r.port, r.peer, r.s.threshold_percent
        ),
        line,
    )
}

fn rdma_lat(ctx: &mut Context<'_>) -> Verdict {
    let r = match prepare(ctx) {
        Ok(r) => r,
        Err(v) => return v,
    };
    let argv = read_lat_args(&r.dev, r.port, r.s.port.saturating_add(1), Some(&r.peer));
    let out = match perftest_run(ctx, &argv, Duration::from_secs(60)) {
        Ok(o) => o,
        Err(v) => return v,
    };
    let Some(row) = perftest::parse_lat(&out).and_then(|rows| rows.last().cloned()) else {
        return no_figure("ib_read_lat", &out);
    };
    if let Some(a) = row.avg_us {
        ctx.measure("rdma_read_lat_avg", a, "µs");
    }
    if let Some(m) = row.max_us {
        ctx.measure("rdma_read_lat_max", m, "µs");
    }
    let ok = ctx.judge(
        "rdma_read_lat_typical",
        row.typical_us,
        "µs",
        "<=",
        r.s.latency_us,
    );
    let ok99 = match (row.p99_us, r.s.latency_p99_us) {
        (Some(p), Some(l)) => ctx.judge("rdma_read_lat_p99", p, "µs", "<=", l),
        (Some(p), None) => {
            ctx.measure("rdma_read_lat_p99", p, "µs");
            true
        }
        (None, Some(_)) => {
            ctx.log("note: this perftest prints no 99% percentile column; rdma_latency_p99_us not judged");
            true
        }
        (None, None) => true,
    };
    let line = format!(
        "ib_read_lat {} port {} ({}) → {}: typical {:.2} µs, p99 {}, limit {} µs{}",
        r.dev,
        r.port,
        r.link_layer,
        r.peer,
        row.typical_us,
        row.p99_us
            .map_or("not printed".into(), |p| format!("{p:.2} µs")),
        r.s.latency_us,
        r.s.latency_p99_us
            .map_or(String::new(), |l| format!(" (p99 {l} µs)"))
    );
    ctx.log(&line);
    if ok && ok99 {
        return Verdict::Pass;
    }
    Verdict::fail(
        format!(
            "{} port {} → {}: RDMA read latency typical ≤ {} µs{}",
            r.dev,
            r.port,
            r.peer,
            r.s.latency_us,
            r.s.latency_p99_us
                .map_or(String::new(), |l| format!(", p99 ≤ {l} µs"))
        ),
        line,
    )
}
