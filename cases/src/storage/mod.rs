//! Storage cases, one instance per disk (or NVMe controller).
//!
//! The disks are the whole disks with hardware under them: kind `disk`, a controller, PCI
//! function or transport, and not a loop, ram, zram, nbd, device-mapper or md device.
//!
//! * `storage::identity` — model, serial number and firmware revision are readable. Virtual
//!   disks (virtio-blk, Xen) have no model or firmware revision to read and skip with the reason.
//! * `storage::read_verify` — reads 64 MiB spread over the whole disk (64 reads of 1 MiB) with
//!   `O_DIRECT` from `/dev/NAME`: no I/O error; the throughput is measured. Live system, root.
//!   It only ever reads.
//! * `storage::nvme_health` — per PCIe NVMe controller, the SMART / Health Information log page
//!   (0x02) through `NVME_IOCTL_ADMIN_CMD` on `/dev/nvmeN`: critical warning 0; temperature,
//!   percentage used, available spare and media errors are measurements. Live system, root.
//! * `storage::smart_health` — per SATA or SAS disk, `smartctl -H -A -j`: the health
//!   self-assessment passes and no attribute is at or below its threshold now. Skips with
//!   "smartctl not installed" where it is not. Live system, root.

pub mod nvme;
pub mod smart;

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileExt, FileTypeExt, OpenOptionsExt};
use std::path::Path;
use std::time::Instant;

use hwsys::units::iec;
use inventory::storage::BlockDevice;

use crate::util::{self, live, reads_files, targets_or, Spec};
use crate::{Case, Component, Context, Inventory, Selection, Target, Verdict};

pub(crate) fn cases() -> Vec<Box<dyn Case>> {
    vec![
        Spec {
            name: "storage::identity",
            purpose: "The disk's model, serial number and firmware revision are readable",
            component: Component::Storage,
            blocker: true,
            timeout: 10,
            estimate_ms: 10,
            requirements: reads_files(),
            select: select_disks,
            run: identity,
        }
        .build(),
        Spec {
            name: "storage::read_verify",
            purpose: "64 MiB read across the whole disk with O_DIRECT, without an I/O error",
            component: Component::Storage,
            blocker: true,
            timeout: 300,
            estimate_ms: 5_000,
            requirements: live(true, &[]),
            select: select_disks,
            run: read_verify,
        }
        .build(),
        Spec {
            name: "storage::nvme_health",
            purpose: "The NVMe controller's SMART / Health log reports no critical warning",
            component: Component::Storage,
            blocker: true,
            timeout: 60,
            estimate_ms: 500,
            requirements: live(true, &[]),
            select: select_nvme,
            run: nvme_health,
        }
        .build(),
        Spec {
            name: "storage::smart_health",
            purpose: "The SATA/SAS disk's SMART health self-assessment passes",
            component: Component::Storage,
            blocker: true,
            timeout: 120,
            estimate_ms: 5_000,
            requirements: live(true, &["smartctl"]),
            select: select_smart,
            run: smart_health,
        }
        .build(),
    ]
}

/// Names of block devices that are not hardware.
const NOT_HARDWARE: &[&str] = &[
    "loop", "ram", "zram", "nbd", "dm-", "md", "drbd", "rbd", "pmem", "nullb",
];

/// The whole disks with hardware under them.
pub fn physical_disks(inv: &Inventory) -> Vec<&BlockDevice> {
    inv.storage
        .iter()
        .filter(|b| b.kind.as_deref() == Some("disk"))
        .filter(|b| !NOT_HARDWARE.iter().any(|p| b.name.starts_with(p)))
        .filter(|b| {
            b.pci_address.is_some()
                || b.transport.is_some()
                || b.controller_driver.is_some()
                || b.hctl.is_some()
        })
        .collect()
}

fn disk_label(b: &BlockDevice) -> String {
    let model = b.model.clone().unwrap_or_else(|| "disk".into());
    let size = b
        .size_bytes
        .map(|s| format!(", {}", iec(s)))
        .unwrap_or_default();
    let how = b
        .transport
        .clone()
        .or_else(|| b.controller_driver.clone())
        .map(|t| format!(", {t}"))
        .unwrap_or_default();
    format!("{model}{size}{how}")
}

fn select_disks(inv: &Inventory) -> Selection {
    let ts = physical_disks(inv)
        .into_iter()
        .map(|b| Target::item(&b.name, Some(disk_label(b))))
        .collect();
    targets_or(ts, "no disk with hardware under it")
}

fn find_disk<'a>(inv: &'a Inventory, name: &str) -> Option<&'a BlockDevice> {
    inv.storage.iter().find(|b| b.name == name)
}

fn is_virtual_disk(b: &BlockDevice) -> Option<&'static str> {
    if b.transport.as_deref() == Some("virtio") || b.driver.as_deref() == Some("virtio_blk") {
        Some("virtio-blk")
    } else if b.name.starts_with("xvd") || b.driver.as_deref() == Some("vbd") {
        Some("Xen")
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------------
// identity

fn identity(ctx: &mut Context<'_>) -> Verdict {
    let name = match util::target_id(ctx) {
        Ok(a) => a,
        Err(v) => return v,
    };
    let Some(b) = find_disk(ctx.inventory, &name) else {
        return Verdict::skip(format!("{name} is not in the inventory"));
    };
    let have = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
    let fields = [
        ("model", have(&b.model)),
        ("serial number", have(&b.serial)),
        ("firmware revision", have(&b.firmware)),
    ];
    for (what, ok) in fields {
        ctx.log(format!(
            "{name}: {what} {}",
            if ok { "readable" } else { "missing" }
        ));
    }
    if let Some(m) = &b.model {
        ctx.log(format!("model {m}"));
    }
    if let Some(f) = &b.firmware {
        ctx.log(format!("firmware {f}"));
    }
    let missing: Vec<&str> = fields
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(w, _)| *w)
        .collect();
    if missing.is_empty() {
        return Verdict::Pass;
    }
    if let Some(kind) = is_virtual_disk(b) {
        return Verdict::skip(format!(
            "{name} is a {kind} virtual disk: it has no {} to read",
            missing.join(" or ")
        ));
    }
    Verdict::fail(
        "model, serial number and firmware revision readable",
        format!("{name}: no {}", missing.join(", no ")),
    )
}

// ---------------------------------------------------------------------------------------------
// read_verify

/// How much read_verify reads, and in what pieces.
pub const READ_TOTAL: u64 = 64 << 20;
pub const READ_CHUNK: u64 = 1 << 20;

/// What a spread read did.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadStats {
    pub bytes: u64,
    pub reads: usize,
    pub seconds: f64,
    pub device_size: u64,
}

/// Why a spread read stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadFailure {
    /// The device could not be opened or sized.
    Open(String, Option<i32>),
    /// A read failed.
    Io { offset: u64, message: String },
    /// A read ended before the device's end.
    Short { offset: u64, got: u64, wanted: u64 },
}

/// `BLKGETSIZE64`, `BLKSSZGET`.
const BLKGETSIZE64: u64 = 0x8008_1272;
const BLKSSZGET: u64 = 0x1268;

fn device_size(f: &File) -> io::Result<(u64, u64)> {
    let md = f.metadata()?;
    if md.file_type().is_block_device() {
        let mut size: u64 = 0;
        // SAFETY: BLKGETSIZE64 writes one u64 through the pointer.
        if unsafe { libc::ioctl(f.as_raw_fd(), BLKGETSIZE64 as _, &mut size) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let mut lbs: libc::c_int = 0;
        // SAFETY: BLKSSZGET writes one int through the pointer.
        let ok = unsafe { libc::ioctl(f.as_raw_fd(), BLKSSZGET as _, &mut lbs) } == 0;
        let lbs = if ok && lbs >= 512 { lbs as u64 } else { 512 };
        Ok((size, lbs))
    } else {
        Ok((md.len(), 512))
    }
}

/// The offsets of `n` reads of `chunk` bytes spread evenly over `size` bytes, aligned down to
/// `align`, the last one ending at the device's (aligned) end. Small devices are read whole.
pub fn spread_offsets(size: u64, total: u64, chunk: u64, align: u64) -> Vec<(u64, u64)> {
    let align = align.max(512);
    let size = size - size % align;
    if size == 0 || chunk == 0 {
        return Vec::new();
    }
    if size <= total {
        let mut out = Vec::new();
        let mut off = 0;
        while off < size {
            out.push((off, chunk.min(size - off)));
            off += chunk;
        }
        return out;
    }
    let n = (total / chunk).max(1);
    if n == 1 {
        return vec![(0, chunk.min(size))];
    }
    let last = size.saturating_sub(chunk);
    (0..n)
        .map(|i| {
            let off = (last as u128 * i as u128 / (n - 1) as u128) as u64;
            let off = off - off % align;
            (off, chunk.min(size - off))
        })
        .collect()
}

/// Read `total` bytes spread over the device at `path` with O_DIRECT. `claimed_size` stands
/// in for the device's own size (tests use it to provoke a short read).
pub fn read_spread(
    path: &Path,
    total: u64,
    chunk: u64,
    claimed_size: Option<u64>,
) -> Result<ReadStats, ReadFailure> {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECT | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| {
            ReadFailure::Open(
                format!("{}: {}", path.display(), util::os_error(&e)),
                e.raw_os_error(),
            )
        })?;
    let (real, lbs) = device_size(&f).map_err(|e| {
        ReadFailure::Open(
            format!(
                "{}: cannot tell its size: {}",
                path.display(),
                util::os_error(&e)
            ),
            e.raw_os_error(),
        )
    })?;
    let size = claimed_size.unwrap_or(real);
    let offsets = spread_offsets(size, total, chunk, lbs.max(4096).min(chunk.max(512)));
    // An aligned window into a larger buffer: O_DIRECT wants the memory aligned too.
    let mut raw = vec![0u8; chunk as usize + 4096];
    let skip = raw.as_ptr().align_offset(4096);
    let buf = &mut raw[skip..skip + chunk as usize];
    let start = Instant::now();
    let mut bytes = 0u64;
    for (off, len) in &offsets {
        let mut done = 0u64;
        while done < *len {
            let want = &mut buf[done as usize..*len as usize];
            match f.read_at(want, off + done) {
                Ok(0) => {
                    return Err(ReadFailure::Short {
                        offset: *off,
                        got: done,
                        wanted: *len,
                    })
                }
                Ok(n) => done += n as u64,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(ReadFailure::Io {
                        offset: off + done,
                        message: util::os_error(&e),
                    })
                }
            }
        }
        bytes += len;
    }
    Ok(ReadStats {
        bytes,
        reads: offsets.len(),
        seconds: start.elapsed().as_secs_f64(),
        device_size: size,
    })
}

/// Judge a spread read: the verdict, with the throughput measured.
pub fn judge_read(ctx: &mut Context<'_>, dev: &str, r: Result<ReadStats, ReadFailure>) -> Verdict {
    let expected = format!("{} read across {dev} without an I/O error", iec(READ_TOTAL));
    match r {
        Ok(s) => {
            let mbps = if s.seconds > 0.0 {
                s.bytes as f64 / 1e6 / s.seconds
            } else {
                0.0
            };
            ctx.measure("read", mbps, "MB/s");
            ctx.measure("bytes_read", s.bytes as f64, "bytes");
            ctx.log(format!(
                "{dev}: {} in {} reads over {} in {:.3} s ({mbps:.1} MB/s)",
                iec(s.bytes),
                s.reads,
                iec(s.device_size),
                s.seconds
            ));
            if s.reads == 0 {
                return Verdict::fail(expected, format!("{dev} is empty (size 0)"));
            }
            Verdict::Pass
        }
        Err(ReadFailure::Open(m, errno)) => match errno {
            Some(libc::EACCES) | Some(libc::EPERM) if ctx.is_root => Verdict::skip(format!(
                "{m}: refused even to root (a device cgroup, container or security policy \
                 keeps this process from the disk)"
            )),
            Some(libc::EACCES) | Some(libc::EPERM) => Verdict::skip(format!("{m} (needs root)")),
            Some(libc::ENOMEDIUM) => Verdict::skip(format!("{m}: no medium")),
            _ => Verdict::fail(expected, format!("cannot open: {m}")),
        },
        Err(ReadFailure::Io { offset, message }) => Verdict::fail(
            expected,
            format!("{message} reading at byte {offset} ({})", iec(offset)),
        ),
        Err(ReadFailure::Short {
            offset,
            got,
            wanted,
        }) => Verdict::fail(
            expected,
            format!(
                "short read at byte {offset}: {got} of {wanted} bytes (the device ends before its \
                 reported size)"
            ),
        ),
    }
}

fn read_verify(ctx: &mut Context<'_>) -> Verdict {
    let name = match util::target_id(ctx) {
        Ok(a) => a,
        Err(v) => return v,
    };
    if let Err(v) = util::require_live(ctx, "reading the disk") {
        return v;
    }
    if let Err(v) = util::require_root(ctx, "reading the disk with O_DIRECT") {
        return v;
    }
    if name.contains('/') || name.is_empty() {
        return Verdict::error(format!("'{name}' is not a block device name"));
    }
    let dev = format!("/dev/{name}");
    match std::fs::metadata(&dev) {
        Ok(m) if m.file_type().is_block_device() => {}
        Ok(_) => {
            return Verdict::fail(
                format!("{dev} a block device"),
                format!("{dev} is not a block device node"),
            )
        }
        Err(e) => {
            return Verdict::skip(format!(
                "no device node {dev} ({}): no devtmpfs or udev here",
                util::os_error(&e)
            ))
        }
    }
    let r = read_spread(Path::new(&dev), READ_TOTAL, READ_CHUNK, None);
    judge_read(ctx, &dev, r)
}

// ---------------------------------------------------------------------------------------------
// nvme_health

fn select_nvme(inv: &Inventory) -> Selection {
    let ts = inv
        .nvme
        .iter()
        .filter(|c| c.transport.as_deref().is_none_or(|t| t == "pcie"))
        .map(|c| {
            let label = match (&c.model, &c.pci_address) {
                (Some(m), Some(a)) => Some(format!("{m} at {a}")),
                (Some(m), None) => Some(m.clone()),
                _ => c.pci_address.clone(),
            };
            Target::item(&c.name, label)
        })
        .collect();
    targets_or(ts, "no PCIe NVMe controller")
}

fn nvme_health(ctx: &mut Context<'_>) -> Verdict {
    let name = match util::target_id(ctx) {
        Ok(a) => a,
        Err(v) => return v,
    };
    if let Err(v) = util::require_live(ctx, "the NVMe admin command") {
        return v;
    }
    if let Err(v) = util::require_root(ctx, "the NVMe admin command (CAP_SYS_ADMIN)") {
        return v;
    }
    if name.contains('/') || !name.starts_with("nvme") {
        return Verdict::error(format!("'{name}' is not an NVMe controller name"));
    }
    let dev = format!("/dev/{name}");
    let page = match nvme::read_smart_log(&dev) {
        Ok(p) => p,
        Err(nvme::ReadError::Permission(m)) => return Verdict::skip(format!("{m} (needs root)")),
        Err(nvme::ReadError::Status(s)) => {
            return Verdict::fail(
                "the SMART / Health log page (Get Log Page 0x02)",
                format!("the controller refused it with NVMe status 0x{s:x}"),
            )
        }
        Err(nvme::ReadError::Other(m)) => return Verdict::error(m),
    };
    let Some(s) = nvme::parse_smart_log(&page) else {
        return Verdict::error(format!("{dev}: short SMART log page"));
    };
    ctx.measure("temperature", s.temperature_c(), "°C");
    ctx.measure("percentage_used", f64::from(s.percentage_used), "%");
    ctx.measure("available_spare", f64::from(s.available_spare), "%");
    ctx.measure("media_errors", s.media_errors as f64, "");
    ctx.measure("power_on_hours", s.power_on_hours as f64, "h");
    ctx.measure("unsafe_shutdowns", s.unsafe_shutdowns as f64, "");
    ctx.judge(
        "critical_warning",
        f64::from(s.critical_warning),
        "",
        "==",
        0.0,
    );
    ctx.log(format!(
        "{name}: critical warning 0x{:02x}, {:.0} °C, spare {}% (threshold {}%), used {}%, media \
         errors {}, error log entries {}",
        s.critical_warning,
        s.temperature_c(),
        s.available_spare,
        s.spare_threshold,
        s.percentage_used,
        s.media_errors,
        s.error_log_entries
    ));
    if s.critical_warning == 0 {
        return Verdict::Pass;
    }
    Verdict::fail(
        "critical warning 0",
        format!(
            "critical warning 0x{:02x}: {}",
            s.critical_warning,
            nvme::critical_warnings(s.critical_warning).join("; ")
        ),
    )
}

// ---------------------------------------------------------------------------------------------
// smart_health

fn select_smart(inv: &Inventory) -> Selection {
    let ts = physical_disks(inv)
        .into_iter()
        .filter(|b| matches!(b.transport.as_deref(), Some("sata" | "ata" | "sas")))
        .map(|b| Target::item(&b.name, Some(disk_label(b))))
        .collect();
    targets_or(
        ts,
        "no SATA or SAS disk (NVMe, virtio and RAID virtual drives are covered by other cases)",
    )
}

fn smart_health(ctx: &mut Context<'_>) -> Verdict {
    let name = match util::target_id(ctx) {
        Ok(a) => a,
        Err(v) => return v,
    };
    if let Err(v) = util::require_live(ctx, "smartctl") {
        return v;
    }
    let Some(smartctl) = smart::find_smartctl() else {
        return Verdict::skip("smartctl not installed (dnf install smartmontools)");
    };
    if let Err(v) = util::require_root(ctx, "smartctl") {
        return v;
    }
    if name.contains('/') || name.is_empty() {
        return Verdict::error(format!("'{name}' is not a block device name"));
    }
    let dev = format!("/dev/{name}");
    let out = match std::process::Command::new(&smartctl)
        .args(["-H", "-A", "-j", &dev])
        .stdin(std::process::Stdio::null())
        .output()
    {
        Ok(o) => o,
        Err(e) => {
            return Verdict::error(format!(
                "cannot run {}: {}",
                smartctl.display(),
                util::os_error(&e)
            ))
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let report = match smart::parse(&text) {
        Ok(r) => r,
        Err(e) => return Verdict::error(e),
    };
    if let Some(t) = report.temperature {
        ctx.measure("temperature", t, "°C");
    }
    if let Some(h) = report.power_on_hours {
        ctx.measure("power_on_hours", h, "h");
    }
    for (n, v) in &report.counters {
        ctx.measure(n, *v, "");
    }
    for m in &report.messages {
        ctx.log(format!("smartctl: {m}"));
    }
    if !report.failed_past.is_empty() {
        ctx.log(format!(
            "attributes that were at or below threshold in the past: {}",
            report.failed_past.join(", ")
        ));
    }
    match smart::judge(&report) {
        Ok(Ok(())) => Verdict::Pass,
        Ok(Err((e, m))) => Verdict::fail(e, format!("{dev}: {m}")),
        Err(e) => Verdict::error(format!("{dev}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_spread_over_the_device() {
        let gib = 1u64 << 30;
        let o = spread_offsets(100 * gib, READ_TOTAL, READ_CHUNK, 4096);
        assert_eq!(o.len(), 64);
        assert_eq!(o[0], (0, READ_CHUNK));
        assert_eq!(o[63], (100 * gib - READ_CHUNK, READ_CHUNK));
        assert!(o.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(o
            .iter()
            .all(|(off, len)| off % 4096 == 0 && off + len <= 100 * gib));
        // Small: read whole, last piece shorter.
        let o = spread_offsets(3 * READ_CHUNK + 8192, READ_TOTAL, READ_CHUNK, 4096);
        assert_eq!(o.len(), 4);
        assert_eq!(o[3], (3 * READ_CHUNK, 8192));
        // Odd sizes are cut to the alignment; nothing is past the end.
        let o = spread_offsets(READ_TOTAL * 3 + 1000, READ_TOTAL, READ_CHUNK, 4096);
        assert!(o.iter().all(|(off, len)| off + len <= READ_TOTAL * 3));
        assert!(spread_offsets(0, READ_TOTAL, READ_CHUNK, 4096).is_empty());
        assert!(spread_offsets(100, READ_TOTAL, READ_CHUNK, 4096).is_empty());
        assert!(spread_offsets(u64::MAX, READ_TOTAL, READ_CHUNK, 4096).len() == 64);
    }
}
