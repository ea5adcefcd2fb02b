//! Entry files read for the site: a borrowed view of [`crate::entry::Entry`].
//!
//! Parsing 100,000 entry files into `Entry` (some forty owned strings each) takes seconds, most
//! of it allocating; this view borrows its strings from the file's bytes (a `Cow` owns only a
//! string with escapes in it), which parses in less than half the time. The view has the same
//! fields and accepts the same files as [`Entry::from_file_bytes`] — same required fields, same
//! checks (schema, kind against key, ID against key: the `parse` module) — which the tests
//! hold it to; hcl.json takes each file's own bytes, minified, so whatever the store holds is
//! published as it is.
//!
//! [`Entry::from_file_bytes`]: crate::entry::Entry::from_file_bytes

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use crate::key::{Key, Kind};

/// A string of an entry file: borrowed from its bytes, owned where it had escapes.
pub(crate) type S<'a> = Cow<'a, str>;

/// One case instance of a certification.
#[derive(Debug, Deserialize)]
pub(crate) struct CaseView<'a> {
    #[serde(borrow)]
    pub name: S<'a>,
    pub status: documents::status::Status,
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
    /// See [`crate::entry::Revocation`]. The strict reader gives such a file to serde.
    #[serde(borrow, default)]
    pub revocation: Option<RevocationView<'a>>,
}

/// A certification's revocation (see [`crate::entry::Revocation`]).
#[derive(Debug, Deserialize)]
pub(crate) struct RevocationView<'a> {
    #[serde(borrow)]
    pub date: S<'a>,
    #[serde(borrow)]
    pub reason: S<'a>,
    #[serde(borrow)]
    pub revoked_by: S<'a>,
    #[serde(borrow)]
    pub signing_key: S<'a>,
    #[serde(borrow)]
    pub document_sha256: S<'a>,
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
    pub fn current(&self) -> Option<&CertView<'a>> {
        self.certifications.first()
    }

    /// As [`crate::entry::Entry::revoked`].
    pub fn revoked(&self) -> Option<&RevocationView<'a>> {
        self.current().and_then(|c| c.revocation.as_ref())
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
