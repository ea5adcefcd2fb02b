//! The raw SMBIOS table (sys/firmware/dmi/tables/DMI, readable by root): memory devices
//! (type 17) and, where sys/class/dmi/id is absent, the firmware identity (types 0–3).
//!
//! The parser never trusts the table: a structure whose length runs past the end, a missing
//! string terminator or an out-of-range string index ends or skips that structure, never the
//! program. Layouts follow DMTF DSP0134 (SMBIOS 3.7).

use serde::{Deserialize, Serialize};

/// One memory device (SMBIOS type 17). Empty slots are listed too (`populated: false`), so
/// a reader sees how many slots the board has.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Dimm {
    /// Slot name on the board ("DIMM_A1", "CPU1_DIMM_B0").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locator: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank_locator: Option<String>,
    pub populated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    /// DDR4, DDR5, LPDDR5, …
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_type: Option<String>,
    /// DIMM, SODIMM, …
    #[serde(skip_serializing_if = "Option::is_none")]
    pub form_factor: Option<String>,
    /// Maximum speed in MT/s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speed_mts: Option<u32>,
    /// Configured speed in MT/s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configured_speed_mts: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manufacturer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub part_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asset_tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_width_bits: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_width_bits: Option<u16>,
    /// Whether total width exceeds data width (the module carries ECC bits).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ecc: Option<bool>,
}

/// One structure of the table: its type, its formatted bytes and its strings.
#[derive(Debug, Clone, PartialEq)]
pub struct Structure<'a> {
    pub kind: u8,
    pub handle: u16,
    /// The formatted area, header included (so offsets match the specification).
    pub data: &'a [u8],
    pub strings: Vec<&'a [u8]>,
}

impl<'a> Structure<'a> {
    fn byte(&self, off: usize) -> Option<u8> {
        self.data.get(off).copied()
    }
    fn word(&self, off: usize) -> Option<u16> {
        let b = self.data.get(off..off + 2)?;
        Some(u16::from_le_bytes([b[0], b[1]]))
    }
    fn dword(&self, off: usize) -> Option<u32> {
        let b = self.data.get(off..off + 4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// The string a byte at `off` refers to (1-based; 0 means none), trimmed.
    pub fn string(&self, off: usize) -> Option<String> {
        let idx = self.byte(off)? as usize;
        if idx == 0 {
            return None;
        }
        let raw = self.strings.get(idx - 1)?;
        let s: String = String::from_utf8_lossy(raw)
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let t = s.trim();
        if t.is_empty() || is_placeholder(t) {
            None
        } else {
            Some(t.to_string())
        }
    }
}

/// Strings vendors put where they have nothing to say.
pub fn is_placeholder(s: &str) -> bool {
    let l = s.to_ascii_lowercase();
    matches!(
        l.as_str(),
        "to be filled by o.e.m."
            | "to be filled by o.e.m"
            | "default string"
            | "not specified"
            | "none"
            | "n/a"
            | "na"
            | "unknown"
            | "not available"
            | "system serial number"
            | "system product name"
            | "system manufacturer"
            | "0123456789"
            | "123456789"
            | "no dimm"
            | "[empty]"
            | "empty"
    ) || l.chars().all(|c| c == '0' || c == ' ' || c == 'f')
        && l.chars().any(|c| c == '0' || c == 'f')
        && l.len() >= 4
}

/// Split a raw table into structures. Stops at type 127 (end of table) or at the first
/// structure that does not fit; returns what was parsed and, if it stopped early, why.
pub fn structures(table: &[u8]) -> (Vec<Structure<'_>>, Option<String>) {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < table.len() {
        let Some(hdr) = table.get(pos..pos + 4) else {
            return (
                out,
                Some(format!("truncated structure header at offset {pos}")),
            );
        };
        let (kind, len) = (hdr[0], hdr[1] as usize);
        let handle = u16::from_le_bytes([hdr[2], hdr[3]]);
        if len < 4 {
            return (
                out,
                Some(format!("structure at offset {pos} has length {len} (< 4)")),
            );
        }
        let Some(data) = table.get(pos..pos + len) else {
            return (
                out,
                Some(format!("structure at offset {pos} runs past the end")),
            );
        };
        // The string set: NUL-terminated strings, ended by an extra NUL.
        let mut strings = Vec::new();
        let mut p = pos + len;
        let rest = &table[p.min(table.len())..];
        if rest.len() >= 2 && rest[0] == 0 && rest[1] == 0 {
            p += 2;
        } else {
            let mut ended = false;
            while p < table.len() {
                let Some(n) = table[p..].iter().position(|b| *b == 0) else {
                    break;
                };
                strings.push(&table[p..p + n]);
                p += n + 1;
                if table.get(p) == Some(&0) {
                    p += 1;
                    ended = true;
                    break;
                }
            }
            if !ended {
                out.push(Structure {
                    kind,
                    handle,
                    data,
                    strings,
                });
                return (
                    out,
                    Some(format!("unterminated strings after offset {pos}")),
                );
            }
        }
        out.push(Structure {
            kind,
            handle,
            data,
            strings,
        });
        if kind == 127 {
            break;
        }
        pos = p;
    }
    (out, None)
}

fn memory_type_name(t: u8) -> Option<&'static str> {
    Some(match t {
        0x01 => "Other",
        0x03 => "DRAM",
        0x04 => "EDRAM",
        0x05 => "VRAM",
        0x06 => "SRAM",
        0x07 => "RAM",
        0x08 => "ROM",
        0x09 => "Flash",
        0x0A => "EEPROM",
        0x0B => "FEPROM",
        0x0C => "EPROM",
        0x0D => "CDRAM",
        0x0E => "3DRAM",
        0x0F => "SDRAM",
        0x10 => "SGRAM",
        0x11 => "RDRAM",
        0x12 => "DDR",
        0x13 => "DDR2",
        0x14 => "DDR2 FB-DIMM",
        0x18 => "DDR3",
        0x19 => "FBD2",
        0x1A => "DDR4",
        0x1B => "LPDDR",
        0x1C => "LPDDR2",
        0x1D => "LPDDR3",
        0x1E => "LPDDR4",
        0x1F => "Logical non-volatile device",
        0x20 => "HBM",
        0x21 => "HBM2",
        0x22 => "DDR5",
        0x23 => "LPDDR5",
        0x24 => "HBM3",
        _ => return None,
    })
}

fn form_factor_name(f: u8) -> Option<&'static str> {
    Some(match f {
        0x01 => "Other",
        0x03 => "SIMM",
        0x04 => "SIP",
        0x05 => "Chip",
        0x06 => "DIP",
        0x07 => "ZIP",
        0x08 => "Proprietary Card",
        0x09 => "DIMM",
        0x0A => "TSOP",
        0x0B => "Row of chips",
        0x0C => "RIMM",
        0x0D => "SODIMM",
        0x0E => "SRIMM",
        0x0F => "FB-DIMM",
        0x10 => "Die",
        0x11 => "CAMM",
        _ => return None,
    })
}

/// Decode one type 17 structure.
pub fn dimm(s: &Structure<'_>) -> Dimm {
    let mut d = Dimm {
        locator: s.string(0x10),
        bank_locator: s.string(0x11),
        ..Dimm::default()
    };
    let width = |w: Option<u16>| w.filter(|w| *w != 0 && *w != 0xFFFF);
    d.total_width_bits = width(s.word(0x08));
    d.data_width_bits = width(s.word(0x0A));
    if let (Some(t), Some(dw)) = (d.total_width_bits, d.data_width_bits) {
        d.ecc = Some(t > dw);
    }
    match s.word(0x0C) {
        Some(0) | None => d.populated = false,
        Some(0xFFFF) => d.populated = true, // installed, size unknown
        Some(0x7FFF) => {
            d.populated = true;
            d.size_bytes = s.dword(0x1C).map(|mb| u64::from(mb & 0x7FFF_FFFF) << 20);
        }
        Some(v) => {
            d.populated = true;
            let n = u64::from(v & 0x7FFF);
            d.size_bytes = Some(if v & 0x8000 != 0 { n << 10 } else { n << 20 });
        }
    }
    if !d.populated {
        return d;
    }
    d.form_factor = s.byte(0x0E).and_then(form_factor_name).map(str::to_string);
    d.memory_type = s.byte(0x12).and_then(memory_type_name).map(str::to_string);
    let speed = |w: Option<u16>, ext: Option<u32>| match w {
        Some(0xFFFF) => ext.filter(|e| *e != 0).map(|e| e & 0x7FFF_FFFF),
        Some(0) | None => None,
        Some(v) => Some(u32::from(v)),
    };
    d.speed_mts = speed(s.word(0x15), s.dword(0x54));
    d.configured_speed_mts = speed(s.word(0x20), s.dword(0x58));
    d.manufacturer = s.string(0x17);
    d.serial = s.string(0x18);
    d.asset_tag = s.string(0x19);
    d.part_number = s.string(0x1A);
    d.rank = s.byte(0x1B).map(|a| a & 0x0F).filter(|r| *r != 0);
    d
}

/// Every memory device in a raw table, with a reason when the table was cut short.
pub fn dimms(table: &[u8]) -> (Vec<Dimm>, Option<String>) {
    let (ss, err) = structures(table);
    (ss.iter().filter(|s| s.kind == 17).map(dimm).collect(), err)
}

/// The firmware identity that types 0–3 carry, keyed as sys/class/dmi/id names them.
pub fn identity(table: &[u8]) -> Vec<(&'static str, String)> {
    let (ss, _) = structures(table);
    let mut out = Vec::new();
    let mut push = |k: &'static str, v: Option<String>| {
        if let Some(v) = v {
            if !out.iter().any(|(key, _): &(&str, String)| *key == k) {
                out.push((k, v));
            }
        }
    };
    for s in &ss {
        match s.kind {
            0 => {
                push("bios_vendor", s.string(0x04));
                push("bios_version", s.string(0x05));
                push("bios_date", s.string(0x08));
            }
            1 => {
                push("sys_vendor", s.string(0x04));
                push("product_name", s.string(0x05));
                push("product_version", s.string(0x06));
                push("product_serial", s.string(0x07));
                push("product_uuid", s.data.get(0x08..0x18).and_then(uuid));
                push("product_sku", s.string(0x19));
                push("product_family", s.string(0x1A));
            }
            2 => {
                push("board_vendor", s.string(0x04));
                push("board_name", s.string(0x05));
                push("board_version", s.string(0x06));
                push("board_serial", s.string(0x07));
                push("board_asset_tag", s.string(0x08));
            }
            3 => {
                push("chassis_vendor", s.string(0x04));
                push("chassis_type", s.byte(0x05).map(|t| (t & 0x7F).to_string()));
                push("chassis_version", s.string(0x06));
                push("chassis_serial", s.string(0x07));
                push("chassis_asset_tag", s.string(0x08));
            }
            _ => {}
        }
    }
    out
}

/// SMBIOS UUID bytes as the kernel prints product_uuid (first three fields little-endian).
fn uuid(b: &[u8]) -> Option<String> {
    if b.len() != 16 || b.iter().all(|x| *x == 0) || b.iter().all(|x| *x == 0xFF) {
        return None;
    }
    Some(format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13],
        b[14], b[15]
    ))
}

/// Overwrite the identifiers in a raw table (serial numbers, asset tags, UUIDs) so it can be
/// shared: string bytes become 'X', UUID bytes zero. Lengths are kept, so the table parses
/// exactly as before.
pub fn redact_table(table: &mut [u8]) {
    // (type, string offsets to blank)
    const IDS: &[(u8, &[usize])] = &[
        (1, &[0x07]),
        (2, &[0x07, 0x08]),
        (3, &[0x07, 0x08]),
        (4, &[0x20, 0x21]),
        (17, &[0x18, 0x19]),
    ];
    let (ss, _) = structures(table);
    // Collect byte ranges first (the structures borrow the table).
    let base = table.as_ptr() as usize;
    let mut uuids: Vec<std::ops::Range<usize>> = Vec::new();
    let mut strings: Vec<std::ops::Range<usize>> = Vec::new();
    for s in &ss {
        let start = s.data.as_ptr() as usize - base;
        if s.kind == 1 && s.data.len() >= 0x18 {
            uuids.push(start + 0x08..start + 0x18);
        }
        for (_, offs) in IDS.iter().filter(|(k, _)| *k == s.kind) {
            for off in offs.iter() {
                let idx = s.data.get(*off).map(|i| *i as usize).unwrap_or(0);
                if let Some(st) = idx.checked_sub(1).and_then(|i| s.strings.get(i)) {
                    let a = st.as_ptr() as usize - base;
                    strings.push(a..a + st.len());
                }
            }
        }
    }
    for r in uuids {
        if let Some(b) = table.get_mut(r) {
            b.fill(0);
        }
    }
    for r in strings {
        if let Some(b) = table.get_mut(r) {
            b.fill(b'X');
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Build a structure: formatted bytes (header filled in) and strings.
    pub fn build(kind: u8, handle: u16, body: &[u8], strings: &[&str]) -> Vec<u8> {
        let mut v = vec![kind, (body.len() + 4) as u8];
        v.extend_from_slice(&handle.to_le_bytes());
        v.extend_from_slice(body);
        if strings.is_empty() {
            v.extend_from_slice(&[0, 0]);
        } else {
            for s in strings {
                v.extend_from_slice(s.as_bytes());
                v.push(0);
            }
            v.push(0);
        }
        v
    }

    /// A type 17 body (offsets 0x04..0x28) for a populated DDR4 DIMM.
    pub fn dimm_body(size_word: u16, ext_mb: u32) -> Vec<u8> {
        let mut b = vec![0u8; 0x28 - 4];
        let mut put16 = |off: usize, v: u16| b[off - 4..off - 2].copy_from_slice(&v.to_le_bytes());
        put16(0x08, 72);
        put16(0x0A, 64);
        put16(0x0C, size_word);
        put16(0x15, 3200);
        put16(0x20, 2933);
        b[0x0E - 4] = 0x09;
        b[0x10 - 4] = 1;
        b[0x11 - 4] = 2;
        b[0x12 - 4] = 0x1A;
        b[0x17 - 4] = 3;
        b[0x18 - 4] = 4;
        b[0x19 - 4] = 0;
        b[0x1A - 4] = 5;
        b[0x1B - 4] = 2;
        b[0x1C - 4..0x20 - 4].copy_from_slice(&ext_mb.to_le_bytes());
        b
    }

    pub fn sample_table() -> Vec<u8> {
        let mut t = Vec::new();
        t.extend(build(
            1,
            1,
            &{
                let mut b = vec![1u8, 2, 3, 4];
                b.extend((1..=16u8).collect::<Vec<_>>());
                b.extend([6u8, 0, 0]);
                b
            },
            &["Inspur", "NF5280M6", "V1", "SN12345"],
        ));
        t.extend(build(
            17,
            0x20,
            &dimm_body(16384, 0),
            &[
                "DIMM_A1",
                "P0_Node0",
                "Samsung",
                "S3R14L",
                "M393A4K40DB3-CWE",
            ],
        ));
        t.extend(build(
            17,
            0x21,
            &dimm_body(0x7FFF, 65536),
            &["DIMM_A2", "P0_Node0", "Hynix", "H9", "HMAA8GR7"],
        ));
        t.extend(build(17, 0x22, &dimm_body(0, 0), &["DIMM_B1", "P0_Node0"]));
        t.extend(build(127, 0xFFFF, &[], &[]));
        t
    }

    #[test]
    fn decodes_memory_devices() {
        let (ds, err) = dimms(&sample_table());
        assert_eq!(err, None);
        assert_eq!(ds.len(), 3);
        assert_eq!(ds[0].locator.as_deref(), Some("DIMM_A1"));
        assert_eq!(ds[0].size_bytes, Some(16 << 30));
        assert_eq!(ds[0].memory_type.as_deref(), Some("DDR4"));
        assert_eq!(ds[0].form_factor.as_deref(), Some("DIMM"));
        assert_eq!(ds[0].speed_mts, Some(3200));
        assert_eq!(ds[0].configured_speed_mts, Some(2933));
        assert_eq!(ds[0].manufacturer.as_deref(), Some("Samsung"));
        assert_eq!(ds[0].part_number.as_deref(), Some("M393A4K40DB3-CWE"));
        assert_eq!(ds[0].serial.as_deref(), Some("S3R14L"));
        assert_eq!(ds[0].rank, Some(2));
        assert_eq!(ds[0].ecc, Some(true));
        assert_eq!(ds[1].size_bytes, Some(64 << 30), "extended size");
        assert!(!ds[2].populated);
        assert_eq!(ds[2].size_bytes, None);
    }

    #[test]
    fn identity_from_types_0_to_3() {
        let id = identity(&sample_table());
        let get = |k: &str| id.iter().find(|(x, _)| *x == k).map(|(_, v)| v.clone());
        assert_eq!(get("sys_vendor").as_deref(), Some("Inspur"));
        assert_eq!(get("product_name").as_deref(), Some("NF5280M6"));
        assert_eq!(get("product_serial").as_deref(), Some("SN12345"));
        assert_eq!(
            get("product_uuid").as_deref(),
            Some("04030201-0605-0807-090a-0b0c0d0e0f10")
        );
    }

    #[test]
    fn redaction_keeps_the_layout() {
        let mut t = sample_table();
        redact_table(&mut t);
        let (ds, err) = dimms(&t);
        assert_eq!(err, None);
        assert_eq!(ds[0].serial.as_deref(), Some("XXXXXX"));
        assert_eq!(ds[0].part_number.as_deref(), Some("M393A4K40DB3-CWE"));
        let id = identity(&t);
        assert!(id
            .iter()
            .any(|(k, v)| *k == "product_serial" && v == "XXXXXXX"));
        assert!(!String::from_utf8_lossy(&t).contains("SN12345"));
    }

    #[test]
    fn truncated_and_garbage_tables_never_panic() {
        let t = sample_table();
        for cut in 0..t.len() {
            let (_, _) = dimms(&t[..cut]);
            let _ = identity(&t[..cut]);
            let mut c = t[..cut].to_vec();
            redact_table(&mut c);
        }
        let mut seed = 0x1234_5678u32;
        for _ in 0..200 {
            let g: Vec<u8> = (0..300)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    seed as u8
                })
                .collect();
            let _ = dimms(&g);
            let _ = identity(&g);
        }
        let (_, err) = dimms(&[17, 2, 0, 0]);
        assert!(err.is_some());
    }
}
