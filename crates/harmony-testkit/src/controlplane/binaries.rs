//! Where the control plane's binaries and CRDs are: the folder `tools/controlplane/build` prints
//! (it builds them on first use and answers from its cache afterwards), or `HARMONY_CONTROLPLANE`.
//! A missing binary is an error, never a skipped test.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use super::ControlPlaneError;

/// The environment variable naming a folder with `bin/` and `crds/`, as the build prints it.
pub const ENV: &str = "HARMONY_CONTROLPLANE";

/// A folder holding `bin/{etcd,kube-apiserver,kube-controller-manager,kubectl}` and `crds/`.
#[derive(Debug, Clone)]
pub struct Binaries {
    root: PathBuf,
}

impl Binaries {
    /// `HARMONY_CONTROLPLANE`, or what `tools/controlplane/build` prints (run once per process).
    pub fn locate() -> Result<Self, ControlPlaneError> {
        static ROOT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
        let root = ROOT.get_or_init(|| match std::env::var_os(ENV) {
            Some(root) => Ok(PathBuf::from(root)),
            None => build(),
        });
        let binaries = Self {
            root: root.clone().map_err(ControlPlaneError::Binaries)?,
        };
        for name in [
            "etcd",
            "kube-apiserver",
            "kube-controller-manager",
            "kubectl",
        ] {
            let path = binaries.bin(name);
            if !path.is_file() {
                return Err(ControlPlaneError::Binaries(format!(
                    "{} is missing: run tools/controlplane/build and set {ENV} to the folder it prints",
                    path.display()
                )));
            }
        }
        Ok(binaries)
    }

    /// `bin/NAME`.
    pub fn bin(&self, name: &str) -> PathBuf {
        self.root.join("bin").join(name)
    }

    /// The kubectl built with the control plane.
    pub fn kubectl(&self) -> PathBuf {
        self.bin("kubectl")
    }

    /// `crds/NAME`.
    pub fn crd(&self, name: &str) -> PathBuf {
        self.root.join("crds").join(name)
    }
}

/// Runs the build script; its stdout is the folder, its progress goes to our stderr.
fn build() -> Result<PathBuf, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/controlplane/build");
    let out = Command::new("bash")
        .arg(&script)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!("{} failed ({})", script.display(), out.status));
    }
    Ok(PathBuf::from(
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
    ))
}
