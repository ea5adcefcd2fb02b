//! `cpu::stress`: every online CPU computes known answers for the stress duration.
//!
//! One thread is pinned (`sched_setaffinity`) to each online CPU this process may use. Each
//! runs *rounds*: one FMA matrix product on the widest vector unit ([`Kernel::widest`]) and
//! one set of integer hash chains ([`kernels`]), compared bit for bit with a reference
//! computed once (on the first CPU, and checked against the digest built into hwcert). A wrong
//! answer fails the case and names the CPU, the kernel, the input set and the first differing
//! value; the other CPUs stop soon after.
//!
//! **Throughput.** `cpuN_ops_per_s` counts rounds per second on CPU N (one op = one round =
//! 262,144 fused multiply-adds and 16,384 hash-chain steps); `total_ops_per_s` is their sum,
//! `fma_gflops` the floating-point rate (2 flops per FMA). A CPU more than 20 %
//! (`cpu_slow_ratio`, default 0.8) below the median of CPUs of its kind (hybrid machines
//! compare P-cores with P-cores) gets its measurement judged against that threshold and a log
//! line, but does **not** fail the case unless the profile sets `cpu_slow_fail = true`: on
//! virtual machines (steal time, reported as `steal_percent`), with SMT siblings busy, under
//! thermal or power capping a 20 % spread is no hardware defect, and a certification must not
//! fail on the host's load. Wrong answers and new machine-check/EDAC errors always fail.
//!
//! Settings: `cpu_kernel` (`auto`, `avx512`, `avx2`, `neon`, `scalar`), `cpu_list` (test only
//! these CPUs, list syntax `0-3,8`), `cpu_slow_ratio`, `cpu_slow_fail`.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hwsys::sysroot::parse_cpu_list;
use hwsys::Sysroot;

use super::counters::{self, Counters};
use super::kernels::{self, Inputs, Kernel, Reference, FMAS_PER_ROUND, N, SETS, STEPS};
use super::settings::{self, bool_setting, duration, setting, STRESS_TIMEOUT};
use super::sys;
use crate::{Case, CaseInfo, Component, Context, Inventory, Requirements, Selection, Target};
use crate::{Verdict, Verdict as V};

/// The case.
pub struct CpuStress {
    info: CaseInfo,
}

impl CpuStress {
    pub fn new() -> CpuStress {
        CpuStress {
            info: CaseInfo {
                name: "cpu::stress".into(),
                purpose: "Every online CPU computes known answers (integer hash chains, FMA \
                          matrix products on the widest vector unit) under full load, with no \
                          new machine-check or EDAC errors"
                    .into(),
                component: Component::Cpu,
                requirements: Requirements {
                    live: true,
                    ..Requirements::default()
                },
                timeout: STRESS_TIMEOUT,
                estimate: Duration::from_secs(600),
                blocker: true,
            },
        }
    }
}

impl Default for CpuStress {
    fn default() -> Self {
        CpuStress::new()
    }
}

impl Case for CpuStress {
    fn info(&self) -> &CaseInfo {
        &self.info
    }

    fn select(&self, _inv: &Inventory) -> Selection {
        Selection::Targets(vec![Target::machine()])
    }

    fn run(&self, ctx: &mut Context<'_>) -> Verdict {
        run_with(ctx, &Hooks::default())
    }
}

/// Test hooks.
#[derive(Debug, Default)]
pub(crate) struct Hooks {
    /// Flip one bit of one result before it is compared.
    pub flip: Option<Flip>,
}

/// Where to flip a bit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Flip {
    pub cpu: u32,
    pub round: u64,
    /// The hash chain's result (else the matrix product's).
    pub chain: bool,
}

/// What one CPU did.
#[derive(Debug)]
struct CpuRun {
    cpu: u32,
    rounds: u64,
    secs: f64,
    wrong: Option<String>,
    error: Option<String>,
}

pub(crate) fn run_with(ctx: &mut Context<'_>, hooks: &Hooks) -> Verdict {
    let dur = duration(ctx.options);
    let kernel = match setting::<String>(ctx, "cpu_kernel") {
        Err(e) => return V::error(e),
        Ok(None) => Kernel::widest(),
        Ok(Some(k)) => match Kernel::parse(&k) {
            Some(k) if k.available() => k,
            Some(k) => {
                return V::skip(format!(
                    "cpu_kernel = {}: not available on this CPU or in this build",
                    k.name()
                ))
            }
            None => {
                return V::error(format!(
                    "cpu_kernel = '{k}': expected auto, avx512, avx2, neon or scalar"
                ))
            }
        },
    };
    let slow_ratio = match setting::<f64>(ctx, "cpu_slow_ratio") {
        Err(e) => return V::error(e),
        Ok(Some(r)) if !(0.0..=1.0).contains(&r) => {
            return V::error(format!(
                "cpu_slow_ratio = {r}: expected a fraction between 0 and 1"
            ))
        }
        Ok(r) => r.unwrap_or(0.8),
    };
    let slow_fail = match bool_setting(ctx, "cpu_slow_fail") {
        Err(e) => return V::error(e),
        Ok(v) => v.unwrap_or(false),
    };
    let (cpus, excluded) = match settings::stress_cpus(ctx) {
        Ok(c) => c,
        Err(e) => return V::error(e),
    };
    if !excluded.is_empty() {
        ctx.log(format!(
            "online CPUs {} are outside this process's affinity mask: not tested",
            hwsys::sysroot::format_cpu_list(&excluded)
        ));
    }
    ctx.log(format!(
        "{} CPUs ({}), kernel {}, {} s",
        cpus.len(),
        hwsys::sysroot::format_cpu_list(&cpus),
        kernel.name(),
        dur.as_secs_f64()
    ));

    // The reference, on the first CPU, checked against the built-in digest.
    let inputs = Inputs::new();
    let first = cpus[0];
    let reference = std::thread::scope(|s| {
        s.spawn(|| {
            let pinned = sys::pin_to(first).is_ok();
            (Reference::compute(&inputs), pinned)
        })
        .join()
    });
    let Ok((reference, pinned)) = reference else {
        return V::error("the reference computation panicked");
    };
    let digest = reference.digest();
    if digest != kernels::REFERENCE_DIGEST {
        let on = if pinned {
            format!("cpu{first}")
        } else {
            "an unpinned CPU".into()
        };
        return V::fail(
            format!(
                "reference results with digest {:#018x}",
                kernels::REFERENCE_DIGEST
            ),
            format!("digest {digest:#018x} computed on {on} (scalar FMA and hash chains)"),
        );
    }

    let before = Counters::read(&ctx.sysroot);
    let times_before = cpu_times(&ctx.sysroot);
    if !counters::has_mca(&ctx.sysroot) && !before.has_edac() {
        ctx.log("no machine-check (sys/devices/system/machinecheck) or EDAC counters: hardware errors are seen only through proc/interrupts");
    }

    let stop = AtomicBool::new(false);
    let deadline = Instant::now() + dur;
    let runs: Vec<CpuRun> = std::thread::scope(|s| {
        let handles: Vec<_> = cpus
            .iter()
            .map(|&cpu| {
                let (inputs, reference, stop) = (&inputs, &reference, &stop);
                let flip = hooks.flip.filter(|f| f.cpu == cpu);
                s.spawn(move || worker(cpu, kernel, inputs, reference, deadline, stop, flip))
            })
            .collect();
        handles
            .into_iter()
            .zip(&cpus)
            .map(|(h, &cpu)| {
                h.join().unwrap_or_else(|_| CpuRun {
                    cpu,
                    rounds: 0,
                    secs: 0.0,
                    wrong: None,
                    error: Some(format!("cpu{cpu}: the stress thread panicked")),
                })
            })
            .collect()
    });
    let after = Counters::read(&ctx.sysroot);
    let times_after = cpu_times(&ctx.sysroot);

    // Throughput, per CPU and in total.
    let rate = |r: &CpuRun| {
        if r.secs > 0.0 {
            r.rounds as f64 / r.secs
        } else {
            0.0
        }
    };
    let groups = core_groups(ctx.inventory, &cpus);
    let mut slow = Vec::new();
    for r in &runs {
        let peers: Vec<f64> = runs
            .iter()
            .filter(|o| groups.get(&o.cpu) == groups.get(&r.cpu))
            .map(rate)
            .collect();
        let limit = slow_ratio * median(&peers);
        let ok = ctx.judge(
            &format!("cpu{}_ops_per_s", r.cpu),
            rate(r),
            "rounds/s",
            ">=",
            limit,
        );
        if !ok && r.error.is_none() && r.wrong.is_none() {
            let steal = steal_percent(&times_before, &times_after, &format!("cpu{}", r.cpu));
            slow.push(format!(
                "cpu{} at {:.0} rounds/s, {:.0} % below the median {:.0} of its kind{}",
                r.cpu,
                rate(r),
                100.0 * (1.0 - rate(r) / median(&peers)),
                median(&peers),
                steal
                    .map(|s| format!(" ({s:.0} % steal time)"))
                    .unwrap_or_default()
            ));
        }
    }
    let total: f64 = runs.iter().map(rate).sum();
    ctx.measure("total_ops_per_s", total, "rounds/s");
    ctx.measure(
        "fma_gflops",
        total * FMAS_PER_ROUND as f64 * 2.0 / 1e9,
        "GFLOP/s",
    );
    ctx.measure("cpus_tested", runs.len() as f64, "CPUs");
    if let Some(s) = steal_percent(&times_before, &times_after, "cpu") {
        ctx.measure("steal_percent", s, "%");
    }
    let wrong: Vec<&String> = runs.iter().filter_map(|r| r.wrong.as_ref()).collect();
    ctx.judge("wrong_answers", wrong.len() as f64, "CPUs", "==", 0.0);
    let new_errors = after.new_errors(&before);
    ctx.judge(
        "new_hardware_errors",
        new_errors.len() as f64,
        "counters",
        "==",
        0.0,
    );
    for s in &slow {
        ctx.log(format!(
            "{}: {s}",
            if slow_fail {
                "slow CPU"
            } else {
                "advisory: slow CPU"
            }
        ));
    }

    if !wrong.is_empty() {
        return V::fail(
            format!(
                "every CPU computes the known answers (FMA matrix product with {}, integer hash chains)",
                kernel.name()
            ),
            wrong.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("; "),
        );
    }
    if !new_errors.is_empty() {
        return V::fail("no new machine-check or EDAC errors", new_errors.join("; "));
    }
    let errors: Vec<&String> = runs.iter().filter_map(|r| r.error.as_ref()).collect();
    if !errors.is_empty() {
        return V::error(
            errors
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("; "),
        );
    }
    if slow_fail && !slow.is_empty() {
        return V::fail(
            format!(
                "every CPU at least {:.0} % of the median throughput of its kind",
                slow_ratio * 100.0
            ),
            slow.join("; "),
        );
    }
    Verdict::Pass
}

fn worker(
    cpu: u32,
    kernel: Kernel,
    inputs: &Inputs,
    reference: &Reference,
    deadline: Instant,
    stop: &AtomicBool,
    flip: Option<Flip>,
) -> CpuRun {
    let mut run = CpuRun {
        cpu,
        rounds: 0,
        secs: 0.0,
        wrong: None,
        error: None,
    };
    if let Err(e) = sys::pin_to(cpu) {
        run.error = Some(format!(
            "cpu{cpu}: cannot pin a thread to it: {e} (not tested)"
        ));
        return run;
    }
    let start = Instant::now();
    let mut c = vec![0.0f64; N * N];
    loop {
        let round = run.rounds;
        let set = (round % SETS as u64) as usize;
        kernel.matmul(black_box(&inputs.a[set]), black_box(&inputs.b[set]), &mut c);
        let mut chain = kernels::hash_chain(black_box(inputs.seeds[set]), STEPS);
        if let Some(f) = flip.filter(|f| f.round == round) {
            if f.chain {
                chain[0] ^= 1;
            } else {
                c[0] = f64::from_bits(c[0].to_bits() ^ 1);
            }
        }
        if let Some(i) = c
            .iter()
            .zip(&reference.c[set])
            .position(|(x, y)| x.to_bits() != y.to_bits())
        {
            let (got, want) = (c[i].to_bits(), reference.c[set][i].to_bits());
            run.wrong = Some(format!(
                "cpu{cpu}: FMA matrix product ({}) input set {set}, C[{}][{}] = {got:#018x}, \
                 expected {want:#018x} (bits {:#x} differ), round {round}",
                kernel.name(),
                i / N,
                i % N,
                got ^ want
            ));
        } else if let Some(l) = (0..chain.len()).find(|&l| chain[l] != reference.chains[set][l]) {
            let (got, want) = (chain[l], reference.chains[set][l]);
            run.wrong = Some(format!(
                "cpu{cpu}: integer hash chain input set {set} lane {l} = {got:#018x}, \
                 expected {want:#018x}, round {round}"
            ));
        }
        run.rounds += 1;
        if run.wrong.is_some() {
            stop.store(true, Ordering::Relaxed);
            break;
        }
        if run.rounds.is_multiple_of(4)
            && (stop.load(Ordering::Relaxed) || Instant::now() >= deadline)
        {
            break;
        }
    }
    run.secs = start.elapsed().as_secs_f64();
    if run.wrong.is_none() && sys::current_cpu().is_some_and(|c| c != cpu) {
        run.error = Some(format!("cpu{cpu}: the pinned thread ran elsewhere"));
    }
    run
}

/// CPU → its kind (index into the inventory's core types; 0 when the machine has one kind).
fn core_groups(inv: &Inventory, cpus: &[u32]) -> BTreeMap<u32, usize> {
    let kinds: Vec<Vec<u32>> = inv
        .cpu
        .core_types
        .iter()
        .map(|t| parse_cpu_list(&t.cpus).unwrap_or_default())
        .collect();
    cpus.iter()
        .map(|&c| {
            let k = kinds
                .iter()
                .position(|l| l.contains(&c))
                .map_or(0, |p| p + 1);
            (c, k)
        })
        .collect()
}

/// `proc/stat` CPU lines: name → (total jiffies, steal jiffies).
fn cpu_times(sys: &Sysroot) -> BTreeMap<String, (u64, u64)> {
    let Some(text) = sys.read("proc/stat") else {
        return BTreeMap::new();
    };
    text.lines()
        .filter(|l| l.starts_with("cpu"))
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let name = f.next()?.to_string();
            let v: Vec<u64> = f.map_while(|x| x.parse().ok()).collect();
            // user nice system idle iowait irq softirq steal [guest guest_nice] (guest is
            // already inside user)
            let total = v.iter().take(8).sum();
            Some((name, (total, v.get(7).copied().unwrap_or(0))))
        })
        .collect()
}

/// Steal time of one `proc/stat` line between two readings, in percent.
fn steal_percent(
    before: &BTreeMap<String, (u64, u64)>,
    after: &BTreeMap<String, (u64, u64)>,
    name: &str,
) -> Option<f64> {
    let (t0, s0) = before.get(name)?;
    let (t1, s1) = after.get(name)?;
    let dt = t1.checked_sub(*t0)?;
    (dt > 0).then(|| 100.0 * s1.saturating_sub(*s0) as f64 / dt as f64)
}

/// The median of some numbers (the mean of the middle two for an even count); 0 for none.
fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stress::testing::{live_inventory, machine, options, Log};
    use crate::Context;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
    }

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

    fn last_cpu() -> u32 {
        *sys::allowed_cpus()
            .expect("affinity")
            .last()
            .expect("a cpu")
    }

    #[test]
    fn one_second_on_every_cpu_passes_with_per_cpu_throughput() {
        let (v, m, log) = run(&[], &Hooks::default());
        assert_eq!(v, Verdict::Pass, "{log}");
        // The log names the kernel that ran: the widest here (neon on aarch64).
        assert!(
            log.contains(&format!("kernel {}, ", Kernel::widest().name())),
            "{log}"
        );
        let names: Vec<&str> = m.iter().map(|m| m.name.as_str()).collect();
        for c in sys::allowed_cpus().expect("affinity") {
            let name = format!("cpu{c}_ops_per_s");
            let per = m.iter().find(|m| m.name == name).expect(&name);
            assert!(per.value > 0.0);
            assert_eq!(per.unit, "rounds/s");
            let t = per.threshold.as_ref().expect("threshold");
            assert_eq!(t.op, ">=");
        }
        assert!(names.contains(&"total_ops_per_s"));
        assert!(names.contains(&"fma_gflops"));
        let wrong = m.iter().find(|m| m.name == "wrong_answers").expect("wrong");
        assert_eq!(wrong.value, 0.0);
        assert_eq!(wrong.threshold.as_ref().map(|t| t.value), Some(0.0));
    }

    #[test]
    fn a_flipped_matrix_bit_fails_and_names_the_cpu() {
        let cpu = last_cpu();
        let flip = Flip {
            cpu,
            round: 2,
            chain: false,
        };
        let (v, _, _) = run(&[("cpu_kernel", "auto")], &Hooks { flip: Some(flip) });
        let Verdict::Fail { measured, .. } = v else {
            panic!("expected a failure, got {v:?}")
        };
        assert!(
            measured.starts_with(&format!("cpu{cpu}: FMA matrix product")),
            "{measured}"
        );
        assert!(
            measured.contains("C[0][0]") && measured.contains("round 2"),
            "{measured}"
        );
        // The vector kernel caught it, and says which: NEON on aarch64 (issue 14).
        let widest = Kernel::widest();
        #[cfg(target_arch = "aarch64")]
        assert_eq!(widest, Kernel::Neon);
        assert!(
            measured.contains(&format!("({})", widest.name())),
            "{measured}"
        );
    }

    #[test]
    fn a_flipped_chain_bit_fails_and_names_the_cpu() {
        let cpu = last_cpu();
        let flip = Flip {
            cpu,
            round: 1,
            chain: true,
        };
        let (v, _, _) = run(&[("cpu_kernel", "scalar")], &Hooks { flip: Some(flip) });
        let Verdict::Fail { measured, .. } = v else {
            panic!("expected a failure, got {v:?}")
        };
        assert!(
            measured.starts_with(&format!("cpu{cpu}: integer hash chain")),
            "{measured}"
        );
    }

    #[test]
    fn bad_settings_are_errors() {
        let (v, _, _) = run(&[("cpu_kernel", "mmx")], &Hooks::default());
        assert!(matches!(v, Verdict::Error { .. }), "{v:?}");
        let (v, _, _) = run(&[("cpu_list", "9999")], &Hooks::default());
        assert!(matches!(v, Verdict::Error { .. }), "{v:?}");
    }

    #[test]
    fn steal_is_a_share_of_all_jiffies() {
        let b = BTreeMap::from([("cpu".to_string(), (1000, 10))]);
        let a = BTreeMap::from([("cpu".to_string(), (1200, 60))]);
        assert_eq!(steal_percent(&b, &a, "cpu"), Some(25.0));
        assert_eq!(steal_percent(&b, &a, "cpu7"), None);
    }
}
