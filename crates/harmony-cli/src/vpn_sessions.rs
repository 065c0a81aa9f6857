//! `harmony vpn connections` and `harmony vpn watch`: who is connected through the gateway, and
//! a session log over time (the harmony-vpn crate's `connections` and `sessions`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use harmony_vpn::connections::{Connection, Dump, DumpProblem, DumpSource, connections};
use harmony_vpn::sessions::{SessionLine, SessionLog, SessionTracker, sample};
use harmony_vpn::{Gateway, RegistryBackend};
use jiff::{SignedDuration, Timestamp};

/// Where the gateway's peers are read from.
#[derive(Args)]
pub struct DumpArgs {
    /// A `wg show <interface> dump` output to read (`-` for stdin) instead of running `wg`.
    #[arg(long, value_name = "FILE")]
    dump: Option<PathBuf>,
    /// The WireGuard interface whose dump `wg show` prints (default: the gateway file's).
    #[arg(long, value_name = "NAME", conflicts_with = "dump")]
    interface: Option<String>,
}

/// `harmony vpn connections` flags.
#[derive(Args)]
pub struct ConnectionsArgs {
    #[command(flatten)]
    source: DumpArgs,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    output: Output,
}

/// `harmony vpn watch` flags.
#[derive(Args)]
pub struct WatchArgs {
    #[command(flatten)]
    source: DumpArgs,
    /// The session log (JSON lines, created 0600, appended to; sessions it left open are taken
    /// up again).
    #[arg(long, value_name = "FILE")]
    log: PathBuf,
    /// Time between samples, such as `10s` or `1m`.
    #[arg(long, default_value = "10s", value_parser = interval)]
    interval: SignedDuration,
    /// Stop after this many samples (default: run until SIGINT or SIGTERM).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    count: Option<u64>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Output {
    Text,
    Json,
}

/// Parses `--interval`: a duration of at least one second.
fn interval(text: &str) -> Result<SignedDuration, String> {
    let duration: SignedDuration = text
        .parse()
        .map_err(|_| format!("`{text}` is not a duration; write it like 10s, 30s or 1m"))?;
    if duration < SignedDuration::from_secs(1) {
        return Err(format!(
            "`{text}` is under a second; sample at most once a second"
        ));
    }
    Ok(duration)
}

impl DumpArgs {
    /// The dump source; `None` for stdin, read once.
    fn source(&self, gateway: &Gateway) -> Option<DumpSource> {
        match &self.dump {
            Some(path) if path == Path::new("-") => None,
            Some(path) => Some(DumpSource::File(path.clone())),
            None => Some(DumpSource::Interface(
                self.interface
                    .clone()
                    .unwrap_or_else(|| gateway.interface_name.clone()),
            )),
        }
    }
}

/// Runs `harmony vpn connections`: 0 when every key on the gateway is an active peer, 1 on an
/// alarm, 2 when the question could not be answered.
pub fn connections_command(
    args: ConnectionsArgs,
    gateway: &Gateway,
    backend: &RegistryBackend,
    flags: &str,
) -> ExitCode {
    match list(args, gateway, backend, flags) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn list(
    args: ConnectionsArgs,
    gateway: &Gateway,
    backend: &RegistryBackend,
    flags: &str,
) -> anyhow::Result<ExitCode> {
    let text = match args.source.source(gateway) {
        Some(source) => source.read()?,
        None => std::io::read_to_string(std::io::stdin()).context("reading the dump on stdin")?,
    };
    let dump = Dump::parse(&text);
    warn(&dump.problems);
    let registry = backend.load(gateway.pool)?;
    let now = Timestamp::now();
    let found = connections(&dump.peers, &registry, now);
    match args.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&found)?),
        Output::Text => print_table(&found, now),
    }
    if found.iter().any(|c| c.alarm.is_some()) {
        eprintln!(
            "alarm: the gateway holds keys that are not active peers; remove them with: harmony \
             vpn {flags} server-config --peer-set --out peers.conf && wg syncconf {} peers.conf",
            gateway.interface_name
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn warn(problems: &[DumpProblem]) {
    for problem in problems {
        eprintln!("warning: dump {problem} (skipped)");
    }
}

fn print_table(found: &[Connection], now: Timestamp) {
    println!("TENANT\tMEMBER\tADDRESS\tENDPOINT\tLATEST HANDSHAKE\tRECEIVED\tSENT\tSTATE");
    for c in found {
        let handshake = c
            .latest_handshake
            .map(|h| format!("{}s ago", now.duration_since(h).as_secs().max(0)))
            .unwrap_or_else(|| "never".into());
        let state = match &c.alarm {
            Some(alarm) => format!("ALARM: {alarm}"),
            None if c.connected => "connected".into(),
            None => "idle".into(),
        };
        println!(
            "{}\t{}\t{}\t{}\t{handshake}\t{}\t{}\t{state}",
            c.tenant.as_deref().unwrap_or("-"),
            c.member.as_deref().unwrap_or("-"),
            c.address
                .map(|a| a.to_string())
                .unwrap_or_else(|| "-".into()),
            c.endpoint
                .map(|e| e.to_string())
                .unwrap_or_else(|| "-".into()),
            c.rx_bytes,
            c.tx_bytes,
        );
    }
}

/// Runs `harmony vpn watch`: samples until stopped (or `--count`), appending sessions to the log.
/// A sample that cannot read the dump or the registry is reported and skipped; a log that
/// cannot be written stops the watch (what it held is on disk, taken up again on restart).
pub fn watch(
    args: WatchArgs,
    gateway: &Gateway,
    backend: &RegistryBackend,
) -> anyhow::Result<ExitCode> {
    let Some(source) = args.source.source(gateway) else {
        bail!("--dump -: a watch samples again and again; give a file, or --interface NAME");
    };
    let (mut log, old, problems) = SessionLog::open(&args.log)?;
    for problem in &problems {
        eprintln!(
            "warning: {} line {}: {} (skipped)",
            args.log.display(),
            problem.line,
            problem.message
        );
    }
    let mut tracker = SessionTracker::resume(&old);
    let what = match &source {
        DumpSource::Interface(name) => format!("interface {name}"),
        DumpSource::File(path) => path.display().to_string(),
    };
    eprintln!(
        "watching {what} every {:#}; {} open session(s) taken up from {}",
        args.interval,
        tracker.open_sessions(),
        args.log.display()
    );
    let pause = Duration::try_from(args.interval).context("--interval")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut samples = 0;
    runtime.block_on(async {
        let stop = crate::operator_cmd::shutdown();
        tokio::pin!(stop);
        loop {
            match backend.load(gateway.pool) {
                Err(error) => eprintln!("warning: reading the registry: {error} (sample skipped)"),
                Ok(registry) => {
                    match sample(&source, &registry, &mut tracker, &mut log, Timestamp::now()) {
                        Ok(done) => {
                            warn(&done.problems);
                            done.lines.iter().for_each(announce);
                        }
                        Err(harmony_vpn::sessions::WatchError::Dump(error)) => {
                            eprintln!("warning: {error} (sample skipped)")
                        }
                        Err(error) => return Err(anyhow::Error::new(error)),
                    }
                }
            }
            samples += 1;
            if args.count.is_some_and(|count| samples >= count) {
                return Ok(());
            }
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                () = &mut stop => return Ok(()),
            }
        }
    })?;
    Ok(ExitCode::SUCCESS)
}

/// One line on stderr per session begun or ended.
fn announce(line: &SessionLine) {
    let who = |peer: &harmony_vpn::sessions::SessionPeer| match (&peer.tenant, &peer.member) {
        (Some(tenant), Some(member)) => format!("{tenant}/{member}"),
        _ => format!("unknown key {}", peer.public_key),
    };
    match line {
        SessionLine::Connected {
            peer, connected_at, ..
        } => eprintln!(
            "connected {} from {} at {connected_at}{}",
            who(peer),
            peer.from
                .map(|f| f.to_string())
                .unwrap_or_else(|| "-".into()),
            peer.alarm
                .as_ref()
                .map(|a| format!(" (ALARM: {a})"))
                .unwrap_or_default()
        ),
        SessionLine::Disconnected {
            peer,
            until,
            rx_bytes,
            tx_bytes,
            ..
        } => eprintln!(
            "disconnected {} at {until}: {rx_bytes} bytes received, {tx_bytes} sent",
            who(peer)
        ),
    }
}
