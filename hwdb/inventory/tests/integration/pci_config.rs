//! Config space where sysfs attributes are missing, on the hand-made trees `pci-config` and
//! `pci-config-nonroot` (tests/fixtures/make_pci_config.py writes them; the README says what
//! each function shows), and against lspci reading the same config bytes (`lspci -F`).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use inventory::pci::{self, FieldSource, PciDevice, PciDisagreement, PciLink};
use inventory::{Sysroot, Warning};

use crate::common::{own_fixtures, tempdir};

const SYSFS: Option<FieldSource> = Some(FieldSource::Sysfs);
const CONFIG: Option<FieldSource> = Some(FieldSource::Config);

fn probe(root: &Path) -> (Vec<PciDevice>, Vec<Warning>) {
    let s = Sysroot::new(root);
    let devs = pci::probe(&s, None);
    (devs, s.warnings())
}

fn dev<'a>(devs: &'a [PciDevice], addr: &str) -> &'a PciDevice {
    devs.iter()
        .find(|d| d.address == addr)
        .unwrap_or_else(|| panic!("{addr} not probed"))
}

fn warned<'a>(w: &'a [Warning], suffix: &str) -> Vec<&'a Warning> {
    w.iter().filter(|x| x.path.ends_with(suffix)).collect()
}

/// Copy a fixture tree (links as links) into a new temporary directory.
fn copy_tree(name: &str) -> tempfile::TempDir {
    let d = tempdir();
    let st = Command::new("cp")
        .arg("-a")
        .arg(own_fixtures().join(name).join("."))
        .arg(d.path())
        .status()
        .expect("cp");
    assert!(st.success());
    d
}

#[test]
fn each_field_from_its_source() {
    let (devs, w) = probe(&own_fixtures().join("pci-config"));
    assert_eq!(devs.len(), 9);

    // Revision only in config.
    let d = dev(&devs, "0000:00:00.0");
    assert_eq!(d.revision.as_deref(), Some("04"));
    assert_eq!(d.sources.revision, CONFIG);
    assert_eq!(
        (d.sources.vendor_id, d.sources.class_id),
        (SYSFS, SYSFS),
        "{:?}",
        d.sources
    );
    assert_eq!(d.sources.from_config(), ["revision"]);
    assert!(d.disagreements.is_empty(), "{:?}", d.disagreements);

    // A bridge's subsystem from its SSVID capability, its link from the PCIe one after it.
    let d = dev(&devs, "0000:00:01.0");
    assert!(d.is_bridge);
    assert_eq!(
        (
            d.subsystem_vendor_id.as_deref(),
            d.subsystem_device_id.as_deref()
        ),
        (Some("15d9"), Some("095d"))
    );
    assert_eq!(
        d.subsystem_vendor_name.as_deref(),
        Some("Super Micro Computer Inc")
    );
    assert_eq!(
        (d.sources.subsystem_vendor_id, d.sources.subsystem_device_id),
        (CONFIG, CONFIG)
    );
    let l = d.link.as_ref().expect("link");
    assert_eq!(
        l.current_speed.as_deref(),
        Some("8.0 GT/s PCIe"),
        "the 6.x text"
    );
    assert_eq!((l.current_gts, l.current_width), (Some(8.0), Some(16)));
    assert_eq!((l.max_gts, l.max_width), (Some(8.0), Some(16)));
    assert_eq!(d.sources.link_current_speed, CONFIG);
    assert_eq!(d.sources.revision, SYSFS);
    assert!(d.disagreements.is_empty(), "{:?}", d.disagreements);

    // Class and programming interface only in config.
    let d = dev(&devs, "0000:00:02.0");
    assert_eq!(d.class_id.as_deref(), Some("0c0330"));
    assert_eq!(d.prog_if.as_deref(), Some("30"));
    assert_eq!(d.class_name.as_deref(), Some("USB controller"));
    assert_eq!(d.prog_if_name.as_deref(), Some("XHCI"));
    assert_eq!(d.sources.class_id, CONFIG);
    assert_eq!(
        (d.revision.as_deref(), d.sources.revision),
        (Some("10"), SYSFS)
    );
    assert!(!d.is_bridge);

    // Subsystem only in config (type 0 header), named from it.
    let d = dev(&devs, "0000:00:03.0");
    assert_eq!(
        (
            d.subsystem_vendor_id.as_deref(),
            d.subsystem_device_id.as_deref()
        ),
        (Some("15b3"), Some("0007"))
    );
    assert_eq!(
        d.subsystem_name.as_deref(),
        Some("Mellanox ConnectX-5 MCX516A-CCAT")
    );
    assert_eq!(
        d.sources.from_config()[..2],
        ["subsystem_vendor_id", "subsystem_device_id"]
    );
    assert!(d.disagreements.is_empty(), "{:?}", d.disagreements);

    // The link only in the PCI Express capability (third in the list): 8 GT/s x2 of 16 x4.
    let d = dev(&devs, "0000:00:04.0");
    assert_eq!(
        d.link,
        Some(PciLink {
            current_speed: Some("8.0 GT/s PCIe".into()),
            current_width: Some(2),
            max_speed: Some("16.0 GT/s PCIe".into()),
            max_width: Some(4),
            current_gts: Some(8.0),
            max_gts: Some(16.0),
        })
    );
    assert!(d.link.as_ref().is_some_and(PciLink::is_degraded));
    assert_eq!(
        d.sources.from_config(),
        [
            "link_current_speed",
            "link_current_width",
            "link_max_speed",
            "link_max_width"
        ]
    );

    // A 32-byte config: a warning, and nothing from it (no revision anywhere).
    let d = dev(&devs, "0000:00:05.0");
    assert_eq!((d.revision.as_deref(), d.sources.revision), (None, None));
    assert_eq!(d.vendor_id.as_deref(), Some("8086"), "sysfs still counts");
    let x = warned(&w, "0000:00:05.0/config");
    assert!(
        x.len() == 1 && x[0].message.contains("only 32 bytes"),
        "{w:?}"
    );

    // A looping capability list: a warning, no link (the PCIe capability is after the loop).
    let d = dev(&devs, "0000:00:06.0");
    assert_eq!(d.link, None);
    assert_eq!(d.revision.as_deref(), Some("02"));
    let x = warned(&w, "0000:00:06.0/config");
    assert!(
        x.len() == 1 && x[0].message.contains("loops back to 0x50"),
        "{w:?}"
    );

    // Garbage (text): not a header (type 0x63), so nothing is used.
    let d = dev(&devs, "0000:00:07.0");
    assert_eq!(
        (d.revision.as_deref(), &d.class_id),
        (None, &Some("030200".into()))
    );
    assert_eq!(d.sources.from_config(), Vec::<&str>::new());
    let x = warned(&w, "0000:00:07.0/config");
    assert!(
        x.len() == 1
            && x[0]
                .message
                .contains("not a function's config space, not used"),
        "{w:?}"
    );

    // Both sources, disagreeing: sysfs wins, the difference is recorded, no warning.
    let d = dev(&devs, "0000:00:08.0");
    assert_eq!(d.revision.as_deref(), Some("01"));
    assert_eq!(d.class_id.as_deref(), Some("020000"));
    assert_eq!(d.class_name.as_deref(), Some("Ethernet controller"));
    assert_eq!((d.sources.revision, d.sources.class_id), (SYSFS, SYSFS));
    let dis = |f: &str, s: &str, c: &str| PciDisagreement {
        field: f.into(),
        sysfs: s.into(),
        config: c.into(),
    };
    assert_eq!(
        d.disagreements,
        [
            dis("class_id", "020000", "028000"),
            dis("revision", "01", "02")
        ]
    );
    assert!(warned(&w, "0000:00:08.0/config").is_empty(), "{w:?}");

    assert_eq!(
        w.len(),
        3,
        "only the short, looping and garbage files: {w:?}"
    );

    // The summary says which fields config space gave, and what disagreed.
    let inv = inventory::Inventory {
        pci: devs.clone(),
        ..inventory::Inventory::default()
    };
    let text = inventory::summary::render(&inv);
    let line = |a: &str| {
        text.lines()
            .find(|l| l.starts_with(a))
            .unwrap_or_else(|| panic!("no {a} in {text}"))
            .to_string()
    };
    assert!(
        line("0000:00:00.0").ends_with("from config space: revision"),
        "{text}"
    );
    // (No driver: the link comes first, without a separator before it.)
    let nvme = line("0000:00:04.0");
    assert!(
        nvme.ends_with("  link 8.0 GT/s PCIe x2 of 16.0 GT/s PCIe x4, from config space: link")
            && !nvme.contains(", link"),
        "{text}"
    );
    assert!(
        line("0000:00:01.0").ends_with("from config space: subsystem link"),
        "{text}"
    );
    assert!(
        line("0000:00:02.0").ends_with("from config space: class"),
        "{text}"
    );
    assert!(
        line("0000:00:08.0")
            .ends_with("from config space: link, class_id sysfs 020000 config 028000, revision sysfs 01 config 02"),
        "{text}"
    );
    assert!(!line("0000:00:06.0").contains("config"), "{text}");
    assert!(!line("0000:00:07.0").contains("config"), "{text}");

    // The JSON says where each field came from, and what disagreed.
    let j = serde_json::to_value(dev(&devs, "0000:00:08.0")).expect("json");
    assert_eq!(j["sources"]["revision"], "sysfs");
    assert_eq!(j["sources"]["link_current_speed"], "config");
    assert_eq!(j["disagreements"][1]["config"], "02");
    let j = serde_json::to_value(dev(&devs, "0000:00:00.0")).expect("json");
    assert_eq!(j["sources"]["revision"], "config");
    assert!(j.get("disagreements").is_none(), "{j}");
}

#[test]
fn header_only_configs_are_said_once() {
    let (devs, w) = probe(&own_fixtures().join("pci-config-nonroot"));
    assert_eq!(devs.len(), 3);
    for d in &devs {
        assert_eq!(
            d.sources.revision, CONFIG,
            "{}: the header has it",
            d.address
        );
        assert_eq!(d.link, None, "{}", d.address);
    }
    assert_eq!(dev(&devs, "0000:00:00.0").revision.as_deref(), Some("04"));
    assert_eq!(w.len(), 1, "once for all functions: {w:?}");
    assert_eq!(w[0].path, "/sys/bus/pci/devices");
    assert!(
        w[0].message.contains("2 function(s)")
            && w[0]
                .message
                .contains("/sys/devices/pci0000:00/0000:00:01.0/config")
            && w[0].message.contains("as root"),
        "{w:?}"
    );

    // A kernel with link attributes makes them for every PCI Express function: functions
    // without them are conventional, and nothing is lost.
    let d = copy_tree("pci-config-nonroot");
    let f = d.path().join("sys/devices/pci0000:00/0000:00:02.0");
    for (name, value) in [
        ("current_link_speed", "16.0 GT/s PCIe"),
        ("current_link_width", "4"),
        ("max_link_speed", "16.0 GT/s PCIe"),
        ("max_link_width", "4"),
    ] {
        std::fs::write(f.join(name), format!("{value}\n")).expect("write");
    }
    let (devs, w) = probe(d.path());
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(dev(&devs, "0000:00:02.0").sources.link_current_speed, SYSFS);

    // But a bridge without subsystem attributes needs its SSVID capability.
    let b = d.path().join("sys/devices/pci0000:00/0000:00:01.0");
    std::fs::remove_file(b.join("subsystem_vendor")).expect("rm");
    std::fs::remove_file(b.join("subsystem_device")).expect("rm");
    std::fs::write(
        b.join("uevent"),
        "PCI_CLASS=60400\nPCI_ID=8086:2030\nPCI_SLOT_NAME=0000:00:01.0\n",
    )
    .expect("write");
    let (devs, w) = probe(d.path());
    assert_eq!(dev(&devs, "0000:00:01.0").subsystem_vendor_id, None);
    assert!(
        w.len() == 1 && w[0].message.contains("1 function(s)"),
        "{w:?}"
    );
}

/// On a kernel with link attributes only the 64-byte header is read, except where a
/// function lacks its subsystem attributes: each byte beyond is a config read the device
/// answers.
#[test]
fn capabilities_are_read_only_where_sysfs_lacks_them() {
    let d = copy_tree("pci-config");
    let f = d.path().join("sys/devices/pci0000:00/0000:00:04.0");
    for (name, value) in [
        ("current_link_speed", "8.0 GT/s PCIe"),
        ("current_link_width", "2"),
        ("max_link_speed", "16.0 GT/s PCIe"),
        ("max_link_width", "4"),
    ] {
        std::fs::write(f.join(name), format!("{value}\n")).expect("write");
    }
    let s = Sysroot::new(d.path()).with_recording();
    let devs = pci::probe(&s, None);
    let read: BTreeMap<String, usize> = s
        .recorded()
        .files
        .iter()
        .filter(|(p, _)| p.ends_with("config"))
        .map(|(p, b)| {
            let addr = p.parent().and_then(|p| p.file_name()).expect("addr");
            (addr.to_string_lossy().into_owned(), b.len())
        })
        .collect();
    let want: BTreeMap<String, usize> = [
        ("0000:00:00.0", 64),
        ("0000:00:01.0", 256),
        ("0000:00:02.0", 64),
        ("0000:00:03.0", 256),
        ("0000:00:04.0", 64),
        ("0000:00:05.0", 32),
        ("0000:00:06.0", 64),
        ("0000:00:07.0", 64),
        ("0000:00:08.0", 64),
    ]
    .into_iter()
    .map(|(a, n)| (a.to_string(), n))
    .collect();
    assert_eq!(read, want);
    // The link attributes win; the functions without them are conventional PCI.
    let nvme = dev(&devs, "0000:00:04.0");
    assert_eq!(nvme.sources.link_current_speed, SYSFS);
    assert_eq!(dev(&devs, "0000:00:08.0").link, None);
    // The bridge's and the ConnectX-5's subsystems still come from config space.
    assert_eq!(
        dev(&devs, "0000:00:01.0").subsystem_vendor_id.as_deref(),
        Some("15d9")
    );
    assert_eq!(
        dev(&devs, "0000:00:03.0").sources.subsystem_vendor_id,
        CONFIG
    );
    // The loop is in the header's first pointer's target, beyond 64 bytes: not read, no warning.
    let w = s.warnings();
    assert!(warned(&w, "0000:00:06.0/config").is_empty(), "{w:?}");
}

#[test]
fn unreadable_empty_all_ones_and_foreign_configs() {
    let d = copy_tree("pci-config");
    let dir = |a: &str| d.path().join("sys/devices/pci0000:00").join(a);
    // Unreadable: a directory where the file should be (root reads any file's bytes).
    let c = dir("0000:00:00.0").join("config");
    std::fs::remove_file(&c).expect("rm");
    std::fs::create_dir(&c).expect("mkdir");
    // Empty: what a snapshot holds for a file it listed and did not read. Silent.
    std::fs::write(dir("0000:00:02.0").join("config"), b"").expect("write");
    // All ones: a function that does not answer.
    std::fs::write(dir("0000:00:04.0").join("config"), [0xffu8; 256]).expect("write");
    // Another function's config space (the ConnectX-5's where the X710's should be).
    std::fs::copy(
        dir("0000:00:03.0").join("config"),
        dir("0000:00:08.0").join("config"),
    )
    .expect("copy");
    let (devs, w) = probe(d.path());
    let x710 = dev(&devs, "0000:00:08.0");
    assert!(x710.disagreements.is_empty(), "{:?}", x710.disagreements);
    let x = warned(&w, "0000:00:08.0/config");
    assert!(
        x.len() == 1
            && x[0]
                .message
                .contains("of 15b3:1017, not of this function (8086:1572)"),
        "{w:?}"
    );
    assert_eq!(dev(&devs, "0000:00:00.0").revision, None);
    let x = warned(&w, "0000:00:00.0/config");
    assert!(x.len() == 1 && x[0].message.contains("directory"), "{w:?}");
    assert_eq!(dev(&devs, "0000:00:02.0").class_id, None);
    assert!(warned(&w, "0000:00:02.0/config").is_empty(), "{w:?}");
    assert_eq!(dev(&devs, "0000:00:04.0").link, None);
    let x = warned(&w, "0000:00:04.0/config");
    assert!(x.len() == 1 && x[0].message.contains("all ones"), "{w:?}");
}

#[test]
fn a_snapshot_keeps_the_config_bytes_read() {
    let src = own_fixtures().join("pci-config");
    let (want, _) = probe(&src);
    let out = tempdir();
    let archive = out.path().join("snap.tar.gz");
    let opts = inventory::ProbeOptions {
        sysroot: src.clone(),
        udev: false,
        ..inventory::ProbeOptions::default()
    };
    let file = std::fs::File::create(&archive).expect("create");
    inventory::snapshot::write(&opts, file).expect("snapshot");
    let x = tempdir();
    inventory::snapshot::extract(&archive, x.path()).expect("extract");
    let root = inventory::snapshot::extracted_root(x.path());
    let (got, _) = probe(&root);
    assert_eq!(got, want);
}

/// `lspci -x` text of the tree's config files, for `lspci -F`.
fn dump(root: &Path) -> String {
    let mut out = String::new();
    let base = root.join("sys/devices/pci0000:00");
    let mut names: Vec<String> = std::fs::read_dir(&base)
        .expect("dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    for n in names {
        let bytes = std::fs::read(base.join(&n).join("config")).expect("config");
        // "0000:00:04.0" → "00:04.0": lspci's dump format has no domain for domain 0.
        out.push_str(&format!("{} device\n", &n[5..]));
        for (i, row) in bytes.chunks(16).enumerate() {
            let hex: Vec<String> = row.iter().map(|b| format!("{b:02x}")).collect();
            out.push_str(&format!("{:02x}: {}\n", i * 16, hex.join(" ")));
        }
        out.push('\n');
    }
    out
}

/// What `lspci -F DUMP -vv -nn` says of each function: rev, class, prog-if, subsystem, and
/// the PCI Express link ("8GT/s x2").
fn lspci_view(dump_file: &Path) -> Option<BTreeMap<String, BTreeMap<&'static str, String>>> {
    // Once (in CI's aarch64 leg, under qemu-user) lspci's output came back without the first
    // function, and never since in dozens of runs: a run that shows no function at all, or
    // fails, is tried again, and a third failure says what lspci said.
    let mut tries = Vec::new();
    let text = loop {
        let out = Command::new("lspci")
            .arg("-F")
            .arg(dump_file)
            .args(["-vv", "-nn"])
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success()
            && text
                .lines()
                .any(|l| l.contains(": ") && !l.starts_with(char::is_whitespace))
        {
            break text;
        }
        tries.push(format!(
            "{}: stdout {:?}, stderr {:?}",
            out.status,
            text.chars().take(300).collect::<String>(),
            String::from_utf8_lossy(&out.stderr)
        ));
        assert!(
            tries.len() < 3,
            "lspci -F {}: {tries:#?}",
            dump_file.display()
        );
    };
    let mut all = BTreeMap::new();
    let mut cur: Option<(String, BTreeMap<&'static str, String>)> = None;
    let bracket = |s: &str| {
        s.rsplit_once('[')
            .and_then(|(_, r)| r.split_once(']'))
            .map(|(id, _)| id.to_string())
    };
    for line in text.lines() {
        if !line.starts_with(char::is_whitespace) && !line.is_empty() {
            all.extend(cur.take());
            let (slot, rest) = line.split_once(' ').unwrap_or((line, ""));
            let mut m = BTreeMap::new();
            if let Some(c) = rest
                .split_once("]:")
                .and_then(|(c, _)| bracket(&format!("{c}]")))
            {
                m.insert("class", c);
            }
            if let Some((_, r)) = rest.split_once("(rev ") {
                m.insert("rev", r[..2].to_string());
            }
            if let Some((_, p)) = rest.split_once("(prog-if ") {
                m.insert("prog_if", p[..2].to_string());
            }
            cur = Some((format!("0000:{slot}"), m));
        } else if let Some((_, m)) = cur.as_mut() {
            let l = line.trim();
            if let Some(s) = l.strip_prefix("Subsystem: ") {
                m.insert("subsystem", bracket(s).unwrap_or_default());
            }
            let link = |s: &str| {
                let speed = s.split("Speed ").nth(1)?.split([',', ' ']).next()?;
                let width = s.split("Width x").nth(1)?.split([',', ' ']).next()?;
                Some(format!("{speed} x{width}"))
            };
            if let Some(s) = l.strip_prefix("LnkCap:") {
                m.insert("max_link", link(s).unwrap_or_default());
            }
            if let Some(s) = l.strip_prefix("LnkSta:") {
                m.insert("link", link(s).unwrap_or_default());
            }
        }
    }
    all.extend(cur.take());
    Some(all)
}

/// Every field read from config space is what lspci reads from the same bytes.
#[test]
fn config_fields_agree_with_lspci_on_the_same_bytes() {
    let root = own_fixtures().join("pci-config");
    let d = tempdir();
    let file = d.path().join("dump");
    std::fs::write(&file, dump(&root)).expect("write");
    let Some(view) = lspci_view(&file) else {
        eprintln!("SKIP: lspci is not installed");
        return;
    };
    let (devs, _) = probe(&root);
    let gts = |g: Option<f64>| g.map(|g| format!("{g}GT/s")).unwrap_or_default();
    let (mut compared, mut differ) = (0, Vec::new());
    for d in &devs {
        let Some(l) = view.get(&d.address) else {
            panic!(
                "lspci did not show {} (it showed {:?})",
                d.address,
                view.keys().collect::<Vec<_>>()
            );
        };
        let s = &d.sources;
        let mut check = |what: &str, src: Option<FieldSource>, ours: String, key: &str| {
            if src != CONFIG {
                return;
            }
            compared += 1;
            // lspci leaves out the revision when it is 0.
            let theirs = l.get(key).cloned().unwrap_or_else(|| "00".into());
            if ours != theirs {
                differ.push(format!("{} {what}: ours {ours}, lspci {theirs}", d.address));
            }
        };
        check(
            "revision",
            s.revision,
            d.revision.clone().unwrap_or_default(),
            "rev",
        );
        let class = d.class_id.clone().unwrap_or_default();
        check(
            "class",
            s.class_id,
            class.get(..4).unwrap_or("").into(),
            "class",
        );
        if l.contains_key("prog_if") {
            check(
                "prog-if",
                s.class_id,
                d.prog_if.clone().unwrap_or_default(),
                "prog_if",
            );
        }
        let sub = format!(
            "{}:{}",
            d.subsystem_vendor_id.clone().unwrap_or_default(),
            d.subsystem_device_id.clone().unwrap_or_default()
        );
        check("subsystem", s.subsystem_vendor_id, sub, "subsystem");
        if let Some(k) = &d.link {
            let cur = format!("{} x{}", gts(k.current_gts), k.current_width.unwrap_or(0));
            check("link", s.link_current_speed, cur, "link");
            let max = format!("{} x{}", gts(k.max_gts), k.max_width.unwrap_or(0));
            check("max link", s.link_max_speed, max, "max_link");
        }
    }
    println!(
        "config fields: {} of {compared} differ from lspci -F",
        differ.len()
    );
    // A revision, a class and its prog-if, two subsystems, four links (current and maximum).
    assert_eq!(compared, 13, "fields from config");
    assert!(differ.is_empty(), "{differ:#?}");
}
