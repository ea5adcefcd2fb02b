//! Reading an SSHSIG signature (OpenSSH PROTOCOL.sshsig) exactly as strictly as
//! `ssh-keygen -Y verify` (sshsig.c) reads it, before any signature math: what ssh-keygen
//! refuses is refused here, and what it accepts is read to the same fields.
//!
//! The armor: `-----BEGIN SSH SIGNATURE-----`, then LF or CRLF, base64 (white space anywhere is
//! skipped; padding and the unused bits of the last character must be canonical), up to the
//! first `\n-----END SSH SIGNATURE-----`; whatever follows the footer is ignored, as ssh-keygen
//! ignores it.
//!
//! The blob: `SSHSIG`, a version (ssh-keygen takes any version up to 1), then exactly five
//! strings and nothing after them: the public key (`ssh-ed25519`, a 32-byte key, nothing
//! after), the namespace, the reserved string (read and ignored: the signed data always has it
//! empty), the hash algorithm (`sha256` or `sha512`) and the signature (`ssh-ed25519`, 64
//! bytes, nothing after). Text fields may end in one NUL byte and hold no other (OpenSSH's
//! `sshbuf_get_cstring`). Keys other than Ed25519 are refused: hwcert signs with Ed25519 only.

use ssh_key::public::{Ed25519PublicKey, KeyData};
use ssh_key::{Algorithm, HashAlg, Signature, SshSig};

const BEGIN: &[u8] = b"-----BEGIN SSH SIGNATURE-----";
const END: &[u8] = b"\n-----END SSH SIGNATURE-----";
const MAGIC: &[u8] = b"SSHSIG";
const ED25519: &[u8] = b"ssh-ed25519";

/// An armored signature (the bytes of a `.sig` file), read strictly.
pub fn parse_armored(text: &[u8]) -> Result<SshSig, String> {
    parse_blob(&dearmor(text)?)
}

/// The blob inside the armor.
pub fn dearmor(text: &[u8]) -> Result<Vec<u8>, String> {
    let rest = text
        .strip_prefix(BEGIN)
        .ok_or("it does not start with \"-----BEGIN SSH SIGNATURE-----\"")?;
    let rest = rest
        .strip_prefix(b"\r\n")
        .or_else(|| rest.strip_prefix(b"\n"))
        .ok_or("no line end after the header")?;
    let end = rest
        .windows(END.len())
        .position(|w| w == END)
        .ok_or("no \"-----END SSH SIGNATURE-----\" line")?;
    let body = &rest[..end];
    if body.contains(&0) {
        return Err("a NUL byte in the base64".into());
    }
    b64_decode(body)
}

/// OpenSSH's `b64_pton`: white space anywhere is skipped; anything else that is not base64
/// is an error; padding must be complete and followed only by white space; the bits of the
/// last character beyond the last whole byte must be zero.
fn b64_decode(s: &[u8]) -> Result<Vec<u8>, String> {
    fn value(c: u8) -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    }
    // C's isspace in the C locale.
    let space = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut n = 0; // characters in the current group of four
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if space(c) {
            continue;
        }
        if c == b'=' {
            // Padding: after two characters "==", after three "=", then only white space.
            let pads = match n {
                2 => 2,
                3 => 1,
                _ => return Err("misplaced '=' in the base64".into()),
            };
            let mut seen = 1;
            while seen < pads {
                match s.get(i) {
                    Some(&c) if space(c) => i += 1,
                    Some(&b'=') => {
                        i += 1;
                        seen += 1;
                    }
                    _ => return Err("incomplete base64 padding".into()),
                }
            }
            if s[i..].iter().any(|&c| !space(c)) {
                return Err("data after the base64 padding".into());
            }
            let bits = n * 6;
            let whole = bits / 8;
            let extra = bits % 8;
            if acc & ((1 << extra) - 1) != 0 {
                return Err("non-zero unused bits at the end of the base64".into());
            }
            let v = acc >> extra;
            for k in (0..whole).rev() {
                out.push((v >> (8 * k)) as u8);
            }
            return Ok(out);
        }
        let v = value(c).ok_or_else(|| format!("{:?} is not base64", char::from(c)))?;
        acc = (acc << 6) | v;
        n += 1;
        if n == 4 {
            out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            acc = 0;
            n = 0;
        }
    }
    if n != 0 {
        return Err("the base64 ends in the middle of a byte (no padding)".into());
    }
    Ok(out)
}

/// SSH wire-format reading: every read must fit in what is left.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err(format!("{what}: truncated"));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }

    fn u32(&mut self, what: &str) -> Result<u32, String> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn string(&mut self, what: &str) -> Result<&'a [u8], String> {
        let n = self.u32(what)? as usize;
        self.take(n, what)
            .map_err(|_| format!("{what}: its length ({n}) runs past the end"))
    }

    /// `sshbuf_get_cstring`: a NUL only as the last byte, which is dropped.
    fn cstring(&mut self, what: &str) -> Result<&'a [u8], String> {
        let s = self.string(what)?;
        let s = s.strip_suffix(b"\0").unwrap_or(s);
        if s.contains(&0) {
            return Err(format!("{what}: a NUL byte inside"));
        }
        Ok(s)
    }

    fn end(&self, what: &str) -> Result<(), String> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{} bytes of trailing data after {what}",
                self.0.len()
            ))
        }
    }
}

/// The decoded blob, read strictly.
pub fn parse_blob(blob: &[u8]) -> Result<SshSig, String> {
    let mut r = Reader(blob);
    if r.take(MAGIC.len(), "magic")? != MAGIC {
        return Err("not an SSHSIG blob (no \"SSHSIG\" magic)".into());
    }
    let version = r.u32("version")?;
    if version > 1 {
        return Err(format!("version {version}, only 1 is known"));
    }
    let key = r.string("public key")?;
    let namespace = r.cstring("namespace")?;
    r.string("reserved")?;
    let hash = r.cstring("hash algorithm")?;
    let sig = r.string("signature")?;
    r.end("the signature")?;

    let mut k = Reader(key);
    let ktype = k.cstring("key type")?;
    if ktype != ED25519 {
        return Err(format!(
            "key type \"{}\": hwcert verifies Ed25519 signatures only",
            hwsys::text::escape_controls(&String::from_utf8_lossy(ktype))
        ));
    }
    let pk = k.string("Ed25519 key")?;
    k.end("the public key")?;
    let pk: [u8; 32] = pk
        .try_into()
        .map_err(|_| format!("an Ed25519 key of {} bytes, not 32", pk.len()))?;

    let namespace =
        std::str::from_utf8(namespace).map_err(|_| "the namespace is not UTF-8".to_string())?;
    let hash_alg = match hash {
        b"sha256" => HashAlg::Sha256,
        b"sha512" => HashAlg::Sha512,
        other => {
            return Err(format!(
                "hash algorithm \"{}\", not sha256 or sha512",
                hwsys::text::escape_controls(&String::from_utf8_lossy(other))
            ))
        }
    };

    let mut s = Reader(sig);
    let stype = s.cstring("signature type")?;
    if stype != ED25519 {
        return Err(format!(
            "signature type \"{}\" with an ssh-ed25519 key",
            hwsys::text::escape_controls(&String::from_utf8_lossy(stype))
        ));
    }
    let raw = s.string("Ed25519 signature")?;
    s.end("the Ed25519 signature")?;
    if raw.len() != 64 {
        return Err(format!(
            "an Ed25519 signature of {} bytes, not 64",
            raw.len()
        ));
    }
    let signature = Signature::new(Algorithm::Ed25519, raw.to_vec()).map_err(|e| e.to_string())?;
    SshSig::new(
        KeyData::Ed25519(Ed25519PublicKey(pk)),
        namespace,
        hash_alg,
        signature,
    )
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_as_openssh_reads_it() {
        let ok = |s: &str| b64_decode(s.as_bytes());
        assert_eq!(ok("").expect("empty"), b"");
        assert_eq!(ok("QUJD").expect("abc"), b"ABC");
        assert_eq!(ok(" Q U\nJ\tD \r\n").expect("spaces"), b"ABC");
        assert_eq!(ok("QUI=").expect("one pad"), b"AB");
        assert_eq!(ok("QQ==").expect("two pads"), b"A");
        assert_eq!(ok("QQ= =\n").expect("spaced pads"), b"A");
        for bad in [
            "QUJ", "Q", "QUI", "QR==", "QUJ=", "QQ=", "QQ==QQ==", "=QQQ", "QUJD=", "QU!D",
        ] {
            assert!(ok(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn armor_edges() {
        let good = b"-----BEGIN SSH SIGNATURE-----\nQUJD\n-----END SSH SIGNATURE-----\n";
        assert_eq!(dearmor(good).expect("good"), b"ABC");
        let crlf = b"-----BEGIN SSH SIGNATURE-----\r\nQUJD\r\n-----END SSH SIGNATURE-----";
        assert_eq!(dearmor(crlf).expect("crlf"), b"ABC");
        let tail = b"-----BEGIN SSH SIGNATURE-----\nQUJD\n-----END SSH SIGNATURE-----junk\xff";
        assert_eq!(dearmor(tail).expect("after the footer"), b"ABC");
        for bad in [
            &b""[..],
            b"garbage",
            b" -----BEGIN SSH SIGNATURE-----\nQUJD\n-----END SSH SIGNATURE-----\n",
            b"-----BEGIN SSH SIGNATURE----- \nQUJD\n-----END SSH SIGNATURE-----\n",
            b"-----BEGIN SSH SIGNATURE-----\nQUJD\n",
            b"-----BEGIN SSH SIGNATURE-----\nQUJD-----END SSH SIGNATURE-----\n",
            b"-----BEGIN SSH SIGNATURE-----\nQU\0JD\n-----END SSH SIGNATURE-----\n",
        ] {
            assert!(dearmor(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    fn s(b: &[u8]) -> Vec<u8> {
        let mut v = (b.len() as u32).to_be_bytes().to_vec();
        v.extend_from_slice(b);
        v
    }

    fn blob(
        version: u32,
        key: &[u8],
        ns: &[u8],
        reserved: &[u8],
        hash: &[u8],
        sig: &[u8],
    ) -> Vec<u8> {
        let mut v = MAGIC.to_vec();
        v.extend_from_slice(&version.to_be_bytes());
        for f in [key, ns, reserved, hash, sig] {
            v.extend(s(f));
        }
        v
    }

    #[test]
    fn blob_fields() {
        let key = [s(ED25519), s(&[7; 32])].concat();
        let sig = [s(ED25519), s(&[9; 64])].concat();
        let good = blob(1, &key, b"hwcert-report", b"", b"sha512", &sig);
        let g = parse_blob(&good).expect("good");
        assert_eq!(g.namespace(), "hwcert-report");
        assert_eq!(g.hash_alg(), HashAlg::Sha512);
        assert!(parse_blob(&blob(0, &key, b"n", b"anything", b"sha256", &sig)).is_ok());
        assert!(parse_blob(&blob(1, &key, b"n\0", b"", b"sha512\0", &sig)).is_ok());
        // Truncated anywhere, or anything trailing.
        for n in 0..good.len() {
            assert!(parse_blob(&good[..n]).is_err(), "{n}");
        }
        assert!(parse_blob(&[good.clone(), vec![0]].concat()).is_err());
        let bad = [
            blob(2, &key, b"n", b"", b"sha512", &sig),
            blob(
                1,
                &[key.clone(), vec![0]].concat(),
                b"n",
                b"",
                b"sha512",
                &sig,
            ),
            blob(
                1,
                &[s(ED25519), s(&[7; 31])].concat(),
                b"n",
                b"",
                b"sha512",
                &sig,
            ),
            blob(
                1,
                &[s(b"ssh-rsa"), s(&[7; 32])].concat(),
                b"n",
                b"",
                b"sha512",
                &sig,
            ),
            blob(1, &key, b"n\0x", b"", b"sha512", &sig),
            blob(1, &key, b"", b"", b"sha512", &sig),
            blob(1, &key, b"n", b"", b"sha384", &sig),
            blob(1, &key, b"n", b"", b"SHA512", &sig),
            blob(
                1,
                &key,
                b"n",
                b"",
                b"sha512",
                &[sig.clone(), vec![0]].concat(),
            ),
            blob(
                1,
                &key,
                b"n",
                b"",
                b"sha512",
                &[s(ED25519), s(&[9; 63])].concat(),
            ),
            blob(
                1,
                &key,
                b"n",
                b"",
                b"sha512",
                &[s(b"ssh-ed448"), s(&[9; 64])].concat(),
            ),
            [b"SSHSIh".to_vec(), good[6..].to_vec()].concat(),
            b"garbage".to_vec(),
        ];
        for (i, b) in bad.iter().enumerate() {
            assert!(parse_blob(b).is_err(), "case {i}");
        }
    }
}
