//! Phone numbers: E.164 through the `phonenumber` library (libphonenumber's metadata), with
//! Vietnam's 2018 renumbering of 11-digit mobile numbers and masked marketplace numbers.

use std::fmt;
use std::str::FromStr;

use compact_str::{format_compact, CompactString as Text};
use phonenumber::country;

use super::vn_shapes::VN_VALID_SHAPES;

/// The region whose national conventions apply to numbers written without a country code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhoneRegion {
    id: country::Id,
}

impl PhoneRegion {
    /// Vietnam, the default.
    pub const VN: PhoneRegion = PhoneRegion { id: country::Id::VN };

    fn is_vietnam(self) -> bool {
        self.id == country::Id::VN
    }
}

impl Default for PhoneRegion {
    fn default() -> Self {
        PhoneRegion::VN
    }
}

impl FromStr for PhoneRegion {
    type Err = String;

    /// Parses an ISO 3166-1 alpha-2 region code such as `VN`, `SG` or `US`.
    fn from_str(code: &str) -> Result<Self, Self::Err> {
        country::Id::from_str(&code.trim().to_ascii_uppercase())
            .map(|id| PhoneRegion { id })
            .map_err(|_| format!("`{code}` is not an ISO 3166-1 alpha-2 region code (e.g. VN, SG, US)"))
    }
}

impl fmt::Display for PhoneRegion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id.as_ref())
    }
}

/// What a raw phone value turned out to be.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum NormalizedPhone {
    /// A valid number, in E.164 (`+84912345678`): an identifier.
    Valid {
        /// The E.164 form.
        e164: Text,
    },
    /// A number with hidden digits (`84******123`), as marketplaces hand them out: not an
    /// identifier, but its visible trailing digits are weak evidence for matching.
    Masked {
        /// The digits after the mask (`123`), possibly empty.
        visible_suffix: Text,
    },
    /// Not a valid phone number for its region.
    Invalid,
}

/// Vietnam's 2018 renumbering: old 11-digit mobile prefixes (national number without the trunk
/// `0`) and the 10-digit prefixes that replaced them.
const VN_RENUMBERING: [(&str, &str); 21] = [
    ("162", "32"),
    ("163", "33"),
    ("164", "34"),
    ("165", "35"),
    ("166", "36"),
    ("167", "37"),
    ("168", "38"),
    ("169", "39"), // Viettel
    ("120", "70"),
    ("121", "79"),
    ("122", "77"),
    ("126", "76"),
    ("128", "78"), // MobiFone
    ("123", "83"),
    ("124", "84"),
    ("125", "85"),
    ("127", "81"),
    ("129", "82"), // VinaPhone
    ("186", "56"),
    ("188", "58"), // Vietnamobile
    ("199", "59"), // Gmobile
];

/// The most digits a phone number may have (E.164 allows 15; a little slack for trunk and
/// international prefixes).
const MAX_DIGITS: usize = 17;

/// Normalizes a phone number; `None` for an empty value.
///
/// ```
/// use omnitwin::normalize::{normalize_phone, NormalizedPhone, PhoneRegion};
/// let e164 = |raw| match normalize_phone(raw, PhoneRegion::VN) {
///     Some(NormalizedPhone::Valid { e164 }) => e164,
///     other => panic!("{raw}: {other:?}"),
/// };
/// assert_eq!(e164("+84 912 345 678"), "+84912345678");
/// assert_eq!(e164("0912.345.678"), "+84912345678");
/// assert_eq!(e164("84912345678"), "+84912345678");
/// assert_eq!(e164("(0912) 345678"), "+84912345678");
/// assert_eq!(e164("01682 345 678"), "+84382345678"); // renumbered in 2018
/// ```
pub fn normalize_phone(raw: &str, region: PhoneRegion) -> Option<NormalizedPhone> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return None;
    }
    if let Some(masked) = masked(trimmed) {
        return Some(masked);
    }
    let mut buffer = [0u8; MAX_DIGITS];
    let Some((international, digits)) = digits_of(trimmed, &mut buffer) else {
        return Some(NormalizedPhone::Invalid);
    };
    if digits.is_empty() {
        return Some(NormalizedPhone::Invalid);
    }
    let candidate = if region.is_vietnam() || (international && digits.starts_with("84")) {
        vietnam_candidate(international, digits, region)
    } else if international {
        Some(format_compact!("+{digits}"))
    } else {
        None
    };
    if let Some(e164) = candidate.as_deref().filter(|c| c.starts_with("+84")) {
        return Some(validate_vietnamese(e164));
    }
    let parsed = match candidate {
        Some(e164) => phonenumber::parse(None, &e164),
        None => phonenumber::parse(Some(region.id), digits),
    };
    Some(match parsed {
        Ok(number) if number.is_valid() => NormalizedPhone::Valid { e164: number.format().to_string().into() },
        _ => NormalizedPhone::Invalid,
    })
}

/// The shape of a Vietnamese national number that decides its validity: its first five digits
/// and its length. Vietnam's libphonenumber patterns are all decided within the first five
/// digits (ranges are allocated by prefix; `shape_table_matches_the_library` checks this
/// against the library), so numbers of one shape are all valid or all invalid.
fn vietnamese_shape(national: &str) -> Option<(u32, u8)> {
    let prefix: u32 = national.get(..5)?.parse().ok()?;
    Some((prefix, national.len() as u8))
}

/// Whether numbers of a shape are valid, from the table of valid shapes (generated from the
/// library's metadata); `None` for lengths outside the table (7 to 10 digits).
fn shape_is_valid((prefix, length): (u32, u8)) -> Option<bool> {
    if !(7..=10).contains(&length) {
        return None;
    }
    let run = VN_VALID_SHAPES.partition_point(|&(_, last, _)| last < prefix);
    Some(
        matches!(VN_VALID_SHAPES.get(run), Some(&(first, _, lengths)) if first <= prefix && lengths & (1 << (length - 7)) != 0),
    )
}

/// Asks the library whether `+84…` is a valid number and returns it in E.164.
fn library_validate(e164: &str) -> NormalizedPhone {
    match phonenumber::parse(None, e164) {
        Ok(number) if number.is_valid() => NormalizedPhone::Valid { e164: number.format().to_string().into() },
        _ => NormalizedPhone::Invalid,
    }
}

/// Validates a `+84…` candidate by its shape: parsing and validating with libphonenumber's
/// regexes costs microseconds, a shape lookup nanoseconds. Shapes outside the table go to the
/// library.
fn validate_vietnamese(e164: &str) -> NormalizedPhone {
    let national = &e164[3..];
    let known = vietnamese_shape(national).filter(|_| !national.starts_with('0')).and_then(shape_is_valid);
    match known {
        Some(true) => NormalizedPhone::Valid { e164: e164.into() },
        Some(false) => NormalizedPhone::Invalid,
        None => library_validate(e164),
    }
}

/// `+84…`-form for numbers that are (or may be) Vietnamese, renumbering old mobile prefixes;
/// `None` when the digits carry another country code.
fn vietnam_candidate(international: bool, digits: &str, region: PhoneRegion) -> Option<Text> {
    let national = if let Some(rest) = digits.strip_prefix("84") {
        // `84912345678` (no plus) is the usual export form of a Vietnamese number; a national
        // number never starts with 84 followed by 9 or 10 more digits.
        if international || (region.is_vietnam() && matches!(rest.len(), 9 | 10)) {
            // `+84 (0) 912…`: a trunk 0 written after the country code.
            rest.strip_prefix('0').unwrap_or(rest)
        } else if let Some(national) = digits.strip_prefix('0') {
            national
        } else {
            digits
        }
    } else if international {
        return Some(format_compact!("+{digits}"));
    } else if let Some(national) = digits.strip_prefix('0') {
        national
    } else {
        digits
    };
    let mut e164 = Text::with_capacity(3 + national.len());
    e164.push_str("+84");
    match renumbered(national) {
        Some((new, rest)) => {
            e164.push_str(new);
            e164.push_str(rest);
        }
        None => e164.push_str(national),
    }
    Some(e164)
}

/// Maps a pre-2018 11-digit mobile number (10 digits without the trunk `0`) to its new form.
/// Returns the new prefix and the rest of the number, or `None` when it is not renumbered.
fn renumbered(national: &str) -> Option<(&'static str, &str)> {
    if national.len() == 10 && national.starts_with('1') {
        if let Some((_, new)) = VN_RENUMBERING.iter().find(|(old, _)| national.starts_with(old)) {
            return Some((new, &national[3..]));
        }
    }
    None
}

/// A masked number: mask characters (`*`, `x`, `•`) with digits around them.
fn masked(value: &str) -> Option<NormalizedPhone> {
    let is_mask = |c: char| matches!(c, '*' | 'x' | 'X' | '•' | '#');
    if !value.chars().any(is_mask) || !value.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    let allowed = |c: char| is_mask(c) || c.is_ascii_digit() || " +-.()".contains(c);
    if !value.chars().all(allowed) {
        return None;
    }
    let last_mask = value.rfind(is_mask)?;
    let visible_suffix: Text = value[last_mask..].chars().filter(char::is_ascii_digit).collect();
    Some(NormalizedPhone::Masked { visible_suffix })
}

/// The digits of a written number and whether it was written with an international prefix
/// (`+` or `00`), written into `buffer`; `None` when it holds letters or symbols no phone number
/// has, or more than [`MAX_DIGITS`] digits.
fn digits_of<'b>(value: &str, buffer: &'b mut [u8; MAX_DIGITS]) -> Option<(bool, &'b str)> {
    let mut len = 0;
    let mut international = false;
    for (i, c) in value.char_indices() {
        match c {
            '0'..='9' => {
                *buffer.get_mut(len)? = c as u8;
                len += 1;
            }
            '+' if len == 0 && !international => international = true,
            ' ' | '.' | '-' | '(' | ')' | '/' | '\u{a0}' => {}
            _ if i == 0 && c == '\'' => {} // spreadsheets prefix numbers with an apostrophe
            _ => return None,
        }
    }
    let digits = std::str::from_utf8(&buffer[..len]).ok()?;
    match digits.strip_prefix("00") {
        Some(rest) if !international => Some((true, rest)),
        _ => Some((international, digits)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vn(raw: &str) -> Option<NormalizedPhone> {
        normalize_phone(raw, PhoneRegion::VN)
    }

    fn valid(e164: &str) -> Option<NormalizedPhone> {
        Some(NormalizedPhone::Valid { e164: e164.into() })
    }

    #[test]
    fn vietnamese_spellings_are_one_number() {
        for raw in [
            "+84 912 345 678",
            "0912.345.678",
            "84912345678",
            "(0912) 345678",
            "0912-345-678",
            "+84 (0) 912 345 678",
            "0084912345678",
            "'0912345678",
            "912345678",
        ] {
            assert_eq!(vn(raw), valid("+84912345678"), "{raw}");
        }
    }

    #[test]
    fn old_eleven_digit_mobiles_are_renumbered() {
        assert_eq!(vn("01682345678"), valid("+84382345678"));
        assert_eq!(vn("0120 234 5678"), valid("+84702345678"));
        assert_eq!(vn("+84 168 234 5678"), valid("+84382345678"));
        assert_eq!(vn("841232345678"), valid("+84832345678"));
        assert_eq!(vn("01992345678"), valid("+84592345678"));
    }

    #[test]
    fn masked_numbers_keep_visible_digits() {
        assert_eq!(vn("84******123"), Some(NormalizedPhone::Masked { visible_suffix: "123".into() }));
        assert_eq!(vn("090****567"), Some(NormalizedPhone::Masked { visible_suffix: "567".into() }));
        assert_eq!(vn("+84 9xx xxx 321"), Some(NormalizedPhone::Masked { visible_suffix: "321".into() }));
    }

    #[test]
    fn junk_is_invalid_not_an_error() {
        assert_eq!(vn("call me"), Some(NormalizedPhone::Invalid));
        assert_eq!(vn("12"), Some(NormalizedPhone::Invalid));
        assert_eq!(vn("0000000000"), Some(NormalizedPhone::Invalid));
        assert_eq!(vn("99999999999999999999999"), Some(NormalizedPhone::Invalid));
        assert_eq!(vn("   "), None);
    }

    #[test]
    fn foreign_numbers_keep_their_country() {
        assert_eq!(vn("+65 6123 4567"), valid("+6561234567"));
        let us: PhoneRegion = "us".parse().unwrap();
        assert_eq!(normalize_phone("(201) 555-0123", us), valid("+12015550123"));
    }

    /// The shape table is exact only if every Vietnamese number of one shape (first five digits
    /// and length) gets the same verdict from the library: check that for every shape, on
    /// numbers that differ in every digit after the fifth, and that the checked-in table holds
    /// exactly the valid shapes. `OMNITWIN_BLESS=1` rewrites the table (after a `phonenumber`
    /// upgrade changes the metadata).
    #[test]
    fn shape_table_matches_the_library() {
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut valid = vec![0u8; 100_000];
        for length in 7..=10usize {
            for prefix in 10_000..100_000u32 {
                let sample = |suffix: u64| {
                    let tail = format!("{:0width$}", suffix % 10u64.pow((length - 5) as u32), width = length - 5);
                    let number = format!("+84{prefix:05}{tail}");
                    matches!(library_validate(&number), NormalizedPhone::Valid { .. })
                };
                let first = sample(next());
                for _ in 0..2 {
                    assert_eq!(sample(next()), first, "+84 {prefix:05}… of length {length}");
                }
                if first {
                    valid[prefix as usize] |= 1 << (length - 7);
                }
            }
        }
        let mut runs: Vec<(u32, u32, u8)> = Vec::new();
        for (prefix, &lengths) in valid.iter().enumerate().filter(|(_, l)| **l != 0) {
            match runs.last_mut() {
                Some(run) if run.1 + 1 == prefix as u32 && run.2 == lengths => run.1 += 1,
                _ => runs.push((prefix as u32, prefix as u32, lengths)),
            }
        }
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/normalize/vn_shapes.rs");
        let expected = vn_shapes_source(&runs);
        if std::env::var_os("OMNITWIN_BLESS").is_some_and(|v| v == "1") {
            std::fs::write(path, &expected).unwrap();
        }
        assert!(
            VN_VALID_SHAPES == runs.as_slice(),
            "{path} is out of date with the phonenumber metadata; rerun this test with OMNITWIN_BLESS=1"
        );
    }

    /// The source of `vn_shapes.rs` for the given runs.
    fn vn_shapes_source(runs: &[(u32, u32, u8)]) -> String {
        let mut out = String::from(
            "//! Valid Vietnamese phone number shapes, generated from the `phonenumber` crate's metadata by\n\
             //! `OMNITWIN_BLESS=1 cargo test -p omnitwin shape_table_matches_the_library` (which also\n\
             //! checks, on every run of the tests, that this table matches the library). Do not edit.\n\n\
             /// Runs `(first, last, lengths)` of five-digit national prefixes `first..=last` whose\n\
             /// numbers of `7 + i` digits are valid when bit `i` of `lengths` is set; sorted, disjoint.\n\
             pub(super) const VN_VALID_SHAPES: &[(u32, u32, u8)] = &[\n",
        );
        for (first, last, lengths) in runs {
            out.push_str(&format!("    ({first}, {last}, {lengths:#06b}),\n"));
        }
        out.push_str("];\n");
        out
    }

    #[test]
    fn cached_and_uncached_verdicts_agree() {
        for raw in ["0912345678", "0912345679", "0212345678", "0812345678", "0512345678"] {
            let cached = normalize_phone(raw, PhoneRegion::VN);
            let direct = library_validate(&format!("+84{}", &raw[1..]));
            assert_eq!(cached, Some(direct), "{raw}");
        }
    }

    #[test]
    fn region_codes_are_checked() {
        assert!("VN".parse::<PhoneRegion>().is_ok());
        assert!("Vietnam".parse::<PhoneRegion>().is_err());
    }
}
