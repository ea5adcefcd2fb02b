//! Is a vmcore a readable dump? Its header, read without debuginfo: the kdump compressed
//! format that `makedumpfile -c/-l/-p/-z` writes (the `disk_dump_header` and
//! `kdump_sub_header` of makedumpfile's `diskdump_mod.h`), the ELF core that `cp
//! /proc/vmcore` or `makedumpfile -E` writes, and makedumpfile's flattened stream (`-F`, for
//! ssh targets). Only headers and page descriptors are read (pread), never the whole dump.
//!
//! A dump is whole when every page it claims lies inside the file: for the compressed format
//! the last page descriptor (one per set bit of the second bitmap) ends within the file, for
//! ELF every PT_LOAD segment does. The kernel release comes from the dump's VMCOREINFO
//! (`OSRELEASE=`).

use std::fs::File;
use std::os::unix::fs::FileExt as _;
use std::path::Path;

/// What a vmcore is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vmcore {
    /// "kdump compressed", "ELF", "makedumpfile flattened".
    pub format: &'static str,
    pub bytes: u64,
    /// OSRELEASE of its VMCOREINFO, when found.
    pub release: Option<String>,
    /// Pages it holds (compressed format), when known.
    pub pages: Option<u64>,
}

const KDUMP_SIG: &[u8; 8] = b"KDUMP   ";
const FLAT_SIG: &[u8] = b"makedumpfile";
/// The most bytes of bitmap read (a 64 TiB machine's bitmap is 4 GiB: past this the count is
/// not checked, the header still is).
const MAX_BITMAP: u64 = 256 << 20;

fn read_exact_at(f: &File, off: u64, n: usize, len: u64, what: &str) -> Result<Vec<u8>, String> {
    if off.checked_add(n as u64).is_none_or(|end| end > len) {
        return Err(format!(
            "truncated: the {what} (bytes {off}..{}) lies past the end of the file ({len} bytes)",
            off.saturating_add(n as u64)
        ));
    }
    let mut b = vec![0u8; n];
    f.read_exact_at(&mut b, off)
        .map_err(|e| format!("cannot read the {what}: {e}"))?;
    Ok(b)
}

fn u32le(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}
fn u64le(b: &[u8], o: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[o..o + 8]);
    u64::from_le_bytes(a)
}

/// Inspect the vmcore at `path`.
pub fn inspect(path: &Path) -> Result<Vmcore, String> {
    let f = File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let len = f
        .metadata()
        .map_err(|e| format!("cannot stat {}: {e}", path.display()))?
        .len();
    if len == 0 {
        return Err("empty file".into());
    }
    let head = read_exact_at(&f, 0, 16.min(len as usize), len, "signature")?;
    if head.len() < 8
        && (KDUMP_SIG.starts_with(&head) || b"\x7fELF".starts_with(&head[..head.len().min(4)]))
    {
        return Err(format!("truncated: only {len} bytes of a dump's signature"));
    }
    if head.starts_with(KDUMP_SIG) {
        return compressed(&f, len);
    }
    if head.starts_with(b"\x7fELF") {
        return elf(&f, len);
    }
    if head.starts_with(FLAT_SIG) {
        // A stream for `makedumpfile -R`: its header is a 4 KiB block with the signature, the
        // type "Flattened format" and the version; its data follow as (offset, size) records.
        read_exact_at(&f, 0, 4096, len, "flattened header")?;
        return Ok(Vmcore {
            format: "makedumpfile flattened",
            bytes: len,
            release: None,
            pages: None,
        });
    }
    Err(format!(
        "not a dump: the file begins {:02x?}, neither KDUMP (makedumpfile) nor ELF",
        &head[..head.len().min(8)]
    ))
}

fn compressed(f: &File, len: u64) -> Result<Vmcore, String> {
    let h = read_exact_at(f, 0, 464, len, "disk_dump_header")?;
    let version = u32le(&h, 8);
    let block = u32le(&h, 428) as u64;
    let sub_blocks = u32le(&h, 432) as u64;
    let bitmap_blocks = u32le(&h, 436) as u64;
    if !(512..=1 << 20).contains(&block) || !block.is_power_of_two() {
        return Err(format!("garbage header: block size {block}"));
    }
    if bitmap_blocks == 0 || !bitmap_blocks.is_multiple_of(2) {
        return Err(format!(
            "garbage header: {bitmap_blocks} bitmap blocks (two bitmaps)"
        ));
    }
    let release = cstr(&h[12 + 2 * 65..12 + 3 * 65]);
    // The sub-header: VMCOREINFO's place (header version 3 and later).
    let mut vmcoreinfo_release = None;
    if version >= 3 && sub_blocks > 0 {
        let s = read_exact_at(f, block, 64, len, "kdump_sub_header")?;
        let (off, size) = (u64le(&s, 32), u64le(&s, 40));
        if size > 0 && size < 1 << 20 {
            let info = read_exact_at(f, off, size as usize, len, "VMCOREINFO")?;
            vmcoreinfo_release = osrelease(&info);
            if vmcoreinfo_release.is_none() {
                return Err("garbage: the VMCOREINFO holds no OSRELEASE".into());
            }
        }
    }
    let bitmap_off = block * (1 + sub_blocks);
    let bitmap_len = bitmap_blocks * block;
    let desc_off = bitmap_off + bitmap_len;
    if desc_off > len {
        return Err(format!(
            "truncated: the bitmaps end at byte {desc_off}, the file has {len}"
        ));
    }
    let mut pages = None;
    if bitmap_len / 2 <= MAX_BITMAP {
        let second = read_exact_at(
            f,
            bitmap_off + bitmap_len / 2,
            (bitmap_len / 2) as usize,
            len,
            "second bitmap",
        )?;
        let n: u64 = second.iter().map(|b| b.count_ones() as u64).sum();
        if n == 0 {
            return Err("empty: the dump's bitmap holds no page".into());
        }
        // Each page: a 24-byte page_desc {offset, size, flags, page_flags}.
        let last = read_exact_at(f, desc_off + (n - 1) * 24, 24, len, "last page descriptor")?;
        let (off, size) = (u64le(&last, 0), u32le(&last, 8) as u64);
        if off.saturating_add(size) > len {
            return Err(format!(
                "truncated: page {n} of {n} lies at bytes {off}..{}, the file has {len}",
                off + size
            ));
        }
        pages = Some(n);
    }
    Ok(Vmcore {
        format: "kdump compressed",
        bytes: len,
        release: vmcoreinfo_release.or(release),
        pages,
    })
}

fn cstr(b: &[u8]) -> Option<String> {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    let s = String::from_utf8_lossy(&b[..end]).trim().to_string();
    (!s.is_empty() && s.chars().all(|c| c.is_ascii_graphic())).then_some(s)
}

fn osrelease(info: &[u8]) -> Option<String> {
    String::from_utf8_lossy(info)
        .split(['\n', '\0'])
        .find_map(|l| l.strip_prefix("OSRELEASE="))
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
}

fn elf(f: &File, len: u64) -> Result<Vmcore, String> {
    let h = read_exact_at(f, 0, 64, len, "ELF header")?;
    if h[4] != 2 || h[5] != 1 {
        return Err("an ELF file, but not 64-bit little-endian".into());
    }
    let e_type = u16::from_le_bytes([h[16], h[17]]);
    if e_type != 4 {
        return Err(format!("an ELF file of type {e_type}, not a core (4)"));
    }
    let phoff = u64le(&h, 32);
    let phentsize = u16::from_le_bytes([h[54], h[55]]) as u64;
    let phnum = u16::from_le_bytes([h[56], h[57]]) as u64;
    if phentsize != 56 || phnum == 0 {
        return Err(format!(
            "garbage ELF header: {phnum} program headers of {phentsize} bytes"
        ));
    }
    let ph = read_exact_at(f, phoff, (phnum * 56) as usize, len, "program headers")?;
    let mut release = None;
    for i in 0..phnum as usize {
        let p = &ph[i * 56..(i + 1) * 56];
        let kind = u32le(p, 0);
        let (off, filesz) = (u64le(p, 8), u64le(p, 32));
        if off.saturating_add(filesz) > len {
            return Err(format!(
                "truncated: segment {i} (bytes {off}..{}) lies past the end ({len} bytes)",
                off.saturating_add(filesz)
            ));
        }
        if kind == 4 && filesz < 1 << 20 {
            let notes = read_exact_at(f, off, filesz as usize, len, "notes")?;
            release = release.or_else(|| osrelease(&notes));
        }
    }
    Ok(Vmcore {
        format: "ELF",
        bytes: len,
        release,
        pages: None,
    })
}

/// The lines of a dump's kernel log that say it was the sysrq crash hwcert asked for
/// (`sysrq: Trigger a crash`, `Kernel panic - not syncing: sysrq triggered crash`; kernels
/// before 5.x print `SysRq : Trigger a crash`).
pub fn triggered_crash(dmesg: &str) -> Vec<String> {
    dmesg
        .lines()
        .filter(|l| l.contains("Trigger a crash") || l.contains("sysrq triggered crash"))
        .map(|l| l.trim().to_string())
        .collect()
}

/// Where kdump writes dumps, from kdump.conf: its `path` (default /var/crash), and the remote
/// target when the dump goes over the network (`nfs`, `ssh`), which this machine cannot read.
pub fn kdump_target(conf: &str) -> (String, Option<String>) {
    let mut path = "/var/crash".to_string();
    let mut remote = None;
    for l in conf.lines() {
        let l = l.split('#').next().unwrap_or("").trim();
        let mut w = l.split_whitespace();
        match (w.next(), w.next()) {
            (Some("path"), Some(p)) if p.starts_with('/') => path = p.to_string(),
            (Some(k @ ("nfs" | "ssh")), Some(t)) => remote = Some(format!("{k} {t}")),
            _ => {}
        }
    }
    (path, remote)
}

#[cfg(test)]
mod tests {
    use super::*;
    use testing::vmcore::{compressed_dump, elf_dump};

    fn at(d: &tempfile::TempDir, b: &[u8]) -> std::path::PathBuf {
        let p = d.path().join("vmcore");
        std::fs::write(&p, b).expect("write");
        p
    }

    #[test]
    fn whole_dumps_are_read_without_debuginfo() {
        let d = tempfile::tempdir().expect("tmp");
        let v = inspect(&at(&d, &compressed_dump(20, "6.6.47-12.oc9.x86_64"))).expect("whole");
        assert_eq!(v.format, "kdump compressed");
        assert_eq!(v.pages, Some(20));
        assert_eq!(v.release.as_deref(), Some("6.6.47-12.oc9.x86_64"));
        let v = inspect(&at(&d, &elf_dump(8192, "5.4.119-20.0009.oc8"))).expect("whole");
        assert_eq!(v.format, "ELF");
        assert_eq!(v.release.as_deref(), Some("5.4.119-20.0009.oc8"));
    }

    #[test]
    fn truncated_garbage_and_empty_dumps_are_refused_with_the_reason() {
        let d = tempfile::tempdir().expect("tmp");
        let c = compressed_dump(20, "6.6.47");
        for cut in [
            c.len() - 1,
            c.len() - 100 * 10,
            4096 * 4 + 24 * 5,
            4096 * 2 + 10,
            300,
            5,
        ] {
            let e = inspect(&at(&d, &c[..cut])).expect_err("truncated");
            assert!(e.contains("truncated"), "cut at {cut}: {e}");
        }
        let e = elf_dump(8192, "6.6");
        let err = inspect(&at(&d, &e[..e.len() - 1])).expect_err("truncated");
        assert!(err.contains("truncated: segment 1"), "{err}");
        assert!(inspect(&at(&d, &e[..40]))
            .expect_err("cut")
            .contains("truncated"));
        assert_eq!(inspect(&at(&d, b"")).expect_err("empty"), "empty file");
        assert!(inspect(&at(&d, b"hello, this is not a dump at all"))
            .expect_err("garbage")
            .contains("not a dump"));
        let mut g = c.clone();
        g[428..432].copy_from_slice(&7u32.to_le_bytes());
        assert!(inspect(&at(&d, &g))
            .expect_err("garbage")
            .contains("block size 7"));
        let mut core_not = e.clone();
        core_not[16] = 2;
        assert!(inspect(&at(&d, &core_not))
            .expect_err("exec")
            .contains("not a core"));
        let mut none = compressed_dump(1, "6.6");
        none[3 * 4096] = 0;
        assert!(inspect(&at(&d, &none))
            .expect_err("no page")
            .contains("no page"));
    }

    #[test]
    fn kdump_conf_and_the_crash_lines() {
        assert_eq!(kdump_target(""), ("/var/crash".into(), None));
        assert_eq!(
            kdump_target("# comment\npath /srv/dumps  # here\ncore_collector makedumpfile -l --message-level 7 -d 31\n"),
            ("/srv/dumps".into(), None)
        );
        assert_eq!(
            kdump_target("nfs 192.0.2.5:/export/dumps\npath /kdump\n")
                .1
                .as_deref(),
            Some("nfs 192.0.2.5:/export/dumps")
        );
        assert_eq!(kdump_target("path relative\n").0, "/var/crash");
        let dmesg = "[  101.1] sysrq: Trigger a crash\n[  101.2] Kernel panic - not syncing: sysrq triggered crash\n[ 1.0] other\n";
        assert_eq!(triggered_crash(dmesg).len(), 2);
        assert!(triggered_crash("[ 1.0] BUG: oops elsewhere\n").is_empty());
        assert_eq!(triggered_crash("SysRq : Trigger a crash\n").len(), 1);
    }
}
