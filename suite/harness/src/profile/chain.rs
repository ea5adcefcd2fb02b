//! The built-in profiles, and `extends`: loading a profile and what it extends, one layer at
//! a time, and folding the layers into one [`Profile`] (what replaces, what adds up).

use std::path::{Path, PathBuf};

use super::layer::{parse_layer, Layer};
use super::model::{Profile, ProfileError, STRESSORS};

/// The built-in profiles: name and TOML text.
pub const BUILTIN: [(&str, &str); 3] = [
    ("quick", include_str!("../../profiles/quick.toml")),
    ("standard", include_str!("../../profiles/standard.toml")),
    ("full", include_str!("../../profiles/full.toml")),
];

/// How deep `extends` chains may go.
pub const MAX_DEPTH: usize = 16;

pub(super) fn builtin_names() -> String {
    BUILTIN.iter().map(|b| b.0).collect::<Vec<_>>().join(", ")
}

#[derive(Debug, Clone)]
pub(super) enum Source {
    Builtin(&'static str),
    File(PathBuf),
}

impl Source {
    pub(super) fn identity(&self) -> String {
        match self {
            Source::Builtin(n) => format!("built-in {n}"),
            Source::File(p) => std::fs::canonicalize(p)
                .unwrap_or_else(|_| p.clone())
                .display()
                .to_string(),
        }
    }
    pub(super) fn label(&self) -> String {
        match self {
            Source::Builtin(n) => format!("built-in profile {n}"),
            Source::File(p) => p.display().to_string(),
        }
    }
    pub(super) fn short(&self) -> String {
        match self {
            Source::Builtin(n) => n.to_string(),
            Source::File(p) => p.display().to_string(),
        }
    }
}

pub(super) fn load_chain(
    source: &Source,
    stack: &mut Vec<String>,
) -> Result<(Profile, Layer), ProfileError> {
    let label = source.label();
    let (text, dir) = match source {
        Source::Builtin(n) => {
            let text = BUILTIN
                .iter()
                .find(|b| b.0 == *n)
                .map(|b| b.1)
                .unwrap_or_default();
            (text.to_string(), None)
        }
        Source::File(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| ProfileError {
                file: label.clone(),
                line: None,
                key: None,
                message: format!("cannot read it: {e}"),
            })?;
            let dir = p
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_path_buf();
            (text, Some(dir))
        }
    };
    let layer = parse_layer(&text, &label, dir.as_deref())?;
    let mut base = Profile::empty("");
    if let Some(ext) = &layer.extends {
        let parent = if let Some((n, _)) = BUILTIN.iter().find(|b| b.0 == ext.value) {
            Source::Builtin(n)
        } else {
            let Some(dir) = &dir else {
                return Err(ProfileError::at(
                    &ext.at,
                    format!(
                        "a built-in profile extends only built-ins ({})",
                        builtin_names()
                    ),
                ));
            };
            let p = dir.join(&ext.value);
            if !p.is_file() {
                return Err(ProfileError::at(
                    &ext.at,
                    format!(
                        "\"{}\" is not a built-in profile ({}) and {} is no file",
                        ext.value,
                        builtin_names(),
                        p.display()
                    ),
                ));
            }
            Source::File(p)
        };
        let id = parent.identity();
        if let Some(i) = stack.iter().position(|s| *s == id) {
            let mut cycle: Vec<String> = stack[i..].to_vec();
            cycle.push(id);
            return Err(ProfileError::at(
                &ext.at,
                format!("extends itself: {}", cycle.join(" → ")),
            ));
        }
        if stack.len() >= MAX_DEPTH {
            return Err(ProfileError::at(
                &ext.at,
                format!("more than {MAX_DEPTH} profiles extend one another"),
            ));
        }
        stack.push(id);
        base = load_chain(&parent, stack)?.0;
        stack.pop();
    }
    let mut profile = merge(base, &layer, source.short())?;
    // The nearest built-in of the chain decides; a file inherits its parent's answer.
    if let Source::Builtin(n) = source {
        profile.certifies = documents::verdict::CERTIFYING.contains(n);
    }
    Ok((profile, layer))
}

pub(super) fn merge(mut p: Profile, l: &Layer, short: String) -> Result<Profile, ProfileError> {
    p.chain.insert(0, short);
    // A description says what its own file does: never inherited.
    p.description = l.description.clone();
    for s in STRESSORS {
        if let (Some(v), Some(slot)) = (l.stress.get(s), p.stress.slot(s)) {
            *slot = Some(v);
        }
    }
    if l.include.is_some() {
        p.include = l.include.clone();
    }
    p.exclude.extend(l.exclude.iter().cloned());
    if let Some(m) = &l.mtu_interfaces {
        p.mtu_interfaces = m.clone();
    }
    if l.log_cap.is_some() {
        p.log_cap = l.log_cap;
    }
    p.settings
        .extend(l.settings.iter().map(|(k, v)| (k.clone(), v.clone())));
    for t in &mut p.timeouts {
        t.depth += 1;
    }
    p.timeouts.extend(l.timeouts.iter().cloned());
    for c in &l.commands {
        if let Some(prev) = p.commands.iter().find(|x| x.name == c.name) {
            return Err(ProfileError::at(
                &c.at,
                format!(
                    "case \"{}\" is already defined by {}:{}",
                    c.name, prev.at.file, prev.at.line
                ),
            ));
        }
        p.commands.push(c.clone());
    }
    Ok(p)
}
