//! Shared helpers of the operator's tests on a real control plane: the install applied as is, the
//! operator run as its own ServiceAccount (so its ClusterRole is proven sufficient), Tenants
//! written and read, and a bounded poller.

#![allow(dead_code)] // each test file uses a different part

use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

use harmony_k8s::FactsSource;
use harmony_operator::install::{InstallObject, InstallOptions, manifests};
use harmony_operator::{DELETING, ISOLATED, READY, Settings, Tenant, run};
use harmony_tenant::backup::VELERO_NAMESPACE;
use harmony_testkit::ControlPlane;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, ResourceQuota};
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::Api;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// How long the operator and the API server's controllers may take to act.
pub const SETTLE: Duration = Duration::from_secs(90);

/// Polls `ready` until it gives a value or [`SETTLE`] has passed; then the last `Err` is the
/// failure message.
pub async fn eventually<T>(what: &str, ready: impl AsyncFn() -> Result<T, String>) -> T {
    eventually_within(what, SETTLE, ready).await
}

/// [`eventually`] with another limit than [`SETTLE`].
pub async fn eventually_within<T>(
    what: &str,
    limit: Duration,
    ready: impl AsyncFn() -> Result<T, String>,
) -> T {
    let deadline = Instant::now() + limit;
    loop {
        match ready().await {
            Ok(value) => return value,
            Err(last) if Instant::now() > deadline => {
                panic!("{what}: not within {limit:?}; last: {last}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// Applies rendered install objects with `kubectl apply --server-side`, as a user would, after
/// Velero's namespace (where the install's Schedule Role lives) exists, as it does once Velero is
/// installed.
pub fn apply_install(plane: &ControlPlane, objects: impl IntoIterator<Item = InstallObject>) {
    let dir = tempfile::tempdir().unwrap();
    let velero =
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": VELERO_NAMESPACE}});
    std::fs::write(
        dir.path().join("01-namespace-velero.json"),
        velero.to_string(),
    )
    .unwrap();
    for object in objects {
        let path = dir.path().join(object.file_name.replace(".yaml", ".json"));
        std::fs::write(&path, serde_json::to_string(&object.object).unwrap()).unwrap();
    }
    plane
        .kubectl_run(&[
            "apply",
            "--server-side",
            "--field-manager=harmony-install",
            "-f",
            dir.path().to_str().unwrap(),
        ])
        .unwrap();
}

/// The note of the first Event on Tenant `name` with `reason`, once there is one.
pub async fn event_note(client: &kube::Client, name: &str, reason: &str) -> String {
    event_saying(client, name, reason, "").await
}

/// The note of the first Event on Tenant `name` with `reason` whose note holds `wanted`, once
/// there is one.
pub async fn event_saying(client: &kube::Client, name: &str, reason: &str, wanted: &str) -> String {
    let events: Api<Event> = Api::namespaced(client.clone(), "default");
    eventually(&format!("a {reason} Event saying `{wanted}`"), async || {
        let list = events
            .list(&ListParams::default())
            .await
            .map_err(|e| e.to_string())?;
        list.items
            .iter()
            .find(|e| {
                e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name)
                    && e.reason.as_deref() == Some(reason)
                    && e.note.as_deref().is_some_and(|note| note.contains(wanted))
            })
            .map(|e| e.note.clone().unwrap_or_default())
            .ok_or_else(|| "none yet".to_string())
    })
    .await
}

/// Applies what `harmony operator install` renders (CRD, namespace, ServiceAccount, ClusterRole,
/// binding, Deployment, PDB) with `kubectl apply --server-side`, and waits for the CRD to be
/// established.
pub fn install(plane: &ControlPlane) {
    let options = InstallOptions {
        image: "registry.example.com/harmony:test".into(),
        pod_networks: vec![plane.pod_network()],
        service_networks: vec![plane.service_network()],
        node_networks: Vec::new(),
        velero_namespace: VELERO_NAMESPACE.into(),
    };
    apply_install(plane, manifests(&options));
    wait_established(plane);
}

/// Waits until the API server serves the Tenant CRD.
pub fn wait_established(plane: &ControlPlane) {
    wait_crd(plane, "tenants.harmony.nationtech.io");
}

/// Waits until the API server serves the CRD `name`.
pub fn wait_crd(plane: &ControlPlane, name: &str) {
    plane.wait_crds(&[name]).unwrap();
}

/// The operator's own identity, as the rendered ServiceAccount.
pub async fn operator_config(plane: &ControlPlane) -> kube::Config {
    plane
        .config_as(
            "system:serviceaccount:harmony-system:harmony-operator",
            &[
                "system:serviceaccounts",
                "system:serviceaccounts:harmony-system",
                "system:authenticated",
            ],
        )
        .await
}

/// Facts flags for the vanilla plane, whose networks cannot be discovered.
pub fn settings(plane: &ControlPlane) -> Settings {
    Settings {
        facts: FactsSource {
            pod_networks: vec![plane.pod_network()],
            service_networks: vec![plane.service_network()],
            ..FactsSource::default()
        },
        ..Settings::default()
    }
}

/// An operator running on its own thread and runtime.
pub struct Running {
    stop: Option<oneshot::Sender<()>>,
    done: Mutex<mpsc::Receiver<()>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Running {
    /// Starts the operator as its ServiceAccount.
    pub fn start(plane: &'static ControlPlane) -> Self {
        Self::start_with(plane, settings(plane))
    }

    /// Starts the operator as its ServiceAccount with `settings`.
    pub fn start_with(plane: &'static ControlPlane, settings: Settings) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let (finished, done) = mpsc::channel();
        runtime.spawn(async move {
            let config = operator_config(plane).await;
            let shutdown = async move {
                let _ = stopped.await;
            };
            if let Err(error) = run(config, settings, shutdown).await {
                panic!("the operator stopped: {error}");
            }
            let _ = finished.send(());
        });
        Self {
            stop: Some(stop),
            done: Mutex::new(done),
            runtime: Some(runtime),
        }
    }

    /// Kills it where it stands: its runtime is dropped with every task in flight.
    pub fn kill(self) {
        drop(self);
    }

    /// Asks it to stop and waits until reconciles in flight are done.
    pub fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.done
            .lock()
            .unwrap()
            .recv_timeout(SETTLE)
            .expect("the operator stops");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// A free loopback port for the metrics and probes.
pub fn loopback() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// `GET path` on `address`: the status code and the body.
pub fn get(address: std::net::SocketAddr, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let code = response[9..12].parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (code, body)
}

/// Creates (or updates) a Tenant from JSON, as its owner would with kubectl.
pub async fn put(client: &kube::Client, tenant: &Value) {
    let api: Api<Tenant> = Api::all(client.clone());
    let name = tenant["metadata"]["name"].as_str().unwrap();
    api.patch(
        name,
        &PatchParams::apply("tenant-owner").force(),
        &Patch::Apply(tenant),
    )
    .await
    .unwrap();
}

/// The Tenant, once `Ready` and `Isolated` both hold for its current generation.
pub async fn ready_and_isolated(client: &kube::Client, name: &str) -> Tenant {
    let api: Api<Tenant> = Api::all(client.clone());
    eventually(&format!("Tenant {name} Ready and Isolated"), async || {
        let tenant = api.get(name).await.map_err(|e| e.to_string())?;
        let generation = tenant.metadata.generation;
        for kind in [READY, ISOLATED] {
            match tenant.condition(kind) {
                Some(c) if c.status == "True" && c.observed_generation == generation => {}
                other => return Err(format!("{kind}: {other:?}")),
            }
        }
        Ok(tenant)
    })
    .await
}

/// A Tenant with one member: the admin user `alice`.
pub fn admin_tenant(name: &str) -> Value {
    json!({
        "apiVersion": "harmony.nationtech.io/v1alpha1",
        "kind": "Tenant",
        "metadata": {"name": name},
        "spec": {"rbac": {"members": [
            {"name": "alice", "role": "admin", "user": format!("alice@{name}.example.com")},
        ]}},
    })
}

/// A Tenant asking for `cpu` CPUs, with a storage class and two members: an admin user `alice`
/// and a developer ServiceAccount `ci`.
pub fn tenant(name: &str, cpu: &str) -> Value {
    json!({
        "apiVersion": "harmony.nationtech.io/v1alpha1",
        "kind": "Tenant",
        "metadata": {"name": name},
        "spec": {
            "resourceQuotas": {"requests": {"cpu": cpu, "memory": "4Gi"}},
            "storageAccess": {"storageClasses": [{"name": "standard", "requests": "10Gi"}]},
            "rbac": {"members": [
                {"name": "alice", "role": "admin", "user": format!("alice@{name}.example.com")},
                {"name": "ci", "role": "developer", "serviceAccount": true},
            ]},
        },
    })
}

/// Waits until the `tenant-quota` of `namespace` holds `requests.cpu: cpu`.
pub async fn quota_cpu(client: &kube::Client, namespace: &str, cpu: &str) {
    let quotas: Api<ResourceQuota> = Api::namespaced(client.clone(), namespace);
    eventually(&format!("requests.cpu {cpu} in {namespace}"), async || {
        let quota = quotas
            .get("tenant-quota")
            .await
            .map_err(|e| e.to_string())?;
        let hard = quota.spec.and_then(|s| s.hard).unwrap_or_default();
        match hard.get("requests.cpu") {
            Some(q) if q.0 == cpu => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
}

/// Deletes the NetworkPolicy `default-deny` of `namespace` and waits for another to take its place.
pub async fn deleted_policy_restored(client: &kube::Client, namespace: &str) {
    let policies: Api<NetworkPolicy> = Api::namespaced(client.clone(), namespace);
    let before = policies.get("default-deny").await.unwrap().metadata.uid;
    policies
        .delete("default-deny", &DeleteParams::default())
        .await
        .unwrap();
    eventually(
        &format!("default-deny restored in {namespace}"),
        async || {
            let policy = policies
                .get("default-deny")
                .await
                .map_err(|e| e.to_string())?;
            (policy.metadata.uid != before)
                .then_some(())
                .ok_or("the old one".to_string())
        },
    )
    .await;
}

/// Creates the PersistentVolumeClaim `data` (1Gi of `standard`) in `namespace`.
pub async fn claim_data(client: &kube::Client, namespace: &str) {
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), namespace);
    let claim = serde_json::from_value(json!({
        "metadata": {"name": "data"},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": "standard",
            "resources": {"requests": {"storage": "1Gi"}},
        },
    }))
    .unwrap();
    claims.create(&PostParams::default(), &claim).await.unwrap();
}

/// A client acting as `user` (impersonated, in `system:authenticated`).
pub async fn client_as(plane: &ControlPlane, user: &str) -> kube::Client {
    kube::Client::try_from(plane.config_as(user, &["system:authenticated"]).await).unwrap()
}

/// Claims a volume in the namespace of Tenant `name` (its id), deletes the Tenant, and gives
/// the message of its `Deleting` condition once the deletion is held for the data.
pub async fn deletion_held_by_a_claim(client: &kube::Client, name: &str) -> String {
    claim_data(client, name).await;
    let tenants: Api<Tenant> = Api::all(client.clone());
    tenants
        .delete(name, &DeleteParams::default())
        .await
        .unwrap();
    eventually(&format!("the deletion of {name} held"), async || {
        let t = tenants.get(name).await.map_err(|e| e.to_string())?;
        match t.condition(DELETING) {
            Some(c) if c.reason == "DataHeld" => Ok(c.message.clone()),
            other => Err(format!("{other:?}")),
        }
    })
    .await
}
