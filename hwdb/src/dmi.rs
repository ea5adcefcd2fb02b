//! Firmware identity from sys/class/dmi/id.

use serde::{Deserialize, Serialize};

use crate::sysroot::Sysroot;

/// The DMI section of the inventory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Dmi {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_serial: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_uuid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub board_serial: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chassis_serial: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub board_asset_tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chassis_asset_tag: Option<String>,
}

/// Probe sys/class/dmi/id; `None` where the platform has no DMI.
pub fn probe(sys: &Sysroot) -> Option<Dmi> {
    let _ = sys;
    None
}
