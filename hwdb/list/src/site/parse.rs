//! An entry file's bytes read into an [`EntryView`]: by the strict reader of the store's own
//! layout where it can, by serde where it gives up, and held to the checks
//! [`Entry::from_file_bytes`] makes (schema, kind against key, ID against key).
//!
//! [`Entry::from_file_bytes`]: crate::entry::Entry::from_file_bytes

use std::path::Path;

use super::strict;
use super::view::EntryView;
use crate::entry::SCHEMA;

/// Parse an entry file's bytes; the error reads as [`Entry::from_file_bytes`]'s does.
///
/// [`Entry::from_file_bytes`]: crate::entry::Entry::from_file_bytes
pub(crate) fn entry<'a>(path: &Path, b: &'a [u8]) -> Result<EntryView<'a>, String> {
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
    let e = match strict::entry(b) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Entry;
    use crate::site::minify::minify_into;
    use crate::site::view::S;
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
                            status: x.status,
                            blocker: x.blocker,
                        })
                        .collect(),
                    revocation: c.revocation.as_ref().map(|r| crate::entry::Revocation {
                        date: r.date.to_string(),
                        reason: r.reason.to_string(),
                        revoked_by: r.revoked_by.to_string(),
                        signing_key: r.signing_key.to_string(),
                        document_sha256: r.document_sha256.to_string(),
                    }),
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
            let v = entry(&p, &b).expect("the view reads it");
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
            // A case status the reports do not know, or not a status at all.
            good.replacen("\"status\": \"pass\"", "\"status\": \"passed\"", 1),
            good.replacen("\"status\": \"pass\"", "\"status\": null", 1),
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
            let v = entry(&p, b.as_bytes());
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
        assert!(entry(&p, extra.as_bytes()).is_ok());
    }
}
