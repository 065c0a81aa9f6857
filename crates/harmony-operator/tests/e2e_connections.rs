//! Declared connections in operator mode on a real control plane: a Tenant calling one that
//! does not exist yet, or does not accept it, is Ready with nothing rendered and its status
//! naming the missing side; once the other Tenant accepts, both paired NetworkPolicies appear
//! and both Tenants stay Isolated (the auditor judges the path between their pods as declared);
//! when one side withdraws its declaration, both policies are pruned.

mod common;

use common::{Running, eventually, install, put, ready_and_isolated, tenant};
use harmony_operator::{READY, Tenant};
use harmony_testkit::ControlPlane;
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::Api;
use kube::api::ListParams;
use serde_json::{Value, json};

/// A restricted-compliant pod `name` labelled `app: <name>` in `ns` (no kubelet runs it: its
/// labels are what NetworkPolicies select and what the audit judges).
fn pod(ns: &str, name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {ns}, labels: {{app: {name}}}}}\n\
         spec:\n  securityContext: {{runAsNonRoot: true, runAsUser: 1000, seccompProfile: {{type: RuntimeDefault}}}}\n  \
         containers:\n  - name: main\n    image: registry.example/{name}:1\n    \
         securityContext: {{allowPrivilegeEscalation: false, capabilities: {{drop: [ALL]}}}}\n"
    )
}

/// Tenant `name` asking for `cpu` CPUs, with `connections` as its `spec.connections`.
fn declaring(name: &str, cpu: &str, connections: Value) -> Value {
    let mut t = tenant(name, cpu);
    t["spec"]["connections"] = connections;
    t
}

/// One side of the connection to the `app: api` pods on TCP 8080.
fn side(tenant: &str) -> Value {
    json!([{"tenant": tenant, "podSelector": {"matchLabels": {"app": "api"}}, "ports": [{"port": 8080}]}])
}

/// The names of the `connection-*` NetworkPolicies of `ns`, sorted.
async fn connection_policies(client: &kube::Client, ns: &str) -> Result<Vec<String>, String> {
    let policies: Api<NetworkPolicy> = Api::namespaced(client.clone(), ns);
    let list = policies
        .list(&ListParams::default())
        .await
        .map_err(|e| e.to_string())?;
    let mut names: Vec<String> = list
        .items
        .into_iter()
        .filter_map(|p| p.metadata.name)
        .filter(|n| n.starts_with("connection-"))
        .collect();
    names.sort();
    Ok(names)
}

/// Waits until `ns` holds exactly the `connection-*` NetworkPolicies `want`.
async fn policies_are(client: &kube::Client, ns: &str, want: &[String]) {
    eventually(
        &format!("connection policies {want:?} in {ns}"),
        async || {
            let found = connection_policies(client, ns).await?;
            (found == want).then_some(()).ok_or(format!("{found:?}"))
        },
    )
    .await;
}

/// The message of the Tenant's `Ready` condition.
fn ready_message(tenant: &Tenant) -> String {
    tenant.condition(READY).unwrap().message.clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connection_is_rendered_while_both_sides_declare_it() {
    let plane = ControlPlane::shared();
    let _guard = plane.failure_guard();
    install(plane);
    let _operator = tokio::task::spawn_blocking(move || Running::start(plane))
        .await
        .unwrap();
    let client = plane.client().await;
    let (acme, globex) = (
        ControlPlane::unique_name("op-acme"),
        ControlPlane::unique_name("op-globex"),
    );

    // A call to a Tenant that does not exist yet is not an error: nothing is rendered.
    put(
        &client,
        &declaring(&acme, "2", json!({"calls": side(&globex)})),
    )
    .await;
    let caller = ready_and_isolated(&client, &acme).await;
    let note = format!(
        "connection spec.connections.calls[0] ({acme} -> {globex}) not rendered: tenant \
         `{globex}` declares no `accepts` entry for `{acme}`"
    );
    assert!(ready_message(&caller).contains(&note), "{caller:?}");
    policies_are(&client, &acme, &[]).await;

    // The other Tenant without the matching `accepts`: still one-sided, nothing on either side.
    put(&client, &tenant(&globex, "2")).await;
    ready_and_isolated(&client, &globex).await;
    policies_are(&client, &acme, &[]).await;
    policies_are(&client, &globex, &[]).await;
    // Pods in globex only: acme's quota use stays as is, so nothing but the requeue of its peer
    // reconciles acme (the audit stands acme's placeholder pod for any of its pods).
    for (ns, name) in [(&globex, "api"), (&globex, "db")] {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), pod(ns, name)).unwrap();
        plane
            .kubectl_run(&["apply", "-f", file.path().to_str().unwrap()])
            .unwrap();
    }

    // The second side's declaration renders both policies; acme is requeued for it.
    put(
        &client,
        &declaring(&globex, "2", json!({"accepts": side(&acme)})),
    )
    .await;
    policies_are(&client, &globex, &[format!("connection-from-{acme}")]).await;
    policies_are(&client, &acme, &[format!("connection-to-{globex}")]).await;
    eventually("acme's Ready without the note", async || {
        let api: Api<Tenant> = Api::all(client.clone());
        let t = api.get(&acme).await.map_err(|e| e.to_string())?;
        let message = ready_message(&t);
        (!message.contains("not rendered"))
            .then_some(())
            .ok_or(message)
    })
    .await;
    // A new generation of each, now that both policies and the pods exist, is audited on that
    // live state: the open path from acme's pods to globex/api is declared, so both stay Isolated.
    put(
        &client,
        &declaring(&acme, "3", json!({"calls": side(&globex)})),
    )
    .await;
    put(
        &client,
        &declaring(&globex, "3", json!({"accepts": side(&acme)})),
    )
    .await;
    ready_and_isolated(&client, &acme).await;
    ready_and_isolated(&client, &globex).await;

    // One side withdraws: both policies are pruned.
    put(&client, &tenant(&globex, "3")).await;
    policies_are(&client, &globex, &[]).await;
    policies_are(&client, &acme, &[]).await;
    let caller = ready_and_isolated(&client, &acme).await;
    eventually("acme's Ready naming the missing side again", async || {
        let api: Api<Tenant> = Api::all(client.clone());
        let t = api.get(&acme).await.map_err(|e| e.to_string())?;
        let message = ready_message(&t);
        message.contains(&note).then_some(()).ok_or(message)
    })
    .await;
    assert_eq!(caller.metadata.generation, Some(2));
}
