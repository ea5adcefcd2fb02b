//! `/proc/cpuinfo` cut into CPU types the way lscpu cuts it (lscpu-cputype.c): a field seen
//! twice starts a new type, equal types are merged and ordered, and each CPU follows its type;
//! and what a type's flags and ISA say about the CPU's op-modes.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::cache::{parse_cpuinfo_cache, CacheEntry};
use super::model::{CpuSet, MAX_CPUS};

/// The fields of a CPU type, as lscpu's type patterns fill them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Vendor,
    Model,
    ModelName,
    Stepping,
    Revision,
    Family,
    Bogomips,
    Flags,
    Mtid,
    AddrSize,
    Microcode,
    Isa,
    Mmu,
}

/// lscpu's cpuinfo field names for type data (exact, case-sensitive).
fn type_field(key: &str) -> Option<Field> {
    use Field::*;
    Some(match key {
        "ASEs implemented" => Flags,
        "Address Sizes" => AddrSize,
        "BogoMIPS" => Bogomips,
        "CPU Family" => Family,
        "CPU Revision" => Revision,
        "CPU implementer" => Vendor,
        "CPU part" => Model,
        "CPU revision" => Revision,
        "CPU variant" => Stepping,
        "Features" => Flags,
        "ISA" => Isa,
        "Model Name" => ModelName,
        "address sizes" => AddrSize,
        "bogomips per cpu" => Bogomips,
        "cpu" => ModelName,
        "cpu family" => Family,
        "cpu model" => Model,
        "family" => Family,
        "features" => Flags,
        "flags" => Flags,
        "isa" => Isa,
        "marchid" => Family,
        "max thread id" => Mtid,
        "microcode" => Microcode,
        "mimpid" => Model,
        "mmu" => Mmu,
        "model" => Model,
        "model name" => ModelName,
        "mvendorid" => Vendor,
        "revision" => Revision,
        "stepping" => Stepping,
        "type" => Flags,
        "uarch" => ModelName,
        "vendor" => Vendor,
        "vendor_id" => Vendor,
        _ => return None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CpuLine {
    Processor,
    Mhz,
    MhzDynamic,
    MhzStatic,
    Bogomips,
}

fn cpu_field(key: &str) -> Option<CpuLine> {
    Some(match key {
        "CPU MHz" | "cpu MHz" => CpuLine::Mhz,
        "bogomips" => CpuLine::Bogomips,
        "cpu MHz dynamic" => CpuLine::MhzDynamic,
        "cpu MHz static" => CpuLine::MhzStatic,
        "cpu number" | "processor" => CpuLine::Processor,
        _ => return None,
    })
}

/// One CPU type as cpuinfo describes it (raw, before ARM decoding).
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct RawType {
    pub(super) vendor: Option<String>,
    pub(super) model: Option<String>,
    pub(super) modelname: Option<String>,
    pub(super) stepping: Option<String>,
    pub(super) revision: Option<String>,
    pub(super) family: Option<String>,
    pub(super) bogomips: Option<String>,
    pub(super) flags: Option<String>,
    pub(super) mtid: Option<String>,
    pub(super) addrsz: Option<String>,
    pub(super) microcode: Option<String>,
    pub(super) isa: Option<String>,
    pub(super) mmu: Option<String>,
    pub(super) dynamic_mhz: Option<String>,
    pub(super) static_mhz: Option<String>,
}

impl RawType {
    fn slot(&mut self, f: Field) -> &mut Option<String> {
        match f {
            Field::Vendor => &mut self.vendor,
            Field::Model => &mut self.model,
            Field::ModelName => &mut self.modelname,
            Field::Stepping => &mut self.stepping,
            Field::Revision => &mut self.revision,
            Field::Family => &mut self.family,
            Field::Bogomips => &mut self.bogomips,
            Field::Flags => &mut self.flags,
            Field::Mtid => &mut self.mtid,
            Field::AddrSize => &mut self.addrsz,
            Field::Microcode => &mut self.microcode,
            Field::Isa => &mut self.isa,
            Field::Mmu => &mut self.mmu,
        }
    }

    fn get(&self, f: Field) -> Option<&str> {
        match f {
            Field::Vendor => self.vendor.as_deref(),
            Field::Model => self.model.as_deref(),
            Field::ModelName => self.modelname.as_deref(),
            Field::Stepping => self.stepping.as_deref(),
            Field::Revision => self.revision.as_deref(),
            Field::Family => self.family.as_deref(),
            Field::Bogomips => self.bogomips.as_deref(),
            Field::Flags => self.flags.as_deref(),
            Field::Mtid => self.mtid.as_deref(),
            Field::AddrSize => self.addrsz.as_deref(),
            Field::Microcode => self.microcode.as_deref(),
            Field::Isa => self.isa.as_deref(),
            Field::Mmu => self.mmu.as_deref(),
        }
    }

    /// lscpu's "Model": the revision where there is one.
    pub(super) fn lscpu_model(&self) -> Option<String> {
        self.revision.clone().or_else(|| self.model.clone())
    }

    pub(super) fn has_flag(&self, flag: &str) -> bool {
        self.flags
            .as_deref()
            .is_some_and(|f| f.split_whitespace().any(|x| x == flag))
    }
}

/// lscpu's order of CPU types: vendor, model, model name, stepping; a missing field first.
fn cmp_types(a: &RawType, b: &RawType) -> Ordering {
    for f in [
        Field::Vendor,
        Field::Model,
        Field::ModelName,
        Field::Stepping,
    ] {
        let o = a.get(f).cmp(&b.get(f));
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

#[derive(Debug, Default)]
pub(super) struct Cpuinfo {
    pub(super) types: Vec<RawType>,
    /// CPU number -> index in `types`.
    pub(super) assigned: BTreeMap<u32, usize>,
    /// Caches only cpuinfo knows (s390 `cache<N> :` lines with a shared scope).
    pub(super) ecaches: Vec<CacheEntry>,
    /// Every "processor" number met, possible or not.
    pub(super) processors: Vec<u32>,
    /// The text described more CPU types than any machine has ([`MAX_TYPES`]); the rest was
    /// not read.
    pub(super) truncated: bool,
}

/// More type blocks than this in /proc/cpuinfo is garbage (one block per CPU at most).
pub(super) const MAX_TYPES: usize = MAX_CPUS as usize;

/// Split "processor 5" into ("processor", Some(5)), as lscpu's key_cleanup does.
fn key_cleanup(key: &str) -> (&str, Option<u32>) {
    let k = key.trim_end();
    let digits = k.len() - k.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 {
        return (k, None);
    }
    let (head, num) = k.split_at(k.len() - digits);
    match num.parse::<u32>() {
        Ok(n) => (head.trim_end(), Some(n)),
        Err(_) => (k, None),
    }
}

pub(super) fn parse_cpuinfo(text: &str, possible: &CpuSet) -> Cpuinfo {
    let mut out = Cpuinfo::default();
    let mut curr_cpu: Option<u32> = None;
    let mut curr_type: Option<usize> = None;
    for line in text.lines() {
        let p = line.trim();
        if p.is_empty() {
            continue;
        }
        let Some((k, v)) = p.split_once(':') else {
            continue;
        };
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        let (key, keynum) = key_cleanup(k);
        if let Some(field) = type_field(key) {
            // A field this type already has starts a new type; lscpu never overwrites.
            if let Some(t) = curr_type {
                if out.types.get(t).is_some_and(|ty| ty.get(field).is_some()) {
                    curr_type = None;
                }
            }
            let t = match curr_type {
                Some(t) => t,
                None if out.types.len() >= MAX_TYPES => {
                    out.truncated = true;
                    break;
                }
                None => {
                    out.types.push(RawType::default());
                    out.types.len() - 1
                }
            };
            curr_type = Some(t);
            if let Some(ty) = out.types.get_mut(t) {
                *ty.slot(field) = Some(v.to_string());
            }
        } else if let Some(cl) = cpu_field(key) {
            let ty = curr_type.and_then(|t| out.types.get_mut(t));
            match cl {
                CpuLine::Processor => {
                    let id = keynum.or_else(|| v.parse::<u32>().ok()).unwrap_or(0);
                    if let (Some(c), Some(t)) = (curr_cpu, curr_type) {
                        out.assigned.insert(c, t);
                    }
                    out.processors.push(id);
                    curr_cpu = possible.contains(&id).then_some(id);
                }
                CpuLine::Mhz => {}
                CpuLine::MhzDynamic => {
                    if let Some(ty) = ty {
                        ty.dynamic_mhz.get_or_insert_with(|| v.to_string());
                    }
                }
                CpuLine::MhzStatic => {
                    if let Some(ty) = ty {
                        ty.static_mhz.get_or_insert_with(|| v.to_string());
                    }
                }
                CpuLine::Bogomips => {
                    if let Some(ty) = ty {
                        ty.bogomips.get_or_insert_with(|| v.to_string());
                    }
                }
            }
        } else if key == "cache" {
            if let Some(c) = parse_cpuinfo_cache(v) {
                out.ecaches.push(c);
            }
        }
    }
    if let (Some(c), Some(t)) = (curr_cpu, curr_type) {
        out.assigned.entry(c).or_insert(t);
    }
    out.ecaches.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Merge equal types and order them as lscpu does; CPUs follow their type.
pub(super) fn dedupe_types(
    types: Vec<RawType>,
    assigned: &mut BTreeMap<u32, usize>,
) -> Vec<RawType> {
    let mut order: Vec<usize> = (0..types.len()).collect();
    order.sort_by(|&a, &b| cmp_types(&types[a], &types[b]));
    let mut out: Vec<RawType> = Vec::new();
    let mut remap = vec![0usize; types.len()];
    for &i in &order {
        if let Some(last) = out.last() {
            if cmp_types(last, &types[i]) == Ordering::Equal {
                remap[i] = out.len() - 1;
                continue;
            }
        }
        out.push(types[i].clone());
        remap[i] = out.len() - 1;
    }
    // POWER prints global lines after the last CPU: the first of two types is then only a
    // subset of the second, and lscpu keeps the second.
    if out.len() == 2 {
        let subset = [
            Field::Model,
            Field::ModelName,
            Field::Vendor,
            Field::Bogomips,
            Field::Revision,
        ]
        .iter()
        .all(|&f| match out[0].get(f) {
            None => true,
            Some(v) => out[1].get(f) == Some(v),
        });
        if subset {
            out.remove(0);
            for r in remap.iter_mut() {
                *r = 0;
            }
        }
    }
    for t in assigned.values_mut() {
        *t = remap.get(*t).copied().unwrap_or(0);
    }
    out
}

/// lscpu "CPU op-mode(s)" from the tree (flags and ISA), plus what a live kernel implies.
pub(super) fn op_modes(t: &RawType, live: bool, arch: Option<&str>) -> Option<String> {
    let (mut b32, mut b64) = (false, false);
    if live {
        match arch {
            Some("x86_64" | "i386" | "i686" | "s390x" | "s390" | "sparc64") => b32 = true,
            Some("ppc64" | "ppc64le") => (b32, b64) = (true, true),
            Some("ppc") => b32 = true,
            Some("aarch64") => b64 = true,
            _ => {}
        }
    }
    if t.has_flag("lm") || t.has_flag("zarch") || t.has_flag("sun4v") || t.has_flag("sun4u") {
        (b32, b64) = (true, true);
    }
    if let Some(isa) = &t.isa {
        let words: Vec<&str> = isa.split_whitespace().collect();
        if words
            .iter()
            .any(|w| matches!(*w, "loongarch32" | "loongarch32s" | "loongarch32r"))
        {
            b32 = true;
        }
        if words.contains(&"loongarch64") {
            b64 = true;
        }
    }
    match (b32, b64) {
        (true, true) => Some("32-bit, 64-bit".to_string()),
        (true, false) => Some("32-bit".to_string()),
        (false, true) => Some("64-bit".to_string()),
        (false, false) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpuinfo_type_splitting_follows_lscpu() {
        // POWER: the trailing global block belongs to the last CPU's type and is merged.
        let text = "processor\t: 0\ncpu\t\t: POWER9\nrevision\t: 2.2 (pvr 004e 1202)\n\n\
processor\t: 1\ncpu\t\t: POWER9\nrevision\t: 2.2 (pvr 004e 1202)\n\n\
timebase\t: 512000000\nplatform\t: pSeries\nmodel\t\t: IBM,9009-22A\n";
        let possible = CpuSet::from([0, 1]);
        let mut p = parse_cpuinfo(text, &possible);
        let types = dedupe_types(std::mem::take(&mut p.types), &mut p.assigned);
        assert_eq!(types.len(), 1);
        assert_eq!(
            types[0].lscpu_model().as_deref(),
            Some("2.2 (pvr 004e 1202)")
        );
        assert_eq!(p.assigned.len(), 2);
        // s390: "processor 3: ..." lines carry the CPU number in the key.
        let s390 =
            "vendor_id       : IBM/S390\nprocessor 0: version = 00\nprocessor 3: version = 00\n";
        let p = parse_cpuinfo(s390, &CpuSet::from([0, 1, 2, 3]));
        assert_eq!(p.processors, vec![0, 3]);
        assert_eq!(p.assigned.get(&3), Some(&0));
    }

    #[test]
    fn key_numbers() {
        assert_eq!(key_cleanup("processor 12 "), ("processor", Some(12)));
        assert_eq!(key_cleanup("cache3"), ("cache", Some(3)));
        assert_eq!(key_cleanup("model name"), ("model name", None));
    }
}
