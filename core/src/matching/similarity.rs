//! String similarity for comparison levels, fast on the short strings that make up records:
//! no allocation (ASCII is read as bytes, other text decoded into a stack buffer of chars), bit
//! sets on the stack, and edit distances that stop as soon as the bound is passed. Results equal
//! `strsim`'s (which the tests check, and which strings over 64 characters fall back to).

/// The longest string (in characters) handled without falling back to `strsim`.
const MAX: usize = 64;

/// Runs `bytes` on both strings' bytes when both are ASCII, else `wide` on both strings'
/// characters (as code points, decoded into stack buffers); `None` when either is longer than
/// [`MAX`] characters.
fn with_units<R>(a: &str, b: &str, wide: impl Fn(&[u32], &[u32]) -> R, bytes: impl Fn(&[u8], &[u8]) -> R) -> Option<R> {
    if a.is_ascii() && b.is_ascii() {
        return (a.len() <= MAX && b.len() <= MAX).then(|| bytes(a.as_bytes(), b.as_bytes()));
    }
    let (x, x_len) = code_points(a)?;
    let (y, y_len) = code_points(b)?;
    Some(wide(&x[..x_len], &y[..y_len]))
}

/// A string's characters as code points, or `None` when there are more than [`MAX`].
fn code_points(text: &str) -> Option<([u32; MAX], usize)> {
    let mut out = [0u32; MAX];
    let mut len = 0;
    for c in text.chars() {
        *out.get_mut(len)? = u32::from(c);
        len += 1;
    }
    Some((out, len))
}

/// Jaro–Winkler similarity (prefix scale 0.1, prefix of at most 4, boost above 0.7): equal to
/// `strsim::jaro_winkler`.
pub(crate) fn jaro_winkler(a: &str, b: &str) -> f64 {
    with_units(a, b, |x, y| boosted(jaro(x, y), x, y), |x, y| boosted(jaro_ascii(x, y), x, y))
        .unwrap_or_else(|| strsim::jaro_winkler(a, b))
}

/// Jaro–Winkler from Jaro: the common prefix (up to 4) lifts similarities above 0.7.
fn boosted<T: PartialEq>(jaro: f64, x: &[T], y: &[T]) -> f64 {
    if jaro > 0.7 {
        let prefix = x.iter().take(4).zip(y).take_while(|(p, q)| p == q).count();
        jaro + 0.1 * prefix as f64 * (1.0 - jaro)
    } else {
        jaro
    }
}

/// The most the Jaro–Winkler similarity of two strings can be, from their hashed characters
/// ([`extend_hashed_chars`]) and [`char_set`]s alone (computed once per value by the caller):
/// Jaro counts matching characters, and a character of one string that the other lacks never
/// matches. First from the sets alone (each distinct character one string lacks rules out at
/// least one position); when that already falls below `lowest` (the lowest threshold the caller
/// will hold it against), that bound, else the tighter one from counting position by position.
/// Collisions in the hashed characters only raise the bounds, so a pair below the ceiling is
/// always below the similarity's threshold.
pub(crate) fn jaro_winkler_ceiling(hashed: (&[u8], &[u8]), (x_set, y_set): (u128, u128), lowest: f64) -> f64 {
    let (x, y) = hashed;
    if x.is_empty() || y.is_empty() {
        return 1.0;
    }
    let most = (x.len() - (x_set & !y_set).count_ones() as usize).min(y.len() - (y_set & !x_set).count_ones() as usize);
    let quick = boosted(jaro_bound(most, x.len(), y.len()), x, y);
    if quick < lowest {
        return quick;
    }
    bound(x, y, (x_set, y_set)).min(quick)
}

/// Whether the Jaro–Winkler similarity is at least `threshold`, as [`jaro_winkler`] would say,
/// computing it only when [`jaro_winkler_bound`] reaches the threshold.
#[cfg(test)]
pub(crate) fn jaro_winkler_at_least(
    a: &str,
    b: &str,
    hashed: (&[u8], &[u8]),
    sets: (u128, u128),
    threshold: f64,
) -> bool {
    if jaro_winkler_ceiling(hashed, sets, threshold) < threshold {
        return false;
    }
    jaro_winkler(a, b) >= threshold
}

/// The hashed characters of a text, alone (tests compare them per value).
#[cfg(test)]
pub(crate) fn hashed_chars(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    extend_hashed_chars(&mut out, text);
    out
}

/// Appends each character of a text reduced to 7 bits (`c mod 128`), the units [`char_set`]
/// is made of, to `out`: what the Jaro–Winkler ceiling reads, without decoding UTF-8 per pair.
pub(crate) fn extend_hashed_chars(out: &mut Vec<u8>, text: &str) {
    out.extend(text.chars().map(|c| (u32::from(c) & 127) as u8));
}

/// An upper bound of the Jaro–Winkler similarity from the units the strings share.
fn bound<T: Copy + PartialEq + Into<u32>>(x: &[T], y: &[T], (x_set, y_set): (u128, u128)) -> f64 {
    if x.is_empty() || y.is_empty() {
        return 1.0;
    }
    let most = shared(x, y_set).min(shared(y, x_set));
    // The boost grows with Jaro, so the bound of the boost is the boost of the bound.
    boosted(jaro_bound(most, x.len(), y.len()), x, y)
}

/// The most Jaro can be when at most `most` characters match (no transpositions).
fn jaro_bound(most: usize, x_len: usize, y_len: usize) -> f64 {
    let most = most as f64;
    ((most / x_len as f64 + most / y_len as f64 + 1.0) / 3.0).min(1.0)
}

/// The set of a string's characters, hashed to 128 bits (`c mod 128`): what the bounds here
/// prune with. Two characters may share a bit, which only loosens the bounds.
pub(crate) fn char_set(text: &str) -> u128 {
    text.chars().fold(0u128, |set, c| set | 1 << (u32::from(c) & 127))
}

/// How many units of `x` have their bit in `set` (at least as many as those `y` holds).
fn shared<T: Copy + Into<u32>>(x: &[T], set: u128) -> usize {
    x.iter().filter(|&&c| set & (1 << (c.into() & 127)) != 0).count()
}

/// Jaro similarity of two ASCII strings of at most [`MAX`] bytes, bit-parallel: each byte of
/// `y` marks its positions in a mask, so finding the first unmatched equal byte in the window
/// is a few bit operations instead of a scan. Equal to [`jaro`] (same matching order).
fn jaro_ascii(x: &[u8], y: &[u8]) -> f64 {
    if x.is_empty() && y.is_empty() {
        return 1.0;
    }
    if x.is_empty() || y.is_empty() {
        return 0.0;
    }
    let range = (x.len().max(y.len()) / 2).saturating_sub(1);
    let mut positions = [0u64; 128];
    for (j, &c) in y.iter().enumerate() {
        positions[usize::from(c & 127)] |= 1 << j;
    }
    let below = |n: usize| if n >= 64 { u64::MAX } else { (1u64 << n) - 1 };
    let (mut x_flags, mut y_flags) = (0u64, 0u64);
    let mut matches = 0usize;
    for (i, &c) in x.iter().enumerate() {
        let low = i.saturating_sub(range);
        let high = (i + range + 1).min(y.len());
        let candidates = positions[usize::from(c & 127)] & !y_flags & below(high) & !below(low);
        if candidates != 0 {
            y_flags |= candidates & candidates.wrapping_neg();
            x_flags |= 1 << i;
            matches += 1;
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let mut transpositions = 0usize;
    let (mut xs, mut ys) = (x_flags, y_flags);
    while xs != 0 {
        let (i, j) = (xs.trailing_zeros() as usize, ys.trailing_zeros() as usize);
        transpositions += usize::from(x[i] != y[j]);
        xs &= xs - 1;
        ys &= ys - 1;
    }
    let m = matches as f64;
    (m / x.len() as f64 + m / y.len() as f64 + (m - (transpositions / 2) as f64) / m) / 3.0
}

/// Jaro similarity of two strings of at most [`MAX`] units.
fn jaro<T: PartialEq>(x: &[T], y: &[T]) -> f64 {
    if x.is_empty() && y.is_empty() {
        return 1.0;
    }
    if x.is_empty() || y.is_empty() {
        return 0.0;
    }
    let range = (x.len().max(y.len()) / 2).saturating_sub(1);
    let (mut x_flags, mut y_flags) = (0u64, 0u64);
    let mut matches = 0usize;
    for (i, c) in x.iter().enumerate() {
        let low = i.saturating_sub(range);
        let high = (i + range + 1).min(y.len());
        for (j, d) in y.iter().enumerate().take(high).skip(low) {
            if y_flags & (1 << j) == 0 && d == c {
                x_flags |= 1 << i;
                y_flags |= 1 << j;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let mut transpositions = 0usize;
    let mut j = 0;
    for (i, c) in x.iter().enumerate() {
        if x_flags & (1 << i) == 0 {
            continue;
        }
        while y_flags & (1 << j) == 0 {
            j += 1;
        }
        transpositions += usize::from(*c != y[j]);
        j += 1;
    }
    let m = matches as f64;
    (m / x.len() as f64 + m / y.len() as f64 + (m - (transpositions / 2) as f64) / m) / 3.0
}

/// Whether the Levenshtein distance is at most `max`; `sets` are the strings' [`char_set`]s.
pub(crate) fn levenshtein_within(a: &str, b: &str, sets: (u128, u128), max: usize) -> bool {
    if too_many_missing(sets, max) {
        return false;
    }
    with_units(a, b, |x, y| edits_within(x, y, sets, max, false), |x, y| edits_within(x, y, sets, max, false))
        .unwrap_or_else(|| strsim::levenshtein(a, b) <= max)
}

/// Whether the optimal-string-alignment distance (Levenshtein with adjacent transpositions
/// counted once) is at most `max`; `sets` are the strings' [`char_set`]s.
pub(crate) fn transpositions_within(a: &str, b: &str, sets: (u128, u128), max: usize) -> bool {
    if too_many_missing(sets, max) {
        return false;
    }
    with_units(a, b, |x, y| edits_within(x, y, sets, max, true), |x, y| edits_within(x, y, sets, max, true))
        .unwrap_or_else(|| strsim::osa_distance(a, b) <= max)
}

/// Whether one string holds more distinct characters (by their bits) that the other lacks than
/// `max` edits can supply: each needs an edit of its own. Read from the sets alone, before either
/// string is scanned.
pub(crate) fn too_many_missing((x_set, y_set): (u128, u128), max: usize) -> bool {
    (x_set & !y_set).count_ones() as usize > max || (y_set & !x_set).count_ones() as usize > max
}

/// The bounded edit distance on units, with two cheap refusals first.
fn edits_within<T: Copy + PartialEq + Into<u32>>(
    x: &[T],
    y: &[T],
    (x_set, y_set): (u128, u128),
    max: usize,
    transpose: bool,
) -> bool {
    if x.len().abs_diff(y.len()) > max {
        return false;
    }
    // Every unit of one string that the other lacks needs an edit of its own.
    if x.len() - shared(x, y_set) > max || y.len() - shared(y, x_set) > max {
        return false;
    }
    if max <= 1 {
        return within_one(x, y, max, transpose);
    }
    // Three rows of the edit-distance table, taking turns: the one before the previous (for
    // transpositions), the previous and the current. Distances stay below 129, so bytes do.
    let mut rows = [[0u8; MAX + 1]; 3];
    for (j, cell) in rows[0].iter_mut().enumerate().take(y.len() + 1) {
        *cell = j as u8;
    }
    for i in 1..=x.len() {
        let [before, previous, current] = rows_at(&mut rows, i);
        current[0] = i as u8;
        let mut row_min = i;
        for j in 1..=y.len() {
            let cost = u8::from(x[i - 1] != y[j - 1]);
            let mut best = (previous[j] + 1).min(current[j - 1] + 1).min(previous[j - 1] + cost);
            if transpose && i > 1 && j > 1 && x[i - 1] == y[j - 2] && x[i - 2] == y[j - 1] {
                best = best.min(before[j - 2] + 1);
            }
            current[j] = best;
            row_min = row_min.min(best as usize);
        }
        if row_min > max {
            return false;
        }
    }
    (rows[x.len() % 3][y.len()] as usize) <= max
}

/// Whether the distance is at most `max` (0 or 1) without the table: equal strings; one
/// substitution (equal lengths, one position differs) or one adjacent transposition; or one
/// insertion (lengths differ by one, the rest equal around it).
fn within_one<T: PartialEq>(x: &[T], y: &[T], max: usize, transpose: bool) -> bool {
    if max == 0 {
        return x == y;
    }
    let (short, long) = if x.len() <= y.len() { (x, y) } else { (y, x) };
    match long.len() - short.len() {
        0 => {
            let Some(first) = x.iter().zip(y).position(|(p, q)| p != q) else { return true };
            if x[first + 1..] == y[first + 1..] {
                return true;
            }
            transpose
                && first + 1 < x.len()
                && x[first] == y[first + 1]
                && x[first + 1] == y[first]
                && x[first + 2..] == y[first + 2..]
        }
        1 => {
            let prefix = short.iter().zip(long).take_while(|(p, q)| p == q).count();
            short[prefix..] == long[prefix + 1..]
        }
        _ => false,
    }
}

/// The rows for table row `i`: rows `i - 2`, `i - 1` and `i`, kept modulo 3.
fn rows_at(rows: &mut [[u8; MAX + 1]; 3], i: usize) -> [&mut [u8; MAX + 1]; 3] {
    let [r0, r1, r2] = rows;
    match i % 3 {
        0 => [r1, r2, r0],
        1 => [r2, r0, r1],
        _ => [r0, r1, r2],
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn sets(a: &str, b: &str) -> (u128, u128) {
        (char_set(a), char_set(b))
    }

    fn levenshtein_within(a: &str, b: &str, max: usize) -> bool {
        super::levenshtein_within(a, b, sets(a, b), max)
    }

    fn transpositions_within(a: &str, b: &str, max: usize) -> bool {
        super::transpositions_within(a, b, sets(a, b), max)
    }

    #[test]
    fn known_values() {
        assert!((jaro_winkler("martha", "marhta") - strsim::jaro_winkler("martha", "marhta")).abs() < 1e-12);
        assert!(levenshtein_within("kitten", "sitting", 3));
        assert!(!levenshtein_within("kitten", "sitting", 2));
        assert!(transpositions_within("ab", "ba", 1));
        assert!(!levenshtein_within("ab", "ba", 1));
        assert!(jaro_winkler("", "") == 1.0 && jaro_winkler("a", "") == 0.0);
        assert!((jaro_winkler("nguyễn", "nguyen") - strsim::jaro_winkler("nguyễn", "nguyen")).abs() < 1e-12);
    }

    proptest! {
        #[test]
        fn jaro_winkler_equals_strsim(a in "[a-eễđ ]{0,12}", b in "[a-eễđ ]{0,12}") {
            prop_assert!((jaro_winkler(&a, &b) - strsim::jaro_winkler(&a, &b)).abs() < 1e-12);
        }

        #[test]
        fn bit_parallel_jaro_equals_strsim_on_long_ascii(a in "[a-h ]{0,64}", b in "[a-h ]{0,64}") {
            prop_assert!((jaro_winkler(&a, &b) - strsim::jaro_winkler(&a, &b)).abs() < 1e-12);
            prop_assert!((jaro_ascii(a.as_bytes(), b.as_bytes()) - jaro(a.as_bytes(), b.as_bytes())).abs() < 1e-15);
        }

        #[test]
        fn the_bounded_jaro_winkler_test_agrees(a in "[a-fă]{0,10}", b in "[a-fá]{0,10}", t in 0.0f64..1.0) {
            let (x, y) = (hashed_chars(&a), hashed_chars(&b));
            prop_assert_eq!(jaro_winkler_at_least(&a, &b, (&x, &y), sets(&a, &b), t), strsim::jaro_winkler(&a, &b) >= t);
        }

        #[test]
        fn bounded_distances_equal_strsim(a in "[a-dễ]{0,10}", b in "[a-dá\u{1285}]{0,10}", max in 0usize..4) {
            prop_assert_eq!(levenshtein_within(&a, &b, max), strsim::levenshtein(&a, &b) <= max);
            prop_assert_eq!(transpositions_within(&a, &b, max), strsim::osa_distance(&a, &b) <= max);
        }
    }
}
