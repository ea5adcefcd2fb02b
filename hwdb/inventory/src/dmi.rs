//! Firmware identity from sys/class/dmi/id, or from the raw SMBIOS table where the kernel
//! exposes only that (sys/firmware/dmi/tables/DMI).

use serde::{Deserialize, Serialize};

use crate::smbios;
use hwsys::sysroot::Sysroot;

/// The raw SMBIOS table, relative to the root.
pub const DMI_TABLE: &str = "sys/firmware/dmi/tables/DMI";
/// The SMBIOS entry point, relative to the root.
pub const DMI_ENTRY: &str = "sys/firmware/dmi/tables/smbios_entry_point";
const ID_DIR: &str = "sys/class/dmi/id";
/// The raw table is at most 64 KiB in SMBIOS 2.x and a few MiB in 3.x.
const TABLE_LIMIT: u64 = 4 << 20;

/// The DMI section of the inventory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Dmi {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sys_vendor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_family: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_sku: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_serial: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_uuid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub board_vendor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub board_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub board_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub board_serial: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub board_asset_tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bios_vendor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bios_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bios_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bios_release: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chassis_vendor: Option<String>,
    /// The chassis type as SMBIOS names it ("Rack Mount Chassis").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chassis_type: Option<String>,
    /// The chassis type number (SMBIOS type 3, offset 5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chassis_type_id: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chassis_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chassis_serial: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chassis_asset_tag: Option<String>,
    /// The SMBIOS version from the entry point ("3.3").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smbios_version: Option<String>,
    /// Where the values came from: `sysfs` (sys/class/dmi/id) or `smbios` (the raw table).
    pub source: String,
}

/// SMBIOS chassis type names (DSP0134 7.4.1).
pub fn chassis_type_name(t: u8) -> Option<&'static str> {
    const NAMES: &[&str] = &[
        "Other",
        "Unknown",
        "Desktop",
        "Low Profile Desktop",
        "Pizza Box",
        "Mini Tower",
        "Tower",
        "Portable",
        "Laptop",
        "Notebook",
        "Hand Held",
        "Docking Station",
        "All in One",
        "Sub Notebook",
        "Space-saving",
        "Lunch Box",
        "Main Server Chassis",
        "Expansion Chassis",
        "SubChassis",
        "Bus Expansion Chassis",
        "Peripheral Chassis",
        "RAID Chassis",
        "Rack Mount Chassis",
        "Sealed-case PC",
        "Multi-system chassis",
        "Compact PCI",
        "Advanced TCA",
        "Blade",
        "Blade Enclosure",
        "Tablet",
        "Convertible",
        "Detachable",
        "IoT Gateway",
        "Embedded PC",
        "Mini PC",
        "Stick PC",
    ];
    (t as usize)
        .checked_sub(1)
        .and_then(|i| NAMES.get(i))
        .copied()
}

fn slot<'a>(d: &'a mut Dmi, key: &str) -> Option<&'a mut Option<String>> {
    Some(match key {
        "sys_vendor" => &mut d.sys_vendor,
        "product_name" => &mut d.product_name,
        "product_version" => &mut d.product_version,
        "product_family" => &mut d.product_family,
        "product_sku" => &mut d.product_sku,
        "product_serial" => &mut d.product_serial,
        "product_uuid" => &mut d.product_uuid,
        "board_vendor" => &mut d.board_vendor,
        "board_name" => &mut d.board_name,
        "board_version" => &mut d.board_version,
        "board_serial" => &mut d.board_serial,
        "board_asset_tag" => &mut d.board_asset_tag,
        "bios_vendor" => &mut d.bios_vendor,
        "bios_version" => &mut d.bios_version,
        "bios_date" => &mut d.bios_date,
        "bios_release" => &mut d.bios_release,
        "chassis_vendor" => &mut d.chassis_vendor,
        "chassis_version" => &mut d.chassis_version,
        "chassis_serial" => &mut d.chassis_serial,
        "chassis_asset_tag" => &mut d.chassis_asset_tag,
        _ => return None,
    })
}

/// The sys/class/dmi/id attributes read, in order. The identifiers among them are readable by
/// root only; without root their absence is reported once, not per file.
pub const ID_FIELDS: &[&str] = &[
    "sys_vendor",
    "product_name",
    "product_version",
    "product_family",
    "product_sku",
    "product_serial",
    "product_uuid",
    "board_vendor",
    "board_name",
    "board_version",
    "board_serial",
    "board_asset_tag",
    "bios_vendor",
    "bios_version",
    "bios_date",
    "bios_release",
    "chassis_vendor",
    "chassis_version",
    "chassis_serial",
    "chassis_asset_tag",
];

/// Probe sys/class/dmi/id, completed from the raw table where readable; `None` where the
/// platform has no DMI at all (many aarch64 boards, this kind of VM).
pub fn probe(sys: &Sysroot) -> Option<Dmi> {
    let mut d = Dmi::default();
    let mut any = false;
    if sys.is_dir(ID_DIR) {
        d.source = "sysfs".into();
        for key in ID_FIELDS {
            // A string the firmware did not fill in (SMBIOS string 0) is an empty attribute.
            let v = sys
                .attr_maybe_empty(&format!("{ID_DIR}/{key}"))
                .filter(|v| !smbios::is_placeholder(v));
            if let Some(s) = slot(&mut d, key) {
                any |= v.is_some();
                *s = v;
            }
        }
        if let Some(t) = sys.parse::<u8>(&format!("{ID_DIR}/chassis_type")) {
            d.chassis_type_id = Some(t);
            d.chassis_type = chassis_type_name(t).map(str::to_string);
            any = true;
        }
    }
    if sys.exists(DMI_TABLE) {
        if let Some(table) = sys.read_bytes(DMI_TABLE, TABLE_LIMIT) {
            let (_, err) = smbios::structures(&table);
            if let Some(e) = err {
                sys.warn(DMI_TABLE, e);
            }
            for (key, value) in smbios::identity(&table) {
                if key == "chassis_type" {
                    if d.chassis_type_id.is_none() {
                        if let Ok(t) = value.parse::<u8>() {
                            d.chassis_type_id = Some(t);
                            d.chassis_type = chassis_type_name(t).map(str::to_string);
                        }
                    }
                    continue;
                }
                if let Some(s) = slot(&mut d, key) {
                    if s.is_none() {
                        *s = Some(value);
                        any = true;
                        if d.source.is_empty() {
                            d.source = "smbios".into();
                        }
                    }
                }
            }
        }
        d.smbios_version = sys
            .read_bytes(DMI_ENTRY, 64)
            .and_then(|e| entry_version(&e));
    }
    if d.source.is_empty() {
        d.source = "smbios".into();
    }
    any.then_some(d)
}

/// The SMBIOS version from an entry point structure ("_SM3_" or "_SM_").
pub fn entry_version(e: &[u8]) -> Option<String> {
    if e.starts_with(b"_SM3_") {
        Some(format!("{}.{}", e.get(7)?, e.get(8)?))
    } else if e.starts_with(b"_SM_") {
        Some(format!("{}.{}", e.get(6)?, e.get(7)?))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn sysfs_ids_with_placeholders_dropped() {
        let d = tempfile::tempdir().expect("tmp");
        let id = d.path().join(ID_DIR);
        fs::create_dir_all(&id).expect("mkdir");
        fs::write(id.join("sys_vendor"), "Inspur\n").expect("w");
        fs::write(id.join("product_name"), "NF5280M6\n").expect("w");
        fs::write(id.join("product_version"), "To be filled by O.E.M.\n").expect("w");
        fs::write(id.join("chassis_type"), "23\n").expect("w");
        fs::write(id.join("bios_date"), "").expect("w");
        fs::create_dir(id.join("board_name")).expect("mkdir");
        let sys = Sysroot::new(d.path());
        let dmi = probe(&sys).expect("dmi");
        assert_eq!(dmi.sys_vendor.as_deref(), Some("Inspur"));
        assert_eq!(dmi.product_version, None);
        assert_eq!(dmi.chassis_type.as_deref(), Some("Rack Mount Chassis"));
        assert_eq!(dmi.board_name, None);
        assert_eq!(dmi.source, "sysfs");
        assert!(sys
            .warnings()
            .iter()
            .any(|w| w.path.ends_with("/board_name")));
    }

    #[test]
    fn raw_table_only() {
        let d = tempfile::tempdir().expect("tmp");
        let t = d.path().join(DMI_TABLE);
        fs::create_dir_all(t.parent().expect("parent")).expect("mkdir");
        fs::write(&t, smbios::tests::sample_table()).expect("w");
        fs::write(
            d.path().join(DMI_ENTRY),
            b"_SM3_\x00\x18\x03\x03\x00\x01\x00",
        )
        .expect("w");
        let sys = Sysroot::new(d.path());
        let dmi = probe(&sys).expect("dmi");
        assert_eq!(dmi.product_name.as_deref(), Some("NF5280M6"));
        assert_eq!(dmi.smbios_version.as_deref(), Some("3.3"));
        assert_eq!(dmi.source, "smbios");
    }

    #[test]
    fn no_dmi_at_all() {
        let d = tempfile::tempdir().expect("tmp");
        assert_eq!(probe(&Sysroot::new(d.path())), None);
        assert_eq!(chassis_type_name(0), None);
        assert_eq!(chassis_type_name(200), None);
        assert_eq!(entry_version(b"_SM"), None);
    }
}
