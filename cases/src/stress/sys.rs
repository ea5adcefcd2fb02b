//! The few system calls the stress cases share: CPU affinity, anonymous mappings, meminfo.

use std::io;

use hwsys::sysroot::parse_cpu_list;
use hwsys::Sysroot;

/// Pin the calling thread to one CPU.
pub(crate) fn pin_to(cpu: u32) -> io::Result<()> {
    // SAFETY: cpu_set_t is plain data; CPU_ZERO/CPU_SET write inside it; sched_setaffinity
    // reads `size_of::<cpu_set_t>()` bytes of it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_ZERO(&mut set);
        if cpu as usize >= libc::CPU_SETSIZE as usize {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        libc::CPU_SET(cpu as usize, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// The CPU the calling thread runs on now.
pub(crate) fn current_cpu() -> Option<u32> {
    // SAFETY: no arguments; returns -1 on error.
    let c = unsafe { libc::sched_getcpu() };
    u32::try_from(c).ok()
}

/// The CPUs this process may run on (its affinity mask), or `None` if it cannot be read.
pub(crate) fn allowed_cpus() -> Option<Vec<u32>> {
    // SAFETY: as in pin_to.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return None;
        }
        Some(
            (0..libc::CPU_SETSIZE as usize)
                .filter(|&c| libc::CPU_ISSET(c, &set))
                .map(|c| c as u32)
                .collect(),
        )
    }
}

/// The CPUs a stressor should load: the online ones (`sys/devices/system/cpu/online`, else the
/// inventory's list) this process may run on. Returns (CPUs, online CPUs left out by the
/// affinity mask).
pub(crate) fn stress_cpus(sys: &Sysroot, inv_online: Option<&str>) -> (Vec<u32>, Vec<u32>) {
    let online = sys
        .attr("sys/devices/system/cpu/online")
        .and_then(|s| parse_cpu_list(&s))
        .or_else(|| inv_online.and_then(parse_cpu_list))
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| {
            let n = std::thread::available_parallelism().map_or(1, |n| n.get());
            (0..n as u32).collect()
        });
    match allowed_cpus() {
        Some(allowed) if sys.is_live() => {
            let (inside, outside): (Vec<u32>, Vec<u32>) =
                online.into_iter().partition(|c| allowed.contains(c));
            if inside.is_empty() {
                (allowed, Vec::new())
            } else {
                (inside, outside)
            }
        }
        _ => (online, Vec::new()),
    }
}

/// One field of `proc/meminfo` in bytes (`MemAvailable`, `MemTotal`).
pub(crate) fn meminfo(sys: &Sysroot, key: &str) -> Option<u64> {
    let text = sys.read("proc/meminfo")?;
    text.lines().find_map(|l| {
        let (k, rest) = l.split_once(':')?;
        if k.trim() != key {
            return None;
        }
        let mut parts = rest.split_whitespace();
        let v: u64 = parts.next()?.parse().ok()?;
        match parts.next() {
            Some("kB") | Some("KB") => v.checked_mul(1024),
            None => Some(v),
            _ => None,
        }
    })
}

/// An anonymous private mapping, page aligned, unmapped on drop.
pub(crate) struct Mapping {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: the mapping is plain memory owned by this value; access goes through &/&mut.
unsafe impl Send for Mapping {}
// SAFETY: as above; shared access is read-only through &self.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// `len` bytes (rounded up to whole pages) of zeroed memory; nothing is touched yet.
    pub(crate) fn new(len: usize) -> io::Result<Mapping> {
        let page = page_size();
        let len = len.max(1).div_ceil(page) * page;
        // SAFETY: a fresh anonymous mapping; the result is checked.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Mapping {
            ptr: ptr.cast(),
            len,
        })
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn as_ptr(&self) -> *mut u8 {
        self.ptr
    }

    /// The memory as 64-bit words.
    pub(crate) fn words_mut(&mut self) -> &mut [u64] {
        // SAFETY: page-aligned, `len` bytes mapped read-write, exclusively borrowed.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.cast::<u64>(), self.len / 8) }
    }

    /// The memory as doubles.
    pub(crate) fn f64_mut(&mut self) -> &mut [f64] {
        // SAFETY: as words_mut; every bit pattern is a valid f64.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.cast::<f64>(), self.len / 8) }
    }

    /// The memory as bytes.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: mapped read-write for `len` bytes; shared borrow.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    /// The memory as bytes, mutable.
    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as words_mut.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }

    /// Keep it in RAM (best effort: needs CAP_IPC_LOCK or a large enough RLIMIT_MEMLOCK).
    pub(crate) fn lock(&self) -> io::Result<()> {
        // SAFETY: the range is this mapping.
        if unsafe { libc::mlock(self.ptr.cast(), self.len) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: the range was mapped by Mapping::new and is not used after this.
        unsafe {
            libc::munmap(self.ptr.cast(), self.len);
        }
    }
}

pub(crate) fn page_size() -> usize {
    // SAFETY: sysconf has no memory effects.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as usize
    } else {
        4096
    }
}

/// The physical address of a virtual address of this process from `/proc/self/pagemap`
/// (needs CAP_SYS_ADMIN; unprivileged readers see frame 0, reported as `None`).
pub(crate) fn physical_address(vaddr: usize) -> Option<u64> {
    use std::os::unix::fs::FileExt;
    let page = page_size();
    let f = std::fs::File::open("/proc/self/pagemap").ok()?;
    let mut b = [0u8; 8];
    f.read_exact_at(&mut b, (vaddr / page * 8) as u64).ok()?;
    let entry = u64::from_le_bytes(b);
    let present = entry >> 63 == 1;
    let pfn = entry & ((1 << 55) - 1);
    (present && pfn != 0).then(|| pfn * page as u64 + (vaddr % page) as u64)
}

/// Make this process the OOM killer's first choice (only ever raises the score, which needs
/// no privilege): a memory stressor that overshoots is killed, not the harness or the system.
pub(crate) fn prefer_oom_kill() -> io::Result<()> {
    std::fs::write("/proc/self/oom_score_adj", "1000")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn meminfo_reads_kilobytes_as_bytes() {
        let d = tempfile::tempdir().expect("tempdir");
        fs::create_dir_all(d.path().join("proc")).expect("mkdir");
        fs::write(
            d.path().join("proc/meminfo"),
            "MemTotal:       24684092 kB\nMemAvailable:    2000 kB\nHugePages_Total:       0\n",
        )
        .expect("write");
        let sys = Sysroot::new(d.path());
        assert_eq!(meminfo(&sys, "MemAvailable"), Some(2000 * 1024));
        assert_eq!(meminfo(&sys, "HugePages_Total"), Some(0));
        assert_eq!(meminfo(&sys, "Nope"), None);
    }

    #[test]
    fn pinning_moves_the_thread() {
        let cpus = allowed_cpus().expect("affinity");
        let last = *cpus.last().expect("a cpu");
        std::thread::spawn(move || {
            pin_to(last).expect("pin");
            assert_eq!(current_cpu(), Some(last));
        })
        .join()
        .expect("thread");
    }

    #[test]
    fn stress_cpus_of_a_recorded_tree_are_its_online_list() {
        let d = tempfile::tempdir().expect("tempdir");
        fs::create_dir_all(d.path().join("sys/devices/system/cpu")).expect("mkdir");
        fs::write(d.path().join("sys/devices/system/cpu/online"), "0-3,8\n").expect("write");
        let sys = Sysroot::new(d.path());
        assert_eq!(stress_cpus(&sys, None).0, vec![0, 1, 2, 3, 8]);
    }

    #[test]
    fn mapping_is_page_aligned_and_writable() {
        let mut m = Mapping::new(10_000).expect("mmap");
        assert_eq!(m.as_ptr() as usize % page_size(), 0);
        assert!(m.len() >= 10_000);
        m.words_mut()[3] = 7;
        assert_eq!(m.bytes()[24], 7);
    }
}
