//! Merge protection decided per identifier and per cluster: shared identifiers and quarantine.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::NameGroups;

/// Why an identifier was found shared by different people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedFinding {
    /// What its touchpoints disagree on: `full_name` or an identifier kind.
    pub disagree_on: String,
    /// How many different values they carry (counting stops soon after the bound).
    pub distinct: usize,
    /// The configured bound that was exceeded.
    pub bound: usize,
    /// How many touchpoints carry the identifier.
    pub touchpoints: usize,
}

impl fmt::Display for SharedFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what =
            if self.disagree_on == "full_name" { "names".to_owned() } else { format!("{} values", self.disagree_on) };
        write!(f, "shared: its {} touchpoints carry more than {} different {what}", self.touchpoints, self.bound)
    }
}

/// Counts distinct values per slot among `(slot, value)` pairs and returns the first slot (in
/// slot order) holding more than `bound_of(slot)`, with its count.
pub(crate) fn first_overfull_slot(mut pairs: Vec<(u32, u32)>, bound_of: impl Fn(u32) -> usize) -> Option<(u32, usize)> {
    pairs.sort_unstable();
    pairs.dedup();
    let mut start = 0;
    while start < pairs.len() {
        let slot = pairs[start].0;
        let count = pairs[start..].iter().take_while(|(s, _)| *s == slot).count();
        if count > bound_of(slot) {
            return Some((slot, count));
        }
        start += count;
    }
    None
}

/// Distinct name groups among name keys, counted in sorted order up to just past `bound`.
pub(crate) fn name_groups(mut keys: Vec<&str>, bound: usize) -> usize {
    keys.sort_unstable();
    keys.dedup();
    if keys.len() <= bound {
        return keys.len();
    }
    NameGroups::count_up_to(keys, bound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overfull_slots() {
        let pairs = vec![(0, 1), (0, 1), (1, 5), (1, 6), (0, 2)];
        assert_eq!(first_overfull_slot(pairs.clone(), |_| 2), None);
        assert_eq!(first_overfull_slot(pairs.clone(), |_| 1), Some((0, 2)));
        assert_eq!(first_overfull_slot(pairs, |s| if s == 0 { 2 } else { 1 }), Some((1, 2)));
    }

    #[test]
    fn name_group_counts() {
        assert_eq!(name_groups(vec!["an nguyen", "an nguyen", "an nguyen thi"], 1), 1);
        assert_eq!(name_groups(vec!["an nguyen", "binh tran", "cuong le"], 1), 2);
    }

    #[test]
    fn findings_read_well() {
        let finding = SharedFinding { disagree_on: "full_name".into(), distinct: 40, bound: 2, touchpoints: 57 };
        assert_eq!(finding.to_string(), "shared: its 57 touchpoints carry more than 2 different names");
    }
}
