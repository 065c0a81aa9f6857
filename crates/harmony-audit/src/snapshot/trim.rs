//! What a snapshot keeps of an object's metadata. The audit reads every object's name and
//! namespace, the labels of Namespaces, Pods and ClusterRoles (selectors, aggregation) and the
//! whole of the few ClusterRoleBindings (the self-provisioning guardrail is an annotation); the
//! rest (other kinds' labels, annotations, managed fields, owners...) is dropped as each object
//! is loaded: most of a live object's metadata, and a label map of every rendered one.

use k8s_openapi::Metadata;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// `object` with only the name and namespace of its metadata.
pub(crate) fn named<T: Metadata<Ty = ObjectMeta>>(mut object: T) -> T {
    let meta = object.metadata_mut();
    *meta = kept(std::mem::take(meta), false);
    object
}

/// `object` with only the name, namespace and labels of its metadata.
pub(crate) fn labelled<T: Metadata<Ty = ObjectMeta>>(mut object: T) -> T {
    let meta = object.metadata_mut();
    *meta = kept(std::mem::take(meta), true);
    object
}

/// The name, namespace and, with `labels`, the labels of `meta`.
pub(crate) fn kept(meta: ObjectMeta, labels: bool) -> ObjectMeta {
    ObjectMeta {
        name: meta.name,
        namespace: meta.namespace,
        labels: meta.labels.filter(|_| labels),
        ..ObjectMeta::default()
    }
}

#[cfg(test)]
mod tests {
    use crate::ClusterSnapshot;

    #[test]
    fn loaded_objects_keep_names_and_the_labels_the_audit_reads() {
        let meta = "labels: {team: web}, annotations: {note: text}, uid: u, resourceVersion: '1'";
        let text = format!(
            "apiVersion: v1\nkind: Namespace\nmetadata: {{name: a, {meta}}}\n---\n\
             apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: c, {meta}}}\n---\n\
             apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: r, namespace: a, {meta}}}\n"
        );
        let mut s = ClusterSnapshot::default();
        s.load_text(&text, "t.yaml").unwrap();
        for labelled in [&s.namespaces[0].metadata, &s.cluster_roles[0].metadata] {
            assert_eq!(labelled.labels.as_ref().unwrap()["team"], "web");
            assert_eq!((&labelled.annotations, &labelled.uid), (&None, &None));
        }
        let role = &s.roles[0].metadata;
        assert_eq!(
            (role.name.as_deref(), role.namespace.as_deref()),
            (Some("r"), Some("a"))
        );
        assert_eq!((&role.labels, &role.annotations), (&None, &None));
    }
}
