//! What identifies a disk, as lsblk-properties.c finds it: model, vendor, firmware, state,
//! serial and WWN from the device the disk hangs off and from the SCSI VPD pages 0x80 and 0x83,
//! and lsblk's `--sysroot` stand-in for the udev database (`dev/NAME` files of `KEY=VALUE`).

use std::collections::BTreeMap;

use hwsys::sysroot::Sysroot;

use super::model::BlockDevice;

/// Model, vendor, firmware, serial, state and WWN from the device the disk hangs off.
pub(super) fn identity(
    sys: &Sysroot,
    d: &mut BlockDevice,
    dir: &str,
    device_rel: &str,
    scsi: bool,
) {
    let attr = |a: &str| sys.attr(&format!("{device_rel}/{a}"));
    d.model = attr("model");
    d.vendor = attr("vendor");
    d.firmware = attr("rev").or_else(|| attr("firmware_rev"));
    d.state = attr("state");
    if d.name.starts_with("mmcblk") {
        d.model = d.model.take().or_else(|| attr("name"));
        d.firmware = d.firmware.take().or_else(|| attr("fwrev"));
    }
    // virtio-blk shows an empty serial when the host configured none.
    let serial = |rel: &str| sys.attr_maybe_empty(rel);
    d.serial = serial(&format!("{device_rel}/serial")).or_else(|| serial(&format!("{dir}/serial")));
    if scsi {
        if d.serial.is_none() {
            d.serial = read_vpd_serial(sys, &format!("{device_rel}/vpd_pg80"));
        }
        d.wwn = attr("wwid")
            .and_then(|w| {
                w.strip_prefix("naa.")
                    .map(|h| format!("0x{}", h.to_lowercase()))
            })
            .or_else(|| {
                let rel = format!("{device_rel}/vpd_pg83");
                let b = sys.read_bytes(&rel, 4096)?;
                if b.is_empty() {
                    // A page the kernel shows has at least its 4-byte header.
                    sys.warn(&rel, "empty");
                    return None;
                }
                vpd_naa(&b)
            });
    } else if d.name.starts_with("nvme") {
        d.wwn = sys.attr(&format!("{dir}/wwid"));
    }
}

/// The serial number of a VPD page 0x80 file; a page that is not one is warned about.
fn read_vpd_serial(sys: &Sysroot, rel: &str) -> Option<String> {
    let bytes = sys.read_bytes(rel, 4096)?;
    match vpd_serial(&bytes) {
        Ok(s) => s,
        Err(why) => {
            sys.warn(rel, why);
            None
        }
    }
}

/// lsblk's `--sysroot` stand-in for the udev database: `dev/NAME`, `KEY=VALUE` lines.
pub(super) fn udev_props(sys: &Sysroot, name: &str) -> Option<UdevProps> {
    let rel = format!("dev/{name}");
    if !sys.exists(&rel) || sys.is_dir(&rel) {
        return None;
    }
    Some(UdevProps::parse(&sys.read_maybe_empty(&rel)?))
}

/// The serial number in a SCSI Unit Serial Number VPD page (0x80).
fn vpd_serial(b: &[u8]) -> Result<Option<String>, &'static str> {
    let (Some(&page), Some(&hi), Some(&lo)) = (b.get(1), b.get(2), b.get(3)) else {
        return Err("too short for a VPD page");
    };
    if page != 0x80 {
        return Err("not a unit serial number VPD page (0x80)");
    }
    let len = usize::from(u16::from_be_bytes([hi, lo]));
    let body = b
        .get(4..4 + len)
        .ok_or("truncated unit serial number VPD page")?;
    let text = std::str::from_utf8(body).map_err(|_| "serial number is not text")?;
    let text = text.trim_matches(|c: char| c == ' ' || c == '\0');
    if text.chars().any(|c| !c.is_ascii_graphic() && c != ' ') {
        return Err("serial number is not printable text");
    }
    Ok((!text.is_empty()).then(|| text.to_string()))
}

/// The logical unit's NAA designator in a Device Identification VPD page (0x83), as "0x…".
fn vpd_naa(b: &[u8]) -> Option<String> {
    if b.get(1) != Some(&0x83) {
        return None;
    }
    let len = usize::from(u16::from_be_bytes([*b.get(2)?, *b.get(3)?]));
    let end = (4 + len).min(b.len());
    let mut i = 4usize;
    while i + 4 <= end {
        let flags = *b.get(i + 1)?;
        let dlen = usize::from(*b.get(i + 3)?);
        let id = b.get(i + 4..i + 4 + dlen)?;
        let association = (flags >> 4) & 0x3;
        let kind = flags & 0xf;
        if kind == 3 && association == 0 && !id.is_empty() {
            return Some(id.iter().fold(String::from("0x"), |mut s, x| {
                s.push_str(&format!("{x:02x}"));
                s
            }));
        }
        i += 4 + dlen;
    }
    None
}

/// What lsblk takes from its udev stand-in file.
#[derive(Debug, Default, PartialEq)]
pub(super) struct UdevProps {
    pub(super) model: Option<String>,
    pub(super) revision: Option<String>,
    pub(super) serial: Option<String>,
    pub(super) wwn: Option<String>,
}

impl UdevProps {
    fn parse(text: &str) -> Self {
        let mut kv: BTreeMap<&str, &str> = BTreeMap::new();
        for line in text.lines() {
            if let Some((k, v)) = line.split_once('=') {
                let v = v.trim_end_matches('\r');
                if !v.is_empty() {
                    kv.entry(k).or_insert(v);
                }
            }
        }
        let first = |keys: &[&str]| keys.iter().find_map(|k| kv.get(k)).map(|v| v.to_string());
        UdevProps {
            model: first(&["ID_MODEL"]),
            revision: first(&["ID_REVISION"]),
            serial: first(&[
                "SCSI_IDENT_SERIAL",
                "ID_SCSI_SERIAL",
                "ID_SERIAL_SHORT",
                "ID_SERIAL",
            ]),
            wwn: first(&["ID_WWN_WITH_EXTENSION", "ID_WWN"]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 13.14: an empty VPD page 0x83 is a warning naming it (the WWN was silently gone).
    #[test]
    fn an_empty_vpd_page_is_named() {
        let d = tempfile::tempdir().expect("tmp");
        let dev = "sys/devices/scsi/0:0:0:0";
        std::fs::create_dir_all(d.path().join(dev)).expect("mkdir");
        std::fs::write(d.path().join(dev).join("vpd_pg83"), b"").expect("w");
        let sys = Sysroot::new(d.path());
        let mut b = BlockDevice {
            name: "sda".into(),
            ..BlockDevice::default()
        };
        identity(&sys, &mut b, "sys/block/sda", dev, true);
        assert_eq!(b.wwn, None);
        assert!(
            sys.warnings()
                .iter()
                .any(|w| w.path == format!("/{dev}/vpd_pg83") && w.message == "empty"),
            "{:?}",
            sys.warnings()
        );
    }

    #[test]
    fn vpd_pages() {
        assert_eq!(
            vpd_serial(b"\x00\x80\x00\x0814000   "),
            Ok(Some("14000".to_string()))
        );
        assert!(vpd_serial(b"\x00\x80").is_err());
        assert!(vpd_serial(b"\x00\x83\x00\x01A").is_err());
        assert!(vpd_serial(b"\x00\x80\x00\x09short").is_err());
        assert!(vpd_serial(b"\x00\x80\x00\x02\x01\x02").is_err());
        assert_eq!(vpd_serial(b"\x00\x80\x00\x00"), Ok(None));
        let mut pg83 = vec![0u8, 0x83, 0, 0];
        pg83.extend_from_slice(&[2, 1, 0, 4, b'A', b'T', b'A', b' ']); // T10, skipped
        pg83.extend_from_slice(&[1, 0x13, 0, 8, 0x50, 2, 0x6b, 0x72, 0x4b, 9, 0xa1, 0xff]); // port
        pg83.extend_from_slice(&[1, 3, 0, 8, 0x50, 2, 0x6b, 0x72, 0x4b, 9, 0xa1, 0xfe]);
        let len = (pg83.len() - 4) as u8;
        pg83[3] = len;
        assert_eq!(vpd_naa(&pg83).as_deref(), Some("0x50026b724b09a1fe"));
        assert_eq!(vpd_naa(&pg83[..20]), None, "truncated");
        assert_eq!(vpd_naa(b"\x00\x83"), None);
        assert_eq!(vpd_naa(b""), None);
    }
}
