//! The segment language: a small expression over a profile's attributes, traits and consent,
//! parsed once (errors point at the position) and evaluated on any number of profiles.

use std::fmt;

use super::field::{Field, FIELD_NAMES};

/// A parse error: where (1-based character position) and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError {
    pub position: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at position {}: {}", self.position, self.message)
    }
}

/// A literal value in an expression, or a value read from a profile.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Literal {
    Null,
    Bool(bool),
    Number(f64),
    Text(String),
}

/// An operand: a profile field or a literal.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Operand {
    Field(Field),
    Literal(Literal),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compare {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// The parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Compare(Operand, Compare, Operand),
    Contains(Operand, Operand),
    In(Operand, Vec<Operand>),
    Between(Operand, Operand, Operand),
    IsNull(Operand, bool),
    Truthy(Operand),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Number(f64),
    Text(String),
    Op(Compare),
    Open,
    Close,
    OpenList,
    CloseList,
    Comma,
    End,
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Word(w) => format!("`{w}`"),
            Token::Number(n) => format!("the number {n}"),
            Token::Text(t) => format!("the text \"{t}\""),
            Token::Op(_) => "a comparison".into(),
            Token::Open => "`(`".into(),
            Token::Close => "`)`".into(),
            Token::OpenList => "`[`".into(),
            Token::CloseList => "`]`".into(),
            Token::Comma => "`,`".into(),
            Token::End => "the end".into(),
        }
    }
}

/// Splits an expression into tokens with their 1-based character positions.
fn tokens(text: &str) -> Result<Vec<(Token, usize)>, ParseError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let error = |position: usize, message: String| ParseError { position: position + 1, message };
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let token = match c {
            '(' => Token::Open,
            ')' => Token::Close,
            '[' => Token::OpenList,
            ']' => Token::CloseList,
            ',' => Token::Comma,
            '=' | '!' | '<' | '>' => {
                let next = chars.get(i + 1).copied();
                let (op, len) = match (c, next) {
                    ('=', Some('=')) => (Compare::Eq, 2),
                    ('=', _) => (Compare::Eq, 1),
                    ('!', Some('=')) => (Compare::Ne, 2),
                    ('<', Some('>')) => (Compare::Ne, 2),
                    ('<', Some('=')) => (Compare::Le, 2),
                    ('<', _) => (Compare::Lt, 1),
                    ('>', Some('=')) => (Compare::Ge, 2),
                    ('>', _) => (Compare::Gt, 1),
                    _ => return Err(error(i, "`!` must be followed by `=`; to negate, write `not`".into())),
                };
                i += len;
                out.push((Token::Op(op), start + 1));
                continue;
            }
            '"' | '\'' => {
                let mut value = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(error(start, format!("this text has no closing {c}"))),
                        Some('\\') if matches!(chars.get(i + 1), Some(&q) if q == c || q == '\\') => {
                            value.push(chars[i + 1]);
                            i += 2;
                        }
                        Some(&q) if q == c => {
                            i += 1;
                            break;
                        }
                        Some(&other) => {
                            value.push(other);
                            i += 1;
                        }
                    }
                }
                out.push((Token::Text(value), start + 1));
                continue;
            }
            c if c.is_ascii_digit()
                || (c == '-' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit() || *d == '.'))
                || c == '.' =>
            {
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.' || chars[i] == '_') {
                    i += 1;
                }
                let raw: String = chars[start..i].iter().filter(|&&c| c != '_').collect();
                let number: f64 = raw.parse().map_err(|_| error(start, format!("`{raw}` is not a number")))?;
                out.push((Token::Number(number), start + 1));
                continue;
            }
            c if c.is_alphabetic() || c == '_' => {
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '.') {
                    i += 1;
                }
                out.push((Token::Word(chars[start..i].iter().collect()), start + 1));
                continue;
            }
            other => return Err(error(i, format!("unexpected `{other}`"))),
        };
        i += 1;
        out.push((token, start + 1));
    }
    out.push((Token::End, chars.len() + 1));
    Ok(out)
}

const KEYWORDS: [&str; 9] = ["and", "or", "not", "contains", "in", "between", "is", "null", "true"];

fn is_keyword(word: &str, keyword: &str) -> bool {
    word.eq_ignore_ascii_case(keyword)
}

/// How deeply parentheses and `not` may nest in an expression.
const MAX_NESTING: usize = 64;

/// How many conditions an expression may join with `and` and `or` (its tree is as deep as the
/// chain is long, and evaluating or dropping it recurses that deep).
const MAX_CONDITIONS: usize = 1_000;

struct Parser {
    tokens: Vec<(Token, usize)>,
    at: usize,
    /// Parentheses and `not`s open around the current position.
    depth: usize,
    /// Conditions read so far.
    conditions: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.at].0
    }

    fn position(&self) -> usize {
        self.tokens[self.at].1
    }

    fn next(&mut self) -> (Token, usize) {
        let token = self.tokens[self.at].clone();
        if self.at + 1 < self.tokens.len() {
            self.at += 1;
        }
        token
    }

    fn fail<T>(&self, expected: &str) -> Result<T, ParseError> {
        Err(ParseError {
            position: self.position(),
            message: format!("expected {expected}, found {}", self.peek().describe()),
        })
    }

    fn keyword(&mut self, keyword: &str) -> bool {
        if matches!(self.peek(), Token::Word(w) if is_keyword(w, keyword)) {
            self.next();
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.and()?;
        while self.keyword("or") {
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.not()?;
        while self.keyword("and") {
            left = Expr::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, ParseError> {
        if self.keyword("not") {
            self.nest()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.condition()
    }

    /// Enters one more level of nesting, refused past [`MAX_NESTING`].
    fn nest(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(ParseError {
                position: self.position(),
                message: format!("parentheses and `not` nested more than {MAX_NESTING} deep"),
            });
        }
        Ok(())
    }

    fn condition(&mut self) -> Result<Expr, ParseError> {
        self.conditions += 1;
        if self.conditions > MAX_CONDITIONS {
            return Err(ParseError {
                position: self.position(),
                message: format!("more than {MAX_CONDITIONS} conditions in one expression"),
            });
        }
        if *self.peek() == Token::Open {
            self.nest()?;
            self.next();
            let inner = self.or()?;
            if *self.peek() != Token::Close {
                return self.fail("`)` to close the `(`");
            }
            self.next();
            self.depth -= 1;
            return Ok(inner);
        }
        let left = self.operand()?;
        if let Token::Op(op) = *self.peek() {
            self.next();
            return Ok(Expr::Compare(left, op, self.operand()?));
        }
        if self.keyword("contains") {
            return Ok(Expr::Contains(left, self.operand()?));
        }
        if self.keyword("in") {
            return Ok(Expr::In(left, self.list()?));
        }
        if self.keyword("between") {
            let low = self.operand()?;
            if !self.keyword("and") {
                return self.fail("`and` between the two bounds of `between`");
            }
            return Ok(Expr::Between(left, low, self.operand()?));
        }
        if self.keyword("is") {
            let negated = self.keyword("not");
            if !self.keyword("null") {
                return self.fail("`null` after `is`");
            }
            return Ok(Expr::IsNull(left, negated));
        }
        Ok(Expr::Truthy(left))
    }

    fn list(&mut self) -> Result<Vec<Operand>, ParseError> {
        if *self.peek() != Token::OpenList {
            return self.fail("a list such as [\"web\", \"app\"] after `in`");
        }
        self.next();
        let mut items = Vec::new();
        loop {
            if *self.peek() == Token::CloseList && items.is_empty() {
                self.next();
                return Ok(items);
            }
            items.push(self.operand()?);
            match self.next() {
                (Token::Comma, _) => {}
                (Token::CloseList, _) => return Ok(items),
                _ => {
                    self.at -= 1;
                    return self.fail("`,` or `]` in the list");
                }
            }
        }
    }

    fn operand(&mut self) -> Result<Operand, ParseError> {
        let position = self.position();
        let literal = match self.peek().clone() {
            Token::Number(n) => Literal::Number(n),
            Token::Text(t) => Literal::Text(t),
            Token::Word(w) if is_keyword(&w, "true") => Literal::Bool(true),
            Token::Word(w) if is_keyword(&w, "false") => Literal::Bool(false),
            Token::Word(w) if is_keyword(&w, "null") => Literal::Null,
            Token::Word(w) if KEYWORDS.iter().any(|k| is_keyword(&w, k)) => {
                return self.fail("a field, a number or a text")
            }
            Token::Word(w) => {
                self.next();
                return Field::parse(&w).map(Operand::Field).map_err(|message| ParseError { position, message });
            }
            _ => return self.fail("a field, a number or a text"),
        };
        self.next();
        Ok(Operand::Literal(literal))
    }
}

/// A segment expression, parsed: which profiles belong to a segment.
///
/// The language: comparisons `= != < <= > >=`, `contains` (a list holds a value, or a text
/// holds another), `in [..]`, `between .. and ..`, `is null` / `is not null`, combined with
/// `and`, `or`, `not` and parentheses; texts in double or single quotes; text compares without
/// regard to case; a comparison with a missing value is false. A field alone is a condition
/// (true when it is true, non-zero or not empty). Fields: see [`Segment::FIELDS`].
///
/// ```
/// use omnitwin::Segment;
/// let vip = Segment::parse(r#"rfm.monetary_score >= 4 and channels contains "store" and age between 25 and 35"#)?;
/// assert!(vip.to_string().contains("store"));
/// let err = Segment::parse("orders >= ").unwrap_err();
/// assert!(err.to_string().contains("position 11"), "{err}");
/// let err = Segment::parse("rfm.recency_scor >= 4").unwrap_err();
/// assert!(err.to_string().contains("recency_score"), "{err}");
/// # Ok::<(), omnitwin::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    text: String,
    pub(crate) expr: Expr,
    /// `(purpose, channel)` members must have consented to, lowercased.
    pub(crate) consent: Option<(String, String)>,
}

impl Segment {
    /// The fields an expression can read (a `<…>` part is any name).
    pub const FIELDS: &'static [&'static str] = FIELD_NAMES;

    /// Parses an expression; an error names the 1-based character position and what was
    /// expected there.
    pub fn parse(text: &str) -> crate::Result<Segment> {
        Self::parse_inner(text).map_err(|e| crate::Error::InvalidExpression {
            expression: text.to_owned(),
            position: e.position,
            message: e.message,
        })
    }

    pub(crate) fn parse_inner(text: &str) -> Result<Segment, ParseError> {
        let mut parser = Parser { tokens: tokens(text)?, at: 0, depth: 0, conditions: 0 };
        if *parser.peek() == Token::End {
            return parser.fail("a condition");
        }
        let expr = parser.or()?;
        if *parser.peek() != Token::End {
            return parser.fail("`and`, `or` or the end");
        }
        Ok(Segment { text: text.to_owned(), expr, consent: None })
    }

    /// The segment kept to profiles that consented to `purpose` (`marketing`) on a contact
    /// `channel` (`email`, `sms`, `zalo`, `phone`): what a campaign on that channel may reach.
    pub fn requiring_consent(mut self, purpose: &str, channel: &str) -> Segment {
        self.consent = Some((purpose.trim().to_lowercase(), channel.trim().to_lowercase()));
        self
    }

    /// The purpose a campaign's consent is checked for when none is named.
    pub const DEFAULT_PURPOSE: &'static str = "marketing";

    /// The segment a campaign on `channel` may reach: without a channel, unchanged; with one,
    /// [`Segment::requiring_consent`] for `purpose` (by default
    /// [`Segment::DEFAULT_PURPOSE`]). The one rule behind Python's `segment(expr, channel,
    /// purpose)` and Node's `segment(expr, { channel, purpose })`.
    ///
    /// ```
    /// use omnitwin::Segment;
    /// let all = Segment::parse("orders >= 1")?;
    /// assert_eq!(all.clone().for_campaign(None, None), all);
    /// let email = Segment::parse("orders >= 1")?.for_campaign(Some("email"), None);
    /// assert_eq!(email, Segment::parse("orders >= 1")?.requiring_consent("marketing", "email"));
    /// # Ok::<(), omnitwin::Error>(())
    /// ```
    pub fn for_campaign(self, channel: Option<&str>, purpose: Option<&str>) -> Segment {
        match channel {
            Some(channel) => self.requiring_consent(purpose.unwrap_or(Segment::DEFAULT_PURPOSE), channel),
            None => self,
        }
    }

    /// The first `traits.<name>` the expression reads that is not among `defined` (the
    /// config's user-defined traits), as an error at its position.
    pub(crate) fn undefined_trait<'a>(&self, defined: impl Iterator<Item = &'a str> + Clone) -> Option<ParseError> {
        let name = self.trait_names().into_iter().find(|name| !defined.clone().any(|d| d == *name))?;
        let needle = format!("traits.{name}");
        let position = self.text.find(&needle).map_or(1, |at| self.text[..at].chars().count() + 1);
        let known: Vec<&str> = defined.collect();
        let known = if known.is_empty() { "none".to_owned() } else { known.join(", ") };
        Some(ParseError {
            position,
            message: format!("`{needle}` is not defined; the config's traits.custom has: {known}"),
        })
    }

    /// The user-defined trait names the expression reads (`traits.<name>`).
    fn trait_names(&self) -> Vec<&str> {
        fn operand<'a>(o: &'a Operand, out: &mut Vec<&'a str>) {
            if let Operand::Field(Field::Custom(name)) = o {
                out.push(name);
            }
        }
        fn walk<'a>(e: &'a Expr, out: &mut Vec<&'a str>) {
            match e {
                Expr::And(a, b) | Expr::Or(a, b) => {
                    walk(a, out);
                    walk(b, out);
                }
                Expr::Not(a) => walk(a, out),
                Expr::Compare(a, _, b) | Expr::Contains(a, b) => {
                    operand(a, out);
                    operand(b, out);
                }
                Expr::In(a, list) => {
                    operand(a, out);
                    list.iter().for_each(|o| operand(o, out));
                }
                Expr::Between(a, b, c) => [a, b, c].into_iter().for_each(|o| operand(o, out)),
                Expr::IsNull(a, _) | Expr::Truthy(a) => operand(a, out),
            }
        }
        let mut out = Vec::new();
        walk(&self.expr, &mut out);
        out
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> ParseError {
        Segment::parse_inner(text).unwrap_err()
    }

    #[test]
    fn precedence_and_forms() {
        let s = Segment::parse_inner("a_is_not_a_field or orders > 1").unwrap_err();
        assert_eq!(s.position, 1);
        let s = Segment::parse_inner("orders > 1 or orders = 0 and not cross_device").unwrap();
        // `and` binds tighter than `or`.
        assert!(matches!(s.expr, Expr::Or(_, ref right) if matches!(**right, Expr::And(_, _))));
        for ok in [
            "stage in ['repeat', \"loyal\"]",
            "city is not null and age between 18 and 30.5",
            "(orders >= 2 or revenue > 1_000_000) and consent.marketing.email",
            "purchases.store > 0 and interactions.web >= 3",
            "traits.spend_30d > 0",
            "NOT abandoned_cart",
            "attributes.tier = 'gold'",
            "name_of_thing_x", // an unknown bare name is an error, checked below
        ] {
            let parsed = Segment::parse_inner(ok);
            assert_eq!(parsed.is_ok(), !ok.starts_with("name_of"), "{ok}: {parsed:?}");
        }
    }

    #[test]
    fn errors_point_at_the_position() {
        assert_eq!(error("orders >").position, 9);
        assert_eq!(error("").position, 1);
        assert_eq!(error("orders > 1 orders").position, 12);
        assert_eq!(error("(orders > 1").position, 12);
        assert_eq!(error("city = \"Hà Nội").position, 8);
        assert_eq!(error("stage in 'x'").position, 10);
        assert_eq!(error("age between 1 or 2").position, 15);
        assert_eq!(error("orders ! 1").position, 8);
        assert_eq!(error("orders > 1 and").position, 15);
        let e = error("rfm.recency >= 4");
        assert_eq!(e.position, 1);
        assert!(e.message.contains("rfm.recency_score"), "{}", e.message);
        // Positions count characters, not bytes.
        assert_eq!(error("city = 'Hà Nội' and and").position, 21);
    }
}
