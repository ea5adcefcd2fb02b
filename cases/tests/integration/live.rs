//! Every case on this machine, read-only: each instance passes, fails for a stated reason or
//! skips with one — never `error`. (`network::mtu_roundtrip` selects nothing without a
//! profile naming interfaces, so nothing here changes the machine. `storage::read_verify`
//! only reads, but it reads the machine's real disks only with HWCERT_TEST_READ_DISKS=1;
//! tests/storage.rs runs it on a loop device. Cases that take the machine down are never run
//! here: suite/cli/tests/integration/run_reboot.rs runs them on a simulated machine.)

use crate::common;

use cases::{RunOptions, Selection, Status};
use common::*;

#[test]
fn every_case_on_this_machine() {
    let root = std::path::Path::new("/");
    let inv = probe(root);
    let opts = RunOptions::default();
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    for c in cases::catalog() {
        let name = c.info().name.clone();
        let r = &c.info().requirements;
        // Nor the watchdog: opening /dev/watchdog arms it.
        if r.disruptive.is_some() || r.disruptive_when.is_some() {
            lines.push(format!("{name:32} not run (takes the machine down)"));
            continue;
        }
        match c.select_with(&inv, &opts) {
            Selection::NotApplicable(r) => lines.push(format!("{name:32} not applicable: {r}")),
            Selection::Targets(ts) => {
                for t in ts {
                    if name == "storage::read_verify"
                        && std::env::var_os("HWCERT_TEST_READ_DISKS").is_none()
                    {
                        lines.push(format!(
                            "{:32} not run (set HWCERT_TEST_READ_DISKS=1 to read real disks)",
                            cases::instance_name(&name, &t)
                        ));
                        continue;
                    }
                    let ran = run_on(c.as_ref(), &inv, root, &t, &opts, is_root());
                    let inst = cases::instance_name(&name, &t);
                    let st = ran.verdict().status();
                    lines.push(format!("{inst:32} {} {}", st.as_str(), ran.reason()));
                    if st == Status::Error {
                        errors.push(format!("{inst}: {}\n{}", ran.reason(), ran.log));
                    }
                }
            }
        }
    }
    eprintln!("{}", lines.join("\n"));
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}
