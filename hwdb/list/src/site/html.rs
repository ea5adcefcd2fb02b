//! The site's HTML, written by hand into a `String`: 100,000 entry pages must take well under
//! a second of CPU, and every value goes through [`text`], which escapes it.

use documents::status::Status;

use crate::key::Kind;

use super::layout::{CSP, PAGE_SIZE, REPORT_FILES};
use super::row::{Ctx, Row};
use super::util::{day, s, shell_quote, thousands};
use super::view::{CertView, RevocationView};

/// Append `s` escaped for HTML text and attribute values. C0 control characters other than
/// tab, newline and carriage return become U+FFFD.
pub(crate) fn text(out: &mut String, s: &str) {
    let b = s.as_bytes();
    let mut last = 0;
    for (i, &c) in b.iter().enumerate() {
        if !SPECIAL[c as usize] {
            continue;
        }
        let rep = match c {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => "\u{FFFD}",
        };
        out.push_str(&s[last..i]);
        out.push_str(rep);
        last = i + 1;
    }
    out.push_str(&s[last..]);
}

/// The bytes [`text`] replaces: `&<>"'`, and C0 controls but tab, newline and carriage
/// return, and DEL.
const SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        t[c] =
            matches!(c as u8, b'&' | b'<' | b'>' | b'"' | b'\'' | 0..=8 | 11 | 12 | 14..=31 | 127);
        c += 1;
    }
    t
};

/// The HTML-escaped form of `s`.
#[cfg(test)]
pub(crate) fn escaped(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 8);
    text(&mut o, s);
    o
}

fn push_all(out: &mut String, parts: &[&str]) {
    for p in parts {
        out.push_str(p);
    }
}

/// `<tag>text</tag>`, escaped.
fn el(out: &mut String, open: &str, s: &str, close: &str) {
    out.push_str(open);
    text(out, s);
    out.push_str(close);
}

fn head(out: &mut String, title: &str, root: &str) {
    out.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"",
    );
    // As it is: it holds no character an attribute value must escape (a test holds that).
    out.push_str(CSP);
    out.push_str("\">\n<meta name=\"generator\" content=\"hwcert ");
    out.push_str(env!("CARGO_PKG_VERSION"));
    out.push_str("\">\n<title>");
    text(out, title);
    push_all(
        out,
        &[
            "</title>\n<link rel=\"stylesheet\" href=\"",
            root,
            "assets/hcl.css\">\n</head>\n",
        ],
    );
}

/// The footer; the index's says as of when (an entry page's does not: a page changes only
/// when its entry or the reports it cites do).
fn footer(out: &mut String, ctx: &Ctx, root: &str, as_of: bool) {
    out.push_str("<footer>");
    text(out, ctx.title);
    if as_of && !ctx.as_of.is_empty() {
        out.push_str(", as of ");
        text(out, ctx.as_of);
    }
    push_all(
        out,
        &[
            ". Published by hwcert ",
            env!("CARGO_PKG_VERSION"),
            " from signed compatibility reports. For machines: <a href=\"",
            root,
            "hcl.json\">hcl.json</a> · <a href=\"",
            root,
            "hcl.csv\">hcl.csv</a>.</footer>\n",
        ],
    );
}

/// The index table's columns: key (as data/index.js and the script name it), heading.
pub(crate) const COLUMNS: [(&str, &str); 9] = [
    ("kind", "Kind"),
    ("vendor", "Vendor"),
    ("name", "Name"),
    ("ids", "PCI IDs"),
    ("class", "Class"),
    ("rel", "OS release"),
    ("arch", "Arch"),
    ("drv", "Driver"),
    ("date", "Certified"),
];

/// One row of the index table, as the script renders it too.
fn index_row(out: &mut String, r: &Row) {
    out.push_str("<tr><td>");
    out.push_str(r.kind_label());
    el(out, "</td><td>", r.vendor, "</td><td class=\"name\">");
    push_all(out, &["<a href=\"entries/", &r.e.id, ".html\">"]);
    text(out, r.name);
    out.push_str("</a>");
    if !r.sub.is_empty() {
        el(out, "<span class=\"sub\">", &r.sub, "</span>");
    }
    el(out, "</td><td class=\"mono\">", &r.ids, "</td>");
    el(out, "<td>", r.class, "</td>");
    el(out, "<td class=\"nw\">", &r.rel, "</td>");
    el(out, "<td>", &r.e.key.arch, "</td>");
    el(out, "<td>", &r.driver_label(), "</td>");
    // A revoked entry is never shown as certified: the column says so instead of a date.
    let cls = if r.revoked.is_empty() {
        "<td class=\"date\">"
    } else {
        "<td class=\"date revoked\">"
    };
    el(out, cls, &r.date_label(), "</td></tr>\n");
}

/// The count line above the table.
pub(crate) fn count_line(shown: usize, total: usize) -> String {
    if total == 0 {
        "There are no entries in this list yet.".to_string()
    } else {
        format!("1–{} of {} entries", thousands(shown), thousands(total))
    }
}

fn select(out: &mut String, id: &str, key: &str, label: &str) {
    push_all(
        out,
        &[
            "<div class=\"field\"><label for=\"",
            id,
            "\">",
            label,
            "</label><select id=\"",
            id,
            "\" data-key=\"",
            key,
            "\"><option value=\"\">All</option></select></div>\n",
        ],
    );
}

/// index.html: the heading, the filters (shown by the script), the first page of rows.
pub(crate) fn index_page(out: &mut String, ctx: &Ctx, rows: &[Row], order: &[usize]) {
    head(out, ctx.title, "");
    out.push_str("<body class=\"index\">\n<header>\n");
    el(out, "<h1>", ctx.title, "</h1>\n");
    out.push_str("<p class=\"lead\">");
    let total = ctx.systems + ctx.components;
    if total == 0 {
        out.push_str("No systems or components have been certified yet.");
    } else {
        let plural = |n: usize, one: &str, many: &str| {
            format!("{} {}", thousands(n), if n == 1 { one } else { many })
        };
        push_all(
            out,
            &[
                &plural(ctx.systems, "system", "systems"),
                " and ",
                &plural(ctx.components, "component", "components"),
                " certified on OpenCloudOS",
            ],
        );
        if ctx.revoked > 0 {
            out.push_str(&format!(
                " ({} of them since revoked)",
                thousands(ctx.revoked)
            ));
        }
        if !ctx.as_of.is_empty() {
            out.push_str(", as of ");
            text(out, ctx.as_of);
        }
        out.push_str(". Each entry links the signed report that certified it.");
    }
    out.push_str(
        " For machines: <a href=\"hcl.csv\">hcl.csv</a> (one row per entry) · \
         <a href=\"hcl.json\">hcl.json</a> (every entry in full).</p>\n</header>\n\
         <noscript><p class=\"note\">The filters, sorting and paging need JavaScript; \
         without it this page shows the first entries only. The whole list is in \
         <a href=\"hcl.csv\">hcl.csv</a> and <a href=\"hcl.json\">hcl.json</a>.</p></noscript>\n\
         <form id=\"filters\" class=\"filters\" role=\"search\" aria-label=\"Filter the list\" hidden>\n\
         <div class=\"field grow\"><label for=\"f-q\">Search</label><input id=\"f-q\" type=\"search\" \
         placeholder=\"name, vendor, 8086:1572, driver, system…\" autocomplete=\"off\" spellcheck=\"false\" \
         aria-describedby=\"f-q-help\"><small id=\"f-q-help\">Every word must match; \
         press / to jump here.</small></div>\n\
         <div class=\"field\"><label for=\"f-kind\">Kind</label><select id=\"f-kind\" data-key=\"kind\">\
         <option value=\"\">All</option><option value=\"system\">Systems</option>\
         <option value=\"component\">Components</option></select></div>\n",
    );
    select(out, "f-arch", "arch", "Architecture");
    select(out, "f-rel", "rel", "OS release");
    select(out, "f-vendor", "vendor", "Vendor");
    select(out, "f-class", "class", "Device class");
    out.push_str(
        "<div class=\"field\"><button type=\"reset\" id=\"f-reset\">Clear filters</button></div>\n</form>\n\
         <div class=\"bar\"><p id=\"count\" role=\"status\" aria-live=\"polite\">",
    );
    let shown = order.len().min(PAGE_SIZE);
    out.push_str(&count_line(shown, order.len()));
    out.push_str(
        "</p>\n<nav class=\"pager\" id=\"pager\" aria-label=\"Pages\" hidden>\
         <button type=\"button\" id=\"prev\">← Previous</button> \
         <span id=\"pageinfo\"></span> \
         <button type=\"button\" id=\"next\">Next →</button></nav></div>\n\
         <table id=\"hcl\" class=\"hcl\">\n<caption>Certified systems and components: \
         choose a name for its certifications and reports.</caption>\n<thead><tr>",
    );
    for (key, label) in COLUMNS {
        push_all(
            out,
            &[
                "<th scope=\"col\" data-col=\"",
                key,
                "\"><button type=\"button\" class=\"sort\">",
                label,
                "</button></th>",
            ],
        );
    }
    out.push_str("</tr></thead>\n<tbody id=\"rows\">\n");
    if order.is_empty() {
        out.push_str(
            "<tr><td colspan=\"9\" class=\"empty\">There are no entries in this list yet.</td></tr>\n",
        );
    }
    for &i in order.iter().take(PAGE_SIZE) {
        index_row(out, &rows[i]);
    }
    out.push_str("</tbody>\n</table>\n");
    footer(out, ctx, "", true);
    out.push_str(
        "<script src=\"data/index.js\"></script>\n<script src=\"assets/hcl.js\"></script>\n</body>\n</html>\n",
    );
}

fn fact(out: &mut String, label: &str, value: &str) {
    if !value.is_empty() {
        push_all(out, &["<dt>", label, "</dt><dd>"]);
        text(out, value);
        out.push_str("</dd>\n");
    }
}

/// A fact whose value is a name with a code beside it: `Intel Corporation <code>8086</code>`.
fn fact_code(out: &mut String, label: &str, value: &str, code: Option<&str>) {
    let code = code.unwrap_or("");
    if value.is_empty() && code.is_empty() {
        return;
    }
    push_all(out, &["<dt>", label, "</dt><dd>"]);
    text(out, value);
    if !code.is_empty() {
        if !value.is_empty() {
            out.push(' ');
        }
        el(out, "<code>", code, "</code>");
    }
    out.push_str("</dd>\n");
}

pub(crate) fn status_class(s: Status) -> &'static str {
    match s {
        Status::Pass => "pass",
        Status::Skip => "skip",
        _ if s.is_failure() => "fail",
        _ => "warn",
    }
}

/// `12 of 12 passed`, `11 of 12 passed, 1 skipped`.
fn cases_summary(c: &CertView) -> String {
    let n = c.cases.len();
    let pass = c.cases.iter().filter(|x| x.status == Status::Pass).count();
    let skip = c.cases.iter().filter(|x| x.status == Status::Skip).count();
    let other = n - pass - skip;
    let mut s = format!("{pass} of {n} passed");
    if skip > 0 {
        s.push_str(&format!(", {skip} skipped"));
    }
    if other > 0 {
        s.push_str(&format!(", {other} other"));
    }
    s
}

fn driver(c: &CertView) -> String {
    match (c.driver.as_deref(), c.driver_version.as_deref()) {
        (Some(d), Some(v)) => format!("{d} {v}"),
        (Some(d), None) => d.to_string(),
        (None, Some(v)) => v.to_string(),
        (None, None) => String::new(),
    }
}

/// The principal `ssh-keygen -Y verify -I` takes: the first of the signer's principals.
fn principal(signed_by: &str) -> &str {
    signed_by
        .split(',')
        .map(str::trim)
        .find(|p| !p.is_empty())
        .unwrap_or("PRINCIPAL")
}

/// Links to a report's files in the site, or a note that the site does not hold it.
fn report_links(out: &mut String, ctx: &Ctx, sha: &str, long: bool) {
    let mask = ctx.report_files.get(sha).copied().unwrap_or(0);
    if mask == 0 {
        out.push_str("<span class=\"muted\">report not published</span>");
        return;
    }
    let labels: [&str; 4] = if long {
        [
            "Report (HTML)",
            "report.json",
            "report.json.sig",
            "Summary (Markdown)",
        ]
    } else {
        ["report", "json", "sig", "md"]
    };
    let mut first = true;
    for (bit, f) in REPORT_FILES.iter().enumerate() {
        if mask & (1 << bit) == 0 {
            continue;
        }
        if !first {
            out.push_str(" · ");
        }
        first = false;
        push_all(
            out,
            &[
                "<a href=\"../reports/",
                sha,
                "/",
                f,
                "\">",
                labels[bit],
                "</a>",
            ],
        );
    }
}

fn certification_facts(out: &mut String, c: &CertView) {
    out.push_str("<dl class=\"facts\">\n");
    fact(out, "Date", &c.date);
    fact(out, "Cases", &cases_summary(c));
    fact(out, "Profile", &c.profile);
    fact(out, "OS", c.os.as_deref().unwrap_or(""));
    fact(out, "Kernel", c.kernel.as_deref().unwrap_or(""));
    fact(out, "Driver", &driver(c));
    fact(out, "Firmware", c.firmware.as_deref().unwrap_or(""));
    fact(out, "Tested in", c.system.as_deref().unwrap_or(""));
    for (k, v) in &c.details {
        push_all(out, &["<dt>"]);
        text(out, k);
        out.push_str("</dt><dd>");
        text(out, v);
        out.push_str("</dd>\n");
    }
    fact(out, "Signed by", &c.signed_by);
    fact_code(out, "Signing key", "", Some(&c.signing_key));
    fact_code(out, "Report SHA-256", "", Some(&c.report_sha256));
    fact(out, "hwcert version", &c.tool_version);
    fact(out, "Added to the list", &c.added);
    if let Some(r) = &c.revocation {
        fact(out, "Revoked", &r.date);
        fact(out, "Reason", &r.reason);
        fact(out, "Revoked by", &r.revoked_by);
        fact_code(out, "Revoking key", "", Some(&r.signing_key));
        fact_code(out, "Revocation SHA-256", "", Some(&r.document_sha256));
    }
    out.push_str("</dl>\n");
}

/// The notice at the top of a revoked entry's page: `Revoked on DATE: REASON`.
fn revoked_notice(out: &mut String, r: &RevocationView) {
    out.push_str("<p class=\"revoked\" role=\"alert\" id=\"revoked\"><strong>Revoked on ");
    text(out, day(&r.date));
    out.push_str(":</strong> ");
    text(out, &r.reason);
    out.push_str(" <span class=\"muted\">(by ");
    text(out, &r.revoked_by);
    out.push_str("; this entry is not certified)</span></p>\n");
}

/// `entries/<id>.html`.
pub(crate) fn entry_page(out: &mut String, ctx: &Ctx, r: &Row) {
    entry_lead(out, ctx, r);
    out.push_str("<h2 id=\"identity\">Identity</h2>\n<dl class=\"facts\">\n");
    identity(out, r);
    out.push_str("</dl>\n");

    match r.e.current() {
        None => out.push_str(
            "<h2 id=\"current\">Current certification</h2>\n<p class=\"note\">This entry has no certification.</p>\n",
        ),
        Some(c) => {
            out.push_str(if c.revocation.is_some() {
                "<h2 id=\"current\">Current certification (revoked)</h2>\n"
            } else {
                "<h2 id=\"current\">Current certification</h2>\n"
            });
            certification_facts(out, c);
            out.push_str("<h3 id=\"report\">Signed report</h3>\n<p class=\"links\">");
            report_links(out, ctx, &c.report_sha256, true);
            out.push_str("</p>\n");
            how_to_verify(out, ctx, c);
            case_results(out, c);
        }
    }

    history(out, ctx, r);
    footer(out, ctx, "../", false);
    out.push_str("</body>\n</html>\n");
}

/// An entry page's head, the way back to the index, its title and its lead paragraph: what
/// it is, certified on which release and architecture, when last.
fn entry_lead(out: &mut String, ctx: &Ctx, r: &Row) {
    let e = r.e;
    let k = &e.key;
    let title = e.title();
    let mut page_title = String::with_capacity(title.len() + 64);
    page_title.push_str(&title);
    page_title.push_str(" — ");
    page_title.push_str(&r.rel);
    page_title.push(' ');
    page_title.push_str(&k.arch);
    page_title.push_str(" — ");
    page_title.push_str(ctx.title);
    head(out, &page_title, "../");
    out.push_str("<body class=\"entry\">\n<nav class=\"top\"><a href=\"../index.html\">← ");
    text(out, ctx.title);
    out.push_str("</a></nav>\n");
    el(out, "<h1>", &title, "</h1>\n");
    if let Some(rv) = e.revoked() {
        revoked_notice(out, rv);
    }
    push_all(
        out,
        &["<p class=\"lead\"><span class=\"tag\">", r.kind_label()],
    );
    el(
        out,
        if e.revoked().is_some() {
            "</span> revoked; was certified on <b>"
        } else {
            "</span> certified on <b>"
        },
        &r.rel,
        "</b> ",
    );
    el(out, "<b>", &k.arch, "</b>");
    if let Some(c) = e.current() {
        el(out, ", most recently on ", day(&c.date), "");
        let n = e.certifications.len();
        if n > 1 {
            out.push_str(&format!(" ({n} certifications)"));
        }
    }
    out.push_str(".</p>\n");
}

/// The facts of an entry page's Identity list.
fn identity(out: &mut String, r: &Row) {
    let e = r.e;
    let k = &e.key;
    fact_code(out, "Entry", "", Some(&e.id));
    fact(out, "Kind", r.kind_label());
    match e.kind {
        Kind::Component => {
            fact_code(out, "Vendor", s(&e.vendor), k.vendor_id.as_deref());
            fact_code(out, "Device", s(&e.name), k.device_id.as_deref());
            let sub_ids = match (&k.subsystem_vendor_id, &k.subsystem_device_id) {
                (Some(v), Some(d)) => Some(format!("{v}:{d}")),
                _ => None,
            };
            fact_code(out, "Subsystem", &r.sub, sub_ids.as_deref());
            fact_code(out, "PCI IDs", "", Some(&r.ids));
            fact_code(out, "Class", s(&e.class), e.class_id.as_deref());
        }
        Kind::System => {
            fact(out, "Vendor", k.system_vendor.as_deref().unwrap_or(""));
            fact(out, "Product", k.system_product.as_deref().unwrap_or(""));
            if e.vendor.is_some() && e.vendor.as_deref() != k.system_vendor.as_deref() {
                fact(out, "Vendor name", s(&e.vendor));
            }
            if e.name.is_some() && e.name.as_deref() != k.system_product.as_deref() {
                fact(out, "Name", s(&e.name));
            }
            fact(out, "Class", r.class);
        }
    }
    fact(out, "OS release", &r.rel);
    fact(out, "Architecture", &k.arch);
}

/// How to check the current certification's signature, where the site holds report.json and
/// its signature.
fn how_to_verify(out: &mut String, ctx: &Ctx, c: &CertView) {
    if ctx
        .report_files
        .get(&*c.report_sha256)
        .is_some_and(|m| m & 0b110 == 0b110)
    {
        out.push_str(
            "<p>Check the signature with stock OpenSSH, in a directory holding \
             <code>report.json</code> and <code>report.json.sig</code>, with ",
        );
        if ctx.signer_keys.contains(&*c.signing_key) {
            out.push_str(
                "this list's <a href=\"../allowed_signers\"><code>allowed_signers</code></a> \
                 file beside them (it names the lab's public key, fingerprint <code>",
            );
        } else {
            out.push_str(
                "an <code>allowed_signers</code> file that names the lab's public key \
                 (fingerprint <code>",
            );
        }
        text(out, &c.signing_key);
        out.push_str("</code>):</p>\n<pre class=\"cmd\">");
        let cmd = format!(
            "ssh-keygen -Y verify -f allowed_signers -I {} -n hwcert-report -s report.json.sig < report.json",
            shell_quote(principal(&c.signed_by))
        );
        text(out, &cmd);
        out.push_str("</pre>\n");
    }
}

/// The current certification's case results.
fn case_results(out: &mut String, c: &CertView) {
    out.push_str("<h3 id=\"cases\">Case results</h3>\n");
    if c.cases.is_empty() {
        out.push_str("<p class=\"muted\">The report lists no cases for this entry.</p>\n");
    } else {
        out.push_str(
            "<table class=\"cases\">\n<caption>The case instances that covered this entry on ",
        );
        text(out, day(&c.date));
        out.push_str(
            "</caption>\n<thead><tr><th scope=\"col\">Case</th><th scope=\"col\">Result</th>\
             <th scope=\"col\">Blocker</th></tr></thead>\n<tbody>\n",
        );
        for x in &c.cases {
            el(out, "<tr><td class=\"mono\">", &x.name, "</td>");
            push_all(
                out,
                &["<td><span class=\"st ", status_class(x.status), "\">"],
            );
            text(out, x.status.as_str());
            push_all(
                out,
                &[
                    "</span></td><td>",
                    if x.blocker { "yes" } else { "no" },
                    "</td></tr>\n",
                ],
            );
        }
        out.push_str("</tbody>\n</table>\n");
    }
}

/// An entry page's History: every certification, newest first.
fn history(out: &mut String, ctx: &Ctx, r: &Row) {
    let e = r.e;
    out.push_str("<h2 id=\"history\">History</h2>\n");
    if e.certifications.is_empty() {
        out.push_str("<p class=\"muted\">None.</p>\n");
    } else {
        out.push_str(
            "<table class=\"history\">\n<caption>Every certification of this entry, newest first</caption>\n\
             <thead><tr><th scope=\"col\">Date</th><th scope=\"col\">Cases</th><th scope=\"col\">Profile</th>\
             <th scope=\"col\">Kernel</th><th scope=\"col\">Driver</th><th scope=\"col\">Firmware</th>\
             <th scope=\"col\">Tested in</th><th scope=\"col\">Signed by</th><th scope=\"col\">Report</th></tr></thead>\n<tbody>\n",
        );
        for c in &e.certifications {
            el(out, "<tr><td class=\"date\">", day(&c.date), "");
            if let Some(r) = &c.revocation {
                el(
                    out,
                    " <span class=\"st fail\">revoked ",
                    day(&r.date),
                    "</span>",
                );
            }
            out.push_str("</td>");
            el(out, "<td>", &cases_summary(c), "</td>");
            el(out, "<td>", &c.profile, "</td>");
            el(out, "<td>", s(&c.kernel), "</td>");
            el(out, "<td>", &driver(c), "</td>");
            el(out, "<td>", s(&c.firmware), "</td>");
            el(out, "<td>", s(&c.system), "</td>");
            el(out, "<td>", &c.signed_by, "</td>");
            out.push_str("<td>");
            report_links(out, ctx, &c.report_sha256, false);
            out.push_str("</td></tr>\n");
        }
        out.push_str("</tbody>\n</table>\n");
    }
    // The entry's document, every certification, for programs (the index holds only its
    // current state).
    push_all(
        out,
        &[
            "<p class=\"muted\">For machines: <a href=\"",
            &e.id,
            ".json\">",
            &e.id,
            ".json</a>, this entry with every certification.</p>\n",
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            escaped("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(escaped("a\u{0}b\tc"), "a\u{FFFD}b\tc");
        assert_eq!(escaped("Ünïcode — ok"), "Ünïcode — ok");
    }

    #[test]
    fn the_policy_needs_no_escaping_in_an_attribute() {
        assert!(!CSP.contains(['"', '&', '<', '>']), "{CSP}");
    }
}

/// Why the pages are written by hand: the same entry page from a minijinja template (the way
/// report.html is made) against [`entry_page`], over a synthetic store. Timings are printed,
/// never asserted:
///
/// ```sh
/// cargo test --release -p reports --lib -- --ignored --nocapture minijinja
/// ```
#[cfg(test)]
mod against_minijinja {
    use std::collections::HashMap;
    use std::time::Instant;

    use serde::Serialize;

    use super::*;
    use crate::site::fx::FxBuild;
    use crate::site::options::DEFAULT_TITLE;
    use crate::site::parse;
    use crate::site::read::entry_paths;
    use crate::site::view::EntryView;

    const TEMPLATE: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{{ csp }}">
<meta name="generator" content="hwcert {{ version }}">
<title>{{ title }} — {{ rel }} {{ arch }} — {{ site }}</title>
<link rel="stylesheet" href="../assets/hcl.css">
</head>
<body class="entry">
<nav class="top"><a href="../index.html">← {{ site }}</a></nav>
<h1>{{ title }}</h1>
<p class="lead"><span class="tag">{{ kind }}</span> certified on <b>{{ rel }}</b> <b>{{ arch }}</b>{% if date %}, most recently on {{ date }}{% if certs|length > 1 %} ({{ certs|length }} certifications){% endif %}{% endif %}.</p>
<h2 id="identity">Identity</h2>
<dl class="facts">
{%- for f in identity %}
<dt>{{ f[0] }}</dt><dd>{{ f[1] }}{% if f[2] %} <code>{{ f[2] }}</code>{% endif %}</dd>
{%- endfor %}
</dl>
{%- if certs %}{% set c = certs[0] %}
<h2 id="current">Current certification</h2>
<dl class="facts">
{%- for f in c.facts %}
<dt>{{ f[0] }}</dt><dd>{{ f[1] }}</dd>
{%- endfor %}
</dl>
<h3 id="report">Signed report</h3>
<p class="links">{% for l in c.links %}{% if not loop.first %} · {% endif %}<a href="../reports/{{ c.sha }}/{{ l[0] }}">{{ l[1] }}</a>{% endfor %}</p>
<p>Check the signature with stock OpenSSH, in a directory holding <code>report.json</code> and <code>report.json.sig</code>, with an <code>allowed_signers</code> file that names the lab's public key (fingerprint <code>{{ c.key }}</code>):</p>
<pre class="cmd">ssh-keygen -Y verify -f allowed_signers -I {{ c.principal }} -n hwcert-report -s report.json.sig &lt; report.json</pre>
<h3 id="cases">Case results</h3>
<table class="cases">
<caption>The case instances that covered this entry on {{ date }}</caption>
<thead><tr><th scope="col">Case</th><th scope="col">Result</th><th scope="col">Blocker</th></tr></thead>
<tbody>
{%- for x in c.cases %}
<tr><td class="mono">{{ x.name }}</td><td><span class="st {{ x.class }}">{{ x.status }}</span></td><td>{{ "yes" if x.blocker else "no" }}</td></tr>
{%- endfor %}
</tbody>
</table>
{%- endif %}
<h2 id="history">History</h2>
<table class="history">
<caption>Every certification of this entry, newest first</caption>
<thead><tr><th scope="col">Date</th><th scope="col">Cases</th><th scope="col">Profile</th><th scope="col">Kernel</th><th scope="col">Driver</th><th scope="col">Firmware</th><th scope="col">Tested in</th><th scope="col">Signed by</th><th scope="col">Report</th></tr></thead>
<tbody>
{%- for c in certs %}
<tr><td class="date">{{ c.day }}</td><td>{{ c.summary }}</td><td>{{ c.profile }}</td><td>{{ c.kernel }}</td><td>{{ c.driver }}</td><td>{{ c.firmware }}</td><td>{{ c.system }}</td><td>{{ c.signed_by }}</td><td>{% for l in c.links %}{% if not loop.first %} · {% endif %}<a href="../reports/{{ c.sha }}/{{ l[0] }}">{{ l[2] }}</a>{% endfor %}</td></tr>
{%- endfor %}
</tbody>
</table>
<footer>{{ site }}. Published by hwcert {{ version }} from signed compatibility reports. For machines: <a href="../hcl.json">hcl.json</a> · <a href="../hcl.csv">hcl.csv</a>.</footer>
</body>
</html>
"#;

    #[derive(Serialize)]
    struct CaseCtx<'a> {
        name: &'a str,
        status: &'a str,
        class: &'static str,
        blocker: bool,
    }

    #[derive(Serialize)]
    struct CertCtx<'a> {
        sha: &'a str,
        day: &'a str,
        summary: String,
        profile: &'a str,
        kernel: &'a str,
        driver: String,
        firmware: &'a str,
        system: &'a str,
        signed_by: &'a str,
        key: &'a str,
        principal: String,
        facts: Vec<(&'static str, String)>,
        links: Vec<(&'static str, &'static str, &'static str)>,
        cases: Vec<CaseCtx<'a>>,
    }

    #[derive(Serialize)]
    struct PageCtx<'a> {
        csp: &'static str,
        version: &'static str,
        site: &'a str,
        title: String,
        kind: &'static str,
        rel: &'a str,
        arch: &'a str,
        date: &'a str,
        identity: Vec<(&'static str, &'a str, &'a str)>,
        certs: Vec<CertCtx<'a>>,
    }

    fn context<'a>(ctx: &'a Ctx, r: &'a Row<'a>) -> PageCtx<'a> {
        let e = r.e;
        let o = |x: &'a Option<std::borrow::Cow<'a, str>>| x.as_deref().unwrap_or("");
        PageCtx {
            csp: crate::site::layout::CSP,
            version: env!("CARGO_PKG_VERSION"),
            site: ctx.title,
            title: e.title(),
            kind: r.kind_label(),
            rel: &r.rel,
            arch: &e.key.arch,
            date: r.date,
            identity: vec![
                ("Entry", "", &e.id),
                ("Kind", r.kind_label(), ""),
                ("Vendor", o(&e.vendor), o(&e.key.vendor_id)),
                ("Device", o(&e.name), o(&e.key.device_id)),
                ("Subsystem", &r.sub, ""),
                ("PCI IDs", "", &r.ids),
                ("Class", o(&e.class), o(&e.class_id)),
                ("OS release", &r.rel, ""),
                ("Architecture", &e.key.arch, ""),
            ],
            certs: e
                .certifications
                .iter()
                .map(|c| {
                    let mask = ctx
                        .report_files
                        .get(&*c.report_sha256)
                        .copied()
                        .unwrap_or(0);
                    let labels = [
                        ("Report (HTML)", "report"),
                        ("report.json", "json"),
                        ("report.json.sig", "sig"),
                        ("Summary (Markdown)", "md"),
                    ];
                    CertCtx {
                        sha: &c.report_sha256,
                        day: day(&c.date),
                        summary: cases_summary(c),
                        profile: &c.profile,
                        kernel: o(&c.kernel),
                        driver: driver(c),
                        firmware: o(&c.firmware),
                        system: o(&c.system),
                        signed_by: &c.signed_by,
                        key: &c.signing_key,
                        principal: shell_quote(principal(&c.signed_by)),
                        facts: vec![
                            ("Date", c.date.to_string()),
                            ("Cases", cases_summary(c)),
                            ("Profile", c.profile.to_string()),
                            ("OS", o(&c.os).to_string()),
                            ("Kernel", o(&c.kernel).to_string()),
                            ("Driver", driver(c)),
                            ("Firmware", o(&c.firmware).to_string()),
                            ("Tested in", o(&c.system).to_string()),
                            ("Signed by", c.signed_by.to_string()),
                            ("Signing key", c.signing_key.to_string()),
                            ("Report SHA-256", c.report_sha256.to_string()),
                        ],
                        links: REPORT_FILES
                            .iter()
                            .enumerate()
                            .filter(|(b, _)| mask & (1 << b) != 0)
                            .map(|(b, f)| (*f, labels[b].0, labels[b].1))
                            .collect(),
                        cases: c
                            .cases
                            .iter()
                            .map(|x| CaseCtx {
                                name: &x.name,
                                status: x.status.as_str(),
                                class: status_class(x.status),
                                blocker: x.blocker,
                            })
                            .collect(),
                    }
                })
                .collect(),
        }
    }

    #[test]
    #[ignore = "a measurement: run it with --release --ignored --nocapture"]
    fn minijinja_against_the_hand_written_writer() {
        let n = 20_000;
        let t = tempfile::tempdir().expect("tmp");
        testing::synth::generate(t.path(), n, 2).expect("store");
        let st = crate::store::Store::open(t.path()).expect("store");
        let files: Vec<(std::path::PathBuf, Vec<u8>)> = entry_paths(&st)
            .expect("paths")
            .1
            .into_iter()
            .map(|f| f.path)
            .map(|p| {
                let b = std::fs::read(&p).expect("read");
                (p, b)
            })
            .collect();
        let views: Vec<EntryView> = files
            .iter()
            .map(|(p, b)| parse::entry(p, b).expect("entry"))
            .collect();
        let rows: Vec<Row> = views
            .iter()
            .zip(&files)
            .map(|(e, (_, b))| Row::new(e, b))
            .collect();
        let mut report_files: HashMap<String, u8, FxBuild> = HashMap::default();
        for e in &views {
            for c in &e.certifications {
                report_files.insert(c.report_sha256.to_string(), 0b1111);
            }
        }
        let ctx = Ctx {
            title: DEFAULT_TITLE,
            as_of: "2026-03-01",
            systems: 0,
            components: 0,
            revoked: 0,
            reports: report_files.len(),
            report_files: &report_files,
            base_url: "",
            signers: "",
            signer_keys: &Default::default(),
        };
        let mut env = minijinja::Environment::new();
        env.add_template("entry.html", TEMPLATE).expect("template");
        let tmpl = env.get_template("entry.html").expect("template");

        let mut out = String::with_capacity(16 * 1024);
        let t0 = Instant::now();
        let mut bytes = 0;
        for r in &rows {
            out.clear();
            entry_page(&mut out, &ctx, r);
            bytes += out.len();
        }
        let hand = t0.elapsed();
        let t0 = Instant::now();
        let mut jbytes = 0;
        for r in &rows {
            let s = tmpl
                .render(minijinja::Value::from(minijinja::value::Serde(&context(
                    &ctx, r,
                ))))
                .expect("render");
            jbytes += s.len();
        }
        let jinja = t0.elapsed();
        eprintln!(
            "{n} entry pages, rendered only (no files): hand-written {:.0} ms ({:.1} MB), minijinja {:.0} ms ({:.1} MB): minijinja takes {:.1}x as long",
            hand.as_secs_f64() * 1000.0,
            bytes as f64 / 1e6,
            jinja.as_secs_f64() * 1000.0,
            jbytes as f64 / 1e6,
            jinja.as_secs_f64() / hand.as_secs_f64()
        );
    }
}
