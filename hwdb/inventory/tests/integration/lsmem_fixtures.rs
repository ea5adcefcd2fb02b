//! Memory blocks against util-linux's own lsmem expectations (../shared/fixtures/util-linux/lsmem).

use crate::common;

use hwsys::Sysroot;

/// The summary lines lsmem prints after its table.
fn expected(text: &str, key: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix(key))
        .map(|v| v.trim().to_string())
}

#[test]
fn lsmem_dumps_agree() {
    let Some(dir) = common::util_linux() else {
        return;
    };
    let dir = dir.join("lsmem");
    let (mut agree, mut total) = (0, 0);
    for name in ["aarch64_16K_16g", "s390-zvm-6g", "x86_64-16g"] {
        let tmp = common::extract(&dir.join(format!("{name}.tar.bz2")));
        let root = common::dump_root(tmp.path());
        let text =
            std::fs::read_to_string(dir.join(format!("lsmem-{name}"))).expect("expected output");
        let sys = Sysroot::new(&root);
        let m = inventory::memory::probe(&sys);
        let checks = [
            ("Memory block size:", m.block_size_bytes),
            ("Total online memory:", m.online_bytes),
            ("Total offline memory:", m.offline_bytes),
        ];
        for (key, ours) in checks {
            let want = expected(&text, key).expect("lsmem prints it");
            let got = ours
                .map(|b| hwsys::units::util_linux_size(b, hwsys::units::SizeStyle::Letter))
                .unwrap_or_default();
            total += 1;
            if got == want {
                agree += 1;
            } else {
                eprintln!("{name}: {key} lsmem {want}, hwcert {got}");
            }
        }
    }
    eprintln!("lsmem fixtures: {agree}/{total} fields agree");
    assert_eq!(agree, total);
}
