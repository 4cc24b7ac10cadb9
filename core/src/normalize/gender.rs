//! Gender: the common spellings (English and Vietnamese) mapped to `male`, `female` or `other`.

use super::fold;

/// Maps a gender value to `male`, `female` or `other`; `None` for an empty value.
///
/// ```
/// assert_eq!(omnitwin::normalize::normalize_gender("Nữ"), Some("female"));
/// assert_eq!(omnitwin::normalize::normalize_gender(" M "), Some("male"));
/// ```
pub fn normalize_gender(raw: &str) -> Option<&'static str> {
    let folded = fold(raw);
    match folded.as_str() {
        "" => None,
        "m" | "male" | "man" | "nam" | "trai" | "mr" => Some("male"),
        "f" | "female" | "woman" | "nu" | "gai" | "mrs" | "ms" => Some("female"),
        _ => Some("other"),
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_gender;

    #[test]
    fn maps_spellings() {
        assert_eq!(normalize_gender("Nam"), Some("male"));
        assert_eq!(normalize_gender("nữ"), Some("female"));
        assert_eq!(normalize_gender("F"), Some("female"));
        assert_eq!(normalize_gender("non-binary"), Some("other"));
        assert_eq!(normalize_gender("  "), None);
    }
}
