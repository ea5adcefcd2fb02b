//! What identifies a function: vendor, device, subsystem, class and modalias, from `uevent` and
//! the single-value attributes.

use hwsys::sysroot::Sysroot;

/// What identifies a function: IDs, class and modalias.
#[derive(Debug, Default)]
pub(super) struct Ident {
    pub(super) vendor: Option<u32>,
    pub(super) device: Option<u32>,
    pub(super) sub_vendor: Option<u32>,
    pub(super) sub_device: Option<u32>,
    pub(super) class: Option<u32>,
    pub(super) modalias: Option<String>,
}

/// The identity from `uevent` (one read: PCI_ID, PCI_SUBSYS_ID, PCI_CLASS, MODALIAS), and
/// from the single-value attributes for whatever it lacks (a sysroot recorded without it).
pub(super) fn read_ident(sys: &Sysroot, dir: &str, has: &dyn Fn(&str) -> bool) -> Ident {
    let mut id = Ident::default();
    if has("uevent") {
        let rel = format!("{dir}/uevent");
        if let Some(text) = sys.read(&rel) {
            let mut bad: Vec<&str> = Vec::new();
            for line in text.lines() {
                let Some((key, value)) = line.split_once('=') else {
                    continue;
                };
                match key {
                    "PCI_ID" => match hex_pair(value) {
                        Some((v, d)) => (id.vendor, id.device) = (Some(v), Some(d)),
                        None => bad.push(key),
                    },
                    "PCI_SUBSYS_ID" => match hex_pair(value) {
                        Some((v, d)) => (id.sub_vendor, id.sub_device) = (Some(v), Some(d)),
                        None => bad.push(key),
                    },
                    "PCI_CLASS" => match u32::from_str_radix(value, 16) {
                        Ok(c) if c <= 0xff_ffff => id.class = Some(c),
                        _ => bad.push(key),
                    },
                    "MODALIAS" if !value.is_empty() => id.modalias = Some(value.to_string()),
                    _ => {}
                }
            }
            if !bad.is_empty() {
                sys.warn(&rel, format!("cannot parse {}", bad.join(", ")));
            }
        }
    }
    let attr16 = |name: &str| {
        if has(name) {
            hex_in_range(sys, &format!("{dir}/{name}"), 0xffff)
        } else {
            None
        }
    };
    if id.vendor.is_none() {
        id.vendor = attr16("vendor");
    }
    if id.device.is_none() {
        id.device = attr16("device");
    }
    if id.sub_vendor.is_none() {
        id.sub_vendor = attr16("subsystem_vendor");
    }
    if id.sub_device.is_none() {
        id.sub_device = attr16("subsystem_device");
    }
    if id.class.is_none() && has("class") {
        id.class = hex_in_range(sys, &format!("{dir}/class"), 0xff_ffff);
    }
    if id.modalias.is_none() && has("modalias") {
        id.modalias = sys.attr(&format!("{dir}/modalias"));
    }
    id
}

/// "8086:10FB" → (0x8086, 0x10fb).
fn hex_pair(s: &str) -> Option<(u32, u32)> {
    let (a, b) = s.split_once(':')?;
    let hex4 = |x: &str| {
        (!x.is_empty() && x.len() <= 4)
            .then(|| u32::from_str_radix(x, 16).ok())
            .flatten()
    };
    Some((hex4(a)?, hex4(b)?))
}

/// A hexadecimal attribute no larger than `max`; a larger value is a warning.
pub(super) fn hex_in_range(sys: &Sysroot, rel: &str, max: u64) -> Option<u32> {
    let v = sys.parse_hex(rel)?;
    match u32::try_from(v) {
        Ok(v) if u64::from(v) <= max => Some(v),
        _ => {
            sys.warn(rel, format!("0x{v:x} is out of range (at most 0x{max:x})"));
            None
        }
    }
}
