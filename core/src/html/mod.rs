//! HTML views of a profile and of an explanation, self-contained (inline styles, an inline SVG
//! waterfall, no scripts): what a notebook shows for them (Python's `_repr_html_`) and what a
//! backend can serve as is.
//!
//! ```
//! use omnitwin::{html, Config, Engine, Touchpoint};
//!
//! let mut engine = Engine::new(Config::default())?;
//! engine.ingest([
//!     Touchpoint { email: Some("an@gmail.com".into()), full_name: Some("Nguyễn An".into()), ..Touchpoint::new("web-1") },
//!     Touchpoint { email: Some("AN@gmail.com".into()), ..Touchpoint::new("pos-1") },
//! ])?;
//! let card = engine.profile_html(&engine.profile_of("web-1").unwrap());
//! assert!(card.contains("Nguyễn An") && card.contains("an@gmail.com") && card.contains("timeline"));
//! let why = html::explanation(&engine.explain("web-1", "pos-1")?);
//! assert!(why.contains("web-1") && why.contains("pos-1"));
//! # Ok::<(), omnitwin::Error>(())
//! ```

mod report;

use std::fmt::Write;

pub use report::report;

use crate::engine::Explanation;
use crate::matching::PairExplanation;
use crate::model::{IdentifierStatus, Profile, ProfileStatus, Touchpoint};

/// Text made safe to place in HTML.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A UTC timestamp in epoch milliseconds as `YYYY-MM-DD HH:MM`.
pub(crate) fn when(millis: Option<i64>) -> String {
    millis
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map_or_else(|| "—".to_owned(), |t| t.format("%Y-%m-%d %H:%M").to_string())
}

const TABLE: &str = "border-collapse:collapse;font-size:13px;margin:4px 0 10px 0";
const CELL: &str = "border-bottom:1px solid #ddd;padding:3px 10px 3px 0;text-align:left;vertical-align:top";

/// The twin in one line: orders and revenue, RFM, journey stage, preferred channel, cart,
/// consent and segments.
fn traits_line(p: &Profile) -> String {
    let t = &p.traits;
    let mut parts = vec![format!("journey: <b>{}</b>", t.journey.stage.as_str())];
    if t.orders > 0 {
        parts.push(format!("{} orders, revenue {:.0}", t.orders, t.revenue));
    }
    if let Some(rfm) = &t.rfm {
        parts.push(format!("RFM {}{}{}", rfm.recency_score, rfm.frequency_score, rfm.monetary_score));
    }
    if let Some(channel) = &t.preferred_channel {
        parts.push(format!("prefers {}", escape(channel)));
    }
    if t.devices.len() > 1 {
        parts.push(format!("{} devices", t.devices.len()));
    }
    if !t.cart.is_empty() {
        let items: Vec<String> = t.cart.iter().map(|i| format!("{} ×{}", escape(&i.sku), i.quantity)).collect();
        parts.push(format!("cart: {}", items.join(", ")));
    }
    if let Some(cart) = &t.abandoned_cart {
        parts.push(format!("abandoned a cart {}", when(Some(cart.at))));
    }
    for c in &p.consent {
        parts.push(format!(
            "{} {} on {}",
            if c.granted { "consents to" } else { "withdrew" },
            escape(&c.purpose),
            escape(&c.channel)
        ));
    }
    if !p.segments.is_empty() {
        parts.push(format!("segments: {}", escape(&p.segments.join(", "))));
    }
    format!("<br>{}", parts.join("; "))
}

/// A profile as an HTML card: status, counts and dates, channels, identifiers (with how each
/// took part in linking and the spellings seen), attributes with provenance (value, rule,
/// source, touchpoint, time), and its timeline: `touchpoints` (the profile's own, as
/// [`Engine::profile_html`](crate::Engine::profile_html) gives them) in time order, or the
/// touchpoint ids alone when none are given.
pub fn profile(p: &Profile, touchpoints: &[&Touchpoint]) -> String {
    let mut out = String::new();
    let status = match p.status {
        ProfileStatus::Active => "active".to_owned(),
        ProfileStatus::Quarantined => format!("quarantined: {}", escape(&p.quarantine_reasons.join("; "))),
    };
    let _ = write!(
        out,
        "<div style=\"font-family:sans-serif\"><b>Profile {}</b> ({status}): {} touchpoints, first seen {}, last seen {}<br>channels: {}; sources: {}",
        escape(&p.profile_id),
        p.touchpoint_count,
        when(p.first_seen),
        when(p.last_seen),
        escape(&p.channels.join(", ")),
        escape(&p.sources.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")),
    );
    out.push_str(&traits_line(p));
    let _ = write!(
        out,
        "<table style=\"{TABLE}\"><tr><th style=\"{CELL}\">identifier</th><th style=\"{CELL}\">value</th><th style=\"{CELL}\">seen as</th><th style=\"{CELL}\">touchpoints</th><th style=\"{CELL}\">linking</th></tr>"
    );
    for id in &p.identifiers {
        let kind = match &id.scope {
            Some(scope) => format!("{} [{}]", id.kind.as_str(), scope),
            None => id.kind.as_str().to_owned(),
        };
        let linking = match id.status {
            IdentifierStatus::Linked => "linked",
            IdentifierStatus::Blocked => "blocked value",
            IdentifierStatus::Shared => "shared by different people",
            IdentifierStatus::PartlyRefused => "partly refused (limit)",
        };
        let raw: Vec<&str> = id.raw_values.iter().map(|r| r.as_str()).collect();
        let _ = write!(
            out,
            "<tr><td style=\"{CELL}\">{}</td><td style=\"{CELL}\">{}</td><td style=\"{CELL}\">{}</td><td style=\"{CELL}\">{}</td><td style=\"{CELL}\">{linking}</td></tr>",
            escape(&kind),
            escape(&id.value),
            escape(&raw.join(" · ")),
            id.touchpoint_count
        );
    }
    out.push_str("</table>");
    let _ = write!(
        out,
        "<table style=\"{TABLE}\"><tr><th style=\"{CELL}\">attribute</th><th style=\"{CELL}\">value</th><th style=\"{CELL}\">rule</th><th style=\"{CELL}\">from</th><th style=\"{CELL}\">when</th><th style=\"{CELL}\">also seen</th></tr>"
    );
    for (name, a) in &p.attributes {
        let others: Vec<String> =
            a.observed.iter().filter(|o| o.value != a.value).map(|o| format!("{} (×{})", o.value, o.count)).collect();
        let from = match &a.source {
            Some(source) => format!("{} / {}", source, a.touchpoint_id),
            None => a.touchpoint_id.to_string(),
        };
        let _ = write!(
            out,
            "<tr><td style=\"{CELL}\">{}</td><td style=\"{CELL}\"><b>{}</b></td><td style=\"{CELL}\">{}</td><td style=\"{CELL}\">{}</td><td style=\"{CELL}\">{}</td><td style=\"{CELL}\">{}</td></tr>",
            escape(name),
            escape(&a.value),
            escape(&a.rule),
            escape(&from),
            when(a.timestamp),
            escape(&others.join(", "))
        );
    }
    out.push_str("</table>");
    if touchpoints.is_empty() {
        let ids: Vec<&str> = p.touchpoint_ids.iter().map(|t| t.as_str()).collect();
        let _ = write!(out, "<small>touchpoints: {}</small></div>", escape(&ids.join(", ")));
        return out;
    }
    out.push_str(&timeline(touchpoints));
    out.push_str("</div>");
    out
}

/// Touchpoints in time order (those without a time last): when, channel, source, what
/// happened, amount.
fn timeline(touchpoints: &[&Touchpoint]) -> String {
    let ordered = crate::twin::in_time_order(touchpoints);
    let mut out = format!(
        "<b>timeline</b><table style=\"{TABLE}\"><tr><th style=\"{CELL}\">when</th><th style=\"{CELL}\">channel</th><th style=\"{CELL}\">source</th><th style=\"{CELL}\">event</th><th style=\"{CELL}\">amount</th><th style=\"{CELL}\">touchpoint</th></tr>"
    );
    for tp in ordered {
        let amount = match (tp.amount, &tp.currency) {
            (Some(amount), Some(currency)) => format!("{amount} {currency}"),
            (Some(amount), None) => amount.to_string(),
            _ => String::new(),
        };
        let _ = write!(
            out,
            "<tr><td style=\"{CELL}\">{}</td><td style=\"{CELL}\">{}</td><td style=\"{CELL}\">{}</td><td style=\"{CELL}\">{}</td><td style=\"{CELL}\">{}</td><td style=\"{CELL}\">{}</td></tr>",
            when(tp.timestamp),
            escape(tp.channel.as_ref().map_or("", |c| c.as_str())),
            escape(tp.source.as_deref().unwrap_or_default()),
            escape(tp.event_type.as_deref().unwrap_or_default()),
            escape(&amount),
            escape(&tp.touchpoint_id)
        );
    }
    out.push_str("</table>");
    out
}

/// An explanation as HTML: the summary, the chain of steps with how each fared, and, when
/// matching scored the pair, its match-weight waterfall as an inline SVG chart.
pub fn explanation(e: &Explanation) -> String {
    let mut out = format!("<div style=\"font-family:sans-serif\"><b>{}</b>", escape(&e.summary));
    if !e.path.is_empty() {
        let _ = write!(
            out,
            "<table style=\"{TABLE}\"><tr><th style=\"{CELL}\">from</th><th style=\"{CELL}\">through</th><th style=\"{CELL}\">to</th><th style=\"{CELL}\">outcome</th></tr>"
        );
        for step in &e.path {
            let outcome = step.status.to_string();
            let _ = write!(
                out,
                "<tr><td style=\"{CELL}\">{}</td><td style=\"{CELL}\">{}</td><td style=\"{CELL}\">{}</td><td style=\"{CELL}\">{}</td></tr>",
                escape(&step.from),
                escape(&step.identifier),
                escape(&step.to),
                escape(&outcome)
            );
        }
        out.push_str("</table>");
    }
    if let Some(score) = &e.match_score {
        out.push_str(&waterfall(score));
    }
    out.push_str("</div>");
    out
}

/// The match-weight waterfall of a scored pair: the prior, then each comparison's weight (its
/// level's and the term-frequency adjustment) as a bar from the running total, and the final
/// weight with its probability against the threshold.
pub fn waterfall(score: &PairExplanation) -> String {
    let mut steps: Vec<(String, f64)> = vec![("prior".to_owned(), score.prior_weight)];
    steps.extend(
        score.parts.iter().map(|p| (format!("{}: {}", p.comparison, p.level), p.weight + p.term_frequency_adjustment)),
    );
    let mut running = 0.0f64;
    let mut spans = Vec::with_capacity(steps.len() + 1);
    for (label, weight) in &steps {
        spans.push((label.clone(), running, running + weight));
        running += weight;
    }
    spans.push(("total".to_owned(), 0.0, running));
    let low = spans.iter().map(|(_, a, b)| a.min(*b)).fold(0.0f64, f64::min);
    let high = spans.iter().map(|(_, a, b)| a.max(*b)).fold(0.0f64, f64::max);
    let (label_width, bar_width, row) = (230.0, 360.0, 18.0);
    let scale = bar_width / (high - low).max(1e-9);
    let x = |w: f64| label_width + (w - low) * scale;
    let height = row * spans.len() as f64 + 24.0;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{height}\" style=\"font:12px sans-serif\">",
        label_width + bar_width + 70.0
    );
    let _ = write!(
        svg,
        "<line x1=\"{0:.1}\" y1=\"0\" x2=\"{0:.1}\" y2=\"{1:.1}\" stroke=\"#999\"/>",
        x(0.0),
        row * spans.len() as f64
    );
    for (i, (label, from, to)) in spans.iter().enumerate() {
        let y = row * i as f64;
        let (left, right) = (x(from.min(*to)), x(from.max(*to)));
        let colour = if i == spans.len() - 1 {
            "#555"
        } else if to >= from {
            "#2a9d4b"
        } else {
            "#c0392b"
        };
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text><rect x=\"{left:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{colour}\"/><text x=\"{:.1}\" y=\"{:.1}\">{:+.2}</text>",
            label_width - 6.0,
            y + 13.0,
            escape(label),
            y + 3.0,
            (right - left).max(1.0),
            row - 6.0,
            right + 4.0,
            y + 13.0,
            to - from
        );
    }
    let decision = if score.match_probability >= score.threshold { "at or above" } else { "below" };
    let _ = write!(
        svg,
        "<text x=\"0\" y=\"{:.1}\">match weight {:.2}: probability {:.4}, {decision} the threshold {}</text></svg>",
        height - 6.0,
        score.match_weight,
        score.match_probability,
        score.threshold
    );
    svg
}

impl crate::Engine {
    /// A profile as an HTML card with its timeline (see [`crate::html::profile`]): what a
    /// notebook shows for it.
    pub fn profile_html(&self, profile: &crate::Profile) -> String {
        let touchpoints: Vec<&crate::Touchpoint> =
            profile.touchpoint_ids.iter().filter_map(|id| self.touchpoint(id)).collect();
        self::profile(profile, &touchpoints)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("<b>\"Tom\" & 'Jerry'</b>"), "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;");
    }

    #[test]
    fn the_waterfall_has_a_bar_per_comparison_and_the_decision() {
        let part = |comparison: &str, weight: f64| crate::matching::ComparisonPart {
            comparison: comparison.into(),
            values: (None, None),
            level: "exact".into(),
            weight,
            term_frequency_adjustment: 0.0,
        };
        let score = PairExplanation {
            left: "a".into(),
            right: "b".into(),
            blocking_rule: Some(0),
            prior_weight: -10.0,
            parts: vec![part("name <x>", 8.0), part("phone", 9.5), part("city", -1.0)],
            match_weight: 6.5,
            match_probability: 0.989,
            threshold: 0.95,
            linked: true,
            chain: Vec::new(),
        };
        let svg = waterfall(&score);
        assert_eq!(svg.matches("<rect").count(), 5, "prior, three comparisons, total");
        assert!(svg.contains("name &lt;x&gt;: exact") && !svg.contains("<x>"));
        assert!(svg.contains("+9.50") && svg.contains("-1.00"));
        assert!(svg.contains("at or above the threshold 0.95"));
    }
}
