//! PCIe link state from the link attributes.

use super::model::PciLink;
use hwsys::sysroot::Sysroot;

pub(super) fn read_link_state(
    sys: &Sysroot,
    dir: &str,
    has: &dyn Fn(&str) -> bool,
) -> Option<PciLink> {
    let speed = |attr: &str| {
        if !has(attr) {
            return None;
        }
        let rel = format!("{dir}/{attr}");
        let text = sys.attr(&rel)?;
        if text.starts_with("Unknown") {
            return None;
        }
        let gts = parse_gts(&text);
        if gts.is_none() {
            sys.warn(&rel, format!("cannot parse the link speed '{text}'"));
        }
        Some((text, gts))
    };
    let width = |attr: &str| {
        if !has(attr) {
            return None;
        }
        let rel = format!("{dir}/{attr}");
        // 0 is a link that is down; 255 (or any other value) is not a width a link can have.
        sys.parse::<u32>(&rel).filter(|w| (1..=32).contains(w))
    };
    let (current_speed, current_gts) = speed("current_link_speed").unzip();
    let (max_speed, max_gts) = speed("max_link_speed").unzip();
    let link = PciLink {
        current_speed,
        current_width: width("current_link_width"),
        max_speed,
        max_width: width("max_link_width"),
        current_gts: current_gts.flatten(),
        max_gts: max_gts.flatten(),
    };
    (link != PciLink::default()).then_some(link)
}

/// "8.0 GT/s PCIe", "2.5 GT/s", "8 GT/s" → GT/s.
fn parse_gts(s: &str) -> Option<f64> {
    let mut words = s.split_whitespace();
    let n: f64 = words.next()?.parse().ok()?;
    (words.next()? == "GT/s" && n.is_finite() && n > 0.0).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speeds() {
        assert_eq!(parse_gts("8.0 GT/s PCIe"), Some(8.0));
        assert_eq!(parse_gts("2.5 GT/s"), Some(2.5));
        assert_eq!(parse_gts("16 GT/s"), Some(16.0));
        assert_eq!(parse_gts("Unknown speed"), None);
        assert_eq!(parse_gts("8.0"), None);
        assert_eq!(parse_gts("NaN GT/s"), None);
    }
}
