//! The vanilla Alertmanager base configuration, as rendered into its Secret, through the real
//! `amtool check-config` (Debian's prometheus-alertmanager); a broken copy is refused by it, which
//! shows the checker runs.

use std::path::Path;
use std::process::{Command, Output};

use harmony_guardrails::monitoring::vanilla::{
    ALERTMANAGER_CONFIG_KEY, ALERTMANAGER_CONFIG_SECRET,
};
use harmony_guardrails::monitoring::{ClusterMonitoring, MonitoringObject, compile_monitoring};
use harmony_tenant::ClusterFlavor;

fn check_config(path: &Path) -> Output {
    Command::new("amtool")
        .arg("check-config")
        .arg(path)
        .output()
        .expect("amtool is installed (.ci/install: prometheus-alertmanager)")
}

/// The base configuration as the rendered Secret carries it.
fn rendered_base() -> String {
    let plan = compile_monitoring(&ClusterMonitoring::default(), ClusterFlavor::Kubernetes);
    let secret = plan
        .objects()
        .iter()
        .find_map(|o| match o {
            MonitoringObject::Secret(s) if o.name() == ALERTMANAGER_CONFIG_SECRET => Some(s),
            _ => None,
        })
        .expect("the Alertmanager configuration Secret");
    let bytes = &secret.data.as_ref().unwrap()[ALERTMANAGER_CONFIG_KEY].0;
    String::from_utf8(bytes.clone()).unwrap()
}

#[test]
fn the_rendered_alertmanager_base_passes_amtool_check_config() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("alertmanager.yaml");
    std::fs::write(&good, rendered_base()).unwrap();
    let out = check_config(&good);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("SUCCESS"), "{stdout}");
    assert!(stdout.contains(" - 1 inhibit rules"), "{stdout}");
    assert!(stdout.contains(" - 1 receivers"), "{stdout}");

    // The same document routing to a receiver it does not define: amtool refuses it.
    let broken = dir.path().join("broken.yaml");
    std::fs::write(
        &broken,
        rendered_base().replace("receiver: 'null'", "receiver: 'missing'"),
    )
    .unwrap();
    let out = check_config(&broken);
    assert!(!out.status.success());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("undefined receiver \"missing\""), "{all}");
}
