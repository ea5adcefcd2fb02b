//! A strict, fast reader of entry files as the store writes them.
//!
//! serde's derived deserializers spend most of their time matching field names, choosing
//! between borrowed and owned strings and checking UTF-8 string by string: an entry file
//! parses at about 200 MB/s that way, five times slower than serde_json merely scanning it.
//! This reader handles only what the store itself writes — an object of the known fields,
//! strings without escapes, `true`/`false`, arrays and objects, any whitespace — and gives up
//! (`None`) on anything else: an escape, a control character, an unknown or repeated field,
//! `null`, a missing field, a value of another type, a syntax error. The caller then reads
//! the file with serde, so the accepted files, the values and the error messages are serde's;
//! what this reader accepts it reads exactly as serde would (the tests hold it to that on the
//! store's files and on many thousands of mutations of them).

use std::borrow::Cow;

use documents::status::Status;

use crate::key::Kind;

use super::view::{CaseView, CertView, EntryView, KeyView};

/// Read an entry file the fast way, or `None` for serde to read it.
pub(crate) fn entry(b: &[u8]) -> Option<EntryView<'_>> {
    // Checked once for the whole file, so every string can be sliced as it is found.
    let s = std::str::from_utf8(b).ok()?;
    let mut r = Reader { b, s, i: 0 };
    let e = r.entry()?;
    r.ws();
    (r.i == b.len()).then_some(e)
}

struct Reader<'a> {
    b: &'a [u8],
    s: &'a str,
    i: usize,
}

/// Marks a field as seen; `None` when it was seen before (serde: "duplicate field").
fn once(seen: &mut u32, bit: u32) -> Option<()> {
    if *seen & (1 << bit) != 0 {
        return None;
    }
    *seen |= 1 << bit;
    Some(())
}

impl<'a> Reader<'a> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    /// The next byte after whitespace, not consumed.
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        if self.peek()? == c {
            self.i += 1;
            Some(())
        } else {
            None
        }
    }

    /// A string without escapes or control characters.
    fn str(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let from = self.i;
        loop {
            match *self.b.get(self.i)? {
                b'"' => break,
                b'\\' | 0..=0x1f => return None,
                _ => self.i += 1,
            }
        }
        // Both ends are at ASCII quotes of valid UTF-8: character boundaries.
        let s = self.s.get(from..self.i)?;
        self.i += 1;
        Some(s)
    }

    fn cow(&mut self) -> Option<Cow<'a, str>> {
        self.str().map(Cow::Borrowed)
    }

    fn bool(&mut self) -> Option<bool> {
        self.ws();
        let rest = &self.b[self.i..];
        if rest.starts_with(b"true") {
            self.i += 4;
            Some(true)
        } else if rest.starts_with(b"false") {
            self.i += 5;
            Some(false)
        } else {
            None
        }
    }

    /// An object: `field` is called with each key, the reader at its value.
    fn object(&mut self, mut field: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        loop {
            let k = self.str()?;
            self.eat(b':')?;
            field(self, k)?;
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// An array: `item` is called at each element.
    fn array(&mut self, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.eat(b'[')?;
        if self.peek()? == b']' {
            self.i += 1;
            return Some(());
        }
        loop {
            item(self)?;
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn entry(&mut self) -> Option<EntryView<'a>> {
        let mut seen = 0u32;
        let (mut schema, mut id, mut kind, mut key, mut certs) = (None, None, None, None, None);
        let (mut vendor, mut name, mut sub_vendor, mut sub, mut class_id, mut class) =
            (None, None, None, None, None, None);
        self.object(|r, k| {
            match k {
                "schema" => {
                    once(&mut seen, 0)?;
                    schema = Some(r.cow()?);
                }
                "id" => {
                    once(&mut seen, 1)?;
                    id = Some(r.cow()?);
                }
                "kind" => {
                    once(&mut seen, 2)?;
                    kind = Some(match r.str()? {
                        "system" => Kind::System,
                        "component" => Kind::Component,
                        _ => return None,
                    });
                }
                "key" => {
                    once(&mut seen, 3)?;
                    key = Some(r.key()?);
                }
                "vendor" => {
                    once(&mut seen, 4)?;
                    vendor = Some(r.cow()?);
                }
                "name" => {
                    once(&mut seen, 5)?;
                    name = Some(r.cow()?);
                }
                "subsystem_vendor" => {
                    once(&mut seen, 6)?;
                    sub_vendor = Some(r.cow()?);
                }
                "subsystem" => {
                    once(&mut seen, 7)?;
                    sub = Some(r.cow()?);
                }
                "class_id" => {
                    once(&mut seen, 8)?;
                    class_id = Some(r.cow()?);
                }
                "class" => {
                    once(&mut seen, 9)?;
                    class = Some(r.cow()?);
                }
                "certifications" => {
                    once(&mut seen, 10)?;
                    let mut v = Vec::with_capacity(4);
                    r.array(|r| {
                        v.push(r.cert()?);
                        Some(())
                    })?;
                    certs = Some(v);
                }
                _ => return None,
            }
            Some(())
        })?;
        Some(EntryView {
            schema: schema?,
            id: id?,
            kind: kind?,
            key: key?,
            vendor,
            name,
            subsystem_vendor: sub_vendor,
            subsystem: sub,
            class_id,
            class,
            certifications: certs?,
        })
    }

    fn key(&mut self) -> Option<KeyView<'a>> {
        let mut opt: [Option<Cow<'a, str>>; 7] = Default::default();
        let mut req: [Option<Cow<'a, str>>; 3] = Default::default();
        self.object(|r, k| {
            let slot = match k {
                "bus" => &mut opt[0],
                "vendor_id" => &mut opt[1],
                "device_id" => &mut opt[2],
                "subsystem_vendor_id" => &mut opt[3],
                "subsystem_device_id" => &mut opt[4],
                "system_vendor" => &mut opt[5],
                "system_product" => &mut opt[6],
                "os_id" => &mut req[0],
                "os_version_id" => &mut req[1],
                "arch" => &mut req[2],
                _ => return None,
            };
            if slot.is_some() {
                return None;
            }
            *slot = Some(r.cow()?);
            Some(())
        })?;
        let [bus, vendor_id, device_id, subsystem_vendor_id, subsystem_device_id, system_vendor, system_product] =
            opt;
        let [os_id, os_version_id, arch] = req;
        Some(KeyView {
            bus,
            vendor_id,
            device_id,
            subsystem_vendor_id,
            subsystem_device_id,
            system_vendor,
            system_product,
            os_id: os_id?,
            os_version_id: os_version_id?,
            arch: arch?,
        })
    }

    fn cert(&mut self) -> Option<CertView<'a>> {
        let mut req: [Option<Cow<'a, str>>; 7] = Default::default();
        let mut opt: [Option<Cow<'a, str>>; 6] = Default::default();
        let mut details: Option<Vec<(Cow<'a, str>, Cow<'a, str>)>> = None;
        let mut cases: Option<Vec<CaseView<'a>>> = None;
        self.object(|r, k| {
            let slot = match k {
                "report_sha256" => &mut req[0],
                "date" => &mut req[1],
                "added" => &mut req[2],
                "profile" => &mut req[3],
                "signed_by" => &mut req[4],
                "signing_key" => &mut req[5],
                "tool_version" => &mut req[6],
                "os" => &mut opt[0],
                "kernel" => &mut opt[1],
                "driver" => &mut opt[2],
                "driver_version" => &mut opt[3],
                "firmware" => &mut opt[4],
                "system" => &mut opt[5],
                "details" => {
                    if details.is_some() {
                        return None;
                    }
                    let mut v = Vec::with_capacity(4);
                    r.object(|r, k| {
                        // serde keeps a repeated detail key twice (it is a list of pairs).
                        v.push((Cow::Borrowed(k), r.cow()?));
                        Some(())
                    })?;
                    details = Some(v);
                    return Some(());
                }
                "cases" => {
                    if cases.is_some() {
                        return None;
                    }
                    let mut v = Vec::with_capacity(8);
                    r.array(|r| {
                        v.push(r.case()?);
                        Some(())
                    })?;
                    cases = Some(v);
                    return Some(());
                }
                _ => return None,
            };
            if slot.is_some() {
                return None;
            }
            *slot = Some(r.cow()?);
            Some(())
        })?;
        let [report_sha256, date, added, profile, signed_by, signing_key, tool_version] = req;
        let [os, kernel, driver, driver_version, firmware, system] = opt;
        Some(CertView {
            report_sha256: report_sha256?,
            date: date?,
            added: added?,
            profile: profile?,
            signed_by: signed_by?,
            signing_key: signing_key?,
            tool_version: tool_version?,
            os,
            kernel,
            driver,
            driver_version,
            firmware,
            system,
            details: details.unwrap_or_default(),
            cases: cases?,
            // A "revocation" field is unknown here: such a file is serde's to read.
            revocation: None,
        })
    }

    fn case(&mut self) -> Option<CaseView<'a>> {
        let (mut name, mut status, mut blocker) = (None, None, None);
        self.object(|r, k| {
            match k {
                "name" if name.is_none() => name = Some(r.cow()?),
                // An unknown status is serde's to refuse, with its message.
                "status" if status.is_none() => status = Some(Status::parse(r.str()?)?),
                "blocker" if blocker.is_none() => blocker = Some(r.bool()?),
                _ => return None,
            }
            Some(())
        })?;
        Some(CaseView {
            name: name?,
            status: status?,
            blocker: blocker?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    /// serde's reading of the same bytes, as the view derives it.
    fn serde_view(b: &[u8]) -> Result<EntryView<'_>, serde_json::Error> {
        serde_json::from_slice(b)
    }

    /// Whatever the fast reader accepts, serde accepts and reads the same.
    fn agrees(b: &[u8]) -> bool {
        match entry(b) {
            None => false,
            Some(fast) => {
                let slow = serde_view(b).unwrap_or_else(|e| {
                    panic!(
                        "the fast reader accepted what serde refuses ({e}):\n{}",
                        String::from_utf8_lossy(b)
                    )
                });
                assert_eq!(
                    format!("{fast:?}"),
                    format!("{slow:?}"),
                    "{}",
                    String::from_utf8_lossy(b)
                );
                true
            }
        }
    }

    fn store_files(n: usize) -> Vec<Vec<u8>> {
        let t = tempfile::tempdir().expect("tmp");
        testing::synth::generate(t.path(), n, 3).expect("store");
        let st = Store::open(t.path()).expect("store");
        st.entry_paths()
            .expect("paths")
            .iter()
            .map(|p| std::fs::read(p).expect("read"))
            .collect()
    }

    #[test]
    fn reads_the_stores_files_as_serde_does() {
        let files = store_files(400);
        let fast = files.iter().filter(|b| agrees(b)).count();
        // The store writes no escapes but for names that need them: nearly all go the fast way.
        assert!(fast * 10 >= files.len() * 9, "{fast} of {}", files.len());
        // Any whitespace, or none.
        for b in files.iter().take(50) {
            let mut m = Vec::new();
            crate::site::minify::minify_into(&mut m, b);
            assert!(agrees(&m));
            let wide: Vec<u8> = b
                .iter()
                .flat_map(|&c| {
                    if c == b'\n' {
                        b"\r\n\t ".to_vec()
                    } else {
                        vec![c]
                    }
                })
                .collect();
            assert!(agrees(&wide));
        }
    }

    #[test]
    fn gives_up_where_serde_differs_or_refuses() {
        let files = store_files(3);
        let good = String::from_utf8(files[1].clone()).expect("utf-8");
        assert!(agrees(good.as_bytes()));
        let cases: Vec<String> = vec![
            // Escapes, null, unknown and repeated fields, wrong types, trailing bytes.
            good.replacen("\"name\": \"", "\"name\": \"a\\\"b ", 1),
            good.replacen("\"name\": \"", "\"name\": \"\\u0041", 1),
            good.replacen("\"firmware\": \"", "\"firmware\": null, \"x\": \"", 1),
            good.replacen("\"schema\"", "\"future\": 1, \"schema\"", 1),
            good.replacen("\"schema\"", "\"id\": \"x\", \"schema\"", 1),
            good.replacen("\"blocker\": true", "\"blocker\": 1", 1),
            good.replacen("\"blocker\": true", "\"blocker\": truex", 1),
            good.replacen("\"kind\": \"component\"", "\"kind\": \"Component\"", 1),
            good.replacen("\"arch\"", "\"arch_\"", 1),
            format!("{good} x"),
            format!("{good}{{}}"),
            good[..good.len() - 3].to_string(),
            good.replacen("\"name\": \"", "\"name\": \"\u{1}", 1),
        ];
        for c in &cases {
            assert_ne!(c, &good);
            assert!(entry(c.as_bytes()).is_none(), "{c}");
        }
        // Not UTF-8.
        let mut b = good.clone().into_bytes();
        let at = good.find("\"name\": \"").expect("name") + 9;
        b.insert(at, 0xff);
        assert!(entry(&b).is_none());
        assert!(serde_view(&b).is_err());
    }

    /// Random mutations of the store's files: wherever the fast reader still accepts one,
    /// serde reads it the same; both kinds of outcome occur.
    #[test]
    fn mutations_never_disagree() {
        let files = store_files(40);
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut rnd = move |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n.max(1) as u64) as usize
        };
        const BYTES: &[u8] = b" \n\t\"\\{}[],:tfnx01e\x01";
        let (mut accepted, mut refused) = (0, 0);
        for round in 0..6000 {
            let mut b = files[round % files.len()].clone();
            for _ in 0..1 + rnd(3) {
                let at = rnd(b.len());
                match rnd(7) {
                    0 => {
                        b.remove(at);
                    }
                    1 => b.insert(at, BYTES[rnd(BYTES.len())]),
                    2 => b[at] = BYTES[rnd(BYTES.len())],
                    3 => b.truncate(at),
                    _ => {
                        // Move, repeat or drop whole lines: repeated, missing and reordered
                        // fields, misplaced commas.
                        let text = String::from_utf8_lossy(&b).into_owned();
                        let mut lines: Vec<&str> = text.lines().collect();
                        let (i, j) = (rnd(lines.len()), rnd(lines.len()));
                        match rnd(3) {
                            0 => lines.swap(i, j),
                            1 => {
                                let l = lines[i];
                                lines.insert(j, l);
                            }
                            _ => {
                                lines.remove(i);
                            }
                        }
                        b = lines.join("\n").into_bytes();
                    }
                }
                if b.is_empty() {
                    break;
                }
            }
            if agrees(&b) {
                accepted += 1;
            } else {
                refused += 1;
            }
        }
        assert!(accepted > 300 && refused > 3000, "{accepted} {refused}");
    }
}
