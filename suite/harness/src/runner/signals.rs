//! Signal names, for the reasons of crashes and kills.

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
