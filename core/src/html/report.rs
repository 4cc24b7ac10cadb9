//! The omnichannel report as one self-contained HTML page: inline CSS and SVG charts, no
//! scripts and nothing fetched, so it opens offline and can be mailed as a file.

use std::fmt::Write;

use super::{escape, when};
use crate::twin::{OmnichannelReport, RevenueRow};

const PAGE: &str = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;max-width:1100px;margin:24px auto;padding:0 16px;color:#222";
const CARD: &str = "border:1px solid #e3e3e3;border-radius:8px;padding:12px 16px;margin:12px 0;overflow-x:auto";
const TABLE: &str = "border-collapse:collapse;font-size:13px";
const CELL: &str = "border-bottom:1px solid #eee;padding:3px 12px 3px 0;text-align:left";
const NUMBER: &str =
    "border-bottom:1px solid #eee;padding:3px 12px 3px 0;text-align:right;font-variant-numeric:tabular-nums";

/// A whole number with thin thousands separators.
fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// An amount, rounded to a whole number.
fn money(x: f64) -> String {
    if x.is_finite() && x >= 0.0 {
        count(x.round() as u64)
    } else {
        format!("{x:.0}")
    }
}

/// Horizontal bars (inline SVG): one labelled bar per row, scaled to the largest value.
fn bars(rows: &[(String, f64, String)], color: &str) -> String {
    if rows.is_empty() {
        return "<p style=\"color:#777\">No data.</p>".into();
    }
    let max = rows.iter().map(|r| r.1).fold(0.0_f64, f64::max).max(f64::MIN_POSITIVE);
    let (row_height, label_width, bar_width) = (24, 170, 520);
    let height = rows.len() * row_height + 4;
    let mut svg = format!(
        "<svg role=\"img\" viewBox=\"0 0 {} {height}\" style=\"width:100%;max-width:{}px;height:auto\" font-size=\"12\">",
        label_width + bar_width + 120,
        label_width + bar_width + 120
    );
    for (i, (label, value, text)) in rows.iter().enumerate() {
        let y = i * row_height;
        let width = (value / max * bar_width as f64).max(if *value > 0.0 { 1.0 } else { 0.0 });
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text><rect x=\"{label_width}\" y=\"{}\" width=\"{width:.1}\" height=\"{}\" fill=\"{color}\" rx=\"2\"><title>{}: {}</title></rect><text x=\"{:.1}\" y=\"{}\">{}</text>",
            label_width - 8,
            y + 16,
            escape(label),
            y + 4,
            row_height - 8,
            escape(label),
            escape(text),
            label_width as f64 + width + 6.0,
            y + 16,
            escape(text),
        );
    }
    svg.push_str("</svg>");
    svg
}

fn revenue_bars(rows: &[RevenueRow], color: &str) -> String {
    let rows: Vec<(String, f64, String)> = rows
        .iter()
        .map(|r| (r.channel.clone(), r.revenue, format!("{} ({} orders)", money(r.revenue), count(r.orders))))
        .collect();
    bars(&rows, color)
}

/// The transition matrix as a table shaded by count.
fn matrix(report: &OmnichannelReport) -> String {
    let mut channels: Vec<&str> =
        report.channel_transitions.iter().flat_map(|t| [t.from.as_str(), t.to.as_str()]).collect();
    channels.sort_unstable();
    channels.dedup();
    if channels.is_empty() {
        return "<p style=\"color:#777\">No timed touchpoints with channels.</p>".into();
    }
    let max = report.channel_transitions.iter().map(|t| t.count).max().unwrap_or(1).max(1);
    let mut html = format!("<table style=\"{TABLE}\"><tr><th style=\"{CELL}\">from ↓ / to →</th>");
    for to in &channels {
        let _ = write!(html, "<th style=\"{NUMBER}\">{}</th>", escape(to));
    }
    html.push_str("</tr>");
    for from in &channels {
        let _ = write!(html, "<tr><th style=\"{CELL}\">{}</th>", escape(from));
        for to in &channels {
            let n = report.channel_transitions.iter().find(|t| t.from == *from && t.to == *to).map_or(0, |t| t.count);
            let shade = (n as f64 / max as f64 * 0.85).clamp(0.0, 0.85);
            let ink = if shade > 0.45 { "#fff" } else { "#222" };
            let _ = write!(
                html,
                "<td style=\"{NUMBER};background:rgba(37,99,235,{shade:.2});color:{ink}\">{}</td>",
                if n == 0 { String::new() } else { count(n) }
            );
        }
        html.push_str("</tr>");
    }
    html.push_str("</table>");
    html
}

/// The first ten examples of a list (name, touchpoints, why) under a heading; nothing when
/// the list is empty.
fn listing<'a>(title: &str, rows: impl Iterator<Item = (&'a str, usize, String)>) -> String {
    let mut html = String::new();
    for (name, touchpoints, why) in rows.take(10) {
        let _ = write!(
            html,
            "<tr><td style=\"{CELL}\">{}</td><td style=\"{NUMBER}\">{}</td><td style=\"{CELL}\">{}</td></tr>",
            escape(name),
            count(touchpoints as u64),
            escape(&why)
        );
    }
    if html.is_empty() {
        return html;
    }
    format!("<h3 style=\"font-size:14px\">{}</h3><table style=\"{TABLE}\">{html}</table>", escape(title))
}

fn section(title: &str, note: &str, body: &str) -> String {
    format!(
        "<section style=\"{CARD}\"><h2 style=\"font-size:17px;margin:2px 0 4px 0\">{}</h2><p style=\"color:#666;font-size:13px;margin:0 0 8px 0\">{}</p>{body}</section>",
        escape(title),
        escape(note)
    )
}

/// The report as a self-contained HTML page (charts as inline SVG; nothing fetched).
///
/// ```
/// use omnitwin::{html, Config, Engine, Touchpoint};
/// let mut engine = Engine::new(Config::default())?;
/// engine.ingest([
///     Touchpoint { email: Some("an@x.vn".into()), channel: Some("web".parse().unwrap()), timestamp: Some(1), ..Touchpoint::new("t1") },
///     Touchpoint { email: Some("an@x.vn".into()), channel: Some("store".parse().unwrap()), timestamp: Some(2),
///                  event_type: Some("purchase".into()), amount: Some(250_000.0), ..Touchpoint::new("t2") },
/// ])?;
/// let page = html::report(&engine.report());
/// assert!(page.starts_with("<!DOCTYPE html>") && page.contains("<svg") && page.contains("250,000"));
/// assert!(!page.contains("http://") && !page.contains("https://"), "nothing is fetched");
/// # Ok::<(), omnitwin::Error>(())
/// ```
pub fn report(r: &OmnichannelReport) -> String {
    let id = &r.identity;
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1 style=\"font-size:22px;margin-bottom:2px\">Omnichannel report</h1><p style=\"color:#555;margin-top:0\">{} customers from {} touchpoints; traits as of {} UTC.</p>",
        count(r.profiles),
        count(id.touchpoints as u64),
        when(r.as_of)
    );
    let channel_rows: Vec<(String, f64, String)> = r
        .customers_by_channel_count
        .iter()
        .map(|row| {
            let label = match row.channels {
                0 => "no channel".to_owned(),
                1 => "1 channel".to_owned(),
                n => format!("{n} channels"),
            };
            let share = if r.profiles > 0 { row.profiles as f64 * 100.0 / r.profiles as f64 } else { 0.0 };
            (label, row.profiles as f64, format!("{} ({share:.1}%)", count(row.profiles)))
        })
        .collect();
    body.push_str(&section(
        "Customers by number of channels",
        "How many channels each customer used: omnichannel customers are the ones a single-channel view splits.",
        &bars(&channel_rows, "#2563eb"),
    ));
    let funnel: Vec<(String, f64, String)> = r
        .funnel
        .iter()
        .map(|row| {
            (
                row.stage.as_str().to_owned(),
                row.reached as f64,
                format!("{} reached, {} now", count(row.reached), count(row.current)),
            )
        })
        .collect();
    body.push_str(&section(
        "Journey funnel",
        "Customers who reached each stage (exposure → exploration → evaluation → purchase → repeat → loyal), and lapsed buyers.",
        &bars(&funnel, "#7c3aed"),
    ));
    body.push_str(&section(
        "Channel to channel",
        "How often a customer's next touchpoint came through each channel after one through another.",
        &matrix(r),
    ));
    body.push_str(&section(
        "Revenue by channel",
        "Purchases by the channel they were made on.",
        &revenue_bars(&r.revenue_by_channel, "#059669"),
    ));
    body.push_str(&section(
        "Revenue by first touch",
        "Each purchase credited to the channel the customer first came through.",
        &revenue_bars(&r.revenue_by_first_touch, "#0d9488"),
    ));
    body.push_str(&section(
        "Revenue by last touch",
        "Each purchase credited to the channel of the customer's touchpoint just before it.",
        &revenue_bars(&r.revenue_by_last_touch, "#65a30d"),
    ));
    let links = &id.links;
    let health: Vec<(&str, String)> = vec![
        ("Touchpoints", count(id.touchpoints as u64)),
        ("Profiles", count(id.profiles as u64)),
        ("Profiles joining several touchpoints", count(id.merged_profiles as u64)),
        ("Largest profile (touchpoints)", count(id.largest_profile as u64)),
        ("Links made through identifiers", count(links.links_made as u64)),
        ("Links made by probabilistic matching", count(links.matches_made as u64)),
        ("Refused: blocked (junk) value", count(links.refused_blocked_value as u64)),
        ("Refused: shared identifier", count(links.refused_shared_identifier as u64)),
        ("Refused: per-profile limit", count(links.refused_limit as u64)),
        ("Refused matches: per-profile limit", count(links.refused_match_limit as u64)),
        ("Shared identifiers found", count(links.shared_identifiers as u64)),
        ("Blocked identifiers", count(links.blocked_identifiers as u64)),
        ("Quarantined profiles", count(id.quarantined_profiles as u64)),
    ];
    let mut table = format!("<table style=\"{TABLE}\">");
    for (name, value) in health {
        let _ = write!(table, "<tr><td style=\"{CELL}\">{name}</td><td style=\"{NUMBER}\">{value}</td></tr>");
    }
    table.push_str("</table>");
    table.push_str(&listing(
        "Shared identifiers (most touchpoints first)",
        id.shared_identifiers.iter().map(|s| (s.identifier.as_str(), s.touchpoints, s.reason.clone())),
    ));
    table.push_str(&listing(
        "Quarantined profiles (largest first)",
        id.quarantined.iter().map(|q| (q.profile_id.as_str(), q.touchpoints, q.reasons.join("; "))),
    ));
    body.push_str(&section(
        "Identity health",
        "What linking did, what merge protection refused and why, and what needs review.",
        &table,
    ));
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>omnitwin: omnichannel report</title></head><body style=\"{PAGE}\">{body}<p style=\"color:#999;font-size:12px\">Made by omnitwin {}.</p></body></html>",
        env!("CARGO_PKG_VERSION")
    )
}
