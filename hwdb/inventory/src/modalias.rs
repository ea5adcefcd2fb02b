//! Matching device modaliases against lib/modules/<kernel>/modules.alias, as modprobe does.
//!
//! `depmod` writes one line per alias, `alias <glob> <module>`, and modprobe (kmod) matches a
//! device's `modalias` against each glob with `fnmatch(3)` and no flags. So does this module:
//! `*` matches any run of bytes (`/` included), `?` any one byte, `[...]` a set (`!` or `^`
//! negates, `a-z` ranges, `[:digit:]`-style classes, `]` first is a member), `\x` is a literal
//! `x`, and matching is case-sensitive (the kernel writes IDs in upper-case hexadecimal both in
//! `modalias` and in `modules.alias`). Module names are normalised as modprobe does, `-` → `_`.
//!
//! A table keeps only the lines of one bus (`pci:`), packed into one buffer, and indexes them
//! by their literal prefix (the bytes before the first glob character: for most PCI aliases
//! `pci:v00008086d000010FBsv`). A glob can only match a modalias that starts with its literal
//! prefix, so a lookup hashes the modalias's first N bytes for each literal-prefix length N in
//! the table (a handful of distinct lengths) and runs the glob on those candidates only.

use hwsys::glob::fnmatch;
use hwsys::Sysroot;

/// Largest modules.alias accepted (a distribution kernel's is about 1.5 MB).
const ALIAS_FILE_LIMIT: u64 = 64 << 20;

/// One `alias` line: the glob and the module, as ranges of [`AliasTable::data`].
#[derive(Debug, Clone, Copy)]
struct Entry {
    start: u32,
    glob_len: u32,
    module_len: u32,
}

/// The aliases of one bus from a modules.alias file.
#[derive(Debug, Default)]
pub struct AliasTable {
    /// Every kept glob followed by its (normalised) module name, back to back.
    data: Vec<u8>,
    /// In file order.
    entries: Vec<Entry>,
    /// (hash of the literal prefix, entry index), sorted.
    index: Vec<(u64, u32)>,
    /// The distinct literal-prefix lengths, ascending.
    literal_lens: Vec<usize>,
    prefix: String,
}

/// What [`AliasTable::parse`] made of a file.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ParseReport {
    /// `alias` lines of any bus.
    pub alias_lines: usize,
    /// Lines of the wanted bus without a usable module name (a truncated file).
    pub malformed: usize,
}

impl AliasTable {
    /// Keep the `alias <prefix>... <module>` lines of `text` (for PCI, `prefix` is `pci:`).
    pub fn parse(text: &[u8], prefix: &str) -> (AliasTable, ParseReport) {
        let mut table = AliasTable {
            prefix: prefix.to_string(),
            ..AliasTable::default()
        };
        // Distribution files are about half PCI aliases of about 60 bytes: reserve for that
        // to avoid regrowing, and give back the rest at the end.
        table.data.reserve(text.len() / 2);
        table.entries.reserve(text.len() / 120);
        table.index.reserve(text.len() / 120);
        let mut report = ParseReport::default();
        for line in Lines(text) {
            let Some(rest) = line.strip_prefix(b"alias") else {
                continue;
            };
            if !rest.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
                continue;
            }
            let rest = trim_start(rest);
            if rest.is_empty() {
                continue;
            }
            report.alias_lines += 1;
            // Most lines are other buses: decide on the prefix before splitting anything.
            if !rest.starts_with(prefix.as_bytes()) {
                continue;
            }
            let (glob, tail) = rest.split_at(word_end(rest));
            let tail = trim_start(tail);
            let module = tail.get(..word_end(tail)).unwrap_or_default();
            if valid_module(module) {
                table.push(glob, module);
            } else {
                report.malformed += 1;
            }
        }
        table.data.shrink_to_fit();
        table.entries.shrink_to_fit();
        table.index.sort_unstable();
        table.literal_lens.sort_unstable();
        (table, report)
    }

    fn push(&mut self, glob: &[u8], module: &[u8]) {
        let (Ok(start), Ok(glob_len), Ok(module_len)) = (
            u32::try_from(self.data.len()),
            u32::try_from(glob.len()),
            u32::try_from(module.len()),
        ) else {
            return;
        };
        let Ok(index) = u32::try_from(self.entries.len()) else {
            return;
        };
        self.data.extend_from_slice(glob);
        self.data
            .extend(module.iter().map(|&b| if b == b'-' { b'_' } else { b }));
        self.entries.push(Entry {
            start,
            glob_len,
            module_len,
        });
        let literal = glob
            .iter()
            .position(|b| matches!(b, b'*' | b'?' | b'[' | b'\\'))
            .unwrap_or(glob.len());
        self.index
            .push((hash(glob.get(..literal).unwrap_or_default()), index));
        if !self.literal_lens.contains(&literal) {
            self.literal_lens.push(literal);
        }
    }

    /// Load lib/modules/<kernel>/modules.alias under the sysroot. A missing file (no modules
    /// installed for that kernel, as in containers) is `None` and silent; a garbage or
    /// truncated one leaves a warning and keeps what could be read.
    pub fn load(sys: &Sysroot, kernel: &str, prefix: &str) -> Option<AliasTable> {
        if kernel.is_empty() || kernel.contains('/') || kernel == "." || kernel == ".." {
            return None;
        }
        let rel = format!("lib/modules/{kernel}/modules.alias");
        let bytes = sys.read_bytes(&rel, ALIAS_FILE_LIMIT)?;
        let (table, report) = AliasTable::parse(&bytes, prefix);
        if report.alias_lines == 0 && bytes.iter().any(|b| !b.is_ascii_whitespace()) {
            sys.warn(&rel, "no 'alias' lines: not a modules.alias file");
        } else if report.malformed > 0 {
            sys.warn(
                &rel,
                format!(
                    "{} '{}' alias line(s) without a module name ignored (truncated file?)",
                    report.malformed,
                    prefix.trim_end_matches(':')
                ),
            );
        }
        Some(table)
    }

    /// Number of aliases kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no alias was kept.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn glob(&self, e: &Entry) -> &[u8] {
        let s = e.start as usize;
        self.data
            .get(s..s + e.glob_len as usize)
            .unwrap_or_default()
    }

    fn module(&self, e: &Entry) -> &[u8] {
        let s = e.start as usize + e.glob_len as usize;
        self.data
            .get(s..s + e.module_len as usize)
            .unwrap_or_default()
    }

    /// The modules whose aliases match `modalias`, deduplicated, in file order.
    pub fn modules_for(&self, modalias: &str) -> Vec<String> {
        let text = modalias.as_bytes();
        if !text.starts_with(self.prefix.as_bytes()) {
            return Vec::new();
        }
        let mut candidates: Vec<u32> = Vec::new();
        for &len in &self.literal_lens {
            let Some(head) = text.get(..len) else {
                break;
            };
            let h = hash(head);
            let from = self.index.partition_point(|(k, _)| *k < h);
            candidates.extend(
                self.index
                    .get(from..)
                    .unwrap_or_default()
                    .iter()
                    .take_while(|(k, _)| *k == h)
                    .map(|(_, i)| *i),
            );
        }
        // File order; a hash collision between two lengths could list an entry twice.
        candidates.sort_unstable();
        candidates.dedup();
        let mut out: Vec<String> = Vec::new();
        for i in candidates {
            let Some(e) = self.entries.get(i as usize) else {
                continue;
            };
            if fnmatch(self.glob(e), text) {
                let m = String::from_utf8_lossy(self.module(e));
                if !out.iter().any(|o| *o == m) {
                    out.push(m.into_owned());
                }
            }
        }
        out
    }
}

/// Lines of a byte buffer, found eight bytes at a time (the scan for newlines is most of the
/// cost of reading a 1.5 MB modules.alias).
struct Lines<'a>(&'a [u8]);

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.0.is_empty() {
            return None;
        }
        let end = find_newline(self.0);
        let (line, rest) = self.0.split_at(end.unwrap_or(self.0.len()));
        self.0 = rest.get(1..).unwrap_or_default();
        Some(line)
    }
}

fn find_newline(s: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    const NL: u64 = ONES * b'\n' as u64;
    let mut chunks = s.chunks_exact(8);
    let mut base = 0usize;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word) ^ NL;
        // A zero byte in x is a newline in the chunk.
        if x.wrapping_sub(ONES) & !x & HIGHS != 0 {
            return chunk.iter().position(|&b| b == b'\n').map(|i| base + i);
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == b'\n')
        .map(|i| base + i)
}

/// FNV-1a: a collision only adds a candidate that the glob then rejects.
fn hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn trim_start(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|b| b.is_ascii_whitespace()).count();
    s.get(n..).unwrap_or_default()
}

fn word_end(s: &[u8]) -> usize {
    s.iter()
        .position(|b| b.is_ascii_whitespace())
        .unwrap_or(s.len())
}

/// A module name as depmod writes it: printable, no path separator.
fn valid_module(m: &[u8]) -> bool {
    !m.is_empty() && m.len() <= 255 && m.iter().all(|b| b.is_ascii_graphic() && *b != b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, t: &str) -> bool {
        fnmatch(p.as_bytes(), t.as_bytes())
    }

    #[test]
    fn stars_and_questions() {
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(m("*", ""));
        assert!(m("*", "anything/with/slashes"));
        assert!(m("a*b*c", "aXXbYYc"));
        assert!(m("a*b*c", "abc"));
        assert!(!m("a*b*c", "abcd"));
        assert!(m("a*b*c*", "abcd"));
        assert!(m("a**b", "ab"));
        assert!(m("?", "x"));
        assert!(!m("?", ""));
        assert!(!m("?", "xy"));
        assert!(m("a?c", "abc"));
        assert!(m("*ab", "aab"));
        assert!(m("*aab", "aaab"));
        assert!(!m("*ab", "aba"));
        assert!(m(
            "pci:v00008086d000010FBsv*sd*bc*sc*i*",
            "pci:v00008086d000010FBsv00008086sd0000000Cbc02sc00i00"
        ));
        assert!(!m(
            "pci:v00008086d000010FBsv*sd*bc*sc*i*",
            "pci:v00008086d000010FCsv00008086sd0000000Cbc02sc00i00"
        ));
        assert!(m(
            "pci:v*d*sv*sd*bc0Csc03i30*",
            "pci:v00008086d0000A36Dsv00001028sd0000085Abc0Csc03i30"
        ));
    }

    #[test]
    fn bracket_classes() {
        assert!(m("[abc]", "b"));
        assert!(!m("[abc]", "d"));
        assert!(m("[a-c]x", "bx"));
        assert!(!m("[a-c]x", "dx"));
        assert!(m("[!a-c]", "d"));
        assert!(m("[^a-c]", "d"));
        assert!(!m("[!a-c]", "a"));
        assert!(m("[]]", "]"));
        assert!(m("[!]]", "a"));
        assert!(!m("[!]]", "]"));
        assert!(m("[a-]", "-"));
        assert!(m("[[:digit:]]x", "7x"));
        assert!(!m("[[:digit:]]x", "ax"));
        assert!(m("[[:xdigit:][:space:]]", "F"));
        assert!(!m("[[:bogus:]]", "a"));
        assert!(m("[\\]]", "]"));
        // An unterminated bracket is a literal `[`.
        assert!(m("[abc", "[abc"));
        assert!(!m("[abc", "a"));
        // Escapes.
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "x"));
        assert!(!m("abc\\", "abc\\"));
        // Brackets in PCI aliases as depmod writes them for ID ranges.
        assert!(m(
            "pci:v000010DEd00001[0-9]*sv*",
            "pci:v000010DEd00001234sv00000000"
        ));
        assert!(!m(
            "pci:v000010DEd00001[0-9]*sv*",
            "pci:v000010DEd00001A34sv00000000"
        ));
    }

    #[test]
    fn matching_is_case_sensitive_like_modprobe() {
        assert!(m("pci:v00008086d00000D57*", "pci:v00008086d00000D57sv0"));
        assert!(!m("pci:v00008086d00000D57*", "pci:v00008086d00000d57sv0"));
        assert!(!m("[A-F]", "b"));
    }

    #[test]
    fn long_and_hostile_inputs_do_not_blow_up() {
        let long_text = format!("pci:{}", "a".repeat(100_000));
        assert!(m("pci:*a", &long_text));
        assert!(!m("pci:*b", &long_text));
        // Many stars against a near-miss: must finish quickly (no exponential backtracking).
        let pattern = format!("{}b", "a*".repeat(200));
        let text = "a".repeat(5_000);
        assert!(!m(&pattern, &text));
        let long_glob = format!("pci:v{}*", "0".repeat(50_000));
        assert!(m(&long_glob, &format!("pci:v{}1", "0".repeat(50_000))));
    }

    const ALIASES: &str = "\
# Aliases extracted from modules themselves.
alias pci:v00008086d000010FBsv*sd*bc*sc*i* ixgbe
alias usb:v0BDAp8153d*dc*dsc*dp*ic*isc*ip*in* r8152
alias pci:v00008086d000010FBsv00008086sd0000000Cbc*sc*i* ixgbe
alias pci:v*d*sv*sd*bc02sc00i* fake-net
alias pci:v00008086d*sv*sd*bc02sc00i* vendor-net
alias pci:v00001AF4d00001041sv*sd*bc*sc*i* virtio_pci
alias pci:v000010DEd*sv*sd*bc03sc0[02]i00* nvidiafb
alias pci:v00008086d000010FBsv*sd*bc*sc*i* ixgbe
";

    #[test]
    fn table_lookup_in_file_order_deduplicated_and_normalised() {
        let (t, r) = AliasTable::parse(ALIASES.as_bytes(), "pci:");
        assert_eq!(r.alias_lines, 8);
        assert_eq!(r.malformed, 0);
        assert_eq!(t.len(), 7);
        assert_eq!(
            t.modules_for("pci:v00008086d000010FBsv00008086sd0000000Cbc02sc00i00"),
            ["ixgbe", "fake_net", "vendor_net"]
        );
        assert_eq!(
            t.modules_for("pci:v00001AF4d00001041sv00001AF4sd00000001bc02sc00i00"),
            ["fake_net", "virtio_pci"]
        );
        assert_eq!(
            t.modules_for("pci:v000010DEd00001234sv00000000sd00000000bc03sc02i00"),
            ["nvidiafb"]
        );
        assert!(t
            .modules_for("pci:v000010DEd00001234sv00000000sd00000000bc03sc01i00")
            .is_empty());
        assert!(t.modules_for("usb:v0BDAp8153d0100dc00").is_empty());
        assert!(t.modules_for("pci:").is_empty());
        assert!(t.modules_for("").is_empty());
        // A glob without any glob character matches only itself.
        let exact = "pci:v00001234d00005678sv00000000sd00000000bc02sc00i00";
        let (t, _) = AliasTable::parse(format!("alias {exact} exact-mod\n").as_bytes(), "pci:");
        assert_eq!(t.modules_for(exact), ["exact_mod"]);
        assert!(t.modules_for(&format!("{exact}0")).is_empty());
    }

    #[test]
    fn truncated_and_garbage_files() {
        let truncated =
            "alias pci:v00008086d000010FBsv*sd*bc*sc*i* ixgbe\nalias pci:v00001AF4d0000";
        let (t, r) = AliasTable::parse(truncated.as_bytes(), "pci:");
        assert_eq!((t.len(), r.malformed), (1, 1));
        let (t, r) = AliasTable::parse(b"\x00\xff\xfe garbage\nalias\nalias \n", "pci:");
        assert_eq!(t.len(), 0);
        assert_eq!(
            r.alias_lines, 0,
            "'alias' without a glob is not an alias line"
        );
        let (t, r) = AliasTable::parse(b"alias pci:v* bad/name\nalias pci:v* \xff\n", "pci:");
        assert_eq!((t.len(), r.malformed), (0, 2));
        let (t, _) = AliasTable::parse(b"", "pci:");
        assert!(t.is_empty());
    }

    #[test]
    fn load_warns_about_garbage_and_is_silent_when_missing() {
        let d = tempfile::tempdir().expect("tempdir");
        let dir = d.path().join("lib/modules/1.0/");
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("modules.alias"), [0u8, 1, 2, 0xff, b'\n']).expect("write");
        let s = Sysroot::new(d.path());
        assert!(AliasTable::load(&s, "2.0", "pci:").is_none());
        assert!(AliasTable::load(&s, "../..", "pci:").is_none());
        assert!(s.warnings().is_empty(), "{:?}", s.warnings());
        let t = AliasTable::load(&s, "1.0", "pci:").expect("table");
        assert!(t.is_empty());
        assert!(s.warnings()[0].message.contains("not a modules.alias"));
        std::fs::write(
            dir.join("modules.alias"),
            "alias pci:v00008086d000010FBsv*sd*bc*sc*i* ixgbe\nalias pci:v0000",
        )
        .expect("write");
        let s = Sysroot::new(d.path());
        let t = AliasTable::load(&s, "1.0", "pci:").expect("table");
        assert_eq!(t.len(), 1);
        assert!(
            s.warnings()[0].message.contains("truncated"),
            "{:?}",
            s.warnings()
        );
    }
}
