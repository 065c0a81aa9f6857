//! Behavioural probes against a real control plane (`harmony_testkit::ControlPlane`): two
//! Harmony tenants with cluster guardrails block every must-block probe and allow every
//! must-allow one; then one tenant is weakened (its developers bound to cluster-admin, its
//! namespace's pod security set to privileged) and exactly the probes that should notice do,
//! with the server's answer as evidence, while the other tenant is unaffected.

mod real;

use std::collections::BTreeMap;
use std::time::Duration;

use harmony::{Maestro, Score};
use harmony_audit::probe::{IdentityProbes, Layer, Outcome, ProbeReport, TenantProbes, Verdict};
use harmony_guardrails::{DEFAULT_HARMONY_IDENTITY, GuardrailsScore};
use harmony_k8s::{K8sTopology, ProbeError, ProbeSelection, Prober};
use harmony_tenant::{Member, TenantRole, TenantScore};
use harmony_testkit::ControlPlane;
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{Api, PostParams};
use real::{admission_rules, topology};
use serde_json::json;

/// Applies `tenants`, then the guardrails covering them; both must succeed. Network tiers are
/// off: probes send API requests, not traffic (and the tiers' BaselineAdminNetworkPolicy is not
/// yet accepted by the CRDs this control plane serves).
async fn apply(plane: &ControlPlane, tenants: &[TenantScore]) {
    let mut maestro = Maestro::new(topology(plane).await);
    let mut scores: Vec<Box<dyn Score<K8sTopology>>> = tenants
        .iter()
        .map(|t| Box::new(t.clone()) as Box<dyn Score<K8sTopology>>)
        .collect();
    scores.push(Box::new(GuardrailsScore {
        guardrails: admission_rules(),
        tenants: tenants.to_vec(),
    }));
    maestro.register(scores);
    let report = maestro.run().await.unwrap();
    for result in &report.results {
        assert!(result.result.is_ok(), "{:?}", result.result);
    }
}

/// A StorageClass named `name` (no provisioner runs: claims stay pending).
async fn storage_class(plane: &ControlPlane, name: &str) {
    let class: StorageClass = serde_json::from_value(json!({
        "metadata": {"name": name}, "provisioner": "example.com/none",
    }))
    .unwrap();
    Api::<StorageClass>::all(plane.client().await)
        .create(&PostParams::default(), &class)
        .await
        .unwrap();
}

fn tenants(a: &str, b: &str, class: &str) -> [TenantScore; 2] {
    [
        TenantScore::new(a)
            .storage_class(class, "1Gi")
            .self_service_role_bindings(true)
            .member(Member::user(
                "alice",
                TenantRole::Admin,
                format!("alice@{a}"),
            ))
            .member(Member::group(
                "devs",
                TenantRole::Developer,
                format!("{a}-devs"),
            ))
            .member(Member::service_account("dash", TenantRole::Viewer)),
        TenantScore::new(b)
            .member(Member::user("bob", TenantRole::Admin, format!("bob@{b}")))
            .member(Member::service_account("ci", TenantRole::Developer)),
    ]
}

async fn probe(plane: &ControlPlane) -> ProbeReport {
    Prober::new(plane.config().await)
        .unwrap()
        .run(&ProbeSelection::default())
        .await
        .unwrap()
}

/// Probes until `settled` holds (the API server applies new admission policies, RBAC bindings
/// and namespace labels from its caches, a moment after they are written), at most 30 times a
/// second apart; the last report either way.
async fn probe_until(plane: &ControlPlane, settled: impl Fn(&ProbeReport) -> bool) -> ProbeReport {
    let mut report = probe(plane).await;
    for _ in 0..30 {
        if settled(&report) {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        report = probe(plane).await;
    }
    report
}

fn tenant<'a>(report: &'a ProbeReport, name: &str) -> &'a TenantProbes {
    report.tenants.iter().find(|t| t.tenant == name).unwrap()
}

/// The probes of the identity of `role`.
fn identity(t: &TenantProbes, role: TenantRole) -> &IdentityProbes {
    t.identities
        .iter()
        .find(|i| i.identity.role == role)
        .unwrap()
}

/// Probe id → outcome, for the identity of `role`.
fn outcomes(t: &TenantProbes, role: TenantRole) -> BTreeMap<&'static str, Outcome> {
    identity(t, role)
        .results
        .iter()
        .map(|r| (r.id, r.outcome.clone()))
        .collect()
}

/// Every probe of `t` as expected, with the evidence of any that is not.
fn assert_all_pass(t: &TenantProbes) {
    let wrong: Vec<String> = t
        .identities
        .iter()
        .flat_map(|i| i.results.iter().map(move |r| (i.identity.role, r)))
        .filter(|(_, r)| r.verdict != Verdict::Pass)
        .map(|(role, r)| {
            format!(
                "{role:?} {} {}: {:?} {}",
                r.id, r.request, r.outcome, r.answer
            )
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "tenant {}:\n{}",
        t.tenant,
        wrong.join("\n")
    );
}

fn policy(name: &str) -> Outcome {
    Outcome::Blocked(Layer::AdmissionPolicy(name.into()))
}

#[tokio::test(flavor = "multi_thread")]
async fn guarded_tenants_block_every_probe_until_one_is_weakened() {
    let plane = ControlPlane::shared();
    let _logs = plane.failure_guard();
    let (a, b) = (
        ControlPlane::unique_name("probe-a"),
        ControlPlane::unique_name("probe-b"),
    );
    let class = ControlPlane::unique_name("probe-class");
    storage_class(plane, &class).await;
    apply(plane, &tenants(&a, &b, &class)).await;

    let report = probe_until(plane, |r| !r.failed()).await;
    assert!(!report.failed(), "{report:#?}");
    for name in [&a, &b] {
        let t = tenant(&report, name);
        assert_all_pass(t);
        assert_eq!(t.identities.len(), if *name == a { 3 } else { 2 });
    }
    let developer = outcomes(tenant(&report, &a), TenantRole::Developer);
    assert_eq!(developer["HMT-PROBE-001"], Outcome::Blocked(Layer::Rbac));
    assert_eq!(
        developer["HMT-PROBE-017"],
        Outcome::Blocked(Layer::PodSecurity)
    );
    assert_eq!(developer["HMT-PROBE-032"], Outcome::Allowed);
    let admin = outcomes(tenant(&report, &a), TenantRole::Admin);
    assert_eq!(
        admin["HMT-PROBE-030"],
        Outcome::Blocked(Layer::RbacEscalation),
        "a self-service admin may create RoleBindings, but not grant what it does not hold"
    );
    assert_eq!(tenant(&report, &a).other_namespace, b);
    let claim = tenant(&report, &a).identities[0]
        .results
        .iter()
        .find(|r| r.id == "HMT-PROBE-029")
        .unwrap();
    assert_eq!(claim.outcome, policy("harmony-tenant-storage"));
    assert!(
        claim.answer.message.contains("spec.volumeName"),
        "the claim names an allowed class: only its volumeName is refused: {}",
        claim.answer
    );

    // Weaken tenant a: its developers become cluster admins, its pods privileged.
    plane
        .kubectl_run(&[
            "create",
            "clusterrolebinding",
            &format!("{a}-weakened"),
            "--clusterrole=cluster-admin",
            &format!("--group={a}-devs"),
        ])
        .unwrap();
    plane
        .kubectl_run(&[
            "label",
            "namespace",
            &a,
            "pod-security.kubernetes.io/enforce=privileged",
            "--overwrite",
            // Only Harmony may change these labels; it needs the rights to, too.
            &format!("--as={DEFAULT_HARMONY_IDENTITY}"),
            "--as-group=system:masters",
        ])
        .unwrap();

    let report = probe_until(plane, |r| {
        let weak = tenant(r, &a);
        let developer = outcomes(weak, TenantRole::Developer);
        let admin = outcomes(weak, TenantRole::Admin);
        developer["HMT-PROBE-001"] == Outcome::Allowed && admin["HMT-PROBE-017"] == Outcome::Allowed
    })
    .await;
    assert!(report.failed());
    assert_all_pass(tenant(&report, &b));
    let weak = tenant(&report, &a);
    let failed = |role| -> Vec<&str> {
        identity(weak, role)
            .results
            .iter()
            .filter(|r| r.verdict != Verdict::Pass)
            .map(|r| r.id)
            .collect()
    };
    let privileged_pods = [
        "HMT-PROBE-017",
        "HMT-PROBE-018",
        "HMT-PROBE-024",
        "HMT-PROBE-025",
        "HMT-PROBE-026",
        "HMT-PROBE-027",
    ];
    assert_eq!(failed(TenantRole::Admin), privileged_pods);
    let mut cluster_admin = vec![
        "HMT-PROBE-001",
        "HMT-PROBE-002",
        "HMT-PROBE-003",
        "HMT-PROBE-004",
        "HMT-PROBE-005",
        "HMT-PROBE-006",
        "HMT-PROBE-007",
        "HMT-PROBE-008",
        "HMT-PROBE-009",
        "HMT-PROBE-015",
    ];
    cluster_admin.extend(privileged_pods);
    cluster_admin.extend(["HMT-PROBE-030", "HMT-PROBE-031"]);
    cluster_admin.sort();
    assert_eq!(failed(TenantRole::Developer), cluster_admin);
    assert!(failed(TenantRole::Viewer).is_empty());

    let developer = outcomes(weak, TenantRole::Developer);
    for id in &cluster_admin {
        assert_eq!(developer[id], Outcome::Allowed, "{id}");
    }
    let evidence = weak.identities[1]
        .results
        .iter()
        .find(|r| r.id == "HMT-PROBE-003")
        .unwrap();
    assert_eq!(evidence.answer.code, 201, "{:?}", evidence.answer);
    // What the guardrails hold even against a cluster admin of the tenant.
    for id in [
        "HMT-PROBE-010",
        "HMT-PROBE-011",
        "HMT-PROBE-012",
        "HMT-PROBE-013",
        "HMT-PROBE-014",
    ] {
        assert_eq!(developer[id], policy("harmony-managed-objects"), "{id}");
    }
    assert_eq!(
        developer["HMT-PROBE-016"],
        policy("harmony-namespace-labels")
    );
    for id in [
        "HMT-PROBE-019",
        "HMT-PROBE-020",
        "HMT-PROBE-021",
        "HMT-PROBE-022",
        "HMT-PROBE-023",
    ] {
        assert_eq!(developer[id], policy("harmony-tenant-pods"), "{id}");
    }
    assert_eq!(
        developer["HMT-PROBE-028"],
        policy("harmony-tenant-services")
    );
    assert_eq!(developer["HMT-PROBE-032"], Outcome::Allowed);
}

#[tokio::test(flavor = "multi_thread")]
async fn refuses_without_impersonation_and_for_unknown_tenants() {
    let plane = ControlPlane::shared();
    let _logs = plane.failure_guard();
    let nobody = plane
        .config_as("probe-nobody", &["system:authenticated"])
        .await;
    let error = Prober::new(nobody)
        .unwrap()
        .run(&ProbeSelection::default())
        .await
        .unwrap_err();
    let ProbeError::CannotImpersonate { missing, .. } = &error else {
        panic!("{error}");
    };
    assert_eq!(missing, "users, groups, serviceaccounts");
    assert!(error.to_string().contains("grant `impersonate`"), "{error}");

    let missing = ControlPlane::unique_name("absent");
    let selection = ProbeSelection {
        tenant: Some(missing.clone()),
        ..ProbeSelection::default()
    };
    let error = Prober::new(plane.config().await)
        .unwrap()
        .run(&selection)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ProbeError::UnknownTenant { tenant, .. } if *tenant == missing),
        "{error}"
    );
}
