//! The raw SMBIOS table (sys/firmware/dmi/tables/DMI): memory devices (type 17).

use serde::{Deserialize, Serialize};

/// One memory device (SMBIOS type 17).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Dimm {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asset_tag: Option<String>,
}
