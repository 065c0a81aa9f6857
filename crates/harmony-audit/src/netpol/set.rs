//! Sets of pod classes, sparse: a policy selects a few classes out of thousands.

/// Class indexes, sorted, without duplicates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct ClassSet(Vec<u32>);

impl ClassSet {
    /// The set of `classes` (any order, duplicates allowed).
    pub(super) fn from_unsorted(mut classes: Vec<u32>) -> Self {
        classes.sort_unstable();
        classes.dedup();
        Self(classes)
    }

    pub(super) fn contains(&self, class: usize) -> bool {
        u32::try_from(class).is_ok_and(|c| self.0.binary_search(&c).is_ok())
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().map(|&c| c as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_each_class_once_in_order() {
        let s = ClassSet::from_unsorted(vec![7, 2, 7, 4]);
        assert_eq!(s.iter().collect::<Vec<_>>(), [2, 4, 7]);
        assert!(s.contains(4) && !s.contains(3) && !s.contains(usize::MAX));
        assert!(!ClassSet::default().contains(0));
    }
}
