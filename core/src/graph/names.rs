//! Counting different people's names among name variants: spelling slips, missing middle names
//! and swapped word order are one name; different people are not.

/// Whether two name keys (sorted folded words) are variants of one person's name: equal, one's
/// words contained in the other's (`an nguyen` / `an nguyen thi`), or close in spelling.
pub(crate) fn same_person_name(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let long_words: Vec<&str> = long.split(' ').collect();
    if short.split(' ').all(|w| long_words.contains(&w)) {
        return true;
    }
    strsim::jaro_winkler(a, b) >= 0.93
}

/// Name groups built one name at a time: a name joins the first group whose representative it
/// is a variant of, or starts a new group.
#[derive(Debug, Default)]
pub(crate) struct NameGroups<'a> {
    representatives: Vec<&'a str>,
}

impl<'a> NameGroups<'a> {
    /// Adds a name key.
    pub(crate) fn add(&mut self, key: &'a str) {
        if !self.representatives.iter().any(|rep| same_person_name(rep, key)) {
            self.representatives.push(key);
        }
    }

    /// How many groups there are.
    pub(crate) fn count(&self) -> usize {
        self.representatives.len()
    }

    /// Groups of the given name keys, stopping as soon as there are more than `bound`; the keys
    /// must come in a fixed order (sorted) so the count does not depend on input order.
    pub(crate) fn count_up_to(keys: impl IntoIterator<Item = &'a str>, bound: usize) -> usize {
        let mut groups = NameGroups::default();
        for key in keys {
            groups.add(key);
            if groups.count() > bound {
                break;
            }
        }
        groups.count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_are_one_name() {
        assert!(same_person_name("anh nguyen thi", "anh nguyen thi"));
        assert!(same_person_name("anh nguyen", "anh nguyen thi"));
        assert!(same_person_name("anh nguyen thi", "anh nguyen thii"));
        assert!(!same_person_name("anh nguyen thi", "binh tran van"));
        assert!(!same_person_name("an nguyen van", "binh nguyen van"));
    }

    #[test]
    fn counting_stops_past_the_bound() {
        let keys = ["a b", "c d", "e f", "g h", "a b c"];
        assert_eq!(NameGroups::count_up_to(keys, 10), 4);
        assert_eq!(NameGroups::count_up_to(keys, 2), 3);
    }
}
