//! Enables `cfg(hwcert_avx512)` when the compiler has stable AVX-512 intrinsics (Rust 1.89+);
//! older compilers build the AVX2 kernel as the widest x86_64 one.

use std::process::Command;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(hwcert_avx512)");
    println!("cargo::rerun-if-env-changed=RUSTC");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let minor = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|v| {
            // "rustc 1.95.0 (59807616e 2026-04-14)"
            let ver = v.split_whitespace().nth(1)?;
            let mut parts = ver.split('.');
            let major: u32 = parts.next()?.parse().ok()?;
            let minor: u32 = parts.next()?.parse().ok()?;
            Some(if major > 1 { u32::MAX } else { minor })
        });
    if minor.is_some_and(|m| m >= 89) {
        println!("cargo::rustc-cfg=hwcert_avx512");
    }
}
