//! Evaluating a segment expression on a profile.

use std::borrow::Cow;
use std::cmp::Ordering;

use super::field::Value;
use super::segment::{Compare, Expr, Literal, Operand, Segment};
use crate::model::Profile;

fn value<'a>(operand: &'a Operand, p: &'a Profile) -> Value<'a> {
    match operand {
        Operand::Field(field) => field.read(p),
        Operand::Literal(Literal::Null) => Value::Null,
        Operand::Literal(Literal::Bool(b)) => Value::Bool(*b),
        Operand::Literal(Literal::Number(n)) => Value::Number(*n),
        Operand::Literal(Literal::Text(t)) => Value::Text(Cow::Borrowed(t)),
    }
}

/// Text compared without regard to case.
fn text_order(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        a.bytes().map(|c| c.to_ascii_lowercase()).cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
    } else {
        a.to_lowercase().cmp(&b.to_lowercase())
    }
}

/// How two values order, when they can be compared: numbers with numbers (or text that reads
/// as a number), text with text, booleans with booleans.
fn order(a: &Value<'_>, b: &Value<'_>) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.partial_cmp(y),
        (Value::Number(x), Value::Text(t)) => t.trim().parse::<f64>().ok().and_then(|y| x.partial_cmp(&y)),
        (Value::Text(t), Value::Number(y)) => t.trim().parse::<f64>().ok().and_then(|x| x.partial_cmp(y)),
        (Value::Text(x), Value::Text(y)) => Some(text_order(x, y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn truthy(v: &Value<'_>) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => *n != 0.0,
        Value::Text(t) => !t.is_empty(),
        Value::List(items) => !items.is_empty(),
    }
}

/// Whether a list or a text holds a value.
fn contains(haystack: &Value<'_>, needle: &Value<'_>) -> bool {
    match (haystack, needle) {
        (Value::List(items), needle) => {
            items.iter().any(|item| order(&Value::Text(Cow::Borrowed(item)), needle) == Some(Ordering::Equal))
        }
        (Value::Text(text), Value::Text(part)) => text.to_lowercase().contains(&part.to_lowercase()),
        _ => false,
    }
}

fn equal(a: &Value<'_>, b: &Value<'_>) -> bool {
    match (a, b) {
        (Value::List(_), other) | (other, Value::List(_)) => {
            contains(if matches!(a, Value::List(_)) { a } else { b }, other)
        }
        _ => order(a, b) == Some(Ordering::Equal),
    }
}

fn eval(expr: &Expr, p: &Profile) -> bool {
    match expr {
        Expr::And(a, b) => eval(a, p) && eval(b, p),
        Expr::Or(a, b) => eval(a, p) || eval(b, p),
        Expr::Not(a) => !eval(a, p),
        Expr::Compare(a, op, b) => {
            let (a, b) = (value(a, p), value(b, p));
            match op {
                Compare::Eq => equal(&a, &b),
                Compare::Ne => !matches!(a, Value::Null) && !matches!(b, Value::Null) && !equal(&a, &b),
                Compare::Lt => order(&a, &b) == Some(Ordering::Less),
                Compare::Le => matches!(order(&a, &b), Some(Ordering::Less | Ordering::Equal)),
                Compare::Gt => order(&a, &b) == Some(Ordering::Greater),
                Compare::Ge => matches!(order(&a, &b), Some(Ordering::Greater | Ordering::Equal)),
            }
        }
        Expr::Contains(a, b) => contains(&value(a, p), &value(b, p)),
        Expr::In(a, list) => {
            let a = value(a, p);
            list.iter().any(|item| equal(&a, &value(item, p)))
        }
        Expr::Between(a, low, high) => {
            let a = value(a, p);
            matches!(order(&a, &value(low, p)), Some(Ordering::Greater | Ordering::Equal))
                && matches!(order(&a, &value(high, p)), Some(Ordering::Less | Ordering::Equal))
        }
        Expr::IsNull(a, negated) => {
            let missing = match value(a, p) {
                Value::Null => true,
                Value::List(items) => items.is_empty(),
                _ => false,
            };
            missing != *negated
        }
        Expr::Truthy(a) => truthy(&value(a, p)),
    }
}

impl Segment {
    /// Whether a profile belongs to the segment (its traits as computed with the profile),
    /// with the consent the segment requires.
    pub fn matches(&self, profile: &Profile) -> bool {
        self.consent.as_ref().is_none_or(|(purpose, channel)| {
            crate::model::consent_for(&profile.consent, purpose, channel) == Some(true)
        }) && eval(&self.expr, profile)
    }
}
