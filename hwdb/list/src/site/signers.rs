//! SITE/allowed_signers: the public key of every lab whose signed reports the site publishes,
//! in ssh-keygen(1)'s ALLOWED SIGNERS format, so that the command each entry page prints,
//! `ssh-keygen -Y verify -f allowed_signers -I PRINCIPAL -n hwcert-report -s report.json.sig`,
//! works as printed with this file beside the downloaded report (a fingerprint alone cannot
//! be given to ssh-keygen).
//!
//! The store keeps no public keys, only each certification's signer (the principals the
//! list's allowed_signers admitted) and its key's fingerprint. The key itself is in every
//! signature (SSHSIG carries it), so publish takes it from one published report.json.sig per
//! key: that signature is verified over its report.json first, and the key must have the
//! fingerprint the store recorded, else the key is left out with a warning. One signature
//! check per lab key, not per report: a site of 22,000 reports from a few labs costs a few.
//!
//! A line per key, in fingerprint order, its principals those of every certification it
//! signed (sorted, comma-separated), restricted to the reports' namespace. The same store
//! makes the same file.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::fx::FxBuild;
use super::layout::SIGNED;
use super::link::report_rel;
use super::target::Target;
use super::view::EntryView;

/// The file's name at the top of a site.
pub(crate) const FILE: &str = super::layout::ALLOWED_SIGNERS;

/// The site's allowed_signers file, and the fingerprints of the keys it holds.
pub(crate) struct Signers {
    pub text: String,
    pub keys: BTreeSet<String>,
}

/// What one key signed: its principals, and its published reports.
#[derive(Default)]
struct Seen<'a> {
    principals: BTreeSet<&'a str>,
    reports: BTreeSet<&'a str>,
}

/// How many of a key's reports are tried, least SHA-256 first, before the key is left out: a
/// damaged report does not lose the key, and a store of damaged reports costs a few reads.
const TRIES: usize = 3;

/// Whether a principal can stand in an allowed_signers line unquoted: no space, no quote, no
/// comma inside (the list's separator), nothing a terminal or a shell would act on.
fn plain_principal(p: &str) -> bool {
    !p.is_empty()
        && !p.starts_with('#')
        && p.chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '"' | ',' | '\'' | '`' | '\\'))
}

/// The allowed_signers file of the published certifications of `kept`, whose reports'
/// files are `report_files` (the site's masks); a warning for each key left out.
pub(crate) fn allowed_signers(
    target: &Target,
    kept: &[(&EntryView, &[u8])],
    report_files: &HashMap<String, u8, FxBuild>,
    warnings: &mut Vec<String>,
) -> Signers {
    let mut by_key: BTreeMap<&str, Seen> = BTreeMap::new();
    for (e, _) in kept {
        for c in &e.certifications {
            let published = report_files
                .get(&*c.report_sha256)
                .is_some_and(|m| m & SIGNED == SIGNED);
            if !published || c.signing_key.is_empty() {
                continue;
            }
            let seen = by_key.entry(&c.signing_key).or_default();
            for p in c
                .signed_by
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
            {
                if plain_principal(p) {
                    seen.principals.insert(p);
                } else {
                    warnings.push(format!(
                        "{FILE}: the principal {:?} of key {} cannot stand in an allowed_signers \
                         line; it is left out of the site's file",
                        p, c.signing_key
                    ));
                }
            }
            seen.reports.insert(&c.report_sha256);
        }
    }
    let mut text = String::from(
        "# The keys that signed the reports this list publishes (ssh-keygen(1) ALLOWED SIGNERS),\n\
         # each taken from a signature it made, checked, and with the fingerprint the list \
         recorded.\n\
         # ssh-keygen -Y verify -f allowed_signers -I PRINCIPAL -n hwcert-report -s \
         report.json.sig < report.json\n",
    );
    let mut keys = BTreeSet::new();
    let mut buf = Vec::new();
    for (fp, seen) in &by_key {
        if seen.principals.is_empty() {
            warnings.push(format!(
                "{FILE}: key {fp} has no principal a line can name; it is left out"
            ));
            continue;
        }
        let mut why = String::new();
        let mut line = None;
        for sha in seen.reports.iter().take(TRIES) {
            match line_of(target, sha, fp, &seen.principals, &mut buf) {
                Ok(l) => {
                    line = Some(l);
                    break;
                }
                Err(e) => why = e,
            }
        }
        match line {
            Some(l) => {
                text.push_str(&l);
                text.push('\n');
                keys.insert(fp.to_string());
            }
            None => warnings.push(format!(
                "{FILE}: key {fp} is left out of the site's file: {why}"
            )),
        }
    }
    Signers { text, keys }
}

/// The allowed_signers line of key `fp` for `principals`, from the published report `sha`:
/// its signature checked over its report.json, and the key's fingerprint `fp`; why not.
fn line_of(
    target: &Target,
    sha: &str,
    fp: &str,
    principals: &BTreeSet<&str>,
    buf: &mut Vec<u8>,
) -> Result<String, String> {
    let mut rel = String::with_capacity(96);
    let mut read = |file: &str| {
        let mut out = Vec::new();
        report_rel(&mut rel, sha, file);
        target
            .reports
            .read_into(buf, rel.as_bytes(), &mut out)
            .map(|()| out)
            .map_err(|e| format!("cannot read reports/{rel}: {}", documents::io_reason(&e)))
    };
    let json = read(reports::REPORT_JSON)?;
    let sig = read(reports::REPORT_SIG)?;
    let key = reports::verify::check_detached(&json, &sig, reports::keys::NAMESPACE)
        .map_err(|e| format!("reports/{sha}/{}: {e}", reports::REPORT_SIG))?;
    let got = reports::keys::fingerprint(&key);
    if got != fp {
        return Err(format!(
            "reports/{sha}/{} was made by key {got}, not {fp} as the list says",
            reports::REPORT_SIG
        ));
    }
    let who: Vec<&str> = principals.iter().copied().collect();
    reports::keys::allowed_signers_line(&who.join(","), &key).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::plain_principal;

    #[test]
    fn principals_a_line_can_hold() {
        for ok in ["lab@example.com", "*@example.com", "lab-1", "a.b+c@d"] {
            assert!(plain_principal(ok), "{ok}");
        }
        for bad in [
            "",
            "two words",
            "a\"b",
            "a,b",
            "#lab",
            "tab\there",
            "é@x",
            "a\u{1b}[2J",
        ] {
            assert!(!plain_principal(bad), "{bad:?}");
        }
    }
}
