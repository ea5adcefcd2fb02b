//! What the stress cases' unit tests share: run options, a log sink they can read, the live
//! inventory and a machine-wide target.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::{Inventory, RunOptions, Target};

/// Options with `seconds` and some settings.
pub fn options(seconds: u64, settings: &[(&str, &str)]) -> RunOptions {
    RunOptions {
        stress_seconds: Some(seconds),
        settings: settings
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        ..RunOptions::default()
    }
}

/// A log sink the test can read afterwards.
#[derive(Clone, Default)]
pub struct Log(pub Arc<Mutex<Vec<u8>>>);
impl std::io::Write for Log {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log lock").extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
impl Log {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log lock")).into_owned()
    }
}

/// The live inventory (probed once per test; no udev).
pub fn live_inventory() -> Inventory {
    inventory::probe(&inventory::ProbeOptions {
        udev: false,
        ..inventory::ProbeOptions::default()
    })
    .expect("the live system probes")
}

/// A machine-wide target.
pub fn machine() -> Target {
    Target::machine()
}
