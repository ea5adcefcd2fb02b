//! `system::watchdog_reset` (advisory, like `system::watchdog_present`) — the hardware
//! watchdog works.
//!
//! It takes the first watchdog of `sys/class/watchdog` that is not the software one (softdog,
//! identity "Software Watchdog", never counts as hardware: it cannot reset a hung machine),
//! opens its device through the machine boundary (opening arms it), reads its timeout
//! (WDIOC_GETTIMEOUT), pets it (WDIOC_KEEPALIVE) and checks that the time left
//! (WDIOC_GETTIMELEFT, where the driver tells) went back up to the timeout, then stops it with
//! the magic close. A driver loaded with nowayout is not opened (it would reset the machine).
//! With `watchdog.disruptive = true` in the profile (and `--allow-reboot`) the supervisor then
//! opens it again and lets it expire; on the next boot the case wants a new boot_id and, where
//! the driver reports it, WDIOF_CARDRESET in `bootstatus`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use documents::outcome::Action;

use crate::reboot::{ask_for, read_state, remove_unit, setting, usable_machine, write_state};
use crate::util::{machine as whole_machine, virtual_machine, Spec};
use crate::{Case, Component, Context, Requirements, Verdict};

pub(crate) fn cases() -> Vec<Box<dyn Case>> {
    vec![Spec {
        name: "system::watchdog_reset",
        purpose: "The hardware watchdog can be armed, petted and stopped (and, in a disruptive profile, resets the machine)",
        component: Component::System,
        blocker: false,
        timeout: 120,
        estimate_ms: 4_000,
        requirements: Requirements {
            live: true,
            disruptive_when: Some("watchdog.disruptive".into()),
            ..Requirements::default()
        },
        select: whole_machine,
        run: watchdog_reset,
    }
    .build()]
}

/// softdog's identity.
pub const SOFTDOG_IDENTITY: &str = "Software Watchdog";
/// WDIOF_CARDRESET in `bootstatus`: the last reboot was the watchdog's.
pub const WDIOF_CARDRESET: u64 = 0x0020;

/// What the case keeps across the reset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WatchdogState {
    pub from_boot: String,
    pub requested_ms: u64,
    /// `watchdog0`.
    pub name: String,
    pub timeout_s: u32,
}

fn parse_status(s: &str) -> Option<u64> {
    let s = s.trim();
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

fn watchdog_reset(ctx: &mut Context<'_>) -> Verdict {
    match run(ctx) {
        Ok(v) | Err(v) => v,
    }
}

fn run(ctx: &mut Context<'_>) -> Result<Verdict, Verdict> {
    let m = usable_machine(ctx)?;
    let sys = hwsys::Sysroot::new(m.sysroot());
    let disruptive: bool = setting(ctx, "watchdog.disruptive", false)?;
    let state_path = ctx.state_file();
    let boot_id = m.boot_id().unwrap_or_default();
    if let Some(p) = &state_path {
        if let Some(st) = read_state::<WatchdogState>(p).map_err(Verdict::error)? {
            return Ok(after_reset(ctx, m.as_ref(), &sys, &st, &boot_id));
        }
    }
    let all: Vec<(String, String)> = sys
        .list_dir("sys/class/watchdog")
        .into_iter()
        .map(|w| {
            let id = sys
                .attr(&format!("sys/class/watchdog/{w}/identity"))
                .unwrap_or_else(|| "no identity".into());
            (w, id)
        })
        .collect();
    for (w, id) in &all {
        ctx.log(format!("{w}: {id}"));
    }
    let Some((name, identity)) = all.iter().find(|(_, id)| id != SOFTDOG_IDENTITY).cloned() else {
        if !all.is_empty() {
            return Ok(Verdict::fail(
                "a hardware watchdog (iTCO_wdt, sp5100_tco, ipmi_watchdog, sbsa_gwdt, …)",
                "only the software watchdog (softdog), which cannot reset a hung machine and \
                 does not count as hardware",
            ));
        }
        return Ok(Verdict::skip(match virtual_machine(ctx.inventory) {
            Some(h) => format!("virtual machine ({h}) without an emulated watchdog"),
            None => "no watchdog device (system::watchdog_present judges that)".into(),
        }));
    };
    let class = format!("sys/class/watchdog/{name}");
    if sys.attr(&format!("{class}/nowayout")).as_deref() == Some("1") && !disruptive {
        return Ok(Verdict::skip(format!(
            "{name} ({identity}) has nowayout set: once opened it cannot be stopped and would \
             reset the machine; not opened"
        )));
    }
    let dev = format!("/dev/{name}");
    let mut wd = match m.open_watchdog(&dev) {
        Ok(w) => w,
        Err(e) if e.contains("busy") => {
            return Ok(Verdict::skip(format!(
                "{e}: another program holds it (systemd's RuntimeWatchdogSec=, watchdog(8)), \
                 which pets it already"
            )))
        }
        Err(e) => return Ok(Verdict::error(e)),
    };
    ctx.log(format!("opened {dev} ({identity}): armed"));
    let checked = pet(ctx, wd.as_mut());
    let stopped = wd.stop();
    let timeout = checked?;
    stopped.map_err(|e| Verdict::fail("the watchdog stops on the magic close", e))?;
    ctx.log(format!("stopped {dev} with the magic close"));
    if !disruptive {
        return Ok(Verdict::Pass);
    }
    let p = state_path.ok_or_else(|| Verdict::error("the case runs outside a run directory"))?;
    let st = WatchdogState {
        from_boot: boot_id,
        requested_ms: m.clocks().map(|c| c.realtime_ms).unwrap_or(0),
        name: name.clone(),
        timeout_s: timeout,
    };
    write_state(&p, &st).map_err(Verdict::error)?;
    ask_for(
        ctx,
        m.as_ref(),
        Action::WatchdogExpire,
        format!("{dev} ({identity}) left to expire after {timeout} s"),
    )?;
    Ok(Verdict::Pass)
}

/// Read the timeout, pet three times a second apart, and check the time left is reset.
fn pet(ctx: &mut Context<'_>, wd: &mut dyn crate::machine::Watchdog) -> Result<u32, Verdict> {
    let timeout = wd.timeout().map_err(Verdict::error)?;
    ctx.log(format!("timeout {timeout} s"));
    if !ctx.judge("timeout_s", timeout as f64, "s", ">", 0.0) {
        return Err(Verdict::fail("a watchdog timeout above 0", "0 s"));
    }
    let mut left_after = None;
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(if cfg!(test) { 10 } else { 1000 }));
        let before = wd.timeleft().map_err(Verdict::error)?;
        wd.keepalive()
            .map_err(|e| Verdict::fail("WDIOC_KEEPALIVE succeeds", e))?;
        let after = wd.timeleft().map_err(Verdict::error)?;
        ctx.log(format!(
            "petted: time left {} → {}",
            before.map_or("unknown".into(), |v| format!("{v} s")),
            after.map_or("unknown".into(), |v| format!("{v} s"))
        ));
        left_after = after;
    }
    if let Some(left) = left_after {
        // The driver counts in whole seconds: a second may pass between the pet and the read.
        if !ctx.judge(
            "timeleft_after_pet_s",
            left as f64,
            "s",
            ">=",
            timeout.saturating_sub(2) as f64,
        ) {
            return Err(Verdict::fail(
                format!("petting resets the time left to the timeout ({timeout} s)"),
                format!("{left} s left right after a keepalive"),
            ));
        }
    }
    Ok(timeout)
}

fn after_reset(
    ctx: &mut Context<'_>,
    m: &dyn crate::machine::Machine,
    sys: &hwsys::Sysroot,
    st: &WatchdogState,
    boot_id: &str,
) -> Verdict {
    remove_unit(ctx, m);
    let expected = format!(
        "a reset by {} within its {} s timeout: a new boot, WDIOF_CARDRESET in bootstatus",
        st.name, st.timeout_s
    );
    if st.from_boot == boot_id {
        return Verdict::fail(
            expected,
            format!("no reset: the boot_id is still {boot_id}"),
        );
    }
    if let Some(c) = m.clocks() {
        ctx.measure(
            "reset_seconds",
            (c.boot_started_ms() as f64 - st.requested_ms as f64) / 1000.0,
            "s",
        );
    }
    let attr = format!("sys/class/watchdog/{}/bootstatus", st.name);
    match sys.attr(&attr).as_deref().and_then(parse_status) {
        Some(b) if b & WDIOF_CARDRESET != 0 => {
            ctx.log(format!(
                "new boot {boot_id}; bootstatus {b:#x}: WDIOF_CARDRESET"
            ));
            Verdict::Pass
        }
        Some(b) => Verdict::fail(
            expected,
            format!(
                "a new boot ({boot_id}), but /{attr} is {b:#x} without WDIOF_CARDRESET (0x20): \
                 the reboot was not the watchdog's"
            ),
        ),
        None => {
            ctx.log(format!(
                "new boot {boot_id}; the driver reports no bootstatus (/{attr}): the new boot_id \
                 alone shows the reset"
            ));
            Verdict::Pass
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootstatus_values() {
        assert_eq!(parse_status("32\n"), Some(32));
        assert_eq!(parse_status("0x20"), Some(32));
        assert_eq!(parse_status("garbage"), None);
        assert_eq!(parse_status(""), None);
    }
}
