//! Credits: who is credited with how much of a won deal.
//!
//! A deal's revenue splits share it out exactly: the shares add up to 100% and the credited
//! amounts add up to the deal to the last minor unit (largest remainder). Overlay splits (a
//! specialist's or a manager's credit on top) are free: any share, never counted in team bookings.

use pipewise_core::{Currency, Date, OpportunityId, UserId};
use rust_decimal::Decimal;

use crate::CompError;

/// Whether a split carries the deal's revenue (sums to 100%) or rides on top of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SplitKind {
    Revenue,
    Overlay,
}

/// One person's share of a deal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    pub person: UserId,
    pub kind: SplitKind,
    /// A fraction: 0.5 is half the deal.
    pub share: Decimal,
}

/// The conversion a credit was made with: the deal's own currency and the rate on its close date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FxUsed {
    pub from: Currency,
    /// Plan-currency units per unit of `from`.
    pub rate: Decimal,
    pub on: Date,
}

/// One person's credit for one deal, in the plan's currency, exact to its minor unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credit {
    pub deal: OpportunityId,
    pub person: UserId,
    pub kind: SplitKind,
    pub share: Decimal,
    pub amount: Decimal,
    pub currency: Currency,
    /// `None` when the deal was already in the plan's currency.
    pub fx: Option<FxUsed>,
    pub booked_on: Date,
    pub invoiced_on: Option<Date>,
    pub paid_on: Option<Date>,
    /// The day the won deal was reopened or lost, when it was: the plan's clawback rule says
    /// what that takes back ([`crate::Plan::counting`]).
    pub reversed_on: Option<Date>,
}

/// `magnitude` (not negative) shared in proportion to `weights` out of `total_weight`, each part
/// rounded down to `scale` places and the units left over handed one each to the largest
/// remainders, ties to the earlier part: the parts add up to `magnitude` exactly when the weights
/// add up to `total_weight`.
pub(crate) fn apportion(magnitude: Decimal, weights: &[Decimal], total_weight: Decimal, scale: u32) -> Result<Vec<Decimal>, CompError> {
    let unit = Decimal::new(1, scale);
    let mut parts = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    for (index, weight) in weights.iter().enumerate() {
        let exact = crate::mul(magnitude, *weight, "a share")?.checked_div(total_weight).ok_or(CompError::TooLarge { what: "a share" })?;
        let floor = exact.trunc_with_scale(scale);
        remainders.push((exact - floor, index));
        parts.push(floor);
    }
    let mut leftover_units = ((magnitude - parts.iter().sum::<Decimal>()) / unit).trunc();
    remainders.sort_by(|(a, a_index), (b, b_index)| b.cmp(a).then(a_index.cmp(b_index)));
    for (_, index) in remainders {
        if leftover_units <= Decimal::ZERO {
            break;
        }
        parts[index] += unit;
        leftover_units -= Decimal::ONE;
    }
    Ok(parts)
}

/// Shares `amount` (already in `currency`, exact to its minor unit) among `splits`.
///
/// Revenue credits add up to `amount` exactly: each gets its share rounded down to the minor unit,
/// and the units left over go one each to the largest remainders, ties to the split listed first.
/// Overlay credits are each rounded half away from zero. Credits come back in the splits' order,
/// with their dates still to be set by the caller (`booked_on` is `booked_on`).
pub fn split_deal(
    deal: OpportunityId,
    amount: Decimal,
    currency: Currency,
    booked_on: Date,
    splits: &[Split],
) -> Result<Vec<Credit>, CompError> {
    let mut revenue_total = Decimal::ZERO;
    for split in splits {
        if split.share <= Decimal::ZERO || split.share > Decimal::ONE {
            return Err(CompError::ShareOutOfRange { deal, share: split.share });
        }
        if split.kind == SplitKind::Revenue {
            revenue_total += split.share;
        }
    }
    if revenue_total != Decimal::ONE {
        return Err(CompError::SplitsDoNotSum { deal, total: revenue_total });
    }
    let scale = u32::from(currency.minor_units());
    let negative = amount.is_sign_negative();
    let magnitude = amount.abs();
    let revenue: Vec<Decimal> = splits.iter().filter(|split| split.kind == SplitKind::Revenue).map(|split| split.share).collect();
    let mut revenue_parts = apportion(magnitude, &revenue, Decimal::ONE, scale)?.into_iter();
    let floors: Vec<Decimal> = splits
        .iter()
        .map(|split| match split.kind {
            SplitKind::Revenue => revenue_parts.next().unwrap_or_default(),
            SplitKind::Overlay => Decimal::ZERO,
        })
        .collect();

    Ok(splits
        .iter()
        .zip(floors)
        .map(|(split, floor)| {
            let magnitude_credit = match split.kind {
                SplitKind::Revenue => floor,
                SplitKind::Overlay => crate::Rounding::HalfUp.round(magnitude * split.share, currency),
            };
            let mut credited = if negative { -magnitude_credit } else { magnitude_credit };
            credited.rescale(scale);
            Credit {
                deal,
                person: split.person,
                kind: split.kind,
                share: split.share,
                amount: credited,
                currency,
                fx: None,
                booked_on,
                invoiced_on: None,
                paid_on: None,
                reversed_on: None,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().expect("a decimal")
    }

    fn split(person: i64, kind: SplitKind, share: &str) -> Split {
        Split { person: UserId(person), kind, share: d(share) }
    }

    fn amounts(credits: &[Credit]) -> Vec<String> {
        credits.iter().map(|credit| credit.amount.to_string()).collect()
    }

    const DAY: Date = Date::constant(2026, 3, 31);

    #[test]
    fn thirds_of_a_hundred_add_up_to_the_hundred() {
        // 100.00 / 3 = 33.333…: floors 33.33 × 3 = 99.99, the one cent left goes to the first listed.
        let splits = [
            split(1, SplitKind::Revenue, "0.3333333333"),
            split(2, SplitKind::Revenue, "0.3333333333"),
            split(3, SplitKind::Revenue, "0.3333333334"),
        ];
        let credits = split_deal(OpportunityId(7), d("100.00"), Currency::USD, DAY, &splits).unwrap();
        // Remainders: 0.00333333330, 0.00333333330, 0.00333333340: the third is largest.
        assert_eq!(amounts(&credits), ["33.33", "33.33", "33.34"]);
    }

    #[test]
    fn overlay_rides_on_top_and_a_refund_splits_the_same_way() {
        let splits = [split(1, SplitKind::Revenue, "0.5"), split(1, SplitKind::Overlay, "0.2"), split(2, SplitKind::Revenue, "0.5")];
        let credits = split_deal(OpportunityId(7), d("100000.00"), Currency::USD, DAY, &splits).unwrap();
        assert_eq!(amounts(&credits), ["50000.00", "20000.00", "50000.00"]);
        let refund = split_deal(
            OpportunityId(7),
            d("-0.03"),
            Currency::USD,
            DAY,
            &splits[..1].iter().chain(&splits[2..]).cloned().collect::<Vec<_>>(),
        )
        .unwrap();
        assert_eq!(amounts(&refund), ["-0.02", "-0.01"]);
    }

    #[test]
    fn revenue_splits_that_miss_100_percent_are_refused_naming_the_deal() {
        let splits = [split(1, SplitKind::Revenue, "0.5"), split(2, SplitKind::Revenue, "0.4")];
        let error = split_deal(OpportunityId(7), d("10"), Currency::KRW, DAY, &splits).unwrap_err();
        assert_eq!(error.to_string(), "opportunity 7: the revenue splits add up to 0.9, not 100%");
        let error = split_deal(OpportunityId(7), d("10"), Currency::KRW, DAY, &[split(1, SplitKind::Overlay, "1.5")]).unwrap_err();
        assert_eq!(error.to_string(), "opportunity 7: a split share of 1.5 is outside 0 to 100%");
    }
}
