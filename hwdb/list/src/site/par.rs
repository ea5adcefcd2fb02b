//! Work shared out to threads: [`par_map`] and [`run_jobs`], and [`lock`], which takes a
//! mutex a panicking thread poisoned all the same.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use documents::Error;

/// Lock `m`, taking it all the same where a thread that held it panicked.
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// `f` of every item, in order, computed on up to `threads` threads taking chunks of `chunk`
/// items as they finish the last.
pub(crate) fn par_map<'a, T: Sync, R: Send>(
    items: &'a [T],
    chunk: usize,
    threads: usize,
    f: impl Fn(&'a T) -> R + Sync,
) -> Vec<R> {
    let chunks: Vec<&'a [T]> = items.chunks(chunk.max(1)).collect();
    let results: Vec<Mutex<Vec<R>>> = chunks.iter().map(|_| Mutex::new(Vec::new())).collect();
    let next = AtomicUsize::new(0);
    let work = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(part) = chunks.get(i) else { return };
        let got: Vec<R> = part.iter().map(&f).collect();
        *lock(&results[i]) = got;
    };
    std::thread::scope(|s| {
        for _ in 1..threads.min(chunks.len()).max(1) {
            s.spawn(work);
        }
        work();
    });
    results
        .into_iter()
        .flat_map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner()))
        .collect()
}

/// Run `jobs` on `threads` threads, each taking the next job when done with one; the first
/// error stops the rest.
pub(crate) fn run_jobs<J: Sync, F>(threads: usize, jobs: &[J], f: F) -> Result<(), Error>
where
    F: Fn(&J) -> Result<(), Error> + Sync,
{
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let first_err: Mutex<Option<Error>> = Mutex::new(None);
    let work = || loop {
        if failed.load(Ordering::Relaxed) {
            return;
        }
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(job) = jobs.get(i) else { return };
        if let Err(e) = f(job) {
            failed.store(true, Ordering::Relaxed);
            lock(&first_err).get_or_insert(e);
            return;
        }
    };
    let n = threads.min(jobs.len()).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = (1..n).map(|_| s.spawn(work)).collect();
        work();
        for h in handles {
            if h.join().is_err() {
                lock(&first_err).get_or_insert_with(|| Error::msg("publishing: a thread panicked"));
            }
        }
    });
    match first_err.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
