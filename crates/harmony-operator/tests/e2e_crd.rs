//! The CRD's CEL validation rules on a real API server: it accepts the rules (their cost
//! estimate included), accepts a valid Tenant, and refuses each violation with the rule's
//! message at the field, each one a violation the tenant library refuses too; the list bounds
//! the cost estimate needs hold lists of their size.

mod common;

use harmony_operator::{Tenant, crd};
use harmony_tenant::{ClusterFacts, OidcFacts};
use harmony_testkit::ControlPlane;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Api;
use kube::api::{ApiResource, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

/// The shared plane with the Tenant CRD applied and established: Tenants as written.
async fn tenants() -> Api<DynamicObject> {
    let plane = ControlPlane::shared();
    let client = plane.client().await;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.patch(
        "tenants.harmony.nationtech.io",
        &PatchParams::apply("e2e-crd").force(),
        &Patch::Apply(crd()),
    )
    .await
    .expect("the API server accepts the CRD and its rules");
    common::wait_established(plane);
    Api::all_with(client, &ApiResource::erase::<Tenant>(&()))
}

/// A Tenant using every field a rule reads, valid.
fn valid(name: &str) -> Value {
    json!({
        "apiVersion": "harmony.nationtech.io/v1alpha1",
        "kind": "Tenant",
        "metadata": {"name": name},
        "spec": {
            "displayName": "ACME Corp",
            "namespace": format!("{name}-prod"),
            "resourceQuotas": {
                "requests": {"cpu": "2", "memory": "4Gi"},
                "limits": {"cpu": 4, "memory": "8Gi"},
                "objects": {"pods": 10, "persistentVolumeClaims": 4},
                "containerDefaults": {
                    "request": {"cpu": "100m"},
                    "limit": {"cpu": "500m"},
                    "max": {"cpu": "1", "memory": "2Gi"},
                },
            },
            "networkIsolation": {"allowFrom": ["ingress", "monitoring"]},
            "storageAccess": {"storageClasses": [
                {"name": "standard", "requests": "10Gi"},
                {"name": "fast.example.com", "requests": 5},
            ]},
            "rbac": {"members": [
                {"name": "alice", "role": "admin", "user": "alice@acme.com", "group": null},
                {"name": "devs", "role": "developer", "group": "acme-devs"},
                {"name": "ci", "role": "viewer", "serviceAccount": true},
                {"name": "ops", "role": "viewer", "user": "ops@example.com", "shared": true},
                {"name": "carol", "role": "developer", "oidc": {"user": "carol"}},
                {"name": "sre", "role": "viewer", "oidc": {"group": "acme-sre"}},
            ]},
        },
    })
}

/// `tenant` with the value at JSON pointer `at` set to `value` (a missing field added).
fn with(mut tenant: Value, at: &str, value: Value) -> Value {
    let (parent, key) = at.rsplit_once('/').unwrap();
    match tenant.pointer_mut(parent) {
        Some(Value::Object(object)) => {
            object.insert(key.to_string(), value);
        }
        Some(Value::Array(items)) => items[key.parse::<usize>().unwrap()] = value,
        _ => panic!("no {parent}"),
    }
    tenant
}

/// Creates `tenant` as written (nulls and integers kept) as a dry run: the API server validates
/// it and stores nothing.
async fn create(api: &Api<DynamicObject>, tenant: &Value) -> Result<(), String> {
    let tenant: DynamicObject = serde_json::from_value(tenant.clone()).unwrap();
    let dry_run = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    match api.create(&dry_run, &tenant).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 422 => Err(e.message),
        Err(e) => panic!("not a validation error: {e}"),
    }
}

/// The library's problems with `tenant`, as `path: message`, on a cluster whose identity provider
/// is known (so `oidc` members are judged, as with `--idp`).
fn library(tenant: &Value) -> Vec<String> {
    let tenant: Tenant = serde_json::from_value(tenant.clone()).unwrap();
    let facts = ClusterFacts {
        oidc: Some(OidcFacts {
            username_prefix: "oidc:".into(),
            groups_prefix: "oidc:".into(),
        }),
        ..ClusterFacts::kubernetes()
    };
    tenant
        .score()
        .validate(&facts)
        .into_iter()
        .map(|p| format!("{}: {}", p.path, p.message))
        .collect()
}

#[tokio::test]
async fn a_valid_tenant_is_accepted_and_stored() {
    let api = tenants().await;
    let name = ControlPlane::unique_name("crd-valid");
    let tenant = valid(&name);
    assert_eq!(library(&tenant), Vec::<String>::new());
    create(&api, &tenant).await.unwrap();
    let stored: DynamicObject = serde_json::from_value(tenant).unwrap();
    api.create(&PostParams::default(), &stored).await.unwrap();
    // A bare one too: every field left to its default.
    let bare = json!({
        "apiVersion": "harmony.nationtech.io/v1alpha1",
        "kind": "Tenant",
        "metadata": {"name": ControlPlane::unique_name("crd-bare")},
    });
    create(&api, &bare).await.unwrap();
}

#[tokio::test]
async fn each_rule_refuses_what_the_library_refuses_with_its_message() {
    let api = tenants().await;
    let name = ControlPlane::unique_name("crd-rules");
    let base = valid(&name);
    // (what is changed, its new value, the field refused, the message).
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        (
            "/metadata/name",
            json!("acme.prod"),
            "metadata.name",
            "`acme.prod` is not a valid tenant id: use 1–40 lowercase letters",
        ),
        (
            "/metadata/name",
            json!("a".repeat(41)),
            "metadata.name",
            "is not a valid tenant id",
        ),
        (
            "/spec/namespace",
            json!("acme_prod"),
            "spec.namespace",
            "`acme_prod` is not a valid namespace name",
        ),
        (
            "/spec/namespace",
            json!("kube-acme"),
            "spec.namespace",
            "namespace `kube-acme` is reserved (`default`, `kube-*`, `openshift*` and \
             `harmony-system` belong to the platform): choose another namespace",
        ),
        (
            "/spec/namespace",
            json!("harmony-system"),
            "spec.namespace",
            "namespace `harmony-system` is reserved",
        ),
        (
            "/spec/displayName",
            json!(" "),
            "spec.displayName",
            "is empty: give a name for people",
        ),
        (
            "/spec/rbac/members/0/name",
            json!("Alice"),
            "spec.rbac.members[0].name",
            "`Alice` is not a valid member id",
        ),
        (
            "/spec/rbac/members/1/name",
            json!("alice"),
            "spec.rbac.members[1]",
            "Duplicate value: {\"name\":\"alice\"}",
        ),
        (
            "/spec/rbac/members/1/user",
            json!("bob@acme.com"),
            "spec.rbac.members[1]",
            "member `devs` has no identity or several: set exactly one of `user`, `group`, \
             `serviceAccount: true`, `oidc.user` or `oidc.group`",
        ),
        (
            "/spec/rbac/members/1/oidc",
            json!({"user": "bob"}),
            "spec.rbac.members[1]",
            "member `devs` has no identity or several",
        ),
        (
            "/spec/rbac/members/4/oidc",
            json!({"user": "carol", "group": "acme-devs"}),
            "spec.rbac.members[4]",
            "member `carol` has no identity or several",
        ),
        (
            "/spec/rbac/members/4/oidc",
            json!({}),
            "spec.rbac.members[4]",
            "member `carol` has no identity or several",
        ),
        (
            "/spec/rbac/members/4/oidc/user",
            json!(""),
            "spec.rbac.members[4].oidc.user",
            "is empty: give the name the identity provider's claim gives",
        ),
        (
            "/spec/rbac/members/5/oidc/group",
            json!(""),
            "spec.rbac.members[5].oidc.group",
            "is empty: give the name the identity provider's claim gives",
        ),
        (
            "/spec/rbac/members/5/oidc/group",
            json!("tenant-acme-admins"),
            "spec.rbac.members[5].oidc.group",
            "`tenant-acme-admins` is a group harmony keeps for a tenant role \
             (tenant-<tenant>-<role>s): list the people as `oidc.user` members instead",
        ),
        (
            "/spec/rbac/members/1",
            json!({"name": "devs", "role": "developer"}),
            "spec.rbac.members[1]",
            "member `devs` has no identity or several",
        ),
        (
            "/spec/rbac/members/2/shared",
            json!(true),
            "spec.rbac.members[2].shared",
            "applies to `user` and `group` members only",
        ),
        (
            "/spec/rbac/members/2/name",
            json!("default"),
            "spec.rbac.members[2].name",
            "`default` is the namespace's default ServiceAccount",
        ),
        (
            "/spec/rbac/members/0/user",
            json!(""),
            "spec.rbac.members[0].user",
            "is empty: give the user name",
        ),
        (
            "/spec/rbac/members/0/user",
            json!("system:admin"),
            "spec.rbac.members[0].user",
            "`system:admin` belongs to Kubernetes and its components: use the person's user name",
        ),
        (
            "/spec/rbac/members/0/user",
            json!("kube:admin"),
            "spec.rbac.members[0].user",
            "`kube:admin` belongs to Kubernetes",
        ),
        (
            "/spec/rbac/members/1/group",
            json!("system:masters"),
            "spec.rbac.members[1].group",
            "`system:masters` belongs to Kubernetes and its components: name a group",
        ),
        (
            "/spec/rbac/members/1/group",
            json!(""),
            "spec.rbac.members[1].group",
            "is empty: give the group name",
        ),
        (
            "/spec/storageAccess/storageClasses/0/name",
            json!("Fast"),
            "spec.storageAccess.storageClasses[0].name",
            "`Fast` is not a valid StorageClass name",
        ),
        (
            "/spec/storageAccess/storageClasses/1/name",
            json!("standard"),
            "spec.storageAccess.storageClasses[1]",
            "Duplicate value: {\"name\":\"standard\"}",
        ),
        (
            "/spec/networkIsolation/allowFrom",
            json!(["ingress", "ingress"]),
            "spec.networkIsolation.allowFrom",
            "lists a source twice",
        ),
        (
            "/spec/resourceQuotas/objects/pods",
            json!(-1),
            "spec.resourceQuotas.objects.pods",
            "Invalid value: -1: spec.resourceQuotas.objects.pods in body should be greater than or \
             equal to 0",
        ),
        (
            "/spec/resourceQuotas/requests/memory",
            json!("-4Gi"),
            "spec.resourceQuotas.requests.memory",
            "`-4Gi` is negative: quantities must be 0 or more",
        ),
        (
            "/spec/resourceQuotas/limits/cpu",
            json!(-4),
            "spec.resourceQuotas.limits.cpu",
            "`-4` is negative",
        ),
        (
            "/spec/resourceQuotas/requests/cpu",
            json!("8"),
            "spec.resourceQuotas.requests.cpu",
            "8 is above spec.resourceQuotas.limits.cpu (4): lower it or raise \
             spec.resourceQuotas.limits.cpu",
        ),
        (
            "/spec/resourceQuotas/containerDefaults/request/cpu",
            json!("600m"),
            "spec.resourceQuotas.containerDefaults.request.cpu",
            "600m is above spec.resourceQuotas.containerDefaults.limit.cpu (500m)",
        ),
        (
            "/spec/resourceQuotas/containerDefaults/limit/cpu",
            json!("1500m"),
            "spec.resourceQuotas.containerDefaults.limit.cpu",
            "1500m is above spec.resourceQuotas.containerDefaults.max.cpu (1)",
        ),
    ];
    let mut failures = Vec::new();
    for (at, value, field, message) in cases {
        let tenant = with(base.clone(), at, value.clone());
        let refused = match create(&api, &tenant).await {
            Ok(()) => {
                failures.push(format!("{at} = {value}: accepted"));
                continue;
            }
            Err(refused) => refused,
        };
        // Rules on the root point at no field (`<nil>`): their message names it.
        if !(refused.contains(&format!("{field}: ")) && refused.contains(message)) {
            failures.push(format!(
                "{at} = {value}: want {field}: {message}\n  got {refused}"
            ));
        }
        let problems = library(&tenant);
        if !problems.iter().any(|p| p.starts_with(field)) {
            failures.push(format!(
                "{at} = {value}: the library does not refuse {field}: {problems:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Applied server-side (as `kubectl apply --server-side` and GitOps tools do), a name listed
    // twice is refused before validation, by the list's key.
    let twice = with(base, "/spec/rbac/members/1/name", json!("alice"));
    let dry_run = PatchParams {
        dry_run: true,
        ..PatchParams::apply("e2e-crd")
    };
    let refused = api
        .patch(&name, &dry_run, &Patch::Apply(&twice))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains(".spec.rbac.members: duplicate entries for key [name=\"alice\"]"),
        "{refused}"
    );
}

#[tokio::test]
async fn a_reserved_tenant_id_is_refused_unless_a_namespace_is_given() {
    let api = tenants().await;
    let bare = |name: &str| {
        json!({
            "apiVersion": "harmony.nationtech.io/v1alpha1",
            "kind": "Tenant",
            "metadata": {"name": name},
        })
    };
    for name in ["default", "kube-acme", "openshift-acme", "harmony-system"] {
        let refused = create(&api, &bare(name)).await.unwrap_err();
        assert!(
            refused.contains(&format!(
                "<nil>: Invalid value: \"object\": metadata.name: namespace `{name}` (the tenant \
                 id) is reserved"
            )),
            "{refused}"
        );
        assert!(
            library(&bare(name))
                .iter()
                .any(|p| p.starts_with("metadata.name: namespace")),
            "{name}"
        );
        let mut elsewhere = bare(name);
        elsewhere["spec"] = json!({"namespace": "acme"});
        create(&api, &elsewhere).await.unwrap();
    }
    for name in ["kubernetes", "my-openshift", "defaults"] {
        create(&api, &bare(name)).await.unwrap();
    }
}

#[tokio::test]
async fn the_list_bounds_the_cost_estimate_needs_hold_lists_of_their_size() {
    use harmony_operator::crd::{MAX_MEMBERS, MAX_STORAGE_CLASSES};
    let api = tenants().await;
    let name = ControlPlane::unique_name("crd-bounds");
    let members = |n: usize| {
        let list: Vec<Value> = (0..n)
            .map(|i| match i % 3 {
                0 => json!({"name": format!("m{i}"), "role": "viewer", "group": format!("g{i}")}),
                1 => json!({"name": format!("m{i}"), "role": "viewer", "oidc": {"user": format!("u{i}")}}),
                _ => json!({"name": format!("m{i}"), "role": "viewer", "oidc": {"group": format!("g{i}")}}),
            })
            .collect();
        with(valid(&name), "/spec/rbac/members", json!(list))
    };
    let classes = |n: usize| {
        let list: Vec<Value> = (0..n)
            .map(|i| json!({"name": format!("c{i}"), "requests": "1Gi"}))
            .collect();
        with(
            valid(&name),
            "/spec/storageAccess/storageClasses",
            json!(list),
        )
    };
    // Two platform sources exist: a third names one twice.
    let sources = json!(["ingress", "monitoring", "ingress"]);
    let three = with(valid(&name), "/spec/networkIsolation/allowFrom", sources);
    let refused = create(&api, &three).await.unwrap_err();
    assert!(
        refused.contains("spec.networkIsolation.allowFrom: Too many: 3: must have at most 2 items"),
        "{refused}"
    );
    assert!(
        library(&three)[0]
            .starts_with("spec.networkIsolation.allowFrom[2]: `ingress` is listed twice")
    );
    // At the bound, the rules run within the API server's runtime budget (`oidc` members too).
    create(&api, &members(MAX_MEMBERS)).await.unwrap();
    create(&api, &classes(MAX_STORAGE_CLASSES)).await.unwrap();
    let refused = create(&api, &members(MAX_MEMBERS + 1)).await.unwrap_err();
    assert!(
        refused.contains(&format!(
            "spec.rbac.members: Too many: {}: must have at most {MAX_MEMBERS} items",
            MAX_MEMBERS + 1
        )),
        "{refused}"
    );
    let refused = create(&api, &classes(MAX_STORAGE_CLASSES + 1))
        .await
        .unwrap_err();
    assert!(
        refused.contains(&format!(
            "spec.storageAccess.storageClasses: Too many: {}: must have at most \
             {MAX_STORAGE_CLASSES} items",
            MAX_STORAGE_CLASSES + 1
        )),
        "{refused}"
    );
}
