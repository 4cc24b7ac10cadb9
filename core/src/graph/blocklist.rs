//! Blocked values: junk that people type when they decline to give a real value. They never link.

use rustc_hash::FxHashSet;

use crate::config::{Config, KindRule};
use crate::error::{Error, Result};
use crate::model::IdKind;
use crate::normalize::PhoneRegion;
use crate::prepare::{identifier_value, IdValue};

/// Email local parts that mean "no email" on any domain (`noemail@…`, `test@…`).
const JUNK_EMAIL_LOCALS: [&str; 18] = [
    "noemail", "no.email", "no_email", "no-email", "nomail", "none", "null", "noreply", "no-reply", "test", "unknown",
    "na", "n.a", "khongco", "khong", "chuaco", "email", "abc",
];

/// Domains that are never someone's mailbox.
const JUNK_EMAIL_DOMAINS: [&str; 8] =
    ["example.com", "example.org", "example.net", "test.com", "test.vn", "email.test", "invalid.com", "noemail.com"];

/// Values of id kinds that stand for "no id".
const JUNK_IDS: [&str; 17] = [
    "0",
    "-1",
    "null",
    "none",
    "nil",
    "n/a",
    "na",
    "nan",
    "unknown",
    "guest",
    "test",
    "anonymous",
    "undefined",
    "default",
    "-",
    "123456",
    "1234",
];

/// Phone digit runs that are placeholders, checked on the last nine digits of a number.
const JUNK_PHONE_TAILS: [&str; 3] = ["123456789", "987654321", "012345678"];

/// The values that never link, by kind: the built-in junk list (unless turned off) and the
/// config's own additions, compared in normalized form.
#[derive(Debug, Clone, Default)]
pub(crate) struct Blocklist {
    defaults: bool,
    extra: FxHashSet<(IdKind, String)>,
}

impl Blocklist {
    /// Compiles the blocklist, normalizing the config's values with each kind's normalizer.
    pub(crate) fn new(config: &Config, region: PhoneRegion, kinds: &[KindRule]) -> Result<Self> {
        let mut extra = FxHashSet::default();
        for (name, values) in &config.blocked_values {
            let field = format!("blocked_values.{name}");
            let Some(rule) = kinds.iter().find(|r| r.kind.as_str() == name) else {
                let known: Vec<&str> = kinds.iter().map(|r| r.kind.as_str()).collect();
                return Err(Error::config(
                    field,
                    format!("`{name}` is not an identifier kind; expected one of {}", known.join(", ")),
                ));
            };
            for raw in values {
                match identifier_value(&rule.kind, raw, region) {
                    IdValue::Valid(value) => {
                        extra.insert((rule.kind.clone(), comparable(&rule.kind, &value)));
                    }
                    // A value that can never be an identifier never links anyway.
                    IdValue::Invalid | IdValue::Masked => {}
                }
            }
        }
        Ok(Blocklist { defaults: config.default_blocked_values, extra })
    }

    /// Whether a normalized identifier value (without its scope) is blocked.
    pub(crate) fn is_blocked(&self, kind: &IdKind, value: &str) -> bool {
        (self.defaults && is_default_junk(kind, value))
            || (!self.extra.is_empty() && self.extra.contains(&(kind.clone(), comparable(kind, value))))
    }
}

/// Ids compare case-insensitively on the blocklist; emails and phones are already canonical.
fn comparable(kind: &IdKind, value: &str) -> String {
    match kind {
        IdKind::Email | IdKind::Phone => value.to_owned(),
        _ => value.to_lowercase(),
    }
}

fn is_default_junk(kind: &IdKind, value: &str) -> bool {
    match kind {
        IdKind::Email => {
            let (local, domain) = value.split_once('@').unwrap_or((value, ""));
            JUNK_EMAIL_LOCALS.contains(&local)
                || JUNK_EMAIL_DOMAINS.contains(&domain)
                || (local.len() >= 3 && local.bytes().all(|b| b == local.as_bytes()[0]))
        }
        IdKind::Phone => {
            let digits = value.trim_start_matches('+');
            let tail = &digits[digits.len().saturating_sub(9)..];
            let first = tail.as_bytes().first().copied();
            JUNK_PHONE_TAILS.contains(&tail) || tail.bytes().all(|b| Some(b) == first)
        }
        _ => JUNK_IDS.iter().any(|junk| junk.eq_ignore_ascii_case(value)) || value.bytes().all(|b| b == b'0'),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocklist(json: &str) -> Blocklist {
        let config = Config::from_json_str(json).unwrap();
        config.compile().unwrap().blocked
    }

    #[test]
    fn default_junk_is_blocked() {
        let b = blocklist("{}");
        for email in ["test@test.com", "noemail@shop.vn", "none@gmail.com", "aaa@x.vn", "an@example.com"] {
            assert!(b.is_blocked(&IdKind::Email, email), "{email}");
        }
        assert!(!b.is_blocked(&IdKind::Email, "an@gmail.com"));
        assert!(!b.is_blocked(&IdKind::Email, "a@x.vn"), "one-letter mailboxes are real");
        for phone in ["+84999999999", "+84123456789", "+84912345678"] {
            assert_eq!(b.is_blocked(&IdKind::Phone, phone), phone != "+84912345678", "{phone}");
        }
        for id in ["0", "NULL", "guest", "0000"] {
            assert!(b.is_blocked(&IdKind::LoyaltyId, id), "{id}");
        }
        assert!(!b.is_blocked(&IdKind::LoyaltyId, "L-1001"));
    }

    #[test]
    fn config_values_are_normalized_before_comparing() {
        let b = blocklist(r#"{"blocked_values": {"phone": ["0909 000 111"], "email": ["Cashier@Shop.VN"]}}"#);
        assert!(b.is_blocked(&IdKind::Phone, "+84909000111"));
        assert!(b.is_blocked(&IdKind::Email, "cashier@shop.vn"));
    }

    #[test]
    fn defaults_can_be_turned_off() {
        let b = blocklist(r#"{"default_blocked_values": false}"#);
        assert!(!b.is_blocked(&IdKind::Email, "test@test.com"));
    }
}
