//! Glob patterns, written once: [`fnmatch`] as `fnmatch(3)` with no flags (`*`, `?`, `[...]`
//! with ranges, negation and `[:classes:]`, `\` escapes), and [`wildcard`], OpenSSH's
//! `match_pattern` (`*` and `?` only).
//!
//! Both are iterative with one backtracking point (the last `*`): linear in practice,
//! quadratic at worst, never recursive, so a long or hostile pattern can neither blow the stack
//! nor take exponential time.

/// Whether `text` matches the glob `pattern` as `fnmatch(pattern, text, 0)` does.
///
/// Iterative, with one backtracking point (the last `*`): linear in practice, quadratic at
/// worst, never recursive, so long or hostile aliases cannot blow the stack.
pub fn fnmatch(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    // Where to resume after the last `*`: (pattern index after it, text index it now covers).
    let mut star: Option<(usize, usize)> = None;
    loop {
        if let Some(&pc) = pattern.get(p) {
            if pc == b'*' {
                while pattern.get(p) == Some(&b'*') {
                    p += 1;
                }
                if p == pattern.len() {
                    return true;
                }
                star = Some((p, t));
                continue;
            }
            if let Some(&tc) = text.get(t) {
                if let Some(next) = match_one(pattern, p, tc) {
                    p = next;
                    t += 1;
                    continue;
                }
            }
        } else if t == text.len() {
            return true;
        }
        // Mismatch: let the last `*` swallow one more byte, or fail.
        match star {
            Some((sp, st)) if st < text.len() => {
                star = Some((sp, st + 1));
                p = sp;
                t = st + 1;
            }
            _ => return false,
        }
    }
}

/// Match one pattern element (not `*`) at `p` against `c`: the index after the element when
/// it matches.
fn match_one(pattern: &[u8], p: usize, c: u8) -> Option<usize> {
    match pattern.get(p)? {
        b'?' => Some(p + 1),
        b'\\' => {
            // A trailing backslash matches nothing, as in glibc.
            let &lit = pattern.get(p + 1)?;
            (lit == c).then_some(p + 2)
        }
        b'[' => match bracket(pattern, p, c) {
            Some((true, next)) => Some(next),
            Some((false, _)) => None,
            // No closing `]`: the `[` is an ordinary character.
            None => (c == b'[').then_some(p + 1),
        },
        &lit => (lit == c).then_some(p + 1),
    }
}

/// A bracket expression starting at `open` (`[`): whether `c` is in it and the index after
/// its `]`, or `None` when it is not terminated.
fn bracket(pattern: &[u8], open: usize, c: u8) -> Option<(bool, usize)> {
    let mut i = open + 1;
    let negate = matches!(pattern.get(i), Some(b'!') | Some(b'^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let &b = pattern.get(i)?;
        if b == b']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        // A character class: [:name:].
        if b == b'[' && pattern.get(i + 1) == Some(&b':') {
            let rest = pattern.get(i + 2..)?;
            if let Some(end) = rest.windows(2).position(|w| w == b":]") {
                let name = rest.get(..end)?;
                matched |= in_class(name, c);
                i += 2 + end + 2;
                continue;
            }
        }
        let (lo, after) = if b == b'\\' {
            (*pattern.get(i + 1)?, i + 2)
        } else {
            (b, i + 1)
        };
        // A range lo-hi, unless the `-` is the last member (`[a-]`).
        if pattern.get(after) == Some(&b'-') && pattern.get(after + 1).is_some_and(|&x| x != b']') {
            let (hi, next) = match pattern.get(after + 1)? {
                b'\\' => (*pattern.get(after + 2)?, after + 3),
                &h => (h, after + 2),
            };
            matched |= lo <= c && c <= hi;
            i = next;
        } else {
            matched |= lo == c;
            i = after;
        }
    }
}

fn in_class(name: &[u8], c: u8) -> bool {
    match name {
        b"alnum" => c.is_ascii_alphanumeric(),
        b"alpha" => c.is_ascii_alphabetic(),
        b"blank" => c == b' ' || c == b'\t',
        b"cntrl" => c.is_ascii_control(),
        b"digit" => c.is_ascii_digit(),
        b"graph" => c.is_ascii_graphic(),
        b"lower" => c.is_ascii_lowercase(),
        b"print" => c.is_ascii_graphic() || c == b' ',
        b"punct" => c.is_ascii_punctuation(),
        b"space" => c.is_ascii_whitespace() || c == 0x0b,
        b"upper" => c.is_ascii_uppercase(),
        b"xdigit" => c.is_ascii_hexdigit(),
        _ => false,
    }
}

/// OpenSSH's `match_pattern`: `*` matches any run, `?` one character, everything else itself;
/// case-sensitive, over characters (not bytes).
pub fn wildcard(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    // After the last `*`: the pattern index after it, and the text index it now covers to.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                pi += 1;
                star = Some((pi, ti));
            }
            Some(&c) if c == '?' || c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    star = Some((sp, st + 1));
                    pi = sp;
                    ti = st + 1;
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard("lab@example.com", "lab@example.com"));
        assert!(wildcard("*@example.com", "lab@example.com"));
        assert!(wildcard("lab@example.co?", "lab@example.com"));
        assert!(!wildcard("lab@example.co", "lab@example.com"));
        assert!(wildcard("*", ""));
        assert!(wildcard("***a**", "a"));
        assert!(!wildcard("a", ""));
        assert!(wildcard("", ""));
        assert!(!wildcard("[a]", "a"), "no classes in OpenSSH patterns");
        assert!(wildcard("é*", "été"));
    }

    #[test]
    fn hostile_patterns_are_fast() {
        // Exponential for a recursive matcher: 2^40 paths.
        let p = "*a".repeat(40) + "b";
        let t = "a".repeat(4000);
        let start = std::time::Instant::now();
        assert!(!wildcard(&p, &t));
        assert!(!fnmatch(p.as_bytes(), t.as_bytes()));
        // Not a timing assertion on a noisy machine: an exponential matcher would not return
        // at all; this bounds the wait for a human looking at a hang.
        assert!(start.elapsed() < std::time::Duration::from_secs(60));
    }
}
