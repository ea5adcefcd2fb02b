//! hwdb's storage probe against util-linux's own lsblk test dumps.
//!
//! Each dump in ../shared/fixtures/util-linux/lsblk/NAME.tar.xz is a sysfs + procfs tree of one
//! machine; `lsblk-NAME-SET` beside it is what `lsblk --sysroot` prints for the column set listed
//! in `NAME/SET.cols` inside the tarball. Every device row of every table is compared, column by
//! column, with what `storage::probe` reports (run with `all`, as lsblk lists non-empty loop
//! devices by default). A (device, column) pair shown by several tables is counted once.
//!
//! How columns map:
//! * SIZE, DISC-GRAN, DISC-MAX through `units::util_linux_size`, lsblk's own formatting.
//! * Partitions take ROTA, RM, SCHED, ZONED, sector sizes, MIN-IO, OPT-IO and the discard limits
//!   from their disk (lsblk reads them through the disk's queue, as the kernel shares it); RO,
//!   SIZE, ALIGNMENT and DISC-ALN are their own. MODEL, VENDOR, REV and STATE are blank for
//!   partitions in lsblk by rule and are not counted there.
//! * DISC-ALN and DISC-ZERO are 0 where the discard granularity is 0, as lsblk prints them.
//! * MOUNTPOINT agrees when it is one of the device's mount points (lsblk prints one).
//! * Columns hwdb does not model (FSTYPE, MOUNTPOINTS, RA, WSAME, RQ-SIZE, HOTPLUG, RAND) are
//!   listed as skipped, never counted.
//!
//! A disagreement fails the test unless it is in [`DELIBERATE`] with its reason; a deliberate
//! difference that no longer occurs fails it too, so the list stays true.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;

use hwsys::units::{util_linux_size, SizeStyle};
use hwsys::Sysroot;
use inventory::storage::{self, BlockDevice, Partition};

const DUMPS: &[&str] = &["simple-nvme", "simple-lvm", "multi-devs-bcachefs"];

/// (dump, device as lsblk names it, column, reason).
const DELIBERATE: &[(&str, &str, &str, &str)] = &[
    (
        "simple-nvme",
        "nvme0n1",
        "REV",
        "lsblk 2.30 takes REV only from device/rev, which an NVMe controller does not have; hwdb \
         reports the controller's firmware_rev (E7FT04.6), which is what lsblk 2.43 shows \
         through udev's ID_REVISION in multi-devs-bcachefs",
    ),
    (
        "simple-lvm",
        "nvme0n1",
        "REV",
        "as in simple-nvme: hwdb reports the NVMe firmware_rev, lsblk 2.30 leaves REV blank",
    ),
];

/// Columns lsblk aligns to the right (libsmartcols SCOLS_FL_RIGHT in lsblk.c).
const RIGHT: &[&str] = &[
    "ALIGNMENT",
    "DAX",
    "DISC-ALN",
    "DISC-GRAN",
    "DISC-MAX",
    "DISC-ZERO",
    "DISK-SEQ",
    "FSAVAIL",
    "FSSIZE",
    "FSUSE%",
    "FSUSED",
    "HOTPLUG",
    "LOG-SEC",
    "MIN-IO",
    "MQ",
    "OPT-IO",
    "PARTN",
    "PHY-SEC",
    "RA",
    "RAND",
    "REV",
    "RM",
    "RO",
    "ROTA",
    "RQ-SIZE",
    "SIZE",
    "START",
    "WSAME",
];

/// One lsblk table: header names and rows of (column → value).
struct Table {
    columns: Vec<String>,
    rows: Vec<BTreeMap<String, String>>,
}

/// Parse lsblk's aligned table output. Right-aligned columns end where their header ends and
/// hold no spaces; left-aligned ones start where their header starts and run to the next
/// column's value.
fn parse_table(text: &str) -> Table {
    let mut lines = text.lines();
    let header: Vec<char> = lines.next().unwrap_or_default().chars().collect();
    let mut cols: Vec<(String, usize, usize)> = Vec::new(); // name, start, end
    let mut i = 0;
    while i < header.len() {
        if header[i] == ' ' {
            i += 1;
            continue;
        }
        let start = i;
        while i < header.len() && header[i] != ' ' {
            i += 1;
        }
        cols.push((header[start..i].iter().collect(), start, i));
    }
    let mut rows = Vec::new();
    for line in lines {
        let l: Vec<char> = line.chars().collect();
        if l.iter().all(|c| *c == ' ') {
            continue;
        }
        // Where each column's value starts and ends on this line.
        let mut spans: Vec<(usize, usize)> = vec![(0, 0); cols.len()];
        for (k, (name, _, end)) in cols.iter().enumerate() {
            if RIGHT.contains(&name.as_str()) {
                let end = (*end).min(l.len());
                let mut s = end;
                while s > 0 && l[s - 1] != ' ' {
                    s -= 1;
                }
                spans[k] = (s, end);
            }
        }
        for (k, (name, start, _)) in cols.iter().enumerate() {
            if RIGHT.contains(&name.as_str()) {
                continue;
            }
            let end = match cols.get(k + 1) {
                Some((n, s, _)) if !RIGHT.contains(&n.as_str()) => *s,
                Some(_) => spans[k + 1].0,
                None => l.len(),
            };
            spans[k] = ((*start).min(l.len()), end.min(l.len()));
        }
        let mut row = BTreeMap::new();
        for (k, (name, _, _)) in cols.iter().enumerate() {
            let (s, e) = spans[k];
            let v: String = if s < e {
                l[s..e].iter().collect()
            } else {
                String::new()
            };
            let v = v.trim();
            // The tree drawing in front of NAME.
            let v = if name == "NAME" {
                v.trim_start_matches(['|', '`', '-', ' '])
            } else {
                v
            };
            row.insert(name.clone(), v.to_string());
        }
        rows.push(row);
    }
    Table {
        columns: cols.into_iter().map(|c| c.0).collect(),
        rows,
    }
}

/// A row of ours: a disk (or dm, loop, …) or a partition with its disk.
#[derive(Clone, Copy)]
enum Dev<'a> {
    Disk(&'a BlockDevice),
    Part(&'a Partition, &'a BlockDevice),
}

impl Dev<'_> {
    fn display_name(&self) -> String {
        match self {
            Dev::Disk(d) => d.dm_name.clone().unwrap_or_else(|| d.name.clone()),
            Dev::Part(p, _) => p.name.clone(),
        }
    }
    fn disk(&self) -> &BlockDevice {
        match self {
            Dev::Disk(d) | Dev::Part(_, d) => d,
        }
    }
}

fn bit(b: Option<bool>) -> String {
    match b {
        Some(true) => "1".into(),
        Some(false) => "0".into(),
        None => String::new(),
    }
}

fn num<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

fn text(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

/// Whether ours agrees with lsblk's `want` for `col`; None when the column is not compared.
fn agrees(dev: Dev<'_>, col: &str, want: &str) -> Option<(bool, String)> {
    let disk = dev.disk();
    let part = match dev {
        Dev::Part(p, _) => Some(p),
        Dev::Disk(_) => None,
    };
    let gran = disk
        .discard
        .as_ref()
        .and_then(|d| d.granularity)
        .unwrap_or(0);
    let ours: String = match col {
        "KNAME" => part
            .map(|p| p.name.clone())
            .unwrap_or_else(|| disk.name.clone()),
        "MAJ:MIN" => text(
            &part
                .map(|p| p.maj_min.clone())
                .unwrap_or(disk.maj_min.clone()),
        ),
        "SIZE" => part
            .map(|p| p.size_bytes)
            .unwrap_or(disk.size_bytes)
            .map(lsblk_size)
            .unwrap_or_default(),
        "TYPE" => match part {
            Some(_) => "part".into(),
            None => text(&disk.kind),
        },
        "RO" => bit(part.map(|p| p.read_only).unwrap_or(disk.read_only)),
        "RM" => bit(disk.removable),
        "ROTA" => bit(disk.rotational),
        "SCHED" => text(&disk.scheduler),
        "ZONED" => text(&disk.zoned),
        "MIN-IO" => num(disk.min_io),
        "OPT-IO" => num(disk.opt_io),
        "PHY-SEC" => num(disk.physical_block_size),
        "LOG-SEC" => num(disk.logical_block_size),
        "ALIGNMENT" => num(part
            .map(|p| p.alignment_offset)
            .unwrap_or(disk.alignment_offset)),
        "DISC-ALN" => {
            if gran > 0 {
                num(part
                    .map(|p| p.discard_alignment)
                    .unwrap_or(disk.discard.as_ref().and_then(|d| d.alignment)))
            } else {
                "0".into()
            }
        }
        "DISC-GRAN" => lsblk_size(gran),
        "DISC-MAX" => disk
            .discard
            .as_ref()
            .and_then(|d| d.max_bytes)
            .map(lsblk_size)
            .unwrap_or_default(),
        "DISC-ZERO" => {
            if gran > 0 {
                bit(disk.discard.as_ref().and_then(|d| d.zeroes))
            } else {
                "0".into()
            }
        }
        "MODEL" | "VENDOR" | "REV" | "STATE" if part.is_some() => return None,
        "MODEL" => text(&disk.model),
        "VENDOR" => text(&disk.vendor),
        "REV" => text(&disk.firmware),
        "STATE" => text(&disk.state),
        "MOUNTPOINT" => {
            let mps = part.map(|p| &p.mountpoints).unwrap_or(&disk.mountpoints);
            let ok = if want.is_empty() {
                mps.is_empty()
            } else {
                mps.iter().any(|m| m == want)
            };
            return Some((ok, mps.join(",")));
        }
        "PKNAME" => {
            if part.is_some() {
                disk.name.clone()
            } else {
                let ok = if want.is_empty() {
                    disk.slaves.is_empty()
                } else {
                    disk.slaves.iter().any(|s| s == want)
                };
                return Some((ok, disk.slaves.join(",")));
            }
        }
        _ => return None,
    };
    Some((ours == want, ours))
}

#[derive(Default)]
struct Tally {
    agree: usize,
    total: usize,
    deliberate: usize,
    unexpected: Vec<String>,
    stale: Vec<String>,
    skipped: BTreeMap<String, usize>,
}

fn compare_dump(dir: &Path, name: &str, expected_dir: &Path) -> Tally {
    let extracted = common::extract(&dir.join(format!("{name}.tar.xz")));
    let root = common::dump_root(extracted.path());
    let sys = Sysroot::new(&root);
    let (devices, _) = storage::probe(&sys, true);
    for w in sys.warnings() {
        eprintln!("  {name}: warning {}: {}", w.path, w.message);
    }
    let mut ours: BTreeMap<String, Dev<'_>> = BTreeMap::new();
    for d in &devices {
        ours.insert(Dev::Disk(d).display_name(), Dev::Disk(d));
        for p in &d.partitions {
            ours.insert(p.name.clone(), Dev::Part(p, d));
        }
    }

    // (device, column) → lsblk's value, first table wins.
    let mut want: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
    let mut sets: Vec<String> = std::fs::read_dir(&root)
        .expect("read dump")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".cols"))
                .map(String::from)
        })
        .collect();
    sets.sort();
    assert!(!sets.is_empty(), "{name}: no *.cols in the dump");
    for set in &sets {
        let path = expected_dir.join(format!("lsblk-{name}-{set}"));
        let Ok(text) = std::fs::read_to_string(&path) else {
            eprintln!("  {name}: no expected table {}", path.display());
            continue;
        };
        let listed = std::fs::read_to_string(root.join(format!("{set}.cols"))).unwrap_or_default();
        let table = parse_table(&text);
        assert_eq!(
            table.columns.join(","),
            listed.trim(),
            "{name}-{set}: the table's columns are not those of {set}.cols"
        );
        for row in &table.rows {
            let dev = row.get("NAME").cloned().unwrap_or_default();
            for (col, v) in row {
                if col == "NAME" {
                    want.entry((dev.clone(), "NAME".into())).or_default();
                    continue;
                }
                want.entry((dev.clone(), col.clone()))
                    .or_insert_with(|| v.clone());
            }
        }
    }

    let mut t = Tally::default();
    let mut seen_deliberate = Vec::new();
    for ((dev, col), v) in &want {
        let result = if col == "NAME" {
            Some((
                ours.contains_key(dev),
                if ours.contains_key(dev) {
                    dev.clone()
                } else {
                    String::new()
                },
            ))
        } else if let Some(d) = ours.get(dev) {
            agrees(*d, col, v)
        } else {
            // A missing device is counted once, under NAME.
            continue;
        };
        let Some((ok, got)) = result else {
            // MODEL, VENDOR, REV and STATE are blank for partitions by lsblk's rule, not skipped.
            let by_rule = matches!(ours.get(dev), Some(Dev::Part(..)))
                && ["MODEL", "VENDOR", "REV", "STATE"].contains(&col.as_str());
            if !by_rule {
                *skipped.entry(col.clone()).or_default() += 1;
            }
            continue;
        };
        t.total += 1;
        if ok {
            t.agree += 1;
            continue;
        }
        let deliberate = DELIBERATE
            .iter()
            .find(|(n, d, c, _)| *n == name && d == dev && c == col);
        match deliberate {
            Some((_, _, _, why)) => {
                t.deliberate += 1;
                seen_deliberate.push((dev.clone(), col.clone()));
                eprintln!("  {name}: {dev} {col}: lsblk '{v}', hwdb '{got}' (deliberate: {why})");
            }
            None => t
                .unexpected
                .push(format!("{name}: {dev} {col}: lsblk '{v}', hwdb '{got}'")),
        }
    }
    // Devices we list that lsblk does not.
    for dev in ours.keys() {
        if !want.contains_key(&(dev.clone(), "NAME".to_string())) {
            t.total += 1;
            t.unexpected
                .push(format!("{name}: {dev}: listed by hwdb, not by lsblk"));
        }
    }
    for (n, d, c, _) in DELIBERATE {
        if *n == name && !seen_deliberate.iter().any(|(sd, sc)| sd == d && sc == c) {
            t.stale.push(format!("{n}: {d} {c}"));
        }
    }
    t.skipped = skipped;
    t
}

#[test]
fn storage_agrees_with_lsblk() {
    let Some(ul) = common::util_linux() else {
        return;
    };
    let dir = ul.join("lsblk");
    let mut agree = 0;
    let mut total = 0;
    let mut unexpected = Vec::new();
    let mut stale = Vec::new();
    for name in DUMPS {
        if !dir.join(format!("{name}.tar.xz")).exists() {
            eprintln!("SKIP {name}: {}/{name}.tar.xz is absent", dir.display());
            continue;
        }
        let t = compare_dump(&dir, name, &dir);
        let skipped: Vec<String> = t.skipped.keys().cloned().collect();
        eprintln!(
            "{name}: {}/{} fields agree ({} deliberate differences; not modelled: {})",
            t.agree,
            t.total,
            t.deliberate,
            if skipped.is_empty() {
                "none".into()
            } else {
                skipped.join(" ")
            }
        );
        agree += t.agree;
        total += t.total;
        unexpected.extend(t.unexpected);
        stale.extend(t.stale);
    }
    eprintln!("lsblk fixtures: {agree}/{total} fields agree");
    assert!(
        unexpected.is_empty(),
        "disagreements with lsblk that are not deliberate:\n{}",
        unexpected.join("\n")
    );
    assert!(
        stale.is_empty(),
        "deliberate differences that no longer occur (remove them from DELIBERATE):\n{}",
        stale.join("\n")
    );
}

#[test]
fn loops_only_with_all_and_lvm_stays() {
    let Some(ul) = common::util_linux() else {
        return;
    };
    let archive = ul.join("lsblk/simple-lvm.tar.xz");
    if !archive.exists() {
        testing::fixtures::skip(&format!("{} is absent", archive.display()));
        return;
    }
    let extracted = common::extract(&archive);
    let sys = Sysroot::new(common::dump_root(extracted.path()));
    let (devices, nvme) = storage::probe(&sys, false);
    let names: Vec<&str> = devices.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["dm-0", "nvme0n1", "sda", "sdb"]);
    let dm = &devices[0];
    assert_eq!(dm.kind.as_deref(), Some("lvm"));
    assert_eq!(dm.dm_name.as_deref(), Some("vg_foo.4059-lv_foo.4059"));
    assert_eq!(dm.slaves, ["loop0", "loop1", "loop2", "loop3"]);
    // The controller is found through its namespace although the dump has no sys/class/nvme.
    assert_eq!(nvme.len(), 1);
    assert_eq!(nvme[0].name, "nvme0");
    assert_eq!(nvme[0].model.as_deref(), Some("KINGSTON SKC1000240G"));
    assert_eq!(nvme[0].firmware.as_deref(), Some("E7FT04.6"));
    assert_eq!(nvme[0].transport.as_deref(), Some("pcie"));
    assert_eq!(nvme[0].namespaces, ["nvme0n1"]);
    let nvme0n1 = &devices[1];
    assert_eq!(nvme0n1.pci_address.as_deref(), Some("0000:01:00.0"));
    assert_eq!(nvme0n1.transport.as_deref(), Some("nvme"));
    let sda = &devices[2];
    assert_eq!(sda.pci_address.as_deref(), Some("0000:00:1f.2"));
    assert_eq!(sda.hctl.as_deref(), Some("0:0:0:0"));
    assert_eq!(sda.serial.as_deref(), Some("50026B724B09A1FF"));
    assert_eq!(sda.partitions.len(), 6);
    assert_eq!(sda.partitions[3].mountpoints, ["/"]);
}

#[test]
fn table_parser() {
    let t = parse_table(
        "NAME        MODEL                   VENDOR        REV\n\
         sda         KINGSTON SH103S3        ATA      580ABBF0\n\
         |-sda1                                       \n\
         nvme0n1     KINGSTON SFYR2S1T0               SGW00110\n",
    );
    assert_eq!(t.columns, ["NAME", "MODEL", "VENDOR", "REV"]);
    assert_eq!(t.rows[0]["MODEL"], "KINGSTON SH103S3");
    assert_eq!(t.rows[0]["VENDOR"], "ATA");
    assert_eq!(t.rows[0]["REV"], "580ABBF0");
    assert_eq!(t.rows[1]["NAME"], "sda1");
    assert_eq!(t.rows[1]["REV"], "");
    assert_eq!(t.rows[2]["VENDOR"], "");
    assert_eq!(t.rows[2]["REV"], "SGW00110");
}

/// A size as lsblk prints it.
fn lsblk_size(bytes: u64) -> String {
    util_linux_size(bytes, SizeStyle::Letter)
}
