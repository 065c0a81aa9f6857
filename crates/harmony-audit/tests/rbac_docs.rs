//! The RBAC examples of the Kubernetes documentation ("Using RBAC Authorization").

use std::sync::LazyLock;

use harmony_audit::ClusterSnapshot;
use harmony_audit::rbac::{Authorizer, Request, SubjectRef, UserInfo};

const DOCS: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {namespace: default, name: pod-reader}
rules:
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "watch", "list"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: read-pods, namespace: default}
subjects:
- {kind: User, name: jane, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: Role, name: pod-reader, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: secret-reader}
rules:
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "watch", "list"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: read-secrets, namespace: development}
subjects:
- {kind: User, name: dave, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: ClusterRole, name: secret-reader, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: read-secrets-global}
subjects:
- {kind: Group, name: manager, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: ClusterRole, name: secret-reader, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: monitoring}
aggregationRule:
  clusterRoleSelectors:
  - matchLabels: {rbac.example.com/aggregate-to-monitoring: "true"}
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: monitoring-endpoints
  labels: {rbac.example.com/aggregate-to-monitoring: "true"}
rules:
- apiGroups: [""]
  resources: ["services", "endpointslices", "pods"]
  verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: qa-monitoring}
subjects:
- {kind: Group, name: "system:serviceaccounts:qa", apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: ClusterRole, name: monitoring, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: default-sa-view, namespace: kube-system}
subjects:
- {kind: ServiceAccount, name: default}
roleRef: {kind: ClusterRole, name: secret-reader, apiGroup: rbac.authorization.k8s.io}
"#;

fn authorizer() -> Authorizer<'static> {
    static SNAPSHOT: LazyLock<ClusterSnapshot> = LazyLock::new(|| {
        let mut s = ClusterSnapshot::default();
        s.load_text(DOCS, "docs").unwrap();
        s
    });
    Authorizer::new(&SNAPSHOT)
}

fn user(name: &str) -> UserInfo {
    UserInfo::from(&SubjectRef::User { name: name.into() })
}

fn sa(ns: &str, name: &str) -> UserInfo {
    UserInfo::from(&SubjectRef::ServiceAccount {
        namespace: ns.into(),
        name: name.into(),
    })
}

#[test]
fn role_binding_grants_only_in_its_namespace() {
    let a = authorizer();
    let d = a.can(
        &user("jane"),
        &Request::resource("list", "", "pods", "default"),
    );
    assert!(d.allowed);
    assert_eq!(
        d.evidence[0].to_string(),
        "RoleBinding default/read-pods → Role default/pod-reader rule #0"
    );
    assert!(
        !a.can(
            &user("jane"),
            &Request::resource("list", "", "pods", "other")
        )
        .allowed
    );
    assert!(
        !a.can(&user("jane"), &Request::resource("list", "", "pods", ""))
            .allowed
    );
    assert!(
        !a.can(
            &user("jane"),
            &Request::resource("delete", "", "pods", "default")
        )
        .allowed
    );
}

#[test]
fn role_binding_to_cluster_role_is_namespaced() {
    let a = authorizer();
    assert!(
        a.can(
            &user("dave"),
            &Request::resource("get", "", "secrets", "development")
        )
        .allowed
    );
    assert!(
        !a.can(
            &user("dave"),
            &Request::resource("get", "", "secrets", "default")
        )
        .allowed
    );
}

#[test]
fn cluster_role_binding_to_group_applies_everywhere() {
    let a = authorizer();
    let manager = UserInfo {
        name: "alice".into(),
        groups: vec!["manager".into()],
    };
    assert!(
        a.can(&manager, &Request::resource("list", "", "secrets", "any"))
            .allowed
    );
    assert!(
        a.can(&manager, &Request::resource("list", "", "secrets", ""))
            .allowed
    );
    assert!(
        !a.can(
            &user("alice"),
            &Request::resource("list", "", "secrets", "any")
        )
        .allowed
    );
}

#[test]
fn aggregated_cluster_role_and_service_account_groups() {
    let a = authorizer();
    let d = a.can(
        &sa("qa", "runner"),
        &Request::resource("list", "", "endpointslices", "x"),
    );
    assert!(d.allowed);
    assert!(
        d.evidence[0]
            .role
            .contains("aggregated from ClusterRole monitoring-endpoints"),
        "{}",
        d.evidence[0].role
    );
    assert!(
        !a.can(
            &sa("dev", "runner"),
            &Request::resource("list", "", "pods", "x")
        )
        .allowed
    );
}

#[test]
fn service_account_subject_defaults_to_binding_namespace() {
    let a = authorizer();
    assert!(
        a.can(
            &sa("kube-system", "default"),
            &Request::resource("get", "", "secrets", "kube-system")
        )
        .allowed
    );
    assert!(
        !a.can(
            &sa("default", "default"),
            &Request::resource("get", "", "secrets", "kube-system")
        )
        .allowed
    );
}

#[test]
fn who_can_and_what_can() {
    let a = authorizer();
    let who: Vec<String> = a
        .who_can(&Request::resource("get", "", "secrets", "development"))
        .iter()
        .map(|(s, _)| s.to_string())
        .collect();
    assert_eq!(who, ["Group manager", "User dave"]);
    let what = a.what_can(&SubjectRef::User {
        name: "jane".into(),
    });
    assert_eq!(what.len(), 1);
    assert_eq!(what[0].rule.resources.as_deref().unwrap(), ["pods"]);
}

const ANONYMOUS: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: pod-reader}
rules: [{apiGroups: [""], resources: [pods], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: authenticated-read}
subjects: [{kind: Group, name: "system:authenticated", apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: pod-reader, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: health}
rules: [{nonResourceURLs: [/healthz], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: anonymous-health}
subjects: [{kind: Group, name: "system:unauthenticated", apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: health, apiGroup: rbac.authorization.k8s.io}
"#;

#[test]
fn anonymous_is_unauthenticated_never_authenticated() {
    let mut s = ClusterSnapshot::default();
    s.load_text(ANONYMOUS, "anonymous").unwrap();
    let a = Authorizer::new(&s);
    let pods = Request::resource("get", "", "pods", "default");
    let health = Request::NonResource {
        verb: "get".into(),
        path: "/healthz".into(),
    };
    for anonymous in [
        user("system:anonymous"),
        UserInfo::impersonate("system:anonymous", &[]).unwrap(),
    ] {
        assert_eq!(anonymous.groups, ["system:unauthenticated"]);
        assert!(!a.can(&anonymous, &pods).allowed);
        assert!(a.can(&anonymous, &health).allowed);
    }
    assert!(a.can(&user("alice"), &pods).allowed);
    assert!(!a.can(&user("alice"), &health).allowed);
    // What the anonymous user can do: only what system:unauthenticated is granted.
    let what = a.what_can(&SubjectRef::User {
        name: "system:anonymous".into(),
    });
    assert_eq!(what.len(), 1, "{what:?}");
    assert_eq!(what[0].binding, "ClusterRoleBinding anonymous-health");
    let what = a.what_can(&SubjectRef::Group {
        name: "system:unauthenticated".into(),
    });
    assert_eq!(what.len(), 1, "{what:?}");
}

const AGGREGATED: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: monitoring}
aggregationRule:
  clusterRoleSelectors:
  - matchLabels: {rbac.example.com/aggregate-to-monitoring: "true"}
rules:
- {apiGroups: [""], resources: [secrets], verbs: [get]}
- {apiGroups: [""], resources: [pods], verbs: [list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: monitoring-pods
  labels: {rbac.example.com/aggregate-to-monitoring: "true"}
rules: [{apiGroups: [""], resources: [pods], verbs: [list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: empty-aggregate}
aggregationRule: {clusterRoleSelectors: []}
rules: [{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: monitors}
subjects: [{kind: User, name: mona, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: monitoring, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: nothing}
subjects: [{kind: User, name: nora, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: empty-aggregate, apiGroup: rbac.authorization.k8s.io}
"#;

#[test]
fn an_aggregated_role_holds_exactly_the_union_its_selectors_pick() {
    let mut s = ClusterSnapshot::default();
    s.load_text(AGGREGATED, "aggregated").unwrap();
    let a = Authorizer::new(&s);
    // The hand-written secrets rule is overwritten by the aggregation controller.
    assert!(
        !a.can(
            &user("mona"),
            &Request::resource("get", "", "secrets", "default")
        )
        .allowed
    );
    let pods = a.can(
        &user("mona"),
        &Request::resource("list", "", "pods", "default"),
    );
    assert!(pods.allowed);
    assert_eq!(pods.evidence.len(), 1, "{:?}", pods.evidence);
    assert!(
        pods.evidence[0]
            .role
            .contains("aggregated from ClusterRole monitoring-pods"),
        "{}",
        pods.evidence[0].role
    );
    let what = a.what_can(&SubjectRef::User {
        name: "mona".into(),
    });
    assert_eq!(what.len(), 1, "{what:?}");
    // An aggregation rule selecting nothing leaves the role empty, whatever its rules say.
    assert!(
        a.what_can(&SubjectRef::User {
            name: "nora".into()
        })
        .is_empty()
    );
    assert!(
        !a.can(
            &user("nora"),
            &Request::resource("get", "", "pods", "default")
        )
        .allowed
    );
}
