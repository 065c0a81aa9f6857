//! The pure parts of on-demand backups and restore drills: names, and the comparison of what a
//! backup held with what a restore brought back (objects by kind, PVCs and their sizes).

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::plan::{MANAGED_BY_LABEL, MANAGED_BY_VALUE};

/// Label on the Backups and Restores Harmony creates: why it took them.
pub const PURPOSE_LABEL: &str = "harmony.nationtech.io/backup";

/// Why Harmony takes a backup or creates a restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Purpose {
    /// `harmony tenant backup now`.
    Manual,
    /// The last backup before the tenant's data is deleted.
    Final,
    /// A restore drill.
    Drill,
}

impl Purpose {
    /// The label value, also the middle of the object's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Final => "final",
            Self::Drill => "drill",
        }
    }
}

/// The name of a Backup, Restore or scratch namespace of `tenant` for `purpose`, at `stamp`
/// (`yyyyMMddHHmmss`, UTC): `acme-final-20261203174500`. A DNS label: tenant ids are at most
/// 40 characters.
pub fn object_name(tenant: &str, purpose: Purpose, stamp: &str) -> String {
    format!("{tenant}-{}-{stamp}", purpose.as_str())
}

/// Objects of a namespace that a restore does not bring back, or that the scratch namespace has
/// of its own: Harmony's (re-rendered from the tenant file), and what the control plane creates in
/// every namespace.
fn platform_owned(kind: &str, object: &Value) -> bool {
    let meta = &object["metadata"];
    let name = meta["name"].as_str().unwrap_or_default();
    meta["labels"][MANAGED_BY_LABEL] == MANAGED_BY_VALUE
        || (kind == "ConfigMap" && matches!(name, "kube-root-ca.crt" | "openshift-service-ca.crt"))
        || (kind == "ServiceAccount" && matches!(name, "default" | "builder" | "deployer"))
        || (kind == "Secret" && object["type"] == "kubernetes.io/service-account-token")
}

/// The tenant's own objects in a namespace: names by kind, and each PVC's requested size.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Inventory {
    /// Kind -> object names.
    pub objects: BTreeMap<String, BTreeSet<String>>,
    /// PVC name -> `spec.resources.requests.storage`.
    pub volume_sizes: BTreeMap<String, String>,
}

impl Inventory {
    /// Adds the `items` of `kind` (as the API lists them), leaving out the platform's, and, when
    /// `created_by` is given (RFC 3339, such as a backup's start), those created after it. With
    /// `namespace` (a tenant with several), each is named `<namespace>/<name>`.
    pub fn add(
        &mut self,
        kind: &str,
        items: &[Value],
        created_by: Option<&str>,
        namespace: Option<&str>,
    ) {
        let names = self.objects.entry(kind.to_string()).or_default();
        for item in items {
            let meta = &item["metadata"];
            let created = meta["creationTimestamp"].as_str().unwrap_or_default();
            if platform_owned(kind, item) || created_by.is_some_and(|by| created > by) {
                continue;
            }
            let name = meta["name"].as_str().unwrap_or_default();
            let name = match namespace {
                Some(namespace) => format!("{namespace}/{name}"),
                None => name.to_string(),
            };
            if kind == "PersistentVolumeClaim" {
                let size = &item["spec"]["resources"]["requests"]["storage"];
                self.volume_sizes
                    .insert(name.clone(), size.as_str().unwrap_or_default().to_string());
            }
            names.insert(name);
        }
    }

    /// How many objects it holds.
    pub fn len(&self) -> usize {
        self.objects.values().map(BTreeSet::len).sum()
    }

    /// Whether it holds no object.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One kind compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KindComparison {
    /// The kind.
    pub kind: String,
    /// How many were backed up.
    pub backed_up: usize,
    /// How many came back.
    pub restored: usize,
    /// Backed up, not restored.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
}

/// A PVC restored with another size than it was backed up with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SizeMismatch {
    /// The PVC.
    pub name: String,
    /// Its size in the source.
    pub backed_up: String,
    /// Its size restored.
    pub restored: String,
}

/// What a drill found: kind by kind, and the PVCs whose size changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Comparison {
    /// Every kind of either side.
    pub kinds: Vec<KindComparison>,
    /// PVCs of another size.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volume_sizes: Vec<SizeMismatch>,
}

impl Comparison {
    /// `restored` against `backed_up`: every object backed up must be back, every PVC at its
    /// size. Objects that came back beyond those (deleted from the source since) are no failure.
    pub fn of(backed_up: &Inventory, restored: &Inventory) -> Self {
        let kinds: BTreeSet<&String> = backed_up
            .objects
            .keys()
            .chain(restored.objects.keys())
            .collect();
        let empty = BTreeSet::new();
        let kinds = kinds
            .into_iter()
            .map(|kind| {
                let before = backed_up.objects.get(kind).unwrap_or(&empty);
                let after = restored.objects.get(kind).unwrap_or(&empty);
                KindComparison {
                    kind: kind.clone(),
                    backed_up: before.len(),
                    restored: after.len(),
                    missing: before.difference(after).cloned().collect(),
                }
            })
            .filter(|k| k.backed_up + k.restored > 0)
            .collect();
        let volume_sizes = backed_up
            .volume_sizes
            .iter()
            .filter_map(|(name, size)| {
                let back = restored.volume_sizes.get(name)?;
                (back != size).then(|| SizeMismatch {
                    name: name.clone(),
                    backed_up: size.clone(),
                    restored: back.clone(),
                })
            })
            .collect();
        Self {
            kinds,
            volume_sizes,
        }
    }

    /// Whether everything backed up came back, at its size.
    pub fn passed(&self) -> bool {
        self.kinds.iter().all(|k| k.missing.is_empty()) && self.volume_sizes.is_empty()
    }

    /// One line per problem; empty when it passed.
    pub fn problems(&self) -> Vec<String> {
        let missing = self
            .kinds
            .iter()
            .filter(|k| !k.missing.is_empty())
            .map(|k| {
                format!(
                    "{} of {} {} not restored: {}",
                    k.missing.len(),
                    k.backed_up,
                    k.kind,
                    k.missing.join(", ")
                )
            });
        let sizes = self.volume_sizes.iter().map(|m| {
            format!(
                "PersistentVolumeClaim {} restored at {} (backed up at {})",
                m.name, m.restored, m.backed_up
            )
        });
        missing.chain(sizes).collect()
    }
}

/// The field manager of the restore drill's part of a Tenant's status (`status.restoreDrill`), so
/// the operator's own status writes (another manager) leave it alone.
pub const DRILL_STATUS_MANAGER: &str = "harmony-restore-drill";

/// The last restore drill of a tenant, as its Tenant resource's `status.restoreDrill` holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DrillRecord {
    /// When the drill ended (RFC 3339, UTC).
    pub time: String,
    /// The backup restored.
    pub backup: String,
    /// Whether everything backed up came back, at its size.
    pub passed: bool,
    /// Velero's phase, the objects back and the problems, in one line.
    pub summary: String,
}

/// The one-line summary of a drill, as its Event and its status record say it: Velero's phase,
/// how many objects came back, and the problems.
pub fn drill_summary(phase: &str, restored: usize, problems: &[String]) -> String {
    let mut line = format!("Velero {phase}, {restored} objects back");
    if !problems.is_empty() {
        line.push_str(&format!("; {}", problems.join("; ")));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(name: &str, created: &str) -> Value {
        json!({"metadata": {"name": name, "creationTimestamp": created}})
    }

    fn pvc(name: &str, size: &str) -> Value {
        json!({"metadata": {"name": name, "creationTimestamp": "2026-12-01T00:00:00Z"},
               "spec": {"resources": {"requests": {"storage": size}}}})
    }

    fn source() -> Inventory {
        let mut inventory = Inventory::default();
        let harmony = json!({"metadata": {"name": "harmony-guardrails",
            "labels": {MANAGED_BY_LABEL: MANAGED_BY_VALUE}}});
        let items = [
            object("app", "2026-12-01T00:00:00Z"),
            object("kube-root-ca.crt", "2026-12-01T00:00:00Z"),
            object("later", "2026-12-03T00:00:00Z"),
            harmony,
        ];
        inventory.add("ConfigMap", &items, Some("2026-12-02T00:00:00Z"), None);
        inventory.add("PersistentVolumeClaim", &[pvc("data", "1Gi")], None, None);
        inventory.add("Secret", &[], None, None);
        inventory
    }

    #[test]
    fn names_are_tenant_purpose_and_time() {
        assert_eq!(
            object_name("acme", Purpose::Final, "20261203174500"),
            "acme-final-20261203174500"
        );
    }

    #[test]
    fn the_inventory_leaves_out_the_platform_and_what_came_after_the_backup() {
        let inventory = source();
        assert_eq!(inventory.len(), 2);
        assert_eq!(
            inventory.objects["ConfigMap"],
            BTreeSet::from(["app".to_string()])
        );
        assert_eq!(inventory.volume_sizes["data"], "1Gi");
    }

    #[test]
    fn with_several_namespaces_objects_are_named_by_theirs_after_the_platform_is_left_out() {
        let mut inventory = Inventory::default();
        let items = [
            object("app", "2026-12-01T00:00:00Z"),
            object("kube-root-ca.crt", "2026-12-01T00:00:00Z"),
        ];
        inventory.add("ConfigMap", &items, None, Some("acme-dev"));
        inventory.add(
            "PersistentVolumeClaim",
            &[pvc("data", "1Gi")],
            None,
            Some("acme-prod"),
        );
        assert_eq!(
            inventory.objects["ConfigMap"],
            BTreeSet::from(["acme-dev/app".to_string()])
        );
        assert_eq!(inventory.volume_sizes["acme-prod/data"], "1Gi");
    }

    #[test]
    fn a_full_restore_passes_and_extra_objects_are_no_failure() {
        let mut restored = source();
        restored.add(
            "Secret",
            &[object("old", "2026-12-04T00:00:00Z")],
            None,
            None,
        );
        let comparison = Comparison::of(&source(), &restored);
        assert!(comparison.passed(), "{comparison:?}");
        assert_eq!(comparison.kinds.len(), 3);
    }

    #[test]
    fn a_missing_object_or_a_resized_volume_fails_naming_them() {
        let mut restored = Inventory::default();
        restored.add("PersistentVolumeClaim", &[pvc("data", "2Gi")], None, None);
        let comparison = Comparison::of(&source(), &restored);
        assert!(!comparison.passed());
        assert_eq!(
            comparison.problems(),
            [
                "1 of 1 ConfigMap not restored: app",
                "PersistentVolumeClaim data restored at 2Gi (backed up at 1Gi)"
            ]
        );
    }

    #[test]
    fn a_summary_names_the_phase_the_objects_back_and_every_problem() {
        assert_eq!(
            drill_summary("Completed", 4, &[]),
            "Velero Completed, 4 objects back"
        );
        let problems = [
            "ConfigMap app missing".to_string(),
            "PVC data 2Gi".to_string(),
        ];
        assert_eq!(
            drill_summary("PartiallyFailed", 1, &problems),
            "Velero PartiallyFailed, 1 objects back; ConfigMap app missing; PVC data 2Gi"
        );
    }
}
