//! Request URLs: discovery documents and resource paths.

use std::collections::HashMap;

use super::registry::{Registry, ResourceInfo};
use super::status::ApiError;

/// What a URL path addresses.
#[derive(Debug)]
pub enum Route<'r> {
    /// `/version`.
    Version,
    /// `/api`.
    CoreVersions,
    /// `/apis`.
    Groups,
    /// `/apis/{group}`.
    Group(String),
    /// `/api/v1` or `/apis/{group}/{version}`.
    Resources(String, String),
    /// A collection, object or subresource.
    Resource(Target<'r>),
}

/// A resource URL, parsed.
#[derive(Debug)]
pub struct Target<'r> {
    /// The resource.
    pub info: &'r ResourceInfo,
    /// Namespace from the URL (`None` for cluster scope or all namespaces).
    pub namespace: Option<String>,
    /// Object name, `None` for the collection.
    pub name: Option<String>,
    /// Subresource such as `status`.
    pub subresource: Option<String>,
}

/// Parses a path; `Ok(None)` for discovery-like paths the fake does not serve (such as `/openapi/v2`).
pub fn parse<'r>(registry: &'r Registry, path: &str) -> Result<Option<Route<'r>>, ApiError> {
    let segments: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let (group, version, rest) = match segments.as_slice() {
        ["version"] => return Ok(Some(Route::Version)),
        ["api"] => return Ok(Some(Route::CoreVersions)),
        ["apis"] => return Ok(Some(Route::Groups)),
        ["apis", group] => return Ok(Some(Route::Group((*group).into()))),
        ["api", version] => return Ok(Some(Route::Resources(String::new(), (*version).into()))),
        ["apis", group, version] => {
            return Ok(Some(Route::Resources((*group).into(), (*version).into())));
        }
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return Ok(None),
    };
    let namespaced = match rest {
        ["namespaces", ns, plural, tail @ ..] if tail.len() <= 2 => registry
            .find(group, version, plural)
            .filter(|i| i.namespaced)
            .map(|info| (info, *ns, tail)),
        _ => None,
    };
    let target = match namespaced {
        Some((info, ns, tail)) => Target {
            info,
            namespace: Some(ns.into()),
            name: tail.first().map(|s| s.to_string()),
            subresource: tail.get(1).map(|s| s.to_string()),
        },
        None => {
            let (plural, tail) = rest.split_first().ok_or_else(|| ApiError::no_route(path))?;
            let info = registry
                .find(group, version, plural)
                .filter(|_| tail.len() <= 2)
                .ok_or_else(|| ApiError::no_route(path))?;
            Target {
                info,
                namespace: None,
                name: tail.first().map(|s| s.to_string()),
                subresource: tail.get(1).map(|s| s.to_string()),
            }
        }
    };
    if let Some(sub) = &target.subresource
        && !target.info.subresources.contains(&sub.as_str())
    {
        return Err(ApiError::no_route(path));
    }
    Ok(Some(Route::Resource(target)))
}

/// Decodes a query string into its parameters (last value wins).
pub fn query_params(query: &str) -> HashMap<String, String> {
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}
