//! Network interfaces under sys/class/net.
//!
//! Some attributes fail with EINVAL instead of being absent: `carrier` on an interface that is
//! administratively down, `speed` and `duplex` on one without a link or without ethtool link
//! settings (loopback). So `flags` is read first, `carrier` only when the interface is up, and
//! `speed`/`duplex` only when it has a carrier and is backed by a device (or is a bond).

use serde::{Deserialize, Serialize};

use crate::pci::parse_address;
use hwsys::sysroot::Sysroot;

/// One network interface.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NetInterface {
    pub name: String,
    /// The driver of the device behind the interface (`device/driver`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// The nearest PCI function up the device path (for a USB adapter, its host controller).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pci_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    /// From sysfs only: a bond slave's `bonding_slave/perm_hwaddr`, or the current address of a
    /// device-backed interface whose `addr_assign_type` is 0 (set from the hardware and never
    /// changed). Otherwise absent (ethtool knows it; that is read elsewhere).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permanent_mac: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operstate: Option<String>,
    /// Absent when unknown (-1) or not readable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speed_mbps: Option<u64>,
    /// "full" or "half"; absent when unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    /// udev's ID_PATH (live system with udevd only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_path: Option<String>,
    /// udev's predictable name (ID_NET_NAME_ONBOARD/SLOT/PATH; live system with udevd only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub udev_name: Option<String>,
    /// Software interfaces (loopback, bridges, tunnels) as opposed to hardware ones: under
    /// sys/devices/virtual, or without a `device` link.
    #[serde(rename = "virtual")]
    pub is_virtual: bool,
    /// From `type` (ARPHRD_*): "ether", "loopback", "infiniband", ...; "type N" otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Absent when the interface is down (the kernel refuses to say).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carrier: Option<bool>,
    /// The device's bus (`device/subsystem`): "pci", "usb", "virtio", "platform", ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bus: Option<String>,
    /// IDs of the PCI function, when the interface's device is that function or a virtio
    /// device directly on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// The upper device this one is enslaved to (the `master` link), of any kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master: Option<String>,
    /// `master` when it is a bond (this interface has `bonding_slave`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bond_master: Option<String>,
    /// `master` when it is a bridge (this interface has `brport`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bridge: Option<String>,
}

const IFF_UP: u64 = 0x1;

/// Probe every network interface.
pub fn probe(sys: &Sysroot) -> Vec<NetInterface> {
    const BASE: &str = "sys/class/net";
    sys.list_dir(BASE)
        .into_iter()
        .filter_map(|name| {
            let entry = format!("{BASE}/{name}");
            // sys/class/net/bonding_masters is a file, not an interface.
            if !sys.is_dir(&entry) {
                if !sys.exists(&entry) {
                    // A dangling link: let the reader say so.
                    sys.canonical(&entry);
                }
                return None;
            }
            let dir = sys.canonical(&entry)?;
            Some(probe_one(sys, &dir, name))
        })
        .collect()
}

fn probe_one(sys: &Sysroot, dir: &str, name: String) -> NetInterface {
    let at = |attr: &str| format!("{dir}/{attr}");
    let mut n = NetInterface {
        name,
        ..NetInterface::default()
    };
    let device = sys.canonical(&at("device"));
    n.is_virtual = device.is_none() || dir.starts_with("sys/devices/virtual/");
    let type_id = sys.parse::<u32>(&at("type"));
    n.kind = type_id.map(kind_name);
    n.mtu = sys.parse(&at("mtu"));
    // An interface without a link-layer address (tun, wireguard, ipip: addr_len 0) shows an
    // empty address; Ethernet, InfiniBand, loopback and Wi-Fi interfaces always have one.
    n.mac = if matches!(type_id, Some(1 | 6 | 32 | 772 | 801)) {
        sys.attr(&at("address"))
    } else {
        sys.attr_maybe_empty(&at("address"))
    };
    n.operstate = sys.attr(&at("operstate"));

    if let Some(dev) = device.as_deref() {
        n.driver = sys.link_name(&format!("{dev}/driver"));
        n.bus = sys.link_name(&format!("{dev}/subsystem"));
        let pci = nearest_pci(dev);
        if let Some((pci_dir, addr)) = pci {
            let direct = pci_dir == dev
                || (n.bus.as_deref() == Some("virtio")
                    && dev.rsplit_once('/').map(|(up, _)| up) == Some(pci_dir));
            if direct {
                let id = |attr: &str| {
                    let rel = format!("{pci_dir}/{attr}");
                    sys.parse_hex(&rel)
                        .filter(|v| *v <= 0xffff)
                        .map(|v| format!("{v:04x}"))
                };
                n.vendor_id = id("vendor");
                n.device_id = id("device");
            }
            n.pci_address = Some(addr.to_string());
        }
    }

    if let Some(m) = sys.link_name(&at("master")) {
        if sys.is_dir(&at("bonding_slave")) {
            n.bond_master = Some(m.clone());
        } else if sys.is_dir(&at("brport")) {
            n.bridge = Some(m.clone());
        }
        n.master = Some(m);
    }
    n.permanent_mac = sys
        .attr(&at("bonding_slave/perm_hwaddr"))
        .or_else(|| {
            let from_hw = !n.is_virtual && sys.parse::<u32>(&at("addr_assign_type")) == Some(0);
            n.mac.clone().filter(|_| from_hw)
        })
        .filter(|m| m.bytes().any(|b| b != b'0' && b != b':'));

    // flags first: reading carrier of an interface that is down is EINVAL, not "0".
    let up = match sys.parse_hex(&at("flags")) {
        Some(f) => f & IFF_UP != 0,
        None => !matches!(n.operstate.as_deref(), Some("down") | Some("notpresent")),
    };
    if up {
        n.carrier = sys.parse::<u8>(&at("carrier")).map(|c| c != 0);
    }
    let has_link_settings = type_id != Some(772) && (!n.is_virtual || sys.is_dir(&at("bonding")));
    if n.carrier == Some(true) && has_link_settings {
        n.speed_mbps = sys
            .parse::<i64>(&at("speed"))
            .filter(|s| *s > 0 && *s < i64::from(u32::MAX))
            .and_then(|s| u64::try_from(s).ok());
        n.duplex = sys
            .attr(&at("duplex"))
            .filter(|d| d == "full" || d == "half");
    }
    n
}

/// The deepest PCI function on a canonical device path: (its path, its address).
fn nearest_pci(dev: &str) -> Option<(&str, &str)> {
    let mut path = dev;
    loop {
        let (up, last) = match path.rsplit_once('/') {
            Some(x) => x,
            None => ("", path),
        };
        if parse_address(last).is_some() {
            return Some((path, last));
        }
        if up.is_empty() {
            return None;
        }
        path = up;
    }
}

/// ARPHRD_* names (include/uapi/linux/if_arp.h) for the types servers have.
fn kind_name(t: u32) -> String {
    match t {
        1 => "ether",
        24 => "ieee1394",
        32 => "infiniband",
        256 => "slip",
        512 => "ppp",
        768 => "ipip",
        769 => "tunnel6",
        772 => "loopback",
        776 => "sit",
        778 => "ipgre",
        783 => "irda",
        801 => "ieee80211",
        803 => "ieee80211_radiotap",
        823 => "ip6gre",
        824 => "netlink",
        825 => "6lowpan",
        65534 => "none",
        280 => "can",
        519 => "rawip",
        _ => return format!("type {t}"),
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    use std::path::Path;

    use crate::testutil::{link, write};

    fn attrs(root: &Path, dir: &str, attrs: &[(&str, &str)]) {
        for (k, v) in attrs {
            write(root, &format!("{dir}/{k}"), format!("{v}\n"));
        }
    }

    const PCI: &str = "sys/devices/pci0000:00/0000:00:1c.0/0000:3b:00.0";
    const VIRTIO_PCI: &str = "sys/devices/pci0000:00/0000:00:03.0";
    const USB: &str = "sys/devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0";

    /// eth0: an ixgbe port enslaved to bond0, link up at 10G; eth1: virtio-net, speed unknown;
    /// usb0: a USB adapter that is down; bond0, br0 and lo: virtual.
    fn tree() -> tempfile::TempDir {
        let d = tempfile::tempdir().expect("tempdir");
        let r = d.path();
        attrs(r, PCI, &[("vendor", "0x8086"), ("device", "0x10fb")]);
        fs::create_dir_all(r.join("sys/bus/pci/drivers/ixgbe")).expect("mkdir");
        fs::create_dir_all(r.join("sys/bus/virtio/drivers/virtio_net")).expect("mkdir");
        fs::create_dir_all(r.join("sys/bus/usb/drivers/r8152")).expect("mkdir");
        link(
            r,
            &format!("{PCI}/driver"),
            "../../../../bus/pci/drivers/ixgbe",
        );
        link(r, &format!("{PCI}/subsystem"), "../../../../bus/pci");
        let eth0 = format!("{PCI}/net/eth0");
        attrs(
            r,
            &eth0,
            &[
                ("type", "1"),
                ("mtu", "9000"),
                ("address", "aa:bb:cc:dd:ee:ff"),
                ("addr_assign_type", "3"),
                ("operstate", "up"),
                ("flags", "0x1803"),
                ("carrier", "1"),
                ("speed", "10000"),
                ("duplex", "full"),
                ("bonding_slave/perm_hwaddr", "a0:36:9f:00:00:01"),
            ],
        );
        link(r, &format!("{eth0}/device"), "../../../0000:3b:00.0");
        link(
            r,
            &format!("{eth0}/master"),
            "../../../../../virtual/net/bond0",
        );
        link(r, "sys/class/net/eth0", &format!("../../{}", &eth0[4..]));

        attrs(r, VIRTIO_PCI, &[("vendor", "0x1af4"), ("device", "0x1041")]);
        let virtio = format!("{VIRTIO_PCI}/virtio2");
        link(
            r,
            &format!("{virtio}/driver"),
            "../../../../bus/virtio/drivers/virtio_net",
        );
        link(r, &format!("{virtio}/subsystem"), "../../../../bus/virtio");
        let eth1 = format!("{virtio}/net/eth1");
        attrs(
            r,
            &eth1,
            &[
                ("type", "1"),
                ("mtu", "1500"),
                ("address", "52:54:00:12:34:56"),
                ("addr_assign_type", "0"),
                ("operstate", "up"),
                ("flags", "0x1003"),
                ("carrier", "1"),
                ("speed", "-1"),
                ("duplex", "unknown"),
            ],
        );
        link(r, &format!("{eth1}/device"), "../../../virtio2");
        link(
            r,
            &format!("{eth1}/master"),
            "../../../../../virtual/net/br0",
        );
        fs::create_dir_all(r.join(format!("{eth1}/brport"))).expect("mkdir");
        link(r, "sys/class/net/eth1", &format!("../../{}", &eth1[4..]));

        attrs(
            r,
            "sys/devices/pci0000:00/0000:00:14.0",
            &[("vendor", "0x8086")],
        );
        link(
            r,
            &format!("{USB}/driver"),
            "../../../../../../bus/usb/drivers/r8152",
        );
        link(r, &format!("{USB}/subsystem"), "../../../../../../bus/usb");
        let usb0 = format!("{USB}/net/usb0");
        // Down: carrier, speed and duplex are EINVAL on a real system, so they must not be
        // read; here they are garbage to prove it.
        attrs(
            r,
            &usb0,
            &[
                ("type", "1"),
                ("address", "00:e0:4c:68:00:01"),
                ("addr_assign_type", "0"),
                ("operstate", "down"),
                ("flags", "0x1002"),
                ("carrier", "EINVAL"),
                ("speed", "EINVAL"),
                ("duplex", "EINVAL"),
            ],
        );
        link(r, &format!("{usb0}/device"), "../../../2-1:1.0");
        link(r, "sys/class/net/usb0", &format!("../../{}", &usb0[4..]));

        let bond0 = "sys/devices/virtual/net/bond0";
        attrs(
            r,
            bond0,
            &[
                ("type", "1"),
                ("mtu", "9000"),
                ("address", "aa:bb:cc:dd:ee:ff"),
                ("addr_assign_type", "0"),
                ("operstate", "up"),
                ("flags", "0x1403"),
                ("carrier", "1"),
                ("speed", "10000"),
                ("duplex", "full"),
                ("bonding/mode", "active-backup 1"),
            ],
        );
        link(r, "sys/class/net/bond0", "../../devices/virtual/net/bond0");
        let br0 = "sys/devices/virtual/net/br0";
        attrs(
            r,
            br0,
            &[
                ("type", "1"),
                ("operstate", "up"),
                ("flags", "0x1003"),
                ("carrier", "1"),
                ("speed", "EINVAL"),
                ("bridge/stp_state", "0"),
            ],
        );
        link(r, "sys/class/net/br0", "../../devices/virtual/net/br0");
        let lo = "sys/devices/virtual/net/lo";
        attrs(
            r,
            lo,
            &[
                ("type", "772"),
                ("mtu", "65536"),
                ("address", "00:00:00:00:00:00"),
                ("addr_assign_type", "0"),
                ("operstate", "unknown"),
                ("flags", "0x9"),
                ("carrier", "1"),
                ("speed", "EINVAL"),
            ],
        );
        link(r, "sys/class/net/lo", "../../devices/virtual/net/lo");
        write(r, "sys/class/net/bonding_masters", "bond0\n");
        d
    }

    #[test]
    fn probes_every_field_of_a_small_tree() {
        let d = tree();
        let s = Sysroot::new(d.path());
        let ifs = probe(&s);
        assert!(s.warnings().is_empty(), "{:?}", s.warnings());
        let names: Vec<&str> = ifs.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["bond0", "br0", "eth0", "eth1", "lo", "usb0"]);
        let get = |n: &str| ifs.iter().find(|i| i.name == n).expect("interface");

        assert_eq!(
            *get("eth0"),
            NetInterface {
                name: "eth0".into(),
                driver: Some("ixgbe".into()),
                pci_address: Some("0000:3b:00.0".into()),
                mac: Some("aa:bb:cc:dd:ee:ff".into()),
                permanent_mac: Some("a0:36:9f:00:00:01".into()),
                operstate: Some("up".into()),
                speed_mbps: Some(10000),
                duplex: Some("full".into()),
                mtu: Some(9000),
                is_virtual: false,
                kind: Some("ether".into()),
                carrier: Some(true),
                bus: Some("pci".into()),
                vendor_id: Some("8086".into()),
                device_id: Some("10fb".into()),
                master: Some("bond0".into()),
                bond_master: Some("bond0".into()),
                bridge: None,
                id_path: None,
                udev_name: None,
            }
        );
        assert_eq!(
            *get("eth1"),
            NetInterface {
                name: "eth1".into(),
                driver: Some("virtio_net".into()),
                pci_address: Some("0000:00:03.0".into()),
                mac: Some("52:54:00:12:34:56".into()),
                permanent_mac: Some("52:54:00:12:34:56".into()),
                operstate: Some("up".into()),
                speed_mbps: None,
                duplex: None,
                mtu: Some(1500),
                is_virtual: false,
                kind: Some("ether".into()),
                carrier: Some(true),
                bus: Some("virtio".into()),
                vendor_id: Some("1af4".into()),
                device_id: Some("1041".into()),
                master: Some("br0".into()),
                bond_master: None,
                bridge: Some("br0".into()),
                id_path: None,
                udev_name: None,
            }
        );
        let usb0 = get("usb0");
        assert_eq!(usb0.bus.as_deref(), Some("usb"));
        assert_eq!(usb0.driver.as_deref(), Some("r8152"));
        assert_eq!(usb0.pci_address.as_deref(), Some("0000:00:14.0"));
        assert_eq!(
            usb0.vendor_id, None,
            "the host controller's IDs are not the NIC's"
        );
        assert_eq!(usb0.carrier, None);
        assert_eq!(usb0.speed_mbps, None);
        assert_eq!(usb0.permanent_mac.as_deref(), Some("00:e0:4c:68:00:01"));
        assert!(!usb0.is_virtual);

        let bond0 = get("bond0");
        assert!(bond0.is_virtual);
        assert_eq!(bond0.speed_mbps, Some(10000), "bonds report their speed");
        assert_eq!(bond0.permanent_mac, None);
        assert_eq!(bond0.pci_address, None);
        assert_eq!(bond0.driver, None);
        let br0 = get("br0");
        assert!(br0.is_virtual);
        assert_eq!(br0.speed_mbps, None);
        assert_eq!(br0.mac, None);
        let lo = get("lo");
        assert!(lo.is_virtual);
        assert_eq!(lo.kind.as_deref(), Some("loopback"));
        assert_eq!(lo.carrier, Some(true));
        assert_eq!(lo.speed_mbps, None);
        assert_eq!(lo.permanent_mac, None);
        assert_eq!(lo.mtu, Some(65536));
    }

    #[test]
    fn garbage_truncated_and_missing_attributes() {
        let d = tree();
        let r = d.path();
        let eth0 = format!("{PCI}/net/eth0");
        write(r, &format!("{eth0}/mtu"), "lots\n");
        write(r, &format!("{eth0}/type"), "");
        write(r, &format!("{eth0}/speed"), "4294967295\n");
        fs::remove_file(r.join(format!("{eth0}/flags"))).expect("rm");
        fs::remove_file(r.join(format!("{eth0}/operstate"))).expect("rm");
        fs::write(r.join(format!("{eth0}/address")), [0xff, 0xfe]).expect("write");
        link(r, "sys/class/net/ghost", "../../devices/virtual/net/ghost");
        let s = Sysroot::new(d.path());
        let ifs = probe(&s);
        assert_eq!(ifs.len(), 6, "the dangling link is skipped");
        let eth0 = ifs.iter().find(|i| i.name == "eth0").expect("eth0");
        assert_eq!(eth0.mtu, None);
        assert_eq!(eth0.kind, None);
        assert_eq!(eth0.mac, None);
        assert_eq!(
            eth0.carrier,
            Some(true),
            "no flags: operstate unknown, try carrier"
        );
        assert_eq!(eth0.speed_mbps, None, "u32 -1 of older kernels");
        let w = s.warnings();
        let warned = |suffix: &str| w.iter().any(|x| x.path.ends_with(suffix));
        assert!(warned("eth0/mtu"), "{w:?}");
        assert!(warned("eth0/address"), "{w:?}");
        assert!(warned("class/net/ghost"), "{w:?}");
        assert!(warned("eth0/type"), "an empty number is a warning: {w:?}");
        assert!(!warned("eth0/flags"), "missing is silent: {w:?}");
    }

    #[test]
    fn no_network_class() {
        let d = tempfile::tempdir().expect("tempdir");
        let s = Sysroot::new(d.path());
        assert!(probe(&s).is_empty());
        assert!(s.warnings().is_empty());
    }

    #[test]
    fn nearest_pci_function() {
        assert_eq!(
            nearest_pci("sys/devices/pci0000:00/0000:00:1c.0/0000:3b:00.0/virtio1"),
            Some((
                "sys/devices/pci0000:00/0000:00:1c.0/0000:3b:00.0",
                "0000:3b:00.0"
            ))
        );
        assert_eq!(nearest_pci("sys/devices/platform/ff540000.ethernet"), None);
        assert_eq!(
            nearest_pci("0000:00:01.0"),
            Some(("0000:00:01.0", "0000:00:01.0"))
        );
        assert_eq!(nearest_pci(""), None);
    }

    #[test]
    fn live_system_reads_carrier_only_when_up() {
        let s = Sysroot::new("/");
        let ifs = probe(&s);
        if ifs.is_empty() {
            eprintln!("SKIP: no sys/class/net on this machine");
            return;
        }
        assert!(ifs.iter().any(|i| i.kind.as_deref() == Some("loopback")));
        // A driver may still refuse `speed` (EINVAL) on a link that is up; `carrier` never.
        let w = s.warnings();
        assert!(!w.iter().any(|x| x.path.ends_with("/carrier")), "{w:?}");
    }
}
