//! Person names: a display form and a folded matching form.

use super::fold;
use unicode_normalization::UnicodeNormalization;

/// A person name in its display and matching forms.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NormalizedName {
    /// Unicode NFC, single spaces, each word capitalized: `Nguyễn Thị Ánh`.
    pub display: String,
    /// Folded: diacritics removed, lowercase: `nguyen thi anh`.
    pub folded: String,
    /// The folded words sorted, so that swapped name orders compare equal: `anh nguyen thi`.
    pub key: String,
}

/// Normalizes a person name; `None` when nothing name-like is left (empty, only punctuation).
///
/// ```
/// let n = omnitwin::normalize::normalize_name("  nguyễn   THỊ ánh ").unwrap();
/// assert_eq!(n.display, "Nguyễn Thị Ánh");
/// assert_eq!(n.folded, "nguyen thi anh");
/// assert_eq!(n.key, omnitwin::normalize::normalize_name("Anh Nguyen Thi").unwrap().key);
/// ```
pub fn normalize_name(raw: &str) -> Option<NormalizedName> {
    let folded = fold(raw);
    if folded.is_empty() {
        return None;
    }
    let display = display_form(raw);
    let key = key_of(&folded).into();
    Some(NormalizedName { display, folded, key })
}

/// The matching key of a name alone (folded words, sorted): what linking needs, without the
/// display form.
pub(crate) fn name_key(raw: &str) -> Option<compact_str::CompactString> {
    let folded = fold(raw);
    (!folded.is_empty()).then(|| key_of(&folded))
}

fn key_of(folded: &str) -> compact_str::CompactString {
    let mut words: smallvec::SmallVec<[&str; 6]> = folded.split(' ').collect();
    words.sort_unstable();
    let mut key = compact_str::CompactString::with_capacity(folded.len());
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            key.push(' ');
        }
        key.push_str(word);
    }
    key
}

/// NFC, white space collapsed, first letter of each word upper case and the rest lower case.
fn display_form(raw: &str) -> String {
    let nfc: String = raw.nfc().collect();
    let mut out = String::with_capacity(nfc.len());
    for word in nfc.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            for c in chars {
                out.extend(c.to_lowercase());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normalize_name;

    #[test]
    fn display_is_nfc_and_capitalized() {
        let decomposed: String = unicode_normalization::UnicodeNormalization::nfd("nguyễn thị ánh").collect();
        let n = normalize_name(&decomposed).unwrap();
        assert_eq!(n.display, "Nguyễn Thị Ánh");
        assert_eq!(n.folded, "nguyen thi anh");
    }

    #[test]
    fn d_with_stroke_folds_to_d() {
        assert_eq!(normalize_name("ĐỖ ĐỨC").unwrap().folded, "do duc");
        assert_eq!(normalize_name("đỗ đức").unwrap().display, "Đỗ Đức");
    }

    #[test]
    fn swapped_order_shares_a_key() {
        let a = normalize_name("Nguyễn Văn An").unwrap();
        let b = normalize_name("An Nguyen Van").unwrap();
        assert_ne!(a.folded, b.folded);
        assert_eq!(a.key, b.key);
    }

    #[test]
    fn empty_or_punctuation_is_none() {
        assert!(normalize_name("").is_none());
        assert!(normalize_name("  - . ").is_none());
    }
}
