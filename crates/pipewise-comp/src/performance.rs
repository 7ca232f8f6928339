//! How a team's number is made: attainment beside the share of reps at quota, how concentrated
//! bookings are in the top performers, what the number would be without the top one, and which
//! reps stand out from their peers on a measure, either way.
//!
//! The seeds' warning is the reason: a team at 99% of quota can hide that fewer than half its
//! reps reached theirs, carried by one or two people.

use pipewise_core::UserId;
use rust_decimal::Decimal;

/// One rep's bookings in a period against their quota.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RepResult {
    pub person: UserId,
    pub bookings: Decimal,
    /// `None` for a rep without a quota in the period: counted in bookings, not in the share.
    pub quota: Option<Decimal>,
}

/// A team's (or the organisation's) attainment and how it is made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamAttainment {
    pub bookings: Decimal,
    pub quota: Decimal,
    /// `bookings / quota`; `None` without a quota.
    pub attainment: Option<Decimal>,
    pub reps_with_quota: usize,
    pub reps_at_quota: usize,
    /// `reps_at_quota / reps_with_quota`.
    pub share_at_quota: Option<Decimal>,
    /// The rep with the most bookings (the first listed on a tie).
    pub top: Option<RepResult>,
    /// The top rep's share of the bookings.
    pub top_share: Option<Decimal>,
    /// The share of the bookings made by the top fifth of reps (at least one rep).
    pub top_fifth_share: Option<Decimal>,
    /// Attainment had the top rep's bookings not been made, against the same quota.
    pub without_top: Option<Decimal>,
}

/// Sums `reps`; `team_quota` overrides the sum of their quotas (a team quota may be set below the
/// sum when managers over-assign).
pub fn team_attainment(reps: &[RepResult], team_quota: Option<Decimal>) -> TeamAttainment {
    let bookings: Decimal = reps.iter().map(|rep| rep.bookings).sum();
    let quota = team_quota.unwrap_or_else(|| reps.iter().filter_map(|rep| rep.quota).sum());
    let with_quota: Vec<&RepResult> = reps.iter().filter(|rep| rep.quota.is_some_and(|quota| quota > Decimal::ZERO)).collect();
    let at_quota = with_quota.iter().filter(|rep| rep.quota.is_some_and(|quota| rep.bookings >= quota)).count();
    let fraction = |part: Decimal, whole: Decimal| if whole > Decimal::ZERO { part.checked_div(whole) } else { None };

    let mut ranked: Vec<&RepResult> = reps.iter().collect();
    ranked.sort_by_key(|rep| std::cmp::Reverse(rep.bookings));
    let top = ranked.first().map(|rep| **rep);
    let fifth = reps.len().div_ceil(5);
    let top_fifth: Decimal = ranked.iter().take(fifth).map(|rep| rep.bookings).sum();
    TeamAttainment {
        bookings,
        quota,
        attainment: fraction(bookings, quota),
        reps_with_quota: with_quota.len(),
        reps_at_quota: at_quota,
        share_at_quota: fraction(Decimal::from(at_quota), Decimal::from(with_quota.len())),
        top,
        top_share: top.and_then(|rep| fraction(rep.bookings, bookings)),
        top_fifth_share: if reps.is_empty() { None } else { fraction(top_fifth, bookings) },
        without_top: top.and_then(|rep| fraction(bookings - rep.bookings, quota)),
    }
}

/// Which way a rep stands out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    High,
    Low,
}

/// Reps whose value stands out from the others' on one measure: a modified z-score
/// (0.6745 × distance from the median / median absolute deviation) beyond 3.5, the usual robust
/// rule, so one extreme rep cannot hide another. With fewer than five values, or no spread at
/// all, nobody is flagged.
pub fn outliers(values: &[(UserId, Decimal)]) -> Vec<(UserId, Direction)> {
    if values.len() < 5 {
        return Vec::new();
    }
    let median = median(values.iter().map(|(_, value)| *value).collect());
    let deviation = median_of_deviations(values, median);
    if deviation.is_zero() {
        return Vec::new();
    }
    let limit = Decimal::new(35, 1);
    let factor = Decimal::new(6745, 4);
    values
        .iter()
        .filter_map(|(person, value)| {
            let score = factor * (*value - median) / deviation;
            if score > limit {
                Some((*person, Direction::High))
            } else if score < -limit {
                Some((*person, Direction::Low))
            } else {
                None
            }
        })
        .collect()
}

/// How widely a measure varies across reps: its quartiles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spread {
    pub min: Decimal,
    pub lower_quartile: Decimal,
    pub median: Decimal,
    pub upper_quartile: Decimal,
    pub max: Decimal,
}

/// The spread of `values` (e.g. each rep's win rate from one stage), `None` when empty.
/// Quartiles are medians of the lower and upper halves (Tukey's hinges).
pub fn spread(mut values: Vec<Decimal>) -> Option<Spread> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let half = values.len() / 2;
    let lower = values[..values.len().div_ceil(2)].to_vec();
    let upper = values[half..].to_vec();
    Some(Spread {
        min: values[0],
        lower_quartile: median(lower),
        median: median(values.clone()),
        upper_quartile: median(upper),
        max: values[values.len() - 1],
    })
}

fn median(mut values: Vec<Decimal>) -> Decimal {
    values.sort_unstable();
    let middle = values.len() / 2;
    match values.len() {
        0 => Decimal::ZERO,
        len if len % 2 == 1 => values[middle],
        _ => (values[middle - 1] + values[middle]) / Decimal::TWO,
    }
}

fn median_of_deviations(values: &[(UserId, Decimal)], median_value: Decimal) -> Decimal {
    median(values.iter().map(|(_, value)| (*value - median_value).abs()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().expect("a decimal")
    }

    #[test]
    fn a_team_at_99_percent_with_48_percent_of_reps_at_quota() {
        // 25 reps with a quota of 100,000 each: team quota 2,500,000.
        // 11 book exactly 100,000 and one star books 725,000: 12 at quota of 25 = 48%.
        // The other 13 book 50,000 each. Total 1,100,000 + 725,000 + 650,000 = 2,475,000 = 99%.
        let mut reps = Vec::new();
        for person in 0..11 {
            reps.push(RepResult { person: UserId(person), bookings: d("100000"), quota: Some(d("100000")) });
        }
        reps.push(RepResult { person: UserId(11), bookings: d("725000"), quota: Some(d("100000")) });
        for person in 12..25 {
            reps.push(RepResult { person: UserId(person), bookings: d("50000"), quota: Some(d("100000")) });
        }
        let team = team_attainment(&reps, None);
        assert_eq!(team.attainment, Some(d("0.99")));
        assert_eq!((team.reps_at_quota, team.reps_with_quota), (12, 25));
        assert_eq!(team.share_at_quota, Some(d("0.48")));
        assert_eq!(team.top.map(|rep| rep.person), Some(UserId(11)));
        // Without the star: 1,750,000 / 2,500,000 = 70%.
        assert_eq!(team.without_top, Some(d("0.7")));
        // The top fifth (5 reps): 725,000 + 4 x 100,000 = 1,125,000 of 2,475,000.
        assert_eq!(team.top_fifth_share.map(|share| share.round_dp(4)), Some(d("0.4545")));
        assert_eq!(team.top_share.map(|share| share.round_dp(4)), Some(d("0.2929")));
    }

    #[test]
    fn outliers_are_flagged_both_ways_and_a_flat_team_flags_nobody() {
        let values: Vec<(UserId, Decimal)> = [30, 32, 31, 29, 30, 90, 2, 31]
            .iter()
            .enumerate()
            .map(|(person, rate)| (UserId(person as i64), Decimal::from(*rate)))
            .collect();
        // Median 30.5, deviations 0.5 1.5 0.5 1.5 0.5 59.5 28.5 0.5: MAD 1.0.
        // 90: 0.6745 x 59.5 = 40.1 > 3.5 high; 2: 0.6745 x -28.5 = -19.2 low.
        assert_eq!(outliers(&values), [(UserId(5), Direction::High), (UserId(6), Direction::Low)]);
        let flat: Vec<(UserId, Decimal)> = (0..6).map(|person| (UserId(person), d("0.25"))).collect();
        assert!(outliers(&flat).is_empty());
    }

    #[test]
    fn the_spread_of_stage_win_rates() {
        let rates = ["0.10", "0.20", "0.25", "0.40", "0.60"].map(d).to_vec();
        let spread = spread(rates).unwrap();
        // Halves with the median in both: 0.10 0.20 0.25 → 0.20; 0.25 0.40 0.60 → 0.40.
        assert_eq!(
            (spread.min, spread.lower_quartile, spread.median, spread.upper_quartile, spread.max),
            (d("0.10"), d("0.20"), d("0.25"), d("0.40"), d("0.60"))
        );
        assert_eq!(super::spread(Vec::new()), None);
    }
}
