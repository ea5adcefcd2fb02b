use super::patterns::{Corrupt, PATTERNS};
use super::stream::{add, check_stream, copy, scale, triad, STREAM_Q};
use super::*;
use crate::stress::testing::{live_inventory, machine, options, Log};
use crate::Context;

fn run(settings: &[(&str, &str)], hooks: &Hooks) -> (Verdict, Vec<crate::Measurement>, String) {
    let inv = live_inventory();
    let target = machine();
    let opts = options(1, settings);
    let log = Log::default();
    let mut ctx = Context::new(&inv, "/", &target, &opts, false, Box::new(log.clone()));
    let v = run_with(&mut ctx, hooks);
    let m = ctx.finish(v.clone()).measurements;
    (v, m, log.text())
}

const SMALL: [(&str, &str); 2] = [("memory_bytes", "4M"), ("stream_array_bytes", "4M")];

#[test]
fn stream_counts_bytes_as_stream_does() {
    assert_eq!(stream_bytes(StreamKernel::Copy, 1_000_000), 16_000_000);
    assert_eq!(stream_bytes(StreamKernel::Scale, 1_000_000), 16_000_000);
    assert_eq!(stream_bytes(StreamKernel::Add, 1_000_000), 24_000_000);
    assert_eq!(stream_bytes(StreamKernel::Triad, 1_000_000), 24_000_000);
    // 16 MB in 10 ms is 1600 MB/s (MB = 10^6 bytes).
    assert_eq!(mb_per_s(16_000_000, 0.01), 1600.0);
}

#[test]
fn stream_kernels_compute_what_stream_computes() {
    let n = 1003; // a tail after the 8-wide body
    let mut a = sys::Mapping::new(n * 8).expect("mmap");
    let mut b = sys::Mapping::new(n * 8).expect("mmap");
    let mut c = sys::Mapping::new(n * 8).expect("mmap");
    let (a, b, c) = (
        &mut a.f64_mut()[..n],
        &mut b.f64_mut()[..n],
        &mut c.f64_mut()[..n],
    );
    a.fill(1.0);
    b.fill(2.0);
    c.fill(0.0);
    for _ in 0..3 {
        copy(c, a);
        scale(b, c, STREAM_Q);
        add(c, a, b);
        triad(a, b, c, STREAM_Q);
    }
    assert_eq!(check_stream(a, b, c, 3), Ok(()));
    assert_eq!((a[0], b[n - 1], c[n - 1]), (3375.0, 675.0, 900.0));
    b[n - 1] = 1.0;
    let e = check_stream(a, b, c, 3).expect_err("a wrong value");
    assert!(e.starts_with(&format!("STREAM array b[{}]", n - 1)), "{e}");
}

#[test]
fn stream_runs_on_every_cpu() {
    let cpus = sys::allowed_cpus().expect("affinity");
    let r = run_stream(&cpus, 1 << 19, Duration::from_millis(100))
        .expect("setup")
        .expect("values");
    assert!(r.iterations >= 1);
    assert!(r.rates.iter().all(|&x| x > 0.0), "{r:?}");
}

#[test]
fn every_pattern_detects_a_corrupted_word() {
    for pattern in PATTERNS {
        let hooks = Hooks {
            corrupt: Some(Corrupt {
                pattern,
                word: 1234,
                bit: 17,
            }),
        };
        // One full pass whatever the time (unoptimised test builds are slow).
        let mut s = SMALL.to_vec();
        s.push(("memory_passes", "1"));
        let (v, m, log) = run(&s, &hooks);
        let Verdict::Fail { measured, .. } = &v else {
            panic!("{}: expected a failure, got {v:?}\n{log}", pattern.name())
        };
        assert!(
            measured.starts_with("1 wrong words; cpu") && measured.contains(pattern.name()),
            "{measured}"
        );
        assert!(measured.contains("offset 0x2690 "), "{measured}");
        assert!(measured.contains("bits 0x20000 flipped"), "{measured}");
        let errors = m
            .iter()
            .find(|m| m.name == "memory_errors")
            .expect("errors");
        assert_eq!(errors.value, 1.0);
    }
}

#[test]
fn a_short_run_passes_and_measures_bandwidth() {
    let (v, m, log) = run(&SMALL, &Hooks::default());
    assert_eq!(v, Verdict::Pass, "{log}");
    for name in ["copy_mb_s", "scale_mb_s", "add_mb_s", "triad_mb_s"] {
        let x = m.iter().find(|m| m.name == name).expect(name);
        assert!(x.value > 0.0 && x.unit == "MB/s", "{x:?}");
    }
    let verified = m
        .iter()
        .find(|m| m.name == "bytes_verified")
        .expect("bytes");
    assert!(verified.value > 0.0, "{log}");
}

#[test]
fn passes_mode_runs_exactly_that_many() {
    let mut s = SMALL.to_vec();
    s.push(("memory_passes", "2"));
    let (v, m, log) = run(&s, &Hooks::default());
    assert_eq!(v, Verdict::Pass, "{log}");
    let passes = m.iter().find(|m| m.name == "passes").expect("passes");
    assert_eq!(passes.value, 2.0);
}

#[test]
fn cpu_list_narrows_the_threads() {
    let cpu = *sys::allowed_cpus()
        .expect("affinity")
        .last()
        .expect("a cpu");
    let mut s = SMALL.to_vec();
    let list = cpu.to_string();
    s.push(("cpu_list", &list));
    let (v, _, log) = run(&s, &Hooks::default());
    assert_eq!(v, Verdict::Pass, "{log}");
    assert!(log.contains("STREAM: 1 threads"), "{log}");
    let (v, _, _) = run(&[("cpu_list", "x")], &Hooks::default());
    assert!(matches!(v, Verdict::Error { .. }), "{v:?}");
}

#[test]
fn too_much_memory_is_refused() {
    let (v, _, _) = run(&[("memory_bytes", "1000T")], &Hooks::default());
    assert!(matches!(v, Verdict::Error { .. }), "{v:?}");
    let (v, _, _) = run(&[("memory_share", "2")], &Hooks::default());
    assert!(matches!(v, Verdict::Error { .. }), "{v:?}");
}
