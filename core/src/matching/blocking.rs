//! Blocking: the candidate pairs, records that agree on every key of at least one rule. Each
//! pair is produced once (by the first rule it satisfies), blocks are visited in parallel, and
//! pairs are streamed to the caller, never stored all at once.

use rayon::prelude::*;

use super::records::Records;
use super::settings::LinkType;
use crate::error::{Error, Result};
use crate::parallel::{CHEAP, HEAVY};

/// One key of a rule: a column, or its first `prefix` characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyPart {
    pub column: String,
    pub prefix: Option<usize>,
}

impl KeyPart {
    /// Reads `column` or `column[:n]`.
    pub(crate) fn parse(text: &str) -> Result<KeyPart> {
        let text = text.trim();
        let Some((column, rest)) = text.split_once("[:") else {
            return Ok(KeyPart { column: text.to_owned(), prefix: None });
        };
        let prefix =
            rest.strip_suffix(']').and_then(|n| n.trim().parse::<usize>().ok()).filter(|n| *n > 0).ok_or_else(
                || Error::config("blocking_rules", format!("`{text}`: expected `column` or `column[:n]` with n > 0")),
            )?;
        Ok(KeyPart { column: column.trim().to_owned(), prefix: Some(prefix) })
    }
}

/// The candidate pairs of a job.
#[derive(Debug)]
pub(crate) struct Blocking {
    /// Per rule, its keys: a column's index in the records and an optional prefix length.
    parts: Vec<Vec<(usize, Option<usize>)>>,
    /// Per rule, each record's key hash (`NO_KEY` when a key column is empty): equal keys
    /// have equal hashes, so a pair's keys are compared only when their hashes agree.
    keys: Vec<Vec<u64>>,
    /// Per rule, its blocks: records sharing a key, sorted.
    blocks: Vec<Vec<Vec<u32>>>,
    /// Per rule, the blocks left out for their size: how many, and their records.
    oversize: Vec<OversizeBlocks>,
    link_type: LinkType,
}

/// Blocks of one rule left out because they hold more records than the limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct OversizeBlocks {
    /// How many blocks.
    pub blocks: usize,
    /// How many records they hold in all.
    pub records: usize,
}

/// The key hash of a record without a key under a rule.
const NO_KEY: u64 = 0;

impl Blocking {
    /// Computes every record's key hashes and groups records into blocks; blocks of more than
    /// `max_block` records are left out, and their records lose their key under that rule (so
    /// that no later rule takes their pairs for this rule's). Keys listed in `excluded` (per
    /// rule, by hash: blocks known to be oversize in a larger whole) are left out the same way.
    /// `parts` are the rules read over `records` ([`key_parts`]).
    pub(crate) fn new(
        records: &Records,
        parts: Vec<Vec<(usize, Option<usize>)>>,
        link_type: LinkType,
        max_block: Option<usize>,
        excluded: Option<&[rustc_hash::FxHashSet<u64>]>,
    ) -> Blocking {
        let mut keys: Vec<Vec<u64>> = parts
            .iter()
            .map(|rule| {
                (0..records.len()).into_par_iter().with_min_len(CHEAP).map(|r| key_hash(records, rule, r)).collect()
            })
            .collect();
        if let Some(excluded) = excluded {
            for (rule_keys, left_out) in keys.iter_mut().zip(excluded) {
                rule_keys.iter_mut().filter(|k| left_out.contains(k)).for_each(|k| *k = NO_KEY);
            }
        }
        let blocks: Vec<Vec<Vec<u32>>> = keys
            .iter()
            .zip(&parts)
            .map(|(rule_keys, rule)| {
                let mut keyed: Vec<(u64, u32)> =
                    rule_keys.iter().enumerate().filter(|(_, &k)| k != NO_KEY).map(|(r, &k)| (k, r as u32)).collect();
                keyed.par_sort_unstable();
                let mut blocks: Vec<Vec<u32>> = Vec::new();
                for run in keyed.chunk_by(|a, b| a.0 == b.0).filter(|run| run.len() > 1) {
                    let members: Vec<u32> = run.iter().map(|(_, r)| *r).collect();
                    let first = members[0];
                    if members.iter().all(|&r| same_key(records, rule, first, r)) {
                        blocks.push(members);
                    } else {
                        // Different keys with one hash: split the run by key, exactly.
                        let mut rest = members;
                        while let Some(&head) = rest.first() {
                            let (block, others): (Vec<u32>, Vec<u32>) =
                                rest.iter().partition(|&&r| same_key(records, rule, head, r));
                            if block.len() > 1 {
                                blocks.push(block);
                            }
                            rest = others;
                        }
                    }
                }
                blocks
            })
            .collect();
        let mut kept_blocks = Vec::with_capacity(blocks.len());
        let mut oversize = Vec::with_capacity(blocks.len());
        for (rule_blocks, rule_keys) in blocks.into_iter().zip(&mut keys) {
            let mut left_out = OversizeBlocks::default();
            let kept: Vec<Vec<u32>> = rule_blocks
                .into_iter()
                .filter(|block| {
                    let fits = max_block.is_none_or(|max| block.len() <= max);
                    if !fits {
                        left_out.blocks += 1;
                        left_out.records += block.len();
                        block.iter().for_each(|&r| rule_keys[r as usize] = NO_KEY);
                    }
                    fits
                })
                .collect();
            kept_blocks.push(kept);
            oversize.push(left_out);
        }
        Blocking { parts, keys, blocks: kept_blocks, oversize, link_type }
    }

    /// Per rule, the blocks left out for their size.
    pub(crate) fn oversize(&self) -> &[OversizeBlocks] {
        &self.oversize
    }

    /// Whether `a` and `b` are compared at all under the link type.
    pub(crate) fn allowed(&self, records: &Records, a: u32, b: u32) -> bool {
        super::u_estimate::allowed(records, self.link_type, a, b)
    }

    /// Whether records `a` and `b` have one key under `rule`.
    fn rule_holds(&self, records: &Records, rule: usize, a: u32, b: u32) -> bool {
        let keys = &self.keys[rule];
        keys[a as usize] != NO_KEY && keys[a as usize] == keys[b as usize] && same_key(records, &self.parts[rule], a, b)
    }

    /// Whether a rule before `rule` already produces the pair.
    fn earlier_rule_holds(&self, records: &Records, rule: usize, a: u32, b: u32) -> bool {
        (0..rule).any(|earlier| self.rule_holds(records, earlier, a, b))
    }

    /// How many candidate pairs each rule contributes (pairs of earlier rules not counted again).
    pub(crate) fn pair_counts(&self, records: &Records) -> Vec<u64> {
        (0..self.blocks.len())
            .map(|rule| self.fold_pairs(records, rule, true, || 0u64, |n, _, _| n + 1, |a, b| a + b))
            .collect()
    }

    /// Folds every candidate pair `(a, b)` (a < b) of `rule`, in parallel over blocks: `fold`
    /// adds a pair to an accumulator, `merge` joins two accumulators. With `only_new`, pairs an
    /// earlier rule produces are left out (so that over all rules each pair comes once);
    /// without, the rule's pairs come whole (what training on one rule needs).
    pub(crate) fn fold_pairs<T: Send>(
        &self,
        records: &Records,
        rule: usize,
        only_new: bool,
        init: impl Fn() -> T + Sync + Send,
        fold: impl Fn(T, u32, u32) -> T + Sync + Send,
        merge: impl Fn(T, T) -> T + Sync + Send,
    ) -> T {
        self.blocks[rule]
            .par_iter()
            .with_min_len(HEAVY)
            .fold(&init, |mut acc, block| {
                for (i, &a) in block.iter().enumerate() {
                    for &b in &block[i + 1..] {
                        if self.allowed(records, a, b) && !(only_new && self.earlier_rule_holds(records, rule, a, b)) {
                            acc = fold(acc, a, b);
                        }
                    }
                }
                acc
            })
            .reduce(&init, &merge)
    }

    /// How many rules there are.
    pub(crate) fn rules(&self) -> usize {
        self.blocks.len()
    }

    /// The first rule that produces the pair, if any.
    pub(crate) fn rule_of(&self, records: &Records, a: u32, b: u32) -> Option<usize> {
        (0..self.keys.len()).find(|&rule| self.rule_holds(records, rule, a, b))
    }
}

/// Key part `(column, prefix)` of a record: the value, or its first `prefix` characters.
fn part(records: &Records, (column, prefix): (usize, Option<usize>), record: usize) -> Option<&str> {
    let value = records.columns[column][record].as_deref()?;
    Some(match prefix {
        Some(n) => value.char_indices().nth(n).map_or(value, |(at, _)| &value[..at]),
        None => value,
    })
}

/// A record's key hash under one rule, `NO_KEY` (0) when a key part is missing.
pub(crate) fn key_hash(records: &Records, rule: &[(usize, Option<usize>)], record: usize) -> u64 {
    use std::hash::{BuildHasher, Hash, Hasher};
    let mut state = rustc_hash::FxBuildHasher.build_hasher();
    for &key in rule {
        let Some(value) = part(records, key, record) else { return NO_KEY };
        value.hash(&mut state);
    }
    state.finish().max(1)
}

/// Each rule's parts as (column index in `records`, prefix length); the records must hold the
/// rules' columns.
pub(crate) fn key_parts(records: &Records, rules: &[Vec<KeyPart>]) -> Vec<Vec<(usize, Option<usize>)>> {
    rules
        .iter()
        .map(|rule| {
            rule.iter()
                .map(|part| {
                    let index = records.index_of(&part.column).expect("blocking columns are read with the records");
                    (index, part.prefix)
                })
                .collect()
        })
        .collect()
}

/// A record's key hash under each rule (0 without a key).
pub(crate) fn block_keys(
    records: &Records,
    parts: &[Vec<(usize, Option<usize>)>],
    record: u32,
) -> smallvec::SmallVec<[u64; 8]> {
    parts.iter().map(|rule| key_hash(records, rule, record as usize)).collect()
}

/// Whether two records have equal keys under one rule (both present).
pub(crate) fn same_key(records: &Records, rule: &[(usize, Option<usize>)], a: u32, b: u32) -> bool {
    rule.iter().all(|&key| {
        let x = part(records, key, a as usize);
        x.is_some() && x == part(records, key, b as usize)
    })
}

#[cfg(test)]
mod tests {
    use polars::prelude::*;

    use super::*;

    fn records() -> Records {
        let df = df!(
            "id" => ["1", "2", "3", "4", "5"],
            "surname" => [Some("nguyen"), Some("nguyen"), Some("nguyet"), None, Some("tran")],
            "year" => [Some("1990"), Some("1991"), Some("1990"), Some("1990"), Some("1990")]
        )
        .unwrap();
        Records::from_frames(&[df], "id", &["surname", "year"]).unwrap()
    }

    fn pairs(blocking: &Blocking, records: &Records) -> Vec<(usize, u32, u32)> {
        let mut all = Vec::new();
        for rule in 0..blocking.rules() {
            let mut found = blocking.fold_pairs(
                records,
                rule,
                true,
                Vec::new,
                |mut v, a, b| {
                    v.push((rule, a, b));
                    v
                },
                |mut a, b| {
                    a.extend(b);
                    a
                },
            );
            found.sort_unstable();
            all.extend(found);
        }
        all
    }

    #[test]
    fn oversize_blocks_are_left_out_and_their_pairs_go_to_later_rules() {
        let r = records();
        let rules = vec![vec![KeyPart::parse("year").unwrap()], vec![KeyPart::parse("surname[:5]").unwrap()]];
        // The 1990 block holds four records (0, 2, 3, 4): over a limit of three.
        let b = Blocking::new(&r, key_parts(&r, &rules), LinkType::DedupeOnly, Some(3), None);
        assert_eq!(b.oversize(), [OversizeBlocks { blocks: 1, records: 4 }, OversizeBlocks::default()]);
        // Rule 1 now produces 0–2 (both 1990 and "nguye"): rule 0 no longer claims it.
        assert_eq!(pairs(&b, &r), [(1, 0, 1), (1, 0, 2), (1, 1, 2)]);
        assert_eq!(b.rule_of(&r, 0, 2), Some(1));
        assert_eq!(b.rule_of(&r, 3, 4), None);
        let all = Blocking::new(&r, key_parts(&r, &rules), LinkType::DedupeOnly, Some(4), None);
        assert_eq!(all.oversize(), [OversizeBlocks::default(); 2], "a block at the limit is kept");
    }

    #[test]
    fn keys_parse() {
        assert_eq!(KeyPart::parse("surname").unwrap(), KeyPart { column: "surname".into(), prefix: None });
        assert_eq!(KeyPart::parse("surname[:3]").unwrap(), KeyPart { column: "surname".into(), prefix: Some(3) });
        assert!(KeyPart::parse("surname[:0]").is_err());
        assert!(KeyPart::parse("surname[:x]").is_err());
    }

    #[test]
    fn every_pair_once_by_its_first_rule() {
        let r = records();
        let rules = vec![vec![KeyPart::parse("surname[:5]").unwrap()], vec![KeyPart::parse("year").unwrap()]];
        let b = Blocking::new(&r, key_parts(&r, &rules), LinkType::DedupeOnly, None, None);
        let found = pairs(&b, &r);
        // Rule 0: nguyen/nguyen/nguyet share "nguye". Rule 1: the 1990s not already paired.
        assert_eq!(found, [(0, 0, 1), (0, 0, 2), (0, 1, 2), (1, 0, 3), (1, 0, 4), (1, 2, 3), (1, 2, 4), (1, 3, 4)]);
        assert_eq!(b.pair_counts(&r), [3, 5]);
        assert_eq!(b.rule_of(&r, 0, 2), Some(0));
        assert_eq!(b.rule_of(&r, 1, 3), None);
    }

    #[test]
    fn link_only_pairs_cross_tables() {
        let a = df!("id" => ["a1", "a2"], "surname" => ["le", "le"]).unwrap();
        let b = df!("id" => ["b1"], "surname" => ["le"]).unwrap();
        let r = Records::from_frames(&[a, b], "id", &["surname"]).unwrap();
        let rules = vec![vec![KeyPart::parse("surname").unwrap()]];
        let b = Blocking::new(&r, key_parts(&r, &rules), LinkType::LinkOnly, None, None);
        assert_eq!(pairs(&b, &r), [(0, 0, 2), (0, 1, 2)]);
    }
}
