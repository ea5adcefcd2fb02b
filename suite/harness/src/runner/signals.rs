//! Signal names, for the reasons of crashes and kills; what the supervisor says when it is
//! interrupted.

use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

/// The signals that end a run from outside, and the message said on each (made before, so the
/// handler only writes it: write(2) is async-signal-safe, formatting is not).
const ENDING: [i32; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];
static MESSAGES: [AtomicPtr<u8>; 3] = [const { AtomicPtr::new(std::ptr::null_mut()) }; 3];
static LENGTHS: [AtomicUsize; 3] = [const { AtomicUsize::new(0) }; 3];

extern "C" fn on_signal(sig: libc::c_int) {
    if let Some(i) = ENDING.iter().position(|s| *s == sig) {
        let p = MESSAGES[i].load(Ordering::Acquire);
        let n = LENGTHS[i].load(Ordering::Acquire);
        if !p.is_null() {
            // SAFETY: p points to n leaked bytes that are never freed nor changed.
            unsafe { libc::write(2, p as *const libc::c_void, n) };
        }
    }
    // SAFETY: signal and raise are async-signal-safe; the default action ends the process
    // with this signal, as if no handler had been installed.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

/// Say `message(name)` on stderr when SIGINT, SIGTERM or SIGHUP ends the process, then end it
/// by that signal as before (the run directory is left as a crash leaves it: resumable).
pub(crate) fn on_interrupt(message: impl Fn(&str) -> String) {
    for (i, sig) in ENDING.into_iter().enumerate() {
        let bytes: &'static mut [u8] =
            Box::leak(message(signal_name(sig)).into_bytes().into_boxed_slice());
        LENGTHS[i].store(bytes.len(), Ordering::Release);
        MESSAGES[i].store(bytes.as_mut_ptr(), Ordering::Release);
        // SAFETY: installing a handler that only calls async-signal-safe functions; a signal
        // the parent made ignored (nohup) stays ignored.
        unsafe {
            if libc::signal(sig, on_signal as *const () as libc::sighandler_t) == libc::SIG_IGN {
                libc::signal(sig, libc::SIG_IGN);
            }
        }
    }
}

/// Signal names for reasons.
pub(crate) fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGXFSZ => "SIGXFSZ",
        libc::SIGSYS => "SIGSYS",
        _ => "signal",
    }
}

/// "killed by signal 11 (SIGSEGV), core dumped" or "…, no core dump": for a process's end.
pub(crate) fn killed_by(sig: i32, core_dumped: bool) -> String {
    format!(
        "killed by signal {sig} ({}), {}",
        signal_name(sig),
        if core_dumped {
            "core dumped"
        } else {
            "no core dump"
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn killed_by_names_the_signal_and_the_core() {
        assert_eq!(
            killed_by(libc::SIGSEGV, true),
            "killed by signal 11 (SIGSEGV), core dumped"
        );
        assert_eq!(
            killed_by(libc::SIGKILL, false),
            "killed by signal 9 (SIGKILL), no core dump"
        );
        assert_eq!(
            killed_by(64, false),
            "killed by signal 64 (signal), no core dump"
        );
    }
}
