//! Filling a [`ClusterSnapshot`]: from YAML/JSON manifests (files or rendered folders), from
//! tenant plans, and from objects read from a live cluster.

use std::path::{Path, PathBuf};

use harmony_tenant::{TenantObject, TenantPlan};
use k8s_openapi::Resource;
use k8s_openapi::api::admissionregistration::v1::{
    ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding,
};
use k8s_openapi::api::core::v1 as k8s;
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::snapshot::trim::{labelled, named};
use crate::snapshot::{AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterSnapshot};

/// Why manifests could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A file or folder could not be read.
    #[error("cannot read `{path}`: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file is not valid YAML/JSON.
    #[error("`{origin}` is not valid YAML or JSON: {message}")]
    Syntax {
        /// The file.
        origin: String,
        /// The parser's message.
        message: String,
    },
    /// An object of a known kind does not match its schema.
    #[error(
        "`{origin}`: {kind} `{name}` is invalid: {message} (fix the field or remove the object)"
    )]
    Object {
        /// The file.
        origin: String,
        /// The object's kind.
        kind: String,
        /// The object's name.
        name: String,
        /// The deserializer's message, naming the field.
        message: String,
    },
}

impl ClusterSnapshot {
    /// A snapshot of every object of `plans`.
    pub fn from_plans(plans: &[TenantPlan]) -> Self {
        let mut snapshot = Self::default();
        for object in plans.iter().flat_map(TenantPlan::objects) {
            match object.clone() {
                TenantObject::Namespace(o) => snapshot.namespaces.push(o),
                TenantObject::ResourceQuota(o) => snapshot.resource_quotas.push(o),
                TenantObject::LimitRange(o) => snapshot.limit_ranges.push(o),
                // The guardrail parameters (read by admission rules), the monitoring rules and
                // alert routing, OKD's tenant-wide quota and the backup Schedule (in Velero's
                // namespace): no isolation or access to audit in them.
                TenantObject::ConfigMap(_)
                | TenantObject::PrometheusRule(_)
                | TenantObject::AlertmanagerConfig(_)
                | TenantObject::ClusterResourceQuota(_)
                | TenantObject::Schedule(_) => {}
                TenantObject::NetworkPolicy(o) => snapshot.network_policies.push(o),
                TenantObject::Role(o) => snapshot.roles.push(o),
                TenantObject::ServiceAccount(o) => snapshot.service_accounts.push(o),
                TenantObject::RoleBinding(o) => snapshot.role_bindings.push(o),
            }
        }
        snapshot.label_namespace_names();
        snapshot
    }

    /// Adds the objects of a manifest file, or of every `*.yaml`, `*.yml` and `*.json` file under a
    /// folder (recursively, sorted, skipping `kustomization.yaml`). Files are parsed on every
    /// core; the objects keep the files' order, and an error names the first bad file.
    #[tracing::instrument(name = "load", skip_all, fields(path = %path.display(), files))]
    pub fn load_path(&mut self, path: &Path) -> Result<(), LoadError> {
        let mut files = Vec::new();
        manifests(path, &mut files)?;
        tracing::Span::current().record("files", files.len());
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = files.len().div_ceil(threads).max(1);
        let parts: Vec<Result<Self, LoadError>> = std::thread::scope(|scope| {
            let workers: Vec<_> = files
                .chunks(chunk)
                .map(|files| scope.spawn(|| load_files(files)))
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().expect("a loader thread panicked"))
                .collect()
        });
        for part in parts {
            self.absorb(part?);
        }
        self.label_namespace_names();
        Ok(())
    }

    /// Moves every object and note of `other` after this snapshot's own.
    fn absorb(&mut self, other: Self) {
        let Self {
            namespaces,
            pods,
            service_accounts,
            roles,
            cluster_roles,
            role_bindings,
            cluster_role_bindings,
            network_policies,
            resource_quotas,
            limit_ranges,
            services,
            ingresses,
            admin_network_policies,
            baseline_admin_network_policies,
            admission_policies,
            notes,
        } = other;
        self.namespaces.extend(namespaces);
        self.pods.extend(pods);
        self.service_accounts.extend(service_accounts);
        self.roles.extend(roles);
        self.cluster_roles.extend(cluster_roles);
        self.role_bindings.extend(role_bindings);
        self.cluster_role_bindings.extend(cluster_role_bindings);
        self.network_policies.extend(network_policies);
        self.resource_quotas.extend(resource_quotas);
        self.limit_ranges.extend(limit_ranges);
        self.services.extend(services);
        self.ingresses.extend(ingresses);
        self.admin_network_policies.extend(admin_network_policies);
        self.baseline_admin_network_policies
            .extend(baseline_admin_network_policies);
        if let Some(a) = admission_policies {
            let mine = self.admission_policies.get_or_insert_default();
            mine.policies.extend(a.policies);
            mine.bindings.extend(a.bindings);
        }
        self.notes.extend(notes);
    }

    /// Adds the objects of multi-document YAML or JSON `text`; `origin` names it in errors.
    /// `List` kinds are unpacked; unknown kinds are skipped with a note.
    pub fn load_text(&mut self, text: &str, origin: &str) -> Result<(), LoadError> {
        self.add_text(text, origin)?;
        self.label_namespace_names();
        Ok(())
    }

    fn add_text(&mut self, text: &str, origin: &str) -> Result<(), LoadError> {
        let documents: Vec<Value> = match crate::fast_yaml::parse(text) {
            Some(documents) => documents,
            None => serde_saphyr::from_multiple(text).map_err(|e| LoadError::Syntax {
                origin: origin.into(),
                message: e.to_string(),
            })?,
        };
        documents
            .into_iter()
            .try_for_each(|document| self.add_value(document, origin))
    }

    /// Adds `objects` read from a live cluster (each with `apiVersion` and `kind`), as
    /// [`Self::load_text`] adds documents; `origin` (the API server) names them in errors.
    pub fn add_objects(&mut self, objects: Vec<Value>, origin: &str) -> Result<(), LoadError> {
        for object in objects {
            self.add_value(object, origin)?;
        }
        self.label_namespace_names();
        Ok(())
    }

    fn add_value(&mut self, mut value: Value, origin: &str) -> Result<(), LoadError> {
        if value.is_null() {
            return Ok(());
        }
        let kind = value["kind"].as_str().unwrap_or_default().to_string();
        if kind.ends_with("List")
            && let Some(Value::Array(items)) = value.get_mut("items").map(Value::take)
        {
            for item in items {
                self.add_value(item, origin)?;
            }
            return Ok(());
        }
        let o = origin;
        match kind.as_str() {
            <k8s::Namespace as Resource>::KIND => {
                self.namespaces.push(labelled(decode(value, o)?));
            }
            <k8s::Pod as Resource>::KIND => self.pods.push(decode::<k8s::Pod>(value, o)?.into()),
            <k8s::ServiceAccount as Resource>::KIND => {
                self.service_accounts.push(named(decode(value, o)?));
            }
            <Role as Resource>::KIND => self.roles.push(named(decode(value, o)?)),
            <ClusterRole as Resource>::KIND => {
                self.cluster_roles.push(labelled(decode(value, o)?));
            }
            <RoleBinding as Resource>::KIND => self.role_bindings.push(named(decode(value, o)?)),
            // Whole: the self-provisioning guardrail is its `autoupdate` annotation; they are few.
            <ClusterRoleBinding as Resource>::KIND => {
                self.cluster_role_bindings.push(decode(value, o)?);
            }
            <NetworkPolicy as Resource>::KIND => {
                self.network_policies.push(named(decode(value, o)?));
            }
            <k8s::ResourceQuota as Resource>::KIND => {
                self.resource_quotas.push(named(decode(value, o)?));
            }
            <k8s::LimitRange as Resource>::KIND => self.limit_ranges.push(named(decode(value, o)?)),
            <k8s::Service as Resource>::KIND => self.services.push(named(decode(value, o)?)),
            <Ingress as Resource>::KIND => self.ingresses.push(named(decode(value, o)?)),
            <AdminNetworkPolicy as Resource>::KIND => {
                self.admin_network_policies.push(decode(value, o)?);
            }
            <BaselineAdminNetworkPolicy as Resource>::KIND => {
                self.baseline_admin_network_policies.push(decode(value, o)?);
            }
            // Guardrails are assessed once any admission policy is seen (see `admission_policies`).
            <ValidatingAdmissionPolicy as Resource>::KIND => {
                let policy = decode(value, o)?;
                self.admission_policies
                    .get_or_insert_default()
                    .policies
                    .push(policy);
            }
            <ValidatingAdmissionPolicyBinding as Resource>::KIND => {
                let binding = decode(value, o)?;
                self.admission_policies
                    .get_or_insert_default()
                    .bindings
                    .push(binding);
            }
            _ => {
                let name = value["metadata"]["name"].as_str().unwrap_or_default();
                self.notes
                    .push(format!("{origin}: ignored {kind} `{name}` (not audited)"));
            }
        }
        Ok(())
    }
}

/// `path` if it is a file, else the manifests under it (recursively, sorted), into `out`.
fn manifests(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    if path.is_dir() {
        folder_manifests(path, out)
    } else {
        out.push(path.to_path_buf());
        Ok(())
    }
}

/// The manifests under the folder `path`; an entry's type comes from the folder listing, so
/// only symbolic links cost a `stat`.
fn folder_manifests(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let io = |source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut entries: Vec<(PathBuf, bool)> = std::fs::read_dir(path)
        .map_err(io)?
        .map(|entry| {
            let entry = entry?;
            let kind = entry.file_type()?;
            let path = entry.path();
            let is_dir = kind.is_dir() || (kind.is_symlink() && path.is_dir());
            Ok((path, is_dir))
        })
        .collect::<Result<_, _>>()
        .map_err(io)?;
    entries.sort();
    for (entry, is_dir) in entries {
        if is_dir {
            folder_manifests(&entry, out)?;
            continue;
        }
        let name = entry
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let manifest = ["yaml", "yml", "json"]
            .iter()
            .any(|ext| entry.extension().is_some_and(|e| e == *ext));
        if manifest && !name.starts_with("kustomization.") {
            out.push(entry);
        }
    }
    Ok(())
}

/// The objects of `files`, in order; the first error stops.
fn load_files(files: &[PathBuf]) -> Result<ClusterSnapshot, LoadError> {
    let mut part = ClusterSnapshot::default();
    for path in files {
        let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
            path: path.clone(),
            source,
        })?;
        part.add_text(&text, &path.display().to_string())?;
    }
    Ok(part)
}

/// `value` as a `T`; an error names the object and the field.
fn decode<T: DeserializeOwned>(value: Value, origin: &str) -> Result<T, LoadError> {
    let kind = value["kind"].as_str().unwrap_or_default().to_string();
    let name = value["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    serde_json::from_value(value).map_err(|e| LoadError::Object {
        origin: origin.into(),
        kind,
        name,
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_multi_document_yaml_and_lists_and_notes_unknown_kinds() {
        let text = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n\
                    apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ServiceAccount, metadata: {name: s, namespace: a}}\n---\n\
                    apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n";
        let mut s = ClusterSnapshot::default();
        s.load_text(text, "t.yaml").unwrap();
        assert_eq!(s.namespaces.len(), 1);
        assert_eq!(s.service_accounts.len(), 1);
        assert_eq!(s.notes, ["t.yaml: ignored ConfigMap `c` (not audited)"]);
        assert_eq!(
            s.namespace_labels("a").unwrap()["kubernetes.io/metadata.name"],
            "a"
        );
    }

    #[test]
    fn invalid_object_names_kind_name_and_field() {
        let text = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np}\nspec: {podSelector: 5}\n";
        let err = ClusterSnapshot::default()
            .load_text(text, "x.yaml")
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("NetworkPolicy `np`") && msg.contains("x.yaml"),
            "{msg}"
        );
    }

    #[test]
    fn live_objects_fill_the_snapshot_and_bad_ones_are_named() {
        let mut s = ClusterSnapshot::default();
        s.add_objects(
            vec![
                serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}),
                serde_json::json!({"apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": "p", "namespace": "a"}, "spec": {"containers": []}}),
            ],
            "https://api:6443",
        )
        .unwrap();
        assert_eq!((s.namespaces.len(), s.pods.len()), (1, 1));
        assert!(s.namespace_labels("a").is_some());
        let err = s
            .add_objects(
                vec![serde_json::json!({"apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": "q"}, "spec": {"containers": 3}})],
                "https://api:6443",
            )
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`https://api:6443`: Pod `q` is invalid"),
            "{err}"
        );
    }

    #[test]
    fn admission_policies_are_loaded_and_mark_guardrails_as_assessed() {
        let mut s = ClusterSnapshot::default();
        s.load_text(
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n",
            "t.yaml",
        )
        .unwrap();
        assert!(
            s.admission_policies.is_none(),
            "no policy seen: not assessed"
        );
        s.load_text(
            "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\n\
             metadata: {name: p}\nspec: {validations: [{expression: 'true'}]}\n---\n\
             apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\n\
             metadata: {name: p}\nspec: {policyName: p, validationActions: [Deny]}\n",
            "g.yaml",
        )
        .unwrap();
        let admission = s.admission_policies.as_ref().unwrap();
        assert_eq!((admission.policies.len(), admission.bindings.len()), (1, 1));
        assert!(s.notes.is_empty(), "{:?}", s.notes);
    }

    #[test]
    fn folder_skips_kustomization_and_other_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("ns.yaml"),
            "kind: Namespace\napiVersion: v1\nmetadata: {name: a}\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("kustomization.yaml"),
            "resources: [ns.yaml]\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("README.md"), "# not yaml: [").unwrap();
        let mut s = ClusterSnapshot::default();
        s.load_path(dir.path()).unwrap();
        assert_eq!(s.namespaces.len(), 1);
        assert!(s.notes.is_empty(), "{:?}", s.notes);
    }

    #[test]
    fn folders_are_read_recursively_in_name_order_through_symbolic_links() {
        let dir = tempfile::tempdir().unwrap();
        let namespace =
            |name: &str| format!("kind: Namespace\napiVersion: v1\nmetadata: {{name: {name}}}\n");
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("c.yaml"), namespace("c")).unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("b-linked")).unwrap();
        std::fs::create_dir_all(dir.path().join("a/deeper")).unwrap();
        std::fs::write(dir.path().join("a/deeper/a.yml"), namespace("a")).unwrap();
        std::fs::write(
            dir.path().join("d.json"),
            r#"{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"d"}}"#,
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("e.yaml")).unwrap();
        std::fs::write(dir.path().join("e.yaml/e.yaml"), namespace("e")).unwrap();
        let mut s = ClusterSnapshot::default();
        s.load_path(dir.path()).unwrap();
        let names: Vec<_> = s
            .namespaces
            .iter()
            .map(|n| n.metadata.name.as_deref().unwrap_or_default())
            .collect();
        assert_eq!(names, ["a", "c", "d", "e"]);
    }
}
