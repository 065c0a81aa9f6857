//! What each tenant's applies stored, object by object. A reconcile's snapshot of owned objects
//! (the watch caches) may not hold yet what the previous apply wrote last; the apply then writes
//! it again, the server answers with the version it answered before, and nothing changed. Such a
//! write is not reported (nor said in an Event) as created again.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, PoisonError};

use harmony_k8s::{Action, TenantReport};

/// Each tenant's objects with the resourceVersion the server answered for its applies' writes.
#[derive(Default)]
pub(crate) struct Stored(Mutex<HashMap<String, BTreeMap<String, String>>>);

impl Stored {
    /// Takes out of `report` the writes that changed nothing since an earlier apply of its
    /// tenant wrote the same object, then remembers what this apply stored and pruned.
    pub(crate) fn news_only(&self, report: &mut TenantReport) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let known = map.entry(report.tenant.clone()).or_default();
        report.drop_repeats(known);
        known.extend(report.versions.clone());
        for change in report.changes.iter().filter(|c| c.action == Action::Pruned) {
            known.remove(&change.object);
        }
    }

    /// Forgets a deleted tenant.
    pub(crate) fn forget(&self, tenant: &str) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(tenant);
    }
}

#[cfg(test)]
mod tests {
    use harmony_k8s::ObjectChange;

    use super::*;

    /// A report of tenant acme whose writes the server answered with `written`.
    fn report(written: &[(Action, &str, Option<&str>)]) -> TenantReport {
        let mut report = TenantReport {
            tenant: "acme".into(),
            ..TenantReport::default()
        };
        for (action, object, version) in written {
            match action {
                Action::Created => report.created += 1,
                Action::Changed => report.changed += 1,
                Action::Pruned => report.pruned += 1,
            }
            report.changes.push(ObjectChange {
                action: *action,
                object: object.to_string(),
                diff: Vec::new(),
            });
            if let Some(version) = version {
                report
                    .versions
                    .insert(object.to_string(), version.to_string());
            }
        }
        report
    }

    fn objects(report: &TenantReport) -> Vec<&str> {
        report.changes.iter().map(|c| c.object.as_str()).collect()
    }

    #[test]
    fn a_write_repeated_from_a_stale_snapshot_is_no_news_and_a_real_one_stays() {
        let stored = Stored::default();
        let alice = "RoleBinding acme/member-alice";
        let mut first = report(&[(Action::Created, alice, Some("17"))]);
        stored.news_only(&mut first);
        assert_eq!(objects(&first), [alice]);
        // The next reconcile's snapshot missed the binding: the server answers 17 again.
        let mut again = report(&[(Action::Created, alice, Some("17"))]);
        stored.news_only(&mut again);
        assert!(!again.wrote(), "{:?}", again.changes);
        // Deleted by someone and put back: a new version is news.
        let mut restored = report(&[(Action::Created, alice, Some("40"))]);
        stored.news_only(&mut restored);
        assert_eq!(objects(&restored), [alice]);
        // Pruned, then created again at an old version's number: news (nothing is remembered
        // for a pruned object), and so is everything once the tenant is forgotten.
        stored.news_only(&mut report(&[(Action::Pruned, alice, None)]));
        let mut back = report(&[(Action::Created, alice, Some("40"))]);
        stored.news_only(&mut back);
        assert_eq!(objects(&back), [alice]);
        stored.forget("acme");
        let mut fresh = report(&[(Action::Created, alice, Some("40"))]);
        stored.news_only(&mut fresh);
        assert_eq!(objects(&fresh), [alice]);
    }
}
