//! Vmcores built as makedumpfile and the kernel lay them out (makedumpfile's
//! `diskdump_mod.h`: `disk_dump_header`, `kdump_sub_header`, two bitmaps, one 24-byte
//! `page_desc` per dumped page; an ELF core with a VMCOREINFO note), for the tests of
//! `cases::vmcore` and of `system::kdump_crash`: whole, and cut wherever a test likes.

const KDUMP_SIG: &[u8; 8] = b"KDUMP   ";

/// A kdump compressed dump of `pages` pages (header version 6, 4 KiB blocks, one
/// sub-header block with a VMCOREINFO, two one-block bitmaps), as makedumpfile lays it out.
pub fn compressed_dump(pages: u64, release: &str) -> Vec<u8> {
    let block = 4096usize;
    let mut f = vec![0u8; block * 4];
    f[..8].copy_from_slice(KDUMP_SIG);
    f[8..12].copy_from_slice(&6u32.to_le_bytes());
    f[12..17].copy_from_slice(b"Linux");
    f[12 + 130..12 + 130 + release.len()].copy_from_slice(release.as_bytes());
    f[428..432].copy_from_slice(&(block as u32).to_le_bytes());
    f[432..436].copy_from_slice(&1u32.to_le_bytes());
    f[436..440].copy_from_slice(&2u32.to_le_bytes());
    let info = format!("OSRELEASE={release}\nPAGESIZE=4096\n");
    let info_off = (block + 1024) as u64;
    f[block + 32..block + 40].copy_from_slice(&info_off.to_le_bytes());
    f[block + 40..block + 48].copy_from_slice(&(info.len() as u64).to_le_bytes());
    f[block + 1024..block + 1024 + info.len()].copy_from_slice(info.as_bytes());
    for p in 0..pages as usize {
        f[2 * block + p / 8] |= 1 << (p % 8);
        f[3 * block + p / 8] |= 1 << (p % 8);
    }
    let data_off = f.len() + pages as usize * 24;
    let mut descs = Vec::new();
    let mut data = Vec::new();
    for p in 0..pages {
        let size = 100u32;
        descs.extend_from_slice(&(data_off as u64 + p * 100).to_le_bytes());
        descs.extend_from_slice(&size.to_le_bytes());
        descs.extend_from_slice(&1u32.to_le_bytes());
        descs.extend_from_slice(&0u64.to_le_bytes());
        data.extend(std::iter::repeat_n(0x5au8, 100));
    }
    f.extend(descs);
    f.extend(data);
    f
}

/// An ELF core with a VMCOREINFO note and one PT_LOAD segment of `load` bytes.
pub fn elf_dump(load: usize, release: &str) -> Vec<u8> {
    let mut f = vec![0u8; 64 + 2 * 56];
    f[..4].copy_from_slice(b"\x7fELF");
    f[4] = 2;
    f[5] = 1;
    f[16..18].copy_from_slice(&4u16.to_le_bytes());
    f[32..40].copy_from_slice(&64u64.to_le_bytes());
    f[54..56].copy_from_slice(&56u16.to_le_bytes());
    f[56..58].copy_from_slice(&2u16.to_le_bytes());
    let note = format!("VMCOREINFO\0\0OSRELEASE={release}\n");
    let note_off = f.len() as u64;
    let load_off = note_off + note.len() as u64;
    let ph = |kind: u32, off: u64, size: u64| {
        let mut p = vec![0u8; 56];
        p[..4].copy_from_slice(&kind.to_le_bytes());
        p[8..16].copy_from_slice(&off.to_le_bytes());
        p[32..40].copy_from_slice(&size.to_le_bytes());
        p[40..48].copy_from_slice(&size.to_le_bytes());
        p
    };
    f[64..120].copy_from_slice(&ph(4, note_off, note.len() as u64));
    f[120..176].copy_from_slice(&ph(1, load_off, load as u64));
    f.extend(note.as_bytes());
    f.extend(std::iter::repeat_n(0u8, load));
    f
}
