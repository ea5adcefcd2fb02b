//! The queue-depth sweep: which depths a phase tries (1, 2, 4, … up to the largest), when it
//! stops (throughput no longer rising), how the time is split over the steps, and the peak.
//!
//! **Stopping rule.** A step *rises* when its throughput is more than 5 % above the best of
//! all steps before it (the first step always rises). The sweep stops after two consecutive
//! steps that do not rise, or at the largest depth. The peak is the step of the highest
//! throughput (the lower depth on a tie): a noisy dip in one step does not end the sweep, and a
//! plateau ends it two steps in. A step under half the best before it is run once more and the
//! second run kept: on a shared machine (a VM, a busy host) one stall of a second or more would
//! otherwise end the sweep on a figure that is not the device's.
//!
//! **Time.** Every step runs for the same time, [`step_time`]: the sweep's budget split evenly
//! over every step it could take, so the sweep never runs over its budget; the time of steps a
//! sweep does not take (it stopped early) is left to what runs after it.

use std::time::{Duration, Instant};

use super::histogram::Histogram;

/// A step rises when it beats the best before it by more than this factor.
pub(super) const RISE: f64 = 1.05;
/// Consecutive steps that do not rise before the sweep stops.
pub(super) const FLAT_STEPS: usize = 2;
/// The longest step.
pub(super) const MAX_STEP: Duration = Duration::from_secs(30);
/// A step under this share of the best before it is run once more.
pub(super) const STALL: f64 = 0.5;

/// The depths a sweep tries: powers of two from 1 up to `max`, and `max` itself when it is not
/// one (`max` 0 is taken as 1).
pub(super) fn depths(max: usize) -> Vec<usize> {
    let max = max.max(1);
    let mut d: Vec<usize> = std::iter::successors(Some(1usize), |&x| x.checked_mul(2))
        .take_while(|&x| x <= max)
        .collect();
    if d.last() != Some(&max) {
        d.push(max);
    }
    d
}

/// Whether a sweep whose steps so far measured `rates` (in order) stops here: the last
/// [`FLAT_STEPS`] steps each did not rise above [`RISE`] × the best before it.
pub(super) fn stops(rates: &[f64]) -> bool {
    if rates.len() <= FLAT_STEPS {
        return false;
    }
    let first_flat = rates.len() - FLAT_STEPS;
    (first_flat..rates.len()).all(|i| {
        let best = rates[..i].iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        // NaN never rises.
        rates[i].partial_cmp(&(best * RISE)) != Some(std::cmp::Ordering::Greater)
    })
}

/// The time of one step: `budget` over `steps` steps, at most [`MAX_STEP`] (zero steps: zero).
pub(super) fn step_time(budget: Duration, steps: usize) -> Duration {
    if steps == 0 {
        return Duration::ZERO;
    }
    (budget / steps as u32).min(MAX_STEP)
}

/// One step: the depth, the throughput (MB/s or IOPS), the seconds it ran and the latencies.
#[derive(Debug, Clone)]
pub(super) struct Step {
    pub(super) depth: usize,
    pub(super) rate: f64,
    pub(super) secs: f64,
    pub(super) hist: Histogram,
    /// Whether this is the second run of the depth (the first stalled).
    pub(super) retried: bool,
}

impl Step {
    pub(super) fn p99_us(&self) -> f64 {
        self.hist.quantile(0.99) / 1e3
    }
}

/// The step of the highest throughput (the first of equals).
pub(super) fn peak(steps: &[Step]) -> Option<&Step> {
    steps
        .iter()
        .fold(None, |best: Option<&Step>, s| match best {
            Some(b) if b.rate >= s.rate => Some(b),
            _ => Some(s),
        })
}

/// Run one phase: `step(depth, until)` at each of `depths`, each until `step` after its start,
/// until [`stops`] says so or `deadline` has passed (the first step runs whatever the time, so
/// every phase has a figure). A step under [`STALL`] × the best before it runs once more (when
/// there is time) and the second run counts. An error of a step ends the sweep with the steps
/// done so far and the error.
pub(super) fn sweep<E>(
    depths: &[usize],
    step: Duration,
    deadline: Instant,
    mut run: impl FnMut(usize, Instant) -> Result<Step, E>,
) -> (Vec<Step>, Option<E>) {
    let mut steps: Vec<Step> = Vec::new();
    let mut rates: Vec<f64> = Vec::new();
    for &d in depths {
        let now = Instant::now();
        if !steps.is_empty() && now >= deadline {
            break;
        }
        let mut s = match run(d, now + step) {
            Ok(s) => s,
            Err(e) => return (steps, Some(e)),
        };
        let best = rates.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        let now = Instant::now();
        if s.rate.partial_cmp(&(best * STALL)) == Some(std::cmp::Ordering::Less) && now < deadline {
            s = match run(d, now + step) {
                Ok(again) => Step {
                    retried: true,
                    ..again
                },
                Err(e) => return (steps, Some(e)),
            };
        }
        rates.push(s.rate);
        steps.push(s);
        if stops(&rates) {
            break;
        }
    }
    (steps, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(depth: usize, rate: f64) -> Step {
        Step {
            depth,
            rate,
            secs: 1.0,
            hist: Histogram::default(),
            retried: false,
        }
    }

    /// Sweep a synthetic curve (throughput by depth index); the depths it ran.
    fn run_curve(curve: &[f64]) -> Vec<usize> {
        let ds = depths(64);
        let far = Instant::now() + Duration::from_secs(3600);
        let (steps, err) = sweep::<()>(&ds, Duration::ZERO, far, |d, _| {
            let i = ds
                .iter()
                .position(|&x| x == d)
                .expect("a depth of the list");
            Ok(step(d, curve[i]))
        });
        assert!(err.is_none());
        steps.iter().map(|s| s.depth).collect()
    }

    #[test]
    fn the_depths_are_powers_of_two_up_to_the_largest() {
        assert_eq!(depths(64), [1, 2, 4, 8, 16, 32, 64]);
        assert_eq!(depths(1), [1]);
        assert_eq!(depths(0), [1]);
        assert_eq!(depths(48), [1, 2, 4, 8, 16, 32, 48]);
        assert_eq!(depths(usize::MAX).len(), 65);
    }

    #[test]
    fn a_plateau_stops_two_steps_in() {
        // Rising to QD8, then flat: QD16 and QD32 do not rise by 5 %, QD64 is never run.
        let curve = [100.0, 190.0, 350.0, 600.0, 610.0, 620.0, 2000.0];
        assert_eq!(run_curve(&curve), [1, 2, 4, 8, 16, 32]);
        let s: Vec<Step> = curve[..6]
            .iter()
            .enumerate()
            .map(|(i, &r)| step(1 << i, r))
            .collect();
        assert_eq!(peak(&s).map(|p| p.depth), Some(32));
    }

    #[test]
    fn one_noisy_dip_does_not_stop_the_sweep() {
        // QD8 dips, QD16 rises again above the best before it (QD4): the sweep goes on.
        let curve = [100.0, 200.0, 400.0, 380.0, 800.0, 1600.0, 3200.0];
        assert_eq!(run_curve(&curve), [1, 2, 4, 8, 16, 32, 64]);
    }

    #[test]
    fn rises_are_measured_against_the_best_so_far_not_the_last_step() {
        // QD8 falls to 300, QD16 reaches 410 (above QD8 by far, but not 5 % above QD4's 400):
        // two steps without a rise.
        assert_eq!(
            run_curve(&[100.0, 200.0, 400.0, 300.0, 410.0, 900.0, 900.0]),
            [1, 2, 4, 8, 16]
        );
        // +5 % is not a rise; just above is.
        assert!(stops(&[100.0, 105.0, 110.2]));
        assert!(!stops(&[100.0, 105.0, 110.3]));
    }

    #[test]
    fn a_falling_or_dead_curve_stops_early() {
        assert_eq!(
            run_curve(&[500.0, 400.0, 300.0, 1.0, 1.0, 1.0, 1.0]),
            [1, 2, 4]
        );
        assert_eq!(run_curve(&[0.0; 7]), [1, 2, 4]);
        // NaN never rises.
        assert!(stops(&[100.0, f64::NAN, f64::NAN]));
        assert!(!stops(&[100.0, 100.0]));
        assert!(!stops(&[]));
    }

    #[test]
    fn the_peak_is_the_highest_and_the_lower_depth_on_a_tie() {
        let s = [step(1, 10.0), step(2, 30.0), step(4, 30.0), step(8, 20.0)];
        assert_eq!(peak(&s).map(|p| p.depth), Some(2));
        assert!(peak(&[]).is_none());
    }

    #[test]
    fn steps_split_the_budget_and_no_step_starts_after_the_deadline() {
        assert_eq!(
            step_time(Duration::from_secs(21), 21),
            Duration::from_secs(1)
        );
        assert_eq!(step_time(Duration::from_secs(7000), 7), MAX_STEP);
        assert_eq!(step_time(Duration::from_secs(5), 0), Duration::ZERO);
        // A deadline already past: the first step runs its whole time, then the sweep ends.
        let past = Instant::now();
        let (steps, _) = sweep::<()>(&depths(64), Duration::from_secs(5), past, |d, u| {
            assert!(u >= past + Duration::from_secs(5));
            Ok(step(d, d as f64))
        });
        assert_eq!(steps.len(), 1);
        // Each step runs its time from its start; none starts after the deadline.
        let t0 = Instant::now();
        let deadline = t0 + Duration::from_millis(40);
        let (steps, _) = sweep::<()>(&depths(64), Duration::from_millis(15), deadline, |d, u| {
            let now = Instant::now();
            assert!(d == 1 || now < deadline);
            assert!(u <= now + Duration::from_millis(15));
            std::thread::sleep(u.saturating_duration_since(Instant::now()));
            Ok(step(d, d as f64))
        });
        // Rising depths never stop the sweep by the rule: the deadline did (steps of 15 ms
        // starting before 40 ms: 3; fewer when the machine is slow to wake a sleeper).
        assert!((1..=3).contains(&steps.len()), "{}", steps.len());
        assert!(t0.elapsed() >= Duration::from_millis(15 * steps.len() as u64));
    }

    #[test]
    fn a_stalled_step_runs_again_once_and_the_second_run_counts() {
        let far = Instant::now() + Duration::from_secs(60);
        // QD4 stalls the first time (a tenth of QD2), then runs at its real rate: the sweep
        // goes on to the plateau. QD16 stalls twice: the second run is kept, and counts as a
        // step that does not rise.
        let mut calls: Vec<usize> = Vec::new();
        let (steps, _) = sweep::<()>(&depths(64), Duration::ZERO, far, |d, _| {
            calls.push(d);
            let again = calls.iter().filter(|&&x| x == d).count() > 1;
            let rate = match d {
                4 if !again => 20.0,
                16 => 10.0,
                _ => 100.0 * d as f64,
            };
            Ok(step(d, rate))
        });
        assert_eq!(calls, [1, 2, 4, 4, 8, 16, 16, 32, 64]);
        let got: Vec<(usize, f64, bool)> =
            steps.iter().map(|s| (s.depth, s.rate, s.retried)).collect();
        assert_eq!(
            got,
            [
                (1, 100.0, false),
                (2, 200.0, false),
                (4, 400.0, true),
                (8, 800.0, false),
                (16, 10.0, true),
                (32, 3200.0, false),
                (64, 6400.0, false)
            ]
        );
        // Below half, not at half; never past the deadline.
        let mut n = 0;
        let past = Instant::now();
        let (steps, _) = sweep::<()>(&[1, 2], Duration::ZERO, past, |d, _| {
            n += 1;
            Ok(step(d, 1.0))
        });
        assert_eq!((steps.len(), n), (1, 1));
        let mut n = 0;
        sweep::<()>(&[1, 2, 4], Duration::ZERO, far, |d, _| {
            n += 1;
            Ok(step(d, if d == 1 { 100.0 } else { 50.0 }))
        });
        assert_eq!(n, 3);
    }

    #[test]
    fn an_error_ends_the_sweep_with_the_steps_before_it() {
        let far = Instant::now() + Duration::from_secs(60);
        let (steps, err) = sweep(&depths(64), Duration::ZERO, far, |d, _| {
            if d == 4 {
                Err("read error")
            } else {
                Ok(step(d, d as f64))
            }
        });
        assert_eq!(steps.len(), 2);
        assert_eq!(err, Some("read error"));
    }
}
