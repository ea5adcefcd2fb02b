//! The `[settings]` keys that hwcert's own cases read, checked when the profile loads (other
//! keys stay free-form, for vendor command cases). Durations are stored as seconds, so a case
//! reads plain numbers.
//!
//! | key | value | read by |
//! |---|---|---|
//! | `reboot.cycles` | reboots, 1–1000 (standard 3, full 20); enables `system::reboot_cycle` | reboot_cycle |
//! | `reboot.cold` | `true`: power-cycle through the BMC (ipmitool) instead of `systemctl reboot` | reboot_cycle |
//! | `reboot.boot_timeout` | duration (default 15m): a later boot is one that never came back | reboot_cycle |
//! | `reboot.system_running_timeout` | duration (default 120s) to wait for `systemctl is-system-running` | reboot_cycle |
//! | `reboot.kmsg_level` | 0–7 (default 3, err): kernel log records this severe are errors | reboot_cycle |
//! | `reboot.kmsg_allow` | `\|`-separated substrings of kernel log lines that are never errors | reboot_cycle |
//! | `kdump.enabled` | `true` enables `system::kdump_crash` | kdump |
//! | `kdump.path` | absolute directory of the vmcores (default: kdump.conf's `path`, else /var/crash) | kdump |
//! | `watchdog.disruptive` | `true`: `system::watchdog_reset` lets the watchdog expire | watchdog |
//! | `ipmi.host` | the BMC to reach over lanplus (default: the local /dev/ipmi0) | IPMI |
//! | `ipmi.user` | its user | IPMI |
//! | `ipmi.password_file` | absolute path of a file holding its password (ipmitool -f) | IPMI |
//! | `ipmi.timeout` | duration (default 60s): the limit of each ipmitool call of the BMC cases | bmc_sensors, bmc_sel |
//!
//! A password itself (`ipmi.password`) is refused: profiles are copied into plans and reports.

use super::duration::parse_duration;

enum Kind {
    Count(u64, u64),
    Bool,
    Duration,
    Text,
    AbsPath,
    Host,
}

const KEYS: &[(&str, Kind)] = &[
    ("reboot.cycles", Kind::Count(1, 1000)),
    ("reboot.cold", Kind::Bool),
    ("reboot.boot_timeout", Kind::Duration),
    ("reboot.system_running_timeout", Kind::Duration),
    ("reboot.kmsg_level", Kind::Count(0, 7)),
    ("reboot.kmsg_allow", Kind::Text),
    ("kdump.enabled", Kind::Bool),
    ("kdump.path", Kind::AbsPath),
    ("watchdog.disruptive", Kind::Bool),
    ("ipmi.host", Kind::Host),
    ("ipmi.user", Kind::Text),
    ("ipmi.password_file", Kind::AbsPath),
    ("ipmi.timeout", Kind::Duration),
];

/// The prefixes this registry owns: a key under one that is not listed is a typo.
const OWNED: &[&str] = &["reboot.", "kdump.", "watchdog.", "ipmi."];

/// Check one setting: `Ok(None)` for a key of no hwcert case, `Ok(Some(value))` for one of
/// ours (durations as seconds), `Err(why)` for a bad one.
pub(super) fn check(key: &str, v: &toml::Value) -> Result<Option<String>, String> {
    if key == "ipmi.password" {
        return Err(
            "never write a password into a profile (it is copied into plans and \
                    reports): put it in a file readable only by root and name it in \
                    ipmi.password_file"
                .into(),
        );
    }
    let Some((_, kind)) = KEYS.iter().find(|(k, _)| *k == key) else {
        if OWNED.iter().any(|p| key.starts_with(p)) {
            let known: Vec<&str> = KEYS.iter().map(|k| k.0).collect();
            return Err(format!(
                "no such setting; hwcert's are {}",
                known.join(", ")
            ));
        }
        return Ok(None);
    };
    let text = match v {
        toml::Value::String(s) => s.trim().to_string(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        other => return Err(format!("not a {}", other.type_str())),
    };
    match kind {
        Kind::Count(lo, hi) => match text.parse::<u64>() {
            Ok(n) if (*lo..=*hi).contains(&n) => Ok(Some(n.to_string())),
            _ => Err(format!("\"{text}\": a whole number from {lo} to {hi}")),
        },
        Kind::Bool => match text.as_str() {
            "true" | "false" => Ok(Some(text)),
            _ => Err(format!("\"{text}\": true or false")),
        },
        Kind::Duration => parse_duration(&text).map(|s| Some(s.to_string())),
        Kind::Text if text.chars().any(char::is_control) => Err("holds a control character".into()),
        Kind::Text => Ok(Some(text)),
        Kind::AbsPath if text.starts_with('/') && !text.chars().any(char::is_control) => {
            Ok(Some(text))
        }
        Kind::AbsPath => Err(format!("\"{text}\": an absolute path")),
        Kind::Host
            if !text.is_empty()
                && text.len() <= 253
                && !text.starts_with('-')
                && text
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]_".contains(c)) =>
        {
            Ok(Some(text))
        }
        Kind::Host => Err(format!("\"{text}\": a host name or an IP address")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> toml::Value {
        toml::Value::String(v.into())
    }

    #[test]
    fn hwcert_keys_are_checked_and_others_are_free() {
        assert_eq!(check("iperf_server", &s("x")), Ok(None));
        assert_eq!(
            check("reboot.cycles", &toml::Value::Integer(20)),
            Ok(Some("20".into()))
        );
        assert!(check("reboot.cycles", &toml::Value::Integer(0)).is_err());
        assert!(check("reboot.cycles", &s("many")).is_err());
        assert_eq!(
            check("reboot.system_running_timeout", &s("2m")),
            Ok(Some("120".into()))
        );
        assert!(check("reboot.cylces", &s("3"))
            .expect_err("typo")
            .contains("reboot.cycles"));
        assert!(check("kdump.path", &s("var/crash")).is_err());
        assert!(check("ipmi.host", &s("-oProxyCommand=x")).is_err());
        assert_eq!(
            check("ipmi.host", &s("192.0.2.10")),
            Ok(Some("192.0.2.10".into()))
        );
        let e = check("ipmi.password", &s("hunter2")).expect_err("refused");
        assert!(
            e.contains("ipmi.password_file") && !e.contains("hunter2"),
            "{e}"
        );
        assert!(check("reboot.cold", &s("yes")).is_err());
        assert_eq!(check("ipmi.timeout", &s("90s")), Ok(Some("90".into())));
        assert!(check("ipmi.timeout", &s("soon")).is_err());
    }
}
