//! A function's configuration space (`config`), parsed as lspci parses it: the standard header
//! and the capability list, for what sysfs does not say (older kernels have no `revision`
//! attribute; a recorded tree may lack any attribute).
//!
//! Offsets are those of the PCI Local Bus and PCI Express specifications. At most the first
//! [`READ`] bytes are read: the header and the capability list (the PCI Express capability is
//! always in it), never the extended space beyond, where the Device Serial Number lives (a
//! snapshot records what is read). The kernel gives anyone but root only the 64-byte header;
//! such a file is [`Config::header_only`] when its capability list goes on beyond.

use hwsys::sysroot::Sysroot;

/// Bytes read of a `config` file.
pub(super) const READ: u64 = 256;
/// The standard header, all that the kernel returns to a reader without CAP_SYS_ADMIN.
pub(super) const HEADER: usize = 64;

/// What a `config` file says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Config {
    /// Vendor and device ID; absent for a virtual function, whose registers read ffff (its
    /// IDs are in its physical function's SR-IOV capability, and in sysfs).
    pub(super) ids: Option<(u16, u16)>,
    /// Base class, subclass and programming interface (0x0b, 0x0a, 0x09).
    pub(super) class: u32,
    pub(super) revision: u8,
    /// The header type, without the multi-function bit: 0 a function, 1 a PCI-to-PCI bridge,
    /// 2 a CardBus bridge.
    pub(super) header_type: u8,
    /// Subsystem vendor and device: at 0x2c/0x2e in a type 0 header, in the Subsystem
    /// Vendor ID capability (0x0d) of a bridge (absent when it has none); 0000 is no subsystem.
    pub(super) subsystem: Option<(u16, u16)>,
    /// The PCI Express capability's link registers, when the function has that capability.
    pub(super) link: Option<LinkRegs>,
    /// The capability list goes on beyond the 64 bytes that could be read: what it holds is
    /// unknown (not absent).
    pub(super) header_only: bool,
    /// What went wrong walking the capability list (the capabilities found before it stand).
    pub(super) problem: Option<String>,
}

/// Link Capabilities (max) and Link Status (current) of the PCI Express capability.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct LinkRegs {
    /// Speed codes (bits 3:0): 1..6 = 2.5, 5, 8, 16, 32, 64 GT/s.
    pub(super) max_speed: u8,
    /// Lanes (bits 9:4).
    pub(super) max_width: u8,
    pub(super) current_speed: u8,
    pub(super) current_width: u8,
}

/// A speed code of Link Capabilities / Link Status in GT/s; absent for 0 (link down) and the
/// reserved codes.
pub(super) fn speed_gts(code: u8) -> Option<f64> {
    match code {
        1 => Some(2.5),
        2 => Some(5.0),
        3 => Some(8.0),
        4 => Some(16.0),
        5 => Some(32.0),
        6 => Some(64.0),
        _ => None,
    }
}

/// GT/s as the kernel (6.x) writes `current_link_speed`: "8.0 GT/s PCIe".
pub(super) fn speed_text(gts: f64) -> String {
    format!("{gts:.1} GT/s PCIe")
}

const STATUS: usize = 0x06;
const STATUS_CAP_LIST: u16 = 1 << 4;
const CAP_POINTER: usize = 0x34;
const CAP_PCIE: u8 = 0x10;
const CAP_SSVID: u8 = 0x0d;
/// Link Capabilities and Link Status within the PCI Express capability; the capability must
/// hold Link Status (2 bytes at 0x12).
const PCIE_LNKCAP: usize = 0x0c;
const PCIE_LNKSTA: usize = 0x12;
const PCIE_NEEDS: usize = 0x14;
/// Subsystem vendor and device within the Subsystem Vendor ID capability.
const SSVID_IDS: usize = 0x04;
const SSVID_NEEDS: usize = 0x08;

/// Read and parse `rel` (a function's `config`): the header, and the capabilities after it when
/// `capabilities`. `ids` are the vendor and device sysfs gave.
/// Whatever makes it unusable is a warning naming the file: too short, not a function's
/// header, another function's IDs. An empty file is silent: the kernel never gives one (at
/// least the 64-byte header), but a snapshot holds one for a file it listed and did not read
/// (hwcert's snapshots before config space was read).
pub(super) fn read(
    sys: &Sysroot,
    rel: &str,
    capabilities: bool,
    virtual_fn: bool,
    ids: (Option<u32>, Option<u32>),
) -> Option<Config> {
    let limit = if capabilities { READ } else { HEADER as u64 };
    let bytes = sys.read_prefix(rel, limit)?;
    if bytes.is_empty() {
        return None;
    }
    let c = match parse(&bytes, virtual_fn) {
        Ok(c) => c,
        Err(e) => {
            sys.warn(rel, e);
            return None;
        }
    };
    if let (Some((v, d)), (Some(sv), Some(sd))) = (c.ids, ids) {
        if (u32::from(v), u32::from(d)) != (sv, sd) {
            sys.warn(
                rel,
                format!(
                    "config space is of {v:04x}:{d:04x}, not of this function ({sv:04x}:{sd:04x}): not used"
                ),
            );
            return None;
        }
    }
    if let Some(p) = &c.problem {
        sys.warn(rel, p.clone());
    }
    Some(c)
}

fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_le_bytes([*b.get(off)?, *b.get(off + 1)?]))
}

fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes([
        *b.get(off)?,
        *b.get(off + 1)?,
        *b.get(off + 2)?,
        *b.get(off + 3)?,
    ]))
}

/// Parse a `config` file's bytes. `virtual_fn`: the function is an SR-IOV virtual function
/// (its vendor and device registers read ffff). An error is why nothing of the file can be
/// trusted: too short for the header, or not a function's header.
pub(super) fn parse(b: &[u8], virtual_fn: bool) -> Result<Config, String> {
    if b.len() < HEADER {
        return Err(format!(
            "only {} bytes, shorter than the {HEADER}-byte standard header: not used",
            b.len()
        ));
    }
    let word = |off| u16_at(b, off).unwrap_or(0xffff);
    let (vendor, device) = (word(0x00), word(0x02));
    let class = u32::from(b[0x0b]) << 16 | u32::from(b[0x0a]) << 8 | u32::from(b[0x09]);
    if vendor == 0xffff && device == 0xffff && class == 0xff_ffff {
        return Err("reads as all ones (no function answers): not used".into());
    }
    let ids = match (vendor, device) {
        (0xffff, 0xffff) if virtual_fn => None,
        (0x0000 | 0xffff, _) => {
            return Err(format!(
                "vendor ID {vendor:04x} is not a vendor's: not a function's config space, not used"
            ))
        }
        (v, d) => Some((v, d)),
    };
    let header_type = b[0x0e] & 0x7f;
    if header_type > 2 {
        return Err(format!(
            "header type {header_type} is none of 0, 1, 2: not a function's config space, not used"
        ));
    }
    let mut c = Config {
        ids,
        class,
        revision: b[0x08],
        header_type,
        ..Config::default()
    };
    if header_type == 0 {
        // As the kernel's attributes, 0000 (no subsystem) included.
        c.subsystem = Some((word(0x2c), word(0x2e)));
    }
    // A CardBus bridge (type 2) keeps its list pointer at 0x14 and its subsystem at 0x40:
    // neither is read (there is no CardBus in a server).
    if word(STATUS) & STATUS_CAP_LIST != 0 && header_type != 2 {
        walk_capabilities(b, &mut c);
    }
    Ok(c)
}

/// Follow the capability list from 0x34, as lspci does: each capability's next pointer with
/// its two low bits cleared, ending at 0. A pointer into the header (< 0x40), back to a
/// capability already seen, beyond the bytes read, or an ID of ff (the chain broken) ends the
/// walk with [`Config::problem`] — except beyond a 64-byte file, which is
/// [`Config::header_only`].
fn walk_capabilities(b: &[u8], c: &mut Config) {
    let mut seen = [false; READ as usize];
    let mut at = usize::from(b[CAP_POINTER] & 0xfc);
    while at != 0 {
        if at < HEADER {
            c.problem = Some(format!(
                "the capability list points to 0x{at:02x}, inside the standard header: list ended there"
            ));
            return;
        }
        if at + 2 > b.len() {
            if b.len() == HEADER {
                c.header_only = true;
            } else {
                c.problem = Some(format!(
                    "the capability list points to 0x{at:02x}, beyond the {} bytes read: list ended there",
                    b.len()
                ));
            }
            return;
        }
        if std::mem::replace(&mut seen[at], true) {
            c.problem = Some(format!(
                "the capability list loops back to 0x{at:02x}: list ended there"
            ));
            return;
        }
        let (id, next) = (b[at], b[at + 1]);
        let whole = |needs: usize| at + needs <= b.len();
        match id {
            0xff => {
                c.problem = Some(format!(
                    "capability ID ff at 0x{at:02x} (the chain is broken): list ended there"
                ));
                return;
            }
            CAP_PCIE if c.link.is_none() => {
                if !whole(PCIE_NEEDS) {
                    c.problem = Some(format!(
                        "the PCI Express capability at 0x{at:02x} is cut short ({} bytes read)",
                        b.len()
                    ));
                    return;
                }
                let cap = u32_at(b, at + PCIE_LNKCAP).unwrap_or(0);
                let sta = u16_at(b, at + PCIE_LNKSTA).unwrap_or(0);
                c.link = Some(LinkRegs {
                    max_speed: (cap & 0xf) as u8,
                    max_width: ((cap >> 4) & 0x3f) as u8,
                    current_speed: (sta & 0xf) as u8,
                    current_width: ((sta >> 4) & 0x3f) as u8,
                });
            }
            CAP_SSVID if c.header_type == 1 && c.subsystem.is_none() => {
                if !whole(SSVID_NEEDS) {
                    c.problem = Some(format!(
                        "the Subsystem Vendor ID capability at 0x{at:02x} is cut short ({} bytes read)",
                        b.len()
                    ));
                    return;
                }
                let v = u16_at(b, at + SSVID_IDS).unwrap_or(0);
                let d = u16_at(b, at + SSVID_IDS + 2).unwrap_or(0);
                c.subsystem = Some((v, d));
            }
            _ => {}
        }
        at = usize::from(next & 0xfc);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A type 0 header of 256 bytes: 8086:10fb rev 01, class 020000, subsystem 8086:000c, and
    /// a capability list at 0x40 (power management) → 0x50 (PCI Express, x4 of x8, 5 of 8 GT/s).
    fn function() -> Vec<u8> {
        let mut b = vec![0u8; 256];
        b[0..4].copy_from_slice(&[0x86, 0x80, 0xfb, 0x10]);
        b[0x06] = 0x10;
        b[0x08] = 0x01;
        b[0x0b] = 0x02;
        b[0x2c..0x30].copy_from_slice(&[0x86, 0x80, 0x0c, 0x00]);
        b[0x34] = 0x40;
        b[0x40..0x42].copy_from_slice(&[0x01, 0x50]);
        b[0x50..0x52].copy_from_slice(&[0x10, 0x00]);
        // Link Capabilities: 8 GT/s (3), x8; Link Status: 5 GT/s (2), x4.
        b[0x5c..0x60].copy_from_slice(&(3u32 | 8 << 4).to_le_bytes());
        b[0x62..0x64].copy_from_slice(&(2u16 | 4 << 4).to_le_bytes());
        b
    }

    #[test]
    fn a_type_0_header_and_its_pcie_capability() {
        let c = parse(&function(), false).expect("parsed");
        assert_eq!(c.ids, Some((0x8086, 0x10fb)));
        assert_eq!((c.class, c.revision, c.header_type), (0x020000, 1, 0));
        assert_eq!(c.subsystem, Some((0x8086, 0x000c)));
        assert_eq!(
            c.link,
            Some(LinkRegs {
                max_speed: 3,
                max_width: 8,
                current_speed: 2,
                current_width: 4
            })
        );
        assert!(!c.header_only);
        assert_eq!(c.problem, None);
    }

    #[test]
    fn header_only_short_and_garbage() {
        let b = function();
        let c = parse(&b[..64], false).expect("64 bytes are a header");
        assert!(c.header_only, "the list goes on beyond what was read");
        assert_eq!((c.link, c.revision), (None, 1));
        for n in [0, 1, 32, 63] {
            let e = parse(&b[..n], false).expect_err("short");
            assert!(e.contains(&format!("only {n} bytes")), "{e}");
        }
        let e = parse(&[0xff; 256], false).expect_err("all ones");
        assert!(e.contains("all ones"), "{e}");
        let e = parse(&[0; 256], false).expect_err("all zeros");
        assert!(e.contains("vendor ID 0000"), "{e}");
        let mut t = b.clone();
        t[0x0e] = 0x05;
        assert!(parse(&t, false)
            .expect_err("type")
            .contains("header type 5"));
        t[0x0e] = 0x80;
        assert_eq!(
            parse(&t, false).map(|c| c.header_type),
            Ok(0),
            "multi-function"
        );
        t[0x0e] = 0x02;
        let c = parse(&t, false).expect("CardBus");
        assert_eq!(
            (c.link, c.subsystem),
            (None, None),
            "no list at 0x34 for type 2"
        );
        let mut vf = b.clone();
        vf[0..4].copy_from_slice(&[0xff; 4]);
        assert!(parse(&vf, false).is_err(), "ffff IDs of a function");
        assert_eq!(parse(&vf, true).map(|c| (c.ids, c.revision)), Ok((None, 1)));
    }

    #[test]
    fn capability_list_problems_end_the_walk() {
        let mut b = function();
        b[0x51] = 0x40; // PCIe → PM again, after PCIe was read
        let c = parse(&b, false).expect("parsed");
        assert!(c
            .problem
            .as_deref()
            .is_some_and(|p| p.contains("loops back to 0x40")));
        assert!(c.link.is_some(), "what was found before stands");

        let mut b = function();
        b[0x41] = 0x40; // PM → itself
        let c = parse(&b, false).expect("parsed");
        assert!(c.problem.as_deref().is_some_and(|p| p.contains("loops")));
        assert_eq!(c.link, None);

        let mut b = function();
        b[0x34] = 0x10;
        let c = parse(&b, false).expect("parsed");
        assert!(c
            .problem
            .as_deref()
            .is_some_and(|p| p.contains("inside the standard header")));

        let mut b = function();
        b[0x40] = 0xff;
        assert!(parse(&b, false)
            .expect("parsed")
            .problem
            .is_some_and(|p| p.contains("broken")));

        let b = function();
        let c = parse(&b[..0x58], false).expect("parsed");
        assert!(c
            .problem
            .as_deref()
            .is_some_and(|p| p.contains("cut short")));
        assert!(!c.header_only);
        let c = parse(&b[..0x48], false).expect("parsed");
        assert!(c
            .problem
            .as_deref()
            .is_some_and(|p| p.contains("beyond the 72")));

        let mut b = function();
        b[0x06] = 0;
        let c = parse(&b, false).expect("parsed");
        assert_eq!(
            (c.link, c.problem),
            (None, None),
            "no list without status bit 4"
        );
    }

    #[test]
    fn a_bridge_has_its_subsystem_in_the_ssvid_capability() {
        let mut b = function();
        b[0x0e] = 0x01;
        b[0x0b] = 0x06;
        b[0x0a] = 0x04;
        // In a type 1 header 0x2c is the prefetchable limit's upper half, not a subsystem.
        b[0x2c..0x30].copy_from_slice(&[0x12, 0x34, 0x56, 0x78]);
        assert_eq!(parse(&b, false).map(|c| c.subsystem), Ok(None));
        b[0x41] = 0x60;
        b[0x60..0x68].copy_from_slice(&[0x0d, 0x50, 0, 0, 0xaa, 0x17, 0x34, 0x12]);
        let c = parse(&b, false).expect("parsed");
        assert_eq!(c.subsystem, Some((0x17aa, 0x1234)));
        assert!(c.link.is_some(), "the list goes on after SSVID");
    }

    #[test]
    fn speeds() {
        let got: Vec<Option<f64>> = (0..8).map(speed_gts).collect();
        assert_eq!(
            got,
            [
                None,
                Some(2.5),
                Some(5.0),
                Some(8.0),
                Some(16.0),
                Some(32.0),
                Some(64.0),
                None
            ]
        );
        assert_eq!(speed_text(2.5), "2.5 GT/s PCIe");
        assert_eq!(speed_text(16.0), "16.0 GT/s PCIe");
    }
}
