//! `hwcert peer`: the server side of the network traffic cases, run on the peer machine.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context, Result};

use cases::traffic::peer::{serve, Allowed, PeerConfig};

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
    let log: Arc<Mutex<dyn std::io::Write + Send>> = Arc::new(Mutex::new(Tee(file)));
    serve(&cfg, Arc::new(AtomicBool::new(false)), log).map_err(anyhow::Error::msg)?;
    Ok(ExitCode::SUCCESS)
}
