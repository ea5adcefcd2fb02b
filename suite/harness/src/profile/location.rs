//! Where a key was written in a profile's TOML: key paths (`case[0].timeout`), the line a key
//! or value sits on, and the key a syntax error is at.

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::model::{Location, ProfileError};

/// One segment of a key path.
#[derive(Debug, Clone)]
pub(super) enum Seg {
    Key(String),
    Index(usize),
}

pub(super) fn render_path(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                if !k.is_empty()
                    && k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                {
                    s.push_str(k);
                } else {
                    s.push_str(&format!("{k:?}"));
                }
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

pub(super) fn line_of(text: &str, pos: usize) -> usize {
    let pos = pos.min(text.len());
    text.as_bytes()[..pos]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The key path of the narrowest key or value whose span holds `pos`.
pub(super) fn path_at(doc: &DeTable<'_>, pos: usize) -> Vec<Seg> {
    fn walk_table(
        t: &DeTable<'_>,
        pos: usize,
        path: &mut Vec<Seg>,
        best: &mut Option<(usize, Vec<Seg>)>,
    ) {
        for (k, v) in t.iter() {
            path.push(Seg::Key(k.get_ref().to_string()));
            for span in [k.span(), v.span()] {
                if span.contains(&pos) || (span.is_empty() && span.start == pos) {
                    let len = span.len();
                    if best.as_ref().is_none_or(|b| len <= b.0) {
                        *best = Some((len, path.clone()));
                    }
                }
            }
            walk_value(v, pos, path, best);
            path.pop();
        }
    }
    fn walk_value(
        v: &Spanned<DeValue<'_>>,
        pos: usize,
        path: &mut Vec<Seg>,
        best: &mut Option<(usize, Vec<Seg>)>,
    ) {
        match v.get_ref() {
            DeValue::Table(t) => walk_table(t, pos, path, best),
            DeValue::Array(a) => {
                for (i, e) in a.iter().enumerate() {
                    path.push(Seg::Index(i));
                    let span = e.span();
                    if span.contains(&pos) && best.as_ref().is_none_or(|b| span.len() <= b.0) {
                        *best = Some((span.len(), path.clone()));
                    }
                    walk_value(e, pos, path, best);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut best = None;
    walk_table(doc, pos, &mut Vec::new(), &mut best);
    best.map(|b| b.1).unwrap_or_default()
}

/// Where the key path was written (its key, or its array element).
pub(super) fn locate(doc: &DeTable<'_>, path: &[Seg]) -> Option<usize> {
    let mut table = doc;
    let mut value: Option<&Spanned<DeValue<'_>>> = None;
    let mut at = None;
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if let Some(v) = value {
                    table = v.get_ref().as_table()?;
                }
                let (key, v) = table.iter().find(|(key, _)| key.get_ref() == k)?;
                at = Some(key.span().start);
                value = Some(v);
            }
            Seg::Index(i) => {
                let e = value?.get_ref().as_array()?.get(*i)?;
                at = Some(e.span().start);
                value = Some(e);
            }
        }
    }
    at
}

/// The key a syntax error sits at: the `key =` of its line under the table header above it.
pub(super) fn guess_key(text: &str, line: usize) -> String {
    let mut table = String::new();
    for (i, l) in text.lines().enumerate().take(line) {
        let t = l.trim();
        if t.starts_with('[') {
            let name = t.trim_start_matches('[');
            let name = name.split(']').next().unwrap_or("").trim();
            table = name.to_string();
            if i + 1 == line {
                return if table.is_empty() {
                    "(table header)".into()
                } else {
                    table
                };
            }
        } else if i + 1 == line {
            if let Some((k, _)) = t.split_once('=') {
                let k = k.trim();
                if !k.is_empty() {
                    return if table.is_empty() {
                        k.to_string()
                    } else {
                        format!("{table}.{k}")
                    };
                }
            }
        }
    }
    if table.is_empty() {
        "(top level)".into()
    } else {
        table
    }
}

/// One line from a possibly multi-line message.
pub(super) fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

pub(super) struct Ctx<'a> {
    pub(super) doc: &'a DeTable<'a>,
    pub(super) text: &'a str,
    pub(super) file: &'a str,
}

impl Ctx<'_> {
    pub(super) fn at(&self, path: &[Seg]) -> Location {
        // The nearest written ancestor when the path itself is not in the file.
        let mut line = 1;
        for n in (0..=path.len()).rev() {
            if let Some(pos) = locate(self.doc, &path[..n]) {
                line = line_of(self.text, pos);
                break;
            }
        }
        Location {
            file: self.file.to_string(),
            line,
            key: render_path(path),
        }
    }
    pub(super) fn err(&self, path: &[Seg], msg: impl Into<String>) -> ProfileError {
        ProfileError::at(&self.at(path), msg)
    }
}

pub(super) fn k(s: &str) -> Seg {
    Seg::Key(s.to_string())
}
