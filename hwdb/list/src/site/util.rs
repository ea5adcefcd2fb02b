//! Small helpers: names safe as file names, SHA-256s, thousands, dates, orderings of names and
//! versions, shell quoting.

/// An optional string of a view, or the empty one.
pub(crate) fn s<'a>(o: &'a Option<std::borrow::Cow<'_, str>>) -> &'a str {
    o.as_deref().unwrap_or("")
}

/// The date part of an RFC 3339 time, or the string as it is.
pub(crate) fn day(d: &str) -> &str {
    match d.get(..10) {
        Some(x) if d.as_bytes().get(4) == Some(&b'-') => x,
        _ => d,
    }
}

/// Whether a string may be a file name in the site: letters, digits, `.`, `_`, `-`; not
/// starting with a dot; at most 200 bytes.
pub fn is_safe_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 200
        && !s.starts_with('.')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Whether a string is a lowercase hex SHA-256.
pub fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `1234567` → `1,234,567`.
pub(crate) fn thousands(n: usize) -> String {
    let d = n.to_string();
    let mut out = String::with_capacity(d.len() + d.len() / 3);
    for (i, c) in d.chars().enumerate() {
        if i > 0 && (d.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Compare ASCII-case-insensitively, then exactly.
pub(crate) fn ci_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    a.bytes()
        .map(|c| c.to_ascii_lowercase())
        .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
        .then_with(|| a.cmp(b))
}

/// Compare versions part by part, numbers as numbers: `8.10` after `8.9`.
pub(crate) fn version_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let key = |s: &str| -> Vec<(u64, String)> {
        s.split(['.', ' ', '-'])
            .map(|p| {
                let n: String = p.chars().take_while(|c| c.is_ascii_digit()).collect();
                (n.parse().unwrap_or(0), p.to_string())
            })
            .collect()
    };
    key(a).cmp(&key(b)).then_with(|| a.cmp(b))
}

/// Quote a word for a POSIX shell when it needs it.
pub(crate) fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./_-".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(100000), "100,000");
        assert_eq!(thousands(1234567), "1,234,567");
        assert!(is_safe_name("pci-8086-1572.opencloudos-9.2.x86_64"));
        assert!(!is_safe_name("../x"));
        assert!(!is_safe_name(".hidden"));
        assert!(!is_safe_name("a/b"));
        assert!(!is_safe_name(""));
        assert!(is_sha256(&"a".repeat(64)));
        assert!(!is_sha256(&"A".repeat(64)));
        assert_eq!(
            version_cmp("opencloudos 8.10", "opencloudos 8.9"),
            std::cmp::Ordering::Greater
        );
        assert_eq!(shell_quote("lab@example.com"), "lab@example.com");
        assert_eq!(shell_quote("a b'c"), r"'a b'\''c'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(day("2026-03-01T10:00:00Z"), "2026-03-01");
        assert_eq!(day("soon"), "soon");
    }
}
