//! Child processes of a control plane (or a Keycloak): each logs to its own file, is killed by PID when the
//! control plane is dropped, and also when the test process dies (a watchdog shell polls the test
//! process and kills every PID listed in the control plane's `pids` file).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::ControlPlaneError;

/// The watchdog: waits for the test process to end, then kills the listed PIDs (and process
/// groups, listed negated) and removes the control plane's folder; when a `keep` file says a test
/// failed, only its etcd data goes and the logs, certificates and kubeconfig stay.
const WATCHDOG: &str = r#"parent=$1; dir=$2
while kill -0 "$parent" 2>/dev/null; do sleep 0.5; done
pids=$(cat "$dir/pids" 2>/dev/null)
[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
if [ -e "$dir/keep" ]; then rm -rf "$dir/etcd"; else rm -rf "$dir"; fi
"#;

/// One running server process.
pub(crate) struct Process {
    pub name: &'static str,
    pub log: PathBuf,
    child: Child,
    /// Whether it leads its own process group, killed as a whole (a launcher script and the
    /// server it starts).
    group: bool,
}

impl Process {
    /// Starts `program` with `args`, its output appended to `logs/<name>.log`, and records its PID.
    pub fn spawn(
        dir: &Path,
        name: &'static str,
        program: &Path,
        args: &[String],
    ) -> Result<Self, ControlPlaneError> {
        let mut command = Command::new(program);
        command.args(args);
        Self::spawn_command(dir, name, command, false)
    }

    /// Starts `command` as [`Process::spawn`] does; with `group`, in a process group of its own
    /// that is killed as a whole (its PID is recorded negated, as `kill` names a group).
    pub fn spawn_command(
        dir: &Path,
        name: &'static str,
        mut command: Command,
        group: bool,
    ) -> Result<Self, ControlPlaneError> {
        let log = dir.join("logs").join(format!("{name}.log"));
        let out = File::create(&log).map_err(|e| ControlPlaneError::io(&log, e))?;
        let err = out
            .try_clone()
            .map_err(|e| ControlPlaneError::io(&log, e))?;
        if group {
            command.process_group(0);
        }
        let program = PathBuf::from(command.get_program());
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| ControlPlaneError::io(&program, e))?;
        let pids = dir.join("pids");
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&pids)
            .map_err(|e| ControlPlaneError::io(&pids, e))?;
        let sign = if group { "-" } else { "" };
        writeln!(file, "{sign}{}", child.id()).map_err(|e| ControlPlaneError::io(&pids, e))?;
        Ok(Self {
            name,
            log,
            child,
            group,
        })
    }

    /// `Err` with the log's tail when the process has already exited.
    pub fn check_running(&mut self) -> Result<(), ControlPlaneError> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(ControlPlaneError::Exited {
                process: self.name,
                status: status.to_string(),
                log: tail(&self.log),
            }),
            Err(e) => Err(ControlPlaneError::io(&self.log, e)),
        }
    }

    /// Kills the process by PID (or its whole group) and reaps it.
    pub fn stop(&mut self) {
        if self.group {
            let _ = Command::new("sh")
                .args(["-c", "kill -KILL -$1", "kill"])
                .arg(self.child.id().to_string())
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the watchdog for `dir`, detached from the test's standard streams.
pub(crate) fn start_watchdog(dir: &Path) -> Result<Child, ControlPlaneError> {
    Command::new("sh")
        .arg("-c")
        .arg(WATCHDOG)
        .arg("watchdog")
        .arg(std::process::id().to_string())
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| ControlPlaneError::io(Path::new("sh"), e))
}

/// The last lines of a log, for error messages.
pub(crate) fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(20);
    format!(
        "{} (last lines):\n{}",
        log.display(),
        lines[from..].join("\n")
    )
}
