//! Durations as people write them in profiles (`30s`, `5m`, `1h30m`, `90`) and as hwcert prints
//! them.

/// The longest duration a profile may give (30 days): anything longer is a typo.
pub const MAX_SECONDS: u64 = 30 * 24 * 3600;

/// Parse `30s`, `5m`, `1h30m`, `2h`, `1h 30m 10s` or plain seconds (`90`) into seconds.
pub fn parse_duration(s: &str) -> Result<u64, String> {
    let bad = || format!("\"{s}\" is not a duration (write 30s, 5m, 1h30m or plain seconds)");
    let t = s.trim();
    if t.is_empty() {
        return Err(bad());
    }
    if t.bytes().all(|b| b.is_ascii_digit()) {
        let n: u64 = t.parse().map_err(|_| bad())?;
        return check(n, s);
    }
    let mut total: u64 = 0;
    let mut num = String::new();
    let mut last_unit = u64::MAX;
    for c in t.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        if c == ' ' && num.is_empty() {
            continue;
        }
        let unit = match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return Err(bad()),
        };
        // Each unit once, largest first: "1h30m", never "30m1h" or "5m5m".
        if num.is_empty() || unit >= last_unit {
            return Err(bad());
        }
        last_unit = unit;
        let n: u64 = num.parse().map_err(|_| bad())?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| format!("\"{s}\" is too long (at most 30 days)"))?;
        num.clear();
    }
    if !num.is_empty() {
        return Err(bad());
    }
    check(total, s)
}

fn check(n: u64, s: &str) -> Result<u64, String> {
    if n == 0 {
        Err(format!("\"{s}\": a duration must be more than 0 seconds"))
    } else if n > MAX_SECONDS {
        Err(format!("\"{s}\" is too long (at most 30 days)"))
    } else {
        Ok(n)
    }
}

/// Seconds as hwcert prints them: `<1s`, `45s`, `5m`, `1m30s`, `1h30m`, `2h0m5s`.
pub fn format_duration(secs: f64) -> String {
    if !secs.is_finite() || secs <= 0.0 {
        return "0s".into();
    }
    if secs < 1.0 {
        return "<1s".into();
    }
    let s = secs.round() as u64;
    let (h, m, sec) = (s / 3600, s % 3600 / 60, s % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 || (h > 0 && sec > 0) {
        out.push_str(&format!("{m}m"));
    }
    if sec > 0 || out.is_empty() {
        out.push_str(&format!("{sec}s"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        assert_eq!(parse_duration("30s"), Ok(30));
        assert_eq!(parse_duration("5m"), Ok(300));
        assert_eq!(parse_duration("1h30m"), Ok(5400));
        assert_eq!(parse_duration("1h 30m 10s"), Ok(5410));
        assert_eq!(parse_duration("90"), Ok(90));
        assert_eq!(parse_duration("2h"), Ok(7200));
        for bad in [
            "", "0", "0s", "s", "5x", "30m1h", "5m5m", "1.5h", "-5s", "1d", "31000000", "m5",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
        assert!(parse_duration("99999999999999999999h").is_err());
    }

    #[test]
    fn formats() {
        assert_eq!(format_duration(0.0), "0s");
        assert_eq!(format_duration(0.2), "<1s");
        assert_eq!(format_duration(45.0), "45s");
        assert_eq!(format_duration(300.0), "5m");
        assert_eq!(format_duration(90.0), "1m30s");
        assert_eq!(format_duration(5400.0), "1h30m");
        assert_eq!(format_duration(7205.0), "2h0m5s");
        assert_eq!(format_duration(3600.0), "1h");
    }
}
