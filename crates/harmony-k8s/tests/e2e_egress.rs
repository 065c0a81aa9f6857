//! Internet egress on a real control plane (`harmony_testkit::ControlPlane`). A NetworkPolicy is
//! stored config (no nodes run, no packet flows), so the proof is that the API server's
//! validation accepts the long except lists and an `allowPrivateEgressTo` opt-in, and that the
//! live audit reads them back: HMT-NET-007 warns on the opt-in, then fails, naming the range and
//! the policy, once a hand-written policy opens the metadata service.

mod real;

use harmony::{Maestro, OutcomeStatus, Score};
use harmony_audit::{AuditConfig, Expectation, Status, audit};
use harmony_k8s::{ApplyOptions, FactsSource, K8sTopology};
use harmony_tenant::{TenantObject, TenantScore, compile};
use harmony_testkit::ControlPlane;
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::Api;
use kube::api::PostParams;
use real::{live_snapshot, topology_with, vanilla_facts};
use serde_json::json;

/// The plane's networks, and nodes on one small private network so that other private space
/// may be opted in.
fn flags(plane: &ControlPlane) -> FactsSource {
    FactsSource {
        node_networks: vec!["192.168.10.0/24".parse().unwrap()],
        ..vanilla_facts(plane)
    }
}

/// The live audit's HMT-NET-007 for `score`'s tenant: status and evidence.
async fn net_007(plane: &ControlPlane, score: &TenantScore) -> (Status, Vec<String>) {
    let (snapshot, facts) = live_snapshot(plane, &flags(plane)).await;
    let mut config = AuditConfig::new(facts);
    config.tenant = Some(score.name().into());
    config
        .expectations
        .insert(score.name().into(), Expectation::of(score, None));
    let report = audit(&snapshot, &config);
    let check = report.tenants[0]
        .checks
        .iter()
        .find(|c| c.id == "HMT-NET-007")
        .unwrap();
    (check.status, check.evidence.clone())
}

#[tokio::test(flavor = "multi_thread")]
async fn long_except_lists_and_opt_ins_are_accepted_and_audited_live() {
    let plane = ControlPlane::shared();
    let _logs = plane.failure_guard();
    let name = ControlPlane::unique_name("egress");
    let score = TenantScore::new(&name)
        .allow_egress_to("203.0.113.0/24")
        .allow_private_egress_to("10.20.0.0/24", "corporate backup server");

    let topology = topology_with(plane, flags(plane), ApplyOptions::default()).await;
    let mut maestro = Maestro::new(topology);
    maestro.register([Box::new(score.clone()) as Box<dyn Score<K8sTopology>>]);
    let report = maestro.run_concurrently(1).await.unwrap();
    let outcome = report.results[0].result.as_ref().map(|o| o.status);
    assert_eq!(outcome.ok(), Some(OutcomeStatus::Changed), "{report:?}");

    // The API server stored the policies as compiled: every except entry strictly inside its
    // cidr passed its validation.
    let client = kube::Client::try_from(plane.config().await).unwrap();
    let policies: Api<NetworkPolicy> = Api::namespaced(client, &name);
    let facts = harmony_tenant::ClusterFacts {
        pod_networks: vec![plane.pod_network()],
        service_networks: vec![plane.service_network()],
        node_networks: vec!["192.168.10.0/24".parse().unwrap()],
        ..harmony_tenant::ClusterFacts::kubernetes()
    };
    for object in compile(&score, &facts).objects() {
        let TenantObject::NetworkPolicy(compiled) = object else {
            continue;
        };
        let policy_name = compiled.metadata.name.as_deref().unwrap();
        let stored = policies.get(policy_name).await.unwrap();
        assert_eq!(stored.spec, compiled.spec, "{policy_name}");
    }
    let internet = policies.get("allow-internet-egress").await.unwrap();
    let peers = internet.spec.unwrap().egress.unwrap()[0]
        .to
        .clone()
        .unwrap();
    let except = |i: usize| peers[i].ip_block.clone().unwrap().except.unwrap();
    assert_eq!(except(0).len(), 13, "{:?}", except(0));
    assert!(except(1).contains(&"fc00::/7".to_string()));

    let (status, evidence) = net_007(plane, &score).await;
    assert_eq!(status, Status::Warn, "{evidence:#?}");
    assert_eq!(
        evidence[0],
        format!(
            "tenant {name} opts in to non-public 10.20.0.0/24 (private (RFC 1918)): corporate \
             backup server"
        )
    );

    // Someone opens the cloud metadata service to the tenant's pods.
    let leak: NetworkPolicy = serde_json::from_value(json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "metadata-leak", "namespace": name},
        "spec": {"podSelector": {}, "policyTypes": ["Egress"],
                 "egress": [{"to": [{"ipBlock": {"cidr": "169.254.169.254/32"}},
                                    {"ipBlock": {"cidr": "fd00:ec2::254/128"}}]}]}
    }))
    .unwrap();
    policies
        .create(&PostParams::default(), &leak)
        .await
        .unwrap();
    let (status, evidence) = net_007(plane, &score).await;
    assert_eq!(status, Status::Fail, "{evidence:#?}");
    assert_eq!(evidence.len(), 2, "{evidence:#?}");
    for (range, what) in [
        ("169.254.169.254/32", "link-local"),
        ("fd00:ec2::254/128", "unique local"),
    ] {
        assert!(
            evidence
                .iter()
                .any(|e| e.contains(&format!("→ {range} ({what}"))
                    && e.contains(&format!("NetworkPolicy {name}/metadata-leak"))),
            "{range}: {evidence:#?}"
        );
    }
}
