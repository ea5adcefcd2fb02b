//! Secrets in the process environment. A variable removed with `std::env::remove_var` is gone
//! from `environ`, but not from the environment block the kernel copied onto the stack at
//! exec: that block is what `/proc/PID/environ` shows, to every process of the same user, for
//! the whole life of the process. [`take`] removes the variable and overwrites that copy.

use std::ffi::{c_char, CStr, OsString};

extern "C" {
    static mut environ: *mut *mut c_char;
}

/// Take a variable out of this process's environment: its value (`None` when it is not set),
/// once it is removed from the environment and every `NAME=value` string of it — in the block
/// the process got at exec, which `/proc/PID/environ` reads — is overwritten with zeros.
///
/// # Safety
///
/// Call it before any other thread starts: it changes the environment and writes the memory
/// `environ` points to, which nothing may read at the same time.
pub unsafe fn take(name: &str) -> Option<OsString> {
    let value = std::env::var_os(name)?;
    let prefix = format!("{name}=");
    // The strings first: remove_var takes them out of `environ` (glibc never frees them).
    let mut strings: Vec<(*mut c_char, usize)> = Vec::new();
    // SAFETY (the caller's): no other thread touches the environment.
    let mut p = unsafe { environ };
    if !p.is_null() {
        // SAFETY: `environ` is a null-terminated array of C strings.
        unsafe {
            while !(*p).is_null() {
                let s = CStr::from_ptr(*p).to_bytes();
                if s.starts_with(prefix.as_bytes()) {
                    strings.push((*p, s.len()));
                }
                p = p.add(1);
            }
        }
    }
    std::env::remove_var(name);
    for (s, len) in strings {
        for i in 0..len {
            // SAFETY: within the string found above, which is still allocated.
            unsafe { std::ptr::write_volatile(s.add(i), 0) };
        }
    }
    Some(value)
}
