//! Folding: the matching form of free text (lowercase ASCII words, diacritics removed).

use unicode_normalization::char::is_combining_mark;

/// Folds text for matching: diacritics removed (`Đ` → `d`, `ễ` → `e`), lowercase, every run of
/// punctuation or white space turned into one space, trimmed.
///
/// ```
/// assert_eq!(omnitwin::normalize::fold("  Nguyễn  Thị-Ánh "), "nguyen thi anh");
/// assert_eq!(omnitwin::normalize::fold("ĐÀ NẴNG"), "da nang");
/// ```
pub fn fold(text: &str) -> String {
    let mut folder = Folder { out: String::with_capacity(text.len()), pending_space: false };
    if text.is_ascii() {
        text.chars().for_each(|c| folder.push(c));
        return folder.out;
    }
    // Precomposed letters (`ễ`) go straight through the transliteration table; decomposed
    // input (`e` + combining marks) drops its marks. Both fold alike without an NFD pass.
    for c in text.chars() {
        if c.is_ascii() {
            folder.push(c);
            continue;
        }
        if is_combining_mark(c) {
            continue;
        }
        match c {
            'đ' | 'Đ' => folder.push('d'),
            c if c.is_ascii() => folder.push(c),
            c => {
                // Letters outside Latin (or with no decomposition) go through a transliteration
                // table; symbols come back as punctuation and become separators.
                match deunicode::deunicode_char(c) {
                    Some(ascii) if !ascii.is_empty() => ascii.chars().for_each(|a| folder.push(a)),
                    _ => folder.pending_space = true,
                }
            }
        }
    }
    folder.out
}

/// Builds folded text one ASCII character at a time.
struct Folder {
    out: String,
    pending_space: bool,
}

impl Folder {
    fn push(&mut self, c: char) {
        if c.is_ascii_alphanumeric() {
            if self.pending_space && !self.out.is_empty() {
                self.out.push(' ');
            }
            self.pending_space = false;
            self.out.push(c.to_ascii_lowercase());
        } else {
            self.pending_space = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn removes_vietnamese_diacritics() {
        assert_eq!(fold("Nguyễn Thị Ánh"), "nguyen thi anh");
        assert_eq!(fold("Đặng Văn Đức"), "dang van duc");
        assert_eq!(fold("Trần Hưng Đạo"), "tran hung dao");
    }

    #[test]
    fn decomposed_and_composed_forms_fold_alike() {
        let composed = "Nguyễn";
        let decomposed: String = unicode_normalization::UnicodeNormalization::nfd(composed).collect();
        assert_ne!(composed, decomposed);
        assert_eq!(fold(composed), fold(&decomposed));
    }

    #[test]
    fn punctuation_and_spaces_collapse() {
        assert_eq!(fold("  a.b , c--d  "), "a b c d");
        assert_eq!(fold(""), "");
        assert_eq!(fold("!!!"), "");
    }

    #[test]
    fn other_scripts_transliterate() {
        assert_eq!(fold("Müller"), "muller");
        assert_eq!(fold("Øster"), "oster");
    }
}
