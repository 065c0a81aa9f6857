//! The tenant library's simple rules as CEL validation rules of the CRD, so that the API server
//! refuses what [`harmony_tenant::TenantScore::validate`] would refuse before the operator sees it.
//!
//! Each rule refuses only what the library refuses (the library stays the judge of everything
//! else: CIDRs, defaults, cross-tenant rules). Messages name the value and the fix, as the
//! library's do. Strings the rules read carry the library's own length bound as `maxLength`;
//! the lists of members and storage classes carry bounds of their own ([`MAX_MEMBERS`],
//! [`MAX_STORAGE_CLASSES`]) without which the API server's cost estimate of the rules on their
//! items is over its budget.

use harmony_tenant::{MAX_MEMBERS, MAX_STORAGE_CLASSES, MAX_TENANT_NAME, TenantRole};
use serde_json::{Value, json};

/// A DNS-1123 label of 1 to `max` characters, as an anchored regular expression.
fn dns_label(max: usize) -> String {
    format!("^[a-z0-9]([-a-z0-9]{{0,{}}}[a-z0-9])?$", max - 2)
}

/// A DNS-1123 subdomain: dot-separated labels of 1 to 63 characters (253 at most, by `maxLength`).
const DNS_SUBDOMAIN: &str =
    "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?([.][a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$";

/// The namespaces `harmony_tenant::reserved_namespace` keeps for the platform.
const RESERVED: &str = "^(default|harmony-system|kube-.*|openshift.*)$";
/// Why they are reserved, for messages.
const RESERVED_WHY: &str =
    "`default`, `kube-*`, `openshift*` and `harmony-system` belong to the platform";

/// One `x-kubernetes-validations` rule.
pub(super) struct Rule {
    /// The schema node it sits on: property names from the root, `[]` for a list's items, such
    /// as `spec.rbac.members[]`; empty for the root.
    pub at: String,
    /// The CEL expression, true when the value is valid (`self` is the node's value).
    pub rule: String,
    /// A CEL expression giving the message.
    pub message: String,
    /// Where the refusal points, relative to `at`, when not at `at` itself.
    pub field: Option<String>,
}

impl Rule {
    fn new(at: &str, rule: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            at: at.into(),
            rule: rule.into(),
            message: message.into(),
            field: None,
        }
    }

    fn on(mut self, field: &str) -> Self {
        self.field = Some(field.into());
        self
    }

    /// The rule as the CRD holds it.
    pub fn to_value(&self) -> Value {
        let mut rule = json!({"rule": self.rule, "messageExpression": self.message});
        if let Some(field) = &self.field {
            rule["fieldPath"] = json!(field);
        }
        rule
    }
}

/// A CEL string literal (double-quoted: the messages quote values with backticks).
fn text(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A message naming `value` (a CEL string expression) in backticks, then `rest`.
fn naming(value: &str, rest: &str) -> String {
    format!("\"`\" + {value} + {}", text(&format!("`{rest}")))
}

/// Schema keywords added to nodes: the library's length bounds, non-negative counts and unique
/// names, and the list bounds the cost estimate needs.
pub(super) fn keywords(spec: &Value) -> Vec<(String, &'static str, Value)> {
    let members = "spec.rbac.members";
    let classes = "spec.storageAccess.storageClasses";
    let mut keywords: Vec<(String, &'static str, Value)> = vec![
        ("spec.namespace".into(), "maxLength", json!(63)),
        (format!("{members}[].name"), "maxLength", json!(63)),
        (format!("{classes}[].name"), "maxLength", json!(253)),
        (members.into(), "maxItems", json!(MAX_MEMBERS)),
        (classes.into(), "maxItems", json!(MAX_STORAGE_CLASSES)),
        // Two sources exist: a longer list names one twice, which the library refuses.
        (
            "spec.networkIsolation.allowFrom".into(),
            "maxItems",
            json!(2),
        ),
    ];
    // Keyed by name, a list refuses a name listed twice in linear time (a CEL rule comparing
    // every pair is over the API server's runtime budget at a few hundred items).
    for list in [members, classes] {
        keywords.push((list.into(), "x-kubernetes-list-type", json!("map")));
        keywords.push((list.into(), "x-kubernetes-list-map-keys", json!(["name"])));
    }
    let counts = &spec["properties"]["resourceQuotas"]["properties"]["objects"]["properties"];
    for count in counts
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, _)| name)
    {
        let path = format!("spec.resourceQuotas.objects.{count}");
        keywords.push((path, "minimum", json!(0)));
    }
    keywords
}

/// A message about `metadata.name`, from a rule on the root: the API server points such rules
/// at no field (a rule's `fieldPath` may not enter `metadata`), so the message names it.
fn on_name(message: String) -> String {
    format!("\"metadata.name: \" + {message}")
}

/// The rules on the tenant id and namespace.
fn identity() -> Vec<Rule> {
    let name = "self.metadata.name";
    vec![
        Rule::new(
            "",
            format!("{name}.matches('{}')", dns_label(MAX_TENANT_NAME)),
            on_name(naming(
                name,
                &format!(
                    " is not a valid tenant id: use 1–{MAX_TENANT_NAME} lowercase letters, digits \
                     and `-`, starting and ending with a letter or digit (e.g. `acme`)"
                ),
            )),
        ),
        Rule::new(
            "",
            format!(
                "(has(self.spec) && has(self.spec.namespace)) || !{name}.matches('{RESERVED}')"
            ),
            on_name(format!(
                "\"namespace \" + {}",
                naming(
                    name,
                    &format!(
                        " (the tenant id) is reserved ({RESERVED_WHY}): choose another tenant \
                         id, or another namespace in spec.namespace"
                    )
                )
            )),
        ),
        Rule::new(
            "spec.namespace",
            format!("self.matches('{}')", dns_label(63)),
            naming(
                "self",
                " is not a valid namespace name: use 1–63 lowercase letters, digits and `-`, \
                 starting and ending with a letter or digit",
            ),
        ),
        Rule::new(
            "spec.namespace",
            format!("!self.matches('{RESERVED}')"),
            format!(
                "\"namespace \" + {}",
                naming(
                    "self",
                    &format!(" is reserved ({RESERVED_WHY}): choose another namespace")
                )
            ),
        ),
        Rule::new(
            "spec.displayName",
            "self.trim() != ''",
            text("is empty: give a name for people or leave the field out"),
        ),
    ]
}

/// The rules on members, one by one and together.
fn members() -> Vec<Rule> {
    let member = "spec.rbac.members[]";
    let is_account = "has(self.serviceAccount) && self.serviceAccount";
    let oidc = |field: &str| format!("has(self.oidc) && has(self.oidc.{field})");
    vec![
        Rule::new(
            "spec.rbac.members[].name",
            format!("self.matches('{}')", dns_label(63)),
            naming(
                "self",
                " is not a valid member id: use lowercase letters, digits and `-`, starting and \
                 ending with a letter or digit (e.g. `alice`)",
            ),
        ),
        Rule::new(
            member,
            format!(
                "(has(self.user) ? 1 : 0) + (has(self.group) ? 1 : 0) + ({is_account} ? 1 : 0) + \
                 ({} ? 1 : 0) + ({} ? 1 : 0) == 1",
                oidc("user"),
                oidc("group")
            ),
            format!(
                "\"member \" + {}",
                naming(
                    "self.name",
                    " has no identity or several: set exactly one of `user`, `group`, \
                     `serviceAccount: true`, `oidc.user` or `oidc.group`",
                )
            ),
        ),
        Rule::new(
            member,
            format!("!({is_account} && has(self.shared) && self.shared)"),
            text(
                "applies to `user` and `group` members only: a ServiceAccount belongs to its \
                 tenant's namespace; remove `shared`",
            ),
        )
        .on(".shared"),
        Rule::new(
            member,
            format!("!({is_account} && self.name == 'default')"),
            text(
                "`default` is the namespace's default ServiceAccount, which Harmony keeps without \
                 a token: name the member's ServiceAccount otherwise",
            ),
        )
        .on(".name"),
        Rule::new(
            "spec.rbac.members[].user",
            "self != ''",
            text("is empty: give the user name the API server authenticates"),
        ),
        Rule::new(
            "spec.rbac.members[].user",
            "!self.startsWith('system:') && self != 'kube:admin'",
            naming(
                "self",
                " belongs to Kubernetes and its components: use the person's user name as your \
                 identity provider authenticates it (e.g. `alice@acme.com`), or \
                 `serviceAccount: true` for a workload",
            ),
        ),
        Rule::new(
            "spec.rbac.members[].group",
            "self != ''",
            text("is empty: give the group name the API server authenticates"),
        ),
        Rule::new(
            "spec.rbac.members[].group",
            "!self.startsWith('system:')",
            naming(
                "self",
                " belongs to Kubernetes and its components: name a group of your identity \
                 provider (e.g. `acme-devs`), or use `serviceAccount: true` members for workloads",
            ),
        ),
        Rule::new(
            "spec.rbac.members[].oidc.user",
            "self != ''",
            text("is empty: give the name the identity provider's claim gives"),
        ),
        Rule::new(
            "spec.rbac.members[].oidc.group",
            "self != ''",
            text("is empty: give the name the identity provider's claim gives"),
        ),
        Rule::new(
            "spec.rbac.members[].oidc.group",
            role_groups(),
            naming(
                "self",
                " is a group harmony keeps for a tenant role (tenant-<tenant>-<role>s): list the \
                 people as `oidc.user` members instead, or use a group of your own",
            ),
        ),
    ]
}

/// True unless `self` is a group harmony keeps for a tenant role, `tenant-<tenant>-<role>s`
/// (without a regular expression, whose cost on a string of any length in a list of
/// [`MAX_MEMBERS`] is over the API server's budget).
fn role_groups() -> String {
    let kept: Vec<String> = TenantRole::ALL
        .iter()
        .map(|role| {
            let suffix = format!("-{}s", role.as_str());
            format!(
                "(self.endsWith('{suffix}') && size(self) > {})",
                "tenant-".len() + suffix.len()
            )
        })
        .collect();
    format!("!(self.startsWith('tenant-') && ({}))", kept.join(" || "))
}

/// The rules on storage class names and platform sources.
fn lists() -> Vec<Rule> {
    vec![
        Rule::new(
            "spec.storageAccess.storageClasses[].name",
            format!("self.matches('{DNS_SUBDOMAIN}')"),
            naming(
                "self",
                " is not a valid StorageClass name: use lowercase letters, digits, `-` and `.`",
            ),
        ),
        Rule::new(
            "spec.networkIsolation.allowFrom",
            "size(self) < 2 || self[0] != self[1]",
            text("lists a source twice: list each source once"),
        ),
    ]
}

/// The string form of a quantity node (written as a string or an integer).
fn quantity_text(value: &str) -> String {
    format!("string({value})")
}

/// `low` (a quantity field, relative to `at`) not above `high`, when both are set and parse.
fn not_above(at: &str, low: &str, high: &str, path: &str) -> Rule {
    let set = |field: &str| {
        let (parent, _) = field.rsplit_once('.').expect("a field of an object");
        format!("has(self.{parent}) && has(self.{field})")
    };
    let parses = |field: &str| format!("isQuantity({})", quantity_text(&format!("self.{field}")));
    let value = |field: &str| format!("quantity({})", quantity_text(&format!("self.{field}")));
    let high_path = format!("{path}.{high}");
    Rule::new(
        at,
        format!(
            "!({} && {}) || !({} && {}) || {}.compareTo({}) <= 0",
            set(low),
            set(high),
            parses(low),
            parses(high),
            value(low),
            value(high)
        ),
        format!(
            "{} + \" is above {high_path} (\" + {} + {}",
            quantity_text(&format!("self.{low}")),
            quantity_text(&format!("self.{high}")),
            text(&format!("): lower it or raise {high_path}")),
        ),
    )
    .on(&format!(".{low}"))
}

/// Quota requests not above limits, container requests not above limits nor limits above the
/// most a container may set, each resource when both sides are set.
fn orderings() -> Vec<Rule> {
    let quotas = "spec.resourceQuotas";
    let containers = "spec.resourceQuotas.containerDefaults";
    let mut rules = Vec::new();
    for resource in ["cpu", "memory", "ephemeralStorage"] {
        let field = |parent: &str| format!("{parent}.{resource}");
        rules.push(not_above(
            quotas,
            &field("requests"),
            &field("limits"),
            quotas,
        ));
        for (low, high) in [("request", "limit"), ("limit", "max")] {
            rules.push(not_above(containers, &field(low), &field(high), containers));
        }
    }
    rules
}

/// Rules on every quantity the walk of `spec` finds outside lists (inside one, the cost estimate
/// of parsing a string of unknown length, once per item, is over the API server's budget): none
/// is negative.
fn non_negative(path: &str, node: &Value, rules: &mut Vec<Rule>) {
    if node.get("x-kubernetes-int-or-string") == Some(&json!(true)) {
        let value = quantity_text("self");
        rules.push(Rule::new(
            path,
            format!("!isQuantity({value}) || !quantity({value}).isLessThan(quantity('0'))"),
            naming(&value, " is negative: quantities must be 0 or more"),
        ));
    }
    for (name, child) in node
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        non_negative(&format!("{path}.{name}"), child, rules);
    }
}

/// Every rule of the schema whose `spec` node is `spec`.
pub(super) fn rules(spec: &Value) -> Vec<Rule> {
    let mut rules = identity();
    rules.extend(members());
    rules.extend(lists());
    rules.extend(orderings());
    non_negative("spec", spec, &mut rules);
    rules
}
