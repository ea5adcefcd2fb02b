//! Network cases, one instance per physical interface.
//!
//! * `network::link_up` — operstate `up` and a carrier. (`unknown` with a carrier passes with a
//!   note: some drivers never report an operational state.)
//! * `network::driver_info` — the driver answers `ETHTOOL_GDRVINFO` (`SIOCETHTOOL`) with its
//!   name; version, firmware version and bus address are logged. Live system.
//! * `network::mtu_roundtrip` — only interfaces the profile names in `mtu_interfaces`: the MTU
//!   is changed (to 1280, the IPv6 minimum every Ethernet driver takes; to 1500 when it is
//!   1280 already), read back, restored and read back again. Names may be shell patterns
//!   (`eth*`); a pattern never selects the interface carrying a default route
//!   (`proc/net/route`, `proc/net/ipv6_route`) — only its exact name does. Live system, root.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use inventory::network::NetInterface;

use crate::util::{self, live, reads_files, targets_or, Spec};
use crate::{Case, Component, Context, Inventory, RunOptions, Selection, Target, Verdict};

pub(crate) fn cases() -> Vec<Box<dyn Case>> {
    vec![
        Spec {
            name: "network::link_up",
            purpose: "The interface is up with a carrier",
            component: Component::Network,
            blocker: true,
            timeout: 10,
            estimate_ms: 10,
            requirements: reads_files(),
            select: select_physical,
            run: link_up,
        }
        .build(),
        Spec {
            name: "network::driver_info",
            purpose: "The driver reports its name, version, firmware and bus address (ETHTOOL_GDRVINFO)",
            component: Component::Network,
            blocker: true,
            timeout: 10,
            estimate_ms: 50,
            requirements: live(false, &[]),
            select: select_physical,
            run: driver_info,
        }
        .build(),
        Spec {
            name: "network::mtu_roundtrip",
            purpose: "The MTU can be changed and restored (interfaces named in the profile's mtu_interfaces)",
            component: Component::Network,
            blocker: true,
            timeout: 60,
            estimate_ms: 2_000,
            requirements: live(true, &[]),
            select: select_mtu_without_options,
            run: mtu_roundtrip,
        }
        .build_with(Some(select_mtu)),
    ]
}

pub(crate) fn iface_label(n: &NetInterface) -> String {
    let drv = n.driver.as_deref().unwrap_or("no driver");
    match &n.pci_address {
        Some(a) => format!("{} ({drv}, {a})", n.name),
        None => format!("{} ({drv})", n.name),
    }
}

fn select_physical(inv: &Inventory) -> Selection {
    let ts = inv
        .network
        .iter()
        .filter(|n| !n.is_virtual)
        .map(|n| Target::item(&n.name, Some(iface_label(n))))
        .collect();
    targets_or(ts, "no physical network interface")
}

pub(crate) fn valid_ifname(name: &str) -> bool {
    !name.is_empty()
        && name.len() < libc::IFNAMSIZ
        && !name.contains(['/', '\0'])
        && !name.chars().any(char::is_whitespace)
}

// ---------------------------------------------------------------------------------------------
// link_up

fn link_up(ctx: &mut Context<'_>) -> Verdict {
    let name = match util::target_id(ctx) {
        Ok(a) => a,
        Err(v) => return v,
    };
    if !valid_ifname(&name) {
        return Verdict::error(format!("'{name}' is not an interface name"));
    }
    let dir = format!("sys/class/net/{name}");
    if !ctx.sysroot.exists(&dir) {
        return Verdict::fail(
            format!("{name} up with a carrier"),
            format!("{name} is gone (no /{dir})"),
        );
    }
    let inv = ctx.inventory.network.iter().find(|n| n.name == name);
    let operstate = ctx
        .sysroot
        .attr(&format!("{dir}/operstate"))
        .or_else(|| inv.and_then(|n| n.operstate.clone()));
    // The kernel refuses `carrier` (EINVAL) on an interface that is down: that is no carrier.
    let carrier = if ctx.sysroot.exists(&format!("{dir}/carrier")) {
        ctx.sysroot
            .parse::<u8>(&format!("{dir}/carrier"))
            .map(|c| c == 1)
    } else {
        inv.and_then(|n| n.carrier)
    };
    if let Some(speed) = ctx
        .sysroot
        .parse::<i64>(&format!("{dir}/speed"))
        .filter(|s| *s > 0)
    {
        ctx.measure("speed", speed as f64, "Mb/s");
    }
    let state = operstate.as_deref().unwrap_or("unreadable");
    let has_carrier = carrier == Some(true);
    ctx.log(format!(
        "{name}: operstate {state}, carrier {}",
        match carrier {
            Some(true) => "1",
            Some(false) => "0",
            None => "unknown (interface down?)",
        }
    ));
    let ok = has_carrier && (state == "up" || state == "unknown");
    if ok {
        if state == "unknown" {
            ctx.log("operstate unknown: the driver does not report one; the carrier is up");
        }
        return Verdict::Pass;
    }
    Verdict::fail(
        format!("{name}: operstate up with a carrier (a cable or transceiver connected)"),
        format!(
            "{name}: operstate {state}, {}",
            if has_carrier {
                "carrier up"
            } else {
                "no carrier"
            }
        ),
    )
}

// ---------------------------------------------------------------------------------------------
// Socket ioctls

/// `struct ifreq` with a pointer in its union (40 bytes on 64-bit Linux).
#[repr(C)]
struct IfreqPtr {
    name: [libc::c_char; libc::IFNAMSIZ],
    data: *mut libc::c_void,
    _pad: [u8; 16],
}

/// `struct ifreq` with an int in its union.
#[repr(C)]
struct IfreqInt {
    name: [libc::c_char; libc::IFNAMSIZ],
    value: libc::c_int,
    _pad: [u8; 20],
}

pub(crate) fn ifname(name: &str) -> Option<[libc::c_char; libc::IFNAMSIZ]> {
    if !valid_ifname(name) {
        return None;
    }
    let mut out = [0 as libc::c_char; libc::IFNAMSIZ];
    for (o, b) in out.iter_mut().zip(name.bytes()) {
        *o = b as libc::c_char;
    }
    Some(out)
}

pub(crate) fn socket() -> std::io::Result<OwnedFd> {
    for family in [libc::AF_INET, libc::AF_INET6, libc::AF_UNIX] {
        // SAFETY: plain socket(2); the descriptor is owned below.
        let fd = unsafe { libc::socket(family, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
        if fd >= 0 {
            // SAFETY: fd is a fresh descriptor nobody else owns.
            return Ok(unsafe { OwnedFd::from_raw_fd(fd) });
        }
    }
    Err(std::io::Error::last_os_error())
}

const SIOCETHTOOL: u64 = 0x8946;
const SIOCGIFMTU: u64 = 0x8921;
const SIOCSIFMTU: u64 = 0x8922;
const ETHTOOL_GDRVINFO: u32 = 0x0000_0003;

/// `struct ethtool_drvinfo`.
#[repr(C)]
struct EthtoolDrvinfo {
    cmd: u32,
    driver: [u8; 32],
    version: [u8; 32],
    fw_version: [u8; 32],
    bus_info: [u8; 32],
    erom_version: [u8; 32],
    reserved2: [u8; 12],
    n_priv_flags: u32,
    n_stats: u32,
    testinfo_len: u32,
    eedump_len: u32,
    regdump_len: u32,
}

/// What ETHTOOL_GDRVINFO reports.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DriverInfo {
    pub driver: String,
    pub version: String,
    pub firmware: String,
    pub bus_info: String,
    pub expansion_rom: String,
}

fn c_text(b: &[u8]) -> String {
    let end = b.iter().position(|c| *c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).trim().to_string()
}

/// ETHTOOL_GDRVINFO on `name` (in the calling thread's network namespace).
pub fn drvinfo(name: &str) -> std::io::Result<DriverInfo> {
    let n = ifname(name).ok_or_else(|| std::io::Error::from_raw_os_error(libc::EINVAL))?;
    let sock = socket()?;
    let mut info = EthtoolDrvinfo {
        cmd: ETHTOOL_GDRVINFO,
        driver: [0; 32],
        version: [0; 32],
        fw_version: [0; 32],
        bus_info: [0; 32],
        erom_version: [0; 32],
        reserved2: [0; 12],
        n_priv_flags: 0,
        n_stats: 0,
        testinfo_len: 0,
        eedump_len: 0,
        regdump_len: 0,
    };
    let mut ifr = IfreqPtr {
        name: n,
        data: (&mut info as *mut EthtoolDrvinfo).cast(),
        _pad: [0; 16],
    };
    // SAFETY: a valid socket; `ifr` is a struct ifreq whose data points at an ethtool_drvinfo
    // that outlives the call.
    let rc = unsafe { libc::ioctl(sock.as_raw_fd(), SIOCETHTOOL as _, &mut ifr) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(DriverInfo {
        driver: c_text(&info.driver),
        version: c_text(&info.version),
        firmware: c_text(&info.fw_version),
        bus_info: c_text(&info.bus_info),
        expansion_rom: c_text(&info.erom_version),
    })
}

/// The MTU of `name` (SIOCGIFMTU).
pub fn get_mtu(name: &str) -> std::io::Result<u32> {
    let n = ifname(name).ok_or_else(|| std::io::Error::from_raw_os_error(libc::EINVAL))?;
    let sock = socket()?;
    let mut ifr = IfreqInt {
        name: n,
        value: 0,
        _pad: [0; 20],
    };
    // SAFETY: a valid socket and a struct ifreq the kernel fills in.
    let rc = unsafe { libc::ioctl(sock.as_raw_fd(), SIOCGIFMTU as _, &mut ifr) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    u32::try_from(ifr.value).map_err(|_| std::io::Error::from_raw_os_error(libc::ERANGE))
}

/// Set the MTU of `name` (SIOCSIFMTU; needs CAP_NET_ADMIN).
pub fn set_mtu(name: &str, mtu: u32) -> std::io::Result<()> {
    let n = ifname(name).ok_or_else(|| std::io::Error::from_raw_os_error(libc::EINVAL))?;
    let value =
        libc::c_int::try_from(mtu).map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?;
    let sock = socket()?;
    let mut ifr = IfreqInt {
        name: n,
        value,
        _pad: [0; 20],
    };
    // SAFETY: a valid socket and a struct ifreq carrying the new MTU.
    let rc = unsafe { libc::ioctl(sock.as_raw_fd(), SIOCSIFMTU as _, &mut ifr) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// driver_info

fn driver_info(ctx: &mut Context<'_>) -> Verdict {
    let name = match util::target_id(ctx) {
        Ok(a) => a,
        Err(v) => return v,
    };
    if let Err(v) = util::require_live(ctx, "the ethtool ioctl") {
        return v;
    }
    let info = match drvinfo(&name) {
        Ok(i) => i,
        Err(e) if e.raw_os_error() == Some(libc::ENODEV) => {
            return Verdict::fail(
                format!("{name}: the driver's name through ETHTOOL_GDRVINFO"),
                format!("{name} is gone (no such device)"),
            )
        }
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
            return Verdict::skip(format!(
                "ETHTOOL_GDRVINFO on {name}: {}",
                util::os_error(&e)
            ))
        }
        // Linux answers an ioctl it lacks with EOPNOTSUPP; ENOSYS comes from an emulator that
        // passes no SIOCETHTOOL on (qemu-user): nothing can be learnt here.
        Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => {
            return Verdict::skip(format!(
                "ETHTOOL_GDRVINFO on {name}: {} (an emulator such as qemu-user does not pass \
                 the ethtool ioctl on)",
                util::os_error(&e)
            ))
        }
        Err(e) => {
            return Verdict::fail(
                format!("{name}: the driver's name through ETHTOOL_GDRVINFO"),
                format!("ETHTOOL_GDRVINFO failed: {}", util::os_error(&e)),
            )
        }
    };
    let show = |s: &str| {
        if s.is_empty() {
            "-".to_string()
        } else {
            s.to_string()
        }
    };
    ctx.log(format!(
        "{name}: driver {}, version {}, firmware {}, bus {}, expansion ROM {}",
        show(&info.driver),
        show(&info.version),
        show(&info.firmware),
        show(&info.bus_info),
        show(&info.expansion_rom)
    ));
    let iface = ctx.inventory.network.iter().find(|n| n.name == name);
    if let Some(sysfs) = iface.and_then(|n| n.driver.as_deref()) {
        if sysfs != info.driver && !info.driver.is_empty() {
            ctx.log(format!(
                "note: sysfs names the device's driver {sysfs}, ethtool names {}",
                info.driver
            ));
        }
    }
    if let Some(pci) = iface.and_then(|n| n.pci_address.as_deref()) {
        if !info.bus_info.is_empty() && info.bus_info != pci {
            ctx.log(format!(
                "note: bus-info {} differs from the PCI function {pci} (a virtio or USB device \
                 names its own bus)",
                info.bus_info
            ));
        }
    }
    if info.firmware.is_empty() && iface.is_some_and(|n| n.bus.as_deref() == Some("pci")) {
        ctx.log("note: the driver reports no firmware version");
    }
    if info.driver.is_empty() {
        return Verdict::fail(
            format!("{name}: the driver's name through ETHTOOL_GDRVINFO"),
            "the driver reports nothing (empty driver name)",
        );
    }
    Verdict::Pass
}

// ---------------------------------------------------------------------------------------------
// mtu_roundtrip

const NOT_NAMED: &str = "no interface named in the profile's mtu_interfaces";

fn select_mtu_without_options(_: &Inventory) -> Selection {
    Selection::NotApplicable(NOT_NAMED.into())
}

/// How `name` is named in the options: exactly, by a pattern, or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    Exactly,
    ByPattern,
    No,
}

pub fn named(options: &RunOptions, name: &str) -> Named {
    if options.mtu_interfaces.iter().any(|n| n == name) {
        Named::Exactly
    } else if options
        .mtu_interfaces
        .iter()
        .any(|p| p.contains(['*', '?']) && hwsys::glob::wildcard(p, name))
    {
        Named::ByPattern
    } else {
        Named::No
    }
}

fn select_mtu(inv: &Inventory, options: &RunOptions) -> Selection {
    let ts: Vec<Target> = inv
        .network
        .iter()
        .filter(|n| match named(options, &n.name) {
            Named::Exactly => true,
            // A pattern picks hardware interfaces only.
            Named::ByPattern => !n.is_virtual,
            Named::No => false,
        })
        .map(|n| Target::item(&n.name, Some(iface_label(n))))
        .collect();
    if ts.is_empty() && !options.mtu_interfaces.is_empty() {
        return Selection::NotApplicable(format!(
            "{NOT_NAMED} is present on this machine (named: {})",
            options.mtu_interfaces.join(", ")
        ));
    }
    targets_or(ts, NOT_NAMED)
}

/// Interfaces that carry a default route (IPv4 `proc/net/route`, IPv6 `proc/net/ipv6_route`).
pub fn default_route_interfaces(route: &str, ipv6_route: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in route.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        // Iface Destination Gateway Flags RefCnt Use Metric Mask …
        if f.len() >= 8
            && f[1] == "00000000"
            && f[7] == "00000000"
            && !out.contains(&f[0].to_string())
        {
            out.push(f[0].to_string());
        }
    }
    for line in ipv6_route.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        // dest dest_len src src_len next_hop metric refcnt use flags iface
        if f.len() >= 10
            && f[0].bytes().all(|b| b == b'0')
            && f[1] == "00"
            && f[9] != "lo"
            && !out.contains(&f[9].to_string())
        {
            out.push(f[9].to_string());
        }
    }
    out
}

/// The MTU to try: 1280, or 1500 when it is 1280 already.
pub fn test_mtu(current: u32) -> u32 {
    if current == 1280 {
        1500
    } else {
        1280
    }
}

/// Puts the MTU back when dropped, whatever happened in between.
struct Restore<'a> {
    name: &'a str,
    mtu: u32,
    armed: bool,
}

impl Drop for Restore<'_> {
    fn drop(&mut self) {
        if self.armed {
            let _ = set_mtu(self.name, self.mtu);
        }
    }
}

/// Change the MTU of `name`, read it back, restore it, read it back. `Ok` holds log lines;
/// `Err` is (expected, measured).
pub fn roundtrip(name: &str) -> Result<Vec<String>, (String, String)> {
    let mut log = Vec::new();
    let orig = get_mtu(name).map_err(|e| {
        (
            format!("{name}: the MTU readable (SIOCGIFMTU)"),
            util::os_error(&e),
        )
    })?;
    let test = test_mtu(orig);
    log.push(format!("{name}: MTU {orig}; trying {test}"));
    let mut guard = Restore {
        name,
        mtu: orig,
        armed: true,
    };
    set_mtu(name, test).map_err(|e| {
        (
            format!("{name}: MTU {test} accepted"),
            format!("the driver refused MTU {test}: {}", util::os_error(&e)),
        )
    })?;
    let now = get_mtu(name).map_err(|e| {
        (
            format!("{name}: MTU {test} after setting it"),
            util::os_error(&e),
        )
    })?;
    if now != test {
        return Err((
            format!("{name}: MTU {test} after setting it"),
            format!("MTU {now}"),
        ));
    }
    log.push(format!("{name}: MTU {test} set and read back"));
    guard.armed = false;
    set_mtu(name, orig).map_err(|e| {
        (
            format!("{name}: MTU {orig} restored"),
            format!(
                "restoring MTU {orig} failed: {} — the interface is left at {test}",
                util::os_error(&e)
            ),
        )
    })?;
    let back =
        get_mtu(name).map_err(|e| (format!("{name}: MTU {orig} restored"), util::os_error(&e)))?;
    if back != orig {
        return Err((
            format!("{name}: MTU {orig} restored"),
            format!("MTU {back} after restoring"),
        ));
    }
    log.push(format!("{name}: MTU {orig} restored and read back"));
    Ok(log)
}

fn mtu_roundtrip(ctx: &mut Context<'_>) -> Verdict {
    let name = match util::target_id(ctx) {
        Ok(a) => a,
        Err(v) => return v,
    };
    let how = named(ctx.options, &name);
    if how == Named::No {
        return Verdict::skip(format!(
            "{name} is not named in the profile's mtu_interfaces: its MTU is left alone"
        ));
    }
    if let Err(v) = util::require_live(ctx, "changing the MTU") {
        return v;
    }
    if let Err(v) = util::require_root(ctx, "changing the MTU (CAP_NET_ADMIN)") {
        return v;
    }
    let route = ctx.sysroot.read("proc/net/route").unwrap_or_default();
    let route6 = ctx.sysroot.read("proc/net/ipv6_route").unwrap_or_default();
    if how == Named::ByPattern && default_route_interfaces(&route, &route6).contains(&name) {
        return Verdict::skip(format!(
            "{name} carries the default route: only its exact name in mtu_interfaces allows \
             changing its MTU"
        ));
    }
    match roundtrip(&name) {
        Ok(lines) => {
            for l in lines {
                ctx.log(l);
            }
            if let Ok(m) = get_mtu(&name) {
                ctx.measure("mtu", f64::from(m), "bytes");
            }
            Verdict::Pass
        }
        Err((e, m)) => Verdict::fail(e, m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn struct_sizes() {
        use std::mem::{offset_of, size_of};
        // linux/ethtool.h, linux/if.h: the same on x86_64 and aarch64 (LP64, natural
        // alignment); this test runs on both (./dev.sh test aarch64).
        assert_eq!(size_of::<EthtoolDrvinfo>(), 196);
        let drvinfo = [
            offset_of!(EthtoolDrvinfo, cmd),
            offset_of!(EthtoolDrvinfo, driver),
            offset_of!(EthtoolDrvinfo, version),
            offset_of!(EthtoolDrvinfo, fw_version),
            offset_of!(EthtoolDrvinfo, bus_info),
            offset_of!(EthtoolDrvinfo, erom_version),
            offset_of!(EthtoolDrvinfo, reserved2),
            offset_of!(EthtoolDrvinfo, n_priv_flags),
            offset_of!(EthtoolDrvinfo, n_stats),
            offset_of!(EthtoolDrvinfo, testinfo_len),
            offset_of!(EthtoolDrvinfo, eedump_len),
            offset_of!(EthtoolDrvinfo, regdump_len),
        ];
        assert_eq!(
            drvinfo,
            [0, 4, 36, 68, 100, 132, 164, 176, 180, 184, 188, 192]
        );
        // struct ifreq: IFNAMSIZ name, then the union (pointer-aligned), 40 bytes in all.
        assert_eq!(size_of::<IfreqPtr>(), 40);
        assert_eq!(size_of::<IfreqInt>(), 40);
        assert_eq!(offset_of!(IfreqPtr, data), 16);
        assert_eq!(offset_of!(IfreqInt, value), 16);
        assert_eq!(std::mem::align_of::<IfreqPtr>(), 8);
        // _IO numbers of linux/sockios.h and ETHTOOL_GDRVINFO: not per-architecture.
        assert_eq!(
            (SIOCETHTOOL, SIOCGIFMTU, SIOCSIFMTU),
            (0x8946, 0x8921, 0x8922)
        );
    }

    #[test]
    fn routes() {
        let v4 =
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
                  eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
                  eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n\
                  eth1\t000A0A0A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";
        let v6 = "00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003 eth2\n\
                  00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200 lo\n\
                  fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001 eth3\n";
        assert_eq!(default_route_interfaces(v4, v6), ["eth0", "eth2"]);
        assert!(default_route_interfaces("", "").is_empty());
        assert!(default_route_interfaces("garbage\nx y\n", "z\n").is_empty());
    }

    #[test]
    fn naming() {
        let o = RunOptions {
            mtu_interfaces: vec!["eth0".into(), "enp*".into()],
            ..RunOptions::default()
        };
        assert_eq!(named(&o, "eth0"), Named::Exactly);
        assert_eq!(named(&o, "enp1s0"), Named::ByPattern);
        assert_eq!(named(&o, "eth1"), Named::No);
        assert_eq!(test_mtu(1500), 1280);
        assert_eq!(test_mtu(1280), 1500);
        assert!(ifname("a-name-that-is-too-long").is_none());
        assert!(ifname("../x").is_none());
        assert!(ifname("").is_none());
        assert!(ifname("eth0").is_some());
    }

    #[test]
    fn interface_patterns_take_star_and_question_mark_only() {
        let by = |pattern: &str, name: &str| {
            let o = RunOptions {
                mtu_interfaces: vec![pattern.into()],
                ..RunOptions::default()
            };
            named(&o, name)
        };
        assert_eq!(by("eth*", "eth0"), Named::ByPattern);
        assert_eq!(by("*", "enp1s0f1"), Named::ByPattern);
        assert_eq!(by("enp?s0", "enp1s0"), Named::ByPattern);
        assert_eq!(by("enp?s0", "enp10s0"), Named::No);
        assert_eq!(by("e*0*1", "enp0s0f1"), Named::ByPattern);
        assert_eq!(by("eth0", "eth01"), Named::No);
        assert_eq!(by("*", ""), Named::ByPattern);
        assert_eq!(by("e[n]p*", "enp1s0"), Named::No, "no bracket classes");
    }
}
