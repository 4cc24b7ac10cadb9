//! Interning: each distinct identifier (kind and key) gets a dense `u32`.

use hashbrown::HashTable;

use crate::model::Text;
use crate::prepare::hash_of;

/// Distinct `(kind, key)` pairs, numbered in first-seen order.
#[derive(Debug, Default, Clone)]
pub(crate) struct Interner {
    keys: Vec<(u16, Text)>,
    /// Each key's hash, so that growing the table never hashes a key again.
    hashes: Vec<u64>,
    table: HashTable<u32>,
}

impl Interner {
    /// Interns a `kind, key` pair; returns its id and whether it is new.
    #[cfg(test)]
    pub(crate) fn intern(&mut self, kind: u16, key: &Text) -> (u32, bool) {
        self.intern_hashed(kind, key.clone(), hash_of(kind, key))
    }

    /// An empty interner with room for `capacity` pairs, so that filling it never rehashes.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Interner {
            keys: Vec::with_capacity(capacity),
            hashes: Vec::with_capacity(capacity),
            table: HashTable::with_capacity(capacity),
        }
    }

    /// [`Interner::intern`] with the pair's [`hash_of`] already computed; takes the key so
    /// that a new pair is stored without copying it.
    pub(crate) fn intern_hashed(&mut self, kind: u16, key: Text, hash: u64) -> (u32, bool) {
        debug_assert_eq!(hash, hash_of(kind, &key));
        let keys = &self.keys;
        if let Some(&id) = self.table.find(hash, |&id| {
            let (k, text) = &keys[id as usize];
            *k == kind && *text == key
        }) {
            return (id, false);
        }
        let id = u32::try_from(self.keys.len()).expect("fewer than 2^32 identifiers");
        self.keys.push((kind, key));
        self.hashes.push(hash);
        let hashes = &self.hashes;
        self.table.insert_unique(hash, id, |&id| hashes[id as usize]);
        (id, true)
    }

    /// Makes room for `additional` more pairs.
    pub(crate) fn reserve(&mut self, additional: usize) {
        self.keys.reserve(additional);
        self.hashes.reserve(additional);
        let hashes = &self.hashes;
        self.table.reserve(additional, |&id| hashes[id as usize]);
    }

    /// The id of a `kind, key` pair, if interned.
    pub(crate) fn get(&self, kind: u16, key: &str) -> Option<u32> {
        let keys = &self.keys;
        self.table
            .find(hash_of(kind, key), |&id| {
                let (k, text) = &keys[id as usize];
                *k == kind && text == key
            })
            .copied()
    }

    /// The kind and key of an id.
    pub(crate) fn key(&self, id: u32) -> (u16, &str) {
        let (kind, text) = &self.keys[id as usize];
        (*kind, text)
    }

    /// The [`hash_of`] of an id's pair: a data-only sort key that is cheaper than the key.
    pub(crate) fn hash(&self, id: u32) -> u64 {
        self.hashes[id as usize]
    }

    /// How many distinct pairs there are.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }
}

#[cfg(test)]
mod tests {
    use super::Interner;

    #[test]
    fn same_pair_same_id() {
        let mut interner = Interner::default();
        let (a, new_a) = interner.intern(0, &"x".into());
        let (b, new_b) = interner.intern(1, &"x".into());
        let (c, new_c) = interner.intern(0, &"x".into());
        assert_eq!((a, b, c), (0, 1, 0));
        assert_eq!((new_a, new_b, new_c), (true, true, false));
        assert_eq!(interner.get(1, "x"), Some(1));
        assert_eq!(interner.get(2, "x"), None);
        assert_eq!(interner.key(1), (1, "x"));
        assert_eq!(interner.len(), 2);
    }
}
