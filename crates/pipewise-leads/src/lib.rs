//! Lead rules (SPEC C10, seeds 001 and 002), pure: how well a lead fits the organisation's ideal
//! customer ([`fit`]), who gets it ([`routing`]: the first territory whose rule it matches, else
//! the pool, balanced by capacity and by the quality of what each rep already got, so that one
//! rep does not collect the good leads), and whether the leads went out fairly ([`fairness`]:
//! each rep's share of lead quality against their share of capacity, not only counts).

pub mod cadence;
pub mod fairness;
pub mod fit;
pub mod qualification;
pub mod routing;

/// What the rules read of a lead.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Prospect<'a> {
    pub industry: Option<&'a str>,
    pub employee_count: Option<i64>,
    pub region: Option<&'a str>,
    pub title: Option<&'a str>,
    /// Whether its address is at a company's own domain; `None` without an address.
    pub business_email: Option<bool>,
}

/// Whether `value` is one of `allowed`, ignoring case and surrounding spaces.
pub(crate) fn one_of(value: &str, allowed: &[String]) -> bool {
    let value = value.trim().to_lowercase();
    allowed.iter().any(|allowed| allowed.trim().to_lowercase() == value)
}

/// Whether `count` lies in `min..=max` (either end open).
pub(crate) fn within(count: i64, min: Option<i64>, max: Option<i64>) -> bool {
    min.is_none_or(|min| count >= min) && max.is_none_or(|max| count <= max)
}

#[cfg(test)]
mod tests;
