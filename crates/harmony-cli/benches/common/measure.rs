//! The measuring wrapper of the process benches: the bench binary, re-run with
//! `--measure-child`, runs one command, times it from spawn to exit and reads its exact peak RSS
//! with `getrusage(RUSAGE_CHILDREN)` (the kernel's high-water mark of its only child, no
//! sampling; `unsafe` is denied in this workspace, so no `wait4` by hand). The child is spawned
//! from the wrapper's few MiB, which are therefore a floor of the figure, not added to it.
//!
//! A bench that measures processes includes it with `#[path = "common/measure.rs"] mod measure;`.

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use nix::sys::resource::{UsageWho, getrusage};

/// The first argument that makes a bench binary the measuring wrapper.
const MEASURE: &str = "--measure-child";

/// What a process bench's `main` does first: `Some` exit code when this run is the measuring
/// wrapper (`--measure-child ...`) or only lists the benches (`--list`, as `cargo bench --
/// --list` asks), `None` to bench.
pub fn wrapper_mode(args: &[OsString]) -> Option<ExitCode> {
    if args.get(1).is_some_and(|a| a == MEASURE) {
        return Some(measure_child(&args[2..]));
    }
    args.iter()
        .any(|a| a == "--list")
        .then_some(ExitCode::SUCCESS)
}

/// Wrapper mode: `--measure-child REPORT PROGRAM ARGS...` runs PROGRAM with this process's
/// standard streams, then writes `wall_ns peak_rss_kib exit_code` to REPORT.
fn measure_child(args: &[OsString]) -> ExitCode {
    let [report, program, rest @ ..] = args else {
        eprintln!("usage: {MEASURE} REPORT PROGRAM [ARGS...]");
        return ExitCode::from(2);
    };
    let started = Instant::now();
    let status = Command::new(program)
        .args(rest)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {program:?}: {e}"));
    let wall = started.elapsed();
    // The largest RSS of any waited-for child: this wrapper has exactly one.
    let usage = getrusage(UsageWho::RUSAGE_CHILDREN).expect("getrusage");
    std::fs::write(
        report,
        format!(
            "{} {} {}",
            wall.as_nanos(),
            usage.max_rss(),
            status.code().unwrap_or(-1)
        ),
    )
    .expect("write the measurement");
    ExitCode::SUCCESS
}

/// The wrapper (this binary, re-run) set to run `program args` and write its measurement to
/// `report`; the caller sets its standard streams and runs it.
pub fn wrapper<S: AsRef<OsStr>>(program: impl AsRef<OsStr>, args: &[S], report: &Path) -> Command {
    let mut wrapper = Command::new(std::env::current_exe().expect("this bench's path"));
    wrapper.arg(MEASURE).arg(report).arg(program).args(args);
    wrapper
}

/// What the wrapper measured of one process.
pub struct Measurement {
    pub wall: Duration,
    pub peak_rss_kib: u64,
    pub code: i32,
}

/// Reads the measurement the wrapper wrote to `report`.
pub fn read_measurement(report: &Path) -> Measurement {
    let text = std::fs::read_to_string(report).expect("the wrapper's measurement");
    let fields: Vec<i128> = text
        .split_whitespace()
        .map(|f| f.parse().expect("a number"))
        .collect();
    let [wall, rss, code] = fields[..] else {
        panic!("unexpected measurement `{text}`")
    };
    Measurement {
        wall: Duration::from_nanos(u64::try_from(wall).expect("a wall time")),
        peak_rss_kib: u64::try_from(rss).expect("an RSS"),
        code: i32::try_from(code).expect("an exit code"),
    }
}
