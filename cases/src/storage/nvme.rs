//! The NVMe SMART / Health Information log page (log identifier 0x02), read through the admin
//! passthrough ioctl, and its parsing (NVMe Base Specification, "SMART / Health Information").

use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;

/// The size of the SMART / Health Information log page.
pub const SMART_LOG_LEN: usize = 512;

/// The fields of the log page a certification reports.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SmartLog {
    /// Byte 0: critical warning bits.
    pub critical_warning: u8,
    /// Bytes 1-2: composite temperature, kelvin.
    pub temperature_k: u16,
    /// Byte 3: available spare, percent.
    pub available_spare: u8,
    /// Byte 4: available spare threshold, percent.
    pub spare_threshold: u8,
    /// Byte 5: percentage used (may exceed 100).
    pub percentage_used: u8,
    /// Bytes 32-47: data units read (thousands of 512-byte units).
    pub data_units_read: u128,
    /// Bytes 48-63.
    pub data_units_written: u128,
    /// Bytes 112-127.
    pub power_cycles: u128,
    /// Bytes 128-143.
    pub power_on_hours: u128,
    /// Bytes 144-159.
    pub unsafe_shutdowns: u128,
    /// Bytes 160-175: media and data integrity errors.
    pub media_errors: u128,
    /// Bytes 176-191: error information log entries.
    pub error_log_entries: u128,
}

impl SmartLog {
    /// Composite temperature in °C.
    pub fn temperature_c(&self) -> f64 {
        f64::from(self.temperature_k) - 273.15
    }
}

fn u128_le(b: &[u8], at: usize) -> u128 {
    let mut a = [0u8; 16];
    a.copy_from_slice(&b[at..at + 16]);
    u128::from_le_bytes(a)
}

/// Parse a log page; `None` when the buffer is shorter than the page.
pub fn parse_smart_log(b: &[u8]) -> Option<SmartLog> {
    if b.len() < SMART_LOG_LEN {
        return None;
    }
    Some(SmartLog {
        critical_warning: b[0],
        temperature_k: u16::from_le_bytes([b[1], b[2]]),
        available_spare: b[3],
        spare_threshold: b[4],
        percentage_used: b[5],
        data_units_read: u128_le(b, 32),
        data_units_written: u128_le(b, 48),
        power_cycles: u128_le(b, 112),
        power_on_hours: u128_le(b, 128),
        unsafe_shutdowns: u128_le(b, 144),
        media_errors: u128_le(b, 160),
        error_log_entries: u128_le(b, 176),
    })
}

/// What each set critical warning bit means.
pub fn critical_warnings(bits: u8) -> Vec<&'static str> {
    const NAMES: [&str; 8] = [
        "available spare below threshold",
        "temperature outside its thresholds",
        "NVM subsystem reliability degraded (media or internal errors)",
        "media placed in read-only mode",
        "volatile memory backup device failed",
        "persistent memory region read-only or unreliable",
        "reserved bit 6",
        "reserved bit 7",
    ];
    (0..8)
        .filter(|i| bits & (1 << i) != 0)
        .map(|i| NAMES[i])
        .collect()
}

/// `struct nvme_passthru_cmd` of <linux/nvme_ioctl.h> (72 bytes).
#[repr(C)]
#[derive(Default)]
struct PassthruCmd {
    opcode: u8,
    flags: u8,
    rsvd1: u16,
    nsid: u32,
    cdw2: u32,
    cdw3: u32,
    metadata: u64,
    addr: u64,
    metadata_len: u32,
    data_len: u32,
    cdw10: u32,
    cdw11: u32,
    cdw12: u32,
    cdw13: u32,
    cdw14: u32,
    cdw15: u32,
    timeout_ms: u32,
    result: u32,
}

/// `_IOWR('N', 0x41, struct nvme_admin_cmd)`.
const NVME_IOCTL_ADMIN_CMD: u64 = (3 << 30) | ((72 & 0x3fff) << 16) | ((b'N' as u64) << 8) | 0x41;
const GET_LOG_PAGE: u8 = 0x02;
const LID_SMART: u32 = 0x02;

/// Why a log page could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// Not allowed (needs root / CAP_SYS_ADMIN).
    Permission(String),
    /// The controller answered with an NVMe status code.
    Status(u32),
    /// Anything else (no such device, not an NVMe controller).
    Other(String),
}

/// Read the SMART / Health Information log page of the controller at `dev` (`/dev/nvme0`).
pub fn read_smart_log(dev: &str) -> Result<Vec<u8>, ReadError> {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_CLOEXEC)
        .open(dev)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::EACCES) | Some(libc::EPERM) => {
                ReadError::Permission(format!("{dev}: {}", crate::util::os_error(&e)))
            }
            _ => ReadError::Other(format!("{dev}: {}", crate::util::os_error(&e))),
        })?;
    if !f
        .metadata()
        .map(|m| {
            use std::os::unix::fs::FileTypeExt;
            m.file_type().is_char_device()
        })
        .unwrap_or(false)
    {
        return Err(ReadError::Other(format!("{dev} is not a character device")));
    }
    let mut buf = vec![0u8; SMART_LOG_LEN];
    let numd = (SMART_LOG_LEN / 4 - 1) as u32;
    let mut cmd = PassthruCmd {
        opcode: GET_LOG_PAGE,
        nsid: 0xffff_ffff,
        addr: buf.as_mut_ptr() as u64,
        data_len: SMART_LOG_LEN as u32,
        cdw10: LID_SMART | ((numd & 0xffff) << 16),
        cdw11: numd >> 16,
        timeout_ms: 10_000,
        ..PassthruCmd::default()
    };
    // SAFETY: a valid descriptor; `cmd` is a properly laid out nvme_passthru_cmd whose `addr`
    // points at `buf`, which holds `data_len` bytes and outlives the call.
    let rc = unsafe { libc::ioctl(f.as_raw_fd(), NVME_IOCTL_ADMIN_CMD as _, &mut cmd) };
    if rc < 0 {
        let e = std::io::Error::last_os_error();
        return Err(match e.raw_os_error() {
            Some(libc::EACCES) | Some(libc::EPERM) => {
                ReadError::Permission(format!("{dev}: {}", crate::util::os_error(&e)))
            }
            _ => ReadError::Other(format!(
                "{dev}: NVME_IOCTL_ADMIN_CMD: {}",
                crate::util::os_error(&e)
            )),
        });
    }
    if rc > 0 {
        return Err(ReadError::Status(rc as u32));
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ioctl_number() {
        assert_eq!(NVME_IOCTL_ADMIN_CMD, 0xC048_4E41);
        assert_eq!(std::mem::size_of::<PassthruCmd>(), 72);
    }

    #[test]
    fn passthru_cmd_has_the_kernels_layout() {
        use std::mem::offset_of;
        // linux/nvme_ioctl.h struct nvme_passthru_cmd, on x86_64 and aarch64 alike (this
        // test runs on both: ./dev.sh test aarch64).
        let offsets = [
            offset_of!(PassthruCmd, opcode),
            offset_of!(PassthruCmd, flags),
            offset_of!(PassthruCmd, rsvd1),
            offset_of!(PassthruCmd, nsid),
            offset_of!(PassthruCmd, cdw2),
            offset_of!(PassthruCmd, cdw3),
            offset_of!(PassthruCmd, metadata),
            offset_of!(PassthruCmd, addr),
            offset_of!(PassthruCmd, metadata_len),
            offset_of!(PassthruCmd, data_len),
            offset_of!(PassthruCmd, cdw10),
            offset_of!(PassthruCmd, cdw11),
            offset_of!(PassthruCmd, cdw12),
            offset_of!(PassthruCmd, cdw13),
            offset_of!(PassthruCmd, cdw14),
            offset_of!(PassthruCmd, cdw15),
            offset_of!(PassthruCmd, timeout_ms),
            offset_of!(PassthruCmd, result),
        ];
        assert_eq!(
            offsets,
            [0, 1, 2, 4, 8, 12, 16, 24, 32, 36, 40, 44, 48, 52, 56, 60, 64, 68]
        );
    }

    fn page() -> Vec<u8> {
        let mut b = vec![0u8; SMART_LOG_LEN];
        b[0] = 0;
        b[1..3].copy_from_slice(&310u16.to_le_bytes()); // 36.85 °C
        b[3] = 100;
        b[4] = 10;
        b[5] = 3;
        b[32..48].copy_from_slice(&123_456u128.to_le_bytes());
        b[128..144].copy_from_slice(&8_760u128.to_le_bytes());
        b[160..176].copy_from_slice(&0u128.to_le_bytes());
        b[176..192].copy_from_slice(&12u128.to_le_bytes());
        b
    }

    #[test]
    fn parses_a_healthy_page() {
        let s = parse_smart_log(&page()).expect("page");
        assert_eq!(s.critical_warning, 0);
        assert_eq!(s.temperature_k, 310);
        assert!((s.temperature_c() - 36.85).abs() < 1e-9);
        assert_eq!(s.available_spare, 100);
        assert_eq!(s.spare_threshold, 10);
        assert_eq!(s.percentage_used, 3);
        assert_eq!(s.data_units_read, 123_456);
        assert_eq!(s.power_on_hours, 8_760);
        assert_eq!(s.media_errors, 0);
        assert_eq!(s.error_log_entries, 12);
        assert!(critical_warnings(s.critical_warning).is_empty());
    }

    #[test]
    fn parses_a_failing_page() {
        let mut b = page();
        b[0] = 0b0000_1101;
        b[3] = 5;
        b[160..176].copy_from_slice(&(u128::MAX).to_le_bytes());
        let s = parse_smart_log(&b).expect("page");
        assert_eq!(
            critical_warnings(s.critical_warning),
            [
                "available spare below threshold",
                "NVM subsystem reliability degraded (media or internal errors)",
                "media placed in read-only mode"
            ]
        );
        assert_eq!(s.media_errors, u128::MAX);
        assert_eq!(critical_warnings(0xff).len(), 8);
    }

    #[test]
    fn short_or_garbage_pages_never_panic() {
        assert_eq!(parse_smart_log(&[]), None);
        assert_eq!(parse_smart_log(&[0xff; 511]), None);
        let s = parse_smart_log(&[0xff; 4096]).expect("longer is fine");
        assert_eq!(s.temperature_k, 0xffff);
    }

    #[test]
    fn reading_a_non_nvme_node_is_an_error_not_a_panic() {
        match read_smart_log("/dev/null") {
            Err(ReadError::Other(m)) => assert!(m.contains("/dev/null"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            read_smart_log("/nonexistent/nvme0"),
            Err(ReadError::Other(_))
        ));
        let d = tempfile::tempdir().expect("tmp");
        let f = d.path().join("nvme0");
        std::fs::write(&f, b"x").expect("w");
        assert!(matches!(
            read_smart_log(f.to_str().expect("utf8")),
            Err(ReadError::Other(_))
        ));
    }
}
