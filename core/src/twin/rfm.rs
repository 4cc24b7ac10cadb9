//! RFM scores: quintile breakpoints over all buyers, and a buyer's scores against them.

use serde::{Deserialize, Serialize};

/// Quintile breakpoints of recency (the last purchase's time), frequency (purchases) and
/// monetary value (revenue) over every buyer with a timed purchase (quantiles interpolated
/// between neighbours, as `numpy.quantile` does). A buyer's score on each is 1 plus the number
/// of breakpoints below their value, so 5 is the top fifth (of two buyers, one scores 1 and the
/// other 5).
///
/// A batch engine computes the scale from everything it holds; a live engine fixes it when it
/// goes live (like the matching model), so scores do not shift under other profiles with each
/// arrival; [`Engine::set_rfm_scale`](crate::Engine::set_rfm_scale) sets one.
///
/// ```
/// use omnitwin::RfmScale;
/// let buyers: Vec<(i64, u32, f64)> = (1..=10).map(|i| (i * 1000, i as u32, i as f64 * 10.0)).collect();
/// let scale = RfmScale::from_buyers(&buyers);
/// assert_eq!(scale.buyers, 10);
/// assert_eq!(scale.scores(10_000, 10, 100.0), (5, 5, 5));
/// assert_eq!(scale.scores(1_000, 1, 10.0), (1, 1, 1));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RfmScale {
    /// How many buyers the breakpoints were computed over.
    pub buyers: u64,
    /// Breakpoints of the last purchase's time (epoch ms), ascending.
    pub recency: Vec<f64>,
    /// Breakpoints of the number of purchases, ascending.
    pub frequency: Vec<f64>,
    /// Breakpoints of revenue, ascending.
    pub monetary: Vec<f64>,
}

impl RfmScale {
    /// Checks the breakpoints: finite and ascending, at most four per measure (what scores
    /// from 1 to 5 need). The store checks what it writes and reads by this.
    pub fn check(&self) -> crate::Result<()> {
        for (name, points) in [("recency", &self.recency), ("frequency", &self.frequency), ("monetary", &self.monetary)]
        {
            if points.len() > 4 || points.iter().any(|p| !p.is_finite()) || points.windows(2).any(|w| w[0] > w[1]) {
                return Err(crate::Error::Json(format!(
                    "RFM scale `{name}`: breakpoints must be at most four finite numbers in ascending order, got {points:?}"
                )));
            }
        }
        Ok(())
    }
}

/// The quantiles 0.2, 0.4, 0.6 and 0.8 of sorted values, interpolated linearly between the
/// neighbouring values.
fn breakpoints(sorted: &[f64]) -> Vec<f64> {
    if sorted.is_empty() {
        return Vec::new();
    }
    let last = (sorted.len() - 1) as f64;
    (1..=4)
        .map(|q| {
            let at = last * f64::from(q) / 5.0;
            let (low, high) = (at.floor() as usize, at.ceil() as usize);
            sorted[low] + (sorted[high] - sorted[low]) * (at - at.floor())
        })
        .collect()
}

/// 1 plus the number of breakpoints below `value`; 3 (the middle) on a scale with no buyers.
fn score(breaks: &[f64], value: f64) -> u8 {
    if breaks.is_empty() {
        return 3;
    }
    1 + breaks.iter().filter(|b| **b < value).count() as u8
}

impl RfmScale {
    /// The scale of buyers given as (last purchase time, purchases, revenue).
    pub fn from_buyers(buyers: &[(i64, u32, f64)]) -> RfmScale {
        let sorted = |values: Vec<f64>| {
            let mut values: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
            values.sort_unstable_by(f64::total_cmp);
            values
        };
        let recency = sorted(buyers.iter().map(|b| b.0 as f64).collect());
        let frequency = sorted(buyers.iter().map(|b| f64::from(b.1)).collect());
        let monetary = sorted(buyers.iter().map(|b| b.2).collect());
        RfmScale {
            buyers: buyers.len() as u64,
            recency: breakpoints(&recency),
            frequency: breakpoints(&frequency),
            monetary: breakpoints(&monetary),
        }
    }

    /// The recency, frequency and monetary scores (1–5) of a buyer.
    pub fn scores(&self, last_purchase: i64, frequency: u32, monetary: f64) -> (u8, u8, u8) {
        (
            score(&self.recency, last_purchase as f64),
            score(&self.frequency, f64::from(frequency)),
            score(&self.monetary, monetary),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quintiles_split_buyers_into_fifths() {
        let buyers: Vec<(i64, u32, f64)> = (1..=100).map(|i| (i, i as u32, i as f64)).collect();
        let scale = RfmScale::from_buyers(&buyers);
        assert_eq!(scale.recency, vec![20.8, 40.6, 60.4, 80.2]);
        let mut counts = [0; 5];
        for b in &buyers {
            counts[scale.scores(b.0, b.1, b.2).0 as usize - 1] += 1;
        }
        assert_eq!(counts, [20, 20, 20, 20, 20]);
    }

    #[test]
    fn ties_share_a_score_and_empty_scales_give_the_middle() {
        // Most buyers bought once: they all score 1 on frequency; two purchases is the top.
        let buyers: Vec<(i64, u32, f64)> = (0..10).map(|i| (i, if i < 8 { 1 } else { 2 }, 1.0)).collect();
        let scale = RfmScale::from_buyers(&buyers);
        assert_eq!(scale.scores(0, 1, 1.0).1, 1);
        assert_eq!(scale.scores(0, 2, 1.0).1, 5);
        assert_eq!(RfmScale::default().scores(0, 1, 1.0), (3, 3, 3));
        // Two buyers: the bottom and the top score.
        let scale = RfmScale::from_buyers(&[(10, 1, 5.0), (12, 2, 9.0)]);
        assert_eq!((scale.scores(10, 1, 5.0), scale.scores(12, 2, 9.0)), ((1, 1, 1), (5, 5, 5)));
    }
}
