//! iperf3's JSON report (`iperf3 -J`, 3.x): the figures the traffic cases judge.
//!
//! The receiver's figure is what crossed the link (`end.sum_received`); a reverse (`-R`) run
//! reports the same keys from the client's side. `--bidir` adds `sum_received_bidir_reverse`.
//! UDP runs carry loss and jitter in `end.sum` (the server's counts, sent back at the end).
//! A report whose `error` is set, or that lacks the figures, is an error, never a zero that
//! could be judged.

use serde_json::Value;

/// What one iperf3 run measured.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    /// iperf3's version line ("iperf 3.12").
    pub version: Option<String>,
    /// Bits per second the receiver got, in the run's direction (client to server, or server
    /// to client with `-R`).
    pub received_bps: f64,
    /// Bits per second the sender sent.
    pub sent_bps: f64,
    /// `--bidir`: bits per second received in the other direction.
    pub reverse_received_bps: Option<f64>,
    /// TCP retransmissions of the sender, when reported.
    pub retransmits: Option<u64>,
    /// CPU load of this host and of the peer during the run (percent of all CPUs).
    pub cpu_local_percent: Option<f64>,
    pub cpu_remote_percent: Option<f64>,
    /// UDP: datagrams lost, of how many, the loss in percent and the jitter in ms.
    pub lost_packets: Option<u64>,
    pub packets: Option<u64>,
    pub lost_percent: Option<f64>,
    pub jitter_ms: Option<f64>,
    /// The address the peer saw us connect from, and the local one.
    pub local_host: Option<String>,
    pub remote_host: Option<String>,
}

/// Why a report says nothing usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Not JSON (truncated, garbage, empty).
    NotJson(String),
    /// iperf3 said why it failed (`"error": "unable to connect to server: …"`).
    Iperf(String),
    /// JSON, but without the figures (`end.sum_received.bits_per_second` …).
    Missing(&'static str),
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParseError::NotJson(e) => write!(f, "iperf3 printed no JSON report ({e})"),
            ParseError::Iperf(e) => write!(f, "iperf3: {e}"),
            ParseError::Missing(what) => write!(f, "iperf3's report has no {what}"),
        }
    }
}

fn num(v: &Value, path: &[&str]) -> Option<f64> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_f64().filter(|x| x.is_finite() && *x >= 0.0)
}

fn text(v: &Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str()
        .map(|s| hwsys::text::escape_controls(s).to_string())
}

/// Parse one `iperf3 -J` report; `udp` says whether it was a UDP run.
pub fn parse(json: &str, udp: bool) -> Result<Report, ParseError> {
    let v: Value = serde_json::from_str(json.trim()).map_err(|e| {
        let mut s = e.to_string();
        s.truncate(120);
        ParseError::NotJson(s)
    })?;
    if !v.is_object() {
        return Err(ParseError::NotJson("not a JSON object".into()));
    }
    if let Some(e) = text(&v, &["error"]) {
        return Err(ParseError::Iperf(e));
    }
    let end = v.get("end").ok_or(ParseError::Missing("\"end\" section"))?;
    let mut r = Report {
        version: text(&v, &["start", "version"]),
        local_host: v
            .pointer("/start/connected/0/local_host")
            .and_then(Value::as_str)
            .map(|s| hwsys::text::escape_controls(s).to_string()),
        remote_host: v
            .pointer("/start/connected/0/remote_host")
            .and_then(Value::as_str)
            .map(|s| hwsys::text::escape_controls(s).to_string()),
        cpu_local_percent: num(end, &["cpu_utilization_percent", "host_total"]),
        cpu_remote_percent: num(end, &["cpu_utilization_percent", "remote_total"]),
        ..Report::default()
    };
    if udp {
        let sum = end
            .get("sum")
            .ok_or(ParseError::Missing("UDP \"end.sum\""))?;
        r.sent_bps = num(end, &["sum_sent", "bits_per_second"])
            .or_else(|| num(sum, &["bits_per_second"]))
            .ok_or(ParseError::Missing("UDP bits_per_second"))?;
        r.received_bps = num(end, &["sum_received", "bits_per_second"]).unwrap_or(r.sent_bps);
        r.lost_percent =
            Some(num(sum, &["lost_percent"]).ok_or(ParseError::Missing("UDP \"lost_percent\""))?);
        r.jitter_ms =
            Some(num(sum, &["jitter_ms"]).ok_or(ParseError::Missing("UDP \"jitter_ms\""))?);
        r.lost_packets = num(sum, &["lost_packets"]).map(|x| x as u64);
        r.packets = num(sum, &["packets"]).map(|x| x as u64);
        if r.packets == Some(0) {
            return Err(ParseError::Missing("UDP datagrams (0 packets)"));
        }
    } else {
        r.received_bps = num(end, &["sum_received", "bits_per_second"])
            .ok_or(ParseError::Missing("\"end.sum_received.bits_per_second\""))?;
        r.sent_bps = num(end, &["sum_sent", "bits_per_second"])
            .ok_or(ParseError::Missing("\"end.sum_sent.bits_per_second\""))?;
        r.retransmits = num(end, &["sum_sent", "retransmits"]).map(|x| x as u64);
        r.reverse_received_bps = num(end, &["sum_received_bidir_reverse", "bits_per_second"]);
        let secs = num(end, &["sum_received", "seconds"]).unwrap_or(0.0);
        if secs <= 0.0 {
            return Err(ParseError::Missing("measured interval (0 seconds)"));
        }
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_errors() {
        assert!(matches!(parse("", false), Err(ParseError::NotJson(_))));
        assert!(matches!(
            parse("{\"start\":", false),
            Err(ParseError::NotJson(_))
        ));
        assert!(matches!(parse("[1,2]", false), Err(ParseError::NotJson(_))));
        assert!(matches!(
            parse("{\"error\":\"unable to connect\"}", false),
            Err(ParseError::Iperf(_))
        ));
        assert_eq!(
            parse("{}", false),
            Err(ParseError::Missing("\"end\" section"))
        );
        assert!(matches!(
            parse(
                "{\"end\":{\"sum_received\":{\"bits_per_second\":-1}}}",
                false
            ),
            Err(ParseError::Missing(_))
        ));
        assert!(matches!(
            parse("{\"end\":{\"sum\":{\"packets\":0,\"lost_percent\":0,\"jitter_ms\":0,\"bits_per_second\":1}}}", true),
            Err(ParseError::Missing(_))
        ));
    }
}
