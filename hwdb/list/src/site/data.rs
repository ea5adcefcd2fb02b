//! The site's data files: data/index.js (the index table's columns), hcl.json and hcl.csv.

use std::collections::HashMap;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::Path;

use super::fx::FxBuild;
use super::layout::{INDEX_SCHEMA, PAGE_SIZE, SITE_SCHEMA};
use super::minify::minify_into;
use super::row::{Ctx, Row};
use super::util::{ci_cmp, version_cmp};
use super::view::CertView;
use super::write::{finish, write};
use documents::Error;

/// Append `s` as a JSON string that is also safe inside HTML and before `</script>`: `<`,
/// `>` and `&` as `\u003c`…, and U+2028 and U+2029 (line breaks to old JavaScript) escaped.
pub(crate) fn js_str(out: &mut String, s: &str) {
    out.push('"');
    let mut last = 0;
    for (i, c) in s.char_indices() {
        let rep: &str = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            '<' => "\\u003c",
            '>' => "\\u003e",
            '&' => "\\u0026",
            '\u{2028}' => "\\u2028",
            '\u{2029}' => "\\u2029",
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&s[last..i]);
                out.push_str(&format!("\\u{:04x}", c as u32));
                last = i + c.len_utf8();
                continue;
            }
            _ => continue,
        };
        out.push_str(&s[last..i]);
        out.push_str(rep);
        last = i + c.len_utf8();
    }
    out.push_str(&s[last..]);
    out.push('"');
}

fn push_uint(out: &mut String, mut n: usize) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // Digits only: valid UTF-8.
    out.push_str(std::str::from_utf8(&buf[i..]).unwrap_or("0"));
}

/// The index's string columns: key in data/index.js and the value of a row.
type Col = (&'static str, for<'a> fn(&'a Row<'a>) -> &'a str);

const COLS: [Col; 14] = [
    ("vendor", |r| r.vendor),
    ("name", |r| r.name),
    ("sub", |r| &r.sub),
    ("ids", |r| &r.ids),
    ("class", |r| r.class),
    ("rel", |r| &r.rel),
    ("arch", |r| &r.e.key.arch),
    ("drv", |r| r.driver),
    ("drvv", |r| r.driver_version),
    ("fw", |r| r.firmware),
    ("sys", |r| r.system),
    ("os", |r| r.os),
    ("date", |r| r.date),
    // The day the current certification was revoked, or "": such a row says "Revoked".
    ("rev", |r| r.revoked),
];

/// The digits of the index's packed columns (none needs escaping in JSON or HTML).
const B64: &[u8; 64] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_";

/// The ID the index's script makes for a row from its PCI IDs, OS release and architecture:
/// `pci-8086-1572-8086-0001.opencloudos-9.2.x86_64` (hwdb's rule for components). Systems'
/// IDs carry a hash, and come out different.
pub(crate) fn derived_id(out: &mut String, r: &Row) {
    out.clear();
    out.push_str("pci-");
    out.extend(
        r.ids
            .chars()
            .map(|c| if c == ':' || c == ' ' { '-' } else { c }),
    );
    out.push('.');
    out.push_str(&r.rel.replacen(' ', "-", 1));
    out.push('.');
    out.push_str(&r.e.key.arch);
}

/// Rows per shard of the index: a browser shows the first results once the manifest and the
/// first shard are in (8.5 KB and at most 590 KB at 100,000 entries, 20 shards of 8.0 MB in
/// all, where hcl.json is 211 MB), and filters the rest as it comes.
pub(crate) const SHARD_ROWS: usize = 5000;

/// A shard of the index: its file name under data/ and its bytes.
pub(crate) struct Shard {
    pub name: String,
    pub bytes: Vec<u8>,
    pub rows: usize,
}

/// The index's shards: the rows in the index's default order, [`SHARD_ROWS`] at a time, each
/// `window.HCL_SHARD({…});` in a file named by a hash of its bytes
/// (`data/shard-<16 hex>.js`), so that a shard that did not change keeps its name and a
/// reader holding the last manifest still finds every shard it names.
///
/// A shard is self-contained, as data/index.js once was whole: every distinct string of its
/// rows once, in `s` (most frequent first, so that the common values' indices are short); each
/// column a string of fixed-width base-64 numbers, indices into it (one string parses much
/// faster than thousands of numbers); the IDs the script cannot make from the columns, by row.
/// Only the current state of each entry is there: its history is in entries/<id>.json.
pub(crate) fn shards(rows: &[Row], order: &[usize]) -> Vec<Shard> {
    order
        .chunks(SHARD_ROWS)
        .enumerate()
        .map(|(k, part)| {
            let t = Interned::of(rows, part);
            let mut out = String::with_capacity(4096 + part.len() * 160);
            out.push_str("/* A shard of the hardware compatibility list's index (");
            out.push_str(INDEX_SCHEMA);
            out.push_str("), written by hwcert hwdb publish. */\nwindow.HCL_SHARD({\"schema\":");
            js_str(&mut out, INDEX_SCHEMA);
            out.push_str(",\"k\":");
            push_uint(&mut out, k);
            out.push_str(",\"n\":");
            push_uint(&mut out, part.len());
            out.push_str(",\n\"s\":[");
            for (i, &old) in t.perm.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                js_str(&mut out, t.strs[old as usize]);
            }
            out.push_str("],\n\"id\":[");
            push_ids(&mut out, rows, part);
            out.push_str("],\n\"kind\":\"");
            push_kinds(&mut out, rows, part);
            out.push_str("\",\n\"c\":{");
            push_columns(&mut out, &t);
            out.push_str("}});\n");
            let hash = hwsys::hash::sha256_hex(out.as_bytes());
            Shard {
                name: format!("shard-{}.js", &hash[..16]),
                bytes: out.into_bytes(),
                rows: part.len(),
            }
        })
        .collect()
}

/// data/index.js, the index's manifest: `window.HCL_INDEX = {…};` with the number of rows, the
/// page size, the shards in order (`[file, rows]`) and the select filters' options over every
/// row (`[value, rows]`, in the order the select shows them). Small (a few KB): the script
/// loads the shards it names.
pub(crate) fn write_index_js(
    path: &Path,
    rows: &[Row],
    order: &[usize],
    shards: &[Shard],
) -> Result<(), Error> {
    let mut out = String::with_capacity(16 * 1024 + shards.len() * 40);
    out.push_str("/* The hardware compatibility list's index for index.html (");
    out.push_str(INDEX_SCHEMA);
    out.push_str("), written by hwcert hwdb publish: its manifest; the rows are in the shards it names. */\nwindow.HCL_INDEX = {\"schema\":");
    js_str(&mut out, INDEX_SCHEMA);
    out.push_str(",\"n\":");
    push_uint(&mut out, order.len());
    out.push_str(",\"page\":");
    push_uint(&mut out, PAGE_SIZE);
    out.push_str(",\n\"shards\":[");
    for (i, s) in shards.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        js_str(&mut out, &s.name);
        out.push(',');
        push_uint(&mut out, s.rows);
        out.push(']');
    }
    out.push_str("],\n\"f\":{");
    push_facets(&mut out, rows, order);
    out.push_str("}};\n");
    write(path, out.as_bytes())
}

/// The index's columns as indices into its table of distinct strings.
struct Interned<'a> {
    /// Every distinct string, `""` first, in the order met.
    strs: Vec<&'a str>,
    /// Per column of [`COLS`], each row's index into `strs`.
    cols: Vec<Vec<u32>>,
    /// The strings' order in the table written: `""` first, then by frequency, then by the
    /// string (deterministic); `perm[new] = old`, `rank[old] = new`.
    perm: Vec<u32>,
    rank: Vec<u32>,
}

impl<'a> Interned<'a> {
    /// Intern every value once, counting, in the order met; then renumber by frequency.
    fn of(rows: &'a [Row<'a>], order: &[usize]) -> Interned<'a> {
        let n = order.len();
        let mut ids: HashMap<&str, u32, FxBuild> =
            HashMap::with_capacity_and_hasher(n * 2 + 16, FxBuild::default());
        let mut strs: Vec<&str> = vec![""];
        let mut counts: Vec<u32> = vec![0];
        ids.insert("", 0);
        let mut cols: Vec<Vec<u32>> = COLS.iter().map(|_| Vec::with_capacity(n)).collect();
        for &i in order {
            let r = &rows[i];
            for ((_, f), col) in COLS.iter().zip(cols.iter_mut()) {
                let s = f(r);
                let id = *ids.entry(s).or_insert_with(|| {
                    strs.push(s);
                    counts.push(0);
                    (strs.len() - 1) as u32
                });
                counts[id as usize] += 1;
                col.push(id);
            }
        }
        drop(ids);
        let mut perm: Vec<u32> = (0..strs.len() as u32).collect();
        perm.sort_unstable_by(|&a, &b| {
            let (x, y) = (strs[a as usize], strs[b as usize]);
            (!x.is_empty())
                .cmp(&!y.is_empty())
                .then(counts[b as usize].cmp(&counts[a as usize]))
                .then(x.cmp(y))
        });
        let mut rank = vec![0u32; strs.len()];
        for (new, &old) in perm.iter().enumerate() {
            rank[old as usize] = new as u32;
        }
        Interned {
            strs,
            cols,
            perm,
            rank,
        }
    }
}

/// Entry IDs: a component's is its PCI IDs, OS release and architecture, which the script
/// puts together itself (see [`derived_id`]); only the others are written, by row.
fn push_ids(out: &mut String, rows: &[Row], order: &[usize]) {
    let mut first = true;
    let mut derived = String::new();
    for (k, &i) in order.iter().enumerate() {
        let r = &rows[i];
        derived_id(&mut derived, r);
        if derived != *r.e.id {
            if !first {
                out.push(',');
            }
            first = false;
            out.push('[');
            push_uint(out, k);
            out.push(',');
            js_str(out, &r.e.id);
            out.push(']');
        }
    }
}

/// Kinds: one character per row, `0` a system, `1` a component.
fn push_kinds(out: &mut String, rows: &[Row], order: &[usize]) {
    for &i in order {
        out.push(match rows[i].e.kind {
            crate::key::Kind::System => '0',
            crate::key::Kind::Component => '1',
        });
    }
}

/// Columns: `[width, digits]`, each row's string index in `width` base-64 digits.
fn push_columns(out: &mut String, t: &Interned) {
    for (c, ((key, _), col)) in COLS.iter().zip(&t.cols).enumerate() {
        if c > 0 {
            out.push_str(",\n");
        }
        let max = col.iter().map(|&id| t.rank[id as usize]).max().unwrap_or(0);
        let mut width = 1;
        while width < 5 && (max as u64) >= 64u64.pow(width) {
            width += 1;
        }
        out.push('"');
        out.push_str(key);
        out.push_str("\":[");
        push_uint(out, width as usize);
        out.push_str(",\"");
        out.reserve(col.len() * width as usize + 2);
        for &id in col {
            let v = t.rank[id as usize];
            for d in (0..width).rev() {
                out.push(char::from(B64[(v >> (6 * d)) as usize & 63]));
            }
        }
        out.push_str("\"]");
    }
}

/// The facets, the select filters' options: per filter, `[value, rows]` over every row, in
/// the order the select shows them (releases as versions, the rest as names).
fn push_facets(out: &mut String, rows: &[Row], order: &[usize]) {
    for (k, (key, by_version)) in [
        ("arch", false),
        ("rel", true),
        ("vendor", false),
        ("class", false),
    ]
    .into_iter()
    .enumerate()
    {
        let f = COLS.iter().find(|(c, _)| *c == key).map(|(_, f)| *f);
        let Some(f) = f else { continue };
        let mut per: HashMap<&str, u32, FxBuild> = HashMap::default();
        for &i in order {
            let v = f(&rows[i]);
            if !v.is_empty() {
                *per.entry(v).or_default() += 1;
            }
        }
        let mut v: Vec<(&str, u32)> = per.into_iter().collect();
        v.sort_by(|a, b| {
            if by_version {
                version_cmp(a.0, b.0)
            } else {
                ci_cmp(a.0, b.0)
            }
            .then(a.0.cmp(b.0))
        });
        if k > 0 {
            out.push(',');
        }
        out.push('"');
        out.push_str(key);
        out.push_str("\":[");
        for (m, (s, count)) in v.into_iter().enumerate() {
            if m > 0 {
                out.push(',');
            }
            out.push('[');
            js_str(out, s);
            out.push(',');
            push_uint(out, count as usize);
            out.push(']');
        }
        out.push(']');
    }
}

/// hcl.json: one document, every entry in full as the store holds it (its file's bytes,
/// minified), in ID order (systems first), one entry per line.
pub(crate) fn write_json(path: &Path, ctx: &Ctx, rows: &[Row]) -> Result<(), Error> {
    let f = fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let mut w = BufWriter::with_capacity(1 << 20, f);
    let head = serde_json::json!({
        "schema": SITE_SCHEMA,
        "title": ctx.title,
        "as_of": ctx.as_of,
        "counts": {
            "entries": rows.len(),
            "systems": ctx.systems,
            "components": ctx.components,
            "reports": ctx.reports,
        },
    });
    let mut head =
        serde_json::to_string(&head).map_err(|e| Error::msg(format!("{}: {e}", path.display())))?;
    // `{"schema":…,"counts":{…}}` → `{"schema":…,"counts":{…},"entries":[`.
    head.pop();
    head.push_str(",\"entries\":[");
    w.write_all(head.as_bytes())
        .map_err(|e| Error::io(path, e))?;
    let mut buf = Vec::with_capacity(1 << 16);
    for (i, r) in rows.iter().enumerate() {
        buf.clear();
        buf.extend_from_slice(if i == 0 { b"\n" } else { b",\n" });
        minify_into(&mut buf, r.raw);
        w.write_all(&buf).map_err(|e| Error::io(path, e))?;
    }
    w.write_all(b"\n]}\n").map_err(|e| Error::io(path, e))?;
    finish(path, w)
}

/// The columns of hcl.csv.
pub const CSV_HEADER: [&str; 23] = [
    "id",
    "kind",
    "vendor_id",
    "device_id",
    "subsystem_vendor_id",
    "subsystem_device_id",
    "vendor",
    "name",
    "class",
    "os_id",
    "os_version_id",
    "arch",
    "kernel",
    "driver",
    "driver_version",
    "firmware",
    "date",
    "profile",
    "signed_by",
    "report_sha256",
    "page",
    // Added with revocations, at the end so that older readers' columns stay where they
    // were: when the current certification was revoked (RFC 3339), and why.
    "revoked",
    "revocation_reason",
];

/// Append one CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break;
/// a text that a spreadsheet would take for a formula (it starts with `=`, `+`, `-`, `@`, a
/// tab or a carriage return) gets a `'` in front.
pub(crate) fn csv_field(out: &mut String, s: &str) {
    let defuse = matches!(
        s.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    );
    let quote = s.contains([',', '"', '\n', '\r']);
    if quote {
        out.push('"');
    }
    if defuse {
        out.push('\'');
    }
    if quote {
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// hcl.csv: one row per entry with its current certification, in ID order; CRLF line ends.
/// The `page` column is relative to the site, or absolute under `base_url` (ending with `/`)
/// when one is given.
pub(crate) fn write_csv(path: &Path, base_url: &str, rows: &[Row]) -> Result<(), Error> {
    let mut out = String::with_capacity(rows.len() * 400 + 512);
    out.push_str(&CSV_HEADER.join(","));
    out.push_str("\r\n");
    let mut page = String::new();
    for r in rows {
        let e = r.e;
        let k = &e.key;
        let c = e.current();
        let cs = |f: for<'x> fn(&'x CertView<'x>) -> &'x str| c.map(f).unwrap_or("");
        page.clear();
        page.push_str(base_url);
        page.push_str("entries/");
        page.push_str(&e.id);
        page.push_str(".html");
        let rev = e.revoked();
        let fields: [&str; 23] = [
            &e.id,
            e.kind.as_str(),
            k.vendor_id.as_deref().unwrap_or(""),
            k.device_id.as_deref().unwrap_or(""),
            k.subsystem_vendor_id.as_deref().unwrap_or(""),
            k.subsystem_device_id.as_deref().unwrap_or(""),
            r.vendor,
            r.name,
            r.class,
            &k.os_id,
            &k.os_version_id,
            &k.arch,
            cs(|c| c.kernel.as_deref().unwrap_or("")),
            r.driver,
            r.driver_version,
            r.firmware,
            cs(|c| &c.date),
            cs(|c| &c.profile),
            cs(|c| &c.signed_by),
            cs(|c| &c.report_sha256),
            &page,
            rev.map(|r| &*r.date).unwrap_or(""),
            rev.map(|r| &*r.reason).unwrap_or(""),
        ];
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            csv_field(&mut out, f);
        }
        out.push_str("\r\n");
    }
    write(path, out.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn js_strings() {
        let mut o = String::new();
        js_str(&mut o, "</script><!-- \"a\\b\" \u{2028}\u{2029} & \u{1}");
        assert_eq!(
            o,
            r#""\u003c/script\u003e\u003c!-- \"a\\b\" \u2028\u2029 \u0026 \u0001""#
        );
        let back: String = serde_json::from_str(&o).expect("JSON");
        assert_eq!(back, "</script><!-- \"a\\b\" \u{2028}\u{2029} & \u{1}");
    }

    #[test]
    fn csv_fields() {
        let f = |s: &str| {
            let mut o = String::new();
            csv_field(&mut o, s);
            o
        };
        assert_eq!(f("plain"), "plain");
        assert_eq!(f("a,b"), "\"a,b\"");
        assert_eq!(f("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(f("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(f("+1"), "'+1");
        assert_eq!(f("-2"), "'-2");
        assert_eq!(f("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(f("line\nbreak"), "\"line\nbreak\"");
        assert_eq!(f(""), "");
    }

    #[test]
    fn numbers() {
        let mut o = String::new();
        for n in [0, 7, 10, 123456789] {
            push_uint(&mut o, n);
            o.push(' ');
        }
        assert_eq!(o, "0 7 10 123456789 ");
    }
}
