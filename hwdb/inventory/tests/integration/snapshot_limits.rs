//! Extracting a snapshot is bounded: a small archive holding a huge file (a gzip bomb), too
//! many bytes in all, or too many entries never makes a read-only probe fill the disk, and
//! whatever was cut or left out is named.

use std::fs;
use std::io::{self, Read, Write};
use std::path::Path;

use inventory::snapshot::{extract, extract_with, Limits};

/// Append a file of `size` zero bytes, streamed (the test never holds it in memory).
fn zeros<W: Write>(b: &mut tar::Builder<W>, name: &str, size: u64) {
    let mut h = tar::Header::new_gnu();
    h.set_size(size);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    b.append_data(&mut h, name, io::repeat(0).take(size))
        .expect("append");
}

fn small<W: Write>(b: &mut tar::Builder<W>, name: &str, text: &str) {
    let mut h = tar::Header::new_gnu();
    h.set_size(text.len() as u64);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    b.append_data(&mut h, name, text.as_bytes())
        .expect("append");
}

fn archive(path: &Path, fill: impl FnOnce(&mut tar::Builder<flate2::write::GzEncoder<fs::File>>)) {
    let f = fs::File::create(path).expect("create");
    let mut b = tar::Builder::new(flate2::write::GzEncoder::new(
        f,
        flate2::Compression::fast(),
    ));
    fill(&mut b);
    b.into_inner().expect("tar").finish().expect("gzip");
}

fn bytes_under(d: &Path) -> u64 {
    let mut n = 0;
    for e in fs::read_dir(d).expect("read_dir").flatten() {
        let md = e.metadata().expect("metadata");
        if md.is_dir() {
            n += bytes_under(&e.path());
        } else {
            n += md.len();
        }
    }
    n
}

#[test]
fn a_gzip_bomb_is_cut_at_the_read_limit() {
    let t = tempfile::tempdir().expect("tmp");
    let a = t.path().join("bomb.tar.gz");
    archive(&a, |b| {
        small(b, "proc/cpuinfo", "processor\t: 0\n");
        zeros(b, "proc/bomb", 256 << 20);
        small(b, "sys/after", "1\n");
    });
    let packed = fs::metadata(&a).expect("md").len();
    assert!(packed < 8 << 20, "the archive is small ({packed} bytes)");
    let dest = t.path().join("x");
    fs::create_dir(&dest).expect("mkdir");
    let x = extract(&a, &dest).expect("extract");
    let written = bytes_under(&dest);
    let cap = hwsys::sysroot::DEFAULT_LIMIT + 1;
    assert!(
        written <= cap + 64,
        "{written} bytes written for a 256 MiB entry"
    );
    assert_eq!(fs::metadata(dest.join("proc/bomb")).expect("md").len(), cap);
    assert_eq!(
        fs::read_to_string(dest.join("sys/after")).expect("after"),
        "1\n"
    );
    assert!(
        x.warnings
            .iter()
            .any(|w| w.contains("proc/bomb") && w.contains("268435456")),
        "{:?}",
        x.warnings
    );
    // The probe of the extracted tree sees the cut file as too large, as on the machine.
    let root = hwsys::Sysroot::new(&dest);
    assert!(
        root.read_bytes("/proc/bomb", hwsys::sysroot::DEFAULT_LIMIT)
            .is_none(),
        "a cut file must still be over the limit"
    );
    assert!(!root.warnings().is_empty(), "and say so");
}

#[test]
fn the_total_and_the_entry_count_are_capped() {
    let t = tempfile::tempdir().expect("tmp");
    let a = t.path().join("many.tar.gz");
    archive(&a, |b| {
        for i in 0..20 {
            zeros(b, &format!("sys/f{i:02}"), 1000);
        }
    });
    let dest = t.path().join("x");
    fs::create_dir(&dest).expect("mkdir");
    let lim = Limits {
        per_file: 4096,
        total: 5500,
        entries: 1000,
    };
    let x = extract_with(&a, &dest, lim).expect("extract");
    assert_eq!(x.bytes, 5000);
    assert_eq!(bytes_under(&dest), 5000);
    assert!(
        x.warnings.iter().any(|w| w.contains("sys/f05: left out")),
        "{:?}",
        x.warnings
    );
    assert!(
        x.warnings.iter().any(|w| w.contains("15 files left out")),
        "{:?}",
        x.warnings
    );

    let dest = t.path().join("y");
    fs::create_dir(&dest).expect("mkdir");
    let lim = Limits {
        entries: 3,
        ..Limits::default()
    };
    let x = extract_with(&a, &dest, lim).expect("extract");
    assert_eq!(x.entries, 3);
    assert!(dest.join("sys/f02").exists() && !dest.join("sys/f03").exists());
    assert!(
        x.warnings.iter().any(|w| w.contains("more than 3 entries")),
        "{:?}",
        x.warnings
    );
}

#[test]
fn a_cut_file_cannot_escape_the_destination() {
    let t = tempfile::tempdir().expect("tmp");
    // A link in the archive pointing out, then a big file written through it.
    let outside = t.path().join("outside");
    fs::create_dir(&outside).expect("mkdir");
    let a = t.path().join("escape.tar.gz");
    archive(&a, |b| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        h.set_mode(0o777);
        b.append_link(&mut h, "sys", &outside).expect("link");
        zeros(b, "sys/big", 64 << 20);
    });
    let dest = t.path().join("x");
    fs::create_dir(&dest).expect("mkdir");
    let r = extract(&a, &dest);
    assert!(r.is_err(), "{r:?}");
    assert!(
        !outside.join("big").exists(),
        "written outside the destination"
    );
}

#[test]
fn garbage_and_truncated_archives_are_clear_errors() {
    let t = tempfile::tempdir().expect("tmp");
    let dest = t.path().join("x");
    fs::create_dir(&dest).expect("mkdir");
    let g = t.path().join("garbage.tar.gz");
    fs::write(&g, b"not a gzip at all").expect("write");
    let e = extract(&g, &dest).expect_err("garbage");
    assert!(e.to_string().contains("garbage.tar.gz"), "{e}");
    let a = t.path().join("ok.tar.gz");
    archive(&a, |b| zeros(b, "proc/x", 100_000));
    let bytes = fs::read(&a).expect("read");
    let cut = t.path().join("cut.tar.gz");
    fs::write(&cut, &bytes[..bytes.len() / 2]).expect("write");
    assert!(
        extract(&cut, &dest).is_err(),
        "a truncated archive is an error"
    );
    let missing = extract(&t.path().join("missing.tar.gz"), &dest).expect_err("missing");
    assert!(missing.to_string().contains("missing.tar.gz"), "{missing}");
}
