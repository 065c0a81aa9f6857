//! `explain` answers for every pair: two pods alike, a pod and itself, a namespace and itself.

use harmony_audit::netpol::Effect;
use harmony_audit::{ClusterSnapshot, explain};

const SHOP: &str = include_str!("fixtures/shop.yaml");

fn shop() -> ClusterSnapshot {
    let mut s = ClusterSnapshot::default();
    s.load_text(SHOP, "shop.yaml").unwrap();
    s
}

#[test]
fn two_pods_of_one_class_are_judged_by_the_policies() {
    let e = explain(&shop(), ("shop/web-1", "shop/web-2"), Some("80"), &[]).unwrap();
    assert_eq!(e.pairs.len(), 1);
    let p = &e.pairs[0];
    assert_eq!(
        (p.src.as_str(), p.dst.as_str()),
        ("shop/web-1", "shop/web-2")
    );
    assert!(!p.allowed && !p.same_pod && !e.allowed());
    let block = p
        .evidence
        .iter()
        .find(|s| s.effect == Effect::Block)
        .unwrap();
    assert_eq!(block.direction, "ingress");
    assert_eq!(block.policies, ["NetworkPolicy shop/default-deny"]);
}

#[test]
fn a_pod_and_itself_is_always_allowed() {
    for pod in ["shop/web-1", "shop/db"] {
        let e = explain(&shop(), (pod, pod), Some("80"), &[]).unwrap();
        assert_eq!(e.pairs.len(), 1, "{pod}");
        assert!(e.pairs[0].same_pod && e.allowed(), "{pod}");
        assert!(
            e.to_string()
                .contains("a pod cannot block access to itself")
        );
    }
}

#[test]
fn a_namespace_and_itself_answers_every_class_pair_with_rule_indexes() {
    let e = explain(&shop(), ("shop", "shop"), Some("5432"), &[]).unwrap();
    let pairs: Vec<(&str, &str, bool, bool)> = e
        .pairs
        .iter()
        .map(|p| (p.src.as_str(), p.dst.as_str(), p.allowed, p.same_pod))
        .collect();
    assert!(
        pairs.contains(&("shop/web-1", "shop/web-2", false, false)),
        "{pairs:?}"
    );
    assert!(
        pairs.contains(&("shop/db", "shop/db", true, true)),
        "{pairs:?}"
    );
    assert!(
        pairs.contains(&("shop/web-1 (+1 alike)", "shop/db", true, false)),
        "{pairs:?}"
    );
    assert!(
        pairs.contains(&("shop/db", "shop/web-1 (+1 alike)", false, false)),
        "{pairs:?}"
    );
    assert!(e.allowed());
    let to_db = e
        .pairs
        .iter()
        .find(|p| p.src.starts_with("shop/web") && p.dst == "shop/db")
        .unwrap();
    let allow = to_db
        .evidence
        .iter()
        .find(|s| s.effect == Effect::Allow)
        .unwrap();
    assert_eq!(allow.policies, ["NetworkPolicy shop/web-to-db"]);
    assert_eq!(allow.rule, Some(0));
    let json = serde_json::to_value(&e).unwrap();
    assert_eq!(
        json["port"],
        serde_json::json!({"protocol": "TCP", "number": 5432})
    );
    assert_eq!(json["allowed"], true);
}
