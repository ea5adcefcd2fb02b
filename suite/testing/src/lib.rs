//! # testing — what hwcert's tests share (never shipped: `publish = false`)
//!
//! - [`fixtures`]: where the recorded machines are (this repository's and `../shared`'s);
//! - [`rundir`]: run directories as `hwcert run` leaves them, built from a recorded machine;
//! - [`synth`]: synthetic hardware-list stores of any size;
//! - [`browser`]: a headless Chromium driven over the DevTools protocol;
//! - [`selftest`]: cases that pass, fail, hang, crash and leak, for the runner's own tests
//!   (compiled into test builds of `hwcert` through the harness's `selftest` feature).

pub mod browser;
pub mod fixtures;
pub mod machine;
pub mod rundir;
pub mod selftest;
pub mod synth;
pub mod vmcore;
