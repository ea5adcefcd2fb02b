//! The host: architecture, kernel, OS release, hostname, boot mode, kernel taint.

use serde::{Deserialize, Serialize};

use crate::sysroot::Sysroot;

/// The host section of the inventory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Host {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
}

/// Probe the host section.
pub fn probe(sys: &Sysroot) -> Host {
    let _ = sys;
    Host::default()
}
