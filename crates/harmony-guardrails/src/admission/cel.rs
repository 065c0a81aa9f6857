//! CEL text for the admission rules.
//!
//! The expressions stay within what both the API server (cel-go with Kubernetes' libraries) and
//! the `cel-interpreter` crate used by the tests evaluate: `has()`, `in`, `all`/`exists`, string
//! concatenation and ternaries; no optional syntax (`?.`), no `split`/`join`. Every map index is
//! guarded by `in`, and `null` is never compared: the operation tells which of `object` and
//! `oldObject` is set.

/// A CEL string literal of `s` (single-quoted, `\` and `'` escaped).
pub(crate) fn string(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// A CEL list literal of strings.
pub(crate) fn list<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let items: Vec<String> = items.into_iter().map(string).collect();
    format!("[{}]", items.join(", "))
}

/// Whether `var` (an object variable, such as `oldObject`) carries the label `key`.
pub(crate) fn has_label(var: &str, key: &str) -> String {
    format!(
        "(has({var}.metadata.labels) && {} in {var}.metadata.labels)",
        string(key)
    )
}

/// Whether `var` carries the label `key` with value `value`.
pub(crate) fn label_is(var: &str, key: &str, value: &str) -> String {
    format!(
        "({} && {var}.metadata.labels[{}] == {})",
        has_label(var, key),
        string(key),
        string(value)
    )
}

/// Whether the requester is one of `users` or a member of one of `groups`.
pub(crate) fn requester_in(users: &[&str], groups: &[String]) -> String {
    let by_name = format!(
        "request.userInfo.username in {}",
        list(users.iter().copied())
    );
    if groups.is_empty() {
        return by_name;
    }
    format!(
        "({by_name} || (has(request.userInfo.groups) && request.userInfo.groups.exists(g, g in {})))",
        list(groups.iter().map(String::as_str))
    )
}
