//! Tenant files and cluster profiles as documents, and the loader of tenants, which adds the
//! checks across tenants to those of each one.

use harmony::{DocumentKind, Documents, Problem, Problems};

use crate::facts::{CLUSTER_PROFILE_KIND, ClusterFacts, ClusterProfile};
use crate::score::{API_VERSION, TENANT_KIND, TenantScore};
use crate::validate::cross_tenant_problems;

impl DocumentKind for TenantScore {
    const API_VERSION: &'static str = API_VERSION;
    const KIND: &'static str = TENANT_KIND;
    type Context = ClusterFacts;

    fn problems(&self, facts: &ClusterFacts) -> Vec<Problem> {
        self.validate(facts)
    }
}

impl DocumentKind for ClusterProfile {
    const API_VERSION: &'static str = API_VERSION;
    const KIND: &'static str = CLUSTER_PROFILE_KIND;
    type Context = ();

    fn problems(&self, _: &()) -> Vec<Problem> {
        self.validate()
    }
}

/// Every tenant of `documents`, each valid on a cluster with `facts` and all valid together (see
/// [`cross_tenant_problems`]). Fails with every problem of every document at once, located; a
/// problem across tenants names where the other tenant's conflicting field is.
pub fn load_tenants(
    documents: &Documents,
    facts: &ClusterFacts,
) -> Result<Vec<TenantScore>, Problems> {
    let (tenants, mut problems) = documents.parse_as::<TenantScore>(facts);
    let scores: Vec<&TenantScore> = tenants.iter().map(|t| &t.value).collect();
    for found in cross_tenant_problems(&scores) {
        let mut message = found.problem.message;
        if let Some((other, path)) = &found.other {
            let at = tenants[*other].problem(path, "");
            message.push_str(&format!(" (see {}:{}:{})", at.source, at.line, at.column));
        }
        problems.push(tenants[found.tenant].problem(&found.problem.path, message));
    }
    if problems.is_empty() {
        Ok(tenants.into_iter().map(|t| t.value).collect())
    } else {
        Err(Problems(problems))
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    const HEADER: &str = "apiVersion: harmony.nationtech.io/v1alpha1\nkind: Tenant\n";

    fn shown(problems: Problems) -> Vec<String> {
        problems.0.iter().map(ToString::to_string).collect()
    }

    /// The problems of `text` as file `acme.yaml`, shown.
    fn refusals(text: &str) -> Vec<String> {
        let documents = Documents::parse("acme.yaml", text).unwrap();
        shown(load_tenants(&documents, &ClusterFacts::kubernetes()).unwrap_err())
    }

    #[test]
    fn loads_valid_tenants_in_order() {
        let text =
            format!("{HEADER}metadata: {{name: acme}}\n---\n{HEADER}metadata: {{name: globex}}\n");
        let tenants = load_tenants(
            &Documents::parse("t.yaml", &text).unwrap(),
            &ClusterFacts::kubernetes(),
        )
        .unwrap();
        let names: Vec<&str> = tenants.iter().map(TenantScore::name).collect();
        assert_eq!(names, ["acme", "globex"]);
    }

    #[test]
    fn a_tenant_defined_in_two_files_is_refused_where_it_repeats_naming_the_first() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a.yaml"), tmp.path().join("b.yaml"));
        fs::write(&a, format!("{HEADER}metadata: {{name: acme}}\n")).unwrap();
        fs::write(&b, format!("{HEADER}metadata:\n  name: acme\n")).unwrap();
        let problems = load_tenants(
            &Documents::read(&[&a, &b]).unwrap(),
            &ClusterFacts::kubernetes(),
        )
        .unwrap_err();
        assert_eq!(
            shown(problems),
            [format!(
                "{}:4:9: metadata.name: tenant `acme` is defined twice: each tenant id must \
                 appear once (see {}:3:18)",
                b.display(),
                a.display()
            )]
        );
    }

    #[test]
    fn tenants_with_problems_are_still_checked_against_each_other() {
        let text = format!(
            "{HEADER}metadata: {{name: acme}}\nspec: {{colour: red}}\n---\n{HEADER}metadata: {{name: acme}}\n"
        );
        let problems = load_tenants(
            &Documents::parse("t.yaml", &text).unwrap(),
            &ClusterFacts::kubernetes(),
        )
        .unwrap_err();
        let shown = shown(problems);
        assert_eq!(shown.len(), 2, "{shown:#?}");
        assert!(
            shown[0].starts_with("t.yaml:4:8: spec.colour: unknown field `colour`"),
            "{shown:#?}"
        );
        assert!(
            shown[1].starts_with("t.yaml:8:18: metadata.name: tenant `acme` is defined twice"),
            "{shown:#?}"
        );
    }

    #[test]
    fn a_connection_to_an_unknown_tenant_is_refused_where_it_is_written_with_the_fix() {
        let text = format!(
            "{HEADER}metadata: {{name: acme}}\nspec:\n  connections:\n    calls:\n      - tenant: initech\n        podSelector: {{matchLabels: {{app: api}}}}\n        ports: [{{port: 8080}}]\n"
        );
        assert_eq!(
            refusals(&text),
            [
                "acme.yaml:7:17: spec.connections.calls[0].tenant: tenant `initech` is not among \
                 the tenants given: pass its tenant file too (both sides of a connection are read \
                 together), or correct the id"
            ]
        );
    }

    #[test]
    fn a_bad_protocol_and_a_self_connection_are_refused_where_written() {
        let text = format!(
            "{HEADER}metadata: {{name: acme}}\nspec:\n  connections:\n    accepts:\n      - tenant: acme\n        podSelector: {{matchLabels: {{app: api}}}}\n        ports: [{{port: 8080, protocol: ICMP}}]\n"
        );
        let shown = refusals(&text);
        assert_eq!(
            shown,
            [
                "acme.yaml:7:17: spec.connections.accepts[0].tenant: tenant `acme` declares a \
                 connection to itself: its namespaces already reach each other; remove this entry",
                "acme.yaml:9:40: spec.connections.accepts[0].ports[0].protocol: unknown variant \
                 `ICMP`, expected one of `TCP`, `UDP`, `SCTP`",
            ]
        );
    }

    #[test]
    fn adopting_a_namespace_outside_the_tenant_is_refused_where_written() {
        let text = format!(
            "{HEADER}metadata: {{name: acme}}\nspec:\n  adoptNamespaces: [acme, payroll]\n"
        );
        let shown = refusals(&text);
        assert_eq!(
            shown,
            [
                "acme.yaml:5:27: spec.adoptNamespaces[1]: `payroll` is not a namespace of the tenant \
              (acme): list only namespaces named by spec.namespace or spec.namespaces"
            ]
        );
    }

    #[test]
    fn a_profile_is_a_document_kind_with_its_checks() {
        let text = "apiVersion: harmony.nationtech.io/v1alpha1\nkind: ClusterProfile\n\
                    metadata: {name: p}\nspec:\n  flavor: okd\n  podNetworks: []\n";
        let problems = Documents::parse("p.yaml", text)
            .unwrap()
            .load_one::<ClusterProfile>(&())
            .unwrap_err();
        assert_eq!(
            shown(problems),
            [
                "p.yaml:6:16: spec.podNetworks: is empty: list the pod CIDRs, or leave the field \
              out for the flavor's default"
            ]
        );
        let facts = Documents::parse("p.yaml", &text.replace("  podNetworks: []\n", ""))
            .unwrap()
            .load_one::<ClusterProfile>(&())
            .unwrap()
            .facts();
        assert_eq!(facts, ClusterFacts::okd());
    }

    #[test]
    fn serde_alone_refuses_another_kind_with_the_same_message() {
        let error = serde_json::from_value::<TenantScore>(serde_json::json!({
            "apiVersion": API_VERSION, "kind": "ClusterProfile", "metadata": {"name": "x"},
        }))
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "kind: `ClusterProfile` is not a Tenant file: expected `kind: Tenant`"
        );
    }
}
