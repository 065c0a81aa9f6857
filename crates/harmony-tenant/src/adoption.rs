//! Taking over existing namespaces (`spec.adoptNamespaces`).
//!
//! Harmony creates a tenant's namespaces. One that exists already without Harmony's labels was
//! made by someone else and may hold their workloads, data and RoleBindings; writing the tenant's
//! objects there would hand all of it to the tenant's members. The live apply refuses such a
//! namespace unless the tenant names it in `spec.adoptNamespaces`.

use harmony::Problem;

use crate::score::TenantScore;

impl TenantScore {
    /// Lets the tenant take over its namespace `name` if it exists without Harmony's labels.
    pub fn adopt_namespace(mut self, name: impl Into<String>) -> Self {
        self.tenant_config.adopt_namespaces.push(name.into());
        self
    }
}

/// The problems of `spec.adoptNamespaces`: a name that is not one of the tenant's namespaces, or a
/// name listed twice.
pub(crate) fn problems(score: &TenantScore, problems: &mut Vec<Problem>) {
    let adopt = &score.tenant_config.adopt_namespaces;
    let namespaces = score.namespaces();
    for (i, name) in adopt.iter().enumerate() {
        let path = format!("spec.adoptNamespaces[{i}]");
        if let Some(first) = adopt[..i].iter().position(|n| n == name) {
            problems.push(Problem::new(
                path,
                format!(
                    "`{name}` is listed twice (also spec.adoptNamespaces[{first}]): list each \
                     namespace once"
                ),
            ));
        } else if !namespaces.contains(&name.as_str()) {
            problems.push(Problem::new(
                path,
                format!(
                    "`{name}` is not a namespace of the tenant ({}): list only namespaces named by \
                     spec.namespace or spec.namespaces",
                    namespaces.join(", ")
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ClusterFacts, TenantNamespace, compile};

    fn found(score: &TenantScore) -> Vec<(String, String)> {
        let mut found = Vec::new();
        problems(score, &mut found);
        found.into_iter().map(|p| (p.path, p.message)).collect()
    }

    #[test]
    fn a_namespace_of_the_tenant_may_be_adopted_and_the_plan_says_so() {
        let score = TenantScore::new("acme")
            .in_namespace("acme-prod")
            .adopt_namespace("acme-prod");
        assert_eq!(score.validate(&ClusterFacts::kubernetes()), []);
        let plan = compile(&score, &ClusterFacts::kubernetes());
        assert_eq!(plan.adopt_namespaces, ["acme-prod"]);
        let listed = TenantScore::new("acme")
            .with_namespaces([
                TenantNamespace::new("acme-dev"),
                TenantNamespace::new("acme"),
            ])
            .adopt_namespace("acme");
        assert_eq!(found(&listed), []);
    }

    #[test]
    fn a_namespace_outside_the_tenant_is_refused() {
        let score = TenantScore::new("acme").adopt_namespace("payroll");
        assert_eq!(
            found(&score),
            [(
                "spec.adoptNamespaces[0]".to_string(),
                "`payroll` is not a namespace of the tenant (acme): list only namespaces named by \
                 spec.namespace or spec.namespaces"
                    .to_string()
            )]
        );
        assert_eq!(score.validate(&ClusterFacts::kubernetes()).len(), 1);
    }

    #[test]
    fn a_name_listed_twice_is_refused() {
        let score = TenantScore::new("acme")
            .adopt_namespace("acme")
            .adopt_namespace("acme");
        assert_eq!(
            found(&score),
            [(
                "spec.adoptNamespaces[1]".to_string(),
                "`acme` is listed twice (also spec.adoptNamespaces[0]): list each namespace once"
                    .to_string()
            )]
        );
    }

    #[test]
    fn unset_it_is_left_out_of_the_spec() {
        let spec = serde_json::to_value(TenantScore::new("acme").spec()).unwrap();
        assert!(spec.get("adoptNamespaces").is_none(), "{spec}");
        let spec = serde_json::to_value(TenantScore::new("acme").adopt_namespace("acme").spec());
        assert_eq!(
            spec.unwrap()["adoptNamespaces"],
            serde_json::json!(["acme"])
        );
    }
}
