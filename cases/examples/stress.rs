//! Run one stress case alone, in this process, and print its outcome as JSON (the benchmark's
//! way in; `hwcert run` is the real one).
//!
//! ```text
//! cargo run --release -p cases --example stress -- cpu 10 [KEY=VALUE…]
//! cargo run --release -p cases --example stress -- memory 10 stream_array_bytes=256M
//! cargo run --release -p cases --example stress -- storage vda 10 storage_file_bytes=1G
//! cargo run --release -p cases --example stress -- storage loop0 10 --destructive /dev/loop0
//! ```
//!
//! KEY=VALUE pairs are profile settings (`cpu_list=0`, `memory_bytes=1G`, …). The case's log
//! goes to stderr; stdout gets one JSON object: case, target, verdict, measurements.

use std::process::ExitCode;

use cases::stress::stress_cases;
use cases::{Context, RunOptions, Target, Verdict};

fn usage() -> ExitCode {
    eprintln!(
        "usage: stress cpu|memory SECONDS [KEY=VALUE…]\n       \
         stress storage DISK SECONDS [KEY=VALUE…] [--destructive /dev/DISK]"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        return usage();
    }
    let which = args.remove(0);
    let name = match which.as_str() {
        "cpu" | "memory" | "storage" => format!("{which}::stress"),
        n => n.to_string(),
    };
    let Some(case) = stress_cases().into_iter().find(|c| c.info().name == name) else {
        eprintln!("stress: no case {name}");
        return usage();
    };
    let target = if name == "storage::stress" {
        if args.is_empty() {
            return usage();
        }
        Target::item(args.remove(0), None)
    } else {
        Target::machine()
    };
    let mut options = RunOptions::default();
    let mut rest = args.into_iter();
    while let Some(a) = rest.next() {
        if a == "--destructive" {
            let Some(dev) = rest.next() else {
                return usage();
            };
            options.destructive_devices.push(dev);
        } else if let Some((k, v)) = a.split_once('=') {
            options.settings.insert(k.to_string(), v.to_string());
        } else if let Ok(s) = a.parse::<u64>() {
            options.stress_seconds = Some(s);
        } else {
            eprintln!("stress: what is '{a}'?");
            return usage();
        }
    }
    let inventory = match inventory::probe(&inventory::ProbeOptions {
        udev: false,
        ..inventory::ProbeOptions::default()
    }) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("stress: cannot probe this machine: {e}");
            return ExitCode::FAILURE;
        }
    };
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let mut ctx = Context::new(
        &inventory,
        "/",
        &target,
        &options,
        root,
        Box::new(std::io::stderr()),
    );
    let verdict = case.run(&mut ctx);
    let outcome = ctx.finish(verdict);
    let doc = serde_json::json!({
        "case": name,
        "target": target.id,
        "verdict": outcome.verdict,
        "measurements": outcome.measurements,
    });
    match serde_json::to_string_pretty(&doc) {
        Ok(s) => println!("{s}"),
        Err(e) => {
            eprintln!("stress: {e}");
            return ExitCode::FAILURE;
        }
    }
    if outcome.verdict == Verdict::Pass {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
