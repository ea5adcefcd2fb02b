//! Enumerating `sys/bus/pci/devices`: one [`PciDevice`] per function, in lspci's order.

use super::address::{parse_address, PciAddress};
use super::aer::read_aer;
use super::config::{self, HEADER};
use super::ident::{hex_in_range, read_ident};
use super::link::read_link_state;
use super::model::PciDevice;
use super::names::name_device;
use super::sources::{self, Fields};
use crate::modalias::AliasTable;
use hwsys::sysroot::{natural_cmp, Sysroot};

/// modules.alias, read the first time a function has a modalias.
struct LazyAliases<'a> {
    sys: &'a Sysroot,
    kernel: Option<&'a str>,
    table: Option<Option<AliasTable>>,
}

impl LazyAliases<'_> {
    fn get(&mut self) -> Option<&AliasTable> {
        if self.table.is_none() {
            let t = self
                .kernel
                .and_then(|k| AliasTable::load(self.sys, k, "pci:"));
            self.table = Some(t);
        }
        self.table.as_ref().and_then(|t| t.as_ref())
    }
}

/// Probe every PCI function. `kernel` is the release, for lib/modules/<kernel>/modules.alias.
pub fn probe(sys: &Sysroot, kernel: Option<&str>) -> Vec<PciDevice> {
    const BASE: &str = "sys/bus/pci/devices";
    let mut entries: Vec<(PciAddress, String)> = Vec::new();
    for name in sys.list_dir(BASE) {
        match parse_address(&name) {
            Some(a) => entries.push((a, name)),
            None => sys.warn(&format!("{BASE}/{name}"), "not a PCI address; ignored"),
        }
    }
    // Numeric address order, as lspci sorts (natural order would put 00:1f before 00:02).
    entries.sort();
    let mut aliases = LazyAliases {
        sys,
        kernel,
        table: None,
    };
    // Every read goes through the canonical directory: one link resolution per function, and
    // one listing instead of a failed open per attribute a function does not have (a
    // conventional PCI function has no link, AER or SR-IOV attributes).
    let funcs: Vec<Func> = entries
        .into_iter()
        .filter_map(|(_, name)| {
            let dir = sys.canonical(&format!("{BASE}/{name}"))?;
            let names = sys.list_dir(&dir);
            Some(Func {
                address: name,
                dir,
                names,
            })
        })
        .collect();
    let mut notes = Notes {
        sysfs_links: funcs.iter().any(|f| LINK_ATTRS.iter().any(|a| f.has(a))),
        header_only: Vec::new(),
    };
    let devs = funcs
        .into_iter()
        .map(|f| probe_one(sys, f, &mut aliases, &mut notes))
        .collect();
    notes.warn_header_only(sys, BASE);
    devs
}

const LINK_ATTRS: [&str; 4] = [
    "current_link_speed",
    "current_link_width",
    "max_link_speed",
    "max_link_width",
];

/// One function's canonical directory and what it holds.
struct Func {
    address: String,
    dir: String,
    names: Vec<String>,
}

impl Func {
    fn has(&self, attr: &str) -> bool {
        self.names
            .binary_search_by(|n| natural_cmp(n, attr))
            .is_ok()
    }
}

/// What the functions' config files left unknown, said once for all of them.
struct Notes {
    /// A function has link attributes: the kernel makes them for every PCI Express function,
    /// so a function without them is conventional PCI, and its capabilities hold no link.
    sysfs_links: bool,
    /// `config` files holding only the 64-byte header whose capabilities were wanted.
    header_only: Vec<String>,
}

impl Notes {
    fn warn_header_only(&self, sys: &Sysroot, base: &str) {
        let Some(first) = self.header_only.first() else {
            return;
        };
        sys.warn(
            base,
            format!(
                "the config files of {} function(s) (the first /{first}) hold only the {HEADER}-byte \
                 standard header, all the kernel gives a reader without root: their capabilities \
                 (the PCI Express link, a bridge's subsystem IDs), which sysfs lacks here, are \
                 unknown; probe as root to read them",
                self.header_only.len()
            ),
        );
    }
}

fn probe_one(sys: &Sysroot, f: Func, aliases: &mut LazyAliases, notes: &mut Notes) -> PciDevice {
    let has = |attr: &str| f.has(attr);
    let dir = f.dir.as_str();
    let at = |attr: &str| format!("{dir}/{attr}");

    let mut id = read_ident(sys, dir, &has);
    let mut revision = if has("revision") {
        hex_in_range(sys, &at("revision"), 0xff)
    } else {
        None
    };
    let mut link = read_link_state(sys, dir, &has);
    let mut sources = sources::from_sysfs(&id, revision, link.as_ref());
    let mut disagreements = Vec::new();
    if has("config") {
        // The 64-byte header always (it is what lspci reads); the capability list after it
        // only where sysfs lacks what it holds: the link on a kernel without link attributes
        // (one that has them makes them for every PCI Express function), a bridge's subsystem.
        // Each byte beyond is a config read the device answers, for nothing sysfs lacks.
        let caps_wanted = !notes.sysfs_links || id.sub_vendor.is_none();
        let (vf, ids) = (has("physfn"), (id.vendor, id.device));
        if let Some(cfg) = config::read(sys, &at("config"), caps_wanted, vf, ids) {
            let need_link = !notes.sysfs_links;
            let need_sub = cfg.header_type == 1 && id.sub_vendor.is_none();
            if caps_wanted && cfg.header_only && (need_link || need_sub) {
                notes.header_only.push(at("config"));
            }
            let fields = Fields {
                id: &mut id,
                revision: &mut revision,
                link: &mut link,
                sources: &mut sources,
                disagreements: &mut disagreements,
            };
            sources::merge(&cfg, &has, fields);
        }
    }
    let mut d = PciDevice {
        vendor_id: id.vendor.map(|v| format!("{v:04x}")),
        device_id: id.device.map(|v| format!("{v:04x}")),
        subsystem_vendor_id: id.sub_vendor.map(|v| format!("{v:04x}")),
        subsystem_device_id: id.sub_device.map(|v| format!("{v:04x}")),
        class_id: id.class.map(|c| format!("{c:06x}")),
        prog_if: id.class.map(|c| format!("{:02x}", c & 0xff)),
        revision: revision.map(|r| format!("{r:02x}")),
        link,
        sources,
        disagreements,
        ..PciDevice::default()
    };
    name_device(&mut d, &id);
    d.is_bridge = id
        .class
        .is_some_and(|c| matches!(c >> 8, 0x0604 | 0x0607 | 0x0609));

    if has("driver") {
        d.driver = sys.link_name(&at("driver"));
    }
    if let Some(alias) = &id.modalias {
        if let Some(table) = aliases.get() {
            d.modules = table.modules_for(alias);
        }
    }
    if has("numa_node") {
        d.numa_node = sys.parse::<i32>(&at("numa_node")).filter(|n| *n >= 0);
    }
    if has("iommu_group") {
        if let Some(g) = sys.link_name(&at("iommu_group")) {
            match g.parse() {
                Ok(n) => d.iommu_group = Some(n),
                Err(_) => sys.warn(&at("iommu_group"), format!("'{g}' is not a group number")),
            }
        }
    }
    if has("sriov_totalvfs") {
        d.sriov_totalvfs = sys.parse(&at("sriov_totalvfs"));
    }
    if has("sriov_numvfs") {
        d.sriov_numvfs = sys.parse(&at("sriov_numvfs"));
    }
    if has("physfn") {
        d.physfn = sys
            .link_name(&at("physfn"))
            .filter(|p| parse_address(p).is_some());
    }
    d.aer = read_aer(sys, dir, &has);
    if has("enable") {
        d.enabled = sys.parse::<u32>(&at("enable")).map(|e| e != 0);
    }
    if has("irq") {
        d.irq = sys.parse::<u32>(&at("irq")).filter(|i| *i != 0);
    }
    d.parent = dir
        .rsplit_once('/')
        .and_then(|(up, _)| up.rsplit('/').next())
        .filter(|p| parse_address(p).is_some())
        .map(str::to_string);
    d.address = f.address;
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pci::{AerCounters, FieldSource, PciAer, PciLink, PciSources};
    use std::fs;

    use std::path::Path;

    use crate::testutil::{link, write};

    fn function(root: &Path, dev: &str, attrs: &[(&str, &str)]) {
        for (name, value) in attrs {
            write(root, &format!("{dev}/{name}"), format!("{value}\n"));
        }
        let addr = dev.rsplit('/').next().expect("address");
        link(
            root,
            &format!("sys/bus/pci/devices/{addr}"),
            &format!("../../../{}", dev.trim_start_matches("sys/")),
        );
    }

    const BRIDGE: &str = "sys/devices/pci0000:00/0000:00:01.0";
    const PF0: &str = "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0";
    const PF1: &str = "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.1";
    const VF: &str = "sys/devices/pci0000:00/0000:00:01.0/0000:01:10.0";

    /// A root port, a dual-port 82599 behind it (port 0 with a link below its maximum, AER
    /// counters and SR-IOV, port 1 with an unknown subsystem), and one virtual function.
    fn tree() -> tempfile::TempDir {
        let d = tempfile::tempdir().expect("tempdir");
        let r = d.path();
        function(
            r,
            BRIDGE,
            &[
                ("vendor", "0x8086"),
                ("device", "0x1901"),
                ("subsystem_vendor", "0x0000"),
                ("subsystem_device", "0x0000"),
                ("class", "0x060400"),
                ("revision", "0x07"),
                ("numa_node", "-1"),
                ("enable", "1"),
                ("irq", "122"),
                ("current_link_speed", "8.0 GT/s PCIe"),
                ("current_link_width", "8"),
                ("max_link_speed", "8.0 GT/s PCIe"),
                ("max_link_width", "16"),
                (
                    "modalias",
                    "pci:v00008086d00001901sv00000000sd00000000bc06sc04i00",
                ),
            ],
        );
        function(
            r,
            PF0,
            &[
                ("vendor", "0x8086"),
                ("device", "0x10fb"),
                ("subsystem_vendor", "0x8086"),
                ("subsystem_device", "0x000c"),
                ("class", "0x020000"),
                ("revision", "0x01"),
                ("numa_node", "0"),
                ("enable", "1"),
                ("irq", "0"),
                ("current_link_speed", "5.0 GT/s PCIe"),
                ("current_link_width", "4"),
                ("max_link_speed", "8.0 GT/s PCIe"),
                ("max_link_width", "8"),
                ("sriov_totalvfs", "63"),
                ("sriov_numvfs", "1"),
                ("modalias", "pci:v00008086d000010FBsv00008086sd0000000Cbc02sc00i00"),
                (
                    "aer_dev_correctable",
                    "RxErr 0\nBadTLP 2\nBadDLLP 1\nRollover 0\nTimeout 0\nNonFatalErr 0\nCorrIntErr 0\nHeaderOF 0\nTOTAL_ERR_COR 3",
                ),
                ("aer_dev_fatal", "Undefined 0\nDLP 0\nSDES 0\nTLP 0\nTOTAL_ERR_FATAL 0"),
                ("aer_dev_nonfatal", "Undefined 0\nUnsupReq 4\nTOTAL_ERR_NONFATAL 4"),
            ],
        );
        function(
            r,
            PF1,
            &[
                // Identity from uevent only, as the kernel writes it.
                (
                    "uevent",
                    "PCI_CLASS=20000\nPCI_ID=8086:10FB\nPCI_SUBSYS_ID=17AA:9999\n\
                     PCI_SLOT_NAME=0000:01:00.1\n\
                     MODALIAS=pci:v00008086d000010FBsv000017AAsd00009999bc02sc00i00",
                ),
                ("revision", "0x01"),
                ("numa_node", "0"),
                ("enable", "0"),
                ("current_link_speed", "Unknown"),
                ("current_link_width", "0"),
                ("max_link_speed", "8.0 GT/s PCIe"),
                ("max_link_width", "255"),
            ],
        );
        function(
            r,
            VF,
            &[
                ("vendor", "0x8086"),
                ("device", "0x10ed"),
                ("subsystem_vendor", "0x8086"),
                ("subsystem_device", "0x000c"),
                ("class", "0x020000"),
                ("revision", "0x01"),
                (
                    "modalias",
                    "pci:v00008086d000010EDsv00008086sd0000000Cbc02sc00i00",
                ),
            ],
        );
        link(r, &format!("{VF}/physfn"), "../0000:01:00.0");
        link(r, &format!("{PF0}/virtfn0"), "../0000:01:10.0");
        fs::create_dir_all(r.join("sys/bus/pci/drivers/ixgbe")).expect("mkdir");
        fs::create_dir_all(r.join("sys/bus/pci/drivers/pcieport")).expect("mkdir");
        fs::create_dir_all(r.join("sys/kernel/iommu_groups/12")).expect("mkdir");
        link(
            r,
            &format!("{PF0}/driver"),
            "../../../../bus/pci/drivers/ixgbe",
        );
        link(
            r,
            &format!("{BRIDGE}/driver"),
            "../../../bus/pci/drivers/pcieport",
        );
        link(
            r,
            &format!("{PF0}/iommu_group"),
            "../../../../kernel/iommu_groups/12",
        );
        write(
            r,
            "lib/modules/6.6.0-test/modules.alias",
            "# Aliases extracted from modules themselves.\n\
             alias pci:v00008086d000010FBsv*sd*bc*sc*i* ixgbe\n\
             alias pci:v00008086d000010EDsv*sd*bc*sc*i* ixgbevf\n\
             alias pci:v*d*sv*sd*bc06sc04i00* shpchp\n\
             alias pci:v00008086d000010F[A-C]sv*sd*bc*sc*i* ixgbe-compat\n\
             alias usb:v0BDAp8153d*dc*dsc*dp*ic*isc*ip*in* r8152\n",
        );
        d
    }

    #[test]
    fn probes_every_field_of_a_small_tree() {
        let d = tree();
        let s = Sysroot::new(d.path());
        let devs = probe(&s, Some("6.6.0-test"));
        assert!(s.warnings().is_empty(), "{:?}", s.warnings());
        let addrs: Vec<&str> = devs.iter().map(|d| d.address.as_str()).collect();
        assert_eq!(
            addrs,
            [
                "0000:00:01.0",
                "0000:01:00.0",
                "0000:01:00.1",
                "0000:01:10.0"
            ]
        );

        let b = &devs[0];
        assert!(b.is_bridge);
        assert_eq!(b.class_name.as_deref(), Some("PCI bridge"));
        assert_eq!(b.prog_if_name.as_deref(), Some("Normal decode"));
        assert_eq!(
            b.device_name.as_deref(),
            Some("6th-10th Gen Core Processor PCIe Controller (x16)")
        );
        assert_eq!(b.subsystem_vendor_id.as_deref(), Some("0000"));
        assert_eq!(b.subsystem_vendor_name, None, "no subsystem, as lspci");
        assert_eq!(b.subsystem_name, None);
        assert_eq!(b.driver.as_deref(), Some("pcieport"));
        assert_eq!(b.modules, ["shpchp"]);
        assert_eq!(b.numa_node, None, "-1 is absent");
        assert_eq!(b.irq, Some(122));
        assert_eq!(b.parent, None, "directly below the host bridge");
        assert!(b.link.as_ref().expect("link").is_degraded(), "x8 of x16");

        let pf = &devs[1];
        let want = PciDevice {
            address: "0000:01:00.0".into(),
            vendor_id: Some("8086".into()),
            device_id: Some("10fb".into()),
            subsystem_vendor_id: Some("8086".into()),
            subsystem_device_id: Some("000c".into()),
            class_id: Some("020000".into()),
            class_name: Some("Ethernet controller".into()),
            prog_if: Some("00".into()),
            prog_if_name: None,
            revision: Some("01".into()),
            vendor_name: Some("Intel Corporation".into()),
            device_name: Some("82599ES 10-Gigabit SFI/SFP+ Network Connection".into()),
            subsystem_name: Some("Ethernet Server Adapter X520-2".into()),
            subsystem_vendor_name: Some("Intel Corporation".into()),
            driver: Some("ixgbe".into()),
            modules: vec!["ixgbe".into(), "ixgbe_compat".into()],
            numa_node: Some(0),
            iommu_group: Some(12),
            link: Some(PciLink {
                current_speed: Some("5.0 GT/s PCIe".into()),
                current_width: Some(4),
                max_speed: Some("8.0 GT/s PCIe".into()),
                max_width: Some(8),
                current_gts: Some(5.0),
                max_gts: Some(8.0),
            }),
            sriov_totalvfs: Some(63),
            sriov_numvfs: Some(1),
            physfn: None,
            aer: Some(PciAer {
                correctable: Some(AerCounters {
                    counts: [
                        ("RxErr", 0),
                        ("BadTLP", 2),
                        ("BadDLLP", 1),
                        ("Rollover", 0),
                        ("Timeout", 0),
                        ("NonFatalErr", 0),
                        ("CorrIntErr", 0),
                        ("HeaderOF", 0),
                    ]
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect(),
                    total: Some(3),
                }),
                fatal: Some(AerCounters {
                    counts: [("Undefined", 0), ("DLP", 0), ("SDES", 0), ("TLP", 0)]
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect(),
                    total: Some(0),
                }),
                nonfatal: Some(AerCounters {
                    counts: [("Undefined", 0), ("UnsupReq", 4)]
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect(),
                    total: Some(4),
                }),
            }),
            parent: Some("0000:00:01.0".into()),
            enabled: Some(true),
            irq: None,
            is_bridge: false,
            sources: PciSources {
                vendor_id: Some(FieldSource::Sysfs),
                device_id: Some(FieldSource::Sysfs),
                subsystem_vendor_id: Some(FieldSource::Sysfs),
                subsystem_device_id: Some(FieldSource::Sysfs),
                class_id: Some(FieldSource::Sysfs),
                revision: Some(FieldSource::Sysfs),
                link_current_speed: Some(FieldSource::Sysfs),
                link_current_width: Some(FieldSource::Sysfs),
                link_max_speed: Some(FieldSource::Sysfs),
                link_max_width: Some(FieldSource::Sysfs),
            },
            disagreements: Vec::new(),
        };
        assert_eq!(*pf, want);
        assert!(pf.link.as_ref().expect("link").is_degraded());

        let p1 = &devs[2];
        assert_eq!(p1.subsystem_vendor_name.as_deref(), Some("Lenovo"));
        assert_eq!(p1.subsystem_name, None, "17aa:9999 is not in pci.ids");
        assert_eq!(p1.enabled, Some(false));
        assert_eq!(p1.driver, None);
        assert_eq!(p1.iommu_group, None);
        assert_eq!(
            p1.link,
            Some(PciLink {
                max_speed: Some("8.0 GT/s PCIe".into()),
                max_gts: Some(8.0),
                ..PciLink::default()
            }),
            "Unknown speed, width 0 and 255 are absent"
        );
        assert_eq!(p1.aer, None);
        assert_eq!(p1.parent.as_deref(), Some("0000:00:01.0"));

        let vf = &devs[3];
        assert_eq!(vf.physfn.as_deref(), Some("0000:01:00.0"));
        assert_eq!(
            vf.device_name.as_deref(),
            Some("82599 Ethernet Controller Virtual Function")
        );
        assert_eq!(vf.modules, ["ixgbevf"]);
        assert_eq!(vf.parent.as_deref(), Some("0000:00:01.0"));
        assert_eq!(vf.link, None);
        assert_eq!(vf.enabled, None);
    }

    #[test]
    fn modules_need_a_kernel_and_an_alias_file() {
        let d = tree();
        let s = Sysroot::new(d.path());
        assert!(probe(&s, None).iter().all(|d| d.modules.is_empty()));
        assert!(probe(&s, Some("5.4.0-other"))
            .iter()
            .all(|d| d.modules.is_empty()));
        assert!(s.warnings().is_empty(), "{:?}", s.warnings());
    }

    #[test]
    fn garbage_truncated_and_missing_attributes() {
        let d = tree();
        let r = d.path();
        write(r, &format!("{PF0}/vendor"), "0x80");
        write(r, &format!("{PF0}/device"), "zzzz\n");
        write(r, &format!("{PF0}/class"), "0x1020000\n");
        fs::remove_file(r.join(format!("{PF0}/revision"))).expect("rm");
        write(r, &format!("{PF0}/numa_node"), "\n");
        write(r, &format!("{PF0}/current_link_speed"), "fast\n");
        write(r, &format!("{PF0}/current_link_width"), "x4\n");
        write(
            r,
            &format!("{PF0}/aer_dev_fatal"),
            "DLP 0\nSDES\nTLP x\nTOTAL_ERR_FATAL 0",
        );
        fs::write(r.join(format!("{PF0}/sriov_numvfs")), [0xff, 0xfe]).expect("write");
        write(
            r,
            &format!("{PF1}/uevent"),
            "PCI_CLASS=1000000\nPCI_ID=zz\nPCI_SUBSYS_ID=17AA:9999\nMODALIAS=\nJUNK\n",
        );
        write(r, &format!("{VF}/uevent"), "PCI_ID=8086\n");
        link(
            r,
            "sys/bus/pci/devices/0000:02:00.0",
            "../../../devices/nowhere",
        );
        write(r, "sys/bus/pci/devices/garbage", "x");
        let s = Sysroot::new(d.path());
        let devs = probe(&s, Some("6.6.0-test"));
        assert_eq!(devs.len(), 4, "the dangling entry is skipped");
        let pf = &devs[1];
        assert_eq!(pf.vendor_id.as_deref(), Some("0080"));
        assert_eq!(pf.vendor_name, None);
        assert_eq!(pf.device_id, None);
        assert_eq!(pf.device_name, None);
        assert_eq!(pf.class_id, None);
        assert_eq!(pf.class_name, None);
        assert_eq!(pf.revision, None);
        assert_eq!(pf.numa_node, None);
        assert_eq!(pf.sriov_numvfs, None);
        let link = pf.link.as_ref().expect("link");
        assert_eq!(link.current_speed.as_deref(), Some("fast"));
        assert_eq!(link.current_gts, None);
        assert_eq!(link.current_width, None);
        let fatal = pf
            .aer
            .as_ref()
            .and_then(|a| a.fatal.as_ref())
            .expect("fatal");
        assert_eq!(fatal.counts.len(), 1);
        assert_eq!(fatal.total, Some(0));
        let p1 = &devs[2];
        assert!(p1.modules.is_empty());
        assert_eq!((&p1.vendor_id, &p1.class_id), (&None, &None));
        assert_eq!(p1.subsystem_vendor_id.as_deref(), Some("17aa"));
        let vf = &devs[3];
        assert_eq!(
            vf.vendor_id.as_deref(),
            Some("8086"),
            "from the vendor file"
        );
        assert_eq!(vf.modules, ["ixgbevf"], "from the modalias file");
        let w = s.warnings();
        let warned = |suffix: &str| w.iter().any(|x| x.path.ends_with(suffix));
        for f in [
            "0000:01:00.0/device",
            "0000:01:00.0/class",
            "0000:01:00.0/current_link_speed",
            "0000:01:00.0/current_link_width",
            "0000:01:00.0/aer_dev_fatal",
            "0000:01:00.0/sriov_numvfs",
            "devices/garbage",
            "0000:01:00.1/uevent",
            "0000:01:10.0/uevent",
            "devices/0000:02:00.0",
        ] {
            assert!(warned(f), "no warning for {f}: {w:?}");
        }
        assert!(!warned("revision"), "missing is silent: {w:?}");
        assert!(warned("numa_node"), "an empty number is a warning: {w:?}");
        assert!(!warned("0000:01:00.0/vendor"), "short hex is fine: {w:?}");
    }

    #[test]
    fn empty_or_missing_bus() {
        let d = tempfile::tempdir().expect("tempdir");
        let s = Sysroot::new(d.path());
        assert!(probe(&s, Some("x")).is_empty());
        fs::create_dir_all(d.path().join("sys/bus/pci/devices")).expect("mkdir");
        assert!(probe(&s, Some("x")).is_empty());
        assert!(s.warnings().is_empty());
    }
}
