//! An organisation's settings ([`SettingsTx`]): its exchange rates and its health thresholds.

use pipewise_core::fx::RateTable;
use pipewise_core::money::{Currency, Decimal};
use pipewise_core::*;

use crate::Result;

/// An organisation's health settings as stored (SPEC C5 "configurable thresholds"): a JSON
/// object of the thresholds it changed from the defaults, by name (`{"untouched_days": 10}`), and
/// the last write. `pipewise-app` validates and words it; the store keeps the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredHealthSettings {
    pub document: String,
    pub updated_at: Timestamp,
    pub updated_by: Option<UserId>,
}

/// A transaction's reads and writes of an organisation's settings.
pub trait SettingsTx {
    /// Stores rates quoted as units of `currency` per one unit of `base`; a rate already stored for
    /// the same currency and date is replaced. An organisation's rates share one base: rates
    /// against another base are refused with [`StoreError::Conflict`](crate::StoreError::Conflict).
    fn put_rates(&mut self, org: OrgId, base: Currency, rates: &[(Currency, Date, Decimal)]) -> Result<()>;
    /// All of the organisation's rates (`None` when it has none).
    fn rate_table(&mut self, org: OrgId) -> Result<Option<RateTable>>;

    /// The organisation's health settings, `None` until they are first written.
    fn health_settings(&mut self, org: OrgId) -> Result<Option<StoredHealthSettings>>;
    /// Creates or replaces the organisation's health settings.
    fn put_health_settings(&mut self, org: OrgId, settings: &StoredHealthSettings) -> Result<()>;
}
