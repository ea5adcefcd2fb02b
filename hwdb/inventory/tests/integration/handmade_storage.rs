//! The storage probe on the project's hand-made trees (tests/fixtures/README.md says what each
//! stands for): the hardware the lsblk dumps lack — a MegaRAID virtual drive, a SAS disk behind
//! an mpt3sas HBA, an NVMe SSD on aarch64, a virtio disk and an ATAPI CD-ROM in a KVM guest.

use crate::common;

use hwsys::units::{util_linux_size, SizeStyle};
use hwsys::Sysroot;
use inventory::storage::{self, BlockDevice, NvmeController};

fn probe(tree: &str, all: bool) -> (Vec<BlockDevice>, Vec<NvmeController>) {
    let root = common::own_fixtures().join(tree);
    assert!(root.is_dir(), "{} is missing", root.display());
    let sys = Sysroot::new(&root);
    let out = storage::probe(&sys, all);
    assert!(
        sys.warnings().is_empty(),
        "{tree}: the tree should read cleanly: {:#?}",
        sys.warnings()
    );
    out
}

fn dev<'a>(devs: &'a [BlockDevice], name: &str) -> &'a BlockDevice {
    devs.iter()
        .find(|d| d.name == name)
        .unwrap_or_else(|| panic!("{name} not found in {devs:#?}"))
}

#[test]
fn raid_sas_megaraid_virtual_drive() {
    let (devs, nvme) = probe("raid-sas", false);
    let names: Vec<&str> = devs.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["dm-0", "dm-1", "sda", "sdb"]);
    assert!(nvme.is_empty());

    let sda = dev(&devs, "sda");
    assert_eq!(sda.kind.as_deref(), Some("disk"));
    // lsblk shows no TRAN for a MegaRAID host (no SAS transport class, proc_name megaraid_sas):
    // the HBA is named by its driver.
    assert_eq!(sda.transport, None);
    assert_eq!(sda.controller_driver.as_deref(), Some("megaraid_sas"));
    assert_eq!(sda.pci_address.as_deref(), Some("0000:3b:00.0"));
    assert_eq!(sda.driver.as_deref(), Some("sd"));
    assert_eq!(sda.hctl.as_deref(), Some("0:2:0:0"));
    assert_eq!(sda.vendor.as_deref(), Some("BROADCOM"));
    assert_eq!(sda.model.as_deref(), Some("MR9560-16i"));
    assert_eq!(sda.firmware.as_deref(), Some("5.22"));
    assert_eq!(
        sda.serial.as_deref(),
        Some("0006050bb6c0102a204a1d0fb0050660")
    );
    assert_eq!(
        sda.wwn.as_deref(),
        Some("0x600605b00f1d4a202a10c0b60cb00506")
    );
    assert_eq!(sda.size_bytes.map(lsblk_size).as_deref(), Some("894.3G"));
    assert_eq!((sda.min_io, sda.opt_io), (Some(65536), Some(65536)));
    assert_eq!(sda.scheduler.as_deref(), Some("mq-deadline"));
    assert_eq!(sda.state.as_deref(), Some("running"));
    let parts: Vec<&str> = sda.partitions.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(parts, ["sda1", "sda2"]);
    assert_eq!(sda.partitions[0].mountpoints, ["/boot"]);
    assert_eq!(sda.partitions[1].holders, ["dm-0", "dm-1"]);
    assert_eq!(sda.partitions[1].start, Some(2099200));
    assert_eq!(sda.partitions[1].number, Some(2));

    let root = dev(&devs, "dm-0");
    assert_eq!(root.kind.as_deref(), Some("lvm"));
    assert_eq!(root.dm_name.as_deref(), Some("ocvg-root"));
    assert_eq!(root.slaves, ["sda2"]);
    assert_eq!(root.mountpoints, ["/"]);
    assert_eq!(root.pci_address, None, "a logical volume has no controller");
    assert_eq!(dev(&devs, "dm-1").mountpoints, ["[SWAP]"]);
}

#[test]
fn raid_sas_disk_behind_mpt3sas() {
    let (devs, _) = probe("raid-sas", false);
    let sdb = dev(&devs, "sdb");
    assert_eq!(sdb.transport.as_deref(), Some("sas"));
    assert_eq!(sdb.kind.as_deref(), Some("disk"));
    assert_eq!(sdb.vendor.as_deref(), Some("SEAGATE"));
    assert_eq!(sdb.model.as_deref(), Some("ST1200MM0009"));
    assert_eq!(sdb.firmware.as_deref(), Some("CN03"));
    assert_eq!(sdb.serial.as_deref(), Some("W3E0KQ2N0000E826A1B2"));
    // The logical unit's NAA, not the target port's (0x…d5) that VPD 0x83 also lists.
    assert_eq!(sdb.wwn.as_deref(), Some("0x5000c500a1b2c3d7"));
    assert_eq!(sdb.rotational, Some(true));
    assert_eq!(sdb.hctl.as_deref(), Some("1:0:0:0"));
    assert_eq!(sdb.driver.as_deref(), Some("sd"));
    assert_eq!(sdb.controller_driver.as_deref(), Some("mpt3sas"));
    assert_eq!(sdb.pci_address.as_deref(), Some("0000:af:00.0"));
    assert_eq!(sdb.size_bytes.map(lsblk_size).as_deref(), Some("1.1T"));
    assert_eq!(sdb.partitions.len(), 1);
    assert_eq!(sdb.partitions[0].mountpoints, ["/data"]);
}

#[test]
fn kunpeng_nvme_namespace_and_controller() {
    let (devs, nvme) = probe("aarch64-kunpeng", false);
    assert_eq!(devs.len(), 1, "{devs:#?}");
    let ns = dev(&devs, "nvme0n1");
    assert_eq!(ns.kind.as_deref(), Some("disk"));
    assert_eq!(ns.transport.as_deref(), Some("nvme"));
    assert_eq!(ns.model.as_deref(), Some("SAMSUNG MZQL23T8HCLS-00A07"));
    assert_eq!(ns.serial.as_deref(), Some("S64HNE0T512345"));
    assert_eq!(ns.firmware.as_deref(), Some("GDC5602Q"));
    assert_eq!(
        ns.wwn.as_deref(),
        Some("eui.36344730528000240025384500000001")
    );
    assert_eq!(ns.vendor, None);
    assert_eq!(ns.hctl, None);
    assert_eq!(ns.pci_address.as_deref(), Some("0000:01:00.0"));
    assert_eq!(ns.driver.as_deref(), Some("nvme"));
    assert_eq!(ns.controller_driver.as_deref(), Some("nvme"));
    assert_eq!(ns.nvme_controllers, ["nvme0"]);
    assert_eq!(ns.state.as_deref(), Some("live"));
    assert_eq!(ns.scheduler.as_deref(), Some("none"));
    assert_eq!(ns.rotational, Some(false));
    assert_eq!(ns.size_bytes.map(lsblk_size).as_deref(), Some("3.5T"));
    let d = ns.discard.as_ref().expect("discard limits");
    assert_eq!(
        (d.granularity, d.max_bytes),
        (Some(512), Some(2199023255040))
    );
    let mps: Vec<&str> = ns
        .partitions
        .iter()
        .flat_map(|p| p.mountpoints.iter().map(String::as_str))
        .collect();
    assert_eq!(mps, ["/boot/efi", "/boot", "/"]);

    assert_eq!(nvme.len(), 1);
    let c = &nvme[0];
    assert_eq!(c.name, "nvme0");
    assert_eq!(c.model.as_deref(), Some("SAMSUNG MZQL23T8HCLS-00A07"));
    assert_eq!(c.serial.as_deref(), Some("S64HNE0T512345"));
    assert_eq!(c.firmware.as_deref(), Some("GDC5602Q"));
    assert_eq!(c.transport.as_deref(), Some("pcie"));
    assert_eq!(c.address.as_deref(), Some("0000:01:00.0"));
    assert_eq!(c.pci_address.as_deref(), Some("0000:01:00.0"));
    assert_eq!(c.driver.as_deref(), Some("nvme"));
    assert_eq!(c.state.as_deref(), Some("live"));
    assert_eq!(c.cntlid, Some(6));
    assert_eq!(c.namespaces, ["nvme0n1"]);
}

#[test]
fn kvm_guest_virtio_disk_and_cdrom() {
    let (devs, nvme) = probe("offline-cpus", false);
    let names: Vec<&str> = devs.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["sr0", "vda"], "zram0 only with all");
    assert!(nvme.is_empty());

    let vda = dev(&devs, "vda");
    assert_eq!(vda.transport.as_deref(), Some("virtio"));
    assert_eq!(vda.kind.as_deref(), Some("disk"));
    assert_eq!(vda.driver.as_deref(), Some("virtio_blk"));
    assert_eq!(vda.controller_driver.as_deref(), Some("virtio-pci"));
    assert_eq!(vda.pci_address.as_deref(), Some("0000:00:04.0"));
    assert_eq!(vda.serial.as_deref(), Some("hwcert-ci-0001"));
    assert_eq!(vda.vendor.as_deref(), Some("0x1af4"), "as lsblk shows it");
    assert_eq!(vda.partitions[1].mountpoints, ["/"]);

    let sr0 = dev(&devs, "sr0");
    assert_eq!(sr0.kind.as_deref(), Some("rom"));
    assert_eq!(sr0.transport.as_deref(), Some("ata"));
    assert_eq!(sr0.removable, Some(true));
    assert_eq!(sr0.vendor.as_deref(), Some("QEMU"));
    assert_eq!(sr0.model.as_deref(), Some("QEMU DVD-ROM"));
    assert_eq!(sr0.firmware.as_deref(), Some("2.5+"));
    assert_eq!(sr0.driver.as_deref(), Some("sr"));
    assert_eq!(sr0.controller_driver.as_deref(), Some("ata_piix"));
    assert_eq!(sr0.pci_address.as_deref(), Some("0000:00:01.1"));
    assert_eq!(sr0.size_bytes.map(lsblk_size).as_deref(), Some("1024M"));

    let (all, _) = probe("offline-cpus", true);
    let zram = dev(&all, "zram0");
    assert_eq!(zram.kind.as_deref(), Some("disk"));
    assert_eq!(zram.mountpoints, ["[SWAP]"]);
    assert_eq!(zram.pci_address, None);
    assert_eq!(zram.driver, None);
}

#[test]
fn inventory_json_round_trips() {
    for tree in ["raid-sas", "aarch64-kunpeng", "offline-cpus"] {
        let (devs, nvme) = probe(tree, true);
        let json = serde_json::to_string(&(&devs, &nvme)).expect("serialize");
        let back: (Vec<BlockDevice>, Vec<NvmeController>) =
            serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, (devs, nvme), "{tree}");
    }
}

/// A size as lsblk prints it.
fn lsblk_size(bytes: u64) -> String {
    util_linux_size(bytes, SizeStyle::Letter)
}
