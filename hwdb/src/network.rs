//! Network interfaces under sys/class/net.

use serde::{Deserialize, Serialize};

use crate::sysroot::Sysroot;

/// One network interface.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NetInterface {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pci_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permanent_mac: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operstate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speed_mbps: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    /// Software interfaces (loopback, bridges, tunnels) as opposed to hardware ones.
    /// udev's ID_PATH (live system with udevd only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_path: Option<String>,
    /// udev's predictable name (ID_NET_NAME_ONBOARD/SLOT/PATH; live system with udevd only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub udev_name: Option<String>,
    #[serde(rename = "virtual")]
    pub is_virtual: bool,
}

/// Probe every network interface.
pub fn probe(sys: &Sysroot) -> Vec<NetInterface> {
    let _ = sys;
    Vec::new()
}
