//! The probe on whole trees: SATA behind AHCI, NVMe (also multipath), loop/ram/zram, dm and md,
//! transports from the SCSI host classes, lsblk's udev stand-in files, what a recording reader
//! keeps, and garbage, truncated and missing files.

use super::*;
use std::fs;

use std::path::Path;

use crate::testutil::{link, write};

const SATA: &str = "sys/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0";

/// A SATA disk with one partition behind AHCI, and an NVMe namespace.
fn tree() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    let r = d.path();
    let disk = format!("{SATA}/block/sda");
    link(r, "sys/block/sda", &format!("../{}", &disk["sys/".len()..]));
    link(r, &format!("{disk}/device"), "../../../0:0:0:0");
    write(r, &format!("{SATA}/type"), "0\n");
    write(r, &format!("{SATA}/vendor"), "ATA     \n");
    write(r, &format!("{SATA}/model"), "KINGSTON SH103S3 \n");
    write(r, &format!("{SATA}/rev"), "BBF0\n");
    write(r, &format!("{SATA}/state"), "running\n");
    let mut pg80 = vec![0u8, 0x80, 0, 20];
    pg80.extend_from_slice(b"50026B724B09A1FF    ");
    write(r, &format!("{SATA}/vpd_pg80"), pg80);
    link(
        r,
        &format!("{SATA}/driver"),
        "../../../../../../../bus/scsi/drivers/sd",
    );
    link(
        r,
        "sys/devices/pci0000:00/0000:00:1f.2/driver",
        "../../../bus/pci/drivers/ahci",
    );
    fs::create_dir_all(r.join("sys/bus/pci/drivers/ahci")).expect("mkdir");
    fs::create_dir_all(r.join("sys/bus/scsi/drivers/sd")).expect("mkdir");
    write(r, "sys/class/scsi_host/host0/proc_name", "ahci\n");
    write(r, &format!("{disk}/dev"), "8:0\n");
    write(r, &format!("{disk}/size"), "468862128\n");
    write(r, &format!("{disk}/ro"), "0\n");
    write(r, &format!("{disk}/removable"), "0\n");
    write(r, &format!("{disk}/queue/rotational"), "0\n");
    write(r, &format!("{disk}/queue/logical_block_size"), "512\n");
    write(r, &format!("{disk}/queue/physical_block_size"), "4096\n");
    write(
        r,
        &format!("{disk}/queue/scheduler"),
        "mq-deadline kyber [bfq] none\n",
    );
    write(r, &format!("{disk}/queue/discard_granularity"), "512\n");
    write(
        r,
        &format!("{disk}/queue/discard_max_bytes"),
        "2147450880\n",
    );
    write(r, &format!("{disk}/sda1/partition"), "1\n");
    write(r, &format!("{disk}/sda1/start"), "2048\n");
    write(r, &format!("{disk}/sda1/size"), "409600\n");
    write(r, &format!("{disk}/sda1/dev"), "8:1\n");
    write(
        r,
        "proc/self/mountinfo",
        "61 49 8:1 / /boot/efi\\040x rw,relatime shared:63 - vfat /dev/sda1 rw\n",
    );

    let ctrl = "sys/devices/pci0000:00/0000:00:1c.4/0000:05:00.0/nvme/nvme0";
    link(
        r,
        "sys/block/nvme0n1",
        "../devices/pci0000:00/0000:00:1c.4/0000:05:00.0/nvme/nvme0/nvme0n1",
    );
    link(r, &format!("{ctrl}/nvme0n1/device"), "../../nvme0");
    write(r, &format!("{ctrl}/nvme0n1/dev"), "259:0\n");
    write(r, &format!("{ctrl}/nvme0n1/size"), "2000409264\n");
    write(r, &format!("{ctrl}/nvme0n1/wwid"), "eui.0026b7283b12b315\n");
    write(
        r,
        &format!("{ctrl}/model"),
        "KINGSTON SFYR2S1T0                      \n",
    );
    write(r, &format!("{ctrl}/serial"), "50026B7283B12B31    \n");
    write(r, &format!("{ctrl}/firmware_rev"), "SGW00110\n");
    write(r, &format!("{ctrl}/transport"), "pcie\n");
    write(r, &format!("{ctrl}/address"), "0000:05:00.0\n");
    write(r, &format!("{ctrl}/state"), "live\n");
    link(
        r,
        "sys/devices/pci0000:00/0000:00:1c.4/0000:05:00.0/driver",
        "../../../../bus/pci/drivers/nvme",
    );
    fs::create_dir_all(r.join("sys/bus/pci/drivers/nvme")).expect("mkdir");
    link(
        r,
        "sys/class/nvme/nvme0",
        "../../devices/pci0000:00/0000:00:1c.4/0000:05:00.0/nvme/nvme0",
    );
    d
}

#[test]
fn sata_disk_and_nvme_namespace() {
    let d = tree();
    let sys = Sysroot::new(d.path());
    let (devs, ctrls) = probe(&sys, false);
    assert!(sys.warnings().is_empty(), "{:?}", sys.warnings());
    let sda = devs.iter().find(|x| x.name == "sda").expect("sda");
    assert_eq!(sda.kind.as_deref(), Some("disk"));
    assert_eq!(sda.transport.as_deref(), Some("sata"));
    assert_eq!(sda.hctl.as_deref(), Some("0:0:0:0"));
    assert_eq!(sda.vendor.as_deref(), Some("ATA"));
    assert_eq!(sda.model.as_deref(), Some("KINGSTON SH103S3"));
    assert_eq!(sda.serial.as_deref(), Some("50026B724B09A1FF"));
    assert_eq!(sda.firmware.as_deref(), Some("BBF0"));
    assert_eq!(sda.driver.as_deref(), Some("sd"));
    assert_eq!(sda.controller_driver.as_deref(), Some("ahci"));
    assert_eq!(sda.pci_address.as_deref(), Some("0000:00:1f.2"));
    assert_eq!(sda.size_bytes, Some(468862128 * 512));
    assert_eq!(sda.physical_block_size, Some(4096));
    assert_eq!(sda.scheduler.as_deref(), Some("bfq"));
    assert_eq!(sda.rotational, Some(false));
    assert_eq!(sda.discard.as_ref().and_then(|x| x.granularity), Some(512));
    assert_eq!(sda.partitions.len(), 1);
    let p = &sda.partitions[0];
    assert_eq!((p.number, p.start), (Some(1), Some(2048)));
    assert_eq!(p.size_bytes, Some(409600 * 512));
    assert_eq!(p.mountpoints, vec!["/boot/efi x".to_string()]);

    let nvme = devs.iter().find(|x| x.name == "nvme0n1").expect("nvme0n1");
    assert_eq!(nvme.transport.as_deref(), Some("nvme"));
    assert_eq!(nvme.model.as_deref(), Some("KINGSTON SFYR2S1T0"));
    assert_eq!(nvme.firmware.as_deref(), Some("SGW00110"));
    assert_eq!(nvme.serial.as_deref(), Some("50026B7283B12B31"));
    assert_eq!(nvme.wwn.as_deref(), Some("eui.0026b7283b12b315"));
    assert_eq!(nvme.pci_address.as_deref(), Some("0000:05:00.0"));
    assert_eq!(nvme.driver.as_deref(), Some("nvme"));
    assert_eq!(nvme.nvme_controllers, vec!["nvme0".to_string()]);
    assert_eq!(ctrls.len(), 1);
    assert_eq!(ctrls[0].name, "nvme0");
    assert_eq!(ctrls[0].pci_address.as_deref(), Some("0000:05:00.0"));
    assert_eq!(ctrls[0].driver.as_deref(), Some("nvme"));
    assert_eq!(ctrls[0].transport.as_deref(), Some("pcie"));
    assert_eq!(ctrls[0].namespaces, vec!["nvme0n1".to_string()]);
}

#[test]
fn nvme_multipath_namespace_finds_its_controller() {
    let d = tempfile::tempdir().expect("tempdir");
    let r = d.path();
    let sub = "sys/devices/virtual/nvme-subsystem/nvme-subsys0";
    let ctrl = "sys/devices/pci0000:00/0000:00:03.0/0000:01:00.0/nvme/nvme0";
    link(
        r,
        "sys/block/nvme0n1",
        "../devices/virtual/nvme-subsystem/nvme-subsys0/nvme0n1",
    );
    link(
        r,
        "sys/block/nvme0c0n1",
        "../devices/pci0000:00/0000:00:03.0/0000:01:00.0/nvme/nvme0/nvme0c0n1",
    );
    write(r, &format!("{ctrl}/nvme0c0n1/hidden"), "1\n");
    link(r, &format!("{sub}/nvme0n1/device"), "../../nvme-subsys0");
    write(r, &format!("{sub}/nvme0n1/hidden"), "0\n");
    write(r, &format!("{sub}/nvme0n1/size"), "100\n");
    write(r, &format!("{sub}/model"), "SAMSUNG MZQL23T8HCLS-00A07\n");
    write(r, &format!("{sub}/firmware_rev"), "GDC5602Q\n");
    link(
        r,
        &format!("{sub}/nvme0"),
        "../../../pci0000:00/0000:00:03.0/0000:01:00.0/nvme/nvme0",
    );
    write(r, &format!("{ctrl}/model"), "SAMSUNG MZQL23T8HCLS-00A07\n");
    link(
        r,
        "sys/devices/pci0000:00/0000:00:03.0/0000:01:00.0/driver",
        "../../../../bus/pci/drivers/nvme",
    );
    fs::create_dir_all(r.join("sys/bus/pci/drivers/nvme")).expect("mkdir");
    let sys = Sysroot::new(r);
    let (devs, ctrls) = probe(&sys, false);
    assert_eq!(
        devs.len(),
        1,
        "the hidden path device is left out: {devs:?}"
    );
    let ns = &devs[0];
    assert_eq!(ns.model.as_deref(), Some("SAMSUNG MZQL23T8HCLS-00A07"));
    assert_eq!(ns.firmware.as_deref(), Some("GDC5602Q"));
    assert_eq!(ns.pci_address.as_deref(), Some("0000:01:00.0"));
    assert_eq!(ns.controller_driver.as_deref(), Some("nvme"));
    assert_eq!(ns.driver.as_deref(), Some("nvme"));
    assert_eq!(ctrls.len(), 1);
    assert_eq!(ctrls[0].namespaces, vec!["nvme0n1".to_string()]);
    assert!(sys.warnings().is_empty(), "{:?}", sys.warnings());
}

#[test]
fn loop_ram_zram_only_with_all() {
    let d = tempfile::tempdir().expect("tempdir");
    let r = d.path();
    for n in ["loop0", "ram0", "zram0", "dm-0", "md127"] {
        link(
            r,
            &format!("sys/block/{n}"),
            &format!("../devices/virtual/block/{n}"),
        );
        write(r, &format!("sys/devices/virtual/block/{n}/size"), "0\n");
    }
    write(
        r,
        "sys/devices/virtual/block/dm-0/dm/uuid",
        "CRYPT-LUKS2-abc-luks\n",
    );
    write(r, "sys/devices/virtual/block/dm-0/dm/name", "luks\n");
    write(r, "sys/devices/virtual/block/dm-0/dm/suspended", "0\n");
    write(r, "sys/devices/virtual/block/md127/md/level", "raid1\n");
    let sys = Sysroot::new(r);
    let names = |all| -> Vec<String> { probe(&sys, all).0.into_iter().map(|d| d.name).collect() };
    assert_eq!(names(false), ["dm-0", "md127"]);
    assert_eq!(names(true), ["dm-0", "loop0", "md127", "ram0", "zram0"]);
    let (devs, _) = probe(&sys, true);
    let kind = |n: &str| {
        devs.iter()
            .find(|d| d.name == n)
            .and_then(|d| d.kind.clone())
    };
    assert_eq!(kind("dm-0").as_deref(), Some("crypt"));
    assert_eq!(kind("md127").as_deref(), Some("raid1"));
    assert_eq!(kind("loop0").as_deref(), Some("loop"));
    assert_eq!(kind("zram0").as_deref(), Some("disk"));
    let dm = devs.iter().find(|d| d.name == "dm-0").expect("dm-0");
    assert_eq!(dm.dm_name.as_deref(), Some("luks"));
    assert_eq!(dm.state.as_deref(), Some("running"));
    assert_eq!(dm.size_bytes, Some(0));
    assert!(sys.warnings().is_empty(), "{:?}", sys.warnings());
}

#[test]
fn garbage_truncated_and_missing_files_warn_never_panic() {
    let d = tree();
    let r = d.path();
    let disk = format!("{SATA}/block/sda");
    write(r, &format!("{disk}/size"), "lots\n");
    write(r, &format!("{disk}/dev"), "8-0\n");
    write(r, &format!("{disk}/queue/rotational"), [0xff, 0xfe]);
    write(r, &format!("{disk}/queue/scheduler"), "[none\n");
    fs::remove_file(r.join(format!("{disk}/queue/logical_block_size"))).expect("rm");
    write(r, &format!("{SATA}/vpd_pg80"), [0u8, 0x80, 0, 40, b'A']);
    write(r, &format!("{SATA}/type"), "");
    write(r, &format!("{disk}/sda1/partition"), "one\n");
    write(r, &format!("{disk}/sda1/size"), "99999999999999999999\n");
    write(r, "proc/self/mountinfo", "garbage\n36 35 98:0\n");
    write(r, "proc/swaps", "");
    // A dangling entry and a file where a directory belongs.
    link(r, "sys/block/sdz", "../devices/nowhere/sdz");
    write(r, "sys/block/sdy", "not a dir\n");
    let sys = Sysroot::new(r);
    let (devs, _) = probe(&sys, true);
    let sda = devs
        .iter()
        .find(|x| x.name == "sda")
        .expect("sda still probed");
    assert_eq!(sda.size_bytes, None);
    assert_eq!(sda.maj_min, None);
    assert_eq!(sda.rotational, None);
    assert_eq!(sda.scheduler, None);
    assert_eq!(sda.logical_block_size, None);
    assert_eq!(sda.serial, None);
    assert_eq!(sda.kind.as_deref(), Some("disk"));
    assert_eq!(sda.partitions[0].number, None);
    assert_eq!(sda.partitions[0].size_bytes, None);
    assert!(!devs.iter().any(|x| x.name == "sdz" || x.name == "sdy"));
    let w = sys.warnings();
    let has = |p: &str| w.iter().any(|x| x.path.ends_with(p));
    for p in [
        "sda/size",
        "sda/dev",
        "queue/rotational",
        "vpd_pg80",
        "sda1/partition",
        "sda1/size",
        "proc/self/mountinfo",
        "sys/block/sdz",
        "sys/block/sdy",
    ] {
        assert!(has(p), "no warning for {p}: {w:#?}");
    }
    assert!(!has("logical_block_size"), "missing is silent: {w:#?}");
    assert!(has("/type"), "an empty number is a warning: {w:#?}");
}

#[test]
fn a_recording_reader_keeps_what_the_probe_needs() {
    let d = tree();
    let sys = Sysroot::new(d.path()).with_recording();
    probe(&sys, false);
    let rec = sys.recorded();
    for f in [
        "sys/block/sda/sda1/partition",
        "sys/block/sda/size",
        "sys/block/sda/device/model",
        "sys/block/sda/device/vpd_pg80",
        "sys/class/scsi_host/host0/proc_name",
        "sys/class/nvme/nvme0/model",
    ] {
        // Files are recorded under their link-free path.
        let real = sys.canonical(f).expect("resolves");
        assert!(rec.files.contains_key(Path::new(&real)), "{f} not recorded");
    }
    for l in [
        "sys/block/sda".to_string(),
        format!("{SATA}/block/sda/device"),
        format!("{SATA}/driver"),
        "sys/devices/pci0000:00/0000:00:1f.2/driver".to_string(),
    ] {
        assert!(rec.links.contains(Path::new(&l)), "{l} not recorded");
    }
}

#[test]
fn empty_tree_is_empty() {
    let d = tempfile::tempdir().expect("tempdir");
    let sys = Sysroot::new(d.path());
    let (devs, ctrls) = probe(&sys, true);
    assert!(devs.is_empty() && ctrls.is_empty());
    assert!(sys.warnings().is_empty());
}

#[test]
fn transport_from_scsi_host_classes() {
    let d = tree();
    let r = d.path();
    let sda_transport = || {
        let sys = Sysroot::new(r);
        probe(&sys, false)
            .0
            .into_iter()
            .find(|x| x.name == "sda")
            .and_then(|x| x.transport)
    };
    write(r, "sys/class/scsi_host/host0/proc_name", "megaraid_sas\n");
    assert_eq!(sda_transport(), None, "lsblk shows no TRAN for MegaRAID");
    write(r, "sys/class/scsi_host/host0/proc_name", "ata_piix\n");
    assert_eq!(sda_transport().as_deref(), Some("ata"));
    fs::create_dir_all(r.join("sys/class/sas_host/host0")).expect("mkdir");
    assert_eq!(sda_transport().as_deref(), Some("sas"));
    fs::create_dir_all(r.join("sys/class/fc_host/host0")).expect("mkdir");
    write(
        r,
        "sys/class/fc_host/host0/symbolic_name",
        "fcoe v0.1 over eth2\n",
    );
    assert_eq!(sda_transport().as_deref(), Some("fcoe"));
    // No class entries at all: guessed from the path and the HBA driver.
    fs::remove_dir_all(r.join("sys/class")).expect("rm");
    assert_eq!(sda_transport().as_deref(), Some("sata"));
}

#[test]
fn udev_stand_in_files() {
    let d = tree();
    let r = d.path();
    write(
        r,
        "dev/sda",
        "ID_MODEL_ENC=KINGSTON\\x20SH103S3240G\nID_SERIAL=KINGSTON_SH103S3240G_50026B724B09A1FF\n\
         ID_MODEL=KINGSTON_SH103S3240G\nID_REVISION=580ABBF0\nID_SERIAL_SHORT=50026B724B09A1FF\n\
         ID_WWN=0x50026b724b09a1ff\nID_REVISION=\n",
    );
    let sys = Sysroot::new(r);
    let (devs, _) = probe(&sys, false);
    let sda = devs.iter().find(|x| x.name == "sda").expect("sda");
    assert_eq!(sda.model.as_deref(), Some("KINGSTON_SH103S3240G"));
    assert_eq!(sda.firmware.as_deref(), Some("580ABBF0"));
    assert_eq!(sda.serial.as_deref(), Some("50026B724B09A1FF"));
    assert_eq!(sda.wwn.as_deref(), Some("0x50026b724b09a1ff"));
    // With device nodes in dev/ (dev/null present) the directory is not read.
    write(r, "dev/null", "");
    let sys = Sysroot::new(r);
    let (devs, _) = probe(&sys, false);
    let sda = devs.iter().find(|x| x.name == "sda").expect("sda");
    assert_eq!(sda.model.as_deref(), Some("KINGSTON SH103S3"));
}

#[test]
fn pseudo_names() {
    assert!(is_pseudo("loop12") && is_pseudo("zram0") && is_pseudo("ram15"));
    assert!(!is_pseudo("loop") && !is_pseudo("ramdisk") && !is_pseudo("sda"));
}
