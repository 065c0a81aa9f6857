//! Cluster guardrails on a real control plane (`harmony_testkit::ControlPlane`): kube-apiserver
//! accepts and type-checks every ValidatingAdmissionPolicy Harmony renders without a warning;
//! each rule refuses what it must and admits the request next to it, for tenant members acting
//! through impersonation; Pod Security and the tenant quota hold on their own; on OKD the network
//! tiers fit the AdminNetworkPolicy CRDs.
//!
//! The vanilla test is the only one on this binary's shared plane and runs its steps in order:
//! the quota is shown before the guardrails exist, since the services rule refuses a NodePort
//! Service before the quota is asked.

mod real;

use harmony_tenant::PlanObject;
use std::time::Duration;

use harmony::OutcomeStatus;
use harmony_guardrails::{
    ClusterGuardrailsScore, DEFAULT_HARMONY_IDENTITY, GuardrailId, GuardrailObject,
    compile_guardrails,
};
use harmony_k8s::{ApplyOptions, FactsSource, K8sTopology, Mode};
use harmony_kube::Kind;
use harmony_kube::cluster_from_config;
use harmony_kube::kinds::{ADMIN_NETWORK_POLICY, BASELINE_ADMIN_NETWORK_POLICY};
use harmony_tenant::{
    ClusterFacts, DeleteOptions, MANAGED_BY_LABEL, Member, PARAMS_NAME, PodSecurityLevel,
    TENANT_LABEL, TenantManager, TenantRemover, TenantRole, TenantScore,
};
use harmony_testkit::{ControlPlane, ControlPlaneOptions, Flavor};
use k8s_openapi::api::admissionregistration::v1::ValidatingAdmissionPolicy;
use k8s_openapi::api::core::v1::{
    ConfigMap, Namespace, PersistentVolumeClaim, Pod, ResourceQuota, Service,
};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, RoleBinding};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use real::{
    Actor, admission_rules, admitted, apply_guardrails, apply_tenants, developer_group, eventually,
    namespace_ready, parse, policies_type_check, post, refusal, refused, refused_by_policy,
    topology, topology_with, vanilla_facts,
};
use serde_json::{Value, json};

/// A tenant with the four kinds of members: a user admin, a group developer, a ServiceAccount
/// developer and a user viewer; PVCs of `class` only.
fn tenant(name: &str, class: &str, level: PodSecurityLevel) -> TenantScore {
    TenantScore::new(name)
        .pod_security(level)
        .self_service_role_bindings(true)
        .storage_class(class, "1Gi")
        .member(Member::user(
            "alice",
            TenantRole::Admin,
            admin_user(name).as_str(),
        ))
        .member(Member::group(
            "developers",
            TenantRole::Developer,
            developer_group(name).as_str(),
        ))
        .member(Member::service_account("ci", TenantRole::Developer))
        .member(Member::user(
            "victor",
            TenantRole::Viewer,
            format!("victor@{name}.example"),
        ))
}

fn admin_user(tenant: &str) -> String {
    format!("alice@{tenant}.example")
}

/// Every admission policy Harmony renders is on the server, type-checked without a warning,
/// and no other.
async fn admission_policies_type_check(plane: &ControlPlane) {
    let checked = policies_type_check(plane, &GuardrailId::ADMISSION).await;
    let mut names: Vec<&str> = checked
        .iter()
        .filter_map(|p| p.metadata.name.as_deref())
        .collect();
    names.sort();
    let mut expected: Vec<&str> = GuardrailId::ADMISSION
        .iter()
        .map(|id| id.object_name())
        .collect();
    expected.sort();
    assert_eq!(names, expected, "the policies on the server");
}

/// The type checker is live for policies shaped like Harmony's: a copy of the services policy
/// (unlabelled, unbound) naming a field Services lack gets a warning.
async fn type_checker_is_live(plane: &ControlPlane) {
    let plan = compile_guardrails(
        &ClusterGuardrailsScore::default(),
        &ClusterFacts::kubernetes(),
        &[],
    );
    let mut mistyped = plan
        .objects()
        .iter()
        .find_map(|o| match o {
            GuardrailObject::ValidatingAdmissionPolicy(p)
                if p.metadata.name.as_deref()
                    == Some(GuardrailId::TenantServices.object_name()) =>
            {
                Some(p.clone())
            }
            _ => None,
        })
        .unwrap();
    mistyped.metadata.name = Some("e2e-mistyped-services".into());
    mistyped.metadata.labels = None;
    let spec = mistyped.spec.as_mut().unwrap();
    spec.validations.as_mut().unwrap()[0].expression = "object.spec.typo == 'x'".into();
    let policies: Api<ValidatingAdmissionPolicy> = Api::all(plane.client().await);
    policies.create(&post(false), &mistyped).await.unwrap();
    let warnings = eventually("the mistyped policy type-checked", async || {
        let policy = policies
            .get("e2e-mistyped-services")
            .await
            .map_err(|e| e.to_string())?;
        let status = policy.status.unwrap_or_default();
        if status.observed_generation.is_some()
            && status.observed_generation == policy.metadata.generation
        {
            Ok(status
                .type_checking
                .and_then(|t| t.expression_warnings)
                .unwrap_or_default())
        } else {
            Err(format!("{status:?}"))
        }
    })
    .await;
    assert!(
        warnings.iter().any(|w| w.warning.contains("typo")),
        "the server should warn about `typo`: {warnings:?}"
    );
}

fn merge(dry_run: bool) -> PatchParams {
    PatchParams {
        dry_run,
        ..PatchParams::default()
    }
}

fn delete(dry_run: bool) -> DeleteParams {
    DeleteParams {
        dry_run,
        ..DeleteParams::default()
    }
}

/// A pod Pod Security `restricted` admits, within the LimitRange, with one `volume`.
fn pod(name: &str, volume: Value) -> Pod {
    parse(json!({
        "metadata": {"name": name},
        "spec": {
            "securityContext": {"runAsNonRoot": true, "runAsUser": 1000,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "app", "image": "registry.example/app:1",
                "securityContext": {"allowPrivilegeEscalation": false,
                                    "capabilities": {"drop": ["ALL"]}},
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                              "limits": {"cpu": "200m", "memory": "256Mi"}},
                "volumeMounts": [{"name": volume["name"], "mountPath": "/data"}],
            }],
            "volumes": [volume],
        },
    }))
}

fn service(name: &str, spec: Value) -> Service {
    let mut spec = spec;
    spec["ports"] = json!([{"port": 80}]);
    spec["selector"] = json!({"app": name});
    parse(json!({"metadata": {"name": name}, "spec": spec}))
}

fn claim(name: &str, spec: Value) -> PersistentVolumeClaim {
    let mut spec = spec;
    spec["accessModes"] = json!(["ReadWriteOnce"]);
    spec["resources"] = json!({"requests": {"storage": "100Mi"}});
    parse(json!({"metadata": {"name": name}, "spec": spec}))
}

/// Before any guardrail: Pod Security `restricted` refuses a privileged pod even to the cluster
/// admin, and the quota (`services.nodeports: 0`) refuses a NodePort Service to a developer.
async fn pod_security_and_quota_hold_alone(plane: &ControlPlane, namespace: &str) {
    let pods: Api<Pod> = Api::namespaced(plane.client().await, namespace);
    let mut privileged = pod("privileged", json!({"name": "tmp", "emptyDir": {}}));
    privileged.spec.as_mut().unwrap().containers[0].security_context =
        Some(parse(json!({"privileged": true})));
    let result = pods.create(&post(false), &privileged).await;
    let status = refusal(&result).unwrap_or_else(|| panic!("privileged pod: {result:?}"));
    assert!(
        status.code == 403
            && status.reason == "Forbidden"
            && status
                .message
                .contains("violates PodSecurity \"restricted:latest\": privileged"),
        "Pod Security should refuse the privileged pod: {status:?}"
    );

    let developer = Actor::developer(namespace);
    let services: Api<Service> = developer.api(plane, namespace).await;
    let node_port = service("exposed", json!({"type": "NodePort"}));
    let result = services.create(&post(false), &node_port).await;
    let status = refusal(&result).unwrap_or_else(|| panic!("NodePort Service: {result:?}"));
    assert!(
        status.code == 403
            && status.reason == "Forbidden"
            && status.message.contains("exceeded quota: tenant-quota")
            && status.message.contains("limited: services.nodeports=0"),
        "the quota should refuse the NodePort Service: {status:?}"
    );
}

/// `harmony-tenant-services`, to a group developer: no NodePort or LoadBalancer (on create or
/// update), no external IPs; ClusterIP Services are fine.
async fn services_rule(plane: &ControlPlane, namespace: &str) {
    let developer = Actor::developer(namespace);
    let services: Api<Service> = developer.api(plane, namespace).await;
    for kind in ["NodePort", "LoadBalancer"] {
        let exposed = service("exposed", json!({"type": kind}));
        refused(
            GuardrailId::TenantServices,
            "spec.type: NodePort and LoadBalancer Services are not allowed in tenant namespaces",
            async |dry| services.create(&post(dry), &exposed).await,
        )
        .await;
    }
    let external = service("external", json!({"externalIPs": ["203.0.113.7"]}));
    refused(
        GuardrailId::TenantServices,
        "spec.externalIPs: external IPs are not allowed in tenant namespaces",
        async |dry| services.create(&post(dry), &external).await,
    )
    .await;
    let web = service("web", json!({"type": "ClusterIP"}));
    admitted(
        "a ClusterIP Service",
        services.create(&post(false), &web).await,
    );
    let to_node_port = Patch::Merge(json!({"spec": {"type": "NodePort"}}));
    refused(
        GuardrailId::TenantServices,
        "spec.type: NodePort",
        async |dry| services.patch("web", &merge(dry), &to_node_port).await,
    )
    .await;
}

/// `harmony-tenant-pods`, to the ServiceAccount developer: volumes Pod Security lets through
/// (inline CSI under `restricted`, NFS under `baseline`) are refused; emptyDir is fine.
async fn pods_rule(plane: &ControlPlane, restricted: &str, baseline: &str) {
    let refused_volumes = [
        (
            restricted,
            json!({"name": "inline", "csi": {"driver": "inline.csi.example"}}),
        ),
        (
            baseline,
            json!({"name": "share", "nfs": {"server": "192.0.2.10", "path": "/exports"}}),
        ),
    ];
    for (namespace, volume) in refused_volumes {
        let ci = Actor::service_account(namespace, "ci");
        let pods: Api<Pod> = ci.api(plane, namespace).await;
        let node_level = pod("node-level", volume);
        refused(
            GuardrailId::TenantPods,
            "spec.volumes: tenant pods may only use persistentVolumeClaim, configMap, secret, emptyDir, projected, downwardAPI volumes",
            async |dry| pods.create(&post(dry), &node_level).await,
        )
        .await;
        let scratch = pod("scratch", json!({"name": "scratch", "emptyDir": {}}));
        admitted(
            &format!("an emptyDir pod in {namespace}"),
            pods.create(&post(false), &scratch).await,
        );
    }
}

/// `harmony-tenant-storage`, to the tenant admin: only the tenant's own classes (read from its
/// parameter ConfigMap, so `fast` is refused in acme and admitted in globex), and no binding of
/// an existing volume by name or selector.
async fn storage_rule(plane: &ControlPlane, acme: &str, globex: &str) {
    let claims: Api<PersistentVolumeClaim> = Actor::user(&admin_user(acme)).api(plane, acme).await;
    let fast = claim("fast", json!({"storageClassName": "fast"}));
    refused(
        GuardrailId::TenantStorage,
        "spec.storageClassName: this StorageClass is not allowed to the tenant",
        async |dry| claims.create(&post(dry), &fast).await,
    )
    .await;
    let by_name = claim(
        "by-name",
        json!({"storageClassName": "standard", "volumeName": "pv-of-globex"}),
    );
    refused(
        GuardrailId::TenantStorage,
        "spec.volumeName: tenants cannot claim an existing PersistentVolume by name",
        async |dry| claims.create(&post(dry), &by_name).await,
    )
    .await;
    let by_selector = claim(
        "by-selector",
        json!({"storageClassName": "standard", "selector": {"matchLabels": {"tenant": "globex"}}}),
    );
    refused(
        GuardrailId::TenantStorage,
        "spec.selector: tenants cannot select existing PersistentVolumes by label",
        async |dry| claims.create(&post(dry), &by_selector).await,
    )
    .await;
    let standard = claim("data", json!({"storageClassName": "standard"}));
    admitted(
        "a claim of acme's class",
        claims.create(&post(false), &standard).await,
    );
    let bind = Patch::Merge(json!({"spec": {"volumeName": "pv-of-globex"}}));
    refused(
        GuardrailId::TenantStorage,
        "spec.volumeName: only the PersistentVolume controller binds a pending claim",
        async |dry| claims.patch("data", &merge(dry), &bind).await,
    )
    .await;
    let binder = Actor::service_account("kube-system", "persistent-volume-binder");
    let binder_claims: Api<PersistentVolumeClaim> = binder.api(plane, acme).await;
    let mut pending = binder_claims.get("data").await.unwrap();
    pending.spec.as_mut().unwrap().volume_name = Some("pv-of-globex".into());
    admitted(
        "the volume binder binding a pending claim",
        binder_claims.replace("data", &post(false), &pending).await,
    );
    let globex_claims: Api<PersistentVolumeClaim> =
        Actor::user(&admin_user(globex)).api(plane, globex).await;
    admitted(
        "a claim of globex's class",
        globex_claims.create(&post(false), &fast).await,
    );
}

/// `harmony-managed-objects`, to the tenant admin (who may write ConfigMaps and, with self-service,
/// RoleBindings): Harmony's parameter ConfigMap cannot be changed, taken over, deleted or forged,
/// nor a member's RoleBinding deleted; the admin's own ConfigMaps and RoleBindings can.
async fn managed_objects_rule(plane: &ControlPlane, namespace: &str) {
    let admin = Actor::user(&admin_user(namespace));
    let config_maps: Api<ConfigMap> = admin.api(plane, namespace).await;
    let message = "this object is managed by Harmony (label app.kubernetes.io/managed-by=harmony)";
    let widen = Patch::Merge(json!({"data": {"storage-class.fast": "allowed"}}));
    refused(GuardrailId::ManagedObjects, message, async |dry| {
        config_maps.patch(PARAMS_NAME, &merge(dry), &widen).await
    })
    .await;
    let take_over = Patch::Merge(json!({"metadata": {"labels": {MANAGED_BY_LABEL: null}}}));
    refused(GuardrailId::ManagedObjects, message, async |dry| {
        config_maps
            .patch(PARAMS_NAME, &merge(dry), &take_over)
            .await
    })
    .await;
    refused(GuardrailId::ManagedObjects, message, async |dry| {
        config_maps.delete(PARAMS_NAME, &delete(dry)).await
    })
    .await;
    let forged: ConfigMap = parse(json!({
        "metadata": {"name": "forged", "labels": {MANAGED_BY_LABEL: "harmony"}},
        "data": {"storage-class.fast": "allowed"},
    }));
    refused(GuardrailId::ManagedObjects, message, async |dry| {
        config_maps.create(&post(dry), &forged).await
    })
    .await;

    let bindings: Api<RoleBinding> = admin.api(plane, namespace).await;
    refused(GuardrailId::ManagedObjects, message, async |dry| {
        bindings.delete("member-alice", &delete(dry)).await
    })
    .await;
    let viewer: RoleBinding = parse(json!({
        "metadata": {"name": "viewer-carol"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "tenant-viewer"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "carol@example.com"}],
    }));
    admitted(
        "the admin's own RoleBinding (self-service)",
        bindings.create(&post(false), &viewer).await,
    );

    let own: ConfigMap = parse(json!({"metadata": {"name": "settings"}, "data": {"a": "1"}}));
    admitted(
        "the admin's ConfigMap",
        config_maps.create(&post(false), &own).await,
    );
    let edit = Patch::Merge(json!({"data": {"a": "2"}}));
    admitted(
        "an edit of the admin's ConfigMap",
        config_maps.patch("settings", &merge(false), &edit).await,
    );
    admitted(
        "a delete of the admin's ConfigMap",
        config_maps.delete("settings", &delete(false)).await,
    );
}

/// `harmony-namespace-labels`, to the tenant admin given namespace rights (RBAC gives tenants
/// none; a cluster might): the tenant, managed-by and pod-security labels cannot be removed or
/// changed, nor a namespace made a tenant's; other labels and plain namespaces are fine.
async fn namespace_labels_rule(plane: &ControlPlane, namespace: &str) {
    let user = admin_user(namespace);
    let admin = plane.client().await;
    let grant = format!("e2e-namespace-editor-{namespace}");
    let role: ClusterRole = parse(json!({
        "metadata": {"name": grant},
        "rules": [{"apiGroups": [""], "resources": ["namespaces"],
                   "verbs": ["get", "create", "update", "patch"]}],
    }));
    Api::<ClusterRole>::all(admin.clone())
        .create(&post(false), &role)
        .await
        .unwrap();
    let binding: ClusterRoleBinding = parse(json!({
        "metadata": {"name": grant},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": grant},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
    }));
    Api::<ClusterRoleBinding>::all(admin)
        .create(&post(false), &binding)
        .await
        .unwrap();

    let namespaces: Api<Namespace> = Api::all(Actor::user(&user).client(plane).await);
    let message = "metadata.labels: the labels harmony.nationtech.io/tenant, app.kubernetes.io/managed-by, pod-security.kubernetes.io/enforce";
    let patches = [
        json!({TENANT_LABEL: null}),
        json!({MANAGED_BY_LABEL: "someone-else"}),
        json!({"pod-security.kubernetes.io/enforce": "privileged"}),
    ];
    for labels in patches {
        let patch = Patch::Merge(json!({"metadata": {"labels": labels}}));
        refused(GuardrailId::NamespaceLabels, message, async |dry| {
            namespaces.patch(namespace, &merge(dry), &patch).await
        })
        .await;
    }
    let shadow: Namespace = parse(json!({
        "metadata": {"name": format!("{namespace}-shadow"), "labels": {TENANT_LABEL: namespace}},
    }));
    refused(
        GuardrailId::NamespaceLabels,
        "metadata.labels.harmony.nationtech.io/tenant: only Harmony makes a namespace a tenant namespace",
        async |dry| namespaces.create(&post(dry), &shadow).await,
    )
    .await;

    let team = Patch::Merge(json!({"metadata": {"labels": {"team": "payments"}}}));
    admitted(
        "another label on the tenant namespace",
        namespaces.patch(namespace, &merge(false), &team).await,
    );
    let plain: Namespace = parse(json!({"metadata": {"name": format!("{namespace}-scratch")}}));
    admitted(
        "a namespace without the tenant label",
        namespaces.create(&post(false), &plain).await,
    );
}

/// Harmony, applying as its own identity (a cluster-admin ServiceAccount, not `system:masters`),
/// still changes what the guardrails protect: a tenant's pod-security label and quota.
async fn harmony_changes_a_guarded_tenant(plane: &ControlPlane, tenant: &TenantScore) {
    let (namespace, account) = DEFAULT_HARMONY_IDENTITY
        .strip_prefix("system:serviceaccount:")
        .and_then(|rest| rest.split_once(':'))
        .unwrap();
    let grant: ClusterRoleBinding = parse(json!({
        "metadata": {"name": "e2e-harmony-cluster-admin"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}],
    }));
    Api::<ClusterRoleBinding>::all(plane.client().await)
        .create(&post(false), &grant)
        .await
        .unwrap();
    let harmony = Actor::service_account(namespace, account);
    let groups: Vec<&str> = harmony.groups.iter().map(String::as_str).collect();
    let cluster = cluster_from_config(plane.config_as(&harmony.user, &groups).await).unwrap();
    let topology = K8sTopology::new(cluster, vanilla_facts(plane), ApplyOptions::default());
    let changed = tenant
        .clone()
        .pod_security(PodSecurityLevel::Baseline)
        .max_pods(7);
    apply_tenants(topology, &[changed], 2).await;
    let client = plane.client().await;
    let labels = Api::<Namespace>::all(client.clone())
        .get(tenant.namespace())
        .await
        .unwrap()
        .metadata
        .labels
        .unwrap_or_default();
    assert_eq!(
        labels
            .get("pod-security.kubernetes.io/enforce")
            .map(String::as_str),
        Some("baseline"),
        "{labels:?}"
    );
    let quota = Api::<ResourceQuota>::namespaced(client, tenant.namespace())
        .get("tenant-quota")
        .await
        .unwrap();
    assert_eq!(quota.spec.unwrap().hard.unwrap()["pods"].0, "7");
}

/// A namespace without its parameter ConfigMap (a terminating one loses it first): claims are
/// not created (the binding that reads it fails closed), but updates, such as the PVC protection
/// controller's, still go through.
async fn storage_updates_need_no_parameters(plane: &ControlPlane, tenant: &str) {
    let params: Api<ConfigMap> = Api::namespaced(plane.client().await, tenant);
    params.delete(PARAMS_NAME, &delete(false)).await.unwrap();
    let claims: Api<PersistentVolumeClaim> =
        Actor::user(&admin_user(tenant)).api(plane, tenant).await;
    let late = claim("late", json!({"storageClassName": "fast"}));
    let result = claims.create(&post(false), &late).await;
    let status =
        refusal(&result).unwrap_or_else(|| panic!("a claim without parameters: {result:?}"));
    assert!(
        refused_by_policy(status, "harmony-tenant-storage")
            && status.message.contains(
                "failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction"
            ),
        "the storage rule should refuse a claim without the parameters: {status:?}"
    );
    let label = Patch::Merge(json!({"metadata": {"labels": {"backup": "daily"}}}));
    admitted(
        "an update of a claim without the parameters",
        claims.patch("fast", &merge(false), &label).await,
    );
}

/// Deleting a tenant under the guardrails: the namespace controller, not trusted by them, may
/// empty the terminating namespace of what Harmony manages, so the namespace goes.
async fn namespace_deletion_empties_a_guarded_tenant(plane: &ControlPlane, tenant: &str) {
    let options = DeleteOptions {
        delete_data: true,
        timeout: Duration::from_secs(120),
    };
    let report = topology(plane)
        .await
        .delete_tenant(tenant, options, None)
        .await
        .unwrap_or_else(|e| panic!("deleting tenant {tenant} under the guardrails: {e}"));
    assert_eq!(report.namespace.as_deref(), Some(tenant));
    let namespaces: Api<Namespace> = Api::all(plane.client().await);
    assert!(
        namespaces.get_opt(tenant).await.unwrap().is_none(),
        "namespace {tenant} should be gone"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn guardrails_are_type_checked_and_enforced_by_kube_apiserver() {
    let plane = ControlPlane::shared();
    let _logs = plane.failure_guard();
    let acme = ControlPlane::unique_name("acme");
    let globex = ControlPlane::unique_name("globex");
    let tenants = [
        tenant(&acme, "standard", PodSecurityLevel::Restricted),
        tenant(&globex, "fast", PodSecurityLevel::Baseline),
    ];
    apply_tenants(topology(plane).await, &tenants, 2).await;
    for namespace in [&acme, &globex] {
        namespace_ready(plane, namespace).await;
    }
    pod_security_and_quota_hold_alone(plane, &acme).await;

    // The admission rules only: the network tiers are the OKD test's.
    let guardrails = admission_rules();
    let outcome = apply_guardrails(topology(plane).await, &guardrails, &tenants).await;
    assert!(
        outcome.message.contains(" 0 pruned"),
        "guardrails apply: {outcome:?}"
    );
    let again = apply_guardrails(topology(plane).await, &guardrails, &tenants).await;
    assert_eq!(
        again.status,
        OutcomeStatus::Unchanged,
        "re-apply on the real server: {again:?}"
    );
    admission_policies_type_check(plane).await;
    type_checker_is_live(plane).await;

    services_rule(plane, &acme).await;
    pods_rule(plane, &acme, &globex).await;
    storage_rule(plane, &acme, &globex).await;
    managed_objects_rule(plane, &acme).await;
    namespace_labels_rule(plane, &acme).await;
    harmony_changes_a_guarded_tenant(plane, &tenants[0]).await;
    storage_updates_need_no_parameters(plane, &globex).await;
    namespace_deletion_empties_a_guarded_tenant(plane, &globex).await;
}

/// `name` of the cluster-scoped network tier `kind`.
async fn network_tier(plane: &ControlPlane, kind: Kind, name: &str) -> Value {
    let api: Api<DynamicObject> = Api::all_with(plane.client().await, &kind.api_resource());
    let object = api
        .get_opt(name)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{} {name} should be stored", kind.name()));
    serde_json::to_value(object).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn okd_guardrails_fit_the_real_admin_network_policy_schema() {
    let plane = ControlPlane::start_with(ControlPlaneOptions {
        flavor: Flavor::Okd,
        ..ControlPlaneOptions::default()
    })
    .unwrap();
    let _logs = plane.failure_guard();
    let tenants = [
        tenant(
            &ControlPlane::unique_name("acme"),
            "standard",
            PodSecurityLevel::Restricted,
        ),
        tenant(
            &ControlPlane::unique_name("globex"),
            "fast",
            PodSecurityLevel::Baseline,
        ),
    ];
    let okd = async || topology_with(&plane, FactsSource::default(), ApplyOptions::default()).await;
    apply_tenants(okd().await, &tenants, 2).await;

    // `--dry-run server`: the server validates every object (the CRD schemas too), stores none.
    let dry_run = ApplyOptions {
        mode: Mode::DryRun,
        force: false,
    };
    let dry = apply_guardrails(
        topology_with(&plane, FactsSource::default(), dry_run).await,
        &ClusterGuardrailsScore::default(),
        &tenants,
    )
    .await;
    assert!(dry.message.starts_with("would be "), "{dry:?}");
    let policies: Api<ValidatingAdmissionPolicy> = Api::all(plane.client().await);
    let stored = policies.list(&ListParams::default()).await.unwrap().items;
    assert!(stored.is_empty(), "a dry run stores nothing: {stored:?}");

    let outcome = apply_guardrails(okd().await, &ClusterGuardrailsScore::default(), &tenants).await;
    let details = outcome.details.join("\n");
    assert!(
        details.contains("created ClusterRoleBinding self-provisioners"),
        "OKD hardening: {details}"
    );
    admission_policies_type_check(&plane).await;

    // The CRDs' structural schemas would silently prune a field they do not know: each tier
    // must be stored exactly as rendered.
    let facts = okd().await.cluster_facts().await.unwrap();
    let plan = compile_guardrails(&ClusterGuardrailsScore::default(), &facts, &tenants);
    let mut tiers = Vec::new();
    for object in plan.objects() {
        let kind = match object {
            GuardrailObject::AdminNetworkPolicy(_) => ADMIN_NETWORK_POLICY,
            GuardrailObject::BaselineAdminNetworkPolicy(_) => BASELINE_ADMIN_NETWORK_POLICY,
            _ => continue,
        };
        let stored = network_tier(&plane, kind, object.name()).await;
        assert_eq!(
            stored["spec"],
            object.to_json()["spec"],
            "{} {} as stored",
            object.kind(),
            object.name()
        );
        tiers.push(object.name().to_string());
    }
    let expected: Vec<String> = std::iter::once("default".to_string())
        .chain(
            tenants
                .iter()
                .map(|t| format!("harmony-tenant-{}", t.name())),
        )
        .collect();
    assert_eq!(tiers, expected, "one baseline tier and one tier per tenant");
    let provisioners: ClusterRoleBinding = Api::all(plane.client().await)
        .get("self-provisioners")
        .await
        .unwrap();
    assert!(
        provisioners.subjects.as_ref().is_none_or(Vec::is_empty),
        "no one provisions projects: {provisioners:?}"
    );
}
