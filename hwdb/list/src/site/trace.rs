//! Where the time of a publish goes, with `HWCERT_SITE_TIMES` set.

use std::io::{self, Write};

/// With `HWCERT_SITE_TIMES` set, where the time goes: wall and CPU time at each step, on
/// stderr (for bench/hcl.sh).
pub(crate) struct Trace {
    start: std::time::Instant,
    on: bool,
}

impl Trace {
    pub fn new() -> Trace {
        Trace {
            start: std::time::Instant::now(),
            on: std::env::var_os("HWCERT_SITE_TIMES").is_some(),
        }
    }

    pub fn at(&self, what: &str) {
        if !self.on {
            return;
        }
        // SAFETY: getrusage fills the struct it is given.
        let ru = unsafe {
            let mut ru: libc::rusage = std::mem::zeroed();
            libc::getrusage(libc::RUSAGE_SELF, &mut ru);
            ru
        };
        let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        // Written with `let _`: a closed stderr must not stop a publish.
        let _ = writeln!(
            io::stderr(),
            "site: {:7.3} s wall {:7.2} s user {:7.2} s sys  {what}",
            self.start.elapsed().as_secs_f64(),
            secs(ru.ru_utime),
            secs(ru.ru_stime)
        );
    }

    pub fn job(&self, what: &str, took: std::time::Duration) {
        if self.on {
            let _ = writeln!(
                io::stderr(),
                "site:   {what} took {:.3} s",
                took.as_secs_f64()
            );
        }
    }
}
