//! Dates and times: event timestamps (to UTC epoch milliseconds) and dates of birth (to ISO).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};

/// The UTC offset that timestamps without one are read in (`+07:00` for Vietnam).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcOffset(FixedOffset);

impl UtcOffset {
    /// UTC itself.
    pub const UTC: UtcOffset = UtcOffset(match FixedOffset::east_opt(0) {
        Some(offset) => offset,
        None => unreachable!(),
    });
}

impl UtcOffset {
    /// The offset east of UTC in milliseconds (`+07:00` → 25,200,000).
    pub(crate) fn millis(self) -> i64 {
        i64::from(self.0.local_minus_utc()) * 1000
    }
}

impl Default for UtcOffset {
    fn default() -> Self {
        UtcOffset::UTC
    }
}

impl FromStr for UtcOffset {
    type Err = String;

    /// Parses `Z`, `UTC`, `+07:00`, `+0700` or `-05:30`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if matches!(text, "Z" | "z" | "UTC" | "utc") {
            return Ok(UtcOffset::UTC);
        }
        let expected = || format!("`{text}` is not a UTC offset; expected e.g. `+07:00`, `-05:30` or `Z`");
        let (sign, rest) = match text.as_bytes().first() {
            Some(b'+') => (1, &text[1..]),
            Some(b'-') => (-1, &text[1..]),
            _ => return Err(expected()),
        };
        let digits: String = rest.chars().filter(|c| *c != ':').collect();
        if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(expected());
        }
        let hours: i32 = digits[..2].parse().map_err(|_| expected())?;
        let minutes: i32 = digits[2..].parse().map_err(|_| expected())?;
        FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60)).map(UtcOffset).ok_or_else(expected)
    }
}

impl fmt::Display for UtcOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The earliest event time accepted, 1900-01-01T00:00:00Z in UTC epoch milliseconds.
pub const EARLIEST_TIMESTAMP: i64 = -2_208_988_800_000;
/// The first event time refused after the accepted range, 2200-01-01T00:00:00Z in UTC epoch
/// milliseconds.
pub const LATEST_TIMESTAMP: i64 = 7_258_118_400_000;

/// Checks that an event time (UTC epoch milliseconds) is in 1900–2199: a time outside is a
/// mistake (seconds written as microseconds, a sentinel such as `i64::MAX`) that would make
/// recency and windows meaningless. The error says what is accepted.
///
/// ```
/// use omnitwin::normalize::check_timestamp;
/// assert_eq!(check_timestamp(1_704_067_200_000), Ok(1_704_067_200_000));
/// assert!(check_timestamp(i64::MAX).unwrap_err().contains("1900"));
/// ```
pub fn check_timestamp(millis: i64) -> Result<i64, String> {
    if (EARLIEST_TIMESTAMP..LATEST_TIMESTAMP).contains(&millis) {
        Ok(millis)
    } else {
        Err(format!(
            "{millis} is outside the accepted range of times (the years 1900 to 2199, epoch milliseconds \
             {EARLIEST_TIMESTAMP} to {}); is it in seconds or microseconds instead of milliseconds?",
            LATEST_TIMESTAMP - 1
        ))
    }
}

const DATETIME_FORMATS: [&str; 6] = [
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%d/%m/%Y %H:%M:%S",
];

/// Parses an event timestamp to UTC epoch milliseconds.
///
/// Accepts RFC 3339 (`2024-03-05T10:20:30+07:00`, `…Z`), the same without an offset (read in
/// `offset`), with a space instead of `T`, a bare date (midnight), `dd/mm/yyyy hh:mm:ss`, and
/// an integer (epoch milliseconds); the time must be in 1900–2199 ([`check_timestamp`]). The
/// error says what was expected.
///
/// ```
/// use omnitwin::normalize::{parse_timestamp, UtcOffset};
/// let vn: UtcOffset = "+07:00".parse().unwrap();
/// assert_eq!(parse_timestamp("2024-01-01T07:00:00", vn), Ok(1_704_067_200_000));
/// assert_eq!(parse_timestamp("2024-01-01T00:00:00Z", vn), Ok(1_704_067_200_000));
/// assert!(parse_timestamp("yesterday", vn).is_err());
/// ```
pub fn parse_timestamp(raw: &str, offset: UtcOffset) -> Result<i64, String> {
    parse_any_timestamp(raw, offset).and_then(check_timestamp)
}

/// [`parse_timestamp`] before the range check.
fn parse_any_timestamp(raw: &str, offset: UtcOffset) -> Result<i64, String> {
    let text = raw.trim();
    if let Ok(with_offset) = DateTime::parse_from_rfc3339(text) {
        return Ok(with_offset.timestamp_millis());
    }
    if let Ok(with_offset) = DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%:z") {
        return Ok(with_offset.timestamp_millis());
    }
    if !text.is_empty() && text.len() <= 20 && text.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        if let Ok(millis) = text.parse::<i64>() {
            if text.len() != 8 {
                return Ok(millis);
            }
        }
    }
    let naive = DATETIME_FORMATS
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .or_else(|| parse_date(text).map(|date| date.and_time(NaiveTime::MIN)));
    match naive.and_then(|n| offset.0.from_local_datetime(&n).single()) {
        Some(local) => Ok(local.timestamp_millis()),
        None => Err(format!(
            "`{}` is not a timestamp; expected ISO 8601 such as `2024-03-05T10:20:30+07:00` or \
             `2024-03-05 10:20:30`, or epoch milliseconds",
            shorten(text)
        )),
    }
}

/// Normalizes a date of birth to `YYYY-MM-DD`.
///
/// Accepts `YYYY-MM-DD`, `YYYYMMDD`, `YYYY/MM/DD`, and day-first `DD/MM/YYYY` or `DD-MM-YYYY`
/// (the Vietnamese order). Dates in the future or before 1900 are rejected.
///
/// ```
/// use omnitwin::normalize::normalize_date_of_birth;
/// assert_eq!(normalize_date_of_birth("19850312").as_deref(), Ok("1985-03-12"));
/// assert_eq!(normalize_date_of_birth("12/03/1985").as_deref(), Ok("1985-03-12"));
/// assert!(normalize_date_of_birth("1985-13-40").is_err());
/// ```
pub fn normalize_date_of_birth(raw: &str) -> Result<String, String> {
    let text = raw.trim();
    let date =
        parse_date(text).or_else(|| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").ok().map(|d| d.date()));
    let Some(date) = date else {
        return Err(format!("`{}` is not a date of birth; expected YYYY-MM-DD, YYYYMMDD or DD/MM/YYYY", shorten(text)));
    };
    let year = chrono::Datelike::year(&date);
    if !(1900..=2100).contains(&year) {
        return Err(format!("`{}`: year {year} is outside 1900–2100", shorten(text)));
    }
    Ok(date.format("%Y-%m-%d").to_string())
}

/// A date in any of the formats [`normalize_date_of_birth`] accepts.
pub(crate) fn parse_date(text: &str) -> Option<NaiveDate> {
    // The canonical form (what matching derives and compares, many times per touchpoint) read
    // directly: chrono's format parser costs about a microsecond a try.
    if let Some(date) = iso_date(text) {
        return Some(date);
    }
    ["%Y-%m-%d", "%Y%m%d", "%Y/%m/%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"]
        .iter()
        .find_map(|format| NaiveDate::parse_from_str(text, format).ok())
}

/// `YYYY-MM-DD` exactly (four, two and two ASCII digits), when it is a real date.
fn iso_date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let number =
        |digits: &[u8]| digits.iter().try_fold(0u32, |n, &d| d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0')));
    NaiveDate::from_ymd_opt(i32::try_from(number(&b[..4])?).ok()?, number(&b[5..7])?, number(&b[8..])?)
}

/// The first 40 characters of a value, for error messages that must stay readable.
pub(crate) fn shorten(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JAN_1_2024_UTC: i64 = 1_704_067_200_000;

    #[test]
    fn timestamps_in_many_spellings() {
        let vn: UtcOffset = "+07:00".parse().unwrap();
        for raw in [
            "2024-01-01T07:00:00+07:00",
            "2024-01-01T00:00:00Z",
            "2024-01-01 07:00:00",
            "2024-01-01T07:00",
            "2024-01-01 00:00:00.000+00:00",
            "01/01/2024 07:00:00",
        ] {
            assert_eq!(parse_timestamp(raw, vn), Ok(JAN_1_2024_UTC), "{raw}");
        }
        assert_eq!(parse_timestamp("2024-01-01", UtcOffset::UTC), Ok(JAN_1_2024_UTC));
        assert_eq!(parse_timestamp("1704067200000", vn), Ok(JAN_1_2024_UTC));
    }

    #[test]
    fn bad_timestamps_say_what_was_expected() {
        let err = parse_timestamp("next tuesday", UtcOffset::UTC).unwrap_err();
        assert!(err.contains("next tuesday") && err.contains("ISO 8601"), "{err}");
        assert!(parse_timestamp("2024-02-30", UtcOffset::UTC).is_err());
        assert!(parse_timestamp("", UtcOffset::UTC).is_err());
    }

    #[test]
    fn offsets_parse() {
        assert_eq!("Z".parse::<UtcOffset>(), Ok(UtcOffset::UTC));
        assert!("+0700".parse::<UtcOffset>().is_ok());
        assert!("-05:30".parse::<UtcOffset>().is_ok());
        assert!("7".parse::<UtcOffset>().is_err());
        assert!("+25:00".parse::<UtcOffset>().is_err());
        assert_eq!("+07:00".parse::<UtcOffset>().map(UtcOffset::millis), Ok(25_200_000));
    }

    #[test]
    fn the_canonical_form_reads_as_chrono_reads_it() {
        let mut texts: Vec<String> = Vec::new();
        for year in [0, 1, 999, 1900, 1985, 2000, 2024, 2100, 9999] {
            for month in 0..=13 {
                for day in [0, 1, 9, 10, 28, 29, 30, 31, 32, 99] {
                    texts.push(format!("{year:04}-{month:02}-{day:02}"));
                }
            }
        }
        texts.extend(
            ["1985-3-12", "1985-03-1x", "+985-03-12", "1985-03-12 ", "1985/03/12", "19850312"].map(String::from),
        );
        for text in &texts {
            let chrono = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
            let direct = iso_date(text);
            assert!(direct.is_none() || direct == chrono, "{text}: {direct:?} vs {chrono:?}");
            if text.len() == 10 && text.as_bytes()[4] == b'-' && text.bytes().filter(u8::is_ascii_digit).count() == 8 {
                assert_eq!(direct, chrono, "{text}");
            }
        }
    }

    #[test]
    fn dates_of_birth() {
        assert_eq!(normalize_date_of_birth("1985-03-12").as_deref(), Ok("1985-03-12"));
        assert_eq!(normalize_date_of_birth("1985/03/12").as_deref(), Ok("1985-03-12"));
        assert_eq!(normalize_date_of_birth("12-03-1985").as_deref(), Ok("1985-03-12"));
        assert!(normalize_date_of_birth("31/02/1985").is_err());
        assert!(normalize_date_of_birth("1850-01-01").is_err());
        assert!(normalize_date_of_birth("soon").is_err());
    }

    #[test]
    fn long_values_are_shortened_in_messages() {
        let long = "x".repeat(1000);
        assert!(parse_timestamp(&long, UtcOffset::UTC).unwrap_err().len() < 300);
    }
}
