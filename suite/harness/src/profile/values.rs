//! The values of a profile's keys, checked: durations, the log cap, stress lengths, and the
//! `[[case]]` command cases.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use cases::{Component, Requirements};

use super::duration::{format_duration, parse_duration};
use super::location::{k, Ctx, Seg};
use super::model::{CommandCase, ProfileError, Stress, StressLength};
use super::selector::Selector;

/// Default time limit of a command case.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(300);

/// Default estimate of a command case (at most its time limit).
pub const COMMAND_ESTIMATE: Duration = Duration::from_secs(10);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCase {
    name: String,
    command: Vec<String>,
    purpose: Option<String>,
    timeout: Option<toml::Value>,
    estimate: Option<toml::Value>,
    blocker: Option<bool>,
    applies_to: Option<toml::Value>,
    root: Option<bool>,
    tools: Option<Vec<String>>,
    live: Option<bool>,
}

/// `log_cap`: a size (`"4MiB"`, `"512K"`) or plain bytes, within the bounds of the plan's.
pub(super) fn log_cap(ctx: &Ctx<'_>, v: &toml::Value) -> Result<u64, ProfileError> {
    use documents::plan::{MAX_LOG_CAP_BYTES, MIN_LOG_CAP_BYTES};
    let path = [k("log_cap")];
    let (shown, n) = match v {
        toml::Value::Integer(i) => (i.to_string(), u64::try_from(*i).ok()),
        toml::Value::String(s) => (format!("\"{s}\""), cases::stress::parse_size(s)),
        other => {
            return Err(ctx.err(
                &path,
                format!(
                    "expected a size (\"4MiB\", \"512K\") or a number of bytes, not {}",
                    other.type_str()
                ),
            ))
        }
    };
    let range = format!(
        "the log cap is from {} to {}",
        hwsys::units::iec(MIN_LOG_CAP_BYTES),
        hwsys::units::iec(MAX_LOG_CAP_BYTES)
    );
    match n {
        Some(n) if (MIN_LOG_CAP_BYTES..=MAX_LOG_CAP_BYTES).contains(&n) => Ok(n),
        Some(n) => Err(ctx.err(
            &path,
            format!("{shown} is {}: {range}", hwsys::units::iec(n)),
        )),
        None => Err(ctx.err(
            &path,
            format!("{shown} is not a size (write 4MiB, 512K or plain bytes): {range}"),
        )),
    }
}

pub(super) fn duration_value(
    ctx: &Ctx<'_>,
    path: &[Seg],
    v: &toml::Value,
) -> Result<u64, ProfileError> {
    match v {
        toml::Value::Integer(i) => {
            let s = i.to_string();
            parse_duration(&s).map_err(|e| ctx.err(path, e))
        }
        toml::Value::String(s) => parse_duration(s).map_err(|e| ctx.err(path, e)),
        other => Err(ctx.err(
            path,
            format!(
                "expected a duration (\"30s\", \"5m\", \"1h30m\") or seconds, not {}",
                other.type_str()
            ),
        )),
    }
}

fn stress_length(
    ctx: &Ctx<'_>,
    path: &[Seg],
    v: &toml::Value,
    memory: bool,
) -> Result<StressLength, ProfileError> {
    if let toml::Value::String(s) = v {
        let t = s.trim();
        let passes = if t == "pass" {
            Some(Ok(1))
        } else {
            t.strip_suffix(" passes")
                .or_else(|| t.strip_suffix(" pass"))
                .map(|n| n.trim().parse::<u32>())
        };
        if let Some(n) = passes {
            if !memory {
                return Err(ctx.err(
                    path,
                    "only memory stress runs in passes; give the others a duration",
                ));
            }
            return match n {
                Ok(n @ 1..=100) => Ok(StressLength::Passes(n)),
                _ => Err(ctx.err(path, format!("\"{s}\": from 1 to 100 passes"))),
            };
        }
    }
    duration_value(ctx, path, v).map(StressLength::Seconds)
}

pub(super) fn stress(ctx: &Ctx<'_>, v: &toml::Value) -> Result<Stress, ProfileError> {
    let base = [k("stress_seconds")];
    let mut out = Stress::default();
    match v {
        toml::Value::Table(t) => {
            for (name, v) in t {
                let path = [k("stress_seconds"), k(name)];
                let Some(slot) = out.slot(name) else {
                    return Err(ctx.err(
                        &path,
                        format!(
                            "no stressor \"{name}\": the stressors are cpu, memory and storage"
                        ),
                    ));
                };
                *slot = Some(stress_length(ctx, &path, v, name == "memory")?);
            }
        }
        v => {
            let n = stress_length(ctx, &base, v, false)?;
            out.cpu = Some(n);
            out.memory = Some(n);
            out.storage = Some(n);
        }
    }
    Ok(out)
}

fn component_of(prefix: &str) -> Component {
    match prefix {
        "system" => Component::System,
        "cpu" => Component::Cpu,
        "memory" => Component::Memory,
        "pci" => Component::Pci,
        "storage" => Component::Storage,
        "network" => Component::Network,
        "accel" => Component::Accelerator,
        _ => Component::Vendor,
    }
}

pub(super) fn command_case(
    ctx: &Ctx<'_>,
    i: usize,
    c: RawCase,
    dir: Option<&Path>,
) -> Result<CommandCase, ProfileError> {
    let p = |key: &str| [k("case"), Seg::Index(i), k(key)];
    let part_ok = |s: &str| {
        s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    let component = match c.name.split_once("::") {
        Some((a, b)) if part_ok(a) && part_ok(b) => component_of(a),
        _ => {
            return Err(ctx.err(
                &p("name"),
                format!(
                    "\"{}\" is not a case name: write component::case in lower-case letters, \
                     digits and _ (vendor::firmware_check)",
                    c.name
                ),
            ))
        }
    };
    if c.command.is_empty() || c.command[0].trim().is_empty() {
        return Err(ctx.err(
            &p("command"),
            "an empty command: give the program and its arguments",
        ));
    }
    if c.command.iter().any(|a| a.contains('\0')) {
        return Err(ctx.err(&p("command"), "a command argument holds a NUL character"));
    }
    let mut argv = c.command;
    if argv[0].contains('/') && !argv[0].starts_with('/') {
        if let Some(dir) = dir {
            let abs =
                std::path::absolute(dir.join(&argv[0])).unwrap_or_else(|_| dir.join(&argv[0]));
            argv[0] = abs.display().to_string();
        }
    }
    let timeout = match &c.timeout {
        Some(v) => Duration::from_secs(duration_value(ctx, &p("timeout"), v)?),
        None => COMMAND_TIMEOUT,
    };
    let estimate = match &c.estimate {
        Some(v) => {
            let e = Duration::from_secs(duration_value(ctx, &p("estimate"), v)?);
            if e > timeout {
                return Err(ctx.err(
                    &p("estimate"),
                    format!(
                        "the estimate ({}) is longer than the timeout ({})",
                        format_duration(e.as_secs_f64()),
                        format_duration(timeout.as_secs_f64())
                    ),
                ));
            }
            e
        }
        None => COMMAND_ESTIMATE.min(timeout),
    };
    let applies_to = match &c.applies_to {
        None => Vec::new(),
        Some(toml::Value::String(s)) => {
            vec![Selector::parse(s).map_err(|e| ctx.err(&p("applies_to"), e))?]
        }
        Some(toml::Value::Array(a)) if !a.is_empty() => {
            let mut out = Vec::new();
            for (j, v) in a.iter().enumerate() {
                let path = [k("case"), Seg::Index(i), k("applies_to"), Seg::Index(j)];
                let Some(s) = v.as_str() else {
                    return Err(ctx.err(&path, "a selector is a string (\"pci:15b3:*\")"));
                };
                out.push(Selector::parse(s).map_err(|e| ctx.err(&path, e))?);
            }
            out
        }
        Some(toml::Value::Array(_)) => {
            return Err(ctx.err(
                &p("applies_to"),
                "an empty list: leave applies_to out for one machine-wide instance",
            ))
        }
        Some(other) => {
            return Err(ctx.err(
                &p("applies_to"),
                format!(
                    "expected a selector (\"pci:15b3:*\") or a list of them, not {}",
                    other.type_str()
                ),
            ))
        }
    };
    let tools = c.tools.unwrap_or_default();
    for (j, t) in tools.iter().enumerate() {
        if t.is_empty() || t.contains('/') || t.chars().any(char::is_whitespace) {
            return Err(ctx.err(
                &[k("case"), Seg::Index(i), k("tools"), Seg::Index(j)],
                format!("\"{t}\" is not a program name (looked up on PATH)"),
            ));
        }
    }
    let purpose = c
        .purpose
        .unwrap_or_else(|| format!("vendor command: {}", argv.join(" ")));
    Ok(CommandCase {
        name: c.name,
        component,
        purpose,
        argv,
        timeout,
        estimate,
        blocker: c.blocker.unwrap_or(true),
        applies_to,
        requirements: Requirements {
            root: c.root.unwrap_or(false),
            destructive: false,
            tools,
            min_memory_bytes: None,
            live: c.live.unwrap_or(false),
            disruptive: None,
            disruptive_when: None,
        },
        at: ctx.at(&p("name")),
    })
}
