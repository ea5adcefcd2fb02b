//! SATA and SAS disk health from `smartctl -H -A -j` (smartmontools 7.0 or later).

use serde_json::Value;

/// What a `smartctl -H -A -j` run says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SmartReport {
    /// The overall health self-assessment (`smart_status.passed`).
    pub passed: Option<bool>,
    /// smartctl's exit status bits.
    pub exit_status: Option<u64>,
    /// `temperature.current`, °C.
    pub temperature: Option<f64>,
    /// `power_on_time.hours`.
    pub power_on_hours: Option<f64>,
    /// ATA attributes at or below their threshold now ("5 Reallocated_Sector_Ct").
    pub failing_now: Vec<String>,
    /// ATA attributes that were at or below their threshold in the past.
    pub failed_past: Vec<String>,
    /// Counters worth reporting: (measurement name, value).
    pub counters: Vec<(String, f64)>,
    /// smartctl's own messages (errors and warnings).
    pub messages: Vec<String>,
}

/// ATA attributes reported as measurements: id → name.
const ATA_COUNTERS: &[(u64, &str)] = &[
    (5, "reallocated_sectors"),
    (187, "reported_uncorrectable"),
    (197, "pending_sectors"),
    (198, "offline_uncorrectable"),
    (199, "udma_crc_errors"),
];

/// Parse smartctl's JSON.
pub fn parse(json: &str) -> Result<SmartReport, String> {
    let v: Value = serde_json::from_str(json).map_err(|e| {
        format!("smartctl printed no JSON ({e}): smartmontools 7.0 or later is needed for -j")
    })?;
    if !v.is_object() {
        return Err("smartctl's JSON is not an object".into());
    }
    let mut r = SmartReport {
        passed: v.pointer("/smart_status/passed").and_then(Value::as_bool),
        exit_status: v.pointer("/smartctl/exit_status").and_then(Value::as_u64),
        temperature: v.pointer("/temperature/current").and_then(Value::as_f64),
        power_on_hours: v.pointer("/power_on_time/hours").and_then(Value::as_f64),
        ..SmartReport::default()
    };
    if let Some(msgs) = v.pointer("/smartctl/messages").and_then(Value::as_array) {
        for m in msgs {
            if let Some(s) = m.get("string").and_then(Value::as_str) {
                let sev = m.get("severity").and_then(Value::as_str).unwrap_or("info");
                r.messages.push(format!("{sev}: {s}"));
            }
        }
    }
    if let Some(table) = v
        .pointer("/ata_smart_attributes/table")
        .and_then(Value::as_array)
    {
        for a in table {
            let id = a.get("id").and_then(Value::as_u64).unwrap_or(0);
            let name = a.get("name").and_then(Value::as_str).unwrap_or("?");
            let what = format!("{id} {name}");
            match a.get("when_failed").and_then(Value::as_str) {
                Some("now") => r.failing_now.push(what),
                Some("past") => r.failed_past.push(what),
                _ => {}
            }
            if let Some((_, m)) = ATA_COUNTERS.iter().find(|(i, _)| *i == id) {
                if let Some(raw) = a.pointer("/raw/value").and_then(Value::as_f64) {
                    r.counters.push((m.to_string(), raw));
                }
            }
        }
    }
    if let Some(g) = v.get("scsi_grown_defect_list").and_then(Value::as_f64) {
        r.counters.push(("grown_defects".into(), g));
    }
    for op in ["read", "write", "verify"] {
        if let Some(n) = v
            .pointer(&format!(
                "/scsi_error_counter_log/{op}/total_uncorrected_errors"
            ))
            .and_then(Value::as_f64)
        {
            r.counters.push((format!("{op}_uncorrected_errors"), n));
        }
    }
    Ok(r)
}

/// The judgement: `Ok(())` for healthy, `Err((expected, measured))` for a failing disk.
/// A run that could not read the disk at all is `Err` in the outer result (an error of the
/// check, not of the disk).
pub fn judge(r: &SmartReport) -> Result<Result<(), (String, String)>, String> {
    let status = r.exit_status.unwrap_or(0);
    if r.passed.is_none() && status & 0b11 != 0 {
        let why = if r.messages.is_empty() {
            format!("exit status {status}")
        } else {
            r.messages.join("; ")
        };
        return Err(format!("smartctl could not read the disk: {why}"));
    }
    let mut bad = Vec::new();
    if r.passed == Some(false) || status & (1 << 3) != 0 {
        bad.push("the SMART overall health self-assessment says FAILING".to_string());
    }
    if !r.failing_now.is_empty() {
        bad.push(format!(
            "attributes at or below threshold now: {}",
            r.failing_now.join(", ")
        ));
    }
    if r.passed.is_none() && bad.is_empty() {
        return Err(format!(
            "smartctl reported no health status{}",
            if r.messages.is_empty() {
                String::new()
            } else {
                format!(": {}", r.messages.join("; "))
            }
        ));
    }
    if bad.is_empty() {
        Ok(Ok(()))
    } else {
        Ok(Err((
            "SMART health PASSED, no attribute at or below its threshold".into(),
            bad.join("; "),
        )))
    }
}

/// `smartctl` on PATH (or in the sbin directories root's PATH usually has).
pub fn find_smartctl() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(
            ["/usr/sbin", "/sbin", "/usr/local/sbin"]
                .iter()
                .map(std::path::PathBuf::from),
        )
        .map(|d| d.join("smartctl"))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ATA_OK: &str = r#"{
      "json_format_version": [1, 0],
      "smartctl": {"version": [7, 3], "exit_status": 0},
      "device": {"name": "/dev/sda", "type": "sat", "protocol": "ATA"},
      "smart_status": {"passed": true},
      "ata_smart_attributes": {"revision": 16, "table": [
        {"id": 5, "name": "Reallocated_Sector_Ct", "value": 100, "worst": 100, "thresh": 10,
         "when_failed": "", "raw": {"value": 0, "string": "0"}},
        {"id": 9, "name": "Power_On_Hours", "value": 99, "worst": 99, "thresh": 0,
         "when_failed": "", "raw": {"value": 1234, "string": "1234"}},
        {"id": 194, "name": "Temperature_Celsius", "value": 70, "worst": 55, "thresh": 0,
         "when_failed": "past", "raw": {"value": 30, "string": "30"}},
        {"id": 197, "name": "Current_Pending_Sector", "value": 100, "worst": 100, "thresh": 0,
         "when_failed": "", "raw": {"value": 0, "string": "0"}}
      ]},
      "power_on_time": {"hours": 1234},
      "temperature": {"current": 30}
    }"#;

    #[test]
    fn healthy_ata_disk() {
        let r = parse(ATA_OK).expect("json");
        assert_eq!(r.passed, Some(true));
        assert_eq!(r.temperature, Some(30.0));
        assert_eq!(r.power_on_hours, Some(1234.0));
        assert_eq!(r.failed_past, ["194 Temperature_Celsius"]);
        assert_eq!(
            r.counters,
            [
                ("reallocated_sectors".to_string(), 0.0),
                ("pending_sectors".to_string(), 0.0)
            ]
        );
        assert_eq!(judge(&r), Ok(Ok(())));
    }

    #[test]
    fn failing_ata_disk() {
        let j = ATA_OK
            .replace(r#""passed": true"#, r#""passed": false"#)
            .replace(r#""exit_status": 0"#, r#""exit_status": 24"#)
            .replace(
                r#""thresh": 10,
         "when_failed": """#,
                r#""thresh": 10,
         "when_failed": "now""#,
            );
        let r = parse(&j).expect("json");
        assert_eq!(r.failing_now, ["5 Reallocated_Sector_Ct"]);
        let (_, measured) = judge(&r).expect("judged").expect_err("failing");
        assert!(measured.contains("FAILING"), "{measured}");
        assert!(measured.contains("5 Reallocated_Sector_Ct"), "{measured}");
    }

    #[test]
    fn sas_disk() {
        let r = parse(
            r#"{"smartctl": {"exit_status": 0}, "smart_status": {"passed": true, "scsi": {"asc": 0}},
                "scsi_grown_defect_list": 2,
                "scsi_error_counter_log": {"read": {"total_uncorrected_errors": 0},
                                           "write": {"total_uncorrected_errors": 1}},
                "temperature": {"current": 41}}"#,
        )
        .expect("json");
        assert_eq!(
            r.counters,
            [
                ("grown_defects".to_string(), 2.0),
                ("read_uncorrected_errors".to_string(), 0.0),
                ("write_uncorrected_errors".to_string(), 1.0)
            ]
        );
        assert_eq!(judge(&r), Ok(Ok(())));
    }

    #[test]
    fn unreadable_disk_and_garbage() {
        let r = parse(
            r#"{"smartctl": {"exit_status": 2, "messages": [{"string": "Smartctl open device: /dev/sdz failed: No such device", "severity": "error"}]}}"#,
        )
        .expect("json");
        let e = judge(&r).expect_err("error of the check");
        assert!(e.contains("No such device"), "{e}");
        assert!(parse("").is_err());
        assert!(parse("smartctl 6.6 2017-11-05\n").is_err());
        assert!(parse("[1,2]").is_err());
        let r = parse(r#"{"smart_status": "garbage", "ata_smart_attributes": {"table": [1, {"id": "x"}, {"raw": null}]}}"#)
            .expect("odd but JSON");
        assert!(judge(&r).is_err(), "no status at all");
    }
}
