//! Kleene three-valued logic, for verdicts over partially assigned variables.

/// Kleene three-valued truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tri {
    F,
    U,
    T,
}

impl Tri {
    pub(super) fn of(b: bool) -> Self {
        if b { Self::T } else { Self::F }
    }
    pub(super) fn and(self, o: impl FnOnce() -> Self) -> Self {
        match self {
            Self::F => Self::F,
            Self::T => o(),
            Self::U => match o() {
                Self::F => Self::F,
                _ => Self::U,
            },
        }
    }
    pub(super) fn or(self, o: impl FnOnce() -> Self) -> Self {
        match self {
            Self::T => Self::T,
            Self::F => o(),
            Self::U => match o() {
                Self::T => Self::T,
                _ => Self::U,
            },
        }
    }
    pub(super) fn not(self) -> Self {
        match self {
            Self::F => Self::T,
            Self::T => Self::F,
            Self::U => Self::U,
        }
    }
    /// `if self { a } else { b }`.
    pub(super) fn ite(self, a: impl FnOnce() -> Self, b: impl FnOnce() -> Self) -> Self {
        match self {
            Self::T => a(),
            Self::F => b(),
            Self::U => {
                let (x, y) = (a(), b());
                if x == y { x } else { Self::U }
            }
        }
    }
}

/// Kleene disjunction over `items`, stopping at the first true one.
pub(super) fn any<I: IntoIterator>(items: I, f: impl Fn(I::Item) -> Tri) -> Tri {
    let mut out = Tri::F;
    for x in items {
        out = out.or(|| f(x));
        if out == Tri::T {
            break;
        }
    }
    out
}
