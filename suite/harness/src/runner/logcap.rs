//! The log cap: one attempt of an instance keeps at most `cap` bytes of output in its log —
//! the first half and the last half — and a line where the rest was, saying how many bytes
//! were dropped. A case printing 100 MB leaves a log of a few MiB, and neither the supervisor
//! nor the worker ever holds more than half the cap in memory.
//!
//! The supervisor gives each worker a pipe as its stdout and stderr (so everything the
//! worker, its case and whatever they start write goes through it) and a thread of
//! [`LogPump`] copies the pipe into the log: straight through while the attempt's output fits
//! the cap, so that a log can be followed live and survives a supervisor's crash; past the
//! cap the log keeps the head, followed by a line saying that the rest is held back, and the
//! last half-cap of output waits in a ring buffer ([`Ring`]) until the attempt ends.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hwsys::units::iec;

/// The last `cap` bytes of a stream.
#[derive(Debug)]
pub struct Ring {
    buf: Vec<u8>,
    cap: usize,
    /// The oldest byte once `buf` is full (0 until then).
    start: usize,
    /// Every byte pushed.
    seen: u64,
}

impl Ring {
    pub fn new(cap: usize) -> Ring {
        Ring {
            buf: Vec::new(),
            cap,
            start: 0,
            seen: 0,
        }
    }

    pub fn push(&mut self, mut data: &[u8]) {
        self.seen += data.len() as u64;
        if self.cap == 0 {
            return;
        }
        if data.len() >= self.cap {
            self.buf.clear();
            self.buf.extend_from_slice(&data[data.len() - self.cap..]);
            self.start = 0;
            return;
        }
        if self.buf.len() < self.cap {
            let n = (self.cap - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..n]);
            data = &data[n..];
        }
        while !data.is_empty() {
            let n = (self.cap - self.start).min(data.len());
            self.buf[self.start..self.start + n].copy_from_slice(&data[..n]);
            self.start = (self.start + n) % self.cap;
            data = &data[n..];
        }
    }

    /// The bytes held, oldest first, as two slices.
    pub fn slices(&self) -> (&[u8], &[u8]) {
        (&self.buf[self.start..], &self.buf[..self.start])
    }

    pub fn to_vec(&self) -> Vec<u8> {
        let (a, b) = self.slices();
        [a, b].concat()
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether bytes were pushed out (what is held is not the stream's beginning).
    pub fn cut(&self) -> bool {
        self.seen > self.buf.len() as u64
    }
}

/// What the cap did to one attempt's output.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CapStats {
    /// Every byte of output.
    pub total: u64,
    /// The bytes left out of the log (0 when the output fit).
    pub dropped: u64,
    /// The first error writing the log (output after it is lost).
    pub error: Option<String>,
}

/// Writes one attempt's output into its log, keeping the first `cap / 2` and the last
/// `cap - cap / 2` bytes once the output is longer than `cap`.
pub struct Capped {
    file: File,
    /// The log's length when the attempt began (its header written).
    base: u64,
    cap: u64,
    head: u64,
    ring: Ring,
    total: u64,
    /// The output passed the cap: the file holds the head and the held-back line.
    over: bool,
    /// The head's last byte (the note starts on a line of its own).
    head_last: Option<u8>,
    error: Option<String>,
}

impl Capped {
    /// `file`: the log, opened for appending, with the attempt's header written. `cap` is at
    /// least 2.
    pub fn new(file: File, cap: u64) -> io::Result<Capped> {
        let cap = cap.max(2);
        let base = file.metadata()?.len();
        let head = cap / 2;
        let tail = usize::try_from(cap - head).unwrap_or(usize::MAX);
        Ok(Capped {
            file,
            base,
            cap,
            head,
            ring: Ring::new(tail),
            total: 0,
            over: false,
            head_last: None,
            error: None,
        })
    }

    fn put(&mut self, b: &[u8]) {
        if self.error.is_some() || b.is_empty() {
            return;
        }
        if let Err(e) = self.file.write_all(b) {
            self.error = Some(e.to_string());
        }
    }

    fn cut_to(&mut self, len: u64) {
        if self.error.is_none() {
            if let Err(e) = self.file.set_len(len) {
                self.error = Some(e.to_string());
            }
        }
    }

    pub fn write(&mut self, data: &[u8]) {
        let before = self.total;
        let len = data.len() as u64;
        self.total += len;
        // The part of `data` before the head's end, and the part after it.
        let in_head = usize::try_from(self.head.saturating_sub(before).min(len)).unwrap_or(0);
        if in_head > 0 {
            self.head_last = data.get(in_head - 1).copied();
        }
        self.ring.push(&data[in_head..]);
        if self.over {
            return;
        }
        if self.total <= self.cap {
            self.put(data);
            return;
        }
        // Past the cap: the log keeps its head; the rest waits in the ring.
        self.over = true;
        self.cut_to(self.base + before.min(self.head));
        self.put(&data[..in_head]);
        let line = format!(
            "{}=== hwcert: the output passed the log cap of {}; the rest is held back and its \
             last {} are written here when the instance ends ===\n",
            self.newline(),
            iec(self.cap),
            iec(self.ring.cap as u64)
        );
        self.put(line.as_bytes());
    }

    fn newline(&self) -> &'static str {
        match self.head_last {
            Some(b'\n') | None => "",
            Some(_) => "\n",
        }
    }

    /// The attempt ended: write the note and the tail when the output passed the cap.
    pub fn finish(mut self) -> CapStats {
        let mut dropped = 0;
        if self.over {
            dropped = self.total - self.head - self.ring.len() as u64;
            self.cut_to(self.base + self.head);
            let line = format!(
                "{}=== hwcert: log cap {}: {dropped} bytes of output dropped here (the first {} \
                 and the last {} of {} bytes are kept) ===\n",
                self.newline(),
                iec(self.cap),
                self.head,
                self.ring.len(),
                self.total
            );
            self.put(line.as_bytes());
            let tail = self.ring.to_vec();
            self.put(&tail);
        }
        if self.error.is_none() {
            if let Err(e) = self.file.flush() {
                self.error = Some(e.to_string());
            }
        }
        CapStats {
            total: self.total,
            dropped,
            error: self.error,
        }
    }
}

/// Wait for `fd` to be readable, at most `ms` milliseconds: `Ok(false)` on a timeout.
pub fn readable(fd: &impl AsRawFd, ms: i32) -> io::Result<bool> {
    let mut p = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: poll on one descriptor we own.
    match unsafe { libc::poll(&mut p, 1, ms) } {
        n if n > 0 => Ok(true),
        0 => Ok(false),
        _ => {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                Ok(false)
            } else {
                Err(e)
            }
        }
    }
}

/// A pipe (both ends close-on-exec): (read, write).
pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two descriptors that we then own.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors are fresh and owned by nothing else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// [`pipe`] of 1 MiB (best effort): fewer wake-ups for a case that prints a lot.
pub fn output_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let (r, w) = pipe()?;
    // SAFETY: fcntl on a descriptor we own.
    unsafe { libc::fcntl(w.as_raw_fd(), libc::F_SETPIPE_SZ, 1 << 20) };
    Ok((r, w))
}

/// Copies a worker's output from the read end of its pipe into its log, capped, in a thread
/// of its own.
pub struct LogPump {
    stop: Arc<Mutex<Option<Instant>>>,
    thread: JoinHandle<CapStats>,
}

impl LogPump {
    pub fn start(read: OwnedFd, log: File, cap: u64) -> io::Result<LogPump> {
        let mut capped = Capped::new(log, cap)?;
        let stop: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
        let stop2 = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("log-pump".into())
            .spawn(move || {
                let mut src = File::from(read);
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    let deadline = *stop2.lock().unwrap_or_else(|p| p.into_inner());
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        break;
                    }
                    match readable(&src, 20) {
                        Ok(false) => continue,
                        Ok(true) => {}
                        Err(_) => break,
                    }
                    match src.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => capped.write(&buf[..n]),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(_) => break,
                    }
                }
                capped.finish()
            })?;
        Ok(LogPump { stop, thread })
    }

    /// The worker is gone: copy what is left until every writer closed the pipe, at most
    /// `grace`, then write the note and the tail; what the cap did.
    pub fn finish(self, grace: Duration) -> CapStats {
        *self.stop.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now() + grace);
        self.thread.join().unwrap_or_else(|_| CapStats {
            error: Some("the log pump panicked".into()),
            ..CapStats::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ring_keeps_the_last_bytes_in_order() {
        let mut r = Ring::new(5);
        r.push(b"ab");
        assert_eq!((r.to_vec(), r.cut()), (b"ab".to_vec(), false));
        r.push(b"cdefg");
        assert_eq!((r.to_vec(), r.cut()), (b"cdefg".to_vec(), true));
        r.push(b"h");
        r.push(b"ij");
        assert_eq!(r.to_vec(), b"fghij");
        r.push(b"0123456789");
        assert_eq!(r.to_vec(), b"56789");
        r.push(b"");
        assert_eq!(r.len(), 5);
        let mut z = Ring::new(0);
        z.push(b"abc");
        assert_eq!((z.to_vec(), z.cut()), (Vec::new(), true));
    }

    fn capped(cap: u64, header: &[u8]) -> (tempfile::TempDir, std::path::PathBuf, Capped) {
        let d = tempfile::tempdir().expect("tmp");
        let p = d.path().join("x.log");
        std::fs::write(&p, header).expect("header");
        let f = std::fs::OpenOptions::new()
            .append(true)
            .open(&p)
            .expect("open");
        let c = Capped::new(f, cap).expect("capped");
        (d, p, c)
    }

    #[test]
    fn output_within_the_cap_is_kept_whole_and_written_through() {
        let (_d, p, mut c) = capped(100, b"=== header ===\n");
        c.write(b"hello\n");
        // Written through at once (a log can be followed live).
        assert_eq!(std::fs::read(&p).expect("read"), b"=== header ===\nhello\n");
        c.write(&[b'y'; 94]);
        let s = c.finish();
        assert_eq!(
            s,
            CapStats {
                total: 100,
                dropped: 0,
                error: None
            }
        );
        let b = std::fs::read(&p).expect("read");
        assert_eq!(b.len(), 15 + 100);
    }

    #[test]
    fn output_past_the_cap_keeps_head_and_tail_and_counts_what_was_dropped() {
        let (_d, p, mut c) = capped(10, b"H\n");
        let out: Vec<u8> = (0..1000u32).map(|i| b'a' + (i % 26) as u8).collect();
        // Chunks of every size, one crossing the head and the cap at once.
        c.write(&out[..3]);
        c.write(&out[3..30]);
        let held = std::fs::read_to_string(&p).expect("read");
        assert!(
            held.starts_with("H\nabcde\n=== hwcert: the output passed the log cap of 10 B"),
            "{held}"
        );
        for ch in out[30..].chunks(7) {
            c.write(ch);
        }
        let s = c.finish();
        assert_eq!(s.total, 1000);
        assert_eq!(s.dropped, 990);
        let b = std::fs::read(&p).expect("read");
        let note = "\n=== hwcert: log cap 10 B: 990 bytes of output dropped here (the first 5 and \
                    the last 5 of 1000 bytes are kept) ===\n";
        let mut want = b"H\n".to_vec();
        want.extend_from_slice(&out[..5]);
        want.extend_from_slice(note.as_bytes());
        want.extend_from_slice(&out[995..]);
        assert_eq!(String::from_utf8_lossy(&b), String::from_utf8_lossy(&want));
    }

    #[test]
    fn one_byte_past_the_cap_drops_one_byte_and_a_head_ending_a_line_needs_no_newline() {
        let (_d, p, mut c) = capped(4, b"");
        c.write(b"a\nbcd");
        let s = c.finish();
        assert_eq!((s.total, s.dropped), (5, 1));
        let b = std::fs::read_to_string(&p).expect("read");
        assert_eq!(
            b,
            "a\n=== hwcert: log cap 4 B: 1 bytes of output dropped here (the first 2 and the \
             last 2 of 5 bytes are kept) ===\ncd"
        );
    }

    #[test]
    fn the_pump_copies_a_pipe_until_its_end_and_stops_at_the_grace_when_a_writer_stays() {
        let (_d, p, _) = capped(1 << 20, b"");
        let (r, w) = pipe().expect("pipe");
        let log = std::fs::OpenOptions::new()
            .append(true)
            .open(&p)
            .expect("open");
        let pump = LogPump::start(r, log, 64).expect("pump");
        let mut w = File::from(w);
        w.write_all(&[b'z'; 200]).expect("write");
        // A writer that stays: the pump gives up after the grace.
        let t0 = Instant::now();
        let s = pump.finish(Duration::from_millis(300));
        assert!(t0.elapsed() < Duration::from_secs(5));
        assert_eq!((s.total, s.dropped), (200, 136));
        drop(w);
        let b = std::fs::read(&p).expect("read");
        assert!(b.starts_with(&[b'z'; 32]) && b.ends_with(&[b'z'; 32]));

        // A writer that closes: the pump ends at end of file, however long the grace.
        let (r, w) = pipe().expect("pipe");
        let log = std::fs::OpenOptions::new()
            .append(true)
            .open(&p)
            .expect("open");
        let pump = LogPump::start(r, log, 64).expect("pump");
        let mut w = File::from(w);
        w.write_all(b"end\n").expect("write");
        drop(w);
        let t0 = Instant::now();
        let s = pump.finish(Duration::from_secs(60));
        assert!(t0.elapsed() < Duration::from_secs(5));
        assert_eq!((s.total, s.dropped), (4, 0));
        assert!(std::fs::read(&p).expect("read").ends_with(b"zend\n"));
    }
}
