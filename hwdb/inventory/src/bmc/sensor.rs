//! `ipmitool sensor`: the threshold table, one sensor a line,
//! `name | reading | unit | status | lnr | lcr | lnc | unc | ucr | unr`.
//!
//! The status is the BMC's: `ok`, `nc` (non-critical), `cr` (critical), `nr`
//! (non-recoverable), `na`/`ns` (no reading: absent, disabled), or a discrete sensor's state
//! bits (`0x0180`). [`Sensor::judge`] gives the verdict on one sensor from the status and from
//! the reading against the critical thresholds (beyond them, not at them: Supermicro prints 0.000 for
//! lower thresholds it does not have), ignoring thresholds that contradict the others
//! (some BMCs print an upper non-recoverable of 0.000 above an upper critical of 75.000).

/// A sensor's reading.
#[derive(Debug, Clone, PartialEq)]
pub enum Reading {
    /// An analog reading ("45.000").
    Value(f64),
    /// A discrete sensor's raw value ("0x0").
    Discrete(String),
    /// No reading ("na").
    None,
}

/// One line of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Sensor {
    pub name: String,
    pub reading: Reading,
    /// "degrees C", "RPM", "Volts", "discrete", or empty.
    pub unit: String,
    /// The BMC's status column.
    pub status: String,
    /// Lower non-recoverable, lower critical, lower non-critical, upper non-critical, upper
    /// critical, upper non-recoverable: `None` where "na".
    pub lnr: Option<f64>,
    pub lcr: Option<f64>,
    pub lnc: Option<f64>,
    pub unc: Option<f64>,
    pub ucr: Option<f64>,
    pub unr: Option<f64>,
}

/// What one sensor means for the machine.
#[derive(Debug, Clone, PartialEq)]
pub enum Judgement {
    Ok,
    /// No reading, or a discrete sensor (its bits are the vendor's): not judged.
    NotJudged,
    /// Non-critical: a warning.
    Warning(String),
    /// Critical or non-recoverable: a failure.
    Critical(String),
}

/// The table, and the lines that were not sensors.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SensorTable {
    pub sensors: Vec<Sensor>,
    /// Lines that are not `name | reading | unit | status | …` (escaped for printing).
    pub skipped: Vec<String>,
}

fn number(s: &str) -> Option<f64> {
    let v: f64 = s.trim().parse().ok()?;
    v.is_finite().then_some(v)
}

/// Understand `ipmitool sensor` (also `ipmitool sensor list`, the same table).
pub fn parse_sensors(text: &str) -> Result<SensorTable, String> {
    let mut t = SensorTable::default();
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('|').map(str::trim).collect();
        if f.len() < 4 || f[0].is_empty() {
            t.skipped
                .push(hwsys::text::escape_controls(line.trim()).into_owned());
            continue;
        }
        let reading = match f[1] {
            "" | "na" => Reading::None,
            r => match number(r) {
                Some(v) => Reading::Value(v),
                None if r.starts_with("0x") => Reading::Discrete(r.to_string()),
                None => {
                    t.skipped
                        .push(hwsys::text::escape_controls(line.trim()).into_owned());
                    continue;
                }
            },
        };
        let th = |i: usize| f.get(i).and_then(|s| number(s));
        t.sensors.push(Sensor {
            name: hwsys::text::escape_controls(f[0]).into_owned(),
            reading,
            unit: hwsys::text::escape_controls(f[2]).into_owned(),
            status: hwsys::text::escape_controls(f[3]).into_owned(),
            lnr: th(4),
            lcr: th(5),
            lnc: th(6),
            unc: th(7),
            ucr: th(8),
            unr: th(9),
        });
    }
    if t.sensors.is_empty() {
        return Err(if t.skipped.is_empty() {
            "ipmitool sensor printed no sensor".to_string()
        } else {
            format!(
                "not ipmitool sensor output: none of its {} lines is \"name | reading | unit | \
                 status | thresholds…\" (first: {})",
                t.skipped.len(),
                t.skipped[0].chars().take(80).collect::<String>()
            )
        });
    }
    Ok(t)
}

fn fmt(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

impl Sensor {
    /// "45 degrees C".
    pub fn reading_text(&self) -> String {
        match &self.reading {
            Reading::Value(v) => format!("{} {}", fmt(*v), self.unit).trim().to_string(),
            Reading::Discrete(d) => d.clone(),
            Reading::None => "no reading".into(),
        }
    }

    /// An upper threshold counts only if it is not below the ones under it, a lower one only
    /// if it is not above the ones over it.
    fn upper(&self) -> [(Option<f64>, &'static str); 2] {
        let ucr = self.ucr.filter(|c| self.unc.is_none_or(|n| *c >= n));
        let unr = self
            .unr
            .filter(|r| ucr.or(self.unc).is_none_or(|c| *r >= c));
        [(ucr, "upper critical"), (unr, "upper non-recoverable")]
    }

    fn lower(&self) -> [(Option<f64>, &'static str); 2] {
        let lcr = self.lcr.filter(|c| self.lnc.is_none_or(|n| *c <= n));
        let lnr = self
            .lnr
            .filter(|r| lcr.or(self.lnc).is_none_or(|c| *r <= c));
        [(lcr, "lower critical"), (lnr, "lower non-recoverable")]
    }

    /// The verdict on this sensor (see the module's comment).
    pub fn judge(&self) -> Judgement {
        // ipmitool's extended listing names the side: lnr/unr, lcr/ucr, lnc/unc.
        let status = match self.status.to_ascii_lowercase().as_str() {
            "lnr" | "unr" => "nr".to_string(),
            "lcr" | "ucr" => "cr".to_string(),
            "lnc" | "unc" => "nc".to_string(),
            s => s.to_string(),
        };
        let Reading::Value(v) = self.reading else {
            return match status.as_str() {
                "cr" | "nr" => Judgement::Critical(format!(
                    "{}: status {} ({})",
                    self.name,
                    self.status,
                    self.reading_text()
                )),
                _ => Judgement::NotJudged,
            };
        };
        let value = self.reading_text();
        for (t, what) in self.upper() {
            if let Some(t) = t {
                if v > t {
                    return Judgement::Critical(format!(
                        "{}: {value} is above its {what} threshold {}",
                        self.name,
                        fmt(t)
                    ));
                }
            }
        }
        for (t, what) in self.lower() {
            if let Some(t) = t {
                if v < t {
                    return Judgement::Critical(format!(
                        "{}: {value} is below its {what} threshold {}",
                        self.name,
                        fmt(t)
                    ));
                }
            }
        }
        match status.as_str() {
            "cr" | "nr" => Judgement::Critical(format!(
                "{}: {value}, status {} ({})",
                self.name,
                self.status,
                if status == "cr" {
                    "critical"
                } else {
                    "non-recoverable"
                }
            )),
            "nc" => Judgement::Warning(format!("{}: {value}, status nc (non-critical)", self.name)),
            _ => Judgement::Ok,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> Sensor {
        parse_sensors(line).expect("a sensor").sensors.remove(0)
    }

    #[test]
    fn statuses_and_thresholds() {
        let ok = one("Inlet Temp       | 21.000     | degrees C  | ok    | na        | -7.000    | 3.000     | 38.000    | 42.000    | na");
        assert_eq!(ok.judge(), Judgement::Ok);
        assert_eq!(ok.lcr, Some(-7.0));
        let hot = one("Inlet Temp       | 43.000     | degrees C  | ok    | na        | -7.000    | 3.000     | 38.000    | 42.000    | na");
        match hot.judge() {
            Judgement::Critical(m) => assert_eq!(
                m,
                "Inlet Temp: 43 degrees C is above its upper critical threshold 42"
            ),
            j => panic!("{j:?}"),
        }
        let nc = one("Fan2A | 0.000 | RPM | nc | 840.000 | 1080.00 | na | na | na | na");
        // 0 RPM is below the lower critical 1080 → critical, whatever the status says.
        assert!(
            matches!(nc.judge(), Judgement::Critical(_)),
            "{:?}",
            nc.judge()
        );
        let warn =
            one("CPU0 Temp | 92.000 | degrees C | nc | na | 0.000 | 5.000 | 90.000 | 95.000 | na");
        assert!(matches!(warn.judge(), Judgement::Warning(_)));
        let cr = one("Power_Meter | 236.000 | Watts | cr | na | na | na | na | na | na");
        assert!(matches!(cr.judge(), Judgement::Critical(m) if m.contains("status cr")));
        let absent = one("GPU1 Temp        | na         |            | na    | na        | na        | na        | na        | na        | na");
        assert_eq!(absent.judge(), Judgement::NotJudged);
        let discrete = one("PS1 Status       | 0x1        | discrete   | 0x0100| na        | na        | na        | na        | na        | na");
        assert_eq!(discrete.judge(), Judgement::NotJudged);
    }

    #[test]
    fn contradicting_thresholds_are_ignored() {
        // HPE iLO prints an upper non-recoverable of 0.000 for its SFP28 sensors.
        let s = one("15.2-PCI 1-SFP28 | 41.000     | degrees C  | ok    | na        | na        | na        | 73.000    | 78.000    | 0.000");
        assert_eq!(s.judge(), Judgement::Ok);
    }

    #[test]
    fn garbage_empty_and_truncated() {
        assert!(parse_sensors("")
            .expect_err("an error")
            .contains("no sensor"));
        let e = parse_sensors("Error: Unable to establish IPMI v2 / RMCP+ session\n")
            .expect_err("an error");
        assert!(e.contains("not ipmitool sensor output"), "{e}");
        // A line cut after its status keeps what it has; a cut inside the reading is skipped.
        let t = parse_sensors("CPU Temp | 45.000 | degrees C | ok\nFAN1 | 36x").expect("one");
        assert_eq!(t.sensors.len(), 1);
        assert_eq!(t.sensors[0].ucr, None);
        assert_eq!(t.skipped, vec!["FAN1 | 36x".to_string()]);
    }
}
