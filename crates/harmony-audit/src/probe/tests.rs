use std::collections::BTreeSet;

use harmony_tenant::{Member, PodSecurityLevel, TenantRole, TenantScore};
use k8s_openapi::api::rbac::v1::RoleBinding;
use serde_json::{Value, json};

use super::catalogue::compliant_pod;
use super::*;
use crate::report::Format;

fn answer(code: u16, reason: &str, message: &str) -> Answer {
    Answer {
        code,
        reason: reason.into(),
        message: message.into(),
    }
}

fn forbidden(message: &str) -> Outcome {
    classify(&answer(403, "Forbidden", message))
}

#[test]
fn success_is_allowed() {
    assert_eq!(classify(&answer(201, "Created", "")), Outcome::Allowed);
    assert_eq!(classify(&answer(200, "OK", "")), Outcome::Allowed);
}

#[test]
fn forbidden_names_the_layer_its_message_names() {
    assert_eq!(
        forbidden(
            "namespaces is forbidden: User \"alice\" cannot create resource \"namespaces\" in API group \"\" at the cluster scope"
        ),
        Outcome::Blocked(Layer::Rbac)
    );
    assert_eq!(
        forbidden(
            "pods \"harmony-probe\" is forbidden: ValidatingAdmissionPolicy 'harmony-tenant-pods' with binding 'harmony-tenant-pods' denied request: spec.hostNetwork, hostPID, hostIPC: ... cannot share"
        ),
        Outcome::Blocked(Layer::AdmissionPolicy("harmony-tenant-pods".into())),
        "a policy's message may say `cannot`: the policy is named first"
    );
    assert_eq!(
        forbidden(
            "pods \"harmony-probe\" is forbidden: violates PodSecurity \"restricted:latest\": privileged"
        ),
        Outcome::Blocked(Layer::PodSecurity)
    );
    assert_eq!(
        forbidden(
            "pods \"p\" is forbidden: exceeded quota: tenant-quota, requested: pods=1, used: pods=20, limited: pods=20"
        ),
        Outcome::Blocked(Layer::Quota)
    );
    assert_eq!(
        forbidden("pods \"p\" is forbidden: maximum cpu usage per Container is 2, but limit is 4"),
        Outcome::Blocked(Layer::LimitRange)
    );
    assert_eq!(
        forbidden(
            "rolebindings.rbac.authorization.k8s.io \"harmony-probe\" is forbidden: user \"alice\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:"
        ),
        Outcome::Blocked(Layer::RbacEscalation)
    );
    assert_eq!(
        forbidden("denied by a plugin"),
        Outcome::Blocked(Layer::Admission)
    );
}

#[test]
fn invalid_is_blocked_only_when_pod_security_or_a_policy_says_so() {
    assert_eq!(
        classify(&answer(
            422,
            "Invalid",
            "Pod \"p\" is invalid: violates PodSecurity \"baseline:latest\": hostPath volumes"
        )),
        Outcome::Blocked(Layer::PodSecurity)
    );
    assert_eq!(
        classify(&answer(
            422,
            "Invalid",
            "Pod \"p\" is invalid: spec.containers[0].securityContext: cannot set `allowPrivilegeEscalation` to false and `privileged` to true"
        )),
        Outcome::Error
    );
}

#[test]
fn other_answers_are_errors_never_blocked() {
    for (code, reason, message) in [
        (404, "NotFound", "resourcequotas \"tenant-quota\" not found"),
        (
            409,
            "AlreadyExists",
            "pods \"harmony-probe\" already exists",
        ),
        (401, "Unauthorized", "Unauthorized"),
        (500, "InternalError", "etcdserver: request timed out"),
        (
            429,
            "TooManyRequests",
            "the server has received too many requests",
        ),
        (
            403,
            "Forbidden",
            "users \"alice\" is forbidden: User \"ops\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope",
        ),
        (0, "NotSent", "no ResourceQuota managed by Harmony in acme"),
    ] {
        assert_eq!(
            classify(&answer(code, reason, message)),
            Outcome::Error,
            "{code} {message}"
        );
    }
}

fn probe(id: &str) -> Probe {
    catalogue().into_iter().find(|p| p.id == id).unwrap()
}

fn pod_of(p: &Probe) -> &Value {
    match &p.verb {
        ProbeVerb::Create(body) => body,
        other => panic!("{} is not a create: {other:?}", p.id),
    }
}

/// The JSON paths at which two values differ.
fn differences(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                let (x, y) = (
                    a.get(k).unwrap_or(&Value::Null),
                    b.get(k).unwrap_or(&Value::Null),
                );
                differences(x, y, &format!("{path}.{k}"), out);
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                differences(x, y, &format!("{path}[{i}]"), out);
            }
        }
        _ if a != b => out.push(path.to_string()),
        _ => {}
    }
}

#[test]
fn each_pod_probe_differs_from_the_compliant_pod_in_its_aspect_only() {
    let expected: [(&str, &[&str]); 11] = [
        (
            "HMT-PROBE-017",
            &[
                ".spec.containers[0].securityContext.allowPrivilegeEscalation",
                ".spec.containers[0].securityContext.privileged",
            ],
        ),
        (
            "HMT-PROBE-018",
            &[".spec.containers[0].securityContext.allowPrivilegeEscalation"],
        ),
        ("HMT-PROBE-019", &[".spec.hostNetwork"]),
        ("HMT-PROBE-020", &[".spec.hostPID"]),
        ("HMT-PROBE-021", &[".spec.hostIPC"]),
        ("HMT-PROBE-022", &[".spec.volumes"]),
        ("HMT-PROBE-023", &[".spec.containers[0].ports"]),
        (
            "HMT-PROBE-024",
            &[".spec.containers[0].securityContext.capabilities.add"],
        ),
        (
            "HMT-PROBE-025",
            &[".spec.containers[0].securityContext.capabilities.add"],
        ),
        (
            "HMT-PROBE-026",
            &[".spec.containers[0].securityContext.runAsUser"],
        ),
        (
            "HMT-PROBE-027",
            &[
                ".spec.securityContext.runAsNonRoot",
                ".spec.securityContext.runAsUser",
            ],
        ),
    ];
    let compliant = compliant_pod();
    let pod_probes: Vec<Probe> = catalogue()
        .into_iter()
        .filter(|p| p.resource.kind == "Pod" && matches!(p.verb, ProbeVerb::Create(_)))
        .collect();
    assert_eq!(
        pod_probes.len(),
        expected.len() + 1,
        "and the compliant pod"
    );
    for (id, paths) in expected {
        let mut found = Vec::new();
        differences(&compliant, pod_of(&probe(id)), "", &mut found);
        assert_eq!(found, paths, "{id}");
    }
    assert_eq!(pod_of(&probe("HMT-PROBE-032")), &compliant);
}

#[test]
fn catalogue_ids_are_unique_and_every_role_has_a_must_allow_probe() {
    let probes = catalogue();
    let ids: BTreeSet<&str> = probes.iter().map(|p| p.id).collect();
    assert_eq!(ids.len(), probes.len());
    assert_eq!(probes.len(), 34);
    for role in TenantRole::ALL {
        assert!(
            probes.iter().any(|p| p.expect(role) == Expect::MustAllow),
            "{role:?}"
        );
    }
    assert_eq!(
        probe("HMT-PROBE-033").expect(TenantRole::Viewer),
        Expect::MustBlock
    );
}

#[test]
fn baseline_tenants_are_not_probed_for_what_baseline_allows() {
    let all: BTreeSet<&str> = catalogue().iter().map(|p| p.id).collect();
    let baseline: BTreeSet<&str> = catalogue_for(PodSecurityLevel::Baseline)
        .iter()
        .map(|p| p.id)
        .collect();
    let skipped: Vec<&str> = all.difference(&baseline).copied().collect();
    assert_eq!(skipped, ["HMT-PROBE-018", "HMT-PROBE-026", "HMT-PROBE-027"]);
    assert_eq!(catalogue_for(PodSecurityLevel::Restricted).len(), all.len());
}

#[test]
fn verdicts_follow_expectations() {
    let allowed = answer(201, "Created", "");
    let refused = answer(
        403,
        "Forbidden",
        "User \"x\" cannot create resource \"pods\"",
    );
    let missing = answer(404, "NotFound", "not found");
    let privileged = probe("HMT-PROBE-017");
    let sanity = probe("HMT-PROBE-032");
    let verdict =
        |p: &Probe, role, a: &Answer| ProbeResult::new(p, role, String::new(), a.clone()).verdict;
    assert_eq!(
        verdict(&privileged, TenantRole::Developer, &refused),
        Verdict::Pass
    );
    assert_eq!(
        verdict(&privileged, TenantRole::Developer, &allowed),
        Verdict::Fail
    );
    assert_eq!(
        verdict(&privileged, TenantRole::Developer, &missing),
        Verdict::Error
    );
    assert_eq!(
        verdict(&sanity, TenantRole::Developer, &allowed),
        Verdict::Pass
    );
    assert_eq!(
        verdict(&sanity, TenantRole::Developer, &refused),
        Verdict::Fail
    );
    assert_eq!(
        verdict(&sanity, TenantRole::Viewer, &refused),
        Verdict::Pass
    );
}

#[test]
fn a_claim_names_the_class_the_tenant_may_use_and_nothing_else_does() {
    let claim = probe("HMT-PROBE-029");
    assert_eq!(
        claim.body(None).unwrap()["spec"].get("storageClassName"),
        None
    );
    let body = claim.body(Some("standard")).unwrap();
    assert_eq!(body["spec"]["storageClassName"], "standard");
    assert_eq!(body["spec"]["volumeName"], "harmony-probe");
    assert_eq!(
        probe("HMT-PROBE-032").body(Some("standard")).unwrap(),
        compliant_pod()
    );
    assert_eq!(probe("HMT-PROBE-034").body(Some("standard")), None);
}

#[test]
fn describe_names_the_request_and_the_dry_run() {
    assert_eq!(
        probe("HMT-PROBE-009").describe("acme", "globex", None),
        "create configmaps in globex (dry run)"
    );
    assert_eq!(
        probe("HMT-PROBE-010").describe("acme", "globex", Some("tenant-quota")),
        "patch resourcequotas tenant-quota in acme (dry run)"
    );
    assert_eq!(
        probe("HMT-PROBE-007").describe("acme", "globex", None),
        "list secrets in globex"
    );
}

fn binding(name: &str, role: &str, subject: Value, managed: bool) -> RoleBinding {
    let labels = if managed {
        json!({"app.kubernetes.io/managed-by": "harmony"})
    } else {
        json!({})
    };
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": "acme", "labels": labels},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role},
        "subjects": [subject],
    }))
    .unwrap()
}

#[test]
fn one_identity_per_role_from_the_member_bindings() {
    let user =
        |n: &str| json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": n});
    let bindings = [
        binding("member-zed", "tenant-admin", user("zed@acme.com"), true),
        binding("member-alice", "tenant-admin", user("alice@acme.com"), true),
        binding(
            "member-devs",
            "tenant-developer",
            json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "acme-devs"}),
            true,
        ),
        binding(
            "member-ci",
            "tenant-viewer",
            json!({"kind": "ServiceAccount", "name": "ci", "namespace": "acme"}),
            true,
        ),
        binding("member-eve", "tenant-viewer", user("eve"), false),
        binding("extra", "tenant-viewer", user("mallory"), true),
    ];
    let found = from_bindings("acme", &bindings);
    let summary: Vec<(TenantRole, &str, &str, Vec<&str>)> = found
        .iter()
        .map(|i| {
            (
                i.role,
                i.member.as_str(),
                i.user.as_str(),
                i.groups.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                TenantRole::Admin,
                "alice",
                "alice@acme.com",
                vec!["system:authenticated"]
            ),
            (
                TenantRole::Developer,
                "devs",
                "harmony-probe:member-of:acme-devs",
                vec!["acme-devs", "system:authenticated"]
            ),
            (
                TenantRole::Viewer,
                "ci",
                "system:serviceaccount:acme:ci",
                vec![
                    "system:serviceaccounts",
                    "system:serviceaccounts:acme",
                    "system:authenticated"
                ]
            ),
        ]
    );
}

#[test]
fn tenant_files_give_the_same_identities() {
    let score = TenantScore::new("acme")
        .member(Member::user("alice", TenantRole::Admin, "alice@acme.com"))
        .member(Member::service_account("ci", TenantRole::Developer));
    let found = from_score(&score);
    assert_eq!(found.len(), 2);
    assert_eq!(found[1].user, "system:serviceaccount:acme:ci");
    assert_eq!(found[1].subject, "ServiceAccount ci");
}

fn report(privileged: Answer) -> ProbeReport {
    let identity = ProbeIdentity {
        role: TenantRole::Developer,
        member: "devs".into(),
        subject: "Group acme-devs".into(),
        user: "harmony-probe:member-of:acme-devs".into(),
        groups: vec!["acme-devs".into(), "system:authenticated".into()],
    };
    let namespace = ProbeResult::new(
        &probe("HMT-PROBE-001"),
        TenantRole::Developer,
        "create namespaces (dry run)".into(),
        answer(
            403,
            "Forbidden",
            "namespaces is forbidden: User \"x\" cannot create resource \"namespaces\"",
        ),
    );
    let privileged = ProbeResult::new(
        &probe("HMT-PROBE-017"),
        TenantRole::Developer,
        "create pods in acme (dry run)".into(),
        privileged,
    );
    ProbeReport {
        server: "https://127.0.0.1:6443".into(),
        tenants: vec![TenantProbes {
            tenant: "acme".into(),
            namespace: "acme".into(),
            other_namespace: "globex".into(),
            identities: vec![IdentityProbes {
                identity,
                results: vec![namespace, privileged],
            }],
        }],
        notes: vec![],
    }
}

#[test]
fn text_shows_the_evidence_of_what_failed() {
    let failed = report(answer(201, "Created", ""));
    assert!(failed.failed());
    let text = render(&failed, Format::Text);
    assert!(
        text.contains("PASS HMT-PROBE-001 create a Namespace: blocked by RBAC"),
        "{text}"
    );
    assert!(
        text.contains(
            "FAIL HMT-PROBE-017 run a privileged container: allowed, must be blocked\n        create pods in acme (dry run)\n        server: 201 Created"
        ),
        "{text}"
    );
    assert!(text.contains("tenant acme (namespace acme; other tenant's namespace globex): FAIL"));
    assert!(
        text.ends_with("1 tenants, 1 probes passed, 1 failed, 0 errors\n"),
        "{text}"
    );

    let passed = report(answer(
        403,
        "Forbidden",
        "pods \"harmony-probe\" is forbidden: violates PodSecurity \"restricted:latest\": privileged",
    ));
    assert!(!passed.failed());
    assert!(render(&passed, Format::Text).contains(
        "PASS HMT-PROBE-017 run a privileged container: blocked by Pod Security admission"
    ));
}

#[test]
fn json_and_junit_carry_the_servers_answer() {
    let failed = report(answer(201, "Created", ""));
    let json: Value = serde_json::from_str(&render(&failed, Format::Json)).unwrap();
    let result = &json["tenants"][0]["identities"][0]["results"][0];
    assert_eq!(result["outcome"], "blocked");
    assert_eq!(result["by"], json!({"layer": "rbac"}));
    assert_eq!(result["verdict"], "pass");
    assert_eq!(result["answer"]["code"], 403);
    assert_eq!(
        json["tenants"][0]["identities"][0]["identity"]["role"],
        "developer"
    );
    let second = &json["tenants"][0]["identities"][0]["results"][1];
    assert_eq!(second["outcome"], "allowed");
    assert_eq!(second["verdict"], "fail");
    assert_eq!(second["expect"], "must-block");

    let xml = render(&failed, Format::Junit);
    assert!(
        xml.contains("<testsuite name=\"acme\" tests=\"2\" failures=\"1\" errors=\"0\">"),
        "{xml}"
    );
    assert!(
        xml.contains("<failure message=\"HMT-PROBE-017 developer: run a privileged container\">allowed, must be blocked"),
        "{xml}"
    );
    assert!(
        xml.contains("cannot create resource &quot;namespaces&quot;"),
        "{xml}"
    );
}
