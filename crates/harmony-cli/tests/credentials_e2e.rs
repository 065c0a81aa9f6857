//! `harmony tenant apply` then `harmony tenant credentials issue` against a real control plane
//! (`harmony_testkit::ControlPlane`): the kubeconfigs written for a user member (a certificate
//! signed by the real kube-controller-manager) and a ServiceAccount member (a TokenRequest token)
//! are 0600 and work with kubectl, as their member and only in the tenant's namespace, until
//! `credentials revoke` makes the token unauthorized.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use harmony_testkit::ControlPlane;

fn harmony(dir: &Path, args: &[&str]) -> Output {
    let admin = ControlPlane::shared().kubeconfig();
    Command::cargo_bin("harmony")
        .unwrap()
        .current_dir(dir)
        .env("USER", "operator")
        .env_remove("KUBECONFIG")
        .args(args)
        .arg("--kubeconfig")
        .arg(admin)
        .output()
        .unwrap()
}

/// kubectl with only the member's kubeconfig.
fn member_kubectl(plane: &ControlPlane, kubeconfig: &Path, args: &[&str]) -> Output {
    std::process::Command::new(plane.binaries().kubectl())
        .env_remove("KUBECONFIG")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The secret of a kubeconfig: its token or its client key.
fn secret(kubeconfig: &str) -> String {
    kubeconfig
        .lines()
        .find_map(|l| {
            let l = l.trim();
            l.strip_prefix("token: ")
                .or_else(|| l.strip_prefix("client-key-data: "))
        })
        .expect("the kubeconfig holds a token or a key")
        .to_string()
}

#[test]
fn issue_writes_kubeconfigs_that_work_on_the_real_cluster() {
    let plane = ControlPlane::shared();
    let _logs = plane.failure_guard();
    let tenant = ControlPlane::unique_name("cli-creds");
    let alice = format!("alice@{tenant}.test");
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("tenant.yaml"),
        format!(
            "apiVersion: harmony.nationtech.io/v1alpha1\nkind: Tenant\nmetadata:\n  name: {tenant}\n\
             spec:\n  rbac:\n    members:\n      - {{ name: alice, role: admin, user: {alice} }}\n      \
             - {{ name: ci, role: developer, serviceAccount: true }}\n"
        ),
    )
    .unwrap();
    let (pods, services) = (
        plane.pod_network().to_string(),
        plane.service_network().to_string(),
    );
    let applied = harmony(
        dir.path(),
        &[
            "tenant",
            "apply",
            "-f",
            "tenant.yaml",
            "--pod-network",
            &pods,
            "--service-network",
            &services,
        ],
    );
    assert!(applied.status.success(), "apply: {}", text(&applied.stderr));

    for (member, kind, identity) in [
        ("alice", "certificate", alice.clone()),
        ("ci", "token", format!("system:serviceaccount:{tenant}:ci")),
    ] {
        let out = format!("{member}.kubeconfig");
        let issued = harmony(
            dir.path(),
            &[
                "tenant",
                "credentials",
                "issue",
                "-f",
                "tenant.yaml",
                "--tenant",
                &tenant,
                "--member",
                member,
                "--server",
                plane.url(),
                "--ttl",
                "1h",
                "--state",
                "state",
                "--out",
                &out,
            ],
        );
        let stderr = text(&issued.stderr);
        assert!(issued.status.success(), "issue {member}: {stderr}");
        assert!(
            stderr.contains(&format!("issued a {kind} for {tenant}/{member}")),
            "{stderr}"
        );
        let path = dir.path().join(&out);
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600,
            "{out} is private"
        );
        let secret = secret(&fs::read_to_string(&path).unwrap());
        let log = fs::read_to_string(dir.path().join("state/log.jsonl")).unwrap();
        for (what, shown) in [
            ("stderr", &stderr),
            ("stdout", &text(&issued.stdout)),
            ("the log", &log),
        ] {
            assert!(
                !shown.contains(&secret),
                "{member}'s secret leaked to {what}"
            );
        }

        let whoami = member_kubectl(
            plane,
            &path,
            &[
                "auth",
                "whoami",
                "-o",
                "jsonpath={.status.userInfo.username}",
            ],
        );
        assert_eq!(text(&whoami.stdout), identity, "{}", text(&whoami.stderr));
        let listed = member_kubectl(plane, &path, &["get", "configmaps", "-o", "name"]);
        assert!(
            text(&listed.stdout).contains("configmap/harmony-guardrails"),
            "{member} lists its namespace: {}",
            text(&listed.stderr)
        );
        for args in [
            &["get", "namespaces"][..],
            &["get", "configmaps", "-n", "default"][..],
        ] {
            let refused = member_kubectl(plane, &path, args);
            assert!(
                !refused.status.success() && text(&refused.stderr).contains("Forbidden"),
                "{member}: kubectl {args:?} is refused: {}",
                text(&refused.stderr)
            );
        }
    }

    let revoked = harmony(
        dir.path(),
        &[
            "tenant",
            "credentials",
            "revoke",
            "-f",
            "tenant.yaml",
            "--tenant",
            &tenant,
            "--member",
            "ci",
            "--state",
            "state",
        ],
    );
    assert!(
        revoked.status.success(),
        "revoke: {}",
        text(&revoked.stderr)
    );
    let ci = dir.path().join("ci.kubeconfig");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let after = member_kubectl(plane, &ci, &["get", "configmaps"]);
        if text(&after.stderr).contains("Unauthorized") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the revoked token still works after 30 s: {}",
            text(&after.stderr)
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}
