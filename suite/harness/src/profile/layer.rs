//! One profile file: its TOML read into the raw keys, then every key checked into a [`Layer`]
//! (what that one file says), with errors at the file, line and key.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::de::DeTable;

use super::location::{guess_key, k, line_of, locate, one_line, path_at, render_path, Ctx, Seg};
use super::model::{CommandCase, Located, ProfileError, Stress, TimeoutOverride};
use super::pattern::Pattern;
use super::values::{command_case, duration_value, log_cap, stress, RawCase};

/// What one file says, validated.
pub(super) struct Layer {
    pub(super) text: String,
    pub(super) name: Option<String>,
    pub(super) description: Option<String>,
    pub(super) extends: Option<Located<String>>,
    pub(super) stress: Stress,
    pub(super) include: Option<Vec<Located<Pattern>>>,
    pub(super) exclude: Vec<Located<Pattern>>,
    pub(super) mtu_interfaces: Option<Vec<String>>,
    pub(super) log_cap: Option<u64>,
    pub(super) settings: BTreeMap<String, String>,
    pub(super) timeouts: Vec<TimeoutOverride>,
    pub(super) commands: Vec<CommandCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: Option<String>,
    description: Option<String>,
    extends: Option<String>,
    stress_seconds: Option<toml::Value>,
    include: Option<Vec<String>>,
    exclude: Option<Vec<String>>,
    mtu_interfaces: Option<Vec<String>>,
    log_cap: Option<toml::Value>,
    settings: Option<BTreeMap<String, toml::Value>>,
    timeouts: Option<BTreeMap<String, toml::Value>>,
    #[serde(default)]
    case: Vec<RawCase>,
    // Network traffic cases (issue 15): see network.rs.
    network_peer: Option<toml::Value>,
    network_interfaces: Option<Vec<String>>,
    network: Option<BTreeMap<String, toml::Value>>,
}

/// Parse and check one profile file.
pub(super) fn parse_layer(
    text: &str,
    file: &str,
    dir: Option<&Path>,
) -> Result<Layer, ProfileError> {
    let doc = match DeTable::parse(text) {
        Ok(d) => d,
        Err(e) => {
            let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(1);
            return Err(ProfileError {
                file: file.to_string(),
                line: Some(line),
                key: Some(guess_key(text, line)),
                message: format!("not valid TOML: {}", one_line(e.message())),
            });
        }
    };
    let raw: RawProfile = match toml::from_str(text) {
        Ok(r) => r,
        Err(e) => {
            let pos = e.span().map(|s| s.start).unwrap_or(0);
            let mut path = path_at(doc.get_ref(), pos);
            let msg = one_line(e.message())
                .replace("expected a sequence", "expected a list ([…])")
                .replace("expected a map", "expected a table");
            // "missing field `command`": the table is where it is missing from.
            let line = locate(doc.get_ref(), &path)
                .map(|p| line_of(text, p))
                .unwrap_or_else(|| line_of(text, pos));
            if let Some(f) = msg
                .strip_prefix("missing field `")
                .and_then(|m| m.strip_suffix('`'))
            {
                path.push(k(f));
            }
            let key = if path.is_empty() {
                guess_key(text, line)
            } else {
                render_path(&path)
            };
            return Err(ProfileError {
                file: file.to_string(),
                line: Some(line),
                key: Some(key),
                message: msg,
            });
        }
    };
    let ctx = Ctx {
        doc: doc.get_ref(),
        text,
        file,
    };
    check_layer(&ctx, raw, text, dir)
}

fn check_layer(
    ctx: &Ctx<'_>,
    raw: RawProfile,
    text: &str,
    dir: Option<&Path>,
) -> Result<Layer, ProfileError> {
    if let Some(n) = &raw.name {
        if n.trim().is_empty() || n.contains(['\n', '\r']) {
            return Err(ctx.err(&[k("name")], "a profile's name is one non-empty line"));
        }
    }
    let extends = match raw.extends {
        Some(e) if e.trim().is_empty() => {
            return Err(ctx.err(&[k("extends")], "names no profile"));
        }
        Some(e) => Some(Located {
            value: e,
            at: ctx.at(&[k("extends")]),
        }),
        None => None,
    };
    let stress = match &raw.stress_seconds {
        Some(v) => stress(ctx, v)?,
        None => Stress::default(),
    };
    let patterns = |key: &str, list: &Option<Vec<String>>| -> Result<_, ProfileError> {
        let Some(list) = list else { return Ok(None) };
        let mut out = Vec::new();
        for (i, p) in list.iter().enumerate() {
            let path = [k(key), Seg::Index(i)];
            let pat = Pattern::name(p).map_err(|e| ctx.err(&path, e))?;
            out.push(Located {
                value: pat,
                at: ctx.at(&path),
            });
        }
        Ok(Some(out))
    };
    let include = patterns("include", &raw.include)?;
    let exclude = patterns("exclude", &raw.exclude)?.unwrap_or_default();
    if let Some(list) = &raw.mtu_interfaces {
        for (i, n) in list.iter().enumerate() {
            let ok = !n.is_empty()
                && n.len() <= 15
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@'));
            if !ok {
                return Err(ctx.err(
                    &[k("mtu_interfaces"), Seg::Index(i)],
                    format!("\"{n}\" is not an interface name"),
                ));
            }
        }
    }
    let log_cap = raw.log_cap.as_ref().map(|v| log_cap(ctx, v)).transpose()?;
    let mut settings = BTreeMap::new();
    for (key, v) in raw.settings.iter().flatten() {
        let path = [k("settings"), k(key)];
        if key.starts_with("stress.") {
            return Err(ctx.err(
                &path,
                "settings beginning with \"stress.\" are hwcert's, from stress_seconds",
            ));
        }
        if key.starts_with("network.") {
            return Err(ctx.err(
                &path,
                "settings beginning with \"network.\" are hwcert's, from network_peer, \
                 network_interfaces and [network]",
            ));
        }
        if let Some(s) = super::registry::check(key, v).map_err(|e| ctx.err(&path, e))? {
            settings.insert(key.clone(), s);
            continue;
        }
        let s = match v {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => {
                return Err(ctx.err(
                    &path,
                    format!(
                        "a setting is a string, a number or a boolean, not {}",
                        other.type_str()
                    ),
                ))
            }
        };
        settings.insert(key.clone(), s);
    }
    settings.extend(super::network::network_settings(
        ctx,
        raw.network_peer.as_ref(),
        raw.network_interfaces.as_ref(),
        raw.network.as_ref(),
    )?);
    let mut timeouts = Vec::new();
    for (key, v) in raw.timeouts.iter().flatten() {
        let path = [k("timeouts"), k(key)];
        let pattern = Pattern::name(key).map_err(|e| ctx.err(&path, e))?;
        let seconds = duration_value(ctx, &path, v)?;
        timeouts.push(TimeoutOverride {
            pattern,
            seconds,
            depth: 0,
            at: ctx.at(&path),
        });
    }
    let mut commands: Vec<CommandCase> = Vec::new();
    for (i, c) in raw.case.into_iter().enumerate() {
        let cmd = command_case(ctx, i, c, dir)?;
        if let Some(prev) = commands.iter().find(|p| p.name == cmd.name) {
            return Err(ProfileError::at(
                &cmd.at,
                format!(
                    "case \"{}\" is defined twice (first at line {})",
                    cmd.name, prev.at.line
                ),
            ));
        }
        commands.push(cmd);
    }
    Ok(Layer {
        text: text.to_string(),
        name: raw.name,
        description: raw.description,
        extends,
        stress,
        include,
        exclude,
        mtu_interfaces: raw.mtu_interfaces,
        log_cap,
        settings,
        timeouts,
        commands,
    })
}
