//! Memory: MemTotal, online memory blocks (lsmem's meaning), huge pages, DIMMs from SMBIOS
//! type 17.

use serde::{Deserialize, Serialize};

use crate::dmi::DMI_TABLE;
use crate::smbios;
use hwsys::sysroot::Sysroot;

const BLOCKS: &str = "sys/devices/system/memory";

/// The memory section of the inventory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Memory {
    /// MemTotal from proc/meminfo: what the kernel manages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub swap_total_bytes: Option<u64>,
    /// Online memory blocks × block size (lsmem "Total online memory").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub online_bytes: Option<u64>,
    /// Offline memory blocks × block size (lsmem "Total offline memory").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offline_bytes: Option<u64>,
    /// Memory block size (lsmem "Memory block size").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_size_bytes: Option<u64>,
    /// Online memory per NUMA node.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<NodeMemory>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub huge_pages: Option<HugePages>,
    /// Memory devices from SMBIOS type 17 (empty where the raw table is not readable).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dimms: Vec<smbios::Dimm>,
    /// Sum of the populated DIMMs' sizes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dimm_total_bytes: Option<u64>,
}

/// Online memory of one NUMA node.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeMemory {
    pub node: u32,
    pub online_bytes: u64,
}

/// Huge page pools.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HugePages {
    /// The default huge page size (Hugepagesize).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_size_bytes: Option<u64>,
    /// Pages of the default size (HugePages_Total / HugePages_Free).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub free: Option<u64>,
    /// Every pool in sys/kernel/mm/hugepages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pools: Vec<HugePagePool>,
    /// Transparent huge pages mode (the bracketed choice of
    /// sys/kernel/mm/transparent_hugepage/enabled).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transparent: Option<String>,
}

/// One huge page size and how many pages it has.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HugePagePool {
    pub size_bytes: u64,
    pub nr: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub free: Option<u64>,
}

/// Parse proc/meminfo into (key, bytes-or-count) pairs; lines that do not parse are reported.
fn meminfo(sys: &Sysroot) -> Vec<(String, u64)> {
    let Some(text) = sys.read_required("proc/meminfo") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut bad = 0usize;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let Some((k, v)) = line.split_once(':') else {
            bad += 1;
            continue;
        };
        let mut it = v.split_whitespace();
        let n = it.next().and_then(|n| n.parse::<u64>().ok());
        let unit = it.next();
        match (n, unit) {
            (Some(n), Some("kB")) => out.push((k.trim().to_string(), n.saturating_mul(1024))),
            (Some(n), None) => out.push((k.trim().to_string(), n)),
            _ => bad += 1,
        }
    }
    if bad > 0 {
        sys.warn("proc/meminfo", format!("{bad} line(s) not understood"));
    }
    if !out.iter().any(|(k, _)| k == "MemTotal") {
        sys.warn("proc/meminfo", "no MemTotal line");
    }
    out
}

/// Probe the memory section.
pub fn probe(sys: &Sysroot) -> Memory {
    let mi = meminfo(sys);
    let get = |k: &str| mi.iter().find(|(key, _)| key == k).map(|(_, v)| *v);
    let mut m = Memory {
        total_bytes: get("MemTotal"),
        swap_total_bytes: get("SwapTotal"),
        ..Memory::default()
    };
    blocks(sys, &mut m);
    huge_pages(
        sys,
        &mut m,
        get("Hugepagesize"),
        get("HugePages_Total"),
        get("HugePages_Free"),
    );
    if sys.exists(DMI_TABLE) {
        if let Some(t) = sys.read_bytes(DMI_TABLE, 4 << 20) {
            // dmi::probe already warned about a damaged table.
            let (dimms, _) = smbios::dimms(&t);
            let sum: u64 = dimms.iter().filter_map(|d| d.size_bytes).sum();
            m.dimm_total_bytes = (sum > 0).then_some(sum);
            m.dimms = dimms;
        }
    }
    m
}

/// Memory blocks, as lsmem counts them.
fn blocks(sys: &Sysroot, m: &mut Memory) {
    if !sys.is_dir(BLOCKS) {
        return;
    }
    let Some(bs) = sys.parse_hex(&format!("{BLOCKS}/block_size_bytes")) else {
        return;
    };
    if bs == 0 {
        sys.warn(&format!("{BLOCKS}/block_size_bytes"), "block size is 0");
        return;
    }
    m.block_size_bytes = Some(bs);
    // Which node each block belongs to: node directories link their blocks (memoryN), so one
    // listing per node beats listing every block directory.
    let mut block_node: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    let node_dir = "sys/devices/system/node";
    for n in sys.list_dir(node_dir) {
        let Some(id) = n.strip_prefix("node").and_then(|i| i.parse::<u32>().ok()) else {
            continue;
        };
        for e in sys.list_dir(&format!("{node_dir}/{n}")) {
            if e.starts_with("memory") && e[6..].parse::<u64>().is_ok() {
                block_node.insert(e, id);
            }
        }
    }
    let (mut online, mut offline) = (0u64, 0u64);
    // A block whose state cannot be read makes the totals unknown, never smaller.
    let mut unknown = false;
    let mut nodes: Vec<NodeMemory> = Vec::new();
    for name in sys.list_dir(BLOCKS) {
        let Some(idx) = name.strip_prefix("memory") else {
            continue;
        };
        if idx.parse::<u64>().is_err() {
            continue;
        }
        let dir = format!("{BLOCKS}/{name}");
        let state_rel = format!("{dir}/state");
        match sys.attr(&state_rel).as_deref() {
            Some("online") => {
                online += bs;
                if let Some(&n) = block_node.get(&name) {
                    match nodes.iter_mut().find(|x| x.node == n) {
                        Some(x) => x.online_bytes += bs,
                        None => nodes.push(NodeMemory {
                            node: n,
                            online_bytes: bs,
                        }),
                    }
                }
            }
            Some("offline") | Some("going-offline") => offline += bs,
            Some(other) => {
                sys.warn(&state_rel, format!("unknown state '{other}'"));
                unknown = true;
            }
            None => {
                // Empty or unreadable is warned about already; every block has a state.
                if !sys.exists(&state_rel) {
                    sys.warn(&state_rel, "missing");
                }
                unknown = true;
            }
        }
    }
    if unknown {
        return;
    }
    nodes.sort_by_key(|n| n.node);
    m.online_bytes = Some(online);
    m.offline_bytes = Some(offline);
    m.nodes = nodes;
}

fn huge_pages(
    sys: &Sysroot,
    m: &mut Memory,
    size: Option<u64>,
    total: Option<u64>,
    free: Option<u64>,
) {
    let mut hp = HugePages {
        default_size_bytes: size,
        total,
        free,
        ..HugePages::default()
    };
    let dir = "sys/kernel/mm/hugepages";
    for name in sys.list_dir(dir) {
        let Some(kb) = name
            .strip_prefix("hugepages-")
            .and_then(|s| s.strip_suffix("kB"))
            .and_then(|s| s.parse::<u64>().ok())
        else {
            continue;
        };
        let Some(nr) = sys.parse::<u64>(&format!("{dir}/{name}/nr_hugepages")) else {
            continue;
        };
        hp.pools.push(HugePagePool {
            size_bytes: kb.saturating_mul(1024),
            nr,
            free: sys.parse::<u64>(&format!("{dir}/{name}/free_hugepages")),
        });
    }
    hp.transparent = sys
        .attr("sys/kernel/mm/transparent_hugepage/enabled")
        .and_then(|s| bracketed(&s));
    if hp != HugePages::default() {
        m.huge_pages = Some(hp);
    }
}

/// The `[selected]` word of a sysfs choice list ("always [madvise] never").
pub fn bracketed(s: &str) -> Option<String> {
    let a = s.find('[')?;
    let b = s[a..].find(']')? + a;
    Some(s[a + 1..b].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn meminfo_blocks_and_hugepages() {
        let d = tempfile::tempdir().expect("tmp");
        let r = d.path();
        fs::create_dir_all(r.join("proc")).expect("mkdir");
        fs::write(
            r.join("proc/meminfo"),
            "MemTotal:       16307040 kB\nMemAvailable:   1000 kB\nHugePages_Total:       4\n\
             HugePages_Free:        2\nHugepagesize:       2048 kB\nBogus line\n",
        )
        .expect("w");
        let node0 = r.join("sys/devices/system/node/node0");
        fs::create_dir_all(&node0).expect("mkdir");
        for (i, st) in ["online", "online", "offline"].iter().enumerate() {
            let b = r.join(format!("{BLOCKS}/memory{i}"));
            fs::create_dir_all(&b).expect("mkdir");
            fs::write(b.join("state"), format!("{st}\n")).expect("w");
            std::os::unix::fs::symlink(
                format!("../../memory/memory{i}"),
                node0.join(format!("memory{i}")),
            )
            .expect("ln");
        }
        fs::write(r.join(format!("{BLOCKS}/block_size_bytes")), "8000000\n").expect("w");
        let hp = r.join("sys/kernel/mm/hugepages/hugepages-2048kB");
        fs::create_dir_all(&hp).expect("mkdir");
        fs::write(hp.join("nr_hugepages"), "4\n").expect("w");
        fs::create_dir_all(r.join("sys/kernel/mm/transparent_hugepage")).expect("mkdir");
        fs::write(
            r.join("sys/kernel/mm/transparent_hugepage/enabled"),
            "always [madvise] never\n",
        )
        .expect("w");
        let sys = Sysroot::new(r);
        let m = probe(&sys);
        assert_eq!(m.total_bytes, Some(16307040 * 1024));
        assert_eq!(m.block_size_bytes, Some(128 << 20));
        assert_eq!(m.online_bytes, Some(256 << 20));
        assert_eq!(m.offline_bytes, Some(128 << 20));
        assert_eq!(
            m.nodes,
            vec![NodeMemory {
                node: 0,
                online_bytes: 256 << 20
            }]
        );
        let h = m.huge_pages.expect("huge pages");
        assert_eq!(h.total, Some(4));
        assert_eq!(h.default_size_bytes, Some(2 << 20));
        assert_eq!(h.pools[0].nr, 4);
        assert_eq!(h.transparent.as_deref(), Some("madvise"));
        assert!(sys
            .warnings()
            .iter()
            .any(|w| w.message.contains("not understood")));
    }

    /// Issue 13.14: a block whose state file is empty leaves the totals unknown (they were
    /// counted without it: smaller, silently).
    #[test]
    fn an_empty_block_state_makes_the_totals_unknown() {
        let d = tempfile::tempdir().expect("tmp");
        let r = d.path();
        for (i, st) in ["online\n", ""].iter().enumerate() {
            let b = r.join(format!("{BLOCKS}/memory{i}"));
            fs::create_dir_all(&b).expect("mkdir");
            fs::write(b.join("state"), st).expect("w");
        }
        fs::write(r.join(format!("{BLOCKS}/block_size_bytes")), "8000000\n").expect("w");
        let sys = Sysroot::new(r);
        let m = probe(&sys);
        assert_eq!(m.block_size_bytes, Some(128 << 20));
        assert_eq!((m.online_bytes, m.offline_bytes), (None, None));
        assert!(
            sys.warnings()
                .iter()
                .any(|w| w.path == format!("/{BLOCKS}/memory1/state") && w.message == "empty"),
            "{:?}",
            sys.warnings()
        );
    }

    #[test]
    fn missing_and_garbage() {
        let d = tempfile::tempdir().expect("tmp");
        let r = d.path();
        fs::create_dir_all(r.join(BLOCKS)).expect("mkdir");
        fs::create_dir_all(r.join("proc")).expect("mkdir");
        fs::write(r.join("proc/meminfo"), "\u{0}\u{1}garbage").expect("w");
        fs::write(r.join(format!("{BLOCKS}/block_size_bytes")), "xyz").expect("w");
        let sys = Sysroot::new(r);
        let m = probe(&sys);
        assert_eq!(m.total_bytes, None);
        assert_eq!(m.online_bytes, None);
        let w = sys.warnings();
        assert!(w.iter().any(|w| w.message.contains("MemTotal")), "{w:?}");
        assert!(
            w.iter().any(|w| w.path.ends_with("block_size_bytes")),
            "{w:?}"
        );
    }

    #[test]
    fn bracket_choice() {
        assert_eq!(bracketed("[none] mq-deadline").as_deref(), Some("none"));
        assert_eq!(bracketed("none"), None);
        assert_eq!(bracketed("]["), None);
    }
}
