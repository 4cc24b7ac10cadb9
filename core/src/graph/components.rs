//! Connected components without limits, built by many threads at once: a lock-free union-find
//! whose sets are linked by index (a root always points to a smaller index), so that the
//! components found do not depend on which thread joined what first.

use std::sync::atomic::{AtomicU32, Ordering};

/// Disjoint sets over `0..n` that any number of threads may join concurrently.
#[derive(Debug)]
pub(crate) struct Components {
    parent: Vec<AtomicU32>,
}

impl Components {
    /// One singleton set per element of `0..n`.
    pub(crate) fn new(n: usize) -> Self {
        Components { parent: (0..n as u32).map(AtomicU32::new).collect() }
    }

    /// The representative of `x`'s set at this moment (its smallest-index root), halving the
    /// path on the way.
    pub(crate) fn find(&self, mut x: u32) -> u32 {
        loop {
            let parent = self.parent[x as usize].load(Ordering::Acquire);
            if parent == x {
                return x;
            }
            let grandparent = self.parent[parent as usize].load(Ordering::Acquire);
            if grandparent != parent {
                // Another thread may have moved x on meanwhile; either way the path stays valid.
                let _ = self.parent[x as usize].compare_exchange_weak(
                    parent,
                    grandparent,
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                );
            }
            x = parent;
        }
    }

    /// Joins the sets of `a` and `b`; returns whether they were apart.
    pub(crate) fn union(&self, mut a: u32, mut b: u32) -> bool {
        loop {
            a = self.find(a);
            b = self.find(b);
            if a == b {
                return false;
            }
            // The larger root goes under the smaller one; a failed exchange means the larger
            // root was joined elsewhere meanwhile: start over from the new roots.
            let (high, low) = if a > b { (a, b) } else { (b, a) };
            if self.parent[high as usize].compare_exchange(high, low, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                return true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use rayon::prelude::*;

    use super::Components;

    #[test]
    fn joins_transitively_and_roots_are_smallest() {
        let c = Components::new(6);
        assert!(c.union(4, 5));
        assert!(c.union(2, 4));
        assert!(!c.union(5, 2));
        assert_eq!((c.find(5), c.find(4), c.find(2)), (2, 2, 2));
        assert_eq!((c.find(0), c.find(1), c.find(3)), (0, 1, 3));
    }

    #[test]
    fn concurrent_unions_give_the_components_of_the_edges() {
        let n = 10_000u32;
        // Edges join i and i + 7 when i is even: components by hand below.
        let edges: Vec<(u32, u32)> = (0..n - 7).filter(|i| i % 2 == 0).map(|i| (i + 7, i)).collect();
        let c = Components::new(n as usize);
        edges.par_iter().for_each(|&(a, b)| {
            c.union(a, b);
        });
        let mut sequential: Vec<u32> = (0..n).collect();
        fn root(p: &mut [u32], mut x: u32) -> u32 {
            while p[x as usize] != x {
                x = p[x as usize];
            }
            x
        }
        for &(a, b) in &edges {
            let (ra, rb) = (root(&mut sequential, a), root(&mut sequential, b));
            if ra != rb {
                sequential[ra.max(rb) as usize] = ra.min(rb);
            }
        }
        for x in 0..n {
            assert_eq!(c.find(x), root(&mut sequential, x), "element {x}");
        }
    }
}
