//! The suppression list: identifiers of people who asked to be forgotten and not processed
//! again, kept as salted SHA-256 digests (never the values), so that a touchpoint carrying one is
//! refused instead of bringing the person back.

use rustc_hash::FxHashSet;
use sha2::{Digest, Sha256};

use crate::config::Rules;
use crate::error::{Error, Result};
use crate::model::Touchpoint;
use crate::prepare::prepare;

/// Digests of suppressed identifiers, with the salt they were made with.
#[derive(Debug, Clone)]
pub(crate) struct Suppression {
    salt: String,
    digests: FxHashSet<[u8; 32]>,
}

impl Suppression {
    /// An empty list with a new random salt.
    pub(crate) fn new() -> Suppression {
        use std::hash::{BuildHasher, Hasher};
        // Two process-random hashers: 128 bits nobody can guess, with no extra dependency.
        let word = |n: u64| {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(
                n ^ std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos() as u64),
            );
            h.finish()
        };
        Suppression::with_salt(format!("{:016x}{:016x}", word(1), word(2)), [])
    }

    /// A list read back from a store.
    pub(crate) fn with_salt(salt: String, digests: impl IntoIterator<Item = [u8; 32]>) -> Suppression {
        Suppression { salt, digests: digests.into_iter().collect() }
    }

    /// The salt (stored with the list: without it the digests match nothing).
    pub(crate) fn salt(&self) -> &str {
        &self.salt
    }

    /// The digest of an identifier: its kind's name and interning key, salted.
    fn digest(&self, kind: &str, key: &str) -> [u8; 32] {
        let mut hasher = Sha256::new();
        for part in [self.salt.as_str(), kind, key] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
        hasher.finalize().into()
    }

    /// Adds every identifier of the touchpoints (blocked values aside: they name nobody);
    /// returns the digests added.
    pub(crate) fn add(&mut self, touchpoints: &[Touchpoint], rules: &Rules) -> Vec<[u8; 32]> {
        let mut added = Vec::new();
        for tp in touchpoints {
            for id in prepare(tp, rules).ids.into_iter().filter(|id| !id.blocked) {
                let digest = self.digest(rules.kinds[id.kind as usize].kind.as_str(), &id.key);
                if self.digests.insert(digest) {
                    added.push(digest);
                }
            }
        }
        added
    }

    /// Takes digests back off the list (a forget the store refused).
    pub(crate) fn remove(&mut self, digests: &[[u8; 32]]) {
        for digest in digests {
            self.digests.remove(digest);
        }
    }

    /// Refuses a touchpoint (at 1-based `row`) that carries a suppressed identifier.
    pub(crate) fn check(&self, tp: &Touchpoint, rules: &Rules, row: usize) -> Result<()> {
        if self.digests.is_empty() {
            return Ok(());
        }
        for id in prepare(tp, rules).ids {
            let kind = rules.kinds[id.kind as usize].kind.as_str();
            if self.digests.contains(&self.digest(kind, &id.key)) {
                return Err(Error::InvalidField {
                    row,
                    column: kind.to_owned(),
                    message: "this identifier belongs to a person who asked to be forgotten (suppression list): \
                              the touchpoint is refused"
                        .into(),
                });
            }
        }
        Ok(())
    }
}
