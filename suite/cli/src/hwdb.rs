//! `hwcert hwdb add | query | revoke | publish`: the hardware compatibility list.
//!
//! `add` verifies each report (signature, signer, logs) and refuses what is unsigned, tampered,
//! signed by an unknown key or not certified, then merges its entries into the store
//! ([`hcl::Store`]). `query` answers "is it certified?". `revoke` withdraws a certification
//! with a signed, dated reason ([`hcl::revoke`]). `publish` writes the static site
//! ([`hcl::site`]). Every command that answers from the store verifies the revocations of
//! what it answers about first ([`hcl::revocation`]), and stops with exit status 7 when one
//! does not hold.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use hcl::{Entry, Kind, Query, Store};

use crate::{esay, say};

/// `hwcert hwdb …`.
#[derive(clap::Subcommand, Debug)]
pub enum HwdbCommand {
    /// Add verified, certified reports to the HCL store (made where missing).
    ///
    /// Each report is verified first (signature, signer against --allowed-signers, log
    /// hashes); an unsigned, tampered, unknown-signer or not-certified report is refused with
    /// the reason. Entries are keyed by PCI vendor/device/subsystem IDs (components) or DMI
    /// vendor/product (systems), plus OS release and architecture; a re-certification adds to
    /// the entry's history. Adding the same report twice changes nothing. Exit status 1 when a
    /// report was refused.
    Add(AddArgs),
    /// Is it certified? List the entries that match, newest certification first.
    ///
    /// TERM is a PCI ID pattern (8086:1572, 8086:1572:8086:0001, 8086:*) or words that must
    /// all appear in the entry (names, driver, system, IDs).
    ///
    /// Exit status: 0 when an entry matches, 3 when none does, 2 for a wrong command line (a
    /// term that looks like a PCI ID but is not one), 1 for an error (the store cannot be
    /// read or is not an HCL store).
    Query(QueryArgs),
    /// Withdraw a certification: a signed, dated reason, kept in the entry's history.
    ///
    /// ENTRY (an entry ID, as `hwdb query` prints it) withdraws its current certification;
    /// with --report, that report's certification of it; --report alone withdraws the
    /// report's certification of every entry it certified. The revocation is a small JSON
    /// document signed (SSHSIG, namespace hwcert-revocation) with --key, which must be a list
    /// maintainer's key: one that the --maintainers allowed_signers file admits for the
    /// namespace hwcert-revocation (a lab's report key is not enough). It is stored under
    /// DIR/revocations/ (check it with `ssh-keygen -Y verify -n hwcert-revocation`) and
    /// recorded on the certification; nothing is deleted. A revoked entry is shown as revoked
    /// by query and on the site, and `hwdb add` certifies it again only with --reinstate.
    ///
    /// Exit status: 0 revoked; 2 wrong command line (no target, empty reason, not a SHA-256);
    /// 4 already revoked (nothing changed); 5 no such entry, or no entry cites the report;
    /// 6 the key is not a maintainer's; 7 a revocation already in the store does not verify;
    /// 1 any other error (unreadable key, store or file).
    Revoke(RevokeArgs),
    /// Write the static HCL website: index.html with filters, a page per entry, hcl.json,
    /// hcl.csv, and the cited reports.
    ///
    /// The site needs no server and no network: open SITE/index.html, or serve the directory
    /// as it is. Publishing over a SITE made by publish updates it in place: only pages and
    /// files that changed are written, and what the store no longer lists is removed.
    ///
    /// Every revocation in the store is verified first (see `hwdb revoke`): exit status 7
    /// when one does not hold, 6 when --maintainers is given and does not admit its key;
    /// nothing is written then.
    Publish(PublishArgs),
    /// The fleet view of the reports the store keeps (`hwcert compare` over DIR/reports/*).
    ///
    /// Exit status as `hwcert compare`'s: 0 all alike; 1 a difference or an outlier, or a
    /// report that cannot be read; 7 a report whose signature does not hold; 2 a wrong command
    /// line.
    Fleet(FleetArgs),
}

#[derive(clap::Args, Debug)]
pub struct FleetArgs {
    /// The HCL store (the directory `hwdb add --db` writes).
    #[arg(long, value_name = "DIR")]
    pub db: PathBuf,
    #[command(flatten)]
    pub options: crate::compare::FleetOptions,
}

#[derive(clap::Args, Debug)]
pub struct AddArgs {
    /// Report directories (report.json and report.json.sig, logs/ beside them).
    #[arg(value_name = "REPORT_DIR", required = true)]
    pub reports: Vec<PathBuf>,
    /// The HCL store: a directory, by convention a git checkout of the list.
    #[arg(long, value_name = "DIR")]
    pub db: PathBuf,
    /// Who may sign certified reports (ssh-keygen(1) allowed_signers format).
    #[arg(long, value_name = "FILE")]
    pub allowed_signers: PathBuf,
    /// Certify again an entry whose current certification was revoked, with a newer report
    /// (the revocation stays in the entry's history). Without it such a report is refused.
    #[arg(long)]
    pub reinstate: bool,
}

#[derive(clap::Args, Debug)]
pub struct RevokeArgs {
    /// The entry whose certification is withdrawn (its ID, as `hwdb query` prints it).
    #[arg(value_name = "ENTRY", required_unless_present = "report")]
    pub entry: Option<String>,
    /// The HCL store that holds ENTRY (the directory `hwdb add --db` writes).
    #[arg(long, value_name = "DIR")]
    pub db: PathBuf,
    /// The report (its SHA-256, as `hwdb query --json` shows it) whose certification is
    /// withdrawn: of ENTRY, or of every entry it certified.
    #[arg(long, value_name = "SHA256")]
    pub report: Option<String>,
    /// Why the certification is withdrawn (shown on the site and by query).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// The list maintainer's private key that signs the revocation (OpenSSH Ed25519).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// The maintainers' allowed_signers file: the keys that may revoke (for the namespace
    /// hwcert-revocation). Not the labs' file of `hwdb add --allowed-signers`.
    #[arg(long, value_name = "FILE")]
    pub maintainers: PathBuf,
}

#[derive(clap::Args, Debug)]
pub struct QueryArgs {
    /// VENDOR:DEVICE[:SUBVENDOR:SUBDEVICE] or free text (every word must match); all entries
    /// without it.
    #[arg(value_name = "VENDOR:DEVICE|TEXT")]
    pub term: Vec<String>,
    /// The HCL store to search (the directory `hwdb add --db` writes).
    #[arg(long, value_name = "DIR")]
    pub db: PathBuf,
    /// Architecture: x86_64, aarch64 (amd64, arm64 understood).
    #[arg(long, value_name = "ARCH")]
    pub arch: Option<String>,
    /// OS release: 9, 9.2, opencloudos, opencloudos-9.
    #[arg(long, value_name = "RELEASE")]
    pub os: Option<String>,
    /// Only systems or only components.
    #[arg(long, value_enum)]
    pub kind: Option<KindArg>,
    /// Only entries in this state: certified, or revoked (see `hwdb revoke`). Without it
    /// both are listed, revoked ones marked.
    #[arg(long, value_enum, value_name = "STATE")]
    pub status: Option<StatusArg>,
    /// Print the matching entries as a JSON array (the store's entry documents).
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum KindArg {
    System,
    Component,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusArg {
    Certified,
    Revoked,
}

#[derive(clap::Args, Debug)]
pub struct PublishArgs {
    /// The HCL store to publish (the directory `hwdb add --db` writes).
    #[arg(long, value_name = "DIR")]
    pub db: PathBuf,
    /// The site directory to write.
    #[arg(short, long, value_name = "SITE")]
    pub output: PathBuf,
    /// The site's title.
    #[arg(long, value_name = "TEXT")]
    pub title: Option<String>,
    /// Where the site is served (http:// or https://, no query or fragment): the links in
    /// hcl.csv are absolute under it. Without it they are relative to the site.
    #[arg(long, value_name = "URL", value_parser = hcl::site::base_url)]
    pub base_url: Option<String>,
    /// The maintainers' allowed_signers file (as for `hwdb revoke`): every revocation must
    /// be signed by a key it admits for hwcert-revocation, or nothing is published (exit
    /// status 6). Without it revocations are verified against their own signatures only.
    #[arg(long, value_name = "FILE")]
    pub maintainers: Option<PathBuf>,
}

pub fn cmd_hwdb(cmd: HwdbCommand) -> Result<ExitCode> {
    match cmd {
        HwdbCommand::Add(a) => cmd_add(a),
        HwdbCommand::Query(q) => cmd_query(q),
        HwdbCommand::Revoke(r) => cmd_revoke(r),
        HwdbCommand::Publish(p) => cmd_publish(p),
        HwdbCommand::Fleet(f) => crate::compare::cmd_fleet(&f.db, &f.options),
    }
}

/// A revocation in the store that does not verify: said, and its own exit status.
fn tampered(e: &hcl::HclError) -> ExitCode {
    esay!("hwcert: error: {e}");
    ExitCode::from(documents::exit::TAMPERED)
}

fn now_rfc3339() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    // Whole seconds: the store is read by people.
    hwsys::time::format_rfc3339(ms - ms % 1000)
}

fn cmd_add(a: AddArgs) -> Result<ExitCode> {
    // Fail early on what would fail every report.
    std::fs::metadata(&a.allowed_signers)
        .with_context(|| format!("cannot read {}", a.allowed_signers.display()))?;
    let mut refused = 0;
    // Every refusal was of a report that cannot certify (recorded machine, …): exit 8.
    let mut all_not_certifying = true;
    let mut store = None;
    for dir in &a.reports {
        let prepared = match hcl::submit::prepare(dir, &a.allowed_signers) {
            Ok(p) => p,
            Err(hcl::submit::SubmitError::Refused { kind, why }) => {
                all_not_certifying &= kind == hcl::submit::Refusal::NotCertifying;
                esay!(
                    "hwcert: {}: refused ({}): {why}",
                    dir.display(),
                    kind.as_str()
                );
                refused += 1;
                continue;
            }
            Err(hcl::submit::SubmitError::Other(e)) => {
                return Err(e).with_context(|| format!("cannot add {}", dir.display()))
            }
        };
        let st = match &store {
            Some(s) => s,
            None => store.insert(
                Store::create(&a.db)
                    .with_context(|| format!("cannot make the HCL store {}", a.db.display()))?,
            ),
        };
        for n in &prepared.notes {
            esay!("hwcert: note: {n}");
        }
        let sub = &prepared.submission;
        let signer = sub
            .entries
            .first()
            .map(|e| {
                format!(
                    "{} ({})",
                    e.certification.signed_by, e.certification.signing_key
                )
            })
            .unwrap_or_default();
        let opts = hcl::AddOptions {
            reinstate: a.reinstate,
        };
        let out = match st.add_with(sub, &now_rfc3339(), opts) {
            Ok(o) => o,
            Err(e @ hcl::HclError::Revoked { .. }) => {
                esay!("hwcert: {}: refused (revoked): {e}", dir.display());
                all_not_certifying = false;
                refused += 1;
                continue;
            }
            Err(e @ hcl::HclError::Tampered { .. }) => return Ok(tampered(&e)),
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot add {} to {}", dir.display(), a.db.display()))
            }
        };
        say!(
            "hwcert: {}: verified, signed by {signer}; report {}",
            dir.display(),
            &sub.report_sha256[..16]
        );
        for (what, ids) in [
            ("new", &out.added),
            ("updated", &out.updated),
            ("unchanged", &out.unchanged),
        ] {
            for id in ids {
                let title = sub
                    .entries
                    .iter()
                    .find(|e| &e.key.id() == id)
                    .map(|e| match e.key.kind() {
                        Kind::System => format!(
                            "{} {}",
                            e.key.system_vendor.as_deref().unwrap_or(""),
                            e.key.system_product.as_deref().unwrap_or("")
                        ),
                        Kind::Component => format!(
                            "{} [{}]",
                            e.names
                                .subsystem
                                .as_deref()
                                .or(e.names.name.as_deref())
                                .unwrap_or("PCI device"),
                            e.key.pci_ids().unwrap_or_default()
                        ),
                    })
                    .unwrap_or_default();
                say!("  {what:<9} {id}  {title}");
            }
        }
        for l in &prepared.left_out {
            say!("  left out  {l}");
        }
        say!(
            "hwcert: {}: {} new, {} updated, {} unchanged",
            a.db.display(),
            out.added.len(),
            out.updated.len(),
            out.unchanged.len()
        );
    }
    Ok(if refused > 0 {
        if a.reports.len() > 1 {
            esay!(
                "hwcert: {refused} of {} reports refused; the others were added",
                a.reports.len()
            );
        }
        if all_not_certifying {
            ExitCode::from(documents::exit::NOT_CERTIFYING)
        } else {
            ExitCode::FAILURE
        }
    } else {
        ExitCode::SUCCESS
    })
}

fn open_store(db: &std::path::Path) -> Result<Store> {
    match Store::open(db) {
        Ok(s) => Ok(s),
        Err(e @ hcl::HclError::NotAStore(_)) => Err(e.into()),
        Err(e) => Err(e).with_context(|| format!("cannot open the HCL store {}", db.display())),
    }
}

fn date_only(s: &str) -> &str {
    s.get(..10).unwrap_or(s)
}

fn cmd_query(q: QueryArgs) -> Result<ExitCode> {
    let term = q.term.join(" ");
    let term = Some(term.trim()).filter(|t| !t.is_empty());
    if let Some(t) = term {
        // A term that looks like an ID but is not one is a mistake, not a text search.
        let t = t.trim();
        if t.contains(':')
            && !t.contains(' ')
            && hcl::parse_pci_pattern(t).is_none()
            && t.split(':')
                .all(|p| p == "*" || p.bytes().all(|b| b.is_ascii_hexdigit() || b == b'x'))
        {
            // A usage error, as clap's own: exit status 2, nothing was looked up.
            eprintln!(
                "hwcert: error: \"{t}\" is not a PCI ID pattern: use VENDOR:DEVICE or \
                 VENDOR:DEVICE:SUBVENDOR:SUBDEVICE, 4 hex digits each (8086:1572), * for any"
            );
            return Ok(ExitCode::from(documents::exit::USAGE));
        }
    }
    let st = open_store(&q.db)?;
    let mut query = Query::from_term(term);
    query.arch = q.arch.clone();
    query.os = q.os.clone();
    query.kind = q.kind.map(|k| match k {
        KindArg::System => Kind::System,
        KindArg::Component => Kind::Component,
    });
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let sel = st.select(&query, threads)?;
    for w in &sel.warnings {
        esay!("hwcert: warning: {w}");
    }
    // What is answered about is verified: a revocation that does not hold gives no answer.
    for e in &sel.entries {
        if let Err(e) = hcl::revocation::verify_entry(st.root(), e, None, None, None) {
            return Ok(tampered(&e));
        }
    }
    let mut found: Vec<&Entry> = sel
        .entries
        .iter()
        .filter(|e| match q.status {
            None => true,
            Some(StatusArg::Certified) => e.is_certified(),
            Some(StatusArg::Revoked) => e.revoked().is_some(),
        })
        .collect();
    // Newest certification first, then by ID.
    found.sort_by(|a, b| {
        let d = |e: &Entry| e.current().map(|c| c.date.clone()).unwrap_or_default();
        d(b).cmp(&d(a)).then(a.id.cmp(&b.id))
    });
    if q.json {
        let mut s = hwsys::text::json_terminal_safe(serde_json::to_string_pretty(&found)?);
        s.push('\n');
        crate::write_stdout(s.as_bytes())?;
    } else if found.is_empty() {
        say!(
            "no {} entry matches ({} entries in {})",
            if q.status == Some(StatusArg::Revoked) {
                "revoked"
            } else {
                "certified"
            },
            sel.total,
            q.db.display()
        );
    } else {
        let mut out = String::new();
        for e in &found {
            let c = e.current();
            out.push_str(&format!("{}  {}\n", e.kind.as_str(), e.title()));
            if let Some(r) = e.revoked() {
                // Escaped: the reason is anyone's text.
                out.push_str(&format!(
                    "    REVOKED on {} by {}: {}\n",
                    date_only(&r.date),
                    r.revoked_by,
                    hwsys::text::escape_controls(&r.reason)
                ));
            }
            let mut facts = vec![format!(
                "{} {}",
                c.and_then(|c| c.os.clone())
                    .unwrap_or_else(|| e.key.release()),
                e.key.arch
            )];
            if let Some(ids) = e.key.pci_ids() {
                facts.push(ids);
            }
            if let Some(c) = c {
                if let Some(d) = &c.driver {
                    facts.push(match &c.driver_version {
                        Some(v) => format!("driver {d} {v}"),
                        None => format!("driver {d}"),
                    });
                }
                if let Some(f) = &c.firmware {
                    facts.push(format!("firmware {f}"));
                }
                if let Some(s) = &c.system {
                    facts.push(format!("in {s}"));
                }
                facts.push(format!(
                    "{} {} ({}, by {})",
                    if c.revocation.is_some() {
                        "was certified"
                    } else {
                        "certified"
                    },
                    date_only(&c.date),
                    c.profile,
                    c.signed_by
                ));
            }
            out.push_str(&format!("    {}\n", facts.join(" · ")));
            out.push_str(&format!(
                "    entry {}; report {}{}\n",
                e.id,
                c.map(|c| c.report_sha256.get(..16).unwrap_or(&c.report_sha256))
                    .unwrap_or("?"),
                match e.certifications.len() {
                    0 | 1 => String::new(),
                    n => format!("; {n} certifications"),
                }
            ));
        }
        let revoked = found.iter().filter(|e| e.revoked().is_some()).count();
        let certified = found.len() - revoked;
        let n = |k: usize, what: &str| {
            format!("{k} {what} {}", if k == 1 { "entry" } else { "entries" })
        };
        out.push_str(&match (certified, revoked) {
            (_, 0) => format!("{} match\n", n(certified, "certified")),
            (0, _) => format!("{} match\n", n(revoked, "revoked")),
            _ => format!(
                "{} and {} match\n",
                n(certified, "certified"),
                n(revoked, "revoked")
            ),
        });
        crate::write_human(&out)?;
    }
    // "No match" is an answer, not an error: its own status, so scripts tell it from a
    // store that cannot be read (1, through the error path). Without --status the question
    // is "is it certified?": revoked entries alone answer no.
    let answered = match q.status {
        None => found.iter().any(|e| e.is_certified()),
        Some(_) => !found.is_empty(),
    };
    Ok(ExitCode::from(if answered {
        documents::exit::OK
    } else {
        documents::exit::NO_MATCH
    }))
}

fn cmd_revoke(r: RevokeArgs) -> Result<ExitCode> {
    let st = open_store(&r.db)?;
    let target = hcl::revoke::Target {
        entry: r.entry.clone(),
        report: r.report.clone(),
    };
    let date = now_rfc3339();
    let out = match hcl::revoke::revoke(&st, &target, &r.reason, &date, &r.key, &r.maintainers) {
        Ok(o) => o,
        Err(e) => {
            let code = e.exit_code();
            match &e {
                hcl::revoke::RevokeError::Store(e @ hcl::HclError::Tampered { .. }) => {
                    return Ok(tampered(e))
                }
                _ if code == documents::exit::NO => {
                    return Err(e).with_context(|| format!("cannot revoke in {}", r.db.display()))
                }
                _ => esay!("hwcert: error: {e}"),
            }
            return Ok(ExitCode::from(code));
        }
    };
    for a in &out.already {
        esay!("hwcert: note: already revoked, left as it is: {a}");
    }
    let principal = out
        .revoked_by
        .split(',')
        .map(str::trim)
        .find(|p| !p.is_empty())
        .unwrap_or("PRINCIPAL")
        .to_string();
    for x in &out.revoked {
        say!(
            "hwcert: revoked {}  {}\n  report {}{}\n  on {date} by {} ({})\n  signed revocation {}\n  check it: ssh-keygen -Y verify -f {} -I {principal} -n {} -s {} < {}",
            x.entry,
            x.title,
            x.report_sha256,
            if x.was_current {
                " (its current certification: the entry is revoked)"
            } else {
                " (an earlier certification: the entry's current one stands)"
            },
            out.revoked_by,
            out.signing_key,
            x.document.display(),
            r.maintainers.display(),
            hcl::revocation::NAMESPACE,
            x.signature.display(),
            x.document.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn cmd_publish(p: PublishArgs) -> Result<ExitCode> {
    if p.output.as_os_str().is_empty() {
        bail!("-o must name the site's directory");
    }
    let st = open_store(&p.db)?;
    // Every revocation holds before anything is written: a site never shows a withdrawn
    // certification as standing, nor one withdrawn without a maintainer's signature.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let trust = match &p.maintainers {
        Some(f) => Some(hcl::revocation::Trust::read(f).context("cannot read --maintainers")?),
        None => None,
    };
    match hcl::revoke::verify_store(&st, threads, trust.as_ref()) {
        Ok(_) => {}
        Err(e @ hcl::HclError::Tampered { .. }) => return Ok(tampered(&e)),
        Err(e @ hcl::HclError::Untrusted { .. }) => {
            esay!("hwcert: error: {e}");
            return Ok(ExitCode::from(documents::exit::UNTRUSTED));
        }
        Err(e) => {
            return Err(e).with_context(|| format!("cannot publish {}", p.db.display()));
        }
    }
    let mut opts = hcl::site::PublishOptions::default();
    if let Some(t) = p.title {
        if t.trim().is_empty() {
            bail!("--title must not be empty");
        }
        opts.title = t;
    }
    opts.base_url = p.base_url;
    let started = std::time::Instant::now();
    let s = hcl::site::publish(&st, &p.output, &opts).with_context(|| {
        format!(
            "cannot publish {} to {}",
            p.db.display(),
            p.output.display()
        )
    })?;
    for w in &s.warnings {
        esay!("hwcert: warning: {w}");
    }
    let changes = if s.in_place {
        format!(
            " ({} pages written, {} unchanged, {} removed)",
            s.pages_written, s.pages_unchanged, s.removed
        )
    } else {
        String::new()
    };
    say!(
        "hwcert: published {} systems and {} components ({} reports) to {} in {:.1} s{changes}; open {}",
        s.systems,
        s.components,
        s.reports,
        s.out.display(),
        started.elapsed().as_secs_f64(),
        s.out.join("index.html").display()
    );
    Ok(ExitCode::SUCCESS)
}
