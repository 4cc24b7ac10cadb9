//! Attribute observations: the display value and comparison key of each attribute a
//! touchpoint carries.

use unicode_normalization::UnicodeNormalization;

use crate::model::{Text, Touchpoint};
use crate::normalize::{fold, normalize_address, normalize_date_of_birth, normalize_gender, normalize_name};

/// The standard attributes a profile carries, in output order.
pub(crate) const STANDARD_ATTRIBUTES: [&str; 5] = ["full_name", "date_of_birth", "gender", "address", "city"];

/// One attribute value seen on a touchpoint.
#[derive(Debug, Clone)]
pub(crate) struct Observation {
    /// Attribute name.
    pub name: Text,
    /// Display value (NFC, tidy).
    pub display: String,
    /// Comparison key: variants with the same key are one value.
    pub key: String,
}

/// NFC with runs of white space collapsed.
fn tidy(raw: &str) -> String {
    let nfc: String = raw.nfc().collect();
    nfc.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The attribute observations of a touchpoint; values that don't normalize are left out (they
/// are counted as invalid elsewhere, and the raw touchpoint keeps them).
pub(crate) fn observations(tp: &Touchpoint) -> Vec<Observation> {
    let mut out = Vec::new();
    let mut push = |name: &str, display: String, key: String| {
        if !key.is_empty() {
            out.push(Observation { name: name.into(), display, key });
        }
    };
    if let Some(name) = tp.full_name.as_deref().and_then(normalize_name) {
        push("full_name", name.display, name.folded);
    }
    if let Some(dob) = tp.date_of_birth.as_deref().and_then(|d| normalize_date_of_birth(d).ok()) {
        push("date_of_birth", dob.clone(), dob);
    }
    if let Some(gender) = tp.gender.as_deref().and_then(normalize_gender) {
        push("gender", gender.to_owned(), gender.to_owned());
    }
    if let Some(raw) = tp.address.as_deref() {
        if let Some(key) = normalize_address(raw) {
            push("address", tidy(raw), key);
        }
    }
    if let Some(raw) = tp.city.as_deref() {
        if let Some(key) = normalize_address(raw) {
            push("city", tidy(raw), key);
        }
    }
    for (name, raw) in &tp.attributes {
        let display = tidy(raw);
        let key = fold(&display);
        let key = if key.is_empty() { display.clone() } else { key };
        push(name, display, key);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_and_custom_attributes() {
        let tp = Touchpoint {
            full_name: Some("  nguyễn  an ".into()),
            date_of_birth: Some("12/03/1985".into()),
            gender: Some("Nữ".into()),
            city: Some("TP.HCM".into()),
            attributes: [("tier".into(), " Gold ".into())].into(),
            ..Touchpoint::new("t")
        };
        let got: Vec<(String, String, String)> =
            observations(&tp).into_iter().map(|o| (o.name.to_string(), o.display, o.key)).collect();
        assert_eq!(
            got,
            [
                ("full_name".into(), "Nguyễn An".into(), "nguyen an".into()),
                ("date_of_birth".into(), "1985-03-12".into(), "1985-03-12".into()),
                ("gender".into(), "female".into(), "female".into()),
                ("city".into(), "TP.HCM".into(), "ho chi minh".into()),
                ("tier".into(), "Gold".into(), "gold".into()),
            ]
        );
    }

    #[test]
    fn bad_dates_are_left_out() {
        let tp = Touchpoint { date_of_birth: Some("31/02/1985".into()), ..Touchpoint::new("t") };
        assert!(observations(&tp).is_empty());
    }
}
