//! `hwcert peer`: the server side of the traffic cases, on the peer machine.
//!
//! It runs one `iperf3 -s` per port (5201, 5202, … — one per stream the cases use), bounded
//! in time, and nothing else. iperf3 has no allow-list of its own, so each server runs with
//! `--forceflush` and its output is read line by line: at "Accepted connection from ADDR" a
//! client that is not on the allow-list has its server killed at once (before the test
//! parameters are exchanged; it sees the control connection close) and the server is started
//! again (iperf3's output is made line-buffered with coreutils' `stdbuf -oL`, so the line comes
//! at once; a refused client gets at most the milliseconds between its connection and the
//! kill). Every client, allowed or refused, is logged with its address and port. The servers
//! die with this process (PR_SET_PDEATHSIG) and at the end of the time bound.

use std::io::{BufRead as _, BufReader};
use std::net::IpAddr;
use std::os::unix::process::CommandExt as _;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One allow-list entry: an address, or a network (`192.0.2.0/24`, `2001:db8::/32`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowed {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl std::str::FromStr for Allowed {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a
            .trim()
            .parse()
            .map_err(|_| format!("\"{s}\" is not an IP address or ADDRESS/PREFIX"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("\"{s}\": the prefix length is 0 to {max}"))?,
            None => max,
        };
        Ok(Allowed { addr, prefix })
    }
}

fn bits(a: IpAddr) -> (u128, u8) {
    match a {
        IpAddr::V4(v) => (u128::from(u32::from(v)), 32),
        IpAddr::V6(v) => match v.to_ipv4_mapped() {
            Some(m) => (u128::from(u32::from(m)), 32),
            None => (u128::from(v), 128),
        },
    }
}

impl Allowed {
    /// Whether `client` is this address or in this network.
    pub fn matches(&self, client: IpAddr) -> bool {
        let (a, la) = bits(self.addr);
        let (c, lc) = bits(client);
        if la != lc {
            return false;
        }
        let p = u32::from(self.prefix.min(la));
        if p == 0 {
            return true;
        }
        let shift = u32::from(la) - p;
        (a >> shift) == (c >> shift)
    }
}

/// What `hwcert peer` is told.
#[derive(Debug, Clone)]
pub struct PeerConfig {
    pub iperf3: String,
    pub port: u16,
    pub streams: u16,
    /// Listen on this address only (`iperf3 -B`), e.g. the peer's address on the tested link.
    pub bind: Option<IpAddr>,
    pub allow: Vec<Allowed>,
    /// How long the servers run.
    pub duration: Duration,
}

/// The client address in an iperf3 server line "Accepted connection from ADDR, port N".
pub fn accepted_client(line: &str) -> Option<(String, Option<u16>)> {
    let rest = line.trim().strip_prefix("Accepted connection from ")?;
    let (addr, port) = match rest.split_once(", port ") {
        Some((a, p)) => (a, p.trim().parse().ok()),
        None => (rest, None),
    };
    Some((addr.trim().to_string(), port))
}

fn allowed(cfg: &PeerConfig, client: &str) -> bool {
    match client.parse::<IpAddr>() {
        Ok(ip) => cfg.allow.iter().any(|a| a.matches(ip)),
        Err(_) => false,
    }
}

fn now() -> String {
    hwsys::time::rfc3339(std::time::SystemTime::now())
}

/// Run the servers until `cfg.duration` has passed or `stop` is set; every event goes to
/// `log` (one line each). Errors: iperf3 cannot be started.
pub fn serve(
    cfg: &PeerConfig,
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<dyn std::io::Write + Send>>,
) -> Result<(), String> {
    if cfg.allow.is_empty() {
        return Err(
            "no client allowed: name the machines under test with --allow ADDRESS[/PREFIX]".into(),
        );
    }
    if cfg.streams == 0 || u32::from(cfg.port) + u32::from(cfg.streams) > 65_536 {
        return Err(format!("ports {}+{} do not fit", cfg.port, cfg.streams));
    }
    let say = |line: String| {
        if let Ok(mut l) = log.lock() {
            let _ = writeln!(l, "{} {line}", now());
            let _ = l.flush();
        }
    };
    let deadline = Instant::now() + cfg.duration;
    let line_buffered = Command::new("stdbuf")
        .args(["-oL", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !line_buffered {
        say("warning: no stdbuf (coreutils): a client not on the allow-list is seen only when iperf3 flushes its output, up to a second into its test".to_string());
    }
    // Fail early and clearly when iperf3 is missing: looked up, not spawned, because where a
    // failed exec cannot be reported (qemu-user) a spawn would seem to work and the servers
    // would be restarted until the deadline.
    if hwsys::cmd::find(&cfg.iperf3).is_none() {
        return Err(format!(
            "cannot run {}: not an executable on PATH (install iperf3)",
            cfg.iperf3
        ));
    }
    let mut handles = Vec::new();
    for i in 0..cfg.streams {
        let port = cfg.port + i;
        let mut argv = vec![
            "-s".to_string(),
            "-p".into(),
            port.to_string(),
            "--forceflush".into(),
            "--idle-timeout".into(),
            "600".into(),
        ];
        if let Some(b) = cfg.bind {
            argv.extend(["-B".into(), b.to_string()]);
        }
        let cfg = cfg.clone();
        let stop = stop.clone();
        let log = log.clone();
        handles.push(std::thread::spawn(move || {
            let say = |line: String| {
                if let Ok(mut l) = log.lock() {
                    let _ = writeln!(l, "{} {line}", now());
                    let _ = l.flush();
                }
            };
            while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
                // iperf3 buffers its output on a pipe: line-buffered through stdbuf, the
                // "Accepted connection" line comes at once, not at the end of the test.
                let mut c = if line_buffered {
                    let mut c = Command::new("stdbuf");
                    c.arg("-oL").arg(&cfg.iperf3);
                    c
                } else {
                    Command::new(&cfg.iperf3)
                };
                c.args(&argv).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
                // SAFETY: prctl in the child before exec: the server dies with hwcert peer.
                unsafe {
                    c.pre_exec(|| {
                        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                        Ok(())
                    });
                }
                let mut child = match c.spawn() {
                    Ok(ch) => ch,
                    Err(e) => {
                        say(format!("port {port}: cannot start iperf3: {e}"));
                        return;
                    }
                };
                say(format!("port {port}: iperf3 server {} listening", child.id()));
                let pid = child.id() as libc::pid_t;
                let out = child.stdout.take();
                let err = child.stderr.take();
                let (tx, rx) = std::sync::mpsc::channel::<String>();
                let tx2 = tx.clone();
                let r1 = std::thread::spawn(move || {
                    if let Some(o) = out {
                        for l in BufReader::new(o).lines().map_while(Result::ok) {
                            let _ = tx.send(l);
                        }
                    }
                });
                let r2 = std::thread::spawn(move || {
                    if let Some(o) = err {
                        for l in BufReader::new(o).lines().map_while(Result::ok) {
                            let _ = tx2.send(format!("stderr: {l}"));
                        }
                    }
                });
                let mut killed = false;
                loop {
                    if let Ok(Some(_)) = child.try_wait() {
                        break;
                    }
                    if !killed && (stop.load(Ordering::SeqCst) || Instant::now() >= deadline) {
                        // SAFETY: our own child.
                        unsafe { libc::kill(pid, libc::SIGKILL) };
                        killed = true;
                    }
                    match rx.recv_timeout(Duration::from_millis(100)) {
                        Ok(line) => {
                            if let Some((client, cport)) = accepted_client(&line) {
                                let shown = hwsys::text::escape_controls(&client).to_string();
                                let cp = cport.map_or(String::new(), |p| format!(" port {p}"));
                                if allowed(&cfg, &client) {
                                    say(format!("port {port}: client {shown}{cp} allowed"));
                                } else {
                                    // SAFETY: our own child.
                                    unsafe { libc::kill(pid, libc::SIGKILL) };
                                    killed = true;
                                    say(format!("port {port}: client {shown}{cp} REFUSED (not on the allow-list): server restarted"));
                                }
                            } else if line.contains("error") || line.starts_with("stderr:") {
                                say(format!("port {port}: {}", hwsys::text::escape_controls(line.trim())));
                            }
                        }
                        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                            let _ = child.wait();
                            break;
                        }
                    }
                }
                let _ = child.wait();
                let _ = r1.join();
                let _ = r2.join();
                if !killed {
                    say(format!("port {port}: iperf3 server ended by itself; starting it again"));
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
        }));
    }
    say(format!(
        "hwcert peer: {} iperf3 server(s) on ports {}–{}{}, for {} s; allowed: {}",
        cfg.streams,
        cfg.port,
        cfg.port + cfg.streams - 1,
        cfg.bind.map_or(String::new(), |b| format!(" on {b}")),
        cfg.duration.as_secs(),
        cfg.allow
            .iter()
            .map(|a| format!("{}/{}", a.addr, a.prefix))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    for h in handles {
        let _ = h.join();
    }
    say("hwcert peer: stopped".to_string());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_list() {
        let net: Allowed = "192.0.2.0/24".parse().expect("net");
        assert!(net.matches("192.0.2.77".parse().expect("ip")));
        assert!(!net.matches("198.51.100.1".parse().expect("ip")));
        assert!(
            net.matches("::ffff:192.0.2.5".parse().expect("ip")),
            "v4-mapped"
        );
        let one: Allowed = "2001:db8::1".parse().expect("one");
        assert!(one.matches("2001:db8::1".parse().expect("ip")));
        assert!(!one.matches("2001:db8::2".parse().expect("ip")));
        assert!(!one.matches("192.0.2.1".parse().expect("ip")));
        assert!("192.0.2.0/33".parse::<Allowed>().is_err());
        assert!("host.example".parse::<Allowed>().is_err());
        assert!("".parse::<Allowed>().is_err());
        let all: Allowed = "0.0.0.0/0".parse().expect("all");
        assert!(all.matches("192.0.2.9".parse().expect("ip")));
    }

    #[test]
    fn accepted_lines() {
        assert_eq!(
            accepted_client("Accepted connection from 192.0.2.1, port 43210"),
            Some(("192.0.2.1".into(), Some(43210)))
        );
        assert_eq!(
            accepted_client("Accepted connection from 2001:db8::1, port x"),
            Some(("2001:db8::1".into(), None))
        );
        assert_eq!(accepted_client("Server listening on 5201"), None);
        assert_eq!(accepted_client(""), None);
    }
}
