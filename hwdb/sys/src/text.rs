//! Text that is safe to put in front of a person: device strings, log lines and names read
//! from a machine can hold terminal escapes (ESC sequences that clear the screen or set the
//! window title) and other control characters.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// `s` with every control character shown, never obeyed: tab as is where `keep_tab`,
/// otherwise `\n`, `\r`, `\t`, `\e` and `\xNN` (`\u{NNNN}` for C1 and other controls).
pub fn escape_controls(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{1b}' => out.push_str("\\e"),
            c if (c as u32) < 0x80 && c.is_control() => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Multi-line text for a terminal: line breaks and tabs kept, every other control character
/// (ESC, BEL, backspace, C1 controls, a lone carriage return …) shown as by
/// [`escape_controls`], never obeyed. Every human-readable output goes through this.
pub fn escape_text(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut buf = [0u8; 4];
    for c in s.chars() {
        match c {
            '\n' | '\t' => out.push(c),
            c => out.push_str(&escape_controls(c.encode_utf8(&mut buf))),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Serialized JSON made terminal-safe without changing its value: DEL and the C1 controls
/// (U+007F–U+009F, which JSON allows raw in strings and some terminals obey) written as
/// `\u00XX` escapes. serde_json already escapes the C0 controls.
pub fn json_terminal_safe(json: String) -> String {
    if !json.chars().any(|c| ('\u{7f}'..='\u{9f}').contains(&c)) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if ('\u{7f}'..='\u{9f}').contains(&c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// A log line without terminal escapes (CSI `ESC [ … final`, OSC `ESC ] … BEL|ESC \`, and
/// two-character escapes) or control characters other than tab.
pub fn strip_escapes(l: &str) -> String {
    let mut out = String::with_capacity(l.len());
    let mut chars = l.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            match chars.peek() {
                Some('[') => {
                    chars.next();
                    for d in chars.by_ref() {
                        if ('@'..='~').contains(&d) {
                            break;
                        }
                    }
                }
                Some(']') => {
                    chars.next();
                    while let Some(d) = chars.next() {
                        if d == '\u{7}' {
                            break;
                        }
                        if d == '\u{1b}' && chars.peek() == Some(&'\\') {
                            chars.next();
                            break;
                        }
                    }
                }
                _ => {
                    chars.next();
                }
            }
        } else if c == '\t' || !c.is_control() {
            out.push(c);
        }
    }
    out
}

/// How [`tail`] reads a file.
#[derive(Debug, Clone, Copy)]
pub struct Tail {
    /// Lines wanted.
    pub lines: usize,
    /// Read at most this many bytes from the end.
    pub max_bytes: u64,
    /// Skip everything before this offset (what an earlier attempt already wrote).
    pub from: u64,
    /// Leave out empty lines.
    pub skip_empty: bool,
    /// Cut each line to this many characters.
    pub max_chars: usize,
}

impl Default for Tail {
    fn default() -> Self {
        Tail {
            lines: 40,
            max_bytes: 16 * 1024,
            from: 0,
            skip_empty: false,
            max_chars: usize::MAX,
        }
    }
}

/// The last lines of a log file, terminal-safe: invalid UTF-8 replaced, escapes and control
/// characters removed; a first line cut in the middle by `max_bytes` is left out. `None`
/// when the file cannot be read.
pub fn tail(path: &Path, t: Tail) -> Option<Vec<String>> {
    let mut f = File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    let start = t.from.max(len.saturating_sub(t.max_bytes));
    f.seek(SeekFrom::Start(start)).ok()?;
    let mut buf = Vec::new();
    f.take(t.max_bytes).read_to_end(&mut buf).ok()?;
    Some(tail_of(&buf, start > t.from, t))
}

/// [`tail`] of output held in memory (the last bytes of a stream): `cut` says that `bytes`
/// begins in the middle of the output, so that its first line is left out. `t.from` and
/// `t.max_bytes` are not used.
pub fn tail_of(bytes: &[u8], cut: bool, t: Tail) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut lines: Vec<&str> = text.lines().collect();
    if cut && !lines.is_empty() {
        lines.remove(0);
    }
    let lines: Vec<String> = lines
        .into_iter()
        .map(|l| strip_escapes(l.trim_end()))
        .filter(|l| !(t.skip_empty && l.is_empty()))
        .map(|l| {
            if l.chars().count() > t.max_chars {
                l.chars().take(t.max_chars).collect()
            } else {
                l
            }
        })
        .collect();
    let first = lines.len().saturating_sub(t.lines);
    lines[first..].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keeps_its_value() {
        let v = serde_json::json!({"a": "x\u{9b}2J\u{7f}\u{1b}"});
        let s = json_terminal_safe(serde_json::to_string(&v).expect("json"));
        assert_eq!(s, r#"{"a":"x\u009b2J\u007f\u001b"}"#);
        let back: serde_json::Value = serde_json::from_str(&s).expect("parses");
        assert_eq!(back, v);
    }

    #[test]
    fn text_keeps_lines_and_tabs_only() {
        assert_eq!(escape_text("a\tb\nc"), "a\tb\nc");
        assert_eq!(
            escape_text("Model:\u{1b}]0;title\u{7}\u{1b}[2J x\r\n\u{8}\u{9b}"),
            "Model:\\e]0;title\\x07\\e[2J x\\r\n\\x08\\u{009b}"
        );
        assert!(matches!(
            escape_text("plain\n"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn controls_are_shown_not_obeyed() {
        assert_eq!(escape_controls("plain é"), "plain é");
        assert_eq!(
            escape_controls("A\u{1b}[2J\u{1b}]0;pwned\u{7}B\n"),
            "A\\e[2J\\e]0;pwned\\x07B\\n"
        );
        assert_eq!(escape_controls("\u{9b}x"), "\\u{009b}x");
        assert_eq!(escape_controls("\u{7f}"), "\\x7f");
    }

    #[test]
    fn escapes_are_stripped() {
        assert_eq!(strip_escapes("\u{1b}[1;31mred\u{1b}[0m\tok\r"), "red\tok");
        assert_eq!(strip_escapes("a\u{1b}]0;title\u{7}b"), "ab");
        assert_eq!(strip_escapes("a\u{1b}]0;title\u{1b}\\b"), "ab");
        assert_eq!(strip_escapes("x\u{1b}"), "x");
    }

    #[test]
    fn tails() {
        let d = tempfile::tempdir().expect("test");
        let p = d.path().join("log");
        let body: String = (0..100).map(|i| format!("line {i}\n\n")).collect();
        std::fs::write(&p, format!("\u{1b}[2J{body}")).expect("test");
        let all = tail(
            &p,
            Tail {
                lines: 3,
                ..Tail::default()
            },
        )
        .expect("test");
        assert_eq!(all, vec!["", "line 99", ""]);
        let t = tail(
            &p,
            Tail {
                lines: 2,
                skip_empty: true,
                ..Tail::default()
            },
        )
        .expect("test");
        assert_eq!(t, vec!["line 98", "line 99"]);
        let t = tail(
            &p,
            Tail {
                lines: 2,
                max_bytes: 12,
                skip_empty: true,
                ..Tail::default()
            },
        )
        .expect("test");
        assert_eq!(t, vec!["line 99"], "the cut first line is left out");
        let t = tail(
            &p,
            Tail {
                lines: 1000,
                skip_empty: true,
                max_chars: 4,
                ..Tail::default()
            },
        )
        .expect("test");
        assert_eq!(t.len(), 100);
        assert_eq!(t[0], "line");
        let len = std::fs::metadata(&p).expect("test").len();
        let t = tail(
            &p,
            Tail {
                lines: 5,
                from: len,
                ..Tail::default()
            },
        )
        .expect("test");
        assert!(t.is_empty());
        assert!(tail(&d.path().join("none"), Tail::default()).is_none());
    }

    #[test]
    fn tails_of_bytes_in_memory() {
        let t = Tail {
            lines: 1,
            skip_empty: true,
            ..Tail::default()
        };
        // Cut in the middle of a line: that line is left out; garbage bytes are replaced.
        assert_eq!(
            tail_of(b"half line\nwhole \xff\x1b[1mline\n\n", true, t),
            ["whole \u{fffd}line"]
        );
        assert!(tail_of(b"only a cut line", true, t).is_empty());
        assert_eq!(tail_of(b"only a line", false, t), ["only a line"]);
        assert!(tail_of(b"", false, t).is_empty());
    }
}
