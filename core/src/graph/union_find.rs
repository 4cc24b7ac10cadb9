//! Union-find over touchpoints, carrying each component's values of limited identifier kinds so
//! that a union that would break a per-profile limit can be refused.

use smallvec::SmallVec;

/// The values of limited kinds a component holds: `(slot, identifier)` pairs, sorted.
pub(crate) type Limited = SmallVec<[(u32, u32); 2]>;

/// A conflict that refuses a union: in `slot`, the component already has `existing` and the
/// other side brings `incoming`, and the slot's limit is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Conflict {
    pub slot: u32,
    pub existing: u32,
    pub incoming: u32,
}

/// Disjoint sets with union by size and path halving.
#[derive(Debug)]
pub(crate) struct UnionFind {
    /// Per element: its parent and, for a root, its set's size and limited values (side by
    /// side: one cache line).
    nodes: Vec<Node>,
    /// The limited values of the sets that hold any (most hold none), indexed by `Node::limited`.
    lists: Vec<Limited>,
}

#[derive(Debug, Clone, Copy)]
struct Node {
    parent: u32,
    size: u32,
    /// Index in `lists`, or `NONE`.
    limited: u32,
}

/// Marks a set without limited values.
const NONE: u32 = u32::MAX;

impl UnionFind {
    /// One singleton set per element of `0..n`; `limited` lists the elements that hold
    /// limited values, with their values (sorted).
    pub(crate) fn new(n: usize, limited: Vec<(u32, Limited)>) -> Self {
        let mut nodes: Vec<Node> = (0..n as u32).map(|parent| Node { parent, size: 1, limited: NONE }).collect();
        let mut lists = Vec::with_capacity(limited.len());
        for (element, values) in limited {
            nodes[element as usize].limited = lists.len() as u32;
            lists.push(values);
        }
        UnionFind { nodes, lists }
    }

    /// The representative of `x`'s set.
    pub(crate) fn find(&mut self, mut x: u32) -> u32 {
        loop {
            let parent = self.nodes[x as usize].parent;
            if parent == x {
                return x;
            }
            let grandparent = self.nodes[parent as usize].parent;
            self.nodes[x as usize].parent = grandparent;
            x = grandparent;
        }
    }

    /// Joins the sets of roots `a` and `b` unless that breaks a limit (`limit_of(slot)`);
    /// returns the conflict when refused.
    pub(crate) fn union_roots(&mut self, a: u32, b: u32, limit_of: impl Fn(u32) -> u32) -> Result<u32, Conflict> {
        debug_assert!(a != b && self.nodes[a as usize].parent == a && self.nodes[b as usize].parent == b);
        // Most sets hold no limited value, or only one side does: no merge needed then.
        let (list_a, list_b) = (self.nodes[a as usize].limited, self.nodes[b as usize].limited);
        let list = match (list_a, list_b) {
            (NONE, list) | (list, NONE) => list,
            _ => {
                let merged = merge_limited(&self.lists[list_a as usize], &self.lists[list_b as usize], limit_of)?;
                self.lists[list_a as usize] = merged;
                self.lists[list_b as usize] = Limited::new();
                list_a
            }
        };
        let (big, small) = if self.nodes[a as usize].size >= self.nodes[b as usize].size { (a, b) } else { (b, a) };
        self.nodes[small as usize].parent = big;
        self.nodes[small as usize].limited = NONE;
        self.nodes[big as usize].size += self.nodes[small as usize].size;
        self.nodes[big as usize].limited = list;
        Ok(big)
    }
}

/// The union of two sorted value lists, or the first slot where it holds more values than its
/// limit.
fn merge_limited(a: &Limited, b: &Limited, limit_of: impl Fn(u32) -> u32) -> Result<Limited, Conflict> {
    let mut merged: Limited = Limited::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let next = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x == y => {
                i += 1;
                j += 1;
                *x
            }
            (Some(x), Some(y)) if x < y => {
                i += 1;
                *x
            }
            (Some(_), Some(y)) | (None, Some(y)) => {
                j += 1;
                *y
            }
            (Some(x), None) => {
                i += 1;
                *x
            }
            (None, None) => unreachable!("the loop runs while one side has values"),
        };
        merged.push(next);
    }
    let mut start = 0;
    while start < merged.len() {
        let slot = merged[start].0;
        let end = start + merged[start..].iter().take_while(|(s, _)| *s == slot).count();
        if end - start > limit_of(slot) as usize {
            let in_a = |v: &(u32, u32)| a.contains(v);
            let existing = merged[start..end].iter().find(|v| in_a(v)).map_or(merged[start].1, |v| v.1);
            let incoming = merged[start..end].iter().find(|v| !in_a(v)).map_or(merged[end - 1].1, |v| v.1);
            return Err(Conflict { slot, existing, incoming });
        }
        start = end;
    }
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use smallvec::smallvec;

    #[test]
    fn unions_within_limits() {
        let mut uf = UnionFind::new(4, vec![(0, smallvec![(0, 10)]), (1, smallvec![(0, 10)]), (2, smallvec![(0, 11)])]);
        let root = uf.union_roots(0, 1, |_| 1).unwrap();
        assert_eq!(uf.find(0), uf.find(1));
        let conflict = uf.union_roots(root, 2, |_| 1).unwrap_err();
        assert_eq!(conflict, Conflict { slot: 0, existing: 10, incoming: 11 });
        assert_ne!(uf.find(0), uf.find(2));
        let root = uf.union_roots(root, 3, |_| 1).unwrap();
        assert_eq!(uf.find(3), root);
    }

    #[test]
    fn higher_limits_allow_more_values() {
        let mut uf = UnionFind::new(3, vec![(0, smallvec![(0, 10)]), (1, smallvec![(0, 11)]), (2, smallvec![(0, 12)])]);
        let root = uf.union_roots(0, 1, |_| 2).unwrap();
        assert!(uf.union_roots(root, 2, |_| 2).is_err());
    }

    #[test]
    fn different_slots_do_not_conflict() {
        let mut uf = UnionFind::new(2, vec![(0, smallvec![(0, 10)]), (1, smallvec![(1, 11)])]);
        assert!(uf.union_roots(0, 1, |_| 1).is_ok());
    }
}
