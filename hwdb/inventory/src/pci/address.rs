//! PCI bus addresses ("0000:3b:00.0").

/// A PCI address: domain, bus, device, function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PciAddress {
    pub domain: u32,
    pub bus: u8,
    pub device: u8,
    pub function: u8,
}

/// Parse "0000:00:02.0" (the domain may have up to 8 hex digits, as VMD domains do).
pub fn parse_address(s: &str) -> Option<PciAddress> {
    let (domain, rest) = s.split_once(':')?;
    let (bus, rest) = rest.split_once(':')?;
    let (dev, func) = rest.split_once('.')?;
    let hex = |x: &str, min: usize, max: usize| {
        (x.len() >= min && x.len() <= max && x.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| u32::from_str_radix(x, 16).ok())
            .flatten()
    };
    let domain = hex(domain, 4, 8)?;
    let bus = u8::try_from(hex(bus, 2, 2)?).ok()?;
    let device = u8::try_from(hex(dev, 2, 2)?).ok().filter(|d| *d < 32)?;
    let function = (func.len() == 1)
        .then(|| func.parse::<u8>().ok())
        .flatten()
        .filter(|f| *f < 8)?;
    Some(PciAddress {
        domain,
        bus,
        device,
        function,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        let a = parse_address("0000:3b:00.1").expect("address");
        assert_eq!((a.domain, a.bus, a.device, a.function), (0, 0x3b, 0, 1));
        assert_eq!(
            parse_address("10000:e1:1f.7").map(|a| a.domain),
            Some(0x10000)
        );
        for bad in [
            "",
            "0000:00:00",
            "00:00.0",
            "0000:00:20.0",
            "0000:00:00.8",
            "0000:0:00.0",
            "pci0000:00",
            "0000:00:00.0.1",
            "zzzz:00:00.0",
            "0000:00:00.",
        ] {
            assert_eq!(parse_address(bad), None, "{bad}");
        }
        assert!(parse_address("0000:00:1f.0") > parse_address("0000:00:02.0"));
    }
}
