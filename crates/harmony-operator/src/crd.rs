//! The `Tenant` CustomResourceDefinition, its schema generated from the tenant types, with the
//! library's simple rules as CEL validation rules ([`validations`]).

mod validations;

pub use harmony_tenant::{MAX_MEMBERS, MAX_STORAGE_CLASSES};

use harmony_tenant::{TENANT_KIND, TenantSpec};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, JSONSchemaProps,
};
use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::{Value, json};

use crate::resource::{GROUP, PLURAL, TenantStatus, VERSION};

/// The schema of `T` as Kubernetes wants it in a CRD: structural, inlined, `nullable` for options.
fn structural<T: JsonSchema>() -> Value {
    let generator = SchemaSettings::openapi3()
        .with(|s| {
            s.inline_subschemas = true;
            s.meta_schema = None;
        })
        .with_transform(schemars::transform::AddNullable::default())
        .with_transform(kube::core::schema::StructuralSchemaRewriter)
        .with_transform(kube::core::schema::OptionalEnum)
        .with_transform(kube::core::schema::OptionalIntOrString)
        .into_generator();
    let mut schema = generator.into_root_schema_for::<T>().to_value();
    if let Some(object) = schema.as_object_mut() {
        object.remove("title");
    }
    schema
}

/// The node of `schema` at `path` (property names, `[]` for a list's items; empty: the root).
fn node<'a>(schema: &'a mut Value, path: &str) -> &'a mut Value {
    path.split('.')
        .filter(|segment| !segment.is_empty())
        .fold(schema, |node, segment| {
            let (name, items) = match segment.strip_suffix("[]") {
                Some(name) => (name, true),
                None => (segment, false),
            };
            let child = node
                .get_mut("properties")
                .and_then(|p| p.get_mut(name))
                .unwrap_or_else(|| panic!("the schema has no {path}"));
            if items {
                child
                    .get_mut("items")
                    .unwrap_or_else(|| panic!("{path}: {name} is not a list"))
            } else {
                child
            }
        })
}

/// Adds the library's length bounds and its simple rules to `schema`.
fn validate(schema: &mut Value) {
    for (path, keyword, value) in validations::keywords(&schema["properties"]["spec"]) {
        node(schema, &path)[keyword] = value;
    }
    for rule in validations::rules(&schema["properties"]["spec"]) {
        let at = node(schema, &rule.at);
        match at
            .get_mut("x-kubernetes-validations")
            .and_then(Value::as_array_mut)
        {
            Some(list) => list.push(rule.to_value()),
            None => at["x-kubernetes-validations"] = json!([rule.to_value()]),
        }
    }
}

/// The `tenants.harmony.nationtech.io` CRD: cluster-scoped, one served and stored version, a
/// status subresource, and the columns `kubectl get tenants` shows.
pub fn crd() -> CustomResourceDefinition {
    let condition = |kind: &str| format!(".status.conditions[?(@.type==\"{kind}\")].status");
    let mut schema = json!({
        "type": "object",
        "description": "A Harmony tenant: one namespace locked down by RBAC, NetworkPolicies, quotas and pod security. The spec is the spec of a tenant file.",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": structural::<TenantSpec>(),
            "status": structural::<TenantStatus>(),
        },
    });
    validate(&mut schema);
    let schema: JSONSchemaProps =
        serde_json::from_value(schema).expect("the generated schema is a JSONSchemaProps");
    serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{PLURAL}.{GROUP}")},
        "spec": {
            "group": GROUP,
            "names": {
                "kind": TENANT_KIND,
                "listKind": format!("{TENANT_KIND}List"),
                "plural": PLURAL,
                "singular": TENANT_KIND.to_lowercase(),
                "categories": ["harmony"],
            },
            "scope": "Cluster",
            "versions": [{
                "name": VERSION,
                "served": true,
                "storage": true,
                "schema": {"openAPIV3Schema": schema},
                "subresources": {"status": {}},
                "additionalPrinterColumns": [
                    {"name": "Namespace", "type": "string", "jsonPath": ".status.namespace"},
                    {"name": "Ready", "type": "string", "jsonPath": condition("Ready")},
                    {"name": "Isolated", "type": "string", "jsonPath": condition("Isolated")},
                    {"name": "Members", "type": "integer", "jsonPath": ".status.members"},
                    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                ],
            }],
        },
    }))
    .expect("the CRD is a CustomResourceDefinition")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every node of a structural schema has a type, unless it is int-or-string or keeps unknown
    /// fields; no `$ref`, `definitions` or `oneOf`/`anyOf` without types survive.
    fn assert_structural(path: &str, node: &Value) {
        let object = node.as_object().expect(path);
        for banned in ["$ref", "$defs", "definitions", "$schema"] {
            assert!(!object.contains_key(banned), "{path}: {banned}");
        }
        let exempt = object.contains_key("x-kubernetes-int-or-string")
            || object.contains_key("x-kubernetes-preserve-unknown-fields");
        assert!(
            exempt || object.contains_key("type"),
            "{path}: no type: {node}"
        );
        if let Some(properties) = object.get("properties").and_then(Value::as_object) {
            for (name, child) in properties {
                assert_structural(&format!("{path}.{name}"), child);
            }
        }
        if let Some(items) = object.get("items") {
            assert_structural(&format!("{path}[]"), items);
        }
    }

    #[test]
    fn the_schema_is_structural_and_names_every_spec_field() {
        let crd = serde_json::to_value(crd()).unwrap();
        let schema = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
        assert_structural("", schema);
        let spec = &schema["properties"]["spec"]["properties"];
        for field in [
            "displayName",
            "namespace",
            "podSecurity",
            "resourceQuotas",
            "networkIsolation",
            "storageAccess",
            "ingress",
            "rbac",
            "scheduling",
            "images",
            "deletion",
        ] {
            assert!(spec.get(field).is_some(), "spec.{field} missing");
        }
        assert_eq!(
            spec["deletion"]["properties"]["deleteData"]["type"],
            "boolean"
        );
        assert_eq!(
            spec["resourceQuotas"]["properties"]["requests"]["properties"]["cpu"]["x-kubernetes-int-or-string"],
            true
        );
        let members = &spec["rbac"]["properties"]["members"];
        assert_eq!(members["x-kubernetes-list-map-keys"], json!(["name"]));
        assert_eq!(members["maxItems"], MAX_MEMBERS);
        let rules = &members["items"]["x-kubernetes-validations"];
        assert!(rules.as_array().is_some_and(|r| r.len() == 3), "{rules}");
        let conditions = &schema["properties"]["status"]["properties"]["conditions"];
        assert_eq!(conditions["x-kubernetes-list-type"], "map");
    }

    #[test]
    fn the_crd_is_the_same_every_time() {
        let a = serde_json::to_string(&crd()).unwrap();
        let b = serde_json::to_string(&crd()).unwrap();
        assert_eq!(a, b);
    }
}
