//! The network traffic keys of a profile (issue 15), checked and written into the settings
//! the traffic cases read (`cases::traffic::settings`):
//!
//! | key | settings | meaning |
//! |---|---|---|
//! | `network_peer = "ADDR"` or `{ default = "ADDR", eth1 = "ADDR" }` | `network.peer`, `network.peer.<iface>` | the peer running `hwcert peer` |
//! | `network_interfaces = ["eth1", …]` | `network.interfaces` | the interfaces to test (any kind); default every physical one with a link |
//! | `[network]` `threshold = 80` (or `{ default = 80, eth1 = 90 }`) | `network.threshold[.<iface>]` | percent of the link speed each TCP direction must reach |
//! | `seconds = "10s"` | `network.seconds` | traffic per direction |
//! | `port = 5201`, `streams = N` | `network.port`, `network.streams` | first port of the peer's servers; streams (default one per 10 Gb/s) |
//! | `udp_rate_mbps`, `udp_max_loss_percent` (1), `udp_max_jitter_ms` (5) | `network.udp_*` | UDP target rate (default 10% of the link, ≤ 1 Gb/s) and limits |
//! | `latency_p50_ms` (1), `latency_p99_ms` (10), `ping_count` (200) | `network.latency_*`, `network.ping_count` | RTT limits |
//! | `jumbo_mtu = 9000`, `jumbo_throughput = true` | `network.jumbo_*` | plans `network::jumbo` |
//! | `rdma_peer = "ADDR"`, `rdma_threshold` (80), `rdma_seconds`, `rdma_port` (18515; latency on +1), `rdma_latency_us` (5), `rdma_latency_p99_us` | `network.rdma_*[.<dev>]` | `network::rdma_bw`, `network::rdma_lat` (peer default `network_peer`) |
//! | `link_flap = true`, `flap_down_ms` (2000) | `network.link_flap`, `network.flap_down_ms` | plans `network::link_flap` (disruptive) on interfaces named in `network_interfaces` |
//!
//! Every numeric `[network]` key also takes a table by interface (`{ default = …, eth1 = … }`).

use std::collections::BTreeMap;

use super::location::{k, Ctx, Seg};
use super::model::ProfileError;
use super::values::duration_value;

/// The `[network]` keys: name and what it takes.
#[derive(Clone, Copy)]
enum Kind {
    /// A number within bounds.
    Num(f64, f64),
    /// An integer within bounds.
    Int(i64, i64),
    Duration,
    Bool,
    /// An IP address.
    Addr,
}

pub(super) const NETWORK_KEYS: &[&str] = &[
    "threshold",
    "seconds",
    "port",
    "streams",
    "udp_rate_mbps",
    "udp_max_loss_percent",
    "udp_max_jitter_ms",
    "latency_p50_ms",
    "latency_p99_ms",
    "ping_count",
    "jumbo_mtu",
    "jumbo_throughput",
    "link_flap",
    "flap_down_ms",
    "rdma_peer",
    "rdma_threshold",
    "rdma_seconds",
    "rdma_port",
    "rdma_latency_us",
    "rdma_latency_p99_us",
];

fn kind(key: &str) -> Option<Kind> {
    Some(match key {
        "threshold" => Kind::Num(1.0, 100.0),
        "seconds" => Kind::Duration,
        "port" => Kind::Int(1, 65_535),
        "streams" => Kind::Int(1, 64),
        "udp_rate_mbps" => Kind::Num(0.001, 1e7),
        "udp_max_loss_percent" => Kind::Num(0.0, 100.0),
        "udp_max_jitter_ms" | "latency_p50_ms" | "latency_p99_ms" => Kind::Num(0.0, 1e6),
        "ping_count" => Kind::Int(1, 100_000),
        "jumbo_mtu" => Kind::Int(1280, 65_535),
        "flap_down_ms" => Kind::Int(0, 60_000),
        "jumbo_throughput" | "link_flap" => Kind::Bool,
        "rdma_peer" => Kind::Addr,
        "rdma_threshold" => Kind::Num(1.0, 100.0),
        "rdma_seconds" => Kind::Duration,
        "rdma_port" => Kind::Int(1, 65_534),
        "rdma_latency_us" | "rdma_latency_p99_us" => Kind::Num(0.01, 1e6),
        _ => return None,
    })
}

fn iface_ok(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 15
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@'))
}

fn scalar(ctx: &Ctx<'_>, path: &[Seg], kd: Kind, v: &toml::Value) -> Result<String, ProfileError> {
    let bad = |what: &str| ctx.err(path, what.to_string());
    match (kd, v) {
        (Kind::Bool, toml::Value::Boolean(b)) => Ok(b.to_string()),
        (Kind::Bool, _) => Err(bad("expected true or false")),
        (Kind::Addr, toml::Value::String(a)) if a.trim().parse::<std::net::IpAddr>().is_ok() => {
            Ok(a.trim().to_string())
        }
        (Kind::Addr, _) => Err(bad("expected an IP address (\"192.0.2.2\")")),
        (Kind::Duration, v) => duration_value(ctx, path, v).map(|s| s.to_string()),
        (Kind::Int(lo, hi), toml::Value::Integer(i)) if (lo..=hi).contains(i) => Ok(i.to_string()),
        (Kind::Int(lo, hi), _) => Err(bad(&format!("expected a whole number from {lo} to {hi}"))),
        (Kind::Num(lo, hi), toml::Value::Integer(i)) if (lo..=hi).contains(&(*i as f64)) => {
            Ok(i.to_string())
        }
        (Kind::Num(lo, hi), toml::Value::Float(f)) if (lo..=hi).contains(f) => Ok(f.to_string()),
        (Kind::Num(lo, hi), _) => Err(bad(&format!("expected a number from {lo} to {hi}"))),
    }
}

/// Checks one value at a key path into its settings text.
type CheckOne<'a> = dyn Fn(&[Seg], &toml::Value) -> Result<String, ProfileError> + 'a;

/// A value or a table by interface (`default` and interface names).
fn per_interface(
    ctx: &Ctx<'_>,
    key: &str,
    path: &[Seg],
    v: &toml::Value,
    one: &CheckOne<'_>,
    out: &mut BTreeMap<String, String>,
) -> Result<(), ProfileError> {
    match v {
        toml::Value::Table(t) => {
            for (name, v) in t {
                let mut p = path.to_vec();
                p.push(k(name));
                let val = one(&p, v)?;
                if name == "default" {
                    out.insert(format!("network.{key}"), val);
                } else if iface_ok(name) {
                    out.insert(format!("network.{key}.{name}"), val);
                } else {
                    return Err(ctx.err(
                        &p,
                        format!("\"{name}\" is neither default nor an interface name"),
                    ));
                }
            }
            Ok(())
        }
        v => {
            out.insert(format!("network.{key}"), one(path, v)?);
            Ok(())
        }
    }
}

/// Check `network_peer`, `network_interfaces` and `[network]` into settings.
pub(super) fn network_settings(
    ctx: &Ctx<'_>,
    peer: Option<&toml::Value>,
    interfaces: Option<&Vec<String>>,
    table: Option<&BTreeMap<String, toml::Value>>,
) -> Result<BTreeMap<String, String>, ProfileError> {
    let mut out = BTreeMap::new();
    if let Some(v) = peer {
        let one = |p: &[Seg], v: &toml::Value| -> Result<String, ProfileError> {
            match v.as_str().map(str::trim) {
                Some(s) if s.parse::<std::net::IpAddr>().is_ok() => Ok(s.to_string()),
                _ => Err(ctx.err(
                    p,
                    "expected the peer's IP address (\"192.0.2.2\", \"2001:db8::2\")",
                )),
            }
        };
        per_interface(ctx, "peer", &[k("network_peer")], v, &one, &mut out)?;
    }
    if let Some(list) = interfaces {
        for (i, n) in list.iter().enumerate() {
            if !iface_ok(n) {
                return Err(ctx.err(
                    &[k("network_interfaces"), Seg::Index(i)],
                    format!("\"{n}\" is not an interface name"),
                ));
            }
        }
        out.insert("network.interfaces".into(), list.join(","));
    }
    for (key, v) in table.into_iter().flatten() {
        let path = [k("network"), k(key)];
        let Some(kd) = kind(key) else {
            return Err(ctx.err(
                &path,
                format!(
                    "unknown key (the [network] keys: {})",
                    NETWORK_KEYS.join(", ")
                ),
            ));
        };
        let one = |p: &[Seg], v: &toml::Value| scalar(ctx, p, kd, v);
        per_interface(ctx, key, &path, v, &one, &mut out)?;
    }
    Ok(out)
}
