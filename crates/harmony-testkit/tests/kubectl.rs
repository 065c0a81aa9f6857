//! A real client checks the fake's fidelity: `kubectl` (get, apply --server-side, delete) as a
//! subprocess, the one built with the control plane (`tools/controlplane/build`).

use std::path::Path;
use std::process::{Command, Output};

use harmony_testkit::{Binaries, FakeApiServer, FakeOptions, Gvr};

fn kubectl(kubeconfig: &Path, args: &[&str]) -> Output {
    let kubectl = Binaries::locate().expect("kubectl is built").kubectl();
    let output = Command::new(kubectl)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .output()
        .expect("kubectl runs");
    eprintln!(
        "$ kubectl {}\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "kubectl failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn kubectl_get_apply_delete() {
    let server = FakeApiServer::start(FakeOptions::default()).expect("server starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = dir.path().join("kubeconfig");
    server
        .write_kubeconfig(&kubeconfig)
        .expect("kubeconfig written");

    let namespaces = ok(&kubectl(&kubeconfig, &["get", "ns"]));
    assert!(namespaces.contains("kube-system"), "{namespaces}");

    let manifest = dir.path().join("tenant.yaml");
    std::fs::write(&manifest, MANIFEST).expect("manifest written");
    let applied = ok(&kubectl(
        &kubeconfig,
        &[
            "apply",
            "--server-side",
            "--validate=false",
            "-f",
            manifest.to_str().unwrap(),
            "-v=8",
        ],
    ));
    assert!(
        applied.contains("namespace/acme serverside-applied"),
        "{applied}"
    );
    assert!(
        applied.contains("configmap/settings serverside-applied"),
        "{applied}"
    );

    let cm: serde_json::Value = serde_json::from_str(&ok(&kubectl(
        &kubeconfig,
        &[
            "get",
            "cm",
            "settings",
            "-n",
            "acme",
            "-o",
            "json",
            "--show-managed-fields",
        ],
    )))
    .expect("JSON output");
    assert_eq!(cm["data"]["color"], "blue");
    assert_eq!(cm["metadata"]["managedFields"][0]["manager"], "kubectl");
    assert_eq!(cm["metadata"]["managedFields"][0]["operation"], "Apply");

    // A second manager applying a different value conflicts; kubectl reports it and exits non-zero.
    let other = dir.path().join("other.yaml");
    std::fs::write(&other, MANIFEST.replace("blue", "red")).expect("manifest written");
    let conflict = kubectl(
        &kubeconfig,
        &[
            "apply",
            "--server-side",
            "--validate=false",
            "--field-manager=other",
            "-f",
            other.to_str().unwrap(),
        ],
    );
    assert!(!conflict.status.success());
    assert!(
        String::from_utf8_lossy(&conflict.stderr).contains("conflict"),
        "{conflict:?}"
    );

    let forced = ok(&kubectl(
        &kubeconfig,
        &[
            "apply",
            "--server-side",
            "--validate=false",
            "--field-manager=other",
            "--force-conflicts",
            "-f",
            other.to_str().unwrap(),
        ],
    ));
    assert!(
        forced.contains("configmap/settings serverside-applied"),
        "{forced}"
    );
    let color = ok(&kubectl(
        &kubeconfig,
        &[
            "get",
            "cm",
            "settings",
            "-n",
            "acme",
            "-o",
            "jsonpath={.data.color}",
        ],
    ));
    assert_eq!(color, "red");

    let managed = ok(&kubectl(
        &kubeconfig,
        &[
            "get",
            "ns",
            "-l",
            "app.kubernetes.io/managed-by=harmony",
            "-o",
            "name",
        ],
    ));
    assert_eq!(managed.trim(), "namespace/acme");

    let applies: Vec<(String, Option<String>, Option<u16>)> = server
        .requests()
        .into_iter()
        .filter(|r| r.verb == "apply")
        .map(|r| (r.resource, r.field_manager, r.status))
        .collect();
    let kubectl_manager = Some("kubectl".to_string());
    let other_manager = Some("other".to_string());
    assert_eq!(
        applies,
        [
            ("namespaces".into(), kubectl_manager.clone(), Some(201)),
            ("configmaps".into(), kubectl_manager, Some(201)),
            ("namespaces".into(), other_manager.clone(), Some(200)),
            ("configmaps".into(), other_manager.clone(), Some(409)),
            ("namespaces".into(), other_manager.clone(), Some(200)),
            ("configmaps".into(), other_manager, Some(200)),
        ]
    );

    let deleted = ok(&kubectl(&kubeconfig, &["delete", "ns", "acme"]));
    assert!(deleted.contains("namespace \"acme\" deleted"), "{deleted}");
    assert_eq!(
        server.object(&Gvr::core("configmaps"), Some("acme"), "settings"),
        None
    );
    let gone = kubectl(&kubeconfig, &["get", "ns", "acme"]);
    assert!(
        String::from_utf8_lossy(&gone.stderr).contains("NotFound"),
        "{gone:?}"
    );
}

const MANIFEST: &str = "\
apiVersion: v1
kind: Namespace
metadata:
  name: acme
  labels:
    app.kubernetes.io/managed-by: harmony
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: acme
data:
  color: blue
";
