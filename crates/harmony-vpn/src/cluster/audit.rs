//! Keeping the registry Secret under the API server's size limit: when the registry and its audit
//! log outgrow it, the oldest audit lines move to archive Secrets (never dropped).

/// An audit log split at line boundaries.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Bounded<'a> {
    /// The newest lines, kept in the registry Secret.
    pub kept: &'a [u8],
    /// The oldest lines, oldest first, in chunks of at most the limit: one archive Secret each.
    pub archived: Vec<&'a [u8]>,
}

/// Splits `audit` (JSON lines) so that `registry_len` plus the kept lines fit in `limit` bytes.
/// Nothing moves while everything fits; otherwise the kept lines fill at most half the room left by
/// the registry, so that archiving happens seldom. `None` when the registry alone does not fit.
pub(super) fn bound(registry_len: usize, audit: &[u8], limit: usize) -> Option<Bounded<'_>> {
    let room = limit.checked_sub(registry_len)?;
    if audit.len() <= room {
        return Some(Bounded {
            kept: audit,
            archived: Vec::new(),
        });
    }
    let starts = line_starts(audit);
    let split = starts
        .iter()
        .copied()
        .find(|&start| audit.len() - start <= room / 2)
        .unwrap_or(audit.len());
    let mut archived = Vec::new();
    let mut chunk_start = 0;
    for window in starts.windows(2) {
        if window[1] > split {
            break;
        }
        if window[1] - chunk_start > limit && window[0] > chunk_start {
            archived.push(&audit[chunk_start..window[0]]);
            chunk_start = window[0];
        }
    }
    if chunk_start < split {
        archived.push(&audit[chunk_start..split]);
    }
    Some(Bounded {
        kept: &audit[split..],
        archived,
    })
}

/// The offset of every line's start, and the end of the text.
fn line_starts(text: &[u8]) -> Vec<usize> {
    let mut starts = vec![0];
    starts.extend(
        text.iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i + 1)
            .filter(|&i| i < text.len()),
    );
    starts.push(text.len());
    starts.dedup();
    starts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(n: usize) -> Vec<u8> {
        (0..n)
            .flat_map(|i| format!("line {i:04}\n").into_bytes())
            .collect()
    }

    #[test]
    fn nothing_moves_while_everything_fits() {
        let audit = lines(10);
        let bounded = bound(100, &audit, 100 + audit.len()).unwrap();
        assert_eq!(bounded.kept, &audit[..]);
        assert!(bounded.archived.is_empty());
    }

    #[test]
    fn oldest_whole_lines_move_and_nothing_is_lost() {
        let audit = lines(100); // 10 bytes a line
        let bounded = bound(200, &audit, 600).unwrap();
        assert!(bounded.kept.len() <= 200, "{}", bounded.kept.len());
        assert!(bounded.kept.starts_with(b"line ") && bounded.kept.ends_with(b"0099\n"));
        let mut joined: Vec<u8> = bounded.archived.concat();
        joined.extend_from_slice(bounded.kept);
        assert_eq!(joined, audit);
        for chunk in &bounded.archived {
            assert!(chunk.len() <= 600 && chunk.ends_with(b"\n"), "{chunk:?}");
        }
        assert_eq!(
            bounded.archived.len(),
            2,
            "800 bytes archived in chunks of at most 600"
        );
    }

    #[test]
    fn a_registry_larger_than_the_limit_does_not_fit() {
        assert_eq!(bound(601, &lines(1), 600), None);
    }
}
