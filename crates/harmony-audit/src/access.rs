//! The three RBAC questions as the CLI answers them: "can S do V on R (in N)?", "who can V R
//! (in N)?" and "what can S do?", each with its evidence (binding → role → rule), for people
//! ([`std::fmt::Display`]) and programs (serde).

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::rbac::{Authorizer, Grant, Request, Scope, SubjectRef, UserInfo, describe_rule};
use crate::snapshot::ClusterSnapshot;

/// Refuses a namespace the snapshot does not hold: a question about it would answer "no" for a
/// typo.
pub fn known_namespace(snapshot: &ClusterSnapshot, namespace: &str) -> Result<(), String> {
    if namespace.is_empty() || snapshot.namespace_labels(namespace).is_some() {
        return Ok(());
    }
    let mut known: Vec<&str> = snapshot
        .namespaces
        .iter()
        .filter_map(|n| n.metadata.name.as_deref())
        .collect();
    known.sort_unstable();
    Err(format!(
        "-n {namespace}: no such namespace in the audited objects; give one of: {}",
        known.join(", ")
    ))
}

/// The note on a namespace the snapshot holds no object of: nothing is refused (a namespace may
/// exist without objects, or not yet), the answer comes from cluster-wide bindings alone.
pub fn empty_namespace_note(snapshot: &ClusterSnapshot, namespace: &str) -> Option<String> {
    (!namespace.is_empty() && snapshot.namespace_labels(namespace).is_none()).then(|| {
        format!(
            "namespace {namespace} holds no objects in the audited source: only cluster-wide \
             bindings (ClusterRoleBindings) answer for it"
        )
    })
}

fn sorted(mut grants: Vec<Grant>) -> Vec<Grant> {
    grants.sort_by(|a, b| {
        (&a.scope, &a.binding, &a.role, a.rule_index).cmp(&(
            &b.scope,
            &b.binding,
            &b.role,
            b.rule_index,
        ))
    });
    grants.dedup();
    grants
}

fn grant_line(f: &mut fmt::Formatter<'_>, indent: &str, g: &Grant) -> fmt::Result {
    writeln!(f, "{indent}{g}: {}", describe_rule(&g.rule))
}

fn identity(name: &str, groups: &[String]) -> String {
    let who = if name.is_empty() { "any member" } else { name };
    format!("{who} (groups {})", groups.join(", "))
}

/// "Can S do this?"
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CanAnswer {
    /// The user name asked about.
    pub user: String,
    /// Its groups, as the API server would give them.
    pub groups: Vec<String>,
    /// The request, such as `create pods/exec in acme`.
    pub request: String,
    /// Whether some grant allows it.
    pub allowed: bool,
    /// Every grant that allows it.
    pub evidence: Vec<Grant>,
    /// Set when the namespace asked about holds no objects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Answers "can `user` do `request`?" over `snapshot`.
pub fn can(
    snapshot: &ClusterSnapshot,
    user: &UserInfo,
    request: &Request,
) -> Result<CanAnswer, String> {
    let decision = Authorizer::new(snapshot).can(user, request);
    Ok(CanAnswer {
        user: user.name.clone(),
        groups: user.groups.clone(),
        request: request.to_string(),
        allowed: decision.allowed,
        evidence: sorted(decision.evidence),
        note: empty_namespace_note(snapshot, request.namespace()),
    })
}

impl fmt::Display for CanAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let who = identity(&self.user, &self.groups);
        if !self.allowed {
            writeln!(
                f,
                "no: {who} cannot {}: no binding of the user or its groups grants it",
                self.request
            )?;
        } else {
            writeln!(f, "yes: {who} can {}", self.request)?;
            self.evidence
                .iter()
                .try_for_each(|g| grant_line(f, "  ", g))?;
        }
        note_line(f, self.note.as_deref())
    }
}

/// One subject and the grants that let it do what was asked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Holder {
    /// The subject, as bindings name it (groups stay groups).
    pub subject: SubjectRef,
    /// The grants.
    pub evidence: Vec<Grant>,
}

/// "Who can do this?"
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WhoCan {
    /// The request.
    pub request: String,
    /// Every subject some binding lets do it, sorted.
    pub subjects: Vec<Holder>,
    /// Set when the namespace asked about holds no objects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn note_line(f: &mut fmt::Formatter<'_>, note: Option<&str>) -> fmt::Result {
    match note {
        Some(note) => writeln!(f, "note: {note}"),
        None => Ok(()),
    }
}

/// Answers "who can do `request`?" over `snapshot`.
pub fn who_can(snapshot: &ClusterSnapshot, request: &Request) -> Result<WhoCan, String> {
    let mut by_subject: BTreeMap<SubjectRef, Vec<Grant>> = BTreeMap::new();
    for (s, g) in Authorizer::new(snapshot).who_can(request) {
        by_subject.entry(s).or_default().push(g);
    }
    Ok(WhoCan {
        request: request.to_string(),
        subjects: by_subject
            .into_iter()
            .map(|(subject, grants)| Holder {
                subject,
                evidence: sorted(grants),
            })
            .collect(),
        note: empty_namespace_note(snapshot, request.namespace()),
    })
}

impl fmt::Display for WhoCan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.subjects.is_empty() {
            writeln!(f, "nobody can {}: no binding grants it", self.request)?;
            return note_line(f, self.note.as_deref());
        }
        writeln!(f, "{} subjects can {}:", self.subjects.len(), self.request)?;
        for h in &self.subjects {
            writeln!(f, "  {}", h.subject)?;
            h.evidence
                .iter()
                .try_for_each(|g| grant_line(f, "    ", g))?;
        }
        note_line(f, self.note.as_deref())
    }
}

/// The grants that apply in one scope.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScopeGrants {
    /// Cluster-wide (a ClusterRoleBinding) or one namespace (a RoleBinding).
    pub scope: Scope,
    /// The grants.
    pub grants: Vec<Grant>,
}

/// "What can S do?"
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WhatCan {
    /// The subject.
    pub subject: SubjectRef,
    /// The groups it was taken to be in.
    pub groups: Vec<String>,
    /// The namespace asked about, if one was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Its grants, cluster-wide first, then by namespace.
    pub scopes: Vec<ScopeGrants>,
}

/// Answers "what can `subject` do?" over `snapshot`, in `namespace` only when given (cluster-wide
/// grants apply there too).
pub fn what_can(
    snapshot: &ClusterSnapshot,
    subject: &SubjectRef,
    namespace: Option<&str>,
) -> Result<WhatCan, String> {
    if let Some(ns) = namespace {
        known_namespace(snapshot, ns)?;
    }
    let mut scopes: BTreeMap<Scope, Vec<Grant>> = BTreeMap::new();
    for g in Authorizer::new(snapshot).what_can(subject) {
        let keep = match (&g.scope, namespace) {
            (Scope::Namespace(ns), Some(only)) => ns == only,
            _ => true,
        };
        if keep {
            scopes.entry(g.scope.clone()).or_default().push(g);
        }
    }
    Ok(WhatCan {
        subject: subject.clone(),
        groups: UserInfo::from(subject).groups,
        namespace: namespace.map(String::from),
        scopes: scopes
            .into_iter()
            .map(|(scope, grants)| ScopeGrants {
                scope,
                grants: sorted(grants),
            })
            .collect(),
    })
}

impl fmt::Display for WhatCan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let groups = self.groups.join(", ");
        let within = self
            .namespace
            .as_ref()
            .map(|ns| format!(" in namespace {ns} (cluster-wide grants included)"))
            .unwrap_or_default();
        if self.scopes.is_empty() {
            return writeln!(
                f,
                "{} (groups {groups}) holds no grant{within}: no binding names it or its groups",
                self.subject
            );
        }
        writeln!(f, "{} (groups {groups}) can{within}:", self.subject)?;
        for s in &self.scopes {
            match &s.scope {
                Scope::Cluster => writeln!(f, "  cluster-wide:")?,
                Scope::Namespace(ns) => writeln!(f, "  in namespace {ns}:")?,
            }
            s.grants.iter().try_for_each(|g| grant_line(f, "    ", g))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OBJECTS: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: acme}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: exec}
rules: [{apiGroups: [""], resources: [pods/exec], verbs: [create]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: devs-exec, namespace: acme}
subjects: [{kind: Group, name: acme-devs, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: exec, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ci-exec}
subjects: [{kind: ServiceAccount, name: ci, namespace: acme}]
roleRef: {kind: ClusterRole, name: exec, apiGroup: rbac.authorization.k8s.io}
"#;

    fn snapshot() -> ClusterSnapshot {
        let mut s = ClusterSnapshot::default();
        s.load_text(OBJECTS, "t.yaml").unwrap();
        s
    }

    #[test]
    fn can_answers_with_evidence_and_groups_only_from_the_caller() {
        let s = snapshot();
        let exec = Request::parse("create", "pods/exec", None, Some("acme")).unwrap();
        let dev = UserInfo::impersonate("bob", &["acme-devs".into()]).unwrap();
        let yes = can(&s, &dev, &exec).unwrap();
        assert!(yes.allowed);
        assert_eq!(
            yes.to_string(),
            "yes: bob (groups system:authenticated, acme-devs) can create pods/exec in acme\n  \
             RoleBinding acme/devs-exec → ClusterRole exec rule #0: create pods/exec (apiGroups \"\")\n"
        );
        let alone = UserInfo::impersonate("bob", &[]).unwrap();
        assert!(!can(&s, &alone, &exec).unwrap().allowed);
        // A namespace without objects is answered from cluster-wide bindings, and says so.
        let ci = UserInfo::impersonate("system:serviceaccount:acme:ci", &[]).unwrap();
        let elsewhere = Request::parse("create", "pods/exec", None, Some("empty")).unwrap();
        let yes = can(&s, &ci, &elsewhere).unwrap();
        assert!(yes.allowed);
        assert_eq!(yes.evidence[0].binding, "ClusterRoleBinding ci-exec");
        assert!(
            yes.to_string()
                .ends_with("note: namespace empty holds no objects in the audited source: only cluster-wide bindings (ClusterRoleBindings) answer for it\n"),
            "{yes}"
        );
        assert!(!can(&s, &dev, &elsewhere).unwrap().allowed);
        let who = who_can(&s, &elsewhere).unwrap();
        let names: Vec<String> = who.subjects.iter().map(|h| h.subject.to_string()).collect();
        assert_eq!(names, ["ServiceAccount acme/ci"]);
        assert!(who.note.is_some());
        assert!(can(&s, &ci, &exec).unwrap().note.is_none());
    }

    #[test]
    fn who_can_lists_subjects_sorted_and_what_can_groups_by_scope() {
        let s = snapshot();
        let exec = Request::parse("create", "pods/exec", None, Some("acme")).unwrap();
        let who = who_can(&s, &exec).unwrap();
        let names: Vec<String> = who.subjects.iter().map(|h| h.subject.to_string()).collect();
        assert_eq!(names, ["Group acme-devs", "ServiceAccount acme/ci"]);
        let cluster_wide = Request::parse("create", "pods/exec", None, None).unwrap();
        assert_eq!(who_can(&s, &cluster_wide).unwrap().subjects.len(), 1);

        let ci: SubjectRef = "ServiceAccount:acme/ci".parse().unwrap();
        let what = what_can(&s, &ci, None).unwrap();
        assert_eq!(what.scopes.len(), 1);
        assert_eq!(what.scopes[0].scope, Scope::Cluster);
        assert!(
            what.to_string()
                .contains("  cluster-wide:\n    ClusterRoleBinding ci-exec")
        );
        let devs: SubjectRef = "Group:acme-devs".parse().unwrap();
        let what = what_can(&s, &devs, Some("acme")).unwrap();
        assert_eq!(what.scopes[0].scope, Scope::Namespace("acme".into()));
        let nobody: SubjectRef = "User:eve".parse().unwrap();
        assert!(
            what_can(&s, &nobody, None)
                .unwrap()
                .to_string()
                .contains("holds no grant")
        );
    }
}
