//! ipmitool's key/value outputs: `mc info`, `fru print` and `sel info`.
//!
//! Every line of these is `Key   : value` (FRU fields indented under a
//! `FRU Device Description : …` line, `mc info`'s lists indented under their key). A key never
//! holds a colon, a value may (`Board Mfg Date : Mon Jan  1 00:00:00 1996`): a line splits at
//! its first colon. What is not such a line is skipped; an output without the lines that make
//! it what it claims to be is an error that says so.

use serde::{Deserialize, Serialize};

/// What `ipmitool mc info` (IPMI Get Device ID) says about the BMC.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct McInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_revision: Option<String>,
    /// The BMC firmware's major.minor ("2.70", "4.40").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub firmware_revision: Option<String>,
    /// "2.0".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipmi_version: Option<String>,
    /// The IANA enterprise number (674 Dell, 11 HP, 10876 Supermicro, 2011 Huawei, 37945 Inspur).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manufacturer_id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manufacturer_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_name: Option<String>,
    /// The four auxiliary firmware revision bytes ("0x00 0x2d 0x46 0x46"), vendor-defined.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aux_firmware: Vec<String>,
}

impl McInfo {
    /// The firmware for people: "2.70 (aux 0x00 0x2d 0x46 0x46)".
    pub fn firmware(&self) -> Option<String> {
        let f = self.firmware_revision.clone()?;
        if self.aux_firmware.is_empty() {
            Some(f)
        } else {
            Some(format!("{f} (aux {})", self.aux_firmware.join(" ")))
        }
    }
}

/// One FRU device of `ipmitool fru print`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FruDevice {
    /// "Builtin FRU Device (ID 0)".
    pub description: String,
    /// The ID in the description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chassis_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chassis_part: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chassis_serial: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub board_mfg_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub board_manufacturer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub board_product: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub board_serial: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub board_part: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_manufacturer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_part: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_serial: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_asset_tag: Option<String>,
    /// What ipmitool said instead of fields ("Device not present (…)").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl FruDevice {
    /// The identifiers, for redaction.
    pub fn identifiers(&mut self) -> [&mut Option<String>; 4] {
        [
            &mut self.chassis_serial,
            &mut self.board_serial,
            &mut self.product_serial,
            &mut self.product_asset_tag,
        ]
    }

    /// "Huawei RH2288H V3 (part 02311XBK)" for people: the product, else the board.
    pub fn summary(&self) -> Option<String> {
        let (m, n, p) = if self.product_name.is_some() || self.product_manufacturer.is_some() {
            (
                &self.product_manufacturer,
                &self.product_name,
                &self.product_part,
            )
        } else {
            (
                &self.board_manufacturer,
                &self.board_product,
                &self.board_part,
            )
        };
        let name: Vec<&str> = [m.as_deref(), n.as_deref()].into_iter().flatten().collect();
        if name.is_empty() {
            return None;
        }
        let mut s = name.join(" ");
        if let Some(p) = p {
            s.push_str(&format!(" (part {p})"));
        }
        Some(s)
    }
}

/// What `ipmitool sel info` says about the System Event Log.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SelInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// How many entries it holds.
    pub entries: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percent_used: Option<String>,
    /// When the last entry was added, as the BMC prints it ("10/02/2025 22:07:09").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_add_time: Option<String>,
    /// Whether it overflowed (events were dropped or overwrote old ones).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overflow: Option<bool>,
}

/// `Key : value` of one line, trimmed; `None` when the line has no colon or no key.
pub(crate) fn key_value(line: &str) -> Option<(&str, &str)> {
    let (k, v) = line.split_once(':')?;
    let k = k.trim();
    if k.is_empty() {
        return None;
    }
    Some((k, v.trim()))
}

/// A value worth keeping: not empty, not "Not Available"/"N/A".
fn value(v: &str) -> Option<String> {
    let v = hwsys::text::escape_controls(v.trim()).into_owned();
    match v.as_str() {
        "" | "Not Available" | "N/A" | "NA" | "Not Specified" => None,
        _ => Some(v),
    }
}

/// Understand `ipmitool mc info`.
pub fn parse_mc_info(text: &str) -> Result<McInfo, String> {
    let mut mc = McInfo::default();
    let mut known = 0;
    let mut in_aux = false;
    for line in text.lines() {
        let indented = line.starts_with(' ') || line.starts_with('\t');
        if in_aux && indented {
            let b = line.trim();
            if b.starts_with("0x") && b.len() <= 4 && b.len() > 2 {
                mc.aux_firmware.push(b.to_string());
            }
            continue;
        }
        in_aux = false;
        if indented {
            continue;
        }
        let Some((k, v)) = key_value(line) else {
            continue;
        };
        let slot = match k {
            "Device ID" => &mut mc.device_id,
            "Device Revision" => &mut mc.device_revision,
            "Firmware Revision" => &mut mc.firmware_revision,
            "IPMI Version" => &mut mc.ipmi_version,
            "Manufacturer Name" => &mut mc.manufacturer_name,
            "Product ID" => &mut mc.product_id,
            "Product Name" => &mut mc.product_name,
            "Manufacturer ID" => {
                mc.manufacturer_id = v.parse().ok();
                known += usize::from(mc.manufacturer_id.is_some());
                continue;
            }
            "Aux Firmware Rev Info" => {
                in_aux = true;
                continue;
            }
            _ => continue,
        };
        *slot = value(v);
        known += usize::from(slot.is_some());
    }
    if mc.firmware_revision.is_none() && mc.ipmi_version.is_none() && mc.manufacturer_id.is_none() {
        return Err(if text.trim().is_empty() {
            "ipmitool mc info printed nothing".to_string()
        } else {
            format!(
                "not ipmitool mc info output: no Firmware Revision, IPMI Version or Manufacturer \
                 ID line ({known} known fields)"
            )
        });
    }
    Ok(mc)
}

/// The ID in "Builtin FRU Device (ID 0)".
fn fru_id(desc: &str) -> Option<u32> {
    let i = desc.rfind("(ID ")?;
    let rest = &desc[i + 4..];
    rest[..rest.find(')')?].trim().parse().ok()
}

/// Understand `ipmitool fru print`: one [`FruDevice`] per `FRU Device Description` line.
pub fn parse_fru(text: &str) -> Result<Vec<FruDevice>, String> {
    let mut out: Vec<FruDevice> = Vec::new();
    for line in text.lines() {
        let Some((k, v)) = key_value(line) else {
            // "Device not present (…)" and other messages under a device.
            let t = line.trim();
            if let Some(d) = out.last_mut() {
                if !t.is_empty() && d.error.is_none() && !t.starts_with('=') {
                    d.error = value(t);
                }
            }
            continue;
        };
        if k == "FRU Device Description" {
            out.push(FruDevice {
                description: hwsys::text::escape_controls(v).into_owned(),
                id: fru_id(v),
                ..FruDevice::default()
            });
            continue;
        }
        let Some(d) = out.last_mut() else { continue };
        let slot = match k {
            "Chassis Type" => &mut d.chassis_type,
            "Chassis Part Number" => &mut d.chassis_part,
            "Chassis Serial" => &mut d.chassis_serial,
            "Board Mfg Date" => &mut d.board_mfg_date,
            "Board Mfg" => &mut d.board_manufacturer,
            "Board Product" => &mut d.board_product,
            "Board Serial" => &mut d.board_serial,
            "Board Part Number" => &mut d.board_part,
            "Product Manufacturer" => &mut d.product_manufacturer,
            "Product Name" => &mut d.product_name,
            "Product Part Number" => &mut d.product_part,
            "Product Version" => &mut d.product_version,
            "Product Serial" => &mut d.product_serial,
            "Product Asset Tag" => &mut d.product_asset_tag,
            _ => continue,
        };
        if slot.is_none() {
            *slot = value(v);
        }
    }
    if out.is_empty() {
        return Err(if text.trim().is_empty() {
            "ipmitool fru print printed nothing".to_string()
        } else {
            "not ipmitool fru print output: no \"FRU Device Description\" line".to_string()
        });
    }
    Ok(out)
}

/// Understand `ipmitool sel info`.
pub fn parse_sel_info(text: &str) -> Result<SelInfo, String> {
    let mut info = SelInfo::default();
    let mut entries = None;
    for line in text.lines() {
        let Some((k, v)) = key_value(line) else {
            continue;
        };
        match k {
            "Version" => info.version = value(v),
            "Entries" => entries = v.parse::<u64>().ok(),
            "Percent Used" => info.percent_used = value(v),
            "Last Add Time" => info.last_add_time = value(v),
            "Overflow" => {
                info.overflow = match v {
                    "true" => Some(true),
                    "false" => Some(false),
                    _ => None,
                }
            }
            _ => {}
        }
    }
    match entries {
        Some(n) => {
            info.entries = n;
            Ok(info)
        }
        None if text.trim().is_empty() => Err("ipmitool sel info printed nothing".to_string()),
        None => Err("not ipmitool sel info output: no \"Entries : N\" line".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_values_split_at_the_first_colon() {
        assert_eq!(
            key_value(" Board Mfg Date        : Mon Jan  1 00:00:00 1996"),
            Some(("Board Mfg Date", "Mon Jan  1 00:00:00 1996"))
        );
        assert_eq!(key_value("no colon"), None);
        assert_eq!(key_value(" : value"), None);
    }

    #[test]
    fn mc_info_wants_its_own_lines() {
        assert!(parse_mc_info("")
            .expect_err("an error")
            .contains("printed nothing"));
        let e = parse_mc_info("Chassis Power is on\n\u{1b}[0m garbage: x\n").expect_err("an error");
        assert!(e.contains("not ipmitool mc info"), "{e}");
        // Truncated after the firmware line: what is there is kept.
        let mc = parse_mc_info("Device ID                 : 32\nFirmware Revision         : 2.")
            .expect("partial");
        assert_eq!(mc.firmware_revision.as_deref(), Some("2."));
        assert_eq!(mc.manufacturer_id, None);
    }

    #[test]
    fn fru_wants_a_device_line() {
        assert!(parse_fru("")
            .expect_err("an error")
            .contains("printed nothing"));
        assert!(parse_fru("Board Mfg : x\n")
            .expect_err("an error")
            .contains("FRU Device"));
        let f = parse_fru(
            "FRU Device Description : PSU1 (ID 3)\n Device not present (Requested sensor, data, or record not found)\n",
        )
        .expect("one device");
        assert_eq!(f[0].id, Some(3));
        assert!(f[0].error.as_deref().unwrap_or("").contains("not present"));
    }

    #[test]
    fn sel_info_wants_entries() {
        assert!(parse_sel_info("").is_err());
        assert!(parse_sel_info("SEL Information\nVersion : 1.5\nEntries : many\n").is_err());
        let i =
            parse_sel_info("Entries          : 0\nOverflow         : false\n").expect("empty SEL");
        assert_eq!((i.entries, i.overflow), (0, Some(false)));
    }
}
