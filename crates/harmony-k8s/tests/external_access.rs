//! Tenant deletion with access held outside the cluster (such as VPN peers), on the fake API
//! server: revoked after the data check and before any RoleBinding goes; a refusal or a failed
//! revocation changes nothing in the cluster; a delete that stops later says what it revoked; a
//! claim made while access was still there stops it once access is gone.

mod common;

use std::sync::Mutex;
use std::time::Duration;

use common::{run, topology, writes};
use harmony_k8s::ApplyOptions;
use harmony_tenant::{
    DeleteError, DeleteOptions, ExternalAccess, Hint, Member, RevokeError, RevokeMode,
    RevokedAccess, TenantRemover, TenantRole, TenantScore,
};
use harmony_testkit::{FakeApiServer, FakeOptions, NamespaceDeletion};
use serde_json::json;

fn acme() -> TenantScore {
    TenantScore::new("acme").member(Member::user("alice", TenantRole::Admin, "alice@acme.com"))
}

fn options(delete_data: bool) -> DeleteOptions {
    DeleteOptions {
        delete_data,
        timeout: Duration::from_millis(300),
    }
}

fn peer(tenant: &str) -> RevokedAccess {
    RevokedAccess {
        kind: "VPN peer".into(),
        tenant: tenant.into(),
        member: "alice".into(),
        detail: "10.99.0.2, KEY".into(),
        location: "registry".into(),
    }
}

/// Access outside the cluster that records, at each revocation, the writes the cluster had seen.
struct Recorder<'a> {
    server: &'a FakeApiServer,
    fails: bool,
    /// Creates a PersistentVolumeClaim in this namespace as it revokes: a member's claim racing
    /// the delete.
    claims_in: Option<&'static str>,
    calls: Mutex<Vec<(String, Vec<String>)>>,
}

impl<'a> Recorder<'a> {
    fn new(server: &'a FakeApiServer, fails: bool) -> Self {
        Self {
            server,
            fails,
            claims_in: None,
            calls: Mutex::new(Vec::new()),
        }
    }

    fn calls(&self) -> Vec<(String, Vec<String>)> {
        self.calls.lock().unwrap().clone()
    }
}

impl std::fmt::Debug for Recorder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Recorder")
    }
}

#[harmony::async_trait]
impl ExternalAccess for Recorder<'_> {
    async fn revoke_tenant(&self, tenant: &str) -> Result<Vec<RevokedAccess>, RevokeError> {
        self.calls
            .lock()
            .unwrap()
            .push((tenant.into(), writes(self.server)));
        if let Some(namespace) = self.claims_in {
            self.server
                .insert(json!({ "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                    "metadata": { "name": "late", "namespace": namespace } }))
                .unwrap();
        }
        if self.fails {
            return Err(RevokeError::new(std::io::Error::other(
                "registry unreachable",
            )));
        }
        Ok(vec![peer(tenant)])
    }

    async fn revoke_removed_members(
        &self,
        _: &[TenantScore],
        _: RevokeMode,
    ) -> Result<Vec<RevokedAccess>, RevokeError> {
        unreachable!("deletion revokes whole tenants")
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn access_outside_goes_first_then_bindings_accounts_and_the_namespace() {
    let server = FakeApiServer::start(FakeOptions::default()).unwrap();
    run(&server, &[acme()], ApplyOptions::default(), 1).await;
    server.clear_requests();
    let recorder = Recorder::new(&server, false);
    let report = topology(&server, ApplyOptions::default())
        .delete_tenant("acme", options(false), Some(&recorder))
        .await
        .unwrap();
    assert_eq!(
        recorder.calls(),
        [("acme".to_string(), Vec::<String>::new())],
        "revoked once, before any write to the cluster"
    );
    assert_eq!(report.revoked_elsewhere, [peer("acme")]);
    assert_eq!(
        writes(&server),
        [
            "delete rolebindings member-alice",
            "delete serviceaccounts default",
            "delete namespaces acme"
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delete_refused_for_its_data_revokes_nothing_anywhere() {
    let server = FakeApiServer::start(FakeOptions::default()).unwrap();
    run(&server, &[acme()], ApplyOptions::default(), 1).await;
    server
        .insert(json!({ "apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": { "name": "db", "namespace": "acme" } }))
        .unwrap();
    server.clear_requests();
    let recorder = Recorder::new(&server, false);
    let error = topology(&server, ApplyOptions::default())
        .delete_tenant("acme", options(false), Some(&recorder))
        .await
        .unwrap_err();
    assert!(matches!(error, DeleteError::DataHeld { .. }), "{error}");
    assert_eq!(error.hint(), Some(Hint::DeleteData));
    assert!(recorder.calls().is_empty(), "access outside kept");
    assert!(writes(&server).is_empty(), "{:?}", writes(&server));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_revocation_stops_the_delete_before_the_cluster_is_touched() {
    let server = FakeApiServer::start(FakeOptions::default()).unwrap();
    run(&server, &[acme()], ApplyOptions::default(), 1).await;
    server.clear_requests();
    let recorder = Recorder::new(&server, true);
    let error = topology(&server, ApplyOptions::default())
        .delete_tenant("acme", options(false), Some(&recorder))
        .await
        .unwrap_err();
    assert!(matches!(error, DeleteError::Revoke(_)), "{error}");
    assert_eq!(error.to_string(), "registry unreachable");
    assert_eq!(error.hint(), None);
    assert!(writes(&server).is_empty(), "{:?}", writes(&server));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delete_stuck_on_its_namespace_says_what_it_revoked() {
    let server = FakeApiServer::start(FakeOptions {
        namespace_deletion: NamespaceDeletion::Stuck,
        ..FakeOptions::default()
    })
    .unwrap();
    run(&server, &[acme()], ApplyOptions::default(), 1).await;
    let recorder = Recorder::new(&server, false);
    let error = topology(&server, ApplyOptions::default())
        .delete_tenant("acme", options(false), Some(&recorder))
        .await
        .unwrap_err();
    assert_eq!(error.hint(), Some(Hint::LongerTimeout), "{error}");
    assert!(error.to_string().contains("still terminating"), "{error}");
    let done = error.done().expect("the revocations are reported");
    assert_eq!(done.revoked_elsewhere, [peer("acme")]);
    assert!(
        done.revoked
            .contains(&"RoleBinding acme/member-alice".to_string()),
        "{:?}",
        done.revoked
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_claim_made_while_access_was_there_stops_the_delete_once_access_is_gone() {
    let server = FakeApiServer::start(FakeOptions::default()).unwrap();
    run(&server, &[acme()], ApplyOptions::default(), 1).await;
    server.clear_requests();
    let mut recorder = Recorder::new(&server, false);
    recorder.claims_in = Some("acme");
    let error = topology(&server, ApplyOptions::default())
        .delete_tenant("acme", options(false), Some(&recorder))
        .await
        .unwrap_err();
    assert_eq!(error.hint(), Some(Hint::DeleteData), "{error}");
    assert!(
        error.to_string().contains("late"),
        "names the claim: {error}"
    );
    let done = error.done().expect("the revocations are reported");
    assert_eq!(done.revoked_elsewhere, [peer("acme")]);
    assert!(done.data_deleted.is_empty(), "{:?}", done.data_deleted);
    assert_eq!(
        writes(&server),
        [
            "delete rolebindings member-alice",
            "delete serviceaccounts default"
        ],
        "access gone, the namespace and its data kept"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn with_delete_data_a_late_claim_goes_with_the_namespace_and_is_reported() {
    let server = FakeApiServer::start(FakeOptions::default()).unwrap();
    run(&server, &[acme()], ApplyOptions::default(), 1).await;
    let mut recorder = Recorder::new(&server, false);
    recorder.claims_in = Some("acme");
    let report = topology(&server, ApplyOptions::default())
        .delete_tenant("acme", options(true), Some(&recorder))
        .await
        .unwrap();
    assert_eq!(report.data_deleted, ["acme/late"]);
    assert_eq!(report.namespaces, ["acme"]);
}
