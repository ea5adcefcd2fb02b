//! CPU vulnerabilities: the kernel's `sys/devices/system/cpu/vulnerabilities` files, named and
//! worded as lscpu prints them.

use hwsys::sysroot::Sysroot;

use super::model::{Vulnerability, SYS_CPU};

pub(super) fn read_vulnerabilities(sys: &Sysroot) -> Vec<Vulnerability> {
    let dir = format!("{SYS_CPU}/vulnerabilities");
    let mut out: Vec<Vulnerability> = sys
        .list_dir(&dir)
        .iter()
        .filter(|n| !sys.is_dir(&format!("{dir}/{n}")))
        .filter_map(|n| {
            let text = sys.attr(&format!("{dir}/{n}"))?;
            Some(Vulnerability {
                name: vulnerability_name(n),
                status: vulnerability_text(&text),
            })
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn vulnerability_name(file: &str) -> String {
    let mut name: String = file.replace('_', " ");
    if let Some(first) = name.get(..1) {
        let up = first.to_ascii_uppercase();
        name.replace_range(..1, &up);
    }
    name
}

fn vulnerability_text(text: &str) -> String {
    match text.strip_prefix("Mitigation") {
        Some(rest) => {
            // "Mitigation: X" -> "Mitigation; X", and lscpu drops every other ':'.
            let rest = rest.strip_prefix(':').unwrap_or(rest);
            format!("Mitigation;{}", rest.replace(':', ""))
        }
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_texts() {
        assert_eq!(vulnerability_name("spectre_v2"), "Spectre v2");
        assert_eq!(
            vulnerability_text("Mitigation: Retpolines; IBPB: conditional"),
            "Mitigation; Retpolines; IBPB conditional"
        );
        assert_eq!(vulnerability_text("Vulnerable: x"), "Vulnerable: x");
    }
}
