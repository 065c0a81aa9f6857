//! The fields of an `audit.k8s.io/v1` Event the activity report reads, borrowed from the line
//! (owned only where the JSON string holds escapes); everything else, request and response
//! bodies included, is skipped unread.

use std::borrow::Cow;

use serde::Deserialize;

/// One audit event, as far as the report reads it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Event<'a> {
    /// `RequestReceived`, `ResponseStarted`, `ResponseComplete` or `Panic`.
    #[serde(borrow)]
    pub stage: Cow<'a, str>,
    /// The Kubernetes verb, or the lower-cased HTTP method of a non-resource request.
    #[serde(borrow)]
    pub verb: Cow<'a, str>,
    /// The request URI, path and query.
    #[serde(borrow, default, rename = "requestURI")]
    pub request_uri: Cow<'a, str>,
    /// Who authenticated.
    #[serde(borrow)]
    pub user: UserInfo<'a>,
    /// Who the request acted as, when it impersonated.
    #[serde(borrow, default)]
    pub impersonated_user: Option<UserInfo<'a>>,
    /// What the request was about; absent for non-resource requests.
    #[serde(borrow, default)]
    pub object_ref: Option<ObjectRef<'a>>,
    /// The answer.
    #[serde(borrow, default)]
    pub response_status: Option<ResponseStatus<'a>>,
    /// When the API server received the request (RFC 3339, microseconds, UTC).
    #[serde(borrow, default)]
    pub request_received_timestamp: Option<Cow<'a, str>>,
}

/// A user name and its groups.
#[derive(Debug, Deserialize)]
pub(crate) struct UserInfo<'a> {
    #[serde(borrow, default)]
    pub username: Cow<'a, str>,
    #[serde(borrow, default)]
    pub groups: Vec<Str<'a>>,
}

/// A string borrowed from the line where it can be.
#[derive(Debug, Deserialize)]
pub(crate) struct Str<'a>(#[serde(borrow)] pub Cow<'a, str>);

/// The object a request names.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ObjectRef<'a> {
    #[serde(borrow, default)]
    pub resource: Cow<'a, str>,
    #[serde(borrow, default)]
    pub namespace: Cow<'a, str>,
    #[serde(borrow, default)]
    pub api_group: Cow<'a, str>,
    #[serde(borrow, default)]
    pub subresource: Cow<'a, str>,
}

/// The response's status.
#[derive(Debug, Deserialize)]
pub(crate) struct ResponseStatus<'a> {
    #[serde(default)]
    pub code: Option<u16>,
    #[serde(borrow, default)]
    pub reason: Cow<'a, str>,
}

impl Event<'_> {
    /// The final stage of a request: the one that counts.
    pub fn is_final(&self) -> bool {
        matches!(&*self.stage, "ResponseComplete" | "Panic")
    }

    /// The identity the request acted as.
    pub fn actor(&self) -> &UserInfo<'_> {
        self.impersonated_user.as_ref().unwrap_or(&self.user)
    }

    /// The namespace named, if any.
    pub fn namespace(&self) -> Option<&str> {
        self.object_ref
            .as_ref()
            .map(|o| &*o.namespace)
            .filter(|ns| !ns.is_empty())
    }

    /// Writes `resource[.group][/subresource]` (as the audit `can` names it), or the path of a
    /// non-resource request, into `out`.
    pub fn write_resource(&self, out: &mut String) {
        match &self.object_ref {
            Some(o) if !o.resource.is_empty() => {
                out.push_str(&o.resource);
                if !o.api_group.is_empty() {
                    out.push('.');
                    out.push_str(&o.api_group);
                }
                if !o.subresource.is_empty() {
                    out.push('/');
                    out.push_str(&o.subresource);
                }
            }
            _ => out.push_str(
                self.request_uri
                    .split_once('?')
                    .map_or(&*self.request_uri, |(path, _)| path),
            ),
        }
    }

    /// The response code, when recorded.
    pub fn code(&self) -> Option<u16> {
        self.response_status.as_ref().and_then(|s| s.code)
    }
}

/// Why a line is not an audit event, without quoting the line (it may hold a request body).
pub(crate) fn describe(error: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let column = error.column();
    match error.classify() {
        Category::Eof => format!("truncated: the line ends inside a JSON value (column {column})"),
        Category::Syntax | Category::Io => format!("not JSON: syntax error at column {column}"),
        Category::Data => {
            let message = error.to_string();
            match message.strip_prefix("missing field ") {
                Some(rest) => format!(
                    "not an audit event: missing field {}",
                    rest.split(" at line").next().unwrap_or(rest)
                ),
                None => format!("not an audit event: a field has the wrong type (column {column})"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/globex/secrets?limit=500","verb":"list","user":{"username":"admin","groups":["system:masters","system:authenticated"]},"impersonatedUser":{"username":"alice@acme.com","groups":["acme-devs"]},"sourceIPs":["127.0.0.1"],"objectRef":{"resource":"secrets","namespace":"globex","apiVersion":"v1"},"responseStatus":{"metadata":{},"status":"Failure","message":"secrets is forbidden","reason":"Forbidden","code":403},"requestReceivedTimestamp":"2026-12-03T12:00:00.123456Z","stageTimestamp":"2026-12-03T12:00:00.130000Z"}"#;

    #[test]
    fn reads_the_fields_it_needs_borrowed() {
        let event: Event = serde_json::from_str(LINE).unwrap();
        assert!(event.is_final());
        assert_eq!(event.actor().username, "alice@acme.com");
        assert!(matches!(event.actor().username, Cow::Borrowed(_)));
        assert_eq!(event.actor().groups[0].0, "acme-devs");
        assert_eq!(event.namespace(), Some("globex"));
        assert_eq!(event.code(), Some(403));
        let mut resource = String::new();
        event.write_resource(&mut resource);
        assert_eq!(resource, "secrets");
    }

    #[test]
    fn names_group_and_subresource_or_the_path() {
        let event: Event = serde_json::from_str(
            r#"{"stage":"ResponseComplete","verb":"create","user":{"username":"u"},"objectRef":{"resource":"deployments","apiGroup":"apps","subresource":"scale","namespace":"acme"}}"#,
        )
        .unwrap();
        let mut resource = String::new();
        event.write_resource(&mut resource);
        assert_eq!(resource, "deployments.apps/scale");
        let event: Event = serde_json::from_str(
            r#"{"stage":"ResponseComplete","verb":"get","requestURI":"/apis?timeout=32s","user":{"username":"u"}}"#,
        )
        .unwrap();
        resource.clear();
        event.write_resource(&mut resource);
        assert_eq!(resource, "/apis");
        assert_eq!(event.namespace(), None);
    }

    #[test]
    fn escaped_strings_are_read_too() {
        let event: Event = serde_json::from_str(
            r#"{"stage":"Panic","verb":"get","user":{"username":"caf\u00e9@acme.com"}}"#,
        )
        .unwrap();
        assert!(event.is_final());
        assert_eq!(event.actor().username, "café@acme.com");
    }

    #[test]
    fn problems_are_described_without_quoting_the_line() {
        let secret = r#"{"stage":"ResponseComplete","verb":"create","user":{"username":"u"},"requestObject":{"data":{"password":"aHVudGVyMg=="}},"responseStatus":{"code":"hunter2"}}"#;
        let error = serde_json::from_str::<Event>(secret).unwrap_err();
        let message = describe(&error);
        assert!(message.starts_with("not an audit event: a field has the wrong type"));
        assert!(!message.contains("hunter2"), "{message}");
        let error = serde_json::from_str::<Event>(r#"{"verb":"get","user":{}}"#).unwrap_err();
        assert_eq!(
            describe(&error),
            "not an audit event: missing field `stage`"
        );
        let error = serde_json::from_str::<Event>(&LINE[..80]).unwrap_err();
        assert_eq!(
            describe(&error),
            "truncated: the line ends inside a JSON value (column 80)"
        );
        let error = serde_json::from_str::<Event>("not json").unwrap_err();
        assert_eq!(describe(&error), "not JSON: syntax error at column 2");
    }
}
