//! Time `inventory::pci::probe` in a fresh process and report its peak memory:
//! `cargo build --release -p hwdb --example pci_probe && target/release/examples/pci_probe
//! [SYSROOT [RUNS]]`. Run the binary itself, not through `cargo run`: Linux carries the peak
//! RSS of the parent across fork and exec, so under cargo it reports cargo's.
//!
//! Compare with `/usr/bin/time -v lspci -vmmnnk` on the same machine.

use std::time::{Duration, Instant};

fn max_rss_kib() -> i64 {
    // SAFETY: getrusage only writes into the zeroed struct we pass.
    unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_SELF, &mut u) == 0 {
            u.ru_maxrss
        } else {
            -1
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let root = args.next().unwrap_or_else(|| "/".into());
    let runs: u32 = args
        .next()
        .and_then(|r| r.parse().ok())
        .unwrap_or(100)
        .max(1);
    let sys = hwsys::Sysroot::new(&root);
    let kernel = sys.attr("proc/sys/kernel/osrelease");

    let start = Instant::now();
    let devs = inventory::pci::probe(&sys, kernel.as_deref());
    let first = start.elapsed();
    let rss_first = max_rss_kib();

    let mut total = Duration::ZERO;
    let mut best = Duration::MAX;
    for _ in 0..runs {
        let s = hwsys::Sysroot::new(&root);
        let t = Instant::now();
        let _ = inventory::pci::probe(&s, kernel.as_deref());
        let e = t.elapsed();
        total += e;
        best = best.min(e);
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "pci::probe {root}: {} functions ({} with modules); first run {:.3} ms, then mean {:.3} ms, fastest {:.3} ms over {runs} runs",
        devs.len(),
        devs.iter().filter(|d| !d.modules.is_empty()).count(),
        ms(first),
        ms(total) / f64::from(runs),
        ms(best),
    );
    println!(
        "peak RSS: {rss_first} KiB after the first probe, {} KiB at the end",
        max_rss_kib()
    );
    for w in sys.warnings() {
        println!("warning: {}: {}", w.path, w.message);
    }
}
