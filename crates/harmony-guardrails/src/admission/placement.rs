//! Tenant pods do not choose where or how they run: no `spec.nodeName` (it bypasses the
//! scheduler), no toleration of the control-plane, master or infra taints nor of every taint, and
//! only the PriorityClasses and RuntimeClasses of the tenant's parameter ConfigMap.
//!
//! Node name and classes are immutable, so they are judged on CREATE, after the Priority
//! admission plugin has filled in the cluster's `globalDefault` class (a tenant must then list
//! it). Tolerations may be added by UPDATE: only added ones are judged, and without parameters,
//! as for the storage rule. The scheduler binds through `pods/binding` and the kubelet writes
//! `pods/status`: neither subresource is matched.

use harmony_tenant::{PRIORITY_CLASS_KEY_PREFIX, RUNTIME_CLASS_KEY_PREFIX};

use super::{AdmissionRule, Draft, build, cel, resources, validation};
use crate::guardrail::GuardrailId;
use harmony_tenant::PARAMS_NAME;

/// The binding that judges updates, which need no parameters (it binds the same policy).
pub(crate) const UPDATES_BINDING: &str = "harmony-tenant-toleration-updates";

/// Taints of nodes tenant pods must never run on.
pub(crate) const RESERVED_TAINTS: [&str; 3] = [
    "node-role.kubernetes.io/control-plane",
    "node-role.kubernetes.io/master",
    "node-role.kubernetes.io/infra",
];

/// `field` of `var`, or `default` when unset.
fn or(var: &str, field: &str, default: &str) -> String {
    format!(
        "(has({var}.{field}) ? {var}.{field} : {})",
        cel::string(default)
    )
}

/// Whether toleration `t` tolerates a reserved taint, or every taint.
fn reserved(t: &str) -> String {
    format!(
        "({key} in {taints} || ({key} == '' && {operator} == 'Exists'))",
        key = or(t, "key", ""),
        taints = cel::list(RESERVED_TAINTS),
        operator = or(t, "operator", "Equal"),
    )
}

/// Whether toleration `o` is toleration `t` (the API server lets only `tolerationSeconds` change).
fn same(o: &str, t: &str) -> String {
    ["key", "operator", "value", "effect"]
        .iter()
        .map(|f| format!("{} == {}", or(o, f, ""), or(t, f, "")))
        .collect::<Vec<_>>()
        .join(" && ")
}

/// A CREATE-only check that pod field `field`, when set, is a key `prefix<name>` of the params.
fn listed_class(field: &str, prefix: &str) -> String {
    format!(
        "request.operation != 'CREATE' || !has(object.spec.{field}) || object.spec.{field} == '' || (has(params.data) && ({} + object.spec.{field}) in params.data)",
        cel::string(prefix)
    )
}

pub(super) fn rule() -> AdmissionRule {
    let tolerations = format!(
        "!has(object.spec.tolerations) || object.spec.tolerations.all(t, !{} || (request.operation == 'UPDATE' && has(oldObject.spec.tolerations) && oldObject.spec.tolerations.exists(o, {})))",
        reserved("t"),
        same("o", "t")
    );
    let class_message = |field: &str, kind: &str, prefix: &str, list: &str| {
        format!(
            "spec.{field}: this {kind} is not allowed to the tenant (allowed ones are the `{prefix}<name>` keys of ConfigMap {PARAMS_NAME} in this namespace): leave {field} unset, or ask the platform team to list the class in spec.scheduling.{list} of the tenant file"
        )
    };
    build(Draft {
        id: GuardrailId::TenantPlacement,
        resources: vec![resources("", &["pods"], &["CREATE", "UPDATE"])],
        tenant_namespaces_only: true,
        per_tenant_params: Some(UPDATES_BINDING),
        match_conditions: vec![],
        validations: vec![
            validation(
                "request.operation != 'CREATE' || !has(object.spec.nodeName) || object.spec.nodeName == ''".into(),
                "spec.nodeName: tenant pods cannot choose their node (nodeName bypasses the scheduler): remove nodeName and let the scheduler place the pod",
            ),
            validation(
                tolerations,
                format!(
                    "spec.tolerations: tenant pods cannot tolerate the {} taints, nor every taint (operator Exists without a key): remove that toleration, tenant pods run on worker nodes",
                    RESERVED_TAINTS.join(", ")
                ),
            ),
            validation(
                listed_class("priorityClassName", PRIORITY_CLASS_KEY_PREFIX),
                class_message(
                    "priorityClassName",
                    "PriorityClass",
                    PRIORITY_CLASS_KEY_PREFIX,
                    "priorityClasses (a cluster with a globalDefault PriorityClass fills it in: list that class too)",
                ),
            ),
            validation(
                listed_class("runtimeClassName", RUNTIME_CLASS_KEY_PREFIX),
                class_message(
                    "runtimeClassName",
                    "RuntimeClass",
                    RUNTIME_CLASS_KEY_PREFIX,
                    "runtimeClasses",
                ),
            ),
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::simulator::{Request, Verdict};
    use harmony_tenant::TenantScore;
    use harmony_tenant::tenant_parameters;
    use serde_json::{Value, json};

    fn pod(extra: Value) -> Value {
        let mut spec = json!({"containers": [{"name": "app", "image": "nginx"}]});
        for (k, v) in extra.as_object().unwrap() {
            spec[k] = v.clone();
        }
        json!({"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": "app", "namespace": "acme"}, "spec": spec})
    }

    fn params() -> Value {
        let tenant = TenantScore::new("acme")
            .priority_class("batch-low")
            .runtime_class("gvisor");
        serde_json::to_value(tenant_parameters(&tenant)).unwrap()
    }

    fn create(extra: Value) -> Verdict {
        Request::create("", "pods", pod(extra))
            .in_tenant_namespace("acme")
            .by("system:serviceaccount:kube-system:replicaset-controller")
            .with_params(params())
            .admit(&rule())
    }

    #[test]
    fn admits_plain_pods_listed_classes_and_worker_tolerations() {
        assert_eq!(create(json!({})), Verdict::Allowed);
        let neighbours = json!({
            "priorityClassName": "batch-low",
            "runtimeClassName": "gvisor",
            "priority": 100,
            "tolerations": [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                {"key": "dedicated", "operator": "Equal", "value": "acme", "effect": "NoSchedule"},
                {"operator": "Exists", "key": "gpu"},
            ],
        });
        assert_eq!(create(neighbours), Verdict::Allowed);
        assert_eq!(
            create(json!({"nodeName": "", "priorityClassName": "", "tolerations": []})),
            Verdict::Allowed
        );
    }

    #[test]
    fn refuses_a_chosen_node() {
        let verdict = create(json!({"nodeName": "master-0"}));
        assert!(
            verdict.refused_with("spec.nodeName: tenant pods cannot choose their node"),
            "{verdict:?}"
        );
    }

    #[test]
    fn refuses_reserved_taints_and_the_toleration_of_everything() {
        for toleration in [
            json!({"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}),
            json!({"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"}),
            json!({"key": "node-role.kubernetes.io/infra", "operator": "Equal", "value": "reserved"}),
            json!({"operator": "Exists"}),
            json!({"key": "", "operator": "Exists", "effect": "NoExecute"}),
        ] {
            let verdict =
                create(json!({"tolerations": [{"key": "a", "operator": "Exists"}, toleration]}));
            assert!(
                verdict.refused_with("spec.tolerations"),
                "{toleration}: {verdict:?}"
            );
        }
    }

    #[test]
    fn refuses_unlisted_classes_and_every_class_without_a_list() {
        for (extra, field) in [
            (
                json!({"priorityClassName": "system-node-critical"}),
                "spec.priorityClassName",
            ),
            (
                json!({"priorityClassName": "gvisor"}),
                "spec.priorityClassName",
            ),
            (json!({"runtimeClassName": "kata"}), "spec.runtimeClassName"),
            (
                json!({"runtimeClassName": "batch-low"}),
                "spec.runtimeClassName",
            ),
        ] {
            let verdict = create(extra.clone());
            assert!(verdict.refused_with(field), "{extra}: {verdict:?}");
        }
        let none = serde_json::to_value(tenant_parameters(&TenantScore::new("acme"))).unwrap();
        let verdict = Request::create("", "pods", pod(json!({"priorityClassName": "batch-low"})))
            .in_tenant_namespace("acme")
            .with_params(none)
            .admit(&rule());
        assert!(
            verdict.refused_with("spec.priorityClassName"),
            "{verdict:?}"
        );
    }

    #[test]
    fn updates_judge_only_added_tolerations_and_need_no_parameters() {
        let scheduled = pod(json!({"nodeName": "worker-1", "priorityClassName": "other",
                                   "tolerations": [{"operator": "Exists"}]}));
        let update = |new: Value| {
            Request::update("", "pods", scheduled.clone(), new)
                .in_tenant_namespace("acme")
                .namespace_terminating()
                .by("alice@acme.com")
                .admit(&rule())
        };
        // A pod admitted before the rule (or bound by the scheduler) keeps being updatable.
        let mut relabelled = scheduled.clone();
        relabelled["metadata"]["labels"] = json!({"tier": "web"});
        relabelled["spec"]["tolerations"][0]["tolerationSeconds"] = json!(60);
        assert_eq!(update(relabelled), Verdict::Allowed);
        let mut added = scheduled.clone();
        added["spec"]["tolerations"] = json!([{"operator": "Exists"},
            {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists"}]);
        let verdict = update(added);
        assert!(verdict.refused_with("spec.tolerations"), "{verdict:?}");
    }

    #[test]
    fn binding_and_status_subresources_and_other_namespaces_are_not_matched() {
        for resource in ["pods/binding", "pods/status"] {
            let verdict = Request::create("", resource, pod(json!({"nodeName": "worker-1"})))
                .in_tenant_namespace("acme")
                .by("system:kube-scheduler")
                .admit(&rule());
            assert_eq!(verdict, Verdict::NotMatched, "{resource}");
        }
        let platform = Request::create("", "pods", pod(json!({"nodeName": "master-0"})))
            .in_namespace("kube-system", json!({}))
            .admit(&rule());
        assert_eq!(platform, Verdict::NotMatched);
    }

    #[test]
    fn creates_need_the_parameters() {
        let verdict = Request::create("", "pods", pod(json!({})))
            .in_tenant_namespace("acme")
            .admit(&rule());
        assert!(verdict.refused_with("no params found"), "{verdict:?}");
    }
}
