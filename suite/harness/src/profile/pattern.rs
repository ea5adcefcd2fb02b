//! Glob patterns over case and instance names (`storage::*`, `pci::driver_bound::0000:3b:*`)
//! and over hexadecimal ids (`15b3`, `10??`).
//!
//! `*` matches any run of characters (`::` included), `?` one character, `[abc]`, `[a-f]` and
//! `[!abc]` one character of (or not of) a set. Everything else matches itself.

use std::fmt;

/// A compiled glob pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    text: String,
    tokens: Vec<Token>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Char(char),
    Any,
    AnyRun,
    Set {
        negated: bool,
        items: Vec<(char, char)>,
    },
}

impl Pattern {
    /// Compile `text`, whose literal characters must satisfy `literal` (the characters of a case
    /// name, hexadecimal digits, …).
    pub fn parse_with(text: &str, literal: impl Fn(char) -> bool) -> Result<Pattern, String> {
        if text.is_empty() {
            return Err("an empty pattern".into());
        }
        let mut tokens = Vec::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '*' => {
                    if tokens.last() != Some(&Token::AnyRun) {
                        tokens.push(Token::AnyRun);
                    }
                }
                '?' => tokens.push(Token::Any),
                '[' => {
                    let negated = matches!(chars.peek(), Some('!') | Some('^'));
                    if negated {
                        chars.next();
                    }
                    let mut items = Vec::new();
                    let mut closed = false;
                    while let Some(c) = chars.next() {
                        if c == ']' {
                            closed = true;
                            break;
                        }
                        if !literal(c) {
                            return Err(format!("pattern \"{text}\": '{c}' in a [set]"));
                        }
                        if chars.peek() == Some(&'-') {
                            chars.next();
                            match chars.next() {
                                Some(']') => {
                                    items.push((c, c));
                                    items.push(('-', '-'));
                                    closed = true;
                                    break;
                                }
                                Some(hi) if literal(hi) && hi >= c => items.push((c, hi)),
                                Some(hi) => {
                                    return Err(format!(
                                        "pattern \"{text}\": bad range '{c}-{hi}' in a [set]"
                                    ))
                                }
                                None => break,
                            }
                        } else {
                            items.push((c, c));
                        }
                    }
                    if !closed {
                        return Err(format!("pattern \"{text}\": '[' without its ']'"));
                    }
                    if items.is_empty() {
                        return Err(format!("pattern \"{text}\": an empty [set]"));
                    }
                    tokens.push(Token::Set { negated, items });
                }
                ']' => return Err(format!("pattern \"{text}\": ']' without its '['")),
                c if literal(c) => tokens.push(Token::Char(c)),
                c => {
                    return Err(format!(
                        "pattern \"{text}\": '{}' is not allowed here",
                        c.escape_default()
                    ))
                }
            }
        }
        Ok(Pattern {
            text: text.to_string(),
            tokens,
        })
    }

    /// A pattern over case and instance names: letters, digits, `_ - . :` and wildcards.
    pub fn name(text: &str) -> Result<Pattern, String> {
        Pattern::parse_with(text, is_name_char)
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether it has no wildcard at all (matches exactly one string).
    pub fn is_literal(&self) -> bool {
        self.tokens.iter().all(|t| matches!(t, Token::Char(_)))
    }

    /// How many characters must match literally: the more, the more specific the pattern.
    pub fn specificity(&self) -> usize {
        self.tokens
            .iter()
            .filter(|t| matches!(t, Token::Char(_)))
            .count()
    }

    /// Whether some string that starts with `prefix` and goes on for at least one character
    /// matches (`storage::*` and `*::sda` may match an instance of `storage::read_verify`).
    pub fn may_match_longer(&self, prefix: &str) -> bool {
        let closure = |states: &mut Vec<usize>| {
            let mut i = 0;
            while i < states.len() {
                let p = states[i];
                if self.tokens.get(p) == Some(&Token::AnyRun) && !states.contains(&(p + 1)) {
                    states.push(p + 1);
                }
                i += 1;
            }
        };
        let mut states = vec![0usize];
        closure(&mut states);
        for ch in prefix.chars() {
            let mut next = Vec::new();
            for &p in &states {
                let to = match self.tokens.get(p) {
                    Some(Token::AnyRun) => Some(p),
                    Some(Token::Char(c)) if *c == ch => Some(p + 1),
                    Some(Token::Any) => Some(p + 1),
                    Some(Token::Set { negated, items })
                        if items.iter().any(|&(lo, hi)| (lo..=hi).contains(&ch)) != *negated =>
                    {
                        Some(p + 1)
                    }
                    _ => None,
                };
                if let Some(t) = to {
                    if !next.contains(&t) {
                        next.push(t);
                    }
                }
            }
            closure(&mut next);
            if next.is_empty() {
                return false;
            }
            states = next;
        }
        states.iter().any(|&p| p < self.tokens.len())
    }

    /// Whether `s` matches the whole pattern.
    pub fn matches(&self, s: &str) -> bool {
        let s: Vec<char> = s.chars().collect();
        // Iterative wildcard matching with backtracking to the last `*`.
        let (mut p, mut i) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        while i < s.len() {
            let step = match self.tokens.get(p) {
                Some(Token::AnyRun) => {
                    star = Some((p, i));
                    p += 1;
                    continue;
                }
                Some(Token::Char(c)) => *c == s[i],
                Some(Token::Any) => true,
                Some(Token::Set { negated, items }) => {
                    items.iter().any(|&(lo, hi)| (lo..=hi).contains(&s[i])) != *negated
                }
                None => false,
            };
            if step {
                p += 1;
                i += 1;
            } else if let Some((sp, si)) = star {
                p = sp + 1;
                i = si + 1;
                star = Some((sp, si + 1));
            } else {
                return false;
            }
        }
        self.tokens[p..].iter().all(|t| *t == Token::AnyRun)
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The characters of a case or instance name (`pci::driver_bound::0000:3b:00.0`, `nvme0n1`).
pub fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        Pattern::name(p).expect("valid").matches(s)
    }

    #[test]
    fn wildcards() {
        assert!(m("storage::*", "storage::read_verify"));
        assert!(m("storage::*", "storage::read_verify::sda"));
        assert!(!m("storage::*", "cpu::stress"));
        assert!(m("*::stress", "memory::stress"));
        assert!(m("pci::link_not_degraded", "pci::link_not_degraded"));
        assert!(!m(
            "pci::link_not_degraded",
            "pci::link_not_degraded::0000:3b:00.0"
        ));
        assert!(m("pci::*::0000:3b:00.?", "pci::driver_bound::0000:3b:00.0"));
        assert!(m("sd[a-c]", "sdb"));
        assert!(!m("sd[!a-c]", "sdb"));
        assert!(m("sd[!a-c]", "sdd"));
        assert!(m("*a*b*", "xxaxxbxx"));
        assert!(!m("*a*b", "xxaxxbxxc"));
        assert!(m("*", ""));
        assert!(m("a**", "a"));
    }

    #[test]
    fn longer_matches() {
        let may = |p: &str, s: &str| Pattern::name(p).expect("valid").may_match_longer(s);
        assert!(may("storage::*", "storage::read_verify::"));
        assert!(may("*::sda", "storage::read_verify::"));
        assert!(may("storage::read_verify::sd?", "storage::read_verify::"));
        assert!(may("storage::read_verify::sda", "storage::read_verify::"));
        assert!(!may("storage::read_verify", "storage::read_verify::"));
        assert!(!may("cpu::*", "storage::read_verify::"));
        assert!(!may("pci::[!s]*", "storage::read_verify::"));
    }

    #[test]
    fn bad_patterns() {
        for bad in [
            "",
            "storage::[ab",
            "a]",
            "with space",
            "sd[]",
            "sd[c-a]",
            "x/y",
            "é",
        ] {
            assert!(Pattern::name(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn specificity_and_literal() {
        let p = Pattern::name("storage::*").expect("valid");
        assert_eq!(p.specificity(), 9);
        assert!(!p.is_literal());
        assert!(Pattern::name("cpu::stress").expect("valid").is_literal());
    }
}
