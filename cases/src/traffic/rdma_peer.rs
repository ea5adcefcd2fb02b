//! `hwcert peer --rdma DEV[:PORT]`: the perftest servers that `network::rdma_bw` and
//! `network::rdma_lat` connect to, on the peer machine.
//!
//! For each device named, one `ib_write_bw` server on the TCP port `port + 2·i` and one
//! `ib_read_lat` server on the next (i = the device's place on the command line; the cases'
//! `rdma_port` is the first of the pair, 18515 by default), with the same options as the
//! cases' clients (perftest needs both sides to agree: the test duration, the message size).
//! A perftest server serves one client and exits, so each is started again until the time
//! bound; every start, client (its LID/QPN/GID as perftest prints it), result and exit status
//! is logged.
//!
//! perftest has no allow-list and no listen address of its own: it exchanges connection data
//! with any client that reaches the TCP port. These servers are therefore started only when
//! `--rdma` asks for them, run only for `--duration`, and the log names every client that
//! connected; the `--allow` list cannot be enforced for them (say so to the lab).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::rdma::{read_lat_args, write_bw_args};

/// One device to serve: `mlx5_0` (port 1) or `mlx5_0:2`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RdmaServe {
    pub device: String,
    pub ib_port: u32,
}

impl std::str::FromStr for RdmaServe {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (d, p) = match s.split_once(':') {
            Some((d, p)) => (d, Some(p)),
            None => (s, None),
        };
        let d = d.trim();
        if d.is_empty()
            || d.len() > 64
            || !d
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
        {
            return Err(format!(
                "\"{}\" is not an RDMA device name (as in /sys/class/infiniband: mlx5_0, or mlx5_0:PORT)",
                hwsys::text::escape_controls(s)
            ));
        }
        let ib_port = match p {
            None => 1,
            Some(p) => p
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|p| (1..=255).contains(p))
                .ok_or_else(|| {
                    format!(
                        "\"{}\": the port after ':' is a number from 1 to 255",
                        hwsys::text::escape_controls(s)
                    )
                })?,
        };
        Ok(RdmaServe {
            device: d.to_string(),
            ib_port,
        })
    }
}

/// What `hwcert peer --rdma` is told.
#[derive(Debug, Clone)]
pub struct RdmaPeerConfig {
    pub devices: Vec<RdmaServe>,
    /// The first TCP port (the cases' `rdma_port`).
    pub port: u16,
    /// The bandwidth test's seconds (the cases' `rdma_seconds`, else `seconds`).
    pub seconds: u64,
    /// How long the servers run.
    pub duration: Duration,
}

/// The servers' command lines: (TCP port, argv) for each device's bandwidth and latency
/// servers. Errors: the ports do not fit.
pub fn server_commands(cfg: &RdmaPeerConfig) -> Result<Vec<(u16, Vec<String>)>, String> {
    let mut out = Vec::new();
    for (i, d) in cfg.devices.iter().enumerate() {
        let bw = u32::from(cfg.port) + 2 * i as u32;
        if bw + 1 > 65_535 {
            return Err(format!(
                "--rdma-port {}: the ports of {} device(s) do not fit below 65536",
                cfg.port,
                cfg.devices.len()
            ));
        }
        let bw = bw as u16;
        out.push((
            bw,
            write_bw_args(&d.device, d.ib_port, bw, cfg.seconds, None),
        ));
        out.push((bw + 1, read_lat_args(&d.device, d.ib_port, bw + 1, None)));
    }
    Ok(out)
}

/// Check what the servers need before anything starts: devices named, perftest installed,
/// ports that fit.
pub fn check(cfg: &RdmaPeerConfig) -> Result<(), String> {
    if cfg.devices.is_empty() {
        return Err("no RDMA device to serve: name one with --rdma DEVICE".into());
    }
    for prog in ["ib_write_bw", "ib_read_lat"] {
        if hwsys::cmd::find(prog).is_none() {
            return Err(format!(
                "cannot serve RDMA: {prog} is not an executable on PATH (install perftest: dnf install perftest)"
            ));
        }
    }
    server_commands(cfg).map(|_| ())
}

fn now() -> String {
    hwsys::time::rfc3339(std::time::SystemTime::now())
}

/// What a finished server printed about its client and result: the "remote address" line
/// and the last result row.
fn summary(stdout: &str) -> String {
    let remote = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("remote address:"))
        .map(|r| {
            format!(
                "client {}",
                r.split_whitespace().collect::<Vec<_>>().join(" ")
            )
        });
    let row = stdout
        .lines()
        .map(str::trim)
        .rfind(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|w| w.parse::<u64>().is_ok())
        })
        .map(|l| {
            format!(
                "result row \"{}\"",
                l.split_whitespace().collect::<Vec<_>>().join(" ")
            )
        });
    let parts: Vec<String> = [remote, row].into_iter().flatten().collect();
    if parts.is_empty() {
        "no client data printed".into()
    } else {
        hwsys::text::escape_controls(&parts.join("; ")).into_owned()
    }
}

/// Run the servers until `cfg.duration` has passed or `stop` is set (checked between
/// clients: a server waiting for a client is ended by the time bound); every event goes to
/// `log`. Errors: what [`check`] finds.
pub fn serve(
    cfg: &RdmaPeerConfig,
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<dyn std::io::Write + Send>>,
) -> Result<(), String> {
    check(cfg)?;
    let commands = server_commands(cfg)?;
    let deadline = Instant::now() + cfg.duration;
    let say = {
        let log = log.clone();
        move |line: String| {
            if let Ok(mut l) = log.lock() {
                let _ = writeln!(l, "{} {line}", now());
                let _ = l.flush();
            }
        }
    };
    say(format!(
        "hwcert peer: RDMA servers for {} on TCP ports {}–{}, for {} s (perftest accepts any client that reaches these ports: --allow does not apply to them)",
        cfg.devices
            .iter()
            .map(|d| format!("{} port {}", d.device, d.ib_port))
            .collect::<Vec<_>>()
            .join(", "),
        cfg.port,
        cfg.port as u32 + commands.len() as u32 - 1,
        cfg.duration.as_secs()
    ));
    let mut handles = Vec::new();
    for (port, argv) in commands {
        let stop = stop.clone();
        let say = say.clone();
        handles.push(std::thread::spawn(move || {
            let prog = argv[0].clone();
            let mut served = 0u64;
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                if stop.load(Ordering::SeqCst) || left < Duration::from_millis(500) {
                    say(format!(
                        "port {port}: {prog} stopped at the time bound ({served} client(s) served)"
                    ));
                    break;
                }
                say(format!("port {port}: {} waiting for a client", argv.join(" ")));
                let t0 = Instant::now();
                match super::exec::run_bounded(&argv, left) {
                    Ok(ran) if ran.timed_out => {
                        say(format!(
                            "port {port}: {prog} ended at the time bound while waiting for a client ({served} client(s) served)"
                        ));
                        break;
                    }
                    Ok(ran) => {
                        served += 1;
                        say(format!(
                            "port {port}: {prog} {}, after {:.1} s: {}",
                            ran.status,
                            t0.elapsed().as_secs_f64(),
                            summary(&ran.stdout)
                        ));
                        if !ran.stderr.trim().is_empty() {
                            say(format!(
                                "port {port}: {prog} stderr: {}",
                                hwsys::text::escape_controls(
                                    ran.stderr.lines().last().unwrap_or("").trim()
                                )
                            ));
                        }
                    }
                    Err(e) => {
                        say(format!("port {port}: {e}"));
                        break;
                    }
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        }));
    }
    for h in handles {
        let _ = h.join();
    }
    say("hwcert peer: RDMA servers stopped".to_string());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_arguments() {
        assert_eq!(
            "mlx5_0".parse::<RdmaServe>(),
            Ok(RdmaServe {
                device: "mlx5_0".into(),
                ib_port: 1
            })
        );
        assert_eq!("rxe0:2".parse::<RdmaServe>().map(|d| d.ib_port), Ok(2));
        for bad in [
            "",
            ":1",
            "mlx5_0:0",
            "mlx5_0:x",
            "a/b",
            "mlx5_0:256",
            "\u{1b}[2J",
        ] {
            assert!(bad.parse::<RdmaServe>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn servers_mirror_the_clients() {
        let cfg = RdmaPeerConfig {
            devices: vec![
                "mlx5_0".parse().expect("dev"),
                "mlx5_1:2".parse().expect("dev"),
            ],
            port: 18515,
            seconds: 7,
            duration: Duration::from_secs(1),
        };
        let c = server_commands(&cfg).expect("fits");
        let ports: Vec<u16> = c.iter().map(|x| x.0).collect();
        assert_eq!(ports, [18515, 18516, 18517, 18518]);
        // The client's command line is the server's and the peer's address.
        let mut client = write_bw_args("mlx5_0", 1, 18515, 7, Some("192.0.2.2"));
        assert_eq!(client.pop().as_deref(), Some("192.0.2.2"));
        assert_eq!(c[0].1, client);
        let mut client = read_lat_args("mlx5_1", 2, 18518, Some("192.0.2.2"));
        client.pop();
        assert_eq!(c[3].1, client);
        let high = RdmaPeerConfig {
            port: 65_533,
            ..cfg
        };
        assert!(server_commands(&high)
            .expect_err("no room")
            .contains("do not fit"));
    }

    #[test]
    fn summaries() {
        let out = " remote address: LID 0x01 QPN 0x0215 PSN 0x79fcd6\n #bytes #iterations\n 65536 10000 46.51 46.49 0.088\n";
        assert_eq!(
            summary(out),
            "client LID 0x01 QPN 0x0215 PSN 0x79fcd6; result row \"65536 10000 46.51 46.49 0.088\""
        );
        assert_eq!(summary(""), "no client data printed");
        assert_eq!(summary("garbage\n\u{1b}[2J\n"), "no client data printed");
    }
}
