//! Compressed rows: many small lists of `u32` in two flat vectors (no allocation per list).

/// Lists of `u32` stored back to back; list `i` is `values[offsets[i]..offsets[i + 1]]`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Csr {
    offsets: Vec<u32>,
    values: Vec<u32>,
}

impl Csr {
    /// An empty set of lists.
    pub(crate) fn new() -> Self {
        Csr { offsets: vec![0], values: Vec::new() }
    }

    /// An empty set of lists with room for `lists` lists of `values` values in all.
    pub(crate) fn with_capacity(lists: usize, values: usize) -> Self {
        let mut offsets = Vec::with_capacity(lists + 1);
        offsets.push(0);
        Csr { offsets, values: Vec::with_capacity(values) }
    }

    /// Appends one list.
    pub(crate) fn push_list(&mut self, list: impl IntoIterator<Item = u32>) {
        self.values.extend(list);
        self.offsets.push(u32::try_from(self.values.len()).expect("fewer than 2^32 list entries"));
    }

    /// The number of lists.
    pub(crate) fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// List `i`.
    pub(crate) fn get(&self, i: usize) -> &[u32] {
        &self.values[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    /// Groups `items` by `group_of(item)` into `groups` lists, keeping item order within a group.
    pub(crate) fn group(groups: usize, items: impl Iterator<Item = (u32, u32)> + Clone) -> Csr {
        let mut offsets = vec![0u32; groups + 1];
        for (group, _) in items.clone() {
            offsets[group as usize + 1] += 1;
        }
        for i in 1..offsets.len() {
            offsets[i] += offsets[i - 1];
        }
        let mut cursor = offsets.clone();
        let mut values = vec![0u32; offsets[groups] as usize];
        for (group, item) in items {
            values[cursor[group as usize] as usize] = item;
            cursor[group as usize] += 1;
        }
        Csr { offsets, values }
    }

    /// Every list, mutably, for sorting in parallel.
    pub(crate) fn lists_mut(&mut self) -> Vec<&mut [u32]> {
        let mut out = Vec::with_capacity(self.len());
        let mut rest: &mut [u32] = &mut self.values;
        for window in self.offsets.windows(2) {
            let (list, tail) = rest.split_at_mut((window[1] - window[0]) as usize);
            out.push(list);
            rest = tail;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::Csr;

    #[test]
    fn push_group_and_sort() {
        let mut csr = Csr::new();
        csr.push_list([3, 1]);
        csr.push_list([]);
        csr.push_list([7]);
        assert_eq!((csr.len(), csr.get(0), csr.get(1), csr.get(2)), (3, &[3, 1][..], &[][..], &[7][..]));
        for list in csr.lists_mut() {
            list.sort_unstable();
        }
        assert_eq!(csr.get(0), [1, 3]);
        let grouped = Csr::group(2, [(1, 10), (0, 11), (1, 12)].into_iter());
        assert_eq!((grouped.get(0), grouped.get(1)), (&[11][..], &[10, 12][..]));
    }
}
