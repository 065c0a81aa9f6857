//! What the operator remembers of each Tenant's validation, so a reconcile does not redo it: the
//! score of each generation, and whether the Tenant was free of conflicts with the older ones.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use harmony_tenant::{ClusterFacts, TenantScore};
use kube::ResourceExt;

use crate::resource::Tenant;

/// Each Tenant's score as last validated, by name: reconciling one Tenant checks it against every
/// older one, which would otherwise re-validate every Tenant on every reconcile.
#[derive(Default)]
pub(crate) struct Validated(Mutex<HashMap<String, Checked>>, Mutex<()>);

/// One Tenant's validation: of which object and generation, its score when valid, and the
/// [`digest`] of the older Tenants it was last found free of conflicts with.
struct Checked {
    uid: Option<String>,
    generation: Option<i64>,
    score: Option<Arc<TenantScore>>,
    clean_against: Option<u64>,
}

impl Checked {
    fn of(&self, tenant: &Tenant) -> bool {
        self.uid == tenant.metadata.uid && self.generation == tenant.metadata.generation
    }
}

impl Validated {
    /// The score of `tenant` if it is valid on its own, validated only when its generation is new.
    pub(crate) fn score(&self, tenant: &Tenant, facts: &ClusterFacts) -> Option<Arc<TenantScore>> {
        let mut checked = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(c) = checked.get(tenant.name()).filter(|c| c.of(tenant)) {
            return c.score.clone();
        }
        let score = tenant.score();
        let score = score.validate(facts).is_empty().then(|| Arc::new(score));
        checked.insert(
            tenant.name_any(),
            Checked {
                uid: tenant.metadata.uid.clone(),
                generation: tenant.metadata.generation,
                score: score.clone(),
                clean_against: None,
            },
        );
        score
    }

    /// Whether `tenant`, at its generation, was found free of conflicts with the older Tenants
    /// of `digest`.
    pub(crate) fn clean(&self, tenant: &Tenant, digest: u64) -> bool {
        let checked = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        checked
            .get(tenant.name())
            .is_some_and(|c| c.of(tenant) && c.clean_against == Some(digest))
    }

    /// Records that `tenant`, at its generation, is free of conflicts with the Tenants of
    /// `digest` (once [`Validated::score`] has seen that generation).
    pub(crate) fn mark_clean(&self, tenant: &Tenant, digest: u64) {
        let mut checked = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(c) = checked.get_mut(tenant.name()).filter(|c| c.of(tenant)) {
            c.clean_against = Some(digest);
        }
    }

    /// Whether `tenant`, at its generation, was found free of conflicts (against any Tenants).
    pub(crate) fn accepted(&self, tenant: &Tenant) -> bool {
        let checked = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        checked
            .get(tenant.name())
            .is_some_and(|c| c.of(tenant) && c.clean_against.is_some())
    }

    /// Held while one Tenant is checked against the others and marked clean, so each check sees
    /// the Tenants the checks before it accepted.
    pub(crate) fn one_at_a_time(&self) -> MutexGuard<'_, ()> {
        self.1.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Forgets a deleted Tenant.
    pub(crate) fn forget(&self, name: &str) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(name);
    }
}

/// Which Tenants, at which generations, these are (in any order).
pub(crate) fn digest<'a>(tenants: impl Iterator<Item = &'a Arc<Tenant>>) -> u64 {
    let (count, sum) = tenants.fold((0u64, 0u64), |(count, sum), tenant| {
        let mut hasher = DefaultHasher::new();
        (&tenant.metadata.uid, tenant.metadata.generation).hash(&mut hasher);
        (count + 1, sum.wrapping_add(hasher.finish()))
    });
    sum.wrapping_add(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(name: &str, uid: &str, generation: i64) -> Arc<Tenant> {
        let mut tenant = Tenant::from_score(&TenantScore::new(name));
        tenant.metadata.uid = Some(uid.into());
        tenant.metadata.generation = Some(generation);
        Arc::new(tenant)
    }

    #[test]
    fn the_digest_names_the_tenants_and_their_generations_in_any_order() {
        let (a, b) = (tenant("a", "u1", 1), tenant("b", "u2", 1));
        let of = |tenants: &[Arc<Tenant>]| digest(tenants.iter());
        let both = of(&[a.clone(), b.clone()]);
        assert_eq!(both, of(&[b.clone(), a.clone()]));
        assert_ne!(both, of(std::slice::from_ref(&a)));
        assert_ne!(both, of(&[a.clone(), tenant("b", "u2", 2)]));
        assert_ne!(both, of(&[a, tenant("b", "u3", 1)]));
    }

    #[test]
    fn a_clean_check_holds_for_its_generation_and_older_tenants_only() {
        let valid = Validated::default();
        let facts = ClusterFacts::kubernetes();
        let acme = tenant("acme", "u1", 1);
        // Not yet validated: nothing is remembered.
        valid.mark_clean(&acme, 7);
        assert!(!valid.clean(&acme, 7));
        assert!(valid.score(&acme, &facts).is_some());
        assert!(!valid.accepted(&acme));
        valid.mark_clean(&acme, 7);
        assert!(valid.clean(&acme, 7));
        assert!(valid.accepted(&acme));
        assert!(!valid.clean(&acme, 8), "other older Tenants");
        let edited = tenant("acme", "u1", 2);
        assert!(!valid.clean(&edited, 7), "a new generation");
        assert!(!valid.accepted(&edited));
        valid.score(&edited, &facts);
        assert!(
            !valid.clean(&edited, 7),
            "a new generation is checked again"
        );
        let recreated = tenant("acme", "u9", 2);
        assert!(
            !valid.clean(&recreated, 7),
            "another object of the same name"
        );
        valid.forget("acme");
        assert!(!valid.clean(&edited, 7));
    }
}
