//! Caches, as lscpu counts them: the sysfs `cache/indexN` directories of every CPU (sparc64's
//! `l1_icache_size`-style files), one instance per (type, level, id), summed per name; and the
//! shared caches only `/proc/cpuinfo` knows (s390 `cache<N> :` lines).

use std::collections::{BTreeMap, HashMap};

use hwsys::sysroot::Sysroot;

use super::lists::read_mask;
use super::model::{Cache, CpuSet, SYS_CPU};

/// A cache as lscpu keeps it (one instance).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct CacheEntry {
    pub(super) name: String,
    kind: String,
    level: i64,
    id: i64,
    /// `None` where the size file exists but could not be read (warned): unknown, not 0.
    size: Option<u64>,
    shared: Option<CpuSet>,
}

/// The number right after `key` in `data` ("size=128K" -> 128), as sscanf("%d") reads it.
fn number_after(data: &str, key: &str) -> Option<i64> {
    let rest = &data[data.find(key)? + key.len()..];
    let (neg, rest) = match rest.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, rest.strip_prefix('+').unwrap_or(rest)),
    };
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    let n: i64 = digits.parse().ok()?;
    Some(if neg { -n } else { n })
}

/// s390 "cache3 : level=3 type=Unified scope=Shared size=65536K line_size=256
/// associativity=16": only shared caches, the private ones are in sysfs.
pub(super) fn parse_cpuinfo_cache(data: &str) -> Option<CacheEntry> {
    let scope = &data[data.find("scope=")? + 6..];
    if scope.starts_with("Private") {
        return None;
    }
    let level = number_after(data, "level=")?;
    let kind = &data[data.find("type=")? + 5..];
    let (letter, kind) = if kind.starts_with("Data") {
        ("d", "Data")
    } else if kind.starts_with("Instruction") {
        ("i", "Instruction")
    } else if kind.starts_with("Unified") {
        ("", "Unified")
    } else {
        ("", "")
    };
    let size = number_after(data, "size=")?;
    number_after(data, "line_size=")?;
    number_after(data, "associativity=")?;
    if !(0..=1_000).contains(&level) || size < 0 {
        return None;
    }
    Some(CacheEntry {
        name: format!("L{level}{letter}"),
        kind: kind.to_string(),
        level,
        id: 0,
        size: Some((size as u64).saturating_mul(1024)),
        shared: None,
    })
}

/// "32K", "1024K", "8M" as the kernel writes cache sizes (lscpu's parse_size).
fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let digits: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
    let n: u64 = digits.parse().ok()?;
    let suffix = s[digits.len()..].trim();
    let (letter, rest) = match suffix.chars().next() {
        None => return Some(n),
        Some(c) => (c.to_ascii_uppercase(), &suffix[c.len_utf8()..]),
    };
    let exp = "KMGTPE".find(letter)? as u32 + 1;
    let base: u64 = match rest {
        "" | "iB" => 1024,
        "B" => 1000,
        _ => return None,
    };
    n.checked_mul(base.checked_pow(exp)?)
}

/// The caches met so far, indexed as lscpu identifies them: by (type, level, id), and -- for
/// kernels without `id` files -- by the position among caches of the same type and level of
/// the first one whose `shared_cpu_map` holds a CPU (lscpu's mk_cache_id).
#[derive(Debug, Default)]
pub(super) struct Caches {
    pub(super) list: Vec<CacheEntry>,
    by_key: HashMap<(String, i64, i64), usize>,
    /// (type, level) -> (caches of that type and level, CPU -> first such cache holding it).
    groups: HashMap<(String, i64), (i64, BTreeMap<u32, i64>)>,
    /// Position of each cache of `list` within its (type, level) group.
    ordinal: Vec<i64>,
}

impl Caches {
    fn mk_id(&self, cpu: u32, kind: &str, level: i64) -> i64 {
        match self.groups.get(&(kind.to_string(), level)) {
            Some((count, first)) => first.get(&cpu).copied().unwrap_or(*count),
            None => 0,
        }
    }

    /// The position of the (type, level, id) cache, added with `size()` when new.
    fn get_or_add(
        &mut self,
        kind: &str,
        level: i64,
        id: i64,
        size: impl FnOnce() -> Option<u64>,
    ) -> usize {
        let key = (kind.to_string(), level, id);
        if let Some(&p) = self.by_key.get(&key) {
            return p;
        }
        let group = self.groups.entry((kind.to_string(), level)).or_default();
        self.ordinal.push(group.0);
        group.0 += 1;
        self.list.push(CacheEntry {
            name: cache_name(level, kind),
            kind: kind.to_string(),
            level,
            id,
            size: size(),
            shared: None,
        });
        let p = self.list.len() - 1;
        self.by_key.insert(key, p);
        p
    }

    fn has_shared(&self, pos: usize) -> bool {
        self.list.get(pos).is_some_and(|c| c.shared.is_some())
    }

    fn set_shared(&mut self, pos: usize, set: CpuSet) {
        let (Some(c), Some(&ord)) = (self.list.get_mut(pos), self.ordinal.get(pos)) else {
            return;
        };
        if let Some((_, first)) = self.groups.get_mut(&(c.kind.clone(), c.level)) {
            for &cpu in &set {
                let e = first.entry(cpu).or_insert(ord);
                *e = (*e).min(ord);
            }
        }
        c.shared = Some(set);
    }
}

fn cache_name(level: i64, kind: &str) -> String {
    match kind {
        "Data" => format!("L{level}d"),
        "Instruction" => format!("L{level}i"),
        _ => format!("L{level}"),
    }
}

/// The sysfs caches of one CPU, merged into `caches` as lscpu's read_caches does.
pub(super) fn read_caches(sys: &Sysroot, cpu: u32, caches: &mut Caches) {
    let base = format!("{SYS_CPU}/cpu{cpu}");
    if !sys.is_dir(&base) {
        return;
    }
    let mut n = 0usize;
    while n < 64 && sys.is_dir(&format!("{base}/cache/index{n}")) {
        n += 1;
    }
    if n == 0 {
        if sys.exists(&format!("{base}/l1_icache_size")) {
            read_sparc_caches(sys, cpu, caches);
        }
        return;
    }
    for i in 0..n {
        let dir = format!("{base}/cache/index{i}");
        let id = sys.parse::<i64>(&format!("{dir}/id"));
        let Some(level) = sys.parse::<i64>(&format!("{dir}/level")) else {
            continue;
        };
        let Some(kind) = sys.attr(&format!("{dir}/type")) else {
            continue;
        };
        if !(0..=1_000).contains(&level) {
            sys.warn(
                &format!("{dir}/level"),
                format!("cache level {level} is implausible"),
            );
            continue;
        }
        let id = id.unwrap_or_else(|| caches.mk_id(cpu, &kind, level));
        let pos = caches.get_or_add(&kind, level, id, || {
            let rel = format!("{dir}/size");
            match sys.attr(&rel) {
                Some(s) => parse_size(&s).or_else(|| {
                    sys.warn(
                        &rel,
                        format!("cannot parse '{}'", hwsys::sysroot::shorten(&s)),
                    );
                    None
                }),
                // lscpu counts a cache without a size file as 0 bytes; one whose file is
                // empty or garbage (warned) has an unknown size, never 0.
                None if !sys.exists(&rel) => Some(0),
                None => None,
            }
        });
        if !caches.has_shared(pos) {
            if let Some(set) = read_mask(sys, &format!("{dir}/shared_cpu_map")) {
                caches.set_shared(pos, set);
            }
        }
    }
}

/// sparc64 has `l1_icache_size`-style files and no sharing information: lscpu counts every
/// cache as private to its CPU.
fn read_sparc_caches(sys: &Sysroot, cpu: u32, caches: &mut Caches) {
    let base = format!("{SYS_CPU}/cpu{cpu}");
    for (level, kind, file) in [
        (1, "Instruction", "l1_icache_size"),
        (1, "Data", "l1_dcache_size"),
        (2, "Unified", "l2_cache_size"),
    ] {
        let Some(size) = sys.parse::<u64>(&format!("{base}/{file}")) else {
            continue;
        };
        let id = caches.mk_id(cpu, kind, level);
        let pos = caches.get_or_add(kind, level, id, || Some(size));
        if !caches.has_shared(pos) {
            caches.set_shared(pos, CpuSet::from([cpu]));
        }
    }
}

/// lscpu's summary of caches: one line per name, sizes summed, instances counted.
pub(super) fn summarize_caches(caches: &[CacheEntry], ecaches: &[CacheEntry]) -> Vec<Cache> {
    let mut out: Vec<Cache> = Vec::new();
    let mut by_name: BTreeMap<&str, Vec<&CacheEntry>> = BTreeMap::new();
    for c in caches {
        by_name.entry(c.name.as_str()).or_default().push(c);
    }
    for (name, list) in by_name {
        // One instance of unknown size makes the total unknown: the line is left out (its
        // file is named in a warning), as lscpu leaves out a cache of no size.
        let Some(size) = list
            .iter()
            .try_fold(0u64, |a, c| c.size.map(|s| a.saturating_add(s)))
        else {
            continue;
        };
        if size == 0 {
            continue;
        }
        let first = list.first().copied();
        out.push(Cache {
            name: name.to_string(),
            level: first.map_or(0, |c| c.level.clamp(0, 1_000) as u32),
            kind: first.map(|c| c.kind.clone()).unwrap_or_default(),
            size_bytes: size,
            instances: list.len() as u32,
            from_cpuinfo: false,
        });
    }
    for (c, size) in ecaches
        .iter()
        .filter_map(|c| Some((c, c.size.filter(|s| *s != 0)?)))
    {
        out.push(Cache {
            name: c.name.clone(),
            level: c.level.clamp(0, 1_000) as u32,
            kind: c.kind.clone(),
            size_bytes: size,
            instances: 1,
            from_cpuinfo: true,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 13.14: an empty `size` leaves that cache's total unknown (it was summed as 0);
    /// a missing one counts 0 bytes, as lscpu counts it.
    #[test]
    fn an_empty_cache_size_is_unknown_never_0() {
        let d = tempfile::tempdir().expect("tmp");
        let r = d.path();
        for (cpu, l1d, l2) in [(0, "32K\n", "1024K\n"), (1, "", "1024K\n")] {
            for (i, level, kind, size) in [(0, "1", "Data", l1d), (1, "2", "Unified", l2)] {
                let dir = r.join(format!("{SYS_CPU}/cpu{cpu}/cache/index{i}"));
                std::fs::create_dir_all(&dir).expect("mkdir");
                std::fs::write(dir.join("level"), level).expect("w");
                std::fs::write(dir.join("type"), kind).expect("w");
                std::fs::write(dir.join("id"), format!("{cpu}")).expect("w");
                if cpu == 1 || i == 0 {
                    std::fs::write(dir.join("size"), size).expect("w");
                }
            }
        }
        let sys = Sysroot::new(r);
        let mut caches = Caches::default();
        read_caches(&sys, 0, &mut caches);
        read_caches(&sys, 1, &mut caches);
        let summary = summarize_caches(&caches.list, &[]);
        let names: Vec<(&str, u64)> = summary
            .iter()
            .map(|c| (c.name.as_str(), c.size_bytes))
            .collect();
        assert_eq!(
            names,
            [("L2", 1 << 20)],
            "L1d unknown, L2 of cpu0 missing: 0"
        );
        assert!(
            sys.warnings()
                .iter()
                .any(|w| w.path == format!("/{SYS_CPU}/cpu1/cache/index0/size")
                    && w.message == "empty"),
            "{:?}",
            sys.warnings()
        );
    }

    #[test]
    fn sizes_and_cpuinfo_cache_lines() {
        assert_eq!(parse_size("32K"), Some(32768));
        assert_eq!(parse_size("1M"), Some(1 << 20));
        assert_eq!(parse_size("12"), Some(12));
        assert_eq!(parse_size("99999999999999999999K"), None);
        assert_eq!(parse_size("9999999999999E"), None);
        assert_eq!(parse_size("K"), None);
        let e = parse_cpuinfo_cache(
            "level=3 type=Unified scope=Shared size=65536K line_size=256 associativity=16",
        )
        .expect("cache");
        assert_eq!((e.name.as_str(), e.size), ("L3", Some(64 << 20)));
        assert!(parse_cpuinfo_cache(
            "level=1 type=Data scope=Private size=128K line_size=256 associativity=8"
        )
        .is_none());
        assert!(parse_cpuinfo_cache("garbage").is_none());
    }
}
