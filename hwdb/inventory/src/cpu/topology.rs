//! Per-CPU sysfs data and what lscpu derives from it (lscpu-topology.c): physical ids, sibling
//! masks and the threads/cores/sockets/books/drawers counted from them (or from s390's
//! `/proc/sysinfo`), hot-plug state, cpufreq limits, and the NUMA nodes.

use hwsys::sysroot::Sysroot;

use super::lists::{format_list, read_list, read_mask};
use super::model::{CpuSet, NumaNode, MAX_CPUS, SYS_CPU, SYS_NODE};

#[derive(Debug, Clone, Default)]
pub(super) struct CpuEntry {
    pub(super) id: u32,
    /// Index into the (deduplicated) types.
    pub(super) ty: usize,
    /// The type came from cpuinfo or the MIDR register, not from the default.
    pub(super) described: bool,
    pub(super) present: bool,
    pub(super) online: bool,
    /// Sibling masks, read only for CPUs with a topology directory that are fully on-line.
    pub(super) thread_siblings: Option<CpuSet>,
    pub(super) core_siblings: Option<CpuSet>,
    pub(super) book_siblings: Option<CpuSet>,
    pub(super) drawer_siblings: Option<CpuSet>,
    pub(super) has_topology: bool,
    pub(super) core_id: Option<i64>,
    pub(super) socket_id: Option<i64>,
    pub(super) book_id: Option<i64>,
    pub(super) drawer_id: Option<i64>,
    pub(super) max_khz: Option<u64>,
    pub(super) min_khz: Option<u64>,
}

/// lscpu's topology numbers for a set of CPUs (one type).
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Topo {
    pub(super) threads_per_core: u32,
    pub(super) ncores: u32,
    pub(super) nsockets: u32,
    pub(super) nbooks: u32,
    pub(super) ndrawers: u32,
    pub(super) cores_per_socket: u32,
    pub(super) sockets_per_book: u32,
    pub(super) books_per_drawer: u32,
    pub(super) drawers_per_system: u32,
}

/// Distinct sibling masks, counted as lscpu's add_cpuset_to_array does: a mask that shares a
/// CPU with one already counted is the same core (socket, book, drawer). Sharing a CPU with
/// any counted mask is sharing one with their union, which keeps this linear.
#[derive(Default)]
struct Distinct {
    count: u32,
    seen: CpuSet,
}

impl Distinct {
    fn add(&mut self, set: &CpuSet) {
        if self.seen.is_disjoint(set) {
            self.count += 1;
            self.seen.extend(set.iter().copied());
        }
    }
}

fn div(a: u32, b: u32) -> u32 {
    a.checked_div(b).unwrap_or(0)
}

/// "CPU Topology SW: 0 0 0 4 6 4" from /proc/sysinfo: drawers, books per drawer, sockets per
/// book, cores per socket.
pub(super) fn sysinfo_topology(sysinfo: &str) -> Option<[u32; 4]> {
    for line in sysinfo.lines() {
        let Some(rest) = line.strip_prefix("CPU Topology SW:") else {
            continue;
        };
        let nums: Vec<i64> = rest
            .split_whitespace()
            .map_while(|w| w.parse::<i64>().ok())
            .collect();
        if nums.len() >= 6 {
            let c = |i: usize| {
                nums.get(i)
                    .and_then(|&v| u32::try_from(v).ok())
                    .unwrap_or(0)
                    .min(MAX_CPUS)
            };
            return Some([c(2), c(3), c(4), c(5)]);
        }
    }
    None
}

pub(super) fn topology_of<'a>(
    cpus: impl Iterator<Item = &'a CpuEntry>,
    sw: Option<[u32; 4]>,
    mtid: Option<&str>,
) -> Topo {
    let mut cores = Distinct::default();
    let mut sockets = Distinct::default();
    let mut books = Distinct::default();
    let mut drawers = Distinct::default();
    let mut nthreads = 0u32;
    for c in cpus.filter(|c| c.has_topology) {
        let n = c
            .thread_siblings
            .as_ref()
            .map(|s| s.len() as u32)
            .unwrap_or(0)
            .max(1);
        nthreads = nthreads.max(n);
        if let Some(s) = &c.thread_siblings {
            cores.add(s);
        }
        if let Some(s) = &c.core_siblings {
            sockets.add(s);
        }
        if let Some(s) = &c.book_siblings {
            books.add(s);
        }
        if let Some(s) = &c.drawer_siblings {
            drawers.add(s);
        }
    }
    let mut t = Topo {
        threads_per_core: nthreads,
        ncores: cores.count,
        nsockets: sockets.count,
        nbooks: books.count,
        ndrawers: drawers.count,
        ..Topo::default()
    };
    if let Some(m) = mtid.and_then(|m| m.trim().parse::<u32>().ok()) {
        t.threads_per_core = m.saturating_add(1).min(MAX_CPUS);
    }
    match sw {
        Some([d, b, s, c]) => {
            t.drawers_per_system = d;
            t.books_per_drawer = b;
            t.sockets_per_book = s;
            t.cores_per_socket = c;
        }
        None => {
            t.cores_per_socket = div(t.ncores, t.nsockets);
            t.sockets_per_book = div(t.nsockets, t.nbooks);
            t.books_per_drawer = div(t.nbooks, t.ndrawers);
            t.drawers_per_system = t.ndrawers;
        }
    }
    t
}

/// The number in `hotplug/states` of the "online" state (lscpu's get_online_state).
pub(super) fn online_state(states: &str) -> Option<i64> {
    let i = states.find(": online")?;
    let head = &states[..i];
    let digits = head.len() - head.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    head[head.len() - digits..].parse().ok()
}

pub(super) fn read_cpu(sys: &Sysroot, c: &mut CpuEntry, hp_online: Option<i64>) {
    let base = format!("{SYS_CPU}/cpu{}", c.id);
    if !sys.is_dir(&base) {
        return;
    }
    let topo = format!("{base}/topology");
    if sys.is_dir(&topo) {
        c.core_id = sys.parse::<i64>(&format!("{topo}/core_id"));
        c.socket_id = sys.parse::<i64>(&format!("{topo}/physical_package_id"));
        c.book_id = sys.parse::<i64>(&format!("{topo}/book_id"));
        c.drawer_id = sys.parse::<i64>(&format!("{topo}/drawer_id"));
    }
    let fully_online = match hp_online {
        Some(want) => sys
            .parse::<i64>(&format!("{base}/hotplug/state"))
            .is_none_or(|s| s == want),
        None => true,
    };
    if fully_online && sys.exists(&format!("{topo}/thread_siblings")) {
        c.has_topology = true;
        c.thread_siblings = read_mask(sys, &format!("{topo}/thread_siblings"));
        c.core_siblings = read_mask(sys, &format!("{topo}/core_siblings"));
        c.book_siblings = read_mask(sys, &format!("{topo}/book_siblings"));
        c.drawer_siblings = read_mask(sys, &format!("{topo}/drawer_siblings"));
    }
    let khz = |f: &str| {
        sys.parse::<u64>(&format!("{base}/cpufreq/{f}"))
            .filter(|&k| k > 0)
    };
    c.max_khz = khz("cpuinfo_max_freq");
    c.min_khz = khz("cpuinfo_min_freq");
}

fn mhz(khz: u64) -> f64 {
    khz as f64 / 1000.0
}

/// lscpu's max/min MHz over the present CPUs of a set (min over CPUs that report one).
pub(super) fn freq_range<'a>(
    cpus: impl Iterator<Item = &'a CpuEntry> + Clone,
) -> (Option<f64>, Option<f64>) {
    let has_freq = cpus
        .clone()
        .any(|c| c.max_khz.unwrap_or(0) > 0 || c.min_khz.unwrap_or(0) > 0);
    if !has_freq {
        return (None, None);
    }
    let present = cpus.filter(|c| c.present);
    let max = present.clone().filter_map(|c| c.max_khz).max().unwrap_or(0);
    let min = present.filter_map(|c| c.min_khz).min().unwrap_or(0);
    (Some(mhz(min)), Some(mhz(max)))
}

pub(super) fn read_numa(sys: &Sysroot) -> Vec<NumaNode> {
    let mut ids: Vec<u32> = sys
        .list_dir(SYS_NODE)
        .iter()
        .filter_map(|n| {
            let num = n.strip_prefix("node")?;
            if num.is_empty() || !num.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            num.parse::<u32>().ok()
        })
        .filter(|n| sys.is_dir(&format!("{SYS_NODE}/node{n}")))
        .collect();
    ids.sort_unstable();
    ids.into_iter()
        .map(|id| {
            let dir = format!("{SYS_NODE}/node{id}");
            let cpus = read_mask(sys, &format!("{dir}/cpumap"))
                .or_else(|| read_list(sys, &format!("{dir}/cpulist"), false, true))
                .unwrap_or_else(|| {
                    sys.warn(&format!("{dir}/cpumap"), "missing");
                    CpuSet::new()
                });
            NumaNode {
                id,
                cpus: format_list(&cpus),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hotplug_states_and_sysinfo() {
        assert_eq!(
            online_state("  0: offline\n 95: x:online\n232: online\n"),
            Some(232)
        );
        assert_eq!(online_state("nothing"), None);
        assert_eq!(
            sysinfo_topology("CPU Topology SW:      0 0 0 4 6 4\n"),
            Some([0, 4, 6, 4])
        );
        assert_eq!(sysinfo_topology("CPU Topology SW: 1 2\n"), None);
    }
}
