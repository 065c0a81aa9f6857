//! `credentials list`: the log's issued credentials, checked against what the cluster holds.

use jiff::Timestamp;
use serde::Serialize;

use crate::{ClusterCredential, ClusterCredentialState, CredentialKind, LogAction, LogEntry};

/// Where an issued credential stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CredentialState {
    /// It works until it expires.
    Active,
    /// Past its expiry.
    Expired,
    /// Revoked (logged revocation, or its ServiceAccount was replaced or removed).
    Revoked,
    /// A certificate request waits for approval or signing.
    Pending,
    /// A certificate request was denied or failed.
    Refused,
}

/// One row of `credentials list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListedCredential {
    /// The tenant id.
    pub tenant: String,
    /// The member id.
    pub member: String,
    /// Token or certificate.
    pub kind: CredentialKind,
    /// Who it authenticates as.
    pub identity: String,
    /// Certificate serial.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// Expiry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<Timestamp>,
    /// When it was issued, from the log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued: Option<Timestamp>,
    /// Who issued it, from the log (`None`: issued outside this log).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// Where it stands.
    pub state: CredentialState,
}

/// Merges the log with the cluster, as of `now`: every logged issue with its state, then the
/// cluster's certificate requests the log does not hold (pending, refused, or issued elsewhere).
pub fn merge(
    log: &[LogEntry],
    cluster: &[ClusterCredential],
    now: Timestamp,
) -> Vec<ListedCredential> {
    let mut rows = Vec::new();
    for (i, entry) in log.iter().enumerate() {
        if entry.action != LogAction::Issue {
            continue;
        }
        let revoked_later = log[i + 1..].iter().any(|later| {
            later.action == LogAction::Revoke
                && (&later.tenant, &later.member, later.kind)
                    == (&entry.tenant, &entry.member, entry.kind)
        });
        let account_replaced = entry.kind == CredentialKind::Token
            && !cluster.iter().any(|c| {
                c.state == ClusterCredentialState::Account
                    && (&c.tenant, &c.member, &c.identity)
                        == (&entry.tenant, &entry.member, &entry.identity)
            });
        let state = if revoked_later || account_replaced {
            CredentialState::Revoked
        } else if entry.expires.is_some_and(|e| e <= now) {
            CredentialState::Expired
        } else {
            CredentialState::Active
        };
        rows.push(ListedCredential {
            tenant: entry.tenant.clone(),
            member: entry.member.clone(),
            kind: entry.kind,
            identity: entry.identity.clone(),
            serial: entry.serial.clone(),
            expires: entry.expires,
            issued: Some(entry.time),
            by: Some(entry.by.clone()),
            state,
        });
    }
    for c in cluster
        .iter()
        .filter(|c| c.kind == CredentialKind::Certificate)
    {
        let logged = c.serial.is_some() && log.iter().any(|e| e.serial == c.serial);
        if logged {
            continue;
        }
        let state = match c.state {
            ClusterCredentialState::Refused => CredentialState::Refused,
            ClusterCredentialState::Issued if c.expires.is_some_and(|e| e <= now) => {
                CredentialState::Expired
            }
            ClusterCredentialState::Issued => CredentialState::Active,
            _ => CredentialState::Pending,
        };
        rows.push(ListedCredential {
            tenant: c.tenant.clone(),
            member: c.member.clone(),
            kind: c.kind,
            identity: if c.identity.is_empty() {
                c.object.clone()
            } else {
                c.identity.clone()
            },
            serial: c.serial.clone(),
            expires: c.expires,
            issued: None,
            by: None,
            state,
        });
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn issue(member: &str, kind: CredentialKind, identity: &str, expires: &str) -> LogEntry {
        LogEntry {
            time: ts("2026-01-01T00:00:00Z"),
            by: "ops".into(),
            action: LogAction::Issue,
            tenant: "acme".into(),
            member: member.into(),
            kind,
            identity: identity.into(),
            serial: (kind == CredentialKind::Certificate).then(|| "0a".to_string()),
            request: None,
            expires: Some(ts(expires)),
        }
    }

    fn account(member: &str, identity: &str) -> ClusterCredential {
        ClusterCredential {
            tenant: "acme".into(),
            member: member.into(),
            kind: CredentialKind::Token,
            object: format!("ServiceAccount acme/{member}"),
            identity: identity.into(),
            serial: None,
            expires: None,
            state: ClusterCredentialState::Account,
        }
    }

    #[test]
    fn states_follow_log_cluster_and_clock() {
        let now = ts("2026-01-01T12:00:00Z");
        let mut revoke = issue(
            "alice",
            CredentialKind::Certificate,
            "alice",
            "2026-01-01T08:00:00Z",
        );
        revoke.action = LogAction::Revoke;
        let log = vec![
            issue(
                "ci",
                CredentialKind::Token,
                "sa uid=1",
                "2026-01-01T20:00:00Z",
            ),
            issue(
                "bot",
                CredentialKind::Token,
                "sa uid=2",
                "2026-01-01T20:00:00Z",
            ),
            issue(
                "old",
                CredentialKind::Token,
                "sa uid=3",
                "2026-01-01T08:00:00Z",
            ),
            issue(
                "alice",
                CredentialKind::Certificate,
                "alice",
                "2026-01-01T20:00:00Z",
            ),
            revoke,
        ];
        let cluster = vec![
            account("ci", "sa uid=1"),
            account("bot", "sa uid=9"),
            account("old", "sa uid=3"),
            ClusterCredential {
                tenant: "acme".into(),
                member: "bob".into(),
                kind: CredentialKind::Certificate,
                object: "CertificateSigningRequest harmony-acme-bob-1".into(),
                identity: String::new(),
                serial: None,
                expires: None,
                state: ClusterCredentialState::Pending,
            },
        ];
        let states: Vec<(String, CredentialState)> = merge(&log, &cluster, now)
            .into_iter()
            .map(|r| (r.member, r.state))
            .collect();
        assert_eq!(
            states,
            vec![
                ("ci".into(), CredentialState::Active),
                ("bot".into(), CredentialState::Revoked),
                ("old".into(), CredentialState::Expired),
                ("alice".into(), CredentialState::Revoked),
                ("bob".into(), CredentialState::Pending),
            ]
        );
    }
}
