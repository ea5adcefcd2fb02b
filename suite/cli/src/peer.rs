//! `hwcert peer`: the server side of the network traffic cases, run on the peer machine.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context, Result};

use cases::traffic::peer::{serve, Allowed, PeerConfig};
use cases::traffic::rdma_peer::{self, RdmaPeerConfig, RdmaServe};

#[derive(clap::Args, Debug)]
pub struct PeerArgs {
    /// A client allowed to test against this peer: an address or ADDRESS/PREFIX (repeat, or
    /// separate with commas). Clients not on the list are cut off and logged. Required.
    #[arg(
        long,
        value_name = "ADDR[/PREFIX]",
        value_delimiter = ',',
        required = true
    )]
    pub allow: Vec<String>,
    /// The first port (the cases' `[network] port`).
    #[arg(long, default_value_t = 5201)]
    pub port: u16,
    /// How many servers, on consecutive ports: at least the streams of the fastest interface
    /// tested (one per 10 Gb/s).
    #[arg(long, default_value_t = 8)]
    pub streams: u16,
    /// Listen on this address only: the peer's address on the link under test, so that the
    /// peer's other networks carry nothing.
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<std::net::IpAddr>,
    /// How long the servers run ("30m", "8h", seconds); then hwcert peer exits.
    #[arg(long, default_value = "4h", value_name = "DURATION")]
    pub duration: String,
    /// Append the log (one line per server start, client and refusal) to this file as well
    /// as standard output.
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// The iperf3 program.
    #[arg(long, default_value = "iperf3", value_name = "PROGRAM")]
    pub iperf3: String,
    /// Also serve the RDMA cases on this device (as in /sys/class/infiniband; `DEV:PORT` for
    /// a port other than 1): perftest's ib_write_bw and ib_read_lat servers (repeat for more
    /// devices; each takes two TCP ports from --rdma-port on). perftest accepts any client
    /// that reaches its ports: --allow cannot filter them, the log names every client.
    #[arg(long, value_name = "DEV[:PORT]", value_delimiter = ',')]
    pub rdma: Vec<String>,
    /// The first TCP port of the RDMA servers (the cases' `[network] rdma_port`).
    #[arg(long, default_value_t = cases::traffic::rdma::DEFAULT_PORT, value_name = "PORT")]
    pub rdma_port: u16,
    /// The RDMA bandwidth test's seconds: the same as the cases' `[network] rdma_seconds`
    /// (else `seconds`), since perftest's two sides must agree.
    #[arg(long, default_value_t = cases::traffic::settings::DEFAULT_SECONDS, value_name = "SECONDS")]
    pub rdma_seconds: u64,
}

struct Tee(Option<std::fs::File>);

impl std::io::Write for Tee {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(
            &hwsys::text::escape_text(&String::from_utf8_lossy(b))
                .into_owned()
                .into_bytes(),
        );
        if let Some(f) = &mut self.0 {
            f.write_all(b)?;
        }
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stdout().flush();
        if let Some(f) = &mut self.0 {
            f.flush()?;
        }
        Ok(())
    }
}

pub fn cmd_peer(args: PeerArgs) -> Result<ExitCode> {
    let mut allow = Vec::new();
    for a in &args.allow {
        allow.push(
            a.parse::<Allowed>()
                .map_err(anyhow::Error::msg)
                .context("--allow")?,
        );
    }
    let secs = harness::profile::parse_duration(&args.duration)
        .map_err(anyhow::Error::msg)
        .context("--duration")?;
    if args.streams == 0 || args.streams > 64 {
        bail!("--streams: 1 to 64");
    }
    let file = match &args.log {
        Some(p) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .with_context(|| format!("cannot open the log {}", p.display()))?,
        ),
        None => None,
    };
    let cfg = PeerConfig {
        iperf3: args.iperf3,
        port: args.port,
        streams: args.streams,
        bind: args.bind,
        allow,
        duration: Duration::from_secs(secs),
    };
    let rdma = if args.rdma.is_empty() {
        None
    } else {
        let mut devices = Vec::new();
        for d in &args.rdma {
            devices.push(
                d.parse::<RdmaServe>()
                    .map_err(anyhow::Error::msg)
                    .context("--rdma")?,
            );
        }
        if args.rdma_seconds == 0 || args.rdma_seconds > 3600 {
            bail!("--rdma-seconds: 1 to 3600");
        }
        let r = RdmaPeerConfig {
            devices,
            port: args.rdma_port,
            seconds: args.rdma_seconds,
            duration: Duration::from_secs(secs),
        };
        rdma_peer::check(&r).map_err(anyhow::Error::msg)?;
        Some(r)
    };
    // iperf3's servers are checked before any server starts, RDMA's or its own.
    if u32::from(cfg.port) + u32::from(cfg.streams) > 65_536 {
        bail!(
            "--port {} with --streams {}: the ports do not fit below 65536",
            cfg.port,
            cfg.streams
        );
    }
    if hwsys::cmd::find(&cfg.iperf3).is_none() {
        bail!(
            "cannot run {}: not an executable on PATH (install iperf3)",
            cfg.iperf3
        );
    }
    let log: Arc<Mutex<dyn std::io::Write + Send>> = Arc::new(Mutex::new(Tee(file)));
    let stop = Arc::new(AtomicBool::new(false));
    let rdma_thread = rdma.map(|r| {
        let (stop, log) = (stop.clone(), log.clone());
        std::thread::spawn(move || rdma_peer::serve(&r, stop, log))
    });
    let served = serve(&cfg, stop.clone(), log);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    if let Some(t) = rdma_thread {
        match t.join() {
            Ok(r) => r.map_err(anyhow::Error::msg)?,
            Err(_) => bail!("the RDMA servers' thread panicked"),
        }
    }
    served.map_err(anyhow::Error::msg)?;
    Ok(ExitCode::SUCCESS)
}
