//! Which source a field's value comes from: the sysfs attribute when there is one, else the
//! function's config space (as lspci reads it). Where both give a header field and they
//! differ, sysfs wins and the difference is recorded in the device's `disagreements`, not
//! warned about: sysfs holds what the kernel read at enumeration, and its quirks legitimately
//! correct some devices' class, revision or subsystem IDs; a firmware update can change the
//! revision until the next rescan. Those are facts of a healthy machine worth seeing in the
//! inventory; a warning says a file could not be read or understood, and labs read warnings as
//! problems. The link is taken from config space only where its attribute is missing, never
//! compared: the kernel's link attributes read the same registers at the moment they are read,
//! so a difference would only be a link that retrained in between (a GPU drops to 2.5 GT/s when
//! idle), and reading the capability for it would cost config reads on every function.

use super::config::{speed_gts, speed_text, Config};
use super::ident::Ident;
use super::model::{FieldSource, PciDisagreement, PciLink, PciSources};

/// What sysfs gave a function; config space fills in the gaps.
pub(super) struct Fields<'a> {
    pub(super) id: &'a mut Ident,
    pub(super) revision: &'a mut Option<u32>,
    pub(super) link: &'a mut Option<PciLink>,
    pub(super) sources: &'a mut PciSources,
    pub(super) disagreements: &'a mut Vec<PciDisagreement>,
}

/// sysfs as the source of every field it gave.
pub(super) fn from_sysfs(id: &Ident, revision: Option<u32>, link: Option<&PciLink>) -> PciSources {
    let s = |v: bool| v.then_some(FieldSource::Sysfs);
    let l = link.cloned().unwrap_or_default();
    PciSources {
        vendor_id: s(id.vendor.is_some()),
        device_id: s(id.device.is_some()),
        subsystem_vendor_id: s(id.sub_vendor.is_some()),
        subsystem_device_id: s(id.sub_device.is_some()),
        class_id: s(id.class.is_some()),
        revision: s(revision.is_some()),
        link_current_speed: s(l.current_speed.is_some()),
        link_current_width: s(l.current_width.is_some()),
        link_max_speed: s(l.max_speed.is_some()),
        link_max_width: s(l.max_width.is_some()),
    }
}

/// One field: config space's value where sysfs has none; a disagreement where both have one.
fn one(
    field: &str,
    sysfs: &mut Option<u32>,
    config: Option<u32>,
    digits: usize,
    source: &mut Option<FieldSource>,
    disagreements: &mut Vec<PciDisagreement>,
) {
    match (*sysfs, config) {
        (None, Some(c)) => {
            *sysfs = Some(c);
            *source = Some(FieldSource::Config);
        }
        (Some(s), Some(c)) if s != c => disagreements.push(PciDisagreement {
            field: field.into(),
            sysfs: format!("{s:0digits$x}"),
            config: format!("{c:0digits$x}"),
        }),
        _ => {}
    }
}

/// Fill from `cfg` what sysfs did not give, and record where a header field disagrees. `has`
/// says which attributes the function has: the link is taken from config space only where its
/// attribute is missing (an attribute that says "Unknown" is the kernel's answer).
pub(super) fn merge(cfg: &Config, has: &dyn Fn(&str) -> bool, f: Fields) {
    let Fields {
        id,
        revision,
        link,
        sources: src,
        disagreements: dis,
    } = f;
    let (v, d) = cfg.ids.map(|(v, d)| (u32::from(v), u32::from(d))).unzip();
    one("vendor_id", &mut id.vendor, v, 4, &mut src.vendor_id, dis);
    one("device_id", &mut id.device, d, 4, &mut src.device_id, dis);
    let (sv, sd) = cfg
        .subsystem
        .map(|(v, d)| (u32::from(v), u32::from(d)))
        .unzip();
    let sub_src = &mut src.subsystem_vendor_id;
    one(
        "subsystem_vendor_id",
        &mut id.sub_vendor,
        sv,
        4,
        sub_src,
        dis,
    );
    let sub_src = &mut src.subsystem_device_id;
    one(
        "subsystem_device_id",
        &mut id.sub_device,
        sd,
        4,
        sub_src,
        dis,
    );
    one(
        "class_id",
        &mut id.class,
        Some(cfg.class),
        6,
        &mut src.class_id,
        dis,
    );
    let rev = Some(u32::from(cfg.revision));
    one("revision", revision, rev, 2, &mut src.revision, dis);

    let Some(regs) = cfg.link else {
        return;
    };
    let mut l = link.take().unwrap_or_default();
    let width = |w: u8| Some(u32::from(w)).filter(|w| (1..=32).contains(w));
    let speeds = [
        (
            "current_link_speed",
            &mut l.current_speed,
            &mut l.current_gts,
            regs.current_speed,
            &mut src.link_current_speed,
        ),
        (
            "max_link_speed",
            &mut l.max_speed,
            &mut l.max_gts,
            regs.max_speed,
            &mut src.link_max_speed,
        ),
    ];
    for (attr, text, gts, code, source) in speeds {
        if let (false, Some(g)) = (has(attr), speed_gts(code)) {
            (*text, *gts, *source) = (Some(speed_text(g)), Some(g), Some(FieldSource::Config));
        }
    }
    let widths = [
        (
            "current_link_width",
            &mut l.current_width,
            regs.current_width,
            &mut src.link_current_width,
        ),
        (
            "max_link_width",
            &mut l.max_width,
            regs.max_width,
            &mut src.link_max_width,
        ),
    ];
    for (attr, value, reg, source) in widths {
        if let (false, Some(w)) = (has(attr), width(reg)) {
            (*value, *source) = (Some(w), Some(FieldSource::Config));
        }
    }
    *link = (l != PciLink::default()).then_some(l);
}
