//! # Profiles
//!
//! A profile says which cases a run holds and how long the stressors run. hwcert has three
//! built-in profiles, written in the same TOML as a user's (`suite/profiles/`):
//!
//! | profile | what |
//! |---|---|
//! | `quick` | every driver and system case, 10 seconds of each stressor; a few minutes |
//! | `standard` | the certification profile: CPU stress 10 minutes, one full memory pass, storage stress 5 minutes per disk |
//! | `full` | a burn-in of hours: CPU stress 2 h, memory stress 1 h, storage stress 30 min per disk |
//!
//! Only `standard`, `full` and files built on them (`extends`, directly or through other files)
//! are certification profiles: a run of `quick`, of a file built on `quick` alone, or of a file
//! that extends no built-in is at best "incomplete" ([`documents::verdict::CERTIFYING`]), and so
//! is one built on them that shortens a stressor below `standard`'s
//! ([`MIN_CERTIFYING_STRESS`]: the plan says which, `not_certifying`); the
//! plan records the answer (`certifies`) and the chain (`profile_chain`).
//!
//! `--profile NAME|FILE`: one of these names, or a TOML file. Every key is optional; an unknown
//! key is an error.
//!
//! ```toml
//! name = "acme-nic"                 # shown in plans and reports (default: the path as given)
//! description = "ACME NIC certification"
//! extends = "standard"              # a built-in, or a file relative to this one ("base.toml")
//!
//! # One duration for every stressor …
//! stress_seconds = 60
//! # … or one per stressor (cpu, memory, storage); the others are inherited. Memory also takes
//! # "pass" or "N passes": full passes over memory, however long they take.
//! stress_seconds = { cpu = "10m", memory = "pass", storage = "5m" }
//!
//! include = ["system::*", "pci::*"]       # only cases (or instances) matching one of these
//! exclude = ["storage::*", "pci::link_not_degraded::0000:3b:00.0"]
//! mtu_interfaces = ["eth1"]               # interfaces network::mtu_roundtrip may change
//! log_cap = "4MiB"                        # the most output an instance's log keeps (per attempt)
//!
//! [settings]                             # free key/values for the cases (strings, numbers, booleans)
//! iperf_server = "10.0.0.2"
//! "reboot.cycles" = 3                     # hwcert's own keys are checked (see below)
//!
//! network_peer = "192.0.2.2"            # the machine running `hwcert peer` (or { default = …, eth1 = … })
//! network_interfaces = ["eth1"]          # interfaces the traffic cases test (default: physical with a link)
//!
//! [network]                              # traffic limits (each also { default = …, eth1 = … })
//! threshold = 80                         # percent of the link speed, each TCP direction
//! seconds = "10s"                        # traffic per direction
//! jumbo_mtu = 9000                       # plans network::jumbo
//!
//! [timeouts]                             # time limits by case or instance name (globs)
//! "storage::read_verify" = "2h"
//!
//! [[case]]                               # a vendor command case
//! name = "vendor::firmware_check"        # component::case, not a built-in case's name
//! command = ["/opt/vendor/check-fw", "--strict"]
//! timeout = "30s"                        # default 5m
//! estimate = "10s"                       # default 10s (at most the timeout)
//! blocker = true                         # default true: a failure means "not certified"
//! applies_to = "pci:15b3:*"              # optional: one instance per match, else one per machine
//! purpose = "firmware is the certified version"
//! root = true                            # needs root (default false)
//! tools = ["mstflint"]                   # programs that must be on PATH
//! live = true                            # only on the live system, not on a --sysroot snapshot
//! ```
//!
//! * **Durations**: `"30s"`, `"5m"`, `"1h30m"`, `"1h 30m 10s"`, or plain seconds (`90` or `"90"`);
//!   more than 0 and at most 30 days.
//! * **`stress_seconds`** sets the length of the stress cases `cpu::stress`, `memory::stress` and
//!   `storage::stress` (per disk). A single number sets all three. The plan carries each
//!   instance's value (`stress_seconds` or `stress_passes` on the instance, see
//!   [`documents::plan::Plan::run_options`]), `options.stress_seconds` when all three are the same
//!   number of seconds, and the settings `stress.cpu_seconds`, `stress.memory_seconds` or
//!   `stress.memory_passes`, `stress.storage_seconds`. A profile without `extends` and without
//!   `stress_seconds` leaves the stress cases at their own defaults.
//! * **Patterns** (`include`, `exclude`, `[timeouts]` keys) are globs over case names and instance
//!   names: `*` (any run, `::` included), `?`, `[a-z]`, `[!…]`. A pattern matching a case name
//!   takes or leaves the whole case; one matching an instance name (`storage::stress::sdb`) just
//!   that instance. An instance runs when `include` is absent or matches it, and no `exclude`
//!   does: exclude wins.
//! * **`extends`**: the file inherits everything of its parent. `include`, `mtu_interfaces`,
//!   and each stressor replace the parent's; `exclude`, `[timeouts]`, `[settings]` and
//!   `[[case]]` add to it (a setting of the same key replaces the parent's). `name` and
//!   `description` are the file's own, never inherited. Chains may be as deep as 16; a cycle is
//!   an error.
//! * **`log_cap`**: the most output one attempt of an instance keeps in its log, and so in the
//!   report: `"4MiB"`, `"512K"`, `"1G"` (powers of 1024) or plain bytes; from 64 KiB to
//!   256 MiB, default 4 MiB ([`documents::plan::DEFAULT_LOG_CAP_BYTES`]). Past it the log keeps
//!   the first and the last half of the cap, with a line between them saying how many bytes
//!   were dropped; the journal and the report carry the count (`log_dropped_bytes`). An
//!   extending file's value replaces its parent's.
//! * **`[timeouts]`**: the most specific match wins (an exact instance name, then an exact case
//!   name, then the glob with most literal characters; at equal rank, the extending file's).
//!   Without a match, a case keeps its own time limit; a stress case's limit grows with its
//!   length.
//! * **`[[case]]`** command cases run after the built-in cases, parents' first. The command runs
//!   with the instance's target in `$HWCERT_TARGET` (empty for a machine-wide instance); exit 0
//!   passes, 77 skips, anything else fails. A first word with a `/` that is relative is relative
//!   to the profile file; a bare word is looked up on PATH. `applies_to` is one selector or a
//!   list: `pci:VVVV[:DDDD[:SVVV:SDDD]]`, `class:CC[SS[PP]]`, `driver:NAME`, `disk:NAME`,
//!   `net:NAME` (each part a glob; see [`Selector`]); the instance is then named
//!   `vendor::firmware_check::0000:3b:00.0`. The component is the name's first part when it is
//!   one of hwcert's (`pci`, `storage`, …), else `vendor`.
//!
//! * **Network traffic** (`network_peer`, `network_interfaces`, `[network]`): the keys and
//!   their defaults are listed in `profile/network.rs`; they become the settings `network.*`
//!   (a `[settings]` key may not begin with `network.`). Without a peer the traffic cases are
//!   not planned and `plan --explain` says how to configure one.
//! * **Accelerator settings** (`[settings]`, read by `accel::load`; see `cases::accel`):
//!   `accel_dcgm_level` (DCGM diagnostic level 1–4: `quick` 1, `standard` 2, `full` 3),
//!   `accel_load_seconds` (gpu-burn's length where DCGM is absent, and rvs gst's on AMD and
//!   Hygon; default the stress duration; `full` 1800), and thresholds that are unset unless a
//!   profile sets them: `accel_min_gflops` (also rvs gst's target, 1000 when unset; Ascend's
//!   ascend-dmi FP16 TFLOPS count ×1000), `accel_min_mem_bandwidth_gbps` (DCGM level 3 or 4,
//!   rvs babel and ascend-dmi --bw measure it),
//!   `accel_max_temp_c`, `accel_max_power_w` (default: 5 % above the GPU's power limit) and
//!   `accel_throttle_fails` (thermal throttling during the load fails it; default false,
//!   reported and recorded).
//! * **`[settings]`** keys of hwcert's own cases (`reboot.*`, `kdump.*`, `watchdog.*`,
//!   `ipmi.*`) are checked when the profile loads (the registry in `profile/registry.rs`:
//!   `reboot.cycles`, `reboot.cold`, `reboot.boot_timeout`, `reboot.system_running_timeout`,
//!   `reboot.kmsg_level`, `reboot.kmsg_allow`, `kdump.enabled`, `kdump.path`,
//!   `watchdog.disruptive`, `ipmi.host`, `ipmi.user`, `ipmi.password_file`); a password is
//!   never accepted in a profile. A case that reboots, crashes or power-cycles the machine is
//!   planned only when its key enables it and the command line says `--allow-reboot`.
//!
//! Every error in a profile is one line naming the file, the line and the key:
//! `acme.toml:7: case[0].timeout: "30x" is not a duration (write 30s, 5m, 1h30m or plain seconds)`.

mod chain;
mod duration;
mod layer;
mod location;
mod model;
mod network;
mod pattern;
mod registry;
mod selector;
mod values;

use std::path::PathBuf;

pub use chain::{BUILTIN, MAX_DEPTH};
pub use duration::{format_duration, parse_duration};
pub use model::{
    CommandCase, Located, Location, Profile, ProfileError, Stress, StressLength, TimeoutOverride,
    MIN_CERTIFYING_STRESS, STRESSORS,
};
pub use pattern::Pattern;
pub use selector::{select, Selector};
pub use values::{COMMAND_ESTIMATE, COMMAND_TIMEOUT};

use chain::{builtin_names, load_chain, Source};
use documents::plan::ProfileSource;

/// Load a profile by built-in name or file path, and check its command cases against the
/// built-in catalog. Errors are [`ProfileError`]s.
pub fn load(spec: &str) -> anyhow::Result<Profile> {
    let p = load_profile(spec)?;
    let names: Vec<String> = cases::catalog()
        .iter()
        .map(|c| c.info().name.clone())
        .collect();
    check_command_names(&p, &names)?;
    Ok(p)
}

/// Load a profile by built-in name or file path (without the catalog check of [`load`]).
pub fn load_profile(spec: &str) -> Result<Profile, ProfileError> {
    let source = if let Some((name, _)) = BUILTIN.iter().find(|(n, _)| *n == spec) {
        Source::Builtin(name)
    } else {
        let p = PathBuf::from(spec);
        if !p.exists() {
            return Err(ProfileError {
                file: spec.to_string(),
                line: None,
                key: None,
                message: format!(
                    "no such profile: not a built-in ({}) and no such file",
                    builtin_names()
                ),
            });
        }
        Source::File(p)
    };
    let mut stack = vec![source.identity()];
    let (mut profile, top) = load_chain(&source, &mut stack)?;
    if profile.certifies {
        if let Some(why) = profile.stress.short_of_certification() {
            profile.certifies = false;
            profile.not_certifying = Some(why);
        }
    }
    profile.name = match (&top.name, &source) {
        (Some(n), _) => n.clone(),
        (None, Source::Builtin(n)) => n.to_string(),
        (None, Source::File(_)) => spec.to_string(),
    };
    if let Source::File(p) = &source {
        profile.source = Some(ProfileSource {
            path: std::path::absolute(p)
                .unwrap_or_else(|_| p.clone())
                .display()
                .to_string(),
            text: top.text.clone(),
        });
    }
    Ok(profile)
}

/// Refuse command cases named like a built-in case.
pub fn check_command_names(p: &Profile, builtin: &[String]) -> Result<(), ProfileError> {
    for c in &p.commands {
        if builtin.contains(&c.name) {
            return Err(ProfileError::at(
                &c.at,
                format!(
                    "\"{}\" is the name of a built-in case: give the command case its own name",
                    c.name
                ),
            ));
        }
    }
    Ok(())
}
