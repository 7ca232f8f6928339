//! Dated exchange rates and the one rule for converting money into the reporting currency.
//!
//! The rule, which every figure in Pipewise follows:
//! 1. Rates are quoted against one base currency (the ECB publishes "1 EUR = x USD").
//!    Converting `from → to` on a date uses, for each side, the latest rate published on or
//!    before that date, and no older than [`MAX_RATE_AGE_DAYS`] days (weekends and holidays have
//!    no fixing). A missing or stale rate is an error, never a guess.
//! 2. The converted amount is `amount × rate(to) ÷ rate(from)`, computed in exact decimal and
//!    rounded once, half to even, to the minor units of `to`.
//! 3. A total in the reporting currency is the sum of the rounded converted lines, so a total
//!    always equals the sum of the lines shown beside it.

use std::collections::BTreeMap;

use rust_decimal::{Decimal, RoundingStrategy};

use crate::money::{Currency, Money};
use crate::time::Date;

/// A rate older than this many days is not used.
pub const MAX_RATE_AGE_DAYS: i32 = 10;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FxError {
    #[error("no {currency} exchange rate published within {MAX_RATE_AGE_DAYS} days before {date}")]
    NoRate { currency: Currency, date: Date },
    /// The converted amount does not fit the target's minor units (or exact decimal).
    #[error("{amount} is too large to convert to {to}")]
    TooLarge { amount: Money, to: Currency },
}

/// Rates quoted as units of a currency per one unit of [`RateTable::base`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateTable {
    base: Currency,
    rates: BTreeMap<Currency, BTreeMap<Date, Decimal>>,
}

impl RateTable {
    pub fn new(base: Currency) -> RateTable {
        RateTable { base, rates: BTreeMap::new() }
    }

    pub fn base(&self) -> Currency {
        self.base
    }

    /// Records that on `date`, one unit of the base bought `per_base` of `currency`.
    /// Non-positive rates are ignored (sources mark gaps that way).
    pub fn insert(&mut self, currency: Currency, date: Date, per_base: Decimal) {
        if per_base > Decimal::ZERO && currency != self.base {
            self.rates.entry(currency).or_default().insert(date, per_base);
        }
    }

    pub fn len(&self) -> usize {
        self.rates.values().map(BTreeMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.rates.is_empty()
    }

    /// Units of `currency` per base unit in force on `date`.
    pub fn rate(&self, currency: Currency, date: Date) -> Result<Decimal, FxError> {
        if currency == self.base {
            return Ok(Decimal::ONE);
        }
        let no_rate = FxError::NoRate { currency, date };
        let (published, rate) = self.rates.get(&currency).and_then(|by_date| by_date.range(..=date).next_back()).ok_or(no_rate.clone())?;
        let age = published.until(date).map(|span| span.get_days()).unwrap_or(i32::MAX);
        if age > MAX_RATE_AGE_DAYS {
            return Err(no_rate);
        }
        Ok(*rate)
    }

    /// Whether the rate of `currency` in force on `date` is final: a fixing dated on or after
    /// `date` is held (the base's always is). Before that, a later fixing could still apply.
    pub fn settled(&self, currency: Currency, date: Date) -> bool {
        currency == self.base || self.rates.get(&currency).is_some_and(|by_date| by_date.range(date..).next().is_some())
    }

    /// Converts by the rule in the module documentation.
    pub fn convert(&self, money: Money, to: Currency, date: Date) -> Result<Money, FxError> {
        if money.currency() == to {
            return Ok(money);
        }
        let from_rate = self.rate(money.currency(), date)?;
        let to_rate = self.rate(to, date)?;
        let too_large = || FxError::TooLarge { amount: money, to };
        let exact = money.amount().checked_mul(to_rate).and_then(|scaled| scaled.checked_div(from_rate)).ok_or_else(too_large)?;
        let rounded = exact.round_dp_with_strategy(u32::from(to.minor_units()), RoundingStrategy::MidpointNearestEven);
        Money::new(rounded, to).map_err(|_| too_large())
    }

    /// Sums `lines` in `to`, converting each line first (rule 3).
    pub fn total(&self, lines: impl IntoIterator<Item = Money>, to: Currency, date: Date) -> Result<Money, FxError> {
        let mut total = Money::zero(to);
        for line in lines {
            let converted = self.convert(line, to, date)?;
            total = total.checked_add(converted).expect("same currency");
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;
    use std::str::FromStr;

    fn date(text: &str) -> Date {
        text.parse().unwrap()
    }

    fn dec(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    /// ECB reference rates of 2026-10-29 and 2026-10-30 (shared/data/reference/currency).
    fn ecb() -> RateTable {
        let mut table = RateTable::new(Currency::EUR);
        let usd = Currency::USD;
        let krw = Currency::KRW;
        let jpy = Currency::from_code("JPY").unwrap();
        table.insert(usd, date("2026-10-29"), dec("1.113"));
        table.insert(usd, date("2026-10-30"), dec("1.1172"));
        table.insert(krw, date("2026-10-30"), dec("1491.76"));
        table.insert(jpy, date("2026-10-30"), dec("175.68"));
        table
    }

    fn money(text: &str) -> Money {
        text.parse().unwrap()
    }

    #[test]
    fn usd_50_plus_eur_50_is_not_usd_100() {
        let table = ecb();
        // EUR 50 × 1.1172 USD/EUR = USD 55.86 exactly; + USD 50 = USD 105.86.
        let total = table.total([money("USD 50"), money("EUR 50")], Currency::USD, date("2026-10-30")).unwrap();
        assert_eq!(total, money("USD 105.86"));
        // On the 29th: EUR 50 × 1.113 = 55.65 → USD 105.65.
        let total = table.total([money("USD 50"), money("EUR 50")], Currency::USD, date("2026-10-29")).unwrap();
        assert_eq!(total, money("USD 105.65"));
    }

    #[test]
    fn cross_rates_round_once_half_to_even() {
        let table = ecb();
        // USD 1000 → KRW: 1000 × 1491.76 / 1.1172 = 1335266.738274257... → KRW 1335267.
        assert_eq!(table.convert(money("USD 1000"), Currency::KRW, date("2026-10-30")).unwrap(), money("KRW 1335267"));
        // KRW 1000000 → USD: 1000000 × 1.1172 / 1491.76 = 748.9140344291...  → USD 748.91.
        assert_eq!(table.convert(money("KRW 1000000"), Currency::USD, date("2026-10-30")).unwrap(), money("USD 748.91"));
        // Half to even: EUR 0.125 is not representable, so use a JPY case: JPY 1 → EUR = 1/175.68
        // = 0.00569... → EUR 0.01.
        let jpy = Currency::from_code("JPY").unwrap();
        assert_eq!(table.convert(Money::parse_amount("1", jpy).unwrap(), Currency::EUR, date("2026-10-30")).unwrap(), money("EUR 0.01"));
    }

    #[test]
    fn weekend_uses_friday_and_stale_or_missing_rates_are_errors() {
        let table = ecb();
        // 2026-11-01 is a Sunday: Friday's rate applies.
        assert_eq!(table.convert(money("EUR 10"), Currency::USD, date("2026-11-01")).unwrap(), money("USD 11.17"));
        assert_eq!(
            table.convert(money("EUR 10"), Currency::USD, date("2026-11-20")),
            Err(FxError::NoRate { currency: Currency::USD, date: date("2026-11-20") })
        );
        assert!(table.convert(money("EUR 10"), Currency::USD, date("2026-10-01")).is_err(), "no rate before the first fixing");
        let gbp = Currency::from_code("GBP").unwrap();
        assert!(table.convert(money("EUR 10"), gbp, date("2026-10-30")).is_err());
        assert_eq!(table.convert(money("USD 10"), Currency::USD, date("1999-01-01")).unwrap(), money("USD 10.00"));
    }

    #[test]
    fn an_amount_too_large_for_the_target_is_an_error_not_a_wrapped_number() {
        let mut table = ecb();
        let idr = Currency::from_code("IDR").unwrap();
        table.insert(idr, date("2026-10-30"), dec("19000"));
        // Converting is exact decimal: 10^25 EUR × 19,000 does not fit 28 digits.
        let huge = Money::new(Decimal::from_str("10000000000000000000000000").unwrap(), Currency::EUR).unwrap();
        assert_eq!(table.convert(huge, idr, date("2026-10-30")), Err(FxError::TooLarge { amount: huge, to: idr }));
        // Nor is a number with more digits than the minor units can carry a Money.
        assert!(Money::new(Decimal::from_str("79228162514264337593543950335").unwrap(), Currency::USD).is_err());
    }
}
