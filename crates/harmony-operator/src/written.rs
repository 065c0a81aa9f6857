//! The Tenants as this process last wrote them, until the watch brings them back. A reconcile is
//! handed the Tenant from the watch cache, which may not hold the operator's own last write yet
//! (an owned object's event can come first); judged on that stale copy, an unchanged status
//! would be written again and its notes said again. A reconcile works on the cache's copy as it
//! is when it starts (the controller may have taken the Tenant from the cache before the watch
//! brought the write), or on the written version when that copy is one its writes replaced.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use kube::ResourceExt;
use kube::runtime::reflector::{ObjectRef, Store};

use crate::resource::Tenant;

/// How many replaced versions of one Tenant are remembered: the watch lags by a write or two.
const REPLACED: usize = 4;

/// Each Tenant's newest version written by this process, by name, beside the cache of Tenants.
pub(crate) struct Written {
    newest: Mutex<HashMap<String, Newest>>,
    cache: Store<Tenant>,
}

/// One Tenant's newest written version, and the versions its writes replaced.
struct Newest {
    stored: Arc<Tenant>,
    replaced: Vec<String>,
}

impl Written {
    /// Nothing written yet; `cache` is the Tenants as the watch brings them.
    pub(crate) fn new(cache: Store<Tenant>) -> Self {
        Self {
            newest: Mutex::default(),
            cache,
        }
    }

    /// Records that a write on `before` stored `after` (kept as the cache keeps Tenants: without
    /// who manages which field).
    pub(crate) fn wrote(&self, before: &Tenant, mut after: Tenant) {
        after.managed_fields_mut().clear();
        let name = after.name_any();
        let mut map = self.lock();
        let mut replaced = match map.remove(&name) {
            // A write on a version this process wrote or replaced continues the same line.
            Some(old) if old.covers(before) => {
                let mut replaced = old.replaced;
                replaced.extend(old.stored.resource_version());
                replaced
            }
            _ => Vec::new(),
        };
        replaced.extend(before.resource_version());
        replaced.dedup();
        let over = replaced.len().saturating_sub(REPLACED);
        replaced.drain(..over);
        map.insert(
            name,
            Newest {
                stored: Arc::new(after),
                replaced,
            },
        );
    }

    /// The newest version of `tenant` this process knows: the cache's copy now (or `tenant`
    /// when the cache no longer holds it), or the version this process wrote after that copy
    /// when it is one its writes replaced. The cache is read under the lock [`Self::observe`]
    /// takes after the cache moves on, so a write is never lost between the two.
    pub(crate) fn latest(&self, tenant: Arc<Tenant>) -> Arc<Tenant> {
        let map = self.lock();
        let cached = self.cache.get(&ObjectRef::from_obj(&*tenant));
        let tenant = cached
            .filter(|cached| cached.metadata.uid == tenant.metadata.uid)
            .unwrap_or(tenant);
        match map.get(&tenant.name_any()) {
            Some(newest) if newest.replaced(&tenant) => newest.stored.clone(),
            _ => tenant,
        }
    }

    /// Forgets the written version of `tenant` once the watch has brought it (or a later one,
    /// or another object of the name): the cache never goes back, so only writes in flight are
    /// kept.
    pub(crate) fn observe(&self, tenant: &Tenant) {
        let mut map = self.lock();
        let name = tenant.name_any();
        if map
            .get(&name)
            .is_some_and(|newest| !newest.replaced(tenant))
        {
            map.remove(&name);
        }
    }

    /// Forgets a deleted Tenant.
    pub(crate) fn forget(&self, name: &str) {
        self.lock().remove(name);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Newest>> {
        self.newest.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Newest {
    fn replaced(&self, tenant: &Tenant) -> bool {
        tenant.metadata.uid == self.stored.metadata.uid
            && tenant
                .resource_version()
                .is_some_and(|version| self.replaced.contains(&version))
    }

    fn is(&self, tenant: &Tenant) -> bool {
        tenant.metadata.uid == self.stored.metadata.uid
            && tenant.resource_version().is_some()
            && tenant.resource_version() == self.stored.resource_version()
    }

    fn covers(&self, tenant: &Tenant) -> bool {
        self.replaced(tenant) || self.is(tenant)
    }
}

#[cfg(test)]
mod tests {
    use harmony_tenant::TenantScore;
    use kube::runtime::{reflector, watcher};

    use super::*;

    fn tenant(name: &str, uid: &str, version: u32) -> Tenant {
        let mut tenant = Tenant::from_score(&TenantScore::new(name));
        tenant.metadata.uid = Some(uid.into());
        tenant.metadata.resource_version = Some(version.to_string());
        tenant
    }

    /// Nothing written, and an empty cache.
    fn empty() -> Written {
        Written::new(reflector::store().0)
    }

    /// The version `latest` gives for version `v` of Tenant acme (uid u1).
    fn latest(written: &Written, v: u32) -> String {
        let tenant = written.latest(Arc::new(tenant("acme", "u1", v)));
        tenant.resource_version().unwrap()
    }

    #[test]
    fn a_version_a_write_replaced_gives_the_written_one_and_any_other_stays() {
        let written = empty();
        written.wrote(&tenant("acme", "u1", 1), tenant("acme", "u1", 2));
        assert_eq!(latest(&written, 1), "2");
        // A version the watch brought after the write (someone else's), another object of the
        // same name, and another Tenant are taken as given.
        assert_eq!(latest(&written, 3), "3");
        for other in [tenant("acme", "u2", 1), tenant("globex", "u3", 1)] {
            let given = written.latest(Arc::new(other));
            assert_eq!(given.resource_version().as_deref(), Some("1"));
        }
    }

    #[test]
    fn writes_in_a_row_replace_every_earlier_version_and_a_fresh_line_starts_over() {
        let written = empty();
        // The finalizer on version 1 stored 2; the status on 2 stored 3; a status on a cached 1
        // (handed the newest, 3) stored 4.
        written.wrote(&tenant("acme", "u1", 1), tenant("acme", "u1", 2));
        written.wrote(&tenant("acme", "u1", 2), tenant("acme", "u1", 3));
        written.wrote(&tenant("acme", "u1", 3), tenant("acme", "u1", 4));
        for old in 1..=3 {
            assert_eq!(latest(&written, old), "4");
        }
        // A write on a version from elsewhere starts a new line: only that version is replaced.
        written.wrote(&tenant("acme", "u1", 7), tenant("acme", "u1", 8));
        assert_eq!(latest(&written, 7), "8");
        assert_eq!(latest(&written, 3), "3");
        written.forget("acme");
        assert_eq!(latest(&written, 7), "7");
    }

    #[test]
    fn only_the_last_few_replaced_versions_are_kept() {
        let written = empty();
        for v in 1..=10 {
            written.wrote(&tenant("acme", "u1", v), tenant("acme", "u1", v + 1));
        }
        let oldest_kept = 10 - REPLACED as u32 + 1;
        assert_eq!(latest(&written, 10), "11");
        assert_eq!(latest(&written, oldest_kept), "11");
        assert_eq!(
            latest(&written, oldest_kept - 1),
            (oldest_kept - 1).to_string()
        );
    }

    #[test]
    fn once_the_watch_brings_the_written_version_or_a_later_one_it_is_forgotten() {
        let written = empty();
        let mut stored = tenant("acme", "u1", 2);
        stored.managed_fields_mut().push(Default::default());
        written.wrote(&tenant("acme", "u1", 1), stored);
        let kept = written.latest(Arc::new(tenant("acme", "u1", 1)));
        assert!(kept.managed_fields().is_empty());
        // A replaced version coming late is no news.
        written.observe(&tenant("acme", "u1", 1));
        assert_eq!(latest(&written, 1), "2");
        written.observe(&tenant("globex", "u2", 5));
        written.observe(&tenant("acme", "u1", 2));
        assert!(written.lock().is_empty());
        written.wrote(&tenant("acme", "u1", 2), tenant("acme", "u1", 3));
        written.observe(&tenant("acme", "u1", 4));
        assert_eq!(latest(&written, 2), "2");
    }

    #[test]
    fn a_copy_taken_before_the_watch_brought_the_write_gives_the_cache_as_it_is_now() {
        let (cache, mut writer) = reflector::store();
        let written = Written::new(cache);
        // The controller took version 1 from the cache; meanwhile the status write stored 2, the
        // watch brought it, and the written copy was forgotten.
        written.wrote(&tenant("acme", "u1", 1), tenant("acme", "u1", 2));
        writer.apply_watcher_event(&watcher::Event::Apply(tenant("acme", "u1", 2)));
        written.observe(&tenant("acme", "u1", 2));
        assert!(written.lock().is_empty());
        assert_eq!(latest(&written, 1), "2");
        // A new object of the same name in the cache is not taken for the handed one.
        assert_eq!(
            written
                .latest(Arc::new(tenant("acme", "u0", 1)))
                .metadata
                .uid
                .as_deref(),
            Some("u0")
        );
    }
}
