//! Tenant API activity from audit logs: attribution to tenants and members, stages counted
//! once, `since`, malformed lines reported with file and line, gzip and rotated files, the
//! three renderings, and identity provider members named as the API server records them.

use std::io::Write;
use std::path::{Path, PathBuf};

use harmony_audit::activity::{
    ActivityReport, Analyzer, Format, LineProblem, UnknownTenant, open_log, render,
};
use harmony_tenant::{Member, OidcFacts, TenantRole, TenantScore};
use serde_json::{Value, json};

fn tenants() -> Vec<TenantScore> {
    vec![
        TenantScore::new("globex")
            .member(Member::user("hank", TenantRole::Admin, "hank@globex.com"))
            .member(Member::user("ops", TenantRole::Viewer, "ops@example.com").shared()),
        TenantScore::new("acme")
            .member(Member::user("alice", TenantRole::Admin, "alice@acme.com"))
            .member(Member::group("devs", TenantRole::Developer, "acme-devs"))
            .member(Member::service_account("ci", TenantRole::Developer))
            .member(Member::user("ops", TenantRole::Viewer, "ops@example.com").shared()),
    ]
}

/// What a request did, for [`line`].
struct Request<'a> {
    stage: &'a str,
    user: &'a str,
    groups: &'a [&'a str],
    impersonating: Option<(&'a str, &'a [&'a str])>,
    verb: &'a str,
    resource: &'a str,
    namespace: &'a str,
    code: u16,
    time: &'a str,
}

impl Default for Request<'_> {
    fn default() -> Self {
        Self {
            stage: "ResponseComplete",
            user: "alice@acme.com",
            groups: &["system:authenticated"],
            impersonating: None,
            verb: "list",
            resource: "pods",
            namespace: "acme",
            code: 200,
            time: "2026-12-03T12:00:00.000000Z",
        }
    }
}

/// One audit event line as kube-apiserver writes it (Metadata level).
fn line(r: &Request) -> String {
    let (user, impersonated) = match r.impersonating {
        Some((as_user, as_groups)) => (
            json!({"username": r.user, "groups": r.groups}),
            Some(json!({"username": as_user, "groups": as_groups})),
        ),
        None => (json!({"username": r.user, "groups": r.groups}), None),
    };
    let mut event = json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
        "auditID": "0b5b8c4e-6d0e-4a1b-9f0e-3c6a2b7d9e10", "stage": r.stage,
        "requestURI": format!("/api/v1/namespaces/{}/{}", r.namespace, r.resource),
        "verb": r.verb, "user": user, "sourceIPs": ["127.0.0.1"], "userAgent": "kubectl/v1.34.4",
        "objectRef": {"resource": r.resource, "namespace": r.namespace, "apiVersion": "v1"},
        "responseStatus": {"metadata": {}, "code": r.code},
        "requestReceivedTimestamp": r.time, "stageTimestamp": r.time,
    });
    if r.code == 403 {
        event["responseStatus"]["reason"] = "Forbidden".into();
        event["responseStatus"]["status"] = "Failure".into();
    }
    if let Some(impersonated) = impersonated {
        event["impersonatedUser"] = impersonated;
    }
    if r.namespace.is_empty() {
        event["objectRef"]
            .as_object_mut()
            .unwrap()
            .remove("namespace");
    }
    event.to_string()
}

fn write(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

/// `lines` as `audit.log` in a new temporary folder (kept while the folder is).
fn audit_log(lines: &[String]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let log = write(dir.path(), "audit.log", lines);
    (dir, log)
}

/// The default request (alice listing pods in acme) at `time`.
fn at(time: &str) -> String {
    line(&Request {
        time,
        ..Default::default()
    })
}

/// The default request logged at `stage`.
fn at_stage(stage: &str) -> String {
    line(&Request {
        stage,
        ..Default::default()
    })
}

/// The report of `tenant` over `files`, and the problems met.
fn analyze(
    tenant: Option<&str>,
    since: Option<&str>,
    files: &[PathBuf],
) -> (ActivityReport, Vec<LineProblem>) {
    analyze_tenants(&tenants(), None, tenant, since, files)
}

/// The report of `tenant` of `scores` over `files` with identity provider names `oidc`, and
/// the problems met.
fn analyze_tenants(
    scores: &[TenantScore],
    oidc: Option<&OidcFacts>,
    tenant: Option<&str>,
    since: Option<&str>,
    files: &[PathBuf],
) -> (ActivityReport, Vec<LineProblem>) {
    let since = since.map(|s| s.parse().unwrap());
    let mut analyzer = Analyzer::new(scores, oidc, tenant, since).unwrap();
    let mut problems = Vec::new();
    for file in files {
        analyzer.read(open_log(file).unwrap(), |p| problems.push(p));
    }
    (analyzer.finish(), problems)
}

fn json_of(report: &ActivityReport) -> Value {
    serde_json::from_str(&render(report, Format::Json)).unwrap()
}

#[test]
fn members_groups_and_service_accounts_are_attributed_and_cross_tenant_refusals_come_first() {
    // `r` done by alice, impersonated by the admin.
    let as_alice = |r: Request| {
        line(&Request {
            user: "kubernetes-admin",
            groups: &["system:masters"],
            impersonating: Some(("alice@acme.com", &["system:authenticated"])),
            ..r
        })
    };
    // bob, through the group, creating a ConfigMap at `time`.
    let bob_creates = |time| {
        line(&Request {
            user: "bob",
            groups: &["acme-devs", "system:authenticated"],
            verb: "create",
            resource: "configmaps",
            code: 201,
            time,
            ..Default::default()
        })
    };
    // acme's ServiceAccount `name` doing `verb` on `resource`.
    let acme_service_account = |name: &str, verb, resource| {
        line(&Request {
            user: &format!("system:serviceaccount:acme:{name}"),
            groups: &["system:serviceaccounts", "system:serviceaccounts:acme"],
            verb,
            resource,
            ..Default::default()
        })
    };
    let (_dir, log) = audit_log(&[
        // alice, impersonated by the admin: pods in acme, then a refused look at globex.
        as_alice(Request::default()),
        as_alice(Request {
            resource: "secrets",
            namespace: "globex",
            code: 403,
            time: "2026-12-03T12:00:05.000000Z",
            ..Default::default()
        }),
        // bob through the group, twice.
        bob_creates("2026-12-03T12:00:00.000000Z"),
        bob_creates("2026-12-03T12:00:01.000000Z"),
        // The ci member's ServiceAccount, and the namespace's default one (no member).
        acme_service_account("ci", "get", "deployments"),
        acme_service_account("default", "watch", "configmaps"),
        // A ServiceAccount of globex's namespace reading acme's: cross-tenant, for globex.
        line(&Request {
            user: "system:serviceaccount:globex:default",
            groups: &["system:serviceaccounts"],
            verb: "get",
            resource: "configmaps",
            code: 403,
            ..Default::default()
        }),
        // The shared ops user in globex's namespace: globex's, not a cross-tenant attempt.
        line(&Request {
            user: "ops@example.com",
            namespace: "globex",
            ..Default::default()
        }),
        // Somebody else: no tenant's.
        line(&Request {
            user: "system:kube-controller-manager",
            verb: "update",
            ..Default::default()
        }),
    ]);
    let (report, problems) = analyze(Some("acme"), None, std::slice::from_ref(&log));
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(report.counts.requests, 9);
    assert_eq!(report.counts.attributed, 6);
    let [acme] = &report.tenants[..] else {
        panic!("only acme: {report:?}")
    };
    assert_eq!((acme.requests, acme.refused, acme.cross_tenant), (6, 1, 1));
    let first = &acme.attention[0];
    assert!(first.cross_tenant && first.refused);
    assert_eq!(
        (
            first.user.as_str(),
            first.verb.as_str(),
            first.resource.as_str(),
            first.namespace.as_deref(),
            first.owner.as_deref(),
            first.code,
            first.reason.as_deref(),
        ),
        (
            "alice@acme.com",
            "list",
            "secrets",
            Some("globex"),
            Some("globex"),
            Some(403),
            Some("Forbidden")
        )
    );
    assert_eq!(first.members, ["alice"]);
    assert_eq!(acme.attention.len(), 1, "{:?}", acme.attention);

    let users: Vec<&str> = acme.actors.iter().map(|a| a.user.as_str()).collect();
    assert_eq!(
        users,
        [
            "alice@acme.com",
            "bob",
            "system:serviceaccount:acme:ci",
            "system:serviceaccount:acme:default"
        ]
    );
    let alice = &acme.actors[0];
    assert_eq!(alice.impersonated_by, ["kubernetes-admin"]);
    assert_eq!(
        (alice.requests, alice.refused, alice.cross_tenant),
        (2, 1, 1)
    );
    assert_eq!(
        (alice.first.as_str(), alice.last.as_str()),
        ("2026-12-03T12:00:00.000000Z", "2026-12-03T12:00:05.000000Z")
    );
    let bob = &acme.actors[1];
    assert_eq!(bob.members, ["devs"]);
    assert_eq!(bob.actions.len(), 1);
    assert_eq!(
        (bob.actions[0].verb.as_str(), bob.actions[0].count),
        ("create", 2)
    );
    assert_eq!(acme.actors[2].members, ["ci"]);
    assert!(acme.actors[3].members.is_empty());

    // Every tenant: globex has its ServiceAccount's cross-tenant refusal and the shared user.
    let (report, _) = analyze(None, None, &[log]);
    let names: Vec<&str> = report.tenants.iter().map(|t| t.tenant.as_str()).collect();
    assert_eq!(names, ["acme", "globex"], "name order");
    let globex = &report.tenants[1];
    assert_eq!((globex.requests, globex.cross_tenant), (2, 1));
    assert_eq!(globex.attention[0].owner.as_deref(), Some("acme"));
    assert_eq!(globex.actors[0].user, "ops@example.com");
    assert_eq!(globex.actors[0].members, ["ops"]);
    assert_eq!(report.tenants[0].requests, 6, "ops in globex is not acme's");
}

#[test]
fn a_request_counts_once_whatever_stages_are_logged() {
    let (_dir, log) = audit_log(&[
        at_stage("RequestReceived"),
        at_stage("ResponseStarted"),
        line(&Request::default()),
        line(&Request {
            stage: "Panic",
            code: 500,
            ..Default::default()
        }),
    ]);
    let (report, _) = analyze(Some("acme"), None, &[log]);
    assert_eq!(report.counts.earlier_stages, 2);
    assert_eq!(report.counts.requests, 2);
    assert_eq!(report.tenants[0].actors[0].requests, 2);
}

#[test]
fn since_drops_earlier_requests_whatever_their_offset() {
    let (_dir, log) = audit_log(&[
        at("2026-12-03T10:59:59.999999Z"),
        at("2026-12-03T11:00:00.000000Z"),
        // 11:30 UTC, written with an offset: compared as a time, not as text.
        at("2026-12-03T12:30:00+01:00"),
        at("2026-12-03T11:59:00+01:00"),
    ]);
    let (report, problems) = analyze(Some("acme"), Some("2026-12-03T11:00:00Z"), &[log]);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(report.since.as_deref(), Some("2026-12-03T11:00:00.000000Z"));
    assert_eq!(report.counts.before_since, 2);
    let alice = &report.tenants[0].actors[0];
    assert_eq!(alice.requests, 2);
    assert_eq!(alice.last, "2026-12-03T11:30:00.000000Z");
}

#[test]
fn malformed_lines_are_reported_by_file_and_line_and_the_rest_is_counted() {
    let good = line(&Request::default());
    let (_dir, log) = audit_log(&[
        good.clone(),
        "{\"kind\":\"Event\",\"stage\":\"Respon".into(),
        "garbage".into(),
        r#"{"stage":"ResponseComplete","verb":"get","user":{"username":"alice@acme.com"}}"#.into(),
        r#"{"verb":"get","user":{"username":"alice@acme.com"}}"#.into(),
        String::new(),
        good.clone(),
    ]);
    let (report, problems) = analyze(Some("acme"), None, std::slice::from_ref(&log));
    let located: Vec<(u64, &str)> = problems
        .iter()
        .map(|p| (p.line, p.message.as_str()))
        .collect();
    assert_eq!(
        located,
        [
            (
                2,
                "truncated: the line ends inside a JSON value (column 31)"
            ),
            (3, "not JSON: syntax error at column 1"),
            (4, "not an audit event: no requestReceivedTimestamp"),
            (5, "not an audit event: missing field `stage`"),
        ]
    );
    assert!(problems.iter().all(|p| p.path == log));
    assert_eq!(
        problems[0].to_string(),
        format!(
            "{}:2: truncated: the line ends inside a JSON value (column 31)",
            log.display()
        )
    );
    assert_eq!(report.counts.malformed, 4);
    assert_eq!(report.counts.lines, 6, "the blank line is not a line read");
    assert_eq!(report.tenants[0].actors[0].requests, 2);
}

#[test]
fn rotated_and_gzip_files_are_read_alike() {
    let dir = tempfile::tempdir().unwrap();
    let old = [
        at("2026-12-03T09:00:00.000000Z"),
        line(&Request {
            verb: "delete",
            time: "2026-12-03T09:30:00.000000Z",
            ..Default::default()
        }),
    ];
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder
        .write_all((old.join("\n") + "\n").as_bytes())
        .unwrap();
    // kube-apiserver's rotation names (lumberjack), compressed with --audit-log-compress.
    let rotated = dir.path().join("audit-2026-12-03T10-00-00.000.log.gz");
    std::fs::write(&rotated, encoder.finish().unwrap()).unwrap();
    let current = write(dir.path(), "audit.log", &[line(&Request::default())]);
    let (report, problems) = analyze(Some("acme"), None, &[rotated.clone(), current.clone()]);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(
        report.files,
        [rotated.display().to_string(), current.display().to_string()]
    );
    let alice = &report.tenants[0].actors[0];
    assert_eq!(alice.requests, 3);
    assert_eq!(alice.first, "2026-12-03T09:00:00.000000Z");
    assert_eq!(alice.last, "2026-12-03T12:00:00.000000Z");
    assert_eq!(alice.actions[0].verb, "list");
    assert_eq!(alice.actions[0].count, 2);
}

#[test]
fn a_tenant_not_in_the_files_is_refused_naming_it() {
    let error = Analyzer::new(&tenants(), None, Some("initech"), None)
        .err()
        .unwrap();
    assert_eq!(
        error,
        UnknownTenant {
            name: "initech".into(),
            known: "acme, globex".into()
        }
    );
    assert_eq!(
        error.to_string(),
        "tenant `initech` is not in the tenant files (they hold: acme, globex)"
    );
}

#[test]
fn text_json_and_csv_put_what_needs_attention_first() {
    let (_dir, log) = audit_log(&[
        line(&Request {
            verb: "create",
            resource: "configmaps",
            code: 201,
            ..Default::default()
        }),
        line(&Request {
            resource: "secrets",
            namespace: "globex",
            code: 403,
            ..Default::default()
        }),
        line(&Request {
            verb: "list",
            resource: "namespaces",
            namespace: "",
            code: 403,
            ..Default::default()
        }),
    ]);
    let (report, _) = analyze(Some("acme"), None, &[log]);

    let text = render(&report, Format::Text);
    let attention = text.find("  attention:").expect(&text);
    let activity = text.find("  activity:").expect(&text);
    assert!(attention < activity, "{text}");
    assert!(
        text.contains(
            "    CROSS-TENANT, REFUSED: alice@acme.com (member alice): list secrets in globex \
             (tenant globex): 403 Forbidden, 1x"
        ),
        "{text}"
    );
    assert!(
        text.contains("    REFUSED: alice@acme.com (member alice): list namespaces: 403 Forbidden"),
        "{text}"
    );
    assert!(
        text.contains("      create configmaps in acme: 1\n"),
        "{text}"
    );

    let json = json_of(&report);
    assert_eq!(json["tenants"][0]["attention"][0]["crossTenant"], true);
    assert_eq!(json["tenants"][0]["attention"][1]["resource"], "namespaces");
    assert_eq!(json["tenants"][0]["actors"][0]["user"], "alice@acme.com");

    let csv = render(&report, Format::Csv);
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(
        rows[0],
        "tenant,kind,user,members,verb,resource,namespace,owner,code,reason,count,refused,first,last"
    );
    assert_eq!(
        rows[1],
        "acme,cross-tenant,alice@acme.com,alice,list,secrets,globex,globex,403,Forbidden,1,1,\
         2026-12-03T12:00:00.000000Z,2026-12-03T12:00:00.000000Z"
    );
    assert!(rows[2].starts_with("acme,refused,alice@acme.com,alice,list,namespaces,,,403"));
    assert!(rows[3..].iter().all(|r| r.starts_with("acme,action,")));
    assert_eq!(rows.len(), 6);
}

#[test]
fn a_user_who_is_two_members_counts_once_under_both() {
    let (_dir, log) = audit_log(&[line(&Request {
        groups: &["acme-devs", "system:authenticated"],
        ..Default::default()
    })]);
    let (report, _) = analyze(None, None, &[log]);
    let acme = &report.tenants[0];
    assert_eq!(acme.requests, 1);
    assert_eq!(report.counts.attributed, 1);
    assert_eq!(acme.actors[0].members, ["alice", "devs"]);
}

/// acme with identity provider members: alice (a developer, through its role's group) and the
/// group `acme-sre`; globex with a user of its own.
fn oidc_tenants() -> Vec<TenantScore> {
    vec![
        TenantScore::new("acme")
            .member(Member::oidc_user("alice", TenantRole::Developer, "alice"))
            .member(Member::oidc_group("sre", TenantRole::Viewer, "acme-sre")),
        TenantScore::new("globex").member(Member::user(
            "hank",
            TenantRole::Admin,
            "hank@globex.com",
        )),
    ]
}

/// The API server's prefixes of an identity provider: `prefix` before users and groups.
fn prefixed(prefix: &str) -> OidcFacts {
    OidcFacts {
        username_prefix: prefix.into(),
        groups_prefix: prefix.into(),
    }
}

/// `user` with `groups` listing pods in acme.
fn lists_pods(user: &str, groups: &[&str]) -> String {
    line(&Request {
        user,
        groups,
        ..Default::default()
    })
}

#[test]
fn identity_provider_members_are_named_by_the_prefixed_names_the_api_server_records() {
    let (_dir, log) = audit_log(&[
        // alice as the API server authenticates her token: her user name and role group.
        lists_pods(
            "oidc:alice",
            &["oidc:tenant-acme-developers", "system:authenticated"],
        ),
        // Anyone of the group `acme-sre`: the member `sre`.
        lists_pods("oidc:sam", &["oidc:acme-sre", "system:authenticated"]),
        // In acme's role group but no member (added at the identity provider by hand): acme's.
        lists_pods(
            "oidc:carol",
            &["oidc:tenant-acme-developers", "system:authenticated"],
        ),
        // Another issuer's prefix, and the bare claims: nobody's.
        lists_pods(
            "other:alice",
            &["other:tenant-acme-developers", "other:acme-sre"],
        ),
        lists_pods("alice", &["tenant-acme-developers", "acme-sre"]),
    ]);
    let (report, problems) = analyze_tenants(
        &oidc_tenants(),
        Some(&prefixed("oidc:")),
        None,
        None,
        std::slice::from_ref(&log),
    );
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(report.counts.requests, 5);
    assert_eq!(report.counts.attributed, 3);
    let acme = &report.tenants[0];
    assert_eq!(acme.requests, 3);
    let named: Vec<(&str, Vec<&str>)> = acme
        .actors
        .iter()
        .map(|a| (&*a.user, a.members.iter().map(|m| &**m).collect()))
        .collect();
    assert_eq!(
        named,
        [
            ("oidc:alice", vec!["alice"]),
            ("oidc:carol", vec![]),
            ("oidc:sam", vec!["sre"]),
        ]
    );
    assert_eq!(report.tenants[1].requests, 0);

    // On OKD the OAuth server adds no prefix: only the bare names are acme's.
    let (report, _) = analyze_tenants(&oidc_tenants(), Some(&prefixed("")), None, None, &[log]);
    let acme = &report.tenants[0];
    assert_eq!(report.counts.attributed, 1);
    assert_eq!(acme.actors.len(), 1);
    assert_eq!(acme.actors[0].user, "alice");
    assert_eq!(acme.actors[0].members, ["alice", "sre"]);
}

#[test]
fn an_identity_provider_user_impersonated_or_in_another_tenant_is_attributed_like_any_user() {
    let (_dir, log) = audit_log(&[line(&Request {
        user: "kubernetes-admin",
        groups: &["system:masters"],
        impersonating: Some(("oidc:alice", &["oidc:tenant-acme-developers"])),
        resource: "secrets",
        namespace: "globex",
        code: 403,
        ..Default::default()
    })]);
    let (report, _) = analyze_tenants(
        &oidc_tenants(),
        Some(&prefixed("oidc:")),
        Some("acme"),
        None,
        &[log],
    );
    let [acme] = &report.tenants[..] else {
        panic!("{report:?}")
    };
    let attention = &acme.attention[0];
    assert!(attention.cross_tenant && attention.refused);
    assert_eq!(attention.user, "oidc:alice");
    assert_eq!(attention.members, ["alice"]);
    assert_eq!(attention.owner.as_deref(), Some("globex"));
    assert_eq!(acme.actors[0].impersonated_by, ["kubernetes-admin"]);
}
