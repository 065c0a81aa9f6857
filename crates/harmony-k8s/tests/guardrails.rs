//! Cluster guardrails against the fake API server: apply, zero-write re-apply, prune of a removed
//! tenant's network tier, apply order, forced take-over of `self-provisioners`, and refusals.

mod common;

use std::time::Duration;

use common::{run, topology, writes};
use harmony::{Maestro, Outcome, OutcomeStatus, Score};
use harmony_guardrails::{ClusterGuardrailsScore, GuardrailsScore};
use harmony_k8s::{ApplyOptions, K8sTopology, Mode};
use harmony_kube::Kind;
use harmony_tenant::{DeleteOptions, TenantRemover, TenantScore};
use harmony_testkit::{FakeApiServer, FakeOptions, Flavor, Gvr};
use k8s_openapi::api::admissionregistration::v1::ValidatingAdmissionPolicy;
use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use kube::api::{Api, PostParams};
use serde_json::json;

fn tenants(names: &[&str]) -> Vec<TenantScore> {
    names.iter().map(|n| TenantScore::new(*n)).collect()
}

async fn guardrails(
    server: &FakeApiServer,
    score: ClusterGuardrailsScore,
    tenants: Vec<TenantScore>,
    options: ApplyOptions,
) -> Result<Outcome, String> {
    let mut maestro = Maestro::new(topology(server, options));
    let score = GuardrailsScore {
        guardrails: score,
        tenants,
    };
    maestro.register([Box::new(score) as Box<dyn Score<K8sTopology>>]);
    let mut report = maestro.run().await.map_err(|e| e.to_string())?;
    report.results.remove(0).result.map_err(|e| e.to_string())
}

/// OKD's default `self-provisioners`, written by another field manager.
async fn okd_self_provisioners(server: &FakeApiServer) {
    let binding: ClusterRoleBinding = serde_json::from_value(json!({
        "metadata": {"name": "self-provisioners",
                     "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "self-provisioner"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:authenticated:oauth"}],
    }))
    .unwrap();
    let params = PostParams {
        field_manager: Some("openshift-apiserver".into()),
        ..PostParams::default()
    };
    Api::<ClusterRoleBinding>::all(server.client())
        .create(&params, &binding)
        .await
        .unwrap();
}

const RANKS: [&str; 5] = [
    "validatingadmissionpolicies",
    "validatingadmissionpolicybindings",
    "baselineadminnetworkpolicies",
    "adminnetworkpolicies",
    "clusterrolebindings",
];

#[tokio::test(flavor = "multi_thread")]
async fn apply_reapply_prune_in_order_on_okd() {
    let server = FakeApiServer::start(FakeOptions {
        flavor: Flavor::Okd,
        ..FakeOptions::default()
    })
    .unwrap();
    okd_self_provisioners(&server).await;
    let (report, _) = run(
        &server,
        &tenants(&["acme", "globex"]),
        ApplyOptions::default(),
        2,
    )
    .await;
    assert!(report.all_succeeded(), "{:?}", report.results);
    server.clear_requests();

    // First apply: initech has no namespace yet. No ConfigMap is written: the tenant plans carry
    // the parameters.
    let all = tenants(&["acme", "globex", "initech"]);
    let score = ClusterGuardrailsScore::default();
    let outcome = guardrails(&server, score.clone(), all.clone(), ApplyOptions::default())
        .await
        .unwrap();
    assert_eq!(outcome.status, OutcomeStatus::Changed);
    assert!(
        outcome
            .message
            .starts_with("29 created, 1 changed, 0 unchanged, 0 pruned"),
        "{outcome:?}"
    );
    let details = outcome.details.join("\n");
    assert!(
        details.contains("forced ClusterRoleBinding self-provisioners: OKD hardening takes its subjects over from openshift-apiserver"),
        "{details}"
    );
    assert!(details.contains("note: okd-basic-user"), "{details}");
    let log = server.requests();
    let applied: Vec<&str> = log
        .iter()
        .filter(|r| r.is_write())
        .map(|r| r.resource.as_str())
        .collect();
    let ranks: Vec<usize> = applied
        .iter()
        .map(|r| RANKS.iter().position(|k| k == r).unwrap())
        .collect();
    assert!(ranks.is_sorted(), "{applied:?}");
    assert_eq!(applied.len(), 30, "{applied:?}");
    for request in log.iter().filter(|r| r.is_write()) {
        assert_eq!(request.field_manager.as_deref(), Some("harmony"));
        assert_eq!(
            request.force,
            request.resource == "clusterrolebindings",
            "{request:?}"
        );
    }
    let crb = server
        .object(
            &Gvr::of(Kind::of::<ClusterRoleBinding>()),
            None,
            "self-provisioners",
        )
        .unwrap();
    assert!(
        crb["subjects"].as_array().is_none_or(Vec::is_empty),
        "{crb}"
    );
    let anps = Gvr::of(harmony_kube::kinds::ADMIN_NETWORK_POLICY);
    assert_eq!(server.objects(&anps, None).len(), 3);

    // Re-apply: nothing written.
    server.clear_requests();
    let again = guardrails(&server, score.clone(), all.clone(), ApplyOptions::default())
        .await
        .unwrap();
    assert_eq!(again.status, OutcomeStatus::Unchanged, "{again:?}");
    assert_eq!(writes(&server), Vec::<String>::new());

    // globex left out while its namespace exists: its network tier is kept, with a warning.
    let without_globex = tenants(&["acme", "initech"]);
    let kept = guardrails(
        &server,
        score.clone(),
        without_globex.clone(),
        ApplyOptions::default(),
    )
    .await
    .unwrap();
    assert!(
        kept.details
            .iter()
            .any(|d| d.starts_with("warning: kept AdminNetworkPolicy harmony-tenant-globex")),
        "{kept:?}"
    );
    assert!(
        server
            .object(&anps, None, "harmony-tenant-globex")
            .is_some()
    );

    // globex deleted: its network tier is pruned, nothing else is.
    maestro_delete(&server, "globex").await;
    server.clear_requests();
    let pruned = guardrails(&server, score, without_globex, ApplyOptions::default())
        .await
        .unwrap();
    assert_eq!(
        writes(&server),
        ["delete adminnetworkpolicies harmony-tenant-globex"],
        "{pruned:?}"
    );
    assert!(pruned.message.ends_with("1 pruned"), "{pruned:?}");
    assert!(
        server
            .object(&anps, None, "harmony-tenant-globex")
            .is_none()
    );
    assert!(server.object(&anps, None, "harmony-tenant-acme").is_some());
}

async fn maestro_delete(server: &FakeApiServer, tenant: &str) {
    let options = DeleteOptions {
        delete_data: false,
        timeout: Duration::from_secs(2),
    };
    topology(server, ApplyOptions::default())
        .delete_tenant(tenant, options, None)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_stores_nothing_and_a_conflict_stops_before_later_ranks() {
    let server = FakeApiServer::start(FakeOptions::default()).unwrap();
    let dry = ApplyOptions {
        mode: Mode::DryRun,
        force: false,
    };
    let outcome = guardrails(&server, ClusterGuardrailsScore::default(), vec![], dry)
        .await
        .unwrap();
    assert!(
        outcome.message.starts_with("would be 26 created"),
        "{outcome:?}"
    );
    assert!(
        server
            .requests()
            .iter()
            .filter(|r| r.is_write())
            .all(|r| r.dry_run)
    );
    let vaps = Gvr::of(Kind::of::<ValidatingAdmissionPolicy>());
    assert!(server.objects(&vaps, None).is_empty());

    // The platform team's own baseline, owned by another manager: refused without --force.
    let banp = json!({
        "apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "BaselineAdminNetworkPolicy",
        "metadata": {"name": "default"},
        "spec": {"subject": {"namespaces": {}}, "ingress": [{"name": "allow-all", "action": "Allow", "from": [{"namespaces": {}}]}]},
    });
    let client = server.client();
    let api: Api<kube::api::DynamicObject> = Api::all_with(
        client,
        &harmony_kube::kinds::BASELINE_ADMIN_NETWORK_POLICY.api_resource(),
    );
    api.create(
        &PostParams {
            field_manager: Some("platform-team".into()),
            ..PostParams::default()
        },
        &serde_json::from_value(banp).unwrap(),
    )
    .await
    .unwrap();
    server.clear_requests();
    let error = guardrails(
        &server,
        ClusterGuardrailsScore::default(),
        tenants(&["acme"]),
        ApplyOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(error.contains("platform-team"), "{error}");
    assert!(error.contains("guardrails stopped there"), "{error}");
    let written: Vec<String> = writes(&server);
    assert!(
        !written
            .iter()
            .any(|w| w.contains("adminnetworkpolicies harmony-tenant-acme")),
        "{written:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_change_nothing() {
    let server = FakeApiServer::start(FakeOptions::default()).unwrap();
    let bad = ClusterGuardrailsScore::default().first_priority(200);
    let error = guardrails(
        &server,
        bad,
        tenants(&["acme", "Bad"]),
        ApplyOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(
        error.contains("spec.firstPriority: 200 is outside 0–99"),
        "{error}"
    );
    assert!(error.contains("tenant Bad: metadata.name"), "{error}");
    assert_eq!(writes(&server), Vec::<String>::new());

    let mut config = server.config();
    config.cluster_url = "http://127.0.0.1:9".parse().unwrap();
    let unreachable = K8sTopology::new(
        harmony_kube::cluster_from_config(config).unwrap(),
        common::vanilla_flags(),
        ApplyOptions::default(),
    );
    let mut maestro = Maestro::new(unreachable);
    let score = GuardrailsScore {
        guardrails: ClusterGuardrailsScore::default(),
        tenants: tenants(&["acme"]),
    };
    maestro.register([Box::new(score) as Box<dyn Score<K8sTopology>>]);
    let error = maestro.run().await.unwrap_err().to_string();
    assert!(error.contains("127.0.0.1:9"), "{error}");
}
