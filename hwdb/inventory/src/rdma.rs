//! RDMA devices (InfiniBand HCAs, RoCE and iWARP NICs) under sys/class/infiniband.
//!
//! Each device has `node_type` ("1: CA"), `fw_ver`, `node_guid`, `sys_image_guid`, often
//! `hca_type` and `board_id`, and a `ports/<n>` directory per port with `state`
//! ("4: ACTIVE"), `phys_state` ("5: LinkUp"), `rate` ("200 Gb/sec (4X HDR)") and
//! `link_layer` ("InfiniBand" or "Ethernet"). The network interface a port is bound to comes
//! from `ports/<n>/gid_attrs/ndevs/0` on an Ethernet (RoCE) port — reading it on an InfiniBand
//! port fails, so it is not read there — else from the interfaces of the device's PCI function
//! (`device/net/*`) whose `dev_port` is the port's index (or the only one there is).

use serde::{Deserialize, Serialize};

use hwsys::sysroot::{natural_cmp, Sysroot};

/// One RDMA device.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RdmaDevice {
    /// The device's name: "mlx5_0", "irdma1", "rxe0".
    pub name: String,
    /// "CA", "switch", "router", "RNIC" (the text after the number of `node_type`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fw_ver: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hca_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub board_id: Option<String>,
    /// An identifier like a MAC address: redacted unless identifiers are asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_guid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sys_image_guid: Option<String>,
    /// The PCI function the device is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pci_address: Option<String>,
    /// Its driver (of the PCI function).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    pub ports: Vec<RdmaPort>,
}

/// One port of an RDMA device.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RdmaPort {
    /// The port number (from 1).
    pub port: u32,
    /// "ACTIVE", "DOWN", "INIT", "ARMED" (the text of `state`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// "LinkUp", "Polling", "Disabled" (the text of `phys_state`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phys_state: Option<String>,
    /// `rate` as the kernel writes it: "100 Gb/sec (4X EDR)".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<String>,
    /// The rate in Gb/s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_gbps: Option<f64>,
    /// "InfiniBand" or "Ethernet" (RoCE).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link_layer: Option<String>,
    /// The network interface bound to the port, where sysfs tells.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub netdev: Option<String>,
}

impl RdmaPort {
    /// Whether the port is up for traffic (`state` ACTIVE).
    pub fn is_active(&self) -> bool {
        self.state.as_deref() == Some("ACTIVE")
    }
}

/// "4: ACTIVE" → "ACTIVE"; a value without a number is kept as it is.
fn after_number(s: &str) -> String {
    match s.split_once(':') {
        Some((n, rest)) if n.trim().chars().all(|c| c.is_ascii_digit()) => rest.trim().to_string(),
        _ => s.trim().to_string(),
    }
}

/// A port's `rate` ("100 Gb/sec (4X EDR)", "2.5 Gb/sec (1X SDR)") in Gb/s.
pub fn parse_rate(s: &str) -> Option<f64> {
    let mut w = s.split_whitespace();
    let v: f64 = w.next()?.parse().ok()?;
    (w.next()? == "Gb/sec" && v.is_finite() && v > 0.0).then_some(v)
}

/// Probe every RDMA device.
pub fn probe(sys: &Sysroot) -> Vec<RdmaDevice> {
    const BASE: &str = "sys/class/infiniband";
    let mut names = sys.list_dir(BASE);
    names.sort_by(|a, b| natural_cmp(a, b));
    names
        .into_iter()
        .filter_map(|name| {
            let dir = sys.canonical(&format!("{BASE}/{name}"))?;
            Some(probe_one(sys, &dir, name))
        })
        .collect()
}

fn probe_one(sys: &Sysroot, dir: &str, name: String) -> RdmaDevice {
    let at = |a: &str| format!("{dir}/{a}");
    let mut d = RdmaDevice {
        name,
        node_type: sys.attr(&at("node_type")).map(|v| after_number(&v)),
        fw_ver: sys.attr(&at("fw_ver")),
        node_guid: sys.attr(&at("node_guid")),
        sys_image_guid: sys.attr(&at("sys_image_guid")),
        ..RdmaDevice::default()
    };
    // Not every driver has these (rxe, siw).
    if sys.exists(&at("hca_type")) {
        d.hca_type = sys.attr(&at("hca_type"));
    }
    if sys.exists(&at("board_id")) {
        d.board_id = sys.attr(&at("board_id"));
    }
    let device = sys.canonical(&at("device"));
    if let Some(dev) = device.as_deref() {
        d.driver = sys.link_name(&format!("{dev}/driver"));
        d.pci_address = dev
            .rsplit('/')
            .next()
            .filter(|a| crate::pci::parse_address(a).is_some())
            .map(str::to_string);
    }
    // The interfaces of the same function, with their dev_port.
    let netdevs: Vec<(String, Option<u32>)> = device
        .as_deref()
        .map(|dev| {
            let mut v: Vec<(String, Option<u32>)> = sys
                .list_dir(&format!("{dev}/net"))
                .into_iter()
                .map(|n| {
                    let p = sys.parse::<u32>(&format!("{dev}/net/{n}/dev_port"));
                    (n, p)
                })
                .collect();
            v.sort_by(|a, b| natural_cmp(&a.0, &b.0));
            v
        })
        .unwrap_or_default();
    let mut ports: Vec<u32> = sys
        .list_dir(&at("ports"))
        .into_iter()
        .filter_map(|p| p.parse().ok())
        .collect();
    ports.sort_unstable();
    for n in ports {
        let p = |a: &str| format!("{dir}/ports/{n}/{a}");
        let mut port = RdmaPort {
            port: n,
            state: sys.attr(&p("state")).map(|v| after_number(&v)),
            phys_state: sys.attr(&p("phys_state")).map(|v| after_number(&v)),
            rate: sys.attr(&p("rate")),
            link_layer: sys.attr(&p("link_layer")),
            ..RdmaPort::default()
        };
        port.rate_gbps = port.rate.as_deref().and_then(parse_rate);
        if port.link_layer.as_deref() == Some("Ethernet") && sys.exists(&p("gid_attrs/ndevs/0")) {
            port.netdev = sys.attr(&p("gid_attrs/ndevs/0"));
        }
        if port.netdev.is_none() {
            let by_port: Vec<&String> = netdevs
                .iter()
                .filter(|(_, dp)| *dp == Some(n - 1))
                .map(|(name, _)| name)
                .collect();
            port.netdev = match (by_port.as_slice(), netdevs.as_slice()) {
                ([one], _) => Some((*one).clone()),
                ([], [(only, _)]) => Some(only.clone()),
                _ => None,
            };
        }
        d.ports.push(port);
    }
    d
}

/// Replace the GUIDs by `redacted`.
pub fn redact(devs: &mut [RdmaDevice], redacted: &str) {
    for d in devs {
        for g in [&mut d.node_guid, &mut d.sys_image_guid] {
            if g.is_some() {
                *g = Some(redacted.to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rdma-sysroot")
    }

    #[test]
    fn connectx6_ib_and_mlx5_roce() {
        let s = Sysroot::new(fixture());
        let devs = probe(&s);
        assert!(s.warnings().is_empty(), "{:?}", s.warnings());
        let names: Vec<&str> = devs.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["mlx5_0", "mlx5_1"]);
        let ib = &devs[0];
        assert_eq!(ib.node_type.as_deref(), Some("CA"));
        assert_eq!(ib.fw_ver.as_deref(), Some("20.31.1014"));
        assert_eq!(ib.hca_type.as_deref(), Some("MT4123"));
        assert_eq!(ib.board_id.as_deref(), Some("MT_0000000223"));
        assert_eq!(ib.node_guid.as_deref(), Some("b859:9f03:00c8:1a2e"));
        assert_eq!(ib.pci_address.as_deref(), Some("0000:3b:00.0"));
        assert_eq!(ib.driver.as_deref(), Some("mlx5_core"));
        assert_eq!(
            ib.ports,
            [RdmaPort {
                port: 1,
                state: Some("ACTIVE".into()),
                phys_state: Some("LinkUp".into()),
                rate: Some("200 Gb/sec (4X HDR)".into()),
                rate_gbps: Some(200.0),
                link_layer: Some("InfiniBand".into()),
                netdev: Some("ib0".into()),
            }]
        );
        assert!(ib.ports[0].is_active());
        let roce = &devs[1];
        assert_eq!(roce.pci_address.as_deref(), Some("0000:af:00.0"));
        assert_eq!(roce.ports[0].link_layer.as_deref(), Some("Ethernet"));
        assert_eq!(roce.ports[0].netdev.as_deref(), Some("ens6f0np0"));
        assert_eq!(roce.ports[0].rate_gbps, Some(100.0));
        assert_eq!(roce.ports[0].state.as_deref(), Some("DOWN"));
        assert_eq!(roce.ports[0].phys_state.as_deref(), Some("Disabled"));
        assert!(!roce.ports[0].is_active());
        let mut r = devs.clone();
        redact(&mut r, "REDACTED");
        assert_eq!(r[1].node_guid.as_deref(), Some("REDACTED"));
        assert_eq!(r[1].sys_image_guid.as_deref(), Some("REDACTED"));
    }

    #[test]
    fn garbage_truncated_missing() {
        let d = tempfile::tempdir().expect("tempdir");
        let s = Sysroot::new(d.path());
        assert!(probe(&s).is_empty());
        assert!(s.warnings().is_empty());
        let r = d.path();
        crate::testutil::write(r, "sys/class/infiniband/rxe0/node_type", "");
        crate::testutil::write(r, "sys/class/infiniband/rxe0/ports/1/rate", "fast\n");
        crate::testutil::write(r, "sys/class/infiniband/rxe0/ports/1/state", "4: ACT");
        crate::testutil::write(r, "sys/class/infiniband/rxe0/ports/x/state", "4: ACTIVE\n");
        let s = Sysroot::new(d.path());
        let devs = probe(&s);
        assert_eq!(devs.len(), 1);
        assert_eq!(devs[0].node_type, None);
        assert_eq!(devs[0].ports.len(), 1);
        let p = &devs[0].ports[0];
        assert_eq!((p.rate.as_deref(), p.rate_gbps), (Some("fast"), None));
        assert_eq!(p.state.as_deref(), Some("ACT"));
        assert!(!p.is_active());
        assert_eq!(p.netdev, None);
        assert!(!s.warnings().is_empty(), "the missing attributes are said");
        assert_eq!(parse_rate("2.5 Gb/sec (1X SDR)"), Some(2.5));
        assert_eq!(parse_rate("0 Gb/sec"), None);
        assert_eq!(parse_rate(""), None);
        assert_eq!(after_number("5: LinkUp"), "LinkUp");
        assert_eq!(after_number("LinkUp"), "LinkUp");
    }
}
