//! Names from the embedded pci-ids database, as lspci prints them (see the module documentation
//! of [`crate::pci`]).

use pci_ids::FromId;

use super::ident::Ident;
use super::model::PciDevice;

pub(super) fn name_device(d: &mut PciDevice, id: &Ident) {
    let Ident {
        vendor,
        device,
        sub_vendor,
        sub_device,
        class,
        ..
    } = *id;
    let vendor = vendor.and_then(|v| u16::try_from(v).ok());
    let device = device.and_then(|v| u16::try_from(v).ok());
    if let Some(v) = vendor {
        d.vendor_name = pci_ids::Vendor::from_id(v).map(|x| x.name().to_string());
    }
    let dev = match (vendor, device) {
        (Some(v), Some(p)) => pci_ids::Device::from_vid_pid(v, p),
        _ => None,
    };
    d.device_name = dev.map(|x| x.name().to_string());
    let sub_vendor = sub_vendor
        .and_then(|v| u16::try_from(v).ok())
        .filter(|v| *v != 0 && *v != 0xffff);
    let sub_device = sub_device.and_then(|v| u16::try_from(v).ok());
    if let Some(sv) = sub_vendor {
        d.subsystem_vendor_name = pci_ids::Vendor::from_id(sv).map(|x| x.name().to_string());
        if let (Some(dev), Some(sd)) = (dev, sub_device) {
            d.subsystem_name = dev
                .subsystems()
                .find(|s| s.subvendor() == sv && s.subdevice() == sd)
                .map(|s| s.name())
                .or_else(|| (vendor == Some(sv) && device == Some(sd)).then(|| dev.name()))
                .map(str::to_string);
        }
    }
    if let Some(c) = class {
        let (base, sub, pi) = ((c >> 16) as u8, (c >> 8) as u8, c as u8);
        let subclass = pci_ids::Subclass::from_cid_sid(base, sub);
        d.class_name = subclass
            .map(|s| s.name())
            .or_else(|| pci_ids::Class::from_id(base).map(|x| x.name()))
            .map(str::to_string);
        d.prog_if_name = subclass
            .and_then(|s| s.prog_ifs().find(|p| p.id() == pi))
            .map(|p| p.name().to_string());
    }
}

/// The version line of the embedded pci-ids database, when known.
///
/// pci-ids 0.2 does not expose the `Version:` header of the pci.ids it embeds, so hwdb's build
/// script reads it from the same file the crate compiled. (The crate's build script tries to
/// download the current pci.ids, falling back to the copy it ships, so the version depends on
/// the build machine: that is why the inventory records it.)
pub fn database_version() -> Option<String> {
    // Read from the embedded database's header at build time (hwdb/build.rs).
    let v = env!("HWDB_PCI_IDS_VERSION");
    (!v.is_empty()).then(|| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_names_follow_lspci() {
        let named = |v, p, sv, sd, c| {
            let mut d = PciDevice::default();
            let id = Ident {
                vendor: v,
                device: p,
                sub_vendor: sv,
                sub_device: sd,
                class: c,
                modalias: None,
            };
            name_device(&mut d, &id);
            d
        };
        let d = named(
            Some(0x1af4),
            Some(0x1041),
            Some(0x1af4),
            Some(0x1041),
            Some(0xff0000),
        );
        assert_eq!(d.class_name.as_deref(), Some("Unassigned class"));
        assert_eq!(d.vendor_name.as_deref(), Some("Red Hat, Inc."));
        assert_eq!(d.device_name.as_deref(), Some("Virtio 1.0 network device"));
        assert_eq!(
            d.subsystem_name.as_deref(),
            Some("Virtio 1.0 network device"),
            "subsystem IDs equal to the device's name the device"
        );
        let d = named(
            Some(0x0bad),
            Some(1),
            Some(0xffff),
            Some(0xffff),
            Some(0x0c0330),
        );
        assert_eq!(d.class_name.as_deref(), Some("USB controller"));
        assert_eq!(d.prog_if_name.as_deref(), Some("XHCI"));
        assert_eq!(d.vendor_name, None);
        assert_eq!(d.subsystem_vendor_name, None);
        let d = named(None, None, None, None, Some(0xee0000));
        assert_eq!(
            d.class_name, None,
            "unknown class: lspci prints 'Class ee00'"
        );
    }
}
