//! What iproute2 and ping print, parsed: the route to the peer (`ip route get ADDR`) and the
//! round trips of `ping` (per-reply lines, so percentiles are the replies' own).

/// The route `ip route get` chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The interface the packets leave by.
    pub dev: String,
    /// The source address the kernel picks.
    pub src: Option<String>,
    /// The next hop, when not on-link.
    pub via: Option<String>,
}

/// Parse `ip route get ADDR` ("192.0.2.2 dev eth1 src 192.0.2.1 uid 0 \n    cache").
/// `None` when no `dev` is named (garbage, empty, "RTNETLINK answers: Network is unreachable").
pub fn parse_route(out: &str) -> Option<Route> {
    let first = out.lines().find(|l| !l.trim().is_empty())?;
    let words: Vec<&str> = first.split_whitespace().collect();
    let after = |key: &str| {
        words
            .windows(2)
            .find(|w| w[0] == key)
            .map(|w| w[1].to_string())
    };
    let dev = after("dev")?;
    if dev.is_empty() || dev.len() >= 16 {
        return None;
    }
    Some(Route {
        dev,
        src: after("src"),
        via: after("via"),
    })
}

/// What ping measured.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Pings {
    pub transmitted: u64,
    pub received: u64,
    /// Each reply's round trip, in ms, in the order received.
    pub rtts_ms: Vec<f64>,
}

impl Pings {
    /// Loss in percent of the echo requests sent.
    pub fn loss_percent(&self) -> f64 {
        if self.transmitted == 0 {
            return 100.0;
        }
        100.0 * (self.transmitted.saturating_sub(self.received)) as f64 / self.transmitted as f64
    }
}

/// Parse iputils ping's output: reply lines (`… time=0.047 ms`) and the statistics line
/// (`20 packets transmitted, 20 received, …`). `None` without the statistics line (ping
/// killed, or not ping).
pub fn parse_ping(out: &str) -> Option<Pings> {
    let mut p = Pings::default();
    let mut stats = false;
    for line in out.lines() {
        if let Some(i) = line.find(" time=") {
            let rest = &line[i + 6..];
            let v = rest.split_whitespace().next().unwrap_or("");
            let ms = match rest.split_whitespace().nth(1) {
                Some("s") => v.parse::<f64>().ok().map(|x| x * 1000.0),
                Some("us") | Some("µs") => v.parse::<f64>().ok().map(|x| x / 1000.0),
                _ => v.parse::<f64>().ok(),
            };
            if let Some(ms) = ms.filter(|m| m.is_finite() && *m >= 0.0) {
                p.rtts_ms.push(ms);
            }
        } else if line.contains("packets transmitted") {
            let nums: Vec<u64> = line
                .split(',')
                .filter_map(|part| part.split_whitespace().next()?.parse().ok())
                .collect();
            if nums.len() >= 2 {
                p.transmitted = nums[0];
                p.received = nums[1];
                stats = true;
            }
        }
    }
    stats.then_some(p)
}

/// The `q`-quantile (0..=1) of `values` by the nearest-rank method; `None` when empty.
pub fn percentile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = (q * v.len() as f64).ceil().max(1.0) as usize;
    v.get(rank.min(v.len()) - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let r = parse_route("192.0.2.2 dev va src 192.0.2.1 uid 0 \n    cache \n").expect("route");
        assert_eq!(r.dev, "va");
        assert_eq!(r.src.as_deref(), Some("192.0.2.1"));
        let r = parse_route("198.51.100.7 via 192.0.2.254 dev eth0 src 192.0.2.1 uid 0\n")
            .expect("route");
        assert_eq!(
            (r.dev.as_str(), r.via.as_deref()),
            ("eth0", Some("192.0.2.254"))
        );
        assert_eq!(parse_route(""), None);
        assert_eq!(
            parse_route("RTNETLINK answers: Network is unreachable\n"),
            None
        );
        assert_eq!(parse_route("192.0.2.2 dev"), None, "truncated");
        assert_eq!(parse_route("\u{0}\u{1}garbage"), None);
    }

    #[test]
    fn pings() {
        let out = "PING 192.0.2.2 (192.0.2.2) 56(84) bytes of data.\n\
            64 bytes from 192.0.2.2: icmp_seq=1 ttl=64 time=0.047 ms\n\
            64 bytes from 192.0.2.2: icmp_seq=2 ttl=64 time=1.50 ms\n\
            64 bytes from 192.0.2.2: icmp_seq=3 ttl=64 time=12 ms\n\n\
            --- 192.0.2.2 ping statistics ---\n\
            4 packets transmitted, 3 received, 25% packet loss, time 3004ms\n\
            rtt min/avg/max/mdev = 0.047/4.5/12/5.3 ms\n";
        let p = parse_ping(out).expect("stats");
        assert_eq!((p.transmitted, p.received), (4, 3));
        assert_eq!(p.rtts_ms, [0.047, 1.5, 12.0]);
        assert_eq!(p.loss_percent(), 25.0);
        assert_eq!(percentile(&p.rtts_ms, 0.5), Some(1.5));
        assert_eq!(percentile(&p.rtts_ms, 0.99), Some(12.0));
        assert_eq!(percentile(&[], 0.5), None);
        // Killed before the statistics: nothing to judge.
        assert_eq!(parse_ping(&out[..200]), None);
        assert_eq!(parse_ping(""), None);
        assert_eq!(parse_ping("garbage time=x ms\n"), None);
        let none =
            parse_ping("3 packets transmitted, 0 received, 100% packet loss\n").expect("stats");
        assert_eq!(none.loss_percent(), 100.0);
        assert!(none.rtts_ms.is_empty());
    }
}
