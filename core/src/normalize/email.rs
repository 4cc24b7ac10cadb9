//! Email addresses: display form, canonical (matching) form and shape validation.

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
    let trimmed = raw.trim();
    let trimmed = trimmed.strip_prefix("mailto:").unwrap_or(trimmed);
    let display = trimmed.to_lowercase();
    let (local, domain) = display.split_once('@')?;
    if !valid_local(local) || !valid_domain(domain) {
        return None;
    }
    let local_base = local.split_once('+').map_or(local, |(base, _tag)| base);
    if local_base.is_empty() {
        return None;
    }
    let canonical = match domain {
        "gmail.com" | "googlemail.com" => format!("{}@gmail.com", local_base.replace('.', "")),
        _ => format!("{local_base}@{domain}"),
    };
    Some(NormalizedEmail { display, canonical })
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
    let labels: Vec<&str> = domain.split('.').collect();
    let labels_ok = labels.iter().all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
    });
    let tld = labels.last().copied().unwrap_or_default();
    labels_ok && tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic)
}

#[cfg(test)]
mod tests {
    use super::normalize_email;

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
    fn keeps_unicode_domains() {
        assert!(normalize_email("an@thương.vn").is_some());
    }
}
