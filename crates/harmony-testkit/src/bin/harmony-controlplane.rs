//! Starts a real control plane and keeps it up until Ctrl-C (`tools/controlplane/up` runs this).
//!
//! `harmony-controlplane [--okd] [--kubeconfig PATH]`: prints the admin kubeconfig's path on stdout (and
//! copies it to PATH, 0600, when given), the networks to pass to `harmony` on stderr.

use std::os::unix::fs::PermissionsExt;

use harmony_testkit::{ControlPlane, ControlPlaneOptions, Flavor};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut options = ControlPlaneOptions::default();
    let mut copy = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--okd" => options.flavor = Flavor::Okd,
            "--kubeconfig" => copy = Some(args.next().ok_or("--kubeconfig needs a PATH")?),
            other => {
                return Err(
                    format!("unknown argument `{other}`: use [--okd] [--kubeconfig PATH]").into(),
                );
            }
        }
    }
    let plane = ControlPlane::start_with(options)?;
    let mut kubeconfig = plane.kubeconfig();
    if let Some(path) = copy {
        std::fs::copy(&kubeconfig, &path)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        kubeconfig = path.into();
    }
    println!("{}", kubeconfig.display());
    eprintln!(
        "control plane ready at {} (Ctrl-C stops it)\n  export KUBECONFIG={}\n  harmony flags for this cluster: --pod-network {} --service-network {}\n  logs: {}",
        plane.url(),
        kubeconfig.display(),
        plane.pod_network(),
        plane.service_network(),
        plane.logs().display()
    );
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(tokio::signal::ctrl_c())?;
    Ok(())
}
