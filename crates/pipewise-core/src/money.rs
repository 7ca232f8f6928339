//! Exact money: a decimal amount with an ISO 4217 currency.
//!
//! Rules:
//! - An amount never has more fractional digits than its currency's minor units (KRW 0, USD 2,
//!   KWD 3). A more precise amount is refused, never silently rounded.
//! - Amounts are kept at exactly the currency's scale, so `USD 5` is stored and shown as `USD 5.00`.
//! - Amounts in different currencies are never added: [`Money::checked_add`] refuses, and
//!   [`MoneyBag`] keeps one total per currency ("EUR 50.00 + USD 50.00"). Converting to the
//!   reporting currency is explicit, through [`crate::fx::RateTable`].

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

pub use rust_decimal::Decimal;

use crate::currency_table::CURRENCIES;
use crate::error::Problem;

/// An ISO 4217 currency. Only codes from the published list exist; see [`Currency::from_code`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Currency {
    code: &'static str,
    minor_units: u8,
}

impl Currency {
    pub const USD: Currency = Currency { code: "USD", minor_units: 2 };
    pub const EUR: Currency = Currency { code: "EUR", minor_units: 2 };
    pub const KRW: Currency = Currency { code: "KRW", minor_units: 0 };

    /// Looks up an upper-case three-letter code such as `KRW`.
    pub fn from_code(code: &str) -> Result<Currency, Problem> {
        CURRENCIES
            .binary_search_by(|(candidate, ..)| (*candidate).cmp(code))
            .map(|index| Currency { code: CURRENCIES[index].0, minor_units: CURRENCIES[index].1 })
            .map_err(|_| Problem::UnknownCurrency { value: code.to_owned() })
    }

    pub fn code(self) -> &'static str {
        self.code
    }

    /// Digits after the decimal point: 2 for USD, 0 for KRW and JPY, 3 for KWD.
    pub fn minor_units(self) -> u8 {
        self.minor_units
    }

    /// The exact amount a count of this currency's minor units is: `123456` USD is `1234.56`.
    pub fn amount_of(self, minor: i64) -> Decimal {
        Decimal::new(minor, u32::from(self.minor_units))
    }

    /// The currency's English name from the ISO list.
    pub fn name(self) -> &'static str {
        CURRENCIES.iter().find(|(code, ..)| *code == self.code).map_or("", |entry| entry.3)
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

/// An exact amount in one currency, always at the currency's scale.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

impl Money {
    /// Refuses an amount with more fractional digits than the currency allows.
    pub fn new(amount: Decimal, currency: Currency) -> Result<Money, Problem> {
        let normalized = amount.normalize();
        if normalized.scale() > u32::from(currency.minor_units) {
            return Err(Problem::TooPrecise {
                amount: amount.to_string(),
                currency: currency.code,
                scale: normalized.scale(),
                minor_units: currency.minor_units,
            });
        }
        let mut amount = normalized;
        amount.rescale(u32::from(currency.minor_units));
        if amount.scale() != u32::from(currency.minor_units) {
            // Too many digits to carry the currency's minor units exactly.
            return Err(Problem::OutOfRange { value: normalized.to_string(), range: "28 significant digits" });
        }
        Ok(Money { amount, currency })
    }

    pub fn zero(currency: Currency) -> Money {
        Money::new(Decimal::ZERO, currency).expect("zero fits every currency")
    }

    /// Parses a decimal amount written with a `.` and no grouping, e.g. `1234.5`.
    pub fn parse_amount(raw: &str, currency: Currency) -> Result<Money, Problem> {
        let trimmed = raw.trim();
        let plain = !trimmed.is_empty()
            && trimmed.trim_start_matches('-').chars().all(|c| c.is_ascii_digit() || c == '.')
            && trimmed.matches('.').count() <= 1;
        let invalid = || Problem::Invalid { value: raw.to_owned(), expected: "a decimal amount" };
        if !plain {
            return Err(invalid());
        }
        let amount = Decimal::from_str(trimmed).map_err(|_| invalid())?;
        Money::new(amount, currency)
    }

    pub fn amount(self) -> Decimal {
        self.amount
    }

    pub fn currency(self) -> Currency {
        self.currency
    }

    pub fn is_negative(self) -> bool {
        self.amount.is_sign_negative() && !self.amount.is_zero()
    }

    /// The sum, or `None` when the currencies differ or the sum overflows.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        if self.currency != other.currency {
            return None;
        }
        let amount = self.amount.checked_add(other.amount)?;
        Some(Money { amount, currency: self.currency })
    }
}

/// The canonical text form, `USD 1234.50`, used in history and parsed by [`FromStr`].
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.currency.code, self.amount)
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Money {
    type Err = Problem;

    /// Parses `USD 1234.50` (also `1234.50 USD`).
    fn from_str(raw: &str) -> Result<Money, Problem> {
        let invalid = || Problem::Invalid { value: raw.to_owned(), expected: "an amount such as \"USD 1234.50\"" };
        let mut parts = raw.split_whitespace();
        let (first, second) = (parts.next().ok_or_else(invalid)?, parts.next().ok_or_else(invalid)?);
        if parts.next().is_some() {
            return Err(invalid());
        }
        let is_code = |s: &str| s.len() == 3 && s.chars().all(|c| c.is_ascii_alphabetic());
        let (code, amount) = if is_code(first) { (first, second) } else { (second, first) };
        if !is_code(code) {
            return Err(invalid());
        }
        // ISO 4217 codes are capitals: `usd` is refused, as the API documents, not guessed.
        let currency = Currency::from_code(code)?;
        Money::parse_amount(amount, currency)
    }
}

/// Totals kept per currency. Shown as `EUR 50.00 + USD 50.00`: never one number.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MoneyBag {
    totals: BTreeMap<&'static str, Money>,
}

impl MoneyBag {
    pub fn add(&mut self, money: Money) {
        let entry = self.totals.entry(money.currency.code).or_insert_with(|| Money::zero(money.currency));
        // Decimal holds 28 digits; amounts are capped far below that, so a sum cannot overflow.
        *entry = entry.checked_add(money).expect("money sums stay within Decimal range");
    }

    /// One total per currency, in code order.
    pub fn totals(&self) -> impl Iterator<Item = Money> + '_ {
        self.totals.values().copied()
    }

    /// The single total when only one currency is present.
    pub fn single(&self) -> Option<Money> {
        if self.totals.len() == 1 { self.totals.values().next().copied() } else { None }
    }
}

impl fmt::Display for MoneyBag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.totals.is_empty() {
            return f.write_str("0");
        }
        for (i, money) in self.totals.values().enumerate() {
            if i > 0 {
                f.write_str(" + ")?;
            }
            write!(f, "{money}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(text: &str) -> Money {
        text.parse().unwrap()
    }

    #[test]
    fn currencies_come_from_the_iso_list() {
        assert_eq!(Currency::from_code("KRW").unwrap().minor_units(), 0);
        assert_eq!(Currency::from_code("USD").unwrap().minor_units(), 2);
        assert_eq!(Currency::from_code("KWD").unwrap().minor_units(), 3);
        assert_eq!(Currency::from_code("JPY").unwrap().name(), "Yen");
        assert_eq!(Currency::from_code("usd"), Err(Problem::UnknownCurrency { value: "usd".into() }));
        assert!(Currency::from_code("XAU").is_err(), "gold has no minor unit and is not money here");
        assert_eq!(Currency::from_code("USD").unwrap(), Currency::USD);
        assert_eq!(Currency::from_code("KRW").unwrap(), Currency::KRW);
    }

    #[test]
    fn amounts_are_kept_at_the_currency_scale() {
        assert_eq!(money("USD 5").to_string(), "USD 5.00");
        assert_eq!(money("1234.5 USD").to_string(), "USD 1234.50");
        assert_eq!("usd 10".parse::<Money>(), Err(Problem::UnknownCurrency { value: "usd".into() }), "lower case is refused");
        assert_eq!(money("KRW 1500000").to_string(), "KRW 1500000");
        assert_eq!(money("KWD 1.125").to_string(), "KWD 1.125");
        // Trailing zeros beyond the scale are not extra precision.
        assert_eq!(money("KRW 1500.000").to_string(), "KRW 1500");
    }

    #[test]
    fn too_precise_amounts_are_refused_not_rounded() {
        assert_eq!(
            "KRW 1500.5".parse::<Money>(),
            Err(Problem::TooPrecise { amount: "1500.5".into(), currency: "KRW", scale: 1, minor_units: 0 })
        );
        assert!("USD 10.001".parse::<Money>().is_err());
        assert_eq!("USD 10.001".parse::<Money>().unwrap_err().to_string(), "10.001 has 3 decimal places but USD has 2");
    }

    #[test]
    fn garbage_is_a_clear_error() {
        for bad in ["", "USD", "USD abc", "USD 1e5", "USD 1,000", "USD 1.2.3", "12 USD EUR", "ZZZ 5", "USD --5"] {
            assert!(bad.parse::<Money>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn different_currencies_are_never_added() {
        assert_eq!(money("USD 50").checked_add(money("USD 25.5")), Some(money("USD 75.50")));
        assert_eq!(money("USD 50").checked_add(money("EUR 50")), None);
        let mut bag = MoneyBag::default();
        bag.add(money("USD 50"));
        bag.add(money("EUR 50"));
        assert_eq!(bag.to_string(), "EUR 50.00 + USD 50.00");
        assert_eq!(bag.single(), None);
    }
}
