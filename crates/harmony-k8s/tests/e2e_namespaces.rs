//! A tenant with several namespaces on the real control plane: its three namespaces are created
//! with the full isolation, its members are bound in each, its pods reach each other and no other
//! tenant's (the audit and network-config-analyzer agree), delete removes every namespace; on the
//! OKD flavour its ClusterResourceQuota is applied (the CRD installed), pruned and deleted.

mod real;

use std::collections::BTreeMap;
use std::time::Duration;

use harmony_audit::{AuditConfig, ClusterSnapshot, Expectation, Status, audit};
use harmony_k8s::{ApplyOptions, FactsSource};
use harmony_tenant::{
    DeleteOptions, DeleteReport, Member, NamespaceAsk, ResourceQuotaConfig, SAME_TENANT,
    TenantManager, TenantNamespace, TenantRemover, TenantRole, TenantScore,
};
use harmony_testkit::{ControlPlane, ControlPlaneOptions, Flavor};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use real::{apply_tenants, live_snapshot, nca_pairs, topology, topology_with, vanilla_facts};

/// `name` with three namespaces whose quotas add up to the tenant's total.
fn three(name: &str) -> TenantScore {
    let share = |cpu: &str, pods: i64| {
        let mut q = ResourceQuotaConfig::default();
        q.requests.cpu = Some(Quantity(cpu.into()));
        q.limits.cpu = q.requests.cpu.clone();
        q.requests.memory = Some(Quantity("1Gi".into()));
        q.limits.memory = q.requests.memory.clone();
        for c in [&mut q.requests, &mut q.limits] {
            c.ephemeral_storage = Some(Quantity("5Gi".into()));
        }
        q.objects.pods = Some(pods);
        q
    };
    let mut score = TenantScore::new(name)
        .requests("4", "3Gi")
        .limits("4", "3Gi")
        .max_pods(30)
        .member(Member::user(
            "peter",
            TenantRole::Admin,
            format!("peter@{name}"),
        ))
        .with_namespaces([
            TenantNamespace::new(format!("{name}-dev")).quotas(share("1", 10)),
            TenantNamespace::new(format!("{name}-staging")).quotas(share("1", 10)),
            TenantNamespace::new(format!("{name}-prod")).quotas(share("2", 10)),
        ]);
    score.resource_quotas.requests.ephemeral_storage = Some(Quantity("15Gi".into()));
    score.resource_quotas.limits.ephemeral_storage =
        score.resource_quotas.requests.ephemeral_storage.clone();
    score
}

/// `harmony tenant delete` of `tenant` (no data held), which must succeed.
async fn delete(plane: &ControlPlane, tenant: &str) -> DeleteReport {
    let options = DeleteOptions {
        delete_data: false,
        timeout: Duration::from_secs(120),
    };
    topology(plane)
        .await
        .delete_tenant(tenant, options, None)
        .await
        .unwrap()
}

/// The live snapshot (with the platform and placeholder pods) and the audit of `tenants`.
async fn live_audit(
    plane: &ControlPlane,
    tenants: &[&TenantScore],
) -> (ClusterSnapshot, harmony_audit::AuditReport) {
    let (snapshot, facts) = live_snapshot(plane, &vanilla_facts(plane)).await;
    let mut config = AuditConfig::new(facts);
    for t in tenants {
        config
            .expectations
            .insert(t.name().into(), Expectation::of(t, None));
    }
    let report = audit(&snapshot, &config);
    (snapshot, report)
}

#[tokio::test(flavor = "multi_thread")]
async fn three_namespaces_reach_each_other_and_no_other_tenant() {
    let plane = ControlPlane::shared();
    let _logs = plane.failure_guard();
    let name = ControlPlane::unique_name("initech");
    let other = ControlPlane::unique_name("globex");
    let tenant = three(&name);
    let globex =
        TenantScore::new(&other).member(Member::user("bob", TenantRole::Admin, "bob@globex"));
    let facts = harmony_tenant::ClusterFacts::kubernetes();
    assert_eq!(tenant.validate(&facts), vec![]);
    apply_tenants(topology(plane).await, &[tenant.clone(), globex.clone()], 2).await;

    for ns in tenant.namespaces() {
        let labels = plane
            .kubectl_run(&["get", "namespace", ns, "-o", "jsonpath={.metadata.labels}"])
            .unwrap();
        assert!(labels.contains(&format!("\"harmony.nationtech.io/tenant\":\"{name}\"")));
        let policies = plane
            .kubectl_run(&["get", "networkpolicies", "-n", ns, "-o", "name"])
            .unwrap();
        assert!(policies.contains(SAME_TENANT), "{ns}: {policies}");
        let can = plane
            .kubectl_run(&[
                "auth",
                "can-i",
                "create",
                "deployments.apps",
                "-n",
                ns,
                "--as",
                &format!("peter@{name}"),
            ])
            .unwrap();
        assert_eq!(can.trim(), "yes", "{ns}");
    }
    let quota = plane
        .kubectl_run(&[
            "get",
            "resourcequota",
            "tenant-quota",
            "-n",
            &format!("{name}-prod"),
            "-o",
            "jsonpath={.spec.hard.requests\\.cpu}",
        ])
        .unwrap();
    assert_eq!(quota, "2");
    assert!(
        plane
            .kubectl_run(&[
                "auth",
                "can-i",
                "list",
                "pods",
                "-n",
                &other,
                "--as",
                &format!("peter@{name}")
            ])
            .is_err(),
        "peter has no access to the other tenant"
    );

    let plan = harmony_tenant::compile(
        &tenant,
        &topology(plane).await.cluster_facts().await.unwrap(),
    );
    let statuses = topology(plane)
        .await
        .status(std::slice::from_ref(&name), &[plan])
        .await
        .unwrap();
    let rows: Vec<(&str, bool)> = statuses
        .iter()
        .map(|s| (s.namespace.as_str(), s.drift.is_some()))
        .collect();
    let (dev, prod, staging) = (
        format!("{name}-dev"),
        format!("{name}-prod"),
        format!("{name}-staging"),
    );
    assert_eq!(
        rows,
        [
            (dev.as_str(), true),
            (prod.as_str(), false),
            (staging.as_str(), false)
        ],
        "one status per namespace, the drift with the default one"
    );
    assert_eq!(
        statuses[0].drift.as_ref().unwrap().len(),
        0,
        "{:?}",
        statuses[0].drift
    );
    for s in &statuses {
        assert!(
            s.members.iter().any(|m| m.binding == "member-peter"),
            "{s:?}"
        );
        assert!(s.policies.contains(&SAME_TENANT.to_string()), "{s:?}");
    }

    let (snapshot, report) = live_audit(plane, &[&tenant, &globex]).await;
    let mine: Vec<_> = report
        .tenants
        .iter()
        .filter(|t| t.tenant == name || t.tenant == other)
        .collect();
    assert_eq!(mine.len(), 4, "three namespaces and globex");
    for t in &mine {
        for check in t
            .checks
            .iter()
            .filter(|c| c.id.starts_with("HMT-NET-002") || c.id == "HMT-RBAC-002")
        {
            assert_eq!(
                check.status,
                Status::Pass,
                "{} {}: {:?}",
                t.namespace,
                check.id,
                check.evidence
            );
        }
    }

    // network-config-analyzer on the same objects: the same verdict for every pod pair.
    let theirs = nca_pairs(&snapshot);
    let open = |a: &str, b: &str| {
        theirs.iter().any(|((s, d), c)| {
            s.starts_with(&format!("{a}/")) && d.starts_with(&format!("{b}/")) && !c.is_empty()
        })
    };
    for (a, b) in [
        (&dev, &prod),
        (&prod, &dev),
        (&staging, &prod),
        (&dev, &staging),
    ] {
        assert!(open(a, b), "nca: {a} → {b} should be open");
    }
    for ns in [&dev, &staging, &prod] {
        assert!(
            !open(ns, &other) && !open(&other, ns),
            "nca: {ns} ↔ {other} must be closed"
        );
    }

    let removed = delete(plane, &name).await;
    assert_eq!(removed.namespace.as_deref(), Some(dev.as_str()));
    assert_eq!(
        removed.namespaces,
        [dev.as_str(), prod.as_str(), staging.as_str()]
    );
    for ns in tenant.namespaces() {
        assert!(
            plane.kubectl_run(&["get", "namespace", ns]).is_err(),
            "{ns} is gone"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_tenant_file_s_apply_leaves_self_service_namespaces_alone() {
    let plane = ControlPlane::shared();
    let _logs = plane.failure_guard();
    let name = ControlPlane::unique_name("selfsvc");
    let mut file = three(&name).max_namespaces(3);
    if let Some(list) = file.tenant_config.namespaces.as_mut() {
        list.truncate(2);
    }
    let asked = format!("{name}-asked");
    let ask = NamespaceAsk {
        created: "2026-12-03T21:00:00Z".into(),
        request: format!("{name}-dev/more"),
        name: asked.clone(),
        copy_from: Some(format!("{name}-dev")),
        granted: false,
    };
    let facts = harmony_tenant::ClusterFacts::kubernetes();
    let granted = file.with_self_service(&[ask], &BTreeMap::new(), &facts);
    assert!(granted.decisions[0].outcome.is_ok(), "{granted:?}");
    apply_tenants(topology(plane).await, &[granted.tenant], 1).await;
    let kept = |what: &str| {
        plane
            .kubectl_run(&["get", what, "-n", &asked, "-o", "name"])
            .unwrap()
    };
    let before = (kept("networkpolicies"), kept("rolebindings"));
    assert!(before.0.contains("default-deny"), "{before:?}");
    assert!(before.1.contains("member-peter"), "{before:?}");

    // `harmony tenant apply` of the file, which does not know the asked namespace, prunes nothing
    // there.
    apply_tenants(topology(plane).await, std::slice::from_ref(&file), 1).await;
    assert_eq!((kept("networkpolicies"), kept("rolebindings")), before);

    // The audit of the file's tenant finds the asked namespace by its tenant label and holds it
    // to the tenant's expectations.
    let (_, report) = live_audit(plane, &[&file]).await;
    let row = report
        .tenants
        .iter()
        .find(|t| t.namespace == asked)
        .expect("the audit reports the asked namespace");
    assert_eq!(row.tenant, name);
    let failing: Vec<&str> = row
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .map(|c| c.id)
        .collect();
    assert!(failing.is_empty(), "{failing:?}");

    // Deleting the tenant deletes its self-service namespace too.
    let removed = delete(plane, &name).await;
    assert!(removed.namespaces.contains(&asked), "{removed:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn okd_gets_the_cluster_resource_quota_of_the_tenant_total() {
    let plane = ControlPlane::start_with(ControlPlaneOptions {
        flavor: Flavor::Okd,
        ..ControlPlaneOptions::default()
    })
    .unwrap();
    let _logs = plane.failure_guard();
    let name = ControlPlane::unique_name("initech");
    let tenant = three(&name);
    let okd = || topology_with(&plane, FactsSource::default(), ApplyOptions::default());
    apply_tenants(okd().await, std::slice::from_ref(&tenant), 1).await;
    let crq = format!("clusterresourcequota/harmony-tenant-{name}");
    let get = |path: &str| plane.kubectl_run(&["get", &crq, "-o", &format!("jsonpath={path}")]);
    assert_eq!(get("{.spec.quota.hard.requests\\.cpu}").unwrap(), "4");
    assert_eq!(get("{.spec.quota.hard.pods}").unwrap(), "30");
    assert_eq!(
        get("{.spec.selector.labels.matchLabels.harmony\\.nationtech\\.io/tenant}").unwrap(),
        name
    );
    assert_eq!(
        get("{.metadata.labels.app\\.kubernetes\\.io/managed-by}").unwrap(),
        "harmony"
    );

    // Back to one namespace: the cluster quota is pruned.
    let one = TenantScore::new(&name).in_namespace(format!("{name}-dev"));
    apply_tenants(okd().await, &[one], 1).await;
    assert!(
        get("{.metadata.name}").is_err(),
        "the ClusterResourceQuota is pruned"
    );

    apply_tenants(okd().await, std::slice::from_ref(&tenant), 1).await;
    assert!(get("{.metadata.name}").is_ok());
    let options = DeleteOptions {
        delete_data: false,
        timeout: Duration::from_secs(120),
    };
    okd()
        .await
        .delete_tenant(&name, options, None)
        .await
        .unwrap();
    assert!(
        get("{.metadata.name}").is_err(),
        "delete removes the ClusterResourceQuota"
    );
}
