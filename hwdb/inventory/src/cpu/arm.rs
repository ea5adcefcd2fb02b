//! ARM implementer and part names from MIDR values, as current lscpu names them.
//!
//! The facts (ids and names) follow util-linux `lscpu-arm.c` (2.40 and later, including the
//! Neoverse V3/N3, Cortex-A720/A725/X4/X925, C1 and Phytium FTC862 additions) with one
//! deliberate exception: HiSilicon part 0xd01 is named "Kunpeng-920", the name the lscpu shipped
//! by OpenCloudOS 8 and 9 (util-linux 2.32 and 2.37) prints and the HCL keys its entries on.
//! util-linux 2.40 renamed it to "TaiShan-v110" (the core inside the Kunpeng 920 SoC).
//!
//! A MIDR_EL1 value is `implementer[31:24] variant[23:20] architecture[19:16] part[15:4]
//! revision[3:0]`; lscpu prints the implementer name as "Vendor ID", the part name as "Model
//! name" and, for ARM Ltd. cores, `r<variant>p<revision>` as "Stepping".
//!
//! The probe decodes with it the CPU types `/proc/cpuinfo` describes by their MIDR numbers, or
//! builds those types from the MIDR registers in sysfs when cpuinfo has no ARM ids.

use std::collections::BTreeMap;

use hwsys::sysroot::Sysroot;

use super::cputype::{Cpuinfo, RawType};
use super::model::{CpuSet, SYS_CPU};

/// Parts designed by Arm Ltd. (implementer 0x41).
const ARM: &[(u32, &str)] = &[
    (0x810, "ARM810"),
    (0x920, "ARM920"),
    (0x922, "ARM922"),
    (0x926, "ARM926"),
    (0x940, "ARM940"),
    (0x946, "ARM946"),
    (0x966, "ARM966"),
    (0xa20, "ARM1020"),
    (0xa22, "ARM1022"),
    (0xa26, "ARM1026"),
    (0xb02, "ARM11-MPCore"),
    (0xb36, "ARM1136"),
    (0xb56, "ARM1156"),
    (0xb76, "ARM1176"),
    (0xc05, "Cortex-A5"),
    (0xc07, "Cortex-A7"),
    (0xc08, "Cortex-A8"),
    (0xc09, "Cortex-A9"),
    (0xc0d, "Cortex-A17"), // originally A12
    (0xc0f, "Cortex-A15"),
    (0xc0e, "Cortex-A17"),
    (0xc14, "Cortex-R4"),
    (0xc15, "Cortex-R5"),
    (0xc17, "Cortex-R7"),
    (0xc18, "Cortex-R8"),
    (0xc20, "Cortex-M0"),
    (0xc21, "Cortex-M1"),
    (0xc23, "Cortex-M3"),
    (0xc24, "Cortex-M4"),
    (0xc27, "Cortex-M7"),
    (0xc60, "Cortex-M0+"),
    (0xd01, "Cortex-A32"),
    (0xd02, "Cortex-A34"),
    (0xd03, "Cortex-A53"),
    (0xd04, "Cortex-A35"),
    (0xd05, "Cortex-A55"),
    (0xd06, "Cortex-A65"),
    (0xd07, "Cortex-A57"),
    (0xd08, "Cortex-A72"),
    (0xd09, "Cortex-A73"),
    (0xd0a, "Cortex-A75"),
    (0xd0b, "Cortex-A76"),
    (0xd0c, "Neoverse-N1"),
    (0xd0d, "Cortex-A77"),
    (0xd0e, "Cortex-A76AE"),
    (0xd13, "Cortex-R52"),
    (0xd14, "Cortex-R82AE"),
    (0xd15, "Cortex-R82"),
    (0xd16, "Cortex-R52+"),
    (0xd20, "Cortex-M23"),
    (0xd21, "Cortex-M33"),
    (0xd22, "Cortex-M55"),
    (0xd23, "Cortex-M85"),
    (0xd24, "Cortex-M52"),
    (0xd40, "Neoverse-V1"),
    (0xd41, "Cortex-A78"),
    (0xd42, "Cortex-A78AE"),
    (0xd43, "Cortex-A65AE"),
    (0xd44, "Cortex-X1"),
    (0xd46, "Cortex-A510"),
    (0xd47, "Cortex-A710"),
    (0xd48, "Cortex-X2"),
    (0xd49, "Neoverse-N2"),
    (0xd4a, "Neoverse-E1"),
    (0xd4b, "Cortex-A78C"),
    (0xd4c, "Cortex-X1C"),
    (0xd4d, "Cortex-A715"),
    (0xd4e, "Cortex-X3"),
    (0xd4f, "Neoverse-V2"),
    (0xd80, "Cortex-A520"),
    (0xd81, "Cortex-A720"),
    (0xd82, "Cortex-X4"),
    (0xd83, "Neoverse-V3AE"),
    (0xd84, "Neoverse-V3"),
    (0xd85, "Cortex-X925"),
    (0xd87, "Cortex-A725"),
    (0xd88, "Cortex-A520AE"),
    (0xd89, "Cortex-A720AE"),
    (0xd8a, "C1-Nano"),
    (0xd8b, "C1-Pro"),
    (0xd8c, "C1-Ultra"),
    (0xd8e, "Neoverse-N3"),
    (0xd8f, "Cortex-A320"),
    (0xd90, "C1-Premium"),
];

const BROADCOM: &[(u32, &str)] = &[
    (0x0f, "Brahma-B15"),
    (0x100, "Brahma-B53"),
    (0x516, "ThunderX2"),
];

const CAVIUM: &[(u32, &str)] = &[
    (0x0a0, "ThunderX"),
    (0x0a1, "ThunderX-88XX"),
    (0x0a2, "ThunderX-81XX"),
    (0x0a3, "ThunderX-83XX"),
    (0x0af, "ThunderX2-99xx"),
    (0x0b0, "OcteonTX2"),
    (0x0b1, "OcteonTX2-98XX"),
    (0x0b2, "OcteonTX2-96XX"),
    (0x0b3, "OcteonTX2-95XX"),
    (0x0b4, "OcteonTX2-95XXN"),
    (0x0b5, "OcteonTX2-95XXMM"),
    (0x0b6, "OcteonTX2-95XXO"),
    (0x0b8, "ThunderX3-T110"),
];

const DEC: &[(u32, &str)] = &[(0xa10, "SA110"), (0xa11, "SA1100")];

const FUJITSU: &[(u32, &str)] = &[(0x001, "A64FX"), (0x003, "MONAKA")];

const HISILICON: &[(u32, &str)] = &[
    // lscpu >= 2.40 says "TaiShan-v110"; see the module documentation.
    (0xd01, "Kunpeng-920"),
    (0xd02, "TaiShan-v120"),
    (0xd40, "Cortex-A76"), // HiSilicon uses this id, though it advertises an A76
    (0xd41, "Cortex-A77"),
];

const NVIDIA: &[(u32, &str)] = &[
    (0x000, "Denver"),
    (0x003, "Denver-2"),
    (0x004, "Carmel"),
    (0x010, "Olympus"),
];

const APM: &[(u32, &str)] = &[(0x000, "X-Gene")];

const QUALCOMM: &[(u32, &str)] = &[
    (0x001, "Oryon"),
    (0x00f, "Scorpion"),
    (0x02d, "Scorpion"),
    (0x04d, "Krait"),
    (0x06f, "Krait"),
    (0x201, "Kryo"),
    (0x205, "Kryo"),
    (0x211, "Kryo"),
    (0x800, "Falkor-V1/Kryo"),
    (0x801, "Kryo-V2"),
    (0x802, "Kryo-3XX-Gold"),
    (0x803, "Kryo-3XX-Silver"),
    (0x804, "Kryo-4XX-Gold"),
    (0x805, "Kryo-4XX-Silver"),
    (0xc00, "Falkor"),
    (0xc01, "Saphira"),
];

const SAMSUNG: &[(u32, &str)] = &[
    (0x001, "exynos-m1"),
    (0x002, "exynos-m3"),
    (0x003, "exynos-m4"),
    (0x004, "exynos-m5"),
];

const MARVELL: &[(u32, &str)] = &[
    (0x131, "Feroceon-88FR131"),
    (0x581, "PJ4/PJ4b"),
    (0x584, "PJ4B-MP"),
];

const APPLE: &[(u32, &str)] = &[
    (0x000, "Swift"),
    (0x001, "Cyclone"),
    (0x002, "Typhoon"),
    (0x003, "Typhoon/Capri"),
    (0x004, "Twister"),
    (0x005, "Twister/Elba/Malta"),
    (0x006, "Hurricane"),
    (0x007, "Hurricane/Myst"),
    (0x008, "Monsoon"),
    (0x009, "Mistral"),
    (0x00b, "Vortex"),
    (0x00c, "Tempest"),
    (0x00f, "Tempest-M9"),
    (0x010, "Vortex/Aruba"),
    (0x011, "Tempest/Aruba"),
    (0x012, "Lightning"),
    (0x013, "Thunder"),
    (0x020, "Icestorm-A14"),
    (0x021, "Firestorm-A14"),
    (0x022, "Icestorm-M1"),
    (0x023, "Firestorm-M1"),
    (0x024, "Icestorm-M1-Pro"),
    (0x025, "Firestorm-M1-Pro"),
    (0x026, "Thunder-M10"),
    (0x028, "Icestorm-M1-Max"),
    (0x029, "Firestorm-M1-Max"),
    (0x030, "Blizzard-A15"),
    (0x031, "Avalanche-A15"),
    (0x032, "Blizzard-M2"),
    (0x033, "Avalanche-M2"),
    (0x034, "Blizzard-M2-Pro"),
    (0x035, "Avalanche-M2-Pro"),
    (0x036, "Sawtooth-A16"),
    (0x037, "Everest-A16"),
    (0x038, "Blizzard-M2-Max"),
    (0x039, "Avalanche-M2-Max"),
];

const FARADAY: &[(u32, &str)] = &[(0x526, "FA526"), (0x626, "FA626")];

const INTEL: &[(u32, &str)] = &[
    (0x200, "i80200"),
    (0x210, "PXA250A"),
    (0x212, "PXA210A"),
    (0x242, "i80321-400"),
    (0x243, "i80321-600"),
    (0x290, "PXA250B/PXA26x"),
    (0x292, "PXA210B"),
    (0x2c2, "i80321-400-B0"),
    (0x2c3, "i80321-600-B0"),
    (0x2d0, "PXA250C/PXA255/PXA26x"),
    (0x2d2, "PXA210C"),
    (0x411, "PXA27x"),
    (0x41c, "IPX425-533"),
    (0x41d, "IPX425-400"),
    (0x41f, "IPX425-266"),
    (0x682, "PXA32x"),
    (0x683, "PXA930/PXA935"),
    (0x688, "PXA30x"),
    (0x689, "PXA31x"),
    (0xb11, "SA1110"),
    (0xc12, "IPX1200"),
];

const MICROSOFT: &[(u32, &str)] = &[(0xd49, "Azure-Cobalt-100")];

const PHYTIUM: &[(u32, &str)] = &[
    (0x303, "FTC310"),
    (0x660, "FTC660"),
    (0x661, "FTC661"),
    (0x662, "FTC662"),
    (0x663, "FTC663"),
    (0x664, "FTC664"),
    (0x862, "FTC862"),
];

const AMPERE: &[(u32, &str)] = &[(0xac3, "Ampere-1"), (0xac4, "Ampere-1a")];

const NONE: &[(u32, &str)] = &[];

/// One MIDR implementer: its code, lscpu's vendor name and its parts (part number, name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Implementer {
    pub id: u32,
    pub name: &'static str,
    pub parts: &'static [(u32, &'static str)],
}

const fn imp(id: u32, name: &'static str, parts: &'static [(u32, &'static str)]) -> Implementer {
    Implementer { id, name, parts }
}

/// Every implementer lscpu knows.
pub const IMPLEMENTERS: &[Implementer] = &[
    imp(0x41, "ARM", ARM),
    imp(0x42, "Broadcom", BROADCOM),
    imp(0x43, "Cavium", CAVIUM),
    imp(0x44, "DEC", DEC),
    imp(0x46, "FUJITSU", FUJITSU),
    imp(0x48, "HiSilicon", HISILICON),
    imp(0x49, "Infineon", NONE),
    imp(0x4d, "Motorola/Freescale", NONE),
    imp(0x4e, "NVIDIA", NVIDIA),
    imp(0x50, "APM", APM),
    imp(0x51, "Qualcomm", QUALCOMM),
    imp(0x53, "Samsung", SAMSUNG),
    imp(0x56, "Marvell", MARVELL),
    imp(0x61, "Apple", APPLE),
    imp(0x66, "Faraday", FARADAY),
    imp(0x69, "Intel", INTEL),
    imp(0x6d, "Microsoft", MICROSOFT),
    imp(0x70, "Phytium", PHYTIUM),
    imp(0xc0, "Ampere", AMPERE),
];

/// The implementer with MIDR implementer code `id`.
pub fn implementer(id: u32) -> Option<&'static Implementer> {
    IMPLEMENTERS.iter().find(|i| i.id == id)
}

/// The implementer's name for MIDR implementer code `imp` ("ARM", "HiSilicon", ...).
pub fn implementer_name(imp: u32) -> Option<&'static str> {
    implementer(imp).map(|i| i.name)
}

/// The part's model name for implementer `imp` and part number `part` ("Neoverse-N1", ...).
pub fn part_name(imp: u32, part: u32) -> Option<&'static str> {
    implementer(imp)?
        .parts
        .iter()
        .find(|(id, _)| *id == part)
        .map(|(_, name)| *name)
}

/// The fields of a MIDR_EL1 (or 32-bit MIDR) value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Midr {
    pub implementer: u32,
    pub variant: u32,
    pub architecture: u32,
    pub part: u32,
    pub revision: u32,
}

impl Midr {
    /// Split a MIDR value into its fields (only the low 32 bits are defined).
    pub fn decode(value: u64) -> Midr {
        let v = (value & 0xffff_ffff) as u32;
        Midr {
            implementer: v >> 24,
            variant: (v >> 20) & 0xf,
            architecture: (v >> 16) & 0xf,
            part: (v >> 4) & 0xfff,
            revision: v & 0xf,
        }
    }

    /// lscpu's "Stepping" for ARM Ltd. cores: `r<variant>p<revision>`.
    pub fn stepping(&self) -> String {
        format!("r{}p{}", self.variant, self.revision)
    }
}

// ---------------------------------------------------------------------------------------------
// Decoding the CPU types

/// "0x41" -> 0x41, as lscpu's parse_id (a "0x" prefix is required).
fn parse_arm_id(s: &str) -> Option<u32> {
    let hex = s.trim().strip_prefix("0x")?;
    let digits: String = hex.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
    u32::from_str_radix(&digits, 16).ok()
}

/// strtol with base 0 (0x hex, 0 octal, else decimal), leading digits only.
fn strtol0(s: &str) -> Option<i64> {
    let s = s.trim();
    let (radix, body) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (16, h)
    } else if s.len() > 1 && s.starts_with('0') {
        (8, &s[1..])
    } else {
        (10, s)
    };
    let digits: String = body.chars().take_while(|c| c.is_digit(radix)).collect();
    if digits.is_empty() {
        return (radix == 8).then_some(0);
    }
    i64::from_str_radix(&digits, radix).ok()
}

/// Decode one type's MIDR numbers into lscpu's names (lscpu's arm_ids_decode and
/// arm_rXpY_decode).
pub(super) fn arm_decode(t: &mut RawType) {
    let Some(imp) = t
        .vendor
        .as_deref()
        .and_then(parse_arm_id)
        .filter(|&i| i > 0)
    else {
        return;
    };
    let Some(vendor) = implementer_name(imp) else {
        return;
    };
    t.vendor = Some(vendor.to_string());
    if let Some(part) = t.model.as_deref().and_then(parse_arm_id).filter(|&p| p > 0) {
        if let Some(name) = part_name(imp, part) {
            t.modelname = Some(name.to_string());
        }
    }
    if imp == 0x41 {
        let revision = t.revision.as_deref().and_then(|r| {
            let d: String = r
                .trim()
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            d.parse::<i64>().ok()
        });
        let variant = t.stepping.as_deref().and_then(strtol0);
        if let (Some(r), Some(v)) = (revision, variant) {
            t.stepping = Some(format!("r{v}p{r}"));
        }
    }
}

pub(super) fn is_known_arm(t: &RawType) -> bool {
    t.vendor
        .as_deref()
        .and_then(parse_arm_id)
        .is_some_and(|i| i > 0 && implementer_name(i).is_some())
}

/// Types from the MIDR registers when cpuinfo has no ARM ids (a truncated or foreign cpuinfo).
pub(super) fn midr_types(sys: &Sysroot, possible: &CpuSet, info: &mut Cpuinfo) {
    let mut by_midr: BTreeMap<u64, usize> = BTreeMap::new();
    let mut types: Vec<RawType> = Vec::new();
    let mut assigned = BTreeMap::new();
    for &cpu in possible {
        let Some(midr) = sys.parse_hex(&format!("{SYS_CPU}/cpu{cpu}/regs/identification/midr_el1"))
        else {
            continue;
        };
        let idx = *by_midr.entry(midr).or_insert_with(|| {
            let m = Midr::decode(midr);
            let mut t = info
                .assigned
                .get(&cpu)
                .and_then(|&i| info.types.get(i))
                .cloned()
                .unwrap_or_default();
            t.vendor = Some(format!("0x{:02x}", m.implementer));
            t.model = Some(format!("0x{:03x}", m.part));
            t.stepping = Some(format!("0x{:x}", m.variant));
            t.revision = Some(m.revision.to_string());
            types.push(t);
            types.len() - 1
        });
        assigned.insert(cpu, idx);
    }
    if !types.is_empty() {
        info.types = types;
        info.assigned = assigned;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_names() {
        assert_eq!(implementer_name(0x48), Some("HiSilicon"));
        assert_eq!(part_name(0x48, 0xd01), Some("Kunpeng-920"));
        assert_eq!(implementer_name(0x41), Some("ARM"));
        assert_eq!(part_name(0x41, 0xd0c), Some("Neoverse-N1"));
        assert_eq!(part_name(0x41, 0xd40), Some("Neoverse-V1"));
        assert_eq!(part_name(0x41, 0xd49), Some("Neoverse-N2"));
        assert_eq!(part_name(0x41, 0xd4f), Some("Neoverse-V2"));
        assert_eq!(part_name(0x41, 0xd84), Some("Neoverse-V3"));
        assert_eq!(part_name(0x41, 0xd8e), Some("Neoverse-N3"));
        for (part, name) in [
            (0xd46, "Cortex-A510"),
            (0xd47, "Cortex-A710"),
            (0xd4d, "Cortex-A715"),
            (0xd81, "Cortex-A720"),
            (0xd87, "Cortex-A725"),
            (0xd44, "Cortex-X1"),
            (0xd48, "Cortex-X2"),
            (0xd4e, "Cortex-X3"),
            (0xd82, "Cortex-X4"),
            (0xd85, "Cortex-X925"),
        ] {
            assert_eq!(part_name(0x41, part), Some(name), "{part:#x}");
        }
        assert_eq!(implementer_name(0xc0), Some("Ampere"));
        assert_eq!(part_name(0xc0, 0xac3), Some("Ampere-1"));
        assert_eq!(part_name(0xc0, 0xac4), Some("Ampere-1a"));
        assert_eq!(implementer_name(0x70), Some("Phytium"));
        assert_eq!(part_name(0x70, 0x662), Some("FTC662"));
        assert_eq!(part_name(0x70, 0x663), Some("FTC663"));
        assert_eq!(part_name(0x70, 0x862), Some("FTC862"));
        assert_eq!(implementer_name(0x6d), Some("Microsoft"));
        assert_eq!(implementer_name(0x4e), Some("NVIDIA"));
        assert_eq!(implementer_name(0x46), Some("FUJITSU"));
    }

    #[test]
    fn unknown_ids() {
        assert_eq!(implementer_name(0x00), None);
        assert_eq!(implementer_name(0xff), None);
        assert_eq!(part_name(0x41, 0xfff), None);
        assert_eq!(part_name(0x49, 0x001), None, "Infineon has no parts");
        assert_eq!(part_name(0x99, 0xd0c), None);
    }

    #[test]
    fn tables_are_consistent() {
        let mut imps: Vec<u32> = IMPLEMENTERS.iter().map(|i| i.id).collect();
        imps.sort_unstable();
        imps.dedup();
        assert_eq!(imps.len(), IMPLEMENTERS.len(), "duplicate implementer");
        for Implementer { id, name, parts } in IMPLEMENTERS {
            assert!(*id <= 0xff && !name.is_empty());
            let mut ids: Vec<u32> = parts.iter().map(|(id, _)| *id).collect();
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(ids.len(), parts.len(), "duplicate part under {name}");
            for (id, pname) in *parts {
                assert!(*id <= 0xfff, "{name} {id:#x}");
                assert!(!pname.is_empty() && !pname.contains(' '), "{pname:?}");
            }
        }
    }

    #[test]
    fn midr_fields() {
        // Kunpeng 920: implementer 0x48, variant 1, architecture 0xf, part 0xd01, revision 0.
        let m = Midr::decode(0x481f_d010);
        assert_eq!(
            m,
            Midr {
                implementer: 0x48,
                variant: 1,
                architecture: 0xf,
                part: 0xd01,
                revision: 0
            }
        );
        assert_eq!(m.stepping(), "r1p0");
        assert_eq!(Midr::decode(0x4111_d461).stepping(), "r1p1");
        assert_eq!(Midr::decode(0xffff_ffff_0000_0000).implementer, 0);
    }

    #[test]
    fn strtol_base_0() {
        assert_eq!(strtol0("0x1f"), Some(31));
        assert_eq!(strtol0("010"), Some(8));
        assert_eq!(strtol0("0"), Some(0));
        assert_eq!(strtol0("x"), None);
    }
}
