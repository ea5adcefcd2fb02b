//! network:: cases on the hand-made trees, on this machine (read-only), and — for the MTU —
//! only inside a private network namespace, never on this machine's interfaces.

use crate::common;

use std::path::Path;

use cases::{RunOptions, Status, Target};
use common::*;

fn ids(v: Vec<(String, Ran)>) -> Vec<(String, Status)> {
    v.into_iter()
        .map(|(i, r)| (i, r.verdict().status()))
        .collect()
}

/// Run `f` on a thread of its own in a new, empty network namespace (only `lo`, down).
fn in_new_netns<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    std::thread::spawn(move || {
        // SAFETY: unshare only changes this thread's network namespace.
        if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
            eprintln!(
                "SKIP: unshare(CLONE_NEWNET): {}",
                std::io::Error::last_os_error()
            );
            return None;
        }
        Some(f())
    })
    .join()
    .ok()
    .flatten()
}

#[test]
fn link_up() {
    // lo is virtual: not selected.
    let r = ids(run_all("network::link_up", &handmade("aarch64-kunpeng")));
    assert_eq!(r, [("enp125s0f0".to_string(), Status::Pass)]);
    let r = run_all("network::link_up", &handmade("aarch64-kunpeng"));
    assert_eq!(r[0].1.measurement("speed"), Some(25000.0));

    // The cable pulled since the probe.
    let d = copy_tree(&handmade("aarch64-kunpeng"));
    let inv = probe(&handmade("aarch64-kunpeng"));
    let dir = std::fs::canonicalize(d.path().join("sys/class/net/enp125s0f0")).expect("iface");
    std::fs::write(dir.join("operstate"), "down\n").expect("w");
    std::fs::write(dir.join("carrier"), "0\n").expect("w");
    let t = Target::item("enp125s0f0", None);
    let c = case("network::link_up");
    let r = run_on(
        c.as_ref(),
        &inv,
        d.path(),
        &t,
        &RunOptions::default(),
        false,
    );
    assert_eq!(r.verdict().status(), Status::Fail);
    assert_eq!(
        r.reason(),
        "expected enp125s0f0: operstate up with a carrier (a cable or transceiver connected); measured enp125s0f0: operstate down, no carrier"
    );
    // Garbage carrier: no carrier known, a fail that says so.
    std::fs::write(dir.join("operstate"), "up\n").expect("w");
    std::fs::write(dir.join("carrier"), "yes\n").expect("w");
    let r = run_on(
        c.as_ref(),
        &inv,
        d.path(),
        &t,
        &RunOptions::default(),
        false,
    );
    assert_eq!(r.verdict().status(), Status::Fail);
    // An interface that went away.
    let r = run_on(
        c.as_ref(),
        &inv,
        d.path(),
        &Target::item("eth9", None),
        &RunOptions::default(),
        false,
    );
    assert!(r.reason().contains("gone"), "{}", r.reason());
}

/// Why the ethtool ioctl cannot be tried here: ENOSYS, which Linux never gives for it (it says
/// EOPNOTSUPP) but qemu-user does, as it passes no SIOCETHTOOL on. Said once, as a skip.
fn no_ethtool_ioctl() -> bool {
    match cases::network::drvinfo("lo") {
        Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => {
            eprintln!("skipped: the ethtool ioctl: {e} (qemu-user does not pass it on)");
            true
        }
        _ => false,
    }
}

#[test]
fn link_up_and_driver_info_on_this_machine() {
    if no_ethtool_ioctl() {
        return;
    }
    let root = Path::new("/");
    for name in ["network::link_up", "network::driver_info"] {
        for (iface, r) in run_all(name, root) {
            eprintln!(
                "{name} {iface}: {} {}\n{}",
                r.verdict().status().as_str(),
                r.reason(),
                r.log
            );
            assert_ne!(r.verdict().status(), Status::Error, "{name} {iface}");
        }
    }
    // ETHTOOL_GDRVINFO on every physical interface here reads back a driver name.
    let inv = probe(root);
    for n in inv.network.iter().filter(|n| !n.is_virtual) {
        let info = cases::network::drvinfo(&n.name).expect("GDRVINFO");
        assert!(!info.driver.is_empty(), "{}: {info:?}", n.name);
        if let Some(d) = &n.driver {
            assert_eq!(&info.driver, d, "{}", n.name);
        }
    }
}

#[test]
fn driver_info_skips_and_fails() {
    // A recorded tree: the ioctl needs the live system.
    let r = run_all("network::driver_info", &handmade("aarch64-kunpeng"));
    assert_eq!(r[0].1.verdict().status(), Status::Skip);
    if no_ethtool_ioctl() {
        return;
    }
    // No such interface: gone.
    let inv = cases::Inventory::default();
    let c = case("network::driver_info");
    let r = run_on(
        c.as_ref(),
        &inv,
        Path::new("/"),
        &Target::item("hwcert-nope0", None),
        &RunOptions::default(),
        false,
    );
    assert_eq!(r.verdict().status(), Status::Fail);
    assert!(r.reason().contains("gone"), "{}", r.reason());
    // Loopback has no driver to answer: a fail, not an error.
    let got = in_new_netns(|| {
        let inv = cases::Inventory::default();
        let r = run_on(
            case("network::driver_info").as_ref(),
            &inv,
            Path::new("/"),
            &Target::item("lo", None),
            &RunOptions::default(),
            false,
        );
        (r.verdict().status(), r.reason())
    });
    if let Some((st, why)) = got {
        assert_eq!(st, Status::Fail, "{why}");
        assert!(why.contains("ETHTOOL_GDRVINFO failed"), "{why}");
    }
}

#[test]
fn mtu_roundtrip_selection() {
    let inv = probe(&handmade("aarch64-kunpeng"));
    let c = case("network::mtu_roundtrip");
    // Without options (and with none named): not applicable.
    assert_eq!(
        targets(c.as_ref(), &inv, &RunOptions::default()).expect_err("none"),
        "no interface named in the profile's mtu_interfaces"
    );
    match c.select(&inv) {
        cases::Selection::NotApplicable(r) => assert!(r.contains("mtu_interfaces")),
        s => panic!("{s:?}"),
    }
    let named = |v: &[&str]| RunOptions {
        mtu_interfaces: v.iter().map(|s| s.to_string()).collect(),
        ..RunOptions::default()
    };
    let got = |o: &RunOptions| -> Vec<String> {
        targets(c.as_ref(), &inv, o)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|t| t.id)
            .collect()
    };
    assert_eq!(got(&named(&["enp125s0f0"])), ["enp125s0f0"]);
    assert_eq!(got(&named(&["enp*"])), ["enp125s0f0"]);
    // A pattern picks hardware only; an exact name anything.
    assert_eq!(got(&named(&["*"])), ["enp125s0f0"]);
    assert_eq!(got(&named(&["lo"])), ["lo"]);
    let why = targets(c.as_ref(), &inv, &named(&["eth7"])).expect_err("absent");
    assert!(why.contains("named: eth7"), "{why}");

    // Run without being named (a stale plan): the MTU is left alone.
    let r = run_on(
        c.as_ref(),
        &inv,
        Path::new("/"),
        &Target::item("lo", None),
        &RunOptions::default(),
        true,
    );
    assert_eq!(r.verdict().status(), Status::Skip);
    assert!(r.reason().contains("not named"), "{}", r.reason());
    // On a recorded tree: live only.
    let r = run_on(
        c.as_ref(),
        &inv,
        &handmade("aarch64-kunpeng"),
        &Target::item("lo", None),
        &named(&["lo"]),
        true,
    );
    assert_eq!(r.verdict().status(), Status::Skip);
    // Not root.
    let r = run_on(
        c.as_ref(),
        &inv,
        Path::new("/"),
        &Target::item("lo", None),
        &named(&["lo"]),
        false,
    );
    assert_eq!(r.verdict().status(), Status::Skip);
    assert!(r.reason().contains("needs root"), "{}", r.reason());
}

#[test]
fn mtu_roundtrip_in_a_private_namespace() {
    if !is_root() {
        eprintln!("SKIP: changing an MTU needs root");
        return;
    }
    let got = in_new_netns(|| {
        let inv = cases::Inventory::default();
        let c = case("network::mtu_roundtrip");
        let opts = RunOptions {
            mtu_interfaces: vec!["lo".into(), "hwcert-nope0".into(), "eth*".into()],
            ..RunOptions::default()
        };
        let before = cases::network::get_mtu("lo").expect("lo");
        let ok = run_on(
            c.as_ref(),
            &inv,
            Path::new("/"),
            &Target::item("lo", None),
            &opts,
            true,
        );
        let after = cases::network::get_mtu("lo").expect("lo");
        let gone = run_on(
            c.as_ref(),
            &inv,
            Path::new("/"),
            &Target::item("hwcert-nope0", None),
            &opts,
            true,
        );
        // eth0 by pattern: the default-route guard, or (where eth0 is not the default route)
        // a fail here, where no eth0 exists. Never this machine's eth0.
        let pattern = run_on(
            c.as_ref(),
            &inv,
            Path::new("/"),
            &Target::item("eth0", None),
            &opts,
            true,
        );
        (before, after, ok, gone, pattern)
    });
    let Some((before, after, ok, gone, pattern)) = got else {
        return;
    };
    assert_eq!(
        ok.verdict().status(),
        Status::Pass,
        "{}\n{}",
        ok.reason(),
        ok.log
    );
    assert_eq!(before, after, "restored");
    assert!(ok.log.contains("MTU 1280 set and read back"), "{}", ok.log);
    assert!(
        ok.log
            .contains(&format!("MTU {before} restored and read back")),
        "{}",
        ok.log
    );
    assert_eq!(gone.verdict().status(), Status::Fail);
    assert!(
        gone.reason().contains("No such device"),
        "{}",
        gone.reason()
    );
    assert_ne!(pattern.verdict().status(), Status::Pass);
    let route = std::fs::read_to_string("/proc/net/route").unwrap_or_default();
    let route6 = std::fs::read_to_string("/proc/net/ipv6_route").unwrap_or_default();
    if cases::network::default_route_interfaces(&route, &route6).contains(&"eth0".to_string()) {
        assert_eq!(
            pattern.verdict().status(),
            Status::Skip,
            "{}",
            pattern.reason()
        );
        assert!(
            pattern.reason().contains("default route"),
            "{}",
            pattern.reason()
        );
    }
}
