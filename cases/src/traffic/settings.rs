//! The traffic cases' settings, as the planner writes them into the plan's settings from the
//! profile's `network_peer`, `network_interfaces` and `[network]` keys (`network.peer`,
//! `network.peer.<iface>`, `network.threshold`, `network.threshold.<iface>`, …).

use std::collections::BTreeMap;

/// Default share of the negotiated link speed a TCP direction must reach, in percent.
pub const DEFAULT_THRESHOLD_PERCENT: f64 = 80.0;
/// Default seconds of traffic per direction.
pub const DEFAULT_SECONDS: u64 = 10;
/// Default first port of the peer's iperf3 servers (one per stream, 5201, 5202, …).
pub const DEFAULT_PORT: u16 = 5201;
/// Default UDP loss and jitter limits.
pub const DEFAULT_UDP_MAX_LOSS_PERCENT: f64 = 1.0;
pub const DEFAULT_UDP_MAX_JITTER_MS: f64 = 5.0;
/// Default latency limits (RTT, ms) and the number of echo requests.
pub const DEFAULT_LATENCY_P50_MS: f64 = 1.0;
pub const DEFAULT_LATENCY_P99_MS: f64 = 10.0;
pub const DEFAULT_PING_COUNT: u64 = 200;
/// Every stream carries at most this much (Checkbox: one stream per 10 Gb/s).
pub const MBPS_PER_STREAM: u64 = 10_000;

/// The settings for one interface.
#[derive(Debug, Clone, PartialEq)]
pub struct NetSettings {
    pub peer: Option<String>,
    pub threshold_percent: f64,
    pub seconds: u64,
    pub port: u16,
    /// `None`: ceil(link speed / 10 Gb/s).
    pub streams: Option<u32>,
    /// `None`: 10% of the link speed, at most 1000 Mb/s.
    pub udp_rate_mbps: Option<f64>,
    pub udp_max_loss_percent: f64,
    pub udp_max_jitter_ms: f64,
    pub latency_p50_ms: f64,
    pub latency_p99_ms: f64,
    pub ping_count: u64,
    pub jumbo_mtu: Option<u32>,
    pub jumbo_throughput: bool,
    pub link_flap: bool,
}

fn get<'a>(s: &'a BTreeMap<String, String>, key: &str, iface: &str) -> Option<&'a str> {
    s.get(&format!("network.{key}.{iface}"))
        .or_else(|| s.get(&format!("network.{key}")))
        .map(String::as_str)
}

fn parse_or<T: std::str::FromStr>(v: Option<&str>, default: T) -> T {
    v.and_then(|x| x.trim().parse().ok()).unwrap_or(default)
}

impl NetSettings {
    /// The settings of `iface`: its own key first, then the default.
    pub fn for_interface(s: &BTreeMap<String, String>, iface: &str) -> Self {
        let f = |k: &str, d: f64| parse_or(get(s, k, iface), d).max(0.0);
        NetSettings {
            peer: get(s, "peer", iface)
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_string),
            threshold_percent: f("threshold", DEFAULT_THRESHOLD_PERCENT).min(100.0),
            seconds: parse_or(get(s, "seconds", iface), DEFAULT_SECONDS).clamp(1, 86_400),
            port: parse_or(get(s, "port", iface), DEFAULT_PORT),
            streams: get(s, "streams", iface)
                .and_then(|x| x.parse().ok())
                .filter(|n| (1..=64).contains(n)),
            udp_rate_mbps: get(s, "udp_rate_mbps", iface)
                .and_then(|x| x.parse().ok())
                .filter(|r: &f64| r.is_finite() && *r > 0.0),
            udp_max_loss_percent: f("udp_max_loss_percent", DEFAULT_UDP_MAX_LOSS_PERCENT),
            udp_max_jitter_ms: f("udp_max_jitter_ms", DEFAULT_UDP_MAX_JITTER_MS),
            latency_p50_ms: f("latency_p50_ms", DEFAULT_LATENCY_P50_MS),
            latency_p99_ms: f("latency_p99_ms", DEFAULT_LATENCY_P99_MS),
            ping_count: parse_or(get(s, "ping_count", iface), DEFAULT_PING_COUNT).clamp(1, 100_000),
            jumbo_mtu: get(s, "jumbo_mtu", iface)
                .and_then(|x| x.parse().ok())
                .filter(|m| (1280..=65_535).contains(m)),
            jumbo_throughput: get(s, "jumbo_throughput", iface) == Some("true"),
            link_flap: get(s, "link_flap", iface) == Some("true"),
        }
    }

    /// Parallel streams for a link of `speed_mbps`.
    pub fn streams_for(&self, speed_mbps: u64) -> u32 {
        self.streams
            .unwrap_or_else(|| speed_mbps.div_ceil(MBPS_PER_STREAM).clamp(1, 64) as u32)
    }

    /// The UDP target rate for a link of `speed_mbps`.
    pub fn udp_rate_for(&self, speed_mbps: u64) -> f64 {
        self.udp_rate_mbps
            .unwrap_or_else(|| (speed_mbps as f64 / 10.0).clamp(1.0, 1000.0))
    }
}

/// The interfaces the profile names (`network.interfaces`, comma-separated).
pub fn named_interfaces(s: &BTreeMap<String, String>) -> Option<Vec<String>> {
    s.get("network.interfaces").map(|v| {
        v.split(',')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(str::to_string)
            .collect()
    })
}

/// Whether any peer is configured (a default or one interface's).
pub fn any_peer(s: &BTreeMap<String, String>) -> bool {
    s.keys()
        .any(|k| k == "network.peer" || k.starts_with("network.peer."))
}

/// How to configure a peer: the reason of a case that is not planned without one.
pub const NO_PEER: &str = "no network peer configured: set network_peer = \"ADDRESS\" in the \
     profile (or network_peer = { default = \"ADDRESS\", eth1 = \"ADDRESS\" } per interface), \
     and run `hwcert peer --allow THIS-MACHINE'S-ADDRESS` on the peer machine";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_interface_wins() {
        let s: BTreeMap<String, String> = [
            ("network.peer", "192.0.2.2"),
            ("network.peer.eth1", "198.51.100.2"),
            ("network.threshold", "70"),
            ("network.threshold.eth1", "95"),
            ("network.interfaces", "eth0, eth1,"),
            ("network.streams", "garbage"),
            ("network.jumbo_mtu", "9000"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let e0 = NetSettings::for_interface(&s, "eth0");
        let e1 = NetSettings::for_interface(&s, "eth1");
        assert_eq!(e0.peer.as_deref(), Some("192.0.2.2"));
        assert_eq!(e1.peer.as_deref(), Some("198.51.100.2"));
        assert_eq!((e0.threshold_percent, e1.threshold_percent), (70.0, 95.0));
        assert_eq!(e0.streams, None, "garbage is the default");
        assert_eq!(e0.streams_for(25_000), 3);
        assert_eq!(e0.streams_for(1_000), 1);
        assert_eq!(e0.udp_rate_for(10_000), 1000.0);
        assert_eq!(e0.udp_rate_for(100), 10.0);
        assert_eq!(e0.jumbo_mtu, Some(9000));
        assert!(!e0.link_flap);
        assert_eq!(named_interfaces(&s).expect("named"), ["eth0", "eth1"]);
        assert!(any_peer(&s));
        let empty = BTreeMap::new();
        let d = NetSettings::for_interface(&empty, "eth0");
        assert_eq!(d.peer, None);
        assert_eq!(d.threshold_percent, DEFAULT_THRESHOLD_PERCENT);
        assert!(!any_peer(&empty));
        assert_eq!(named_interfaces(&empty), None);
    }
}
