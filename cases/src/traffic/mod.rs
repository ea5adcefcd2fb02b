//! Network traffic cases against a peer machine that runs `hwcert peer` (iperf3 servers).
//!
//! * `network::throughput` — TCP from here to the peer, from the peer to here (`-R`) and both
//!   at once (`--bidir`), with one iperf3 process per stream (ports 5201, 5202, …; one stream
//!   per 10 Gb/s of link speed, each pinned to a CPU local to the NIC's NUMA node when sysfs
//!   names them). Each direction passes at the profile's threshold of the negotiated link
//!   speed (default 80%, both ways); under `--bidir` each direction is judged on its own
//!   (`throughput_bidir_send`, `throughput_bidir_receive`).
//!   The receiver's figure counts. CPU load of both ends is recorded.
//! * `network::udp_loss` — UDP at a target rate (default 10% of the link, at most 1 Gb/s):
//!   loss and jitter within the profile's limits.
//! * `network::latency` — `ping -I IFACE`: no loss, RTT p50 and p99 within limits.
//! * `network::jumbo` — only with `jumbo_mtu` in the profile: the interface is at that MTU and a
//!   packet of that size with DF set reaches the peer (else the path MTU found by halving);
//!   with `jumbo_throughput`, TCP at that MTU reaches the threshold.
//! * `network::link_flap` — only where the profile sets `link_flap = true` and names the
//!   interface in `network_interfaces`: down, up, carrier back, traffic again. A watchdog
//!   process ([`flap`]) sets the link up if the case is killed while it is down.
//!
//! Before any measurement each case proves the route (`ip route get PEER` must leave by the
//! interface under test) and binds iperf3 and ping to the interface (SO_BINDTODEVICE); the
//! throughput cases check that every listener the streams need answers (a short iperf3 run on
//! each port) and fail, never pass, when one does not. Every iperf3 run is bounded in time.
//!
//! Interfaces: those named in `network_interfaces` (any kind, veth included), else every
//! physical interface with a carrier. Without a peer (`network_peer`) the cases are not
//! planned, and the reason says how to configure one.

pub mod exec;
pub mod flap;
pub mod iperf;
pub mod peer;
pub mod perftest;
pub mod probe;
pub mod rdma;
pub mod rdma_peer;
pub mod settings;

use exec::args;
pub use exec::{run_all, run_bounded, Ran};
pub use settings::NO_PEER;

use std::time::{Duration, Instant};

use crate::network::{get_mtu, iface_label, valid_ifname};
use crate::util::{self, live, Spec};
use crate::{Case, Component, Context, Inventory, RunOptions, Selection, Target, Verdict};
use settings::NetSettings;

pub(crate) fn cases() -> Vec<Box<dyn Case>> {
    let spec =
        |name, purpose, timeout, estimate_ms, select: fn(&Inventory) -> Selection, run| Spec {
            name,
            purpose,
            component: Component::Network,
            blocker: true,
            timeout,
            estimate_ms,
            requirements: live(true, &["iperf3", "ip"]),
            select,
            run,
        };
    vec![
        spec(
            "network::throughput",
            "TCP to and from the peer, and both ways at once, at the profile's threshold of the link speed",
            600,
            35_000,
            no_options,
            throughput,
        )
        .build_with(Some(select_throughput)),
        spec(
            "network::udp_loss",
            "UDP to the peer at a target rate: loss and jitter within the profile's limits",
            300,
            12_000,
            no_options,
            udp_loss,
        )
        .build_with(Some(select_throughput)),
        Spec {
            requirements: live(true, &["ping", "ip"]),
            ..spec(
                "network::latency",
                "Round trips to the peer: no loss, p50 and p99 within the profile's limits",
                300,
                5_000,
                no_options,
                latency,
            )
        }
        .build_with(Some(select_throughput)),
        Spec {
            requirements: live(true, &["ping", "ip", "iperf3"]),
            ..spec(
                "network::jumbo",
                "Packets of the profile's jumbo MTU reach the peer with DF set",
                300,
                15_000,
                no_options,
                jumbo,
            )
        }
        .build_with(Some(select_jumbo)),
        spec(
            "network::link_flap",
            "The link goes down and up again and carries traffic after (profiles that allow it)",
            300,
            20_000,
            no_options,
            link_flap,
        )
        .build_with(Some(select_flap)),
    ]
    .into_iter()
    .chain(rdma::cases())
    .collect()
}

fn no_options(_: &Inventory) -> Selection {
    Selection::NotApplicable(NO_PEER.into())
}

/// The interfaces to test and their peers.
fn select_with_peer(
    inv: &Inventory,
    o: &RunOptions,
    extra: impl Fn(&NetSettings) -> bool,
) -> Selection {
    if !settings::any_peer(&o.settings) {
        return Selection::NotApplicable(NO_PEER.into());
    }
    let named = settings::named_interfaces(&o.settings);
    let mut ts = Vec::new();
    let mut missing = Vec::new();
    let candidates: Vec<_> = match &named {
        Some(names) => {
            for n in names {
                if !inv.network.iter().any(|i| &i.name == n) {
                    missing.push(n.clone());
                }
            }
            inv.network
                .iter()
                .filter(|i| names.contains(&i.name))
                .collect()
        }
        None => inv
            .network
            .iter()
            .filter(|i| !i.is_virtual && i.carrier == Some(true))
            .collect(),
    };
    for i in candidates {
        let s = NetSettings::for_interface(&o.settings, &i.name);
        if let Some(peer) = &s.peer {
            if extra(&s) {
                ts.push(Target::item(
                    &i.name,
                    Some(format!("{} → peer {peer}", iface_label(i))),
                ));
            }
        }
    }
    if ts.is_empty() {
        let why = match (&named, missing.is_empty()) {
            (Some(_), false) => format!(
                "network_interfaces names {} that this machine does not have",
                util::list(&missing, 5)
            ),
            (Some(_), true) => "no interface of network_interfaces has a peer (network_peer) or what the case needs".to_string(),
            (None, _) => "no physical interface with a link has a peer (network_peer), or what the case needs; name interfaces in network_interfaces".to_string(),
        };
        return Selection::NotApplicable(why);
    }
    Selection::Targets(ts)
}

fn select_throughput(inv: &Inventory, o: &RunOptions) -> Selection {
    select_with_peer(inv, o, |_| true)
}

fn select_jumbo(inv: &Inventory, o: &RunOptions) -> Selection {
    match select_with_peer(inv, o, |s| s.jumbo_mtu.is_some()) {
        Selection::NotApplicable(r) if settings::any_peer(&o.settings) => Selection::NotApplicable(
            format!("{r} (network::jumbo needs jumbo_mtu in the profile's [network])"),
        ),
        other => other,
    }
}

fn select_flap(inv: &Inventory, o: &RunOptions) -> Selection {
    let named = settings::named_interfaces(&o.settings).unwrap_or_default();
    match select_with_peer(inv, o, |s| s.link_flap) {
        Selection::Targets(ts) => {
            // Only interfaces named exactly: a link flap never picks one by default.
            let ts: Vec<Target> = ts
                .into_iter()
                .filter(|t| t.id.as_ref().is_some_and(|id| named.contains(id)))
                .collect();
            util::targets_or(ts, "network::link_flap takes down only interfaces named in network_interfaces")
        }
        Selection::NotApplicable(r) if settings::any_peer(&o.settings) => Selection::NotApplicable(
            format!("{r} (a link flap is disruptive: it needs link_flap = true in [network] and the interface named in network_interfaces)"),
        ),
        other => other,
    }
}

// ---------------------------------------------------------------------------------------------
// What every case does first

struct Setup {
    iface: String,
    peer: String,
    s: NetSettings,
    speed_mbps: Option<u64>,
    cpus: Vec<u32>,
}

fn setup(ctx: &mut Context<'_>, needs_speed: bool) -> Result<Setup, Verdict> {
    let iface = util::target_id(ctx)?;
    if !valid_ifname(&iface) {
        return Err(Verdict::error(format!(
            "'{iface}' is not an interface name"
        )));
    }
    util::require_live(ctx, "sending traffic to the peer")?;
    let s = NetSettings::for_interface(&ctx.options.settings, &iface);
    let Some(peer) = s.peer.clone() else {
        return Err(Verdict::skip(format!("{iface}: {NO_PEER}")));
    };
    if peer.parse::<std::net::IpAddr>().is_err() {
        return Err(Verdict::error(format!(
            "network_peer \"{}\" for {iface} is not an IP address (write the peer's address on {iface}'s network)",
            hwsys::text::escape_controls(&peer)
        )));
    }
    let dir = format!("sys/class/net/{iface}");
    if !ctx.sysroot.exists(&dir) {
        return Err(Verdict::fail(
            format!("{iface} present"),
            format!("{iface} is gone (no /{dir})"),
        ));
    }
    let speed_mbps = ctx
        .sysroot
        .parse::<i64>(&format!("{dir}/speed"))
        .filter(|v| *v > 0)
        .map(|v| v as u64);
    if needs_speed && speed_mbps.is_none() {
        return Err(Verdict::fail(
            format!("{iface}: a negotiated link speed to judge throughput against"),
            format!("{iface} reports no link speed (/{dir}/speed unknown or unreadable: no link, or a driver that does not report it)"),
        ));
    }
    let cpus = ctx
        .sysroot
        .attr(&format!("{dir}/device/local_cpulist"))
        .and_then(|l| hwsys::sysroot::parse_cpu_list(&l))
        .unwrap_or_default();
    ctx.log(format!(
        "{iface}: peer {peer}, link speed {}, threshold {}%",
        speed_mbps.map_or("unknown".to_string(), |s| format!("{s} Mb/s")),
        s.threshold_percent
    ));
    // The route: the peer must be reached through the interface under test.
    let ran = run_bounded(
        &args(&["ip", "route", "get", &peer]),
        Duration::from_secs(10),
    )
    .map_err(Verdict::error)?;
    let shown =
        hwsys::text::escape_controls(ran.stdout.lines().next().unwrap_or("").trim()).to_string();
    match probe::parse_route(&ran.stdout) {
        Some(r) if r.dev == iface => {
            ctx.log(format!("route to {peer}: {shown}"));
        }
        Some(r) => {
            return Err(Verdict::fail(
                format!("the peer {peer} reached through {iface}"),
                format!(
                    "the kernel routes {peer} through {} (ip route get: \"{shown}\"), not {iface}: \
                     traffic would not cross {iface}; give {iface} an address on the peer's \
                     network, or set a peer address reached through it",
                    r.dev
                ),
            ))
        }
        None => {
            return Err(Verdict::fail(
                format!("a route to the peer {peer} through {iface}"),
                format!(
                    "no route to {peer} (ip route get: \"{}\")",
                    hwsys::text::escape_controls(
                        format!("{}{}", ran.stdout.trim(), ran.stderr.trim()).trim()
                    )
                ),
            ))
        }
    }
    Ok(Setup {
        iface,
        peer,
        s,
        speed_mbps,
        cpus,
    })
}

// ---------------------------------------------------------------------------------------------
// iperf3

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Direction {
    Send,
    Receive,
    Bidir,
}

impl Direction {
    fn name(self) -> &'static str {
        match self {
            Direction::Send => "send",
            Direction::Receive => "receive",
            Direction::Bidir => "bidir",
        }
    }
    fn arrow(self, iface: &str, peer: &str) -> String {
        match self {
            Direction::Send => format!("{iface} → {peer}"),
            Direction::Receive => format!("{peer} → {iface}"),
            Direction::Bidir => format!("{iface} ↔ {peer}"),
        }
    }
}

fn iperf_argv(st: &Setup, port: u16, extra: &[String], cpu: Option<u32>) -> Vec<String> {
    let mut a = args(&["iperf3", "-c", &st.peer, "-p", &port.to_string(), "-J"]);
    a.extend(args(&[
        "--bind-dev",
        &st.iface,
        "--connect-timeout",
        "3000",
    ]));
    if let Some(c) = cpu {
        a.extend(args(&["-A", &c.to_string()]));
    }
    a.extend(extra.iter().cloned());
    a
}

/// Every listener a run needs answers: a short iperf3 run on each port, all at once.
fn peer_ready(ctx: &mut Context<'_>, st: &Setup, streams: u32) -> Result<(), Verdict> {
    let ports: Vec<u16> = (0..streams)
        .map(|i| st.s.port.saturating_add(i as u16))
        .collect();
    let argvs: Vec<Vec<String>> = ports
        .iter()
        .map(|&p| iperf_argv(st, p, &args(&["-n", "64K"]), None))
        .collect();
    let mut bad = Vec::new();
    for (port, r) in ports.iter().zip(run_all(&argvs, Duration::from_secs(15))) {
        let r = r.map_err(Verdict::error)?;
        if r.timed_out {
            bad.push(format!("port {port}: no answer within 15 s"));
            continue;
        }
        if let Err(e) = iperf::parse(&r.stdout, false) {
            bad.push(format!("port {port}: {e}"));
        }
    }
    if !bad.is_empty() {
        return Err(Verdict::fail(
            format!(
                "the peer {} ready: an iperf3 server answering on each of ports {}–{} (hwcert peer --streams {streams})",
                st.peer,
                st.s.port,
                st.s.port.saturating_add(streams as u16 - 1)
            ),
            format!("not ready: {}", util::list(&bad, 4)),
        ));
    }
    ctx.log(format!(
        "peer {} ready: {streams} listener(s) from port {} answered",
        st.peer, st.s.port
    ));
    Ok(())
}

/// One measurement with `streams` iperf3 processes at once; the figures summed.
fn measure(
    ctx: &mut Context<'_>,
    st: &Setup,
    streams: u32,
    extra: &[String],
    udp: bool,
) -> Result<Vec<iperf::Report>, Verdict> {
    let limit = Duration::from_secs(st.s.seconds + 30);
    let mut argvs = Vec::new();
    for i in 0..streams {
        let cpu = (!st.cpus.is_empty()).then(|| st.cpus[i as usize % st.cpus.len()]);
        let argv = iperf_argv(st, st.s.port.saturating_add(i as u16), extra, cpu);
        ctx.log(format!("$ {}", argv.join(" ")));
        argvs.push(argv);
    }
    let mut out = Vec::new();
    let mut errs = Vec::new();
    for (i, r) in run_all(&argvs, limit).into_iter().enumerate() {
        let r = r.map_err(Verdict::error)?;
        if r.timed_out {
            errs.push(format!(
                "stream {i}: iperf3 ran past {} s and was killed",
                limit.as_secs()
            ));
            continue;
        }
        match iperf::parse(&r.stdout, udp) {
            Ok(rep) => out.push(rep),
            Err(e) => {
                let status = &r.status;
                let tail = hwsys::text::escape_controls(r.stderr.trim())
                    .chars()
                    .take(200)
                    .collect::<String>();
                errs.push(format!(
                    "stream {i}: {e} ({status}{}{tail})",
                    if tail.is_empty() { "" } else { "; " }
                ));
            }
        }
    }
    if !errs.is_empty() {
        return Err(Verdict::error(format!(
            "iperf3 gave no figure: {}",
            util::list(&errs, 3)
        )));
    }
    Ok(out)
}

fn gbps(mbps: f64) -> String {
    if mbps >= 1000.0 {
        format!("{:.2} Gb/s", mbps / 1000.0)
    } else {
        format!("{mbps:.0} Mb/s")
    }
}

/// Run TCP in `dirs` and judge each against the threshold; `prefix` names measurements.
fn tcp_directions(ctx: &mut Context<'_>, st: &Setup, dirs: &[Direction], prefix: &str) -> Verdict {
    let speed = st.speed_mbps.unwrap_or(0);
    let streams = st.s.streams_for(speed);
    if let Err(v) = peer_ready(ctx, st, streams) {
        return v;
    }
    if st.cpus.is_empty() {
        ctx.log(format!(
            "{}: no NUMA-local CPU list (device/local_cpulist): streams not pinned",
            st.iface
        ));
    }
    let limit_mbps = speed as f64 * st.s.threshold_percent / 100.0;
    ctx.measure("link_speed", speed as f64, "Mb/s");
    ctx.measure("streams", f64::from(streams), "");
    let mut failures = Vec::new();
    for &d in dirs {
        let mut extra = args(&["-t", &st.s.seconds.to_string(), "-P", "1"]);
        match d {
            Direction::Send => {}
            Direction::Receive => extra.push("-R".into()),
            Direction::Bidir => extra.push("--bidir".into()),
        }
        let reps = match measure(ctx, st, streams, &extra, false) {
            Ok(r) => r,
            Err(v) => return v,
        };
        let fwd: f64 = reps.iter().map(|r| r.received_bps).sum::<f64>() / 1e6;
        let rev: f64 = reps
            .iter()
            .filter_map(|r| r.reverse_received_bps)
            .sum::<f64>()
            / 1e6;
        let cpu_l = reps
            .iter()
            .filter_map(|r| r.cpu_local_percent)
            .fold(0.0, f64::max);
        let cpu_r = reps
            .iter()
            .filter_map(|r| r.cpu_remote_percent)
            .fold(0.0, f64::max);
        let retr: u64 = reps.iter().filter_map(|r| r.retransmits).sum();
        let name = format!("{prefix}{}", d.name());
        let pct = |v: f64| 100.0 * v / speed.max(1) as f64;
        ctx.log(format!(
            "{}: {}; retransmits {retr}; CPU here {cpu_l:.0}%, peer {cpu_r:.0}%",
            d.arrow(&st.iface, &st.peer),
            if d == Direction::Bidir {
                format!(
                    "{} → {} ({:.0}% of {speed} Mb/s) and {} → {} ({:.0}%) at once",
                    st.iface,
                    gbps(fwd),
                    pct(fwd),
                    st.peer,
                    gbps(rev),
                    pct(rev)
                )
            } else {
                format!("{} ({:.0}% of {speed} Mb/s)", gbps(fwd), pct(fwd))
            },
        ));
        ctx.measure(&format!("cpu_local_{}", d.name()), cpu_l, "%");
        ctx.measure(&format!("cpu_remote_{}", d.name()), cpu_r, "%");
        if cpu_l > 90.0 || cpu_r > 90.0 {
            ctx.log("note: CPU load above 90% during the run: the figure may be bound by the CPU, not the link");
        }
        // Both ways at once: each direction is judged on its own against the threshold (a
        // sum could hide one direction starved by the other).
        let judged: Vec<(String, String, f64)> = if d == Direction::Bidir {
            vec![
                (
                    format!("{name}_send"),
                    format!("{} → {} (bidir)", st.iface, st.peer),
                    fwd,
                ),
                (
                    format!("{name}_receive"),
                    format!("{} → {} (bidir)", st.peer, st.iface),
                    rev,
                ),
            ]
        } else {
            vec![(
                name.clone(),
                format!("{} {}", d.arrow(&st.iface, &st.peer), d.name()),
                fwd,
            )]
        };
        for (m, label, v) in judged {
            if !ctx.judge(&m, v, "Mb/s", ">=", limit_mbps) {
                failures.push(format!(
                    "{label}: {} = {:.0}% of the {speed} Mb/s link, under the threshold {}% ({})",
                    gbps(v),
                    pct(v),
                    st.s.threshold_percent,
                    gbps(limit_mbps)
                ));
            }
        }
    }
    if failures.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            format!(
                "{}: TCP at least {}% of the {speed} Mb/s link ({}) with peer {}, {streams} stream(s)",
                st.iface,
                st.s.threshold_percent,
                gbps(limit_mbps),
                st.peer
            ),
            failures.join("; "),
        )
    }
}

fn throughput(ctx: &mut Context<'_>) -> Verdict {
    let st = match setup(ctx, true) {
        Ok(s) => s,
        Err(v) => return v,
    };
    ctx.measure("threshold", st.s.threshold_percent, "%");
    tcp_directions(
        ctx,
        &st,
        &[Direction::Send, Direction::Receive, Direction::Bidir],
        "throughput_",
    )
}

fn udp_loss(ctx: &mut Context<'_>) -> Verdict {
    let st = match setup(ctx, false) {
        Ok(s) => s,
        Err(v) => return v,
    };
    let rate = st.s.udp_rate_for(st.speed_mbps.unwrap_or(1000));
    if let Err(v) = peer_ready(ctx, &st, 1) {
        return v;
    }
    let extra = args(&[
        "-u",
        "-b",
        &format!("{}M", rate.round().max(1.0)),
        "-t",
        &st.s.seconds.to_string(),
    ]);
    let reps = match measure(ctx, &st, 1, &extra, true) {
        Ok(r) => r,
        Err(v) => return v,
    };
    let r = &reps[0];
    let loss = r.lost_percent.unwrap_or(100.0);
    let jitter = r.jitter_ms.unwrap_or(f64::INFINITY);
    ctx.measure("udp_rate", rate, "Mb/s");
    ctx.measure("udp_received", r.received_bps / 1e6, "Mb/s");
    let ok_loss = ctx.judge("udp_loss", loss, "%", "<=", st.s.udp_max_loss_percent);
    let ok_jit = ctx.judge("udp_jitter", jitter, "ms", "<=", st.s.udp_max_jitter_ms);
    ctx.log(format!(
        "UDP {} at {rate:.0} Mb/s: {} of {} datagrams lost ({loss:.3}%), jitter {jitter:.3} ms",
        Direction::Send.arrow(&st.iface, &st.peer),
        r.lost_packets.unwrap_or(0),
        r.packets.unwrap_or(0)
    ));
    if ok_loss && ok_jit {
        return Verdict::Pass;
    }
    Verdict::fail(
        format!(
            "UDP {} at {rate:.0} Mb/s: loss at most {}%, jitter at most {} ms",
            Direction::Send.arrow(&st.iface, &st.peer),
            st.s.udp_max_loss_percent,
            st.s.udp_max_jitter_ms
        ),
        format!("loss {loss:.3}%, jitter {jitter:.3} ms"),
    )
}

fn ping_argv(st: &Setup, count: u64, size: Option<u32>) -> Vec<String> {
    let mut a = args(&[
        "ping",
        "-n",
        "-I",
        &st.iface,
        "-c",
        &count.to_string(),
        "-i",
        "0.01",
        "-W",
        "1",
    ]);
    if st.peer.contains(':') {
        a.insert(1, "-6".into());
    }
    if let Some(sz) = size {
        a.extend(args(&["-M", "do", "-s", &sz.to_string()]));
    }
    a.push(st.peer.clone());
    a
}

fn latency(ctx: &mut Context<'_>) -> Verdict {
    let st = match setup(ctx, false) {
        Ok(s) => s,
        Err(v) => return v,
    };
    let n = st.s.ping_count;
    let ran = match run_bounded(&ping_argv(&st, n, None), Duration::from_secs(n / 50 + 20)) {
        Ok(r) => r,
        Err(e) => return Verdict::error(e),
    };
    let Some(p) = probe::parse_ping(&ran.stdout) else {
        return Verdict::error(format!(
            "ping printed no statistics{}: {}",
            if ran.timed_out {
                " (killed at its time limit)"
            } else {
                ""
            },
            hwsys::text::escape_controls(ran.stderr.trim())
        ));
    };
    let loss = p.loss_percent();
    let p50 = probe::percentile(&p.rtts_ms, 0.5);
    let p99 = probe::percentile(&p.rtts_ms, 0.99);
    let ok_loss = ctx.judge("ping_loss", loss, "%", "<=", 0.0);
    let (Some(p50), Some(p99)) = (p50, p99) else {
        return Verdict::fail(
            format!("{}: echo replies from the peer {}", st.iface, st.peer),
            format!("{} of {} requests answered", p.received, p.transmitted),
        );
    };
    let ok50 = ctx.judge("rtt_p50", p50, "ms", "<=", st.s.latency_p50_ms);
    let ok99 = ctx.judge("rtt_p99", p99, "ms", "<=", st.s.latency_p99_ms);
    ctx.log(format!(
        "{} echo requests to {} by {}: {loss:.1}% lost, RTT p50 {p50:.3} ms, p99 {p99:.3} ms",
        p.transmitted, st.peer, st.iface
    ));
    if ok_loss && ok50 && ok99 {
        return Verdict::Pass;
    }
    Verdict::fail(
        format!(
            "{} → {}: no loss, RTT p50 ≤ {} ms, p99 ≤ {} ms",
            st.iface, st.peer, st.s.latency_p50_ms, st.s.latency_p99_ms
        ),
        format!("{loss:.1}% lost, p50 {p50:.3} ms, p99 {p99:.3} ms"),
    )
}

/// Whether one packet of `mtu` bytes with DF set gets an answer.
fn df_ping(st: &Setup, mtu: u32) -> Result<bool, String> {
    let hdr = if st.peer.contains(':') { 48 } else { 28 };
    let ran = run_bounded(
        &ping_argv(st, 2, Some(mtu.saturating_sub(hdr))),
        Duration::from_secs(10),
    )?;
    Ok(probe::parse_ping(&ran.stdout).is_some_and(|p| p.received > 0))
}

fn jumbo(ctx: &mut Context<'_>) -> Verdict {
    let st = match setup(ctx, false) {
        Ok(s) => s,
        Err(v) => return v,
    };
    let Some(want) = st.s.jumbo_mtu else {
        return Verdict::skip("no jumbo_mtu in the profile's [network]");
    };
    let mtu = match get_mtu(&st.iface) {
        Ok(m) => m,
        Err(e) => {
            return Verdict::error(format!("the MTU of {}: {}", st.iface, util::os_error(&e)))
        }
    };
    ctx.measure("mtu", f64::from(mtu), "bytes");
    if mtu < want {
        return Verdict::fail(
            format!("{} at the profile's jumbo MTU {want}", st.iface),
            format!(
                "{} is at MTU {mtu}: set it (ip link set {} mtu {want}) on both ends",
                st.iface, st.iface
            ),
        );
    }
    match df_ping(&st, want) {
        Ok(true) => ctx.log(format!("{want}-byte packets with DF set reach {}", st.peer)),
        Ok(false) => {
            // The path MTU: the largest size that still gets through, by halving.
            let (mut lo, mut hi) = (0u32, want);
            if df_ping(&st, 1280).unwrap_or(false) {
                lo = 1280;
                while hi - lo > 8 {
                    let mid = lo + (hi - lo) / 2;
                    if df_ping(&st, mid).unwrap_or(false) {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
            }
            ctx.measure("path_mtu", f64::from(lo), "bytes");
            return Verdict::fail(
                format!(
                    "{want}-byte packets with DF set from {} reach the peer {}",
                    st.iface, st.peer
                ),
                if lo == 0 {
                    "not even 1280-byte packets get an answer".to_string()
                } else {
                    format!("the path carries about {lo} bytes at most (the peer's end or a switch on the way is not at MTU {want})")
                },
            );
        }
        Err(e) => return Verdict::error(e),
    }
    ctx.measure("path_mtu", f64::from(want), "bytes");
    if st.s.jumbo_throughput {
        if st.speed_mbps.is_none() {
            return Verdict::fail(
                format!(
                    "{}: a link speed to judge jumbo throughput against",
                    st.iface
                ),
                "no link speed reported",
            );
        }
        return tcp_directions(ctx, &st, &[Direction::Send], "jumbo_throughput_");
    }
    Verdict::Pass
}

fn wait_for(iface: &str, ctx: &Context<'_>, up: bool, limit: Duration) -> Option<Duration> {
    let t0 = Instant::now();
    while t0.elapsed() < limit {
        let carrier = ctx
            .sysroot
            .attr(&format!("sys/class/net/{iface}/carrier"))
            .as_deref()
            == Some("1");
        let oper = ctx
            .sysroot
            .attr(&format!("sys/class/net/{iface}/operstate"));
        let is_up = carrier && matches!(oper.as_deref(), Some("up") | Some("unknown"));
        if is_up == up {
            return Some(t0.elapsed());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

fn link_flap(ctx: &mut Context<'_>) -> Verdict {
    let st = match setup(ctx, true) {
        Ok(s) => s,
        Err(v) => return v,
    };
    if !st.s.link_flap {
        return Verdict::skip(
            "the profile does not allow a link flap (link_flap = true in [network])",
        );
    }
    if let Err(v) = util::require_root(ctx, "taking a link down (CAP_NET_ADMIN)") {
        return v;
    }
    let dog = match flap::Watchdog::arm(&st.iface) {
        Ok(d) => d,
        Err(e) => {
            return Verdict::error(format!(
                "cannot start the link watchdog: {}",
                util::os_error(&e)
            ))
        }
    };
    ctx.log(format!(
        "{}: down (watchdog {} sets it up again if this case is killed)",
        st.iface,
        dog.pid()
    ));
    if let Err(e) = flap::set_up(&st.iface, false) {
        return Verdict::error(format!(
            "cannot take {} down: {}",
            st.iface,
            util::os_error(&e)
        ));
    }
    let down = wait_for(&st.iface, ctx, false, Duration::from_secs(10));
    let hold = ctx
        .options
        .settings
        .get("network.flap_down_ms")
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000u64)
        .min(60_000);
    std::thread::sleep(Duration::from_millis(hold));
    let up_res = flap::set_up(&st.iface, true);
    let back = wait_for(&st.iface, ctx, true, Duration::from_secs(60));
    dog.disarm();
    if let Err(e) = up_res {
        return Verdict::fail(
            format!("{} up again after the flap", st.iface),
            format!("setting it up failed: {}", util::os_error(&e)),
        );
    }
    if down.is_none() {
        ctx.log("note: the link did not report down within 10 s of IFF_UP cleared");
    }
    let Some(back) = back else {
        return Verdict::fail(
            format!("{}: carrier back within 60 s of setting it up", st.iface),
            "no carrier after 60 s",
        );
    };
    ctx.measure("link_up_seconds", back.as_secs_f64(), "s");
    ctx.log(format!(
        "{}: carrier back {:.2} s after up",
        st.iface,
        back.as_secs_f64()
    ));
    // Routes come back with the address; give the peer a moment, then traffic again.
    tcp_directions(ctx, &st, &[Direction::Send], "after_flap_")
}
