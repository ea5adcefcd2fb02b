//! # suite — the `hwcert` command line
//!
//! Only the command line: argument parsing (clap), output, exit statuses. Probing is the
//! `inventory` crate's, planning and running the `harness`'s, reports the `reports`', the
//! hardware list the `hcl`'s.

use anyhow::{Context, Result};

pub mod compare;
pub mod docs;
pub mod hwdb;
pub mod peer;
pub mod plan;
pub mod run;

/// `println!` for people: control characters in the text (device strings, names, reasons read
/// from the machine or a snapshot) are shown escaped, never obeyed by the terminal.
#[macro_export]
macro_rules! say {
    () => { println!() };
    ($($t:tt)*) => { println!("{}", hwsys::text::escape_text(&format!($($t)*))) };
}

/// `eprintln!` for people, escaped as [`say!`].
#[macro_export]
macro_rules! esay {
    () => { eprintln!() };
    ($($t:tt)*) => { eprintln!("{}", hwsys::text::escape_text(&format!($($t)*))) };
}

/// Human-readable text to stdout, control characters escaped ([`hwsys::text::escape_text`]).
pub fn write_human(s: &str) -> Result<()> {
    write_stdout(hwsys::text::escape_text(s).as_bytes())
}

/// Write to stdout; a closed pipe (`hwcert probe | head`) is not an error.
pub fn write_stdout(b: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(b).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("cannot write to standard output"),
    }
}
