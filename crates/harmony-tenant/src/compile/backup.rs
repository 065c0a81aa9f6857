//! The tenant's backup Schedule `tenant-<name>`, in Velero's namespace: the tenant's namespaces only,
//! no cluster objects, the file's volume mode, storage location and retention.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::backup::crd::{BackupMetadata, BackupSpec, Schedule, ScheduleSpec};
use crate::backup::{BackupConfig, OADP_NAMESPACE, VolumeBackup, schedule_name};
use crate::facts::ClusterFacts;
use crate::plan::{BackupStatus, TenantObject, owned_labels};
use crate::score::TenantScore;

/// What each backup of `score` holds (the Schedule's template, and every backup taken on demand).
pub fn backup_spec(score: &TenantScore) -> BackupSpec {
    let backup: &BackupConfig = &score.backup;
    BackupSpec {
        included_namespaces: score.namespaces().into_iter().map(String::from).collect(),
        include_cluster_resources: false,
        default_volumes_to_fs_backup: backup.volumes == VolumeBackup::FileSystem,
        snapshot_volumes: backup.volumes == VolumeBackup::Snapshot,
        storage_location: backup.storage_location.clone(),
        ttl: backup.ttl(),
        metadata: Some(BackupMetadata {
            labels: owned_labels(score.name()),
        }),
    }
}

/// Whether the tenant's roles get OADP's self-service backups: backups on, under OADP.
pub(super) fn oadp_self_service(score: &TenantScore, facts: &ClusterFacts) -> bool {
    score.backup.enabled && facts.velero_namespace.as_deref() == Some(OADP_NAMESPACE)
}

/// Whether `score` gets its Schedule on a cluster with `facts`, and the Schedule.
pub(super) fn objects(
    score: &TenantScore,
    facts: &ClusterFacts,
) -> (BackupStatus, Vec<TenantObject>) {
    let Some(velero) = &facts.velero_namespace else {
        return (BackupStatus::NotServed, Vec::new());
    };
    if !score.backup.enabled {
        return (BackupStatus::Disabled, Vec::new());
    }
    let schedule = Schedule {
        metadata: ObjectMeta {
            name: Some(schedule_name(score.name())),
            namespace: Some(velero.clone()),
            labels: Some(owned_labels(score.name())),
            ..ObjectMeta::default()
        },
        spec: ScheduleSpec {
            schedule: score.backup.schedule.clone(),
            use_owner_references_in_backup: false,
            template: backup_spec(score),
        },
    };
    (BackupStatus::On, vec![TenantObject::Schedule(schedule)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backup::VELERO_NAMESPACE;
    use crate::compile::compile;
    use crate::plan::PlanObject;

    fn velero() -> ClusterFacts {
        ClusterFacts {
            velero_namespace: Some(VELERO_NAMESPACE.into()),
            ..ClusterFacts::kubernetes()
        }
    }

    #[test]
    fn a_cluster_with_velero_gets_a_schedule_of_the_tenant_namespace_only() {
        let mut score = TenantScore::new("acme").in_namespace("acme-prod");
        score.backup.retention = "7d".into();
        score.backup.volumes = VolumeBackup::Snapshot;
        let plan = compile(&score, &velero());
        assert_eq!(plan.backup, BackupStatus::On);
        let schedules: Vec<_> = plan
            .objects()
            .iter()
            .filter(|o| o.kind() == "Schedule")
            .collect();
        assert_eq!(schedules.len(), 1);
        let json = schedules[0].to_json();
        assert_eq!(json["apiVersion"], "velero.io/v1");
        assert_eq!(json["metadata"]["namespace"], "velero");
        assert_eq!(json["metadata"]["name"], "tenant-acme");
        assert_eq!(
            json["metadata"]["labels"]["harmony.nationtech.io/tenant"],
            "acme"
        );
        assert_eq!(
            json["metadata"]["labels"]["app.kubernetes.io/managed-by"],
            "harmony"
        );
        let template = &json["spec"]["template"];
        assert_eq!(
            template["includedNamespaces"],
            serde_json::json!(["acme-prod"])
        );
        assert_eq!(template["includeClusterResources"], false);
        assert_eq!(template["snapshotVolumes"], true);
        assert_eq!(template["defaultVolumesToFsBackup"], false);
        assert_eq!(template["ttl"], "168h0m0s");
        assert_eq!(json["spec"]["schedule"], "0 2 * * *");
        assert_eq!(schedules[0].phase(), crate::Phase::Backup);
        assert!(!crate::Phase::Backup.grants_access());
    }

    #[test]
    fn no_velero_or_backup_disabled_gives_no_schedule_and_says_why() {
        let score = TenantScore::new("acme");
        let plan = compile(&score, &ClusterFacts::kubernetes());
        assert_eq!(plan.backup, BackupStatus::NotServed);
        assert!(plan.backup.describe().contains("Velero/OADP not found"));
        let mut off = score.clone();
        off.backup.enabled = false;
        let plan = compile(&off, &velero());
        assert_eq!(plan.backup, BackupStatus::Disabled);
        assert!(plan.objects().iter().all(|o| o.kind() != "Schedule"));
        assert_eq!(
            compile(&score, &ClusterFacts::kubernetes()).objects().len(),
            plan.objects().len(),
            "a Schedule is the only difference"
        );
    }
}
