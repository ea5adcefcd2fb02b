//! Entry files read for the site: a borrowed view of [`crate::entry::Entry`].
//!
//! Parsing 100,000 entry files into `Entry` (some forty owned strings each) takes seconds, most
//! of it allocating; this view borrows its strings from the file's bytes (a `Cow` owns only a
//! string with escapes in it), which parses in less than half the time. The view has the same
//! fields and accepts the same files as [`Entry::from_file_bytes`] — same required fields, same
//! checks (schema, kind against key, ID against key) — which the tests hold it to; hcl.json
//! takes each file's own bytes, minified, so whatever the store holds is published as it is.

use std::borrow::Cow;
use std::fmt;
use std::path::Path;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use crate::entry::SCHEMA;
use crate::key::{Key, Kind};

type S<'a> = Cow<'a, str>;

/// One case instance of a certification.
#[derive(Debug, Deserialize)]
pub(crate) struct CaseView<'a> {
    #[serde(borrow)]
    pub name: S<'a>,
    #[serde(borrow)]
    pub status: S<'a>,
    pub blocker: bool,
}

/// One certification (see [`crate::entry::Certification`]).
#[derive(Debug, Deserialize)]
pub(crate) struct CertView<'a> {
    #[serde(borrow)]
    pub report_sha256: S<'a>,
    #[serde(borrow)]
    pub date: S<'a>,
    #[serde(borrow)]
    pub added: S<'a>,
    #[serde(borrow)]
    pub profile: S<'a>,
    #[serde(borrow)]
    pub signed_by: S<'a>,
    #[serde(borrow)]
    pub signing_key: S<'a>,
    #[serde(borrow)]
    pub tool_version: S<'a>,
    #[serde(borrow, default)]
    pub os: Option<S<'a>>,
    #[serde(borrow, default)]
    pub kernel: Option<S<'a>>,
    #[serde(borrow, default)]
    pub driver: Option<S<'a>>,
    #[serde(borrow, default)]
    pub driver_version: Option<S<'a>>,
    #[serde(borrow, default)]
    pub firmware: Option<S<'a>>,
    #[serde(borrow, default)]
    pub system: Option<S<'a>>,
    /// In the file's order (the store writes them sorted).
    #[serde(borrow, default, deserialize_with = "pairs")]
    pub details: Vec<(S<'a>, S<'a>)>,
    #[serde(borrow)]
    pub cases: Vec<CaseView<'a>>,
}

/// An entry's key (see [`crate::key::Key`]).
#[derive(Debug, Deserialize)]
pub(crate) struct KeyView<'a> {
    #[serde(borrow, default)]
    pub bus: Option<S<'a>>,
    #[serde(borrow, default)]
    pub vendor_id: Option<S<'a>>,
    #[serde(borrow, default)]
    pub device_id: Option<S<'a>>,
    #[serde(borrow, default)]
    pub subsystem_vendor_id: Option<S<'a>>,
    #[serde(borrow, default)]
    pub subsystem_device_id: Option<S<'a>>,
    #[serde(borrow, default)]
    pub system_vendor: Option<S<'a>>,
    #[serde(borrow, default)]
    pub system_product: Option<S<'a>>,
    #[serde(borrow)]
    pub os_id: S<'a>,
    #[serde(borrow)]
    pub os_version_id: S<'a>,
    #[serde(borrow)]
    pub arch: S<'a>,
}

impl KeyView<'_> {
    /// As hwdb's: the key (for its ID, which only hwdb computes).
    pub fn to_key(&self) -> Key {
        let o = |x: &Option<S>| x.as_ref().map(|s| s.to_string());
        Key {
            bus: o(&self.bus),
            vendor_id: o(&self.vendor_id),
            device_id: o(&self.device_id),
            subsystem_vendor_id: o(&self.subsystem_vendor_id),
            subsystem_device_id: o(&self.subsystem_device_id),
            system_vendor: o(&self.system_vendor),
            system_product: o(&self.system_product),
            os_id: self.os_id.to_string(),
            os_version_id: self.os_version_id.to_string(),
            arch: self.arch.to_string(),
        }
    }

    /// Whether `id` is the key's ID, as [`Key::id`] makes it. A component's is compared
    /// piece by piece, without making it (100,000 of them are checked on every publish); a
    /// system's, whose ID holds a hash of its names, through hwdb.
    pub fn has_id(&self, id: &str) -> bool {
        if self.kind() == Kind::System {
            return self.to_key().id() == id;
        }
        // `{bus}-{vendor}-{device}[-{subvendor}-{subdevice}].{os_id}-{os_version_id}.{arch}`
        let mut rest = id;
        let mut eat = |part: &str| match rest.strip_prefix(part) {
            Some(r) => {
                rest = r;
                true
            }
            None => false,
        };
        let sub = match (&self.subsystem_vendor_id, &self.subsystem_device_id) {
            (Some(v), Some(d)) => Some((v, d)),
            _ => None,
        };
        eat(self.bus.as_deref().unwrap_or("pci"))
            && eat("-")
            && eat(self.vendor_id.as_deref().unwrap_or("0000"))
            && eat("-")
            && eat(self.device_id.as_deref().unwrap_or("0000"))
            && sub.is_none_or(|(v, d)| eat("-") && eat(v) && eat("-") && eat(d))
            && eat(".")
            && eat(&self.os_id)
            && eat("-")
            && eat(&self.os_version_id)
            && eat(".")
            && eat(&self.arch)
            && rest.is_empty()
    }

    /// As [`Key::kind`].
    pub fn kind(&self) -> Kind {
        if self.bus.is_some() {
            Kind::Component
        } else {
            Kind::System
        }
    }

    /// As [`Key::release`]: `opencloudos 9.2`.
    pub fn release(&self) -> String {
        format!("{} {}", self.os_id, self.os_version_id)
    }

    /// As [`Key::pci_ids`]: `8086:1572 8086:0001`.
    pub fn pci_ids(&self) -> Option<String> {
        crate::key::pci_ids([
            self.vendor_id.as_deref(),
            self.device_id.as_deref(),
            self.subsystem_vendor_id.as_deref(),
            self.subsystem_device_id.as_deref(),
        ])
    }
}

/// One entry (see [`crate::entry::Entry`]; its `names` are flattened into it, as in the file).
#[derive(Debug, Deserialize)]
pub(crate) struct EntryView<'a> {
    #[serde(borrow)]
    pub schema: S<'a>,
    #[serde(borrow)]
    pub id: S<'a>,
    pub kind: Kind,
    #[serde(borrow)]
    pub key: KeyView<'a>,
    #[serde(borrow, default)]
    pub vendor: Option<S<'a>>,
    #[serde(borrow, default)]
    pub name: Option<S<'a>>,
    #[serde(borrow, default)]
    pub subsystem_vendor: Option<S<'a>>,
    #[serde(borrow, default)]
    pub subsystem: Option<S<'a>>,
    #[serde(borrow, default)]
    pub class_id: Option<S<'a>>,
    #[serde(borrow, default)]
    pub class: Option<S<'a>>,
    #[serde(borrow)]
    pub certifications: Vec<CertView<'a>>,
}

fn pairs<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(S<'de>, S<'de>)>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<(S<'de>, S<'de>)>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a map of strings")
        }
        fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<Self::Value, M::Error> {
            let mut out = Vec::with_capacity(m.size_hint().unwrap_or(4));
            while let Some((k, v)) = m.next_entry::<Borrowed<'de>, Borrowed<'de>>()? {
                out.push((k.0, v.0));
            }
            Ok(out)
        }
    }
    d.deserialize_map(V)
}

/// A string borrowed where it can be (`Cow<str>` alone always copies inside maps).
struct Borrowed<'a>(S<'a>);

impl<'de> Deserialize<'de> for Borrowed<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Borrowed<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Borrowed(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Borrowed(Cow::Owned(s.to_string())))
            }
            fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
                Ok(Borrowed(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'a> EntryView<'a> {
    /// Parse an entry file's bytes; the error reads as [`Entry::from_file_bytes`]'s does.
    ///
    /// [`Entry::from_file_bytes`]: crate::entry::Entry::from_file_bytes
    pub fn parse(path: &Path, b: &'a [u8]) -> Result<EntryView<'a>, String> {
        let bad = |why: String| {
            format!(
                "{}: not an HCL entry ({why}); fix or remove the file, the store was not changed",
                path.display()
            )
        };
        // An entry is an object (serde would take a struct from an array too; hwdb's, with its
        // flattened names, does not).
        if b.iter().find(|c| !c.is_ascii_whitespace()) != Some(&b'{') {
            return Err(bad("not a JSON object".into()));
        }
        let e = match super::strict::entry(b) {
            Some(e) => e,
            None => serde_json::from_slice(b).map_err(|e| bad(e.to_string()))?,
        };
        if e.schema != SCHEMA {
            return Err(bad(format!(
                "schema \"{}\", expected \"{SCHEMA}\"",
                e.schema
            )));
        }
        if e.key.kind() != e.kind {
            return Err(bad(format!(
                "kind \"{}\" does not match its key",
                e.kind.as_str()
            )));
        }
        if !e.key.has_id(&e.id) {
            return Err(bad(format!(
                "id \"{}\" does not match its key (\"{}\")",
                e.id,
                e.key.to_key().id()
            )));
        }
        Ok(e)
    }

    pub fn current(&self) -> Option<&CertView<'a>> {
        self.certifications.first()
    }

    /// As [`crate::entry::Entry::title`].
    pub fn title(&self) -> String {
        crate::entry::title(
            self.kind,
            [
                self.key.system_vendor.as_deref(),
                self.key.system_product.as_deref(),
            ],
            [self.key.vendor_id.as_deref(), self.key.device_id.as_deref()],
            [
                self.vendor.as_deref(),
                self.name.as_deref(),
                self.subsystem.as_deref(),
            ],
        )
    }
}

/// Append JSON text without the whitespace between its tokens (strings kept byte for byte):
/// a pretty entry file becomes what `serde_json::to_vec` would have written.
pub(crate) fn minify_into(out: &mut Vec<u8>, json: &[u8]) {
    out.reserve(json.len());
    let n = json.len();
    let mut i = 0;
    // Runs of bytes to keep are copied whole: a string through its closing quote (an escape
    // skips the byte after the backslash), or structure, numbers and literals up to the next
    // whitespace or string.
    while i < n {
        match json[i] {
            b' ' | b'\n' | b'\r' | b'\t' => i += 1,
            b'"' => {
                let from = i;
                i += 1;
                while i < n {
                    match json[i] {
                        b'"' => {
                            i += 1;
                            break;
                        }
                        b'\\' => i += 2,
                        _ => i += 1,
                    }
                }
                out.extend_from_slice(&json[from..i.min(n)]);
            }
            _ => {
                let from = i;
                i += 1;
                while i < n && !matches!(json[i], b' ' | b'\n' | b'\r' | b'\t' | b'"') {
                    i += 1;
                }
                out.extend_from_slice(&json[from..i]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Entry;
    use crate::store::Store;

    /// The view's fields, as an `Entry`, to compare with hwdb's parse.
    fn to_entry(v: &EntryView) -> Entry {
        let o = |x: &Option<S>| x.as_ref().map(|s| s.to_string());
        Entry {
            schema: v.schema.to_string(),
            id: v.id.to_string(),
            kind: v.kind,
            key: v.key.to_key(),
            names: crate::entry::Names {
                vendor: o(&v.vendor),
                name: o(&v.name),
                subsystem_vendor: o(&v.subsystem_vendor),
                subsystem: o(&v.subsystem),
                class_id: o(&v.class_id),
                class: o(&v.class),
            },
            certifications: v
                .certifications
                .iter()
                .map(|c| crate::entry::Certification {
                    report_sha256: c.report_sha256.to_string(),
                    date: c.date.to_string(),
                    added: c.added.to_string(),
                    profile: c.profile.to_string(),
                    signed_by: c.signed_by.to_string(),
                    signing_key: c.signing_key.to_string(),
                    tool_version: c.tool_version.to_string(),
                    os: o(&c.os),
                    kernel: o(&c.kernel),
                    driver: o(&c.driver),
                    driver_version: o(&c.driver_version),
                    firmware: o(&c.firmware),
                    system: o(&c.system),
                    details: c
                        .details
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                    cases: c
                        .cases
                        .iter()
                        .map(|x| crate::entry::CaseResult {
                            name: x.name.to_string(),
                            status: x.status.to_string(),
                            blocker: x.blocker,
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    #[test]
    fn the_view_reads_what_hwdb_reads() {
        let t = tempfile::tempdir().expect("tmp");
        testing::synth::generate(t.path(), 120, 2).expect("store");
        let st = Store::open(t.path()).expect("store");
        let mut n = 0;
        for p in st.entry_paths().expect("paths") {
            let b = std::fs::read(&p).expect("read");
            let e = Entry::from_file_bytes(&p, &b).expect("hwdb reads it");
            let v = EntryView::parse(&p, &b).expect("the view reads it");
            assert_eq!(to_entry(&v), e);
            assert!(v.key.has_id(&e.id));
            for other in [
                format!("{}x", e.id),
                e.id.replacen('-', "_", 1),
                e.id[1..].to_string(),
            ] {
                assert!(!v.key.has_id(&other), "{other}");
            }
            assert_eq!(v.title(), e.title());
            let mut m = Vec::new();
            minify_into(&mut m, &b);
            assert_eq!(m, serde_json::to_vec(&e).expect("json"), "{}", p.display());
            n += 1;
        }
        assert_eq!(n, 120);
    }

    #[test]
    fn the_view_refuses_what_hwdb_refuses() {
        let t = tempfile::tempdir().expect("tmp");
        testing::synth::generate(t.path(), 2, 1).expect("store");
        let st = Store::open(t.path()).expect("store");
        let p = st.entry_paths().expect("paths").remove(1);
        let good = std::fs::read_to_string(&p).expect("read");
        let e = Entry::from_file_bytes(&p, good.as_bytes()).expect("entry");
        let mut bad: Vec<String> = vec![
            good.replace("hwcert.hcl/1", "hwcert.hcl/9"),
            good.replace(&format!("\"id\": \"{}\"", e.id), "\"id\": \"other\""),
            good.replace("\"kind\": \"component\"", "\"kind\": \"system\""),
            good.replace("\"profile\"", "\"profile_\""),
            good.replace("\"blocker\": true", "\"blocker\": \"yes\""),
            good.replace("\"arch\"", "\"arch_\""),
            good[..good.len() / 2].to_string(),
            "[]".into(),
            // A struct as an array: serde's derive takes it, hwdb's entry does not.
            serde_json::to_string(&serde_json::json!(["hwcert.hcl/1", e.id, "component"]))
                .expect("json"),
        ];
        // A names field of the wrong type.
        bad.push(good.replacen("\"vendor\": \"", "\"vendor\": 7, \"x\": \"", 1));
        for b in &bad {
            assert_ne!(b, &good);
            let hw = Entry::from_file_bytes(&p, b.as_bytes());
            let v = EntryView::parse(&p, b.as_bytes());
            assert_eq!(hw.is_ok(), v.is_ok(), "{b}");
            if let (Err(h), Err(v)) = (hw, v) {
                // serde words some errors differently for hwdb's flattened names.
                let head = format!("{}: not an HCL entry (", p.display());
                assert!(h.to_string().starts_with(&head), "{h}");
                assert!(v.starts_with(&head), "{v}");
            }
        }
        // Unknown fields are ignored by both.
        let extra = good.replacen('{', "{\"future\": {\"a\": [1, 2]},", 1);
        assert!(Entry::from_file_bytes(&p, extra.as_bytes()).is_ok());
        assert!(EntryView::parse(&p, extra.as_bytes()).is_ok());
    }

    #[test]
    fn minify() {
        let mut o = Vec::new();
        minify_into(
            &mut o,
            b"{\n  \"a b\": [1, 2.5e3, true, null],\n  \"q\": \"x \\\" y\\\\\"\n}\n",
        );
        assert_eq!(o, br#"{"a b":[1,2.5e3,true,null],"q":"x \" y\\"}"#);
        // Cut short inside a string, or after a backslash: kept as it is, no panic.
        for cut in [&b"[\"ab"[..], b"[\"ab\\", b"\"", b"\\"] {
            let mut o = Vec::new();
            minify_into(&mut o, cut);
            assert_eq!(o, cut);
        }
    }
}
