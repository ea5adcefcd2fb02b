//! Where a block device hangs: its SCSI address (H:C:T:L), lsblk's TRAN from the SCSI host's
//! transport class (or, in a partial dump, from the device path), and the drivers and nearest PCI
//! function above it in `sys/devices`.

use std::collections::BTreeSet;

use hwsys::sysroot::Sysroot;

/// SCSI host names (`host3`) registered with each transport class.
#[derive(Default)]
pub(super) struct HostClasses {
    spi: BTreeSet<String>,
    fc: BTreeSet<String>,
    sas: BTreeSet<String>,
    iscsi: BTreeSet<String>,
    scsi: BTreeSet<String>,
}

impl HostClasses {
    /// The SCSI hosts of every transport class of the tree.
    pub(super) fn load(sys: &Sysroot) -> Self {
        let set = |class: &str| -> BTreeSet<String> {
            sys.list_dir(&format!("sys/class/{class}"))
                .into_iter()
                .collect()
        };
        HostClasses {
            spi: set("spi_host"),
            fc: set("fc_host"),
            sas: set("sas_host"),
            iscsi: set("iscsi_host"),
            scsi: set("scsi_host"),
        }
    }
}

/// SCSI address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Hctl {
    host: u32,
    channel: u32,
    target: u32,
    lun: u64,
}

impl std::fmt::Display for Hctl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}:{}",
            self.host, self.channel, self.target, self.lun
        )
    }
}

pub(super) fn parse_hctl(s: &str) -> Option<Hctl> {
    let mut it = s.split(':');
    let h = Hctl {
        host: it.next()?.parse().ok()?,
        channel: it.next()?.parse().ok()?,
        target: it.next()?.parse().ok()?,
        lun: it.next()?.parse().ok()?,
    };
    if it.next().is_some() {
        return None;
    }
    Some(h)
}

/// The first driver bound at or above `from`, below `stop` (the PCI function, whose driver
/// is the controller's) or the top of sys/devices.
pub(super) fn first_driver(sys: &Sysroot, from: &str, stop: Option<&str>) -> Option<String> {
    let mut p = from.to_string();
    for _ in 0..32 {
        if Some(p.as_str()) == stop {
            break;
        }
        if let Some(d) = sys.link_name(&format!("{p}/driver")) {
            return Some(d);
        }
        match p.rsplit_once('/') {
            Some((parent, _)) if parent.starts_with("sys/devices/") => p = parent.to_string(),
            _ => break,
        }
    }
    None
}

/// lsblk's TRAN (see the module doc).
pub(super) fn transport(
    sys: &Sysroot,
    hosts: &HostClasses,
    name: &str,
    hctl: Option<Hctl>,
    device: Option<&str>,
    controller_driver: Option<&str>,
) -> Option<String> {
    let Some(h) = hctl else {
        return if name.starts_with("nvme") {
            Some("nvme".into())
        } else if name.starts_with("vd") {
            Some("virtio".into())
        } else if name.starts_with("mmcblk") {
            Some("mmc".into())
        } else {
            None
        };
    };
    let host = format!("host{}", h.host);
    let scsi_dev = format!("sys/bus/scsi/devices/{h}");
    if hosts.spi.contains(&host) {
        return Some("spi".into());
    }
    if hosts.fc.contains(&host) {
        let sym = sys.attr(&format!("sys/class/fc_host/{host}/symbolic_name"))?;
        return Some(if sym.contains(" over ") { "fcoe" } else { "fc" }.into());
    }
    if hosts.sas.contains(&host) || sys.exists(&format!("{scsi_dev}/sas_device")) {
        return Some("sas".into());
    }
    if sys.exists(&format!("{scsi_dev}/ieee1394_id")) {
        return Some("sbp".into());
    }
    if hosts.iscsi.contains(&host) {
        return Some("iscsi".into());
    }
    if sys
        .read_link(&scsi_dev)
        .is_some_and(|t| t.to_string_lossy().contains("usb"))
    {
        return Some("usb".into());
    }
    if hosts.scsi.contains(&host) {
        let proc_name = sys.attr(&format!("sys/class/scsi_host/{host}/proc_name"))?;
        return ata_transport(&proc_name);
    }
    // The tree has no class entry for this host: guess from the path (lsblk would not).
    let path = device?;
    let comps: Vec<&str> = path.split('/').collect();
    if comps.iter().any(|c| c.starts_with("end_device-")) {
        Some("sas".into())
    } else if comps.iter().any(|c| c.starts_with("usb")) {
        Some("usb".into())
    } else if comps.iter().any(|c| c.starts_with("rport-")) {
        Some("fc".into())
    } else if comps.iter().any(|c| {
        c.strip_prefix("session")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    }) {
        Some("iscsi".into())
    } else if comps.iter().any(|c| {
        c.strip_prefix("ata")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    }) {
        controller_driver.and_then(ata_transport)
    } else {
        None
    }
}

/// lsblk's rule on a SCSI host's `proc_name`: libata's AHCI and SATA drivers are `sata`, other
/// libata drivers (`ata_piix`, `pata_*`) `ata`, anything else nothing.
fn ata_transport(proc_name: &str) -> Option<String> {
    if proc_name.starts_with("ahci") || proc_name.starts_with("sata") {
        Some("sata".into())
    } else if proc_name.contains("ata") {
        Some("ata".into())
    } else {
        None
    }
}

/// Whether a path component is a PCI function address ("0000:00:1f.2", "10000:e1:00.0").
fn is_pci_address(s: &str) -> bool {
    let hex = |p: &str, min: usize, max: usize| {
        (min..=max).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_hexdigit())
    };
    let mut parts = s.split(':');
    let (Some(dom), Some(bus), Some(devfn), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Some((dev, func)) = devfn.split_once('.') else {
        return false;
    };
    hex(dom, 4, 8)
        && hex(bus, 2, 2)
        && hex(dev, 2, 2)
        && func.len() == 1
        && func.bytes().all(|b| (b'0'..=b'7').contains(&b))
}

/// The deepest PCI function in a sysfs path: (address, path up to and including it).
pub(super) fn nearest_pci(path: &str) -> Option<(String, String)> {
    let mut best = None;
    let mut end = 0usize;
    for comp in path.split('/') {
        end += comp.len();
        if is_pci_address(comp) {
            best = Some((comp.to_string(), path.get(..end)?.to_string()));
        }
        end += 1; // the '/'
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pci_addresses_and_hctl() {
        assert!(is_pci_address("0000:00:1f.2"));
        assert!(is_pci_address("10000:e1:00.0"));
        assert!(!is_pci_address("0000:00:1f"));
        assert!(!is_pci_address("pci0000:00"));
        assert!(!is_pci_address("0000:00:1f.8"));
        assert_eq!(
            nearest_pci("sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/nvme/nvme0"),
            Some((
                "0000:01:00.0".to_string(),
                "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0".to_string()
            ))
        );
        assert_eq!(nearest_pci("sys/devices/virtual/block/loop0"), None);
        assert_eq!(
            parse_hctl("0:2:0:0").map(|h| h.to_string()),
            Some("0:2:0:0".into())
        );
        assert_eq!(parse_hctl("target0:0:0"), None);
        assert_eq!(parse_hctl("0:0:0:0:0"), None);
    }
}
