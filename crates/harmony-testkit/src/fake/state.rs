//! Server state: options, registry, store, request log and fault injector.

use harmony_kube::Kind;
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use serde_json::{Value, json};

use super::faults::{FaultInjector, FaultPlan};
use super::log::RecordedRequest;
use super::registry::{Flavor, Registry, ResourceInfo};
use super::store::{ObjectKey, Store, Stored};

/// What happens when a namespace is deleted. Its contents are always deleted at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NamespaceDeletion {
    /// The namespace disappears at once.
    #[default]
    Immediate,
    /// The namespace stays `Terminating` (with `deletionTimestamp`) until its `spec.finalizers` are
    /// emptied through `PUT /api/v1/namespaces/{name}/finalize` or [`crate::FakeApiServer::finalize_namespace`].
    Stuck,
}

/// How to start the fake API server.
#[derive(Debug, Clone, Default)]
pub struct FakeOptions {
    /// Vanilla Kubernetes or OKD (extra API groups and the `networks/cluster` config object).
    pub flavor: Flavor,
    /// Namespace deletion behaviour.
    pub namespace_deletion: NamespaceDeletion,
    /// Answer every `SelfSubjectAccessReview` with `allowed: false` instead of `true`.
    pub deny_access_reviews: bool,
    /// Faults to inject from the start (see also [`crate::FakeApiServer::set_faults`]).
    pub faults: Option<FaultPlan>,
}

/// Everything the server holds, behind one lock.
#[derive(Debug)]
pub struct State {
    /// Start options.
    pub options: FakeOptions,
    /// Served resources.
    pub registry: Registry,
    /// Objects.
    pub store: Store,
    /// Requests received since the last clear.
    pub log: Vec<RecordedRequest>,
    /// Sequence number of the next request.
    pub next_seq: u64,
    /// Active fault plan.
    pub faults: Option<FaultInjector>,
    counter: u64,
}

impl State {
    /// A fresh server state, seeded with the system namespaces (and OKD config when asked).
    pub fn new(options: FakeOptions) -> Self {
        let mut state = Self {
            registry: Registry::for_flavor(options.flavor),
            faults: options.faults.clone().map(FaultInjector::new),
            options,
            store: Store::default(),
            log: Vec::new(),
            next_seq: 0,
            counter: 0,
        };
        let mut namespaces = vec!["default", "kube-system", "kube-public", "kube-node-lease"];
        if state.options.flavor == Flavor::Okd {
            namespaces.extend(["openshift-dns", "openshift-ingress", "openshift-monitoring"]);
        }
        for ns in namespaces {
            state.seed(
                json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": ns } }),
            );
        }
        if state.options.flavor == Flavor::Okd {
            let networks = json!({ "clusterNetwork": [{ "cidr": "10.128.0.0/14", "hostPrefix": 23 }], "serviceNetwork": ["172.30.0.0/16"], "networkType": "OVNKubernetes" });
            state.seed(json!({
                "apiVersion": "config.openshift.io/v1", "kind": "Network", "metadata": { "name": "cluster" },
                "spec": networks, "status": networks,
            }));
        }
        state
    }

    /// Stores an object as-is (no field manager), stamping server metadata. Returns it, or `None`
    /// when its `apiVersion`/`kind` is not served or it has no name.
    pub fn seed(&mut self, mut object: Value) -> Option<Value> {
        let info = self
            .registry
            .find_kind(object["apiVersion"].as_str()?, object["kind"].as_str()?)?
            .clone();
        let name = object["metadata"]["name"].as_str()?.to_string();
        let namespace = if info.namespaced {
            object["metadata"]["namespace"]
                .as_str()
                .unwrap_or("default")
                .to_string()
        } else {
            String::new()
        };
        super::ops::apply_defaults(&info, &mut object);
        let key = ObjectKey {
            gvr: info.gvr.clone(),
            namespace,
            name,
        };
        let now = super::ops::rfc3339(jiff::Timestamp::now());
        Some(self.insert_new(
            &info,
            key,
            Stored {
                object,
                managers: Vec::new(),
            },
            &now,
            false,
        ))
    }

    /// Stores a new object (see [`Store::create`]) and runs what controllers do on creation: a new
    /// namespace gets its `default` ServiceAccount.
    pub fn insert_new(
        &mut self,
        info: &ResourceInfo,
        key: ObjectKey,
        stored: Stored,
        now: &str,
        dry_run: bool,
    ) -> Value {
        let namespace = info
            .gvr
            .is(Kind::of::<Namespace>())
            .then(|| key.name.clone());
        let object = self.store.create(info, key, stored, now, dry_run);
        if let (Some(namespace), false) = (namespace, dry_run)
            && let Some(sa) = self.registry.served(Kind::of::<ServiceAccount>()).cloned()
        {
            let key = ObjectKey {
                gvr: sa.gvr.clone(),
                namespace: namespace.clone(),
                name: "default".into(),
            };
            let account = json!({ "metadata": { "name": "default", "namespace": namespace } });
            self.store.create(
                &sa,
                key,
                Stored {
                    object: account,
                    managers: Vec::new(),
                },
                now,
                false,
            );
        }
        object
    }

    /// A 5-character suffix for `generateName`, unique in this server.
    pub fn generated_suffix(&mut self) -> String {
        self.counter += 1;
        format!("{:05x}", self.counter % 0x10_0000)
    }

    /// A serial number for issued tokens.
    pub fn next_token(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }
}
