//! Query: what `hwcert hwdb query` asks ([`Query`]: PCI IDs, words, architecture, OS release,
//! kind), how an entry answers it, and [`Store::select`], which rules out most files by their
//! names and bytes before parsing any.

use std::fs;
use std::path::{Path, PathBuf};

use crate::entry::Entry;
use crate::error::HclError;
use crate::key::{normalize_pci_id, Key, Kind};
use crate::layout::{COMPONENTS_DIR, SYSTEMS_DIR};
use crate::store::Store;

/// The answer of [`Store::select`].
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// The matching entries, in ID order (systems first).
    pub entries: Vec<Entry>,
    /// Entry files that could not be read or parsed (among those that might have matched).
    pub warnings: Vec<String>,
    /// How many entry files the store holds.
    pub total: usize,
}

impl Store {
    /// The entries that answer `q`. File names (the entries' IDs) and raw bytes rule out most
    /// files before any is parsed, so a query of a large store costs a read of it, not a parse;
    /// every entry returned was parsed and matched in full.
    pub fn select(&self, q: &Query, threads: usize) -> Result<Selection, HclError> {
        let paths = self.entry_paths()?;
        let total = paths.len();
        let candidates: Vec<&PathBuf> = paths
            .iter()
            .filter(|p| q.may_match_path(self.root(), p))
            .collect();
        let threads = threads.clamp(1, 64).min(candidates.len().max(1));
        let chunk = candidates.len().div_ceil(threads).max(1);
        let results: Vec<Vec<Result<Entry, String>>> = std::thread::scope(|s| {
            let handles: Vec<_> = candidates
                .chunks(chunk)
                .map(|part| {
                    s.spawn(move || {
                        let mut out = Vec::new();
                        for p in part {
                            let b = match fs::read(p) {
                                Ok(b) => b,
                                Err(e) => {
                                    out.push(Err(format!("{}: {e}", p.display())));
                                    continue;
                                }
                            };
                            if !q.may_match_bytes(&b) {
                                continue;
                            }
                            match Entry::from_file_bytes(p, &b) {
                                Ok(e) if q.matches(&e) => out.push(Ok(e)),
                                Ok(_) => {}
                                Err(e) => out.push(Err(e.to_string())),
                            }
                        }
                        out
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_default())
                .collect()
        });
        let mut sel = Selection {
            total,
            ..Selection::default()
        };
        for r in results.into_iter().flatten() {
            match r {
                Ok(e) => sel.entries.push(e),
                Err(w) => sel.warnings.push(w),
            }
        }
        Ok(sel)
    }
}

/// What `hwcert hwdb query` asks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// `VENDOR:DEVICE`, optionally `:SUBVENDOR:SUBDEVICE`; a part may be `*`.
    pub pci: Option<Vec<Option<String>>>,
    /// Words that must all appear (case-insensitive) in the entry's names, IDs, driver, OS or
    /// system.
    pub words: Vec<String>,
    /// Architecture (`x86_64`; `amd64` and `arm64` are understood).
    pub arch: Option<String>,
    /// OS release: `9`, `9.2`, `opencloudos`, `opencloudos-9`, `opencloudos 9.2`.
    pub os: Option<String>,
    pub kind: Option<Kind>,
}

/// `8086:1572`, `8086:1572:8086:0001`, `8086:*`: the ID parts, `None` for a wildcard.
pub fn parse_pci_pattern(s: &str) -> Option<Vec<Option<String>>> {
    let parts: Vec<&str> = s.trim().split(':').collect();
    if !(parts.len() == 2 || parts.len() == 4) {
        return None;
    }
    parts
        .into_iter()
        .map(|p| {
            if p == "*" || p.is_empty() {
                Some(None)
            } else {
                normalize_pci_id(p).map(Some)
            }
        })
        .collect()
}

fn normalize_arch(a: &str) -> String {
    match a.trim().to_ascii_lowercase().as_str() {
        "amd64" | "x64" | "x86-64" => "x86_64".into(),
        "arm64" | "armv8" => "aarch64".into(),
        o => o.to_string(),
    }
}

/// Whether a VERSION_ID is the asked release: `9` matches `9` and `9.2`, `9.2` matches `9.2`
/// and `9.2.1`, not `9.20`.
fn version_matches(have: &str, want: &str) -> bool {
    have == want
        || have
            .strip_prefix(want)
            .is_some_and(|rest| rest.starts_with('.'))
}

impl Query {
    /// A query from `hwcert hwdb query`'s positional argument: a PCI ID pattern, or words.
    pub fn from_term(term: Option<&str>) -> Query {
        let mut q = Query::default();
        if let Some(t) = term.map(str::trim).filter(|t| !t.is_empty()) {
            match parse_pci_pattern(t) {
                Some(p) => q.pci = Some(p),
                None => q.words = t.split_whitespace().map(|w| w.to_lowercase()).collect(),
            }
        }
        q
    }

    fn os_matches(&self, k: &Key) -> bool {
        let Some(os) = self.os.as_deref().map(str::trim).filter(|s| !s.is_empty()) else {
            return true;
        };
        let os = os.to_ascii_lowercase();
        // "opencloudos 9", "opencloudos-9", "opencloudos:9", "opencloudos9"?
        let (id, ver) = match os.find([' ', '-', ':', '/']) {
            Some(i) => (Some(&os[..i]), Some(os[i + 1..].trim())),
            None if os.starts_with(|c: char| c.is_ascii_digit()) => (None, Some(os.as_str())),
            None => (Some(os.as_str()), None),
        };
        id.is_none_or(|id| k.os_id == id)
            && ver
                .filter(|v| !v.is_empty())
                .is_none_or(|v| version_matches(&k.os_version_id.to_ascii_lowercase(), v))
    }

    /// False only when the file at `path` (an entry file of the store at `root`, named by its
    /// ID) cannot answer the query: the wrong kind, architecture or PCI IDs.
    pub fn may_match_path(&self, root: &Path, path: &Path) -> bool {
        let kind = match path.parent() {
            Some(d) if d == root.join(SYSTEMS_DIR) => Kind::System,
            Some(d) if d == root.join(COMPONENTS_DIR) => Kind::Component,
            _ => return true,
        };
        if self.kind.is_some_and(|k| k != kind) || (self.pci.is_some() && kind != Kind::Component) {
            return false;
        }
        let Some(stem) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".json"))
        else {
            return true;
        };
        // ID: HW.OSID-VERSION.ARCH, where HW and ARCH hold no dot.
        let (Some((hw, _)), Some((_, arch))) = (stem.split_once('.'), stem.rsplit_once('.')) else {
            return true;
        };
        if let Some(a) = &self.arch {
            if normalize_arch(a) != arch {
                return false;
            }
        }
        if let Some(p) = &self.pci {
            // pci-VVVV-DDDD[-SSSS-TTTT]
            let parts: Vec<&str> = hw.split('-').skip(1).collect();
            for (i, want) in p.iter().enumerate() {
                if let Some(w) = want {
                    if parts.get(i) != Some(&w.as_str()) {
                        return false;
                    }
                }
            }
        }
        true
    }

    /// False only when an entry file's bytes cannot hold every word of the query.
    pub fn may_match_bytes(&self, raw: &[u8]) -> bool {
        // Unicode lowercasing can turn other characters into ASCII ones (the Kelvin sign).
        if self.words.is_empty() || !raw.is_ascii() {
            return true;
        }
        let lower = raw.to_ascii_lowercase();
        self.words.iter().all(|w| {
            // Words the file may hold only in another form (escaped in JSON, or made up of
            // several fields, like "8086:1572") are left to the full match.
            if !w.is_ascii() || w.bytes().any(|b| matches!(b, b':' | b'"' | b'\\' | b'/')) {
                return true;
            }
            memchr::memmem::find(&lower, w.as_bytes()).is_some()
        })
    }

    /// Whether `e` answers the query.
    pub fn matches(&self, e: &Entry) -> bool {
        if self.kind.is_some_and(|k| k != e.kind) {
            return false;
        }
        if let Some(a) = &self.arch {
            if normalize_arch(a) != e.key.arch {
                return false;
            }
        }
        if !self.os_matches(&e.key) {
            return false;
        }
        if let Some(p) = &self.pci {
            if e.kind != Kind::Component {
                return false;
            }
            let have = [
                &e.key.vendor_id,
                &e.key.device_id,
                &e.key.subsystem_vendor_id,
                &e.key.subsystem_device_id,
            ];
            for (want, have) in p.iter().zip(have) {
                if let Some(w) = want {
                    if have.as_deref() != Some(w.as_str()) {
                        return false;
                    }
                }
            }
        }
        if !self.words.is_empty() {
            let hay = haystack(e);
            if !self.words.iter().all(|w| hay.contains(w.as_str())) {
                return false;
            }
        }
        true
    }
}

/// Everything free text searches, lowercased.
pub fn haystack(e: &Entry) -> String {
    let mut parts: Vec<&str> = vec![&e.id, &e.key.os_id, &e.key.os_version_id, &e.key.arch];
    let k = &e.key;
    for s in [
        &k.vendor_id,
        &k.device_id,
        &k.subsystem_vendor_id,
        &k.subsystem_device_id,
        &k.system_vendor,
        &k.system_product,
        &e.names.vendor,
        &e.names.name,
        &e.names.subsystem_vendor,
        &e.names.subsystem,
        &e.names.class,
    ]
    .into_iter()
    .flatten()
    {
        parts.push(s);
    }
    let ids = k.pci_ids();
    if let Some(i) = &ids {
        parts.push(i);
    }
    if let Some(c) = e.current() {
        for s in [&c.driver, &c.driver_version, &c.firmware, &c.system, &c.os]
            .into_iter()
            .flatten()
        {
            parts.push(s);
        }
    }
    parts.join(" ").to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Names;
    use crate::key::Key;
    use crate::store::tests::{cert, nic, sub, sub_of};
    use crate::store::NewEntry;

    #[test]
    fn queries() {
        let t = tempfile::tempdir().expect("tmp");
        let st = Store::create(t.path()).expect("store");
        st.add(&sub(nic("a", "2026-01-01T00:00:00Z", "X710")), "t")
            .expect("add");
        let (es, _) = st.entries(1).expect("entries");
        let e = &es[0];
        let q = |term: Option<&str>, arch: Option<&str>, os: Option<&str>| {
            let mut q = Query::from_term(term);
            q.arch = arch.map(str::to_string);
            q.os = os.map(str::to_string);
            q.matches(e)
        };
        assert!(q(Some("8086:1572"), None, None));
        assert!(q(Some("8086:1572:8086:0001"), None, None));
        assert!(q(Some("8086:*"), None, None));
        assert!(!q(Some("8086:1573"), None, None));
        assert!(!q(Some("8086:1572:8086:0002"), None, None));
        assert!(q(Some("intel x710"), None, None));
        assert!(q(Some("I40E"), None, None));
        assert!(!q(Some("mellanox"), None, None));
        assert!(q(None, Some("amd64"), Some("9")));
        assert!(q(None, Some("x86_64"), Some("opencloudos 9.2")));
        assert!(q(None, None, Some("opencloudos-9")));
        assert!(q(None, None, Some("opencloudos")));
        assert!(!q(None, None, Some("8")));
        assert!(!q(None, None, Some("9.20")));
        assert!(!q(None, None, Some("rhel")));
        assert!(!q(None, Some("aarch64"), None));
    }

    #[test]
    fn select_answers_as_a_full_scan_does() {
        let t = tempfile::tempdir().expect("tmp");
        let st = Store::create(t.path()).expect("store");
        let mut n = 0u8;
        for (v, d, sub, os, arch, name) in [
            (
                "8086",
                "1572",
                Some(("8086", "0001")),
                "9.2",
                "x86_64",
                "X710 \"quoted\"",
            ),
            ("8086", "1572", None, "8.8", "x86_64", "X710"),
            (
                "15b3",
                "1017",
                Some(("15b3", "0006")),
                "9.2",
                "aarch64",
                "ConnectX-5",
            ),
            (
                "1000",
                "10e2",
                Some(("1000", "4000")),
                "9.2",
                "x86_64",
                "MegaRAID \u{212a}",
            ),
        ] {
            n += 1;
            let mut e = nic(&format!("{n:02x}"), "2026-01-01T00:00:00Z", name);
            e.key = Key::pci(v, d, sub, "opencloudos", os, arch).expect("key");
            st.add(&sub_of(e), "t").expect("add");
        }
        let sys = NewEntry {
            key: Key::system("Inspur", "NF5280M5", "opencloudos", "9.2", "x86_64").expect("key"),
            names: Names::default(),
            certification: cert("ee", "2026-01-02T00:00:00Z"),
        };
        st.add(&sub_of(sys), "t").expect("add");
        let (all, _) = st.entries(1).expect("entries");
        assert_eq!(all.len(), 5);
        let queries: Vec<Query> = [
            (None, None, None, None),
            (Some("8086:1572"), None, None, None),
            (Some("8086:1572:8086:0001"), None, None, None),
            (Some("8086:*"), Some("amd64"), None, None),
            (Some("15b3:1017"), Some("x86_64"), None, None),
            (Some("x710"), None, Some("9"), None),
            (Some("\"quoted\""), None, None, None),
            (Some("kelvin k"), None, None, None),
            (Some("megaraid k"), None, None, None),
            (Some("i40e inspur"), None, None, Some(Kind::Component)),
            (Some("inspur"), None, None, Some(Kind::System)),
            (Some("8086:1572 x710"), None, None, None),
            (None, Some("arm64"), Some("opencloudos-9.2"), None),
        ]
        .into_iter()
        .map(|(term, arch, os, kind)| {
            let mut q = Query::from_term(term);
            q.arch = arch.map(str::to_string);
            q.os = os.map(str::to_string);
            q.kind = kind;
            q
        })
        .collect();
        for q in &queries {
            let want: Vec<&str> = all
                .iter()
                .filter(|e| q.matches(e))
                .map(|e| e.id.as_str())
                .collect();
            let sel = st.select(q, 2).expect("select");
            let got: Vec<&str> = sel.entries.iter().map(|e| e.id.as_str()).collect();
            assert_eq!(got, want, "{q:?}");
            assert_eq!(sel.total, 5);
        }
    }
}
