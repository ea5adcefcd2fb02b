//! What a tool's parser gives, and the small readings every parser shares.

use super::model::Details;

/// One tool's output, understood.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    /// The driver version, machine-wide.
    pub driver_version: Option<String>,
    /// Each device: its PCI address ("0000:3b:00.0", when the tool gave one) and details.
    pub devices: Vec<(Option<String>, Details)>,
    /// The device count the tool states on its own ("attached_gpus"), when it does.
    pub reported: Option<u32>,
}

/// A bus ID as tools write it ("00000000:3B:00.0", "0000:c1:00.0", "3b:00.0") in the
/// inventory's form ("0000:3b:00.0"); `None` when it is not one.
pub fn bus_id(s: &str) -> Option<String> {
    let s = s.trim().to_ascii_lowercase();
    let parts: Vec<&str> = s.split(':').collect();
    let (dom, bus, devfn) = match parts.as_slice() {
        [d, b, df] => (*d, *b, *df),
        [b, df] => ("0", *b, *df),
        _ => return None,
    };
    let (dev, func) = devfn.split_once('.')?;
    let hex = |t: &str, max: u32| {
        (!t.is_empty() && t.len() <= 8)
            .then(|| u32::from_str_radix(t, 16).ok())
            .flatten()
            .filter(|v| *v <= max)
    };
    let dom = hex(dom, 0xffff)?;
    let bus = hex(bus, 0xff)?;
    let dev = hex(dev, 0x1f)?;
    let func = hex(func, 7)?;
    Some(format!("{dom:04x}:{bus:02x}:{dev:02x}.{func:x}"))
}

/// The number a value starts with ("232.80 W" → 232.8, "45 C" → 45).
pub fn lead_f64(s: &str) -> Option<f64> {
    let t = s.trim();
    let end = t
        .char_indices()
        .find(|(i, c)| !(c.is_ascii_digit() || *c == '.' || (*i == 0 && (*c == '-' || *c == '+'))))
        .map(|(i, _)| i)
        .unwrap_or(t.len());
    t[..end].parse::<f64>().ok().filter(|v| v.is_finite())
}

/// The whole number a value starts with ("81920 MiB" → 81920, "16x" → 16).
pub fn lead_u64(s: &str) -> Option<u64> {
    let t = s.trim();
    let end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    t[..end].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bus_ids() {
        assert_eq!(bus_id("00000000:3B:00.0").as_deref(), Some("0000:3b:00.0"));
        assert_eq!(bus_id("0000:C1:00.0").as_deref(), Some("0000:c1:00.0"));
        assert_eq!(bus_id("3b:00.1").as_deref(), Some("0000:3b:00.1"));
        for bad in [
            "",
            "N/A",
            "0000:3b:00",
            "0000:3b:20.0",
            "0000:3b:00.8",
            "zz:00.0",
            "1:2:3:4.0",
        ] {
            assert_eq!(bus_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(lead_f64("232.80 W"), Some(232.8));
        assert_eq!(lead_f64("-5 C"), Some(-5.0));
        assert_eq!(lead_f64("N/A"), None);
        assert_eq!(lead_u64("16x"), Some(16));
        assert_eq!(lead_u64("81920 MiB"), Some(81920));
        assert_eq!(lead_u64("x16"), None);
    }
}
