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

/// The user name of anonymous requests.
pub const ANONYMOUS: &str = "system:anonymous";
/// The group of every authenticated request.
pub const AUTHENTICATED: &str = "system:authenticated";
/// The group of every anonymous request.
pub const UNAUTHENTICATED: &str = "system:unauthenticated";

impl From<&SubjectRef> for UserInfo {
    /// The identity the API server gives the subject: every authenticated user is in
    /// `system:authenticated`, the anonymous user (`system:anonymous`) only in
    /// `system:unauthenticated`; a ServiceAccount is also in `system:serviceaccounts` and
    /// `system:serviceaccounts:<namespace>`; a group stands for any member of it (a member of
    /// `system:unauthenticated` is anonymous, never authenticated).
    fn from(s: &SubjectRef) -> Self {
        match s {
            SubjectRef::User { name } if name == ANONYMOUS => Self {
                name: name.clone(),
                groups: vec![UNAUTHENTICATED.into()],
            },
            SubjectRef::User { name } => Self {
                name: name.clone(),
                groups: vec![AUTHENTICATED.into()],
            },
            SubjectRef::Group { name } if name == UNAUTHENTICATED => Self {
                name: String::new(),
                groups: vec![name.clone()],
            },
            SubjectRef::Group { name } if name == AUTHENTICATED => Self {
                name: String::new(),
                groups: vec![name.clone()],
            },
            SubjectRef::Group { name } => Self {
                name: String::new(),
                groups: vec![name.clone(), AUTHENTICATED.into()],
            },
            SubjectRef::ServiceAccount { namespace, name } => Self {
                name: service_account_user(namespace, name),
                groups: vec![
                    "system:serviceaccounts".into(),
                    format!("system:serviceaccounts:{namespace}"),
                    AUTHENTICATED.into(),
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

/// The user name prefix of ServiceAccounts, as the API server authenticates them.
const SERVICE_ACCOUNT_PREFIX: &str = "system:serviceaccount:";

/// Parses `system:serviceaccount:NS:NAME` (`None` when `user` has another prefix).
fn service_account_of(user: &str) -> Option<Result<SubjectRef, String>> {
    let rest = user.strip_prefix(SERVICE_ACCOUNT_PREFIX)?;
    Some(match rest.split_once(':') {
        Some((namespace, name))
            if !namespace.is_empty() && !name.is_empty() && !name.contains(':') =>
        {
            Ok(SubjectRef::ServiceAccount {
                namespace: namespace.into(),
                name: name.into(),
            })
        }
        _ => Err(format!(
            "`{user}` is not a ServiceAccount user name: write system:serviceaccount:NAMESPACE:NAME"
        )),
    })
}

impl std::str::FromStr for SubjectRef {
    type Err = String;

    /// Parses `User:NAME`, `Group:NAME`, `ServiceAccount:NAMESPACE/NAME` or
    /// `system:serviceaccount:NAMESPACE:NAME`.
    fn from_str(s: &str) -> Result<Self, String> {
        if let Some(sa) = service_account_of(s) {
            return sa;
        }
        let usage = "write User:NAME, Group:NAME, ServiceAccount:NAMESPACE/NAME or \
                     system:serviceaccount:NAMESPACE:NAME";
        let (kind, name) = s
            .split_once(':')
            .filter(|(_, name)| !name.is_empty())
            .ok_or_else(|| format!("subject `{s}` names no kind: {usage}"))?;
        match kind {
            "User" => Ok(Self::User { name: name.into() }),
            "Group" => Ok(Self::Group { name: name.into() }),
            "ServiceAccount" => match name.split_once('/') {
                Some((namespace, name))
                    if !namespace.is_empty() && !name.is_empty() && !name.contains('/') =>
                {
                    Ok(Self::ServiceAccount {
                        namespace: namespace.into(),
                        name: name.into(),
                    })
                }
                _ => Err(format!(
                    "subject `{s}`: a ServiceAccount is ServiceAccount:NAMESPACE/NAME"
                )),
            },
            _ => Err(format!("subject `{s}` has unknown kind `{kind}`: {usage}")),
        }
    }
}

impl UserInfo {
    /// The identity of a request made as `user` with `groups`, as impersonation (`--as`,
    /// `--as-group`) gives it: a user is in the given groups and `system:authenticated` (unless
    /// `system:unauthenticated` is given); `system:anonymous` is in the given groups and
    /// `system:unauthenticated`, never `system:authenticated`; a ServiceAccount
    /// (`system:serviceaccount:NS:NAME`) is also in its own groups.
    pub fn impersonate(user: &str, groups: &[String]) -> Result<Self, String> {
        if user.is_empty() {
            return Err("--as: give a user name or system:serviceaccount:NAMESPACE:NAME".into());
        }
        let subject = match service_account_of(user) {
            Some(sa) => sa.map_err(|e| format!("--as {e}"))?,
            None => SubjectRef::User { name: user.into() },
        };
        let mut info = Self::from(&subject);
        for g in groups {
            if g.is_empty() {
                return Err("--as-group: give a group name".into());
            }
            if !info.groups.contains(g) {
                info.groups.push(g.clone());
            }
        }
        // As the API server's impersonation filter: an explicit `system:unauthenticated`
        // replaces the implied `system:authenticated`.
        if user != ANONYMOUS && groups.iter().any(|g| g == UNAUTHENTICATED) {
            info.groups
                .retain(|g| g != AUTHENTICATED || groups.contains(g));
        }
        Ok(info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anonymous_is_unauthenticated_and_never_authenticated() {
        let anonymous = UserInfo::from(&SubjectRef::User {
            name: "system:anonymous".into(),
        });
        assert_eq!(anonymous.groups, ["system:unauthenticated"]);
        let unauthenticated = UserInfo::from(&SubjectRef::Group {
            name: "system:unauthenticated".into(),
        });
        assert_eq!(unauthenticated.groups, ["system:unauthenticated"]);
        let alice = UserInfo::from(&SubjectRef::User {
            name: "alice".into(),
        });
        assert_eq!(alice.groups, ["system:authenticated"]);
    }

    #[test]
    fn subjects_parse_in_every_form_and_bad_ones_say_how() {
        let sa = SubjectRef::ServiceAccount {
            namespace: "acme".into(),
            name: "ci".into(),
        };
        assert_eq!("ServiceAccount:acme/ci".parse(), Ok(sa.clone()));
        assert_eq!("system:serviceaccount:acme:ci".parse(), Ok(sa));
        assert_eq!(
            "User:alice@acme.com".parse(),
            Ok(SubjectRef::User {
                name: "alice@acme.com".into()
            })
        );
        assert_eq!(
            "Group:system:masters".parse(),
            Ok(SubjectRef::Group {
                name: "system:masters".into()
            })
        );
        for (bad, says) in [
            ("alice", "names no kind"),
            ("Role:x", "unknown kind `Role`"),
            ("ServiceAccount:ci", "ServiceAccount:NAMESPACE/NAME"),
            (
                "system:serviceaccount:acme",
                "system:serviceaccount:NAMESPACE:NAME",
            ),
            ("User:", "names no kind"),
        ] {
            let err = bad.parse::<SubjectRef>().unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn impersonation_gives_service_accounts_their_groups_and_users_only_the_given_ones() {
        let sa = UserInfo::impersonate("system:serviceaccount:acme:ci", &[]).unwrap();
        assert_eq!(sa.name, "system:serviceaccount:acme:ci");
        assert!(
            sa.groups
                .contains(&"system:serviceaccounts:acme".to_string())
        );
        let user = UserInfo::impersonate("bob", &["devs".into()]).unwrap();
        assert_eq!(user.groups, ["system:authenticated", "devs"]);
        assert!(UserInfo::impersonate("", &[]).is_err());
        let anonymous = UserInfo::impersonate("system:anonymous", &[]).unwrap();
        assert_eq!(anonymous.groups, ["system:unauthenticated"]);
        let anonymous = UserInfo::impersonate("system:anonymous", &["x".into()]).unwrap();
        assert_eq!(anonymous.groups, ["system:unauthenticated", "x"]);
        let unauth = UserInfo::impersonate("eve", &["system:unauthenticated".into()]).unwrap();
        assert_eq!(unauth.groups, ["system:unauthenticated"]);
        assert!(UserInfo::impersonate("system:serviceaccount:x", &[]).is_err());
    }
}
