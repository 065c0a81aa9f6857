//! Who asks: a subject of a binding, and the user the API server authenticates.

use std::fmt;

use serde::Serialize;

/// A subject as it appears in bindings.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "PascalCase")]
pub enum SubjectRef {
    /// A user name.
    User {
        /// The name.
        name: String,
    },
    /// A group name.
    Group {
        /// The name.
        name: String,
    },
    /// A ServiceAccount.
    ServiceAccount {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
    },
}

impl SubjectRef {
    /// The subject of binding subject `s` in a binding of `binding_namespace` (`""` for a
    /// ClusterRoleBinding); a ServiceAccount without namespace takes the binding's, as the
    /// authorizer does. `None` for an unknown kind or a namespace-less ServiceAccount.
    pub fn from_binding(
        s: &k8s_openapi::api::rbac::v1::Subject,
        binding_namespace: &str,
    ) -> Option<Self> {
        match s.kind.as_str() {
            "User" => Some(Self::User {
                name: s.name.clone(),
            }),
            "Group" => Some(Self::Group {
                name: s.name.clone(),
            }),
            "ServiceAccount" => {
                let namespace = s
                    .namespace
                    .as_deref()
                    .filter(|n| !n.is_empty())
                    .unwrap_or(binding_namespace);
                (!namespace.is_empty()).then(|| Self::ServiceAccount {
                    namespace: namespace.into(),
                    name: s.name.clone(),
                })
            }
            _ => None,
        }
    }

    /// The key bindings are indexed by: the user name, `group:NAME`, or the ServiceAccount's
    /// user name.
    pub(crate) fn index_key(&self) -> String {
        match self {
            Self::User { name } => name.clone(),
            Self::Group { name } => format!("group:{name}"),
            Self::ServiceAccount { namespace, name } => service_account_user(namespace, name),
        }
    }
}

impl fmt::Display for SubjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User { name } => write!(f, "User {name}"),
            Self::Group { name } => write!(f, "Group {name}"),
            Self::ServiceAccount { namespace, name } => {
                write!(f, "ServiceAccount {namespace}/{name}")
            }
        }
    }
}

/// The authenticated identity of a request: a user name and its groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    /// The user name (`""` when asking about a group alone).
    pub name: String,
    /// Its groups.
    pub groups: Vec<String>,
}

fn service_account_user(namespace: &str, name: &str) -> String {
    format!("system:serviceaccount:{namespace}:{name}")
}

impl From<&SubjectRef> for UserInfo {
    /// The identity the API server gives the subject: every authenticated user is in
    /// `system:authenticated`; a ServiceAccount is also in `system:serviceaccounts` and
    /// `system:serviceaccounts:<namespace>`; a group stands for any member of it.
    fn from(s: &SubjectRef) -> Self {
        let authenticated = "system:authenticated".to_string();
        match s {
            SubjectRef::User { name } => Self {
                name: name.clone(),
                groups: vec![authenticated],
            },
            SubjectRef::Group { name } => Self {
                name: String::new(),
                groups: vec![name.clone(), authenticated],
            },
            SubjectRef::ServiceAccount { namespace, name } => Self {
                name: service_account_user(namespace, name),
                groups: vec![
                    "system:serviceaccounts".into(),
                    format!("system:serviceaccounts:{namespace}"),
                    authenticated,
                ],
            },
        }
    }
}

impl UserInfo {
    /// The index keys of bindings that may apply to this user.
    pub(crate) fn index_keys(&self) -> impl Iterator<Item = String> + '_ {
        (!self.name.is_empty())
            .then(|| self.name.clone())
            .into_iter()
            .chain(self.groups.iter().map(|g| format!("group:{g}")))
    }
}
