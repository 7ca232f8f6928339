//! The analytics integration tests: one binary, a module per concern.

// Amounts in cents are written `dollars_cents` (`50_000_00` is $50,000.00).
#![allow(clippy::inconsistent_digit_grouping)]

mod crm;
mod currency;
mod golden;
mod properties;
mod support;
