//! The architecture: the tree's own (never the running host's), spelled as `uname -m`, and the
//! x86-64 psABI level a CPU's flags reach.

use hwsys::sysroot::Sysroot;

use super::model::SYS_CPU;

/// Whether `arch` is an ARM architecture name (aarch64, armv7l, ...).
pub(super) fn is_arm_arch(arch: &str) -> bool {
    arch == "aarch64" || arch == "arm64" || arch.starts_with("arm")
}

pub(super) fn is_x86_arch(arch: &str) -> bool {
    matches!(arch, "x86_64" | "amd64" | "i386" | "i486" | "i586" | "i686")
}

/// The first value of `key` in cpuinfo text (`key<spaces>: value`).
fn cpuinfo_value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == key)
            .then(|| v.trim())
            .filter(|v| !v.is_empty())
    })
}

/// The architecture from the tree's own evidence (never the running host's): the kernel's
/// `/proc/sys/kernel/arch`, else what `/proc/cpuinfo` and sysfs say. Spelled as `uname -m`.
///
/// POWER without `sys/kernel/cpu_byteorder` is taken as big-endian up to POWER7 and
/// little-endian from POWER8 on (the ppc64le distributions' floor).
pub fn detect_arch(sys: &Sysroot) -> Option<String> {
    if let Some(a) = sys.attr("proc/sys/kernel/arch") {
        if !a.is_empty() && a.len() < 32 && a.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Some(a);
        }
        sys.warn("proc/sys/kernel/arch", "not an architecture name");
    }
    let little = sys
        .attr("sys/kernel/cpu_byteorder")
        .map(|b| b.eq_ignore_ascii_case("little"));
    let Some(info) = sys.read("proc/cpuinfo") else {
        // Only arm64 kernels have MIDR registers in sysfs.
        return sys
            .exists(&format!("{SYS_CPU}/cpu0/regs/identification/midr_el1"))
            .then(|| "aarch64".to_string());
    };
    let v = |k: &str| cpuinfo_value(&info, k);
    let flag = |f: &str| {
        v("flags").is_some_and(|fl| fl.split_whitespace().any(|x| x == f))
            || v("features").is_some_and(|fl| fl.split_whitespace().any(|x| x == f))
    };
    // x86
    const X86_VENDORS: &[&str] = &[
        "GenuineIntel",
        "AuthenticAMD",
        "HygonGenuine",
        "CentaurHauls",
        "Shanghai",
        "GenuineTMx86",
        "CyrixInstead",
        "NexGenDriven",
        "UMC UMC UMC",
        "SiS SiS SiS",
        "Geode by NSC",
        "RiseRiseRise",
        "Vortex86 SoC",
        "GenuineIotel",
    ];
    if let Some(vendor) = v("vendor_id") {
        if vendor == "IBM/S390" {
            return Some(if flag("zarch") { "s390x" } else { "s390" }.to_string());
        }
        if X86_VENDORS.contains(&vendor) || v("flags").is_some_and(|f| f.contains("fpu")) {
            return Some(if flag("lm") { "x86_64" } else { "i686" }.to_string());
        }
    }
    // ARM
    if v("CPU implementer").is_some() || v("CPU architecture").is_some() {
        let archf = v("CPU architecture").unwrap_or("");
        let n: u32 = archf
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect::<String>()
            .parse()
            .unwrap_or(0);
        let asimd = v("Features").is_some_and(|f| f.split_whitespace().any(|x| x == "asimd"));
        if n >= 8 || archf.eq_ignore_ascii_case("AArch64") || asimd {
            return Some("aarch64".to_string());
        }
        if n > 0 {
            return Some(format!("armv{n}l"));
        }
        return Some("armv7l".to_string());
    }
    // RISC-V, LoongArch, MIPS (lowercase "isa" on RISC-V and MIPS, "ISA" on LoongArch)
    if let Some(isa) = v("isa").or_else(|| v("ISA")) {
        let low = isa.to_ascii_lowercase();
        if low.starts_with("rv64") {
            return Some("riscv64".to_string());
        }
        if low.starts_with("rv32") {
            return Some("riscv32".to_string());
        }
        if low.split_whitespace().any(|w| w == "loongarch64") {
            return Some("loongarch64".to_string());
        }
        if low.split_whitespace().any(|w| w.starts_with("loongarch32")) {
            return Some("loongarch32".to_string());
        }
        if low.contains("mips64") {
            return Some("mips64".to_string());
        }
        if low.contains("mips") {
            return Some("mips".to_string());
        }
    }
    if v("CPU Family").is_some_and(|f| f.starts_with("Loongson-64")) {
        return Some("loongarch64".to_string());
    }
    // SPARC
    if let Some(t) = v("type") {
        if t == "sun4u" || t == "sun4v" {
            return Some("sparc64".to_string());
        }
    }
    if v("cpu").is_some_and(|c| c.to_ascii_lowercase().contains("sparc")) {
        return Some("sparc".to_string());
    }
    // POWER
    let ppc = v("revision").is_some_and(|r| r.contains("pvr"))
        || v("platform").is_some_and(|p| {
            ["pSeries", "PowerNV", "PowerMac", "CHRP", "PS3", "Cell"]
                .iter()
                .any(|x| p.contains(x))
        });
    if ppc {
        let cpu = v("cpu").unwrap_or("");
        let gen: Option<u32> = cpu.strip_prefix("POWER").and_then(|r| {
            r.chars()
                .take_while(|c| c.is_ascii_digit())
                .collect::<String>()
                .parse()
                .ok()
        });
        let is64 = gen.is_some()
            || ["PPC970", "Cell", "e5500", "e6500", "POWER"]
                .iter()
                .any(|p| cpu.starts_with(p));
        if !is64 {
            return Some("ppc".to_string());
        }
        let le = little.unwrap_or(gen.is_some_and(|g| g >= 8));
        return Some(if le { "ppc64le" } else { "ppc64" }.to_string());
    }
    if v("cpu model").is_some_and(|m| m.contains("MIPS") || m.contains("Loongson")) {
        return Some("mips".to_string());
    }
    None
}

/// The x86-64 psABI level the flags reach ("v1".."v4"), None below the baseline.
pub fn x86_64_level(flags: &[String]) -> Option<String> {
    let has = |f: &str| flags.iter().any(|x| x == f);
    const V1: &[&str] = &[
        "lm", "cmov", "cx8", "fpu", "fxsr", "mmx", "syscall", "sse", "sse2",
    ];
    const V2: &[&str] = &["cx16", "lahf_lm", "popcnt", "sse4_1", "sse4_2", "ssse3"];
    const V3: &[&str] = &[
        "avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave",
    ];
    const V4: &[&str] = &["avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"];
    let mut level = None;
    for (name, need) in [("v1", V1), ("v2", V2), ("v3", V3), ("v4", V4)] {
        if need.iter().all(|f| has(f)) {
            level = Some(name.to_string());
        } else {
            break;
        }
    }
    level
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testutil::write as put;

    #[test]
    fn detect_arch_from_evidence() {
        let case = |info: &str, order: Option<&str>| {
            let d = tempfile::tempdir().expect("tempdir");
            put(d.path(), "proc/cpuinfo", info);
            if let Some(o) = order {
                put(d.path(), "sys/kernel/cpu_byteorder", o);
            }
            detect_arch(&Sysroot::new(d.path()))
        };
        assert_eq!(
            case("vendor_id : GenuineIntel\nflags : fpu\n", None).as_deref(),
            Some("i686")
        );
        assert_eq!(
            case("CPU implementer : 0x41\nCPU architecture: 7\n", None).as_deref(),
            Some("armv7l")
        );
        assert_eq!(case("isa : rv64imafdc\n", None).as_deref(), Some("riscv64"));
        assert_eq!(
            case("vendor_id : IBM/S390\nfeatures : esan3 zarch\n", None).as_deref(),
            Some("s390x")
        );
        assert_eq!(
            case(
                "cpu : POWER7 (architected)\nrevision : 2.1 (pvr 003f 0201)\n",
                None
            )
            .as_deref(),
            Some("ppc64")
        );
        assert_eq!(
            case(
                "cpu : POWER9\nrevision : 2.2 (pvr 004e 1202)\n",
                Some("big")
            )
            .as_deref(),
            Some("ppc64")
        );
        assert_eq!(
            case("cpu : POWER9\nrevision : 2.2 (pvr 004e 1202)\n", None).as_deref(),
            Some("ppc64le")
        );
        assert_eq!(
            case("cpu : 740/750\nrevision : 3.1 (pvr 0008 0301)\n", None).as_deref(),
            Some("ppc")
        );
        assert_eq!(
            case("cpu : TI UltraSparc II\ntype : sun4u\n", None).as_deref(),
            Some("sparc64")
        );
        assert_eq!(
            case("ISA : loongarch32r loongarch64\n", None).as_deref(),
            Some("loongarch64")
        );
        assert_eq!(case("nonsense\n", None), None);
        let d = tempfile::tempdir().expect("tempdir");
        put(d.path(), "proc/sys/kernel/arch", "x86_64\n");
        assert_eq!(
            detect_arch(&Sysroot::new(d.path())).as_deref(),
            Some("x86_64")
        );
    }

    #[test]
    fn x86_64_levels() {
        let flags = |s: &str| s.split(' ').map(str::to_string).collect::<Vec<_>>();
        assert_eq!(x86_64_level(&flags("fpu")), None);
        assert_eq!(
            x86_64_level(&flags("lm cmov cx8 fpu fxsr mmx syscall sse sse2")).as_deref(),
            Some("v1")
        );
        assert_eq!(
            x86_64_level(&flags(
                "lm cmov cx8 fpu fxsr mmx syscall sse sse2 cx16 lahf_lm popcnt sse4_1 sse4_2 ssse3"
            ))
            .as_deref(),
            Some("v2")
        );
    }
}
