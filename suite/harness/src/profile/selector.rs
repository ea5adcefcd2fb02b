//! `applies_to` selectors of command cases: which inventory items get one instance each.
//!
//! | form | one instance per |
//! |---|---|
//! | `pci:VVVV[:DDDD[:SVVV:SDDD]]` | PCI function whose vendor (device, subsystem) ids match |
//! | `class:CC[SS[PP]]` | PCI function whose class code starts so (or matches, with wildcards) |
//! | `driver:NAME` | PCI function bound to a driver whose name matches |
//! | `disk:NAME` | whole disk (`sda`, `nvme0n1`; no partitions, device-mapper, loop) |
//! | `net:NAME` | physical network interface (`enp59s0f0`; no `lo`, bridges, veths) |
//!
//! Each part is a glob ([`Pattern`]); ids are hexadecimal, compared in lower case. The target id
//! is the PCI address, the disk's kernel name or the interface name.

use std::fmt;

use cases::{Inventory, Target};

use super::pattern::{is_name_char, Pattern};

/// One `applies_to` selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    text: String,
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Pci {
        vendor: Pattern,
        device: Pattern,
        subsystem: Option<(Pattern, Pattern)>,
    },
    Class(Pattern),
    Driver(Pattern),
    Disk(Pattern),
    Net(Pattern),
}

const FORMS: &str =
    "pci:VVVV[:DDDD[:SVVV:SDDD]], class:CC[SS[PP]], driver:NAME, disk:NAME or net:NAME";

fn hex(s: &str, what: &str, digits: usize) -> Result<Pattern, String> {
    let p = Pattern::parse_with(&s.to_ascii_lowercase(), |c| c.is_ascii_hexdigit())
        .map_err(|e| format!("{what}: {e} (hexadecimal digits and * ? [ ])"))?;
    if p.is_literal() && s.len() != digits {
        return Err(format!(
            "{what} \"{s}\" must be {digits} hexadecimal digits"
        ));
    }
    Ok(p)
}

impl Selector {
    /// Parse one selector.
    pub fn parse(text: &str) -> Result<Selector, String> {
        let bad = || format!("\"{text}\" is not a selector (use {FORMS})");
        let (kind, rest) = text.split_once(':').ok_or_else(bad)?;
        let kind = match kind {
            "pci" => {
                let parts: Vec<&str> = rest.split(':').collect();
                let any = || Pattern::parse_with("*", |_| false).map_err(|e| e.to_string());
                match parts.as_slice() {
                    [v] => Kind::Pci {
                        vendor: hex(v, "vendor id", 4)?,
                        device: any()?,
                        subsystem: None,
                    },
                    [v, d] => Kind::Pci {
                        vendor: hex(v, "vendor id", 4)?,
                        device: hex(d, "device id", 4)?,
                        subsystem: None,
                    },
                    [v, d, sv, sd] => Kind::Pci {
                        vendor: hex(v, "vendor id", 4)?,
                        device: hex(d, "device id", 4)?,
                        subsystem: Some((
                            hex(sv, "subsystem vendor id", 4)?,
                            hex(sd, "subsystem device id", 4)?,
                        )),
                    },
                    _ => return Err(bad()),
                }
            }
            "class" => {
                let mut p = rest.to_ascii_lowercase();
                let lit = !p.contains(['*', '?', '[']);
                if lit && !matches!(p.len(), 2 | 4 | 6) {
                    return Err(format!(
                        "class \"{rest}\" must be 2, 4 or 6 hexadecimal digits (class, subclass, \
                         programming interface)"
                    ));
                }
                if lit {
                    p.push('*');
                }
                Kind::Class(
                    Pattern::parse_with(&p, |c| c.is_ascii_hexdigit())
                        .map_err(|e| format!("class: {e} (hexadecimal digits and * ? [ ])"))?,
                )
            }
            "driver" => Kind::Driver(Pattern::name(rest)?),
            "disk" => Kind::Disk(Pattern::name(rest)?),
            "net" => Kind::Net(Pattern::parse_with(rest, |c| {
                is_name_char(c) || c == '@' || c == '+'
            })?),
            _ => return Err(bad()),
        };
        Ok(Selector {
            text: text.to_string(),
            kind,
        })
    }

    /// The selector as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    fn matches_pci(&self, d: &inventory::pci::PciDevice) -> bool {
        let m = |p: &Pattern, v: &Option<String>| {
            v.as_deref()
                .is_some_and(|v| p.matches(&v.to_ascii_lowercase()))
        };
        match &self.kind {
            Kind::Pci {
                vendor,
                device,
                subsystem,
            } => {
                m(vendor, &d.vendor_id)
                    && m(device, &d.device_id)
                    && subsystem.as_ref().is_none_or(|(sv, sd)| {
                        m(sv, &d.subsystem_vendor_id) && m(sd, &d.subsystem_device_id)
                    })
            }
            Kind::Class(p) => m(p, &d.class_id),
            Kind::Driver(p) => m(p, &d.driver),
            _ => false,
        }
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The targets any of `sels` picks, in inventory order (PCI functions, then disks, then
/// interfaces), each once.
pub fn select(sels: &[Selector], inv: &Inventory) -> Vec<Target> {
    let mut out = Vec::new();
    for d in &inv.pci {
        if sels.iter().any(|s| s.matches_pci(d)) {
            out.push(Target::item(d.address.clone(), Some(d.label())));
        }
    }
    for b in &inv.storage {
        if b.kind.as_deref() != Some("disk") {
            continue;
        }
        if sels
            .iter()
            .any(|s| matches!(&s.kind, Kind::Disk(p) if p.matches(&b.name)))
        {
            let label = [b.vendor.as_deref(), b.model.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            out.push(Target::item(
                b.name.clone(),
                (!label.is_empty()).then_some(label),
            ));
        }
    }
    for n in &inv.network {
        if n.is_virtual {
            continue;
        }
        if sels
            .iter()
            .any(|s| matches!(&s.kind, Kind::Net(p) if p.matches(&n.name)))
        {
            let label = n.driver.as_ref().map(|d| format!("{} ({d})", n.name));
            out.push(Target::item(n.name.clone(), label));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pci(
        addr: &str,
        v: &str,
        d: &str,
        class: &str,
        driver: Option<&str>,
    ) -> inventory::pci::PciDevice {
        inventory::pci::PciDevice {
            address: addr.into(),
            vendor_id: Some(v.into()),
            device_id: Some(d.into()),
            subsystem_vendor_id: Some("1000".into()),
            subsystem_device_id: Some("4000".into()),
            class_id: Some(class.into()),
            driver: driver.map(Into::into),
            ..Default::default()
        }
    }

    fn names(sel: &[&str], inv: &Inventory) -> Vec<String> {
        let sels: Vec<Selector> = sel
            .iter()
            .map(|s| Selector::parse(s).expect("valid"))
            .collect();
        select(&sels, inv)
            .into_iter()
            .filter_map(|t| t.id)
            .collect()
    }

    #[test]
    fn pci_forms() {
        let inv = Inventory {
            pci: vec![
                pci("0000:3a:00.0", "8086", "2030", "060400", Some("pcieport")),
                pci(
                    "0000:3b:00.0",
                    "1000",
                    "10e2",
                    "010400",
                    Some("megaraid_sas"),
                ),
                pci("0000:af:00.0", "1000", "0097", "010700", Some("mpt3sas")),
            ],
            ..Default::default()
        };
        assert_eq!(names(&["pci:1000:*"], &inv).len(), 2);
        assert_eq!(names(&["pci:1000"], &inv).len(), 2);
        assert_eq!(names(&["pci:1000:10E2"], &inv), ["0000:3b:00.0"]);
        assert_eq!(names(&["pci:1000:10e2:1000:4000"], &inv), ["0000:3b:00.0"]);
        assert!(names(&["pci:1000:10e2:1000:4001"], &inv).is_empty());
        assert_eq!(names(&["class:0104"], &inv), ["0000:3b:00.0"]);
        assert_eq!(names(&["class:01"], &inv).len(), 2);
        assert_eq!(names(&["class:01??00"], &inv).len(), 2);
        assert_eq!(names(&["driver:mpt*"], &inv), ["0000:af:00.0"]);
        // A union, in inventory order, each once.
        assert_eq!(
            names(&["driver:mpt3sas", "pci:8086:*", "pci:1000:0097"], &inv),
            ["0000:3a:00.0", "0000:af:00.0"]
        );
    }

    #[test]
    fn bad_selectors() {
        for bad in [
            "pci",
            "pci:",
            "pci:15b",
            "pci:15b3:1",
            "pci:xyz1:*",
            "pci:15b3:1017:1",
            "usb:1234",
            "class:1",
            "class:01x",
            "disk:",
            "driver:a b",
            "15b3:1017",
            "pci:15b3:[1",
        ] {
            assert!(Selector::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
