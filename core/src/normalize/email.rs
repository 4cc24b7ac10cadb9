//! Email addresses: display form, canonical (matching) form and shape validation.

use compact_str::CompactString as Text;

/// An email address in its display and canonical forms.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NormalizedEmail {
    /// Trimmed and lowercased: `an.nguyen+shop@gmail.com`.
    pub display: String,
    /// The form that identifies the mailbox: `+tags` dropped, and for Gmail the dots in the
    /// local part dropped and `googlemail.com` read as `gmail.com`: `annguyen@gmail.com`.
    pub canonical: String,
}

/// Normalizes an email address; `None` when the value is not shaped like one.
///
/// The shape check is deliberately practical (one `@`, a local part, a dotted domain with a
/// letter top-level label, no spaces); it rejects typing slips, not every RFC 5322 oddity.
///
/// ```
/// let e = omnitwin::normalize::normalize_email(" An.Nguyen+Shopee@GoogleMail.com ").unwrap();
/// assert_eq!(e.display, "an.nguyen+shopee@googlemail.com");
/// assert_eq!(e.canonical, "annguyen@gmail.com");
/// assert!(omnitwin::normalize::normalize_email("not an email").is_none());
/// ```
pub fn normalize_email(raw: &str) -> Option<NormalizedEmail> {
    let display = strip(raw).to_lowercase();
    let canonical = canonical_of(&display)?.into();
    Some(NormalizedEmail { display, canonical })
}

/// The canonical form alone, as [`normalize_email`] gives it, without building the display
/// form: the hot path of linking, where most addresses are already lowercase ASCII.
pub(crate) fn canonical_email(raw: &str) -> Option<Text> {
    let stripped = strip(raw);
    if stripped.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()) {
        canonical_of(&stripped.to_lowercase())
    } else {
        canonical_of(stripped)
    }
}

/// The value without surrounding whitespace and a `mailto:` prefix.
fn strip(raw: &str) -> &str {
    let trimmed = raw.trim();
    trimmed.strip_prefix("mailto:").unwrap_or(trimmed)
}

/// The canonical form of a lowercased address; `None` when it is not shaped like one.
fn canonical_of(display: &str) -> Option<Text> {
    let (local, domain) = display.split_once('@')?;
    if !valid_local(local) || !valid_domain(domain) {
        return None;
    }
    let local_base = local.split_once('+').map_or(local, |(base, _tag)| base);
    if local_base.is_empty() {
        return None;
    }
    let mut canonical = Text::with_capacity(local_base.len() + domain.len() + 1);
    match domain {
        "gmail.com" | "googlemail.com" => {
            local_base.split('.').for_each(|part| canonical.push_str(part));
            canonical.push_str("@gmail.com");
        }
        _ => {
            canonical.push_str(local_base);
            canonical.push('@');
            canonical.push_str(domain);
        }
    }
    Some(canonical)
}

fn valid_local(local: &str) -> bool {
    !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c))
}

fn valid_domain(domain: &str) -> bool {
    if domain.len() > 253 || !domain.contains('.') {
        return false;
    }
    let labels_ok = domain.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
    });
    let tld = domain.rsplit('.').next().unwrap_or_default();
    labels_ok && tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic)
}

#[cfg(test)]
mod tests {
    use super::{canonical_email, normalize_email};

    fn canonical(raw: &str) -> Option<String> {
        normalize_email(raw).map(|e| e.canonical)
    }

    #[test]
    fn trims_and_lowercases() {
        let e = normalize_email("  An@Example.COM ").unwrap();
        assert_eq!(e.display, "an@example.com");
        assert_eq!(e.canonical, "an@example.com");
    }

    #[test]
    fn drops_plus_tags_everywhere() {
        assert_eq!(canonical("an+promo@yahoo.com").as_deref(), Some("an@yahoo.com"));
    }

    #[test]
    fn gmail_dots_do_not_matter() {
        assert_eq!(canonical("a.n.nguyen@gmail.com"), canonical("annguyen@gmail.com"));
        assert_eq!(canonical("AnNguyen@googlemail.com").as_deref(), Some("annguyen@gmail.com"));
    }

    #[test]
    fn dots_matter_outside_gmail() {
        assert_ne!(canonical("a.n@yahoo.com"), canonical("an@yahoo.com"));
    }

    #[test]
    fn rejects_bad_shapes() {
        for bad in [
            "",
            "an",
            "an@",
            "@x.com",
            "an@x",
            "an@@x.com",
            "a n@x.com",
            "an@x.c0m",
            ".an@x.com",
            "an..b@x.com",
            "an@-x.com",
            "+tag@x.com",
            "an@x..com",
        ] {
            assert!(normalize_email(bad).is_none(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn fast_canonical_agrees_with_the_full_form() {
        for raw in [
            "an@x.com",
            " An.Nguyen+Shopee@GoogleMail.com ",
            "mailto:A.B@Gmail.COM",
            "ĐỨC@thương.vn",
            "an..b@x.com",
            "+tag@x.com",
            "",
            "an@x",
        ] {
            let full = normalize_email(raw).map(|e| e.canonical);
            assert_eq!(canonical_email(raw).map(String::from), full, "{raw:?}");
        }
    }

    #[test]
    fn keeps_unicode_domains() {
        assert!(normalize_email("an@thương.vn").is_some());
    }
}
