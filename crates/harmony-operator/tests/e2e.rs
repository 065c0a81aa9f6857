//! The operator on a real control plane (etcd, kube-apiserver and kube-controller-manager built
//! from their Go modules): the rendered install accepted as is, the operator running as its own
//! ServiceAccount, Tenants made Ready and Isolated, edits applied, drift repaired from watch
//! events, invalid specs refused by name, deletions held while PVCs hold data, and a restore
//! drill's status record kept through the operator's status writes.

mod common;

use std::sync::OnceLock;

use common::{
    Running, deleted_policy_restored, deletion_held_by_a_claim, event_note, event_saying,
    eventually, install, put, quota_cpu, ready_and_isolated, tenant,
};
use harmony_k8s::backup::record_drill_status;
use harmony_operator::{FINALIZER, READY, Tenant};
use harmony_tenant::backup::drill::{DRILL_STATUS_MANAGER, DrillRecord};
use harmony_testkit::ControlPlane;
use k8s_openapi::api::core::v1::{Namespace, ResourceQuota};
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::rbac::v1::RoleBinding;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::{Api, ResourceExt};
use serde_json::json;

/// The shared plane with the operator installed and running for the whole test binary.
fn plane() -> &'static ControlPlane {
    static OPERATOR: OnceLock<Running> = OnceLock::new();
    let plane = ControlPlane::shared();
    OPERATOR.get_or_init(|| {
        install(plane);
        Running::start(plane)
    });
    plane
}

#[tokio::test]
async fn the_crd_is_structural_and_established() {
    let plane = plane();
    let _guard = plane.failure_guard();
    let crds: Api<CustomResourceDefinition> = Api::all(plane.client().await);
    let crd = crds.get("tenants.harmony.nationtech.io").await.unwrap();
    let conditions = crd.status.unwrap().conditions.unwrap_or_default();
    let holds = |kind: &str| {
        conditions
            .iter()
            .any(|c| c.type_ == kind && c.status == "True")
    };
    assert!(holds("Established"), "{conditions:?}");
    assert!(holds("NamesAccepted"), "{conditions:?}");
    assert!(!holds("NonStructuralSchema"), "{conditions:?}");
}

#[tokio::test]
async fn a_tenant_becomes_ready_and_isolated_and_follows_its_edits() {
    let plane = plane();
    let _guard = plane.failure_guard();
    let client = plane.client().await;
    let name = ControlPlane::unique_name("op-ready");
    put(&client, &tenant(&name, "2")).await;
    let ready = ready_and_isolated(&client, &name).await;
    let status = ready.status.unwrap();
    assert_eq!(status.namespace.as_deref(), Some(name.as_str()));
    assert_eq!(status.members, Some(2));
    let names = binding_names(&client, &name).await;
    assert!(names.contains(&"member-alice".to_string()), "{names:?}");

    // The quota controller's count reaches the status.
    let tenants: Api<Tenant> = Api::all(client.clone());
    eventually("quota use in the status", async || {
        let t = tenants.get(&name).await.map_err(|e| e.to_string())?;
        let quota = t.status.map(|s| s.quota).unwrap_or_default();
        quota
            .iter()
            .find(|q| q.resource == "requests.cpu" && q.hard == "2" && q.used == "0")
            .map(|_| ())
            .ok_or(format!("{quota:?}"))
    })
    .await;

    // An Event says what the operator changed.
    event_note(&client, &name, "Applied").await;

    // An edit is applied.
    put(&client, &tenant(&name, "3")).await;
    quota_cpu(&client, &name, "3").await;
    let edited = ready_and_isolated(&client, &name).await;
    assert_eq!(edited.metadata.generation, Some(2));
}

/// Who wrote the Tenant's `metadata` and `spec` with a plain (non-apply) write, by manager.
fn updated_by(tenant: &Tenant) -> Vec<String> {
    let fields = tenant.metadata.managed_fields.iter().flatten();
    fields
        .filter(|f| f.operation.as_deref() == Some("Update") && f.subresource.is_none())
        .map(|f| f.manager.clone().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn the_finalizer_is_added_to_a_tenant_created_without_it_and_not_written_again_when_exported()
{
    let plane = plane();
    let _guard = plane.failure_guard();
    let client = plane.client().await;
    let tenants: Api<Tenant> = Api::all(client.clone());

    // Written by hand without the finalizer: the operator adds it, one write of the Tenant.
    let bare = ControlPlane::unique_name("op-fin-bare");
    put(&client, &tenant(&bare, "1")).await;
    ready_and_isolated(&client, &bare).await;
    let stored = tenants.get(&bare).await.unwrap();
    assert_eq!(
        stored.metadata.finalizers,
        Some(vec![FINALIZER.to_string()])
    );
    assert_eq!(updated_by(&stored).len(), 1, "{:?}", stored.metadata);

    // As `harmony tenant export` prints it: held from its creation, never written but its status.
    let exported = ControlPlane::unique_name("op-fin-export");
    let score = Tenant::from_score(&harmony_tenant::TenantScore::new(&exported));
    put(&client, &serde_json::to_value(&score).unwrap()).await;
    ready_and_isolated(&client, &exported).await;
    let stored = tenants.get(&exported).await.unwrap();
    assert_eq!(
        stored.metadata.finalizers,
        Some(vec![FINALIZER.to_string()])
    );
    assert_eq!(updated_by(&stored), Vec::<String>::new());
}

#[tokio::test]
async fn drift_is_repaired_from_watch_events() {
    let plane = plane();
    let _guard = plane.failure_guard();
    let client = plane.client().await;
    let name = ControlPlane::unique_name("op-drift");
    put(&client, &tenant(&name, "2")).await;
    ready_and_isolated(&client, &name).await;

    // A deleted NetworkPolicy comes back, and an Event says so (not the first apply's Event again).
    deleted_policy_restored(&client, &name).await;
    let restored =
        format!("1 created, 0 changed, 0 pruned: created NetworkPolicy {name}/default-deny;");
    event_saying(&client, &name, "Applied", &restored).await;

    // The same repair again is counted in that Event's series, as `kubectl describe` shows it.
    deleted_policy_restored(&client, &name).await;
    let events: Api<Event> = Api::namespaced(client.clone(), "default");
    eventually("the repeated repair in the Event's series", async || {
        let list = events
            .list(&ListParams::default())
            .await
            .map_err(|e| e.to_string())?;
        let said: Vec<Option<i32>> = list
            .items
            .iter()
            .filter(|e| e.note.as_deref() == Some(restored.as_str()))
            .map(|e| e.series.as_ref().map(|s| s.count))
            .collect();
        (said == [Some(2)]).then_some(()).ok_or(format!("{said:?}"))
    })
    .await;

    // An edited quota is put back.
    let quotas: Api<ResourceQuota> = Api::namespaced(client.clone(), &name);
    let patch = json!({"spec": {"hard": {"requests.cpu": "100"}}});
    quotas
        .patch(
            "tenant-quota",
            &PatchParams::apply("someone-else").force(),
            &Patch::Apply(json!({
                "apiVersion": "v1", "kind": "ResourceQuota",
                "metadata": {"name": "tenant-quota", "namespace": name},
                "spec": patch["spec"],
            })),
        )
        .await
        .unwrap();
    quota_cpu(&client, &name, "2").await;
    let put_back =
        format!("0 created, 1 changed, 0 pruned: changed ResourceQuota {name}/tenant-quota;");
    event_saying(&client, &name, "Applied", &put_back).await;
}

#[tokio::test]
async fn an_invalid_spec_is_refused_by_field_and_nothing_is_applied() {
    let plane = plane();
    let _guard = plane.failure_guard();
    let client = plane.client().await;
    let name = ControlPlane::unique_name("op-invalid");
    put(&client, &tenant(&name, "lots")).await;
    let message = ready_with_reason(&client, &name, "Invalid").await;
    assert!(
        message.contains("spec.resourceQuotas.requests.cpu: `lots` is not a quantity"),
        "{message}"
    );
    let namespaces: Api<Namespace> = Api::all(client.clone());
    assert!(namespaces.get_opt(&name).await.unwrap().is_none());
}

/// The message of Tenant `name`'s `Ready` condition once it has reason `reason` for the current
/// generation (`Applied` is `True`, every other reason `False`).
async fn ready_with_reason(client: &kube::Client, name: &str, reason: &str) -> String {
    let tenants: Api<Tenant> = Api::all(client.clone());
    eventually(&format!("Ready reason {reason}"), async || {
        let t = tenants.get(name).await.map_err(|e| e.to_string())?;
        match t.condition(READY) {
            Some(c)
                if c.reason == reason
                    && (c.status == "True") == (reason == "Applied")
                    && c.observed_generation == t.metadata.generation =>
            {
                Ok(c.message.clone())
            }
            other => Err(format!("{other:?}")),
        }
    })
    .await
}

/// The names of the RoleBindings in `namespace`.
async fn binding_names(client: &kube::Client, namespace: &str) -> Vec<String> {
    let bindings: Api<RoleBinding> = Api::namespaced(client.clone(), namespace);
    bindings
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|b| b.metadata.name)
        .collect()
}

/// Tenant `name` (one member) naming namespace `namespace`.
fn naming(name: &str, namespace: &str) -> serde_json::Value {
    let mut spec = tenant(name, "1");
    spec["spec"]["namespace"] = json!(namespace);
    spec
}

/// The tenant that namespace `name` is labelled for.
async fn holder(client: &kube::Client, name: &str) -> Option<String> {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let namespace = namespaces.get(name).await.unwrap();
    namespace
        .labels()
        .get("harmony.nationtech.io/tenant")
        .cloned()
}

#[tokio::test]
async fn a_tenant_may_not_take_a_namespace_another_tenant_holds_newer_or_older() {
    let plane = plane();
    let _guard = plane.failure_guard();
    let client = plane.client().await;
    let older = ControlPlane::unique_name("op-conflict-old");
    let newer = ControlPlane::unique_name("op-conflict-new");
    put(&client, &tenant(&older, "1")).await;
    ready_and_isolated(&client, &older).await;
    put(&client, &tenant(&newer, "1")).await;
    ready_and_isolated(&client, &newer).await;

    // A newer Tenant naming the older one's namespace is refused.
    let late = ControlPlane::unique_name("op-conflict-late");
    put(&client, &naming(&late, &older)).await;
    let message = ready_with_reason(&client, &late, "Invalid").await;
    assert!(
        message.contains(&format!(
            "spec.namespace: namespace `{older}` is already used by tenant `{older}`"
        )),
        "{message}"
    );

    // The older Tenant edited to name the newer one's namespace is refused too: nothing applied.
    put(&client, &naming(&older, &newer)).await;
    let message = ready_with_reason(&client, &older, "Invalid").await;
    assert!(
        message.contains(&format!("is already used by tenant `{newer}`")),
        "{message}"
    );
    assert_eq!(holder(&client, &newer).await, Some(newer.clone()));
    let bindings: Api<RoleBinding> = Api::namespaced(client.clone(), &newer);
    let alice = bindings.get("member-alice").await.unwrap();
    let subject = &alice.subjects.unwrap()[0].name;
    assert_eq!(subject, &format!("alice@{newer}.example.com"));
    // The newer Tenant stays Ready and Isolated.
    ready_and_isolated(&client, &newer).await;
}

/// A Tenant edited to another namespace leaves its old one in place (with what runs there),
/// still labelled for it and still isolated (its NetworkPolicies and quota stay, only access
/// goes): a newer Tenant naming that namespace passes the conflict check (no Tenant names it any
/// more) but is not applied, so its members get no access to what the first Tenant left there.
#[tokio::test]
async fn a_namespace_a_tenant_moved_off_is_not_given_to_another() {
    let plane = plane();
    let _guard = plane.failure_guard();
    let client = plane.client().await;
    let first = ControlPlane::unique_name("op-left");
    put(&client, &tenant(&first, "1")).await;
    ready_and_isolated(&client, &first).await;
    put(&client, &naming(&first, &format!("{first}-new"))).await;
    ready_with_reason(&client, &first, "Applied").await;
    let policies: Api<NetworkPolicy> = Api::namespaced(client.clone(), &first);
    assert!(policies.get_opt("default-deny").await.unwrap().is_some());
    let quotas: Api<ResourceQuota> = Api::namespaced(client.clone(), &first);
    assert!(
        !quotas
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );

    let second = ControlPlane::unique_name("op-left-taker");
    put(&client, &naming(&second, &first)).await;
    let message = ready_with_reason(&client, &second, "ApplyFailed").await;
    assert!(
        message.contains(&format!("Namespace {first} belongs to tenant `{first}`")),
        "{message}"
    );
    assert_eq!(holder(&client, &first).await, Some(first.clone()));
    let held = binding_names(&client, &first).await;
    assert!(
        held.is_empty(),
        "no member bound in the left namespace: {held:?}"
    );
    // The audit judges the namespace left too, and finds it isolated.
    ready_and_isolated(&client, &first).await;
}

/// A namespace someone else made (no tenant label) is not taken over by a Tenant naming it: the
/// Tenant waits with `ApplyFailed` saying how to adopt it and nobody is bound there; once the
/// Tenant lists it in `spec.adoptNamespaces`, it is labelled, isolated and its members bound, and
/// the `Applied` Event names the RoleBinding found there.
#[tokio::test]
async fn a_namespace_someone_else_made_is_taken_over_only_when_the_tenant_adopts_it() {
    let plane = plane();
    let _guard = plane.failure_guard();
    let client = plane.client().await;
    let name = ControlPlane::unique_name("op-adopt");
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let theirs = json!({ "metadata": { "name": name, "labels": { "team": "payroll" } } });
    namespaces
        .create(
            &PostParams::default(),
            &serde_json::from_value(theirs).unwrap(),
        )
        .await
        .unwrap();
    put(&client, &tenant(&name, "1")).await;
    let message = ready_with_reason(&client, &name, "ApplyFailed").await;
    assert!(
        message.contains(&format!(
            "Namespace {name} exists and Harmony does not manage it"
        )),
        "{message}"
    );
    assert_eq!(holder(&client, &name).await, None);
    assert_eq!(binding_names(&client, &name).await, Vec::<String>::new());

    let bindings: Api<RoleBinding> = Api::namespaced(client.clone(), &name);
    let theirs = json!({ "metadata": { "name": "payroll-viewers" },
        "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view" },
        "subjects": [{ "apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "bob" }] });
    bindings
        .create(
            &PostParams::default(),
            &serde_json::from_value(theirs).unwrap(),
        )
        .await
        .unwrap();
    let mut adopting = tenant(&name, "1");
    adopting["spec"]["adoptNamespaces"] = json!([name]);
    put(&client, &adopting).await;
    ready_and_isolated(&client, &name).await;
    assert_eq!(holder(&client, &name).await, Some(name.clone()));
    assert!(
        binding_names(&client, &name)
            .await
            .contains(&"member-alice".to_string())
    );
    let note = event_note(&client, &name, "Applied").await;
    assert!(
        note.contains(&format!(
            "adopted Namespace {name}: 1 RoleBinding Harmony did not make keeps its grants: \
             payroll-viewers (ClusterRole view to User bob);"
        )),
        "{note}"
    );
}

#[tokio::test]
async fn a_deletion_is_held_while_a_pvc_holds_data_until_the_spec_says_delete_it() {
    let plane = plane();
    let _guard = plane.failure_guard();
    let client = plane.client().await;
    let name = ControlPlane::unique_name("op-held");
    put(&client, &tenant(&name, "2")).await;
    ready_and_isolated(&client, &name).await;
    let message = deletion_held_by_a_claim(&client, &name).await;
    let tenants: Api<Tenant> = Api::all(client.clone());
    assert!(message.contains("data"), "{message}");
    assert!(message.contains("spec.deletion.deleteData"), "{message}");
    // Nothing was revoked: the guard refuses before any access goes.
    let bindings: Api<RoleBinding> = Api::namespaced(client.clone(), &name);
    assert!(bindings.get_opt("member-alice").await.unwrap().is_some());

    let mut allowed = tenant(&name, "2");
    allowed["spec"]["deletion"] = json!({"deleteData": true});
    put(&client, &allowed).await;
    eventually("the tenant and its namespace gone", async || {
        let namespaces: Api<Namespace> = Api::all(client.clone());
        let tenant = tenants.get_opt(&name).await.map_err(|e| e.to_string())?;
        let namespace = namespaces.get_opt(&name).await.map_err(|e| e.to_string())?;
        match (tenant, namespace) {
            (None, None) => Ok(()),
            other => Err(format!("{:?}", (other.0.is_some(), other.1.is_some()))),
        }
    })
    .await;
}

/// A restore drill's record in `status.restoreDrill` (written by the drill library, its own field
/// manager) survives the operator's status writes, and a Tenant that does not exist gets none.
#[tokio::test]
async fn the_restore_drill_record_survives_the_operators_status_writes() {
    let plane = plane();
    let _guard = plane.failure_guard();
    let client = plane.client().await;
    let cluster = harmony_kube::Cluster::new(client.clone(), plane.url().into());
    let name = ControlPlane::unique_name("op-drill");
    let record = DrillRecord {
        time: "2026-12-03T19:30:00Z".into(),
        backup: format!("{name}-manual-20261203192900"),
        passed: true,
        summary: "Velero Completed, 4 objects back".into(),
    };
    let absent = record_drill_status(&cluster, &name, &record).await.unwrap();
    assert!(
        !absent,
        "a Tenant that does not exist has no status to record in"
    );

    put(&client, &tenant(&name, "2")).await;
    ready_and_isolated(&client, &name).await;
    assert!(record_drill_status(&cluster, &name, &record).await.unwrap());

    // An edit makes the operator (and its auditor) write the status again.
    put(&client, &tenant(&name, "3")).await;
    quota_cpu(&client, &name, "3").await;
    let edited = ready_and_isolated(&client, &name).await;
    assert_eq!(edited.metadata.generation, Some(2));
    let status = edited.status.unwrap();
    assert_eq!(status.observed_generation, Some(2));
    assert_eq!(status.restore_drill.as_ref(), Some(&record));

    // The drill's manager, and only it, owns the field.
    let tenants: Api<Tenant> = Api::all(client.clone());
    let stored = tenants.get(&name).await.unwrap();
    let owners: Vec<String> = stored
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter(|m| {
            m.fields_v1
                .as_ref()
                .is_some_and(|f| f.0["f:status"].get("f:restoreDrill").is_some())
        })
        .filter_map(|m| m.manager)
        .collect();
    assert_eq!(owners, [DRILL_STATUS_MANAGER]);
}
